//! How long a lesson will take on this computer, known before class: a few training steps of the
//! lesson's largest arm (the one with the most arithmetic) are timed on the device, and every arm's
//! training steps and evaluations are scaled from them by their FLOPs. It is an estimate: an arm
//! much smaller than the timed one pays its fixed costs per step (dispatches, readbacks) at a
//! larger share, so small arms come out somewhat shorter than they run.

use serde::{Deserialize, Serialize};

use super::{Arm, Lesson};
use crate::clock::now_s;
use crate::data::Dataset;
use crate::train::backend::Device;
use crate::train::checkpoint::Checkpoint;
use crate::train::trainer::Trainer;
use crate::{Error, Result};

/// Steps timed, after one untimed step (pipelines compile, memory settles).
pub const TIMED_STEPS: usize = 3;

/// One lesson's estimate on one device.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Estimate {
    pub lesson: String,
    pub title: String,
    /// The arm timed (the largest) and its batch size.
    pub arm: usize,
    pub arm_name: String,
    pub batch: u32,
    /// Milliseconds per training step of that arm, the mean of `TIMED_STEPS` steps.
    pub step_ms: f64,
    /// The lesson's work in GFLOP: training steps (3 × forward, plus a teacher's forward) and the
    /// evaluations after each epoch (forward only), over all arms.
    pub gflop: f64,
    /// The estimated duration of the whole lesson, in seconds.
    pub seconds: f64,
}

/// An arm's work in GFLOP: (one training step, all its training steps, all its evaluations).
fn arm_work(lesson: &Lesson, arm: &Arm) -> Result<(f64, f64, f64)> {
    let batch = arm.config.batch_size as usize;
    let forward = arm.config.graph(batch)?.forward_flops() / 1e9;
    let teacher = match arm.teacher.and_then(|t| lesson.arms.get(t)) {
        Some(t) => t.config.graph(batch)?.forward_flops() / 1e9,
        None => 0.0,
    };
    let step = 3.0 * forward + teacher;
    let steps = arm.config.epochs as f64 * (lesson.arm_images(arm) / batch.max(1)) as f64;
    let evaluated = lesson.test_images + if lesson.track_train_accuracy { lesson.arm_images(arm) } else { 0 };
    let eval = arm.config.epochs as f64 * evaluated as f64 * forward / batch.max(1) as f64;
    Ok((step, step * steps, eval))
}

/// The arm with the most work (training and evaluation together).
pub fn largest_arm(lesson: &Lesson) -> Result<usize> {
    let mut best = (0, f64::MIN);
    for (i, arm) in lesson.arms.iter().enumerate() {
        let (_, train, eval) = arm_work(lesson, arm)?;
        if train + eval > best.1 {
            best = (i, train + eval);
        }
    }
    Ok(best.0)
}

/// Times `TIMED_STEPS` steps of `lesson`'s largest arm on `device` (on the first images of `train`
/// and `test`) and estimates the whole lesson from them.
pub async fn estimate(device: Device, lesson: &Lesson, train: &Dataset, test: &Dataset) -> Result<Estimate> {
    let i = largest_arm(lesson)?;
    let arm = &lesson.arms[i];
    let batch = arm.config.batch_size as usize;
    // Enough images for the timed steps and no more: the step costs the same on any images.
    let n = (batch * (TIMED_STEPS + 2)).min(train.count);
    if n < batch * (TIMED_STEPS + 1) {
        return Err(Error::data("training set", format!("has {} images; timing `{}` needs {}", train.count, arm.name, batch * (TIMED_STEPS + 1))));
    }
    let (train, test) = (train.slice(0, n)?, test.slice(0, batch.min(test.count))?);
    let teacher = match arm.teacher.and_then(|t| lesson.arms.get(t)) {
        Some(t) => Some(Checkpoint::initial(&t.config, batch)?.1),
        None => None,
    };
    let mut config = arm.config.clone();
    config.epochs = 1;
    config.warmup_epochs = 0;
    config.warmup_steps = None;
    config.hold_steps = None;
    config.hold_epochs = 0;
    config.lr_decay_epochs.clear();
    config.mixup_off_epochs = 0;
    let mut trainer = Trainer::new(device, config, &train, &test, teacher)?;
    trainer.step()?;
    trainer.progress().await?;
    let started = now_s();
    for _ in 0..TIMED_STEPS {
        trainer.step()?;
    }
    trainer.progress().await?;
    let step_ms = (now_s() - started) * 1e3 / TIMED_STEPS as f64;
    let (step_gflop, _, _) = arm_work(lesson, arm)?;
    let mut gflop = 0.0;
    for a in &lesson.arms {
        let (_, train, eval) = arm_work(lesson, a)?;
        gflop += train + eval;
    }
    let seconds = gflop * step_ms / step_gflop / 1e3;
    Ok(Estimate { lesson: lesson.id.clone(), title: lesson.title.clone(), arm: i, arm_name: arm.name.clone(), batch: arm.config.batch_size, step_ms, gflop, seconds })
}

/// A lab computer's check as one line to copy, at most 300 characters: the adapter (shortened to
/// fit), the variant check (the variants not used, each named once, from `failed`'s
/// "variant(pass)" names), and each lesson's estimated minutes.
pub fn summary_line(adapter: &str, checks: usize, failed: &[String], estimates: &[Estimate]) -> String {
    let mut variants: Vec<&str> = Vec::new();
    for v in failed.iter().map(|f| f.split('(').next().unwrap_or(f).trim()) {
        if !variants.contains(&v) {
            variants.push(v);
        }
    }
    let kernels = if failed.is_empty() { format!("kernels {checks}/{checks} ok") } else { format!("kernels {}/{checks} ok, not used: {}", checks - failed.len(), variants.join(",")) };
    let minutes: Vec<String> = estimates.iter().map(|e| format!("{}={:.1}", e.lesson, e.seconds / 60.0)).collect();
    let tail = format!("; {kernels}; minutes {}", minutes.join(" "));
    let head = "tricklab-check v1 ";
    let room = 300usize.saturating_sub(head.chars().count() + tail.chars().count());
    let adapter: String = if adapter.chars().count() > room { adapter.chars().take(room.saturating_sub(1)).collect::<String>() + "…" } else { adapter.to_string() };
    let line = format!("{head}{adapter}{tail}");
    // Only a lesson list far longer than the built-in one can still be too long.
    if line.chars().count() > 300 { line.chars().take(299).collect::<String>() + "…" } else { line }
}
