//! A run's kernel picks, above the network layer: which GEMM-shaped passes a network or a training
//! config prepares (`graph_work`), picks for all of them (`tune_graph`, `tune_config_while`, each
//! pass timed by `gpu::tune`), and the one sequence that the page and the CLI both start a run
//! with (`open_tuned`): open the device, give it the saved picks, time what has none yet, keep the
//! picks, build the run.

use std::rc::Rc;

use crate::clock::now_s;
use crate::gpu::tune::{tune_among, PickCache, Timing, Work, CUTOFF};
use crate::gpu::{GpuContext, Pass, Variant};
use crate::nn::graph::{Graph, Layer};
use crate::train::backend::Device;
use crate::train::TrainConfig;
use crate::{Error, Result};

/// Every distinct pass of `graph` there is a choice for, in the graph's order.
pub fn graph_work(ctx: &GpuContext, graph: &Graph) -> Vec<Work> {
    let mut out: Vec<Work> = Vec::new();
    for node in &graph.nodes {
        let work: Vec<Work> = match &node.layer {
            Layer::Conv { s, .. } => [Pass::ConvForward, Pass::ConvBackwardInput, Pass::ConvBackwardWeight].map(|p| Work::Conv(p, *s)).to_vec(),
            Layer::Linear { s, .. } => [Pass::LinearForward, Pass::LinearBackwardInput, Pass::LinearBackwardWeight].map(|p| Work::Linear(p, *s)).to_vec(),
            _ => vec![],
        };
        for w in work {
            if w.candidates(ctx).len() > 1 && !out.iter().any(|o| o.pass() == w.pass() && o.key() == w.key()) {
                out.push(w);
            }
        }
    }
    out
}

/// Picks a variant for every pass of `graph` that has none yet; returns the timings made.
pub async fn tune_graph(ctx: &GpuContext, graph: &Graph) -> Result<Vec<Timing>> {
    tune_graph_while(ctx, graph, || true).await
}

/// `tune_graph`, stopping before the next pass once `go_on` says no (the picks made so far stay).
pub async fn tune_graph_while(ctx: &GpuContext, graph: &Graph, go_on: impl Fn() -> bool) -> Result<Vec<Timing>> {
    let mut out: Vec<Timing> = Vec::new();
    for w in graph_work(ctx, graph) {
        if !go_on() {
            break;
        }
        if ctx.picked(w.pass(), &w.key()).is_some() {
            continue;
        }
        // Variants far behind on two earlier shapes of this pass are not timed again.
        let behind = |v: Variant| {
            out.iter()
                .filter(|t| t.pass == w.pass().name())
                .filter(|t| {
                    let best = t.ms.values().copied().fold(f64::INFINITY, f64::min);
                    t.ms.get(v.name()).is_some_and(|&ms| ms > CUTOFF * best)
                })
                .count()
                >= 2
        };
        let variants: Vec<Variant> = w.candidates(ctx).into_iter().filter(|&v| !behind(v)).collect();
        out.push(tune_among(ctx, &w, &variants).await?);
    }
    Ok(out)
}

/// Picks for everything a training run of `config` prepares on the GPU: its network at its batch
/// size, and a teacher's network at the same batch when distilling; stops before the next pass
/// once `go_on` says no.
pub async fn tune_config_while(ctx: &GpuContext, config: &TrainConfig, teacher: Option<&TrainConfig>, go_on: impl Fn() -> bool) -> Result<Vec<Timing>> {
    let batch = config.batch_size as usize;
    let mut out = tune_graph_while(ctx, &config.graph(batch)?, &go_on).await?;
    if let Some(t) = teacher {
        out.extend(tune_graph_while(ctx, &t.graph(batch)?, &go_on).await?);
    }
    Ok(out)
}

/// What a run computes on: the GPU (WebGPU in the browser, wgpu natively) or the CPU reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceKind {
    Gpu,
    Cpu,
}

impl DeviceKind {
    /// "gpu" or "cpu", as the page's worker names them.
    pub fn parse(name: &str) -> Result<DeviceKind> {
        match name {
            "gpu" => Ok(DeviceKind::Gpu),
            "cpu" => Ok(DeviceKind::Cpu),
            other => Err(Error::config("backend", format!("`{other}` is not a backend; use \"gpu\" or \"cpu\""))),
        }
    }
}

/// Where a caller keeps its kernel picks between runs (the CLI in a cache file, the page in
/// IndexedDB), and the GPU context it may already hold open with them (the page's worker shares
/// one between runs, so that its pipelines compile once).
pub trait PickStore {
    /// The picks saved so far.
    fn saved(&self) -> PickCache;
    /// Keeps `ctx`'s picks after `timed` were timed, which took `seconds`.
    fn keep(&mut self, ctx: &GpuContext, timed: &[Timing], seconds: f64);
    /// False turns the picker off: no saved picks, no timing (the register kernels everywhere).
    fn picking(&self) -> bool {
        true
    }
    /// Checked before each pass is timed: false stops the timing (the picks made so far stay).
    fn go_on(&self) -> bool {
        true
    }
    /// A context already open, with this store's picks (none: a new one is opened).
    fn open_context(&self) -> Option<Rc<GpuContext>> {
        None
    }
    /// Told of a context just opened, to hand it out again.
    fn opened(&mut self, _ctx: &Rc<GpuContext>) {}
}

/// The store's open context, or a new one given the picks saved for its adapter.
pub async fn open_gpu(store: &mut impl PickStore) -> Result<Rc<GpuContext>> {
    if let Some(ctx) = store.open_context() {
        return Ok(ctx);
    }
    let ctx = Rc::new(GpuContext::new().await?);
    if store.picking() {
        store.saved().load_into(&ctx);
    }
    store.opened(&ctx);
    Ok(ctx)
}

/// The networks a run prepares: each config with its teacher's, if it distills.
pub type Nets<'a> = [(&'a TrainConfig, Option<&'a TrainConfig>)];

/// Picks for every pass of `nets` that has none yet, kept in `store`; the timings made.
pub async fn tune_nets(ctx: &GpuContext, store: &mut impl PickStore, nets: &Nets<'_>) -> Result<Vec<Timing>> {
    if !store.picking() {
        return Ok(vec![]);
    }
    let started = now_s();
    // Once per adapter, before any timing: a variant that disagrees with the CPU reference here
    // is never timed or picked.
    if !ctx.variants_checked() {
        crate::gpu::tune::check_variants(ctx).await?;
    }
    let mut timed = Vec::new();
    for (config, teacher) in nets {
        timed.extend(tune_config_while(ctx, config, *teacher, || store.go_on()).await?);
    }
    store.keep(ctx, &timed, now_s() - started);
    Ok(timed)
}

/// How every run starts, on the page and in the CLI alike: opens the device of `kind` (on the
/// GPU with the picks `store` saved), times the kernel variants of whatever `nets` prepare that has
/// no pick yet and keeps the picks in `store`, then builds the run with `build` on that device.
/// Returns what `build` made and the timings made.
pub async fn open_tuned<T>(kind: DeviceKind, store: &mut impl PickStore, nets: &Nets<'_>, build: impl FnOnce(Device) -> Result<T>) -> Result<(T, Vec<Timing>)> {
    let (device, timed) = match kind {
        DeviceKind::Cpu => (Device::Cpu, vec![]),
        DeviceKind::Gpu => {
            let ctx = open_gpu(store).await?;
            let timed = tune_nets(&ctx, store, nets).await?;
            (Device::Gpu(ctx), timed)
        }
    };
    Ok((build(device)?, timed))
}
