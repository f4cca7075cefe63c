//! Loss kernels against the reference (one-hot, label-smoothed and mixup targets; small and ±50
//! logits; batches of one and more than a workgroup), the reference's gradients against finite
//! differences, metrics accumulating across submits, ties, hand-computed values and bad input.

mod common;
use common::*;
use tricklab::check::Tolerance;
use tricklab::rng::Rng;
use tricklab::gpu::loss as gpu;
use tricklab::gpu::Tensor;
use tricklab::ops::loss::{DistillShape, LossShape, METRICS};
use tricklab::reference::gradcheck::numerical_grad;
use tricklab::reference::loss as cpu;

/// (1 − ε)·one_hot(label) + ε/K per row: the label smoothing of the Keras tutorial and GluonCV
/// (ε/K on every class). The paper's equation puts ε/(K − 1) on the wrong classes instead.
fn smoothed(labels: &[f32], k: usize, eps: f32) -> Vec<f32> {
    labels.iter().flat_map(|&l| (0..k).map(move |j| if j == l as usize { 1.0 - eps } else { 0.0 } + eps / k as f32)).collect()
}

/// λ·one_hot(a) + (1 − λ)·one_hot(b) per row, as mixup makes for a pair of images.
fn mixed(a: &[f32], b: &[f32], k: usize, lam: f32) -> Vec<f32> {
    let (ta, tb) = (smoothed(a, k, 0.0), smoothed(b, k, 0.0));
    ta.iter().zip(&tb).map(|(x, y)| lam * x + (1.0 - lam) * y).collect()
}

fn argmax(row: &[f32]) -> usize {
    (0..row.len()).fold(0, |best, j| if row[j] > row[best] { j } else { best })
}

/// Random logits in ±scale and labels that agree with the argmax on even rows (so accuracy is
/// neither 0 nor 1) and are random on odd rows.
fn logits_and_labels(rng: &mut Rng, s: &LossShape, scale: f32) -> (Vec<f32>, Vec<f32>) {
    let z = rng.vec(s.logits_len(), -scale, scale);
    let labels = (0..s.batch)
        .map(|n| if n % 2 == 0 { argmax(&z[n * s.classes..(n + 1) * s.classes]) } else { rng.below(s.classes) } as f32)
        .collect();
    (z, labels)
}

/// The three kinds of target a trainer makes for `labels`.
fn target_kinds(rng: &mut Rng, labels: &[f32], k: usize) -> Vec<(&'static str, Vec<f32>)> {
    let other: Vec<f32> = labels.iter().map(|_| rng.below(k) as f32).collect();
    vec![("one-hot", smoothed(labels, k, 0.0)), ("smoothed 0.1", smoothed(labels, k, 0.1)), ("mixup 0.7", mixed(labels, &other, k, 0.7))]
}

/// The metrics a reference result should have added: [N · mean loss, correct, N].
fn want_metrics(s: &LossShape, mean_loss: f32, correct: usize) -> Vec<f32> {
    vec![mean_loss * s.batch as f32, correct as f32, s.batch as f32]
}

fn assert_metrics(what: &str, got: &[f32], want: &[f32]) {
    Tolerance::balanced().assert(&format!("{what} metrics"), got, want);
    assert_eq!((got[1], got[2]), (want[1], want[2]), "{what}: correct and sample counts must be exact");
}

struct Gpu {
    logits: Tensor,
    teacher: Tensor,
    targets: Tensor,
    labels: Tensor,
    dlogits: Tensor,
    metrics: Tensor,
}

fn upload_all(s: &LossShape, logits: &[f32], teacher: &[f32], targets: &[f32], labels: &[f32]) -> Gpu {
    let shape = [s.batch, s.classes];
    Gpu {
        logits: upload("loss logits", &shape, logits),
        teacher: upload("loss teacher logits", &shape, teacher),
        targets: upload("loss targets", &shape, targets),
        labels: upload("loss labels", &[s.batch], labels),
        dlogits: zeros("loss dlogits", &shape),
        metrics: zeros("loss metrics", &[METRICS]),
    }
}

/// A loss kernel's gradient and metrics (`got`) against the reference's loss, correct count and
/// gradient (`want`).
fn assert_matches(what: &str, s: &LossShape, (dz, metrics): (Vec<f32>, Vec<f32>), (loss, correct, want_dz): (f32, usize, Vec<f32>)) {
    assert!(loss.is_finite(), "{what}: loss {loss}");
    Tolerance::balanced().assert(&format!("{what} dlogits"), &dz, &want_dz);
    assert_metrics(what, &metrics, &want_metrics(s, loss, correct));
}

fn run_cross_entropy(s: &LossShape, t: &Gpu) -> (Vec<f32>, Vec<f32>) {
    let d = gpu::softmax_cross_entropy(ctx(), s, &t.logits, &t.targets, &t.labels, &t.dlogits, &t.metrics).unwrap();
    ctx().submit(&d.iter().collect::<Vec<_>>()).unwrap();
    (read(&t.dlogits), read(&t.metrics))
}

fn run_distillation(s: &DistillShape, t: &Gpu) -> (Vec<f32>, Vec<f32>) {
    let d = gpu::distillation(ctx(), s, &t.logits, &t.teacher, &t.targets, &t.labels, &t.dlogits, &t.metrics).unwrap();
    ctx().submit(&d.iter().collect::<Vec<_>>()).unwrap();
    (read(&t.dlogits), read(&t.metrics))
}

// A single sample, odd class counts, CIFAR-100's, and more rows than one workgroup.
const SHAPES: [(usize, usize); 4] = [(1, 10), (5, 7), (33, 100), (130, 10)];

#[test]
fn cross_entropy_matches_reference() {
    let mut rng = Rng::new(21);
    for (batch, classes) in SHAPES {
        let s = LossShape { batch, classes };
        for scale in [3.0, 50.0] {
            let (z, labels) = logits_and_labels(&mut rng, &s, scale);
            for (kind, targets) in target_kinds(&mut rng, &labels, classes) {
                let what = format!("{s:?} logits ±{scale} {kind}");
                let got = run_cross_entropy(&s, &upload_all(&s, &z, &z, &targets, &labels));
                assert_matches(&what, &s, got, cpu::softmax_cross_entropy(&s, &z, &targets, &labels).unwrap());
            }
        }
    }
}

#[test]
fn distillation_matches_reference() {
    let mut rng = Rng::new(22);
    for (batch, classes) in SHAPES {
        let s = LossShape { batch, classes };
        for (temperature, hard_weight) in [(1.0, 0.5), (4.0, 0.3), (2.0, 1.0), (0.5, 0.0)] {
            let d = DistillShape { batch, classes, temperature, hard_weight };
            for scale in [3.0, 50.0] {
                let (z, labels) = logits_and_labels(&mut rng, &s, scale);
                let teacher = rng.vec(s.logits_len(), -scale, scale);
                let targets = smoothed(&labels, classes, 0.1);
                let what = format!("{d:?} logits ±{scale}");
                let got = run_distillation(&d, &upload_all(&s, &z, &teacher, &targets, &labels));
                assert_matches(&what, &s, got, cpu::distillation(&d, &z, &teacher, &targets, &labels).unwrap());
            }
        }
    }
}

/// Seeded logits and labels for `s`, then a teacher's logits in the same ±`scale`, and the
/// generator for what the test draws next.
fn student_and_teacher(seed: u64, s: &LossShape, scale: f32) -> (Rng, Vec<f32>, Vec<f32>, Vec<f32>) {
    let mut rng = Rng::new(seed);
    let (z, labels) = logits_and_labels(&mut rng, s, scale);
    let teacher = rng.vec(s.logits_len(), -scale, scale);
    (rng, z, labels, teacher)
}

#[test]
fn reference_gradients_match_finite_differences() {
    let s = LossShape { batch: 3, classes: 5 };
    let (mut rng, z, labels, teacher) = student_and_teacher(23, &s, 2.0);
    let fd = Tolerance::finite_difference();
    for (kind, targets) in target_kinds(&mut rng, &labels, s.classes) {
        let (_, _, grad) = cpu::softmax_cross_entropy(&s, &z, &targets, &labels).unwrap();
        let numeric = numerical_grad(&z, 1e-3, |z| cpu::softmax_cross_entropy(&s, z, &targets, &labels).unwrap().0 as f64);
        fd.assert(&format!("cross-entropy {kind} dlogits"), &grad, &numeric);

        for (temperature, hard_weight) in [(3.0, 0.4), (1.0, 0.0), (0.7, 0.9)] {
            let d = DistillShape { batch: s.batch, classes: s.classes, temperature, hard_weight };
            let (_, _, grad) = cpu::distillation(&d, &z, &teacher, &targets, &labels).unwrap();
            let numeric = numerical_grad(&z, 1e-3, |z| cpu::distillation(&d, z, &teacher, &targets, &labels).unwrap().0 as f64);
            fd.assert(&format!("distillation {d:?} {kind} dlogits"), &grad, &numeric);
        }
    }
}

#[test]
fn hand_computed_values() {
    // Equal logits: softmax is uniform, the loss is ln K and dlogits = (1/K − t) / N.
    let s = LossShape { batch: 2, classes: 4 };
    let (z, labels) = (vec![0.0; 8], vec![0.0, 3.0]);
    let targets = smoothed(&labels, 4, 0.0);
    let (loss, correct, dz) = cpu::softmax_cross_entropy(&s, &z, &targets, &labels).unwrap();
    let want_dz: Vec<f32> = targets.iter().map(|t| (0.25 - t) / 2.0).collect();
    Tolerance::strict().assert("uniform loss", &[loss], &[4f32.ln()]);
    Tolerance::strict().assert("uniform dlogits", &dz, &want_dz);
    assert_eq!(correct, 1, "ties go to the first class, which is sample 0's label only");
    let (gpu_dz, metrics) = run_cross_entropy(&s, &upload_all(&s, &z, &z, &targets, &labels));
    Tolerance::strict().assert("GPU uniform dlogits", &gpu_dz, &want_dz);
    assert_metrics("GPU uniform", &metrics, &[2.0 * 4f32.ln(), 1.0, 2.0]);

    // ±50 logits and the wrong class as target: loss = 100 + ln(1 + e^-100) = 100, no overflow.
    let s = LossShape { batch: 1, classes: 2 };
    let (z, labels) = (vec![50.0, -50.0], vec![1.0]);
    let targets = smoothed(&labels, 2, 0.0);
    let (_, metrics) = run_cross_entropy(&s, &upload_all(&s, &z, &z, &targets, &labels));
    assert_metrics("GPU ±50", &metrics, &[100.0, 0.0, 1.0]);
}

#[test]
fn distillation_limits() {
    let s = LossShape { batch: 4, classes: 6 };
    let (_, z, labels, teacher) = student_and_teacher(24, &s, 3.0);
    let targets = smoothed(&labels, 6, 0.1);
    let shape = |temperature, hard_weight| DistillShape { batch: 4, classes: 6, temperature, hard_weight };

    // hard_weight = 1 is plain cross-entropy, whatever the teacher says.
    let (ce_loss, ce_correct, ce_dz) = cpu::softmax_cross_entropy(&s, &z, &targets, &labels).unwrap();
    let (loss, correct, dz) = cpu::distillation(&shape(3.0, 1.0), &z, &teacher, &targets, &labels).unwrap();
    Tolerance::strict().assert("hard_weight 1 loss", &[loss], &[ce_loss]);
    Tolerance::strict().assert("hard_weight 1 dlogits", &dz, &ce_dz);
    assert_eq!(correct, ce_correct);

    // A student that equals its teacher has nothing left to learn from it.
    let d = shape(2.0, 0.0);
    let (loss, _, dz) = cpu::distillation(&d, &z, &z, &targets, &labels).unwrap();
    Tolerance::strict().assert("student = teacher loss", &[loss], &[0.0]);
    Tolerance::strict().assert("student = teacher dlogits", &dz, &vec![0.0; dz.len()]);
    let (gpu_dz, metrics) = run_distillation(&d, &upload_all(&s, &z, &z, &targets, &labels));
    Tolerance::strict().assert("GPU student = teacher dlogits", &gpu_dz, &vec![0.0; dz.len()]);
    Tolerance::strict().assert("GPU student = teacher loss", &metrics[..1], &[0.0]);
}

#[test]
fn ties_count_the_first_maximum() {
    let s = LossShape { batch: 2, classes: 3 };
    let z = vec![1.0, 1.0, 0.0, 1.0, 1.0, 0.0];
    let labels = vec![0.0, 1.0];
    let targets = smoothed(&labels, 3, 0.0);
    assert_eq!(cpu::softmax_cross_entropy(&s, &z, &targets, &labels).unwrap().1, 1);
    let (_, metrics) = run_cross_entropy(&s, &upload_all(&s, &z, &z, &targets, &labels));
    assert_eq!(metrics[1], 1.0, "only the first maximum counts");
}

#[test]
fn metrics_accumulate_over_submits_and_repeat_exactly() {
    let mut rng = Rng::new(25);
    let s = LossShape { batch: 70, classes: 10 };
    let (z1, labels) = logits_and_labels(&mut rng, &s, 4.0);
    let (z2, _) = logits_and_labels(&mut rng, &s, 4.0);
    let targets = smoothed(&labels, 10, 0.1);
    let t = upload_all(&s, &z1, &z1, &targets, &labels);
    // Built once; the second submit sees new logits written into the same tensor.
    let d = gpu::softmax_cross_entropy(ctx(), &s, &t.logits, &t.targets, &t.labels, &t.dlogits, &t.metrics).unwrap();
    let all: Vec<_> = d.iter().collect();
    ctx().submit(&all).unwrap();
    let first = read(&t.metrics);
    ctx().write(&t.logits, &z2).unwrap();
    ctx().submit(&all).unwrap();
    let (l1, c1, _) = cpu::softmax_cross_entropy(&s, &z1, &targets, &labels).unwrap();
    let (l2, c2, _) = cpu::softmax_cross_entropy(&s, &z2, &targets, &labels).unwrap();
    let want: Vec<f32> = want_metrics(&s, l1, c1).iter().zip(want_metrics(&s, l2, c2)).map(|(a, b)| a + b).collect();
    assert_metrics("two submits", &read(&t.metrics), &want);

    // The same batch from zeroed metrics gives bit-identical sums.
    ctx().write(&t.logits, &z1).unwrap();
    ctx().write(&t.metrics, &[0.0; METRICS]).unwrap();
    ctx().submit(&all).unwrap();
    assert_eq!(read(&t.metrics), first, "the reduction must be deterministic");
}

#[test]
fn bad_input_is_an_error() {
    let s = LossShape { batch: 2, classes: 3 };
    let (z, targets) = (vec![0.0; 6], smoothed(&[0.0, 2.0], 3, 0.0));
    assert!(LossShape { batch: 0, classes: 3 }.validate().is_err());
    assert!(LossShape { batch: 2, classes: 0 }.validate().is_err());
    assert!(cpu::softmax_cross_entropy(&s, &z[..5], &targets, &[0.0, 2.0]).is_err());
    assert!(cpu::softmax_cross_entropy(&s, &z, &targets[..5], &[0.0, 2.0]).is_err());
    assert!(cpu::softmax_cross_entropy(&s, &z, &targets, &[0.0]).is_err());
    for bad_label in [3.0, -1.0, 1.5, f32::NAN] {
        let err = cpu::softmax_cross_entropy(&s, &z, &targets, &[0.0, bad_label]).expect_err("bad label must fail");
        assert!(err.to_string().contains("not a class index"), "{err}");
    }
    let good = DistillShape { batch: 2, classes: 3, temperature: 2.0, hard_weight: 0.5 };
    assert!(cpu::distillation(&good, &z, &z, &targets, &[0.0, 2.0]).is_ok());
    for bad in [
        DistillShape { temperature: 0.0, ..good },
        DistillShape { temperature: -1.0, ..good },
        DistillShape { temperature: f32::NAN, ..good },
        DistillShape { temperature: f32::INFINITY, ..good },
        DistillShape { hard_weight: -0.1, ..good },
        DistillShape { hard_weight: 1.1, ..good },
        DistillShape { hard_weight: f32::NAN, ..good },
    ] {
        assert!(bad.validate().is_err(), "{bad:?} must be rejected");
        assert!(cpu::distillation(&bad, &z, &z, &targets, &[0.0, 2.0]).is_err());
    }
    assert!(cpu::distillation(&good, &z, &z[..5], &targets, &[0.0, 2.0]).is_err());

    let t = upload_all(&s, &z, &z, &targets, &[0.0, 2.0]);
    let short_metrics = zeros("short metrics", &[2]);
    let err = gpu::softmax_cross_entropy(ctx(), &s, &t.logits, &t.targets, &t.labels, &t.dlogits, &short_metrics).err().expect("2 metrics must fail");
    assert!(err.to_string().contains("`short metrics` has 2 elements but 3"), "{err}");
    let wrong_labels = zeros("wrong labels", &[3]);
    assert!(gpu::softmax_cross_entropy(ctx(), &s, &t.logits, &t.targets, &wrong_labels, &t.dlogits, &t.metrics).is_err());
    let wrong_teacher = zeros("wrong teacher", &[2, 4]);
    assert!(gpu::distillation(ctx(), &good, &t.logits, &wrong_teacher, &t.targets, &t.labels, &t.dlogits, &t.metrics).is_err());
    let bad = DistillShape { temperature: 0.0, ..good };
    assert!(gpu::distillation(ctx(), &bad, &t.logits, &t.teacher, &t.targets, &t.labels, &t.dlogits, &t.metrics).is_err());
    assert!(gpu::distillation(ctx(), &good, &t.logits, &t.teacher, &t.targets, &t.labels, &t.dlogits, &t.metrics).is_ok());
}
