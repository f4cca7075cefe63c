//! Comparing two float slices with a named tolerance preset: used by every kernel test and by the
//! benchmarks' sanity checks (test support; the production generator is in `rng`). A mismatch
//! report lists the first bad elements and the largest error.

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
}
