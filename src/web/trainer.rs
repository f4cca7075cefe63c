//! A training run in the worker (`WebTrainer`), driven in chunks of steps, and the config helpers
//! (`default_config`, `catalog`, `validate_config`, `schedule_curve`) that let the page check a
//! link and preview the learning rate before anything trains.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Float32Array, Promise, Uint8Array};
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use super::device::open_run;
use super::{busy, first, js_error, to_js, with_slot, WebDataset};
use crate::data::{Dataset, DatasetKind};
use crate::names::Named;
use crate::nn::models::ModelKind;
use crate::train::checkpoint::{self, Checkpoint};
use crate::train::trainer::{Progress, Trainer};
use crate::train::TrainConfig;
use crate::Error;

/// The full default config of a dataset ("mnist" or "cifar10") as JSON.
#[wasm_bindgen]
pub fn default_config(dataset: &str) -> Result<String, JsValue> {
    let kind = DatasetKind::parse(dataset).map_err(js_error)?;
    Ok(TrainConfig::default_for(kind).to_json())
}

/// Every config field's kind, limits, default, label and owning trick, and each trick's rule
/// for "on" (`crate::train::fields`), for the page's URL, form and ablation table, as JSON.
#[wasm_bindgen]
pub fn config_fields() -> String {
    crate::train::fields::table_json()
}

/// The names and labels of the models and datasets, for the page's menus:
/// `{models: [{name, label}], datasets: [{name, label}]}` as JSON.
#[wasm_bindgen]
pub fn catalog() -> String {
    fn rows<T: Named>() -> Vec<serde_json::Value> {
        T::all().into_iter().map(|v| serde_json::json!({ "name": v.name(), "label": v.label() })).collect()
    }
    serde_json::json!({ "models": rows::<ModelKind>(), "datasets": rows::<DatasetKind>() }).to_string()
}

/// Parses and validates a (possibly partial) config for `steps_per_epoch`; returns the complete
/// config as JSON, or throws an error naming the first bad field.
#[wasm_bindgen]
pub fn validate_config(config_json: &str, steps_per_epoch: u32) -> Result<String, JsValue> {
    let config = TrainConfig::from_json(config_json).map_err(js_error)?;
    config.validate(steps_per_epoch as u64).map_err(js_error)?;
    Ok(config.to_json())
}

/// The learning rate of every step of a run (`epochs × steps_per_epoch` values), exactly as the
/// trainer will use it; throws if the config is invalid.
#[wasm_bindgen]
pub fn schedule_curve(config_json: &str, steps_per_epoch: u32) -> Result<Float32Array, JsValue> {
    let config = TrainConfig::from_json(config_json).map_err(js_error)?;
    let schedule = config.schedule(steps_per_epoch as u64).map_err(js_error)?;
    let total = config.total_steps(steps_per_epoch as u64);
    Ok(Float32Array::from(&schedule.curve(total.saturating_sub(1))[..]))
}

/// What one chunk of steps reports: the epoch's running means, the mean loss of this chunk's
/// steps alone, and the rate each of its steps used.
#[derive(Serialize)]
struct ChunkReport {
    epoch: u32,
    step: u64,
    global_step: u64,
    total_steps: u64,
    steps: u32,
    loss: f32,
    acc: f32,
    chunk_loss: f32,
    lrs: Vec<f32>,
    epoch_done: bool,
    done: bool,
}

#[derive(Serialize)]
struct EvalReport {
    test_loss: f32,
    test_acc: f32,
}

/// A training run in progress. Methods return promises; the worker awaits each one before the next.
/// An async method takes the trainer out of its slot while it runs and puts it back when done, so
/// no borrow is held across an await and a call that overlaps another gets a clear error.
#[wasm_bindgen]
pub struct WebTrainer {
    pub(super) slot: Rc<RefCell<Option<Trainer>>>,
    /// The last chunk's report, to turn the epoch's running sums into this chunk's mean.
    last: Rc<RefCell<Option<Progress>>>,
    /// The run's test images (the prediction grid shows them).
    pub(super) test: Rc<Dataset>,
}

/// Up to `max_steps` steps of the current epoch, then the metrics readback.
async fn run_chunk(t: &mut Trainer, max_steps: u32, last: &RefCell<Option<Progress>>) -> Result<JsValue, JsValue> {
    let epoch = t.epoch;
    let mut lrs = Vec::new();
    while lrs.len() < max_steps.max(1) as usize && !t.is_done() && t.epoch == epoch {
        lrs.push(t.lr());
        t.step().map_err(js_error)?;
    }
    let p = t.progress().await.map_err(js_error)?;
    let chunk_loss = p.mean_loss_since(last.borrow().as_ref());
    *last.borrow_mut() = Some(p);
    to_js(&ChunkReport {
        epoch,
        step: p.steps,
        global_step: t.global_step,
        total_steps: t.total_steps(),
        steps: lrs.len() as u32,
        loss: p.loss,
        acc: p.acc,
        chunk_loss,
        lrs,
        epoch_done: t.epoch != epoch,
        done: t.is_done(),
    })
}

async fn evaluate(t: &mut Trainer) -> Result<JsValue, JsValue> {
    let (test_loss, test_acc) = t.evaluate().await.map_err(js_error)?;
    to_js(&EvalReport { test_loss, test_acc })
}

pub(super) async fn export(t: &Trainer) -> Result<JsValue, JsValue> {
    let ckpt: Checkpoint = t.checkpoint().await.map_err(js_error)?;
    let bytes = checkpoint::save(t.graph(), &ckpt);
    Ok(Uint8Array::from(&bytes[..]).into())
}

#[wasm_bindgen]
impl WebTrainer {
    /// Opens the device (`backend`: "gpu" or "cpu") and builds a run of `config_json` on the
    /// first `train_limit` / `test_limit` images of `data` (0 = all). `teacher` is a checkpoint
    /// exported by an earlier run or saved by the CLI (or undefined). Resolves to a `WebTrainer`.
    pub fn start(data: &WebDataset, config_json: &str, train_limit: u32, test_limit: u32, teacher: Option<Vec<u8>>, backend: String) -> Promise {
        let prepared = (|| -> crate::Result<_> {
            let config = TrainConfig::from_json(config_json)?;
            if config.dataset != data.kind {
                return Err(Error::config("dataset", format!("the config trains {} but the loaded data is {}", config.dataset, data.kind)));
            }
            let train = first(&data.splits.train, train_limit)?;
            let test = first(&data.splits.test, test_limit)?;
            let teacher = match teacher {
                None => None,
                Some(bytes) => {
                    let name = config.teacher.clone().unwrap_or_else(|| "teacher".into());
                    let (_, ckpt) = checkpoint::load(&name, &bytes, |c| c.graph(c.batch_size as usize))?;
                    Some(ckpt)
                }
            };
            Ok((config, train, test, teacher))
        })();
        future_to_promise(async move {
            let (config, train, test, teacher) = prepared.map_err(js_error)?;
            let teacher_config = teacher.as_ref().map(|t| t.config.clone());
            let nets = [(&config.clone(), teacher_config.as_ref())];
            let build = |device| Trainer::new(device, config, &train, &test, teacher);
            let trainer = open_run(&backend, &nets, build).await.map_err(js_error)?;
            Ok(WebTrainer { slot: Rc::new(RefCell::new(Some(trainer))), last: Rc::new(RefCell::new(None)), test: Rc::new(test) }.into())
        })
    }

    /// A fact about the idle trainer, or the busy error.
    fn read<T>(&self, f: impl FnOnce(&Trainer) -> T) -> Result<T, JsValue> {
        self.slot.borrow().as_ref().map(f).ok_or_else(busy)
    }

    /// The adapter the run trains on, or the CPU.
    #[wasm_bindgen(getter)]
    pub fn adapter(&self) -> Result<String, JsValue> {
        self.read(|t| t.device().describe())
    }

    #[wasm_bindgen(getter)]
    pub fn steps_per_epoch(&self) -> Result<u32, JsValue> {
        self.read(|t| t.steps_per_epoch as u32)
    }

    #[wasm_bindgen(getter)]
    pub fn total_steps(&self) -> Result<u32, JsValue> {
        self.read(|t| t.total_steps() as u32)
    }

    #[wasm_bindgen(getter)]
    pub fn train_count(&self) -> Result<u32, JsValue> {
        self.read(|t| t.train_count as u32)
    }

    #[wasm_bindgen(getter)]
    pub fn test_count(&self) -> Result<u32, JsValue> {
        self.read(|t| t.test_count as u32)
    }

    /// The complete config of this run as JSON.
    #[wasm_bindgen(getter)]
    pub fn config_json(&self) -> Result<String, JsValue> {
        self.read(|t| t.config.to_json())
    }

    /// Submits up to `max_steps` steps (never past the end of the epoch), then reads the metrics
    /// back. Resolves to `{epoch, step, global_step, total_steps, steps, loss, acc, chunk_loss,
    /// lrs, epoch_done, done}`; rejects with the crate's message when the run diverges or the GPU
    /// fails.
    pub fn run_steps(&self, max_steps: u32) -> Promise {
        let last = self.last.clone();
        with_slot(self.slot.clone(), move |mut t| async move {
            let r = run_chunk(&mut t, max_steps, &last).await;
            (t, r)
        })
    }

    /// Test-set loss and accuracy now. Resolves to `{test_loss, test_acc}`.
    pub fn evaluate(&self) -> Promise {
        with_slot(self.slot.clone(), |mut t| async move {
            let r = evaluate(&mut t).await;
            (t, r)
        })
    }

    /// The trained weights as a safetensors file (usable as a distillation teacher, or in PyTorch).
    pub fn export_checkpoint(&self) -> Promise {
        with_slot(self.slot.clone(), |t| async move {
            let r = export(&t).await;
            (t, r)
        })
    }

    /// Destroys the run's GPU device, as a driver reset or a crashed GPU process would, so a test
    /// (www/tests/page.test.mjs) can check what the page does when the device is lost mid-run. Call it between chunks.
    pub fn lose_device(&self) -> Result<(), JsValue> {
        match self.read(|t| t.gpu().map(|ctx| ctx.device.destroy()))? {
            Some(()) => Ok(()),
            None => Err(js_error(Error::config("backend", "this run trains on the CPU; it has no GPU device to lose"))),
        }
    }
}
