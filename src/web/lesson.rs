//! A lesson in the worker (`WebLesson`): its arms step in turn on one device; the records, the
//! verdict and each arm's weights come back to the page. `lessons` lists the built-in ones;
//! `parse_lesson` reads and validates a lesson file's text, and `WebLesson::start_file` runs one.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use super::device::open_run;
use super::trainer::export;
use super::{busy, first, js_error, to_js, with_slot, WebDataset};
use crate::data::DatasetKind;
use crate::lessons::run::{LessonRun, Size};
use crate::lessons::{self, verdict, Lesson};
use crate::train::TrainConfig;
use crate::Error;

/// A lesson as the page reads it: the lesson (with each arm's complete config), the metric's name
/// and the training images of all arms together.
fn lesson_value(l: &Lesson) -> serde_json::Value {
    let mut v = serde_json::to_value(l).expect("a lesson serializes");
    v["metric_name"] = l.metric.name().into();
    v["training_images"] = l.training_images().into();
    v
}

/// Every lesson as JSON: id, title, question, what to look for, set-up, arms (name and complete
/// config), metric, rule, views, the paper's result and source, and the images it trains on.
#[wasm_bindgen]
pub fn lessons() -> String {
    let list: Vec<serde_json::Value> = lessons::catalog::all().iter().map(lesson_value).collect();
    serde_json::Value::Array(list).to_string()
}

/// Reads and validates a lesson file's text (README.md, "Writing a lesson"): the lesson as JSON,
/// in the form `lessons` gives each one; or an `Error` whose message starts with the path of the
/// field at fault (`arms[1].set.batch_size: must be at least 1`) and whose `path` property is
/// that path.
#[wasm_bindgen]
pub fn parse_lesson(json: &str) -> Result<String, JsValue> {
    lessons::file::parse(json).map(|l| lesson_value(&l).to_string()).map_err(js_error)
}

/// One history run as the page keeps it, for `lesson_from_runs`.
#[derive(serde::Deserialize)]
struct PageRun {
    name: String,
    config: TrainConfig,
    /// The page's limits on the splits (0: the whole split).
    #[serde(default)]
    train_limit: usize,
    #[serde(default)]
    test_limit: usize,
}

/// The lesson file of two history runs (`lessons::draft`): `baseline` and `other` are JSON
/// `{name, config, train_limit, test_limit}`. The file's text, or an `Error` saying why the two
/// runs cannot be a lesson.
#[wasm_bindgen]
pub fn lesson_from_runs(baseline: &str, other: &str) -> Result<String, JsValue> {
    let read = |json: &str| -> crate::Result<lessons::draft::DraftRun> {
        let r: PageRun = serde_json::from_str(json).map_err(|e| Error::config("run", format!("not a history run: {e}")))?;
        Ok(lessons::draft::DraftRun { name: r.name, config: r.config, train_limit: r.train_limit, test_limit: r.test_limit })
    };
    read(baseline).and_then(|b| lessons::draft::from_runs(&b, &read(other)?)).map_err(js_error)
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
        let lesson = lessons::catalog::find(id).ok_or_else(|| Error::config("lesson", format!("unknown lesson `{id}`")));
        start_lesson(data, lesson, seed, tiny, backend)
    }

    /// As `start`, with the lesson given as a lesson file's text (validated as `parse_lesson`
    /// does; the promise rejects with its error).
    pub fn start_file(data: &WebDataset, json: &str, seed: u32, tiny: bool, backend: String) -> Promise {
        start_lesson(data, lessons::file::parse(json), seed, tiny, backend)
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

    /// Each arm's value of the lesson's metric and the verdict, from this run's seed, and the
    /// run's one-line result for a class to pool (`lessons::result`).
    pub fn verdict(&self) -> Result<JsValue, JsValue> {
        let slot = self.slot.borrow();
        let run = slot.as_ref().ok_or_else(busy)?;
        let summaries = verdict::summarize(&run.lesson, std::slice::from_ref(&run.records));
        let v = verdict::verdict(&run.lesson, &summaries);
        let line = lessons::result::ResultLine::of(&run.lesson, run.seed, run.backend(), &run.records).write();
        to_js(&serde_json::json!({ "arms": summaries, "verdict": v, "result_line": line }))
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

/// Prepares `lesson` (or rejects with its error) on `data` and resolves to a `WebLesson`.
fn start_lesson(data: &WebDataset, lesson: crate::Result<Lesson>, seed: u32, tiny: bool, backend: String) -> Promise {
    // Only the images the lesson trains and tests on are copied for the run.
    let prepared = lesson.and_then(|l| {
        if data.kind != DatasetKind::Mnist {
            return Err(Error::config("dataset", "the lessons run on MNIST"));
        }
        let l = lessons::run::sized(&l, if tiny { Size::Tiny } else { Size::Full });
        let (train, test) = (first(&data.splits.train, l.train_images as u32)?, first(&data.splits.test, l.test_images as u32)?);
        Ok((l, train, test))
    });
    future_to_promise(async move {
        let (lesson, train, test) = prepared.map_err(js_error)?;
        let configs: Vec<TrainConfig> = lesson.arms.iter().map(|a| a.config.clone()).collect();
        let nets: Vec<_> = configs.iter().map(|c| (c, None)).collect();
        let build = |device| LessonRun::new(device, lesson, seed as u64, &train, &test);
        let run = open_run(&backend, &nets, build).await.map_err(js_error)?;
        Ok(WebLesson { slot: Rc::new(RefCell::new(Some(run))) }.into())
    })
}
