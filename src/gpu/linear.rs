//! Dispatches for shaders/linear.wgsl: the fully connected layer's forward pass and both backward
//! passes, all as one register-blocked strided product (see the shader's header for the mapping).

use super::context::grid;
use super::shaders::LINEAR;
use super::{Dispatch, GpuContext, Tensor};
use crate::ops::linear::LinearShape;
use crate::Result;

const WG: u32 = 64;

/// The shader's `Params`: C[r, c] = Σ_k A(r, k) · B(c, k), with A(r, k) = a[r·a_row + k·a_k] and
/// B(c, k) = b[c·b_col + k·b_k].
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Product {
    rows: u32,
    cols: u32,
    depth: u32,
    a_row: u32,
    a_k: u32,
    b_col: u32,
    b_k: u32,
    _pad: u32,
}

impl Product {
    fn new(rows: usize, cols: usize, depth: usize, a: (usize, usize), b: (usize, usize)) -> Self {
        let u = |v: usize| v as u32;
        Product { rows: u(rows), cols: u(cols), depth: u(depth), a_row: u(a.0), a_k: u(a.1), b_col: u(b.0), b_k: u(b.1), _pad: 0 }
    }

    /// One thread per 4×4 block of C.
    fn workgroups(&self) -> [u32; 3] {
        let tiles = self.rows.div_ceil(4) * self.cols.div_ceil(4);
        grid(tiles.div_ceil(WG))
    }
}

fn product(ctx: &GpuContext, entry: &str, params: Product, a: &Tensor, b: &Tensor, bias: Option<&Tensor>, c: &Tensor) -> Result<Dispatch> {
    let mut buffers = vec![(1, &a.buffer), (2, &b.buffer), (4, &c.buffer)];
    if let Some(bias) = bias {
        buffers.push((3, &bias.buffer));
    }
    let pipeline = ctx.pipeline(&LINEAR, entry, &[])?;
    ctx.dispatch(format!("linear {entry} -> {}", c.label), pipeline, bytemuck::bytes_of(&params), &buffers, params.workgroups())
}

/// y = x·Wᵀ + b, with x `[batch, in]`, W `[out, in]`, b `[out]`, y `[batch, out]`.
pub fn forward(ctx: &GpuContext, s: &LinearShape, x: &Tensor, w: &Tensor, b: &Tensor, y: &Tensor) -> Result<Dispatch> {
    s.check("linear forward", &[("x", x), ("w", w), ("b", b), ("y", y)])?;
    let (k, m) = (s.in_features, s.out_features);
    let params = Product::new(s.batch, m, k, (k, 1), (k, 1));
    product(ctx, "product_bias", params, x, w, Some(b), y)
}

/// dx = dy·W, with dy `[batch, out]` and dx `[batch, in]`.
pub fn backward_input(ctx: &GpuContext, s: &LinearShape, dy: &Tensor, w: &Tensor, dx: &Tensor) -> Result<Dispatch> {
    s.check("linear backward_input", &[("dy", dy), ("w", w), ("dx", dx)])?;
    let (k, m) = (s.in_features, s.out_features);
    // dx[n, i] = Σ_o dy[n, o] · W[o, i]: A = dy by rows, B(i, o) = W[o·in + i].
    let params = Product::new(s.batch, k, m, (m, 1), (1, k));
    product(ctx, "product", params, dy, w, None, dx)
}

/// dW = dyᵀ·x (`[out, in]`) and db = Σ_n dy[n, :] (`[out]`); both overwrite their outputs.
pub fn backward_params(ctx: &GpuContext, s: &LinearShape, x: &Tensor, dy: &Tensor, dw: &Tensor, db: &Tensor) -> Result<Vec<Dispatch>> {
    s.check("linear backward_params", &[("x", x), ("dy", dy), ("dw", dw), ("db", db)])?;
    let (k, m) = (s.in_features, s.out_features);
    // dW[o, i] = Σ_n dy[n, o] · x[n, i]: A(o, n) = dy[n·out + o], B(i, n) = x[n·in + i].
    let weights = Product::new(m, k, s.batch, (1, m), (1, k));
    let dw_pass = product(ctx, "product", weights, dy, x, None, dw)?;
    // db[o] = Σ_n dy[n, o]: `column_sum` reads rows × cols = batch × out.
    let sums = Product::new(s.batch, m, 0, (0, 0), (0, 0));
    let pipeline = ctx.pipeline(&LINEAR, "column_sum", &[])?;
    let db_pass = ctx.dispatch(
        format!("linear column_sum -> {}", db.label),
        pipeline,
        bytemuck::bytes_of(&sums),
        &[(1, &dy.buffer), (4, &db.buffer)],
        grid((m as u32).div_ceil(WG)),
    )?;
    Ok(vec![dw_pass, db_pass])
}
