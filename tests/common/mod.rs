//! Shared by the GPU tests: one context per test binary, and seeded random tensors.
#![allow(dead_code)]

use std::sync::OnceLock;

use tricklab::rng::Rng;
use tricklab::gpu::{block_on, GpuContext, Tensor};
use tricklab::nn::cpu::CpuNet;
use tricklab::nn::gpu::GpuNet;

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
