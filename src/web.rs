//! The only wasm-bindgen surface of the crate (compiled for wasm32 alone), so the core builds and
//! tests natively. The page's Web Worker (`www/worker.js`) loads a dataset into a `WebDataset`,
//! starts a `WebTrainer` from config JSON, and drives it in chunks of steps, awaiting a metrics
//! readback after each chunk so the worker stays free to answer pause/stop messages. Config
//! helpers (`default_config`, `validate_config`, `schedule_curve`) let the page check a link and
//! preview the learning rate before anything trains. Every error becomes a JS `Error` carrying the
//! crate's message.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Float32Array, Promise, Uint8Array};
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::bench::StepBench;
use crate::lessons::run::{LessonRun, Size};
use crate::lessons::{self, verdict};
use crate::train::views;
use crate::data::{cifar, mnist, Dataset, DatasetKind, Splits};
use crate::names::Named;
use crate::nn::models::ModelKind;
use crate::gpu::tune::PickCache;
use crate::gpu::GpuContext;
use crate::train::backend::Device;
use crate::train::checkpoint::{self, Checkpoint};
use crate::train::trainer::{Progress, Trainer};
use crate::train::TrainConfig;
use crate::Error;

/// A crate error as a JS `Error` whose message is the crate's own.
fn js_error(e: Error) -> JsValue {
    js_sys::Error::new(&e.to_string()).into()
}

/// Serializes a report into plain JS values: maps as objects (not `Map`s) and `None` as `null`, as
/// JSON would have them.
fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsValue> {
    let s = serde_wasm_bindgen::Serializer::new().serialize_maps_as_objects(true).serialize_missing_as_null(true);
    value.serialize(&s).map_err(|e| js_sys::Error::new(&format!("internal: {e}")).into())
}

/// Opens the browser's WebGPU device and describes the adapter, `{description, software}` (a
/// software adapter trains slowly), or explains why there is none.
#[wasm_bindgen]
pub async fn adapter_info() -> Result<JsValue, JsValue> {
    let ctx = shared_gpu().await.map_err(js_error)?;
    to_js(&serde_json::json!({ "description": ctx.describe(), "software": ctx.is_software() }))
}

thread_local! {
    /// The GPU context every run of this worker shares (its pipelines compile once), until its
    /// device is lost.
    static SHARED_GPU: RefCell<Option<Rc<GpuContext>>> = const { RefCell::new(None) };
    /// The kernel picks the worker loaded from IndexedDB, plus those timed since.
    static PICKS: RefCell<PickCache> = RefCell::new(PickCache::default());
    /// Set when a run starts: the warm-up stops before its next kernel timing or build.
    static WARM_UP_STOPPED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Stops a warm-up in progress at its next step (a run is starting and takes over the GPU); what
/// it timed so far is kept.
#[wasm_bindgen]
pub fn stop_warm_up() {
    WARM_UP_STOPPED.with(|s| s.set(true));
}

/// The worker's shared GPU context, opened on first use (or again after a lost device), with the
/// kernel picks known for its adapter.
async fn shared_gpu() -> crate::Result<Rc<GpuContext>> {
    if let Some(ctx) = SHARED_GPU.with(|s| s.borrow().clone()).filter(|c| !c.is_lost()) {
        return Ok(ctx);
    }
    let ctx = Rc::new(GpuContext::new().await?);
    PICKS.with(|p| p.borrow().load_into(&ctx));
    SHARED_GPU.with(|s| *s.borrow_mut() = Some(ctx.clone()));
    Ok(ctx)
}

/// Times the kernel variants for whatever `configs` prepare that has no pick yet (only the first
/// time an adapter meets a shape) and keeps the picks for `kernel_picks` to save.
async fn tune(ctx: &GpuContext, configs: &[(&TrainConfig, Option<&TrainConfig>)]) -> crate::Result<()> {
    for (config, teacher) in configs {
        crate::gpu::tune::tune_config(ctx, config, *teacher).await?;
    }
    PICKS.with(|p| p.borrow_mut().store_from(ctx));
    Ok(())
}

/// Gives the worker the kernel picks saved in IndexedDB (`PickCache` JSON, from `kernel_picks`).
/// Returns why a saved value was ignored (it is then timed again), or an empty string.
#[wasm_bindgen]
pub fn set_kernel_picks(json: &str) -> String {
    let (cache, problem) = PickCache::parse(json);
    if let Some(ctx) = SHARED_GPU.with(|s| s.borrow().clone()) {
        cache.load_into(&ctx);
    }
    PICKS.with(|p| *p.borrow_mut() = cache);
    problem.unwrap_or_default()
}

/// Every kernel pick known (saved and timed since), as `PickCache` JSON to save in IndexedDB.
#[wasm_bindgen]
pub fn kernel_picks() -> String {
    PICKS.with(|p| p.borrow().to_json())
}

/// Every kernel variant of this adapter against the CPU reference (`gpu::tune::
/// check_against_reference`): `[{pass, shape, variant, mismatch}]`, mismatch null where it agrees.
/// For the browser tests.
#[wasm_bindgen]
pub fn check_kernel_variants() -> Promise {
    future_to_promise(async move {
        let ctx = shared_gpu().await.map_err(js_error)?;
        let checks = crate::gpu::tune::check_against_reference(&ctx).await.map_err(js_error)?;
        to_js(&checks)
    })
}

/// What the shared GPU context runs on: `{adapter, key, variants: [{pass, variants}], picks}` (the
/// variants its dispatches were prepared with so far, per pass in the order of a step), or null
/// before any GPU run.
#[wasm_bindgen]
pub fn gpu_kernels() -> Result<JsValue, JsValue> {
    let Some(ctx) = SHARED_GPU.with(|s| s.borrow().clone()) else { return Ok(JsValue::NULL) };
    let variants: Vec<serde_json::Value> = ctx
        .variants_by_pass()
        .into_iter()
        .map(|(pass, vs)| serde_json::json!({ "pass": pass.name(), "variants": vs.iter().map(|v| v.name()).collect::<Vec<_>>() }))
        .collect();
    let picks: std::collections::BTreeMap<String, &str> = ctx.picks().into_iter().map(|(k, v)| (k, v.name())).collect();
    to_js(&serde_json::json!({ "adapter": ctx.describe(), "key": ctx.adapter_key(), "variants": variants, "picks": picks }))
}

/// Compiles what a run of `config_json` on `data` will need (kernel picks timed where the adapter
/// is new, every pipeline of the step, evaluation and data stream), while the visitor reads the
/// page: builds the run on one batch of images and drops it. `stop_warm_up` ends it early.
/// Resolves to `{timed, pipelines, stopped}`: passes timed, pipelines compiled in all.
#[wasm_bindgen]
pub fn warm_up(data: &WebDataset, config_json: &str) -> Promise {
    WARM_UP_STOPPED.with(|s| s.set(false));
    let prepared = TrainConfig::from_json(config_json).and_then(|c| {
        let n = c.batch_size;
        Ok((c, first(&data.splits.train, n)?, first(&data.splits.test, n)?))
    });
    future_to_promise(async move {
        let (config, train, test) = prepared.map_err(js_error)?;
        let ctx = shared_gpu().await.map_err(js_error)?;
        let go_on = || !WARM_UP_STOPPED.with(|s| s.get());
        let graph = config.graph(config.batch_size as usize).map_err(js_error)?;
        let timed = crate::gpu::tune::tune_graph_while(&ctx, &graph, go_on).await.map_err(js_error)?;
        PICKS.with(|p| p.borrow_mut().store_from(&ctx));
        if go_on() {
            let trainer = Trainer::new(Device::Gpu(ctx.clone()), config, &train, &test, None).map_err(js_error)?;
            drop(trainer);
            ctx.read_bytes(&ctx.zeros("warm-up sync", &[1]).map_err(js_error)?.buffer, 4).await.map_err(js_error)?;
        }
        to_js(&serde_json::json!({ "timed": timed.len(), "pipelines": ctx.pipeline_count(), "stopped": !go_on() }))
    })
}

/// What a run computes on, as the worker names it: "gpu" (WebGPU) or "cpu" (the reference ops,
/// where WebGPU offers no adapter).
async fn open_device(backend: &str) -> crate::Result<Device> {
    match backend {
        "gpu" => Ok(Device::Gpu(shared_gpu().await?)),
        "cpu" => Ok(Device::Cpu),
        other => Err(Error::config("backend", format!("`{other}` is not a backend; use \"gpu\" or \"cpu\""))),
    }
}

/// The full default config of a dataset ("mnist" or "cifar10") as JSON.
#[wasm_bindgen]
pub fn default_config(dataset: &str) -> Result<String, JsValue> {
    let kind = DatasetKind::parse(dataset).map_err(js_error)?;
    Ok(TrainConfig::default_for(kind).to_json())
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

/// Every config field's kind, limits, default, label and owning trick, and each trick's rule
/// for "on" (`crate::train::fields`), for the page's URL, form and ablation table, as JSON.
#[wasm_bindgen]
pub fn config_fields() -> String {
    crate::train::fields::table_json()
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

/// The training and test images of one dataset, parsed in the worker from files the page fetched
/// or the visitor dropped (never uploaded anywhere).
#[wasm_bindgen]
pub struct WebDataset {
    kind: DatasetKind,
    splits: Splits,
}

#[wasm_bindgen]
impl WebDataset {
    /// MNIST from its four IDX files (raw or gzipped).
    pub fn mnist(train_images: &[u8], train_labels: &[u8], test_images: &[u8], test_labels: &[u8]) -> Result<WebDataset, JsValue> {
        let train = mnist::from_idx_bytes(mnist::TRAIN_IMAGES, train_images, mnist::TRAIN_LABELS, train_labels).map_err(js_error)?;
        let test = mnist::from_idx_bytes(mnist::TEST_IMAGES, test_images, mnist::TEST_LABELS, test_labels).map_err(js_error)?;
        Ok(WebDataset { kind: DatasetKind::Mnist, splits: Splits { train, test } })
    }

    /// CIFAR-10 from the official `cifar-10-binary.tar.gz`.
    pub fn cifar10(archive: &[u8]) -> Result<WebDataset, JsValue> {
        let splits = cifar::from_tar_gz_bytes(archive).map_err(js_error)?;
        Ok(WebDataset { kind: DatasetKind::Cifar10, splits })
    }

    /// The dataset's name ("mnist" or "cifar10").
    #[wasm_bindgen(getter)]
    pub fn kind(&self) -> String {
        self.kind.name().into()
    }

    #[wasm_bindgen(getter)]
    pub fn train_count(&self) -> u32 {
        self.splits.train.count as u32
    }

    #[wasm_bindgen(getter)]
    pub fn test_count(&self) -> u32 {
        self.splits.test.count as u32
    }
}

/// The first `limit` images of a split (all of them when `limit` is 0 or larger than the split).
fn first(d: &Dataset, limit: u32) -> crate::Result<Dataset> {
    let n = if limit == 0 { d.count } else { (limit as usize).min(d.count) };
    d.slice(0, n)
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
    slot: Rc<RefCell<Option<Trainer>>>,
    /// The last chunk's report, to turn the epoch's running sums into this chunk's mean.
    last: Rc<RefCell<Option<Progress>>>,
    /// The run's test images (the prediction grid shows them).
    test: Rc<Dataset>,
}

fn busy() -> JsValue {
    js_sys::Error::new("the trainer is busy with another command; await each call before the next").into()
}

/// Runs `work` on the value taken out of `slot` (a trainer, a lesson), and puts it back whatever
/// the outcome.
fn with_slot<T, F, Fut>(slot: Rc<RefCell<Option<T>>>, work: F) -> Promise
where
    T: 'static,
    F: FnOnce(T) -> Fut + 'static,
    Fut: std::future::Future<Output = (T, Result<JsValue, JsValue>)> + 'static,
{
    future_to_promise(async move {
        let value = slot.borrow_mut().take().ok_or_else(busy)?;
        let (value, result) = work(value).await;
        *slot.borrow_mut() = Some(value);
        result
    })
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

async fn export(t: &Trainer) -> Result<JsValue, JsValue> {
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
            let device = open_device(&backend).await.map_err(js_error)?;
            if let Device::Gpu(ctx) = &device {
                tune(ctx, &[(&config, teacher.as_ref().map(|t| &t.config))]).await.map_err(js_error)?;
            }
            let trainer = Trainer::new(device, config, &train, &test, teacher).map_err(js_error)?;
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

    /// The first images of the last training batch as the network received them (crop, flip,
    /// mixup), with the classes their targets weigh. Resolves to a `BatchPreview`.
    pub fn batch_preview(&self) -> Promise {
        with_slot(self.slot.clone(), |t| async move {
            let r = match t.last_batch().await {
                Ok(b) => to_js(&views::batch_preview(&t.config, &b)),
                Err(e) => Err(js_error(e)),
            };
            (t, r)
        })
    }

    /// The trained network on the whole test set: loss, accuracy, confusion matrix, prediction
    /// grid, calibration and logit gaps. Resolves to a `FinalViews`.
    pub fn final_views(&self) -> Promise {
        let test = self.test.clone();
        with_slot(self.slot.clone(), move |mut t| async move {
            let r = views::final_views(&mut t, &test, false).await.map_err(js_error).and_then(|v| to_js(&v));
            (t, r)
        })
    }
}

/// Images per second that `config_json` trains at on `backend` ("gpu" or "cpu"), timed over a few
/// steps of a small batch of `data` (`bench::probe_speed`). Resolves to a number.
#[wasm_bindgen]
pub fn measure_speed(data: &WebDataset, config_json: &str, backend: String) -> Promise {
    let prepared = TrainConfig::from_json(config_json).and_then(|c| {
        if c.dataset != data.kind {
            return Err(Error::config("dataset", format!("the config trains {} but the loaded data is {}", c.dataset, data.kind)));
        }
        Ok(c)
    });
    let train = data.splits.train.clone();
    future_to_promise(async move {
        let config = prepared.map_err(js_error)?;
        let device = open_device(&backend).await.map_err(js_error)?;
        if let Device::Gpu(ctx) = &device {
            tune(ctx, &[(&crate::bench::probe_config(&config), None)]).await.map_err(js_error)?;
        }
        let speed = crate::bench::probe_speed(device, &config, &train).await.map_err(js_error)?;
        Ok(JsValue::from_f64(speed))
    })
}

/// What a safetensors file holds, as JSON `{config, parameters}`: the training config saved in it
/// (model, dataset, width, tricks) and its number of parameters, after every tensor was checked
/// against the shape its model needs. Throws the reason a file cannot be a tricklab model: not
/// safetensors, no tricklab config, a tensor missing or of the wrong shape.
#[wasm_bindgen]
pub fn checkpoint_info(bytes: &[u8]) -> Result<String, JsValue> {
    let (graph, ckpt) = checkpoint::load("this file", bytes, |c| c.graph(1)).map_err(js_error)?;
    let parameters: usize = graph.params.iter().map(|p| p.len()).sum();
    Ok(serde_json::json!({ "config": ckpt.config, "parameters": parameters }).to_string())
}

/// The class probabilities of one image (raw bytes, channels × height × width of the run's
/// dataset) under the network saved in `checkpoint` (a run's exported weights), computed on the
/// CPU: it works for any run in the history, with or without a GPU.
#[wasm_bindgen]
pub fn classify(checkpoint: &[u8], image: &[u8]) -> Result<Float32Array, JsValue> {
    let (_, ckpt) = checkpoint::load("the run's weights", checkpoint, |c| c.graph(1)).map_err(js_error)?;
    let probs = views::classify(&ckpt, image).map_err(js_error)?;
    Ok(Float32Array::from(&probs[..]))
}

/// Every lesson as JSON: id, title, question, what to look for, set-up, arms (name and complete
/// config), metric, rule, views, the paper's result and source, and the images it trains on.
#[wasm_bindgen]
pub fn lessons() -> String {
    let list: Vec<serde_json::Value> = lessons::catalog::all()
        .into_iter()
        .map(|l| {
            let mut v = serde_json::to_value(&l).expect("a lesson serializes");
            v["metric_name"] = l.metric.name().into();
            v["training_images"] = l.training_images().into();
            v
        })
        .collect();
    serde_json::Value::Array(list).to_string()
}

/// A lesson running in the worker: its arms step in turn on one GPU context.
#[wasm_bindgen]
pub struct WebLesson {
    slot: Rc<RefCell<Option<LessonRun>>>,
}

#[wasm_bindgen]
impl WebLesson {
    /// Opens the device (`backend`: "gpu" or "cpu") and prepares lesson `id` with `seed` on
    /// `data` (MNIST); `tiny` runs the two-steps-per-epoch version the page's tests use. Resolves
    /// to a `WebLesson`.
    pub fn start(data: &WebDataset, id: &str, seed: u32, tiny: bool, backend: String) -> Promise {
        // Only the images the lesson trains and tests on are copied for the run.
        let prepared = lessons::catalog::find(id)
            .ok_or_else(|| Error::config("lesson", format!("unknown lesson `{id}`")))
            .and_then(|l| {
                if data.kind != DatasetKind::Mnist {
                    return Err(Error::config("dataset", "the lessons run on MNIST"));
                }
                let l = lessons::run::sized(&l, if tiny { Size::Tiny } else { Size::Full });
                let (train, test) = (first(&data.splits.train, l.train_images as u32)?, first(&data.splits.test, l.test_images as u32)?);
                Ok((l, train, test))
            });
        future_to_promise(async move {
            let (lesson, train, test) = prepared.map_err(js_error)?;
            let device = open_device(&backend).await.map_err(js_error)?;
            if let Device::Gpu(ctx) = &device {
                let configs: Vec<_> = lesson.arms.iter().map(|a| (&a.config, None)).collect();
                tune(ctx, &configs).await.map_err(js_error)?;
            }
            let run = LessonRun::new(device, lesson, seed as u64, &train, &test).map_err(js_error)?;
            Ok(WebLesson { slot: Rc::new(RefCell::new(Some(run))) }.into())
        })
    }

    /// The lesson as it runs (after `tiny` scaling), as JSON.
    #[wasm_bindgen(getter)]
    pub fn lesson_json(&self) -> Result<String, JsValue> {
        self.slot.borrow().as_ref().map(|r| serde_json::to_string(&r.lesson).expect("a lesson serializes")).ok_or_else(busy)
    }

    /// Up to `max_steps` steps (the arms in turn). Resolves to the steps' events (each arm step:
    /// its loss and rate, and its epoch's evaluation when the step ended one).
    pub fn run_steps(&self, max_steps: u32) -> Promise {
        with_slot(self.slot.clone(), move |mut run| async move {
            let mut events = Vec::new();
            let mut result = Ok(());
            while events.len() < max_steps.max(1) as usize {
                match run.step().await {
                    Ok(Some(e)) => events.push(e),
                    Ok(None) => break,
                    Err(e) => {
                        result = Err(js_error(e));
                        break;
                    }
                }
            }
            let r = result.and_then(|()| to_js(&events));
            (run, r)
        })
    }

    #[wasm_bindgen(getter)]
    pub fn done(&self) -> Result<bool, JsValue> {
        self.slot.borrow().as_ref().map(LessonRun::is_done).ok_or_else(busy)
    }

    /// Every arm's record so far (curves, epochs, batch preview, final views).
    pub fn records(&self) -> Result<JsValue, JsValue> {
        let slot = self.slot.borrow();
        to_js(&slot.as_ref().ok_or_else(busy)?.records)
    }

    /// Each arm's value of the lesson's metric and the verdict, from this run's seed.
    pub fn verdict(&self) -> Result<JsValue, JsValue> {
        let slot = self.slot.borrow();
        let run = slot.as_ref().ok_or_else(busy)?;
        let summaries = verdict::summarize(&run.lesson, std::slice::from_ref(&run.records));
        let v = verdict::verdict(&run.lesson, &summaries);
        to_js(&serde_json::json!({ "arms": summaries, "verdict": v }))
    }

    /// Arm `arm`'s trained weights as a safetensors file (for the run history).
    pub fn export_checkpoint(&self, arm: u32) -> Promise {
        with_slot(self.slot.clone(), move |mut run| async move {
            let r = match run.trainer(arm as usize) {
                Some(t) => export(t).await,
                None => Err(js_error(Error::config("lesson", format!("arm {arm} has no trained network (it diverged or has not run)")))),
            };
            (run, r)
        })
    }
}

/// The side-by-side benchmark's tricklab half (`www/bench/`, `cargo xtask bench-web`): the same
/// whole training step as `tricklab bench-step` (`crate::bench::StepBench`), built once; each
/// `step` submits it and awaits a 4-byte readback of the summed loss, as the TensorFlow.js half
/// awaits its loss.
#[wasm_bindgen]
pub struct WebBench {
    ctx: Rc<GpuContext>,
    bench: Rc<StepBench>,
    first_step: FirstStep,
    timings: Vec<crate::gpu::tune::Timing>,
}

/// Where the time to the first step went, in ms: opening the device, timing kernel variants (0
/// when the adapter's picks were known), compiling pipelines, building the step's buffers and
/// writing its weights and batch, and the step itself. Compile = the build with every pipeline
/// new minus the same build again with them compiled (upload).
#[derive(Clone, Copy, Default, Serialize)]
struct FirstStep {
    device_ms: f64,
    tune_ms: f64,
    compile_ms: f64,
    upload_ms: f64,
    step_ms: f64,
    first_step_ms: f64,
    pipelines: usize,
    subgroups: bool,
}

/// Milliseconds since `t0` (seconds), after the queue has finished everything submitted.
async fn settled_ms(ctx: &GpuContext, t0: f64) -> crate::Result<f64> {
    ctx.read_bytes(&ctx.zeros("sync", &[1])?.buffer, 4).await?;
    Ok((crate::clock::now_s() - t0) * 1e3)
}

async fn step_loss(ctx: &GpuContext, bench: &StepBench) -> crate::Result<f64> {
    ctx.submit(&bench.dispatches())?;
    let bytes = ctx.read_bytes(&bench.step.metrics.buffer, 4).await?;
    Ok(f32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as f64)
}

#[wasm_bindgen]
impl WebBench {
    /// Opens a new GPU device (so that every pipeline compiles anew) with the kernel picks the page
    /// knows, builds `model` (by name, on the input size of the dataset it is built for) at `batch`
    /// images per step and runs its first step, timing each phase (`first_step`). Resolves to a
    /// `WebBench`.
    pub fn create(model: String, batch: u32) -> Promise {
        future_to_promise(async move {
            let r: crate::Result<WebBench> = async {
                let kind = ModelKind::parse(&model)?;
                let t0 = crate::clock::now_s();
                let ctx = GpuContext::new().await?;
                PICKS.with(|p| p.borrow().load_into(&ctx));
                let mut f = FirstStep { device_ms: settled_ms(&ctx, t0).await?, ..Default::default() };
                let t = crate::clock::now_s();
                let graph = crate::bench::bench_config(kind).graph(batch as usize)?;
                let timed = crate::gpu::tune::tune_graph(&ctx, &graph).await?;
                f.subgroups = ctx.features.contains(wgpu::Features::SUBGROUP);
                PICKS.with(|p| p.borrow_mut().store_from(&ctx));
                f.tune_ms = if timed.is_empty() { 0.0 } else { settled_ms(&ctx, t).await? };
                let t = crate::clock::now_s();
                let bench = StepBench::new(&ctx, kind, batch as usize)?;
                let build_ms = settled_ms(&ctx, t).await?;
                let t = crate::clock::now_s();
                step_loss(&ctx, &bench).await?;
                f.step_ms = (crate::clock::now_s() - t) * 1e3;
                f.first_step_ms = f.device_ms + f.tune_ms + build_ms + f.step_ms;
                f.pipelines = ctx.pipeline_count();
                // The same build again, every pipeline compiled: what building alone costs.
                let t = crate::clock::now_s();
                drop(StepBench::new(&ctx, kind, batch as usize)?);
                f.upload_ms = settled_ms(&ctx, t).await?;
                f.compile_ms = (build_ms - f.upload_ms).max(0.0);
                Ok(WebBench { ctx: Rc::new(ctx), bench: Rc::new(bench), first_step: f, timings: timed })
            }
            .await;
            r.map(JsValue::from).map_err(js_error)
        })
    }

    /// The first step's breakdown (see `FirstStep`), as an object.
    #[wasm_bindgen(getter)]
    pub fn first_step(&self) -> Result<JsValue, JsValue> {
        to_js(&self.first_step)
    }

    /// What timing the kernel variants found (empty when the picks were known): one
    /// `{pass, shape, gflop, ms: {variant: ms}, picked}` per pass and shape.
    #[wasm_bindgen(getter)]
    pub fn kernel_timings(&self) -> Result<JsValue, JsValue> {
        to_js(&self.timings)
    }

    /// The variants this step's passes were prepared with, `{pass: [variant names]}`.
    #[wasm_bindgen(getter)]
    pub fn variants(&self) -> Result<JsValue, JsValue> {
        let variants: std::collections::BTreeMap<&str, Vec<&str>> =
            self.ctx.variants_by_pass().into_iter().map(|(pass, vs)| (pass.name(), vs.iter().map(|v| v.name()).collect())).collect();
        to_js(&variants)
    }

    /// FLOPs of one step in GFLOP: 3 × forward (2 per multiply-add, conv and linear layers).
    #[wasm_bindgen(getter)]
    pub fn gflop_per_step(&self) -> f64 {
        self.bench.gflop
    }

    #[wasm_bindgen(getter)]
    pub fn dispatches_per_step(&self) -> u32 {
        self.bench.dispatches().len() as u32
    }

    #[wasm_bindgen(getter)]
    pub fn adapter(&self) -> String {
        self.ctx.describe()
    }

    /// Where a step's time goes: each dispatch alone (3 copies in one submit, then a 4-byte
    /// readback, less an empty submit's readback), summed per family (the label before " -> ").
    /// Resolves to `[{family, count, ms}]`, the largest first.
    pub fn profile(&self) -> Promise {
        let (ctx, bench) = (self.ctx.clone(), self.bench.clone());
        future_to_promise(async move {
            let r: crate::Result<Vec<(String, usize, f64)>> = async {
                const REPS: usize = 3;
                let sync = ctx.zeros("profile sync", &[1])?;
                let t = crate::clock::now_s();
                ctx.submit(&[])?;
                ctx.read_bytes(&sync.buffer, 4).await?;
                let empty_ms = (crate::clock::now_s() - t) * 1e3;
                let mut families: Vec<(String, usize, f64)> = Vec::new();
                for d in bench.dispatches() {
                    let list = vec![d; REPS];
                    let t = crate::clock::now_s();
                    ctx.submit(&list)?;
                    ctx.read_bytes(&sync.buffer, 4).await?;
                    let ms = (((crate::clock::now_s() - t) * 1e3 - empty_ms) / REPS as f64).max(0.0);
                    let name = d.family();
                    match families.iter_mut().find(|f| f.0 == name) {
                        Some(f) => (f.1, f.2) = (f.1 + 1, f.2 + ms),
                        None => families.push((name, 1, ms)),
                    }
                }
                families.sort_by(|a, b| b.2.total_cmp(&a.2));
                Ok(families)
            }
            .await;
            let rows: Vec<serde_json::Value> = r.map_err(js_error)?.into_iter().map(|(f, n, ms)| serde_json::json!({"family": f, "count": n, "ms": ms})).collect();
            to_js(&rows)
        })
    }

    /// One training step; resolves to the loss summed over every step so far (after this one).
    pub fn step(&self) -> Promise {
        let (ctx, bench) = (self.ctx.clone(), self.bench.clone());
        future_to_promise(async move { step_loss(&ctx, &bench).await.map(JsValue::from_f64).map_err(js_error) })
    }
}

// ---- Hooks for the page's browser tests (www/tests/page.test.mjs) ---------------------------

/// The GPU buffers alive now across every context in this module, `{buffers, bytes}`: back to
/// where it started once each run's trainer is freed (the 20-runs test reads it).
#[wasm_bindgen]
pub fn gpu_memory() -> Result<JsValue, JsValue> {
    to_js(&crate::gpu::live_buffers())
}

#[wasm_bindgen]
impl WebTrainer {
    /// Destroys the run's GPU device, as a driver reset or a crashed GPU process would, so a test
    /// can check what the page does when the device is lost mid-run. Call it between chunks.
    pub fn lose_device(&self) -> Result<(), JsValue> {
        match self.read(|t| t.gpu().map(|ctx| ctx.device.destroy()))? {
            Some(()) => Ok(()),
            None => Err(js_error(Error::config("backend", "this run trains on the CPU; it has no GPU device to lose"))),
        }
    }
}
