//! Where a run's steps compute: on the GPU as prepared WGSL dispatches (`gpu.rs`), or on the CPU
//! reference (`cpu.rs`: the page's fallback where WebGPU offers no adapter, and `tricklab train
//! --cpu`). The trainer owns everything a run decides (the epoch, the seeded shuffle, each step's
//! crops, flips and mixup λ, the rate) and hands one step's sample ids and draws to its backend,
//! so both backends train on the same batches and give the same numbers within the reference
//! tolerance. A backend assembles the batch (`gpu::batch` or `reference::batch`, one semantics),
//! steps, keeps the running loss and accuracy sums, evaluates, and gives its weights back.

mod cpu;
mod gpu;

use std::rc::Rc;

use super::checkpoint::Checkpoint;
use super::config::TrainConfig;
use super::step::Sums;
use super::split::{LastBatch, Split, CROP_PAD};
use crate::data::Dataset;
use crate::gpu::GpuContext;
use crate::nn::graph::Graph;
use super::team::Team;
use crate::ops::batch::{AugParams, BatchShape};
use crate::{Error, Result};

/// What a run computes on: a GPU context (which several runs may share), the CPU reference, or
/// the CPU reference over a team of workers that share each batch (`train::team`).
#[derive(Clone)]
pub enum Device {
    Gpu(Rc<GpuContext>),
    Cpu,
    Team(Rc<Team>),
}

/// How the page and the CLI name the CPU reference backend.
pub const CPU_DESCRIPTION: &str = "the CPU (tricklab's reference ops, no GPU)";

impl Device {
    /// The adapter, or the CPU, in words.
    pub fn describe(&self) -> String {
        match self {
            Device::Gpu(ctx) => ctx.describe(),
            Device::Cpu => CPU_DESCRIPTION.into(),
            Device::Team(team) => team.describe(),
        }
    }

    pub fn is_cpu(&self) -> bool {
        matches!(self, Device::Cpu | Device::Team(_))
    }
}

/// A test or evaluation pass over a whole split.
pub struct Evaluation {
    pub loss: f32,
    pub acc: f32,
    /// `[count, classes]`, when asked for.
    pub logits: Option<Vec<f32>>,
}

/// The batch shapes of the training stream (crop and flip when the config augments, smoothed
/// targets) and of the evaluation streams (neither).
pub fn batch_shapes(config: &TrainConfig) -> (BatchShape, BatchShape) {
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

/// Ids `start..end` of a split, cut into batches of at most `batch` (the last one may be short).
pub fn batches(start: usize, end: usize, batch: usize) -> impl Iterator<Item = Vec<u32>> {
    (start..end).step_by(batch.max(1)).map(move |s| (s as u32..(s + batch).min(end) as u32).collect())
}

/// One run's backend, built once for its config and data.
pub enum Backend {
    Gpu(Box<gpu::GpuBackend>),
    Cpu(Box<cpu::CpuBackend>),
}

impl Backend {
    /// Builds the run's model (seeded initial weights), optimizer and data on `device`, with the
    /// eval-mode `teacher` when distilling (rebuilt at this batch size; it must have been trained
    /// on the same dataset).
    pub fn new(device: &Device, config: &TrainConfig, train: &Dataset, test: &Dataset, teacher: Option<Checkpoint>) -> Result<Self> {
        if let Some(t) = &teacher {
            if t.config.dataset != config.dataset {
                return Err(Error::config("teacher", format!("the teacher was trained on {}, this run uses {}", t.config.dataset, config.dataset)));
            }
        }
        Ok(match device {
            Device::Gpu(ctx) => Backend::Gpu(Box::new(gpu::GpuBackend::new(ctx.clone(), config, train, test, teacher)?)),
            Device::Cpu => Backend::Cpu(Box::new(cpu::CpuBackend::new(config, train, test, teacher, None)?)),
            Device::Team(team) => Backend::Cpu(Box::new(cpu::CpuBackend::new(config, train, test, teacher, Some(team))?)),
        })
    }

    pub fn device(&self) -> Device {
        match self {
            Backend::Gpu(g) => Device::Gpu(g.ctx.clone()),
            Backend::Cpu(c) => c.device(),
        }
    }

    pub fn graph(&self) -> &Graph {
        match self {
            Backend::Gpu(g) => &g.step.net.graph,
            Backend::Cpu(c) => &c.step().net.graph,
        }
    }

    /// Zeroes the training loss and accuracy sums (at the start of each epoch).
    pub fn reset_sums(&mut self) -> Result<()> {
        match self {
            Backend::Gpu(g) => g.reset_sums(),
            Backend::Cpu(c) => c.reset_sums(),
        }
    }

    /// One training step on the samples `ids` with their crops and flips, mixup weight and rate.
    pub fn train_step(&mut self, ids: &[u32], aug: &[AugParams], lambda: f32, lr: f32) -> Result<()> {
        match self {
            Backend::Gpu(g) => g.train_step(ids, aug, lambda, lr),
            Backend::Cpu(c) => c.train_step(ids, aug, lambda, lr),
        }
    }

    /// The loss and accuracy sums since the last reset (waits for the GPU).
    pub async fn sums(&self) -> Result<Sums> {
        match self {
            Backend::Gpu(g) => g.sums().await,
            Backend::Cpu(c) => Ok(c.sums),
        }
    }

    /// Training forwards over clean batches, the k-th (from 0) with BN momentum 1/(k+1), which
    /// sets each running statistic to its average over the batches (see `Trainer::evaluate_on`).
    pub fn recalibrate(&mut self, batches: &[Vec<u32>]) -> Result<()> {
        match self {
            Backend::Gpu(g) => g.recalibrate(batches),
            Backend::Cpu(c) => c.recalibrate(batches),
        }
    }

    /// Loss and accuracy over the first `count` images of a split (clean, in the order stored), with
    /// the running BN statistics; each image's logits too when `keep_logits`.
    pub async fn evaluate(&mut self, split: Split, count: usize, keep_logits: bool) -> Result<Evaluation> {
        match self {
            Backend::Gpu(g) => g.evaluate(split, count, keep_logits).await,
            Backend::Cpu(c) => c.evaluate(split, count, keep_logits),
        }
    }

    /// The weights and running statistics now.
    pub async fn checkpoint(&self, config: &TrainConfig) -> Result<Checkpoint> {
        match self {
            Backend::Gpu(g) => g.checkpoint(config).await,
            Backend::Cpu(c) => Ok(c.checkpoint(config)),
        }
    }

    /// The last training batch as the network received it (`lambda` is the step's).
    pub async fn last_batch(&self, lambda: f32) -> Result<LastBatch> {
        match self {
            Backend::Gpu(g) => g.last_batch(lambda).await,
            Backend::Cpu(c) => c.last_batch(lambda),
        }
    }

    /// The GPU context, on the GPU.
    pub fn gpu(&self) -> Option<&GpuContext> {
        match self {
            Backend::Gpu(g) => Some(&g.ctx),
            Backend::Cpu(_) => None,
        }
    }
}
