//! A class's results of one lesson, pooled: what `tricklab lesson pool` prints and the page's
//! `#class=LESSON` view shows, computed once here so that the two cannot disagree. The sources are
//! what students hand in: their one-line results (pasted), the CLI's JSON lines, or the page's
//! exported runs (`pool::collect` reads all three).

use serde::Serialize;

use super::pool::{self, Pooled};
use super::verdict::{self, ArmSummary};
use super::{result, Lesson, Rule};

/// The pooled results of one lesson.
#[derive(Debug, Clone, Serialize)]
pub struct ClassReport {
    pub lesson: String,
    pub title: String,
    /// The definition hash every accepted line carries.
    pub def: String,
    pub metric: String,
    /// The seeds pooled, in the order given; each arm's values follow this order.
    pub seeds: Vec<u64>,
    /// Each arm over the pooled seeds: its value per seed, mean and sd, test accuracy per seed.
    pub arms: Vec<ArmSummary>,
    /// Per seed, the paired difference the lesson's rule rests on (`None` where an arm it needs
    /// diverged), signed so that a positive number is the effect the lesson asks about.
    pub differences: Vec<Option<f64>>,
    /// What a difference is, in words ("label smoothing minus hard labels").
    pub difference_is: String,
    /// The rule's margin: a difference above it shows the effect.
    pub margin: f64,
    /// The pooled statistic (none when no run was pooled).
    pub pooled: Option<Pooled>,
    /// The verdict over every pooled seed, as a lesson over several seeds states it.
    pub verdict: String,
    pub held: usize,
    pub holds: bool,
    /// Every line refused, with its file (or "pasted") and line number, and why.
    pub refused: Vec<String>,
}

/// Pools `sources` (`(name, text)`: a file's name or "pasted", and its text) as runs of `lesson`
/// (as it ran: a tiny version is another definition). Lines of another lesson or definition,
/// malformed lines and repeated seeds are refused and named; the rest are pooled.
pub fn report(lesson: &Lesson, sources: &[(&str, &str)]) -> ClassReport {
    let def = result::definition_hash(lesson);
    let c = pool::collect_for(sources, &lesson.id, lesson.arms.len(), &def);
    let arms = verdict::summarize_values(lesson, &c.runs, &c.test_acc);
    let (verdict, held, holds) = if c.runs.is_empty() {
        (format!("No run of lesson `{}` (definition {def}) was pooled: paste the result lines the lesson printed, or drop the files its arms were exported to.", lesson.id), 0, false)
    } else {
        let v = verdict::verdict(lesson, &arms);
        (v.sentence, v.held, v.holds)
    };
    ClassReport {
        lesson: lesson.id.clone(),
        title: lesson.title.clone(),
        def,
        metric: lesson.metric.name(),
        differences: c.runs.iter().map(|r| pool::effect(&lesson.rule, r)).collect(),
        difference_is: difference_is(lesson),
        margin: match lesson.rule {
            Rule::Beats { margin, .. } | Rule::GapShrinks { margin, .. } => margin,
        },
        pooled: pool::pool(lesson, &c.runs).ok(),
        seeds: c.seeds,
        arms,
        verdict,
        held,
        holds,
        refused: c.refused,
    }
}

/// What one run's paired difference is, in words.
fn difference_is(lesson: &Lesson) -> String {
    let name = |i: usize| lesson.arms.get(i).map_or("?", |a| a.name.as_str());
    match lesson.rule {
        Rule::Beats { trick, baseline, better: super::Better::Higher, .. } => format!("{} minus {}", name(trick), name(baseline)),
        Rule::Beats { trick, baseline, .. } => format!("{} minus {} (lower is better)", name(baseline), name(trick)),
        Rule::GapShrinks { without, with, .. } => {
            format!("how much smaller the gap {} – {} is than {} – {}", name(with.0), name(with.1), name(without.0), name(without.1))
        }
    }
}
