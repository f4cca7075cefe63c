//! GPU buffers that count themselves. Every buffer the crate makes (tensors, parameters, dataset
//! shards, uniforms, readback staging) is a `GpuBuffer`: making one adds it and its bytes to
//! process-wide counters, and dropping its last owner destroys it at once (in the browser a
//! dropped `wgpu::Buffer` would otherwise hold its memory until the JS garbage collector finds it)
//! and takes it off the counters. `live_buffers()` is what a finished run must return to; the page's browser
//! tests read it through `web::device::gpu_memory` after 20 runs in one tab.

use std::ops::Deref;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use wgpu::util::DeviceExt;

static LIVE_BUFFERS: AtomicU64 = AtomicU64::new(0);
static LIVE_BYTES: AtomicU64 = AtomicU64::new(0);

/// Buffers alive now (made and not yet dropped) across every context, and their total size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct LiveBuffers {
    pub buffers: u64,
    pub bytes: u64,
}

pub fn live_buffers() -> LiveBuffers {
    LiveBuffers { buffers: LIVE_BUFFERS.load(Ordering::Relaxed), bytes: LIVE_BYTES.load(Ordering::Relaxed) }
}

/// A `wgpu::Buffer` (use it as one through `Deref`) that is counted while it lives. Clones share
/// the buffer: a prepared `Dispatch` keeps a clone of each buffer it binds, so a scratch tensor
/// dropped by the code that made it lives on with the dispatch that uses it, and is destroyed
/// with the last owner.
#[derive(Clone)]
pub struct GpuBuffer(Arc<Counted>);

struct Counted(wgpu::Buffer);

impl GpuBuffer {
    // Natively a wgpu::Buffer is Send + Sync and so is this; on wasm32 neither is (one thread).
    #[allow(clippy::arc_with_non_send_sync)]
    fn counted(buffer: wgpu::Buffer) -> GpuBuffer {
        LIVE_BUFFERS.fetch_add(1, Ordering::Relaxed);
        LIVE_BYTES.fetch_add(buffer.size(), Ordering::Relaxed);
        GpuBuffer(Arc::new(Counted(buffer)))
    }
}

impl Deref for GpuBuffer {
    type Target = wgpu::Buffer;
    fn deref(&self) -> &wgpu::Buffer {
        &self.0 .0
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        // Work already submitted that reads the buffer still completes (WebGPU and wgpu-core free
        // the memory after it); nothing can submit it afterwards, as no tensor or dispatch holds it.
        self.0.destroy();
        LIVE_BUFFERS.fetch_sub(1, Ordering::Relaxed);
        LIVE_BYTES.fetch_sub(self.0.size(), Ordering::Relaxed);
    }
}

impl GpuBuffer {
    /// An uninitialized (zero-filled) counted buffer (`GpuContext::buffer`).
    pub fn new(device: &wgpu::Device, desc: &wgpu::BufferDescriptor) -> GpuBuffer {
        GpuBuffer::counted(device.create_buffer(desc))
    }

    /// A counted buffer holding `desc.contents` (`GpuContext::buffer_init`).
    pub fn with_contents(device: &wgpu::Device, desc: &wgpu::util::BufferInitDescriptor) -> GpuBuffer {
        GpuBuffer::counted(device.create_buffer_init(desc))
    }
}
