//! Batch assembly on the CPU: gather, crop with zero padding, flip, normalize, smoothed targets
//! and mixup from the dataset's u8 arrays and one step's inputs, exactly as `ops::batch` defines
//! them. Targets and the mixup blend are `ops::targets`' own `smoothed_targets` and
//! `mix_with_reversed`, so the GPU is checked against the Keras tutorial's formulas themselves.

use crate::ops::batch::{validate_dataset, validate_step, AugParams, BatchShape};
use crate::ops::targets::{mix_with_reversed, smoothed_targets};
use crate::Result;

/// One assembled batch: `x [batch, C, H, W]`, `targets [batch, classes]`, `labels [batch]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    pub x: Vec<f32>,
    pub targets: Vec<f32>,
    pub labels: Vec<f32>,
}

/// Assembles the batch of `indices` (1 to `s.batch` ids; the rest of the batch is padding) from
/// `images` (planar u8, `s.image_len()` bytes per image) and `labels`.
pub fn assemble(s: &BatchShape, images: &[u8], labels: &[u8], indices: &[u32], aug: &[AugParams], lambda: f32) -> Result<Batch> {
    s.validate()?;
    let count = labels.len();
    validate_dataset(images, labels, count, s.image_len(), s.classes)?;
    validate_step(s, count, indices, aug, lambda)?;
    let valid = indices.len();
    let n = s.image_len();

    let mut raw = Vec::with_capacity(valid * n);
    for (&id, a) in indices.iter().zip(aug) {
        let id = id as usize;
        raw.extend(augment_image(s, &images[id * n..(id + 1) * n], a));
    }
    let batch_labels: Vec<u8> = indices.iter().map(|&id| labels[id as usize]).collect();
    let onehot = smoothed_targets(&batch_labels, s.classes, s.smoothing)?;

    let mut x = mix_with_reversed(&raw, valid, lambda)?;
    let mut targets = mix_with_reversed(&onehot, valid, lambda)?;
    // Accuracy is scored against the class each mixed target weighs most: the own label when
    // λ ≥ 1/2, the partner's (the batch read backwards) below.
    let mut out_labels: Vec<f32> =
        (0..valid).map(|i| batch_labels[if lambda >= 0.5 { i } else { valid - 1 - i }] as f32).collect();
    x.resize(s.x_len(), 0.0);
    targets.resize(s.targets_len(), 0.0);
    out_labels.resize(s.batch, -1.0);
    Ok(Batch { x, targets, labels: out_labels })
}

/// One image cropped from its zero-padded copy at (ox, oy), flipped if asked, and normalized.
pub fn augment_image(s: &BatchShape, image: &[u8], a: &AugParams) -> Vec<f32> {
    let (h, w, pad) = (s.height as i64, s.width as i64, s.pad as i64);
    let mut out = Vec::with_capacity(s.image_len());
    for c in 0..s.channels {
        let plane = &image[c * s.height * s.width..(c + 1) * s.height * s.width];
        for y in 0..h {
            for x in 0..w {
                let cx = if a.flip { w - 1 - x } else { x };
                let (sy, sx) = (y + a.oy as i64 - pad, cx + a.ox as i64 - pad);
                let inside = (0..h).contains(&sy) && (0..w).contains(&sx);
                let p = if inside { plane[(sy * w + sx) as usize] } else { 0 };
                out.push(normalize(p, s.norm.mean[c], s.norm.std[c]));
            }
        }
    }
    out
}

/// (p / 255 − mean) / std in f32, in this order (the kernel's order).
pub fn normalize(p: u8, mean: f32, std: f32) -> f32 {
    (p as f32 / 255.0 - mean) / std
}
