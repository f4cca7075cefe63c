//! Lessons: one short experiment per trick, as data, run the same way by the CLI
//! (`tricklab lesson`) and the page (through `web::lesson`). A lesson is a question, its arms
//! (complete training configs that differ only in the trick, sharing the seed), the data it runs
//! on, the measurement that shows the effect, the rule that turns the measured numbers into a
//! verdict sentence, the views the page draws, and the paper's own full-scale result.
//!
//! - `file`: the lesson file format (one JSON document per lesson), read and written; `check`
//!   validates a file as it becomes a `Lesson`, naming the path of any error; `fields` reads JSON
//!   objects field by field with those paths.
//! - `catalog`: the built-in lessons, files in lessons/ embedded in the build.
//! - `run`: `LessonRun`, which trains the arms step by step in turn (so curves grow together) and
//!   records what each measurement and view needs.
//! - `verdict`: each arm's measured value, and the verdict over one or more seeds.

pub mod catalog;
pub mod check;
pub mod class;
pub mod draft;
pub mod estimate;
mod fields;
pub mod file;
pub mod pool;
pub mod result;
pub mod run;
pub mod verdict;

use serde::{Deserialize, Serialize};

use crate::data::DatasetKind;
use crate::train::TrainConfig;

/// One lesson.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Lesson {
    /// Its name on the command line and in links (`#lesson=warmup`).
    pub id: String,
    pub title: String,
    /// The question the experiment answers.
    pub question: String,
    /// What to look at while it runs.
    pub look_for: String,
    /// Why the experiment is set up as it is (data, width, recipe).
    pub setup: String,
    /// The dataset every arm trains on (MNIST: see DESIGN.md, "Lessons").
    pub dataset: DatasetKind,
    /// The first `train_images` training and `test_images` test images of the dataset.
    pub train_images: usize,
    pub test_images: usize,
    pub arms: Vec<Arm>,
    /// The measurement the verdict is about.
    pub metric: Metric,
    pub rule: Rule,
    /// A second measurement the verdict states beside the first, without judging it (the norms
    /// that no bias decay is about, say).
    pub reported: Option<Metric>,
    /// What the page draws for this lesson (beside the loss curves and accuracy).
    pub views: Vec<View>,
    /// Evaluate the clean training set after every epoch (for a train-test gap).
    pub track_train_accuracy: bool,
    pub paper: Paper,
    /// Said when the 3-seed check (bench/LESSONS.md) found the effect within noise at this size.
    pub noise_note: Option<String>,
}

/// One arm: a complete config, trained with the lesson's seed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Arm {
    pub name: String,
    pub config: TrainConfig,
    /// The arm whose trained weights teach this one (distillation); it runs first.
    pub teacher: Option<usize>,
    /// This arm trains on only the first `train_images` of the lesson's training images (a
    /// student with few labels); `None`: on all of them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub train_images: Option<usize>,
}

/// The paper's result for the trick at full scale, and where it is printed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Paper {
    pub result: String,
    pub source: String,
}

/// What a lesson measures in each arm.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Metric {
    /// The mean training loss of the first `steps` steps (how training starts).
    EarlyLoss { steps: u64 },
    /// Test accuracy at the end.
    TestAccuracy,
    /// Training loss over the last epoch.
    FinalTrainLoss,
    /// Clean training-set accuracy minus test accuracy at the end.
    GeneralizationGap,
    /// Mean gap between the top logit and the mean of the others over the test set.
    LogitGap,
    /// Expected calibration error on the test set.
    CalibrationError,
    /// L2 norm of all batch-norm scales γ at the end (after the last epoch).
    GammaNorm,
}

impl Metric {
    /// A short name with its unit, for sentences and tables.
    pub fn name(self) -> String {
        match self {
            Metric::EarlyLoss { steps } => format!("mean training loss of the first {steps} steps"),
            Metric::TestAccuracy => "test accuracy (%)".into(),
            Metric::FinalTrainLoss => "training loss of the last epoch".into(),
            Metric::GeneralizationGap => "train − test accuracy (points)".into(),
            Metric::LogitGap => "mean gap between the top logit and the others".into(),
            Metric::CalibrationError => "expected calibration error (%)".into(),
            Metric::GammaNorm => "norm of all BN γ".into(),
        }
    }
}

/// Which way a metric improves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Better {
    Higher,
    Lower,
}

/// How the measured numbers become a verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Rule {
    /// The trick arm's metric is better than the baseline arm's by more than `margin`.
    Beats { trick: usize, baseline: usize, better: Better, margin: f64 },
    /// The difference between two arms shrinks with the trick: |a − b| of the pair `with` is
    /// smaller than that of the pair `without` by more than `margin`.
    GapShrinks { without: (usize, usize), with: (usize, usize), margin: f64 },
}

/// The lesson-specific views the page draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum View {
    /// Each arm's planned and used learning rate per step.
    Schedules,
    /// Loss curves against images seen instead of steps (arms with different batch sizes).
    LossPerImage,
    /// The norms of γ, β, biases and weights after every epoch.
    Norms,
    /// Histograms of the logit gap over the test set, with the optimum of smoothing marked.
    LogitGaps,
    /// Reliability diagrams: accuracy against confidence.
    Calibration,
    /// The first training batch each arm received, as images.
    Batches,
    /// Clean training and test accuracy per epoch.
    TrainTestAccuracy,
}

impl Lesson {
    /// Training images the arms process together (each arm's epochs × the training subset).
    pub fn training_images(&self) -> u64 {
        let per_arm = |a: &Arm| a.config.epochs as u64 * self.arm_images(a) as u64 / a.config.batch_size as u64 * a.config.batch_size as u64;
        self.arms.iter().map(per_arm).sum()
    }

    /// The training images `arm` trains on: the first of the lesson's.
    pub fn arm_images(&self, arm: &Arm) -> usize {
        arm.train_images.unwrap_or(self.train_images).min(self.train_images)
    }
}
