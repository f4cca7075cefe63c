// Linear layer kernels. The forward pass and both backward passes are one strided product
//     C[r, c] = Σ_k A(r, k) · B(c, k)  (+ bias[c])
// where A and B are read through strides, so x, dy and W are used in place without transposes:
//     forward          y  = x · Wᵀ + b   A = x  [batch, in],  B = W  [out, in]
//     backward_input   dx = dy · W       A = dy [batch, out], B = Wᵀ (W read by column)
//     backward_params  dW = dyᵀ · x      A = dyᵀ,             B = xᵀ (both read by column)
// Each thread computes a 4×4 block of C in registers; there is no workgroup memory and no barrier
// (on a CPU-emulated GPU such as llvmpipe barriers cost more than the loads they save). Loads past
// the edge are clamped to the last row/column and their results are simply not stored, so any size
// works. `column_sum` gives the bias gradient db[o] = Σ_n dy[n, o].

const WG: u32 = 64u;

// A 4×4 block of C: its top-left corner and one accumulator row per C row.
struct Block {
    row: u32,
    col: u32,
    acc0: vec4f,
    acc1: vec4f,
    acc2: vec4f,
    acc3: vec4f,
}

// The clamped indices of the four rows (or columns) starting at `first`.
fn four(first: u32, count: u32) -> vec4u {
    return min(vec4u(first) + vec4u(0u, 1u, 2u, 3u), vec4u(count - 1u));
}

fn product_block(tile: u32) -> Block {
    let tiles_c = (p.cols + 3u) / 4u;
    var blk: Block;
    blk.row = (tile / tiles_c) * 4u;
    blk.col = (tile % tiles_c) * 4u;
    let a_off = four(blk.row, p.rows) * p.a_row;
    let b_off = four(blk.col, p.cols) * p.b_col;
    var acc0 = vec4f(0.0);
    var acc1 = vec4f(0.0);
    var acc2 = vec4f(0.0);
    var acc3 = vec4f(0.0);
    for (var k = 0u; k < p.depth; k++) {
        let ak = k * p.a_k;
        let bk = k * p.b_k;
        let bv = vec4f(b[b_off.x + bk], b[b_off.y + bk], b[b_off.z + bk], b[b_off.w + bk]);
        acc0 = fma(vec4f(a[a_off.x + ak]), bv, acc0);
        acc1 = fma(vec4f(a[a_off.y + ak]), bv, acc1);
        acc2 = fma(vec4f(a[a_off.z + ak]), bv, acc2);
        acc3 = fma(vec4f(a[a_off.w + ak]), bv, acc3);
    }
    blk.acc0 = acc0;
    blk.acc1 = acc1;
    blk.acc2 = acc2;
    blk.acc3 = acc3;
    return blk;
}

// Writes the in-range part of one row of a block.
fn store_row(row: u32, col: u32, v: vec4f) {
    if row >= p.rows { return; }
    let base = row * p.cols;
    for (var j = 0u; j < 4u; j++) {
        if col + j < p.cols {
            c[base + col + j] = v[j];
        }
    }
}

fn store_block(blk: Block, add: vec4f) {
    store_row(blk.row, blk.col, blk.acc0 + add);
    store_row(blk.row + 1u, blk.col, blk.acc1 + add);
    store_row(blk.row + 2u, blk.col, blk.acc2 + add);
    store_row(blk.row + 3u, blk.col, blk.acc3 + add);
}

fn tile_count() -> u32 {
    return ((p.rows + 3u) / 4u) * ((p.cols + 3u) / 4u);
}

// C = A·Bᵀ + bias (the forward pass).
@compute @workgroup_size(64)
fn product_bias(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    let tile = thread_index(wid, nwg, lid, WG);
    if tile >= tile_count() { return; }
    let blk = product_block(tile);
    let j = four(blk.col, p.cols);
    store_block(blk, vec4f(bias[j.x], bias[j.y], bias[j.z], bias[j.w]));
}

// C = A·Bᵀ (both backward passes).
@compute @workgroup_size(64)
fn product(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    let tile = thread_index(wid, nwg, lid, WG);
    if tile >= tile_count() { return; }
    store_block(product_block(tile), vec4f(0.0));
}

// c[j] = Σ_r a[r * cols + j]: the bias gradient from dy [rows = batch, cols = out].
@compute @workgroup_size(64)
fn column_sum(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    let j = thread_index(wid, nwg, lid, WG);
    if j >= p.cols { return; }
    var sum = 0.0;
    for (var r = 0u; r < p.rows; r++) {
        sum += a[r * p.cols + j];
    }
    c[j] = sum;
}
