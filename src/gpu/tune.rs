//! The kernel picker, one pass at a time: for a GEMM-shaped pass (a convolution shape's forward or
//! one of its two backward passes, or one of the linear layer's three products), time every variant
//! this adapter can run (`gpu::variant`) on random data of that shape and keep the fastest. Which
//! passes a whole network or training config needs is `train::tuning`'s business. The picks live
//! in the `GpuContext` (the kernel wrappers ask it with `ctx.pick`), are timed once per adapter and
//! shape under a typed key (`TuneKey`: the pass and its `TuneShape`), and are saved by the caller
//! (the CLI in a cache file, the page in IndexedDB) as `PickCache` JSON so that later runs start at
//! once. Each pass's candidates are its table in conv2d.rs or linear.rs (`gpu::registry`).
//!
//! Timing: one untimed run (pipelines compile, memory settles), one timed run, then, for variants
//! within `CLOSE` of the best so far, one more timed run of n back-to-back copies in one submit
//! (n chosen so that a run lasts about `TARGET_MS`); each run waits for a 4-byte readback. A
//! variant's time is its fastest run per copy. On a slow adapter (a CPU emulating the GPU) every
//! run costs tens of ms, so a variant that was more than `CUTOFF` times slower than the best on two
//! shapes of a pass is not timed again for that pass's other shapes (`train::tuning::tune_graph`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::variant::{Pass, TuneKey, TuneShape, Variant};
use super::{conv2d, linear, Dispatch, GpuContext, Tensor};
use crate::check::Tolerance;
use crate::clock::now_s;
use crate::ops::conv2d::Conv2dShape;
use crate::ops::linear::LinearShape;
use crate::reference::{conv2d as ref_conv, linear as ref_linear};
use crate::rng::Rng;
use crate::{Error, Result};

/// About how long one timed run lasts, in ms.
const TARGET_MS: f64 = 20.0;
/// Variants within this factor of the best after one run are timed once more.
const CLOSE: f64 = 1.3;
/// A variant this many times slower than the best on two shapes of a pass (one could be a
/// noisy measurement) is dropped for the pass's other shapes.
pub const CUTOFF: f64 = 3.0;

/// One pass of one shape that can be picked for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Work {
    Conv(Pass, Conv2dShape),
    Linear(Pass, LinearShape),
}

impl Work {
    pub fn pass(&self) -> Pass {
        match self {
            Work::Conv(p, _) | Work::Linear(p, _) => *p,
        }
    }

    /// The shape it is picked for (the pass is `pass()`).
    pub fn key(&self) -> TuneShape {
        match self {
            Work::Conv(_, s) => TuneShape::Conv(*s),
            Work::Linear(_, s) => TuneShape::Linear(*s),
        }
    }

    /// FLOPs of the pass (2 per multiply-add; each pass of a layer does as many as its forward).
    pub fn flops(&self) -> f64 {
        match self {
            Work::Conv(_, s) => s.forward_flops(),
            Work::Linear(_, s) => s.flops(),
        }
    }

    /// The variants worth timing here: every candidate of the pass this adapter can run.
    /// Depthwise convolutions (`conv2d::uses_direct_kernels`) have candidates of their own.
    /// A variant that failed its check against the CPU reference on this adapter is left out.
    pub fn candidates(&self, ctx: &GpuContext) -> Vec<Variant> {
        self.runnable(ctx).into_iter().filter(|v| !ctx.is_excluded(self.pass(), *v)).collect()
    }

    /// Every variant of the pass this adapter can run, checked or not.
    fn runnable(&self, ctx: &GpuContext) -> Vec<Variant> {
        match self {
            Work::Conv(pass, s) => conv2d::variants_for(ctx, *pass, s),
            Work::Linear(..) => linear::variants(ctx),
        }
    }

    fn not_a_pass(&self) -> Error {
        Error::config("tune", format!("{} is not a pass of this layer", self.pass()))
    }
}

/// What timing one pass found: each variant's ms per pass (`None`: it could not be built here),
/// and the pick.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Timing {
    pub pass: String,
    pub shape: String,
    pub gflop: f64,
    pub ms: BTreeMap<String, f64>,
    pub picked: String,
}

impl Timing {
    /// GFLOP/s of `variant`, if it was timed.
    pub fn gflop_per_s(&self, variant: &str) -> Option<f64> {
        self.ms.get(variant).map(|ms| self.gflop / (ms / 1e3))
    }
}

/// The dispatches of one variant of one pass, with the tensors they use.
pub struct Prepared {
    pub dispatches: Vec<Dispatch>,
    _scratch: Option<Tensor>,
}

/// Random operands for one pass (inputs and outputs alike), made once and shared by its variants,
/// with the host copies the reference reads.
pub struct Operands {
    tensors: Vec<Tensor>,
    host: Vec<Vec<f32>>,
}

impl Operands {
    pub fn new(ctx: &GpuContext, work: &Work) -> Result<Self> {
        let mut rng = Rng::new(5);
        let mut host = Vec::new();
        let mut t = |label: &str, shape: &[usize]| -> Result<Tensor> {
            host.push(rng.vec(shape.iter().product(), -1.0, 1.0));
            ctx.tensor(format!("tune {label}"), shape, host.last().unwrap())
        };
        let tensors = match work {
            // x, w, y (dy), dx, dw
            Work::Conv(_, s) => vec![t("x", &s.input_shape())?, t("w", &s.weight_shape())?, t("y", &s.output_shape())?, t("dx", &s.input_shape())?, t("dw", &s.weight_shape())?],
            // x, w, b, y (dy), dx, dw, db
            Work::Linear(_, s) => vec![
                t("x", &[s.batch, s.in_features])?,
                t("w", &[s.out_features, s.in_features])?,
                t("b", &[s.out_features])?,
                t("y", &[s.batch, s.out_features])?,
                t("dx", &[s.batch, s.in_features])?,
                t("dw", &[s.out_features, s.in_features])?,
                t("db", &[s.out_features])?,
            ],
        };
        Ok(Operands { tensors, host })
    }

    /// The tensor `work` writes (for the linear layer's weight gradient: dw, beside db).
    pub fn output(&self, work: &Work) -> &Tensor {
        let i = match work.pass() {
            Pass::ConvForward => 2,
            Pass::ConvBackwardInput | Pass::LinearForward => 3,
            Pass::ConvBackwardWeight | Pass::LinearBackwardInput => 4,
            Pass::LinearBackwardWeight => 5,
        };
        &self.tensors[i]
    }

    /// What the CPU reference computes for `work` on these operands' inputs.
    pub fn reference(&self, work: &Work) -> Result<Vec<f32>> {
        let h = &self.host;
        Ok(match work {
            Work::Conv(Pass::ConvForward, s) => ref_conv::forward(s, &h[0], &h[1])?,
            Work::Conv(Pass::ConvBackwardInput, s) => ref_conv::backward_input(s, &h[2], &h[1])?,
            Work::Conv(Pass::ConvBackwardWeight, s) => ref_conv::backward_weight(s, &h[0], &h[2])?,
            Work::Linear(Pass::LinearForward, s) => ref_linear::forward(s, &h[0], &h[1], &h[2])?,
            Work::Linear(Pass::LinearBackwardInput, s) => ref_linear::backward_input(s, &h[3], &h[1])?,
            Work::Linear(Pass::LinearBackwardWeight, s) => ref_linear::backward_params(s, &h[0], &h[3])?.0,
            _ => return Err(work.not_a_pass()),
        })
    }

    /// The dispatches of `work` in variant `v` on these operands.
    pub fn prepare(&self, ctx: &GpuContext, work: &Work, v: Variant) -> Result<Prepared> {
        let mut p = self.prepare_variant(ctx, work, v)?;
        if ctx.is_broken(v) {
            // The test hook: a broken variant writes nothing, so its output stays random.
            p.dispatches.clear();
        }
        Ok(p)
    }

    fn prepare_variant(&self, ctx: &GpuContext, work: &Work, v: Variant) -> Result<Prepared> {
        let t = &self.tensors;
        let one = |d: Dispatch| Prepared { dispatches: vec![d], _scratch: None };
        Ok(match work {
            Work::Conv(Pass::ConvForward, s) => one(conv2d::forward_with(ctx, s, &t[0], &t[1], &t[2], v)?),
            Work::Conv(Pass::ConvBackwardInput, s) => one(conv2d::backward_input_with(ctx, s, &t[2], &t[1], &t[3], v)?),
            Work::Conv(Pass::ConvBackwardWeight, s) => {
                let bw = conv2d::backward_weight_with(ctx, s, &t[0], &t[2], &t[4], v)?;
                Prepared { dispatches: bw.passes, _scratch: bw.scratch }
            }
            Work::Linear(Pass::LinearForward, s) => one(linear::forward_with(ctx, s, &t[0], &t[1], &t[2], &t[3], v)?),
            Work::Linear(Pass::LinearBackwardInput, s) => one(linear::backward_input_with(ctx, s, &t[3], &t[1], &t[4], v)?),
            Work::Linear(Pass::LinearBackwardWeight, s) => {
                Prepared { dispatches: linear::backward_params_with(ctx, s, &t[0], &t[3], &t[5], &t[6], v)?, _scratch: None }
            }
            _ => return Err(work.not_a_pass()),
        })
    }
}

/// Submits `copies` back-to-back copies of `d` and waits for them; milliseconds per copy.
async fn time_run(ctx: &GpuContext, d: &[Dispatch], copies: usize, sync: &Tensor) -> Result<f64> {
    let all: Vec<&Dispatch> = (0..copies).flat_map(|_| d.iter()).collect();
    let started = now_s();
    ctx.submit(&all)?;
    ctx.read_bytes(&sync.buffer, 4).await?;
    Ok((now_s() - started) * 1e3 / copies as f64)
}

/// Times every candidate variant of `work` and records the fastest in `ctx`.
pub async fn tune_one(ctx: &GpuContext, work: &Work) -> Result<Timing> {
    tune_among(ctx, work, &work.candidates(ctx)).await
}

/// Times `variants` of `work` (some candidates may be left out) and records the fastest in `ctx`.
pub async fn tune_among(ctx: &GpuContext, work: &Work, variants: &[Variant]) -> Result<Timing> {
    let operands = Operands::new(ctx, work)?;
    let sync = &operands.tensors[0];
    let mut prepared = Vec::new();
    let mut ms: BTreeMap<String, f64> = BTreeMap::new();
    for &v in variants {
        // A variant that this adapter cannot build (a limit, a missing feature) is left out.
        let Ok(p) = operands.prepare(ctx, work, v) else { continue };
        time_run(ctx, &p.dispatches, 1, sync).await?;
        ms.insert(v.name().to_string(), time_run(ctx, &p.dispatches, 1, sync).await?);
        prepared.push((v, p));
    }
    let first_best = ms.values().copied().fold(f64::INFINITY, f64::min);
    for (v, p) in &prepared {
        let t = ms[v.name()];
        if prepared.len() > 1 && t < CLOSE * first_best {
            let copies = (TARGET_MS / t.max(1e-3)).clamp(1.0, 64.0) as usize;
            let again = time_run(ctx, &p.dispatches, copies, sync).await?;
            ms.insert(v.name().to_string(), t.min(again));
        }
    }
    let best = prepared.iter().map(|(v, _)| (*v, ms[v.name()])).min_by(|a, b| a.1.total_cmp(&b.1));
    let picked = best.map_or(Variant::Register, |(v, _)| v);
    ctx.set_pick(work.pass(), &work.key(), picked);
    Ok(Timing { pass: work.pass().name().into(), shape: work.key().to_string(), gflop: work.flops() / 1e9, ms, picked: picked.name().into() })
}

/// The picks of every adapter seen, as saved between runs: adapter key → `"pass|shape"` (a
/// `TuneKey`'s text) → variant name.
/// Beside them, for each adapter whose variants were checked against the CPU reference, the
/// variants that failed (`"pass|variant"` → the mismatch; empty when all agreed). A cache of
/// version 1 has no such record, one of version 2 checked none of the depthwise variants, and one
/// of version 3 checked and timed the depthwise variants before their 3×3 stride-1 kernels were
/// written out (shaders/depthwise3.py), and one of versions 4 and 5 before the stride-2 ones were:
/// their adapters are checked again, and their depthwise picks are timed again.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PickCache {
    pub version: u32,
    pub adapters: BTreeMap<String, BTreeMap<String, String>>,
    #[serde(default)]
    pub excluded: BTreeMap<String, BTreeMap<String, String>>,
}

const CACHE_VERSION: u32 = 6;

impl PickCache {
    /// Parses a saved cache; one from another version, or one that does not parse, is ignored
    /// (the picks are simply timed again), and the reason is returned beside the empty cache.
    pub fn parse(json: &str) -> (PickCache, Option<String>) {
        match serde_json::from_str::<PickCache>(json) {
            // Version 1 predates the reference check, version 2 the depthwise variants, version 3
            // their written-out 3×3 kernels, version 4 register-16x16 and 1×1 convolutions run as
            // one row per image, version 5 the written-out stride-2 depthwise kernels: their picks
            // load, but the depthwise ones of versions 3-5 and the dense convolutions' of versions
            // 1-4 (those are timed again), and the check runs (again) before the next timing (a
            // pick that fails it is then not used).
            Ok(mut c) if (1..=CACHE_VERSION).contains(&c.version) => {
                if c.version < CACHE_VERSION {
                    c.excluded.clear();
                }
                let depthwise = |name: &String| Variant::DEPTHWISE.iter().any(|v| v.name() == name);
                let version = c.version;
                c.adapters.values_mut().for_each(|picks| {
                    picks.retain(|key, v| {
                        let timed_again = if depthwise(v) { (3..6).contains(&version) } else { version < 5 && key.starts_with("conv ") };
                        !timed_again
                    })
                });
                (c, None)
            }
            Ok(c) => (PickCache::default(), Some(format!("it is version {}, this build writes {CACHE_VERSION}", c.version))),
            Err(e) => (PickCache::default(), Some(e.to_string())),
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(&PickCache { version: CACHE_VERSION, ..self.clone() }).expect("picks serialize")
    }

    /// Gives `ctx` the picks saved for its adapter (keys and variant names this build does not
    /// know are skipped: those passes are simply timed again).
    pub fn load_into(&self, ctx: &GpuContext) {
        let key = ctx.adapter_key();
        if let Some(failed) = self.excluded.get(&key) {
            let parse = |(k, why): (&String, &String)| {
                let (pass, variant) = k.split_once('|')?;
                Some(((Pass::from_name(pass)?, Variant::from_name(variant)?), why.clone()))
            };
            ctx.set_excluded(failed.iter().filter_map(parse).collect());
        }
        let Some(picks) = self.adapters.get(&key) else { return };
        for (key, name) in picks {
            if let (Some(key), Some(v)) = (TuneKey::parse(key), Variant::from_name(name)) {
                ctx.set_pick(key.pass, &key.shape, v);
            }
        }
    }

    /// Takes in every pick `ctx` holds now, under its adapter.
    pub fn store_from(&mut self, ctx: &GpuContext) {
        if ctx.variants_checked() {
            let failed = ctx.excluded().into_iter().map(|(p, v, why)| (format!("{}|{}", p.name(), v.name()), why)).collect();
            self.excluded.insert(ctx.adapter_key(), failed);
        }
        let entry = self.adapters.entry(ctx.adapter_key()).or_default();
        for (k, v) in ctx.picks() {
            entry.insert(k, v.name().to_string());
        }
    }
}

/// One variant of one pass on one shape against the CPU reference.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VariantCheck {
    pub pass: String,
    pub shape: String,
    pub variant: String,
    /// `None` when it agrees within `Tolerance::balanced`, else the mismatch report.
    pub mismatch: Option<String>,
}

/// The passes and shapes `check_against_reference` runs: every conv and linear pass on a few small
/// shapes that cover the kernels' edges (sizes off the blocks and tiles, stride 2, a 1×1 kernel,
/// groups, depthwise).
fn check_work() -> Vec<Work> {
    let convs = [
        Conv2dShape::new(2, 16, 9, 24, 3, 1, 1),
        Conv2dShape::new(2, 12, 10, 20, 3, 2, 1),
        Conv2dShape::new(1, 8, 7, 9, 1, 1, 0),
        // Pointwise (vec4 kernels): channels and plane off the 16×16 block.
        Conv2dShape::new(2, 20, 6, 12, 1, 1, 0),
        Conv2dShape::new(2, 8, 8, 8, 3, 1, 1).with_groups(2),
        // Depthwise (their own variants): stride 1 and 2, sizes off the 4×4 and 2×8 blocks, a
        // channel multiplier.
        Conv2dShape::new(2, 6, 11, 6, 3, 1, 1).with_groups(6),
        Conv2dShape::new(2, 5, 13, 5, 3, 2, 1).with_groups(5),
        Conv2dShape::new(1, 3, 9, 6, 3, 2, 1).with_groups(3),
    ];
    let linear = LinearShape { batch: 5, in_features: 70, out_features: 67 };
    let conv_work = convs.into_iter().flat_map(|s| Pass::CONV.map(|p| Work::Conv(p, s)));
    conv_work.chain(Pass::LINEAR.map(|p| Work::Linear(p, linear))).collect()
}

/// Runs every variant this adapter has of every pass in `check_work` and compares each result
/// with the CPU reference: what the browser tests call on SwiftShader (the native tests check the
/// same kernels on more shapes). Each variant writes into outputs that start out random.
pub async fn check_against_reference(ctx: &GpuContext) -> Result<Vec<VariantCheck>> {
    let mut out = Vec::new();
    for work in check_work() {
        let want = Operands::new(ctx, &work)?.reference(&work)?;
        for v in work.runnable(ctx) {
            let operands = Operands::new(ctx, &work)?;
            let prepared = operands.prepare(ctx, &work, v)?;
            ctx.submit(&prepared.dispatches.iter().collect::<Vec<_>>())?;
            let got = ctx.read(operands.output(&work)).await?;
            let mismatch = Tolerance::balanced().compare(&format!("{} [{v}]", work.pass()), &got, &want).err();
            let (pass, shape, variant) = (work.pass().name().into(), work.key().to_string(), v.name().into());
            out.push(VariantCheck { pass, shape, variant, mismatch });
        }
    }
    Ok(out)
}

/// Checks every variant against the CPU reference once per adapter (`check_against_reference`)
/// and records the failures in `ctx`, so that the picker never uses them here. Returns the
/// checks made.
pub async fn check_variants(ctx: &GpuContext) -> Result<Vec<VariantCheck>> {
    let checks = check_against_reference(ctx).await?;
    let failed = checks.iter().filter_map(|c| {
        let (pass, v) = (Pass::from_name(&c.pass)?, Variant::from_name(&c.variant)?);
        c.mismatch.as_ref().map(|m| ((pass, v), format!("{} {}: {m}", c.shape, c.variant)))
    });
    // One message per (pass, variant): the first shape it failed on.
    let mut map = BTreeMap::new();
    for (k, why) in failed {
        map.entry(k).or_insert(why);
    }
    ctx.set_excluded(map);
    Ok(checks)
}
