//! MNIST in the IDX format (LeCun's `train-images-idx3-ubyte` etc., raw or gzipped; gzip is
//! detected by its magic number, not the file name). An images file and a labels file are read
//! together into one `Dataset` of 1×28×28 u8 images.

use std::path::Path;

use super::{maybe_gunzip, read_file, Dataset, Splits};
use crate::{Error, Result};

/// IDX magic for unsigned bytes with 3 dimensions (images) and 1 dimension (labels).
const IMAGES_MAGIC: u32 = 0x0000_0803;
const LABELS_MAGIC: u32 = 0x0000_0801;
const CLASSES: usize = 10;

/// The four files of the official release, without the optional `.gz`.
pub const TRAIN_IMAGES: &str = "train-images-idx3-ubyte";
pub const TRAIN_LABELS: &str = "train-labels-idx1-ubyte";
pub const TEST_IMAGES: &str = "t10k-images-idx3-ubyte";
pub const TEST_LABELS: &str = "t10k-labels-idx1-ubyte";

/// Parses an IDX images file and an IDX labels file (each raw or gzipped) held in memory.
/// The names only label error messages.
pub fn from_idx_bytes(images_name: &str, images: &[u8], labels_name: &str, labels: &[u8]) -> Result<Dataset> {
    let images = maybe_gunzip(images_name, images.to_vec())?;
    let labels = maybe_gunzip(labels_name, labels.to_vec())?;
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
    let image_bytes = read_file(images)?;
    let label_bytes = read_file(labels)?;
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

/// Checks an IDX header (magic, dimension sizes) and the exact data length; returns the
/// dimensions and the data bytes.
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
    let want = dims.iter().product::<usize>();
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
