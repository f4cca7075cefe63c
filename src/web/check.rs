//! The page's "Check this computer" view (`#check`): each lesson's estimated duration here
//! (`lessons::estimate`, a few timed steps of its largest arm) and the one-line summary a teacher
//! collects. The kernel variants' check is `device::check_kernel_variants`.

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use super::device::open_run;
use super::{first, js_error, WebDataset};
use crate::data::DatasetKind;
use crate::lessons::estimate::{self, Estimate};
use crate::lessons::run::{sized, Size};
use crate::lessons::catalog;
use crate::Error;

/// Times a few steps of built-in lesson `id`'s largest arm on `backend` ("gpu" or "cpu") and
/// resolves to its `Estimate` as JSON; `tiny` estimates the tiny version the tests run. The first
/// call on an adapter checks its kernel variants against the CPU reference first.
#[wasm_bindgen]
pub fn estimate_lesson(data: &WebDataset, id: &str, tiny: bool, backend: String) -> Promise {
    let prepared = catalog::find(id).ok_or_else(|| Error::config("lesson", format!("there is no built-in lesson `{id}`"))).and_then(|l| {
        if data.kind != DatasetKind::Mnist {
            return Err(Error::config("dataset", "the lessons run on MNIST"));
        }
        let l = sized(&l, if tiny { Size::Tiny } else { Size::Full });
        // The images the timed steps take (a step costs the same on any images), not the lesson's.
        let batch = l.arms.iter().map(|a| a.config.batch_size).max().unwrap_or(1);
        Ok((first(&data.splits.train, batch * (estimate::TIMED_STEPS as u32 + 2))?, first(&data.splits.test, batch)?, l))
    });
    future_to_promise(async move {
        let (train, test, lesson) = prepared.map_err(js_error)?;
        // No kernel timing here: on a software adapter, timing every variant at a lesson's full
        // batch takes minutes. The steps run with the picks this adapter already has (the
        // register kernels elsewhere). On SwiftShader the estimates came out about a quarter
        // shorter than measured lesson runs (README, "Checking the lab's computers").
        let device = open_run(&backend, &[], Ok).await.map_err(js_error)?;
        let e = estimate::estimate(device, &lesson, &train, &test).await.map_err(js_error)?;
        Ok(JsValue::from_str(&serde_json::to_string(&e).expect("an estimate serializes")))
    })
}

/// The check's one line to copy (at most 300 characters): `adapter` in words, the number of
/// variant checks, the variants not used (`["register-8x8(conv forward)"]`) and the estimates.
#[wasm_bindgen]
pub fn check_summary(adapter: &str, checks: u32, failed_json: &str, estimates_json: &str) -> Result<String, JsValue> {
    let failed: Vec<String> = serde_json::from_str(failed_json).map_err(|e| js_error(Error::config("failed", e.to_string())))?;
    let estimates: Vec<Estimate> = serde_json::from_str(estimates_json).map_err(|e| js_error(Error::config("estimates", e.to_string())))?;
    Ok(estimate::summary_line(adapter, checks as usize, &failed, &estimates))
}
