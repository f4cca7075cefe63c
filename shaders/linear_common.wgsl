// What the linear layer's kernel files share (concatenated before each of them, after
// common.wgsl): the strided product's parameters, the bindings and the guarded stores. C[r, c] = Σ_k A(r, k) · B(c, k)
// (+ bias[c]), with A(r, k) = a[r·a_row + k·a_k] and B(c, k) = b[c·b_col + k·b_k].

struct Params {
    rows: u32,   // C's rows
    cols: u32,   // C's columns (row stride of C)
    depth: u32,  // length of the reduction
    a_row: u32,  // A(r, k) = a[r * a_row + k * a_k]
    a_k: u32,
    b_col: u32,  // B(c, k) = b[c * b_col + k * b_k]
    b_k: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> c: array<f32>;

// The clamped indices of the four rows (or columns) starting at `first`.
fn four(first: u32, count: u32) -> vec4u {
    return min(vec4u(first) + vec4u(0u, 1u, 2u, 3u), vec4u(count - 1u));
}

// The bias of the four columns starting at `col` (clamped; columns past the edge are not stored).
fn bias4(col: u32) -> vec4f {
    let j = four(col, p.cols);
    return vec4f(bias[j.x], bias[j.y], bias[j.z], bias[j.w]);
}

// Writes the in-range part of one row of a 4×4 block of C.
fn store_row(row: u32, col: u32, v: vec4f) {
    if row >= p.rows { return; }
    let base = row * p.cols;
    for (var j = 0u; j < 4u; j++) {
        if col + j < p.cols {
            c[base + col + j] = v[j];
        }
    }
}

// A 4×4 block of C: its top-left corner and one accumulator row per C row.
struct Block {
    row: u32,
    col: u32,
    acc0: vec4f,
    acc1: vec4f,
    acc2: vec4f,
    acc3: vec4f,
}

// Writes the in-range part of a block, each row plus `add`.
fn store_block(blk: Block, add: vec4f) {
    store_row(blk.row, blk.col, blk.acc0 + add);
    store_row(blk.row + 1u, blk.col, blk.acc1 + add);
    store_row(blk.row + 2u, blk.col, blk.acc2 + add);
    store_row(blk.row + 3u, blk.col, blk.acc3 + add);
}
