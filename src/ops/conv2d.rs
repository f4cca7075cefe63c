//! The 2-D convolution's shape, shared by the WGSL kernels and the CPU reference. Activations are
//! NCHW, weights `[c_out, c_in/groups, kh, kw]` (PyTorch's layouts). Padding is zero padding, the
//! same on all four sides; `groups == in_channels == out_channels` is a depthwise convolution.
//! There is no bias: every convolution in these models is followed by batch norm.

use super::{expect, expect_nonzero, Operand};
use crate::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Conv2dShape {
    pub batch: usize,
    pub in_channels: usize,
    pub in_h: usize,
    pub in_w: usize,
    pub out_channels: usize,
    pub kernel_h: usize,
    pub kernel_w: usize,
    pub stride: usize,
    pub padding: usize,
    pub groups: usize,
}

const OP: &str = "conv2d";

impl Conv2dShape {
    /// A square-kernel convolution with one group, the common case.
    pub fn new(batch: usize, in_channels: usize, in_hw: usize, out_channels: usize, kernel: usize, stride: usize, padding: usize) -> Self {
        Conv2dShape {
            batch,
            in_channels,
            in_h: in_hw,
            in_w: in_hw,
            out_channels,
            kernel_h: kernel,
            kernel_w: kernel,
            stride,
            padding,
            groups: 1,
        }
    }

    /// The same shape with `groups` groups.
    pub fn with_groups(self, groups: usize) -> Self {
        Conv2dShape { groups, ..self }
    }

    /// Non-zero dimensions, channels divisible by the groups, a kernel that fits in the padded input,
    /// and tensors small enough for the kernels' u32 indices.
    pub fn validate(&self) -> Result<()> {
        expect_nonzero(
            OP,
            &[
                ("batch", self.batch),
                ("in_channels", self.in_channels),
                ("in_h", self.in_h),
                ("in_w", self.in_w),
                ("out_channels", self.out_channels),
                ("kernel_h", self.kernel_h),
                ("kernel_w", self.kernel_w),
                ("stride", self.stride),
                ("groups", self.groups),
            ],
        )?;
        for (name, c) in [("in_channels", self.in_channels), ("out_channels", self.out_channels)] {
            if c % self.groups != 0 {
                return Err(Error::shape(OP, format!("`{name}` = {c} is not divisible by groups = {}", self.groups)));
            }
        }
        let (ph, pw) = (self.in_h + 2 * self.padding, self.in_w + 2 * self.padding);
        if self.kernel_h > ph || self.kernel_w > pw {
            return Err(Error::shape(
                OP,
                format!(
                    "the {}x{} kernel is larger than the padded {ph}x{pw} input ({}x{} with padding {})",
                    self.kernel_h, self.kernel_w, self.in_h, self.in_w, self.padding
                ),
            ));
        }
        for (name, n) in [("x", self.input_len()), ("w", self.weight_len()), ("y", self.output_len())] {
            if n > i32::MAX as usize {
                return Err(Error::shape(OP, format!("`{name}` would have {n} elements, more than a kernel can index")));
            }
        }
        Ok(())
    }

    /// Checks the shape, then the forward's operands: x, w and, when the caller already has it, y.
    pub fn check_forward(&self, x: &dyn Operand, w: &dyn Operand, y: Option<&dyn Operand>) -> Result<()> {
        self.check("conv2d forward", [("x", Some(x)), ("w", Some(w)), ("y", y)])
    }

    /// Checks the shape and the input-gradient pass's operands: dy, w and (if given) dx.
    pub fn check_backward_input(&self, dy: &dyn Operand, w: &dyn Operand, dx: Option<&dyn Operand>) -> Result<()> {
        self.check("conv2d backward_input", [("dy", Some(dy)), ("w", Some(w)), ("dx", dx)])
    }

    /// Checks the shape and the weight-gradient pass's operands: x, dy and (if given) dw.
    pub fn check_backward_weight(&self, x: &dyn Operand, dy: &dyn Operand, dw: Option<&dyn Operand>) -> Result<()> {
        self.check("conv2d backward_weight", [("x", Some(x)), ("dy", Some(dy)), ("dw", dw)])
    }

    fn check(&self, op: &'static str, operands: [(&str, Option<&dyn Operand>); 3]) -> Result<()> {
        self.validate()?;
        for (role, t) in operands {
            let want = match role {
                "x" | "dx" => self.input_len(),
                "w" | "dw" => self.weight_len(),
                _ => self.output_len(),
            };
            t.map_or(Ok(()), |t| expect(op, role, t, want))?;
        }
        Ok(())
    }

    pub fn in_channels_per_group(&self) -> usize {
        self.in_channels / self.groups
    }
    pub fn out_channels_per_group(&self) -> usize {
        self.out_channels / self.groups
    }
    /// One input channel per output channel and group: the MobileNet depthwise convolution.
    pub fn is_depthwise(&self) -> bool {
        self.groups == self.in_channels && self.groups == self.out_channels
    }

    pub fn out_h(&self) -> usize {
        (self.in_h + 2 * self.padding - self.kernel_h) / self.stride + 1
    }
    pub fn out_w(&self) -> usize {
        (self.in_w + 2 * self.padding - self.kernel_w) / self.stride + 1
    }

    /// `[batch, in_channels, in_h, in_w]`
    pub fn input_len(&self) -> usize {
        self.batch * self.in_channels * self.in_h * self.in_w
    }
    /// `[out_channels, in_channels / groups, kernel_h, kernel_w]`
    pub fn weight_len(&self) -> usize {
        self.out_channels * self.in_channels_per_group() * self.kernel_h * self.kernel_w
    }
    /// `[batch, out_channels, out_h, out_w]`
    pub fn output_len(&self) -> usize {
        self.batch * self.out_channels * self.out_h() * self.out_w()
    }

    pub fn input_shape(&self) -> [usize; 4] {
        [self.batch, self.in_channels, self.in_h, self.in_w]
    }
    pub fn weight_shape(&self) -> [usize; 4] {
        [self.out_channels, self.in_channels_per_group(), self.kernel_h, self.kernel_w]
    }
    pub fn output_shape(&self) -> [usize; 4] {
        [self.batch, self.out_channels, self.out_h(), self.out_w()]
    }

    /// 2·N·C_out·OH·OW·(C_in/groups)·KH·KW: one multiply-add (2 FLOPs) per weight tap per output.
    /// The backward passes for the input and for the weight are the same sums regrouped, so each of
    /// them costs exactly this count too.
    pub fn forward_flops(&self) -> f64 {
        2.0 * self.batch as f64
            * self.out_channels as f64
            * self.out_h() as f64
            * self.out_w() as f64
            * self.in_channels_per_group() as f64
            * self.kernel_h as f64
            * self.kernel_w as f64
    }
}
