//! Central finite differences, to check the reference's backward passes.

/// d f / d x_i ≈ (f(x + h e_i) - f(x - h e_i)) / 2h for every i. The sums are done in f64 so the
/// only f32 error left is in `f` itself.
pub fn numerical_grad(x: &[f32], h: f32, mut f: impl FnMut(&[f32]) -> f64) -> Vec<f32> {
    let mut xp = x.to_vec();
    (0..x.len())
        .map(|i| {
            xp[i] = x[i] + h;
            let up = f(&xp);
            xp[i] = x[i] - h;
            let down = f(&xp);
            xp[i] = x[i];
            ((up - down) / (2.0 * h as f64)) as f32
        })
        .collect()
}

/// `sum(w ⊙ y)` in f64: a scalar "loss" whose gradient with respect to y is `w`, used to turn an
/// op's output into something finite differences can check against the op's backward.
pub fn dot(w: &[f32], y: &[f32]) -> f64 {
    w.iter().zip(y).map(|(&a, &b)| a as f64 * b as f64).sum()
}
