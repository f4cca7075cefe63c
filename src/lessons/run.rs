//! `LessonRun`: trains a lesson's arms on one GPU context, one step of each arm in turn, so their
//! curves grow together (the page draws them as they come; the CLI runs the same loop). Every
//! step's loss is read back, so the early-loss measurements see every spike. At each epoch's end an
//! arm is evaluated (test set, parameter norms, and the clean training set when the lesson asks);
//! at its end it is evaluated on the whole test set with its logits kept for the views.
//!
//! A diverging arm (NaN loss) is an outcome, not an error: it stops, and its record says at which
//! step. Arms that teach another (distillation) run first, alone; the others start when they end.


use serde::Serialize;

use super::{Lesson, Metric};
use crate::data::Dataset;
use crate::inspect::analysis::{self, ParamNorms};
use crate::train::backend::Device;
use crate::inspect::views::{self, BatchPreview, FinalViews};
use crate::train::checkpoint::Checkpoint;
use crate::train::split::Split;
use crate::train::trainer::{Progress, Trainer};
use crate::train::TrainConfig;
use crate::{Error, Result};


/// How large a lesson runs: as defined, or tiny (a few steps per arm, for the page's tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    Full,
    Tiny,
}

/// An arm's evaluation at the end of an epoch.
#[derive(Debug, Clone, Serialize)]
pub struct EpochRecord {
    pub epoch: u32,
    pub train_loss: f32,
    pub train_acc: f32,
    pub test_loss: f32,
    pub test_acc: f32,
    /// Accuracy on the training subset without augmentation or mixup, when the lesson tracks it.
    pub train_clean_acc: Option<f32>,
    pub norms: ParamNorms,
}

/// Everything an arm has done so far.
#[derive(Debug, Clone, Serialize)]
pub struct ArmRecord {
    pub arm: usize,
    pub name: String,
    pub config: TrainConfig,
    pub steps_per_epoch: u64,
    pub total_steps: u64,
    /// Each step's mean training loss, and the rate it used.
    pub losses: Vec<f32>,
    pub lrs: Vec<f32>,
    /// The rate of every step as planned (the schedule).
    pub planned_lrs: Vec<f32>,
    pub epochs: Vec<EpochRecord>,
    /// The parameter norms before the first step (the seeded initial weights).
    pub start_norms: ParamNorms,
    pub diverged: Option<String>,
    pub images: u64,
    /// Seconds spent in this arm's steps (its evaluations excluded).
    pub train_seconds: f64,
    pub batch: Option<BatchPreview>,
    pub result: Option<FinalViews>,
}

impl ArmRecord {
    pub fn images_per_sec(&self) -> f64 {
        self.images as f64 / self.train_seconds.max(1e-9)
    }

    pub fn finished(&self) -> bool {
        self.result.is_some() || self.diverged.is_some()
    }
}

/// What one call of `LessonRun::step` did.
#[derive(Debug, Clone, Serialize)]
pub struct StepEvent {
    pub arm: usize,
    /// The arm's step (1-based) and its loss and rate; `None` when the step diverged.
    pub step: u64,
    pub loss: Option<f32>,
    pub lr: f32,
    /// The epoch the step finished, evaluated.
    pub epoch: Option<EpochRecord>,
    /// The arm is done (finished its epochs or diverged).
    pub finished: bool,
}

enum ArmState {
    Waiting,
    Running { trainer: Box<Trainer>, last: Option<Progress> },
    Done(Option<Box<Trainer>>),
}

pub struct LessonRun {
    pub lesson: Lesson,
    pub seed: u64,
    pub records: Vec<ArmRecord>,
    device: Device,
    train: Dataset,
    test: Dataset,
    states: Vec<ArmState>,
    /// The arm that steps next (round robin over the running ones).
    cursor: usize,
}

/// The lesson as it runs at `size`. Tiny keeps the arms and their tricks but checks the page, not
/// the effect: quarter-width models, batches of at most 64, two steps of the largest batch per
/// epoch, at most two epochs, 64 test images, with the warmup, hold, decay and mixup-off epochs
/// pulled in to fit.
pub fn sized(lesson: &Lesson, size: Size) -> Lesson {
    let mut l = lesson.clone();
    if size == Size::Full {
        return l;
    }
    const TINY_BATCH: u32 = 64;
    let batch = l.arms.iter().map(|a| a.config.batch_size.min(TINY_BATCH) as usize).max().unwrap_or(1);
    l.train_images = 2 * batch;
    l.test_images = 64;
    for arm in &mut l.arms {
        let c = &mut arm.config;
        c.batch_size = c.batch_size.min(TINY_BATCH);
        arm.train_images = arm.train_images.map(|n| n.clamp(c.batch_size as usize, l.train_images));
        c.width_mult = c.width_mult.min(0.25);
        c.epochs = c.epochs.min(2);
        let total = c.epochs as u64 * (l.train_images as u64 / c.batch_size as u64);
        c.warmup_steps = c.warmup_steps.map(|w| w.min(total / 2));
        c.hold_steps = c.hold_steps.map(|h| h.min(total / 4));
        c.warmup_epochs = c.warmup_epochs.min(c.epochs - 1);
        c.hold_epochs = 0;
        c.lr_decay_epochs.retain(|&e| e < c.epochs);
        c.mixup_off_epochs = c.mixup_off_epochs.min(c.epochs - 1);
    }
    if let Metric::EarlyLoss { steps } = &mut l.metric {
        *steps = (*steps).min(2);
    }
    l
}

impl LessonRun {
    /// Prepares `lesson` with `seed` on the first images of `train` and `test` on `device`; the
    /// arms that can start are built at once.
    pub fn new(device: Device, lesson: Lesson, seed: u64, train: &Dataset, test: &Dataset) -> Result<Self> {
        let take = |d: &Dataset, n: usize, what: &str| {
            if d.count < n {
                return Err(Error::data(what, format!("has {} images; the lesson `{}` needs {n}", d.count, lesson.id)));
            }
            d.slice(0, n)
        };
        let train = take(train, lesson.train_images, "training set")?;
        let test = take(test, lesson.test_images, "test set")?;
        let mut lesson = lesson;
        for arm in &mut lesson.arms {
            arm.config.seed = seed;
        }
        let records = lesson
            .arms
            .iter()
            .enumerate()
            .map(|(i, arm)| {
                let steps_per_epoch = (lesson.arm_images(arm) / arm.config.batch_size as usize) as u64;
                let schedule = arm.config.schedule(steps_per_epoch)?;
                let total_steps = arm.config.total_steps(steps_per_epoch);
                let (graph, initial) = Checkpoint::initial(&arm.config, arm.config.batch_size as usize)?;
                Ok(ArmRecord {
                    arm: i,
                    name: arm.name.clone(),
                    config: arm.config.clone(),
                    steps_per_epoch,
                    total_steps,
                    losses: Vec::new(),
                    lrs: Vec::new(),
                    planned_lrs: schedule.curve(total_steps.saturating_sub(1)),
                    epochs: Vec::new(),
                    start_norms: analysis::param_norms(&graph, &initial.params),
                    diverged: None,
                    images: 0,
                    train_seconds: 0.0,
                    batch: None,
                    result: None,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let states = lesson.arms.iter().map(|_| ArmState::Waiting).collect();
        let mut run = LessonRun { lesson, seed, records, device, train, test, states, cursor: 0 };
        run.start_first()?;
        Ok(run)
    }

    /// Builds the arms that need no trained teacher. When some arm teaches another, the teachers
    /// run first and alone, so that the students (with and without a teacher) start together.
    fn start_first(&mut self) -> Result<()> {
        let teachers: Vec<usize> = self.lesson.arms.iter().filter_map(|a| a.teacher).collect();
        for i in 0..self.states.len() {
            if teachers.is_empty() || teachers.contains(&i) {
                if self.lesson.arms[i].teacher.is_some() {
                    return Err(Error::config("teacher", format!("`{}` both teaches and is taught", self.lesson.arms[i].name)));
                }
                let trainer = self.build_arm(i, None)?;
                self.states[i] = ArmState::Running { trainer: Box::new(trainer), last: None };
            }
        }
        Ok(())
    }

    /// Arm `i`'s trainer, on its training images (the first `Lesson::arm_images` of the lesson's).
    fn build_arm(&self, i: usize, checkpoint: Option<Checkpoint>) -> Result<Trainer> {
        let arm = &self.lesson.arms[i];
        let n = self.lesson.arm_images(arm);
        let subset;
        let train = if n < self.train.count {
            subset = self.train.slice(0, n)?;
            &subset
        } else {
            &self.train
        };
        Trainer::new(self.device.clone(), arm.config.clone(), train, &self.test, checkpoint)
    }

    /// "gpu" or "cpu": what the run trains on, for its result line.
    pub fn backend(&self) -> &'static str {
        if self.device.is_cpu() { "cpu" } else { "gpu" }
    }

    pub fn is_done(&self) -> bool {
        self.states.iter().all(|s| matches!(s, ArmState::Done(_)))
    }

    /// One step of the next running arm, with its evaluations when the step ends an epoch or the
    /// arm. `None` once every arm is done.
    pub async fn step(&mut self) -> Result<Option<StepEvent>> {
        if self.is_done() {
            return Ok(None);
        }
        let n = self.states.len();
        let Some(i) = (0..n).map(|k| (self.cursor + k) % n).find(|&i| matches!(self.states[i], ArmState::Running { .. })) else {
            return Err(Error::config("lesson", "no arm can run: a teacher never finished"));
        };
        self.cursor = (i + 1) % n;
        let event = self.step_arm(i).await?;
        if event.finished {
            self.start_students().await?;
        }
        Ok(Some(event))
    }

    /// Once every teacher is done, builds the arms still waiting (a student gets its teacher's
    /// trained weights; one whose teacher diverged is recorded as not run).
    async fn start_students(&mut self) -> Result<()> {
        let teachers: Vec<usize> = self.lesson.arms.iter().filter_map(|a| a.teacher).collect();
        let teachers_done = teachers.iter().all(|&t| matches!(self.states[t], ArmState::Done(_)));
        if !teachers_done {
            return Ok(());
        }
        for i in 0..self.states.len() {
            if !matches!(self.states[i], ArmState::Waiting) {
                continue;
            }
            let checkpoint = match self.lesson.arms[i].teacher {
                Some(t) => match &self.states[t] {
                    ArmState::Done(Some(teacher)) => Some(teacher.checkpoint().await?),
                    _ => {
                        let name = &self.lesson.arms[i].name;
                        self.records[i].diverged = Some(format!("not run: the teacher of `{name}` diverged"));
                        self.states[i] = ArmState::Done(None);
                        continue;
                    }
                },
                None => None,
            };
            let trainer = self.build_arm(i, checkpoint)?;
            self.states[i] = ArmState::Running { trainer: Box::new(trainer), last: None };
        }
        Ok(())
    }

    async fn step_arm(&mut self, i: usize) -> Result<StepEvent> {
        let ArmState::Running { trainer, last } = &mut self.states[i] else { unreachable!("only running arms step") };
        let record = &mut self.records[i];
        let lr = trainer.lr();
        let started = crate::clock::now_s();
        let epoch_before = trainer.epoch;
        trainer.step()?;
        let progress = trainer.progress().await;
        record.train_seconds += crate::clock::now_s() - started;
        record.images += trainer.config.batch_size as u64;
        let step = trainer.global_step;
        let p = match progress {
            Ok(p) => p,
            Err(Error::Diverged { step, loss }) => {
                record.diverged = Some(Error::Diverged { step, loss }.to_string());
                record.lrs.push(lr);
                self.states[i] = ArmState::Done(None);
                return Ok(StepEvent { arm: i, step, loss: None, lr, epoch: None, finished: true });
            }
            Err(e) => return Err(e),
        };
        let loss = p.mean_loss_since(last.as_ref());
        *last = Some(p);
        record.losses.push(loss);
        record.lrs.push(lr);
        if record.batch.is_none() {
            let b = trainer.last_batch().await?;
            record.batch = Some(views::batch_preview(&trainer.config, &b));
        }
        let mut epoch = None;
        let finished = trainer.is_done();
        if finished {
            record.result = Some(views::final_views(trainer, &self.test, self.lesson.track_train_accuracy).await?);
        }
        if trainer.epoch != epoch_before {
            // The last epoch's numbers are the final views' evaluation, not a second one.
            let (test_loss, test_acc, train_clean_acc) = match &record.result {
                Some(f) => (f.test_loss, f.test_acc, f.train_clean_acc),
                None => {
                    let (loss, acc) = trainer.evaluate().await?;
                    let clean = if self.lesson.track_train_accuracy { Some(trainer.evaluate_on(Split::Train, false).await?.acc) } else { None };
                    (loss, acc, clean)
                }
            };
            let norms = analysis::param_norms(trainer.graph(), &trainer.checkpoint().await?.params);
            let e = EpochRecord { epoch: trainer.epoch, train_loss: p.loss, train_acc: p.acc, test_loss, test_acc, train_clean_acc, norms };
            record.epochs.push(e.clone());
            epoch = Some(e);
        }
        if finished {
            let ArmState::Running { trainer, .. } = std::mem::replace(&mut self.states[i], ArmState::Waiting) else { unreachable!() };
            self.states[i] = ArmState::Done(Some(trainer));
        }
        Ok(StepEvent { arm: i, step, loss: Some(loss), lr, epoch, finished })
    }

    /// The trained network of arm `i`, once it finished (for the views and the run history).
    pub fn trainer(&mut self, i: usize) -> Option<&mut Trainer> {
        match self.states.get_mut(i)? {
            ArmState::Done(Some(t)) => Some(t),
            ArmState::Running { trainer, .. } => Some(trainer),
            _ => None,
        }
    }

    /// The lesson's test subset (for the prediction views' images).
    pub fn test_set(&self) -> &Dataset {
        &self.test
    }
}
