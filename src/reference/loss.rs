//! The losses on the CPU, each returning (mean loss over the batch, number of samples whose argmax
//! equals the label, gradient of the mean loss with respect to the logits). Each row is done in
//! f64 with the row maximum subtracted, so logits of any size are safe.

use crate::ops::Operand;
use crate::ops::loss::{DistillShape, LossShape};
use crate::{Error, Result};

/// Softmax cross-entropy against soft targets: per sample −Σ_j t_j · log softmax(z)_j. The
/// gradient is (softmax(z) · Σ_j t_j − t) / N, which is (softmax − t) / N when targets sum to 1.
pub fn softmax_cross_entropy(s: &LossShape, logits: &[f32], targets: &[f32], labels: &[f32]) -> Result<(f32, usize, Vec<f32>)> {
    check(s, &[("logits", &logits), ("targets", &targets)], labels)?;
    let k = s.classes;
    let inv_n = 1.0 / s.batch as f64;
    let mut total = 0.0;
    let mut correct = 0;
    let mut grad = vec![0.0; s.logits_len()];
    for n in 0..s.batch {
        let (z, t) = (&logits[n * k..(n + 1) * k], &targets[n * k..(n + 1) * k]);
        let (loss, g) = cross_entropy_row(z, t);
        total += loss;
        correct += usize::from(argmax(z) as f32 == labels[n]);
        for (out, v) in grad[n * k..(n + 1) * k].iter_mut().zip(g) {
            *out = (v * inv_n) as f32;
        }
    }
    Ok(((total * inv_n) as f32, correct, grad))
}

/// Distillation: hard_weight · CE(student, targets) + (1 − hard_weight) · T² · KL(p ‖ q) per
/// sample, with p = softmax(teacher / T) and q = softmax(student / T). The KL term's gradient with
/// respect to the student logits is T · (q − p); accuracy is the student's.
pub fn distillation(s: &DistillShape, student: &[f32], teacher: &[f32], targets: &[f32], labels: &[f32]) -> Result<(f32, usize, Vec<f32>)> {
    s.validate()?;
    check(&s.loss_shape(), &[("student_logits", &student), ("teacher_logits", &teacher), ("targets", &targets)], labels)?;
    let (k, t, a) = (s.classes, s.temperature as f64, s.hard_weight as f64);
    let inv_n = 1.0 / s.batch as f64;
    let mut total = 0.0;
    let mut correct = 0;
    let mut grad = vec![0.0; s.logits_len()];
    for (n, &label) in labels.iter().enumerate() {
        let row = n * k..(n + 1) * k;
        let z = &student[row.clone()];
        let (hard, hard_grad) = cross_entropy_row(z, &targets[row.clone()]);
        let log_q = log_softmax(z, 1.0 / t);
        let log_p = log_softmax(&teacher[row.clone()], 1.0 / t);
        let kl: f64 = log_p.iter().zip(&log_q).map(|(lp, lq)| lp.exp() * (lp - lq)).sum();
        total += a * hard + (1.0 - a) * t * t * kl;
        correct += usize::from(argmax(z) as f32 == label);
        for (j, out) in grad[row].iter_mut().enumerate() {
            let soft = t * (log_q[j].exp() - log_p[j].exp());
            *out = ((a * hard_grad[j] + (1.0 - a) * soft) * inv_n) as f32;
        }
    }
    Ok(((total * inv_n) as f32, correct, grad))
}

/// One sample's cross-entropy and its gradient (not yet divided by the batch size).
fn cross_entropy_row(z: &[f32], t: &[f32]) -> (f64, Vec<f64>) {
    let log_sm = log_softmax(z, 1.0);
    let t_sum: f64 = t.iter().map(|&v| v as f64).sum();
    let loss = -t.iter().zip(&log_sm).map(|(&t, l)| t as f64 * l).sum::<f64>();
    let grad = t.iter().zip(&log_sm).map(|(&t, l)| l.exp() * t_sum - t as f64).collect();
    (loss, grad)
}

/// log softmax(scale · z), with the maximum subtracted first.
fn log_softmax(z: &[f32], scale: f64) -> Vec<f64> {
    let m = z.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v)) as f64;
    let shifted: Vec<f64> = z.iter().map(|&v| (v as f64 - m) * scale).collect();
    let log_sum = shifted.iter().map(|v| v.exp()).sum::<f64>().ln();
    shifted.iter().map(|v| v - log_sum).collect()
}

/// Index of the largest logit; the first one on ties.
fn argmax(z: &[f32]) -> usize {
    let mut best = 0;
    for (j, &v) in z.iter().enumerate() {
        if v > z[best] {
            best = j;
        }
    }
    best
}

/// Shape, lengths, and labels that are whole class indices.
fn check(s: &LossShape, tensors: &[(&str, &dyn Operand)], labels: &[f32]) -> Result<()> {
    s.check(tensors, &labels, None)?;
    if let Some((n, l)) = labels.iter().enumerate().find(|(_, &l)| !(l >= 0.0 && l < s.classes as f32 && l.fract() == 0.0)) {
        return Err(Error::shape("loss", format!("label {l} of sample {n} is not a class index in 0..{}", s.classes)));
    }
    Ok(())
}
