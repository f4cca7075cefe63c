//! Kernel variants: the ways one GEMM-shaped pass (a convolution's forward, its two backward
//! passes, and the linear layer's three products) can be computed. Each variant gives the same
//! result (every one is tested against the CPU reference); which is fastest depends on the adapter
//! and the shape, so the picker (`gpu::tune`) times them once per adapter and shape and remembers
//! the winner.
//!
//! - `Register`: every thread keeps a 4×4 block of outputs in registers, no workgroup memory and
//!   no barrier. Right for CPU-emulated GPUs (llvmpipe, SwiftShader), where barriers are costly.
//! - `Register8x8`, `Register16x8`: the register kernel with an 8×8 or 16×8 block per thread
//!   (channels × pixels, or output channels × weight taps), every accumulator a named variable
//!   (shaders/conv2d_blocked.wgsl, written by shaders/blocked.py): half or a third of the loads per
//!   multiply-add, and no arrays (which a CPU-emulated GPU keeps in memory).
//! - `Wide`: a larger block per thread whose shape, kernel width and stride are override constants
//!   (loops over them unroll where the compiler unrolls: llvmpipe does, SwiftShader does not), and
//!   one row window per input row for all kernel columns.
//! - `Tiled`: a workgroup stages tiles of both operands in workgroup memory and every thread
//!   computes a block of a 64×64 output tile from there: the usual kernel for a real GPU.
//! - `Subgroup`: the register kernel with the weights shared between neighbouring invocations by
//!   subgroup operations instead of loaded by each (only where the adapter offers `subgroups`).

use std::fmt;

/// One implementation of a GEMM-shaped pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Variant {
    Register,
    Register8x8,
    Register16x8,
    Wide,
    Tiled,
    Subgroup,
}

impl Variant {
    pub const ALL: [Variant; 6] = [Variant::Register, Variant::Register8x8, Variant::Register16x8, Variant::Wide, Variant::Tiled, Variant::Subgroup];

    /// The name used in the picks cache, the CLI's tables and the page.
    pub fn name(self) -> &'static str {
        match self {
            Variant::Register => "register",
            Variant::Register8x8 => "register-8x8",
            Variant::Register16x8 => "register-16x8",
            Variant::Wide => "wide",
            Variant::Tiled => "tiled",
            Variant::Subgroup => "subgroup",
        }
    }

    pub fn from_name(name: &str) -> Option<Variant> {
        Variant::ALL.into_iter().find(|v| v.name() == name)
    }
}

impl fmt::Display for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The GEMM-shaped passes a variant can be picked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Pass {
    ConvForward,
    ConvBackwardInput,
    ConvBackwardWeight,
    LinearForward,
    LinearBackwardInput,
    LinearBackwardWeight,
}

impl Pass {
    pub const ALL: [Pass; 6] = [
        Pass::ConvForward,
        Pass::ConvBackwardInput,
        Pass::ConvBackwardWeight,
        Pass::LinearForward,
        Pass::LinearBackwardInput,
        Pass::LinearBackwardWeight,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Pass::ConvForward => "conv forward",
            Pass::ConvBackwardInput => "conv backward-input",
            Pass::ConvBackwardWeight => "conv backward-weight",
            Pass::LinearForward => "linear forward",
            Pass::LinearBackwardInput => "linear backward-input",
            Pass::LinearBackwardWeight => "linear backward-weight",
        }
    }
}

impl fmt::Display for Pass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
