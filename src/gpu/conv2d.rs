//! Dispatches for shaders/conv2d.wgsl: the convolution's forward and its two backward passes, plus
//! an NHWC forward kept for the layout measurement (see DESIGN.md "Tensor layout").
//!
//! Convolutions with one input channel per group and more than one group (depthwise) use direct
//! kernels; all others use the register-blocked implicit-GEMM kernels. The weight gradient sums over
//! batch × output rows, so it is split into chunks written to a scratch tensor and then summed by a
//! second pass; `backward_weight` returns a [`BackwardWeight`] that owns that scratch tensor and
//! both dispatches (one dispatch and no scratch when a single chunk already gives enough threads).

use bytemuck::{Pod, Zeroable};

use super::context::grid;
use super::shaders::CONV2D;
use super::{Dispatch, GpuContext, Tensor};
use crate::ops::conv2d::Conv2dShape;
use crate::{Error, Result};

const WG: u32 = 64;
/// Threads the weight-gradient pass aims for: enough to fill a real GPU, and few enough chunks
/// that the scratch tensor and the reduce pass stay small.
const WEIGHT_GRAD_THREADS: usize = 16384;
/// Each weight-gradient thread sums at least this many (n, oh, ow) terms.
const WEIGHT_GRAD_MIN_TERMS: usize = 256;

/// Mirrors `Params` in the shader.
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
pub(crate) struct Params {
    pub(crate) batch: u32,
    pub(crate) in_c: u32,
    pub(crate) in_h: u32,
    pub(crate) in_w: u32,
    pub(crate) out_c: u32,
    pub(crate) out_h: u32,
    pub(crate) out_w: u32,
    pub(crate) groups: u32,
    pub(crate) k_h: u32,
    pub(crate) k_w: u32,
    pub(crate) stride: u32,
    pub(crate) pad: u32,
    pub(crate) cin_g: u32,
    pub(crate) cout_g: u32,
    pub(crate) blocks_a: u32,
    pub(crate) blocks_b: u32,
    pub(crate) rows_per_chunk: u32,
    pub(crate) splits: u32,
    pub(crate) len: u32,
    _pad: u32,
}

impl Params {
    pub(crate) fn new(s: &Conv2dShape) -> Self {
        let u = |v: usize| v as u32;
        Params {
            batch: u(s.batch),
            in_c: u(s.in_channels),
            in_h: u(s.in_h),
            in_w: u(s.in_w),
            out_c: u(s.out_channels),
            out_h: u(s.out_h()),
            out_w: u(s.out_w()),
            groups: u(s.groups),
            k_h: u(s.kernel_h),
            k_w: u(s.kernel_w),
            stride: u(s.stride),
            pad: u(s.padding),
            cin_g: u(s.in_channels_per_group()),
            cout_g: u(s.out_channels_per_group()),
            blocks_a: 0,
            blocks_b: 0,
            rows_per_chunk: 0,
            splits: 1,
            len: u(s.weight_len()),
            _pad: 0,
        }
    }
}

/// True where the direct (one output per thread) kernels are used: several groups of one input
/// channel each, where a block of 4 channels would mostly be padding.
pub fn uses_direct_kernels(s: &Conv2dShape) -> bool {
    s.groups > 1 && s.in_channels_per_group() == 1
}

fn prepare(
    ctx: &GpuContext,
    op: &'static str,
    entry: &str,
    params: &Params,
    inputs: [&Tensor; 2],
    out: &Tensor,
    threads: usize,
) -> Result<Dispatch> {
    let groups = u32::try_from(threads.div_ceil(WG as usize))
        .map_err(|_| Error::shape(op, format!("{threads} threads are more than one dispatch can launch")))?;
    let pipeline = ctx.pipeline(&CONV2D, entry, &[])?;
    let buffers = [(1, &inputs[0].buffer), (2, &inputs[1].buffer), (3, &out.buffer)];
    ctx.dispatch(format!("{op} -> {}", out.label), pipeline, bytemuck::bytes_of(params), &buffers, grid(groups))
}

/// y = conv(x, w). x `[N, C_in, H, W]`, w `[C_out, C_in/groups, KH, KW]`, y `[N, C_out, OH, OW]`
/// (overwritten).
pub fn forward(ctx: &GpuContext, s: &Conv2dShape, x: &Tensor, w: &Tensor, y: &Tensor) -> Result<Dispatch> {
    const OP: &str = "conv2d forward";
    s.check_forward(x, w, Some(y))?;
    let mut p = Params::new(s);
    if uses_direct_kernels(s) {
        return prepare(ctx, OP, "depthwise_forward", &p, [x, w], y, s.output_len());
    }
    p.blocks_a = p.cout_g.div_ceil(4);
    p.blocks_b = p.out_w.div_ceil(4);
    let threads = (s.batch * s.out_h()) * p.blocks_b as usize * s.groups * p.blocks_a as usize;
    prepare(ctx, OP, "forward", &p, [x, w], y, threads)
}

/// dx = the gradient of the loss with respect to x, given dy and w (overwritten, not accumulated).
pub fn backward_input(ctx: &GpuContext, s: &Conv2dShape, dy: &Tensor, w: &Tensor, dx: &Tensor) -> Result<Dispatch> {
    const OP: &str = "conv2d backward_input";
    s.check_backward_input(dy, w, Some(dx))?;
    let mut p = Params::new(s);
    if uses_direct_kernels(s) {
        return prepare(ctx, OP, "depthwise_backward_input", &p, [dy, w], dx, s.input_len());
    }
    // Per row and stride phase, blocks of 4 input columns that are `stride` apart.
    p.blocks_a = p.cin_g.div_ceil(4);
    p.blocks_b = p.in_w.div_ceil(p.stride).div_ceil(4);
    let threads = (s.batch * s.in_h * s.stride) * p.blocks_b as usize * s.groups * p.blocks_a as usize;
    prepare(ctx, OP, "backward_input", &p, [dy, w], dx, threads)
}

/// The weight gradient's passes: the chunked partial sums, then (when there is more than one
/// chunk) their reduction into dw. Record them in order with [`BackwardWeight::dispatches`].
pub struct BackwardWeight {
    pub passes: Vec<Dispatch>,
    /// `[splits, weight_len]` partial sums; `None` when one chunk writes dw directly.
    pub scratch: Option<Tensor>,
}

impl BackwardWeight {
    pub fn dispatches(&self) -> Vec<&Dispatch> {
        self.passes.iter().collect()
    }
    /// How many chunks the batch·rows reduction is split into.
    pub fn splits(&self) -> usize {
        self.scratch.as_ref().map_or(1, |t| t.shape[0])
    }
}

/// How many (n, oh) rows each weight-gradient chunk sums, for `threads_per_chunk` threads per chunk.
pub(crate) fn weight_grad_rows_per_chunk(s: &Conv2dShape, threads_per_chunk: usize) -> usize {
    let rows = s.batch * s.out_h();
    let min_rows = WEIGHT_GRAD_MIN_TERMS.div_ceil(s.out_w());
    let max_splits = rows.div_ceil(min_rows).max(1);
    let splits = WEIGHT_GRAD_THREADS.div_ceil(threads_per_chunk).clamp(1, max_splits);
    rows.div_ceil(splits)
}

/// dw = the gradient of the loss with respect to w, given x and dy (overwritten, not accumulated).
/// Allocates its scratch tensor here, once; the returned passes can be recorded every step.
pub fn backward_weight(ctx: &GpuContext, s: &Conv2dShape, x: &Tensor, dy: &Tensor, dw: &Tensor) -> Result<BackwardWeight> {
    const OP: &str = "conv2d backward_weight";
    s.check_backward_weight(x, dy, Some(dw))?;
    let mut p = Params::new(s);
    let direct = uses_direct_kernels(s);
    let threads_per_chunk = if direct {
        s.weight_len()
    } else {
        p.blocks_a = p.cout_g.div_ceil(4);
        p.blocks_b = (s.in_channels_per_group() * s.kernel_h * s.kernel_w).div_ceil(4) as u32;
        s.groups * (p.blocks_a * p.blocks_b) as usize
    };
    let rows_per_chunk = weight_grad_rows_per_chunk(s, threads_per_chunk);
    let splits = (s.batch * s.out_h()).div_ceil(rows_per_chunk);
    p.rows_per_chunk = rows_per_chunk as u32;
    p.splits = splits as u32;
    let entry = if direct { "depthwise_backward_weight" } else { "backward_weight" };
    let threads = threads_per_chunk * splits;
    if splits == 1 {
        let pass = prepare(ctx, OP, entry, &p, [x, dy], dw, threads)?;
        return Ok(BackwardWeight { passes: vec![pass], scratch: None });
    }
    let scratch = ctx.zeros(format!("{} partial sums", dw.label), &[splits, s.weight_len()])?;
    let partial = prepare(ctx, OP, entry, &p, [x, dy], &scratch, threads)?;
    let reduce = {
        let pipeline = ctx.pipeline(&CONV2D, "reduce_splits", &[])?;
        let buffers = [(1, &scratch.buffer), (3, &dw.buffer)];
        let groups = (s.weight_len() as u32).div_ceil(WG);
        ctx.dispatch(format!("{OP} reduce -> {}", dw.label), pipeline, bytemuck::bytes_of(&p), &buffers, grid(groups))?
    };
    Ok(BackwardWeight { passes: vec![partial, reduce], scratch: Some(scratch) })
}

/// The NHWC forward used for the layout measurement (groups = 1 only): x `[N, H, W, C_in]`,
/// w `[KH, KW, C_in, C_out]`, y `[N, OH, OW, C_out]` (overwritten). Same register blocking as
/// [`forward`].
pub fn forward_nhwc(ctx: &GpuContext, s: &Conv2dShape, x: &Tensor, w: &Tensor, y: &Tensor) -> Result<Dispatch> {
    const OP: &str = "conv2d forward_nhwc";
    s.check_forward(x, w, Some(y))?;
    if s.groups != 1 {
        return Err(Error::shape(OP, format!("the NHWC kernel supports groups = 1 only, not {}", s.groups)));
    }
    let mut p = Params::new(s);
    p.blocks_a = p.out_c.div_ceil(4);
    p.blocks_b = p.out_w.div_ceil(4);
    let threads = (s.batch * s.out_h()) * p.blocks_b as usize * p.blocks_a as usize;
    prepare(ctx, OP, "forward_nhwc", &p, [x, w], y, threads)
}
