//! The training step that both benchmarks time: `tricklab bench-step` natively and the page's
//! `WebBench` in `cargo xtask bench-web`. One model's whole step (forward, loss, backward and the
//! SGD update with the dataset's default recipe: momentum 0.9, Nesterov, weight decay 1e-4) on
//! seeded random images of the size the model is built for (28×28×1 for mnist_resnet, 32×32×3 for
//! the CIFAR ResNets and MobileNetV2) and seeded random labels, built once. And the page's probe
//! of how fast a config trains here (`probe_speed`), on either backend.

use crate::data::{Dataset, DatasetKind};
use crate::gpu::{Dispatch, GpuContext};
use crate::nn::gpu::GpuNet;
use crate::nn::models::ModelKind;
use crate::ops::targets::one_hot;
use crate::rng::Rng;
use crate::train::step::{GpuStep, StepOptions};
use crate::train::backend::Device;
use crate::train::trainer::Trainer;
use crate::train::TrainConfig;
use crate::Result;

/// The benchmark's learning rate (any small rate: the step's work does not depend on it).
const LR: f32 = 0.01;

pub struct StepBench {
    pub model: ModelKind,
    pub batch: usize,
    pub step: GpuStep,
    /// FLOPs of one step in GFLOP: 3 × forward (2 per multiply-add, conv and linear layers).
    pub gflop: f64,
}

/// The dataset whose images a model is benchmarked on.
pub fn dataset_for(model: ModelKind) -> DatasetKind {
    match model {
        ModelKind::MnistResnet => DatasetKind::Mnist,
        _ => DatasetKind::Cifar10,
    }
}

/// The recipe a benchmark step trains `model` with: the default of the dataset it is built for.
pub fn bench_config(model: ModelKind) -> TrainConfig {
    TrainConfig { model, ..TrainConfig::default_for(dataset_for(model)) }
}

impl StepBench {
    /// Builds `model`'s step at `batch` images and writes its random batch and rate once.
    pub fn new(ctx: &GpuContext, model: ModelKind, batch: usize) -> Result<Self> {
        let config = bench_config(model);
        let graph = config.graph(batch)?;
        let gflop = 3.0 * graph.forward_flops() / 1e9;
        let params = graph.init_params(7);
        let step = GpuStep::new(ctx, GpuNet::new(ctx, graph.clone(), &params)?, None, &StepOptions::from_config(&config))?;
        let mut rng = Rng::new(11);
        let labels: Vec<u8> = (0..batch).map(|_| rng.below(graph.classes) as u8).collect();
        ctx.write(step.net.input(), &rng.vec(graph.act_len(0), -1.0, 1.0))?;
        ctx.write(&step.targets, &one_hot(&labels, graph.classes)?)?;
        ctx.write(&step.labels, &labels.iter().map(|&l| l as f32).collect::<Vec<_>>())?;
        step.set_lr(ctx, LR)?;
        Ok(StepBench { model, batch, step, gflop })
    }

    /// One step's dispatches, in order (submit them as one).
    pub fn dispatches(&self) -> Vec<&Dispatch> {
        self.step.dispatches()
    }
}

/// Training steps timed for a probe: after one untimed step (pipelines compile, buffers settle).
const PROBE_STEPS: usize = 2;
/// The largest batch a probe steps (a default CPU step at batch 64 takes seconds in the browser).
const PROBE_BATCH: u32 = 16;

/// Images per second that `config`'s model trains at on `device`, from `PROBE_STEPS` timed steps
/// of at most `PROBE_BATCH` of `data`'s first images (after one untimed step): the page's estimate
/// of how long a run will take before it starts one.
pub async fn probe_speed(device: Device, config: &TrainConfig, data: &Dataset) -> Result<f64> {
    let config = probe_config(config);
    let batch = config.batch_size;
    let images = batch as usize * (PROBE_STEPS + 1);
    let train = data.slice(0, images.min(data.count))?;
    let test = data.slice(0, batch as usize)?;
    let mut t = Trainer::new(device, config, &train, &test, None)?;
    t.step()?;
    t.progress().await?;
    let started = crate::clock::now_s();
    for _ in 0..PROBE_STEPS {
        t.step()?;
    }
    t.progress().await?;
    let seconds = (crate::clock::now_s() - started).max(1e-3);
    Ok((PROBE_STEPS * batch as usize) as f64 / seconds)
}

/// The run a probe times: one short epoch of the same model and tricks at a batch of at most
/// `PROBE_BATCH` (a schedule that fits it; the rate does not change a step's work).
pub fn probe_config(config: &TrainConfig) -> TrainConfig {
    TrainConfig {
        batch_size: config.batch_size.min(PROBE_BATCH),
        epochs: 1,
        lr_decay_epochs: vec![],
        warmup_epochs: 0,
        warmup_steps: None,
        hold_epochs: 0,
        hold_steps: None,
        mixup_off_epochs: 0,
        teacher: None,
        ..config.clone()
    }
}
