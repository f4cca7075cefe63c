// Linear layer products as a workgroup-tiled GEMM: the `Variant::Tiled` counterpart of
// `product_bias` and `product` in linear.wgsl, for real GPUs. Same strided product
//     C[r, c] = Σ_k A(r, k) · B(c, k)  (+ bias[c])
// with the same `Params` and bindings (see linear.wgsl for how forward and both backward passes
// map onto it); the bias gradient stays with linear.wgsl's `column_sum`.
//
// Tiles, staging and the thread's 4×4 block: tiled_common.wgsl. Workgroups are ordered row tile,
// then column tile, column tile fastest. Global loads are scalar; each operand is staged k fastest
// when its k stride is 1 and row (column) fastest otherwise, so neighbouring threads read
// neighbouring addresses either way. Rows, columns and k past the edge are staged as zeros and not
// stored, so any size works.

fn tiles_c() -> u32 {
    return (p.cols + TILE - 1u) / TILE;
}

fn tile_count() -> u32 {
    return ((p.rows + TILE - 1u) / TILE) * tiles_c();
}

// A(r, k) and B(c, k), zero past the edge.
fn operand_a(r: u32, k: u32) -> f32 {
    if r < p.rows && k < p.depth { return a[r * p.a_row + k * p.a_k]; }
    return 0.0;
}

fn operand_b(col: u32, k: u32) -> f32 {
    if col < p.cols && k < p.depth { return b[col * p.b_col + k * p.b_k]; }
    return 0.0;
}

// Computes tile `tile` of C and returns this thread's block of it. Every thread of the workgroup
// must call it (it has barriers).
fn product_tile(tile: u32, lid: u32) -> Block {
    let r0 = (tile / tiles_c()) * TILE;
    let c0 = (tile % tiles_c()) * TILE;
    let a_kf = p.a_k == 1u;
    let b_kf = p.b_k == 1u;
    clear_block();
    for (var k0 = 0u; k0 < p.depth; k0 += KT) {
        for (var j = 0u; j < 4u; j++) {
            let sa = staging_slot(lid, j, a_kf);
            put_a(sa, operand_a(r0 + sa.y, k0 + sa.x));
            let sb = staging_slot(lid, j, b_kf);
            put_b(sb, operand_b(c0 + sb.y, k0 + sb.x));
        }
        multiply_staged(lid);
    }
    return Block(r0 + (lid / 16u) * 4u, c0 + (lid % 16u) * 4u, acc0, acc1, acc2, acc3);
}

// C = A·Bᵀ + bias (the forward pass).
@compute @workgroup_size(256)
fn product_bias(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    let tile = workgroup_index(wid, nwg);
    if tile >= tile_count() { return; }
    let blk = product_tile(tile, lid);
    store_block(blk, bias4(blk.col));
}

// C = A·Bᵀ (both backward passes).
@compute @workgroup_size(256)
fn product(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    let tile = workgroup_index(wid, nwg);
    if tile >= tile_count() { return; }
    store_block(product_tile(tile, lid), vec4f(0.0));
}
