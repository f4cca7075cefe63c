//! Dispatches for shaders/batchnorm.wgsl: BatchNorm2d training forward (statistics pass, then a
//! normalize pass), evaluation forward, and training backward (gradient-sum pass, then a dx pass),
//! plus the fused BN+activation pair (ReLU or ReLU6). Conventions are in `ops::batchnorm`.
//!
//! Choice of reduction: one workgroup per channel with a tree reduction; the variance once took
//! two passes over the data (the measurements below), and now takes one (Welford per thread, Chan's
//! pairwise combine across threads), which halved the statistics pass at MobileNetV2's batch-16
//! shapes on lavapipe (102 → 50 ms per step, 40 layers, `bench-step --profile`). The backward
//! reads x and dy only (no stored activation output, no staged gradient): 319 → about 205 ms per
//! MobileNetV2 step, most of it from loading dy unconditionally and selecting, since a load inside
//! a branch costs llvmpipe several times more. Earlier, measured on llvmpipe (2 shared cores, so
//! ±30% noise) at ResNet-20's batch-64 shapes 16×32×32 / 32×16×16 / 64×8×8, the statistics pass took 6.0 / 4.5 / 2.9 ms against
//! 8.4 / 6.0 / 8.0 ms for partial sums over 4 chunks per channel plus a combine pass (16 chunks:
//! 17 / 8.9 / 16 ms), and 64-thread workgroups beat 256-thread ones by 1.5-5× (fewer barriers for
//! the CPU to emulate). So CPU adapters get at most 64 threads per channel, GPUs 256 (more threads
//! in flight; not measured, no GPU here). Fewer still where a channel holds few values: at
//! MobileNetV2's batch-16 shapes (256 to 4,096 values per channel at 4×4 to 16×16), 8 threads made
//! the statistics pass 1.6× faster than 64 and the backward's reduction 1.2× (`bench-step --profile`
//! on lavapipe), and ResNet-20 at batch 64 no slower. Whole passes
//! (forward train / backward): 7.8 / 8.2 / 8.1 ms and 8.3 / 16 / 11 ms; a 1M-element ReLU took
//! 7.3 ms in the same run. (A throwaway timing test, `submit` of 20 copies × 5, then `wait`.)
//! The elementwise passes run over whole planes, about 1024 values per workgroup: about 3× faster
//! than one thread per element at 32×32 and 16×16 (a channel's parameters load once per plane
//! instead of per element, with no integer division per element).

use super::context::grid;
use super::shaders::BATCHNORM;
use super::{Dispatch, GpuBuffer, GpuContext, Tensor};
use crate::ops::batchnorm::{Activation, BatchNormShape};
use crate::ops::Operand;
use crate::Result;

/// Values an elementwise workgroup covers (whole planes, at least one).
const VALUES_PER_GROUP: usize = 1024;

/// Most values one thread of a per-channel reduction sums in f32 on a CPU adapter.
const TERMS_PER_THREAD: usize = 1024;

/// Threads per workgroup of the per-channel reductions. GPUs: 256. CPU adapters (llvmpipe): the
/// fewest of 8, 16, 32 and 64 that keep each thread's f32 sum within `TERMS_PER_THREAD` values
/// (so 64 at batch 64, 32×32, and the test at mean 100 keeps its accuracy): fewer threads mean
/// fewer barriers for the CPU to emulate, and 8 threads are one 256-bit vector there.
fn reduce_workgroup(ctx: &GpuContext, s: &BatchNormShape) -> usize {
    if ctx.info.device_type == wgpu::DeviceType::Cpu {
        s.count().div_ceil(TERMS_PER_THREAD).next_power_of_two().clamp(8, 64)
    } else {
        256
    }
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    batch: u32,
    channels: u32,
    plane: u32,
    count: u32,
    step_b: u32,
    step_j: u32,
    planes: u32,
    planes_per_group: u32,
    eps: f32,
    momentum: f32,
}

fn params(s: &BatchNormShape, reduce_wg: usize) -> Params {
    Params {
        batch: s.batch as u32,
        channels: s.channels as u32,
        plane: s.plane() as u32,
        count: s.count() as u32,
        step_b: (reduce_wg / s.plane()) as u32,
        step_j: (reduce_wg % s.plane()) as u32,
        planes: (s.batch * s.channels) as u32,
        planes_per_group: planes_per_group(s) as u32,
        eps: s.eps,
        momentum: s.momentum,
    }
}

fn planes_per_group(s: &BatchNormShape) -> usize {
    (VALUES_PER_GROUP / s.plane()).max(1)
}

/// Which work a pass does: one workgroup per channel, or workgroups over whole planes.
enum Grid {
    PerChannel,
    PerPlanes,
}

/// Prepares `entry` with `buffers` bound at their bindings (see the shader's binding table); the
/// last buffer names the dispatch.
fn prepare(ctx: &GpuContext, s: &BatchNormShape, entry: &str, act: Option<Activation>, buffers: &[(u32, &Tensor)], g: Grid) -> Result<Dispatch> {
    let reduce_wg = reduce_workgroup(ctx, s);
    let (constants, groups) = match g {
        Grid::PerChannel => (vec![("REDUCE_WG", reduce_wg as f64)], s.channels),
        Grid::PerPlanes => (vec![], (s.batch * s.channels).div_ceil(planes_per_group(s))),
    };
    let mut constants = constants;
    if let Some(a) = act {
        constants.push(("ACT", a.code() as f64));
    }
    let pipeline = ctx.pipeline(&BATCHNORM, entry, &constants)?;
    let bound: Vec<(u32, &GpuBuffer)> = buffers.iter().map(|(b, t)| (*b, &t.buffer)).collect();
    let out = buffers.last().map(|(_, t)| t.label.as_str()).unwrap_or("");
    let label = format!("batchnorm {entry}{} -> {out}", act.map(|a| format!("+{}", a.name())).unwrap_or_default());
    ctx.dispatch(label, pipeline, bytemuck::bytes_of(&params(s, reduce_wg)), &bound, grid(groups as u32))
}

/// One batch-norm layer's per-channel tensors: γ and β, the running statistics (updated in place
/// by the training forward), and the batch mean and 1/sqrt(biased var + eps) the training forward
/// saves for the backward. The evaluation forward reads only γ, β and the running statistics.
#[derive(Clone, Copy)]
pub struct BnTensors<'a> {
    pub gamma: &'a Tensor,
    pub beta: &'a Tensor,
    pub running_mean: &'a Tensor,
    pub running_var: &'a Tensor,
    pub mean: &'a Tensor,
    pub inv_std: &'a Tensor,
}

/// The gradients a batch norm's backward writes (overwritten, not accumulated).
#[derive(Clone, Copy)]
pub struct BnGrads<'a> {
    pub dx: &'a Tensor,
    pub dgamma: &'a Tensor,
    pub dbeta: &'a Tensor,
}

/// How a training pass is split into dispatches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Passes {
    /// A per-channel reduction, then an elementwise pass over whole planes (many workgroups):
    /// GPUs, and any device that binds at most 8 storage buffers per stage.
    Split,
    /// One workgroup per channel does both, reading the channel's values again while they are
    /// cached: CPU adapters (llvmpipe, SwiftShader), where a dispatch costs far more and a GPU's
    /// parallelism is not there to lose. MobileNetV2 at batch 16 on lavapipe: 390 → about 310 ms
    /// of batch norm per step (`bench-step --profile`).
    PerChannel,
}

/// Whether the per-channel passes read and write four values at a time (their `4` entries): when a
/// plane holds a multiple of 4 values (all but MNIST's 7×7 layers).
fn vec4s(s: &BatchNormShape) -> bool {
    s.plane().is_multiple_of(4)
}

/// The passes `ctx` runs: per channel on a CPU adapter that binds 9 storage buffers per stage.
pub fn passes_for(ctx: &GpuContext) -> Passes {
    if ctx.is_software() && ctx.limits.max_storage_buffers_per_shader_stage >= 9 {
        Passes::PerChannel
    } else {
        Passes::Split
    }
}

/// The training forward as `passes`: `forward_train` and `forward_train_act` pick them for `ctx`.
#[allow(clippy::too_many_arguments)]
pub fn forward_train_with(ctx: &GpuContext, s: &BatchNormShape, t: &BnTensors, x: &Tensor, y: &Tensor, act: Option<Activation>, passes: Passes) -> Result<Vec<Dispatch>> {
    let per_channel: [(&str, &dyn Operand); 6] =
        [("gamma", t.gamma), ("beta", t.beta), ("running_mean", t.running_mean), ("running_var", t.running_var), ("mean", t.mean), ("inv_std", t.inv_std)];
    s.check(true, &[("x", x), ("y", y)], &per_channel)?;
    let stats_buffers = [(1, x), (6, t.running_mean), (7, t.running_var), (4, t.mean), (5, t.inv_std)];
    if passes == Passes::PerChannel {
        if vec4s(s) {
            let buffers = [(14, x), (6, t.running_mean), (7, t.running_var), (4, t.mean), (5, t.inv_std), (2, t.gamma), (3, t.beta), (16, y)];
            return Ok(vec![prepare(ctx, s, "train_channel4", act, &buffers, Grid::PerChannel)?]);
        }
        let buffers = [&stats_buffers[..], &[(2, t.gamma), (3, t.beta), (8, y)]].concat();
        return Ok(vec![prepare(ctx, s, "train_channel", act, &buffers, Grid::PerChannel)?]);
    }
    let stats = prepare(ctx, s, "train_stats", None, &stats_buffers, Grid::PerChannel)?;
    let normalize_buffers = [(1, x), (2, t.gamma), (3, t.beta), (4, t.mean), (5, t.inv_std), (8, y)];
    let normalize = prepare(ctx, s, "train_normalize", act, &normalize_buffers, Grid::PerPlanes)?;
    Ok(vec![stats, normalize])
}

/// Training forward: writes the batch `mean` and `inv_std` (saved for the backward), updates the
/// running statistics in place, and writes `y`.
pub fn forward_train(ctx: &GpuContext, s: &BatchNormShape, t: &BnTensors, x: &Tensor, y: &Tensor) -> Result<Vec<Dispatch>> {
    forward_train_with(ctx, s, t, x, y, None, passes_for(ctx))
}

/// `forward_train` followed by the activation `act`, fused: `y` = act(BN(x)).
pub fn forward_train_act(ctx: &GpuContext, s: &BatchNormShape, t: &BnTensors, x: &Tensor, y: &Tensor, act: Activation) -> Result<Vec<Dispatch>> {
    forward_train_with(ctx, s, t, x, y, Some(act), passes_for(ctx))
}

/// Evaluation forward: normalizes with the running statistics (one pass; a `Vec` like the others).
pub fn forward_eval(ctx: &GpuContext, s: &BatchNormShape, t: &BnTensors, x: &Tensor, y: &Tensor) -> Result<Vec<Dispatch>> {
    let per_channel: [(&str, &dyn Operand); 4] =
        [("gamma", t.gamma), ("beta", t.beta), ("running_mean", t.running_mean), ("running_var", t.running_var)];
    s.check(false, &[("x", x), ("y", y)], &per_channel)?;
    let buffers = [(1, x), (2, t.gamma), (3, t.beta), (6, t.running_mean), (7, t.running_var), (8, y)];
    Ok(vec![prepare(ctx, s, "eval_normalize", None, &buffers, Grid::PerPlanes)?])
}

/// Values per channel in the backward's coefficient buffer (the shader's `COEF`).
const COEF: usize = 8;

/// The training backward as `passes`; `act` is the fused activation, recomputed from `x` for its
/// mask. `backward` and `backward_act` pick the passes for `ctx`.
#[allow(clippy::too_many_arguments)]
pub fn backward_with(ctx: &GpuContext, s: &BatchNormShape, t: &BnTensors, x: &Tensor, act: Option<Activation>, dy: &Tensor, g: &BnGrads, passes: Passes) -> Result<Vec<Dispatch>> {
    let per_channel: [(&str, &dyn Operand); 6] =
        [("gamma", t.gamma), ("beta", t.beta), ("mean", t.mean), ("inv_std", t.inv_std), ("dgamma", g.dgamma), ("dbeta", g.dbeta)];
    s.check(true, &[("x", x), ("dy", dy), ("dx", g.dx)], &per_channel)?;
    let inputs = [(1, x), (9, dy), (2, t.gamma), (3, t.beta), (4, t.mean), (5, t.inv_std)];
    if passes == Passes::PerChannel {
        if vec4s(s) {
            let buffers = [(14, x), (15, dy), (2, t.gamma), (3, t.beta), (4, t.mean), (5, t.inv_std), (11, g.dgamma), (12, g.dbeta), (16, g.dx)];
            return Ok(vec![prepare(ctx, s, "backward_channel4", act, &buffers, Grid::PerChannel)?]);
        }
        let buffers = [&inputs[..], &[(11, g.dgamma), (12, g.dbeta), (8, g.dx)]].concat();
        return Ok(vec![prepare(ctx, s, "backward_channel", act, &buffers, Grid::PerChannel)?]);
    }
    // Per channel: the mask's and dx's coefficients and the parameter gradients (the dispatches
    // keep the buffer alive).
    let coef = ctx.zeros(format!("{} coef", g.dx.label), &[s.channels * COEF])?;
    let reduce_buffers = [&inputs[..], &[(13, &coef)]].concat();
    let reduce = prepare(ctx, s, "backward_reduce", act, &reduce_buffers, Grid::PerChannel)?;
    let dx_buffers = [(1, x), (9, dy), (13, &coef), (11, g.dgamma), (12, g.dbeta), (8, g.dx)];
    let dx_pass = prepare(ctx, s, "backward_dx", act, &dx_buffers, Grid::PerPlanes)?;
    Ok(vec![reduce, dx_pass])
}

/// Training backward through the batch statistics: writes `dx`, `dgamma` and `dbeta`. `t.mean` and
/// `t.inv_std` are the ones `forward_train` saved.
pub fn backward(ctx: &GpuContext, s: &BatchNormShape, t: &BnTensors, x: &Tensor, dy: &Tensor, g: &BnGrads) -> Result<Vec<Dispatch>> {
    backward_with(ctx, s, t, x, None, dy, g, passes_for(ctx))
}

/// The backward of `forward_train_act`: `dy` is the gradient at the activation's output, masked
/// where the activation is flat (its input is recomputed from `x` as the forward computed it).
pub fn backward_act(ctx: &GpuContext, s: &BatchNormShape, t: &BnTensors, x: &Tensor, dy: &Tensor, g: &BnGrads, act: Activation) -> Result<Vec<Dispatch>> {
    backward_with(ctx, s, t, x, Some(act), dy, g, passes_for(ctx))
}
