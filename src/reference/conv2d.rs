//! 2-D convolution on the CPU: forward, and the backward passes for the input and the weight, side
//! by side. NCHW activations, `[c_out, c_in/groups, kh, kw]` weights, zero padding on all sides,
//! any stride and groups. No bias: every convolution in these models is followed by batch norm,
//! whose shift makes a bias redundant.
//!
//! The three passes visit the same (output, tap) pairs, in runs: one run is the consecutive
//! outputs of one output row that read one input row through one tap, so each pass's inner loop is
//! a plain loop over a row (which the compiler vectorizes, SIMD128 in the browser, when the stride
//! is 1). Every output sums its taps in (c_in, kh, kw) order, as a loop over taps per output would.

use crate::ops::conv2d::Conv2dShape;
use crate::Result;

/// Outputs `y..y + len` of one row, which read the input pixels `x, x + stride, ...` of one row
/// through weight `w`.
struct Run {
    y: usize,
    x: usize,
    w: usize,
    len: usize,
}

/// The output columns `lo..hi` whose input column through tap column `kw` lies inside the image
/// (not in the padding).
fn valid_columns(s: &Conv2dShape, kw: usize) -> (usize, usize) {
    let lo = s.padding.saturating_sub(kw).div_ceil(s.stride);
    let hi = (s.in_w + s.padding).saturating_sub(kw).div_ceil(s.stride).min(s.out_w());
    (lo, hi.max(lo))
}

/// Calls `f` for every run of the convolution: together they cover every (output, tap) pair whose
/// input pixel is not padding, once.
fn for_each_run(s: &Conv2dShape, mut f: impl FnMut(Run)) {
    let (cin_g, cout_g) = (s.in_channels_per_group(), s.out_channels_per_group());
    let (oh_n, ow_n) = (s.out_h(), s.out_w());
    let columns: Vec<(usize, usize)> = (0..s.kernel_w).map(|kw| valid_columns(s, kw)).collect();
    for n in 0..s.batch {
        for co in 0..s.out_channels {
            let g = co / cout_g;
            for ci in 0..cin_g {
                let c = g * cin_g + ci;
                for kh in 0..s.kernel_h {
                    for (kw, &(lo, hi)) in columns.iter().enumerate().filter(|(_, (lo, hi))| lo < hi) {
                        let w = ((co * cin_g + ci) * s.kernel_h + kh) * s.kernel_w + kw;
                        for oh in 0..oh_n {
                            let Some(ih) = (oh * s.stride + kh).checked_sub(s.padding).filter(|&ih| ih < s.in_h) else { continue };
                            let y = ((n * s.out_channels + co) * oh_n + oh) * ow_n + lo;
                            let x = ((n * s.in_channels + c) * s.in_h + ih) * s.in_w + lo * s.stride + kw - s.padding;
                            f(Run { y, x, w, len: hi - lo });
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
    for_each_run(s, |r| {
        let (wv, ys) = (w[r.w], &mut y[r.y..r.y + r.len]);
        if s.stride == 1 {
            ys.iter_mut().zip(&x[r.x..r.x + r.len]).for_each(|(y, x)| *y += x * wv);
        } else {
            ys.iter_mut().enumerate().for_each(|(j, y)| *y += x[r.x + j * s.stride] * wv);
        }
    });
    Ok(y)
}

/// dx = Σ over every tap that read x, of dy at that output times the tap's weight.
pub fn backward_input(s: &Conv2dShape, dy: &[f32], w: &[f32]) -> Result<Vec<f32>> {
    s.check_backward_input(&dy, &w, None)?;
    let mut dx = vec![0f32; s.input_len()];
    for_each_run(s, |r| {
        let (wv, dys) = (w[r.w], &dy[r.y..r.y + r.len]);
        if s.stride == 1 {
            dx[r.x..r.x + r.len].iter_mut().zip(dys).for_each(|(dx, dy)| *dx += dy * wv);
        } else {
            dys.iter().enumerate().for_each(|(j, dy)| dx[r.x + j * s.stride] += dy * wv);
        }
    });
    Ok(dx)
}

/// dw = Σ over every use of the weight (all images and output pixels), of dy there times the input
/// pixel it read: each run's products summed in 8 interleaved partial sums, then added on.
pub fn backward_weight(s: &Conv2dShape, x: &[f32], dy: &[f32]) -> Result<Vec<f32>> {
    s.check_backward_weight(&x, &dy, None)?;
    let mut dw = vec![0f32; s.weight_len()];
    for_each_run(s, |r| {
        let dys = &dy[r.y..r.y + r.len];
        dw[r.w] += if s.stride == 1 { dot(dys, &x[r.x..r.x + r.len]) } else { dys.iter().enumerate().map(|(j, d)| d * x[r.x + j * s.stride]).sum() };
    });
    Ok(dw)
}

/// Σ a[i] · b[i] in 8 interleaved partial sums (the form a vector unit computes), then their sum.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca.remainder().iter().zip(cb.remainder()).map(|(a, b)| a * b).sum();
    for (a, b) in ca.zip(cb) {
        for k in 0..8 {
            lanes[k] += a[k] * b[k];
        }
    }
    lanes.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The runs cover exactly the (output, tap) pairs a loop over every output and tap finds
    /// inside the image, for strides 1 and 2, paddings 0 to 2 and kernels 1 to 3.
    #[test]
    fn runs_cover_every_tap_inside_the_image_once() {
        for (k, stride, padding, hw) in [(3, 1, 1, 5), (3, 2, 1, 7), (1, 2, 0, 6), (2, 2, 0, 5), (3, 1, 2, 4), (3, 2, 0, 8), (3, 1, 0, 3)] {
            let s = Conv2dShape::new(2, 3, hw, 4, k, stride, padding);
            let mut want = Vec::new();
            for n in 0..s.batch {
                for co in 0..s.out_channels {
                    for oh in 0..s.out_h() {
                        for ow in 0..s.out_w() {
                            for ci in 0..s.in_channels {
                                for kh in 0..k {
                                    for kw in 0..k {
                                        let (ih, iw) = ((oh * stride + kh) as i64 - padding as i64, (ow * stride + kw) as i64 - padding as i64);
                                        if (0..hw as i64).contains(&ih) && (0..hw as i64).contains(&iw) {
                                            let y = ((n * 4 + co) * s.out_h() + oh) * s.out_w() + ow;
                                            let x = ((n * 3 + ci) * hw + ih as usize) * hw + iw as usize;
                                            let w = ((co * 3 + ci) * k + kh) * k + kw;
                                            want.push((y, x, w));
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            let mut got = Vec::new();
            for_each_run(&s, |r| got.extend((0..r.len).map(|j| (r.y + j, r.x + j * stride, r.w))));
            want.sort_unstable();
            got.sort_unstable();
            assert_eq!(got, want, "kernel {k}, stride {stride}, padding {padding}, {hw}×{hw}");
        }
    }
}
