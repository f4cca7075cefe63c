// 2-D convolution as workgroup-tiled implicit GEMMs: the `Variant::Tiled` counterpart of the
// forward, backward_input and backward_weight entries in conv2d.wgsl, for real GPUs, where staging
// operands in workgroup memory saves most of the global loads. Same layouts, `Params` and bindings
// (conv2d_common.wgsl) as conv2d.wgsl; depthwise shapes keep conv2d.wgsl's direct kernels, and the weight gradient's
// partial sums are added up by conv2d.wgsl's `reduce_splits`.
//
// Each pass is C[m, n] = Σ_k A[m, k] · B[k, n] for one group g:
//     forward          M = C_out/groups, N = batch·OH·OW, K = (C_in/groups)·KH·KW
//                      A = w[co, k] (contiguous rows), B = x gathered by (ci, kh, kw) (im2col)
//     backward_input   M = C_in/groups,  N = batch·H·W,   K = (C_out/groups)·KH·KW
//                      A = w read as [ci, (co, kh, kw)], B = dy at oh = (ih + pad − kh)/stride
//                      (zero where that does not divide exactly or falls outside dy)
//     backward_weight  M = C_out/groups, N = (C_in/groups)·KH·KW, K = batch·OH·OW (one chunk of it)
//                      A = dy[co, (n, oh, ow)], B = x at (ih, iw) = (oh, ow)·stride − pad + (kh, kw)
// Taps in the padding are staged as zeros.
//
// Tiles, staging and the thread's 4×4 block: tiled_common.wgsl. Global loads are scalar (the
// bindings are the f32 arrays of conv2d.wgsl, and im2col rows are not 16-byte aligned anyway); A is
// staged k fastest (contiguous in all three passes) and B n fastest, so neighbouring threads read
// neighbouring addresses. Rows, columns and K steps past the edge are staged as zeros and not
// stored, so any size works. The three passes run one function, `tile_pass`, whose `kind` argument
// is a constant at each entry point, so each entry compiles to its own straight code.
//
// Params fields with a meaning of their own here:
//     blocks_a        tiles of 64 along M (per group)
//     blocks_b        tiles of 64 along N
//     rows_per_chunk  backward_weight: K elements (of batch·OH·OW) summed by one chunk
//     splits          backward_weight: number of chunks (partial sums [splits, len]; 1 writes dw)
// Workgroups are ordered (chunk, group, M tile, N tile), N tile fastest.

const FORWARD: u32 = 0u;
const BACKWARD_INPUT: u32 = 1u;
const BACKWARD_WEIGHT: u32 = 2u;

// A workgroup's place: its chunk (backward_weight), group, and the first row and column of its tile.
struct Tile {
    chunk: u32,
    g: u32,
    m0: u32,
    n0: u32,
}

fn tile_of(wg: u32) -> Tile {
    let per_group = p.blocks_a * p.blocks_b;
    var t: Tile;
    t.n0 = (wg % p.blocks_b) * TILE;
    t.m0 = ((wg / p.blocks_b) % p.blocks_a) * TILE;
    t.g = (wg / per_group) % p.groups;
    t.chunk = wg / (per_group * p.groups);
    return t;
}

// The pass's (M, N).
fn gemm_size(kind: u32) -> vec2u {
    switch kind {
        case FORWARD: { return vec2u(p.cout_g, p.batch * p.out_h * p.out_w); }
        case BACKWARD_INPUT: { return vec2u(p.cin_g, p.batch * p.in_h * p.in_w); }
        default: { return vec2u(p.cout_g, p.cin_g * p.k_h * p.k_w); }
    }
}

// The K range [begin, end) a tile of chunk `chunk` sums.
fn k_range(kind: u32, chunk: u32) -> vec2u {
    switch kind {
        case FORWARD: { return vec2u(0u, p.cin_g * p.k_h * p.k_w); }
        case BACKWARD_INPUT: { return vec2u(0u, p.cout_g * p.k_h * p.k_w); }
        default: {
            let begin = chunk * p.rows_per_chunk;
            return vec2u(begin, min(p.batch * p.out_h * p.out_w, begin + p.rows_per_chunk));
        }
    }
}

// x of group g at output position q = (n, oh, ow) and weight tap col = (ci, kh, kw); zero in the
// padding. B of the forward (k = col, n = q) and of backward_weight (k = q, n = col).
fn im2col(g: u32, q: u32, col: u32) -> f32 {
    let taps = p.k_h * p.k_w;
    let in_plane = p.in_h * p.in_w;
    let out_plane = p.out_h * p.out_w;
    let pix = q % out_plane;
    let tap = col % taps;
    let ih = i32((pix / p.out_w) * p.stride + tap / p.k_w) - i32(p.pad);
    let iw = i32((pix % p.out_w) * p.stride + tap % p.k_w) - i32(p.pad);
    if ih < 0 || ih >= i32(p.in_h) || iw < 0 || iw >= i32(p.in_w) { return 0.0; }
    return a[((q / out_plane) * p.in_c + g * p.cin_g + col / taps) * in_plane + u32(ih) * p.in_w + u32(iw)];
}

// A[m, k] of group g (m and k in range).
fn operand_a(kind: u32, g: u32, m: u32, k: u32) -> f32 {
    let taps = p.k_h * p.k_w;
    let kvol = p.cin_g * taps;
    switch kind {
        case FORWARD: { return b[(g * p.cout_g + m) * kvol + k]; }
        case BACKWARD_INPUT: { return b[(g * p.cout_g + k / taps) * kvol + m * taps + k % taps]; }
        default: {
            let out_plane = p.out_h * p.out_w;
            return b[((k / out_plane) * p.out_c + g * p.cout_g + m) * out_plane + k % out_plane];
        }
    }
}

// B[k, n] of group g (k and n in range). backward_input: dy at oh = (ih + pad − kh)/stride, ow
// likewise, zero where that does not divide exactly or falls outside dy.
fn operand_b(kind: u32, g: u32, k: u32, n: u32) -> f32 {
    switch kind {
        case FORWARD: { return im2col(g, n, k); }
        case BACKWARD_INPUT: {
            let taps = p.k_h * p.k_w;
            let in_plane = p.in_h * p.in_w;
            let pix = n % in_plane;
            let tap = k % taps;
            let th = i32(pix / p.in_w + p.pad) - i32(tap / p.k_w); // = oh·stride
            let tw = i32(pix % p.in_w + p.pad) - i32(tap % p.k_w);
            let s = i32(p.stride);
            let oh = th / s;
            let ow = tw / s;
            if th < 0 || tw < 0 || th % s != 0 || tw % s != 0 || oh >= i32(p.out_h) || ow >= i32(p.out_w) { return 0.0; }
            let out_plane = p.out_h * p.out_w;
            return a[((n / in_plane) * p.out_c + g * p.cout_g + k / taps) * out_plane + u32(oh) * p.out_w + u32(ow)];
        }
        default: { return im2col(g, k, n); }
    }
}

// Where C[m, n] of tile t goes.
fn out_index(kind: u32, t: Tile, m: u32, n: u32) -> u32 {
    switch kind {
        case FORWARD: {
            let out_plane = p.out_h * p.out_w;
            return ((n / out_plane) * p.out_c + t.g * p.cout_g + m) * out_plane + n % out_plane;
        }
        case BACKWARD_INPUT: {
            let in_plane = p.in_h * p.in_w;
            return ((n / in_plane) * p.in_c + t.g * p.cin_g + m) * in_plane + n % in_plane;
        }
        default: { return t.chunk * p.len + (t.g * p.cout_g + m) * p.cin_g * p.k_h * p.k_w + n; }
    }
}

// Workgroup `wg`'s tile of pass `kind`: stages A and B along its K range, multiplies, and stores
// this thread's block. Every thread of the workgroup must call it (it has barriers).
fn tile_pass(kind: u32, wg: u32, lid: u32) {
    let chunks = select(1u, p.splits, kind == BACKWARD_WEIGHT);
    if wg >= chunks * p.groups * p.blocks_a * p.blocks_b { return; }
    let t = tile_of(wg);
    let size = gemm_size(kind);
    let ks = k_range(kind, t.chunk);
    clear_block();
    for (var k0 = ks.x; k0 < ks.y; k0 += KT) {
        for (var j = 0u; j < 4u; j++) {
            let sa = staging_slot(lid, j, true);
            let m = t.m0 + sa.y;
            var va = 0.0;
            if m < size.x && k0 + sa.x < ks.y { va = operand_a(kind, t.g, m, k0 + sa.x); }
            put_a(sa, va);
            let sb = staging_slot(lid, j, false);
            let n = t.n0 + sb.y;
            var vb = 0.0;
            if n < size.y && k0 + sb.x < ks.y { vb = operand_b(kind, t.g, k0 + sb.x, n); }
            put_b(sb, vb);
        }
        multiply_staged(lid);
    }

    let m0 = t.m0 + (lid / 16u) * 4u;
    let n0 = t.n0 + (lid % 16u) * 4u;
    for (var i = 0u; i < 4u; i++) {
        if m0 + i >= size.x { break; }
        let v = acc_row(i);
        for (var j = 0u; j < 4u; j++) {
            if n0 + j >= size.y { break; }
            out[out_index(kind, t, m0 + i, n0 + j)] = v[j];
        }
    }
}

// forward: a = x, b = w, out = y.
@compute @workgroup_size(256)
fn forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    tile_pass(FORWARD, workgroup_index(wid, nwg), lid);
}

// backward_input: a = dy, b = w, out = dx.
@compute @workgroup_size(256)
fn backward_input(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    tile_pass(BACKWARD_INPUT, workgroup_index(wid, nwg), lid);
}

// backward_weight: a = x, b = dy, out = partial sums [splits, len] (or dw itself when splits = 1).
// Chunk c sums K elements c·rows_per_chunk .. (c + 1)·rows_per_chunk of batch·OH·OW.
@compute @workgroup_size(256)
fn backward_weight(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    tile_pass(BACKWARD_WEIGHT, workgroup_index(wid, nwg), lid);
}
