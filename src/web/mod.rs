//! The only wasm-bindgen surface of the crate (compiled for wasm32 alone), so the core builds and
//! tests natively. The page's Web Worker (`www/worker.js`) loads a dataset into a `WebDataset`,
//! starts a `WebTrainer` from config JSON, and drives it in chunks of steps, awaiting a metrics
//! readback after each chunk so the worker stays free to answer pause/stop messages. One file per
//! concern: `device` (the worker's shared GPU context, its kernel picks, the warm-up), `trainer`
//! (config helpers and a training run), `lesson` (a lesson's arms), `bench` (the side-by-side
//! benchmark, the speed probe), `inspect` (saved weights and a finished run's views). This file
//! holds what they share: a dataset, and errors and values as JS sees them. Every error becomes a
//! JS `Error` carrying the crate's message.

mod bench;
mod check;
mod class;
mod device;
mod inspect;
mod lesson;
mod team;
mod trainer;

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::Promise;
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::data::{cifar, mnist, Dataset, DatasetKind, Splits};
use crate::names::Named;
use crate::Error;

/// A crate error as a JS `Error` whose message is the crate's own; a lesson file's error also
/// carries the field's path as `path` (`arms[1].set.batch_size`), for the page to point at.
fn js_error(e: Error) -> JsValue {
    let err = js_sys::Error::new(&e.to_string());
    if let Error::Lesson { path, .. } = &e {
        // Setting a property on a fresh Error object cannot fail.
        let _ = js_sys::Reflect::set(&err, &JsValue::from_str("path"), &JsValue::from_str(path));
    }
    err.into()
}

/// Serializes a report into plain JS values: maps as objects (not `Map`s) and `None` as `null`, as
/// JSON would have them.
fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsValue> {
    let s = serde_wasm_bindgen::Serializer::new().serialize_maps_as_objects(true).serialize_missing_as_null(true);
    value.serialize(&s).map_err(|e| js_sys::Error::new(&format!("internal: {e}")).into())
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

    /// CIFAR-10 from the official `cifar-10-binary.tar.gz`; `name` is the file's name, for errors.
    pub fn cifar10(archive: &[u8], name: &str) -> Result<WebDataset, JsValue> {
        let splits = cifar::from_tar_gz_bytes(name, archive).map_err(js_error)?;
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

/// The error of a call that overlaps another on the same run.
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
