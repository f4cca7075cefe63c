//! The kernel registry: each GEMM-shaped pass lists its candidate kernels in one table of
//! `Candidate`s (conv2d.rs one per convolution pass, linear.rs one for its three products), and
//! preparing a variant is a lookup in that table. The picker (`gpu::tune`) times a pass's
//! available candidates and keeps the winner under a typed `TuneKey` (`gpu::variant`).

use super::{GpuContext, Variant};
use crate::{Error, Result};

/// One candidate kernel of a pass: its variant, whether an adapter can run it, and the kernel
/// (a function, or the shader, that prepares the pass in this variant).
pub struct Candidate<K> {
    pub variant: Variant,
    pub available: fn(&GpuContext) -> bool,
    pub kernel: K,
}

/// For `Candidate::available`: a kernel every adapter runs.
pub fn everywhere(_ctx: &GpuContext) -> bool {
    true
}

/// The variants in `table` that this adapter can run, in the table's order.
pub fn available<K>(table: &[Candidate<K>], ctx: &GpuContext) -> Vec<Variant> {
    table.iter().filter(|c| (c.available)(ctx)).map(|c| c.variant).collect()
}

/// The kernel of `variant` in `table`, or an error naming the pass `op` and the variants it has.
pub fn kernel<K: Copy>(op: &'static str, table: &[Candidate<K>], variant: Variant) -> Result<K> {
    match table.iter().find(|c| c.variant == variant) {
        Some(c) => Ok(c.kernel),
        None => {
            let built: Vec<&str> = table.iter().map(|c| c.variant.name()).collect();
            Err(Error::shape(op, format!("the {variant} variant is not built for this pass (built: {})", built.join(", "))))
        }
    }
}
