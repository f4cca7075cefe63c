// What every convolution kernel file shares (concatenated before each of them, after common.wgsl;
// see src/gpu/shaders.rs): the parameters, the bindings, the guarded loads and stores, and where a
// register-blocked thread works (its block of channels and pixels or taps, and their geometry).
//
// Layouts: x [N, C_in, H, W], w [C_out, C_in/groups, KH, KW], y [N, C_out, OH, OW]; zero padding,
// no bias. `blocks_a`, `blocks_b` and `rows_per_chunk` mean what each file's header says (channel
// and pixel blocks of its thread block, or tiles; rows or terms per weight-gradient chunk).

struct Params {
    batch: u32,
    in_c: u32,
    in_h: u32,
    in_w: u32,
    out_c: u32,
    out_h: u32,
    out_w: u32,
    groups: u32,
    k_h: u32,
    k_w: u32,
    stride: u32,
    pad: u32,
    cin_g: u32,
    cout_g: u32,
    blocks_a: u32,       // channel blocks per group (per layer for NHWC), or tiles along M
    blocks_b: u32,       // pixel blocks per row, blocks of weight taps, or tiles along N
    rows_per_chunk: u32, // backward_weight: (n, oh) rows (or terms) summed by one thread
    splits: u32,         // backward_weight: number of chunks (partial sums)
    len: u32,            // backward_weight / reduce: weight elements
    _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

const WG: u32 = 64u;
const LANES = vec4i(0, 1, 2, 3);

// a[idx + off] for the four lanes, zero where `ok` is false (idx is 0 there, so reads stay in range).
fn load4_a(idx: vec4i, off: i32, ok: vec4<bool>) -> vec4f {
    let v = vec4f(a[idx.x + off], a[idx.y + off], a[idx.z + off], a[idx.w + off]);
    return select(vec4f(0.0), v, ok);
}

fn store4(idx: vec4i, v: vec4f, ok: vec4<bool>) {
    if ok.x { out[idx.x] = v.x; }
    if ok.y { out[idx.y] = v.y; }
    if ok.z { out[idx.z] = v.z; }
    if ok.w { out[idx.w] = v.w; }
}

// a[i] where ok, else 0 (the index is clamped to 0 so the read stays in range).
fn load_a(i: i32, ok: bool) -> f32 {
    return select(0.0, a[select(0, i, ok)], ok);
}

// ---- Where a register-blocked thread works (conv2d.wgsl, conv2d_blocked.wgsl, conv2d_wide.wgsl,
// conv2d_subgroup.wgsl: thread t of a 1-D grid) ----

// forward: `ch` output channels from c0 (of group g) × `px` output pixels from ow0 of row oh of
// image n. Threads are ordered pixel blocks fastest, so a workgroup shares its weights.
struct OutBlock {
    g: u32,
    c0: u32,
    n: u32,
    oh: u32,
    ow0: u32,
}

fn out_blocks() -> u32 {
    return p.batch * p.out_h * p.blocks_b * p.groups * p.blocks_a;
}

fn out_block(t: u32, ch: u32, px: u32) -> OutBlock {
    let pix_blocks = p.batch * p.out_h * p.blocks_b;
    let pb = t % pix_blocks;
    let cb = t / pix_blocks;
    return OutBlock(cb / p.blocks_a, (cb % p.blocks_a) * ch, pb / (p.out_h * p.blocks_b), (pb / p.blocks_b) % p.out_h, (pb % p.blocks_b) * px);
}

// The w offsets of output channels c0 + c .. c0 + c + 3 of the block (clamped to the group's last).
fn weight_rows(o: OutBlock, c: u32) -> vec4u {
    let co = min(vec4u(o.c0 + c) + vec4u(LANES), vec4u(p.cout_g - 1u));
    return (vec4u(o.g * p.cout_g) + co) * (p.cin_g * p.k_h * p.k_w);
}

// backward_input: `ch` input channels from c0 (of group g) × pixel block blk of input row ih of
// image n, whose pixels share the stride phase `phase` (iw = phase + stride·(px·blk + j)).
struct InBlock {
    g: u32,
    c0: u32,
    n: u32,
    ih: u32,
    phase: u32,
    blk: u32,
}

fn in_blocks(stride: u32) -> u32 {
    return p.batch * p.in_h * stride * p.blocks_b * p.groups * p.blocks_a;
}

fn in_block(t: u32, ch: u32, stride: u32) -> InBlock {
    let pix_blocks = p.batch * p.in_h * stride * p.blocks_b;
    let pb = t % pix_blocks;
    let cb = t / pix_blocks;
    let r = pb / p.blocks_b;
    return InBlock(cb / p.blocks_a, (cb % p.blocks_a) * ch, r / (stride * p.in_h), (r / stride) % p.in_h, r % stride, pb % p.blocks_b);
}

// backward_weight: `ch` output channels from c0 (of group g) × weight-tap block tb, summed over the
// (n, oh) rows of chunk `chunk`. Tap blocks fastest, so neighbouring threads read the same dy.
struct TapBlock {
    chunk: u32,
    g: u32,
    c0: u32,
    tb: u32,
}

fn tap_blocks() -> u32 {
    return p.groups * p.blocks_a * p.blocks_b * p.splits;
}

fn tap_block(t: u32, ch: u32) -> TapBlock {
    let cb = (t / p.blocks_b) % (p.groups * p.blocks_a);
    return TapBlock(t / (p.groups * p.blocks_a * p.blocks_b), cb / p.blocks_a, (cb % p.blocks_a) * ch, t % p.blocks_b);
}

// The (n, oh) rows [first, end) of a weight-gradient chunk.
fn chunk_rows(chunk: u32) -> vec2u {
    let first = chunk * p.rows_per_chunk;
    return vec2u(first, min(p.batch * p.out_h, first + p.rows_per_chunk));
}

// The forward block's geometry: x offset of its image and group, input row of kernel row kh, input
// columns of output pixels ow0 + j .. ow0 + j + 3 at kernel column 0, and which of those are real.
fn x_image(o: OutBlock) -> i32 {
    return i32((o.n * p.in_c + o.g * p.cin_g) * p.in_h * p.in_w);
}

fn in_row(o: OutBlock, kh: u32) -> i32 {
    return i32(o.oh * p.stride + kh) - i32(p.pad);
}

fn in_cols(o: OutBlock, j: u32) -> vec4i {
    let s = i32(p.stride);
    return vec4i(i32(o.ow0 + j) * s - i32(p.pad)) + LANES * s;
}

// Which of the four x positions (row ih, columns iw) are inside the image (not padding).
fn x_ok(ih: i32, iw: vec4i) -> vec4<bool> {
    return vec4<bool>(ih >= 0 && ih < i32(p.in_h)) & (iw >= vec4i(0)) & (iw < vec4i(i32(p.in_w)));
}

// Which of output pixels ow0 + j .. ow0 + j + 3 are in the row.
fn out_cols_ok(o: OutBlock, j: u32) -> vec4<bool> {
    return vec4i(i32(o.ow0 + j)) + LANES < vec4i(i32(p.out_w));
}

// Stores rows v0..v3 of a block at idx + i·step (i = 0..3), the first `rows` of them, masked by ok.
fn store_rows(idx: vec4i, step: i32, rows: i32, ok: vec4<bool>, v0: vec4f, v1: vec4f, v2: vec4f, v3: vec4f) {
    if rows > 0 { store4(idx, v0, ok); }
    if rows > 1 { store4(idx + vec4i(step), v1, ok); }
    if rows > 2 { store4(idx + vec4i(2 * step), v2, ok); }
    if rows > 3 { store4(idx + vec4i(3 * step), v3, ok); }
}

// The first y element of a forward block (channel c0, pixel ow0).
fn y_first(o: OutBlock) -> i32 {
    return i32(((o.n * p.out_c + o.g * p.cout_g + o.c0) * p.out_h + o.oh) * p.out_w + o.ow0);
}

// The backward_input block's geometry: the w offsets (within a channel's) of input channels
// c0 + c .. c0 + c + 3 (clamped), input columns phase + stride·(px·blk + j) .. (four of them), the
// dy offset of the block's image and group, and its first dx element (channel c0, column 0).
fn weight_cols(o: InBlock, c: u32) -> vec4u {
    return min(vec4u(o.c0 + c) + vec4u(LANES), vec4u(p.cin_g - 1u)) * (p.k_h * p.k_w);
}

fn phase_cols(o: InBlock, px: u32, j: u32) -> vec4i {
    return vec4i(i32(o.phase + p.stride * (px * o.blk + j))) + LANES * i32(p.stride);
}

fn dy_image(o: InBlock) -> i32 {
    return i32((o.n * p.out_c + o.g * p.cout_g) * p.out_h * p.out_w);
}

fn x_first(o: InBlock) -> i32 {
    return i32(((o.n * p.in_c + o.g * p.cin_g + o.c0) * p.in_h + o.ih) * p.in_w);
}
