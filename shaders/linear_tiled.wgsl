// Linear layer products as a workgroup-tiled GEMM: the `Variant::Tiled` counterpart of
// `product_bias` and `product` in linear.wgsl, for real GPUs. Same strided product
//     C[r, c] = Σ_k A(r, k) · B(c, k)  (+ bias[c])
// with the same `Params` and bindings (see linear.wgsl for how forward and both backward passes
// map onto it); the bias gradient stays with linear.wgsl's `column_sum`.
//
// Tiles: one workgroup of 256 threads computes a 64×64 tile of C (workgroups ordered row tile,
// then column tile, column tile fastest). It stages A and B in steps of 16 along k (two 16×64
// arrays, 8 KB of workgroup memory) with a barrier before and after each step; thread
// (tr, tc) = (lid / 16, lid % 16) keeps rows 4·tr..4·tr+3 × columns 4·tc..4·tc+3 of the tile in
// registers and reads them from the staged tiles as vec4s. Global loads are scalar; each operand
// is staged k fastest when its k stride is 1 and row (column) fastest otherwise, so neighbouring
// threads read neighbouring addresses either way. Rows, columns and k past the edge are staged as
// zeros and not stored, so any size works.

const TILE: u32 = 64u; // C tile edge
const KT: u32 = 16u;   // k elements staged per step

// Staged operands, k-major: tile_a[k·16 + r/4][r % 4] = A(r0 + r, k0 + k), tile_b likewise for B.
var<workgroup> tile_a: array<vec4f, 256>;
var<workgroup> tile_b: array<vec4f, 256>;

// The thread's 4×4 block of C: acc_i holds row 4·tr + i, columns 4·tc..4·tc+3.
var<private> acc0: vec4f;
var<private> acc1: vec4f;
var<private> acc2: vec4f;
var<private> acc3: vec4f;

// Where thread `lid` stages element j (0..3) of a 16×64 step: (k, row). k fastest: 16 threads
// per row; otherwise 64 threads per k.
fn staging_slot(lid: u32, j: u32, k_fastest: bool) -> vec2u {
    if k_fastest {
        return vec2u(lid % 16u, lid / 16u + 16u * j);
    }
    return vec2u(lid / 64u + 4u * j, lid % 64u);
}

fn tiles_c() -> u32 {
    return (p.cols + TILE - 1u) / TILE;
}

fn tile_count() -> u32 {
    return ((p.rows + TILE - 1u) / TILE) * tiles_c();
}

// Accumulates the tile that starts at (r0, c0) into acc0..acc3. Every thread of the workgroup must
// call it (it has barriers).
fn product_tile(lid: u32, r0: u32, c0: u32) {
    let tr = lid / 16u;
    let tc = lid % 16u;
    let a_kf = p.a_k == 1u;
    let b_kf = p.b_k == 1u;
    acc0 = vec4f(0.0);
    acc1 = vec4f(0.0);
    acc2 = vec4f(0.0);
    acc3 = vec4f(0.0);
    for (var k0 = 0u; k0 < p.depth; k0 += KT) {
        for (var j = 0u; j < 4u; j++) {
            let s = staging_slot(lid, j, a_kf);
            let r = r0 + s.y;
            let k = k0 + s.x;
            var v = 0.0;
            if r < p.rows && k < p.depth {
                v = a[r * p.a_row + k * p.a_k];
            }
            tile_a[s.x * 16u + s.y / 4u][s.y % 4u] = v;
        }
        for (var j = 0u; j < 4u; j++) {
            let s = staging_slot(lid, j, b_kf);
            let col = c0 + s.y;
            let k = k0 + s.x;
            var v = 0.0;
            if col < p.cols && k < p.depth {
                v = b[col * p.b_col + k * p.b_k];
            }
            tile_b[s.x * 16u + s.y / 4u][s.y % 4u] = v;
        }
        workgroupBarrier();
        for (var k = 0u; k < KT; k++) {
            let av = tile_a[k * 16u + tr];
            let bv = tile_b[k * 16u + tc];
            acc0 = fma(vec4f(av.x), bv, acc0);
            acc1 = fma(vec4f(av.y), bv, acc1);
            acc2 = fma(vec4f(av.z), bv, acc2);
            acc3 = fma(vec4f(av.w), bv, acc3);
        }
        workgroupBarrier();
    }
}

// Writes the in-range part of one row of the thread's block.
fn store_row(row: u32, col: u32, v: vec4f) {
    if row >= p.rows { return; }
    let base = row * p.cols;
    for (var j = 0u; j < 4u; j++) {
        if col + j < p.cols {
            c[base + col + j] = v[j];
        }
    }
}

fn store_block(row: u32, col: u32, add: vec4f) {
    store_row(row, col, acc0 + add);
    store_row(row + 1u, col, acc1 + add);
    store_row(row + 2u, col, acc2 + add);
    store_row(row + 3u, col, acc3 + add);
}

// C = A·Bᵀ + bias (the forward pass).
@compute @workgroup_size(256)
fn product_bias(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    let tile = workgroup_index(wid, nwg);
    if tile >= tile_count() { return; }
    let r0 = (tile / tiles_c()) * TILE;
    let c0 = (tile % tiles_c()) * TILE;
    product_tile(lid, r0, c0);
    let row = r0 + (lid / 16u) * 4u;
    let col = c0 + (lid % 16u) * 4u;
    let j = min(vec4u(col) + vec4u(0u, 1u, 2u, 3u), vec4u(p.cols - 1u));
    store_block(row, col, vec4f(bias[j.x], bias[j.y], bias[j.z], bias[j.w]));
}

// C = A·Bᵀ (both backward passes).
@compute @workgroup_size(256)
fn product(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    let tile = workgroup_index(wid, nwg);
    if tile >= tile_count() { return; }
    let r0 = (tile / tiles_c()) * TILE;
    let c0 = (tile % tiles_c()) * TILE;
    product_tile(lid, r0, c0);
    store_block(r0 + (lid / 16u) * 4u, c0 + (lid % 16u) * 4u, vec4f(0.0));
}
