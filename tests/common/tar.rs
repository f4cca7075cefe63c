//! A tar stream written by hand, for the CIFAR-10 reader's tests and its fuzz target: each member a
//! GNU header (whose size may claim more than the data holds) and the data padded to 512 bytes,
//! then the end marker.

/// `(path, header size, data, entry type)` members as one raw (not gzipped) tar stream.
pub fn tar_stream(members: &[(&str, u64, &[u8], tar::EntryType)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (path, size, data, kind) in members {
        let mut header = tar::Header::new_gnu();
        header.set_path(path).unwrap();
        header.set_size(*size);
        header.set_mode(0o644);
        header.set_entry_type(*kind);
        header.set_cksum();
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.resize(out.len() + 1024, 0);
    out
}
