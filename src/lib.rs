//! tricklab: the tricks of "Bag of Tricks for Image Classification with CNNs" (He et al., 2019),
//! trained on WebGPU. One op set with two implementations: WGSL kernels (`gpu`) and a plain-Rust
//! CPU oracle (`reference`), sharing the shape definitions in `ops`.

pub mod bench;
pub mod check;
pub mod clock;
pub mod data;
pub mod error;
pub mod gpu;
pub mod inspect;
pub mod lessons;
pub mod names;
pub mod nn;
pub mod ops;
pub mod reference;
pub mod rng;
pub mod train;

#[cfg(target_arch = "wasm32")]
mod web;

pub use error::{Error, Result};
