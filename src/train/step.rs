//! One training step, twice: on the GPU as prepared dispatches (forward, loss, backward, SGD for
//! every parameter, recorded into one submit; the learning rate is a 1-element tensor written
//! each step) and on the CPU reference, so the two can be compared after any number of steps.
//! Distillation runs the teacher's eval-mode forward on the same batch first.

use crate::gpu::{elementwise, loss, sgd, Dispatch, GpuContext, Tensor};
use crate::nn::cpu::CpuNet;
use crate::nn::gpu::GpuNet;
use crate::nn::graph::{Graph, ParamSpec};
use crate::ops::loss::{DistillShape, LossShape};
use crate::ops::sgd::SgdParams;
use crate::reference;
use crate::train::checkpoint::Checkpoint;
use crate::train::TrainConfig;
use crate::Result;

/// The optimizer and loss settings a step needs (taken from the config).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepOptions {
    pub momentum: f32,
    pub nesterov: bool,
    pub weight_decay: f32,
    /// "No bias decay": biases and BN γ/β get no weight decay.
    pub no_wd: bool,
    /// Distillation temperature and hard-label weight, used when a teacher is given.
    pub temperature: f32,
    pub hard_weight: f32,
}

impl StepOptions {
    /// The settings `config` trains with.
    pub fn from_config(config: &TrainConfig) -> Self {
        StepOptions {
            momentum: config.momentum as f32,
            nesterov: config.nesterov,
            weight_decay: config.weight_decay as f32,
            no_wd: config.no_wd,
            temperature: config.temperature as f32,
            hard_weight: config.hard_weight as f32,
        }
    }

    /// The SGD settings of one parameter tensor: no_wd is simply a second parameter group.
    pub fn sgd_for(&self, spec: &ParamSpec) -> SgdParams {
        let decay = if self.no_wd && !spec.is_weight { 0.0 } else { self.weight_decay };
        SgdParams { len: spec.len(), momentum: self.momentum, weight_decay: decay, nesterov: self.nesterov }
    }
}

/// The running sums a loss pass accumulates into its metrics tensor since they were last reset.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct Sums {
    /// Σ per-sample loss.
    pub loss: f64,
    /// Σ samples counted correct.
    pub correct: f64,
    /// Σ samples.
    pub samples: f64,
}

impl Sums {
    /// Reads a `[3]` metrics tensor.
    pub async fn read(ctx: &GpuContext, metrics: &Tensor) -> Result<Sums> {
        let m = ctx.read(metrics).await?;
        Ok(Sums { loss: m[0] as f64, correct: m[1] as f64, samples: m[2] as f64 })
    }

    /// Mean loss and accuracy over everything summed.
    pub fn means(&self) -> (f32, f32) {
        let n = self.samples.max(1.0);
        ((self.loss / n) as f32, (self.correct / n) as f32)
    }

    /// The mean loss of what was added since `earlier` (an earlier reading of the same sums).
    pub fn mean_loss_since(&self, earlier: &Sums) -> f32 {
        ((self.loss - earlier.loss) / (self.samples - earlier.samples).max(1.0)) as f32
    }
}

/// A teacher must take the student's images and predict its classes.
pub fn check_teacher(teacher: &Graph, student: &Graph) -> Result<()> {
    if teacher.classes != student.classes || teacher.input_shape() != student.input_shape() {
        return Err(crate::Error::config(
            "teacher",
            format!(
                "the teacher takes {:?} and predicts {} classes, but the student takes {:?} and predicts {}",
                teacher.input_shape(),
                teacher.classes,
                student.input_shape(),
                student.classes
            ),
        ));
    }
    Ok(())
}

/// The GPU step. Write the batch into `net.input()`, `targets` and `labels`, the learning rate
/// with `set_lr`, then submit `dispatches()`. `metrics` accumulates (Σ loss, Σ correct, count).
pub struct GpuStep {
    pub net: GpuNet,
    pub teacher: Option<GpuNet>,
    pub targets: Tensor,
    pub labels: Tensor,
    pub lr: Tensor,
    pub metrics: Tensor,
    pub velocity: Vec<Tensor>,
    teacher_feed: Vec<Dispatch>,
    loss: Vec<Dispatch>,
    update: Vec<Dispatch>,
}

impl GpuStep {
    pub fn new(ctx: &GpuContext, net: GpuNet, teacher: Option<GpuNet>, o: &StepOptions) -> Result<Self> {
        let g = &net.graph;
        let (batch, classes) = (g.batch, g.classes);
        let targets = ctx.zeros("batch targets", &[batch, classes])?;
        let labels = ctx.zeros("batch labels", &[batch])?;
        let lr = ctx.tensor("learning rate", &[1], &[0.0])?;
        let metrics = ctx.zeros("train metrics", &[3])?;
        let velocity: Vec<Tensor> = g.params.iter().map(|p| ctx.zeros(format!("{}.velocity", p.name), &p.shape)).collect::<Result<_>>()?;
        let mut teacher_feed = Vec::new();
        let loss = match &teacher {
            None => loss::softmax_cross_entropy(ctx, &LossShape { batch, classes }, net.logits(), &targets, &labels, net.dlogits(), &metrics)?,
            Some(t) => {
                check_teacher(&t.graph, g)?;
                teacher_feed.push(elementwise::copy(ctx, net.input(), t.input())?);
                let s = DistillShape { batch, classes, temperature: o.temperature, hard_weight: o.hard_weight };
                loss::distillation(ctx, &s, net.logits(), t.logits(), &targets, &labels, net.dlogits(), &metrics)?
            }
        };
        let update = g
            .params
            .iter()
            .enumerate()
            .map(|(i, spec)| sgd::step(ctx, &o.sgd_for(spec), &lr, &net.params[i], &net.grads[i], &velocity[i]))
            .collect::<Result<_>>()?;
        Ok(GpuStep { net, teacher, targets, labels, lr, metrics, velocity, teacher_feed, loss, update })
    }

    pub fn set_lr(&self, ctx: &GpuContext, lr: f32) -> Result<()> {
        ctx.write(&self.lr, &[lr])
    }

    /// Everything one training step records, in order.
    pub fn dispatches(&self) -> Vec<&Dispatch> {
        let teacher = self.teacher.iter().flat_map(|t| t.forward_eval.iter());
        self.net
            .forward_train
            .iter()
            .chain(self.teacher_feed.iter())
            .chain(teacher)
            .chain(self.loss.iter())
            .chain(self.net.backward.iter())
            .chain(self.update.iter())
            .collect()
    }
}

/// The same step on the CPU reference.
pub struct CpuStep {
    pub net: CpuNet,
    pub teacher: Option<CpuNet>,
    pub velocity: Vec<Vec<f32>>,
    pub options: StepOptions,
}

impl CpuStep {
    pub fn new(graph: Graph, params: Vec<Vec<f32>>, teacher: Option<CpuNet>, options: StepOptions) -> Self {
        let velocity = params.iter().map(|p| vec![0.0; p.len()]).collect();
        CpuStep { net: CpuNet::new(graph, params), teacher, velocity, options }
    }

    /// The step of a run: `graph` from `params`, with the teacher's eval-mode net (its running
    /// statistics loaded) when distilling, checked like the GPU step's.
    pub fn with_teacher(graph: Graph, params: Vec<Vec<f32>>, teacher: Option<(Graph, &Checkpoint)>, options: StepOptions) -> Result<Self> {
        let teacher = match teacher {
            None => None,
            Some((g, t)) => {
                check_teacher(&g, &graph)?;
                let mut net = CpuNet::new(g, t.params.clone());
                net.running = t.running.clone();
                Some(net)
            }
        };
        Ok(CpuStep::new(graph, params, teacher, options))
    }

    /// One step on (x, targets, labels); returns (mean loss, correct count).
    pub fn step(&mut self, x: &[f32], targets: &[f32], labels: &[f32], lr: f32) -> Result<(f32, usize)> {
        self.forward(x)?;
        self.finish(x, targets, labels, lr)
    }

    /// The step's training forward (batch statistics; updates the running ones).
    pub fn forward(&mut self, x: &[f32]) -> Result<()> {
        self.net.forward(x, true).map(|_| ())
    }

    /// The rest of the step from the activations `forward` left in `net` (which a test may replace
    /// with another implementation's, to compare backward passes from one forward state): loss,
    /// backward and the SGD update.
    pub fn finish(&mut self, x: &[f32], targets: &[f32], labels: &[f32], lr: f32) -> Result<(f32, usize)> {
        let (batch, classes) = (self.net.graph.batch, self.net.graph.classes);
        let logits = self.net.acts[self.net.graph.output()].clone();
        let (loss, correct, mut dlogits) = match &mut self.teacher {
            None => reference::loss::softmax_cross_entropy(&LossShape { batch, classes }, &logits, targets, labels)?,
            Some(t) => {
                let teacher_logits = t.forward(x, false)?.to_vec();
                let s = DistillShape { batch, classes, temperature: self.options.temperature, hard_weight: self.options.hard_weight };
                reference::loss::distillation(&s, &logits, &teacher_logits, targets, labels)?
            }
        };
        let (loss, correct) = self.whole_batch(batch, loss, correct, &mut dlogits)?;
        self.net.backward(&dlogits)?;
        self.sum_gradients()?;
        for (i, spec) in self.net.graph.params.iter().enumerate() {
            let p = self.options.sgd_for(spec);
            reference::sgd::step(&p, lr, &mut self.net.params[i], &self.net.grads[i], &mut self.velocity[i])?;
        }
        Ok((loss, correct))
    }

    /// With the batch shared by several workers (`reference::sync`): the whole batch's mean loss
    /// and correct count from this worker's `rows`, and its logit gradients rescaled from its rows'
    /// mean to the whole batch's. Alone, everything is already the batch's.
    fn whole_batch(&mut self, rows: usize, loss: f32, correct: usize, dlogits: &mut [f32]) -> Result<(f32, usize)> {
        if self.net.reduce.workers() == 1 {
            return Ok((loss, correct));
        }
        let mut sums = [rows as f64, loss as f64 * rows as f64, correct as f64];
        self.net.reduce.sum_f64(&mut sums)?;
        let scale = (rows as f64 / sums[0]) as f32;
        dlogits.iter_mut().for_each(|g| *g *= scale);
        Ok(((sums[1] / sums[0]) as f32, sums[2].round() as usize))
    }

    /// Sums every parameter gradient over the workers sharing the batch, in one exchange.
    fn sum_gradients(&mut self) -> Result<()> {
        if self.net.reduce.workers() == 1 {
            return Ok(());
        }
        let mut flat = self.net.grads.concat();
        self.net.reduce.sum_f32(&mut flat)?;
        let mut at = 0;
        for g in &mut self.net.grads {
            let len = g.len();
            g.copy_from_slice(&flat[at..at + len]);
            at += len;
        }
        Ok(())
    }
}
