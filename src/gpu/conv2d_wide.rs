//! Dispatches for shaders/conv2d_wide.wgsl (`Variant::Wide`): the convolution's three passes with a
//! larger register block per thread than conv2d.rs's 4×4, for CPU-emulated adapters where every
//! load is a gather. The block shape, the kernel width and the stride are the shader's override
//! constants, so each (pass, block, kernel width, stride) is its own pipeline, compiled once.
//!
//! Depthwise shapes (`conv2d::uses_direct_kernels`) are not handled here (they have variants of
//! their own): they are an error.

use super::conv2d_common::{backward_input_params, backward_weight_params, forward_params, register_workgroups, uses_direct_kernels, BackwardWeight, Entry};
use super::shaders::{Shader, CONV2D_WIDE};
use super::{Dispatch, GpuContext, Tensor};
use crate::ops::conv2d::Conv2dShape;
use crate::{Error, Result};

pub use super::conv2d_common::Block;

/// The shader's array bounds: channels and pixels per thread, and the row window.
const MAX_CH: u32 = 8;
const MAX_PX: u32 = 8;
const MAX_WIN: u32 = 32;

/// The blocks measured fastest on lavapipe (2 cores, Mesa 22.3, ResNet-20 3×3 shapes at batch 8,
/// interleaved medians; 8×4, 4×8 and 8×8 tried): 4×8 for every pass, 1.1–1.3× the 4×4 Register
/// kernels, except the input gradient at 64->64 @8 and at stride 2, where Register stays faster.
/// 8×8 was slowest everywhere (its 64 accumulators spill).
pub const FORWARD_BLOCK: Block = Block { ch: 4, px: 8 };
pub const BACKWARD_INPUT_BLOCK: Block = Block { ch: 4, px: 8 };
pub const BACKWARD_WEIGHT_BLOCK: Block = Block { ch: 4, px: 8 };

/// `shader`'s entry point `name` for `block` on `s` (the block shape, kernel width and stride are
/// its override constants), after checking that the shape and the block (with a row window of
/// `window` values) fit the kernel.
pub(crate) fn entry(op: &'static str, shader: &'static Shader, name: &str, s: &Conv2dShape, block: Block, window: u32) -> Result<Entry> {
    if uses_direct_kernels(s) {
        return Err(Error::shape(op, "depthwise convolutions use conv2d's depthwise kernels, not the wide ones"));
    }
    if block.ch == 0 || block.ch > MAX_CH || block.px == 0 || block.px > MAX_PX {
        return Err(Error::shape(op, format!("block {block:?} is outside 1..={MAX_CH} channels × 1..={MAX_PX} pixels")));
    }
    if window > MAX_WIN {
        return Err(Error::shape(op, format!("a row window of {window} values is more than the kernel's {MAX_WIN}")));
    }
    let constants = vec![("CH", block.ch as f64), ("PX", block.px as f64), ("KW", s.kernel_w as f64), ("STRIDE", s.stride as f64)];
    Ok(Entry { op, tag: None, shader, name: name.into(), constants, vec4: false })
}

/// The forward's row window: the input columns one thread's `block.px` outputs read.
pub(crate) fn forward_window(s: &Conv2dShape, block: Block) -> u32 {
    (block.px - 1) * s.stride as u32 + s.kernel_w as u32
}

/// y = conv(x, w), as `conv2d::forward` (y overwritten).
pub fn forward(ctx: &GpuContext, s: &Conv2dShape, x: &Tensor, w: &Tensor, y: &Tensor) -> Result<Dispatch> {
    forward_blocked(ctx, s, x, w, y, FORWARD_BLOCK)
}

/// [`forward`] with a chosen block (for measuring).
pub fn forward_blocked(ctx: &GpuContext, s: &Conv2dShape, x: &Tensor, w: &Tensor, y: &Tensor, block: Block) -> Result<Dispatch> {
    s.check_forward(x, w, Some(y))?;
    let (p, threads) = forward_params(s, block);
    let entry = entry("conv2d wide forward", &CONV2D_WIDE, "forward", s, block, forward_window(s, block))?;
    entry.dispatch(ctx, &p, [x, w], y, register_workgroups(threads))
}

/// dx, as `conv2d::backward_input` (overwritten, not accumulated).
pub fn backward_input(ctx: &GpuContext, s: &Conv2dShape, dy: &Tensor, w: &Tensor, dx: &Tensor) -> Result<Dispatch> {
    backward_input_blocked(ctx, s, dy, w, dx, BACKWARD_INPUT_BLOCK)
}

/// [`backward_input`] with a chosen block (for measuring).
pub fn backward_input_blocked(ctx: &GpuContext, s: &Conv2dShape, dy: &Tensor, w: &Tensor, dx: &Tensor, block: Block) -> Result<Dispatch> {
    s.check_backward_input(dy, w, Some(dx))?;
    let (p, threads) = backward_input_params(s, block);
    let window = block.px + p.k_w.div_ceil(p.stride) - 1;
    let entry = entry("conv2d wide backward_input", &CONV2D_WIDE, "backward_input", s, block, window)?;
    entry.dispatch(ctx, &p, [dy, w], dx, register_workgroups(threads))
}

/// dw, as `conv2d::backward_weight` (overwritten, not accumulated; the scratch tensor is made here).
pub fn backward_weight(ctx: &GpuContext, s: &Conv2dShape, x: &Tensor, dy: &Tensor, dw: &Tensor) -> Result<BackwardWeight> {
    backward_weight_blocked(ctx, s, x, dy, dw, BACKWARD_WEIGHT_BLOCK)
}

/// [`backward_weight`] with a chosen block: `ch` output channels × `px` weight taps.
pub fn backward_weight_blocked(ctx: &GpuContext, s: &Conv2dShape, x: &Tensor, dy: &Tensor, dw: &Tensor, block: Block) -> Result<BackwardWeight> {
    s.check_backward_weight(x, dy, Some(dw))?;
    let entry = entry("conv2d wide backward_weight", &CONV2D_WIDE, "backward_weight", s, block, 0)?;
    let (p, threads) = backward_weight_params(s, block);
    entry.weight_passes(ctx, s, &p, [x, dy], dw, register_workgroups(threads))
}
