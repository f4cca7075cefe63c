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
