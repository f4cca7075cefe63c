// What every convolution kernel file shares (concatenated before each of them, after common.wgsl;
// see src/gpu/shaders.rs): the parameters, the bindings, and the guarded loads and stores.
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
