//! Comparing two float slices with a named tolerance preset: used by every kernel test and by the
//! benchmarks' sanity checks. A mismatch report lists the first bad elements and the largest error.

/// `|a - b| <= abs + rel * |b|` element by element.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tolerance {
    pub abs: f32,
    pub rel: f32,
}

impl Tolerance {
    /// Elementwise ops whose GPU and CPU results should agree to rounding.
    pub const fn strict() -> Self {
        Tolerance { abs: 1e-6, rel: 1e-5 }
    }
    /// Reductions over up to a few thousand terms (convolutions, matmuls, batch statistics).
    pub const fn balanced() -> Self {
        Tolerance { abs: 1e-4, rel: 1e-3 }
    }
    /// Long chains of reductions (a whole training step) and finite-difference gradients.
    pub const fn permissive() -> Self {
        Tolerance { abs: 1e-3, rel: 1e-2 }
    }
    /// Finite differences in f32 with a step of about 1e-3.
    pub const fn finite_difference() -> Self {
        Tolerance { abs: 2e-3, rel: 2e-2 }
    }

    pub fn accepts(&self, got: f32, want: f32) -> bool {
        if got.is_nan() || want.is_nan() {
            return got.is_nan() && want.is_nan();
        }
        (got - want).abs() <= self.abs + self.rel * want.abs()
    }

    /// `Ok` when every element fits, else a report naming `what`, the first mismatches and the
    /// largest absolute difference.
    pub fn compare(&self, what: &str, got: &[f32], want: &[f32]) -> Result<(), String> {
        if got.len() != want.len() {
            return Err(format!("{what}: length {} but expected {}", got.len(), want.len()));
        }
        let mut bad = Vec::new();
        let mut worst = (0usize, 0f32);
        for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
            let d = if g.is_nan() || w.is_nan() { f32::INFINITY } else { (g - w).abs() };
            if d > worst.1 || (d.is_infinite() && worst.1 == 0.0) {
                worst = (i, d);
            }
            if !self.accepts(g, w) {
                bad.push(i);
            }
        }
        if bad.is_empty() {
            return Ok(());
        }
        let mut msg = format!(
            "{what}: {} of {} elements outside {:?}; largest |diff| {} at [{}] (got {}, want {})\nfirst mismatches:",
            bad.len(),
            got.len(),
            self,
            worst.1,
            worst.0,
            got[worst.0],
            want[worst.0]
        );
        for &i in bad.iter().take(8) {
            msg.push_str(&format!("\n  [{i}] got {} want {}", got[i], want[i]));
        }
        Err(msg)
    }

    /// Panics with the `compare` report on mismatch.
    #[track_caller]
    pub fn assert(&self, what: &str, got: &[f32], want: &[f32]) {
        if let Err(msg) = self.compare(what, got, want) {
            panic!("{msg}");
        }
    }
}

/// A small seeded generator (SplitMix64) so tests, init and shuffles are reproducible everywhere,
/// including in WebAssembly, without a dependency.
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
    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }
    /// Uniform in [lo, hi).
    pub fn range(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.uniform()
    }
    /// Standard normal (Box-Muller).
    pub fn normal(&mut self) -> f32 {
        let u1 = ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
        let u2 = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        ((-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()) as f32
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
    fn compare_reports_first_mismatch_and_largest_difference() {
        let err = Tolerance::strict().compare("y", &[1.0, 2.5, 3.0], &[1.0, 2.0, 3.0]).unwrap_err();
        assert!(err.contains("1 of 3"), "{err}");
        assert!(err.contains("largest |diff| 0.5 at [1]"), "{err}");
        assert!(Tolerance::strict().compare("y", &[1.0], &[1.0]).is_ok());
        assert!(Tolerance::strict().compare("y", &[f32::NAN], &[1.0]).is_err());
    }

    #[test]
    fn rng_is_seeded() {
        assert_eq!(Rng::new(7).vec(4, 0.0, 1.0), Rng::new(7).vec(4, 0.0, 1.0));
        assert_ne!(Rng::new(7).vec(4, 0.0, 1.0), Rng::new(8).vec(4, 0.0, 1.0));
    }
}
