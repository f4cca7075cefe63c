//! The GPU backend: the datasets live on the GPU as bytes, and a step writes only a few small
//! buffers (sample ids, crop/flip offsets, mixup λ, the rate) and submits one command buffer of
//! prepared dispatches: batch assembly, forward, loss, backward and SGD. Metrics accumulate on the
//! GPU and are read back when asked for, never per step.

use std::rc::Rc;

use super::{batch_shapes, Evaluation};
use crate::data::Dataset;
use crate::gpu::batch::{BatchAssembler, GpuDataset};
use crate::gpu::{elementwise, loss, Dispatch, GpuContext, Tensor};
use crate::nn::gpu::GpuNet;
use crate::ops::batch::{AugParams, BatchShape};
use crate::ops::loss::LossShape;
use crate::train::checkpoint::Checkpoint;
use crate::train::config::TrainConfig;
use crate::train::step::{GpuStep, StepOptions, Sums};
use crate::train::split::{LastBatch, Split, RECALIBRATION_IMAGES};
use crate::Result;

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

pub struct GpuBackend {
    pub ctx: Rc<GpuContext>,
    pub step: GpuStep,
    train: Stream,
    test: Stream,
    /// The training set without augmentation or smoothed targets, for BN recalibration and the
    /// clean training-set evaluation.
    train_eval: Stream,
    /// Recalibration forwards with BN momenta 1, 1/2, 1/3, ... (one per clean batch).
    recalibrate: Vec<Vec<Dispatch>>,
    eval_loss: Vec<Dispatch>,
    eval_metrics: Tensor,
    _data: (GpuDataset, GpuDataset),
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
            let net = GpuNet::new(ctx, t.config.graph(batch)?, &t.params)?;
            net.set_running(ctx, &t.running)?;
            Some(net)
        }
    };
    GpuStep::new(ctx, net, teacher, &StepOptions::from_config(config))
}

impl GpuBackend {
    pub fn new(ctx: Rc<GpuContext>, config: &TrainConfig, train: &Dataset, test: &Dataset, teacher: Option<Checkpoint>) -> Result<Self> {
        let step = build_step(&ctx, config, teacher)?;
        let (train_shape, test_shape) = batch_shapes(config);
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
        Ok(GpuBackend {
            step,
            train: train_stream,
            test: test_stream,
            train_eval,
            recalibrate,
            eval_loss,
            eval_metrics,
            _data: (train_data, test_data),
            ctx,
        })
    }

    pub fn reset_sums(&mut self) -> Result<()> {
        self.ctx.write(&self.step.metrics, &[0.0; 3])
    }

    /// Writes the step's inputs and submits it (assembly, forward, loss, backward, SGD).
    pub fn train_step(&mut self, ids: &[u32], aug: &[AugParams], lambda: f32, lr: f32) -> Result<()> {
        self.train.batch.write_step(&self.ctx, ids, aug, lambda)?;
        self.step.set_lr(&self.ctx, lr)?;
        let mut all: Vec<&Dispatch> = self.train.dispatches().collect();
        all.extend(self.step.dispatches());
        self.ctx.submit(&all)
    }

    pub async fn sums(&self) -> Result<Sums> {
        Sums::read(&self.ctx, &self.step.metrics).await
    }

    pub fn recalibrate(&mut self, batches: &[Vec<u32>]) -> Result<()> {
        for (ids, forward) in batches.iter().zip(&self.recalibrate) {
            let aug = vec![AugParams::identity(0); ids.len()];
            self.train_eval.batch.write_step(&self.ctx, ids, &aug, 1.0)?;
            let all: Vec<&Dispatch> = self.train_eval.dispatches().chain(forward).collect();
            self.ctx.submit(&all)?;
        }
        Ok(())
    }

    /// Fixed-size batches (the last one padded; padding rows have zero targets and never count as
    /// correct), each submitted with the eval forward and the loss; the logits copied out per batch.
    pub async fn evaluate(&mut self, split: Split, count: usize, keep_logits: bool) -> Result<Evaluation> {
        self.ctx.write(&self.eval_metrics, &[0.0; 3])?;
        let stream = match split {
            Split::Train => &self.train_eval,
            Split::Test => &self.test,
        };
        let classes = self.step.net.graph.classes;
        let out = if keep_logits { Some(self.ctx.zeros("eval logits", &[count, classes])?) } else { None };
        let row_bytes = (classes * 4) as u64;
        for ids in super::batches(0, count, self.step.net.graph.batch) {
            let aug = vec![AugParams::identity(0); ids.len()];
            stream.batch.write_step(&self.ctx, &ids, &aug, 1.0)?;
            let mut all: Vec<&Dispatch> = stream.dispatches().collect();
            all.extend(self.step.net.forward_eval.iter());
            all.extend(self.eval_loss.iter());
            self.ctx.submit(&all)?;
            if let Some(out) = &out {
                self.ctx.copy(self.step.net.logits(), out, ids[0] as u64 * row_bytes, ids.len() as u64 * row_bytes)?;
            }
        }
        let m = self.ctx.read(&self.eval_metrics).await?;
        let logits = match &out {
            Some(t) => Some(self.ctx.read(t).await?),
            None => None,
        };
        let n = count as f32;
        Ok(Evaluation { loss: m[0] / n, acc: m[1] / n, logits })
    }

    pub async fn checkpoint(&self, config: &TrainConfig) -> Result<Checkpoint> {
        let mut params = Vec::new();
        for t in &self.step.net.params {
            params.push(self.ctx.read(t).await?);
        }
        let mut running = Vec::new();
        for (m, v) in &self.step.net.running {
            running.push((self.ctx.read(m).await?, self.ctx.read(v).await?));
        }
        Ok(Checkpoint { config: config.clone(), params, running })
    }

    pub async fn last_batch(&self, lambda: f32) -> Result<LastBatch> {
        let b = &self.train.batch;
        Ok(LastBatch { x: self.ctx.read(&b.x).await?, targets: self.ctx.read(&b.targets).await?, labels: self.ctx.read(&b.labels).await?, lambda })
    }
}
