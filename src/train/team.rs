//! Data-parallel training on the CPU over a team of workers (threads natively, Web Workers in the
//! page). The run's leader (worker 0, the one that owns the `Trainer`) assembles each batch, hands
//! it to the team (`Crew::send`), then computes its own rows; every worker computes its rows of the
//! batch on its own copy of the network (`Shard`), and the copies meet in `reference::sync::Reduce`
//! for each batch norm's statistics, the loss and the gradients, so every copy takes the same SGD
//! step and the trained numbers are those of one worker within float rounding.
//!
//! Several runs may share one team (a lesson's arms step in turn): each has its own `net` id, and
//! the other workers keep one `Shard` per open net (`Helper`).

use std::cell::Cell;
use std::collections::BTreeMap;

use super::checkpoint::Checkpoint;
use super::config::TrainConfig;
use super::step::{CpuStep, StepOptions};
use crate::reference::sync::{rows, Reduce};
use crate::{Error, Result};

/// One piece of work on a whole batch (every worker takes its own rows of it).
pub enum Work<'a> {
    /// A training step: forward, loss, backward and SGD at rate `lr`.
    Train { x: &'a [f32], targets: &'a [f32], labels: &'a [f32], lr: f32 },
    /// A training forward whose batch norms move their running statistics by `momentum`.
    Recalibrate { x: &'a [f32], momentum: f32 },
    /// An evaluation forward: the logits of the whole batch, on every worker.
    Evaluate { x: &'a [f32] },
}

impl Work<'_> {
    /// The kind as a number, for a crew that sends work as plain values (the page's workers).
    pub fn kind(&self) -> u32 {
        match self {
            Work::Train { .. } => 0,
            Work::Recalibrate { .. } => 1,
            Work::Evaluate { .. } => 2,
        }
    }

    /// The work of `kind` from its plain values (`scalar`: the rate or the momentum).
    pub fn from_parts<'a>(kind: u32, x: &'a [f32], targets: &'a [f32], labels: &'a [f32], scalar: f32) -> Result<Work<'a>> {
        Ok(match kind {
            0 => Work::Train { x, targets, labels, lr: scalar },
            1 => Work::Recalibrate { x, momentum: scalar },
            2 => Work::Evaluate { x },
            k => return Err(Error::config("workers", format!("unknown kind of work {k}"))),
        })
    }

    /// The batch, its targets and labels (empty where the work has none) and its scalar.
    pub fn parts(&self) -> (&[f32], &[f32], &[f32], f32) {
        match *self {
            Work::Train { x, targets, labels, lr } => (x, targets, labels, lr),
            Work::Recalibrate { x, momentum } => (x, &[], &[], momentum),
            Work::Evaluate { x } => (x, &[], &[], 0.0),
        }
    }
}

/// What a worker's share of some work gives back.
pub enum Done {
    /// The whole batch's mean loss and correct count.
    Trained { loss: f32, correct: usize },
    /// The whole batch's logits.
    Logits(Vec<f32>),
    Recalibrated,
}

/// The leader's handle on the other workers of its team.
pub trait Crew {
    /// How many workers in all, the leader included.
    fn workers(&self) -> usize;
    /// The leader's own side of the team's sums.
    fn leader_reduce(&self) -> Box<dyn Reduce>;
    /// Every other worker builds its `Shard` of a run (initial weights from the config's seed).
    fn open(&self, net: u32, config: &TrainConfig, teacher: Option<&Checkpoint>) -> Result<()>;
    /// Every other worker does its share of `work` on run `net`.
    fn send(&self, net: u32, work: &Work) -> Result<()>;
    /// Every other worker drops its `Shard` of run `net`.
    fn close(&self, net: u32);
    /// The leader failed in the middle of some work: the other workers stop waiting for it. The
    /// team's sums fail from then on.
    fn fail(&self, why: &str);
}

/// A team of CPU workers that runs share.
pub struct Team {
    crew: Box<dyn Crew>,
    next: Cell<u32>,
}

impl Team {
    pub fn new(crew: Box<dyn Crew>) -> Self {
        Team { crew, next: Cell::new(1) }
    }

    pub fn workers(&self) -> usize {
        self.crew.workers()
    }

    /// The CPU backend's words for this team.
    pub fn describe(&self) -> String {
        format!("the CPU, {} workers (tricklab's reference ops, no GPU)", self.workers())
    }

    /// Opens a run on the team and gives the leader's `Shard` of it with the run's id, or `None`
    /// where the batch has fewer rows than the team has workers (the leader then trains alone).
    pub fn open(&self, config: &TrainConfig, teacher: Option<&Checkpoint>) -> Result<Option<(u32, Shard)>> {
        let workers = self.workers();
        if (config.batch_size as usize) < workers {
            return Ok(None);
        }
        let net = self.next.get();
        self.next.set(net + 1);
        self.crew.open(net, config, teacher)?;
        let shard = Shard::new(config, teacher, 0, workers, self.crew.leader_reduce())?;
        Ok(Some((net, shard)))
    }

    pub fn send(&self, net: u32, work: &Work) -> Result<()> {
        self.crew.send(net, work)
    }

    pub fn close(&self, net: u32) {
        self.crew.close(net)
    }

    pub fn fail(&self, why: &str) {
        self.crew.fail(why)
    }
}

/// One worker's copy of a run's network, for its rows of each batch.
pub struct Shard {
    pub step: CpuStep,
    rank: usize,
    workers: usize,
    batch: usize,
}

impl Shard {
    /// Worker `rank`'s copy of the run of `config`: its network built for its rows of the batch,
    /// the run's seeded initial weights, the teacher when distilling, and `reduce` for the sums.
    pub fn new(config: &TrainConfig, teacher: Option<&Checkpoint>, rank: usize, workers: usize, reduce: Box<dyn Reduce>) -> Result<Self> {
        let batch = config.batch_size as usize;
        let mine = rows(batch, rank, workers).len();
        if mine == 0 {
            return Err(Error::config("workers", format!("a batch of {batch} cannot be shared by {workers} workers")));
        }
        let graph = config.graph(mine)?;
        let params = graph.init_params(config.seed);
        let teacher = match teacher {
            None => None,
            Some(t) => Some((t.config.graph(mine)?, t)),
        };
        let mut step = CpuStep::with_teacher(graph, params, teacher, StepOptions::from_config(config))?;
        step.net.reduce = reduce;
        Ok(Shard { step, rank, workers, batch })
    }

    /// This worker's share of `work`: its rows of the batch; every worker gets the same result.
    pub fn work(&mut self, work: &Work) -> Result<Done> {
        let r = rows(self.batch, self.rank, self.workers);
        let (x, _, _, _) = work.parts();
        let image = x.len() / self.batch;
        let classes = self.step.net.graph.classes;
        let xs = x.get(r.start * image..r.end * image).ok_or_else(|| short("x", x.len()))?;
        Ok(match *work {
            Work::Train { targets, labels, lr, .. } => {
                let ts = targets.get(r.start * classes..r.end * classes).ok_or_else(|| short("targets", targets.len()))?;
                let ls = labels.get(r.clone()).ok_or_else(|| short("labels", labels.len()))?;
                let (loss, correct) = self.step.step(xs, ts, ls, lr)?;
                Done::Trained { loss, correct }
            }
            Work::Recalibrate { momentum, .. } => {
                self.step.net.forward_recalibrate(xs, momentum)?;
                Done::Recalibrated
            }
            Work::Evaluate { .. } => {
                let z = self.step.net.forward(xs, false)?;
                if self.workers == 1 {
                    return Ok(Done::Logits(z.to_vec()));
                }
                let mut all = vec![0.0; self.batch * classes];
                all[r.start * classes..r.end * classes].copy_from_slice(z);
                self.step.net.reduce.sum_f32(&mut all)?;
                Done::Logits(all)
            }
        })
    }
}

fn short(what: &str, len: usize) -> Error {
    Error::config("workers", format!("the team's batch {what} ({len} values) is too short for this worker's rows"))
}

/// A worker other than the leader: its copy of every open run, and how it sums with the team.
pub struct Helper {
    rank: usize,
    workers: usize,
    shards: BTreeMap<u32, Shard>,
    reducer: Box<dyn Fn() -> Box<dyn Reduce>>,
}

impl Helper {
    /// Worker `rank` (1 or more) of `workers`; `reducer` gives the worker's side of the team's sums.
    pub fn new(rank: usize, workers: usize, reducer: Box<dyn Fn() -> Box<dyn Reduce>>) -> Self {
        Helper { rank, workers, shards: BTreeMap::new(), reducer }
    }

    pub fn open(&mut self, net: u32, config: &TrainConfig, teacher: Option<&Checkpoint>) -> Result<()> {
        let shard = Shard::new(config, teacher, self.rank, self.workers, (self.reducer)())?;
        self.shards.insert(net, shard);
        Ok(())
    }

    pub fn work(&mut self, net: u32, work: &Work) -> Result<()> {
        let shard = self.shards.get_mut(&net).ok_or_else(|| Error::config("workers", format!("worker {} has no run {net}", self.rank)))?;
        shard.work(work).map(|_| ())
    }

    pub fn close(&mut self, net: u32) {
        self.shards.remove(&net);
    }
}
