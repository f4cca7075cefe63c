//! Dispatches for shaders/conv2d_subgroup.wgsl (`Variant::Subgroup`): the convolution forward with
//! the weights loaded by four lanes of a subgroup and broadcast to the rest, on adapters that offer
//! `wgpu::Features::SUBGROUP` (lavapipe does: Mesa 22.3, subgroups of 8). Without the feature every
//! function here is an error, and the shader is never compiled.
//!
//! Only the forward shares loads; the two backward passes are conv2d_wide.rs's kernels (see the
//! notes there and in the commit that measured them). Depthwise shapes are an error, as in
//! conv2d_wide.rs.

use super::conv2d_common::{forward_params, register_workgroups, BackwardWeight, Block};
use super::conv2d_wide;
use super::shaders::CONV2D_SUBGROUP;
use super::{Dispatch, GpuContext, Tensor};
use crate::ops::conv2d::Conv2dShape;
use crate::{Error, Result};

/// The forward's block: 4 or 8 channels (one or two broadcasts from four lanes). 8×4 measured
/// fastest on lavapipe: 1.4–2.0× Register's forward at ResNet-20 shapes, batch 8 (4×8: 1.2–1.6×,
/// 8×8: about 1×).
pub const FORWARD_BLOCK: Block = Block { ch: 8, px: 4 };

/// True where the device can run this variant.
pub fn supported(ctx: &GpuContext) -> bool {
    ctx.features.contains(wgpu::Features::SUBGROUP)
}

fn require(ctx: &GpuContext, op: &'static str) -> Result<()> {
    if supported(ctx) {
        Ok(())
    } else {
        Err(Error::shape(op, format!("the subgroup kernels need the `subgroups` feature, which {} does not offer", ctx.describe())))
    }
}

/// y = conv(x, w), as `conv2d::forward` (y overwritten).
pub fn forward(ctx: &GpuContext, s: &Conv2dShape, x: &Tensor, w: &Tensor, y: &Tensor) -> Result<Dispatch> {
    forward_blocked(ctx, s, x, w, y, FORWARD_BLOCK)
}

/// [`forward`] with a chosen block (for measuring): `ch` is 4 or 8.
pub fn forward_blocked(ctx: &GpuContext, s: &Conv2dShape, x: &Tensor, w: &Tensor, y: &Tensor, block: Block) -> Result<Dispatch> {
    const OP: &str = "conv2d subgroup forward";
    require(ctx, OP)?;
    s.check_forward(x, w, Some(y))?;
    if block.ch != 4 && block.ch != 8 {
        return Err(Error::shape(OP, format!("block {block:?}: the subgroup kernel shares 4 or 8 channels")));
    }
    // The same checks (depthwise, block and window bounds) and constants as the wide kernel,
    // which it extends.
    let entry = conv2d_wide::entry(OP, &CONV2D_SUBGROUP, "forward", s, block, conv2d_wide::forward_window(s, block))?;
    let (p, threads) = forward_params(s, block);
    entry.dispatch(ctx, &p, [x, w], y, register_workgroups(threads))
}

/// dx: conv2d_wide's kernel (nothing shared yet); an error without the `subgroups` feature, like
/// the rest of this variant.
pub fn backward_input(ctx: &GpuContext, s: &Conv2dShape, dy: &Tensor, w: &Tensor, dx: &Tensor) -> Result<Dispatch> {
    require(ctx, "conv2d subgroup backward_input")?;
    conv2d_wide::backward_input(ctx, s, dy, w, dx)
}

/// dw: conv2d_wide's kernel (nothing shared yet).
pub fn backward_weight(ctx: &GpuContext, s: &Conv2dShape, x: &Tensor, dy: &Tensor, dw: &Tensor) -> Result<BackwardWeight> {
    require(ctx, "conv2d subgroup backward_weight")?;
    conv2d_wide::backward_weight(ctx, s, x, dy, dw)
}
