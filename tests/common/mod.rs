//! Shared by the GPU tests: one context per test binary, and seeded random tensors.
#![allow(dead_code)]

use std::sync::OnceLock;

use tricklab::rng::Rng;
use tricklab::gpu::{block_on, GpuContext, Tensor};
use tricklab::nn::cpu::CpuNet;
use tricklab::nn::gpu::GpuNet;
use tricklab::ops::conv2d::Conv2dShape;

/// The test binary's GPU context. With no adapter the test fails (never skips) with a message
/// that says how to install Mesa's software Vulkan driver.
pub fn ctx() -> &'static GpuContext {
    static CTX: OnceLock<GpuContext> = OnceLock::new();
    CTX.get_or_init(|| match block_on(GpuContext::new()) {
        Ok(ctx) => ctx,
        Err(e) => panic!("GPU tests need a WebGPU adapter: {e}"),
    })
}

pub fn upload(label: &str, shape: &[usize], data: &[f32]) -> Tensor {
    ctx().tensor(label, shape, data).unwrap()
}

pub fn zeros(label: &str, shape: &[usize]) -> Tensor {
    ctx().zeros(label, shape).unwrap()
}

pub fn read(t: &Tensor) -> Vec<f32> {
    ctx().read_blocking(t).unwrap()
}

pub fn random(rng: &mut Rng, n: usize) -> Vec<f32> {
    rng.vec(n, -1.0, 1.0)
}

/// Loads the GPU's forward state (every activation and each BN's batch statistics) into the CPU
/// net, so both backward passes start from one forward state: an activation within rounding of a
/// kink (ReLU's 0, ReLU6's 0 and 6, a max-pool tie) cannot send them down different branches.
/// Without this, MobileNetV2 at batch 2 differed by up to 4% in its first layers' gradients from a
/// single flipped ReLU6 mask in block 7, with every kernel exact on its own.
pub fn take_forward_state(cpu: &mut CpuNet, gpu: &GpuNet) {
    for (a, t) in gpu.acts.iter().enumerate().skip(1) {
        cpu.acts[a] = read(t);
    }
    for (i, (mean, inv_std)) in gpu.saved.iter().enumerate() {
        cpu.saved[i] = (read(mean), read(inv_std));
    }
}

pub fn conv(batch: usize, cin: usize, hw: usize, cout: usize, k: usize, stride: usize, pad: usize) -> Conv2dShape {
    Conv2dShape::new(batch, cin, hw, cout, k, stride, pad)
}

/// Shapes covering the kernels' edge cases: sizes that are not multiples of the 4×4 register block,
/// of the 64-thread workgroup or of the tiled kernels' 64×64 tile and 16-deep K step, batch 1,
/// stride 2 (odd and even inputs), padding 0 and 1, 1×1, 3×3, 5×5 and 7×7 kernels, depthwise,
/// grouped, a channel multiplier, 3/16/64 channels, and one shape larger than a 64×64 tile in every
/// GEMM dimension of every pass (M = 80 or 96 channels, N and K ≥ 720).
pub fn conv_shapes() -> Vec<(&'static str, Conv2dShape)> {
    vec![
        ("stem 3->16 3x3 9x9", conv(2, 3, 9, 16, 3, 1, 1)),
        ("batch 1 16->16 3x3 7x7", conv(1, 16, 7, 16, 3, 1, 1)),
        ("16->32 3x3 stride 2 odd 9x9", conv(2, 16, 9, 32, 3, 2, 1)),
        ("16->32 3x3 stride 2 even 8x8", conv(2, 16, 8, 32, 3, 2, 1)),
        ("5->7 3x3 pad 0 non-square", Conv2dShape { in_h: 6, in_w: 5, ..conv(2, 5, 6, 7, 3, 1, 0) }),
        ("projection 16->32 1x1 stride 2", conv(3, 16, 8, 32, 1, 2, 0)),
        ("1x1 3->5 stride 1", conv(2, 3, 5, 5, 1, 1, 0)),
        ("1x1 24->20 on 4x4 (rows shorter than a pixel block)", conv(3, 24, 4, 20, 1, 1, 0)),
        ("64->64 3x3 5x5", conv(2, 64, 5, 64, 3, 1, 1)),
        ("5x5 kernel 3->6 pad 2", conv(2, 3, 11, 6, 5, 1, 2)),
        ("7x7 kernel stride 2 pad 3", conv(1, 3, 13, 8, 7, 2, 3)),
        ("3x3 kernel on 3x3 input stride 2", conv(2, 4, 3, 5, 3, 2, 0)),
        ("depthwise 16 3x3 stride 1", conv(2, 16, 9, 16, 3, 1, 1).with_groups(16)),
        ("depthwise 16 3x3 stride 2", conv(2, 16, 10, 16, 3, 2, 1).with_groups(16)),
        ("grouped 12->8 groups 4", conv(2, 12, 7, 8, 3, 1, 1).with_groups(4)),
        ("grouped 8->8 groups 2 stride 2", conv(2, 8, 9, 8, 3, 2, 1).with_groups(2)),
        ("channel multiplier 4->8 groups 4", conv(2, 4, 6, 8, 3, 1, 1).with_groups(4)),
        ("many chunks 16->16 16x16 batch 4", conv(4, 16, 16, 16, 3, 1, 1)),
        ("several tiles 80->96 3x3 16x16 batch 4", conv(4, 80, 16, 96, 3, 1, 1)),
        ("larger 64->64 16x16 batch 4", conv(4, 64, 16, 64, 3, 1, 1)),
    ]
}

/// `count` 28×28 "digits": class c is a bright 6×6 square at a class-dependent place, plus noise.
pub fn digits(count: usize, seed: u64) -> tricklab::data::Dataset {
    let mut rng = Rng::new(seed);
    let mut images = vec![0u8; count * 784];
    let mut labels = Vec::with_capacity(count);
    for i in 0..count {
        let c = rng.below(10);
        labels.push(c as u8);
        let (top, left) = (2 + (c / 5) * 12, 2 + (c % 5) * 5);
        for (p, px) in images[i * 784..(i + 1) * 784].iter_mut().enumerate() {
            let (y, x) = (p / 28, p % 28);
            let inside = (top..top + 6).contains(&y) && (left..left + 6).contains(&x);
            *px = if inside { 200 } else { 0 } + rng.below(40) as u8;
        }
    }
    tricklab::data::Dataset { images, labels, count, channels: 1, height: 28, width: 28, classes: 10 }
}
