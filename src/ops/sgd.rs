//! Parameters of one SGD update with momentum, PyTorch's semantics (dampening 0):
//!     g = grad + weight_decay · w;  v = momentum · v + g;
//!     step = nesterov ? g + momentum · v : v;  w -= lr · step.
//! Weight decay is per tensor (0 for biases and BN parameters under "no bias decay"). The learning
//! rate is not part of the parameters: it changes every step and is passed separately.

use super::{expect_all, expect_nonzero, Operand};
use crate::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SgdParams {
    /// Elements of the weight, gradient and velocity tensors.
    pub len: usize,
    pub momentum: f32,
    pub weight_decay: f32,
    pub nesterov: bool,
}

impl SgdParams {
    pub fn validate(&self) -> Result<()> {
        expect_nonzero("sgd", &[("len", self.len)])?;
        if self.len > u32::MAX as usize {
            return Err(Error::shape("sgd", format!("{} parameters are more than a kernel can index", self.len)));
        }
        if !(self.momentum >= 0.0 && self.momentum.is_finite()) {
            return Err(Error::shape("sgd", format!("momentum must be a number ≥ 0, not {}", self.momentum)));
        }
        if !(self.weight_decay >= 0.0 && self.weight_decay.is_finite()) {
            return Err(Error::shape("sgd", format!("weight_decay must be a number ≥ 0, not {}", self.weight_decay)));
        }
        if self.nesterov && self.momentum == 0.0 {
            return Err(Error::shape("sgd", "Nesterov momentum needs a momentum above 0"));
        }
        Ok(())
    }

    /// Checks the parameters, then the weight, gradient and velocity operands.
    pub fn check(&self, w: &dyn Operand, grad: &dyn Operand, velocity: &dyn Operand) -> Result<()> {
        self.validate()?;
        expect_all("sgd", &[("w", w), ("grad", grad), ("velocity", velocity)], self.len)
    }
}
