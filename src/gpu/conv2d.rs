//! Dispatches for the convolution's forward and its two backward passes, plus an NHWC forward kept
//! for the layout measurement (see DESIGN.md "Tensor layout").
//!
//! Convolutions with one input channel per group and more than one group (depthwise) have tables
//! of their own (`DEPTHWISE_FORWARD`, ...): the direct kernels (conv2d.wgsl, `Variant::Direct`)
//! and conv2d_depthwise.rs's register-blocked ones; asked for a dense variant (as before any pick),
//! a depthwise shape takes the direct kernels. All others use implicit-GEMM kernels of
//! the asked [`Variant`], looked up in the pass's table of candidates (`FORWARD`, `BACKWARD_INPUT`,
//! `BACKWARD_WEIGHT`; `gpu::registry`): `Register` (conv2d.wgsl, a 4×4 block per thread in
//! registers), `Register8x8` / `Register16x8` / `Register16x16` (conv2d_blocked.wgsl), `Tiled` (conv2d_tiled.wgsl,
//! 64×64 tiles staged in workgroup memory), `Wide` (conv2d_wide.rs) and `Subgroup`
//! (conv2d_subgroup.rs, where the adapter has subgroups). The weight gradient sums over batch ×
//! output pixels, so it is split into chunks written to a scratch tensor and then summed by a
//! second pass; `backward_weight_with` returns a [`BackwardWeight`] that owns that scratch tensor
//! and both dispatches (one dispatch and no scratch when a single chunk already gives enough work).

use super::conv2d_common::{backward_input_params, backward_weight_params, chunk_rows, forward_params, register_workgroups, Block, Entry, Params};
use super::conv2d_common::{WEIGHT_GRAD_MIN_TERMS, WEIGHT_GRAD_THREADS};
use super::registry::{available, everywhere, kernel, Candidate};
use super::shaders::{CONV2D, CONV2D_BLOCKED, CONV2D_POINTWISE, CONV2D_TILED};
use super::{conv2d_depthwise, conv2d_subgroup, conv2d_wide, Dispatch, GpuContext, Pass, Tensor, TuneShape, Variant};
use crate::ops::conv2d::Conv2dShape;
use crate::{Error, Result};

pub use super::conv2d_common::{uses_direct_kernels, BackwardWeight};

/// The tiled kernels: threads per workgroup, the edge of the output tile each workgroup computes,
/// and the K elements staged per step (a weight-gradient chunk is a multiple of it).
const TILED_WG: usize = 256;
const TILE: usize = 64;
const TILE_K: usize = 16;

const FORWARD_OP: &str = "conv2d forward";
const BACKWARD_INPUT_OP: &str = "conv2d backward_input";
const BACKWARD_WEIGHT_OP: &str = "conv2d backward_weight";

/// A kernel of the forward (x, w -> y) or of the input gradient (dy, w -> dx).
type Kernel = fn(&GpuContext, &Conv2dShape, &Tensor, &Tensor, &Tensor) -> Result<Dispatch>;
/// A kernel of the weight gradient (x, dy -> dw).
type WeightKernel = fn(&GpuContext, &Conv2dShape, &Tensor, &Tensor, &Tensor) -> Result<BackwardWeight>;

/// The forward's candidates.
const FORWARD: [Candidate<Kernel>; 8] = [
    Candidate { variant: Variant::Register, available: everywhere, kernel: |c, s, x, w, y| forward_gemm(c, s, x, w, y, Variant::Register) },
    Candidate { variant: Variant::Register8x8, available: everywhere, kernel: |c, s, x, w, y| forward_blocked(c, s, x, w, y, Variant::Register8x8) },
    Candidate { variant: Variant::Register16x8, available: everywhere, kernel: |c, s, x, w, y| forward_blocked(c, s, x, w, y, Variant::Register16x8) },
    Candidate { variant: Variant::Register16x16, available: everywhere, kernel: |c, s, x, w, y| forward_blocked(c, s, x, w, y, Variant::Register16x16) },
    Candidate { variant: Variant::Pointwise, available: everywhere, kernel: forward_pointwise },
    Candidate { variant: Variant::Wide, available: everywhere, kernel: conv2d_wide::forward },
    Candidate { variant: Variant::Tiled, available: everywhere, kernel: |c, s, x, w, y| forward_gemm(c, s, x, w, y, Variant::Tiled) },
    Candidate { variant: Variant::Subgroup, available: conv2d_subgroup::supported, kernel: conv2d_subgroup::forward },
];

/// The input gradient's candidates.
const BACKWARD_INPUT: [Candidate<Kernel>; 8] = [
    Candidate { variant: Variant::Register, available: everywhere, kernel: |c, s, dy, w, dx| backward_input_gemm(c, s, dy, w, dx, Variant::Register) },
    Candidate { variant: Variant::Register8x8, available: everywhere, kernel: |c, s, dy, w, dx| backward_input_blocked(c, s, dy, w, dx, Variant::Register8x8) },
    Candidate { variant: Variant::Register16x8, available: everywhere, kernel: |c, s, dy, w, dx| backward_input_blocked(c, s, dy, w, dx, Variant::Register16x8) },
    Candidate { variant: Variant::Register16x16, available: everywhere, kernel: |c, s, dy, w, dx| backward_input_blocked(c, s, dy, w, dx, Variant::Register16x16) },
    Candidate { variant: Variant::Pointwise, available: everywhere, kernel: backward_input_pointwise },
    Candidate { variant: Variant::Wide, available: everywhere, kernel: conv2d_wide::backward_input },
    Candidate { variant: Variant::Tiled, available: everywhere, kernel: |c, s, dy, w, dx| backward_input_gemm(c, s, dy, w, dx, Variant::Tiled) },
    Candidate { variant: Variant::Subgroup, available: conv2d_subgroup::supported, kernel: conv2d_subgroup::backward_input },
];

/// The weight gradient's candidates.
const BACKWARD_WEIGHT: [Candidate<WeightKernel>; 8] = [
    Candidate { variant: Variant::Register, available: everywhere, kernel: |c, s, x, dy, dw| backward_weight_register(c, s, x, dy, dw, Variant::Register) },
    Candidate { variant: Variant::Register8x8, available: everywhere, kernel: |c, s, x, dy, dw| backward_weight_register(c, s, x, dy, dw, Variant::Register8x8) },
    Candidate { variant: Variant::Register16x8, available: everywhere, kernel: |c, s, x, dy, dw| backward_weight_register(c, s, x, dy, dw, Variant::Register16x8) },
    Candidate { variant: Variant::Register16x16, available: everywhere, kernel: |c, s, x, dy, dw| backward_weight_register(c, s, x, dy, dw, Variant::Register16x16) },
    Candidate { variant: Variant::Pointwise, available: everywhere, kernel: backward_weight_pointwise },
    Candidate { variant: Variant::Wide, available: everywhere, kernel: conv2d_wide::backward_weight },
    Candidate { variant: Variant::Tiled, available: everywhere, kernel: backward_weight_tiled },
    Candidate { variant: Variant::Subgroup, available: conv2d_subgroup::supported, kernel: conv2d_subgroup::backward_weight },
];

/// The depthwise forward's candidates.
const DEPTHWISE_FORWARD: [Candidate<Kernel>; 3] = [
    Candidate { variant: Variant::Direct, available: everywhere, kernel: forward_direct },
    Candidate { variant: Variant::Depthwise4x4, available: everywhere, kernel: |c, s, x, w, y| conv2d_depthwise::forward(c, s, x, w, y, Variant::Depthwise4x4) },
    Candidate { variant: Variant::Depthwise2x8, available: everywhere, kernel: |c, s, x, w, y| conv2d_depthwise::forward(c, s, x, w, y, Variant::Depthwise2x8) },
];

/// The depthwise input gradient's candidates.
const DEPTHWISE_BACKWARD_INPUT: [Candidate<Kernel>; 3] = [
    Candidate { variant: Variant::Direct, available: everywhere, kernel: backward_input_direct },
    Candidate { variant: Variant::Depthwise4x4, available: everywhere, kernel: |c, s, dy, w, dx| conv2d_depthwise::backward_input(c, s, dy, w, dx, Variant::Depthwise4x4) },
    Candidate { variant: Variant::Depthwise2x8, available: everywhere, kernel: |c, s, dy, w, dx| conv2d_depthwise::backward_input(c, s, dy, w, dx, Variant::Depthwise2x8) },
];

/// The depthwise weight gradient's candidates.
const DEPTHWISE_BACKWARD_WEIGHT: [Candidate<WeightKernel>; 3] = [
    Candidate { variant: Variant::Direct, available: everywhere, kernel: backward_weight_direct },
    Candidate { variant: Variant::Depthwise4x4, available: everywhere, kernel: |c, s, x, dy, dw| conv2d_depthwise::backward_weight(c, s, x, dy, dw, Variant::Depthwise4x4) },
    Candidate { variant: Variant::Depthwise2x8, available: everywhere, kernel: |c, s, x, dy, dw| conv2d_depthwise::backward_weight(c, s, x, dy, dw, Variant::Depthwise2x8) },
];

/// The variants of `pass` (one of the convolution's) this adapter can run for shapes that are not
/// depthwise; which is fastest is measured (`gpu::tune`).
pub fn variants(ctx: &GpuContext, pass: Pass) -> Vec<Variant> {
    match pass {
        Pass::ConvForward => available(&FORWARD, ctx),
        Pass::ConvBackwardInput => available(&BACKWARD_INPUT, ctx),
        Pass::ConvBackwardWeight => available(&BACKWARD_WEIGHT, ctx),
        _ => vec![],
    }
}

/// The variants of `pass` this adapter can run for shape `s`: the depthwise tables' for a
/// depthwise shape, else [`variants`] (`Pointwise` only where [`pointwise`] holds).
pub fn variants_for(ctx: &GpuContext, pass: Pass, s: &Conv2dShape) -> Vec<Variant> {
    if !uses_direct_kernels(s) {
        let mut all = variants(ctx, pass);
        all.retain(|&v| v != Variant::Pointwise || pointwise(s));
        return all;
    }
    match pass {
        Pass::ConvForward => available(&DEPTHWISE_FORWARD, ctx),
        Pass::ConvBackwardInput => available(&DEPTHWISE_BACKWARD_INPUT, ctx),
        Pass::ConvBackwardWeight => available(&DEPTHWISE_BACKWARD_WEIGHT, ctx),
        _ => vec![],
    }
}

/// y = conv(x, w) with the variant picked for this shape on this adapter; see [`forward_with`].
pub fn forward(ctx: &GpuContext, s: &Conv2dShape, x: &Tensor, w: &Tensor, y: &Tensor) -> Result<Dispatch> {
    forward_with(ctx, s, x, w, y, ctx.pick(Pass::ConvForward, &TuneShape::Conv(*s)))
}

/// y = conv(x, w). x `[N, C_in, H, W]`, w `[C_out, C_in/groups, KH, KW]`, y `[N, C_out, OH, OW]`
/// (overwritten), computed by `variant`'s kernel; depthwise shapes use their own variants (any
/// other variant asked for takes the direct kernel).
pub fn forward_with(ctx: &GpuContext, s: &Conv2dShape, x: &Tensor, w: &Tensor, y: &Tensor, variant: Variant) -> Result<Dispatch> {
    s.check_forward(x, w, Some(y))?;
    choose(FORWARD_OP, &FORWARD, &DEPTHWISE_FORWARD, s, variant)?(ctx, &one_row_per_image(s), x, w, y)
}

/// dx with the variant picked for this shape on this adapter; see [`backward_input_with`].
pub fn backward_input(ctx: &GpuContext, s: &Conv2dShape, dy: &Tensor, w: &Tensor, dx: &Tensor) -> Result<Dispatch> {
    backward_input_with(ctx, s, dy, w, dx, ctx.pick(Pass::ConvBackwardInput, &TuneShape::Conv(*s)))
}

/// dx = the gradient of the loss with respect to x, given dy and w (overwritten, not accumulated).
/// `variant` as for [`forward_with`].
pub fn backward_input_with(ctx: &GpuContext, s: &Conv2dShape, dy: &Tensor, w: &Tensor, dx: &Tensor, variant: Variant) -> Result<Dispatch> {
    s.check_backward_input(dy, w, Some(dx))?;
    choose(BACKWARD_INPUT_OP, &BACKWARD_INPUT, &DEPTHWISE_BACKWARD_INPUT, s, variant)?(ctx, &one_row_per_image(s), dy, w, dx)
}

/// dw with the variant picked for this shape on this adapter; see [`backward_weight_with`].
pub fn backward_weight(ctx: &GpuContext, s: &Conv2dShape, x: &Tensor, dy: &Tensor, dw: &Tensor) -> Result<BackwardWeight> {
    backward_weight_with(ctx, s, x, dy, dw, ctx.pick(Pass::ConvBackwardWeight, &TuneShape::Conv(*s)))
}

/// dw = the gradient of the loss with respect to w, given x and dy (overwritten, not accumulated).
/// Allocates its scratch tensor here, once; the returned passes can be recorded every step.
/// `variant` as for [`forward_with`]; the partial sums of every variant are added up by
/// conv2d.wgsl's `reduce_splits`.
pub fn backward_weight_with(ctx: &GpuContext, s: &Conv2dShape, x: &Tensor, dy: &Tensor, dw: &Tensor, variant: Variant) -> Result<BackwardWeight> {
    s.check_backward_weight(x, dy, Some(dw))?;
    choose(BACKWARD_WEIGHT_OP, &BACKWARD_WEIGHT, &DEPTHWISE_BACKWARD_WEIGHT, s, variant)?(ctx, s, x, dy, dw)
}

/// Whether conv2d_pointwise.wgsl's vec4 kernels (`Variant::Pointwise`) serve `s`: a 1×1
/// convolution at stride 1 without padding and with one group, whose channel counts and image
/// planes are multiples of 4 (so every vec4 it reads or writes is aligned and whole).
pub fn pointwise(s: &Conv2dShape) -> bool {
    let by4 = |v: usize| v.is_multiple_of(4);
    s.kernel_h == 1 && s.kernel_w == 1 && s.stride == 1 && s.padding == 0 && s.groups == 1 && by4(s.in_channels) && by4(s.out_channels) && by4(s.in_h * s.in_w)
}

/// Channels and pixels (or input channels) of a pointwise thread block.
const POINTWISE_BLOCK: usize = 16;

/// The pointwise kernels' blocks: `channels` (output or input) × pixel blocks of each image.
fn pointwise_params(s: &Conv2dShape, channels: usize) -> (Params, usize) {
    let mut p = Params::new(s);
    p.blocks_a = channels.div_ceil(POINTWISE_BLOCK) as u32;
    p.blocks_b = (s.in_h * s.in_w).div_ceil(POINTWISE_BLOCK) as u32;
    let threads = s.batch * (p.blocks_a * p.blocks_b) as usize;
    (p, threads)
}

fn forward_pointwise(ctx: &GpuContext, s: &Conv2dShape, x: &Tensor, w: &Tensor, y: &Tensor) -> Result<Dispatch> {
    if !pointwise(s) {
        return forward_blocked(ctx, s, x, w, y, Variant::Register16x16);
    }
    let (p, threads) = pointwise_params(s, s.out_channels);
    let entry = Entry::tagged(FORWARD_OP, Variant::Pointwise.name(), &CONV2D_POINTWISE, "forward_pointwise").with_vec4s();
    entry.dispatch(ctx, &p, [x, w], y, register_workgroups(threads))
}

fn backward_input_pointwise(ctx: &GpuContext, s: &Conv2dShape, dy: &Tensor, w: &Tensor, dx: &Tensor) -> Result<Dispatch> {
    if !pointwise(s) {
        return backward_input_blocked(ctx, s, dy, w, dx, Variant::Register16x16);
    }
    let (p, threads) = pointwise_params(s, s.in_channels);
    let entry = Entry::tagged(BACKWARD_INPUT_OP, Variant::Pointwise.name(), &CONV2D_POINTWISE, "backward_input_pointwise").with_vec4s();
    entry.dispatch(ctx, &p, [dy, w], dx, register_workgroups(threads))
}

/// The pointwise weight gradient: 16 output × 16 input channels per thread, each chunk summing a
/// run of (image, 4-pixel column) terms (`rows_per_chunk` counts those).
fn backward_weight_pointwise(ctx: &GpuContext, s: &Conv2dShape, x: &Tensor, dy: &Tensor, dw: &Tensor) -> Result<BackwardWeight> {
    if !pointwise(s) {
        return backward_weight_register(ctx, s, x, dy, dw, Variant::Register16x16);
    }
    let mut p = Params::new(s);
    p.blocks_a = s.out_channels.div_ceil(POINTWISE_BLOCK) as u32;
    p.blocks_b = s.in_channels.div_ceil(POINTWISE_BLOCK) as u32;
    let per_chunk = (p.blocks_a * p.blocks_b) as usize;
    let terms = s.batch * s.in_h * s.in_w / 4;
    let max_splits = terms.div_ceil(WEIGHT_GRAD_MIN_TERMS / 4).max(1);
    let terms_per_chunk = terms.div_ceil(WEIGHT_GRAD_THREADS.div_ceil(per_chunk).clamp(1, max_splits));
    p.rows_per_chunk = terms_per_chunk as u32;
    p.splits = terms.div_ceil(terms_per_chunk) as u32;
    let entry = Entry::tagged(BACKWARD_WEIGHT_OP, Variant::Pointwise.name(), &CONV2D_POINTWISE, "backward_weight_pointwise").with_vec4s();
    entry.weight_passes(ctx, s, &p, [x, dy], dw, register_workgroups(per_chunk * p.splits as usize))
}

/// The shape the forward and input-gradient kernels see. A 1×1 convolution at stride 1 without
/// padding maps each pixel to the same pixel, so an [H, W] image is the same computation as a
/// [1, H·W] one: its kernels then block whole images instead of rows (MobileNetV2's 4×4 layers
/// would otherwise fill only half of each 8-pixel block) and never test for padding. The weight
/// gradient keeps the true shape: it splits its sum by (image, row), and whole images would leave
/// it too few chunks to spread over the threads.
pub fn one_row_per_image(s: &Conv2dShape) -> Conv2dShape {
    if s.kernel_h == 1 && s.kernel_w == 1 && s.stride == 1 && s.padding == 0 {
        Conv2dShape { in_h: 1, in_w: s.in_h * s.in_w, ..*s }
    } else {
        *s
    }
}

/// The kernel of `variant` in `table`; for a depthwise shape, in `depthwise` (a variant that has no
/// depthwise kernel, as the default `Register` before any pick, takes the direct one).
fn choose<K: Copy>(op: &'static str, table: &[Candidate<K>], depthwise: &[Candidate<K>], s: &Conv2dShape, variant: Variant) -> Result<K> {
    if uses_direct_kernels(s) {
        let v = if Variant::DEPTHWISE.contains(&variant) { variant } else { Variant::Direct };
        kernel(op, depthwise, v)
    } else {
        kernel(op, table, variant)
    }
}

/// The depthwise kernels of conv2d.wgsl: one output (or weight) per thread.
fn forward_direct(ctx: &GpuContext, s: &Conv2dShape, x: &Tensor, w: &Tensor, y: &Tensor) -> Result<Dispatch> {
    let entry = Entry::tagged(FORWARD_OP, "direct", &CONV2D, "depthwise_forward");
    entry.dispatch(ctx, &Params::new(s), [x, w], y, register_workgroups(s.output_len()))
}

fn backward_input_direct(ctx: &GpuContext, s: &Conv2dShape, dy: &Tensor, w: &Tensor, dx: &Tensor) -> Result<Dispatch> {
    let entry = Entry::tagged(BACKWARD_INPUT_OP, "direct", &CONV2D, "depthwise_backward_input");
    entry.dispatch(ctx, &Params::new(s), [dy, w], dx, register_workgroups(s.input_len()))
}

fn backward_weight_direct(ctx: &GpuContext, s: &Conv2dShape, x: &Tensor, dy: &Tensor, dw: &Tensor) -> Result<BackwardWeight> {
    let mut p = Params::new(s);
    let threads = chunk_rows(&mut p, s, s.weight_len());
    let entry = Entry::tagged(BACKWARD_WEIGHT_OP, "direct", &CONV2D, "depthwise_backward_weight");
    entry.weight_passes(ctx, s, &p, [x, dy], dw, register_workgroups(threads))
}

/// The register block of a variant of conv2d.wgsl (4×4) or conv2d_blocked.wgsl (8×8, 16×8): output
/// channels × pixels or weight taps, and the blocked file's entry-point suffix.
fn register_block(variant: Variant) -> (Block, &'static str) {
    match variant {
        Variant::Register8x8 => (Block { ch: 8, px: 8 }, "8x8"),
        Variant::Register16x8 => (Block { ch: 16, px: 8 }, "16x8"),
        Variant::Register16x16 => (Block { ch: 16, px: 16 }, "16x16"),
        _ => (Block { ch: 4, px: 4 }, ""),
    }
}

/// Tiled kernels: `p.blocks_a` × `p.blocks_b` tiles of 64 over M × N, per group; returns the
/// workgroups of one chunk.
fn set_tiles(p: &mut Params, m: usize, n: usize) -> usize {
    p.blocks_a = m.div_ceil(TILE) as u32;
    p.blocks_b = n.div_ceil(TILE) as u32;
    (p.groups * p.blocks_a * p.blocks_b) as usize
}

/// The forward in conv2d.wgsl's 4×4 register blocks or conv2d_tiled.wgsl's 64×64 tiles.
fn forward_gemm(ctx: &GpuContext, s: &Conv2dShape, x: &Tensor, w: &Tensor, y: &Tensor, variant: Variant) -> Result<Dispatch> {
    let (mut p, threads) = forward_params(s, register_block(variant).0);
    let (shader, workgroups) = match variant {
        Variant::Tiled => (&CONV2D_TILED, set_tiles(&mut p, s.out_channels_per_group(), s.batch * s.out_h() * s.out_w())),
        _ => (&CONV2D, register_workgroups(threads)),
    };
    Entry::tagged(FORWARD_OP, variant.name(), shader, "forward").dispatch(ctx, &p, [x, w], y, workgroups)
}

/// The forward in conv2d_blocked.wgsl's 8×8 or 16×8 register blocks.
fn forward_blocked(ctx: &GpuContext, s: &Conv2dShape, x: &Tensor, w: &Tensor, y: &Tensor, variant: Variant) -> Result<Dispatch> {
    let (block, suffix) = register_block(variant);
    let (p, threads) = forward_params(s, block);
    let entry = Entry::tagged(FORWARD_OP, variant.name(), &CONV2D_BLOCKED, format!("forward{suffix}"));
    entry.dispatch(ctx, &p, [x, w], y, register_workgroups(threads))
}

/// The input gradient in conv2d.wgsl's 4×4 register blocks or conv2d_tiled.wgsl's tiles.
fn backward_input_gemm(ctx: &GpuContext, s: &Conv2dShape, dy: &Tensor, w: &Tensor, dx: &Tensor, variant: Variant) -> Result<Dispatch> {
    let (mut p, threads) = backward_input_params(s, register_block(variant).0);
    let (shader, workgroups) = match variant {
        Variant::Tiled => (&CONV2D_TILED, set_tiles(&mut p, s.in_channels_per_group(), s.batch * s.in_h * s.in_w)),
        _ => (&CONV2D, register_workgroups(threads)),
    };
    Entry::tagged(BACKWARD_INPUT_OP, variant.name(), shader, "backward_input").dispatch(ctx, &p, [dy, w], dx, workgroups)
}

/// The input gradient in conv2d_blocked.wgsl's 8×8 or 16×8 register blocks.
fn backward_input_blocked(ctx: &GpuContext, s: &Conv2dShape, dy: &Tensor, w: &Tensor, dx: &Tensor, variant: Variant) -> Result<Dispatch> {
    let (block, suffix) = register_block(variant);
    let (p, threads) = backward_input_params(s, block);
    let entry = Entry::tagged(BACKWARD_INPUT_OP, variant.name(), &CONV2D_BLOCKED, format!("backward_input{suffix}"));
    entry.dispatch(ctx, &p, [dy, w], dx, register_workgroups(threads))
}

/// The weight gradient in register blocks (conv2d.wgsl's 4×4, conv2d_blocked.wgsl's 8×8 or 16×8),
/// each chunk summing a run of (n, oh) rows.
fn backward_weight_register(ctx: &GpuContext, s: &Conv2dShape, x: &Tensor, dy: &Tensor, dw: &Tensor, variant: Variant) -> Result<BackwardWeight> {
    let (block, suffix) = register_block(variant);
    let shader = if variant == Variant::Register { &CONV2D } else { &CONV2D_BLOCKED };
    let (p, threads) = backward_weight_params(s, block);
    let entry = Entry::tagged(BACKWARD_WEIGHT_OP, variant.name(), shader, format!("backward_weight{suffix}"));
    entry.weight_passes(ctx, s, &p, [x, dy], dw, register_workgroups(threads))
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

/// The weight gradient in conv2d_tiled.wgsl's tiles, each chunk summing a run of (n, oh, ow) terms.
fn backward_weight_tiled(ctx: &GpuContext, s: &Conv2dShape, x: &Tensor, dy: &Tensor, dw: &Tensor) -> Result<BackwardWeight> {
    let mut p = Params::new(s);
    let per_chunk = set_tiles(&mut p, s.out_channels_per_group(), s.in_channels_per_group() * s.kernel_h * s.kernel_w);
    let terms_per_chunk = weight_grad_terms_per_chunk(s, per_chunk);
    let splits = (s.batch * s.out_h() * s.out_w()).div_ceil(terms_per_chunk);
    p.rows_per_chunk = terms_per_chunk as u32;
    p.splits = splits as u32;
    let entry = Entry::tagged(BACKWARD_WEIGHT_OP, Variant::Tiled.name(), &CONV2D_TILED, "backward_weight");
    entry.weight_passes(ctx, s, &p, [x, dy], dw, per_chunk * splits)
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
    let (p, threads) = forward_params(s, Block { ch: 4, px: 4 });
    Entry::tagged(OP, Variant::Register.name(), &CONV2D, "forward_nhwc").dispatch(ctx, &p, [x, w], y, register_workgroups(threads))
}
