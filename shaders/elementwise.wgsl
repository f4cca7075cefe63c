// Elementwise kernels: ReLU, ReLU6 (forward and backward from the output), the residual add,
// copies and gradient accumulation. One thread per element; the grid may be 2-D for large tensors.

struct Params {
    n: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

const WG: u32 = 256u;

@compute @workgroup_size(256)
fn relu_forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    let i = thread_index(wid, nwg, lid, WG);
    if i >= p.n { return; }
    out[i] = max(a[i], 0.0);
}

// a = forward output y, b = dy
@compute @workgroup_size(256)
fn relu_backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    let i = thread_index(wid, nwg, lid, WG);
    if i >= p.n { return; }
    out[i] = select(0.0, b[i], a[i] > 0.0);
}

@compute @workgroup_size(256)
fn relu6_forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    let i = thread_index(wid, nwg, lid, WG);
    if i >= p.n { return; }
    out[i] = clamp(a[i], 0.0, 6.0);
}

// a = forward output y, b = dy
@compute @workgroup_size(256)
fn relu6_backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    let i = thread_index(wid, nwg, lid, WG);
    if i >= p.n { return; }
    out[i] = select(0.0, b[i], a[i] > 0.0 && a[i] < 6.0);
}

@compute @workgroup_size(256)
fn add(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    let i = thread_index(wid, nwg, lid, WG);
    if i >= p.n { return; }
    out[i] = a[i] + b[i];
}

@compute @workgroup_size(256)
fn add_assign(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    let i = thread_index(wid, nwg, lid, WG);
    if i >= p.n { return; }
    out[i] = out[i] + a[i];
}

@compute @workgroup_size(256)
fn copy(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    let i = thread_index(wid, nwg, lid, WG);
    if i >= p.n { return; }
    out[i] = a[i];
}
