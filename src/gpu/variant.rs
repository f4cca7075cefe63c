//! Kernel variants: the ways one GEMM-shaped pass (a convolution's forward, its two backward
//! passes, and the linear layer's three products) can be computed. Each variant gives the same
//! result (every one is tested against the CPU reference); which is fastest depends on the adapter
//! and the shape, so the picker (`gpu::tune`) times them once per adapter and shape and remembers
//! the winner, under a typed `TuneKey` (the pass and its shape).
//!
//! - `Register`: every thread keeps a 4×4 block of outputs in registers, no workgroup memory and
//!   no barrier. Right for CPU-emulated GPUs (llvmpipe, SwiftShader), where barriers are costly.
//! - `Register8x8`, `Register16x8`, `Register16x16`: the register kernel with an 8×8, 16×8 or 16×16
//!   block per thread (channels × pixels, or output channels × weight taps), every accumulator a
//!   named variable (shaders/conv2d_blocked.wgsl, written by shaders/blocked.py): a half, a third
//!   or a quarter of the loads per multiply-add, and no arrays (which a CPU-emulated GPU keeps in
//!   memory).
//! - `Pointwise`: 1×1 convolutions at stride 1 without padding whose channel counts and planes are
//!   multiples of 4 (MobileNetV2's expand and project layers): 16×16 blocks read and written as
//!   vec4s only (shaders/conv2d_pointwise.wgsl, written by shaders/pointwise.py), a quarter of the
//!   16×16 register kernel's loads per multiply-add. Offered only for those shapes
//!   (`conv2d::pointwise`); asked for another, it runs `Register16x16`.
//! - `Wide`: a larger block per thread whose shape, kernel width and stride are override constants
//!   (loops over them unroll where the compiler unrolls: llvmpipe does, SwiftShader does not), and
//!   one row window per input row for all kernel columns.
//! - `Tiled`: a workgroup stages tiles of both operands in workgroup memory and every thread
//!   computes a block of a 64×64 output tile from there: the usual kernel for a real GPU.
//! - `Subgroup`: the register kernel with the weights shared between neighbouring invocations by
//!   subgroup operations instead of loaded by each (only where the adapter offers `subgroups`).
//!
//! Convolutions with one input channel per group (depthwise) have variants of their own, and only
//! those (`conv2d::uses_direct_kernels`):
//! - `Direct`: one output (or one weight element per chunk) per thread (conv2d.wgsl).
//! - `Depthwise4x4`, `Depthwise2x8`: 4 rows × 4 columns or 2 rows × 8 columns of one channel per
//!   thread, each row window loaded once for all taps; the weight gradient with all taps of one
//!   channel per thread (conv2d_depthwise.wgsl).

use std::fmt;

use crate::ops::conv2d::Conv2dShape;
use crate::ops::linear::LinearShape;

/// One implementation of a GEMM-shaped pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Variant {
    Register,
    Register8x8,
    Register16x8,
    Register16x16,
    Pointwise,
    Wide,
    Tiled,
    Subgroup,
    Direct,
    Depthwise4x4,
    Depthwise2x8,
}

impl Variant {
    pub const ALL: [Variant; 11] = [
        Variant::Register,
        Variant::Register8x8,
        Variant::Register16x8,
        Variant::Register16x16,
        Variant::Pointwise,
        Variant::Wide,
        Variant::Tiled,
        Variant::Subgroup,
        Variant::Direct,
        Variant::Depthwise4x4,
        Variant::Depthwise2x8,
    ];
    /// The variants of depthwise convolutions.
    pub const DEPTHWISE: [Variant; 3] = [Variant::Direct, Variant::Depthwise4x4, Variant::Depthwise2x8];

    /// The name used in the picks cache, the CLI's tables and the page.
    pub fn name(self) -> &'static str {
        match self {
            Variant::Register => "register",
            Variant::Register8x8 => "register-8x8",
            Variant::Register16x8 => "register-16x8",
            Variant::Register16x16 => "register-16x16",
            Variant::Pointwise => "pointwise",
            Variant::Wide => "wide",
            Variant::Tiled => "tiled",
            Variant::Subgroup => "subgroup",
            Variant::Direct => "direct",
            Variant::Depthwise4x4 => "depthwise-4x4",
            Variant::Depthwise2x8 => "depthwise-2x8",
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

    /// The passes of a convolution, and of the linear layer, in a step's order.
    pub const CONV: [Pass; 3] = [Pass::ConvForward, Pass::ConvBackwardInput, Pass::ConvBackwardWeight];
    pub const LINEAR: [Pass; 3] = [Pass::LinearForward, Pass::LinearBackwardInput, Pass::LinearBackwardWeight];

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

impl Pass {
    pub fn from_name(name: &str) -> Option<Pass> {
        Pass::ALL.into_iter().find(|p| p.name() == name)
    }
}

/// The shape a pass is picked for, batch included (the best variant depends on it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TuneShape {
    Conv(Conv2dShape),
    Linear(LinearShape),
}

/// The text form, which the picks cache, the CLI's tables and the page show:
/// "n4 16x8x8 -> 16 k3x3 s1 p1 g1" (batch, C_in x H x W -> C_out, kernel, stride, padding,
/// groups) or "n4 64 -> 10" (batch, in -> out features).
impl fmt::Display for TuneShape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            TuneShape::Conv(s) => format!(
                "n{} {}x{}x{} -> {} k{}x{} s{} p{} g{}",
                s.batch, s.in_channels, s.in_h, s.in_w, s.out_channels, s.kernel_h, s.kernel_w, s.stride, s.padding, s.groups
            ),
            TuneShape::Linear(s) => format!("n{} {} -> {}", s.batch, s.in_features, s.out_features),
        };
        f.pad(&text)
    }
}

impl TuneShape {
    /// Reads back the text `Display` writes; anything else (another build's form) is `None`.
    pub fn parse(text: &str) -> Option<TuneShape> {
        let numbers = text.split(|c: char| !c.is_ascii_digit()).filter(|t| !t.is_empty());
        let n: Vec<usize> = numbers.map(|t| t.parse().ok()).collect::<Option<_>>()?;
        let shape = match n[..] {
            [batch, in_channels, in_h, in_w, out_channels, kernel_h, kernel_w, stride, padding, groups] => TuneShape::Conv(Conv2dShape {
                batch,
                in_channels,
                in_h,
                in_w,
                out_channels,
                kernel_h,
                kernel_w,
                stride,
                padding,
                groups,
            }),
            [batch, in_features, out_features] => TuneShape::Linear(LinearShape { batch, in_features, out_features }),
            _ => return None,
        };
        (shape.to_string() == text).then_some(shape)
    }
}

/// Serialized as its text (the CLI's JSON lines).
impl serde::Serialize for TuneShape {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// What a pick is kept under: one pass at one shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TuneKey {
    pub pass: Pass,
    pub shape: TuneShape,
}

/// The picks cache's text form, "pass|shape" ("conv forward|n4 16x8x8 -> 16 k3x3 s1 p1 g1").
impl fmt::Display for TuneKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}|{}", self.pass, self.shape)
    }
}

impl TuneKey {
    /// Reads back the text `Display` writes; `None` for an unknown pass or shape form.
    pub fn parse(text: &str) -> Option<TuneKey> {
        let (pass, shape) = text.split_once('|')?;
        Some(TuneKey { pass: Pass::from_name(pass)?, shape: TuneShape::parse(shape)? })
    }
}
