//! Reads of outside bytes with a size limit: files on disk and gzip streams stop one byte past the
//! limit they are given (so `/dev/zero` or a gzip bomb ends in a clear error instead of filling
//! memory), and a gzip stream is always read to its end so its CRC and length trailer are checked.

use std::cell::Cell;
use std::io::{self, Read};
use std::path::Path;

use crate::{Error, Result};

/// How many bytes a gzip file of `raw` uncompressed bytes can take: deflate's stored blocks add
/// 5 bytes per 65,535, and the gzip header (with a file name or comment) a little more.
pub fn gzip_limit(raw: u64) -> u64 {
    raw + raw / 8192 + 64 * 1024
}

/// Reads at most `limit` bytes from `reader`; more is an error naming `name`, `what` and the limit.
pub fn read_limited(name: &str, what: &str, reader: impl Read, limit: u64) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| Error::data(name, format!("cannot be read: {e}")))?;
    if out.len() as u64 > limit {
        return Err(too_large(name, what, limit));
    }
    Ok(out)
}

/// The error for a file (or stream) longer than its limit.
pub fn too_large(name: &str, what: &str, limit: u64) -> Error {
    Error::data(name, format!("is larger than {limit} bytes, the most {what} can be"))
}

/// Reads a whole file of at most `limit` bytes (`what` says what the file should be, for the
/// error). Stops reading one byte past the limit, so endless files such as `/dev/zero` end too.
pub fn read_file(path: &Path, what: &str, limit: u64) -> Result<Vec<u8>> {
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|e| Error::data(&name, format!("cannot be read: {e}")))?;
    read_limited(&name, what, file, limit)
}

/// Gunzips `bytes` completely (CRC and length checked) into at most `limit` bytes.
pub fn gunzip(name: &str, what: &str, bytes: &[u8], limit: u64) -> Result<Vec<u8>> {
    let hit = Cell::new(false);
    let mut out = Vec::new();
    let result = Capped::new(flate2::read::GzDecoder::new(bytes), limit, &hit).read_to_end(&mut out);
    if hit.get() {
        return Err(Error::data(name, format!("inflates to more than {limit} bytes, the most {what} can be")));
    }
    result.map_err(|e| Error::data(name, format!("is not a valid gzip file: {e}")))?;
    Ok(out)
}

/// A reader that fails once more than `limit` bytes have come through, and records in `hit` that
/// it did (the error may reach the caller wrapped by another reader, such as a tar archive's).
pub struct Capped<'a, R> {
    inner: R,
    left: u64,
    limit: u64,
    hit: &'a Cell<bool>,
}

impl<'a, R: Read> Capped<'a, R> {
    pub fn new(inner: R, limit: u64, hit: &'a Cell<bool>) -> Self {
        Capped { inner, left: limit, limit, hit }
    }

    /// Reads and discards everything left, so a decoder below reaches its end and checks its
    /// trailer (still counting against the limit).
    pub fn drain(&mut self) -> io::Result<u64> {
        io::copy(self, &mut io::sink())
    }
}

impl<R: Read> Read for Capped<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        // Allow one byte past the limit through to the check, never more.
        let want = buf.len().min(usize::try_from(self.left.saturating_add(1)).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        if n as u64 > self.left {
            self.hit.set(true);
            self.left = 0;
            return Err(io::Error::other(format!("more than {} bytes", self.limit)));
        }
        self.left -= n as u64;
        Ok(n)
    }
}
