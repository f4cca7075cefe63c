//! Datasets as bytes: MNIST IDX and CIFAR-10 binary readers (plain, .gz, .tar.gz, or in-memory
//! bytes for the browser) that produce one `Dataset` layout, pixels kept as u8 so a whole set can be
//! uploaded to the GPU as it is and normalized there.

pub mod bounded;
pub mod cifar;
pub mod mnist;

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::names::Named;
use crate::ops::batch::{ImageSet, Normalization};
use crate::{Error, Result};

/// Which dataset a run trains on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "&'static str")]
pub enum DatasetKind {
    Mnist,
    Cifar10,
}

impl Named for DatasetKind {
    const FIELD: &'static str = "dataset";
    const TABLE: &'static [(Self, &'static str, &'static str)] =
        &[(DatasetKind::Mnist, "mnist", "MNIST"), (DatasetKind::Cifar10, "cifar10", "CIFAR-10")];
}
crate::named_serde!(DatasetKind);

impl DatasetKind {
    /// `(channels, height, width)` of one image.
    pub fn image_shape(self) -> (usize, usize, usize) {
        match self {
            DatasetKind::Mnist => (1, 28, 28),
            DatasetKind::Cifar10 => (3, 32, 32),
        }
    }

    pub fn classes(self) -> usize {
        10
    }

    /// The per-channel mean and std the batch kernels normalize this dataset's pixels with.
    pub fn normalization(self) -> Normalization {
        match self {
            DatasetKind::Mnist => Normalization::MNIST,
            DatasetKind::Cifar10 => Normalization::CIFAR10,
        }
    }
}

/// Images and labels of one split. `images` holds `count` images of `channels × height × width`
/// bytes each, planar (NCHW, like the tensors); `labels[i] < classes`.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    pub images: Vec<u8>,
    pub labels: Vec<u8>,
    pub count: usize,
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub classes: usize,
}

impl Dataset {
    /// Bytes per image.
    pub fn image_len(&self) -> usize {
        self.channels * self.height * self.width
    }

    /// The bytes as the batch kernels read them.
    pub fn view(&self) -> ImageSet<'_> {
        ImageSet {
            images: &self.images,
            labels: &self.labels,
            count: self.count,
            channels: self.channels,
            height: self.height,
            width: self.width,
            classes: self.classes,
        }
    }

    /// The bytes of image `i` (panics if `i >= count`, like slice indexing).
    pub fn image(&self, i: usize) -> &[u8] {
        let n = self.image_len();
        &self.images[i * n..(i + 1) * n]
    }

    /// Images `start..end` as a new dataset (for small slices of the real sets in tests and demos).
    pub fn slice(&self, start: usize, end: usize) -> Result<Dataset> {
        if start >= end || end > self.count {
            return Err(Error::data(
                "dataset",
                format!("slice {start}..{end} is empty or outside the {} images", self.count),
            ));
        }
        let n = self.image_len();
        Ok(Dataset {
            images: self.images[start * n..end * n].to_vec(),
            labels: self.labels[start..end].to_vec(),
            count: end - start,
            ..self.empty_like()
        })
    }

    /// How many images each class has.
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.classes];
        for &l in &self.labels {
            counts[l as usize] += 1;
        }
        counts
    }

    /// A dataset with this one's image shape and classes and no images.
    pub fn empty_like(&self) -> Dataset {
        Dataset { images: Vec::new(), labels: Vec::new(), count: 0, ..*self }
    }
}

/// The training and test splits of a dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct Splits {
    pub train: Dataset,
    pub test: Dataset,
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// True when `bytes` start with the gzip magic number.
pub fn is_gzip(bytes: &[u8]) -> bool {
    bytes.len() >= 2 && bytes[..2] == GZIP_MAGIC
}

/// `bytes`, gunzipped (to at most `limit` bytes) if they start with the gzip magic, else as they
/// are if they are at most `limit` bytes; `name` is used in error messages and `what` says what
/// the bytes should be.
pub fn maybe_gunzip<'a>(name: &str, what: &str, bytes: &'a [u8], limit: u64) -> Result<Cow<'a, [u8]>> {
    if is_gzip(bytes) {
        return Ok(Cow::Owned(bounded::gunzip(name, what, bytes, limit)?));
    }
    if bytes.len() as u64 > limit {
        return Err(bounded::too_large(name, what, limit));
    }
    Ok(Cow::Borrowed(bytes))
}
