//! Data-parallel training on the CPU: a batch cut into row slices, one per worker, each worker with
//! its own copy of the network. What must be the same on every worker is summed across them by a
//! `Reduce`: each batch norm's per-channel sums (synchronized batch norm, so the statistics are the
//! whole batch's, not a slice's), the loss and accuracy counts, and the gradients. Every worker
//! sums the workers' parts in the same order (worker 0 first), so all get the same bits and their
//! weights stay identical. One worker (`Alone`) sums nothing and computes exactly as before.

use crate::Result;

/// Sums a vector element-wise over every worker of a team, in place; all workers call it in the
/// same order with vectors of the same length, and all get the same result.
pub trait Reduce {
    /// How many workers share the batch (1: this one alone).
    fn workers(&self) -> usize;
    fn sum_f64(&mut self, data: &mut [f64]) -> Result<()>;
    fn sum_f32(&mut self, data: &mut [f32]) -> Result<()>;
}

/// A worker on its own: every sum is already the total.
pub struct Alone;

impl Reduce for Alone {
    fn workers(&self) -> usize {
        1
    }
    fn sum_f64(&mut self, _: &mut [f64]) -> Result<()> {
        Ok(())
    }
    fn sum_f32(&mut self, _: &mut [f32]) -> Result<()> {
        Ok(())
    }
}

/// Worker `rank`'s rows of a batch of `batch` rows cut into `workers` slices (as even as can be,
/// in order: worker 0 takes the first rows).
pub fn rows(batch: usize, rank: usize, workers: usize) -> std::ops::Range<usize> {
    batch * rank / workers..batch * (rank + 1) / workers
}
