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
// The same x, dy and out four values at a time, for the per-channel passes' `4` entries (planes of
// a multiple of 4 values). A CPU adapter loads one vec4 for little more than one f32: llvmpipe
// walks a vector's invocations one by one for every load or store whose address differs between
// them, and a vec4 costs one such walk.
@group(0) @binding(14) var<storage, read> x4: array<vec4f>;
@group(0) @binding(15) var<storage, read> dy4: array<vec4f>;
@group(0) @binding(16) var<storage, read_write> out4: array<vec4f>;

var<workgroup> partial_a: array<f32, 256>;
var<workgroup> partial_b: array<f32, 256>;
var<workgroup> partial_c: array<f32, 256>;

// ---- walking one channel: thread `lid` visits values (or vec4s) lid, lid + REDUCE_WG, ... ----

// How a thread steps through a channel: the plane's size in the units read (values or vec4s),
// and the images and plane offset one step of REDUCE_WG units advances.
struct Walk {
    plane: u32,
    step_b: u32,
    step_j: u32,
}

fn walk1() -> Walk {
    return Walk(p.plane, p.step_b, p.step_j);
}

fn walk4() -> Walk {
    let q = p.plane / 4u;
    return Walk(q, REDUCE_WG / q, REDUCE_WG % q);
}

struct Cursor {
    b: u32,  // image
    j: u32,  // offset inside the plane
}

fn cursor_start(lid: u32, w: Walk) -> Cursor {
    return Cursor(lid / w.plane, lid % w.plane);
}

fn cursor_next(cur: Cursor, w: Walk) -> Cursor {
    var next = Cursor(cur.b + w.step_b, cur.j + w.step_j);
    if next.j >= w.plane {
        next.j -= w.plane;
        next.b += 1u;
    }
    return next;
}

fn cursor_index(cur: Cursor, c: u32, w: Walk) -> u32 {
    return (cur.b * p.channels + c) * w.plane + cur.j;
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

// Two sets of values' (count, mean, sum of squared deviations from the mean) combined (Chan, Golub
// and LeVeque): mean += d·nb/n, M2 = M2a + M2b + d²·na·nb/n with d = mean_b − mean_a. With b one
// value (1, v, 0) this is Welford's update.
fn combine(a: vec3f, b: vec3f) -> vec3f {
    let n = a.x + b.x;
    let d = b.y - a.y;
    let f = b.x / n;
    return vec3f(n, a.y + d * f, a.z + b.z + d * d * a.x * f);
}

// This thread's (count, mean, M2) of channel c, one value at a time.
fn thread_moments(lid: u32, c: u32) -> vec3f {
    let w = walk1();
    var m = vec3f(0.0);
    for (var cur = cursor_start(lid, w); cur.b < p.batch; cur = cursor_next(cur, w)) {
        m = combine(m, vec3f(1.0, x[cursor_index(cur, c, w)], 0.0));
    }
    return m;
}

// The same, four values at a time: each vec4's own moments, combined into the thread's.
fn thread_moments4(lid: u32, c: u32) -> vec3f {
    let w = walk4();
    var m = vec3f(0.0);
    for (var cur = cursor_start(lid, w); cur.b < p.batch; cur = cursor_next(cur, w)) {
        let v = x4[cursor_index(cur, c, w)];
        let mean4 = dot(v, vec4f(0.25));
        let e = v - vec4f(mean4);
        m = combine(m, vec3f(4.0, mean4, dot(e, e)));
    }
    return m;
}

// Combines the threads' (count, mean, M2) over the workgroup, two at a time. Every thread gets the
// totals. Call in uniform control flow.
fn reduce_moments(lid: u32, m: vec3f) -> vec3f {
    partial_a[lid] = m.x;
    partial_b[lid] = m.y;
    partial_c[lid] = m.z;
    workgroupBarrier();
    for (var stride = REDUCE_WG / 2u; stride > 0u; stride /= 2u) {
        if lid < stride && partial_a[lid + stride] > 0.0 {
            let t = combine(vec3f(partial_a[lid], partial_b[lid], partial_c[lid]),
                            vec3f(partial_a[lid + stride], partial_b[lid + stride], partial_c[lid + stride]));
            partial_a[lid] = t.x;
            partial_b[lid] = t.y;
            partial_c[lid] = t.z;
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

// Channel c's batch mean and inverse standard deviation (biased variance) from each thread's
// moments `own`, which thread 0 saves,
// with the running statistics update (unbiased variance). Call in uniform control flow.
fn channel_stats(lid: u32, c: u32, own: vec3f) -> vec2f {
    let n = f32(p.count);
    let moments = reduce_moments(lid, own);
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
    channel_stats(lid, c, thread_moments(lid, c));
}

// One workgroup per channel, the whole training forward (CPU adapters): the statistics, then the
// channel's output out = (x − mean)·(gamma·inv_std) + beta and the ACT activation, its values read
// a second time while the CPU still caches them.
@compute @workgroup_size(REDUCE_WG)
fn train_channel(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    let c = workgroup_index(wid, nwg);
    if c >= p.channels { return; }  // uniform across the workgroup
    let stats = channel_stats(lid, c, thread_moments(lid, c));
    let k = gamma[c] * stats.y;
    let b = beta[c];
    let w = walk1();
    for (var cur = cursor_start(lid, w); cur.b < p.batch; cur = cursor_next(cur, w)) {
        let i = cursor_index(cur, c, w);
        out[i] = activate((x[i] - stats.x) * k + b, ACT);
    }
}

// train_channel four values at a time (planes of a multiple of 4 values).
@compute @workgroup_size(REDUCE_WG)
fn train_channel4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    let c = workgroup_index(wid, nwg);
    if c >= p.channels { return; }  // uniform across the workgroup
    let stats = channel_stats(lid, c, thread_moments4(lid, c));
    let k = gamma[c] * stats.y;
    let b = beta[c];
    let w = walk4();
    for (var cur = cursor_start(lid, w); cur.b < p.batch; cur = cursor_next(cur, w)) {
        let i = cursor_index(cur, c, w);
        out4[i] = activate4((x4[i] - vec4f(stats.x)) * k + vec4f(b), ACT);
    }
}

// The activation `act` (as ACT) of v.
fn activate(v: f32, act: u32) -> f32 {
    if act == 1u { return max(v, 0.0); }
    if act == 2u { return min(max(v, 0.0), 6.0); }
    return v;
}

fn activate4(v: vec4f, act: u32) -> vec4f {
    if act == 1u { return max(v, vec4f(0.0)); }
    if act == 2u { return min(max(v, vec4f(0.0)), vec4f(6.0)); }
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
    return masked(dy[i], v);
}

fn upstream4(i: u32, v: vec4f) -> vec4f {
    return masked4(dy4[i], v);
}

fn masked(g: f32, v: f32) -> f32 {
    if ACT == 1u { return select(0.0, g, v > 0.0); }
    if ACT == 2u { return select(0.0, g, v > 0.0 && v < 6.0); }
    return g;
}

fn masked4(g: vec4f, v: vec4f) -> vec4f {
    if ACT == 1u { return select(vec4f(0.0), g, v > vec4f(0.0)); }
    if ACT == 2u { return select(vec4f(0.0), g, (v > vec4f(0.0)) & (v < vec4f(6.0))); }
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

// Channel c's saved statistics and parameters (the sums still zero).
fn channel_params(c: u32) -> ChannelGrads {
    let s = inv_std[c];
    return ChannelGrads(mean[c], s, gamma[c] * s, beta[c], 0.0, 0.0, 0.0, 0.0);
}

// This thread's Σ g and Σ g·x̂ over channel c, one value at a time.
fn thread_sums(lid: u32, c: u32, ch: ChannelGrads) -> vec2f {
    let w = walk1();
    var sums = vec2f(0.0);
    for (var cur = cursor_start(lid, w); cur.b < p.batch; cur = cursor_next(cur, w)) {
        let i = cursor_index(cur, c, w);
        let d = x[i] - ch.mu;
        let g = upstream(i, d * ch.k + ch.b);
        sums += vec2f(g, g * d * ch.s);
    }
    return sums;
}

// The same, four values at a time.
fn thread_sums4(lid: u32, c: u32, ch: ChannelGrads) -> vec2f {
    let w = walk4();
    var sums = vec2f(0.0);
    for (var cur = cursor_start(lid, w); cur.b < p.batch; cur = cursor_next(cur, w)) {
        let i = cursor_index(cur, c, w);
        let d = x4[i] - vec4f(ch.mu);
        let g = upstream4(i, d * ch.k + vec4f(ch.b));
        sums += vec2f(dot(g, vec4f(1.0)), dot(g, d) * ch.s);
    }
    return sums;
}

// The channel's sums over the workgroup (each thread's are `own`), and the coefficients they give.
// Call in uniform control flow.
fn channel_grads(lid: u32, ch: ChannelGrads, own: vec2f) -> ChannelGrads {
    let totals = reduce2(lid, own.x, own.y);
    let kn = ch.k / f32(p.count);
    return ChannelGrads(ch.mu, ch.s, ch.k, ch.b, totals.y, totals.x, kn * totals.y * ch.s, kn * totals.x);
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
    let ch = channel_params(c);
    let g = channel_grads(lid, ch, thread_sums(lid, c, ch));
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
    let ch = channel_params(c);
    let g = channel_grads(lid, ch, thread_sums(lid, c, ch));
    if lid == 0u {
        dgamma[c] = g.dgamma;
        dbeta[c] = g.dbeta;
    }
    let w = walk1();
    for (var cur = cursor_start(lid, w); cur.b < p.batch; cur = cursor_next(cur, w)) {
        let i = cursor_index(cur, c, w);
        out[i] = dx_at(i, x[i] - g.mu, g.k, g.b, g.q, g.r);
    }
}

// backward_channel four values at a time (planes of a multiple of 4 values).
@compute @workgroup_size(REDUCE_WG)
fn backward_channel4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    let c = workgroup_index(wid, nwg);
    if c >= p.channels { return; }  // uniform across the workgroup
    let ch = channel_params(c);
    let g = channel_grads(lid, ch, thread_sums4(lid, c, ch));
    if lid == 0u {
        dgamma[c] = g.dgamma;
        dbeta[c] = g.dbeta;
    }
    let w = walk4();
    for (var cur = cursor_start(lid, w); cur.b < p.batch; cur = cursor_next(cur, w)) {
        let i = cursor_index(cur, c, w);
        let d = x4[i] - vec4f(g.mu);
        out4[i] = g.k * upstream4(i, d * g.k + vec4f(g.b)) - g.q * d - vec4f(g.r);
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
