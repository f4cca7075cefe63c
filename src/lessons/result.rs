//! A student's result as one short line, to paste into a chat, a form or a shared document:
//!
//! `tricklab-result v1 lesson=resnet-tweaks def=1a2b3c4d seed=7 backend=gpu a0=92.4500/92.45 a1=… a2=…`
//!
//! It names the lesson and a hash of its definition (so runs of an edited lesson, or of its tiny
//! version, never pool with the original's), the seed, the backend, and each arm's value of the
//! lesson's metric with its final test accuracy (%), `-` where the arm diverged. `pool::collect`
//! reads these lines beside the CLI's JSON lines.

use super::run::ArmRecord;
use super::{file, verdict, Lesson};

/// The first word of every result line, and the format's version.
pub const PREFIX: &str = "tricklab-result v1";

/// The hash of `lesson`'s definition: FNV-1a (64-bit) of its lesson file, as 8 hex digits (the
/// top 32 bits). Any change to the lesson (an arm's config, its size, its rule) changes it.
pub fn definition_hash(lesson: &Lesson) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in file::to_json(lesson).bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{:08x}", h >> 32)
}

/// One run's result: the lesson, its definition hash, the seed and backend, and per arm the
/// metric's value and the final test accuracy in percent.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultLine {
    pub lesson: String,
    pub def: String,
    pub seed: u64,
    pub backend: String,
    pub arms: Vec<(Option<f64>, Option<f64>)>,
}

impl ResultLine {
    /// The result of one run of `lesson` (as it ran, sized) with `seed`, from its arms' records.
    pub fn of(lesson: &Lesson, seed: u64, backend: &str, records: &[ArmRecord]) -> Self {
        let arms = records.iter().map(|r| (verdict::value(lesson.metric, r), r.result.as_ref().map(|f| 100.0 * f.test_acc as f64))).collect();
        ResultLine { lesson: lesson.id.clone(), def: definition_hash(lesson), seed, backend: backend.to_string(), arms }
    }

    /// The line (at most 300 characters for the built-in lessons).
    pub fn write(&self) -> String {
        let num = |v: Option<f64>, digits: usize| v.filter(|v| v.is_finite()).map_or("-".to_string(), |v| format!("{v:.digits$}"));
        let arms: Vec<String> = self.arms.iter().enumerate().map(|(i, (v, acc))| format!("a{i}={}/{}", num(*v, 4), num(*acc, 2))).collect();
        format!("{PREFIX} lesson={} def={} seed={} backend={} {}", self.lesson, self.def, self.seed, self.backend, arms.join(" "))
    }

    /// Reads a line `write` made; `Err` says what is wrong with it in a few words.
    pub fn read(line: &str) -> Result<Self, String> {
        let rest = line.trim().strip_prefix(PREFIX).ok_or("not a tricklab result line")?;
        let mut r = ResultLine { lesson: String::new(), def: String::new(), seed: 0, backend: String::new(), arms: Vec::new() };
        let mut seed = None;
        for word in rest.split_whitespace() {
            let (key, value) = word.split_once('=').ok_or_else(|| format!("`{word}` is not key=value"))?;
            match key {
                "lesson" => r.lesson = value.to_string(),
                "def" => r.def = value.to_string(),
                "seed" => seed = Some(value.parse::<u64>().map_err(|_| format!("seed `{value}` is not a whole number"))?),
                "backend" => r.backend = value.to_string(),
                arm if arm.strip_prefix('a').and_then(|i| i.parse::<usize>().ok()) == Some(r.arms.len()) => r.arms.push(read_arm(value)?),
                other => return Err(format!("unexpected `{other}` (arms are a0, a1, … in order)")),
            }
        }
        r.seed = seed.ok_or("no seed")?;
        if r.lesson.is_empty() || r.def.is_empty() || r.arms.is_empty() {
            return Err("it lacks the lesson, its definition hash or the arms".into());
        }
        Ok(r)
    }
}

/// `value/accuracy`, each a number or `-`.
fn read_arm(text: &str) -> Result<(Option<f64>, Option<f64>), String> {
    let (v, acc) = text.split_once('/').ok_or_else(|| format!("arm `{text}` is not value/accuracy"))?;
    let num = |s: &str| -> Result<Option<f64>, String> {
        match s {
            "-" => Ok(None),
            _ => s.parse::<f64>().ok().filter(|v| v.is_finite()).map(Some).ok_or_else(|| format!("`{s}` is not a number")),
        }
    };
    Ok((num(v)?, num(acc)?))
}
