// Batch normalization (BatchNorm2d, NCHW) kernels: training forward (per-channel statistics, then a
// normalize pass, optionally fused with ReLU or ReLU6), evaluation forward, and the training backward
// (per-channel gradient sums, then a dx pass). Conventions are PyTorch's (see src/ops/batchnorm.rs).
//
// Per-channel passes (train_stats, backward_reduce, and on CPU adapters train_channel and
// backward_channel, which also write the channel's output and so replace the elementwise passes)
// run one workgroup of REDUCE_WG threads per channel. Each thread walks the channel's batch·height·width values with a stride of REDUCE_WG
// (consecutive threads read consecutive addresses inside a plane), sums in f32 (at most 1024 terms
// per thread at batch 64, 32×32), and a tree reduction in workgroup memory combines the partial
// sums. Statistics take one pass over the data without ever forming E[x²] − E[x]²: each thread
// keeps Welford's running mean and sum of squared deviations, and the tree combines two threads'
// (count, mean, M2) with Chan et al.'s pairwise update. The host picks REDUCE_WG: 256 on GPUs; on CPU adapters such as llvmpipe,
// where fewer threads and barriers measured 1.5-5× faster, 8 to 64, the fewest that keep a thread's
// sum within 1024 terms.
//
// Elementwise passes (train_normalize, eval_normalize, backward_dx) run 64-thread workgroups over
// whole (image, channel) planes, `planes_per_group` planes each (about 1024 values per workgroup),
// so a thread loads its channel's parameters once per plane instead of once per element.
//
// The backward reads x and dy only: where an activation is fused (ACT), both passes recompute its
// input (x − mean)·(gamma·inv_std) + beta exactly as the forward did, so its mask needs no stored
// output. The reduction pass writes each channel's coefficients (`coef`: the mask's and dx's, and
// the parameter gradients), so the dx pass binds 6 storage buffers and the split passes stay
// within 8 (WebGPU's default per-stage limit); backward_channel binds 9 and runs only where the
// device allows that (llvmpipe allows far more, SwiftShader in chromium 10).

struct Params {
    batch: u32,
    channels: u32,
    plane: u32,   // height·width
    count: u32,   // batch·plane, the values per channel
    step_b: u32,  // REDUCE_WG / plane: images a thread advances per step
    step_j: u32,  // REDUCE_WG % plane: plane offset a thread advances per step
    planes: u32,  // batch·channels
    planes_per_group: u32,
    eps: f32,
    momentum: f32,
}

// The activation fused after the batch norm: 0 none, 1 ReLU, 2 ReLU6 (min(max(v, 0), 6)).
override ACT: u32 = 0u;
// Threads per workgroup of the per-channel passes: a power of two, at most 256.
override REDUCE_WG: u32 = 256u;
const PLANE_WG: u32 = 64u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> gamma: array<f32>;
@group(0) @binding(3) var<storage, read> beta: array<f32>;
@group(0) @binding(4) var<storage, read_write> mean: array<f32>;
@group(0) @binding(5) var<storage, read_write> inv_std: array<f32>;
@group(0) @binding(6) var<storage, read_write> running_mean: array<f32>;
@group(0) @binding(7) var<storage, read_write> running_var: array<f32>;
@group(0) @binding(8) var<storage, read_write> out: array<f32>;      // y (forward) or dx (backward)
@group(0) @binding(9) var<storage, read> dy: array<f32>;
@group(0) @binding(11) var<storage, read_write> dgamma: array<f32>;
@group(0) @binding(12) var<storage, read_write> dbeta: array<f32>;
@group(0) @binding(13) var<storage, read_write> coef: array<f32>;   // COEF values per channel (backward)

var<workgroup> partial_a: array<f32, 256>;
var<workgroup> partial_b: array<f32, 256>;
var<workgroup> partial_c: array<f32, 256>;

// ---- walking one channel: thread `lid` visits values lid, lid + REDUCE_WG, ... of the channel ----

struct Cursor {
    b: u32,  // image
    j: u32,  // offset inside the plane
}

fn cursor_start(lid: u32) -> Cursor {
    return Cursor(lid / p.plane, lid % p.plane);
}

fn cursor_next(cur: Cursor) -> Cursor {
    var next = Cursor(cur.b + p.step_b, cur.j + p.step_j);
    if next.j >= p.plane {
        next.j -= p.plane;
        next.b += 1u;
    }
    return next;
}

fn cursor_index(cur: Cursor, c: u32) -> u32 {
    return (cur.b * p.channels + c) * p.plane + cur.j;
}

// Sums `a` (and `b`) over the workgroup; every thread gets the totals. Call in uniform control flow.
fn reduce2(lid: u32, a: f32, b: f32) -> vec2f {
    partial_a[lid] = a;
    partial_b[lid] = b;
    workgroupBarrier();
    for (var stride = REDUCE_WG / 2u; stride > 0u; stride /= 2u) {
        if lid < stride {
            partial_a[lid] += partial_a[lid + stride];
            partial_b[lid] += partial_b[lid + stride];
        }
        workgroupBarrier();
    }
    let totals = vec2f(partial_a[0], partial_b[0]);
    workgroupBarrier();
    return totals;
}

// Welford's update over this thread's values of channel c: (count, mean, sum of squared
// deviations from the mean).
fn thread_moments(lid: u32, c: u32) -> vec3f {
    var m = vec3f(0.0);
    for (var cur = cursor_start(lid); cur.b < p.batch; cur = cursor_next(cur)) {
        let v = x[cursor_index(cur, c)];
        m.x += 1.0;
        let d = v - m.y;
        m.y += d / m.x;
        m.z += d * (v - m.y);
    }
    return m;
}

// Combines the threads' (count, mean, M2) over the workgroup, two at a time (Chan, Golub and
// LeVeque): mean += d·nb/n, M2 = M2a + M2b + d²·na·nb/n with d = mean_b − mean_a. Every thread
// gets the totals. Call in uniform control flow.
fn reduce_moments(lid: u32, m: vec3f) -> vec3f {
    partial_a[lid] = m.x;
    partial_b[lid] = m.y;
    partial_c[lid] = m.z;
    workgroupBarrier();
    for (var stride = REDUCE_WG / 2u; stride > 0u; stride /= 2u) {
        if lid < stride && partial_a[lid + stride] > 0.0 {
            let na = partial_a[lid];
            let nb = partial_a[lid + stride];
            let n = na + nb;
            let d = partial_b[lid + stride] - partial_b[lid];
            let f = nb / n;
            partial_b[lid] += d * f;
            partial_c[lid] += partial_c[lid + stride] + d * d * na * f;
            partial_a[lid] = n;
        }
        workgroupBarrier();
    }
    let totals = vec3f(partial_a[0], partial_b[0], partial_c[0]);
    workgroupBarrier();
    return totals;
}

// The planes [first, end) of an elementwise pass's workgroup.
fn plane_range(wid: vec3u, nwg: vec3u) -> vec2u {
    let first = workgroup_index(wid, nwg) * p.planes_per_group;
    return vec2u(first, min(first + p.planes_per_group, p.planes));
}

// ---- training forward ----

// Channel c's batch mean and inverse standard deviation (biased variance), which thread 0 saves,
// with the running statistics update (unbiased variance). Call in uniform control flow.
fn channel_stats(lid: u32, c: u32) -> vec2f {
    let n = f32(p.count);
    let moments = reduce_moments(lid, thread_moments(lid, c));
    let mu = moments.y;
    let var_biased = moments.z / n;
    let s = 1.0 / sqrt(var_biased + p.eps);
    if lid == 0u {
        mean[c] = mu;
        inv_std[c] = s;
        let m = p.momentum;
        running_mean[c] = (1.0 - m) * running_mean[c] + m * mu;
        running_var[c] = (1.0 - m) * running_var[c] + m * var_biased * (n / (n - 1.0));
    }
    return vec2f(mu, s);
}

// One workgroup per channel: the statistics (the normalize pass follows).
@compute @workgroup_size(REDUCE_WG)
fn train_stats(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    let c = workgroup_index(wid, nwg);
    if c >= p.channels { return; }  // uniform across the workgroup
    channel_stats(lid, c);
}

// One workgroup per channel, the whole training forward (CPU adapters): the statistics, then the
// channel's output out = (x − mean)·(gamma·inv_std) + beta and the ACT activation, its values read
// a second time while the CPU still caches them.
@compute @workgroup_size(REDUCE_WG)
fn train_channel(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    let c = workgroup_index(wid, nwg);
    if c >= p.channels { return; }  // uniform across the workgroup
    let stats = channel_stats(lid, c);
    let k = gamma[c] * stats.y;
    let b = beta[c];
    for (var cur = cursor_start(lid); cur.b < p.batch; cur = cursor_next(cur)) {
        let i = cursor_index(cur, c);
        out[i] = activate((x[i] - stats.x) * k + b, ACT);
    }
}

// The activation `act` (as ACT) of v.
fn activate(v: f32, act: u32) -> f32 {
    if act == 1u { return max(v, 0.0); }
    if act == 2u { return min(max(v, 0.0), 6.0); }
    return v;
}

// This thread's share of plane q: out = (x − mu)·k + b, then the activation `act`.
fn normalize_plane(q: u32, lid: u32, mu: f32, k: f32, b: f32, act: u32) {
    for (var i = q * p.plane + lid; i < (q + 1u) * p.plane; i += PLANE_WG) {
        out[i] = activate((x[i] - mu) * k + b, act);
    }
}

// Per plane: out = (x − mean)·(gamma·inv_std) + beta, then the ACT activation.
@compute @workgroup_size(64)
fn train_normalize(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    let range = plane_range(wid, nwg);
    for (var q = range.x; q < range.y; q++) {
        let c = q % p.channels;
        normalize_plane(q, lid, mean[c], gamma[c] * inv_std[c], beta[c], ACT);
    }
}

// ---- evaluation forward ----

// Per plane, normalizing with the running statistics.
@compute @workgroup_size(64)
fn eval_normalize(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    let range = plane_range(wid, nwg);
    for (var q = range.x; q < range.y; q++) {
        let c = q % p.channels;
        normalize_plane(q, lid, running_mean[c], gamma[c] / sqrt(running_var[c] + p.eps), beta[c], 0u);
    }
}

// ---- training backward ----

// Per channel, what the reduction pass leaves for the dx pass: the mean, k = gamma·inv_std and
// beta (the activation's input is (x − mean)·k + beta), dx's coefficients (dx = k·g − q·(x − mean)
// − r), and dgamma and dbeta.
const COEF: u32 = 8u;

// The gradient arriving at the BN output: dy, masked where the activation is flat at its input v:
// ReLU's v ≤ 0, ReLU6's v outside (0, 6) (the CPU reference's rules, which mask on the output).
fn upstream(i: u32, v: f32) -> f32 {
    let g = dy[i];
    if ACT == 1u { return select(0.0, g, v > 0.0); }
    if ACT == 2u { return select(0.0, g, v > 0.0 && v < 6.0); }
    return g;
}

// What the backward knows of channel c once its gradient sums are in: the saved mean, inverse
// standard deviation s, k = gamma·s, b = beta (the activation's input is (x − mean)·k + b), dgamma
// = Σ g·x̂ and dbeta = Σ g, and dx's coefficients q and r: dx = gamma·s/n · (n·g − dbeta −
// x̂·dgamma) = k·g − q·(x − mean) − r.
struct ChannelGrads {
    mu: f32,
    s: f32,
    k: f32,
    b: f32,
    dgamma: f32,
    dbeta: f32,
    q: f32,
    r: f32,
}

// Channel c's sums over the workgroup, and the coefficients they give. Call in uniform control flow.
fn channel_grads(lid: u32, c: u32) -> ChannelGrads {
    let mu = mean[c];
    let s = inv_std[c];
    let k = gamma[c] * s;
    let b = beta[c];
    var sum_g = 0.0;
    var sum_gx = 0.0;
    for (var cur = cursor_start(lid); cur.b < p.batch; cur = cursor_next(cur)) {
        let i = cursor_index(cur, c);
        let d = x[i] - mu;
        let g = upstream(i, d * k + b);
        sum_g += g;
        sum_gx += g * d * s;
    }
    let totals = reduce2(lid, sum_g, sum_gx);
    let kn = k / f32(p.count);
    return ChannelGrads(mu, s, k, b, totals.y, totals.x, kn * totals.y * s, kn * totals.x);
}

// dx at element i, whose x less the channel's mean is d (g recomputed as the sums saw it).
fn dx_at(i: u32, d: f32, k: f32, b: f32, q: f32, r: f32) -> f32 {
    return k * upstream(i, d * k + b) - q * d - r;
}

// One workgroup per channel: dbeta = Σ g, dgamma = Σ g·x̂, then the channel's coefficients (the
// dx pass follows).
@compute @workgroup_size(REDUCE_WG)
fn backward_reduce(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    let c = workgroup_index(wid, nwg);
    if c >= p.channels { return; }  // uniform across the workgroup
    let g = channel_grads(lid, c);
    if lid == 0u {
        let at = c * COEF;
        coef[at] = g.mu;
        coef[at + 1u] = g.k;
        coef[at + 2u] = g.b;
        coef[at + 3u] = g.q;
        coef[at + 4u] = g.r;
        coef[at + 5u] = g.dgamma;
        coef[at + 6u] = g.dbeta;
    }
}

// One workgroup per channel, the whole training backward (CPU adapters, where a stage may bind 9
// storage buffers): dgamma, dbeta, then the channel's dx, its x and dy read a second time while
// the CPU still caches them.
@compute @workgroup_size(REDUCE_WG)
fn backward_channel(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    let c = workgroup_index(wid, nwg);
    if c >= p.channels { return; }  // uniform across the workgroup
    let g = channel_grads(lid, c);
    if lid == 0u {
        dgamma[c] = g.dgamma;
        dbeta[c] = g.dbeta;
    }
    for (var cur = cursor_start(lid); cur.b < p.batch; cur = cursor_next(cur)) {
        let i = cursor_index(cur, c);
        out[i] = dx_at(i, x[i] - g.mu, g.k, g.b, g.q, g.r);
    }
}

// Per plane: dx = k·g − q·(x − mean) − r, with g recomputed as the reduction pass did; the first
// image's planes also copy their channel's dgamma and dbeta out of `coef`.
@compute @workgroup_size(64)
fn backward_dx(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    let range = plane_range(wid, nwg);
    for (var q = range.x; q < range.y; q++) {
        let c = q % p.channels;
        let at = c * COEF;
        let mu = coef[at];
        let k = coef[at + 1u];
        let b = coef[at + 2u];
        let kq = coef[at + 3u];
        let kr = coef[at + 4u];
        if q < p.channels && lid == 0u {
            dgamma[c] = coef[at + 5u];
            dbeta[c] = coef[at + 6u];
        }
        for (var i = q * p.plane + lid; i < (q + 1u) * p.plane; i += PLANE_WG) {
            out[i] = dx_at(i, x[i] - mu, k, b, kq, kr);
        }
    }
}
