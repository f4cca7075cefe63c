//! Dispatch for shaders/sgd.wgsl: one SGD-with-momentum update of a parameter tensor in place. The
//! learning rate lives in a 1-element tensor (`ctx.write` it each step); everything else is fixed
//! when the dispatch is built.

use super::context::grid;
use super::shaders::SGD;
use super::{Dispatch, GpuContext, Tensor};
use crate::ops::expect_len;
use crate::ops::sgd::SgdParams;
use crate::Result;

const WG: u32 = 256;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    len: u32,
    momentum: f32,
    weight_decay: f32,
    nesterov: u32,
}

/// Updates `w` and `velocity` in place from `grad`, with the learning rate read from `lr` (a tensor of one value).
pub fn step(ctx: &GpuContext, p: &SgdParams, lr: &Tensor, w: &Tensor, grad: &Tensor, velocity: &Tensor) -> Result<Dispatch> {
    p.check(w, grad, velocity)?;
    expect_len("sgd", &lr.label, lr.len(), 1)?;
    let params = Params { len: p.len as u32, momentum: p.momentum, weight_decay: p.weight_decay, nesterov: u32::from(p.nesterov) };
    ctx.dispatch(
        format!("sgd step {}", w.label),
        ctx.pipeline(&SGD, "step", &[])?,
        bytemuck::bytes_of(&params),
        &[(1, &lr.buffer), (2, &grad.buffer), (3, &w.buffer), (4, &velocity.buffer)],
        grid(params.len.div_ceil(WG)),
    )
}
