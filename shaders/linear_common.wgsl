// What the linear layer's kernel files share (concatenated before each of them, after
// common.wgsl): the strided product's parameters and the bindings. C[r, c] = Σ_k A(r, k) · B(c, k)
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
