//! Batch assembly on the GPU against the CPU reference: MNIST-like 1×28×28, CIFAR-like 3×32×32 and
//! odd-sized images on tiny synthetic datasets forced into several shards, crop offsets at both
//! extremes, flips, mixup, label smoothing, batches that are not multiples of the workgroup and
//! partial batches; a hand-placed pixel after crop and flip, the seed's smoothing example, a
//! hand-checked mixup, and bad input.

mod common;
use common::*;
use tricklab::check::Tolerance;
use tricklab::rng::Rng;
use tricklab::data::Dataset;
use tricklab::gpu::batch::{BatchAssembler, GpuDataset};
use tricklab::ops::batch::{AugParams, BatchShape, Normalization};
use tricklab::reference::batch::{self as cpu, Batch};
use tricklab::Error;

/// A dataset of `count` random images (pixels 0..=255) with random labels.
fn synthetic(rng: &mut Rng, count: usize, (channels, height, width): (usize, usize, usize), classes: usize) -> Dataset {
    let images = (0..count * channels * height * width).map(|_| rng.below(256) as u8).collect();
    let labels = (0..count).map(|_| rng.below(classes) as u8).collect();
    Dataset { images, labels, count, channels, height, width, classes }
}

fn shape_of(d: &Dataset, batch: usize, pad: u32, norm: Normalization, smoothing: f64) -> BatchShape {
    BatchShape { batch, channels: d.channels, height: d.height, width: d.width, classes: d.classes, pad, norm, smoothing }
}

/// Writes the step, runs the assembler's dispatches and reads the three outputs back.
fn run(asm: &BatchAssembler, indices: &[u32], aug: &[AugParams], lambda: f32) -> Batch {
    asm.write_step(ctx(), indices, aug, lambda).unwrap();
    ctx().submit(&asm.dispatches().iter().collect::<Vec<_>>()).unwrap();
    Batch { x: read(&asm.x), targets: read(&asm.targets), labels: read(&asm.labels) }
}

/// GPU and reference agree: images and targets within `strict` (elementwise arithmetic, one
/// division and one blend per value), labels exactly.
fn assert_matches(what: &str, d: &Dataset, s: &BatchShape, got: &Batch, indices: &[u32], aug: &[AugParams], lambda: f32) {
    let want = cpu::assemble(s, &d.images, &d.labels, indices, aug, lambda).unwrap();
    Tolerance::strict().assert(&format!("{what} x"), &got.x, &want.x);
    Tolerance::strict().assert(&format!("{what} targets"), &got.targets, &want.targets);
    assert_eq!(got.labels, want.labels, "{what} labels");
}

/// Random ids (every shard gets a chance) and random augmentation, with the first two entries
/// pinned to the crop extremes (0, 0) and (2·pad, 2·pad), one of them flipped.
fn random_step(rng: &mut Rng, count: usize, n: usize, pad: u32) -> (Vec<u32>, Vec<AugParams>) {
    let indices = (0..n).map(|_| rng.below(count) as u32).collect();
    let mut aug: Vec<AugParams> = (0..n).map(|_| AugParams::random(rng, pad, true)).collect();
    aug[0] = AugParams { ox: 0, oy: 0, flip: true };
    if n > 1 {
        aug[1] = AugParams { ox: 2 * pad, oy: 2 * pad, flip: false };
    }
    (indices, aug)
}

/// Runs a series of steps through one assembler: plain (no augmentation, no mixing), augmented
/// with smoothing and mixup λ = 0.3, a partial batch after a full one (stale entries must be
/// cleared), and a partial batch with mixup (partners within the valid part).
fn check_stream(what: &str, seed: u64, image: (usize, usize, usize), count: usize, batch: usize, pad: u32, shard_images: u64) {
    let mut rng = Rng::new(seed);
    let d = synthetic(&mut rng, count, image, 10);
    let shard_bytes = shard_images * d.image_len() as u64 + 3; // not a multiple of the image size
    let gpu_data = GpuDataset::upload(ctx(), what, &d.view(), Some(shard_bytes)).unwrap();
    assert_eq!(gpu_data.shard_count(), count.div_ceil(shard_images as usize), "{what}: shards");

    let norm = if image.0 == 1 { Normalization::MNIST } else { Normalization::CIFAR10 };
    for (pad, smoothing) in [(0, 0.0), (pad, 0.1)] {
        let s = shape_of(&d, batch, pad, norm, smoothing);
        let asm = BatchAssembler::new(ctx(), what, &gpu_data, &s).unwrap();
        let plain: Vec<u32> = (0..batch).map(|i| ((i * 7 + 3) % count) as u32).collect();
        let identity = vec![AugParams::identity(pad); batch];
        let (ids, aug) = random_step(&mut rng, count, batch, pad);
        let (few_ids, few_aug) = random_step(&mut rng, count, batch / 2 + 1, pad);
        let steps: [(&str, &[u32], &[AugParams], f32); 5] = [
            ("plain", &plain, &identity, 1.0),
            ("augmented", &ids, &aug, 1.0),
            ("augmented mixup 0.3", &ids, &aug, 0.3),
            ("partial", &few_ids, &few_aug, 1.0),
            ("partial mixup 0.3", &few_ids, &few_aug, 0.3),
        ];
        for (name, indices, aug, lambda) in steps {
            let label = format!("{what} pad {pad} ε {smoothing} {name}");
            let got = run(&asm, indices, aug, lambda);
            assert_matches(&label, &d, &s, &got, indices, aug, lambda);
        }
    }
}

#[test]
fn mnist_like_batches_match_reference() {
    // 13 × 784 and 13 × 10 values are not multiples of the 256-thread workgroup; 5 images a shard.
    check_stream("mnist-like", 31, (1, 28, 28), 37, 13, 2, 5);
}

#[test]
fn cifar_like_batches_match_reference() {
    check_stream("cifar-like", 32, (3, 32, 32), 23, 7, 4, 3);
}

#[test]
fn odd_sized_images_match_reference() {
    // 3×5×7 = 105 bytes an image: images start mid-word and shards end in padding bytes. A pad of
    // 6 is larger than the image, so extreme crops are entirely black. One image a shard.
    check_stream("odd-sized", 33, (3, 5, 7), 11, 9, 6, 1);
}

#[test]
fn one_shard_and_repeated_steps_are_deterministic() {
    let mut rng = Rng::new(34);
    let d = synthetic(&mut rng, 50, (3, 32, 32), 10);
    let data = GpuDataset::upload(ctx(), "one shard", &d.view(), None).unwrap();
    assert_eq!(data.shard_count(), 1);
    let s = shape_of(&d, 300, 4, Normalization::CIFAR10, 0.1); // more samples than images: repeats
    let asm = BatchAssembler::new(ctx(), "one shard", &data, &s).unwrap();
    let (ids, aug) = random_step(&mut rng, d.count, s.batch, 4);
    let first = run(&asm, &ids, &aug, 0.6);
    assert_matches("one shard", &d, &s, &first, &ids, &aug, 0.6);
    assert_eq!(run(&asm, &ids, &aug, 0.6), first, "the same step twice gives the same bits");
}

/// A 1×4×4 image whose pixel (row 1, column 0) is 255 and the rest 10, under pad 2, crop offsets
/// (ox, oy) = (1, 0) and a flip. Output (y, x) reads source row y − 2 and column x' − 1 where
/// x' = 3 − x: rows 0–1 and column 3 (x' = 0) fall in the black padding, and the bright pixel
/// (row 1 = y − 2, column 0 = x' − 1) lands at y = 3, x' = 1, i.e. x = 2.
#[test]
fn hand_checked_pixel_after_crop_and_flip() {
    let mut images = vec![10u8; 16];
    images[4] = 255;
    let d = Dataset { images, labels: vec![2], count: 1, channels: 1, height: 4, width: 4, classes: 3 };
    let s = shape_of(&d, 1, 2, Normalization::UNIT, 0.0);
    let dim = 10.0 / 255.0;
    #[rustfmt::skip]
    let want = vec![
        0.0, 0.0, 0.0, 0.0,
        0.0, 0.0, 0.0, 0.0,
        dim, dim, dim, 0.0,
        dim, dim, 1.0, 0.0,
    ];
    let aug = [AugParams { ox: 1, oy: 0, flip: true }];
    let data = GpuDataset::upload(ctx(), "hand-checked", &d.view(), None).unwrap();
    let asm = BatchAssembler::new(ctx(), "hand-checked", &data, &s).unwrap();
    let got = run(&asm, &[0], &aug, 1.0);
    let reference = cpu::assemble(&s, &d.images, &d.labels, &[0], &aug, 1.0).unwrap();
    Tolerance::strict().assert("GPU crop+flip", &got.x, &want);
    Tolerance::strict().assert("reference crop+flip", &reference.x, &want);
    assert_eq!(got.targets, vec![0.0, 0.0, 1.0]);
    assert_eq!(got.labels, vec![2.0]);

    // Normalization of that bright pixel with mean 0.5, std 0.25: (1 − 0.5) / 0.25 = 2; the
    // black padding becomes (0 − 0.5) / 0.25 = −2.
    let s = BatchShape { norm: Normalization { mean: [0.5; 3], std: [0.25; 3] }, ..s };
    let asm = BatchAssembler::new(ctx(), "hand-checked normalized", &data, &s).unwrap();
    let got = run(&asm, &[0], &aug, 1.0);
    assert_eq!((got.x[14], got.x[0]), (2.0, -2.0));
}

/// The seed prints `smooth_labels` of class 5 of 10 with ε = 0.1 as 0.01 everywhere and
/// 0.90999997 at index 5.
#[test]
fn smoothing_matches_the_seed_example() {
    let d = Dataset { images: vec![0; 4], labels: vec![5], count: 1, channels: 1, height: 2, width: 2, classes: 10 };
    let s = shape_of(&d, 1, 0, Normalization::UNIT, 0.1);
    let mut want = vec![0.01f32; 10];
    want[5] = 0.909_999_97;
    let data = GpuDataset::upload(ctx(), "smoothing", &d.view(), None).unwrap();
    let asm = BatchAssembler::new(ctx(), "smoothing", &data, &s).unwrap();
    let got = run(&asm, &[0], &[AugParams::identity(0)], 1.0);
    assert_eq!(got.targets, want, "GPU targets");
    let reference = cpu::assemble(&s, &d.images, &d.labels, &[0], &[AugParams::identity(0)], 1.0).unwrap();
    assert_eq!(reference.targets, want, "reference targets");
}

/// Mixup pairs sample i with sample valid − 1 − i: with two 1×1×1 images of pixels 0 and 255 and
/// labels 0 and 1, λ = 0.3 gives x = (0.7, 0.3) and targets (0.3, 0.7), (0.7, 0.3), and the labels
/// accuracy is scored against are the classes the targets weigh most. A partial batch of 3 in a
/// batch of 4 pairs 0 with 2 and pads the last entry.
#[test]
fn mixup_pairs_the_batch_read_backwards() {
    let d = Dataset { images: vec![0, 255, 51], labels: vec![0, 1, 1], count: 3, channels: 1, height: 1, width: 1, classes: 2 };
    let s = shape_of(&d, 2, 0, Normalization::UNIT, 0.0);
    let data = GpuDataset::upload(ctx(), "mixup", &d.view(), None).unwrap();
    let asm = BatchAssembler::new(ctx(), "mixup", &data, &s).unwrap();
    let none = [AugParams::identity(0); 4];
    let got = run(&asm, &[0, 1], &none[..2], 0.3);
    Tolerance::strict().assert("mixed x", &got.x, &[0.7, 0.3]);
    Tolerance::strict().assert("mixed targets", &got.targets, &[0.3, 0.7, 0.7, 0.3]);
    assert_eq!(got.labels, vec![1.0, 0.0], "below λ = 1/2 each target weighs the partner's label most");
    let half = run(&asm, &[0, 1], &none[..2], 0.5);
    assert_eq!(half.labels, vec![0.0, 1.0], "from λ = 1/2 on, the sample's own label");

    let s = BatchShape { batch: 4, ..s };
    let asm = BatchAssembler::new(ctx(), "mixup partial", &data, &s).unwrap();
    let got = run(&asm, &[0, 2, 1], &none[..3], 0.3);
    Tolerance::strict().assert("partial mixed x", &got.x, &[0.7, 0.2, 0.3, 0.0]);
    Tolerance::strict().assert("partial mixed targets", &got.targets, &[0.3, 0.7, 0.0, 1.0, 0.7, 0.3, 0.0, 0.0]);
    assert_eq!(got.labels, vec![1.0, 1.0, 0.0, -1.0], "the padding entry never counts as correct");
}

fn assert_shape_error<T: std::fmt::Debug>(what: &str, r: tricklab::Result<T>, part: &str) {
    match r {
        Err(Error::Shape { msg, .. }) => assert!(msg.contains(part), "{what}: message {msg:?} lacks {part:?}"),
        other => panic!("{what}: expected a shape error, got {other:?}"),
    }
}

#[test]
fn bad_input_is_an_error() {
    let mut rng = Rng::new(35);
    let d = synthetic(&mut rng, 6, (1, 3, 3), 4);
    let s = shape_of(&d, 4, 1, Normalization::MNIST, 0.1);
    let data = GpuDataset::upload(ctx(), "bad input", &d.view(), None).unwrap();
    let asm = BatchAssembler::new(ctx(), "bad input", &data, &s).unwrap();
    let ok = [AugParams::identity(1); 5];
    let step = |ids: &[u32], aug: &[AugParams], lambda: f32| {
        let gpu = asm.write_step(ctx(), ids, aug, lambda);
        let reference = cpu::assemble(&s, &d.images, &d.labels, ids, aug, lambda);
        (gpu, reference)
    };
    // (what, ids, augmentation, λ, part of the message)
    type Case<'a> = (&'a str, &'a [u32], &'a [AugParams], f32, &'a str);
    let cases: [Case; 7] = [
        ("id out of range", &[0, 6], &ok[..2], 1.0, "sample id 6"),
        ("no ids", &[], &[], 1.0, "0 sample ids"),
        ("more ids than the batch", &[0, 1, 2, 3, 4], &ok[..5], 1.0, "5 sample ids"),
        ("augmentation length", &[0, 1], &ok[..3], 1.0, "3 augmentation entries"),
        ("crop offset past 2·pad", &[0], &[AugParams { ox: 3, oy: 0, flip: false }], 1.0, "outside [0, 2]"),
        ("λ above 1", &[0], &ok[..1], 1.5, "λ"),
        ("λ NaN", &[0], &ok[..1], f32::NAN, "λ"),
    ];
    for (what, ids, aug, lambda, part) in cases {
        let (gpu, reference) = step(ids, aug, lambda);
        assert_shape_error(&format!("GPU {what}"), gpu, part);
        assert_shape_error(&format!("reference {what}"), reference, part);
    }

    let bad_label = Dataset { labels: vec![0, 1, 4, 0, 0, 0], ..d.clone() };
    assert_shape_error("upload label ≥ classes", GpuDataset::upload(ctx(), "bad", &bad_label.view(), None).map(|_| ()), "label 4 of image 2");
    assert_shape_error(
        "reference label ≥ classes",
        cpu::assemble(&s, &bad_label.images, &bad_label.labels, &[0], &ok[..1], 1.0),
        "label 4",
    );
    let short = Dataset { images: vec![0; 53], ..d.clone() };
    assert_shape_error("upload short images", GpuDataset::upload(ctx(), "bad", &short.view(), None).map(|_| ()), "53 pixel bytes");
    let empty = Dataset { images: vec![], labels: vec![], count: 0, ..d.clone() };
    assert_shape_error("upload empty", GpuDataset::upload(ctx(), "bad", &empty.view(), None).map(|_| ()), "count");
    assert_shape_error("shard below one image", GpuDataset::upload(ctx(), "bad", &d.view(), Some(8)).map(|_| ()), "does not fit");

    let shapes = [
        ("zero batch", BatchShape { batch: 0, ..s }, "batch"),
        ("four channels", BatchShape { channels: 4, ..s }, "4 channels"),
        ("zero std", BatchShape { norm: Normalization { mean: [0.0; 3], std: [0.0; 3] }, ..s }, "std"),
        ("smoothing above 1", BatchShape { smoothing: 1.5, ..s }, "smoothing"),
        ("pad past the packing", BatchShape { pad: 128, ..s }, "padding"),
        ("other image shape", BatchShape { height: 4, ..s }, "holds"),
        ("other class count", BatchShape { classes: 5, ..s }, "holds"),
    ];
    for (what, bad, part) in shapes {
        assert_shape_error(what, BatchAssembler::new(ctx(), "bad", &data, &bad).map(|_| ()), part);
    }
}
