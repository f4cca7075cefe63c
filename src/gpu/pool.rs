//! Dispatches for shaders/pool.wgsl: global average pool and 2×2 stride-2 max / average pool,
//! forward and backward side by side. Each call checks the tensors against the `PoolShape` and
//! prepares one dispatch (one thread per output in forwards, per input element in backwards).

use super::context::grid;
use super::shaders::POOL;
use super::{Dispatch, GpuBuffer, GpuContext, Tensor};
use crate::ops::pool::{Pool, PoolShape};
use crate::Result;

const WG: u32 = 256;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    n: u32,
    height: u32,
    width: u32,
    out_h: u32,
    out_w: u32,
}

/// Prepares `entry` over `threads` threads with `inputs` at bindings 1, 2 and `out` at binding 3;
/// `out_hw` is the 2×2 pool's output height and width (unused by the global pool).
fn prepare(
    ctx: &GpuContext,
    s: &PoolShape,
    entry: &str,
    threads: usize,
    out_hw: (usize, usize),
    inputs: &[&Tensor],
    out: &Tensor,
) -> Result<Dispatch> {
    let params = Params {
        n: threads as u32,
        height: s.height as u32,
        width: s.width as u32,
        out_h: out_hw.0 as u32,
        out_w: out_hw.1 as u32,
    };
    let mut buffers: Vec<(u32, &GpuBuffer)> = inputs.iter().enumerate().map(|(i, t)| (i as u32 + 1, &t.buffer)).collect();
    buffers.push((3, &out.buffer));
    let pipeline = ctx.pipeline(&POOL, entry, &[])?;
    let label = format!("pool {entry} -> {}", out.label);
    ctx.dispatch(label, pipeline, bytemuck::bytes_of(&params), &buffers, grid((threads as u32).div_ceil(WG)))
}

/// y[n, c] = mean of x[n, c, :, :]; x is (N,C,H,W), y is (N,C).
pub fn global_avg_pool_forward(ctx: &GpuContext, s: &PoolShape, x: &Tensor, y: &Tensor) -> Result<Dispatch> {
    s.check(Pool::GlobalAvg, &[("x", x)], &[("y", y)])?;
    prepare(ctx, s, "global_avg_forward", s.planes(), (1, 1), &[x], y)
}

/// dx[n, c, h, w] = dy[n, c] / (H·W).
pub fn global_avg_pool_backward(ctx: &GpuContext, s: &PoolShape, dy: &Tensor, dx: &Tensor) -> Result<Dispatch> {
    s.check(Pool::GlobalAvg, &[("dx", dx)], &[("dy", dy)])?;
    prepare(ctx, s, "global_avg_backward", s.len(), (1, 1), &[dy], dx)
}

/// Output height and width of the max pool (floored) and the average pool (rounded up).
fn max_hw(s: &PoolShape) -> (usize, usize) {
    (s.out_height(), s.out_width())
}

fn avg_hw(s: &PoolShape) -> (usize, usize) {
    (s.avg_out_height(), s.avg_out_width())
}

/// 2×2 stride-2 max pool.
pub fn max_pool2_forward(ctx: &GpuContext, s: &PoolShape, x: &Tensor, y: &Tensor) -> Result<Dispatch> {
    s.check(Pool::Max2, &[("x", x)], &[("y", y)])?;
    prepare(ctx, s, "max2_forward", s.pooled2_len(), max_hw(s), &[x], y)
}

/// Routes dy to each window's first maximum, recomputed from x.
pub fn max_pool2_backward(ctx: &GpuContext, s: &PoolShape, x: &Tensor, dy: &Tensor, dx: &Tensor) -> Result<Dispatch> {
    s.check(Pool::Max2, &[("x", x), ("dx", dx)], &[("dy", dy)])?;
    prepare(ctx, s, "max2_backward", s.len(), max_hw(s), &[x, dy], dx)
}

/// 2×2 stride-2 average pool, ceil mode: an edge window clipped by an odd size averages what it has.
pub fn avg_pool2_forward(ctx: &GpuContext, s: &PoolShape, x: &Tensor, y: &Tensor) -> Result<Dispatch> {
    s.check(Pool::Avg2, &[("x", x)], &[("y", y)])?;
    prepare(ctx, s, "avg2_forward", s.avg_pooled2_len(), avg_hw(s), &[x], y)
}

/// Spreads dy over each window, evenly over the elements the window has.
pub fn avg_pool2_backward(ctx: &GpuContext, s: &PoolShape, dy: &Tensor, dx: &Tensor) -> Result<Dispatch> {
    s.check(Pool::Avg2, &[("dx", dx)], &[("dy", dy)])?;
    prepare(ctx, s, "avg2_backward", s.len(), avg_hw(s), &[dy], dx)
}
