//! Dispatches for shaders/pool.wgsl: global average pool and 2×2 stride-2 max / average pool,
//! forward and backward side by side. Each call checks the tensors against the `PoolShape` and
//! prepares one dispatch (one thread per output in forwards, per input element in backwards).

use super::context::grid;
use super::shaders::POOL;
use super::{Dispatch, GpuContext, Tensor};
use crate::ops::expect_len;
use crate::ops::pool::PoolShape;
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
    let mut buffers: Vec<(u32, &wgpu::Buffer)> = inputs.iter().enumerate().map(|(i, t)| (i as u32 + 1, &t.buffer)).collect();
    buffers.push((3, &out.buffer));
    let pipeline = ctx.pipeline(&POOL, entry, &[])?;
    let label = format!("pool {entry} -> {}", out.label);
    ctx.dispatch(label, pipeline, bytemuck::bytes_of(&params), &buffers, grid((threads as u32).div_ceil(WG)))
}

/// y[n, c] = mean of x[n, c, :, :]; x is (N,C,H,W), y is (N,C).
pub fn global_avg_pool_forward(ctx: &GpuContext, s: &PoolShape, x: &Tensor, y: &Tensor) -> Result<Dispatch> {
    s.validate()?;
    expect_len("global_avg_pool", &x.label, x.len(), s.len())?;
    expect_len("global_avg_pool", &y.label, y.len(), s.planes())?;
    prepare(ctx, s, "global_avg_forward", s.planes(), (1, 1), &[x], y)
}

/// dx[n, c, h, w] = dy[n, c] / (H·W).
pub fn global_avg_pool_backward(ctx: &GpuContext, s: &PoolShape, dy: &Tensor, dx: &Tensor) -> Result<Dispatch> {
    s.validate()?;
    expect_len("global_avg_pool", &dy.label, dy.len(), s.planes())?;
    expect_len("global_avg_pool", &dx.label, dx.len(), s.len())?;
    prepare(ctx, s, "global_avg_backward", s.len(), (1, 1), &[dy], dx)
}

/// Checks a 2×2 pool's full-size tensor (x or dx) and pooled tensor (y or dy, `pooled_len` long).
fn check_pool2(op: &'static str, s: &PoolShape, full: &Tensor, pooled: &Tensor, pooled_len: usize) -> Result<()> {
    s.validate_pool2()?;
    expect_len(op, &full.label, full.len(), s.len())?;
    expect_len(op, &pooled.label, pooled.len(), pooled_len)
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
    check_pool2("max_pool2", s, x, y, s.pooled2_len())?;
    prepare(ctx, s, "max2_forward", s.pooled2_len(), max_hw(s), &[x], y)
}

/// Routes dy to each window's first maximum, recomputed from x.
pub fn max_pool2_backward(ctx: &GpuContext, s: &PoolShape, x: &Tensor, dy: &Tensor, dx: &Tensor) -> Result<Dispatch> {
    check_pool2("max_pool2", s, x, dy, s.pooled2_len())?;
    expect_len("max_pool2", &dx.label, dx.len(), s.len())?;
    prepare(ctx, s, "max2_backward", s.len(), max_hw(s), &[x, dy], dx)
}

/// 2×2 stride-2 average pool, ceil mode: an edge window clipped by an odd size averages what it has.
pub fn avg_pool2_forward(ctx: &GpuContext, s: &PoolShape, x: &Tensor, y: &Tensor) -> Result<Dispatch> {
    check_pool2("avg_pool2", s, x, y, s.avg_pooled2_len())?;
    prepare(ctx, s, "avg2_forward", s.avg_pooled2_len(), avg_hw(s), &[x], y)
}

/// Spreads dy over each window, evenly over the elements the window has.
pub fn avg_pool2_backward(ctx: &GpuContext, s: &PoolShape, dy: &Tensor, dx: &Tensor) -> Result<Dispatch> {
    check_pool2("avg_pool2", s, dx, dy, s.avg_pooled2_len())?;
    prepare(ctx, s, "avg2_backward", s.len(), avg_hw(s), &[dy], dx)
}
