// Loss kernels: softmax cross-entropy against soft targets and knowledge distillation. One thread
// per sample writes the gradient of the batch-mean loss into `dlogits` and its own loss and
// correctness into `per_sample`; then `accumulate` (one workgroup, fixed summation order, so the
// result is the same on every run) adds the batch's sums into `metrics`
// = [Σ loss, Σ correct, Σ samples]. Rows are done with the row maximum subtracted, so large logits
// are safe. Labels are class indices stored as f32; the first maximum wins ties.

struct Params {
    batch: u32,
    classes: u32,
    temperature: f32,  // distillation only
    hard_weight: f32,  // distillation only
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> teacher: array<f32>;
@group(0) @binding(3) var<storage, read> targets: array<f32>;
@group(0) @binding(4) var<storage, read> labels: array<f32>;
@group(0) @binding(5) var<storage, read_write> dlogits: array<f32>;
@group(0) @binding(6) var<storage, read_write> per_sample: array<vec2f>;  // (loss, correct)
@group(0) @binding(7) var<storage, read_write> metrics: array<f32>;

const WG: u32 = 64u;

// The student's row maximum and the index of its first occurrence.
struct RowMax {
    value: f32,
    index: u32,
}

fn logits_max(base: u32) -> RowMax {
    var best = RowMax(logits[base], 0u);
    for (var j = 1u; j < p.classes; j++) {
        let z = logits[base + j];
        if z > best.value {
            best = RowMax(z, j);
        }
    }
    return best;
}

fn teacher_max(base: u32) -> f32 {
    var m = teacher[base];
    for (var j = 1u; j < p.classes; j++) {
        m = max(m, teacher[base + j]);
    }
    return m;
}

fn record(i: u32, loss: f32, argmax: u32) {
    per_sample[i] = vec2f(loss, select(0.0, 1.0, f32(argmax) == labels[i]));
}

// Per sample: loss = −Σ t·log softmax(z); dlogits = (softmax(z)·Σt − t) / N.
@compute @workgroup_size(64)
fn cross_entropy(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    let i = thread_index(wid, nwg, lid, WG);
    if i >= p.batch { return; }
    let base = i * p.classes;
    let top = logits_max(base);
    var sum_exp = 0.0;
    var t_sum = 0.0;
    for (var j = 0u; j < p.classes; j++) {
        sum_exp += exp(logits[base + j] - top.value);
        t_sum += targets[base + j];
    }
    let log_sum = log(sum_exp);
    let inv_n = 1.0 / f32(p.batch);
    var loss = 0.0;
    for (var j = 0u; j < p.classes; j++) {
        let log_sm = logits[base + j] - top.value - log_sum;
        let t = targets[base + j];
        loss -= t * log_sm;
        dlogits[base + j] = (exp(log_sm) * t_sum - t) * inv_n;
    }
    record(i, loss, top.index);
}

// Per sample: loss = a·CE(z, t) + (1 − a)·T²·KL(p ‖ q) with p = softmax(teacher/T),
// q = softmax(z/T); dlogits = (a·(softmax(z)·Σt − t) + (1 − a)·T·(q − p)) / N.
@compute @workgroup_size(64)
fn distillation(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    let i = thread_index(wid, nwg, lid, WG);
    if i >= p.batch { return; }
    let base = i * p.classes;
    let a = p.hard_weight;
    let temp = p.temperature;
    let inv_t = 1.0 / temp;
    let top = logits_max(base);
    let t_max = teacher_max(base);
    var sum_exp = 0.0;     // Σ exp(z − max z)
    var sum_exp_q = 0.0;   // Σ exp((z − max z) / T)
    var sum_exp_p = 0.0;   // Σ exp((teacher − max teacher) / T)
    var t_sum = 0.0;
    for (var j = 0u; j < p.classes; j++) {
        let dz = logits[base + j] - top.value;
        sum_exp += exp(dz);
        sum_exp_q += exp(dz * inv_t);
        sum_exp_p += exp((teacher[base + j] - t_max) * inv_t);
        t_sum += targets[base + j];
    }
    let log_sum = log(sum_exp);
    let log_sum_q = log(sum_exp_q);
    let log_sum_p = log(sum_exp_p);
    let inv_n = 1.0 / f32(p.batch);
    var hard = 0.0;
    var kl = 0.0;
    for (var j = 0u; j < p.classes; j++) {
        let dz = logits[base + j] - top.value;
        let t = targets[base + j];
        let log_sm = dz - log_sum;
        let log_q = dz * inv_t - log_sum_q;
        let log_p = (teacher[base + j] - t_max) * inv_t - log_sum_p;
        let prob_p = exp(log_p);
        hard -= t * log_sm;
        kl += prob_p * (log_p - log_q);
        let soft_grad = temp * (exp(log_q) - prob_p);
        dlogits[base + j] = (a * (exp(log_sm) * t_sum - t) + (1.0 - a) * soft_grad) * inv_n;
    }
    record(i, a * hard + (1.0 - a) * temp * temp * kl, top.index);
}

var<workgroup> partial: array<vec2f, WG>;

// metrics += (Σ_i loss_i, Σ_i correct_i, batch), summed in a fixed order by one workgroup.
@compute @workgroup_size(64)
fn accumulate(@builtin(local_invocation_index) lid: u32) {
    var sum = vec2f(0.0);
    for (var i = lid; i < p.batch; i += WG) {
        sum += per_sample[i];
    }
    partial[lid] = sum;
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
        if lid < stride {
            partial[lid] += partial[lid + stride];
        }
        workgroupBarrier();
    }
    if lid == 0u {
        metrics[0] += partial[0].x;
        metrics[1] += partial[0].y;
        metrics[2] += f32(p.batch);
    }
}
