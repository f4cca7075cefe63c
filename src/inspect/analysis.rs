//! What a trained network's outputs say, computed from its logits and weights: predictions and
//! probabilities, the confusion matrix, the gap between the top logit and the others (the paper's
//! label-smoothing analysis), calibration, and the norms of each parameter group. The page's views
//! and the lessons draw these numbers; none of them is computed in JavaScript.

use serde::Serialize;

use crate::nn::graph::{Graph, Init};

/// Softmax of one row of logits (max subtracted first, f64 inside).
pub fn softmax(z: &[f32]) -> Vec<f32> {
    let m = z.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v)) as f64;
    let e: Vec<f64> = z.iter().map(|&v| (v as f64 - m).exp()).collect();
    let sum: f64 = e.iter().sum();
    e.iter().map(|v| (v / sum) as f32).collect()
}

/// Index of the largest value; the first one on ties (as the loss kernel counts accuracy).
pub fn argmax(z: &[f32]) -> usize {
    let mut best = 0;
    for (j, &v) in z.iter().enumerate() {
        if v > z[best] {
            best = j;
        }
    }
    best
}

/// One image's prediction.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Prediction {
    pub class: usize,
    pub probability: f32,
}

/// The predicted class and its softmax probability for each row of `logits` (`classes` wide).
pub fn predictions(logits: &[f32], classes: usize) -> Vec<Prediction> {
    logits
        .chunks_exact(classes)
        .map(|z| {
            let class = argmax(z);
            Prediction { class, probability: softmax(z)[class] }
        })
        .collect()
}

/// `counts[true * classes + predicted]`: how often each true class was predicted as each class.
pub fn confusion(logits: &[f32], labels: &[u8], classes: usize) -> Vec<u32> {
    let mut counts = vec![0; classes * classes];
    for (z, &y) in logits.chunks_exact(classes).zip(labels) {
        counts[y as usize * classes + argmax(z)] += 1;
    }
    counts
}

/// The gap between each row's largest logit and the mean of the others: the quantity the paper
/// plots for label smoothing (He et al. 2019, Figure 4, "the gap between the maximum prediction
/// and the averages of the rest").
pub fn logit_gaps(logits: &[f32], classes: usize) -> Vec<f32> {
    logits
        .chunks_exact(classes)
        .map(|z| {
            let top = z[argmax(z)] as f64;
            let rest = (z.iter().map(|&v| v as f64).sum::<f64>() - top) / (classes - 1) as f64;
            (top - rest) as f32
        })
        .collect()
}

/// The gap at the optimum of cross-entropy against targets smoothed with ε over K classes by the
/// rule used here, the Keras tutorial's and GluonCV's (ε/K on every class): log(K(1 − ε)/ε + 1),
/// 4.51 at ε = 0.1, K = 10; infinite at ε = 0. The paper's equation puts ε/(K − 1) on the wrong
/// classes instead, and its optimum is log((K − 1)(1 − ε)/ε), 4.39 at ε = 0.1, K = 10.
pub fn optimal_gap(epsilon: f64, classes: usize) -> f64 {
    // The rule puts 1 − ε + ε/K on the label and ε/K elsewhere; their log ratio is the gap.
    let k = classes as f64;
    ((1.0 - epsilon + epsilon / k) / (epsilon / k)).ln()
}

/// The same optimum for the rule of the paper's equation (He et al. 2019, section 5.2), which puts
/// 1 − ε on the label and ε/(K − 1) on each wrong class: log((K − 1)(1 − ε)/ε), 4.39 at ε = 0.1,
/// K = 10. The page trains with the other rule (`optimal_gap`) and quotes this one beside it.
pub fn paper_optimal_gap(epsilon: f64, classes: usize) -> f64 {
    let wrong = epsilon / (classes as f64 - 1.0);
    ((1.0 - epsilon) / wrong).ln()
}

/// A histogram: `counts[i]` values fell in [lo + i·width, lo + (i+1)·width); values outside
/// [lo, hi) go to the first or last bin.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Histogram {
    pub lo: f32,
    pub width: f32,
    pub counts: Vec<u32>,
}

pub fn histogram(values: &[f32], lo: f32, hi: f32, bins: usize) -> Histogram {
    let width = (hi - lo) / bins as f32;
    let mut counts = vec![0; bins];
    for &v in values.iter().filter(|v| v.is_finite()) {
        let i = ((v - lo) / width).floor().clamp(0.0, (bins - 1) as f32) as usize;
        counts[i] += 1;
    }
    Histogram { lo, width, counts }
}

/// One bin of a reliability diagram: images whose top probability fell in the bin.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CalibrationBin {
    pub lo: f32,
    pub hi: f32,
    pub count: u32,
    /// Mean top probability of the bin's images.
    pub confidence: f32,
    /// Fraction of them classified correctly.
    pub accuracy: f32,
}

/// Reliability diagram over `bins` equal confidence bins, and the expected calibration error
/// ECE = Σ (n_bin / n) · |accuracy − confidence| (Guo et al. 2017).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Calibration {
    pub bins: Vec<CalibrationBin>,
    pub ece: f32,
    /// Mean top probability over all images.
    pub mean_confidence: f32,
}

pub fn calibration(logits: &[f32], labels: &[u8], classes: usize, bins: usize) -> Calibration {
    let mut sums = vec![(0u32, 0f64, 0u32); bins];
    let preds = predictions(logits, classes);
    for (p, &y) in preds.iter().zip(labels) {
        let i = ((p.probability * bins as f32) as usize).min(bins - 1);
        sums[i].0 += 1;
        sums[i].1 += p.probability as f64;
        sums[i].2 += u32::from(p.class == y as usize);
    }
    let n = preds.len().max(1) as f64;
    let mut ece = 0.0;
    let bins: Vec<CalibrationBin> = sums
        .iter()
        .enumerate()
        .map(|(i, &(count, conf, correct))| {
            let c = count.max(1) as f64;
            let (confidence, accuracy) = (conf / c, correct as f64 / c);
            ece += count as f64 / n * (accuracy - confidence).abs();
            CalibrationBin {
                lo: i as f32 / bins as f32,
                hi: (i + 1) as f32 / bins as f32,
                count,
                confidence: confidence as f32,
                accuracy: accuracy as f32,
            }
        })
        .collect();
    let mean_confidence = (preds.iter().map(|p| p.probability as f64).sum::<f64>() / n) as f32;
    Calibration { bins, ece: ece as f32, mean_confidence }
}

/// The L2 norm of each parameter group: the conv and linear weights (what "no bias decay" keeps
/// decaying), and the BN scales γ, the BN shifts β and the linear biases (what it frees).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct ParamNorms {
    pub weights: f32,
    pub gamma: f32,
    pub beta: f32,
    pub bias: f32,
}

/// `params` in `graph.params` order.
pub fn param_norms(graph: &Graph, params: &[Vec<f32>]) -> ParamNorms {
    let mut sq = [0f64; 4];
    for (spec, values) in graph.params.iter().zip(params) {
        let group = if spec.is_weight {
            0
        } else if spec.name.ends_with(".bn.weight") {
            1
        } else if spec.name.ends_with(".bn.bias") {
            2
        } else {
            debug_assert!(matches!(spec.init, Init::Zeros));
            3
        };
        sq[group] += values.iter().map(|&v| v as f64 * v as f64).sum::<f64>();
    }
    let n = |i: usize| sq[i].sqrt() as f32;
    ParamNorms { weights: n(0), gamma: n(1), beta: n(2), bias: n(3) }
}

/// Mean and sample standard deviation (0 for fewer than two values).
pub fn mean_std(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    if values.is_empty() {
        return (f64::NAN, 0.0);
    }
    let mean = values.iter().sum::<f64>() / n;
    let var = if values.len() < 2 { 0.0 } else { values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0) };
    (mean, var.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_and_their_optimum() {
        // Two images of 4 classes: gap = top − mean(rest).
        let logits = [3.0, 0.0, 0.0, 0.0, 1.0, 2.0, 3.0, 6.0];
        assert_eq!(logit_gaps(&logits, 4), vec![3.0, 4.0]);
        // The Keras tutorial's smoothing with ε = 0.1 over 10 classes: targets 0.91 and 0.01, log
        // ratio 4.51 = log(K(1 − ε)/ε + 1); the paper's ε/(K − 1) rule would give 4.39.
        assert!((optimal_gap(0.1, 10) - (0.91f64 / 0.01).ln()).abs() < 1e-12);
        assert!((optimal_gap(0.1, 10) - (10.0 * 0.9f64 / 0.1 + 1.0).ln()).abs() < 1e-12);
        assert_eq!(format!("{:.2}", optimal_gap(0.1, 10)), "4.51");
        assert!(optimal_gap(0.0, 10).is_infinite());
        // The paper's ε/(K − 1) rule: targets 0.9 and 0.1/9, log ratio log(81) = 4.39.
        assert!((paper_optimal_gap(0.1, 10) - (0.9f64 / (0.1 / 9.0)).ln()).abs() < 1e-12);
        assert!((paper_optimal_gap(0.1, 10) - 81f64.ln()).abs() < 1e-12);
        assert_eq!(format!("{:.2}", paper_optimal_gap(0.1, 10)), "4.39");
        // The ε/K rule's optimum is always the larger (K(1 − ε)/ε + 1 > (K − 1)(1 − ε)/ε), and at
        // K = 1000 (the paper's ImageNet) both are about 9.1.
        for k in [2, 10, 100, 1000] {
            assert!(optimal_gap(0.1, k) > paper_optimal_gap(0.1, k), "K = {k}");
        }
        assert_eq!(format!("{:.1} {:.1}", optimal_gap(0.1, 1000), paper_optimal_gap(0.1, 1000)), "9.1 9.1");
    }

    #[test]
    fn confusion_and_predictions() {
        let logits = [2.0, 0.0, 0.0, 2.0, 0.0, 2.0];
        let c = confusion(&logits, &[0, 0, 1], 2);
        assert_eq!(c, vec![1, 1, 0, 1]);
        let p = predictions(&logits, 2);
        assert_eq!(p[1].class, 1);
        assert!((p[0].probability - 1.0 / (1.0 + (-2.0f32).exp())).abs() < 1e-6);
    }

    #[test]
    fn calibration_of_a_perfectly_confident_right_model_is_zero() {
        let logits = [20.0, 0.0, 0.0, 20.0];
        let c = calibration(&logits, &[0, 1], 2, 10);
        assert!(c.ece < 1e-6, "{c:?}");
        let wrong = calibration(&logits, &[1, 0], 2, 10);
        assert!((wrong.ece - 1.0).abs() < 1e-6, "{wrong:?}");
        assert_eq!(wrong.bins[9].count, 2);
    }

    #[test]
    fn histogram_clamps_to_the_ends() {
        let h = histogram(&[-1.0, 0.5, 1.5, 9.0, f32::NAN], 0.0, 2.0, 2);
        assert_eq!(h.counts, vec![2, 2]);
    }

    #[test]
    fn mean_and_sample_std() {
        assert_eq!(mean_std(&[1.0, 3.0]), (2.0, 2f64.sqrt()));
        assert_eq!(mean_std(&[5.0]), (5.0, 0.0));
    }
}
