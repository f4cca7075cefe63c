// Batch assembly: the training batch made on the GPU from the dataset's u8 pixels (packed four to a
// u32, split into shards of whole images) and one step's small inputs (sample ids, packed crop
// offsets and flip bits, and the step's valid count and mixup λ). Three passes, one thread per
// output element each:
//   gather        (one dispatch per shard) crop with zero padding, flip, normalize -> raw
//   mix_images    x_i = λ raw_i + (1 − λ) raw_{valid−1−i}; zero for padding entries
//   make_targets  smoothed one-hot targets mixed the same way, and labels as f32 (−1 for padding)
// Mixing reads `raw` and writes `x`, so no thread reads a value another thread overwrites.

struct Params {
    mean: vec4<f32>,
    stddev: vec4<f32>,
    batch: u32,
    classes: u32,
    pad: u32,
    shard_first: u32,   // id of the shard's first image
    shard_count: u32,   // images in the shard
    keep: f32,          // 1 − ε
    spread: f32,        // ε / K
}

// Written by the trainer every step.
struct Step {
    valid: u32,         // entries [0, valid) hold samples; the rest are padding
    lambda: f32,        // mixup weight; 1 = no mixing
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<uniform> batch_step: Step;
@group(0) @binding(2) var<storage, read> indices: array<u32>;
@group(0) @binding(3) var<storage, read> aug: array<u32>;
@group(0) @binding(4) var<storage, read> pixels: array<u32>;        // one shard, 4 pixels per u32
@group(0) @binding(5) var<storage, read> dataset_labels: array<u32>;
@group(0) @binding(6) var<storage, read_write> raw: array<f32>;
@group(0) @binding(7) var<storage, read_write> x: array<f32>;
@group(0) @binding(8) var<storage, read_write> targets: array<f32>;
@group(0) @binding(9) var<storage, read_write> labels: array<f32>;

// The image shape, fixed per pipeline so the index arithmetic divides by constants.
override CHANNELS: u32;
override HEIGHT: u32;
override WIDTH: u32;

const WG: u32 = 256u;

// Pixel byte `b` of the shard.
fn pixel(b: u32) -> u32 {
    return (pixels[b / 4u] >> (8u * (b % 4u))) & 0xffu;
}

@compute @workgroup_size(256)
fn gather(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    let plane = HEIGHT * WIDTH;
    let image_len = CHANNELS * plane;
    let e = thread_index(wid, nwg, lid, WG);
    if e >= p.batch * image_len { return; }
    let i = e / image_len;
    if i >= batch_step.valid { return; }
    let id = indices[i];
    if id < p.shard_first || id - p.shard_first >= p.shard_count { return; }

    let r = e % image_len;
    let c = r / plane;
    let y = (r % plane) / WIDTH;
    let xo = r % WIDTH;
    let a = aug[i];
    let ox = a & 0xffu;
    let oy = (a >> 8u) & 0xffu;
    let flip = ((a >> 16u) & 1u) == 1u;
    let cx = select(xo, WIDTH - 1u - xo, flip);
    // Coordinates in the source image; the padding (outside it) is black.
    let sy = i32(y + oy) - i32(p.pad);
    let sx = i32(cx + ox) - i32(p.pad);
    var v = 0u;
    if sy >= 0 && sy < i32(HEIGHT) && sx >= 0 && sx < i32(WIDTH) {
        v = pixel((id - p.shard_first) * image_len + c * plane + u32(sy) * WIDTH + u32(sx));
    }
    raw[e] = (f32(v) / 255.0 - p.mean[c]) / p.stddev[c];
}

@compute @workgroup_size(256)
fn mix_images(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    let image_len = CHANNELS * HEIGHT * WIDTH;
    let e = thread_index(wid, nwg, lid, WG);
    if e >= p.batch * image_len { return; }
    let i = e / image_len;
    if i >= batch_step.valid {
        x[e] = 0.0;
        return;
    }
    let partner = batch_step.valid - 1u - i;
    let r = e % image_len;
    x[e] = batch_step.lambda * raw[e] + (1.0 - batch_step.lambda) * raw[partner * image_len + r];
}

// The seed's smooth_labels of a one-hot entry: onehot · (1 − ε) + ε / K.
fn smoothed(label: u32, k: u32) -> f32 {
    return select(0.0, p.keep, label == k) + p.spread;
}

@compute @workgroup_size(256)
fn make_targets(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    let e = thread_index(wid, nwg, lid, WG);
    if e >= p.batch * p.classes { return; }
    let i = e / p.classes;
    let k = e % p.classes;
    if i >= batch_step.valid {
        targets[e] = 0.0;
        if k == 0u { labels[i] = -1.0; }
        return;
    }
    let label = dataset_labels[indices[i]];
    let other = dataset_labels[indices[batch_step.valid - 1u - i]];
    targets[e] = batch_step.lambda * smoothed(label, k) + (1.0 - batch_step.lambda) * smoothed(other, k);
    // Accuracy is scored against the class the mixed target weighs most (the image's own label
    // when λ ≥ 1/2, its partner's below), i.e. what the network is asked to predict.
    if k == 0u { labels[i] = f32(select(other, label, batch_step.lambda >= 0.5)); }
}
