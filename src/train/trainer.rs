//! The trainer: builds the model, optimizer and data streams from a `TrainConfig` once, then runs
//! steps. A step writes only a few small buffers (sample ids, crop/flip offsets, mixup λ, the
//! learning rate) and submits one command buffer: batch assembly, forward, loss, backward and SGD.
//! Metrics accumulate on the GPU and are read back asynchronously when asked for, never per step.
//! The same code drives the CLI (blocking natively) and the page's Web Worker (awaiting).

use std::rc::Rc;

use serde::Serialize;

use super::checkpoint::Checkpoint;
use super::config::TrainConfig;
use super::schedule::LrSchedule;
use super::step::{GpuStep, StepOptions, Sums};
use super::tricks::mixup_lambda;
use crate::data::{Dataset, DatasetKind};
use crate::gpu::batch::{BatchAssembler, GpuDataset};
use crate::gpu::{elementwise, loss, Dispatch, GpuContext, Tensor};
use crate::nn::gpu::GpuNet;
use crate::nn::graph::Graph;
use crate::ops::batch::{AugParams, BatchShape};
use crate::ops::loss::LossShape;
use crate::rng::Rng;
use crate::{Error, Result};

/// CIFAR augmentation: random crops from the image zero-padded by 4 pixels, and horizontal flips.
pub const CROP_PAD: u32 = 4;

/// Clean training images the BN running statistics are re-estimated from before an evaluation.
pub const RECALIBRATION_IMAGES: usize = 256;

/// The splits an evaluation can run over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// The training set without augmentation, smoothing or mixup.
    Train,
    Test,
}

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

/// One data stream of a run: the batch assembler over a split on the GPU and the copies of its
/// batch into the step's input, target and label tensors.
struct Stream {
    batch: BatchAssembler,
    feed: Vec<Dispatch>,
}

impl Stream {
    fn new(ctx: &GpuContext, label: &str, data: &GpuDataset, shape: &BatchShape, step: &GpuStep) -> Result<Self> {
        let batch = BatchAssembler::new(ctx, label, data, shape)?;
        let feed = vec![
            elementwise::copy(ctx, &batch.x, step.net.input())?,
            elementwise::copy(ctx, &batch.targets, &step.targets)?,
            elementwise::copy(ctx, &batch.labels, &step.labels)?,
        ];
        Ok(Stream { batch, feed })
    }

    /// The assembly and feed dispatches of one batch, in order.
    fn dispatches(&self) -> impl Iterator<Item = &Dispatch> {
        self.batch.dispatches().iter().chain(&self.feed)
    }
}

/// The batch of the last training step as the network received it.
#[derive(Debug, Clone, PartialEq)]
pub struct LastBatch {
    /// `[batch, C, H, W]`: cropped, flipped, normalized and mixed images.
    pub x: Vec<f32>,
    /// `[batch, classes]`: smoothed and mixed target rows.
    pub targets: Vec<f32>,
    /// `[batch]`: each sample's label as f32 (−1 for a padding entry).
    pub labels: Vec<f32>,
    /// The mixup weight λ of the step (1 without mixup).
    pub lambda: f32,
}

pub struct Trainer {
    pub ctx: Rc<GpuContext>,
    pub config: TrainConfig,
    pub schedule: LrSchedule,
    pub steps_per_epoch: u64,
    pub train_count: usize,
    pub test_count: usize,
    step: GpuStep,
    train: Stream,
    test: Stream,
    /// The training set without augmentation or smoothed targets, for BN recalibration and the
    /// clean training-set evaluation.
    train_eval: Stream,
    /// Recalibration forwards with BN momenta 1, 1/2, 1/3, ... (one per clean batch).
    recalibrate: Vec<Vec<Dispatch>>,
    /// Re-estimate the BN running statistics before each evaluation (on by default).
    pub recalibrate_bn: bool,
    eval_loss: Vec<Dispatch>,
    eval_metrics: Tensor,
    rng: Rng,
    order: Vec<u32>,
    /// Completed epochs, and steps done in the current one.
    pub epoch: u32,
    pub step_in_epoch: u64,
    pub global_step: u64,
    epoch_started_s: f64,
    last_lambda: f32,
    _data: (GpuDataset, GpuDataset),
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

/// The student's step, with the teacher's eval-mode net when distilling.
fn build_step(ctx: &GpuContext, config: &TrainConfig, teacher: Option<Checkpoint>) -> Result<GpuStep> {
    let batch = config.batch_size as usize;
    let graph = config.graph(batch)?;
    let params = graph.init_params(config.seed);
    let net = GpuNet::new(ctx, graph, &params)?;
    let teacher = match teacher {
        None => None,
        Some(t) => {
            if t.config.dataset != config.dataset {
                return Err(Error::config("teacher", format!("the teacher was trained on {}, this run uses {}", t.config.dataset, config.dataset)));
            }
            let net = GpuNet::new(ctx, t.config.graph(batch)?, &t.params)?;
            net.set_running(ctx, &t.running)?;
            Some(net)
        }
    };
    GpuStep::new(ctx, net, teacher, &StepOptions::from_config(config))
}

/// The batch shapes of the training stream (crop and flip when the config augments, smoothed
/// targets) and of the evaluation streams (neither).
fn batch_shapes(config: &TrainConfig) -> (BatchShape, BatchShape) {
    let (channels, height, width) = config.dataset.image_shape();
    let train = BatchShape {
        batch: config.batch_size as usize,
        channels,
        height,
        width,
        classes: config.dataset.classes(),
        pad: if config.augmentation { CROP_PAD } else { 0 },
        norm: config.dataset.normalization(),
        smoothing: config.label_smoothing,
    };
    (train, BatchShape { pad: 0, smoothing: 0.0, ..train })
}

impl Trainer {
    /// Builds everything a run needs on `ctx` (which several runs may share). `teacher` is a saved
    /// model (its graph rebuilt at this batch size) to distill from; it must take the same images
    /// and predict the same classes.
    pub fn new(ctx: Rc<GpuContext>, config: TrainConfig, train: &Dataset, test: &Dataset, teacher: Option<Checkpoint>) -> Result<Self> {
        let (steps_per_epoch, schedule) = plan_run(&config, train, test)?;
        let step = build_step(&ctx, &config, teacher)?;
        let (train_shape, test_shape) = batch_shapes(&config);
        let train_data = GpuDataset::upload(&ctx, "training set", &train.view(), None)?;
        let test_data = GpuDataset::upload(&ctx, "test set", &test.view(), None)?;
        let train_stream = Stream::new(&ctx, "train batch", &train_data, &train_shape, &step)?;
        let test_stream = Stream::new(&ctx, "test batch", &test_data, &test_shape, &step)?;
        let train_eval = Stream::new(&ctx, "clean train batch", &train_data, &test_shape, &step)?;
        let recal_batches = RECALIBRATION_IMAGES.min(train.count).div_ceil(test_shape.batch);
        let recalibrate = (1..=recal_batches).map(|k| step.net.recalibration(&ctx, 1.0 / k as f32)).collect::<Result<_>>()?;
        let eval_metrics = ctx.zeros("test metrics", &[3])?;
        let loss_shape = LossShape { batch: test_shape.batch, classes: test_shape.classes };
        let eval_loss = loss::softmax_cross_entropy(&ctx, &loss_shape, step.net.logits(), &step.targets, &step.labels, step.net.dlogits(), &eval_metrics)?;
        Ok(Trainer {
            schedule,
            steps_per_epoch,
            train_count: train.count,
            test_count: test.count,
            step,
            train: train_stream,
            test: test_stream,
            train_eval,
            recalibrate,
            recalibrate_bn: true,
            eval_loss,
            eval_metrics,
            rng: Rng::new(config.seed ^ 0x5EED),
            order: (0..train.count as u32).collect(),
            epoch: 0,
            step_in_epoch: 0,
            global_step: 0,
            epoch_started_s: crate::clock::now_s(),
            last_lambda: 1.0,
            _data: (train_data, test_data),
            config,
            ctx,
        })
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
            self.ctx.write(&self.step.metrics, &[0.0; 3])?;
            self.epoch_started_s = crate::clock::now_s();
        }
        let b = self.config.batch_size as usize;
        let start = self.step_in_epoch as usize * b;
        let ids = &self.order[start..start + b];
        let pad = self.train.batch.shape().pad;
        let flip = self.config.augmentation;
        let aug: Vec<AugParams> = (0..b).map(|_| if pad > 0 || flip { AugParams::random(&mut self.rng, pad, flip) } else { AugParams::identity(pad) }).collect();
        let lambda = mixup_lambda(&mut self.rng, self.config.mixup_alpha, self.epoch, self.config.epochs, self.config.mixup_off_epochs)?;
        self.train.batch.write_step(&self.ctx, ids, &aug, lambda)?;
        self.last_lambda = lambda;
        self.step.set_lr(&self.ctx, self.lr())?;
        let mut all: Vec<&Dispatch> = self.train.dispatches().collect();
        all.extend(self.step.dispatches());
        self.ctx.submit(&all)?;
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
        let sums = Sums::read(&self.ctx, &self.step.metrics).await?;
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
        self.evaluate_on(Split::Test, None).await
    }

    /// Loss and accuracy on a whole split (the training set without augmentation or smoothing
    /// for `Split::Train`), in fixed-size batches (the last one padded; padding rows have zero
    /// targets and never count as correct). When `logits` is given (a `[count, classes]` tensor),
    /// every image's logits are copied into it.
    ///
    /// First, unless `recalibrate_bn` is off, the batch norms' running statistics are re-estimated
    /// with the current weights from the first `RECALIBRATION_IMAGES` clean training images
    /// (PreciseBN; training never reads running statistics, so the run itself is unchanged). The
    /// running averages of the last ~10 steps lag weights that move fast: after 24 steps of batch
    /// 256 at rate 0.4 they put MNIST test accuracy at 31% where recalibrated statistics give
    /// DESIGN.md's number.
    pub async fn evaluate_on(&mut self, split: Split, logits: Option<&Tensor>) -> Result<(f32, f32)> {
        if self.recalibrate_bn {
            self.recalibrate_running_stats()?;
        }
        self.ctx.write(&self.eval_metrics, &[0.0; 3])?;
        let (stream, count) = match split {
            Split::Train => (&self.train_eval, self.train_count),
            Split::Test => (&self.test, self.test_count),
        };
        let b = self.config.batch_size as usize;
        let row_bytes = (self.step.net.graph.classes * 4) as u64;
        let mut start = 0;
        while start < count {
            let end = (start + b).min(count);
            let ids: Vec<u32> = (start as u32..end as u32).collect();
            let aug = vec![AugParams::identity(0); ids.len()];
            stream.batch.write_step(&self.ctx, &ids, &aug, 1.0)?;
            let mut all: Vec<&Dispatch> = stream.dispatches().collect();
            all.extend(self.step.net.forward_eval.iter());
            all.extend(self.eval_loss.iter());
            self.ctx.submit(&all)?;
            if let Some(out) = logits {
                let size = (end - start) as u64 * row_bytes;
                self.ctx.copy(self.step.net.logits(), out, start as u64 * row_bytes, size)?;
            }
            start = end;
        }
        let m = self.ctx.read(&self.eval_metrics).await?;
        let n = count as f32;
        Ok((m[0] / n, m[1] / n))
    }

    /// Sets the BN running statistics to their averages over the first clean training batches
    /// with the current weights (see `evaluate_on`).
    fn recalibrate_running_stats(&self) -> Result<()> {
        let b = self.config.batch_size as usize;
        for (k, forward) in self.recalibrate.iter().enumerate() {
            let start = k * b;
            let ids: Vec<u32> = (start as u32..(start + b).min(self.train_count) as u32).collect();
            let aug = vec![AugParams::identity(0); ids.len()];
            self.train_eval.batch.write_step(&self.ctx, &ids, &aug, 1.0)?;
            let all: Vec<&Dispatch> = self.train_eval.dispatches().chain(forward).collect();
            self.ctx.submit(&all)?;
        }
        Ok(())
    }

    /// The test set's logits `[test_count, classes]` with the current weights (after the same
    /// recalibration as `evaluate`), with the test loss and accuracy.
    pub async fn test_logits(&mut self) -> Result<(Vec<f32>, f32, f32)> {
        let out = self.ctx.zeros("test logits", &[self.test_count, self.step.net.graph.classes])?;
        let (loss, acc) = self.evaluate_on(Split::Test, Some(&out)).await?;
        Ok((self.ctx.read(&out).await?, loss, acc))
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
        let b = &self.train.batch;
        Ok(LastBatch {
            x: self.ctx.read(&b.x).await?,
            targets: self.ctx.read(&b.targets).await?,
            labels: self.ctx.read(&b.labels).await?,
            lambda: self.last_lambda,
        })
    }

    /// The trained weights and BN statistics, for saving or as a teacher.
    pub async fn checkpoint(&self) -> Result<Checkpoint> {
        let mut params = Vec::new();
        for t in &self.step.net.params {
            params.push(self.ctx.read(t).await?);
        }
        let mut running = Vec::new();
        for (m, v) in &self.step.net.running {
            running.push((self.ctx.read(m).await?, self.ctx.read(v).await?));
        }
        Ok(Checkpoint { config: self.config.clone(), params, running })
    }

    pub fn graph(&self) -> &Graph {
        &self.step.net.graph
    }
}

/// Fisher–Yates with the run's seeded generator.
fn shuffle(rng: &mut Rng, order: &mut [u32]) {
    for i in (1..order.len()).rev() {
        order.swap(i, rng.below(i + 1));
    }
}
