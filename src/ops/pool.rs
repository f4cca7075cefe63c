//! Pooling over NCHW activations: global average pooling (N,C,H,W)→(N,C) and 2×2 stride-2 max and
//! average pooling. Like PyTorch (no padding, `ceil_mode=False`), the 2×2 pools floor odd sizes: the
//! last row or column of an odd-sized input is dropped and gets a zero gradient.

use super::expect_nonzero;
use crate::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolShape {
    pub batch: usize,
    pub channels: usize,
    pub height: usize,
    pub width: usize,
}

impl PoolShape {
    pub fn new(batch: usize, channels: usize, height: usize, width: usize) -> Self {
        PoolShape { batch, channels, height, width }
    }

    /// Elements of the input tensor.
    pub fn len(&self) -> usize {
        self.batch * self.channels * self.height * self.width
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of (image, channel) planes: the global pool's output size.
    pub fn planes(&self) -> usize {
        self.batch * self.channels
    }

    /// Output height of a 2×2 stride-2 pool (floored).
    pub fn out_height(&self) -> usize {
        self.height / 2
    }

    /// Output width of a 2×2 stride-2 pool (floored).
    pub fn out_width(&self) -> usize {
        self.width / 2
    }

    /// Elements of a 2×2 stride-2 pool's output.
    pub fn pooled2_len(&self) -> usize {
        self.planes() * self.out_height() * self.out_width()
    }

    /// Checks that every dimension is non-zero and indices fit the GPU's 32 bits; enough for the
    /// global pool.
    pub fn validate(&self) -> Result<()> {
        expect_nonzero(
            "pool",
            &[("batch", self.batch), ("channels", self.channels), ("height", self.height), ("width", self.width)],
        )?;
        if self.len() > u32::MAX as usize {
            return Err(Error::shape("pool", format!("{} elements do not fit 32-bit GPU indices", self.len())));
        }
        Ok(())
    }

    /// `validate`, plus a non-empty 2×2 stride-2 output (height and width at least 2).
    pub fn validate_pool2(&self) -> Result<()> {
        self.validate()?;
        if self.height < 2 || self.width < 2 {
            return Err(Error::shape(
                "pool",
                format!("a 2×2 pool needs height and width of at least 2, got {}×{}", self.height, self.width),
            ));
        }
        Ok(())
    }
}
