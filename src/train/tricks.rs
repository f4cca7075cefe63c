//! The training tricks that are plain arithmetic on targets and mixing weights: the seed's label
//! smoothing, one-hot targets, and mixup (GluonCV's recipe: λ ~ Beta(α, α) per batch, each sample
//! mixed with the batch read backwards, no mixing in the last `mixup_off_epochs` epochs). The
//! Gamma and Beta samplers are written here on top of the crate's seeded `check::Rng`, so a seed
//! gives the same λ sequence natively and in the browser.

use super::schedule::non_negative;
use crate::check::Rng;
use crate::{Error, Result};

/// The seed's `smooth_labels`, in place on `y` (rows of `num_classes` one-hot values, f32 as
/// Keras's `to_categorical` makes them): `y *= 1 - ε; y += ε / K`. As in NumPy, the two Python
/// scalars are computed in f64 and rounded to f32 before the f32 arithmetic, so class 5 of 10 with
/// ε = 0.1 gives the seed's printed `0.90999997` and `0.01`. ε outside [0, 1] (or NaN) is an error,
/// as is a `y` that is not whole rows.
pub fn smooth_labels(y: &mut [f32], num_classes: usize, smooth_factor: f64) -> Result<()> {
    check_rows(y.len(), num_classes)?;
    if !(0.0..=1.0).contains(&smooth_factor) {
        return Err(Error::config(
            "label_smoothing",
            format!("Invalid label smoothing factor: {smooth_factor} (it must be between 0 and 1)"),
        ));
    }
    let keep = (1.0 - smooth_factor) as f32;
    let spread = (smooth_factor / num_classes as f64) as f32;
    for v in y.iter_mut() {
        *v *= keep;
        *v += spread;
    }
    Ok(())
}

/// One-hot rows for `labels` (each below `num_classes`).
pub fn one_hot(labels: &[u8], num_classes: usize) -> Result<Vec<f32>> {
    if num_classes == 0 {
        return Err(Error::config("num_classes", "must be at least 1"));
    }
    let mut y = vec![0.0f32; labels.len() * num_classes];
    for (i, &label) in labels.iter().enumerate() {
        if label as usize >= num_classes {
            return Err(Error::config("labels", format!("label {label} at {i} is not below {num_classes} classes")));
        }
        y[i * num_classes + label as usize] = 1.0;
    }
    Ok(y)
}

/// One-hot rows for `labels`, smoothed with the seed's rule.
pub fn smoothed_targets(labels: &[u8], num_classes: usize, smooth_factor: f64) -> Result<Vec<f32>> {
    let mut y = one_hot(labels, num_classes)?;
    smooth_labels(&mut y, num_classes, smooth_factor)?;
    Ok(y)
}

fn check_rows(len: usize, num_classes: usize) -> Result<()> {
    if num_classes == 0 {
        return Err(Error::config("num_classes", "must be at least 1"));
    }
    if !len.is_multiple_of(num_classes) {
        return Err(Error::config("labels", format!("{len} values are not whole rows of {num_classes} classes")));
    }
    Ok(())
}

/// Uniform in the open interval (0, 1) with 53 random bits, so `ln` is always finite.
fn open_uniform(rng: &mut Rng) -> f64 {
    ((rng.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
}

/// Standard normal in f64 (Box-Muller on two open uniforms).
fn normal_f64(rng: &mut Rng) -> f64 {
    let (u1, u2) = (open_uniform(rng), open_uniform(rng));
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// `ln X` for X ~ Gamma(shape, 1). Marsaglia and Tsang's squeeze method for shape >= 1; for
/// shape < 1 the boost `Gamma(a) = Gamma(a + 1) * U^(1/a)`, kept in log space so a small shape
/// (mixup's α = 0.2 gives U^5) cannot underflow to zero.
pub fn ln_gamma_sample(rng: &mut Rng, shape: f64) -> f64 {
    if shape < 1.0 {
        return ln_gamma_sample(rng, shape + 1.0) + open_uniform(rng).ln() / shape;
    }
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    loop {
        let x = normal_f64(rng);
        let t = 1.0 + c * x;
        if t <= 0.0 {
            continue;
        }
        let v = t * t * t;
        let u = open_uniform(rng);
        if u.ln() < 0.5 * x * x + d - d * v + d * v.ln() {
            return (d * v).ln();
        }
    }
}

/// X ~ Gamma(shape, 1); `shape` must be positive.
pub fn gamma_sample(rng: &mut Rng, shape: f64) -> f64 {
    ln_gamma_sample(rng, shape).exp()
}

/// λ ~ Beta(a, b) as `X / (X + Y)` with X ~ Gamma(a), Y ~ Gamma(b), computed from the logs as
/// `1 / (1 + exp(ln Y - ln X))`. Both shapes must be positive.
pub fn beta_sample(rng: &mut Rng, a: f64, b: f64) -> f64 {
    let ln_x = ln_gamma_sample(rng, a);
    let ln_y = ln_gamma_sample(rng, b);
    1.0 / (1.0 + (ln_y - ln_x).exp())
}

/// Mixup's λ for one batch, GluonCV style: `Beta(α, α)` while mixup is on, and 1 (no mixing) when
/// α is 0 or during the last `off_epochs` of `epochs` (0-based `epoch`). α must be finite and >= 0.
pub fn mixup_lambda(rng: &mut Rng, alpha: f64, epoch: u32, epochs: u32, off_epochs: u32) -> Result<f32> {
    if !non_negative(alpha) {
        return Err(Error::config("mixup_alpha", format!("must be zero (off) or positive, got {alpha}")));
    }
    if alpha == 0.0 || epoch >= epochs.saturating_sub(off_epochs) {
        return Ok(1.0);
    }
    Ok(beta_sample(rng, alpha, alpha) as f32)
}

/// The CPU reference of the mixup blend: sample `i` of `batch` (each `values.len() / batch` long,
/// images or target rows) becomes `λ x_i + (1 - λ) x_{batch-1-i}`, pairing the batch with itself
/// read backwards as GluonCV does. Apply it to the images and to the (smoothed) targets with the
/// same λ.
pub fn mix_with_reversed(values: &[f32], batch: usize, lambda: f32) -> Result<Vec<f32>> {
    if batch == 0 || values.is_empty() || !values.len().is_multiple_of(batch) {
        return Err(Error::shape(
            "mixup",
            format!("{} values are not a non-empty batch of {batch} equal samples", values.len()),
        ));
    }
    let per = values.len() / batch;
    let mut out = Vec::with_capacity(values.len());
    for i in 0..batch {
        let a = &values[i * per..(i + 1) * per];
        let b = &values[(batch - 1 - i) * per..(batch - i) * per];
        out.extend(a.iter().zip(b).map(|(&x, &y)| lambda * x + (1.0 - lambda) * y));
    }
    Ok(out)
}
