//! The worker's GPU: one context shared by every run (opened on first use, or again after a lost
//! device), the kernel picks it keeps for IndexedDB, the variant check and the warm-up that
//! compiles a run's pipelines while the visitor reads the page, and the browser tests' memory hook.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use super::{first, js_error, to_js, WebDataset};
use crate::gpu::tune::{PickCache, Timing};
use crate::gpu::GpuContext;
use crate::train::backend::Device;
use crate::train::trainer::Trainer;
use crate::train::tuning::{open_gpu, open_tuned, DeviceKind, Nets, PickStore};
use crate::train::TrainConfig;
use crate::Error;

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

/// The worker's kernel picks (`PICKS`, kept for `kernel_picks` to save) and its shared GPU context
/// (`SHARED_GPU`, opened on first use or again after a lost device) as a `PickStore`. A warm-up's
/// timing stops once `stop_warm_up` is called; a run's never does.
#[derive(Default)]
pub(super) struct WorkerPicks {
    warm_up: bool,
}

impl PickStore for WorkerPicks {
    fn saved(&self) -> PickCache {
        PICKS.with(|p| p.borrow().clone())
    }

    fn keep(&mut self, ctx: &GpuContext, _timed: &[Timing], _seconds: f64) {
        PICKS.with(|p| p.borrow_mut().store_from(ctx));
    }

    fn go_on(&self) -> bool {
        !(self.warm_up && WARM_UP_STOPPED.with(|s| s.get()))
    }

    fn open_context(&self) -> Option<Rc<GpuContext>> {
        SHARED_GPU.with(|s| s.borrow().clone()).filter(|c| !c.is_lost())
    }

    fn opened(&mut self, ctx: &Rc<GpuContext>) {
        SHARED_GPU.with(|s| *s.borrow_mut() = Some(ctx.clone()));
    }
}

/// The worker's shared GPU context, with the kernel picks known for its adapter.
pub(super) async fn shared_gpu() -> crate::Result<Rc<GpuContext>> {
    open_gpu(&mut WorkerPicks::default()).await
}

/// Opens the device of `backend` ("gpu": the shared context; "cpu": the reference ops, where
/// WebGPU offers no adapter), times the kernel variants for whatever `nets` prepare that has no pick
/// yet (only the first time an adapter meets a shape), and builds the run with `build`.
/// CPU runs share their batches with the worker's team of CPU workers when it has one.
pub(super) async fn open_run<T>(backend: &str, nets: &Nets<'_>, build: impl FnOnce(Device) -> crate::Result<T>) -> crate::Result<T> {
    let kind = DeviceKind::parse(backend)?;
    if let (DeviceKind::Cpu, Some(team)) = (kind, super::team::cpu_team()) {
        return build(Device::Team(team));
    }
    Ok(open_tuned(kind, &mut WorkerPicks::default(), nets, build).await?.0)
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

/// Every kernel variant of this adapter against the CPU reference (`gpu::tune::check_variants`):
/// `[{pass, shape, variant, mismatch}]`, mismatch null where it agrees. A variant that fails is
/// not used on this adapter from then on (and the record is kept with the picks). For the
/// "Check this computer" view and the browser tests.
#[wasm_bindgen]
pub fn check_kernel_variants() -> Promise {
    future_to_promise(async move {
        let ctx = shared_gpu().await.map_err(js_error)?;
        let checks = crate::gpu::tune::check_variants(&ctx).await.map_err(js_error)?;
        PICKS.with(|p| p.borrow_mut().store_from(&ctx));
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
    let excluded: Vec<serde_json::Value> =
        ctx.excluded().into_iter().map(|(p, v, why)| serde_json::json!({ "pass": p.name(), "variant": v.name(), "mismatch": why })).collect();
    to_js(&serde_json::json!({ "adapter": ctx.describe(), "key": ctx.adapter_key(), "variants": variants, "picks": picks, "excluded": excluded }))
}

/// A test hook (www/tests/check.test.mjs): kernel variant `name` computes wrong results on the
/// shared GPU context from now on, as a driver bug would; the next variant check finds it.
#[wasm_bindgen]
pub async fn break_kernel_variant(name: String) -> Result<(), JsValue> {
    let v = crate::gpu::Variant::from_name(&name).ok_or_else(|| js_error(Error::config("variant", format!("no kernel variant `{name}`"))))?;
    shared_gpu().await.map_err(js_error)?.break_variant(v);
    Ok(())
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
        let stopped = || WARM_UP_STOPPED.with(|s| s.get());
        let build = |device: Device| {
            let Device::Gpu(ctx) = &device else { return Err(Error::Gpu("the warm-up opened no GPU".into())) };
            let ctx = ctx.clone();
            let built = !stopped();
            if built {
                drop(Trainer::new(device, config.clone(), &train, &test, None)?);
            }
            Ok((ctx, built))
        };
        let nets = [(&config, None)];
        let ((ctx, built), timed) = open_tuned(DeviceKind::Gpu, &mut WorkerPicks { warm_up: true }, &nets, build).await.map_err(js_error)?;
        if built {
            ctx.read_bytes(&ctx.zeros("warm-up sync", &[1]).map_err(js_error)?.buffer, 4).await.map_err(js_error)?;
        }
        to_js(&serde_json::json!({ "timed": timed.len(), "pipelines": ctx.pipeline_count(), "stopped": stopped() }))
    })
}

/// The GPU buffers alive now across every context of the worker, `{buffers, bytes}`: back to
/// where it started once each run's trainer is freed (a hook for the page's browser tests,
/// www/tests/page.test.mjs: the 20-runs test reads it).
#[wasm_bindgen]
pub fn gpu_memory() -> Result<JsValue, JsValue> {
    to_js(&crate::gpu::live_buffers())
}
