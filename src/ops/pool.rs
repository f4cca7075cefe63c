//! Pooling over NCHW activations: global average pooling (N,C,H,W)→(N,C) and 2×2 stride-2 max and
//! average pooling. The max pool floors odd sizes like PyTorch's default (`ceil_mode=False`): the last
//! row or column of an odd-sized input is dropped and gets a zero gradient. The average pool rounds
//! up (`ceil_mode=True, count_include_pad=False`, as GluonCV's ResNet-D shortcut): the clipped edge
//! window averages the elements it has, so a 7×7 input pools to 4×4 like the stride-2 conv beside it.

use super::{expect_all, expect_nonzero, Operand};
use crate::{Error, Result};

/// The three pools.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pool {
    /// (N,C,H,W) → (N,C).
    GlobalAvg,
    /// 2×2 stride 2, floored.
    Max2,
    /// 2×2 stride 2, ceil mode.
    Avg2,
}

impl Pool {
    pub fn op(self) -> &'static str {
        match self {
            Pool::GlobalAvg => "global_avg_pool",
            Pool::Max2 => "max_pool2",
            Pool::Avg2 => "avg_pool2",
        }
    }
}

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

    /// Output height of the 2×2 stride-2 max pool (floored).
    pub fn out_height(&self) -> usize {
        self.height / 2
    }

    /// Output width of the 2×2 stride-2 max pool (floored).
    pub fn out_width(&self) -> usize {
        self.width / 2
    }

    /// Elements of the 2×2 stride-2 max pool's output.
    pub fn pooled2_len(&self) -> usize {
        self.planes() * self.out_height() * self.out_width()
    }

    /// Output height of the 2×2 stride-2 average pool (rounded up).
    pub fn avg_out_height(&self) -> usize {
        self.height.div_ceil(2)
    }

    /// Output width of the 2×2 stride-2 average pool (rounded up).
    pub fn avg_out_width(&self) -> usize {
        self.width.div_ceil(2)
    }

    /// Elements of the 2×2 stride-2 average pool's output.
    pub fn avg_pooled2_len(&self) -> usize {
        self.planes() * self.avg_out_height() * self.avg_out_width()
    }

    /// Elements of `pool`'s output.
    pub fn pooled_len(&self, pool: Pool) -> usize {
        match pool {
            Pool::GlobalAvg => self.planes(),
            Pool::Max2 => self.pooled2_len(),
            Pool::Avg2 => self.avg_pooled2_len(),
        }
    }

    /// Checks the shape for `pool`, then the operands of the input's size (x, dx) and of the
    /// output's size (y, dy) that the caller has.
    pub fn check(&self, pool: Pool, full: &[(&str, &dyn Operand)], pooled: &[(&str, &dyn Operand)]) -> Result<()> {
        match pool {
            Pool::GlobalAvg => self.validate()?,
            Pool::Max2 | Pool::Avg2 => self.validate_pool2()?,
        }
        expect_all(pool.op(), full, self.len())?;
        expect_all(pool.op(), pooled, self.pooled_len(pool))
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
