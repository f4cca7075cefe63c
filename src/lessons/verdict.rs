//! From measured runs to a verdict: each arm's value of the lesson's metric, and the lesson's rule
//! applied to one seed (the page) or several (the CLI's check), as numbers and as a sentence. An
//! effect counts only if it holds in every seed; otherwise the sentence says it is within noise at
//! this size.

use serde::Serialize;

use super::run::ArmRecord;
use super::{Better, Lesson, Metric, Rule};
use crate::inspect::analysis::mean_std;

/// One arm's value of `metric`; `None` when the arm diverged (or never ran) before it could be
/// measured.
pub fn value(metric: Metric, r: &ArmRecord) -> Option<f64> {
    let last = r.epochs.last();
    let result = r.result.as_ref();
    match metric {
        Metric::EarlyLoss { steps } => {
            let n = steps as usize;
            (r.losses.len() >= n && n > 0).then(|| r.losses[..n].iter().map(|&l| l as f64).sum::<f64>() / n as f64)
        }
        Metric::TestAccuracy => result.map(|f| 100.0 * f.test_acc as f64),
        Metric::FinalTrainLoss => result.and(last).map(|e| e.train_loss as f64),
        Metric::GeneralizationGap => result.and_then(|f| f.train_clean_acc.map(|t| 100.0 * (t - f.test_acc) as f64)),
        Metric::LogitGap => result.map(|f| f.mean_gap as f64),
        Metric::CalibrationError => result.map(|f| 100.0 * f.calibration.ece as f64),
        Metric::GammaNorm => result.and(last).map(|e| e.norms.gamma as f64),
    }
}

/// The value `metric` had before the first step, where that is a measurement of its own (the
/// norms: the seeded initial weights); `None` for the others.
pub fn start_value(metric: Metric, r: &ArmRecord) -> Option<f64> {
    match metric {
        Metric::GammaNorm => Some(r.start_norms.gamma as f64),
        _ => None,
    }
}

/// `v` written for a sentence, with the metric's unit.
pub fn format_value(metric: Metric, v: Option<f64>) -> String {
    match (metric, v) {
        (_, None) => "diverged".into(),
        (Metric::TestAccuracy | Metric::CalibrationError, Some(v)) => format!("{v:.2}%"),
        (Metric::GeneralizationGap, Some(v)) => format!("{v:.2} points"),
        (_, Some(v)) => format!("{v:.3}"),
    }
}

/// An arm's values over the seeds, and their mean and sample standard deviation.
#[derive(Debug, Clone, Serialize)]
pub struct ArmSummary {
    pub arm: usize,
    pub name: String,
    /// Per seed; `None` where the arm diverged.
    pub values: Vec<Option<f64>>,
    pub mean: f64,
    pub std: f64,
    pub diverged: usize,
    /// Final test accuracy (%) per seed (`None` where the arm diverged).
    pub test_acc: Vec<Option<f64>>,
    /// The lesson's `reported` measurement per seed (empty when it has none), and its value
    /// before the first step per seed (where it has one).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reported: Vec<Option<f64>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reported_start: Vec<f64>,
}

/// The rule's outcome over the seeds.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub seeds: usize,
    /// Seeds in which the rule held.
    pub held: usize,
    /// True when it held in every seed.
    pub holds: bool,
    pub sentence: String,
}

/// Summarizes each arm over the seeds' records (`runs[seed][arm]`).
pub fn summarize(lesson: &Lesson, runs: &[Vec<ArmRecord>]) -> Vec<ArmSummary> {
    let values: Vec<Vec<Option<f64>>> = runs.iter().map(|r| r.iter().map(|a| value(lesson.metric, a)).collect()).collect();
    let test_acc: Vec<Vec<Option<f64>>> = runs.iter().map(|r| r.iter().map(|a| a.result.as_ref().map(|f| 100.0 * f.test_acc as f64)).collect()).collect();
    let mut out = summarize_values(lesson, &values, &test_acc);
    if let Some(m) = lesson.reported {
        for (arm, a) in out.iter_mut().enumerate() {
            a.reported = runs.iter().map(|r| value(m, &r[arm])).collect();
            a.reported_start = runs.iter().filter_map(|r| start_value(m, &r[arm])).collect();
        }
    }
    out
}

/// Summarizes each arm from its value of the metric and its test accuracy (%) per seed
/// (`values[seed][arm]`), as measured here or read back from result lines.
pub fn summarize_values(lesson: &Lesson, values: &[Vec<Option<f64>>], test_acc: &[Vec<Option<f64>>]) -> Vec<ArmSummary> {
    (0..lesson.arms.len())
        .map(|arm| {
            let values: Vec<Option<f64>> = values.iter().map(|r| r[arm]).collect();
            let measured: Vec<f64> = values.iter().flatten().copied().collect();
            let (mean, std) = mean_std(&measured);
            ArmSummary {
                arm,
                name: lesson.arms[arm].name.clone(),
                diverged: values.iter().filter(|v| v.is_none()).count(),
                test_acc: test_acc.iter().map(|r| r[arm]).collect(),
                reported: Vec::new(),
                reported_start: Vec::new(),
                values,
                mean,
                std,
            }
        })
        .collect()
}

/// Whether the rule holds for one seed's values (per arm), and the difference it rests on.
fn holds(rule: &Rule, v: &[Option<f64>]) -> bool {
    match *rule {
        Rule::Beats { trick, baseline, better, margin } => match (v[trick], v[baseline]) {
            (Some(t), Some(b)) => {
                let d = if better == Better::Higher { t - b } else { b - t };
                d > margin
            }
            (Some(_), None) => true,
            _ => false,
        },
        Rule::GapShrinks { without, with, margin } => {
            let gap = |(a, b): (usize, usize)| match (v[a], v[b]) {
                (Some(x), Some(y)) => (x - y).abs(),
                _ => f64::INFINITY,
            };
            let (before, after) = (gap(without), gap(with));
            after.is_finite() && before - after > margin
        }
    }
}

/// The verdict over `summaries` (from `summarize`), as numbers and a sentence.
pub fn verdict(lesson: &Lesson, summaries: &[ArmSummary]) -> Verdict {
    let seeds = summaries.first().map_or(0, |s| s.values.len());
    let held = (0..seeds)
        .filter(|&s| holds(&lesson.rule, &summaries.iter().map(|a| a.values[s]).collect::<Vec<_>>()))
        .count();
    let m = lesson.metric;
    let show = |a: &ArmSummary| -> String {
        if seeds == 1 {
            format_value(m, a.values[0])
        } else if a.diverged == seeds {
            "diverged in every seed".into()
        } else {
            let div = if a.diverged > 0 { format!(", diverged in {} of {seeds}", a.diverged) } else { String::new() };
            format!("{} ± {}{div}", format_value(m, Some(a.mean)), format_value(m, Some(a.std)))
        }
    };
    let arm = |i: usize| format!("{} {}", summaries[i].name, show(&summaries[i]));
    let over = if seeds == 1 { String::new() } else { format!(" (mean ± sd over {seeds} seeds)") };
    let (measured, rule) = match lesson.rule {
        Rule::Beats { trick, baseline, better, margin } => {
            let way = if better == Better::Higher { "higher" } else { "lower" };
            (format!("{}{over}: {}; {}", m.name(), arm(trick), arm(baseline)), format!("{} {way} than {} by more than {margin}", summaries[trick].name, summaries[baseline].name))
        }
        Rule::GapShrinks { without, with, margin } => (
            format!("{}{over}: without the trick {} and {}; with it {} and {}", m.name(), arm(without.0), arm(without.1), arm(with.0), arm(with.1)),
            format!("the difference between the pair shrinks by more than {margin} with the trick"),
        ),
    };
    // Where the baseline came out ahead in every seed, that is said too: a consistent reversal
    // is a finding at this size, not noise.
    let reversed = match lesson.rule {
        Rule::Beats { trick, baseline, better, .. } if seeds > 0 && held == 0 => {
            let swapped = Rule::Beats { trick: baseline, baseline: trick, better, margin: 0.0 };
            let all = (0..seeds).all(|s| holds(&swapped, &summaries.iter().map(|a| a.values[s]).collect::<Vec<_>>()));
            let way = if better == Better::Higher { "higher" } else { "lower" };
            all.then(|| format!("{} {way} than {}", summaries[baseline].name, summaries[trick].name))
        }
        _ => None,
    };
    let conclusion = match (seeds, held, reversed) {
        (1, 1, _) => format!("In this run, {rule}: the effect shows."),
        (1, _, Some(r)) => format!("In this run it is not true that {rule}; instead {r}: the effect does not show."),
        (1, _, None) => format!("In this run it is not true that {rule}: the effect does not show."),
        (n, h, _) if h == n => format!("In all {n} seeds, {rule}: the effect holds."),
        (n, _, Some(r)) => format!("In none of the {n} seeds is it true that {rule}; in all {n}, {r}: at this size the trick does not help."),
        (n, h, None) => format!("Only in {h} of {n} seeds, {rule}: at this size the effect is within noise."),
    };
    let also = lesson.reported.map_or(String::new(), |r| format!(" {}", reported_sentence(r, summaries, seeds)));
    Verdict { seeds, held, holds: held == seeds && seeds > 0, sentence: format!("{measured}. {conclusion}{also}") }
}

/// The sentence that states the lesson's `reported` measurement for every arm (mean ± sd over
/// the seeds, and where it has one, the value before the first step), without judging it.
fn reported_sentence(metric: Metric, summaries: &[ArmSummary], seeds: usize) -> String {
    let arms: Vec<String> = summaries
        .iter()
        .map(|a| {
            let measured: Vec<f64> = a.reported.iter().flatten().copied().collect();
            let at_end = if measured.is_empty() {
                "diverged".to_string()
            } else if seeds == 1 {
                format_value(metric, Some(measured[0]))
            } else {
                let (mean, std) = mean_std(&measured);
                format!("{} ± {}", format_value(metric, Some(mean)), format_value(metric, Some(std)))
            };
            let (start, _) = mean_std(&a.reported_start);
            if a.reported_start.is_empty() {
                format!("{} {at_end}", a.name)
            } else {
                format!("{} {} at the start, {at_end} at the end", a.name, format_value(metric, Some(start)))
            }
        })
        .collect();
    let over = if seeds == 1 { String::new() } else { format!(" (mean ± sd over {seeds} seeds)") };
    format!("Also measured, not judged: the {}{over}: {}.", metric.name(), arms.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lessons::catalog;

    fn arms(values: &[&[Option<f64>]]) -> Vec<ArmSummary> {
        values
            .iter()
            .enumerate()
            .map(|(arm, v)| {
                let measured: Vec<f64> = v.iter().flatten().copied().collect();
                let (mean, std) = mean_std(&measured);
                ArmSummary {
                    arm,
                    name: "arm".into(),
                    values: v.to_vec(),
                    mean,
                    std,
                    diverged: v.iter().filter(|x| x.is_none()).count(),
                    test_acc: vec![],
                    reported: vec![],
                    reported_start: vec![],
                }
            })
            .collect()
    }

    #[test]
    fn an_effect_counts_only_when_it_holds_in_every_seed() {
        // warmup: lower early loss is better, by more than 0.1.
        let l = catalog::find("warmup").unwrap();
        let v = verdict(&l, &arms(&[&[Some(2.5), Some(2.6), Some(2.4)], &[Some(1.8), Some(1.9), Some(2.0)]]));
        assert_eq!((v.held, v.holds), (3, true), "{}", v.sentence);
        assert!(v.sentence.contains("In all 3 seeds"), "{}", v.sentence);
        let v = verdict(&l, &arms(&[&[Some(2.5), Some(2.6), Some(2.0)], &[Some(1.8), Some(1.9), Some(2.0)]]));
        assert_eq!((v.held, v.holds), (2, false));
        assert!(v.sentence.contains("within noise"), "{}", v.sentence);
    }

    #[test]
    fn a_baseline_ahead_in_every_seed_is_said_not_called_noise() {
        // cosine: higher test accuracy is better; here step decay (arm 0) wins in all 3 seeds.
        let l = catalog::find("cosine").unwrap();
        let v = verdict(&l, &arms(&[&[Some(95.3), Some(94.9), Some(95.6)], &[Some(94.1), Some(94.6), Some(95.0)]]));
        assert_eq!((v.held, v.holds), (0, false));
        assert!(v.sentence.contains("in all 3, arm higher than arm: at this size the trick does not help"), "{}", v.sentence);
        // One seed where the trick wins: mixed, so within noise.
        let v = verdict(&l, &arms(&[&[Some(95.3), Some(94.9), Some(95.6)], &[Some(94.1), Some(95.6), Some(95.0)]]));
        assert_eq!(v.held, 1);
        assert!(v.sentence.contains("within noise"), "{}", v.sentence);
        // Neither way in any seed (a tie): within noise, not reversed.
        let v = verdict(&l, &arms(&[&[Some(95.0), Some(94.0)], &[Some(95.0), Some(94.0)]]));
        assert!(v.sentence.contains("within noise"), "{}", v.sentence);
    }

    #[test]
    fn a_diverged_baseline_loses_and_a_diverged_trick_fails() {
        let l = catalog::find("warmup").unwrap();
        assert!(verdict(&l, &arms(&[&[None], &[Some(1.8)]])).holds);
        let v = verdict(&l, &arms(&[&[Some(2.0)], &[None]]));
        assert!(!v.holds && v.sentence.contains("diverged"), "{}", v.sentence);
    }

    #[test]
    fn a_reported_measurement_is_stated_beside_the_verdict() {
        // no bias decay: judged on the training loss, with the γ norms stated, not judged.
        let l = catalog::find("no-bias-decay").unwrap();
        assert_eq!(l.reported, Some(Metric::GammaNorm));
        let mut s = arms(&[&[Some(0.24), Some(0.22)], &[Some(0.15), Some(0.15)]]);
        s[0].reported = vec![Some(2.5), Some(2.7)];
        s[0].reported_start = vec![4.0, 4.0];
        s[1].reported = vec![Some(4.1), None];
        s[1].reported_start = vec![4.0, 4.0];
        let v = verdict(&l, &s);
        assert!(v.holds, "{}", v.sentence);
        assert!(
            v.sentence.ends_with(
                "Also measured, not judged: the norm of all BN γ (mean ± sd over 2 seeds): arm 4.000 at the start, \
                 2.600 ± 0.141 at the end; arm 4.000 at the start, 4.100 ± 0.000 at the end."
            ),
            "{}",
            v.sentence
        );
        // Lessons without one say nothing more.
        let l = catalog::find("warmup").unwrap();
        assert!(!verdict(&l, &arms(&[&[Some(2.5)], &[Some(1.8)]])).sentence.contains("Also measured"));
    }

    #[test]
    fn gap_rule_compares_the_pairs() {
        // linear scaling: arms 1 and 3 unscaled, 0 and 2 scaled; accuracy gap must shrink by > 1.
        let l = catalog::find("linear-scaling").unwrap();
        let v = verdict(&l, &arms(&[&[Some(95.0)], &[Some(96.0)], &[Some(94.5)], &[Some(80.0)]]));
        assert!(v.holds, "{}", v.sentence);
        let v = verdict(&l, &arms(&[&[Some(95.0)], &[Some(96.0)], &[Some(90.0)], &[Some(92.0)]]));
        assert!(!v.holds, "{}", v.sentence);
    }
}
