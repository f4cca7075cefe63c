//! The op set's shared definitions: parameter structs, shape checks and FLOP formulas that the GPU
//! kernels and the CPU reference both use, so the two cannot disagree on what an op means.

use crate::{Error, Result};

/// Checks that a buffer or slice named `name` holds `want` elements.
pub fn expect_len(op: &'static str, name: &str, got: usize, want: usize) -> Result<()> {
    if want == 0 {
        return Err(Error::shape(op, format!("`{name}` would be empty; every dimension must be at least 1")));
    }
    if got != want {
        return Err(Error::shape(op, format!("`{name}` has {got} elements but {want} were expected")));
    }
    Ok(())
}

/// Checks that every dimension is non-zero.
pub fn expect_nonzero(op: &'static str, dims: &[(&str, usize)]) -> Result<()> {
    for (name, d) in dims {
        if *d == 0 {
            return Err(Error::shape(op, format!("`{name}` is 0; every dimension must be at least 1")));
        }
    }
    Ok(())
}

pub mod batch;
pub mod batchnorm;
pub mod conv2d;
pub mod linear;
pub mod loss;
pub mod pool;
pub mod sgd;
