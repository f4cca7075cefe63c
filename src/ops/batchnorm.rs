//! Batch normalization over NCHW activations (BatchNorm2d): the shape and hyper-parameters shared by
//! the GPU kernels and the CPU reference.
//!
//! PyTorch's conventions, so trained statistics load in PyTorch unchanged:
//! - statistics are per channel over the `batch·height·width` values of that channel;
//! - `eps` defaults to 1e-5 and `momentum` to 0.1;
//! - training normalizes with the biased batch variance (divide by n) and updates
//!   `running = (1 − momentum)·running + momentum·batch_stat`, where the running variance takes the
//!   unbiased batch variance (times n/(n−1));
//! - evaluation normalizes with the running statistics.

use super::{expect_all, expect_nonzero, Operand};
use crate::{Error, Result};

/// The activation a training batch norm can run fused with, when the activation is the batch
/// norm's only reader: its output masks the gradient in the backward.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// max(v, 0); the gradient passes where the output is positive.
    Relu,
    /// min(max(v, 0), 6); the gradient passes where the output is strictly between 0 and 6.
    Relu6,
}

impl Activation {
    /// The shader's `ACT` constant.
    pub fn code(self) -> u32 {
        match self {
            Activation::Relu => 1,
            Activation::Relu6 => 2,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Activation::Relu => "relu",
            Activation::Relu6 => "relu6",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BatchNormShape {
    pub batch: usize,
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub eps: f32,
    pub momentum: f32,
}

impl BatchNormShape {
    pub const DEFAULT_EPS: f32 = 1e-5;
    pub const DEFAULT_MOMENTUM: f32 = 0.1;

    /// A shape with PyTorch's default `eps` and `momentum`.
    pub fn new(batch: usize, channels: usize, height: usize, width: usize) -> Self {
        BatchNormShape { batch, channels, height, width, eps: Self::DEFAULT_EPS, momentum: Self::DEFAULT_MOMENTUM }
    }

    /// Elements of the activation tensor.
    pub fn len(&self) -> usize {
        self.batch * self.channels * self.height * self.width
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Elements of one (image, channel) plane.
    pub fn plane(&self) -> usize {
        self.height * self.width
    }

    /// Values each channel's statistics are taken over: batch·height·width.
    pub fn count(&self) -> usize {
        self.batch * self.plane()
    }

    /// Checks dimensions and hyper-parameters; enough for evaluation mode.
    pub fn validate(&self) -> Result<()> {
        expect_nonzero(
            "batchnorm",
            &[("batch", self.batch), ("channels", self.channels), ("height", self.height), ("width", self.width)],
        )?;
        if self.len() > u32::MAX as usize {
            return Err(Error::shape("batchnorm", format!("{} elements do not fit 32-bit GPU indices", self.len())));
        }
        if !(self.eps.is_finite() && self.eps > 0.0) {
            return Err(Error::shape("batchnorm", format!("eps must be a positive number, got {}", self.eps)));
        }
        if !(0.0..=1.0).contains(&self.momentum) {
            return Err(Error::shape("batchnorm", format!("momentum must lie in [0, 1], got {}", self.momentum)));
        }
        Ok(())
    }

    /// `validate`, plus PyTorch's rule that training needs more than one value per channel (the
    /// unbiased variance divides by n − 1).
    pub fn validate_training(&self) -> Result<()> {
        self.validate()?;
        if self.count() < 2 {
            return Err(Error::shape(
                "batchnorm",
                format!("training needs more than 1 value per channel (batch·height·width is {})", self.count()),
            ));
        }
        Ok(())
    }

    /// Checks the shape (with the training rule when `train`), then the operands: those of the
    /// activation's size (x, y, dy, dx) and the per-channel ones (γ, β, running and batch
    /// statistics, dγ, dβ).
    pub fn check(&self, train: bool, activations: &[(&str, &dyn Operand)], per_channel: &[(&str, &dyn Operand)]) -> Result<()> {
        if train {
            self.validate_training()?;
        } else {
            self.validate()?;
        }
        expect_all("batchnorm", activations, self.len())?;
        expect_all("batchnorm", per_channel, self.channels)
    }
}
