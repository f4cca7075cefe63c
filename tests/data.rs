//! The MNIST IDX and CIFAR-10 binary readers on small files made here (raw, gzipped, in a
//! directory and in a .tar.gz), and every malformed case they must reject with a clear message.

#[path = "common/tar.rs"]
mod tar_stream;
use std::io::Write;
use std::path::Path;

use flate2::write::GzEncoder;
use flate2::Compression;
use tricklab::data::{cifar, mnist, Dataset};
use tricklab::Error;

#[path = "common/tempdir.rs"]
mod tempdir;
use tempdir::TempDir;

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

fn idx_images(count: u32, h: u32, w: u32) -> Vec<u8> {
    let mut b = vec![0, 0, 8, 3];
    for d in [count, h, w] {
        b.extend_from_slice(&d.to_be_bytes());
    }
    b.extend((0..count * h * w).map(|i| (i % 251) as u8));
    b
}

fn idx_labels(labels: &[u8]) -> Vec<u8> {
    let mut b = vec![0, 0, 8, 1];
    b.extend_from_slice(&(labels.len() as u32).to_be_bytes());
    b.extend_from_slice(labels);
    b
}

/// `labels.len()` CIFAR records; image `i`'s bytes are `first + i` then counting up.
fn cifar_records(labels: &[u8], first: u8) -> Vec<u8> {
    let mut b = Vec::new();
    for (i, &l) in labels.iter().enumerate() {
        b.push(l);
        b.extend((0..3072).map(|p| (first as usize + i + p) as u8));
    }
    b
}

/// The six batch files, 2 records each (the test batch 3), with distinct first bytes.
fn cifar_batches() -> Vec<(&'static str, Vec<u8>)> {
    let mut files: Vec<(&str, Vec<u8>)> = cifar::TRAIN_FILES
        .iter()
        .enumerate()
        .map(|(k, name)| (*name, cifar_records(&[k as u8, 9 - k as u8], 10 * k as u8)))
        .collect();
    files.push((cifar::TEST_FILE, cifar_records(&[7, 8, 9], 200)));
    files
}

fn tar_gz(files: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::fast()));
    for (name, bytes) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append_data(&mut header, format!("cifar-10-batches-bin/{name}"), &bytes[..]).unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap()
}

/// The error's message, checking it is a data error about `file_part` that mentions `msg_part`.
#[track_caller]
fn data_error(result: tricklab::Result<impl std::fmt::Debug>, file_part: &str, msg_part: &str) {
    match result {
        Err(Error::Data { file, msg }) => {
            assert!(file.contains(file_part), "file `{file}` should mention `{file_part}` ({msg})");
            assert!(msg.contains(msg_part), "message `{msg}` should mention `{msg_part}`");
        }
        other => panic!("expected a data error, got {other:?}"),
    }
}

fn check_mnist(d: &Dataset) {
    assert_eq!((d.count, d.channels, d.height, d.width, d.classes), (3, 1, 28, 28, 10));
    assert_eq!(d.labels, [5, 0, 4]);
    assert_eq!(d.images, idx_images(3, 28, 28)[16..]);
    assert_eq!(d.image(1), &d.images[784..2 * 784]);
}

#[test]
fn mnist_reads_raw_and_gzipped_idx() {
    let (images, labels) = (idx_images(3, 28, 28), idx_labels(&[5, 0, 4]));
    check_mnist(&mnist::from_idx_bytes("i", &images, "l", &labels).unwrap());
    check_mnist(&mnist::from_idx_bytes("i", &gzip(&images), "l", &gzip(&labels)).unwrap());
    let dir = TempDir::new("mnist-files");
    // Gzip is found by its magic number, whatever the name says.
    let i = dir.write("images-no-suffix", &gzip(&images));
    let l = dir.write("labels.gz-but-raw.gz", &labels);
    check_mnist(&mnist::read_pair(&i, &l).unwrap());
}

#[test]
fn mnist_reads_a_directory_of_the_four_files() {
    let dir = TempDir::new("mnist-dir");
    dir.write(mnist::TRAIN_IMAGES, &idx_images(3, 28, 28));
    dir.write(&format!("{}.gz", mnist::TRAIN_LABELS), &gzip(&idx_labels(&[5, 0, 4])));
    dir.write(mnist::TEST_IMAGES, &idx_images(2, 28, 28));
    let missing = mnist::read_dir(&dir.0);
    data_error(missing, "tricklab-data", mnist::TEST_LABELS);
    dir.write(mnist::TEST_LABELS, &idx_labels(&[1, 2]));
    let splits = mnist::read_dir(&dir.0).unwrap();
    check_mnist(&splits.train);
    assert_eq!(splits.test.labels, [1, 2]);
}

#[test]
fn mnist_rejects_malformed_files() {
    let (images, labels) = (idx_images(3, 28, 28), idx_labels(&[5, 0, 4]));
    let read = |i: &[u8], l: &[u8]| mnist::from_idx_bytes("imgs", i, "lbls", l);
    // Wrong magic: a labels file given as images, and random bytes.
    data_error(read(&labels, &labels), "imgs", "wrong magic");
    data_error(read(&images, &images), "lbls", "wrong magic");
    data_error(read(&[1, 2, 3, 4, 5, 6, 7, 8], &labels), "imgs", "wrong magic");
    // Truncated: inside the header, inside the data.
    data_error(read(&images[..2], &labels), "imgs", "truncated");
    data_error(read(&images[..10], &labels), "imgs", "truncated");
    data_error(read(&images[..images.len() - 1], &labels), "imgs", "truncated");
    data_error(read(&images, &labels[..labels.len() - 1]), "lbls", "truncated");
    let gz = gzip(&images);
    data_error(read(&gz[..gz.len() / 2], &labels), "imgs", "gzip");
    // Extra bytes after the data.
    let mut long = images.clone();
    long.push(0);
    data_error(read(&long, &labels), "imgs", "after");
    // Counts disagree, label out of range, empty dimension.
    data_error(read(&images, &idx_labels(&[5, 0])), "lbls", "has 2 labels but imgs has 3 images");
    data_error(read(&images, &idx_labels(&[5, 10, 4])), "lbls", "label 10");
    data_error(read(&idx_images(0, 28, 28), &idx_labels(&[])), "imgs", "empty dimension");
    // A file that is not there.
    data_error(
        mnist::read_pair(Path::new("/nonexistent/i"), Path::new("/nonexistent/l")),
        "/nonexistent/i",
        "cannot be read",
    );
}

fn check_cifar_splits(train: &Dataset, test: &Dataset) {
    assert_eq!((train.count, train.channels, train.height, train.width, train.classes), (10, 3, 32, 32, 10));
    assert_eq!(train.labels, [0, 9, 1, 8, 2, 7, 3, 6, 4, 5], "batches 1..5 in order");
    assert_eq!(train.images.len(), 10 * 3072);
    assert_eq!(train.image(2)[0], 10, "batch 2's first image");
    assert_eq!(train.image(3)[..2], [11, 12]);
    assert_eq!(test.labels, [7, 8, 9]);
    assert_eq!(test.image(0)[0], 200);
}

#[test]
fn cifar_reads_a_batch_a_directory_and_a_tar_gz() {
    let dir = TempDir::new("cifar-ok");
    let files = cifar_batches();
    for (name, bytes) in &files {
        dir.write(name, bytes);
    }
    let one = cifar::read_bin(&dir.0.join(cifar::TEST_FILE)).unwrap();
    assert_eq!(one.labels, [7, 8, 9]);
    assert_eq!(one.image(2), &files[5].1[2 * 3073 + 1..3 * 3073]);
    let s = cifar::read_dir(&dir.0).unwrap();
    check_cifar_splits(&s.train, &s.test);
    let archive = tar_gz(&files);
    let s = cifar::from_tar_gz_bytes(OFFICIAL, &archive).unwrap();
    check_cifar_splits(&s.train, &s.test);
    let path = dir.write("cifar-10-binary.tar.gz", &archive);
    let s = cifar::read_tar_gz(&path).unwrap();
    check_cifar_splits(&s.train, &s.test);
    // `read` tells a directory from an archive.
    assert_eq!(cifar::read(&path).unwrap(), cifar::read(&dir.0).unwrap());
    let slice = s.train.slice(2, 4).unwrap();
    assert_eq!((slice.count, slice.labels.clone()), (2, vec![1, 8]));
    assert_eq!(slice.image(0), s.train.image(2));
    assert!(s.train.slice(4, 4).is_err() && s.train.slice(0, 11).is_err());
    assert_eq!(s.test.class_counts(), [0, 0, 0, 0, 0, 0, 0, 1, 1, 1]);
}

#[test]
fn cifar_rejects_malformed_batches() {
    let good = cifar_records(&[1, 2], 0);
    data_error(cifar::from_bin_bytes("b.bin", &good[..good.len() - 1]), "b.bin", "not a whole number of 3073-byte");
    data_error(cifar::from_bin_bytes("b.bin", &good[..3072]), "b.bin", "3073");
    data_error(cifar::from_bin_bytes("b.bin", &[]), "b.bin", "empty");
    data_error(cifar::from_bin_bytes("b.bin", &cifar_records(&[3, 10], 0)), "b.bin", "record 1 has label 10");
}

/// The official archive's name, for the tests that give it.
const OFFICIAL: &str = "cifar-10-binary.tar.gz";

#[test]
fn cifar_says_in_plain_words_what_is_wrong_with_a_file_given() {
    // An empty file, and a gzip of random bytes (what a tar reader would quote as raw bytes).
    let mut rng = tricklab::rng::Rng::new(7);
    let random: Vec<u8> = (0..4096).map(|_| rng.below(256) as u8).collect();
    for (name, bytes, says) in [
        ("empty.tar.gz", Vec::new(), "empty.tar.gz: is empty (0 bytes); CIFAR-10 comes as the official cifar-10-binary.tar.gz"),
        (
            "random.tar.gz",
            gzip(&random),
            "random.tar.gz: is gzip-compressed, but what it holds is not a tar archive, so it is not the official \
             cifar-10-binary.tar.gz",
        ),
    ] {
        let err = cifar::from_tar_gz_bytes(name, &bytes).unwrap_err().to_string();
        assert!(err.starts_with(says), "{err}");
        assert!(err.chars().all(|c| c != '\u{fffd}' && !c.is_control()), "plain text only: {err}");
        // The same from disk.
        let dir = TempDir::new("cifar-not-archives");
        let path = dir.write(name, &bytes);
        for read in [cifar::read, cifar::read_tar_gz] {
            let err = read(&path).unwrap_err().to_string();
            assert!(err.contains(&says[name.len()..]), "{err}");
        }
    }
}

#[test]
fn cifar_names_a_missing_or_bad_member() {
    let files = cifar_batches();
    // Missing from a directory.
    let dir = TempDir::new("cifar-missing");
    for (name, bytes) in files.iter().filter(|(n, _)| *n != "data_batch_4.bin") {
        dir.write(name, bytes);
    }
    data_error(cifar::read_dir(&dir.0), "tricklab-data", "data_batch_4.bin");
    // Missing from an archive.
    let without_test: Vec<_> = files.iter().filter(|(n, _)| *n != cifar::TEST_FILE).cloned().collect();
    data_error(cifar::from_tar_gz_bytes(OFFICIAL, &tar_gz(&without_test)), "cifar-10-binary.tar.gz", "test_batch.bin");
    // A truncated member names the archive and the member.
    let mut short = files.clone();
    short[2].1.truncate(3073 + 5);
    data_error(cifar::from_tar_gz_bytes("mine.tar.gz", &tar_gz(&short)), "mine.tar.gz:data_batch_3.bin", "3073");
    // Not an archive at all, and an archive cut short.
    data_error(cifar::from_tar_gz_bytes("b.tar.gz", &files[0].1), "b.tar.gz", "not gzip-compressed");
    let archive = tar_gz(&files);
    data_error(cifar::from_tar_gz_bytes("half.tar.gz", &archive[..archive.len() / 2]), "half.tar.gz", "a damaged or cut-short gzip file");
    let raw = dir.write("raw.bin", &files[0].1);
    data_error(cifar::read(&raw), "raw.bin", "neither a directory");
}

/// An IDX images header with any dimensions, followed by `data` zero bytes.
fn idx_header(dims: [u32; 3], data: usize) -> Vec<u8> {
    let mut b = vec![0, 0, 8, 3];
    for d in dims {
        b.extend_from_slice(&d.to_be_bytes());
    }
    b.resize(b.len() + data, 0);
    b
}

#[test]
fn mnist_header_sizes_are_bounded_and_checked() {
    let labels = idx_labels(&[0; 256]);
    let read = |i: &[u8], l: &[u8]| mnist::from_idx_bytes("imgs", i, "lbls", l);
    // 256 × 3218270617 × 22390160 wraps to 200,704 in 64 bits: it used to pass the length check
    // and then panic when the images were indexed.
    data_error(read(&idx_header([256, 3_218_270_617, 22_390_160], 200_704), &labels), "imgs", "MNIST images are 28×28");
    data_error(read(&idx_header([256, 1 << 30, 1 << 30], 0), &labels), "imgs", "MNIST images are 28×28");
    data_error(read(&idx_header([256, 28, 29], 256 * 28 * 29), &labels), "imgs", "28×29");
    // Counts beyond any MNIST: stopped by the header, before any data is looked for.
    data_error(read(&idx_header([u32::MAX, 28, 28], 0), &labels), "imgs", "at most 100000");
    data_error(read(&idx_header([100_001, 28, 28], 0), &labels), "imgs", "at most 100000");
    let mut many_labels = vec![0, 0, 8, 1];
    many_labels.extend_from_slice(&u32::MAX.to_be_bytes());
    data_error(read(&idx_images(3, 28, 28), &many_labels), "lbls", "at most 100000");
}

#[test]
fn mnist_reads_stop_at_the_largest_mnist_file() {
    let labels = idx_labels(&[0, 1, 2]);
    // A gzip bomb: 80 MB of zeros in about 80 KB.
    let bomb = gzip(&vec![0; mnist::MAX_IMAGES_BYTES as usize + 1]);
    assert!(bomb.len() < 1 << 20);
    data_error(mnist::from_idx_bytes("imgs.gz", &bomb, "l", &labels), "imgs.gz", "inflates to more than 78400016 bytes");
    let long = vec![0; mnist::MAX_LABELS_BYTES as usize + 1];
    data_error(mnist::from_idx_bytes("i", &idx_images(3, 28, 28), "lbls", &long), "lbls", "larger than 100008 bytes");
    // An endless file ends in an error naming it and the limit.
    let zero = Path::new("/dev/zero");
    data_error(mnist::read_pair(zero, zero), "/dev/zero", "the most an MNIST images file");
    // The largest allowed file is read.
    let most = idx_header([mnist::MAX_IMAGES as u32, 28, 28], mnist::MAX_IMAGES * 784);
    let most_labels = idx_labels(&vec![3; mnist::MAX_IMAGES]);
    assert_eq!(mnist::from_idx_bytes("i", &gzip(&most), "l", &most_labels).unwrap().count, mnist::MAX_IMAGES);
}

/// A raw tar stream (not gzipped) of `(path, header size, data)` members; the header may claim
/// more than the data holds. PAX members have the type `x`.
fn raw_tar(members: &[(&str, u64, Vec<u8>, tar::EntryType)]) -> Vec<u8> {
    let members: Vec<_> = members.iter().map(|(p, s, d, k)| (*p, *s, d.as_slice(), *k)).collect();
    tar_stream::tar_stream(&members)
}

fn regular(path: &str, data: Vec<u8>) -> (&str, u64, Vec<u8>, tar::EntryType) {
    (path, data.len() as u64, data, tar::EntryType::Regular)
}

/// A PAX extended header setting `key=value` for the member after it.
fn pax(key: &str, value: &str) -> (&'static str, u64, Vec<u8>, tar::EntryType) {
    let body = format!(" {key}={value}\n");
    let mut len = body.len() + 1;
    len += format!("{len}").len() - 1;
    let record = format!("{len}{body}").into_bytes();
    assert_eq!(record.len(), len);
    ("PaxHeaders/x", record.len() as u64, record, tar::EntryType::XHeader)
}

#[test]
fn cifar_member_sizes_never_size_an_allocation() {
    let name = "cifar-10-batches-bin/data_batch_1.bin";
    for size in [1u64 << 63, 1 << 40, 1 << 30, cifar::MAX_BATCH_BYTES + 1] {
        // GNU headers write sizes this large in base-256.
        let archive = gzip(&raw_tar(&[(name, size, Vec::new(), tar::EntryType::Regular)]));
        data_error(cifar::from_tar_gz_bytes(OFFICIAL, &archive), "data_batch_1.bin", "a CIFAR-10 batch is at most 30730000");
        let archive = gzip(&raw_tar(&[pax("size", &size.to_string()), regular(name, Vec::new())]));
        data_error(cifar::from_tar_gz_bytes(OFFICIAL, &archive), "data_batch_1.bin", &format!("is {size} bytes"));
    }
    // A batch may hold at most 10,000 records.
    let records = cifar_records(&vec![0; cifar::MAX_RECORDS + 1], 0);
    data_error(cifar::from_bin_bytes("big.bin", &records), "big.bin", "at most 10000");
}

#[test]
fn cifar_archives_inflate_no_further_than_cifar_can_be() {
    // 200 MB of zeros in a member the reader skips, then past the tar end marker.
    let junk = 200 << 20;
    let mut members = vec![regular("junk.bin", vec![0; junk])];
    members.extend(cifar_batches().into_iter().map(|(n, d)| regular(n, d)));
    let archive = gzip(&raw_tar(&members));
    drop(members);
    data_error(cifar::from_tar_gz_bytes(OFFICIAL, &archive), "cifar-10-binary.tar.gz", "inflates to more than 185428576 bytes");
    let mut padded = tar_body(&cifar_batches());
    padded.resize(padded.len() + junk, 0);
    data_error(cifar::from_tar_gz_bytes(OFFICIAL, &gzip(&padded)), "cifar-10-binary.tar.gz", "inflates to more than");
    // Files on disk are read no further than the limits.
    for read in [cifar::read, cifar::read_tar_gz] {
        data_error(read(Path::new("/dev/zero")), "/dev/zero", "the most the CIFAR-10 archive");
    }
    data_error(cifar::read_bin(Path::new("/dev/zero")), "/dev/zero", "larger than 30730000 bytes");
}

/// The six batches as an uncompressed tar, end marker included.
fn tar_body(files: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let members: Vec<_> = files.iter().map(|(n, d)| regular(n, d.clone())).collect();
    raw_tar(&members)
}

#[test]
fn cifar_checks_the_gzip_trailer() {
    let archive = tar_gz(&cifar_batches());
    assert!(cifar::from_tar_gz_bytes(OFFICIAL, &archive).is_ok());
    // The last 8 bytes are the CRC-32 and the length of the tar; the end marker comes before.
    for at in [archive.len() - 8, archive.len() - 1] {
        let mut bad = archive.clone();
        bad[at] ^= 0x01;
        data_error(cifar::from_tar_gz_bytes(OFFICIAL, &bad), "cifar-10-binary.tar.gz", "a damaged or cut-short gzip file");
    }
    // A flipped byte in the compressed data of the first batch: caught by inflate or the CRC.
    let stored = gzip_stored(&tar_body(&cifar_batches()));
    let mut bad = stored.clone();
    bad[2000] ^= 0x40;
    assert!(cifar::from_tar_gz_bytes(OFFICIAL, &stored).is_ok());
    data_error(cifar::from_tar_gz_bytes(OFFICIAL, &bad), "cifar-10-binary.tar.gz", "a damaged or cut-short gzip file");
    // Cut inside the trailer.
    data_error(cifar::from_tar_gz_bytes(OFFICIAL, &archive[..archive.len() - 3]), "cifar-10-binary.tar.gz", "cut-short gzip");
}

/// Gzip without compression, so a flipped byte lands in the data as it is.
fn gzip_stored(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::none());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

#[test]
fn cifar_rejects_a_duplicated_member() {
    let mut files = cifar_batches();
    files.push(("data_batch_1.bin", cifar_records(&[3], 0)));
    data_error(cifar::from_tar_gz_bytes(OFFICIAL, &tar_gz(&files)), "cifar-10-binary.tar.gz", "holds `data_batch_1.bin` twice");
}
