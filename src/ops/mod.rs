//! The op set's shared definitions: parameter structs, shape checks and FLOP formulas that the GPU
//! kernels and the CPU reference both use, so the two cannot disagree on what an op means.

use crate::{Error, Result};

/// What an op's shape checks look at: a CPU slice or a GPU tensor. A tensor is named by its label
/// in errors; a slice has no name, so the role (`x`, `dy`, ...) is used.
pub trait Operand {
    fn elements(&self) -> usize;
    fn name(&self) -> Option<&str> {
        None
    }
}

impl Operand for &[f32] {
    fn elements(&self) -> usize {
        self.len()
    }
}

impl Operand for &mut [f32] {
    fn elements(&self) -> usize {
        self.len()
    }
}

/// Checks that the operand playing `role` in `op` holds `want` elements.
pub fn expect(op: &'static str, role: &str, t: &dyn Operand, want: usize) -> Result<()> {
    expect_len(op, t.name().unwrap_or(role), t.elements(), want)
}

/// `expect` for each (role, operand) pair.
pub fn expect_all(op: &'static str, operands: &[(&str, &dyn Operand)], want: usize) -> Result<()> {
    operands.iter().try_for_each(|(role, t)| expect(op, role, *t, want))
}

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
pub mod targets;
