//! The fully connected layer on the CPU: y = x·Wᵀ + b, with its two backward passes side by side.
//! x `[batch, in]`, W `[out, in]`, b `[out]`, y `[batch, out]`; sums run in f32 in index order.

use crate::ops::linear::LinearShape;
use crate::Result;

/// `y[n, o] = b[o] + Σ_i x[n, i] · W[o, i]`
pub fn forward(s: &LinearShape, x: &[f32], w: &[f32], b: &[f32]) -> Result<Vec<f32>> {
    s.check("linear forward", &[("x", &x), ("w", &w), ("b", &b)])?;
    let (k, m) = (s.in_features, s.out_features);
    let mut y = vec![0.0; s.y_len()];
    for n in 0..s.batch {
        let xr = &x[n * k..(n + 1) * k];
        for o in 0..m {
            let wr = &w[o * k..(o + 1) * k];
            y[n * m + o] = b[o] + xr.iter().zip(wr).map(|(a, b)| a * b).sum::<f32>();
        }
    }
    Ok(y)
}

/// dx[n, i] = Σ_o dy[n, o] · W[o, i]
pub fn backward_input(s: &LinearShape, dy: &[f32], w: &[f32]) -> Result<Vec<f32>> {
    s.check("linear backward_input", &[("dy", &dy), ("w", &w)])?;
    let (k, m) = (s.in_features, s.out_features);
    let mut dx = vec![0.0; s.x_len()];
    for n in 0..s.batch {
        for i in 0..k {
            dx[n * k + i] = (0..m).map(|o| dy[n * m + o] * w[o * k + i]).sum();
        }
    }
    Ok(dx)
}

/// `dW[o, i] = Σ_n dy[n, o] · x[n, i]` and `db[o] = Σ_n dy[n, o]`; returns (dW, db).
pub fn backward_params(s: &LinearShape, x: &[f32], dy: &[f32]) -> Result<(Vec<f32>, Vec<f32>)> {
    s.check("linear backward_params", &[("x", &x), ("dy", &dy)])?;
    let (k, m) = (s.in_features, s.out_features);
    let mut dw = vec![0.0; s.w_len()];
    for o in 0..m {
        for i in 0..k {
            dw[o * k + i] = (0..s.batch).map(|n| dy[n * m + o] * x[n * k + i]).sum();
        }
    }
    let db = (0..m).map(|o| (0..s.batch).map(|n| dy[n * m + o]).sum()).collect();
    Ok((dw, db))
}
