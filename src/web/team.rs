//! The page's team of CPU workers (`train::team`) as Web Workers: the training worker is the
//! leader and holds the team (`set_cpu_team`), every other worker a `WebHelper`. The JS side
//! (www/cpu-team.js) moves the work (postMessage) and does the sums in a SharedArrayBuffer behind
//! an Atomics barrier, in the same order on every worker; it needs a cross-origin isolated page.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::prelude::*;

use super::js_error;
use crate::reference::sync::Reduce;
use crate::train::checkpoint::{self, Checkpoint};
use crate::train::team::{Crew, Helper, Team, Work};
use crate::train::TrainConfig;
use crate::{Error, Result};

#[wasm_bindgen]
extern "C" {
    /// A worker's side of the team's sums (www/cpu-team.js `Exchange`).
    #[derive(Clone)]
    pub type JsExchange;
    #[wasm_bindgen(method, getter)]
    fn workers(this: &JsExchange) -> u32;
    #[wasm_bindgen(method, catch, js_name = sumF64)]
    fn sum_f64(this: &JsExchange, data: &mut [f64]) -> std::result::Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = sumF32)]
    fn sum_f32(this: &JsExchange, data: &mut [f32]) -> std::result::Result<(), JsValue>;

    /// The leader's handle on the other workers (www/cpu-team.js `Crew`).
    pub type JsCrew;
    #[wasm_bindgen(method, getter)]
    fn workers(this: &JsCrew) -> u32;
    #[wasm_bindgen(method, getter)]
    fn exchange(this: &JsCrew) -> JsExchange;
    #[wasm_bindgen(method, catch)]
    fn open(this: &JsCrew, net: u32, config_json: &str, teacher: &[u8]) -> std::result::Result<(), JsValue>;
    #[wasm_bindgen(method, catch)]
    fn work(this: &JsCrew, net: u32, kind: u32, x: &[f32], targets: &[f32], labels: &[f32], scalar: f32) -> std::result::Result<(), JsValue>;
    #[wasm_bindgen(method)]
    fn close(this: &JsCrew, net: u32);
    #[wasm_bindgen(method)]
    fn fail(this: &JsCrew, why: &str);
}

/// A JS exception's message as the crate's error.
fn team_error(e: JsValue) -> Error {
    let message = e.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())).or_else(|| e.as_string()).unwrap_or_else(|| format!("{e:?}"));
    Error::config("workers", message)
}

struct WebReduce(JsExchange);

impl Reduce for WebReduce {
    fn workers(&self) -> usize {
        self.0.workers() as usize
    }
    fn sum_f64(&mut self, data: &mut [f64]) -> Result<()> {
        self.0.sum_f64(data).map_err(team_error)
    }
    fn sum_f32(&mut self, data: &mut [f32]) -> Result<()> {
        self.0.sum_f32(data).map_err(team_error)
    }
}

struct WebCrew(JsCrew);

impl Crew for WebCrew {
    fn workers(&self) -> usize {
        self.0.workers() as usize
    }
    fn leader_reduce(&self) -> Box<dyn Reduce> {
        Box::new(WebReduce(self.0.exchange()))
    }
    fn open(&self, net: u32, config: &TrainConfig, teacher: Option<&Checkpoint>) -> Result<()> {
        let bytes = match teacher {
            Some(t) => checkpoint::save(&t.config.graph(t.config.batch_size as usize)?, t),
            None => vec![],
        };
        self.0.open(net, &config.to_json(), &bytes).map_err(team_error)
    }
    fn send(&self, net: u32, work: &Work) -> Result<()> {
        let (x, targets, labels, scalar) = work.parts();
        self.0.work(net, work.kind(), x, targets, labels, scalar).map_err(team_error)
    }
    fn close(&self, net: u32) {
        self.0.close(net)
    }
    fn fail(&self, why: &str) {
        self.0.fail(why)
    }
}

thread_local! {
    /// The training worker's team, when the page has one (2 or more workers).
    static TEAM: RefCell<Option<Rc<Team>>> = const { RefCell::new(None) };
}

/// Gives the training worker its team of CPU workers (www/cpu-team.js), or takes it away (null):
/// CPU runs started from now on share their batches with it.
#[wasm_bindgen]
pub fn set_cpu_team(crew: Option<JsCrew>) {
    let team = crew.filter(|c| c.workers() >= 2).map(|c| Rc::new(Team::new(Box::new(WebCrew(c)))));
    TEAM.with(|t| *t.borrow_mut() = team);
}

/// The team CPU runs share their batches with, if any.
pub(super) fn cpu_team() -> Option<Rc<Team>> {
    TEAM.with(|t| t.borrow().clone())
}

/// A worker of the team other than the leader: its copy of each run's network.
#[wasm_bindgen]
pub struct WebHelper {
    helper: Helper,
}

#[wasm_bindgen]
impl WebHelper {
    /// Worker `rank` (1 or more) of `workers`, summing through `exchange`.
    #[wasm_bindgen(constructor)]
    pub fn new(rank: u32, workers: u32, exchange: JsExchange) -> WebHelper {
        let reducer = move || Box::new(WebReduce(exchange.clone())) as Box<dyn Reduce>;
        WebHelper { helper: Helper::new(rank as usize, workers as usize, Box::new(reducer)) }
    }

    /// Builds this worker's copy of run `net` (`teacher`: a safetensors file, or empty).
    pub fn open(&mut self, net: u32, config_json: &str, teacher: &[u8]) -> std::result::Result<(), JsValue> {
        let config = TrainConfig::from_json(config_json).map_err(js_error)?;
        let teacher = match teacher.is_empty() {
            true => None,
            false => Some(checkpoint::load("teacher", teacher, |c| c.graph(c.batch_size as usize)).map_err(js_error)?.1),
        };
        self.helper.open(net, &config, teacher.as_ref()).map_err(js_error)
    }

    /// This worker's share of one piece of work on run `net` (`Work::from_parts`).
    pub fn work(&mut self, net: u32, kind: u32, x: &[f32], targets: &[f32], labels: &[f32], scalar: f32) -> std::result::Result<(), JsValue> {
        let work = Work::from_parts(kind, x, targets, labels, scalar).map_err(js_error)?;
        self.helper.work(net, &work).map_err(js_error)
    }

    pub fn close(&mut self, net: u32) {
        self.helper.close(net)
    }
}

/// `count` random images and labels of `kind`'s shape, for a benchmark that times steps only.
fn random_images(kind: crate::data::DatasetKind, count: usize, seed: u64) -> crate::data::Dataset {
    let (channels, height, width) = kind.image_shape();
    let classes = kind.classes();
    let mut rng = crate::rng::Rng::new(seed);
    let images = (0..count * channels * height * width).map(|_| rng.below(256) as u8).collect();
    let labels = (0..count).map(|_| rng.below(classes) as u8).collect();
    crate::data::Dataset { images, labels, count, channels, height, width, classes }
}

/// The CPU benchmark (`cargo xtask bench-cpu`, www/bench/cpu-worker.js): `model` (its dataset's
/// default recipe, seed 1) trains on random images at `batch` on the CPU path (the team, where the
/// worker has one): one untimed step, then `steps` timed ones. Resolves to `{model, batch, workers,
/// steps, ms_per_step, images_per_s, gflop_per_step, weights}` (`weights`: every parameter after
/// the timed steps, in order, as one Float32Array, to compare worker counts).
#[wasm_bindgen]
pub fn cpu_bench(model: String, batch: u32, steps: u32) -> js_sys::Promise {
    wasm_bindgen_futures::future_to_promise(async move {
        let kind = <crate::nn::models::ModelKind as crate::names::Named>::parse(&model).map_err(js_error)?;
        let config = TrainConfig { batch_size: batch, epochs: 1, lr_decay_epochs: vec![], seed: 1, ..crate::bench::bench_config(kind) };
        let images = batch as usize * (steps as usize + 1);
        let (train, test) = (random_images(config.dataset, images, 3), random_images(config.dataset, batch as usize, 4));
        let mut t = super::device::open_run("cpu", &[], |device| crate::train::trainer::Trainer::new(device, config.clone(), &train, &test, None))
            .await
            .map_err(js_error)?;
        let workers = match t.device() {
            crate::train::backend::Device::Team(team) => team.workers(),
            _ => 1,
        };
        t.step().map_err(js_error)?;
        let started = crate::clock::now_s();
        for _ in 0..steps {
            t.step().map_err(js_error)?;
        }
        t.progress().await.map_err(js_error)?;
        let ms = (crate::clock::now_s() - started) * 1e3 / steps.max(1) as f64;
        let gflop = 3.0 * t.graph().forward_flops() / 1e9;
        let weights: Vec<f32> = t.checkpoint().await.map_err(js_error)?.params.concat();
        let out = serde_json::json!({
            "model": model, "batch": batch, "workers": workers, "steps": steps, "ms_per_step": ms,
            "images_per_s": batch as f64 * 1e3 / ms, "gflop_per_step": gflop,
        });
        let out = super::to_js(&out)?;
        js_sys::Reflect::set(&out, &"weights".into(), &js_sys::Float32Array::from(&weights[..]))?;
        Ok(out)
    })
}
