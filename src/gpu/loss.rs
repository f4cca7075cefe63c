//! Dispatches for shaders/loss.wgsl: softmax cross-entropy and distillation. Each is a per-sample
//! pass (the gradient of the batch-mean loss, plus each sample's loss and correctness in a scratch
//! tensor made here) followed by one small `accumulate` pass that adds the batch's sums into the
//! caller's `metrics [3]` = [Σ loss, Σ correct, Σ samples], in a fixed order and without atomics,
//! so repeated runs agree bit for bit. Labels are not range-checked on the GPU: a label that is not
//! a class index simply never counts as correct.

use super::context::grid;
use super::shaders::LOSS;
use super::{Dispatch, GpuContext, Tensor};
use crate::ops::loss::{DistillShape, LossShape};
use crate::Result;

const WG: u32 = 64;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    batch: u32,
    classes: u32,
    temperature: f32,
    hard_weight: f32,
}

/// Softmax cross-entropy of `logits` against `targets` (rows summing to 1); writes
/// dlogits = (softmax − targets) / N and adds (Σ loss, Σ correct, N) into `metrics`.
pub fn softmax_cross_entropy(
    ctx: &GpuContext,
    s: &LossShape,
    logits: &Tensor,
    targets: &Tensor,
    labels: &Tensor,
    dlogits: &Tensor,
    metrics: &Tensor,
) -> Result<Vec<Dispatch>> {
    s.check(&[("logits", logits), ("targets", targets), ("dlogits", dlogits)], labels, Some(metrics))?;
    let params = Params { batch: s.batch as u32, classes: s.classes as u32, temperature: 1.0, hard_weight: 1.0 };
    let per_sample = ctx.zeros(format!("cross_entropy {} per-sample loss", logits.label), &[s.batch, 2])?;
    let rows = ctx.dispatch(
        format!("cross_entropy {} -> {}", logits.label, dlogits.label),
        ctx.pipeline(&LOSS, "cross_entropy", &[])?,
        bytemuck::bytes_of(&params),
        &[(1, &logits.buffer), (3, &targets.buffer), (4, &labels.buffer), (5, &dlogits.buffer), (6, &per_sample.buffer)],
        grid((s.batch as u32).div_ceil(WG)),
    )?;
    // The bind groups keep `per_sample` alive after this handle is dropped.
    Ok(vec![rows, accumulate(ctx, "cross_entropy", params, &per_sample, metrics)?])
}

/// Distillation of `teacher_logits` into `student_logits` (see `DistillShape`); writes the
/// gradient of the batch-mean loss with respect to the student's logits and adds
/// (Σ combined loss, Σ student correct, N) into `metrics`.
#[allow(clippy::too_many_arguments)]
pub fn distillation(
    ctx: &GpuContext,
    s: &DistillShape,
    student_logits: &Tensor,
    teacher_logits: &Tensor,
    targets: &Tensor,
    labels: &Tensor,
    dlogits: &Tensor,
    metrics: &Tensor,
) -> Result<Vec<Dispatch>> {
    s.validate()?;
    let roles = [("student_logits", student_logits), ("teacher_logits", teacher_logits), ("targets", targets), ("dlogits", dlogits)];
    s.loss_shape().check(&roles.map(|(r, t)| (r, t as &dyn crate::ops::Operand)), labels, Some(metrics))?;
    let params = Params { batch: s.batch as u32, classes: s.classes as u32, temperature: s.temperature, hard_weight: s.hard_weight };
    let per_sample = ctx.zeros(format!("distillation {} per-sample loss", student_logits.label), &[s.batch, 2])?;
    let rows = ctx.dispatch(
        format!("distillation {} <- {} -> {}", student_logits.label, teacher_logits.label, dlogits.label),
        ctx.pipeline(&LOSS, "distillation", &[])?,
        bytemuck::bytes_of(&params),
        &[
            (1, &student_logits.buffer),
            (2, &teacher_logits.buffer),
            (3, &targets.buffer),
            (4, &labels.buffer),
            (5, &dlogits.buffer),
            (6, &per_sample.buffer),
        ],
        grid((s.batch as u32).div_ceil(WG)),
    )?;
    Ok(vec![rows, accumulate(ctx, "distillation", params, &per_sample, metrics)?])
}

/// metrics += (Σ per-sample loss, Σ correct, batch), by one workgroup.
fn accumulate(ctx: &GpuContext, op: &str, params: Params, per_sample: &Tensor, metrics: &Tensor) -> Result<Dispatch> {
    ctx.dispatch(
        format!("{op} accumulate -> {}", metrics.label),
        ctx.pipeline(&LOSS, "accumulate", &[])?,
        bytemuck::bytes_of(&params),
        &[(6, &per_sample.buffer), (7, &metrics.buffer)],
        [1, 1, 1],
    )
}
