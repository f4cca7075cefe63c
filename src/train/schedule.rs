//! Learning-rate schedules as pure functions of the global step: the Keras tutorial's
//! `cosine_decay_with_warmup` and `WarmUpLearningRateScheduler` rule, written out operation by
//! operation in f64 so they agree with the Python to the last bit, plus GluonCV-style step decay
//! and a constant rate. `LrSchedule` bundles one checked schedule; the trainer asks it for
//! `lr(step)` and the page plots the very same function before training starts.

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The Keras tutorial's `cosine_decay_with_warmup`, evaluated for one integer `global_step`.
///
/// Same arithmetic, in the same order, as the Python (`np.pi * n / float(d)`, then
/// `0.5 * base * (1 + cos)`, the hold with a strict `>`, the warmup line `slope * step + wl`, and
/// zero after `total_steps`). The Keras tutorial's errors come back as `Err`, in the Keras tutorial's order:
/// - `total_steps < warmup_steps` (the Keras tutorial's first `ValueError`);
/// - `total_steps == warmup_steps + hold_base_rate_steps`: the cosine phase has no length and the
///   seed's `... / float(0)` raises `ZeroDivisionError` for every step (the Keras callback passes
///   Python ints), so this is an error here too;
/// - `warmup_steps > 0` and `learning_rate_base < warmup_learning_rate` (the second `ValueError`).
///
/// Like the Keras tutorial, a `warmup_steps + hold_base_rate_steps` beyond `total_steps` is accepted: the
/// rate then holds at the base until `total_steps` and is zero after it.
pub fn cosine_decay_with_warmup(
    global_step: u64,
    learning_rate_base: f64,
    total_steps: u64,
    warmup_learning_rate: f64,
    warmup_steps: u64,
    hold_base_rate_steps: u64,
) -> Result<f64> {
    check_cosine_args(learning_rate_base, total_steps, warmup_learning_rate, warmup_steps, hold_base_rate_steps)?;
    Ok(cosine_value(
        global_step,
        learning_rate_base,
        total_steps,
        warmup_learning_rate,
        warmup_steps,
        hold_base_rate_steps,
    ))
}

/// The Keras tutorial's two `ValueError`s and its division by zero, as errors naming the argument.
fn check_cosine_args(base: f64, total: u64, warmup_lr: f64, warmup: u64, hold: u64) -> Result<()> {
    if total < warmup {
        return Err(Error::config(
            "warmup_steps",
            format!("total_steps ({total}) must be larger or equal to warmup_steps ({warmup})"),
        ));
    }
    if total as i128 - warmup as i128 - hold as i128 == 0 {
        return Err(Error::config(
            "total_steps",
            format!(
                "total_steps ({total}) equals warmup_steps ({warmup}) + hold_steps ({hold}), so the cosine \
                 phase has no steps (the Keras tutorial's formula divides by zero here); train longer or shorten \
                 the warmup or hold"
            ),
        ));
    }
    if warmup > 0 && base < warmup_lr {
        return Err(Error::config(
            "warmup_lr",
            format!("learning_rate_base ({base}) must be larger or equal to warmup_learning_rate ({warmup_lr})"),
        ));
    }
    Ok(())
}

/// The Keras tutorial's formula without its checks (callers have run `check_cosine_args`). Python's
/// integers do not overflow, so the step arithmetic is done in i128 (exact for any u64, and the
/// same f64 as the Keras tutorial's for every step count it can run) and the end of the hold saturates.
fn cosine_value(step: u64, base: f64, total: u64, warmup_lr: f64, warmup: u64, hold: u64) -> f64 {
    let offset = step as i128 - warmup as i128 - hold as i128;
    let span = (total as i128 - warmup as i128 - hold as i128) as f64;
    let mut lr = 0.5 * base * (1.0 + (std::f64::consts::PI * offset as f64 / span).cos());
    if hold > 0 && step <= warmup.saturating_add(hold) {
        // np.where(global_step > warmup_steps + hold_base_rate_steps, learning_rate, base)
        lr = base;
    }
    if warmup > 0 && step < warmup {
        lr = warmup_line(step, base, warmup_lr, warmup);
    }
    if step > total {
        0.0
    } else {
        lr
    }
}

/// The Keras tutorial's warmup line: `slope = (base - warmup_lr) / warmup_steps; slope * step + warmup_lr`.
/// Step and constant modes use the same line, so every mode warms up identically.
fn warmup_line(step: u64, base: f64, warmup_lr: f64, warmup: u64) -> f64 {
    let slope = (base - warmup_lr) / warmup as f64;
    slope * step as f64 + warmup_lr
}

/// The Keras tutorial's `WarmUpLearningRateScheduler`: the rate it has set when batch number `batch_count`
/// (0-based) begins. While `batch_count <= warmup_batches` it sets
/// `batch_count * init_lr / warmup_batches`; afterwards the optimizer keeps the last rate it set,
/// which is the one for `floor(warmup_batches)` (so a fractional `warmup_batches` such as
/// `warmup_epoch * sample_count / batch_size = 7.5` never quite reaches `init_lr`, as in the Keras tutorial).
/// `warmup_batches <= 0` is an error: the Keras tutorial divides by zero on the first batch (or, if negative,
/// never sets a rate at all).
pub fn warmup_lr_scheduler(batch_count: u64, warmup_batches: f64, init_lr: f64) -> Result<f64> {
    if !positive(warmup_batches) {
        return Err(Error::config(
            "warmup_batches",
            format!("must be a positive number of batches, got {warmup_batches}"),
        ));
    }
    let last_set = if batch_count as f64 <= warmup_batches { batch_count as f64 } else { warmup_batches.floor() };
    Ok(last_set * init_lr / warmup_batches)
}

/// Step decay (GluonCV's `step` mode with absolute boundaries): after warmup the rate is
/// `base * decay^k`, where `k` counts the boundaries in `decay_steps` that are `<= step`.
/// Zero after `total_steps`, like the Keras tutorial's cosine. Unchecked; `LrSchedule::new` checks.
pub fn step_decay(
    step: u64,
    base: f64,
    total: u64,
    warmup_lr: f64,
    warmup: u64,
    decay: f64,
    decay_steps: &[u64],
) -> f64 {
    if step > total {
        return 0.0;
    }
    if warmup > 0 && step < warmup {
        return warmup_line(step, base, warmup_lr, warmup);
    }
    let passed = decay_steps.iter().filter(|&&s| s <= step).count();
    base * decay.powi(passed as i32)
}

/// A constant rate after the same linear warmup; zero after `total_steps`. Unchecked.
pub fn constant(step: u64, base: f64, total: u64, warmup_lr: f64, warmup: u64) -> f64 {
    if step > total {
        return 0.0;
    }
    if warmup > 0 && step < warmup {
        return warmup_line(step, base, warmup_lr, warmup);
    }
    base
}

/// Which curve follows the warmup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LrMode {
    Cosine,
    Step,
    Constant,
}

impl LrMode {
    pub const NAMES: [&'static str; 3] = ["cosine", "step", "constant"];

    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "cosine" => Ok(LrMode::Cosine),
            "step" => Ok(LrMode::Step),
            "constant" => Ok(LrMode::Constant),
            other => {
                Err(Error::config("lr_mode", format!("unknown mode `{other}`; expected cosine, step or constant")))
            }
        }
    }
}

/// Everything a schedule needs, in global steps. Build an `LrSchedule` from it with
/// `LrSchedule::new`, which checks it. `hold_steps` applies to cosine only; `decay` and
/// `decay_steps` to step only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduleSpec {
    pub mode: LrMode,
    pub base_lr: f64,
    pub total_steps: u64,
    pub warmup_steps: u64,
    pub warmup_lr: f64,
    pub hold_steps: u64,
    pub decay: f64,
    pub decay_steps: Vec<u64>,
}

impl ScheduleSpec {
    /// A schedule of `mode` with no warmup, no hold and no decay boundaries (decay factor 0.1).
    pub fn new(mode: LrMode, base_lr: f64, total_steps: u64) -> Self {
        ScheduleSpec {
            mode,
            base_lr,
            total_steps,
            warmup_steps: 0,
            warmup_lr: 0.0,
            hold_steps: 0,
            decay: 0.1,
            decay_steps: Vec::new(),
        }
    }
}

/// A checked schedule: `lr(step)` cannot fail.
#[derive(Debug, Clone, PartialEq)]
pub struct LrSchedule {
    spec: ScheduleSpec,
}

impl LrSchedule {
    /// Checks the spec (the Keras tutorial's errors for every mode, plus positive finite rates, a decay
    /// factor in (0, 1] and increasing decay boundaries) and returns the schedule.
    pub fn new(spec: ScheduleSpec) -> Result<Self> {
        if !positive(spec.base_lr) {
            return Err(Error::config("base_lr", format!("must be a positive number, got {}", spec.base_lr)));
        }
        if !non_negative(spec.warmup_lr) {
            return Err(Error::config("warmup_lr", format!("must be zero or positive, got {}", spec.warmup_lr)));
        }
        match spec.mode {
            LrMode::Cosine => {
                check_cosine_args(spec.base_lr, spec.total_steps, spec.warmup_lr, spec.warmup_steps, spec.hold_steps)?
            }
            LrMode::Step | LrMode::Constant => check_warmup(&spec)?,
        }
        // Checked in every mode (only step mode uses them), so a spec is valid or not whatever its mode.
        check_decay(spec.decay, &spec.decay_steps)?;
        Ok(LrSchedule { spec })
    }

    pub fn spec(&self) -> &ScheduleSpec {
        &self.spec
    }

    /// The rate for `global_step` in f64, exactly as the Keras tutorial computes it.
    pub fn lr_f64(&self, step: u64) -> f64 {
        let s = &self.spec;
        match s.mode {
            LrMode::Cosine => cosine_value(step, s.base_lr, s.total_steps, s.warmup_lr, s.warmup_steps, s.hold_steps),
            LrMode::Step => {
                step_decay(step, s.base_lr, s.total_steps, s.warmup_lr, s.warmup_steps, s.decay, &s.decay_steps)
            }
            LrMode::Constant => constant(step, s.base_lr, s.total_steps, s.warmup_lr, s.warmup_steps),
        }
    }

    /// The rate for `global_step`, rounded to f32 for the optimizer kernel.
    pub fn lr(&self, step: u64) -> f32 {
        self.lr_f64(step) as f32
    }

    /// `lr(0..=last)`, for plotting.
    pub fn curve(&self, last: u64) -> Vec<f32> {
        (0..=last).map(|s| self.lr(s)).collect()
    }
}

/// The Keras tutorial's warmup checks, applied to the step and constant modes as well.
fn check_warmup(spec: &ScheduleSpec) -> Result<()> {
    if spec.total_steps < spec.warmup_steps {
        return Err(Error::config(
            "warmup_steps",
            format!(
                "total_steps ({}) must be larger or equal to warmup_steps ({})",
                spec.total_steps, spec.warmup_steps
            ),
        ));
    }
    if spec.warmup_steps > 0 && spec.base_lr < spec.warmup_lr {
        return Err(Error::config(
            "warmup_lr",
            format!(
                "learning_rate_base ({}) must be larger or equal to warmup_learning_rate ({})",
                spec.base_lr, spec.warmup_lr
            ),
        ));
    }
    Ok(())
}

fn check_decay(decay: f64, steps: &[u64]) -> Result<()> {
    if decay.is_nan() || decay <= 0.0 || decay > 1.0 {
        return Err(Error::config("decay", format!("the decay factor must be in (0, 1], got {decay}")));
    }
    if steps.windows(2).any(|w| w[0] >= w[1]) {
        return Err(Error::config("decay_steps", format!("boundaries must be strictly increasing, got {steps:?}")));
    }
    Ok(())
}

/// A finite number above zero (false for NaN).
pub(crate) fn positive(x: f64) -> bool {
    x.is_finite() && x > 0.0
}

/// A finite number at or above zero (false for NaN).
pub(crate) fn non_negative(x: f64) -> bool {
    x.is_finite() && x >= 0.0
}
