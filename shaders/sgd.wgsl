// SGD with momentum (PyTorch's semantics, dampening 0), one thread per parameter:
//     g = grad + weight_decay·w;  v = momentum·v + g;  step = nesterov ? g + momentum·v : v;
//     w -= lr·step
// The learning rate is read from a one-element tensor the trainer rewrites every step, so the
// dispatch is built once.

struct Params {
    len: u32,
    momentum: f32,
    weight_decay: f32,
    nesterov: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> lr: array<f32>;
@group(0) @binding(2) var<storage, read> grad: array<f32>;
@group(0) @binding(3) var<storage, read_write> w: array<f32>;
@group(0) @binding(4) var<storage, read_write> velocity: array<f32>;

const WG: u32 = 256u;

@compute @workgroup_size(256)
fn step(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    let i = thread_index(wid, nwg, lid, WG);
    if i >= p.len { return; }
    let g = grad[i] + p.weight_decay * w[i];
    let v = p.momentum * velocity[i] + g;
    velocity[i] = v;
    let update = select(v, g + p.momentum * v, p.nesterov != 0u);
    w[i] = w[i] - lr[0] * update;
}
