//! The GPU side of the op set: a context that owns the wgpu device (natively or in the browser),
//! f32 tensors in storage buffers, prepared dispatches, and one small wrapper per shader family.

pub mod batch;
pub mod batchnorm;
pub mod buffer;
pub mod context;
pub mod conv2d;
pub mod conv2d_common;
pub mod conv2d_depthwise;
pub mod conv2d_subgroup;
pub mod conv2d_wide;
pub mod elementwise;
pub mod linear;
pub mod loss;
pub mod pool;
pub mod registry;
pub mod sgd;
pub mod shaders;
pub mod tensor;
pub mod tune;
pub mod variant;

pub use buffer::{live_buffers, GpuBuffer, LiveBuffers};
pub use context::{block_on, grid, Dispatch, GpuContext};
pub use tensor::Tensor;
pub use variant::{Pass, TuneKey, TuneShape, Variant};
