//! The training step that both benchmarks time: `tricklab bench-step` natively and the page's
//! `WebBench` in `cargo xtask bench-web`. One model's whole step (forward, loss, backward and the
//! SGD update with the dataset's default recipe: momentum 0.9, Nesterov, weight decay 1e-4) on
//! seeded random images of the size the model is built for (28×28×1 for mnist_resnet, 32×32×3 for
//! the CIFAR ResNets and MobileNetV2) and seeded random labels, built once.

use crate::data::DatasetKind;
use crate::gpu::{Dispatch, GpuContext};
use crate::nn::gpu::GpuNet;
use crate::nn::models::ModelKind;
use crate::ops::targets::one_hot;
use crate::rng::Rng;
use crate::train::step::{GpuStep, StepOptions};
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

impl StepBench {
    /// Builds `model`'s step at `batch` images and writes its random batch and rate once.
    pub fn new(ctx: &GpuContext, model: ModelKind, batch: usize) -> Result<Self> {
        let config = TrainConfig { model, ..TrainConfig::default_for(dataset_for(model)) };
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
