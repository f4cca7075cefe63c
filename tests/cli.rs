//! The command line on bad input: every case ends in an error naming the file or the field, before
//! any training starts (so none of these tests needs a GPU), and nothing is left behind.

use std::path::Path;
use std::process::{Command, Output};

#[path = "common/tempdir.rs"]
mod tempdir;
use tempdir::TempDir;

/// The four MNIST files with a few blank 28×28 images, so a run could start if nothing stopped it.
fn write_mnist(dir: &Path) {
    for (images, labels, count) in [
        (tricklab::data::mnist::TRAIN_IMAGES, tricklab::data::mnist::TRAIN_LABELS, 32u32),
        (tricklab::data::mnist::TEST_IMAGES, tricklab::data::mnist::TEST_LABELS, 16),
    ] {
        let mut img = vec![0, 0, 8, 3];
        for d in [count, 28, 28] {
            img.extend_from_slice(&d.to_be_bytes());
        }
        img.resize(16 + count as usize * 784, 0);
        let mut lab = vec![0, 0, 8, 1];
        lab.extend_from_slice(&count.to_be_bytes());
        lab.extend((0..count).map(|i| (i % 10) as u8));
        std::fs::write(dir.join(images), img).unwrap();
        std::fs::write(dir.join(labels), lab).unwrap();
    }
}

fn tricklab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tricklab")).args(args).output().unwrap()
}

/// Checks a run failed before training with a message containing every one of `parts`.
#[track_caller]
fn fails_with(out: &Output, parts: &[&str]) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(out.stdout.is_empty(), "nothing trained: {}", String::from_utf8_lossy(&out.stdout));
    assert!(!err.contains("adapter:"), "failed before opening the GPU: {err}");
    for part in parts {
        assert!(err.contains(part), "`{part}` missing from: {err}");
    }
}

#[test]
fn save_path_is_checked_before_training() {
    let dir = TempDir::new("save");
    let data = dir.0.join("mnist");
    std::fs::create_dir(&data).unwrap();
    write_mnist(&data);
    let data = data.to_str().unwrap();
    // A directory that does not exist: the run used to train, then lose the weights.
    let missing = dir.0.join("no-such-dir/x.safetensors");
    let out = tricklab(&["train", "--data", data, "--batch-size", "8", "--epochs", "1", "--save", missing.to_str().unwrap()]);
    fails_with(&out, &["--save", "no-such-dir/x.safetensors", "cannot write there"]);
    // A directory given as the file.
    fails_with(&tricklab(&["train", "--data", data, "--save", data]), &["is a directory"]);
    // The probe leaves nothing behind, and an existing file is not changed by it.
    let fresh = dir.0.join("fresh.safetensors");
    let out = tricklab(&["train", "--data", data, "--set", "label_smoothing=2", "--save", fresh.to_str().unwrap()]);
    fails_with(&out, &["label_smoothing"]);
    assert_eq!(dir.entries(), ["mnist"]);
    let existing = dir.0.join("old.safetensors");
    std::fs::write(&existing, b"keep").unwrap();
    let out = tricklab(&["train", "--data", data, "--set", "label_smoothing=2", "--save", existing.to_str().unwrap()]);
    fails_with(&out, &["label_smoothing"]);
    assert_eq!(std::fs::read(&existing).unwrap(), b"keep");
}

#[test]
fn endless_files_end_in_an_error_naming_the_file_and_the_limit() {
    let dir = TempDir::new("endless");
    write_mnist(&dir.0);
    let data = dir.0.to_str().unwrap();
    fails_with(&tricklab(&["train", "--config", "/dev/zero", "--data", data]), &["/dev/zero", "1048576 bytes", "config"]);
    fails_with(&tricklab(&["train", "--dataset", "cifar10", "--data", "/dev/zero"]), &["/dev/zero", "185", "CIFAR-10 archive"]);
    let out = tricklab(&["train", "--data", data, "--batch-size", "8", "--set", "teacher=/dev/zero"]);
    fails_with(&out, &["teacher", "/dev/zero", "268435456 bytes"]);
}

#[test]
fn out_of_range_values_name_the_field_and_the_limit() {
    let dir = TempDir::new("limits");
    write_mnist(&dir.0);
    let data = dir.0.to_str().unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec!["train", "--data", data, "--batch-size", "8"];
        args.extend_from_slice(extra);
        tricklab(&args)
    };
    fails_with(&run(&["--epochs", "4294967295"]), &["`epochs`", "at most 1000"]);
    fails_with(&run(&["--set", "base_lr=1e-300"]), &["`base_lr`", "f32"]);
    fails_with(&run(&["--set", "batch_size=5000"]), &["`batch_size`", "at most 4096"]);
    let out = run(&["--set", "lr_mode=cosine", "--set", "warmup_epochs=1", "--set", "hold_steps=18446744073709551615"]);
    fails_with(&out, &["`hold_steps`"]);
    fails_with(&run(&["--set", "no_equals_sign"]), &["FIELD=VALUE"]);
}

#[test]
fn bench_kernels_checks_the_batch_before_allocating() {
    // Used to abort allocating 3 × 10^12 random floats.
    let out = tricklab(&["bench-kernels", "--batch", "1000000000"]);
    fails_with(&out, &["--batch", "at most 4096"]);
    fails_with(&tricklab(&["bench-step", "--batch", "1000000000"]), &["--batch", "at most 4096"]);
}
