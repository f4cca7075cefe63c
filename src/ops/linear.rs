//! The fully connected layer's shape: y = x·Wᵀ + b with x `[batch, in]`, W `[out, in]` (PyTorch's
//! layout) and b `[out]`. Shared by the WGSL kernels and the CPU reference.

use super::{expect, expect_nonzero, Operand};
use crate::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LinearShape {
    pub batch: usize,
    pub in_features: usize,
    pub out_features: usize,
}

impl LinearShape {
    /// Every dimension non-zero, and every tensor small enough for the kernels' u32 indices.
    pub fn validate(&self) -> Result<()> {
        expect_nonzero("linear", &[("batch", self.batch), ("in_features", self.in_features), ("out_features", self.out_features)])?;
        for (name, n) in [("x", self.x_len()), ("w", self.w_len()), ("y", self.y_len())] {
            if n > u32::MAX as usize {
                return Err(Error::shape("linear", format!("`{name}` would have {n} elements, more than a kernel can index")));
            }
        }
        Ok(())
    }

    /// Checks the shape, then each (role, operand) pair: x and dx `[batch, in]`, w and dw
    /// `[out, in]`, b and db `[out]`, y and dy `[batch, out]`.
    pub fn check(&self, op: &'static str, operands: &[(&str, &dyn Operand)]) -> Result<()> {
        self.validate()?;
        for &(role, t) in operands {
            let want = match role {
                "x" | "dx" => self.x_len(),
                "w" | "dw" => self.w_len(),
                "b" | "db" => self.out_features,
                _ => self.y_len(),
            };
            expect(op, role, t, want)?;
        }
        Ok(())
    }

    /// Multiply-adds of the forward pass, counted as 2 FLOPs each (each backward pass costs the same).
    pub fn flops(&self) -> f64 {
        2.0 * self.batch as f64 * self.in_features as f64 * self.out_features as f64
    }

    pub fn x_len(&self) -> usize {
        self.batch * self.in_features
    }
    pub fn w_len(&self) -> usize {
        self.out_features * self.in_features
    }
    pub fn y_len(&self) -> usize {
        self.batch * self.out_features
    }
}
