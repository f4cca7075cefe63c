//! Training targets as plain arithmetic, shared by the trainer, the GPU batch kernels' CPU
//! reference and the tests: one-hot rows, the Keras tutorial's label smoothing, and the mixup blend of a
//! batch with itself read backwards (GluonCV's pairing).

use crate::{Error, Result};

/// The Keras tutorial's `smooth_labels`, in place on `y` (rows of `num_classes` one-hot values, f32 as
/// Keras's `to_categorical` makes them): `y *= 1 - ε; y += ε / K`. As in NumPy, the two Python
/// scalars are computed in f64 and rounded to f32 before the f32 arithmetic, so class 5 of 10 with
/// ε = 0.1 gives the Keras tutorial's printed `0.90999997` and `0.01`. ε outside [0, 1] (or NaN) is an error,
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

/// One-hot rows for `labels`, smoothed with the Keras tutorial's rule.
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
