//! What the page shows about a network, computed here so the page only draws: the batch it was
//! trained on (as images), a grid of test images with its predictions, and the class
//! probabilities of any one image (a digit drawn on the page). The last runs on the CPU reference
//! from a checkpoint, so it works for any run in the history, with no GPU.

use serde::Serialize;

use super::analysis::{self, Calibration, Histogram, Prediction};
use crate::data::Dataset;
use crate::nn::cpu::CpuNet;
use crate::reference::batch::normalize;
use crate::train::checkpoint::Checkpoint;
use crate::train::split::{LastBatch, Split};
use crate::train::trainer::Trainer;
use crate::train::TrainConfig;
use crate::{Error, Result};

/// Images of a training batch kept for the batch view.
pub const PREVIEW_IMAGES: usize = 16;
/// Test images in the prediction grid: the first ones, then the first mistakes after them.
pub const GRID_FIRST: usize = 24;
pub const GRID_MISTAKES: usize = 8;

/// Bins of the logit-gap histograms, over [0, GAP_RANGE).
pub const GAP_BINS: usize = 40;
pub const GAP_RANGE: f32 = 40.0;
/// Bins of the reliability diagrams.
pub const CALIBRATION_BINS: usize = 10;

/// A trained network's evaluation on the whole test set, with everything the views draw.
#[derive(Debug, Clone, Serialize)]
pub struct FinalViews {
    pub test_loss: f32,
    pub test_acc: f32,
    /// Accuracy on the training set without augmentation or mixup, when asked for.
    pub train_clean_acc: Option<f32>,
    /// Mean, and histogram, of the gap between each image's top logit and the mean of the others.
    pub mean_gap: f32,
    pub gaps: Histogram,
    pub calibration: Calibration,
    /// `[true class × predicted class]` counts.
    pub confusion: Vec<u32>,
    pub grid: PredictionGrid,
}

/// Evaluates `t` on its whole test set (`test` holds the same images, for the grid's pixels).
pub async fn final_views(t: &mut Trainer, test: &Dataset, train_accuracy: bool) -> Result<FinalViews> {
    let (logits, test_loss, test_acc) = t.test_logits().await?;
    let classes = t.graph().classes;
    let gaps = analysis::logit_gaps(&logits, classes);
    let mean_gap = (gaps.iter().map(|&g| g as f64).sum::<f64>() / gaps.len().max(1) as f64) as f32;
    let train_clean_acc = if train_accuracy { Some(t.evaluate_on(Split::Train, false).await?.acc) } else { None };
    Ok(FinalViews {
        test_loss,
        test_acc,
        train_clean_acc,
        mean_gap,
        gaps: analysis::histogram(&gaps, 0.0, GAP_RANGE, GAP_BINS),
        calibration: analysis::calibration(&logits, &test.labels, classes, CALIBRATION_BINS),
        confusion: analysis::confusion(&logits, &test.labels, classes),
        grid: prediction_grid(&logits, test),
    })
}

/// Images as planar bytes `[count, channels, height, width]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Images {
    pub count: usize,
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub pixels: Vec<u8>,
}

/// The first images of a batch as a network received it, turned back into pixels.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BatchPreview {
    pub images: Images,
    /// Per image, the classes its target puts weight on, largest first: (class, weight).
    pub mix: Vec<Vec<(usize, f32)>>,
    /// The mixup weight λ of the batch (1 without mixup).
    pub lambda: f32,
}

/// The first `PREVIEW_IMAGES` images of a batch, normalization undone (clamped to 0..=255), with
/// the classes their (smoothed, mixed) targets weigh.
pub fn batch_preview(config: &TrainConfig, b: &LastBatch) -> BatchPreview {
    let (channels, height, width) = config.dataset.image_shape();
    let classes = config.dataset.classes();
    let norm = config.dataset.normalization();
    let plane = height * width;
    let count = PREVIEW_IMAGES.min(b.labels.iter().filter(|&&l| l >= 0.0).count());
    let pixels = b.x[..count * channels * plane]
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let c = (i / plane) % channels;
            ((v * norm.std[c] + norm.mean[c]) * 255.0).round().clamp(0.0, 255.0) as u8
        })
        .collect();
    let mix = b.targets[..count * classes]
        .chunks_exact(classes)
        .map(|row| {
            let mut parts: Vec<(usize, f32)> = row.iter().copied().enumerate().filter(|&(_, w)| w > 0.02).collect();
            parts.sort_by(|a, b| b.1.total_cmp(&a.1));
            parts.truncate(2);
            parts
        })
        .collect();
    BatchPreview { images: Images { count, channels, height, width, pixels }, mix, lambda: b.lambda }
}

/// Test images with the network's prediction for each.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PredictionGrid {
    pub images: Images,
    /// Index of each image in the test set.
    pub ids: Vec<usize>,
    pub labels: Vec<u8>,
    pub predictions: Vec<Prediction>,
}

/// The first `GRID_FIRST` test images, then the first `GRID_MISTAKES` misclassified ones after
/// them, with the predictions `logits` (`[test.count, classes]`) give.
pub fn prediction_grid(logits: &[f32], test: &Dataset) -> PredictionGrid {
    let preds = analysis::predictions(logits, test.classes);
    let first = GRID_FIRST.min(test.count);
    let mut ids: Vec<usize> = (0..first).collect();
    ids.extend((first..test.count).filter(|&i| preds[i].class != test.labels[i] as usize).take(GRID_MISTAKES));
    let pixels = ids.iter().flat_map(|&i| test.image(i).iter().copied()).collect();
    PredictionGrid {
        images: Images { count: ids.len(), channels: test.channels, height: test.height, width: test.width, pixels },
        labels: ids.iter().map(|&i| test.labels[i]).collect(),
        predictions: ids.iter().map(|&i| preds[i]).collect(),
        ids,
    }
}

/// Class probabilities of one image (raw bytes `[channels, height, width]`) under a saved network,
/// with the CPU reference in evaluation mode.
pub fn classify(checkpoint: &Checkpoint, image: &[u8]) -> Result<Vec<f32>> {
    let config = &checkpoint.config;
    let (c, h, w) = config.dataset.image_shape();
    if image.len() != c * h * w {
        return Err(Error::shape("classify", format!("{} bytes given; a {} image is {c}×{h}×{w}", image.len(), config.dataset)));
    }
    let norm = config.dataset.normalization();
    let x: Vec<f32> = image.iter().enumerate().map(|(i, &p)| normalize(p, norm.mean[i / (h * w)], norm.std[i / (h * w)])).collect();
    let mut net = CpuNet::new(config.graph(1)?, checkpoint.params.clone());
    net.running = checkpoint.running.clone();
    Ok(analysis::softmax(net.forward(&x, false)?))
}
