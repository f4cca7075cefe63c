//! The fuzz targets: seed inputs made here, the mutation each input kind gets, and the run that
//! checks what a reader returns when it accepts an input.

use std::io::Write;

use flate2::write::GzEncoder;
use flate2::Compression;
use serde_json::Map;
use tricklab::rng::Rng;
use tricklab::data::{cifar, mnist, Dataset, DatasetKind};
use tricklab::train::checkpoint::{self, Checkpoint};
use tricklab::train::config::MAX_TOTAL_STEPS;
use tricklab::train::{LrMode, TrainConfig};

use super::mutate::{self, below, pick};
use super::overrides::{config_with, parse_set};
use super::Target;

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

fn idx(magic: u8, dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut b = vec![0, 0, 8, magic];
    for d in dims {
        b.extend_from_slice(&d.to_be_bytes());
    }
    b.extend_from_slice(data);
    b
}

/// An MNIST input is an images file and a labels file: 4 bytes of the images file's length, then
/// both files.
fn mnist_pair(images: &[u8], labels: &[u8]) -> Vec<u8> {
    let mut b = (images.len() as u32).to_le_bytes().to_vec();
    b.extend_from_slice(images);
    b.extend_from_slice(labels);
    b
}

fn split_pair(input: &[u8]) -> (&[u8], &[u8]) {
    if input.len() < 4 {
        return (input, &[]);
    }
    let n = (u32::from_le_bytes(input[..4].try_into().unwrap()) as usize).min(input.len() - 4);
    input[4..].split_at(n)
}

fn check_dataset(d: &Dataset, shape: (usize, usize, usize)) {
    assert_eq!((d.channels, d.height, d.width, d.classes), (shape.0, shape.1, shape.2, 10));
    assert_eq!(d.images.len(), d.count * d.image_len());
    assert_eq!(d.labels.len(), d.count);
    assert!(d.labels.iter().all(|&l| l < 10));
    assert!(d.count >= 1);
}

fn run_mnist(input: &[u8]) -> Result<(), String> {
    let (images, labels) = split_pair(input);
    let d = mnist::from_idx_bytes("images", images, "labels", labels).map_err(|e| e.to_string())?;
    check_dataset(&d, (1, 28, 28));
    assert!(d.count <= mnist::MAX_IMAGES);
    Ok(())
}

fn mnist_seeds(gz: bool) -> Vec<Vec<u8>> {
    let wrap = |b: Vec<u8>| if gz { gzip(&b) } else { b };
    [1u32, 2, 5]
        .iter()
        .map(|&n| {
            let pixels: Vec<u8> = (0..n * 784).map(|i| (i % 251) as u8).collect();
            let labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
            mnist_pair(&wrap(idx(3, &[n, 28, 28], &pixels)), &wrap(idx(1, &[n], &labels)))
        })
        .collect()
}

/// Mutates an MNIST pair: the whole input, or (most often) the header of one file.
fn mutate_mnist(rng: &mut Rng, input: &mut Vec<u8>, other: &[u8]) {
    let (images, labels) = split_pair(input);
    let (mut images, mut labels) = (images.to_vec(), labels.to_vec());
    match below(rng, 4) {
        0 => mutate::mutate(rng, input, other),
        1 => {
            mutate::mutate(rng, &mut labels, other);
            *input = mnist_pair(&images, &labels);
        }
        _ => {
            // A header field set to a boundary value.
            let field = 4 + 4 * below(rng, 3);
            if images.len() >= field + 4 {
                let v = *pick(rng, &mutate::INTERESTING) as u32;
                images[field..field + 4].copy_from_slice(&v.to_be_bytes());
            } else {
                mutate::mutate(rng, &mut images, other);
            }
            *input = mnist_pair(&images, &labels);
        }
    }
}

/// Mutates gzipped MNIST files: the gzip bytes themselves, or the raw files gzipped again.
fn mutate_mnist_gz(rng: &mut Rng, input: &mut Vec<u8>, other: &[u8]) {
    if below(rng, 2) == 0 {
        return mutate_mnist(rng, input, other);
    }
    let (images, labels) = split_pair(input);
    let unzip = |b: &[u8]| {
        let mut out = Vec::new();
        let ok = std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(b), &mut out).is_ok() && out.len() < 1 << 20;
        if ok {
            out
        } else {
            b.to_vec()
        }
    };
    let mut raw = mnist_pair(&unzip(images), &unzip(labels));
    mutate_mnist(rng, &mut raw, other);
    let (images, labels) = split_pair(&raw);
    *input = mnist_pair(&gzip(images), &gzip(labels));
}

pub fn mnist_idx() -> Target {
    Target { name: "mnist_idx", seeds: mnist_seeds(false), mutate: mutate_mnist, run: run_mnist }
}

pub fn mnist_idx_gz() -> Target {
    Target { name: "mnist_idx_gz", seeds: mnist_seeds(true), mutate: mutate_mnist_gz, run: run_mnist }
}

fn records(labels: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    for (i, &l) in labels.iter().enumerate() {
        b.push(l);
        b.extend((0..3072).map(|p| (i + p) as u8));
    }
    b
}

pub fn cifar_bin() -> Target {
    fn run(input: &[u8]) -> Result<(), String> {
        let d = cifar::from_bin_bytes("batch.bin", input).map_err(|e| e.to_string())?;
        check_dataset(&d, (3, 32, 32));
        assert!(d.count <= cifar::MAX_RECORDS);
        Ok(())
    }
    Target { name: "cifar_bin", seeds: vec![records(&[3]), records(&[0, 9])], mutate: mutate::mutate, run }
}

/// A tar stream of `(path, data)` members, with a GNU header each and the end marker.
fn tar(members: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let members: Vec<_> = members.iter().map(|(p, d)| (*p, d.len() as u64, d.as_slice(), tar::EntryType::Regular)).collect();
    super::tar_stream::tar_stream(&members)
}

/// The offsets of the headers of a tar stream, found by walking it (as far as it makes sense).
fn header_offsets(tar: &[u8]) -> Vec<usize> {
    let mut at = 0;
    let mut found = Vec::new();
    while at + 512 <= tar.len() && found.len() < 64 {
        let block = &tar[at..at + 512];
        if block.iter().all(|&b| b == 0) {
            break;
        }
        found.push(at);
        let size = std::str::from_utf8(&block[124..135]).ok().and_then(|s| u64::from_str_radix(s.trim_matches(['\0', ' ']), 8).ok());
        let Some(size) = size.filter(|&s| s < 1 << 24) else { break };
        at += 512 + (size as usize).div_ceil(512) * 512;
    }
    found
}

/// Rewrites a header's checksum so tar reads the header and the reader sees the edit.
fn fix_checksum(header: &mut [u8]) {
    header[148..156].fill(b' ');
    let sum: u32 = header.iter().map(|&b| b as u32).sum();
    header[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
}

/// Structure-aware edits of a tar stream: a header's size (octal, base-256 or through a PAX
/// record), type or name, with its checksum fixed; or byte-level edits.
fn mutate_tar(rng: &mut Rng, tar: &mut Vec<u8>, other: &[u8]) {
    let headers = header_offsets(tar);
    if headers.is_empty() || below(rng, 4) == 0 {
        return mutate::mutate(rng, tar, other);
    }
    let at = *pick(rng, &headers);
    let names = ["data_batch_1.bin", "cifar-10-batches-bin/data_batch_2.bin", "test_batch.bin", "x/test_batch.bin", "readme.html"];
    match below(rng, 5) {
        0 => {
            let size = *pick(rng, &mutate::INTERESTING);
            let field = &mut tar[at + 124..at + 136];
            if size < 1 << 33 && below(rng, 2) == 0 {
                field.copy_from_slice(format!("{size:011o}\0").as_bytes());
            } else {
                field.fill(0);
                field[0] = 0x80;
                field[4..].copy_from_slice(&size.to_be_bytes());
            }
        }
        1 => tar[at + 156] = *pick(rng, b"0125xgLK"),
        2 => {
            let name = pick(rng, &names).as_bytes();
            tar[at..at + 100].fill(0);
            tar[at..at + name.len()].copy_from_slice(name);
        }
        3 => {
            // A PAX record before this member.
            let value = match below(rng, 2) {
                0 => format!("size={}", pick(rng, &mutate::INTERESTING)),
                _ => format!("path={}", pick(rng, &names)),
            };
            let body = format!(" {value}\n");
            let mut len = body.len() + 1;
            len += format!("{len}").len() - 1;
            let record = format!("{len}{body}").into_bytes();
            let mut header = tar::Header::new_ustar();
            header.set_path("PaxHeaders/x").unwrap();
            header.set_size(record.len() as u64);
            header.set_entry_type(tar::EntryType::XHeader);
            header.set_cksum();
            let mut block = header.as_bytes().to_vec();
            block.extend_from_slice(&record);
            block.resize(block.len().div_ceil(512) * 512, 0);
            tar.splice(at..at, block);
            return;
        }
        _ => {
            let from = at + below(rng, 512);
            tar[from] = rng.next_u64() as u8;
        }
    }
    fix_checksum(&mut tar[at..at + 512]);
}

/// A .tar.gz input is either a gzip stream (mutated as bytes) or a tar stream to gzip before the
/// run, marked by its first byte.
fn mutate_tar_gz(rng: &mut Rng, input: &mut Vec<u8>, other: &[u8]) {
    let body = input.get(1..).unwrap_or(&[]).to_vec();
    let other = other.get(1..).unwrap_or(&[]);
    let raw = match input.first() {
        Some(0) => Some(body.clone()),
        _ => {
            let mut out = Vec::new();
            let inflated = std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&body[..]), &mut out);
            inflated.ok().filter(|_| out.len() < 1 << 20).map(|_| out)
        }
    };
    match raw {
        // Compressed bytes: flip bits in the deflate data or the CRC trailer; stays gzip.
        Some(raw) if below(rng, 3) == 0 => {
            let mut gz = gzip(&raw);
            mutate::mutate(rng, &mut gz, other);
            *input = [vec![1], gz].concat();
        }
        Some(mut raw) => {
            mutate_tar(rng, &mut raw, other);
            *input = [vec![0], raw].concat();
        }
        None => {
            let mut gz = body;
            mutate::mutate(rng, &mut gz, other);
            *input = [vec![1], gz].concat();
        }
    }
}

pub fn cifar_tar_gz() -> Target {
    fn run(input: &[u8]) -> Result<(), String> {
        let bytes = match input.first() {
            Some(0) => gzip(&input[1..]),
            _ => input.get(1..).unwrap_or(&[]).to_vec(),
        };
        let s = cifar::from_tar_gz_bytes("fuzz.tar.gz", &bytes).map_err(|e| e.to_string())?;
        check_dataset(&s.train, (3, 32, 32));
        check_dataset(&s.test, (3, 32, 32));
        assert!(s.train.count <= 5 * cifar::MAX_RECORDS && s.test.count <= cifar::MAX_RECORDS);
        Ok(())
    }
    let files: Vec<(String, Vec<u8>)> = cifar::TRAIN_FILES
        .iter()
        .chain([&cifar::TEST_FILE])
        .enumerate()
        .map(|(k, name)| (format!("cifar-10-batches-bin/{name}"), records(&[k as u8])))
        .collect();
    let members: Vec<(&str, Vec<u8>)> = files.iter().map(|(n, d)| (n.as_str(), d.clone())).collect();
    let raw = tar(&members);
    let seeds = vec![[vec![0], raw.clone()].concat(), [vec![1], gzip(&raw)].concat()];
    Target { name: "cifar_tar_gz", seeds, mutate: mutate_tar_gz, run }
}

/// A saved mnist_resnet (width 0.25, so inputs stay small) with fresh weights.
fn saved_model() -> Vec<u8> {
    let config = TrainConfig { width_mult: 0.25, seed: 3, ..TrainConfig::default_for(DatasetKind::Mnist) };
    let (graph, initial) = Checkpoint::initial(&config, 2).unwrap();
    checkpoint::save(&graph, &initial)
}

/// Edits the JSON header of a checkpoint (a number or a byte in it, header length fixed up), or
/// the file as bytes.
fn mutate_checkpoint(rng: &mut Rng, file: &mut Vec<u8>, other: &[u8]) {
    let n = file.get(..8).map(|b| u64::from_le_bytes(b.try_into().unwrap()) as usize);
    match n.filter(|&n| 8 + n <= file.len() && below(rng, 4) != 0) {
        Some(n) => {
            let mut header = file[8..8 + n].to_vec();
            if below(rng, 2) == 0 {
                mutate::rewrite_number(rng, &mut header);
            } else {
                mutate::mutate(rng, &mut header, other);
            }
            let rest = file[8 + n..].to_vec();
            *file = [(header.len() as u64).to_le_bytes().to_vec(), header, rest].concat();
        }
        None => mutate::mutate(rng, file, other),
    }
}

pub fn checkpoint() -> Target {
    fn run(input: &[u8]) -> Result<(), String> {
        let (graph, c) = checkpoint::load("teacher.safetensors", input, |c| c.graph(2)).map_err(|e| e.to_string())?;
        c.config.validate_saved().expect("a loaded config is valid");
        assert_eq!(c.params.len(), graph.params.len());
        for (p, v) in graph.params.iter().zip(&c.params) {
            assert_eq!(p.len(), v.len(), "{}", p.name);
        }
        Ok(())
    }
    Target { name: "checkpoint", seeds: vec![saved_model()], mutate: mutate_checkpoint, run }
}

/// Steps per epoch a config is validated for: the real ones and the extremes.
const STEPS: [u64; 6] = [0, 1, 390, 937, 60_000, u64::MAX];

/// What must hold of a config that validates: a bounded run whose schedule gives finite,
/// non-negative rates, and a model that builds.
fn check_valid(c: &TrainConfig, steps: u64) {
    let total = c.total_steps(steps);
    assert!(total <= MAX_TOTAL_STEPS && c.epochs >= 1 && c.batch_size >= 1);
    let s = c.schedule(steps).expect("a valid config has a schedule");
    for step in [0, 1, total / 2, total.saturating_sub(1), total, total + 1, u64::MAX] {
        let lr = s.lr(step);
        assert!(lr.is_finite() && lr >= 0.0, "lr({step}) = {lr} for {c:?}");
    }
    assert!(s.lr(0) > 0.0 || c.warmup_steps_for(steps) > 0, "{c:?}");
    c.graph(1).expect("a valid config builds its model");
}

fn run_config_json(input: &[u8]) -> Result<(), String> {
    let text = std::str::from_utf8(input).map_err(|e| e.to_string())?;
    let c = TrainConfig::from_json(text).map_err(|e| e.to_string())?;
    // What parses survives the round trip.
    assert_eq!(TrainConfig::from_json(&c.to_json()).unwrap(), c);
    let steps = STEPS[input.len() % STEPS.len()];
    c.validate(steps).map_err(|e| e.to_string())?;
    check_valid(&c, steps);
    Ok(())
}

pub fn config_json() -> Target {
    let mut seeds = Vec::new();
    for dataset in [DatasetKind::Mnist, DatasetKind::Cifar10] {
        let d = TrainConfig::default_for(dataset);
        seeds.push(d.to_json().into_bytes());
        let cosine = TrainConfig { lr_mode: LrMode::Cosine, warmup_epochs: 1, hold_epochs: 1, label_smoothing: 0.1, ..d.clone() };
        seeds.push(cosine.to_json().into_bytes());
    }
    seeds.push(br#"{"dataset":"cifar10","model":"mobilenetv2","width_mult":0.5,"warmup_steps":7}"#.to_vec());
    seeds.push(b"{}".to_vec());
    Target { name: "config_json", seeds, mutate: mutate_json, run: run_config_json }
}

/// Byte edits, or one JSON number replaced by a boundary value.
fn mutate_json(rng: &mut Rng, input: &mut Vec<u8>, other: &[u8]) {
    if below(rng, 2) == 0 {
        mutate::rewrite_number(rng, input);
    } else {
        mutate::mutate(rng, input, other);
    }
}

/// A `--set` input is a list of `FIELD=VALUE` arguments, one per line.
fn run_set_values(input: &[u8]) -> Result<(), String> {
    let text = String::from_utf8_lossy(input);
    let mut overrides = Map::new();
    for line in text.lines() {
        let (k, v) = parse_set(line).map_err(|e| e.to_string())?;
        overrides.insert(k, v);
    }
    let c = config_with(&Map::new(), &overrides).map_err(|e| e.to_string())?;
    let steps = STEPS[input.len() % STEPS.len()];
    c.validate(steps).map_err(|e| e.to_string())?;
    check_valid(&c, steps);
    Ok(())
}

/// Replaces, adds or drops one `FIELD=VALUE` line (any field, boundary values, words the CLI
/// would read as strings), or edits the bytes.
fn mutate_set(rng: &mut Rng, input: &mut Vec<u8>, other: &[u8]) {
    let text = String::from_utf8_lossy(input).into_owned();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let words = ["cosine", "step", "constant", "mobilenetv2", "resnet56", "mnist_resnet", "cifar10", "mnist", "true", "false", "[]", "[1,2]", "[2,1]", "[0]", "{}", "\"x\"", "/dev/null", ""];
    let value = if below(rng, 2) == 0 { pick(rng, &mutate::INTERESTING_TEXT).to_string() } else { pick(rng, &words).to_string() };
    let field = if below(rng, 10) == 0 { "bogus" } else { pick(rng, &TrainConfig::FIELDS) };
    match below(rng, 5) {
        0 | 1 => lines.push(format!("{field}={value}")),
        2 if !lines.is_empty() => {
            let i = below(rng, lines.len());
            lines[i] = format!("{field}={value}");
        }
        3 if !lines.is_empty() => {
            lines.remove(below(rng, lines.len()));
        }
        _ => {
            let mut bytes = lines.join("\n").into_bytes();
            mutate::mutate(rng, &mut bytes, other);
            *input = bytes;
            return;
        }
    }
    lines.retain(|l| l.contains('='));
    lines.truncate(12);
    *input = lines.join("\n").into_bytes();
}

pub fn set_values() -> Target {
    let seeds = vec![
        b"epochs=1".to_vec(),
        b"lr_mode=cosine\nwarmup_epochs=1\nhold_epochs=1".to_vec(),
        b"dataset=cifar10\nmodel=mobilenetv2\nwidth_mult=0.5".to_vec(),
        b"label_smoothing=0.1\nmixup_alpha=0.2\nlr_decay_epochs=[1]".to_vec(),
        b"teacher=null\nseed=7\nbase_lr=0.2".to_vec(),
    ];
    Target { name: "set_values", seeds, mutate: mutate_set, run: run_set_values }
}
