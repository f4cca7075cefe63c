//! The CPU reference: plain, readable Rust for every op, with the same layouts as the WGSL kernels.
//! It is the oracle in every test, and its backward passes are themselves checked against finite
//! differences (`gradcheck`).

pub mod batch;
pub mod batchnorm;
pub mod conv2d;
pub mod elementwise;
pub mod gradcheck;
pub mod linear;
pub mod loss;
pub mod pool;
pub mod sgd;
pub mod sync;
