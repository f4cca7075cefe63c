//! The trainer: builds the model, optimizer and data streams from a `TrainConfig` once, then runs
//! steps. A step writes only a few small buffers (sample ids, crop/flip offsets, mixup λ, the
//! learning rate) and submits one command buffer: batch assembly, forward, loss, backward and SGD.
//! Metrics accumulate on the GPU and are read back asynchronously when asked for, never per step.
//! The same code drives the CLI (blocking natively) and the page's Web Worker (awaiting).

use serde::Serialize;

use super::checkpoint::Checkpoint;
use super::config::TrainConfig;
use super::schedule::LrSchedule;
use super::step::{GpuStep, StepOptions};
use super::tricks::mixup_lambda;
use crate::rng::Rng;
use crate::data::{Dataset, DatasetKind};
use crate::gpu::batch::{BatchAssembler, GpuDataset};
use crate::gpu::{elementwise, loss, Dispatch, GpuContext, Tensor};
use crate::nn::gpu::GpuNet;
use crate::nn::graph::Graph;
use crate::ops::batch::{AugParams, BatchShape};
use crate::ops::loss::LossShape;
use crate::{Error, Result};

/// CIFAR augmentation: random crops from the image zero-padded by 4 pixels, and horizontal flips.
pub const CROP_PAD: u32 = 4;

/// One line of the per-epoch log (accuracies in 0..1).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EpochReport {
    pub epoch: u32,
    pub lr: f32,
    pub train_loss: f32,
    pub train_acc: f32,
    pub test_loss: f32,
    pub test_acc: f32,
    pub images_per_sec: f32,
    pub elapsed_s: f32,
}

/// Loss and accuracy so far in the current epoch.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Progress {
    pub epoch: u32,
    pub step: u64,
    pub global_step: u64,
    pub lr: f32,
    pub loss: f32,
    pub acc: f32,
}

pub struct Trainer {
    pub ctx: GpuContext,
    pub config: TrainConfig,
    pub schedule: LrSchedule,
    pub steps_per_epoch: u64,
    pub train_count: usize,
    pub test_count: usize,
    step: GpuStep,
    train_batch: BatchAssembler,
    test_batch: BatchAssembler,
    feed_train: Vec<Dispatch>,
    feed_test: Vec<Dispatch>,
    eval_loss: Vec<Dispatch>,
    eval_metrics: Tensor,
    rng: Rng,
    order: Vec<u32>,
    /// Completed epochs, and steps done in the current one.
    pub epoch: u32,
    pub step_in_epoch: u64,
    pub global_step: u64,
    epoch_started_s: f64,
    _data: (GpuDataset, GpuDataset),
}

fn check_dataset(kind: DatasetKind, what: &str, d: &Dataset) -> Result<()> {
    let (c, h, w) = kind.image_shape();
    if (d.channels, d.height, d.width) != (c, h, w) {
        return Err(Error::data(what, format!("images are {}x{}x{}, but {kind:?} needs {c}x{h}x{w}", d.channels, d.height, d.width)));
    }
    if d.count == 0 {
        return Err(Error::data(what, "holds no images"));
    }
    Ok(())
}

impl Trainer {
    /// Builds everything a run needs. `teacher` is a saved model (its graph rebuilt at this batch
    /// size) to distill from; it must take the same images and predict the same classes.
    pub fn new(ctx: GpuContext, config: TrainConfig, train: &Dataset, test: &Dataset, teacher: Option<Checkpoint>) -> Result<Self> {
        check_dataset(config.dataset, "training set", train)?;
        check_dataset(config.dataset, "test set", test)?;
        let batch = (config.batch_size as usize).max(1);
        let steps_per_epoch = (train.count / batch).max(1) as u64;
        // Field-by-field validation first, so a bad value is reported before any data mismatch.
        let schedule = config.schedule(steps_per_epoch)?;
        if batch > train.count {
            return Err(Error::config("batch_size", format!("{batch} is larger than the training set ({} images)", train.count)));
        }
        let graph = config.graph(batch)?;
        let params = graph.init_params(config.seed);
        let net = GpuNet::new(&ctx, graph, &params)?;
        let teacher = match teacher {
            None => None,
            Some(t) => {
                if t.config.dataset != config.dataset {
                    return Err(Error::config("teacher", format!("the teacher was trained on {}, this run uses {}", t.config.dataset, config.dataset)));
                }
                let g = t.config.graph(batch)?;
                let net = GpuNet::new(&ctx, g, &t.params)?;
                net.set_running(&ctx, &t.running)?;
                Some(net)
            }
        };
        let step = GpuStep::new(&ctx, net, teacher, &StepOptions::from_config(&config))?;

        let (c, h, w) = config.dataset.image_shape();
        let classes = config.dataset.classes();
        let norm = config.dataset.normalization();
        let pad = if config.augmentation { CROP_PAD } else { 0 };
        let train_shape = BatchShape { batch, channels: c, height: h, width: w, classes, pad, norm, smoothing: config.label_smoothing };
        let test_shape = BatchShape { pad: 0, smoothing: 0.0, ..train_shape };
        let train_data = GpuDataset::upload(&ctx, "training set", &train.view(), None)?;
        let test_data = GpuDataset::upload(&ctx, "test set", &test.view(), None)?;
        let train_batch = BatchAssembler::new(&ctx, "train batch", &train_data, &train_shape)?;
        let test_batch = BatchAssembler::new(&ctx, "test batch", &test_data, &test_shape)?;
        let feed = |a: &BatchAssembler| -> Result<Vec<Dispatch>> {
            Ok(vec![
                elementwise::copy(&ctx, &a.x, step.net.input())?,
                elementwise::copy(&ctx, &a.targets, &step.targets)?,
                elementwise::copy(&ctx, &a.labels, &step.labels)?,
            ])
        };
        let feed_train = feed(&train_batch)?;
        let feed_test = feed(&test_batch)?;
        let eval_metrics = ctx.zeros("test metrics", &[3])?;
        let eval_loss = loss::softmax_cross_entropy(&ctx, &LossShape { batch, classes }, step.net.logits(), &step.targets, &step.labels, step.net.dlogits(), &eval_metrics)?;
        let rng = Rng::new(config.seed ^ 0x5EED);
        Ok(Trainer {
            schedule,
            steps_per_epoch,
            train_count: train.count,
            test_count: test.count,
            step,
            train_batch,
            test_batch,
            feed_train,
            feed_test,
            eval_loss,
            eval_metrics,
            rng,
            order: (0..train.count as u32).collect(),
            epoch: 0,
            step_in_epoch: 0,
            global_step: 0,
            epoch_started_s: crate::clock::now_s(),
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
        let pad = self.train_batch.shape().pad;
        let flip = self.config.augmentation;
        let aug: Vec<AugParams> = (0..b).map(|_| if pad > 0 || flip { AugParams::random(&mut self.rng, pad, flip) } else { AugParams::identity(pad) }).collect();
        let lambda = mixup_lambda(&mut self.rng, self.config.mixup_alpha, self.epoch, self.config.epochs, self.config.mixup_off_epochs)?;
        self.train_batch.write_step(&self.ctx, ids, &aug, lambda)?;
        self.step.set_lr(&self.ctx, self.lr())?;
        let mut all: Vec<&Dispatch> = self.train_batch.dispatches().iter().collect();
        all.extend(self.feed_train.iter());
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

    /// Mean loss and accuracy of the current epoch so far (waits for the submitted steps). A
    /// non-finite loss stops the run with `Error::Diverged`.
    pub async fn progress(&self) -> Result<Progress> {
        let m = self.ctx.read(&self.step.metrics).await?;
        let n = m[2].max(1.0);
        let loss = m[0] / n;
        if !loss.is_finite() {
            return Err(Error::Diverged { step: self.global_step, loss });
        }
        Ok(Progress { epoch: self.epoch, step: self.step_in_epoch, global_step: self.global_step, lr: self.lr(), loss, acc: m[1] / n })
    }

    /// Test-set loss and accuracy with the running BN statistics, in fixed-size batches (the last
    /// one padded; padding rows have zero targets and never count as correct).
    pub async fn evaluate(&mut self) -> Result<(f32, f32)> {
        self.ctx.write(&self.eval_metrics, &[0.0; 3])?;
        let b = self.config.batch_size as usize;
        let mut start = 0;
        while start < self.test_count {
            let end = (start + b).min(self.test_count);
            let ids: Vec<u32> = (start as u32..end as u32).collect();
            let aug = vec![AugParams::identity(0); ids.len()];
            self.test_batch.write_step(&self.ctx, &ids, &aug, 1.0)?;
            let mut all: Vec<&Dispatch> = self.test_batch.dispatches().iter().collect();
            all.extend(self.feed_test.iter());
            all.extend(self.step.net.forward_eval.iter());
            all.extend(self.eval_loss.iter());
            self.ctx.submit(&all)?;
            start = end;
        }
        let m = self.ctx.read(&self.eval_metrics).await?;
        let n = self.test_count as f32;
        Ok((m[0] / n, m[1] / n))
    }

    /// Runs the rest of the current epoch and evaluates it. `on_progress` is called every
    /// `report_every` steps with the epoch so far (each call waits for the GPU to catch up).
    pub async fn run_epoch(&mut self, report_every: u64, mut on_progress: impl FnMut(&Progress)) -> Result<EpochReport> {
        let epoch = self.epoch;
        let lr = self.lr();
        loop {
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
                        lr,
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
