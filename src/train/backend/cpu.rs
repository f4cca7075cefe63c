//! The CPU backend: the same run on tricklab's reference ops (`reference::batch::assemble` for the
//! batch, `CpuStep` for forward, loss, backward and SGD), for a browser without WebGPU. It computes
//! each step when asked (there is no queue to wait for), so its sums are always current. On a
//! team of CPU workers (`train::team`) it is the leader: it assembles each batch, sends it to the
//! team and computes its own rows, the others theirs.

use super::{batch_shapes, Evaluation};
use crate::data::Dataset;
use crate::ops::batch::{AugParams, BatchShape};
use crate::ops::loss::LossShape;
use crate::reference::{self, batch::Batch};
use crate::train::checkpoint::Checkpoint;
use crate::train::config::TrainConfig;
use crate::reference::sync::Alone;
use crate::train::step::{CpuStep, Sums};
use crate::train::team::{Done, Shard, Team, Work};
use std::rc::Rc;
use crate::train::split::{LastBatch, Split};
use crate::Result;

pub struct CpuBackend {
    shard: Shard,
    /// The team and this run's id on it, when the batch is shared.
    team: Option<(Rc<Team>, u32)>,
    train: Dataset,
    test: Dataset,
    train_shape: BatchShape,
    eval_shape: BatchShape,
    pub sums: Sums,
    last: Option<Batch>,
}

impl CpuBackend {
    pub fn new(config: &TrainConfig, train: &Dataset, test: &Dataset, teacher: Option<Checkpoint>, team: Option<&Rc<Team>>) -> Result<Self> {
        let opened = match team {
            Some(t) => t.open(config, teacher.as_ref())?.map(|(net, shard)| (shard, Some((t.clone(), net)))),
            None => None,
        };
        let (shard, team) = match opened {
            Some(o) => o,
            None => (Shard::new(config, teacher.as_ref(), 0, 1, Box::new(Alone))?, None),
        };
        let (train_shape, eval_shape) = batch_shapes(config);
        Ok(CpuBackend { shard, team, train: train.clone(), test: test.clone(), train_shape, eval_shape, sums: Sums::default(), last: None })
    }

    pub fn step(&self) -> &CpuStep {
        &self.shard.step
    }

    /// The CPU, with the team when this run shares its batches.
    pub fn device(&self) -> super::Device {
        match &self.team {
            Some((team, _)) => super::Device::Team(team.clone()),
            None => super::Device::Cpu,
        }
    }

    /// How many CPU workers share each batch.
    pub fn workers(&self) -> usize {
        self.team.as_ref().map_or(1, |(t, _)| t.workers())
    }

    pub fn reset_sums(&mut self) -> Result<()> {
        self.sums = Sums::default();
        Ok(())
    }

    pub fn train_step(&mut self, ids: &[u32], aug: &[AugParams], lambda: f32, lr: f32) -> Result<()> {
        let d = &self.train;
        let b = reference::batch::assemble(&self.train_shape, &d.images, &d.labels, ids, aug, lambda)?;
        let work = Work::Train { x: &b.x, targets: &b.targets, labels: &b.labels, lr };
        let Done::Trained { loss, correct } = share(&mut self.shard, &self.team, &work)? else { unreachable!("a training step reports its loss") };
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
            share(&mut self.shard, &self.team, &Work::Recalibrate { x: &b.x, momentum: 1.0 / (k + 1) as f32 })?;
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
            let Done::Logits(z) = share(&mut self.shard, &self.team, &Work::Evaluate { x: &b.x })? else { unreachable!("an evaluation gives logits") };
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
        let net = &self.shard.step.net;
        Checkpoint { config: config.clone(), params: net.params.clone(), running: net.running.clone() }
    }

    pub fn last_batch(&self, lambda: f32) -> Result<LastBatch> {
        let b = self.last.as_ref().ok_or_else(|| crate::Error::config("epochs", "no training step has run yet"))?;
        Ok(LastBatch { x: b.x.clone(), targets: b.targets.clone(), labels: b.labels.clone(), lambda })
    }
}

impl Drop for CpuBackend {
    fn drop(&mut self) {
        if let Some((team, net)) = &self.team {
            team.close(*net);
        }
    }
}

/// The team's shares of `work`, then the leader's own; a failure stops the team's wait.
fn share(shard: &mut Shard, team: &Option<(Rc<Team>, u32)>, work: &Work) -> Result<Done> {
    if let Some((team, net)) = team {
        team.send(*net, work)?;
    }
    let done = shard.work(work);
    if let (Err(e), Some((team, _))) = (&done, team) {
        team.fail(&e.to_string());
    }
    done
}
