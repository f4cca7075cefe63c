//! Pooling (NCHW) on the CPU: global average pool, 2×2 stride-2 max pool and 2×2 stride-2 average
//! pool, forward and backward side by side. Odd sizes: the max pool floors them, the average pool
//! rounds up and averages clipped edge windows (see `ops::pool`). Max pool ties
//! go to the first maximum in row-major order within the window, as on the GPU.

use crate::ops::pool::{Pool, PoolShape};
use crate::Result;

/// (N,C,H,W) → (N,C): the mean of each plane.
pub fn global_avg_pool_forward(s: &PoolShape, x: &[f32]) -> Result<Vec<f32>> {
    s.check(Pool::GlobalAvg, &[("x", &x)], &[])?;
    let plane = s.height * s.width;
    Ok(x.chunks(plane).map(|p| p.iter().sum::<f32>() / plane as f32).collect())
}

/// dx = dy / (H·W), spread over each plane.
pub fn global_avg_pool_backward(s: &PoolShape, dy: &[f32]) -> Result<Vec<f32>> {
    s.check(Pool::GlobalAvg, &[], &[("dy", &dy)])?;
    let plane = s.height * s.width;
    Ok(dy.iter().flat_map(|&g| std::iter::repeat_n(g / plane as f32, plane)).collect())
}

/// Input indices of output `o`'s 2×2 window, in row-major order.
fn window(s: &PoolShape, o: usize) -> [usize; 4] {
    let (oh, ow) = (s.out_height(), s.out_width());
    let (plane, rest) = (o / (oh * ow), o % (oh * ow));
    let (y, x) = (2 * (rest / ow), 2 * (rest % ow));
    let top = (plane * s.height + y) * s.width + x;
    [top, top + 1, top + s.width, top + s.width + 1]
}

/// Index (into x) of the first maximum of output `o`'s window.
fn argmax(s: &PoolShape, x: &[f32], o: usize) -> usize {
    let w = window(s, o);
    w.into_iter().skip(1).fold(w[0], |best, i| if x[i] > x[best] { i } else { best })
}

/// 2×2 stride-2 max pool.
pub fn max_pool2_forward(s: &PoolShape, x: &[f32]) -> Result<Vec<f32>> {
    s.check(Pool::Max2, &[("x", &x)], &[])?;
    Ok((0..s.pooled2_len()).map(|o| x[argmax(s, x, o)]).collect())
}

/// Routes each output gradient to its window's (first) maximum; everything else gets 0.
pub fn max_pool2_backward(s: &PoolShape, x: &[f32], dy: &[f32]) -> Result<Vec<f32>> {
    s.check(Pool::Max2, &[("x", &x)], &[("dy", &dy)])?;
    let mut dx = vec![0.0; s.len()];
    for (o, &g) in dy.iter().enumerate() {
        dx[argmax(s, x, o)] = g;
    }
    Ok(dx)
}

/// Input indices of the average pool's (ceil-mode) output `o`: its window clipped to the input.
fn avg_window(s: &PoolShape, o: usize) -> Vec<usize> {
    let (oh, ow) = (s.avg_out_height(), s.avg_out_width());
    let (plane, rest) = (o / (oh * ow), o % (oh * ow));
    let (y0, x0) = (2 * (rest / ow), 2 * (rest % ow));
    let mut w = Vec::with_capacity(4);
    for y in y0..(y0 + 2).min(s.height) {
        for x in x0..(x0 + 2).min(s.width) {
            w.push((plane * s.height + y) * s.width + x);
        }
    }
    w
}

/// 2×2 stride-2 average pool, ceil mode: a window clipped by an odd size averages what it has.
pub fn avg_pool2_forward(s: &PoolShape, x: &[f32]) -> Result<Vec<f32>> {
    s.check(Pool::Avg2, &[("x", &x)], &[])?;
    Ok((0..s.avg_pooled2_len())
        .map(|o| {
            let w = avg_window(s, o);
            w.iter().map(|&i| x[i]).sum::<f32>() / w.len() as f32
        })
        .collect())
}

/// Spreads each output gradient evenly over its (clipped) window.
pub fn avg_pool2_backward(s: &PoolShape, dy: &[f32]) -> Result<Vec<f32>> {
    s.check(Pool::Avg2, &[], &[("dy", &dy)])?;
    let mut dx = vec![0.0; s.len()];
    for (o, &g) in dy.iter().enumerate() {
        let w = avg_window(s, o);
        for &i in &w {
            dx[i] = g / w.len() as f32;
        }
    }
    Ok(dx)
}
