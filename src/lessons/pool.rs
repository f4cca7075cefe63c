//! A class is a sample: many runs of one lesson (one per student, each with its own seed) pooled
//! into one verdict. Each run gives the effect its rule rests on (the trick's arm against the
//! baseline's, signed so that a positive number is the effect the lesson is about); the pool
//! states their mean with a 95% interval (Student's t over the runs), how many runs showed the
//! effect, a two-sided sign test, and a sentence a student can follow.

use serde::Serialize;

use super::{Better, Lesson, Rule};
use crate::{Error, Result};

/// The effect one run shows under `rule`, from that run's value of the metric per arm: for
/// `Beats`, the trick's value minus the baseline's (turned round when lower is better); for
/// `GapShrinks`, how much the pair's difference shrank with the trick. `None` when an arm it
/// needs diverged.
pub fn effect(rule: &Rule, values: &[Option<f64>]) -> Option<f64> {
    match *rule {
        Rule::Beats { trick, baseline, better, .. } => {
            let (t, b) = (values.get(trick).copied().flatten()?, values.get(baseline).copied().flatten()?);
            Some(if better == Better::Higher { t - b } else { b - t })
        }
        Rule::GapShrinks { without, with, .. } => {
            let gap = |(a, b): (usize, usize)| Some((values.get(a).copied().flatten()? - values.get(b).copied().flatten()?).abs());
            Some(gap(without)? - gap(with)?)
        }
    }
}

/// The margin an effect must pass for the rule to hold in one run.
fn margin(rule: &Rule) -> f64 {
    match *rule {
        Rule::Beats { margin, .. } | Rule::GapShrinks { margin, .. } => margin,
    }
}

/// What the pooled runs say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Finding {
    /// The 95% interval of the mean effect lies above the rule's margin.
    Effect,
    /// The interval lies wholly below zero: the trick did the opposite.
    Reversed,
    /// The interval reaches the margin or zero: these runs cannot tell.
    Unsettled,
}

/// Many runs of one lesson, pooled.
#[derive(Debug, Clone, Serialize)]
pub struct Pooled {
    /// Runs pooled (runs where an arm the rule needs diverged are left out, and counted here).
    pub runs: usize,
    pub left_out: usize,
    /// The effect of each pooled run, in the order given.
    pub effects: Vec<f64>,
    pub mean: f64,
    /// Sample standard deviation of the effects.
    pub sd: f64,
    /// The 95% interval of the mean effect (Student's t with runs − 1 degrees of freedom); equal
    /// to the mean at both ends for a single run.
    pub interval: [f64; 2],
    /// Runs in which the rule held (the effect passed its margin), and runs that went the other way.
    pub showed: usize,
    pub against: usize,
    /// Two-sided sign test: the chance of a split at least this lopsided if the trick made no
    /// difference (ties left out).
    pub sign_p: f64,
    pub finding: Finding,
    pub statistic: &'static str,
    pub sentence: String,
}

/// Pools `runs`, each one run's value of the metric per arm (in the lesson's arm order).
pub fn pool(lesson: &Lesson, runs: &[Vec<Option<f64>>]) -> Result<Pooled> {
    if let Some(r) = runs.iter().find(|r| r.len() != lesson.arms.len()) {
        return Err(Error::Config { field: "runs", msg: format!("a run has {} arm values; lesson {} has {} arms", r.len(), lesson.id, lesson.arms.len()) });
    }
    let effects: Vec<f64> = runs.iter().filter_map(|r| effect(&lesson.rule, r)).collect();
    if effects.is_empty() {
        return Err(Error::Config { field: "runs", msg: format!("no run of lesson {} has the arms its rule compares (they diverged or none was given)", lesson.id) });
    }
    let n = effects.len();
    let mean = effects.iter().sum::<f64>() / n as f64;
    let sd = if n > 1 { (effects.iter().map(|e| (e - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt() } else { 0.0 };
    let half = if n > 1 { t_quantile(0.975, (n - 1) as f64) * sd / (n as f64).sqrt() } else { 0.0 };
    let interval = [mean - half, mean + half];
    let m = margin(&lesson.rule);
    let showed = effects.iter().filter(|&&e| e > m).count();
    let against = effects.iter().filter(|&&e| e < 0.0).count();
    let sign_p = sign_test(effects.iter().filter(|&&e| e > 0.0).count(), against);
    let finding = if n > 1 && interval[0] > m {
        Finding::Effect
    } else if n > 1 && interval[1] < 0.0 {
        Finding::Reversed
    } else {
        Finding::Unsettled
    };
    let sentence = sentence(lesson, n, mean, interval, showed, finding);
    Ok(Pooled { runs: n, left_out: runs.len() - n, effects, mean, sd, interval, showed, against, sign_p, finding, statistic: "95% t interval of the mean paired difference; sign test", sentence })
}

/// The pooled verdict in words a student can follow.
fn sentence(lesson: &Lesson, n: usize, mean: f64, [lo, hi]: [f64; 2], showed: usize, finding: Finding) -> String {
    let what = match lesson.rule {
        Rule::Beats { trick, baseline, better, .. } => {
            let way = if better == Better::Higher { "above" } else { "below" };
            format!("{} ended {way} {} by {mean:+.3} on average", lesson.arms[trick].name, lesson.arms[baseline].name)
        }
        Rule::GapShrinks { .. } => format!("with the trick the gap shrank by {mean:+.3} on average"),
    };
    if n == 1 {
        return format!("One run ({}): {what}. One run cannot tell an effect from the luck of its seed: pool more runs.", lesson.metric.name());
    }
    let how_sure = match finding {
        Finding::Effect => "The whole range is past the rule's margin, so this is an effect of the trick at this size, not the luck of the seeds.",
        Finding::Reversed => "The whole range is below zero: at this size the trick did the opposite of what the lesson asks about.",
        Finding::Unsettled => "The range includes no effect at all, so these runs cannot tell the effect from noise: more runs would narrow it.",
    };
    format!(
        "Pooled over {n} runs ({}): {what}. With 95% confidence the true average lies between {lo:+.3} and {hi:+.3}. {showed} of {n} runs showed the effect. {how_sure}",
        lesson.metric.name()
    )
}

/// Two-sided sign test for `up` positive and `down` negative differences.
pub fn sign_test(up: usize, down: usize) -> f64 {
    let m = up + down;
    if m == 0 {
        return 1.0;
    }
    let k = up.min(down);
    // P(X <= k) for X ~ Binomial(m, 1/2), in logs so that large classes do not overflow.
    let ln_choose = |r: usize| ln_gamma(m as f64 + 1.0) - ln_gamma(r as f64 + 1.0) - ln_gamma((m - r) as f64 + 1.0);
    let tail: f64 = (0..=k).map(|r| (ln_choose(r) - m as f64 * std::f64::consts::LN_2).exp()).sum();
    (2.0 * tail).min(1.0)
}

/// The `p` quantile of Student's t with `df` degrees of freedom (p in (0.5, 1)), by bisection
/// on the distribution function.
pub fn t_quantile(p: f64, df: f64) -> f64 {
    let (mut lo, mut hi) = (0.0, 1000.0);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if t_cdf(mid, df) < p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// Student's t distribution function: 1 − I_x(df/2, 1/2)/2 with x = df/(df + t²), for t ≥ 0.
pub fn t_cdf(t: f64, df: f64) -> f64 {
    let tail = 0.5 * inc_beta(df / (df + t * t), 0.5 * df, 0.5);
    if t >= 0.0 { 1.0 - tail } else { tail }
}

/// The regularized incomplete beta function I_x(a, b), by its continued fraction (modified Lentz).
fn inc_beta(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let front = (ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln()).exp();
    // The fraction converges fast for x < (a + 1)/(a + b + 2); use the symmetry otherwise.
    if x > (a + 1.0) / (a + b + 2.0) {
        return 1.0 - inc_beta(1.0 - x, b, a);
    }
    let tiny = 1e-300;
    let (mut c, mut d) = (1.0, 1.0 - (a + b) * x / (a + 1.0));
    d = 1.0 / if d.abs() < tiny { tiny } else { d };
    let mut f = d;
    for m in 1..300 {
        let m = m as f64;
        for num in [m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m)), -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0))] {
            d = 1.0 + num * d;
            d = 1.0 / if d.abs() < tiny { tiny } else { d };
            c = 1.0 + num / c;
            c = if c.abs() < tiny { tiny } else { c };
            f *= c * d;
        }
        if (c * d - 1.0).abs() < 1e-15 {
            break;
        }
    }
    front * f / a
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7, nine terms: about 15 digits).
fn ln_gamma(x: f64) -> f64 {
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        return (std::f64::consts::PI / (std::f64::consts::PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let t = x + 7.5;
    let s: f64 = C[0] + C[1..].iter().enumerate().map(|(i, c)| c / (x + i as f64 + 1.0)).sum::<f64>();
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + s.ln()
}

/// Runs gathered from result files, by seed, ready for `pool`.
#[derive(Debug, Clone, Default)]
pub struct Collected {
    /// The lesson every accepted line belongs to.
    pub lesson: String,
    pub seeds: Vec<u64>,
    /// Per seed (in `seeds` order), each arm's value of the metric (`None` where it diverged).
    pub runs: Vec<Vec<Option<f64>>>,
    /// Per seed, each arm's final test accuracy in percent (`None` where it diverged).
    pub test_acc: Vec<Vec<Option<f64>>>,
    /// One message per refused line or run, naming the file and line.
    pub refused: Vec<String>,
}

/// One arm's result as a line gave it.
struct Entry {
    lesson: String,
    /// The lesson definition's hash, where the line carries one.
    def: Option<String>,
    seed: u64,
    arm: usize,
    value: Option<f64>,
    /// Final test accuracy in percent.
    acc: Option<f64>,
}

/// Gathers results from `(name, text)` sources: the per-arm JSON lines that `tricklab lesson NAME
/// --seed S` prints (`{"lesson", "seed", "arm", "value", …}`; summary lines and other text are
/// skipped) and the one-line results a lesson ends with (`result::ResultLine`). `known(id)` gives
/// a lesson's arm count and definition hash. Refuses, with file and line, a malformed line, a line
/// of another lesson than the first one seen or of another definition of it, an arm out of range
/// and a seed's arm given twice; a seed that lacks an arm is refused as a whole. Keeps the rest.
pub fn collect(sources: &[(&str, &str)], known: impl Fn(&str) -> Option<(usize, String)>) -> Collected {
    collect_from(sources, known, None)
}

/// `collect` for one lesson named beforehand (its id, arm count and definition hash): a line of
/// any other lesson is refused as one of another lesson, whichever comes first.
pub fn collect_for(sources: &[(&str, &str)], id: &str, arms: usize, def: &str) -> Collected {
    collect_from(sources, |_| None, Some((id.to_string(), arms, def.to_string())))
}

/// One arm's value, test accuracy and where it was given, per seed and arm.
type Slots = Vec<(u64, Vec<Option<(Option<f64>, Option<f64>, String)>>)>;

/// What `collect` gathers as it reads line by line.
struct Gather<K> {
    c: Collected,
    seen: Slots,
    /// The lesson's arm count and definition hash, once known.
    lesson: Option<(usize, String)>,
    known: K,
    /// Result lines seen, with where: a run's exported arms each carry the whole run's line.
    lines_seen: Vec<(String, String)>,
}

fn collect_from(sources: &[(&str, &str)], known: impl Fn(&str) -> Option<(usize, String)>, fixed: Option<(String, usize, String)>) -> Collected {
    let mut g = Gather { c: Collected::default(), seen: Vec::new(), lesson: None, known, lines_seen: Vec::new() };
    if let Some((id, arms, def)) = fixed {
        g.c.lesson = id;
        g.lesson = Some((arms, def));
    }
    for (name, text) in sources {
        let exported;
        let text = match exported_result(text) {
            Some(Ok(line)) => {
                exported = line;
                exported.as_str()
            }
            Some(Err(why)) => {
                g.c.refused.push(format!("{name}:1: {why}"));
                continue;
            }
            None => text,
        };
        for (i, line) in text.lines().enumerate() {
            g.line(&format!("{name}:{}", i + 1), line.trim());
        }
    }
    let mut c = g.c;
    for (seed, values) in g.seen {
        if values.iter().any(Option::is_none) {
            c.refused.push(format!("seed {seed}: lacks arm(s) {}; left out", (0..values.len()).filter(|&a| values[a].is_none()).map(|a| a.to_string()).collect::<Vec<_>>().join(", ")));
            continue;
        }
        let values: Vec<_> = values.into_iter().flatten().collect();
        c.seeds.push(seed);
        c.runs.push(values.iter().map(|v| v.0).collect());
        c.test_acc.push(values.iter().map(|v| v.1).collect());
    }
    c
}

impl<K: Fn(&str) -> Option<(usize, String)>> Gather<K> {
    /// Takes in one line, found `at` ("file:line").
    fn line(&mut self, at: &str, line: &str) {
        if line.starts_with(super::result::PREFIX) {
            if let Some((_, first)) = self.lines_seen.iter().find(|(l, _)| l == line) {
                self.c.refused.push(format!("{at}: the same result as {first} (a seed counts once; each exported arm of a run carries the whole run's line)"));
                return;
            }
            self.lines_seen.push((line.to_string(), at.to_string()));
        }
        let entries = match entries(line) {
            Ok(e) => e,
            Err(e) => return self.c.refused.push(format!("{at}: {e}")),
        };
        let whole_run = entries.len() > 1;
        for e in entries {
            if let Err(why) = accept(&mut self.c, &mut self.lesson, &self.known, &e) {
                // One message for the line, however many arms it gave.
                return self.c.refused.push(format!("{at}: {why}"));
            }
            let arms = self.lesson.as_ref().map_or(0, |l| l.0);
            let slot = match self.seen.iter().position(|(s, _)| *s == e.seed) {
                Some(p) => &mut self.seen[p].1,
                None => {
                    self.seen.push((e.seed, vec![None; arms]));
                    &mut self.seen.last_mut().unwrap().1
                }
            };
            match &slot[e.arm] {
                // A one-line result gives the whole run: one message for the line.
                Some((_, _, first)) if whole_run => {
                    return self.c.refused.push(format!("{at}: seed {} is given again (first at {first}); a seed counts once", e.seed));
                }
                Some((_, _, first)) => self.c.refused.push(format!("{at}: seed {} arm {} is given twice (first at {first})", e.seed, e.arm)),
                None => slot[e.arm] = Some((e.value, e.acc, at.to_string())),
            }
        }
    }
}

/// A run exported from the page (`{"tricklab": "run", …, "lesson": {…, "result": LINE}}`, one
/// document over many lines): `Some(Ok(LINE))`, its lesson's one-line result; `Some(Err)` when it
/// is a run of no lesson or carries no result line; `None` when the text is not such a document
/// (it is then read line by line).
fn exported_result(text: &str) -> Option<std::result::Result<String, String>> {
    let trimmed = text.trim_start();
    // A CLI result file is one JSON object per line; an export is one object over many lines.
    if !trimmed.starts_with('{') || !trimmed.trim_end().contains('\n') {
        return None;
    }
    let v: serde_json::Value = serde_json::from_str(trimmed).ok()?;
    if v.get("tricklab").and_then(|t| t.as_str()) != Some("run") {
        return None;
    }
    Some(match v.get("lesson").filter(|l| !l.is_null()) {
        None => Err("an exported run that is not an arm of a lesson".into()),
        Some(l) => l.get("result").and_then(|r| r.as_str()).map(String::from).ok_or_else(|| "an exported lesson arm without its result line (exported before the page kept one)".into()),
    })
}

/// Whether `e` belongs with what was gathered so far (the first line fixes the lesson).
fn accept(c: &mut Collected, lesson: &mut Option<(usize, String)>, known: &impl Fn(&str) -> Option<(usize, String)>, e: &Entry) -> std::result::Result<(), String> {
    if lesson.is_none() {
        *lesson = Some(known(&e.lesson).ok_or_else(|| format!("unknown lesson `{}`", e.lesson))?);
        c.lesson = e.lesson.clone();
    } else if e.lesson != c.lesson {
        return Err(format!("a result of lesson `{}`, not `{}`", e.lesson, c.lesson));
    }
    let (arms, def) = lesson.as_ref().unwrap();
    if let Some(d) = e.def.as_ref().filter(|d| *d != def) {
        return Err(format!("a result of another definition of lesson `{}` (def {d}, not {def}): an edited or tiny version", c.lesson));
    }
    if e.arm >= *arms {
        return Err(format!("arm {} does not exist (lesson `{}` has {arms})", e.arm, c.lesson));
    }
    Ok(())
}

/// The arm results one line gives: none for text and summary lines, one for a CLI JSON line,
/// every arm for a one-line result.
fn entries(line: &str) -> std::result::Result<Vec<Entry>, String> {
    if line.starts_with(super::result::PREFIX) {
        let r = super::result::ResultLine::read(line)?;
        let arm = |(arm, (value, acc)): (usize, &(Option<f64>, Option<f64>))| Entry { lesson: r.lesson.clone(), def: Some(r.def.clone()), seed: r.seed, arm, value: *value, acc: *acc };
        return Ok(r.arms.iter().enumerate().map(arm).collect());
    }
    if !line.starts_with('{') {
        return Ok(vec![]);
    }
    let v: serde_json::Value = serde_json::from_str(line).map_err(|_| "not a JSON result line")?;
    if v.get("verdict").is_some() {
        return Ok(vec![]);
    }
    let (Some(lesson), Some(seed), Some(arm)) = (v["lesson"].as_str(), v["seed"].as_u64(), v["arm"].as_u64()) else {
        return Err("a result line needs \"lesson\", \"seed\" and \"arm\"".into());
    };
    let def = v["def"].as_str().map(String::from);
    Ok(vec![Entry { lesson: lesson.to_string(), def, seed, arm: arm as usize, value: v["value"].as_f64(), acc: v["test_acc"].as_f64().map(|a| 100.0 * a) }])
}
