//! Dispatches for shaders/conv2d_depthwise.wgsl: register-blocked kernels for convolutions with one
//! input channel per group (`conv2d::uses_direct_kernels`), the depthwise convolutions of
//! MobileNet-style networks. `Variant::Depthwise4x4` gives each thread 4 rows × 4 columns of one
//! channel, `Variant::Depthwise2x8` 2 rows × 8 columns (more parallel rows, a wider row window);
//! their weight gradient sums every tap of one channel per thread over a chunk of (n, oh) rows, 4
//! or 8 output columns at a time. conv2d.rs lists them beside the direct kernels in the depthwise
//! tables, and the picker times them per shape like the dense variants.
//!
//! The block, kernel size and stride are override constants (each combination is its own
//! pipeline): kernels up to 7×7 and strides up to 3; other shapes, and shapes that are not
//! depthwise, are an error.

use super::conv2d_common::{chunk_rows, register_workgroups, uses_direct_kernels, BackwardWeight, Block, Entry, Params};
use super::shaders::CONV2D_DEPTHWISE;
use super::{Dispatch, GpuContext, Tensor, Variant};
use crate::ops::conv2d::Conv2dShape;
use crate::{Error, Result};

const MAX_K: usize = 7;
const MAX_STRIDE: usize = 3;

/// The block of a depthwise variant: `ch` is the rows per thread, `px` the columns (the weight
/// gradient uses `px` only).
pub fn block(variant: Variant) -> Option<Block> {
    match variant {
        Variant::Depthwise4x4 => Some(Block { ch: 4, px: 4 }),
        Variant::Depthwise2x8 => Some(Block { ch: 2, px: 8 }),
        _ => None,
    }
}

fn entry(op: &'static str, name: &str, s: &Conv2dShape, variant: Variant) -> Result<(Entry, Block)> {
    let Some(block) = block(variant) else {
        return Err(Error::shape(op, format!("{variant} is not a depthwise variant")));
    };
    if !uses_direct_kernels(s) {
        return Err(Error::shape(op, "the depthwise kernels need one input channel per group"));
    }
    if s.kernel_h > MAX_K || s.kernel_w > MAX_K || s.stride == 0 || s.stride > MAX_STRIDE {
        return Err(Error::shape(op, format!("kernels up to {MAX_K}×{MAX_K} and strides up to {MAX_STRIDE} only, not {}×{} stride {}", s.kernel_h, s.kernel_w, s.stride)));
    }
    let constants = vec![
        ("PX", block.px as f64),
        ("PY", block.ch as f64),
        ("KH", s.kernel_h as f64),
        ("KW", s.kernel_w as f64),
        ("STRIDE", s.stride as f64),
    ];
    let name = match written_out(s, name) {
        None => name.into(),
        Some(suffix) if name == "backward_weight" => format!("{name}{suffix}_{}", block.px),
        Some(suffix) => format!("{name}{suffix}_{}x{}", block.ch, block.px),
    };
    Ok((Entry { op, tag: Some(variant.name()), shader: &CONV2D_DEPTHWISE, name, constants, vec4: false }, block))
}

/// Whether the three passes take conv2d_depthwise3.wgsl's written-out kernels
/// (shaders/depthwise3.py): 3×3, stride 1 or 2, one output channel per input channel, padding up
/// to 2. At stride 2 the input gradient needs an odd padding too (`written_out`).
pub fn unrolled_3x3(s: &Conv2dShape) -> bool {
    s.kernel_h == 3 && s.kernel_w == 3 && (s.stride == 1 || s.stride == 2) && s.out_channels_per_group() == 1 && s.padding <= 2
}

/// The suffix of `pass`'s written-out entry point for `s` ("3" at stride 1, "3s2" at stride 2), or
/// None where the general kernel serves it.
fn written_out(s: &Conv2dShape, pass: &str) -> Option<&'static str> {
    match (unrolled_3x3(s), s.stride) {
        (false, _) => None,
        (true, 1) => Some("3"),
        (true, _) if pass == "backward_input" && s.padding.is_multiple_of(2) => None,
        (true, _) => Some("3s2"),
    }
}

/// y = conv(x, w) for a depthwise shape (y overwritten).
pub fn forward(ctx: &GpuContext, s: &Conv2dShape, x: &Tensor, w: &Tensor, y: &Tensor, variant: Variant) -> Result<Dispatch> {
    let (entry, block) = entry("conv2d forward", "forward", s, variant)?;
    let mut p = Params::new(s);
    p.blocks_a = p.out_h.div_ceil(block.ch);
    p.blocks_b = p.out_w.div_ceil(block.px);
    let threads = s.batch * s.out_channels * (p.blocks_a * p.blocks_b) as usize;
    entry.dispatch(ctx, &p, [x, w], y, register_workgroups(threads))
}

/// dx for a depthwise shape (overwritten): blocks of pixels that share a stride phase, or, for the
/// written-out 3×3 kernels, blocks of neighbouring pixels.
pub fn backward_input(ctx: &GpuContext, s: &Conv2dShape, dy: &Tensor, w: &Tensor, dx: &Tensor, variant: Variant) -> Result<Dispatch> {
    let (entry, block) = entry("conv2d backward_input", "backward_input", s, variant)?;
    let mut p = Params::new(s);
    // The general kernel groups pixels by stride phase; the written-out ones take neighbours.
    let phases = if written_out(s, "backward_input").is_some() { 1 } else { p.stride };
    p.blocks_a = p.in_h.div_ceil(phases).div_ceil(block.ch);
    p.blocks_b = p.in_w.div_ceil(phases).div_ceil(block.px);
    let threads = s.batch * s.in_channels * (phases * phases * p.blocks_a * p.blocks_b) as usize;
    entry.dispatch(ctx, &p, [dy, w], dx, register_workgroups(threads))
}

/// dw for a depthwise shape (overwritten): one thread per output channel and chunk of rows, the
/// chunks' partial sums added up by conv2d.wgsl's `reduce_splits`.
pub fn backward_weight(ctx: &GpuContext, s: &Conv2dShape, x: &Tensor, dy: &Tensor, dw: &Tensor, variant: Variant) -> Result<BackwardWeight> {
    let (entry, _) = entry("conv2d backward_weight", "backward_weight", s, variant)?;
    let mut p = Params::new(s);
    let threads = chunk_rows(&mut p, s, s.out_channels);
    entry.weight_passes(ctx, s, &p, [x, dy], dw, register_workgroups(threads))
}
