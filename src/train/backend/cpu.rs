//! The CPU backend: the same run on tricklab's reference ops (`reference::batch::assemble` for the
//! batch, `CpuStep` for forward, loss, backward and SGD), for a browser without WebGPU. It computes
//! each step when asked (there is no queue to wait for), so its sums are always current.

use super::{batch_shapes, Evaluation};
use crate::data::Dataset;
use crate::ops::batch::{AugParams, BatchShape};
use crate::ops::loss::LossShape;
use crate::reference::{self, batch::Batch};
use crate::train::checkpoint::Checkpoint;
use crate::train::config::TrainConfig;
use crate::train::step::{CpuStep, StepOptions, Sums};
use crate::train::split::{LastBatch, Split};
use crate::Result;

pub struct CpuBackend {
    pub step: CpuStep,
    train: Dataset,
    test: Dataset,
    train_shape: BatchShape,
    eval_shape: BatchShape,
    pub sums: Sums,
    last: Option<Batch>,
}

impl CpuBackend {
    pub fn new(config: &TrainConfig, train: &Dataset, test: &Dataset, teacher: Option<Checkpoint>) -> Result<Self> {
        let batch = config.batch_size as usize;
        let graph = config.graph(batch)?;
        let params = graph.init_params(config.seed);
        let teacher = match &teacher {
            None => None,
            Some(t) => Some((t.config.graph(batch)?, t)),
        };
        let step = CpuStep::with_teacher(graph, params, teacher, StepOptions::from_config(config))?;
        let (train_shape, eval_shape) = batch_shapes(config);
        Ok(CpuBackend { step, train: train.clone(), test: test.clone(), train_shape, eval_shape, sums: Sums::default(), last: None })
    }

    pub fn reset_sums(&mut self) -> Result<()> {
        self.sums = Sums::default();
        Ok(())
    }

    pub fn train_step(&mut self, ids: &[u32], aug: &[AugParams], lambda: f32, lr: f32) -> Result<()> {
        let d = &self.train;
        let b = reference::batch::assemble(&self.train_shape, &d.images, &d.labels, ids, aug, lambda)?;
        let (loss, correct) = self.step.step(&b.x, &b.targets, &b.labels, lr)?;
        let n = self.train_shape.batch as f64;
        self.sums.loss += loss as f64 * n;
        self.sums.correct += correct as f64;
        self.sums.samples += ids.len() as f64;
        self.last = Some(b);
        Ok(())
    }

    pub fn recalibrate(&mut self, batches: &[Vec<u32>]) -> Result<()> {
        for (k, ids) in batches.iter().enumerate() {
            let d = &self.train;
            let aug = vec![AugParams::identity(0); ids.len()];
            let b = reference::batch::assemble(&self.eval_shape, &d.images, &d.labels, ids, &aug, 1.0)?;
            self.step.net.forward_recalibrate(&b.x, 1.0 / (k + 1) as f32)?;
        }
        Ok(())
    }

    pub fn evaluate(&mut self, split: Split, count: usize, keep_logits: bool) -> Result<Evaluation> {
        let d = match split {
            Split::Train => &self.train,
            Split::Test => &self.test,
        };
        let s = &self.eval_shape;
        let classes = s.classes;
        let (mut loss, mut correct) = (0.0f64, 0usize);
        let mut logits = Vec::new();
        for ids in super::batches(0, count, s.batch) {
            let aug = vec![AugParams::identity(0); ids.len()];
            let b = reference::batch::assemble(s, &d.images, &d.labels, &ids, &aug, 1.0)?;
            let z = self.step.net.forward(&b.x, false)?;
            // The loss of the batch's images, not of the padding rows that fill a short last batch.
            let n = ids.len();
            let shape = LossShape { batch: n, classes };
            let (mean, right, _) = reference::loss::softmax_cross_entropy(&shape, &z[..n * classes], &b.targets[..n * classes], &b.labels[..n])?;
            loss += mean as f64 * n as f64;
            correct += right;
            if keep_logits {
                logits.extend_from_slice(&z[..n * classes]);
            }
        }
        let n = count as f64;
        Ok(Evaluation { loss: (loss / n) as f32, acc: (correct as f64 / n) as f32, logits: keep_logits.then_some(logits) })
    }

    pub fn checkpoint(&self, config: &TrainConfig) -> Checkpoint {
        Checkpoint { config: config.clone(), params: self.step.net.params.clone(), running: self.step.net.running.clone() }
    }

    pub fn last_batch(&self, lambda: f32) -> Result<LastBatch> {
        let b = self.last.as_ref().ok_or_else(|| crate::Error::config("epochs", "no training step has run yet"))?;
        Ok(LastBatch { x: b.x.clone(), targets: b.targets.clone(), labels: b.labels.clone(), lambda })
    }
}
