//! The crate's one random number generator: a small seeded SplitMix64, so weight init, shuffling,
//! augmentation, mixup's λ and the tests' random data are reproducible everywhere (natively and in
//! WebAssembly) without a dependency.

/// SplitMix64 with the convenience draws the crate needs.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 24 random bits (every value exact in f32).
    pub fn uniform(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }

    /// Uniform in the open interval (0, 1) with 53 random bits, so its logarithm is always finite.
    pub fn open_uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// Uniform in [lo, hi).
    pub fn range(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.uniform()
    }

    /// Standard normal in f64 (Box-Muller on two open uniforms).
    pub fn normal_f64(&mut self) -> f64 {
        let (u1, u2) = (self.open_uniform(), self.open_uniform());
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }

    /// Standard normal, rounded to f32.
    pub fn normal(&mut self) -> f32 {
        self.normal_f64() as f32
    }

    /// Uniform integer in [0, n).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// `n` values uniform in [lo, hi).
    pub fn vec(&mut self, n: usize, lo: f32, hi: f32) -> Vec<f32> {
        (0..n).map(|_| self.range(lo, hi)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rng_is_seeded() {
        assert_eq!(Rng::new(7).vec(4, 0.0, 1.0), Rng::new(7).vec(4, 0.0, 1.0));
        assert_ne!(Rng::new(7).vec(4, 0.0, 1.0), Rng::new(8).vec(4, 0.0, 1.0));
    }

    #[test]
    fn normal_has_unit_moments() {
        let mut rng = Rng::new(3);
        let xs: Vec<f64> = (0..20_000).map(|_| rng.normal_f64()).collect();
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / xs.len() as f64;
        assert!(mean.abs() < 0.03 && (var - 1.0).abs() < 0.05, "mean {mean}, var {var}");
    }
}
