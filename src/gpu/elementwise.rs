//! Dispatches for shaders/elementwise.wgsl: ReLU, ReLU6, the residual add, copies and `acc += x`.

use super::context::grid;
use super::shaders::ELEMENTWISE;
use super::{Dispatch, GpuBuffer, GpuContext, Tensor};
use crate::ops::expect_len;
use crate::Result;

const WG: u32 = 256;

fn unary(ctx: &GpuContext, op: &'static str, entry: &str, inputs: &[&Tensor], out: &Tensor) -> Result<Dispatch> {
    let n = out.len();
    for t in inputs {
        expect_len(op, &t.label, t.len(), n)?;
    }
    let n32 = n as u32;
    let mut buffers: Vec<(u32, &GpuBuffer)> = inputs.iter().enumerate().map(|(i, t)| (i as u32 + 1, &t.buffer)).collect();
    buffers.push((3, &out.buffer));
    let pipeline = ctx.pipeline(&ELEMENTWISE, entry, &[])?;
    ctx.dispatch(format!("{entry} -> {}", out.label), pipeline, bytemuck::bytes_of(&n32), &buffers, grid(n32.div_ceil(WG)))
}

/// y = max(x, 0)
pub fn relu_forward(ctx: &GpuContext, x: &Tensor, y: &Tensor) -> Result<Dispatch> {
    unary(ctx, "relu_forward", "relu_forward", &[x], y)
}

/// dx = dy where y > 0
pub fn relu_backward(ctx: &GpuContext, y: &Tensor, dy: &Tensor, dx: &Tensor) -> Result<Dispatch> {
    unary(ctx, "relu_backward", "relu_backward", &[y, dy], dx)
}

/// y = min(max(x, 0), 6)
pub fn relu6_forward(ctx: &GpuContext, x: &Tensor, y: &Tensor) -> Result<Dispatch> {
    unary(ctx, "relu6_forward", "relu6_forward", &[x], y)
}

/// dx = dy where 0 < y < 6
pub fn relu6_backward(ctx: &GpuContext, y: &Tensor, dy: &Tensor, dx: &Tensor) -> Result<Dispatch> {
    unary(ctx, "relu6_backward", "relu6_backward", &[y, dy], dx)
}

/// y = a + b
pub fn add(ctx: &GpuContext, a: &Tensor, b: &Tensor, y: &Tensor) -> Result<Dispatch> {
    unary(ctx, "add", "add", &[a, b], y)
}

/// acc += x
pub fn add_assign(ctx: &GpuContext, acc: &Tensor, x: &Tensor) -> Result<Dispatch> {
    unary(ctx, "add_assign", "add_assign", &[x], acc)
}

/// y = x
pub fn copy(ctx: &GpuContext, x: &Tensor, y: &Tensor) -> Result<Dispatch> {
    unary(ctx, "copy", "copy", &[x], y)
}
