//! Mixup's random weights (GluonCV's recipe: λ ~ Beta(α, α) per batch, each sample mixed with the
//! batch read backwards, no mixing in the last `mixup_off_epochs` epochs). The Gamma and Beta
//! samplers are written here on top of the crate's seeded `rng::Rng`, so a seed gives the same λ
//! sequence natively and in the browser. The arithmetic on targets (the Keras tutorial's label smoothing,
//! the blend itself) is `ops::targets`, shared by both executors.

use super::schedule::non_negative;
use crate::rng::Rng;
use crate::{Error, Result};

/// `ln X` for X ~ Gamma(shape, 1). Marsaglia and Tsang's squeeze method for shape >= 1; for
/// shape < 1 the boost `Gamma(a) = Gamma(a + 1) * U^(1/a)`, kept in log space so a small shape
/// (mixup's α = 0.2 gives U^5) cannot underflow to zero.
pub fn ln_gamma_sample(rng: &mut Rng, shape: f64) -> f64 {
    if shape < 1.0 {
        return ln_gamma_sample(rng, shape + 1.0) + rng.open_uniform().ln() / shape;
    }
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    loop {
        let x = rng.normal_f64();
        let t = 1.0 + c * x;
        if t <= 0.0 {
            continue;
        }
        let v = t * t * t;
        let u = rng.open_uniform();
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

