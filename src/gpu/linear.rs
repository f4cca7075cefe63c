//! Dispatches for shaders/linear.wgsl and shaders/linear_tiled.wgsl: the fully connected layer's
//! forward pass and both backward passes, all as one strided product (see linear.wgsl's header for
//! the mapping), computed by the asked [`Variant`]: `Register` (a 4×4 block of C per thread in
//! registers) or `Tiled` (64×64 tiles of C, operands staged in workgroup memory). The three passes
//! share one product kernel, so one table of candidates (`PRODUCT`, `gpu::registry`) serves them
//! all. The bias gradient is linear.wgsl's `column_sum` for every variant.

use super::context::grid;
use super::registry::{available, everywhere, kernel, Candidate};
use super::shaders::{Shader, LINEAR, LINEAR_TILED};
use super::{Dispatch, GpuContext, Pass, Tensor, TuneShape, Variant};
use crate::ops::linear::LinearShape;
use crate::Result;

const WG: u32 = 64;
/// The tiled kernel's tile of C, per workgroup.
const TILE: u32 = 64;

/// The candidates of the three products: each variant's shader.
const PRODUCT: [Candidate<&Shader>; 2] = [
    Candidate { variant: Variant::Register, available: everywhere, kernel: &LINEAR },
    Candidate { variant: Variant::Tiled, available: everywhere, kernel: &LINEAR_TILED },
];

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

    /// Register: one thread per 4×4 block of C. Tiled: one workgroup per 64×64 tile of C.
    fn workgroups(&self, variant: Variant) -> [u32; 3] {
        if variant == Variant::Tiled {
            return grid(self.rows.div_ceil(TILE) * self.cols.div_ceil(TILE));
        }
        let tiles = self.rows.div_ceil(4) * self.cols.div_ceil(4);
        grid(tiles.div_ceil(WG))
    }
}

#[allow(clippy::too_many_arguments)]
fn product(
    ctx: &GpuContext,
    op: &'static str,
    variant: Variant,
    entry: &str,
    params: Product,
    a: &Tensor,
    b: &Tensor,
    bias: Option<&Tensor>,
    c: &Tensor,
) -> Result<Dispatch> {
    let shader = kernel(op, &PRODUCT, variant)?;
    let mut buffers = vec![(1, &a.buffer), (2, &b.buffer), (4, &c.buffer)];
    if let Some(bias) = bias {
        buffers.push((3, &bias.buffer));
    }
    let pipeline = ctx.pipeline(shader, entry, &[])?;
    let label = format!("linear {entry} [{variant}] -> {}", c.label);
    ctx.dispatch(label, pipeline, bytemuck::bytes_of(&params), &buffers, params.workgroups(variant))
}

/// The variants of the linear products; which is fastest is measured (`gpu::tune`).
pub fn variants(ctx: &GpuContext) -> Vec<Variant> {
    available(&PRODUCT, ctx)
}

/// y with the variant picked for this shape on this adapter; see [`forward_with`].
pub fn forward(ctx: &GpuContext, s: &LinearShape, x: &Tensor, w: &Tensor, b: &Tensor, y: &Tensor) -> Result<Dispatch> {
    forward_with(ctx, s, x, w, b, y, ctx.pick(Pass::LinearForward, &TuneShape::Linear(*s)))
}

/// y = x·Wᵀ + b, with x `[batch, in]`, W `[out, in]`, b `[out]`, y `[batch, out]`. `variant` is
/// `Register` or `Tiled` (others are an error).
pub fn forward_with(ctx: &GpuContext, s: &LinearShape, x: &Tensor, w: &Tensor, b: &Tensor, y: &Tensor, variant: Variant) -> Result<Dispatch> {
    const OP: &str = "linear forward";
    s.check(OP, &[("x", x), ("w", w), ("b", b), ("y", y)])?;
    let (k, m) = (s.in_features, s.out_features);
    let params = Product::new(s.batch, m, k, (k, 1), (k, 1));
    product(ctx, OP, variant, "product_bias", params, x, w, Some(b), y)
}

/// dx with the variant picked for this shape on this adapter; see [`backward_input_with`].
pub fn backward_input(ctx: &GpuContext, s: &LinearShape, dy: &Tensor, w: &Tensor, dx: &Tensor) -> Result<Dispatch> {
    backward_input_with(ctx, s, dy, w, dx, ctx.pick(Pass::LinearBackwardInput, &TuneShape::Linear(*s)))
}

/// dx = dy·W, with dy `[batch, out]` and dx `[batch, in]`. `variant` as for [`forward_with`].
pub fn backward_input_with(ctx: &GpuContext, s: &LinearShape, dy: &Tensor, w: &Tensor, dx: &Tensor, variant: Variant) -> Result<Dispatch> {
    const OP: &str = "linear backward_input";
    s.check(OP, &[("dy", dy), ("w", w), ("dx", dx)])?;
    let (k, m) = (s.in_features, s.out_features);
    // dx[n, i] = Σ_o dy[n, o] · W[o, i]: A = dy by rows, B(i, o) = W[o·in + i].
    let params = Product::new(s.batch, k, m, (m, 1), (1, k));
    product(ctx, OP, variant, "product", params, dy, w, None, dx)
}

/// dW and db with the variant picked for this shape on this adapter; see [`backward_params_with`].
pub fn backward_params(ctx: &GpuContext, s: &LinearShape, x: &Tensor, dy: &Tensor, dw: &Tensor, db: &Tensor) -> Result<Vec<Dispatch>> {
    backward_params_with(ctx, s, x, dy, dw, db, ctx.pick(Pass::LinearBackwardWeight, &TuneShape::Linear(*s)))
}

/// dW = dyᵀ·x (`[out, in]`) and db = Σ_n dy[n, :] (`[out]`); both overwrite their outputs.
/// `variant` picks dW's product (as for [`forward_with`]); db is `column_sum` for every variant.
pub fn backward_params_with(
    ctx: &GpuContext,
    s: &LinearShape,
    x: &Tensor,
    dy: &Tensor,
    dw: &Tensor,
    db: &Tensor,
    variant: Variant,
) -> Result<Vec<Dispatch>> {
    const OP: &str = "linear backward_params";
    s.check(OP, &[("x", x), ("dy", dy), ("dw", dw), ("db", db)])?;
    let (k, m) = (s.in_features, s.out_features);
    // dW[o, i] = Σ_n dy[n, o] · x[n, i]: A(o, n) = dy[n·out + o], B(i, n) = x[n·in + i].
    let weights = Product::new(m, k, s.batch, (1, m), (1, k));
    let dw_pass = product(ctx, OP, variant, "product", weights, dy, x, None, dw)?;
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
