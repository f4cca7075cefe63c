//! Dispatches for shaders/conv2d_wide.wgsl (`Variant::Wide`): the convolution's three passes with a
//! larger register block per thread than conv2d.rs's 4×4, for CPU-emulated adapters where every
//! load is a gather. The block shape, the kernel width and the stride are the shader's override
//! constants, so each (pass, block, kernel width, stride) is its own pipeline, compiled once.
//!
//! Depthwise shapes (`conv2d::uses_direct_kernels`) are not handled here: they are an error.

use super::conv2d::{self, BackwardWeight, Params};
use super::context::grid;
use super::shaders::{Shader, CONV2D, CONV2D_WIDE};
use super::{Dispatch, GpuContext, Tensor};
use crate::ops::conv2d::Conv2dShape;
use crate::{Error, Result};

const WG: u32 = 64;
/// The shader's array bounds: channels and pixels per thread, and the row window.
const MAX_CH: u32 = 8;
const MAX_PX: u32 = 8;
const MAX_WIN: u32 = 32;

/// A thread's block: `ch` channels × `px` pixels (or weight taps, for the weight gradient).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Block {
    pub ch: u32,
    pub px: u32,
}

/// The blocks measured fastest on lavapipe (2 cores, Mesa 22.3, ResNet-20 3×3 shapes at batch 8,
/// interleaved medians; 8×4, 4×8 and 8×8 tried): 4×8 for every pass, 1.1–1.3× the 4×4 Register
/// kernels, except the input gradient at 64->64 @8 and at stride 2, where Register stays faster.
/// 8×8 was slowest everywhere (its 64 accumulators spill).
pub const FORWARD_BLOCK: Block = Block { ch: 4, px: 8 };
pub const BACKWARD_INPUT_BLOCK: Block = Block { ch: 4, px: 8 };
pub const BACKWARD_WEIGHT_BLOCK: Block = Block { ch: 4, px: 8 };

/// The override constants of one pipeline.
fn constants(block: Block, s: &Conv2dShape) -> [(&'static str, f64); 4] {
    [("CH", block.ch as f64), ("PX", block.px as f64), ("KW", s.kernel_w as f64), ("STRIDE", s.stride as f64)]
}

pub(crate) fn check(op: &'static str, s: &Conv2dShape, block: Block, window: u32) -> Result<()> {
    if conv2d::uses_direct_kernels(s) {
        return Err(Error::shape(op, "depthwise convolutions use conv2d's direct kernels, not the wide ones"));
    }
    if block.ch == 0 || block.ch > MAX_CH || block.px == 0 || block.px > MAX_PX {
        return Err(Error::shape(op, format!("block {block:?} is outside 1..={MAX_CH} channels × 1..={MAX_PX} pixels")));
    }
    if window > MAX_WIN {
        return Err(Error::shape(op, format!("a row window of {window} values is more than the kernel's {MAX_WIN}")));
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn prepare(
    ctx: &GpuContext,
    shader: &'static Shader,
    op: &'static str,
    entry: &str,
    params: &Params,
    constants: &[(&str, f64)],
    inputs: [&Tensor; 2],
    out: &Tensor,
    threads: usize,
) -> Result<Dispatch> {
    let groups = u32::try_from(threads.div_ceil(WG as usize))
        .map_err(|_| Error::shape(op, format!("{threads} threads are more than one dispatch can launch")))?;
    let pipeline = ctx.pipeline(shader, entry, constants)?;
    let buffers = [(1, &inputs[0].buffer), (2, &inputs[1].buffer), (3, &out.buffer)];
    ctx.dispatch(format!("{op} -> {}", out.label), pipeline, bytemuck::bytes_of(params), &buffers, grid(groups))
}

/// y = conv(x, w), as `conv2d::forward` (y overwritten).
pub fn forward(ctx: &GpuContext, s: &Conv2dShape, x: &Tensor, w: &Tensor, y: &Tensor) -> Result<Dispatch> {
    forward_blocked(ctx, s, x, w, y, FORWARD_BLOCK)
}

/// [`forward`] with a chosen block (for measuring).
pub fn forward_blocked(ctx: &GpuContext, s: &Conv2dShape, x: &Tensor, w: &Tensor, y: &Tensor, block: Block) -> Result<Dispatch> {
    const OP: &str = "conv2d wide forward";
    s.check_forward(x, w, Some(y))?;
    let (p, threads) = forward_params(s, block);
    check(OP, s, block, (block.px - 1) * p.stride + p.k_w)?;
    prepare(ctx, &CONV2D_WIDE, OP, "forward", &p, &constants(block, s), [x, w], y, threads)
}

/// The forward's parameters and thread count for `block` (shared with conv2d_subgroup.rs).
pub(crate) fn forward_params(s: &Conv2dShape, block: Block) -> (Params, usize) {
    let mut p = Params::new(s);
    p.blocks_a = p.cout_g.div_ceil(block.ch);
    p.blocks_b = p.out_w.div_ceil(block.px);
    let threads = (s.batch * s.out_h()) * p.blocks_b as usize * s.groups * p.blocks_a as usize;
    (p, threads)
}

/// dx, as `conv2d::backward_input` (overwritten, not accumulated).
pub fn backward_input(ctx: &GpuContext, s: &Conv2dShape, dy: &Tensor, w: &Tensor, dx: &Tensor) -> Result<Dispatch> {
    backward_input_blocked(ctx, s, dy, w, dx, BACKWARD_INPUT_BLOCK)
}

/// [`backward_input`] with a chosen block (for measuring).
pub fn backward_input_blocked(ctx: &GpuContext, s: &Conv2dShape, dy: &Tensor, w: &Tensor, dx: &Tensor, block: Block) -> Result<Dispatch> {
    const OP: &str = "conv2d wide backward_input";
    s.check_backward_input(dy, w, Some(dx))?;
    let (p, threads) = backward_input_params(s, block);
    check(OP, s, block, block.px + p.k_w.div_ceil(p.stride) - 1)?;
    prepare(ctx, &CONV2D_WIDE, OP, "backward_input", &p, &constants(block, s), [dy, w], dx, threads)
}

/// The input gradient's parameters and thread count: per row and stride phase, blocks of `px`
/// input columns that are `stride` apart.
pub(crate) fn backward_input_params(s: &Conv2dShape, block: Block) -> (Params, usize) {
    let mut p = Params::new(s);
    p.blocks_a = p.cin_g.div_ceil(block.ch);
    p.blocks_b = p.in_w.div_ceil(p.stride).div_ceil(block.px);
    let threads = (s.batch * s.in_h * s.stride) * p.blocks_b as usize * s.groups * p.blocks_a as usize;
    (p, threads)
}

/// dw, as `conv2d::backward_weight` (overwritten, not accumulated; the scratch tensor is made here).
pub fn backward_weight(ctx: &GpuContext, s: &Conv2dShape, x: &Tensor, dy: &Tensor, dw: &Tensor) -> Result<BackwardWeight> {
    backward_weight_blocked(ctx, s, x, dy, dw, BACKWARD_WEIGHT_BLOCK)
}

/// [`backward_weight`] with a chosen block: `ch` output channels × `px` weight taps.
pub fn backward_weight_blocked(ctx: &GpuContext, s: &Conv2dShape, x: &Tensor, dy: &Tensor, dw: &Tensor, block: Block) -> Result<BackwardWeight> {
    const OP: &str = "conv2d wide backward_weight";
    s.check_backward_weight(x, dy, Some(dw))?;
    check(OP, s, block, 0)?;
    backward_weight_passes(ctx, &CONV2D_WIDE, OP, s, x, dy, dw, block)
}

/// The weight gradient's chunked partial sums (from `shader`'s `backward_weight`, whose thread is
/// `block.ch` output channels × `block.px` taps) and, with more than one chunk, conv2d.wgsl's
/// `reduce_splits`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn backward_weight_passes(
    ctx: &GpuContext,
    shader: &'static Shader,
    op: &'static str,
    s: &Conv2dShape,
    x: &Tensor,
    dy: &Tensor,
    dw: &Tensor,
    block: Block,
) -> Result<BackwardWeight> {
    let mut p = Params::new(s);
    p.blocks_a = p.cout_g.div_ceil(block.ch);
    p.blocks_b = (s.in_channels_per_group() * s.kernel_h * s.kernel_w).div_ceil(block.px as usize) as u32;
    let threads_per_chunk = s.groups * (p.blocks_a * p.blocks_b) as usize;
    let rows_per_chunk = conv2d::weight_grad_rows_per_chunk(s, threads_per_chunk);
    let splits = (s.batch * s.out_h()).div_ceil(rows_per_chunk);
    p.rows_per_chunk = rows_per_chunk as u32;
    p.splits = splits as u32;
    let constants = constants(block, s);
    let threads = threads_per_chunk * splits;
    if splits == 1 {
        let pass = prepare(ctx, shader, op, "backward_weight", &p, &constants, [x, dy], dw, threads)?;
        return Ok(BackwardWeight { passes: vec![pass], scratch: None });
    }
    let scratch = ctx.zeros(format!("{} partial sums", dw.label), &[splits, s.weight_len()])?;
    let partial = prepare(ctx, shader, op, "backward_weight", &p, &constants, [x, dy], &scratch, threads)?;
    let reduce = {
        let pipeline = ctx.pipeline(&CONV2D, "reduce_splits", &[])?;
        let buffers = [(1, &scratch.buffer), (3, &dw.buffer)];
        let groups = (s.weight_len() as u32).div_ceil(WG);
        ctx.dispatch(format!("{op} reduce -> {}", dw.label), pipeline, bytemuck::bytes_of(&p), &buffers, grid(groups))?
    };
    Ok(BackwardWeight { passes: vec![partial, reduce], scratch: Some(scratch) })
}
