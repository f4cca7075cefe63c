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

fn tile_count() -> u32 {
    return ((p.rows + 3u) / 4u) * ((p.cols + 3u) / 4u);
}

// The 4×4 block `tile` of C.
fn product_block(tile: u32) -> Block {
    let tiles_c = (p.cols + 3u) / 4u;
    let row = (tile / tiles_c) * 4u;
    let col = (tile % tiles_c) * 4u;
    let a_off = four(row, p.rows) * p.a_row;
    let b_off = four(col, p.cols) * p.b_col;
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
    return Block(row, col, acc0, acc1, acc2, acc3);
}

// C = A·Bᵀ + bias (the forward pass).
@compute @workgroup_size(64)
fn product_bias(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    let tile = thread_index(wid, nwg, lid, WG);
    if tile >= tile_count() { return; }
    let blk = product_block(tile);
    store_block(blk, bias4(blk.col));
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
