//! The training configuration: one serde struct whose field names follow GluonCV's
//! `train_imagenet.py` flags (`lr_mode`, `warmup_epochs`, `no_wd`, `last_gamma`, `mixup_alpha`,
//! `teacher`/`temperature`/`hard_weight`, ...), with defaults per dataset and a `validate` whose
//! errors name the offending field. The page keeps it in its URL and the CLI reads the same JSON.
//! Real numbers are f64 (JSON's numbers, and the precision the Keras tutorial's schedule is
//! computed in).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::schedule::{non_negative, positive, LrMode, LrSchedule, ScheduleSpec};
use crate::data::DatasetKind;
use crate::nn::graph::Graph;
use crate::nn::models::{build, ModelKind, ModelOptions};
use crate::{Error, Result};

/// Every knob of a run. Build one with `default_for`, `from_json` or struct update syntax, then
/// call `validate` once the number of steps per epoch is known.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    pub dataset: DatasetKind,
    pub model: ModelKind,
    pub epochs: u32,
    pub batch_size: u32,
    /// The learning rate for `base_batch_size` images per batch.
    pub base_lr: f64,
    pub base_batch_size: u32,
    /// Linear scaling: the rate used is `base_lr * batch_size / base_batch_size` (else `base_lr`).
    pub linear_scaling: bool,
    pub lr_mode: LrMode,
    /// Step mode: the factor applied at each of `lr_decay_epochs`.
    pub lr_decay: f64,
    pub lr_decay_epochs: Vec<u32>,
    pub warmup_epochs: u32,
    /// Overrides `warmup_epochs` when set.
    pub warmup_steps: Option<u64>,
    /// The rate warmup starts from (the Keras tutorial's `warmup_learning_rate`).
    pub warmup_lr: f64,
    /// Cosine mode: epochs to hold the full rate after warmup (the Keras tutorial's
    /// `hold_base_rate_steps`; the paper's cosine decay has no hold).
    pub hold_epochs: u32,
    /// Overrides `hold_epochs` when set.
    pub hold_steps: Option<u64>,
    pub momentum: f64,
    pub nesterov: bool,
    pub weight_decay: f64,
    /// No bias decay: weight decay on conv and linear weights only, not on biases and BN's γ, β.
    pub no_wd: bool,
    /// Zero γ in the last BN of each residual block.
    pub last_gamma: bool,
    /// ε of the Keras tutorial's label smoothing; 0 is off.
    pub label_smoothing: f64,
    /// α of mixup's Beta(α, α); 0 is off.
    pub mixup_alpha: f64,
    /// No mixup in the last this many epochs.
    pub mixup_off_epochs: u32,
    /// Knowledge distillation: path or URL of the teacher's saved weights; `None` is off.
    pub teacher: Option<String>,
    pub temperature: f64,
    /// Weight of the hard-label loss against the teacher's soft targets.
    pub hard_weight: f64,
    /// CIFAR augmentation: random 32×32 crop of the 4-pixel zero-padded image and random
    /// horizontal flip.
    pub augmentation: bool,
    pub seed: u64,
    /// ResNet-C: the stem's one wide conv becomes three 3×3 convs.
    pub resnet_c: bool,
    /// ResNet-D: downsampling shortcuts average-pool before their 1×1 conv.
    pub resnet_d: bool,
    /// Channel width multiplier of the model (1: its published widths, e.g. ResNet-20's 16/32/64).
    pub width_mult: f64,
}

impl Default for TrainConfig {
    /// MNIST's defaults (`from_json` starts from the defaults of the dataset it names).
    fn default() -> Self {
        TrainConfig::default_for(DatasetKind::Mnist)
    }
}

/// JavaScript numbers are exact up to here, so the seed survives the page's URL and JSON.
const MAX_SEED: u64 = (1 << 53) - 1;

/// Upper bounds on the size of a run, so a typo or a hostile link ends in an error instead of a
/// run that never ends or a schedule preview that cannot be allocated (the page reads them from
/// the core's field table, `train::fields`).
/// - Epochs: the paper's longest recipe is 200 epochs (ImageNet with mixup, instead of 120; the
///   paper has no CIFAR-10 runs); 1000 is far past any recipe here.
pub const MAX_EPOCHS: u32 = 1000;
/// - Batch size: the paper's largest is 1024; at 4096 one CIFAR activation (4096 × 16 × 32 × 32
///   f32) is already 256 MiB, past what most devices bind as one storage buffer.
pub const MAX_BATCH_SIZE: u32 = 4096;
/// - Steps in all (epochs × steps per epoch): the page plots one rate per step (40 MB of f32 at
///   this limit), and 10 million steps is months of training at the speeds this project reaches.
pub const MAX_TOTAL_STEPS: u64 = 10_000_000;
/// The longest config JSON `from_json` reads (and the CLI's --config file): a full config is
/// under 1 KB.
pub const MAX_JSON_BYTES: usize = 1 << 20;

impl TrainConfig {
    /// The field names, in declaration order (also the JSON keys).
    pub const FIELDS: [&'static str; 31] = [
        "dataset",
        "model",
        "epochs",
        "batch_size",
        "base_lr",
        "base_batch_size",
        "linear_scaling",
        "lr_mode",
        "lr_decay",
        "lr_decay_epochs",
        "warmup_epochs",
        "warmup_steps",
        "warmup_lr",
        "hold_epochs",
        "hold_steps",
        "momentum",
        "nesterov",
        "weight_decay",
        "no_wd",
        "last_gamma",
        "label_smoothing",
        "mixup_alpha",
        "mixup_off_epochs",
        "teacher",
        "temperature",
        "hard_weight",
        "augmentation",
        "seed",
        "resnet_c",
        "resnet_d",
        "width_mult",
    ];

    /// The baseline of the paper with every trick off (step decay, no warmup, no smoothing, no
    /// mixup, no distillation, no model tweaks), sized to train in a browser tab, with the paper's
    /// Nesterov momentum 0.9, weight decay 1e-4 (GluonCV's default), distillation settings T = 20
    /// and hard weight 0.5 (GluonCV's) ready for when a teacher is set.
    /// - MNIST: 2 epochs of batch 64 at rate 0.4 per 256 images (0.1 after linear scaling), ×0.1
    ///   after epoch 1: reaches 99% test accuracy in those 2 epochs (DESIGN.md has the runs).
    /// - CIFAR-10: ResNet-20, 20 epochs of batch 128 at the paper's 0.1 per 256 images, ×0.1 after
    ///   epochs 10 and 15, random crop and flip.
    pub fn default_for(dataset: DatasetKind) -> Self {
        let (model, epochs, batch_size, base_lr, lr_decay_epochs, augmentation) = match dataset {
            DatasetKind::Mnist => (ModelKind::MnistResnet, 2, 64, 0.4, vec![1], false),
            DatasetKind::Cifar10 => (ModelKind::Resnet20, 20, 128, 0.1, vec![10, 15], true),
        };
        TrainConfig {
            dataset,
            model,
            epochs,
            batch_size,
            base_lr,
            base_batch_size: 256,
            linear_scaling: true,
            lr_mode: LrMode::Step,
            lr_decay: 0.1,
            lr_decay_epochs,
            warmup_epochs: 0,
            warmup_steps: None,
            warmup_lr: 0.0,
            hold_epochs: 0,
            hold_steps: None,
            momentum: 0.9,
            nesterov: true,
            weight_decay: 1e-4,
            no_wd: false,
            last_gamma: false,
            label_smoothing: 0.0,
            mixup_alpha: 0.0,
            mixup_off_epochs: 0,
            teacher: None,
            temperature: 20.0,
            hard_weight: 0.5,
            augmentation,
            seed: 42,
            resnet_c: false,
            resnet_d: false,
            width_mult: 1.0,
        }
    }

    /// Parses JSON. Missing fields take the defaults of the dataset the JSON names (MNIST if it
    /// names none); an unknown field, a wrong type or an unknown value (e.g. a model name) is an
    /// error naming the field. Does not `validate` (that needs the steps per epoch).
    pub fn from_json(json: &str) -> Result<Self> {
        if json.len() > MAX_JSON_BYTES {
            return Err(Error::config("config", format!("is {} bytes of JSON; a config is at most {MAX_JSON_BYTES}", json.len())));
        }
        let value: Value =
            serde_json::from_str(json).map_err(|e| Error::config("config", format!("is not valid JSON: {e}")))?;
        let Value::Object(given) = value else {
            return Err(Error::config("config", "must be a JSON object of fields"));
        };
        let dataset = match given.get("dataset") {
            None => DatasetKind::Mnist,
            Some(v) => serde_json::from_value(v.clone()).map_err(|e| Error::config("dataset", e.to_string()))?,
        };
        let defaults = TrainConfig::default_for(dataset).to_value();
        for (key, v) in &given {
            let Some(field) = Self::FIELDS.iter().find(|f| **f == key) else {
                return Err(Error::config(
                    "config",
                    format!("unknown field `{key}`; the fields are {}", Self::FIELDS.join(", ")),
                ));
            };
            let mut one = defaults.clone();
            one.insert(key.clone(), v.clone());
            serde_json::from_value::<TrainConfig>(Value::Object(one))
                .map_err(|e| Error::config(field, e.to_string()))?;
        }
        let mut all = defaults;
        all.extend(given);
        serde_json::from_value(Value::Object(all)).map_err(|e| Error::config("config", e.to_string()))
    }

    /// Compact JSON of every field (what the page puts in its URL).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a config always serializes")
    }

    fn to_value(&self) -> Map<String, Value> {
        match serde_json::to_value(self).expect("a config always serializes") {
            Value::Object(map) => map,
            _ => unreachable!("a struct serializes to a JSON object"),
        }
    }

    /// The model's build options for `batch` images per step.
    pub fn model_options(&self, batch: usize) -> ModelOptions {
        let (c, h, _) = self.dataset.image_shape();
        ModelOptions {
            last_gamma: self.last_gamma,
            resnet_c: self.resnet_c,
            resnet_d: self.resnet_d,
            width_mult: self.width_mult as f32,
            ..ModelOptions::new(batch, c, h, self.dataset.classes())
        }
    }

    /// The graph this config trains, at `batch` images per step.
    pub fn graph(&self, batch: usize) -> Result<Graph> {
        build(self.model, &self.model_options(batch))
    }

    /// The learning rate after linear scaling: `base_lr * batch_size / base_batch_size`.
    pub fn lr(&self) -> f64 {
        if self.linear_scaling && self.base_batch_size > 0 {
            self.base_lr * self.batch_size as f64 / self.base_batch_size as f64
        } else {
            self.base_lr
        }
    }

    /// `epochs × steps_per_epoch` (saturating at u64::MAX; `validate` bounds it).
    pub fn total_steps(&self, steps_per_epoch: u64) -> u64 {
        (self.epochs as u64).saturating_mul(steps_per_epoch)
    }

    /// `warmup_steps` if set, else `warmup_epochs` epochs of steps.
    pub fn warmup_steps_for(&self, steps_per_epoch: u64) -> u64 {
        self.warmup_steps.unwrap_or((self.warmup_epochs as u64).saturating_mul(steps_per_epoch))
    }

    /// `hold_steps` if set, else `hold_epochs` epochs of steps.
    pub fn hold_steps_for(&self, steps_per_epoch: u64) -> u64 {
        self.hold_steps.unwrap_or((self.hold_epochs as u64).saturating_mul(steps_per_epoch))
    }

    /// Checks every field; the error names the first bad one.
    pub fn validate(&self, steps_per_epoch: u64) -> Result<()> {
        self.validate_sizes(steps_per_epoch)?;
        self.validate_rates()?;
        self.validate_schedule(steps_per_epoch)?;
        self.validate_tricks()?;
        self.validate_model()
    }

    /// Checks every field that does not depend on the number of steps per epoch: what can be
    /// checked of a config saved with a model (a distillation teacher's), whose training set is
    /// not known here.
    pub fn validate_saved(&self) -> Result<()> {
        self.validate_sizes(1)?;
        self.validate_rates()?;
        self.validate_tricks()?;
        self.validate_model()
    }

    /// The learning-rate schedule in global steps; validates the config first.
    pub fn schedule(&self, steps_per_epoch: u64) -> Result<LrSchedule> {
        self.validate(steps_per_epoch)?;
        self.checked_schedule(steps_per_epoch)
    }

    /// `LrSchedule::new` of this config's spec, its errors named by the config field that causes
    /// them (the schedule speaks in global steps and scaled rates, the config in epochs and flags).
    fn checked_schedule(&self, steps_per_epoch: u64) -> Result<LrSchedule> {
        LrSchedule::new(self.schedule_spec(steps_per_epoch)).map_err(|e| match e {
            Error::Config { field, msg } => {
                let field = match field {
                    "warmup_steps" => self.warmup_field(),
                    "total_steps" if self.hold_steps_for(steps_per_epoch) > 0 => self.hold_field(),
                    "total_steps" => self.warmup_field(),
                    "decay" => "lr_decay",
                    "decay_steps" => "lr_decay_epochs",
                    other => other,
                };
                Error::Config { field, msg }
            }
            other => other,
        })
    }

    /// The field that sets the warmup length: `warmup_steps` when given, else `warmup_epochs`.
    fn warmup_field(&self) -> &'static str {
        if self.warmup_steps.is_some() {
            "warmup_steps"
        } else {
            "warmup_epochs"
        }
    }

    /// The field that sets the cosine hold: `hold_steps` when given, else `hold_epochs`.
    fn hold_field(&self) -> &'static str {
        if self.hold_steps.is_some() {
            "hold_steps"
        } else {
            "hold_epochs"
        }
    }

    fn schedule_spec(&self, steps_per_epoch: u64) -> ScheduleSpec {
        ScheduleSpec {
            mode: self.lr_mode,
            base_lr: self.lr(),
            total_steps: self.total_steps(steps_per_epoch),
            warmup_steps: self.warmup_steps_for(steps_per_epoch),
            warmup_lr: self.warmup_lr,
            hold_steps: if self.lr_mode == LrMode::Cosine { self.hold_steps_for(steps_per_epoch) } else { 0 },
            decay: self.lr_decay,
            decay_steps: self.lr_decay_epochs.iter().map(|&e| (e as u64).saturating_mul(steps_per_epoch)).collect(),
        }
    }

    fn validate_sizes(&self, steps_per_epoch: u64) -> Result<()> {
        if self.epochs == 0 {
            return Err(Error::config("epochs", "must be at least 1"));
        }
        if self.epochs > MAX_EPOCHS {
            return Err(Error::config("epochs", format!("is {}; a run has at most {MAX_EPOCHS} epochs", self.epochs)));
        }
        if self.batch_size == 0 {
            return Err(Error::config("batch_size", "must be at least 1"));
        }
        if self.batch_size > MAX_BATCH_SIZE {
            return Err(Error::config(
                "batch_size",
                format!("is {}; a batch holds at most {MAX_BATCH_SIZE} images", self.batch_size),
            ));
        }
        if steps_per_epoch == 0 {
            return Err(Error::config(
                "batch_size",
                format!("{} gives 0 steps per epoch: is the batch larger than the training set?", self.batch_size),
            ));
        }
        let total = self.total_steps(steps_per_epoch);
        if total > MAX_TOTAL_STEPS {
            return Err(Error::config(
                "epochs",
                format!(
                    "{} epochs of {steps_per_epoch} steps make {total} steps; a run has at most {MAX_TOTAL_STEPS} \
                     (fewer epochs or a larger batch)",
                    self.epochs
                ),
            ));
        }
        if self.linear_scaling && self.base_batch_size == 0 {
            return Err(Error::config("base_batch_size", "must be at least 1 when linear_scaling is on"));
        }
        if self.seed > MAX_SEED {
            return Err(Error::config(
                "seed",
                format!("must be at most 2^53 - 1 = {MAX_SEED} so JavaScript keeps it exact"),
            ));
        }
        Ok(())
    }

    /// The optimizer's numbers; the rates themselves are the schedule's to check.
    fn validate_rates(&self) -> Result<()> {
        if !positive(self.base_lr) {
            return Err(Error::config("base_lr", format!("must be a positive number, got {}", self.base_lr)));
        }
        // The optimizer runs in f32: a rate that is 0, subnormal or infinite there would train
        // silently at rate 0 (or diverge at once).
        let lr32 = self.lr() as f32;
        if !lr32.is_normal() {
            return Err(Error::config(
                "base_lr",
                format!(
                    "{} scales to {}, which is {:e} in f32, the precision training runs in (at least {:e}, at most {:e})",
                    self.base_lr,
                    self.lr(),
                    lr32,
                    f32::MIN_POSITIVE,
                    f32::MAX
                ),
            ));
        }
        if self.lr_decay_epochs.contains(&0) {
            return Err(Error::config(
                "lr_decay_epochs",
                format!("must be positive and strictly increasing, got {:?}", self.lr_decay_epochs),
            ));
        }
        if !(0.0..1.0).contains(&self.momentum) {
            return Err(Error::config("momentum", format!("must be in [0, 1), got {}", self.momentum)));
        }
        if !non_negative(self.weight_decay) {
            return Err(Error::config("weight_decay", format!("must be zero or positive, got {}", self.weight_decay)));
        }
        Ok(())
    }

    /// The Keras tutorial's schedule errors (from `LrSchedule::new`), named by the config field
    /// that causes them, plus one rule of the config's own: a cosine run must have decay steps left
    /// after warmup and hold (the tutorial would hold at the base rate to the end and call that
    /// cosine).
    fn validate_schedule(&self, steps_per_epoch: u64) -> Result<()> {
        self.checked_schedule(steps_per_epoch)?;
        let total = self.total_steps(steps_per_epoch);
        let warmup = self.warmup_steps_for(steps_per_epoch);
        if self.lr_mode == LrMode::Cosine {
            let hold = self.hold_steps_for(steps_per_epoch);
            if warmup.saturating_add(hold) >= total {
                let field = if hold > 0 { self.hold_field() } else { self.warmup_field() };
                return Err(Error::config(
                    field,
                    format!(
                        "warmup ({warmup} steps) plus hold ({hold} steps) must be shorter than training \
                         ({total} steps) so the cosine decay has steps to run"
                    ),
                ));
            }
        }
        Ok(())
    }

    fn validate_tricks(&self) -> Result<()> {
        if !(0.0..=1.0).contains(&self.label_smoothing) {
            return Err(Error::config("label_smoothing", format!("must be in [0, 1], got {}", self.label_smoothing)));
        }
        if !non_negative(self.mixup_alpha) {
            return Err(Error::config(
                "mixup_alpha",
                format!("must be zero (off) or positive, got {}", self.mixup_alpha),
            ));
        }
        if self.mixup_off_epochs > self.epochs {
            return Err(Error::config(
                "mixup_off_epochs",
                format!("is {} but training has only {} epochs", self.mixup_off_epochs, self.epochs),
            ));
        }
        if !positive(self.temperature) {
            return Err(Error::config("temperature", format!("must be positive, got {}", self.temperature)));
        }
        if !(0.0..=1.0).contains(&self.hard_weight) {
            return Err(Error::config("hard_weight", format!("must be in [0, 1], got {}", self.hard_weight)));
        }
        if matches!(&self.teacher, Some(t) if t.trim().is_empty()) {
            return Err(Error::config("teacher", "is empty; leave it out (null) to train without a teacher"));
        }
        Ok(())
    }

    fn validate_model(&self) -> Result<()> {
        // The models take it as f32, where a tiny positive f64 is 0.
        if !(self.width_mult > 0.0 && self.width_mult <= 4.0 && self.width_mult as f32 > 0.0) {
            return Err(Error::config("width_mult", format!("must be above 0 and at most 4, got {}", self.width_mult)));
        }
        if self.model == ModelKind::MnistResnet && self.dataset != DatasetKind::Mnist {
            return Err(Error::config(
                "model",
                "mnist_resnet is built for 1×28×28 MNIST images; choose resnet20/32/56 or mobilenetv2",
            ));
        }
        if self.augmentation && self.dataset == DatasetKind::Mnist {
            return Err(Error::config(
                "augmentation",
                "the crop-and-flip augmentation is for CIFAR-10; a flipped digit is not the same digit",
            ));
        }
        if !self.model.is_resnet() {
            if self.resnet_c {
                return Err(Error::config("resnet_c", "is a ResNet stem tweak; mobilenetv2 has no ResNet stem"));
            }
            if self.resnet_d {
                return Err(Error::config(
                    "resnet_d",
                    "is a ResNet shortcut tweak; mobilenetv2 has no ResNet shortcuts",
                ));
            }
        }
        Ok(())
    }
}
