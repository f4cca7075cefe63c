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
// Tiles: one workgroup of 256 threads computes a 64×64 tile of C. It stages A and B in steps of
// 16 along K (two 16×64 arrays, 8 KB of workgroup memory), with a barrier before and after each
// step; thread (tm, tn) = (lid / 16, lid % 16) keeps C rows 4·tm..4·tm+3 × columns 4·tn..4·tn+3
// in registers and reads them from the staged tiles as vec4s. Global loads are scalar (the
// bindings are the f32 arrays of conv2d.wgsl, and im2col rows are not 16-byte aligned anyway),
// arranged so that neighbouring threads read neighbouring addresses. Rows, columns and K steps past
// the edge are staged as zeros and not stored, so any size works.
//
// Params fields with a meaning of their own here:
//     blocks_a        tiles of 64 along M (per group)
//     blocks_b        tiles of 64 along N
//     rows_per_chunk  backward_weight: K elements (of batch·OH·OW) summed by one chunk
//     splits          backward_weight: number of chunks (partial sums [splits, len]; 1 writes dw)
// Workgroups are ordered (chunk, group, M tile, N tile), N tile fastest.

const TILE: u32 = 64u; // C tile edge, along M and N
const KT: u32 = 16u;   // K elements staged per step

// Staged operands, k-major: tile_a[k·16 + m/4][m % 4] = A[m0 + m, k0 + k], likewise tile_b for B.
var<workgroup> tile_a: array<vec4f, 256>;
var<workgroup> tile_b: array<vec4f, 256>;

// The thread's 4×4 block of C: acc_i holds row 4·tm + i, columns 4·tn..4·tn+3.
var<private> acc0: vec4f;
var<private> acc1: vec4f;
var<private> acc2: vec4f;
var<private> acc3: vec4f;

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

fn put_a(k: u32, m: u32, v: f32) {
    tile_a[k * 16u + m / 4u][m % 4u] = v;
}

fn put_b(k: u32, n: u32, v: f32) {
    tile_b[k * 16u + n / 4u][n % 4u] = v;
}

// Adds one staged K step to the thread's block (call between the two barriers).
fn multiply_staged(tm: u32, tn: u32) {
    for (var k = 0u; k < KT; k++) {
        let av = tile_a[k * 16u + tm];
        let bv = tile_b[k * 16u + tn];
        acc0 = fma(vec4f(av.x), bv, acc0);
        acc1 = fma(vec4f(av.y), bv, acc1);
        acc2 = fma(vec4f(av.z), bv, acc2);
        acc3 = fma(vec4f(av.w), bv, acc3);
    }
}

fn acc_row(i: u32) -> vec4f {
    switch i {
        case 0u: { return acc0; }
        case 1u: { return acc1; }
        case 2u: { return acc2; }
        default: { return acc3; }
    }
}

// Staging coordinates. "k fastest": 16 threads per row read 16 consecutive k, each thread rows
// lid/16 + 16·j. "m fastest" (or n): 64 threads read 64 consecutive rows, each thread k = lid/64 + 4·j.

// ---------------------------------------------------------------------------------------------
// forward: a = x, b = w, out = y.
@compute @workgroup_size(256)
fn forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    let wg = workgroup_index(wid, nwg);
    if wg >= p.groups * p.blocks_a * p.blocks_b { return; }
    let t = tile_of(wg);
    let taps = p.k_h * p.k_w;
    let kvol = p.cin_g * taps;
    let in_plane = p.in_h * p.in_w;
    let out_plane = p.out_h * p.out_w;
    let n_len = p.batch * out_plane;

    // A = w, k fastest (weight rows are contiguous).
    let ak = lid % 16u;
    let am = lid / 16u;
    let w_g = t.g * p.cout_g;
    // B = im2col(x), n fastest: this thread's output pixel is the same for every step.
    let bn = lid % 64u;
    let bk = lid / 64u;
    let n = t.n0 + bn;
    let n_ok = n < n_len;
    let pix = n % out_plane;
    let ih0 = i32((pix / p.out_w) * p.stride) - i32(p.pad);
    let iw0 = i32((pix % p.out_w) * p.stride) - i32(p.pad);
    let x_n = ((n / out_plane) * p.in_c + t.g * p.cin_g) * in_plane;

    let tm = lid / 16u;
    let tn = lid % 16u;
    acc0 = vec4f(0.0);
    acc1 = vec4f(0.0);
    acc2 = vec4f(0.0);
    acc3 = vec4f(0.0);
    for (var k0 = 0u; k0 < kvol; k0 += KT) {
        let k = k0 + ak;
        for (var j = 0u; j < 4u; j++) {
            let m = am + 16u * j;
            var v = 0.0;
            if t.m0 + m < p.cout_g && k < kvol {
                v = b[(w_g + t.m0 + m) * kvol + k];
            }
            put_a(ak, m, v);
        }
        for (var j = 0u; j < 4u; j++) {
            let kk = bk + 4u * j;
            let kb = k0 + kk;
            var v = 0.0;
            if n_ok && kb < kvol {
                let tap = kb % taps;
                let ih = ih0 + i32(tap / p.k_w);
                let iw = iw0 + i32(tap % p.k_w);
                if ih >= 0 && ih < i32(p.in_h) && iw >= 0 && iw < i32(p.in_w) {
                    v = a[x_n + (kb / taps) * in_plane + u32(ih) * p.in_w + u32(iw)];
                }
            }
            put_b(kk, bn, v);
        }
        workgroupBarrier();
        multiply_staged(tm, tn);
        workgroupBarrier();
    }

    for (var i = 0u; i < 4u; i++) {
        let co = t.m0 + tm * 4u + i;
        if co >= p.cout_g { break; }
        let v = acc_row(i);
        for (var j = 0u; j < 4u; j++) {
            let nj = t.n0 + tn * 4u + j;
            if nj >= n_len { break; }
            out[((nj / out_plane) * p.out_c + w_g + co) * out_plane + nj % out_plane] = v[j];
        }
    }
}

// ---------------------------------------------------------------------------------------------
// backward_input: a = dy, b = w, out = dx.
@compute @workgroup_size(256)
fn backward_input(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    let wg = workgroup_index(wid, nwg);
    if wg >= p.groups * p.blocks_a * p.blocks_b { return; }
    let t = tile_of(wg);
    let taps = p.k_h * p.k_w;
    let kvol = p.cin_g * taps;   // one output channel's weights
    let k_len = p.cout_g * taps; // K: (co, kh, kw)
    let in_plane = p.in_h * p.in_w;
    let out_plane = p.out_h * p.out_w;
    let n_len = p.batch * in_plane;

    // A[ci, (co, tap)] = w[(g·cout_g + co)·kvol + ci·taps + tap], k fastest (taps are contiguous).
    let ak = lid % 16u;
    let am = lid / 16u;
    let w_g = t.g * p.cout_g * kvol;
    // B = dy gathered for this thread's input pixel, n fastest.
    let bn = lid % 64u;
    let bk = lid / 64u;
    let n = t.n0 + bn;
    let n_ok = n < n_len;
    let pix = n % in_plane;
    let th0 = i32(pix / p.in_w + p.pad); // oh·stride + kh
    let tw0 = i32(pix % p.in_w + p.pad);
    let dy_n = ((n / in_plane) * p.out_c + t.g * p.cout_g) * out_plane;
    let s = i32(p.stride);

    let tm = lid / 16u;
    let tn = lid % 16u;
    acc0 = vec4f(0.0);
    acc1 = vec4f(0.0);
    acc2 = vec4f(0.0);
    acc3 = vec4f(0.0);
    for (var k0 = 0u; k0 < k_len; k0 += KT) {
        let k = k0 + ak;
        let k_ok = k < k_len;
        let a_k = w_g + (k / taps) * kvol + k % taps;
        for (var j = 0u; j < 4u; j++) {
            let m = am + 16u * j;
            var v = 0.0;
            if t.m0 + m < p.cin_g && k_ok {
                v = b[a_k + (t.m0 + m) * taps];
            }
            put_a(ak, m, v);
        }
        for (var j = 0u; j < 4u; j++) {
            let kk = bk + 4u * j;
            let kb = k0 + kk;
            var v = 0.0;
            if n_ok && kb < k_len {
                let tap = kb % taps;
                let th = th0 - i32(tap / p.k_w);
                let tw = tw0 - i32(tap % p.k_w);
                let oh = th / s;
                let ow = tw / s;
                let ok = th >= 0 && tw >= 0 && th % s == 0 && tw % s == 0 && oh < i32(p.out_h) && ow < i32(p.out_w);
                if ok {
                    v = a[dy_n + (kb / taps) * out_plane + u32(oh) * p.out_w + u32(ow)];
                }
            }
            put_b(kk, bn, v);
        }
        workgroupBarrier();
        multiply_staged(tm, tn);
        workgroupBarrier();
    }

    for (var i = 0u; i < 4u; i++) {
        let ci = t.m0 + tm * 4u + i;
        if ci >= p.cin_g { break; }
        let v = acc_row(i);
        for (var j = 0u; j < 4u; j++) {
            let nj = t.n0 + tn * 4u + j;
            if nj >= n_len { break; }
            out[((nj / in_plane) * p.in_c + t.g * p.cin_g + ci) * in_plane + nj % in_plane] = v[j];
        }
    }
}

// ---------------------------------------------------------------------------------------------
// backward_weight: a = x, b = dy, out = partial sums [splits, len] (or dw itself when splits = 1).
// Chunk c sums K elements c·rows_per_chunk .. (c + 1)·rows_per_chunk of batch·OH·OW.
@compute @workgroup_size(256)
fn backward_weight(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    let wg = workgroup_index(wid, nwg);
    if wg >= p.splits * p.groups * p.blocks_a * p.blocks_b { return; }
    let t = tile_of(wg);
    let taps = p.k_h * p.k_w;
    let kvol = p.cin_g * taps; // N: (ci, kh, kw)
    let in_plane = p.in_h * p.in_w;
    let out_plane = p.out_h * p.out_w;
    let k_begin = t.chunk * p.rows_per_chunk;
    let k_end = min(p.batch * out_plane, k_begin + p.rows_per_chunk);

    // A[co, (n, pix)] = dy[(n·out_c + g·cout_g + co)·out_plane + pix], k fastest (pixels are contiguous).
    let ak = lid % 16u;
    let am = lid / 16u;
    let dy_g = t.g * p.cout_g;
    // B[(n, oh, ow), (ci, kh, kw)] = x at the tap, n fastest: this thread's weight tap is fixed.
    let bn = lid % 64u;
    let bk = lid / 64u;
    let col = t.n0 + bn;
    let col_ok = col < kvol;
    let tap = col % taps;
    let kh = i32(tap / p.k_w) - i32(p.pad);
    let kw = i32(tap % p.k_w) - i32(p.pad);
    let x_c = (t.g * p.cin_g + col / taps) * in_plane;

    let tm = lid / 16u;
    let tn = lid % 16u;
    acc0 = vec4f(0.0);
    acc1 = vec4f(0.0);
    acc2 = vec4f(0.0);
    acc3 = vec4f(0.0);
    for (var k0 = k_begin; k0 < k_end; k0 += KT) {
        let k = k0 + ak;
        let k_ok = k < k_end;
        let a_k = ((k / out_plane) * p.out_c + dy_g) * out_plane + k % out_plane;
        for (var j = 0u; j < 4u; j++) {
            let m = am + 16u * j;
            var v = 0.0;
            if t.m0 + m < p.cout_g && k_ok {
                v = b[a_k + (t.m0 + m) * out_plane];
            }
            put_a(ak, m, v);
        }
        for (var j = 0u; j < 4u; j++) {
            let kk = bk + 4u * j;
            let kb = k0 + kk;
            var v = 0.0;
            if col_ok && kb < k_end {
                let pix = kb % out_plane;
                let ih = i32((pix / p.out_w) * p.stride) + kh;
                let iw = i32((pix % p.out_w) * p.stride) + kw;
                if ih >= 0 && ih < i32(p.in_h) && iw >= 0 && iw < i32(p.in_w) {
                    v = a[(kb / out_plane) * p.in_c * in_plane + x_c + u32(ih) * p.in_w + u32(iw)];
                }
            }
            put_b(kk, bn, v);
        }
        workgroupBarrier();
        multiply_staged(tm, tn);
        workgroupBarrier();
    }

    let base = t.chunk * p.len + dy_g * kvol;
    for (var i = 0u; i < 4u; i++) {
        let co = t.m0 + tm * 4u + i;
        if co >= p.cout_g { break; }
        let v = acc_row(i);
        for (var j = 0u; j < 4u; j++) {
            let c = t.n0 + tn * 4u + j;
            if c >= kvol { break; }
            out[base + co * kvol + c] = v[j];
        }
    }
}
