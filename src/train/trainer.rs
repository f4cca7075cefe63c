//! The trainer: builds a run's backend (the model, optimizer and data on the GPU, or on the CPU
//! reference; `backend/`) from a `TrainConfig` once, then runs steps. It decides everything a run
//! draws, the same on both backends: each epoch's seeded shuffle, each sample's crop and flip,
//! mixup's λ and the rate of each step. On the GPU a step writes only a few small buffers and
//! submits one command buffer, and metrics are read back asynchronously when asked for, never per
//! step. The same code drives the CLI (blocking natively) and the page's Web Worker (awaiting).

use serde::Serialize;

use super::backend::{batches, Backend, Device, Evaluation};
use super::checkpoint::Checkpoint;
use super::config::TrainConfig;
use super::schedule::LrSchedule;
use super::split::{LastBatch, Split, CROP_PAD, RECALIBRATION_IMAGES};
use super::step::Sums;
use super::tricks::mixup_lambda;
use crate::data::{Dataset, DatasetKind};
use crate::gpu::GpuContext;
use crate::nn::graph::Graph;
use crate::ops::batch::AugParams;
use crate::rng::Rng;
use crate::{Error, Result};

/// One line of the per-epoch log (accuracies in 0..1).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EpochReport {
    pub epoch: u32,
    /// The rates of the epoch's first and last steps.
    pub lr_first: f32,
    pub lr_last: f32,
    pub train_loss: f32,
    pub train_acc: f32,
    pub test_loss: f32,
    pub test_acc: f32,
    pub images_per_sec: f32,
    pub elapsed_s: f32,
}

/// Loss and accuracy of the steps run so far in one epoch, as the GPU's running sums hold them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Progress {
    /// The epoch (0-based) the sums belong to.
    pub epoch: u32,
    /// Steps of that epoch the sums cover (all of them once the epoch is done).
    pub steps: u64,
    /// Steps run in the whole run so far.
    pub global_step: u64,
    /// The rate of the next step.
    pub lr: f32,
    /// Mean loss and accuracy over the covered steps.
    pub loss: f32,
    pub acc: f32,
    /// The sums behind them.
    pub sums: Sums,
}

impl Progress {
    /// The mean loss of the steps run since `earlier` (an earlier report of the same run, or none
    /// for the run's start).
    pub fn mean_loss_since(&self, earlier: Option<&Progress>) -> f32 {
        match earlier {
            Some(e) if e.epoch == self.epoch => self.sums.mean_loss_since(&e.sums),
            _ => self.sums.mean_loss_since(&Sums::default()),
        }
    }
}

pub struct Trainer {
    pub config: TrainConfig,
    pub schedule: LrSchedule,
    pub steps_per_epoch: u64,
    pub train_count: usize,
    pub test_count: usize,
    backend: Backend,
    /// Re-estimate the BN running statistics before each evaluation (on by default).
    pub recalibrate_bn: bool,
    rng: Rng,
    order: Vec<u32>,
    /// Completed epochs, and steps done in the current one.
    pub epoch: u32,
    pub step_in_epoch: u64,
    pub global_step: u64,
    epoch_started_s: f64,
    last_lambda: f32,
}

fn check_dataset(kind: DatasetKind, what: &str, d: &Dataset) -> Result<()> {
    let (c, h, w) = kind.image_shape();
    if (d.channels, d.height, d.width) != (c, h, w) {
        return Err(Error::data(what, format!("images are {}x{}x{}, but {kind} needs {c}x{h}x{w}", d.channels, d.height, d.width)));
    }
    if d.count == 0 {
        return Err(Error::data(what, "holds no images"));
    }
    Ok(())
}

/// Checks the splits and the config against each other; returns the steps per epoch and the
/// schedule.
fn plan_run(config: &TrainConfig, train: &Dataset, test: &Dataset) -> Result<(u64, LrSchedule)> {
    check_dataset(config.dataset, "training set", train)?;
    check_dataset(config.dataset, "test set", test)?;
    let batch = (config.batch_size as usize).max(1);
    let steps_per_epoch = (train.count / batch).max(1) as u64;
    // Field-by-field validation first, so a bad value is reported before any data mismatch.
    let schedule = config.schedule(steps_per_epoch)?;
    if batch > train.count {
        return Err(Error::config("batch_size", format!("{batch} is larger than the training set ({} images)", train.count)));
    }
    Ok((steps_per_epoch, schedule))
}

impl Trainer {
    /// Builds everything a run needs on `device` (a GPU context several runs may share, or the
    /// CPU reference). `teacher` is a saved model (its graph rebuilt at this batch size) to
    /// distill from; it must take the same images and predict the same classes.
    pub fn new(device: Device, config: TrainConfig, train: &Dataset, test: &Dataset, teacher: Option<Checkpoint>) -> Result<Self> {
        let (steps_per_epoch, schedule) = plan_run(&config, train, test)?;
        let backend = Backend::new(&device, &config, train, test, teacher)?;
        Ok(Trainer {
            schedule,
            steps_per_epoch,
            train_count: train.count,
            test_count: test.count,
            backend,
            recalibrate_bn: true,
            rng: Rng::new(config.seed ^ 0x5EED),
            order: (0..train.count as u32).collect(),
            epoch: 0,
            step_in_epoch: 0,
            global_step: 0,
            epoch_started_s: crate::clock::now_s(),
            last_lambda: 1.0,
            config,
        })
    }

    /// What the run computes on.
    pub fn device(&self) -> Device {
        self.backend.device()
    }

    /// The GPU context of a run on the GPU.
    pub fn gpu(&self) -> Option<&GpuContext> {
        self.backend.gpu()
    }

    pub fn total_steps(&self) -> u64 {
        self.steps_per_epoch * self.config.epochs as u64
    }

    pub fn is_done(&self) -> bool {
        self.epoch >= self.config.epochs
    }

    pub fn lr(&self) -> f32 {
        self.schedule.lr(self.global_step)
    }

    /// Records and submits one training step. At the start of an epoch the sample order is
    /// reshuffled (seeded) and the epoch's metrics are reset.
    pub fn step(&mut self) -> Result<()> {
        if self.is_done() {
            return Err(Error::config("epochs", "the run has already finished all its epochs"));
        }
        if self.step_in_epoch == 0 {
            shuffle(&mut self.rng, &mut self.order);
            self.backend.reset_sums()?;
            self.epoch_started_s = crate::clock::now_s();
        }
        let b = self.config.batch_size as usize;
        let start = self.step_in_epoch as usize * b;
        let ids = &self.order[start..start + b];
        let pad = if self.config.augmentation { CROP_PAD } else { 0 };
        let flip = self.config.augmentation;
        let aug: Vec<AugParams> = (0..b).map(|_| if pad > 0 || flip { AugParams::random(&mut self.rng, pad, flip) } else { AugParams::identity(pad) }).collect();
        let lambda = mixup_lambda(&mut self.rng, self.config.mixup_alpha, self.epoch, self.config.epochs, self.config.mixup_off_epochs)?;
        let lr = self.lr();
        self.backend.train_step(ids, &aug, lambda, lr)?;
        self.last_lambda = lambda;
        self.global_step += 1;
        self.step_in_epoch += 1;
        if self.step_in_epoch == self.steps_per_epoch {
            self.step_in_epoch = 0;
            self.epoch += 1;
        }
        Ok(())
    }

    /// Mean loss and accuracy of the current epoch so far, or of the epoch just finished when no
    /// step of the next one has run (waits for the submitted steps). A non-finite loss stops the
    /// run with `Error::Diverged`.
    pub async fn progress(&self) -> Result<Progress> {
        let sums = self.backend.sums().await?;
        let (loss, acc) = sums.means();
        if !loss.is_finite() {
            return Err(Error::Diverged { step: self.global_step, loss });
        }
        let (epoch, steps) = match (self.step_in_epoch, self.global_step) {
            (0, 0) => (0, 0),
            (0, _) => (self.epoch - 1, self.steps_per_epoch),
            (k, _) => (self.epoch, k),
        };
        Ok(Progress { epoch, steps, global_step: self.global_step, lr: self.lr(), loss, acc, sums })
    }

    /// Test-set loss and accuracy with the running BN statistics, in fixed-size batches (the last
    /// one padded; padding rows have zero targets and never count as correct).
    pub async fn evaluate(&mut self) -> Result<(f32, f32)> {
        let e = self.evaluate_on(Split::Test, false).await?;
        Ok((e.loss, e.acc))
    }

    /// Loss and accuracy on a whole split (the training set without augmentation or smoothing
    /// for `Split::Train`), in fixed-size batches (the last one padded; padding rows have zero
    /// targets and never count as correct). With `logits`, every image's logits
    /// (`[count, classes]`) come back too.
    ///
    /// First, unless `recalibrate_bn` is off, the batch norms' running statistics are re-estimated
    /// with the current weights from the first `RECALIBRATION_IMAGES` clean training images
    /// (PreciseBN; training never reads running statistics, so the run itself is unchanged). The
    /// running averages of the last ~10 steps lag weights that move fast: after 24 steps of batch
    /// 256 at rate 0.4 (a quarter-width MNIST model) they put test accuracy at 59.05% where
    /// recalibrated statistics give 84.00% (DESIGN.md has the command).
    pub async fn evaluate_on(&mut self, split: Split, logits: bool) -> Result<Evaluation> {
        if self.recalibrate_bn {
            let clean: Vec<Vec<u32>> = batches(0, RECALIBRATION_IMAGES.min(self.train_count), self.config.batch_size as usize).collect();
            self.backend.recalibrate(&clean)?;
        }
        let count = match split {
            Split::Train => self.train_count,
            Split::Test => self.test_count,
        };
        self.backend.evaluate(split, count, logits).await
    }

    /// The test set's logits `[test_count, classes]` with the current weights (after the same
    /// recalibration as `evaluate`), with the test loss and accuracy.
    pub async fn test_logits(&mut self) -> Result<(Vec<f32>, f32, f32)> {
        let e = self.evaluate_on(Split::Test, true).await?;
        Ok((e.logits.unwrap_or_default(), e.loss, e.acc))
    }

    /// Runs the rest of the current epoch and evaluates it. `on_progress` is called every
    /// `report_every` steps with the epoch so far (each call waits for the GPU to catch up).
    pub async fn run_epoch(&mut self, report_every: u64, mut on_progress: impl FnMut(&Progress)) -> Result<EpochReport> {
        let epoch = self.epoch;
        let lr_first = self.lr();
        loop {
            let lr_last = self.lr();
            self.step()?;
            let finished = self.epoch != epoch;
            if finished || self.step_in_epoch.is_multiple_of(report_every.max(1)) {
                let p = self.progress().await?;
                on_progress(&p);
                if finished {
                    let elapsed = (crate::clock::now_s() - self.epoch_started_s) as f32;
                    let images = (self.steps_per_epoch * self.config.batch_size as u64) as f32;
                    let (test_loss, test_acc) = self.evaluate().await?;
                    return Ok(EpochReport {
                        epoch: epoch + 1,
                        lr_first,
                        lr_last,
                        train_loss: p.loss,
                        train_acc: p.acc,
                        test_loss,
                        test_acc,
                        images_per_sec: images / elapsed.max(1e-9),
                        elapsed_s: elapsed,
                    });
                }
            }
        }
    }

    /// The last training step's batch, read back (waits for the step).
    pub async fn last_batch(&self) -> Result<LastBatch> {
        self.backend.last_batch(self.last_lambda).await
    }

    /// The trained weights and BN statistics, for saving or as a teacher.
    pub async fn checkpoint(&self) -> Result<Checkpoint> {
        self.backend.checkpoint(&self.config).await
    }

    pub fn graph(&self) -> &Graph {
        self.backend.graph()
    }
}

/// Fisher–Yates with the run's seeded generator.
fn shuffle(rng: &mut Rng, order: &mut [u32]) {
    for i in (1..order.len()).rev() {
        order.swap(i, rng.below(i + 1));
    }
}
