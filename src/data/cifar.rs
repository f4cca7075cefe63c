//! CIFAR-10 in the official binary layout: records of 1 label byte and 3072 bytes of planar R, G,
//! B (32×32). Reads one `.bin` batch, a directory with `data_batch_{1..5}.bin` and
//! `test_batch.bin`, or the official `cifar-10-binary.tar.gz`, from disk or from bytes in memory
//! (the browser passes the file the visitor gave, and its name, to `from_tar_gz_bytes`). A file
//! that is not the archive is named in the error, which says in plain words what is wrong with it. Sizes in tar headers come
//! from outside: nothing is allocated from them, each member and the whole archive are read only
//! up to what CIFAR-10 can be, and the gzip stream is read to its end so its CRC is checked.

use std::cell::Cell;
use std::io::Read;
use std::path::Path;

use super::bounded::{self, gzip_limit, Capped};
use super::{is_gzip, Dataset, Splits};
use crate::{Error, Result};

const CLASSES: usize = 10;
const IMAGE_BYTES: usize = 3 * 32 * 32;
/// One record: the label byte and the image.
pub const RECORD_BYTES: usize = 1 + IMAGE_BYTES;
/// Every official batch holds 10,000 records, so a batch file is at most 30,730,000 bytes.
pub const MAX_RECORDS: usize = 10_000;
pub const MAX_BATCH_BYTES: u64 = (MAX_RECORDS * RECORD_BYTES) as u64;
/// The most an archive may inflate to: the six batches (184,380,000 bytes) plus 1 MiB for tar
/// headers and the small files beside them (the official archive inflates to about 184.4 MB).
pub const MAX_ARCHIVE_BYTES: u64 = 6 * MAX_BATCH_BYTES + (1 << 20);

const BATCH_WHAT: &str = "a CIFAR-10 batch (10,000 records of 3073 bytes)";
const ARCHIVE_WHAT: &str = "the CIFAR-10 archive (six batches of 30,730,000 bytes)";

/// The five training batches, in order, then the test batch.
pub const TRAIN_FILES: [&str; 5] =
    ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"];
pub const TEST_FILE: &str = "test_batch.bin";

/// Parses the records of one batch file held in memory; `name` labels error messages.
pub fn from_bin_bytes(name: &str, bytes: &[u8]) -> Result<Dataset> {
    if bytes.is_empty() {
        return Err(Error::data(name, "is empty; a CIFAR-10 batch holds records of 3073 bytes"));
    }
    if !bytes.len().is_multiple_of(RECORD_BYTES) {
        return Err(Error::data(
            name,
            format!(
                "has {} bytes, which is not a whole number of 3073-byte CIFAR-10 records \
                 ({} records and {} bytes left over: truncated, or not a CIFAR-10 binary batch)",
                bytes.len(),
                bytes.len() / RECORD_BYTES,
                bytes.len() % RECORD_BYTES
            ),
        ));
    }
    let count = bytes.len() / RECORD_BYTES;
    if count > MAX_RECORDS {
        return Err(Error::data(
            name,
            format!("holds {count} records; a CIFAR-10 batch holds at most {MAX_RECORDS}"),
        ));
    }
    let mut images = Vec::with_capacity(count * IMAGE_BYTES);
    let mut labels = Vec::with_capacity(count);
    for (i, record) in bytes.chunks_exact(RECORD_BYTES).enumerate() {
        if record[0] as usize >= CLASSES {
            return Err(Error::data(
                name,
                format!("record {i} has label {}, out of range (CIFAR-10 has classes 0-9)", record[0]),
            ));
        }
        labels.push(record[0]);
        images.extend_from_slice(&record[1..]);
    }
    Ok(Dataset { images, labels, count, channels: 3, height: 32, width: 32, classes: CLASSES })
}

/// Reads one `.bin` batch file.
pub fn read_bin(path: &Path) -> Result<Dataset> {
    from_bin_bytes(&path.display().to_string(), &bounded::read_file(path, BATCH_WHAT, MAX_BATCH_BYTES)?)
}

/// Reads a directory holding the five training batches and the test batch.
pub fn read_dir(dir: &Path) -> Result<Splits> {
    assemble(|file| {
        let path = dir.join(file);
        if !path.is_file() {
            return Err(Error::data(dir.display().to_string(), format!("has no `{file}`")));
        }
        read_bin(&path)
    })
}

/// Reads the official `cifar-10-binary.tar.gz` from disk (all in memory, no unpacking to disk).
pub fn read_tar_gz(path: &Path) -> Result<Splits> {
    from_tar_gz_bytes(&path.display().to_string(), &read_archive(path)?)
}

/// Reads a directory, a `.tar.gz` archive (recognized by its gzip magic) or fails with a message
/// that says which of the two was expected.
pub fn read(path: &Path) -> Result<Splits> {
    if path.is_dir() {
        return read_dir(path);
    }
    let bytes = read_archive(path)?;
    if !bytes.is_empty() && !is_gzip(&bytes) {
        return Err(Error::data(
            path.display().to_string(),
            "is neither a directory of CIFAR-10 batches nor a .tar.gz archive (for one .bin batch use read_bin)",
        ));
    }
    from_tar_gz_bytes(&path.display().to_string(), &bytes)
}

/// The bytes of a `.tar.gz` file on disk, read no further than a CIFAR-10 archive can be.
fn read_archive(path: &Path) -> Result<Vec<u8>> {
    bounded::read_file(path, ARCHIVE_WHAT, gzip_limit(MAX_ARCHIVE_BYTES))
}

/// What the official archive is, for the messages about a file that is not it.
const OFFICIAL: &str = "the official cifar-10-binary.tar.gz (a gzip-compressed tar archive of the six CIFAR-10 \
                        batches, about 170 MB)";

/// Reads the splits from a `.tar.gz` archive held in memory; `archive` (the file's name) labels
/// error messages. Members are found by file name in any folder (the official archive has them
/// under `cifar-10-batches-bin/`).
pub fn from_tar_gz_bytes(archive: &str, bytes: &[u8]) -> Result<Splits> {
    if bytes.is_empty() {
        return Err(Error::data(archive, format!("is empty (0 bytes); CIFAR-10 comes as {OFFICIAL}")));
    }
    if !is_gzip(bytes) {
        return Err(Error::data(
            archive,
            format!("is not gzip-compressed (it does not start with gzip's bytes 1f 8b), so it is not {OFFICIAL}"),
        ));
    }
    let wanted: Vec<&str> = TRAIN_FILES.iter().copied().chain([TEST_FILE]).collect();
    let mut found: Vec<Option<(String, Dataset)>> = vec![None; wanted.len()];
    let (hit, gzip_failed) = (Cell::new(false), Cell::new(false));
    let gunzip = Watched { inner: flate2::read::GzDecoder::new(bytes), failed: &gzip_failed };
    let mut tar = tar::Archive::new(Capped::new(gunzip, MAX_ARCHIVE_BYTES, &hit));
    // The tar reader's own messages can quote raw header bytes; they are not shown.
    let bad = |e: std::io::Error| {
        if hit.get() {
            Error::data(archive, format!("inflates to more than {MAX_ARCHIVE_BYTES} bytes, the most {ARCHIVE_WHAT} can be"))
        } else if gzip_failed.get() {
            Error::data(archive, format!("is a damaged or cut-short gzip file ({e}), so it is not {OFFICIAL} as downloaded"))
        } else {
            Error::data(archive, format!("is gzip-compressed, but what it holds is not a tar archive, so it is not {OFFICIAL}"))
        }
    };
    for entry in tar.entries().map_err(bad)? {
        let entry = entry.map_err(bad)?;
        let path = entry.path().map_err(bad)?.into_owned();
        let Some(file) = path.file_name().and_then(|f| f.to_str()) else { continue };
        let Some(slot) = wanted.iter().position(|w| *w == file) else { continue };
        let member = format!("{archive}:{}", path.display());
        if let Some((first, _)) = &found[slot] {
            return Err(Error::data(archive, format!("holds `{file}` twice ({first} and {member})")));
        }
        if entry.size() > MAX_BATCH_BYTES {
            return Err(Error::data(
                &member,
                format!("is {} bytes; a CIFAR-10 batch is at most {MAX_BATCH_BYTES}", entry.size()),
            ));
        }
        let mut data = Vec::new();
        entry.take(MAX_BATCH_BYTES + 1).read_to_end(&mut data).map_err(bad)?;
        found[slot] = Some((member, from_bin_bytes(&format!("{archive}:{file}"), &data)?));
    }
    // Past the tar end marker: read the gzip stream to its end, so its CRC and length are checked.
    tar.into_inner().drain().map_err(bad)?;
    assemble(|file| {
        let slot = wanted.iter().position(|w| *w == file).expect("file is one of the wanted names");
        match found[slot].take() {
            Some((_, data)) => Ok(data),
            None => Err(Error::data(archive, format!("has no `{file}`"))),
        }
    })
}

/// A reader that records in `failed` that the reader below it failed (the gzip decoder, below a
/// tar reader whose error would not say which of the two failed).
struct Watched<'a, R> {
    inner: R,
    failed: &'a Cell<bool>,
}

impl<R: Read> Read for Watched<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.inner.read(buf).inspect_err(|_| self.failed.set(true))
    }
}

/// Loads the five training batches (concatenated in order) and the test batch through `load`.
fn assemble(mut load: impl FnMut(&str) -> Result<Dataset>) -> Result<Splits> {
    let mut train = load(TRAIN_FILES[0])?;
    for file in &TRAIN_FILES[1..] {
        let batch = load(file)?;
        train.images.extend_from_slice(&batch.images);
        train.labels.extend_from_slice(&batch.labels);
        train.count += batch.count;
    }
    let test = load(TEST_FILE)?;
    Ok(Splits { train, test })
}
