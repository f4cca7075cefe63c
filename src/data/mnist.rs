//! MNIST in the IDX format (LeCun's `train-images-idx3-ubyte` etc., raw or gzipped; gzip is
//! detected by its magic number, not the file name). An images file and a labels file are read
//! together into one `Dataset` of 1×28×28 u8 images. Every size comes from a header written by
//! someone else, so each is bounded and multiplied with checks, and no file is read past the
//! largest size an MNIST file can have.

use std::path::Path;

use super::bounded::{self, gzip_limit};
use super::{maybe_gunzip, Dataset, Splits};
use crate::{Error, Result};

/// IDX magic for unsigned bytes with 3 dimensions (images) and 1 dimension (labels).
const IMAGES_MAGIC: u32 = 0x0000_0803;
const LABELS_MAGIC: u32 = 0x0000_0801;
const CLASSES: usize = 10;
/// MNIST's images are 28×28.
pub const SIDE: usize = 28;
/// The most images (and labels) a file may hold. MNIST has 60,000 training and 10,000 test
/// images (as do Fashion-MNIST and KMNIST, which share its format); 100,000 leaves room for
/// variants while keeping an images file under 80 MB, in a browser tab as well.
pub const MAX_IMAGES: usize = 100_000;
/// The largest images file, and the largest labels file: a header and `MAX_IMAGES` items.
pub const MAX_IMAGES_BYTES: u64 = (16 + MAX_IMAGES * SIDE * SIDE) as u64;
pub const MAX_LABELS_BYTES: u64 = (8 + MAX_IMAGES) as u64;

/// The four files of the official release, without the optional `.gz`.
pub const TRAIN_IMAGES: &str = "train-images-idx3-ubyte";
pub const TRAIN_LABELS: &str = "train-labels-idx1-ubyte";
pub const TEST_IMAGES: &str = "t10k-images-idx3-ubyte";
pub const TEST_LABELS: &str = "t10k-labels-idx1-ubyte";

/// Parses an IDX images file and an IDX labels file (each raw or gzipped) held in memory.
/// The names only label error messages.
pub fn from_idx_bytes(images_name: &str, images: &[u8], labels_name: &str, labels: &[u8]) -> Result<Dataset> {
    let images = maybe_gunzip(images_name, IMAGES_WHAT, images, MAX_IMAGES_BYTES)?;
    let labels = maybe_gunzip(labels_name, LABELS_WHAT, labels, MAX_LABELS_BYTES)?;
    let (dims, pixels) = parse_idx(images_name, &images, IMAGES_MAGIC, 3)?;
    let (label_dims, label_bytes) = parse_idx(labels_name, &labels, LABELS_MAGIC, 1)?;
    let (count, height, width) = (dims[0], dims[1], dims[2]);
    if label_dims[0] != count {
        return Err(Error::data(
            labels_name,
            format!("has {} labels but {images_name} has {count} images", label_dims[0]),
        ));
    }
    if let Some(i) = label_bytes.iter().position(|&l| l as usize >= CLASSES) {
        return Err(Error::data(
            labels_name,
            format!("label {} of item {i} is out of range (MNIST has classes 0-9)", label_bytes[i]),
        ));
    }
    Ok(Dataset {
        images: pixels.to_vec(),
        labels: label_bytes.to_vec(),
        count,
        channels: 1,
        height,
        width,
        classes: CLASSES,
    })
}

/// Reads an images file and a labels file from disk.
pub fn read_pair(images: &Path, labels: &Path) -> Result<Dataset> {
    let image_bytes = bounded::read_file(images, IMAGES_WHAT, gzip_limit(MAX_IMAGES_BYTES))?;
    let label_bytes = bounded::read_file(labels, LABELS_WHAT, gzip_limit(MAX_LABELS_BYTES))?;
    from_idx_bytes(&images.display().to_string(), &image_bytes, &labels.display().to_string(), &label_bytes)
}

/// Reads the training and test splits from a directory holding the four official files, each
/// either raw or with a `.gz` suffix (the raw one is preferred when both exist).
pub fn read_dir(dir: &Path) -> Result<Splits> {
    let find = |name: &str| -> Result<std::path::PathBuf> {
        let raw = dir.join(name);
        if raw.is_file() {
            return Ok(raw);
        }
        let gz = dir.join(format!("{name}.gz"));
        if gz.is_file() {
            return Ok(gz);
        }
        Err(Error::data(dir.display().to_string(), format!("has no `{name}` (or `{name}.gz`)")))
    };
    Ok(Splits {
        train: read_pair(&find(TRAIN_IMAGES)?, &find(TRAIN_LABELS)?)?,
        test: read_pair(&find(TEST_IMAGES)?, &find(TEST_LABELS)?)?,
    })
}

const IMAGES_WHAT: &str = "an MNIST images file (100,000 images of 28×28)";
const LABELS_WHAT: &str = "an MNIST labels file (100,000 labels)";

/// Checks an IDX header (magic, dimension sizes: at most `MAX_IMAGES` items, images of 28×28)
/// and the exact data length; returns the dimensions and the data bytes.
fn parse_idx<'a>(name: &str, bytes: &'a [u8], magic: u32, ndims: usize) -> Result<(Vec<usize>, &'a [u8])> {
    let header = 4 + 4 * ndims;
    if bytes.len() < 4 {
        return Err(Error::data(name, format!("is truncated: {} bytes, too short for an IDX header", bytes.len())));
    }
    let got = be_u32(bytes, 0);
    if got != magic {
        return Err(Error::data(
            name,
            format!(
                "has the wrong magic number 0x{got:08x}; an IDX {} file starts with 0x{magic:08x}",
                if ndims == 3 { "images" } else { "labels" }
            ),
        ));
    }
    if bytes.len() < header {
        return Err(Error::data(
            name,
            format!("is truncated: {} bytes, but the IDX header needs {header}", bytes.len()),
        ));
    }
    let dims: Vec<usize> = (0..ndims).map(|d| be_u32(bytes, 4 + 4 * d) as usize).collect();
    if dims.contains(&0) {
        return Err(Error::data(name, format!("has an empty dimension in its header {dims:?}")));
    }
    if dims[0] > MAX_IMAGES {
        return Err(Error::data(
            name,
            format!("says it holds {} items; an MNIST file holds at most {MAX_IMAGES} (MNIST itself has 60,000)", dims[0]),
        ));
    }
    if ndims == 3 && dims[1..] != [SIDE, SIDE] {
        return Err(Error::data(
            name,
            format!("has images of {}×{}; MNIST images are {SIDE}×{SIDE}", dims[1], dims[2]),
        ));
    }
    let want = dims.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
    let want = want.ok_or_else(|| Error::data(name, format!("has a header {dims:?} whose size overflows")))?;
    let data = &bytes[header..];
    if data.len() < want {
        return Err(Error::data(
            name,
            format!("is truncated: the header {dims:?} promises {want} data bytes but only {} follow", data.len()),
        ));
    }
    if data.len() > want {
        return Err(Error::data(
            name,
            format!("has {} bytes after the {want} data bytes its header {dims:?} describes", data.len() - want),
        ));
    }
    Ok((dims, data))
}

fn be_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}
