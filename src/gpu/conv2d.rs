//! Dispatches for shaders/conv2d.wgsl and shaders/conv2d_tiled.wgsl: the convolution's forward and
//! its two backward passes, plus an NHWC forward kept for the layout measurement (see DESIGN.md
//! "Tensor layout").
//!
//! Convolutions with one input channel per group and more than one group (depthwise) use direct
//! kernels, whatever variant is asked for; all others use implicit-GEMM kernels of the asked
//! [`Variant`]: `Register` (conv2d.wgsl, a 4×4 block per thread in registers) or `Tiled`
//! (conv2d_tiled.wgsl, 64×64 tiles staged in workgroup memory). The weight gradient sums over
//! batch × output pixels, so it is split into chunks written to a scratch tensor and then summed by
//! a second pass; `backward_weight_with` returns a [`BackwardWeight`] that owns that scratch tensor
//! and both dispatches (one dispatch and no scratch when a single chunk already gives enough work).

use bytemuck::{Pod, Zeroable};

use super::context::grid;
use super::shaders::{Shader, CONV2D, CONV2D_BLOCKED, CONV2D_TILED};
use super::tune::conv_key;
use super::{conv2d_subgroup, conv2d_wide, Dispatch, GpuContext, Pass, Tensor, Variant};
use crate::ops::conv2d::Conv2dShape;
use crate::{Error, Result};

const WG: u32 = 64;
/// Threads the weight-gradient pass aims for: enough to fill a real GPU, and few enough chunks
/// that the scratch tensor and the reduce pass stay small.
const WEIGHT_GRAD_THREADS: usize = 16384;
/// Each weight-gradient thread sums at least this many (n, oh, ow) terms.
const WEIGHT_GRAD_MIN_TERMS: usize = 256;

/// The tiled kernels: threads per workgroup, the edge of the output tile each workgroup computes,
/// and the K elements staged per step (a weight-gradient chunk is a multiple of it).
const TILED_WG: usize = 256;
const TILE: usize = 64;
const TILE_K: usize = 16;

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

/// The variants built for the convolution's passes.
const BUILT: [Variant; 2] = [Variant::Register, Variant::Tiled];

/// The shader file of a built variant, or an error naming the pass for one not built yet.
fn shader_for(op: &'static str, variant: Variant) -> Result<&'static Shader> {
    match variant {
        Variant::Register => Ok(&CONV2D),
        Variant::Tiled => Ok(&CONV2D_TILED),
        other => {
            let built: Vec<&str> = BUILT.iter().map(|v| v.name()).collect();
            Err(Error::shape(op, format!("the {other} variant is not built for this pass (built: {})", built.join(", "))))
        }
    }
}

/// Prepares one dispatch of `workgroups` workgroups, labelled "{op} [{tag}] -> {out}" where the tag
/// names the variant (or "direct" for the depthwise kernels).
#[allow(clippy::too_many_arguments)]
fn prepare(
    ctx: &GpuContext,
    op: &'static str,
    tag: &str,
    shader: &'static Shader,
    entry: &str,
    params: &Params,
    inputs: [&Tensor; 2],
    out: &Tensor,
    workgroups: usize,
) -> Result<Dispatch> {
    let groups = u32::try_from(workgroups)
        .map_err(|_| Error::shape(op, format!("{workgroups} workgroups are more than one dispatch can launch")))?;
    let pipeline = ctx.pipeline(shader, entry, &[])?;
    let buffers = [(1, &inputs[0].buffer), (2, &inputs[1].buffer), (3, &out.buffer)];
    ctx.dispatch(format!("{op} [{tag}] -> {}", out.label), pipeline, bytemuck::bytes_of(params), &buffers, grid(groups))
}

/// Workgroups of the register and direct kernels for `threads` threads.
fn register_workgroups(threads: usize) -> usize {
    threads.div_ceil(WG as usize)
}

/// Tiled kernels: `p.blocks_a` × `p.blocks_b` tiles of 64 over M × N, per group; returns the
/// workgroups of one chunk.
fn set_tiles(p: &mut Params, m: usize, n: usize) -> usize {
    p.blocks_a = m.div_ceil(TILE) as u32;
    p.blocks_b = n.div_ceil(TILE) as u32;
    (p.groups * p.blocks_a * p.blocks_b) as usize
}

/// The block of a conv2d_blocked.wgsl variant: (channels, pixels or taps, entry suffix).
fn blocked(variant: Variant) -> (u32, u32, &'static str) {
    match variant {
        Variant::Register16x8 => (16, 8, "16x8"),
        _ => (8, 8, "8x8"),
    }
}

/// The variants of the convolution's passes this adapter can run (the subgroup one only where the
/// device has subgroups); which is fastest is measured (`gpu::tune`).
pub fn variants(ctx: &GpuContext) -> Vec<Variant> {
    let mut v = vec![Variant::Register, Variant::Register8x8, Variant::Register16x8, Variant::Wide, Variant::Tiled];
    if conv2d_subgroup::supported(ctx) {
        v.push(Variant::Subgroup);
    }
    v
}

/// y = conv(x, w) with the variant picked for this shape on this adapter; see [`forward_with`].
pub fn forward(ctx: &GpuContext, s: &Conv2dShape, x: &Tensor, w: &Tensor, y: &Tensor) -> Result<Dispatch> {
    forward_with(ctx, s, x, w, y, ctx.pick(Pass::ConvForward, &conv_key(s)))
}

/// y = conv(x, w). x `[N, C_in, H, W]`, w `[C_out, C_in/groups, KH, KW]`, y `[N, C_out, OH, OW]`
/// (overwritten). `variant` is `Register` or `Tiled` (others are an error); depthwise shapes use
/// the direct kernel for every variant.
pub fn forward_with(ctx: &GpuContext, s: &Conv2dShape, x: &Tensor, w: &Tensor, y: &Tensor, variant: Variant) -> Result<Dispatch> {
    const OP: &str = "conv2d forward";
    s.check_forward(x, w, Some(y))?;
    let mut p = Params::new(s);
    if uses_direct_kernels(s) {
        return prepare(ctx, OP, "direct", &CONV2D, "depthwise_forward", &p, [x, w], y, register_workgroups(s.output_len()));
    }
    match variant {
        Variant::Wide => return conv2d_wide::forward(ctx, s, x, w, y),
        Variant::Subgroup => return conv2d_subgroup::forward(ctx, s, x, w, y),
        Variant::Register8x8 | Variant::Register16x8 => {
            let (c, px, suffix) = blocked(variant);
            p.blocks_a = p.cout_g.div_ceil(c);
            p.blocks_b = p.out_w.div_ceil(px);
            let threads = (s.batch * s.out_h()) * p.blocks_b as usize * s.groups * p.blocks_a as usize;
            let entry = format!("forward{suffix}");
            return prepare(ctx, OP, variant.name(), &CONV2D_BLOCKED, &entry, &p, [x, w], y, register_workgroups(threads));
        }
        Variant::Register | Variant::Tiled => {}
    }
    let shader = shader_for(OP, variant)?;
    let workgroups = if variant == Variant::Tiled {
        set_tiles(&mut p, s.out_channels_per_group(), s.batch * s.out_h() * s.out_w())
    } else {
        p.blocks_a = p.cout_g.div_ceil(4);
        p.blocks_b = p.out_w.div_ceil(4);
        register_workgroups((s.batch * s.out_h()) * p.blocks_b as usize * s.groups * p.blocks_a as usize)
    };
    prepare(ctx, OP, variant.name(), shader, "forward", &p, [x, w], y, workgroups)
}

/// dx with the variant picked for this shape on this adapter; see [`backward_input_with`].
pub fn backward_input(ctx: &GpuContext, s: &Conv2dShape, dy: &Tensor, w: &Tensor, dx: &Tensor) -> Result<Dispatch> {
    backward_input_with(ctx, s, dy, w, dx, ctx.pick(Pass::ConvBackwardInput, &conv_key(s)))
}

/// dx = the gradient of the loss with respect to x, given dy and w (overwritten, not accumulated).
/// `variant` as for [`forward_with`].
pub fn backward_input_with(ctx: &GpuContext, s: &Conv2dShape, dy: &Tensor, w: &Tensor, dx: &Tensor, variant: Variant) -> Result<Dispatch> {
    const OP: &str = "conv2d backward_input";
    s.check_backward_input(dy, w, Some(dx))?;
    let mut p = Params::new(s);
    if uses_direct_kernels(s) {
        return prepare(ctx, OP, "direct", &CONV2D, "depthwise_backward_input", &p, [dy, w], dx, register_workgroups(s.input_len()));
    }
    match variant {
        Variant::Wide => return conv2d_wide::backward_input(ctx, s, dy, w, dx),
        Variant::Subgroup => return conv2d_subgroup::backward_input(ctx, s, dy, w, dx),
        Variant::Register8x8 | Variant::Register16x8 => {
            let (c, px, suffix) = blocked(variant);
            p.blocks_a = p.cin_g.div_ceil(c);
            p.blocks_b = p.in_w.div_ceil(p.stride).div_ceil(px);
            let threads = (s.batch * s.in_h * s.stride) * p.blocks_b as usize * s.groups * p.blocks_a as usize;
            let entry = format!("backward_input{suffix}");
            return prepare(ctx, OP, variant.name(), &CONV2D_BLOCKED, &entry, &p, [dy, w], dx, register_workgroups(threads));
        }
        Variant::Register | Variant::Tiled => {}
    }
    let shader = shader_for(OP, variant)?;
    let workgroups = if variant == Variant::Tiled {
        set_tiles(&mut p, s.in_channels_per_group(), s.batch * s.in_h * s.in_w)
    } else {
        // Per row and stride phase, blocks of 4 input columns that are `stride` apart.
        p.blocks_a = p.cin_g.div_ceil(4);
        p.blocks_b = p.in_w.div_ceil(p.stride).div_ceil(4);
        register_workgroups((s.batch * s.in_h * s.stride) * p.blocks_b as usize * s.groups * p.blocks_a as usize)
    };
    prepare(ctx, OP, variant.name(), shader, "backward_input", &p, [dy, w], dx, workgroups)
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

/// The tiled weight gradient: how many of the batch·OH·OW terms each chunk sums (a multiple of the
/// staging step), for `workgroups_per_chunk` workgroups per chunk. Aims for the same number of
/// threads as the register kernel, with at least `WEIGHT_GRAD_MIN_TERMS` terms per chunk.
fn weight_grad_terms_per_chunk(s: &Conv2dShape, workgroups_per_chunk: usize) -> usize {
    let terms = s.batch * s.out_h() * s.out_w();
    let max_splits = terms.div_ceil(WEIGHT_GRAD_MIN_TERMS).max(1);
    let splits = (WEIGHT_GRAD_THREADS / TILED_WG).div_ceil(workgroups_per_chunk).clamp(1, max_splits);
    terms.div_ceil(splits).div_ceil(TILE_K) * TILE_K
}

/// dw with the variant picked for this shape on this adapter; see [`backward_weight_with`].
pub fn backward_weight(ctx: &GpuContext, s: &Conv2dShape, x: &Tensor, dy: &Tensor, dw: &Tensor) -> Result<BackwardWeight> {
    backward_weight_with(ctx, s, x, dy, dw, ctx.pick(Pass::ConvBackwardWeight, &conv_key(s)))
}

/// dw = the gradient of the loss with respect to w, given x and dy (overwritten, not accumulated).
/// Allocates its scratch tensor here, once; the returned passes can be recorded every step.
/// `variant` as for [`forward_with`]; the partial sums of either variant are added up by
/// conv2d.wgsl's `reduce_splits`.
pub fn backward_weight_with(ctx: &GpuContext, s: &Conv2dShape, x: &Tensor, dy: &Tensor, dw: &Tensor, variant: Variant) -> Result<BackwardWeight> {
    const OP: &str = "conv2d backward_weight";
    s.check_backward_weight(x, dy, Some(dw))?;
    let mut p = Params::new(s);
    let direct = uses_direct_kernels(s);
    if !direct {
        match variant {
            Variant::Wide => return conv2d_wide::backward_weight(ctx, s, x, dy, dw),
            Variant::Subgroup => return conv2d_subgroup::backward_weight(ctx, s, x, dy, dw),
            Variant::Register | Variant::Register8x8 | Variant::Register16x8 | Variant::Tiled => {}
        }
    }
    let blocked_variant = matches!(variant, Variant::Register8x8 | Variant::Register16x8);
    let (shader, tag, entry) = if direct {
        (&CONV2D, "direct", "depthwise_backward_weight".to_string())
    } else if blocked_variant {
        (&CONV2D_BLOCKED, variant.name(), format!("backward_weight{}", blocked(variant).2))
    } else {
        (shader_for(OP, variant)?, variant.name(), "backward_weight".to_string())
    };
    // Chunks of the batch·OH·OW reduction: `rows_per_chunk` counts (n, oh) rows for the register
    // and direct kernels, (n, oh, ow) terms for the tiled one.
    let (splits, workgroups) = if direct || variant == Variant::Register || blocked_variant {
        let threads_per_chunk = if direct {
            s.weight_len()
        } else {
            let (c, taps, _) = if blocked_variant { blocked(variant) } else { (4, 4, "") };
            p.blocks_a = p.cout_g.div_ceil(c);
            p.blocks_b = (s.in_channels_per_group() * s.kernel_h * s.kernel_w).div_ceil(taps as usize) as u32;
            s.groups * (p.blocks_a * p.blocks_b) as usize
        };
        let rows_per_chunk = weight_grad_rows_per_chunk(s, threads_per_chunk);
        p.rows_per_chunk = rows_per_chunk as u32;
        let splits = (s.batch * s.out_h()).div_ceil(rows_per_chunk);
        (splits, register_workgroups(threads_per_chunk * splits))
    } else {
        let per_chunk = set_tiles(&mut p, s.out_channels_per_group(), s.in_channels_per_group() * s.kernel_h * s.kernel_w);
        let terms_per_chunk = weight_grad_terms_per_chunk(s, per_chunk);
        p.rows_per_chunk = terms_per_chunk as u32;
        let splits = (s.batch * s.out_h() * s.out_w()).div_ceil(terms_per_chunk);
        (splits, per_chunk * splits)
    };
    p.splits = splits as u32;
    if splits == 1 {
        let pass = prepare(ctx, OP, tag, shader, &entry, &p, [x, dy], dw, workgroups)?;
        return Ok(BackwardWeight { passes: vec![pass], scratch: None });
    }
    let scratch = ctx.zeros(format!("{} partial sums", dw.label), &[splits, s.weight_len()])?;
    let partial = prepare(ctx, OP, tag, shader, &entry, &p, [x, dy], &scratch, workgroups)?;
    let reduce = {
        let pipeline = ctx.pipeline(&CONV2D, "reduce_splits", &[])?;
        let buffers = [(1, &scratch.buffer), (3, &dw.buffer)];
        let groups = (s.weight_len() as u32).div_ceil(WG);
        ctx.dispatch(format!("{OP} reduce [{tag}] -> {}", dw.label), pipeline, bytemuck::bytes_of(&p), &buffers, grid(groups))?
    };
    Ok(BackwardWeight { passes: vec![partial, reduce], scratch: Some(scratch) })
}

/// The NHWC forward used for the layout measurement (groups = 1 only): x `[N, H, W, C_in]`,
/// w `[KH, KW, C_in, C_out]`, y `[N, OH, OW, C_out]` (overwritten). Same register blocking as
/// [`forward`]; there is no tiled NHWC kernel.
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
    prepare(ctx, OP, Variant::Register.name(), &CONV2D, "forward_nhwc", &p, [x, w], y, register_workgroups(threads))
}
