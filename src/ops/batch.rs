//! Shapes and per-step inputs of batch assembly: a training batch made from the dataset's u8
//! pixels by gather, random crop with zero padding, horizontal flip, per-channel normalization,
//! label smoothing and mixup. The GPU kernels (`gpu::batch`) and the CPU reference
//! (`reference::batch`) both validate through the functions here.
//!
//! Order of operations for sample i of a batch with `valid` entries (entries ≥ `valid` pad a
//! fixed-size batch: their image and target are zero, their label −1, so they never count):
//! - crop: output pixel (y, x) reads the source pixel (y + oy − pad, x' + ox − pad), black (0)
//!   where that lies in the padding, with x' = W − 1 − x when the flip bit is set, else x (so the
//!   flip is applied to the cropped image, as torchvision's RandomCrop then RandomHorizontalFlip);
//! - normalize: (p / 255 − mean\[c\]) / std\[c\], in f32 in that order;
//! - targets: the Keras tutorial's `smooth_labels` of the one-hot row: onehot · (1 − ε) + ε / K;
//! - mixup with λ: x_i ← λ x_i + (1 − λ) x_j and t_i ← λ t_i + (1 − λ) t_j with the partner
//!   j = valid − 1 − i (the valid part of the batch read backwards, GluonCV's pairing);
//! - labels\[i\] = the class its target weighs most as f32 (for accuracy): sample i's own label when
//!   λ ≥ 1/2, its partner's below (so mixup's training accuracy scores what the network is asked to
//!   predict); −1 for padding entries.

use super::expect_nonzero;
use crate::rng::Rng;
use crate::{Error, Result};

/// Channels whose mean and std the kernels can hold (grey and RGB).
pub const MAX_CHANNELS: usize = 3;

/// The largest crop padding: offsets are packed in 8 bits each.
pub const MAX_PAD: u32 = 127;

/// Per-channel normalization; only the first `channels` entries are used.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Normalization {
    pub mean: [f32; MAX_CHANNELS],
    pub std: [f32; MAX_CHANNELS],
}

impl Normalization {
    /// The usual MNIST statistics (mean 0.1307, std 0.3081 of pixels scaled to [0, 1]).
    pub const MNIST: Normalization = Normalization { mean: [0.1307, 0.0, 0.0], std: [0.3081, 1.0, 1.0] };
    /// The CIFAR-10 statistics GluonCV's `train_cifar10.py` normalizes with.
    pub const CIFAR10: Normalization =
        Normalization { mean: [0.4914, 0.4822, 0.4465], std: [0.2023, 0.1994, 0.2010] };
    /// Pixels scaled to [0, 1] and nothing else.
    pub const UNIT: Normalization = Normalization { mean: [0.0; 3], std: [1.0; 3] };
}

/// A split's bytes as the batch kernels read them: `count` planar u8 images of
/// `channels × height × width` and one label (below `classes`) each.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ImageSet<'a> {
    pub images: &'a [u8],
    pub labels: &'a [u8],
    pub count: usize,
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub classes: usize,
}

impl ImageSet<'_> {
    /// Bytes per image.
    pub fn image_len(&self) -> usize {
        self.channels * self.height * self.width
    }

    /// Checks the arrays against the image shape (see `validate_dataset`).
    pub fn validate(&self) -> Result<()> {
        validate_dataset(self.images, self.labels, self.count, self.image_len(), self.classes)
    }
}

/// Everything fixed about the batches of one data stream (the training set with augmentation, the
/// test set without).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BatchShape {
    pub batch: usize,
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub classes: usize,
    /// Zero padding of the random crop (0: no crop).
    pub pad: u32,
    pub norm: Normalization,
    /// Label smoothing ε in [0, 1] (0: one-hot targets).
    pub smoothing: f64,
}

impl BatchShape {
    pub fn validate(&self) -> Result<()> {
        expect_nonzero(
            "batch",
            &[
                ("batch", self.batch),
                ("channels", self.channels),
                ("height", self.height),
                ("width", self.width),
                ("classes", self.classes),
            ],
        )?;
        if self.channels > MAX_CHANNELS {
            return Err(Error::shape("batch", format!("{} channels; normalization holds at most {MAX_CHANNELS}", self.channels)));
        }
        if self.pad > MAX_PAD {
            return Err(Error::shape("batch", format!("crop padding {} is above the limit of {MAX_PAD}", self.pad)));
        }
        if self.classes > 256 {
            return Err(Error::shape("batch", format!("{} classes; u8 labels name at most 256", self.classes)));
        }
        for c in 0..self.channels {
            let (m, s) = (self.norm.mean[c], self.norm.std[c]);
            let usable = m.is_finite() && s.is_finite() && s > 0.0;
            if !usable {
                return Err(Error::shape("batch", format!("channel {c} has mean {m} and std {s}; the std must be positive")));
            }
        }
        if !(0.0..=1.0).contains(&self.smoothing) {
            return Err(Error::shape("batch", format!("label smoothing {} must lie in [0, 1]", self.smoothing)));
        }
        if self.x_len() > u32::MAX as usize / 2 || self.targets_len() > u32::MAX as usize / 2 {
            return Err(Error::shape("batch", format!("a batch of {} images is more than a kernel can index", self.batch)));
        }
        Ok(())
    }

    /// Bytes (and f32 values) of one image.
    pub fn image_len(&self) -> usize {
        self.channels * self.height * self.width
    }

    /// Elements of `x [batch, channels, height, width]`.
    pub fn x_len(&self) -> usize {
        self.batch * self.image_len()
    }

    /// Elements of `targets [batch, classes]`.
    pub fn targets_len(&self) -> usize {
        self.batch * self.classes
    }

    /// The Keras tutorial's smoothing constants, computed in f64 and rounded to f32 as `smooth_labels` does:
    /// (1 − ε, ε / K). A target is `onehot · keep + spread`.
    pub fn smoothing_terms(&self) -> (f32, f32) {
        ((1.0 - self.smoothing) as f32, (self.smoothing / self.classes as f64) as f32)
    }
}

/// One sample's augmentation: crop offsets into the zero-padded image, each in [0, 2 · pad]
/// (pad, pad is the centre, i.e. no shift), and a horizontal flip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AugParams {
    pub ox: u32,
    pub oy: u32,
    pub flip: bool,
}

impl AugParams {
    /// No shift and no flip under crop padding `pad`.
    pub fn identity(pad: u32) -> AugParams {
        AugParams { ox: pad, oy: pad, flip: false }
    }

    /// Uniform offsets in [0, 2 · pad] and, when `flip` is allowed, a flip with probability 1/2.
    pub fn random(rng: &mut Rng, pad: u32, flip: bool) -> AugParams {
        let span = 2 * pad as usize + 1;
        let ox = rng.below(span) as u32;
        let oy = rng.below(span) as u32;
        AugParams { ox, oy, flip: flip && rng.below(2) == 1 }
    }

    /// The kernels' packing: ox in bits 0–7, oy in bits 8–15, the flip in bit 16.
    pub fn pack(&self) -> u32 {
        (self.ox & 0xff) | ((self.oy & 0xff) << 8) | (u32::from(self.flip) << 16)
    }
}

/// Checks one step's inputs: 1 to `batch` sample ids (fewer than `batch` makes a partial batch
/// whose remaining entries are padding), each below `count`, one `AugParams` per id with offsets
/// in [0, 2 · pad], and λ in [0, 1].
pub fn validate_step(s: &BatchShape, count: usize, indices: &[u32], aug: &[AugParams], lambda: f32) -> Result<()> {
    if indices.is_empty() || indices.len() > s.batch {
        return Err(Error::shape("batch", format!("{} sample ids for a batch of {}; give 1 to {}", indices.len(), s.batch, s.batch)));
    }
    if aug.len() != indices.len() {
        return Err(Error::shape("batch", format!("{} augmentation entries for {} sample ids", aug.len(), indices.len())));
    }
    if let Some((i, id)) = indices.iter().enumerate().find(|(_, &id)| id as usize >= count) {
        return Err(Error::shape("batch", format!("sample id {id} at position {i} is not below the {count} images of the dataset")));
    }
    if let Some((i, a)) = aug.iter().enumerate().find(|(_, a)| a.ox > 2 * s.pad || a.oy > 2 * s.pad) {
        return Err(Error::shape("batch", format!("crop offsets ({}, {}) at position {i} lie outside [0, {}]", a.ox, a.oy, 2 * s.pad)));
    }
    if !(0.0..=1.0).contains(&lambda) {
        return Err(Error::shape("batch", format!("the mixup weight λ = {lambda} must lie in [0, 1]")));
    }
    Ok(())
}

/// Checks a dataset's arrays against the image shape: `count · image_len` pixel bytes, `count`
/// labels, each below `classes`.
pub fn validate_dataset(images: &[u8], labels: &[u8], count: usize, image_len: usize, classes: usize) -> Result<()> {
    expect_nonzero("batch", &[("count", count), ("image size", image_len), ("classes", classes)])?;
    if images.len() != count * image_len {
        return Err(Error::shape("batch", format!("{} pixel bytes for {count} images of {image_len}", images.len())));
    }
    if labels.len() != count {
        return Err(Error::shape("batch", format!("{} labels for {count} images", labels.len())));
    }
    if let Some((i, &l)) = labels.iter().enumerate().find(|(_, &l)| l as usize >= classes) {
        return Err(Error::shape("batch", format!("label {l} of image {i} is not below {classes} classes")));
    }
    Ok(())
}
