//! Speed: the side-by-side benchmark's tricklab half (`WebBench`: one whole training step, timed
//! phase by phase to its first step, then step by step and dispatch by dispatch), and the speed
//! probe the page's estimates use (`measure_speed`).

use std::rc::Rc;

use js_sys::Promise;
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use super::device::{open_run, WorkerPicks};
use super::{js_error, to_js, WebDataset};
use crate::bench::StepBench;
use crate::gpu::tune::Timing;
use crate::gpu::GpuContext;
use crate::names::Named;
use crate::nn::models::ModelKind;
use crate::train::tuning::{tune_graph, PickStore};
use crate::train::TrainConfig;
use crate::Error;

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
        let device = open_run(&backend, &[(&crate::bench::probe_config(&config), None)], Ok).await.map_err(js_error)?;
        let speed = crate::bench::probe_speed(device, &config, &train).await.map_err(js_error)?;
        Ok(JsValue::from_f64(speed))
    })
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
    timings: Vec<Timing>,
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
                WorkerPicks::default().saved().load_into(&ctx);
                let mut f = FirstStep { device_ms: settled_ms(&ctx, t0).await?, ..Default::default() };
                let t = crate::clock::now_s();
                let graph = crate::bench::bench_config(kind).graph(batch as usize)?;
                let timed = tune_graph(&ctx, &graph).await?;
                f.subgroups = ctx.features.contains(wgpu::Features::SUBGROUP);
                WorkerPicks::default().keep(&ctx, &timed, 0.0);
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

/// `count` images of `kind`'s shape that a network can learn, as real ones: class c is a bright
/// square at a class-dependent place in every channel, over noise. (Random labels on random pixels
/// at the recipe's full rate would make training chaotic, and two summation orders drift apart by
/// 1e-2 within a few steps: the benchmark compares worker counts on a learnable task.)
fn digit_images(kind: crate::data::DatasetKind, count: usize, seed: u64) -> crate::data::Dataset {
    let (channels, height, width) = kind.image_shape();
    let classes = kind.classes();
    let mut rng = crate::rng::Rng::new(seed);
    let (plane, side) = (height * width, height / 5);
    let mut images = vec![0u8; count * channels * plane];
    let mut labels = Vec::with_capacity(count);
    for i in 0..count {
        let c = rng.below(classes);
        labels.push(c as u8);
        let (top, left) = (1 + (c / 5) * (height / 2), 1 + (c % 5) * (width / 5));
        for (p, px) in images[i * channels * plane..(i + 1) * channels * plane].iter_mut().enumerate() {
            let (y, x) = ((p % plane) / width, p % width);
            let inside = (top..top + side).contains(&y) && (left..left + side).contains(&x);
            *px = if inside { 200 } else { 0 } + rng.below(40) as u8;
        }
    }
    crate::data::Dataset { images, labels, count, channels, height, width, classes }
}

/// The CPU benchmark (`cargo xtask bench-cpu`, www/bench/cpu-worker.js): `model` (its dataset's
/// default recipe, seed 1) trains on learnable synthetic images (`digit_images`) at `batch` on the CPU path (the team, where the
/// worker has one): one untimed step, then `steps` timed ones. Resolves to `{model, batch, workers,
/// steps, ms_per_step, images_per_s, gflop_per_step, weights}` (`weights`: every parameter after
/// the timed steps, in order, as one Float32Array, to compare worker counts).
#[wasm_bindgen]
pub fn cpu_bench(model: String, batch: u32, steps: u32) -> js_sys::Promise {
    wasm_bindgen_futures::future_to_promise(async move {
        let kind = <crate::nn::models::ModelKind as crate::names::Named>::parse(&model).map_err(js_error)?;
        let config = TrainConfig { batch_size: batch, epochs: 1, lr_decay_epochs: vec![], seed: 1, ..crate::bench::bench_config(kind) };
        let images = batch as usize * (steps as usize + 1);
        let (train, test) = (digit_images(config.dataset, images, 3), digit_images(config.dataset, batch as usize, 4));
        let mut t = open_run("cpu", &[], |device| crate::train::trainer::Trainer::new(device, config.clone(), &train, &test, None))
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
        // The whole batch's FLOPs (on a team the leader's graph is its own rows').
        let gflop = 3.0 * config.graph(batch as usize).map_err(js_error)?.forward_flops() / 1e9;
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
