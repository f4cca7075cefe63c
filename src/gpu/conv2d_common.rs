//! What the convolution's kernel variants share on the Rust side, as shaders/conv2d_common.wgsl is
//! their shared prelude: the shader's `Params`, how a thread block of output channels × pixels (or
//! weight taps) maps onto a pass's threads, the weight gradient's chunking into partial sums, and
//! preparing a dispatch (with the partial sums' reduction) of any of their entry points.

use bytemuck::{Pod, Zeroable};

use super::context::grid;
use super::shaders::{Shader, CONV2D};
use super::{Dispatch, GpuContext, Tensor};
use crate::ops::conv2d::Conv2dShape;
use crate::{Error, Result};

/// Threads per workgroup of every kernel but the tiled ones.
pub(crate) const WG: u32 = 64;
/// Threads the weight-gradient pass aims for: enough to fill a real GPU, and few enough chunks
/// that the scratch tensor and the reduce pass stay small.
pub(crate) const WEIGHT_GRAD_THREADS: usize = 16384;
/// Each weight-gradient thread sums at least this many (n, oh, ow) terms.
pub(crate) const WEIGHT_GRAD_MIN_TERMS: usize = 256;

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

/// True for depthwise shapes (several groups of one input channel each, where a block of 4
/// channels would mostly be padding): they use their own variants, the direct kernels (one output
/// per thread) and conv2d_depthwise.rs's blocked ones, not the dense ones.
pub fn uses_direct_kernels(s: &Conv2dShape) -> bool {
    s.groups > 1 && s.in_channels_per_group() == 1
}

/// A thread's block: `ch` channels × `px` pixels (or weight taps, for the weight gradient).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Block {
    pub ch: u32,
    pub px: u32,
}

/// The forward's parameters and thread count when each thread computes `block` (output channels
/// × output columns of one row).
pub(crate) fn forward_params(s: &Conv2dShape, block: Block) -> (Params, usize) {
    let mut p = Params::new(s);
    p.blocks_a = p.cout_g.div_ceil(block.ch);
    p.blocks_b = p.out_w.div_ceil(block.px);
    let threads = (s.batch * s.out_h()) * p.blocks_b as usize * s.groups * p.blocks_a as usize;
    (p, threads)
}

/// The input gradient's parameters and thread count: per row and stride phase, blocks of
/// `block.px` input columns that are `stride` apart, times `block.ch` input channels.
pub(crate) fn backward_input_params(s: &Conv2dShape, block: Block) -> (Params, usize) {
    let mut p = Params::new(s);
    p.blocks_a = p.cin_g.div_ceil(block.ch);
    p.blocks_b = p.in_w.div_ceil(p.stride).div_ceil(block.px);
    let threads = (s.batch * s.in_h * s.stride) * p.blocks_b as usize * s.groups * p.blocks_a as usize;
    (p, threads)
}

/// The weight gradient's parameters and thread count when each thread sums `block` (output
/// channels × weight taps) over one chunk of (n, oh) rows.
pub(crate) fn backward_weight_params(s: &Conv2dShape, block: Block) -> (Params, usize) {
    let mut p = Params::new(s);
    p.blocks_a = p.cout_g.div_ceil(block.ch);
    p.blocks_b = (s.in_channels_per_group() * s.kernel_h * s.kernel_w).div_ceil(block.px as usize) as u32;
    let threads_per_chunk = s.groups * (p.blocks_a * p.blocks_b) as usize;
    let threads = chunk_rows(&mut p, s, threads_per_chunk);
    (p, threads)
}

/// How many (n, oh) rows each weight-gradient chunk sums, for `threads_per_chunk` threads per chunk.
pub(crate) fn weight_grad_rows_per_chunk(s: &Conv2dShape, threads_per_chunk: usize) -> usize {
    let rows = s.batch * s.out_h();
    let min_rows = WEIGHT_GRAD_MIN_TERMS.div_ceil(s.out_w());
    let max_splits = rows.div_ceil(min_rows).max(1);
    let splits = WEIGHT_GRAD_THREADS.div_ceil(threads_per_chunk).clamp(1, max_splits);
    rows.div_ceil(splits)
}

/// Splits the weight gradient's batch·OH rows into chunks for `threads_per_chunk` threads each
/// (sets `rows_per_chunk` and `splits`); returns the threads of all chunks.
pub(crate) fn chunk_rows(p: &mut Params, s: &Conv2dShape, threads_per_chunk: usize) -> usize {
    let rows_per_chunk = weight_grad_rows_per_chunk(s, threads_per_chunk);
    let splits = (s.batch * s.out_h()).div_ceil(rows_per_chunk);
    p.rows_per_chunk = rows_per_chunk as u32;
    p.splits = splits as u32;
    threads_per_chunk * splits
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

/// One entry point of a convolution shader with its override constants. Its dispatches are
/// labelled "{op} [{tag}] -> {out}" (without a tag: "{op} -> {out}"), so a validation error or a
/// profile names the pass and the variant.
pub(crate) struct Entry {
    pub op: &'static str,
    pub tag: Option<&'static str>,
    pub shader: &'static Shader,
    pub name: String,
    pub constants: Vec<(&'static str, f64)>,
    /// The entry reads its inputs and writes its output as vec4 arrays: bindings 4, 5 and 6
    /// (conv2d_pointwise.wgsl) instead of 1, 2 and 3.
    pub vec4: bool,
}

impl Entry {
    /// An entry without override constants, tagged with its variant (or "direct").
    pub fn tagged(op: &'static str, tag: &'static str, shader: &'static Shader, name: impl Into<String>) -> Entry {
        Entry { op, tag: Some(tag), shader, name: name.into(), constants: vec![], vec4: false }
    }

    /// The same entry binding its buffers as vec4 arrays (see `vec4`).
    pub fn with_vec4s(self) -> Entry {
        Entry { vec4: true, ..self }
    }

    fn label(&self, what: &str, out: &Tensor) -> String {
        match self.tag {
            Some(tag) => format!("{}{what} [{tag}] -> {}", self.op, out.label),
            None => format!("{}{what} -> {}", self.op, out.label),
        }
    }

    /// One dispatch of `workgroups` workgroups reading `inputs` (bindings 1 and 2, or 4 and 5) and
    /// writing `out` (binding 3, or 6).
    pub fn dispatch(&self, ctx: &GpuContext, p: &Params, inputs: [&Tensor; 2], out: &Tensor, workgroups: usize) -> Result<Dispatch> {
        let groups = u32::try_from(workgroups)
            .map_err(|_| Error::shape(self.op, format!("{workgroups} workgroups are more than one dispatch can launch")))?;
        let pipeline = ctx.pipeline(self.shader, &self.name, &self.constants)?;
        let first = if self.vec4 { 4 } else { 1 };
        let buffers = [(first, &inputs[0].buffer), (first + 1, &inputs[1].buffer), (first + 2, &out.buffer)];
        ctx.dispatch(self.label("", out), pipeline, bytemuck::bytes_of(p), &buffers, grid(groups))
    }

    /// The weight gradient in `p.splits` chunks of `workgroups` workgroups in all: with one chunk
    /// this entry writes `dw` directly; with more it writes partial sums into a scratch tensor
    /// (made here, once) that conv2d.wgsl's `reduce_splits` adds up into `dw`.
    pub fn weight_passes(&self, ctx: &GpuContext, s: &Conv2dShape, p: &Params, inputs: [&Tensor; 2], dw: &Tensor, workgroups: usize) -> Result<BackwardWeight> {
        let splits = p.splits as usize;
        if splits == 1 {
            let pass = self.dispatch(ctx, p, inputs, dw, workgroups)?;
            return Ok(BackwardWeight { passes: vec![pass], scratch: None });
        }
        let scratch = ctx.zeros(format!("{} partial sums", dw.label), &[splits, s.weight_len()])?;
        let partial = self.dispatch(ctx, p, inputs, &scratch, workgroups)?;
        let pipeline = ctx.pipeline(&CONV2D, "reduce_splits", &[])?;
        let buffers = [(1, &scratch.buffer), (3, &dw.buffer)];
        let groups = (s.weight_len() as u32).div_ceil(WG);
        let reduce = ctx.dispatch(self.label(" reduce", dw), pipeline, bytemuck::bytes_of(p), &buffers, grid(groups))?;
        Ok(BackwardWeight { passes: vec![partial, reduce], scratch: Some(scratch) })
    }
}

/// Workgroups of the register and direct kernels for `threads` threads.
pub(crate) fn register_workgroups(threads: usize) -> usize {
    threads.div_ceil(WG as usize)
}
