//! 2-D convolution on the CPU: forward, and the backward passes for the input and the weight, side
//! by side. NCHW activations, `[c_out, c_in/groups, kh, kw]` weights, zero padding on all sides,
//! any stride and groups. No bias: every convolution in these models is followed by batch norm,
//! whose shift makes a bias redundant. The three loops below visit the same (output, tap) pairs;
//! only the accumulator they write differs.

use crate::ops::conv2d::Conv2dShape;
use crate::Result;

/// The input pixel read by output (oh, ow) through tap (kh, kw), or `None` where it is padding.
fn input_pixel(s: &Conv2dShape, oh: usize, ow: usize, kh: usize, kw: usize) -> Option<(usize, usize)> {
    let ih = (oh * s.stride + kh).checked_sub(s.padding)?;
    let iw = (ow * s.stride + kw).checked_sub(s.padding)?;
    (ih < s.in_h && iw < s.in_w).then_some((ih, iw))
}

/// Calls `f(x_index, w_index, y_index)` for every multiply-add of the convolution.
fn for_each_tap(s: &Conv2dShape, mut f: impl FnMut(usize, usize, usize)) {
    let (cin_g, cout_g) = (s.in_channels_per_group(), s.out_channels_per_group());
    let (oh_n, ow_n) = (s.out_h(), s.out_w());
    for n in 0..s.batch {
        for co in 0..s.out_channels {
            let g = co / cout_g;
            for oh in 0..oh_n {
                for ow in 0..ow_n {
                    let y_i = ((n * s.out_channels + co) * oh_n + oh) * ow_n + ow;
                    for ci in 0..cin_g {
                        let c = g * cin_g + ci;
                        for kh in 0..s.kernel_h {
                            for kw in 0..s.kernel_w {
                                if let Some((ih, iw)) = input_pixel(s, oh, ow, kh, kw) {
                                    let x_i = ((n * s.in_channels + c) * s.in_h + ih) * s.in_w + iw;
                                    let w_i = ((co * cin_g + ci) * s.kernel_h + kh) * s.kernel_w + kw;
                                    f(x_i, w_i, y_i);
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// y[n, co, oh, ow] = Σ_{ci, kh, kw} x[n, g·cin_g + ci, oh·s − p + kh, ow·s − p + kw] · w[co, ci, kh, kw]
pub fn forward(s: &Conv2dShape, x: &[f32], w: &[f32]) -> Result<Vec<f32>> {
    s.check_forward(&x, &w, None)?;
    let mut y = vec![0f32; s.output_len()];
    for_each_tap(s, |xi, wi, yi| y[yi] += x[xi] * w[wi]);
    Ok(y)
}

/// dx = Σ over every tap that read x, of dy at that output times the tap's weight.
pub fn backward_input(s: &Conv2dShape, dy: &[f32], w: &[f32]) -> Result<Vec<f32>> {
    s.check_backward_input(&dy, &w, None)?;
    let mut dx = vec![0f32; s.input_len()];
    for_each_tap(s, |xi, wi, yi| dx[xi] += dy[yi] * w[wi]);
    Ok(dx)
}

/// dw = Σ over every use of the weight (all images and output pixels), of dy there times the input
/// pixel it read.
pub fn backward_weight(s: &Conv2dShape, x: &[f32], dy: &[f32]) -> Result<Vec<f32>> {
    s.check_backward_weight(&x, &dy, None)?;
    let mut dw = vec![0f32; s.weight_len()];
    for_each_tap(s, |xi, wi, yi| dw[wi] += dy[yi] * x[xi]);
    Ok(dw)
}
