//! Shared by the GPU tests: one context per test binary, and seeded random tensors.
#![allow(dead_code)]

use std::sync::OnceLock;

use tricklab::check::Rng;
use tricklab::gpu::{block_on, GpuContext, Tensor};

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
