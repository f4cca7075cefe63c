// Pooling kernels (NCHW): global average pool and 2×2 stride-2 max / average pool, forward and
// backward. Forwards run one thread per output; backwards run one thread per input element, which
// writes every dx element exactly once (the 2×2 stride-2 windows do not overlap, so no atomics).
// Max pool backward recomputes the window's argmax from x (first maximum in row-major order wins),
// so no indices are saved. Odd sizes: max pool floors them (the dropped row/column gets a zero
// gradient); average pool rounds up and averages the clipped edge window over the elements it
// has (ceil_mode with count_include_pad off, as ResNet-D's shortcut pool on a 7×7 input needs).

struct Params {
    n: u32,       // threads to run: outputs (forward) or inputs (backward)
    height: u32,  // input height
    width: u32,   // input width
    out_h: u32,   // height / 2 (max pool, floored) or (height + 1) / 2 (average pool)
    out_w: u32,   // width / 2 or (width + 1) / 2, likewise
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;   // x (forward, max backward) or dy
@group(0) @binding(2) var<storage, read> grad: array<f32>;  // dy (max backward only)
@group(0) @binding(3) var<storage, read_write> dst: array<f32>;

const WG: u32 = 256u;

// Index of the top-left input of 2×2 output `o`.
fn window_top_left(o: u32) -> u32 {
    let plane = o / (p.out_h * p.out_w);
    let rest = o % (p.out_h * p.out_w);
    let y = 2u * (rest / p.out_w);
    let x = 2u * (rest % p.out_w);
    return (plane * p.height + y) * p.width + x;
}

const NONE: u32 = 0xffffffffu;

// The 2×2 output an input element `i` falls in, or NONE in a dropped row/column.
fn window_of(i: u32) -> u32 {
    let plane = i / (p.height * p.width);
    let rest = i % (p.height * p.width);
    let oy = (rest / p.width) / 2u;
    let ox = (rest % p.width) / 2u;
    if oy >= p.out_h || ox >= p.out_w { return NONE; }
    return (plane * p.out_h + oy) * p.out_w + ox;
}

// ---- global average pool: (N,C,H,W) -> (N,C) ----

@compute @workgroup_size(256)
fn global_avg_forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    let o = thread_index(wid, nwg, lid, WG);
    if o >= p.n { return; }
    let plane = p.height * p.width;
    var sum = 0.0;
    for (var k = 0u; k < plane; k++) {
        sum += src[o * plane + k];
    }
    dst[o] = sum / f32(plane);
}

// src = dy (N,C)
@compute @workgroup_size(256)
fn global_avg_backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    let i = thread_index(wid, nwg, lid, WG);
    if i >= p.n { return; }
    let plane = p.height * p.width;
    dst[i] = src[i / plane] / f32(plane);
}

// ---- 2×2 stride-2 max pool ----

// Input index of the first maximum in output `o`'s window (row-major order).
fn window_argmax(o: u32) -> u32 {
    let t = window_top_left(o);
    var best = t;
    if src[t + 1u] > src[best] { best = t + 1u; }
    if src[t + p.width] > src[best] { best = t + p.width; }
    if src[t + p.width + 1u] > src[best] { best = t + p.width + 1u; }
    return best;
}

@compute @workgroup_size(256)
fn max2_forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    let o = thread_index(wid, nwg, lid, WG);
    if o >= p.n { return; }
    dst[o] = src[window_argmax(o)];
}

// src = x, grad = dy
@compute @workgroup_size(256)
fn max2_backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    let i = thread_index(wid, nwg, lid, WG);
    if i >= p.n { return; }
    let o = window_of(i);
    var g = 0.0;
    if o != NONE && window_argmax(o) == i { g = grad[o]; }
    dst[i] = g;
}

// ---- 2×2 stride-2 average pool (ceil mode) ----

// Columns (x) and rows (y) of output `rest`'s window (within one plane) inside the input.
fn avg_window_extent(rest: u32) -> vec2u {
    let y = 2u * (rest / p.out_w);
    let x = 2u * (rest % p.out_w);
    return vec2u(min(2u, p.width - x), min(2u, p.height - y));
}

@compute @workgroup_size(256)
fn avg2_forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    let o = thread_index(wid, nwg, lid, WG);
    if o >= p.n { return; }
    let t = window_top_left(o);
    let e = avg_window_extent(o % (p.out_h * p.out_w));
    var sum = 0.0;
    for (var dy = 0u; dy < e.y; dy++) {
        for (var dx = 0u; dx < e.x; dx++) {
            sum += src[t + dy * p.width + dx];
        }
    }
    dst[o] = sum / f32(e.x * e.y);
}

// src = dy
@compute @workgroup_size(256)
fn avg2_backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    let i = thread_index(wid, nwg, lid, WG);
    if i >= p.n { return; }
    let plane = i / (p.height * p.width);
    let rest = i % (p.height * p.width);
    let o_rest = ((rest / p.width) / 2u) * p.out_w + (rest % p.width) / 2u;
    let e = avg_window_extent(o_rest);
    dst[i] = src[plane * p.out_h * p.out_w + o_rest] / f32(e.x * e.y);
}
