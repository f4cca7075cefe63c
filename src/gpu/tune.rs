//! The kernel picker, one pass at a time: for a GEMM-shaped pass (a convolution shape's forward or
//! one of its two backward passes, or one of the linear layer's three products), time every variant
//! this adapter can run (`gpu::variant`) on random data of that shape and keep the fastest. Which
//! passes a whole network or training config needs is `train::tuning`'s business. The picks live
//! in the `GpuContext` (the kernel wrappers ask it with `ctx.pick`), are timed once per adapter and
//! shape, and are saved by the caller (the CLI in a cache file, the page in IndexedDB) as
//! `PickCache` JSON so that later runs start at once.
//!
//! Timing: one untimed run (pipelines compile, memory settles), one timed run, then, for variants
//! within `CLOSE` of the best so far, one more timed run of n back-to-back copies in one submit
//! (n chosen so that a run lasts about `TARGET_MS`); each run waits for a 4-byte readback. A
//! variant's time is its fastest run per copy. On a slow adapter (a CPU emulating the GPU) every
//! run costs tens of ms, so a variant that was more than `CUTOFF` times slower than the best on two
//! shapes of a pass is not timed again for that pass's other shapes (`train::tuning::tune_graph`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::variant::{Pass, Variant};
use super::{conv2d, linear, Dispatch, GpuContext, Tensor};
use crate::clock::now_s;
use crate::ops::conv2d::Conv2dShape;
use crate::ops::linear::LinearShape;
use crate::rng::Rng;
use crate::{Error, Result};

/// About how long one timed run lasts, in ms.
const TARGET_MS: f64 = 20.0;
/// Variants within this factor of the best after one run are timed once more.
const CLOSE: f64 = 1.3;
/// A variant this many times slower than the best on two shapes of a pass (one could be a
/// noisy measurement) is dropped for the pass's other shapes.
pub const CUTOFF: f64 = 3.0;

/// The cache key of a convolution shape (batch included: the best variant depends on it).
pub fn conv_key(s: &Conv2dShape) -> String {
    format!(
        "n{} {}x{}x{} -> {} k{}x{} s{} p{} g{}",
        s.batch, s.in_channels, s.in_h, s.in_w, s.out_channels, s.kernel_h, s.kernel_w, s.stride, s.padding, s.groups
    )
}

/// The cache key of a linear layer's shape.
pub fn linear_key(s: &LinearShape) -> String {
    format!("n{} {} -> {}", s.batch, s.in_features, s.out_features)
}

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

    /// The shape's key (without the pass).
    pub fn key(&self) -> String {
        match self {
            Work::Conv(_, s) => conv_key(s),
            Work::Linear(_, s) => linear_key(s),
        }
    }

    /// FLOPs of the pass (2 per multiply-add; each pass of a layer does as many as its forward).
    pub fn flops(&self) -> f64 {
        match self {
            Work::Conv(_, s) => s.forward_flops(),
            Work::Linear(_, s) => s.flops(),
        }
    }

    /// The variants worth timing here: every variant the pass has on this adapter. Depthwise
    /// convolutions have one kernel of their own (`conv2d::uses_direct_kernels`), nothing to pick.
    pub fn candidates(&self, ctx: &GpuContext) -> Vec<Variant> {
        match self {
            Work::Conv(_, s) if conv2d::uses_direct_kernels(s) => vec![],
            Work::Conv(..) => conv2d::variants(ctx),
            Work::Linear(..) => linear::variants(ctx),
        }
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

/// Random operands for one pass, made once and shared by its variants.
pub struct Operands {
    tensors: Vec<Tensor>,
}

impl Operands {
    pub fn new(ctx: &GpuContext, work: &Work) -> Result<Self> {
        let mut rng = Rng::new(5);
        let mut t = |label: &str, shape: &[usize]| -> Result<Tensor> {
            let len = shape.iter().product();
            ctx.tensor(format!("tune {label}"), shape, &rng.vec(len, -1.0, 1.0))
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
        Ok(Operands { tensors })
    }

    /// The dispatches of `work` in variant `v` on these operands.
    pub fn prepare(&self, ctx: &GpuContext, work: &Work, v: Variant) -> Result<Prepared> {
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
            Work::Conv(p, _) | Work::Linear(p, _) => return Err(Error::config("tune", format!("{p} is not a pass of this layer"))),
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
    Ok(Timing { pass: work.pass().name().into(), shape: work.key(), gflop: work.flops() / 1e9, ms, picked: picked.name().into() })
}

/// The picks of every adapter seen, as saved between runs: adapter key → `"pass|shape"` →
/// variant name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PickCache {
    pub version: u32,
    pub adapters: BTreeMap<String, BTreeMap<String, String>>,
}

const CACHE_VERSION: u32 = 1;

impl PickCache {
    /// Parses a saved cache; one from another version, or one that does not parse, is ignored
    /// (the picks are simply timed again), and the reason is returned beside the empty cache.
    pub fn parse(json: &str) -> (PickCache, Option<String>) {
        match serde_json::from_str::<PickCache>(json) {
            Ok(c) if c.version == CACHE_VERSION => (c, None),
            Ok(c) => (PickCache::default(), Some(format!("it is version {}, this build writes {CACHE_VERSION}", c.version))),
            Err(e) => (PickCache::default(), Some(e.to_string())),
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(&PickCache { version: CACHE_VERSION, adapters: self.adapters.clone() }).expect("picks serialize")
    }

    /// Gives `ctx` the picks saved for its adapter (unknown variant names are skipped).
    pub fn load_into(&self, ctx: &GpuContext) {
        let Some(picks) = self.adapters.get(&ctx.adapter_key()) else { return };
        for (key, name) in picks {
            let (Some((pass, shape)), Some(v)) = (key.split_once('|'), Variant::from_name(name)) else { continue };
            if let Some(pass) = Pass::ALL.into_iter().find(|p| p.name() == pass) {
                ctx.set_pick(pass, shape, v);
            }
        }
    }

    /// Takes in every pick `ctx` holds now, under its adapter.
    pub fn store_from(&mut self, ctx: &GpuContext) {
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

/// Runs every variant this adapter has, of every conv and linear pass, on a few small shapes that
/// cover the kernels' edges (sizes off the blocks and tiles, stride 2, a 1×1 kernel, groups) and
/// compares each result with the CPU reference: what the browser tests call on SwiftShader (the
/// native tests check the same kernels on more shapes).
pub async fn check_against_reference(ctx: &GpuContext) -> Result<Vec<VariantCheck>> {
    use crate::check::Tolerance;
    use crate::reference::{conv2d as ref_conv, linear as ref_linear};
    let tol = Tolerance::balanced();
    let mut rng = Rng::new(99);
    let mut out = Vec::new();
    let convs = [
        Conv2dShape::new(2, 16, 9, 24, 3, 1, 1),
        Conv2dShape::new(2, 12, 10, 20, 3, 2, 1),
        Conv2dShape::new(1, 8, 7, 9, 1, 1, 0),
        Conv2dShape::new(2, 8, 8, 8, 3, 1, 1).with_groups(2),
    ];
    for s in convs {
        let (x, w, dy) = (rng.vec(s.input_len(), -1.0, 1.0), rng.vec(s.weight_len(), -1.0, 1.0), rng.vec(s.output_len(), -1.0, 1.0));
        let (xt, wt, dyt) = (ctx.tensor("check x", &s.input_shape(), &x)?, ctx.tensor("check w", &s.weight_shape(), &w)?, ctx.tensor("check dy", &s.output_shape(), &dy)?);
        let want = [ref_conv::forward(&s, &x, &w)?, ref_conv::backward_input(&s, &dy, &w)?, ref_conv::backward_weight(&s, &x, &dy)?];
        for v in conv2d::variants(ctx) {
            for (pass, want) in [Pass::ConvForward, Pass::ConvBackwardInput, Pass::ConvBackwardWeight].into_iter().zip(&want) {
                let got = match pass {
                    Pass::ConvForward => {
                        let y = ctx.zeros("check y", &s.output_shape())?;
                        ctx.submit(&[&conv2d::forward_with(ctx, &s, &xt, &wt, &y, v)?])?;
                        ctx.read(&y).await?
                    }
                    Pass::ConvBackwardInput => {
                        let dx = ctx.zeros("check dx", &s.input_shape())?;
                        ctx.submit(&[&conv2d::backward_input_with(ctx, &s, &dyt, &wt, &dx, v)?])?;
                        ctx.read(&dx).await?
                    }
                    _ => {
                        let dw = ctx.zeros("check dw", &s.weight_shape())?;
                        let bw = conv2d::backward_weight_with(ctx, &s, &xt, &dyt, &dw, v)?;
                        ctx.submit(&bw.dispatches())?;
                        ctx.read(&dw).await?
                    }
                };
                let mismatch = tol.compare(&format!("{pass} [{v}]"), &got, want).err();
                out.push(VariantCheck { pass: pass.name().into(), shape: conv_key(&s), variant: v.name().into(), mismatch });
            }
        }
    }
    let s = LinearShape { batch: 5, in_features: 70, out_features: 67 };
    let (x, w, b, dy) = (rng.vec(5 * 70, -1.0, 1.0), rng.vec(67 * 70, -1.0, 1.0), rng.vec(67, -1.0, 1.0), rng.vec(5 * 67, -1.0, 1.0));
    let (xt, wt, bt, dyt) = (ctx.tensor("check x", &[5, 70], &x)?, ctx.tensor("check w", &[67, 70], &w)?, ctx.tensor("check b", &[67], &b)?, ctx.tensor("check dy", &[5, 67], &dy)?);
    let (want_dw, _) = ref_linear::backward_params(&s, &x, &dy)?;
    let want = [ref_linear::forward(&s, &x, &w, &b)?, ref_linear::backward_input(&s, &dy, &w)?, want_dw];
    for v in linear::variants(ctx) {
        for (pass, want) in [Pass::LinearForward, Pass::LinearBackwardInput, Pass::LinearBackwardWeight].into_iter().zip(&want) {
            let got = match pass {
                Pass::LinearForward => {
                    let y = ctx.zeros("check y", &[5, 67])?;
                    ctx.submit(&[&linear::forward_with(ctx, &s, &xt, &wt, &bt, &y, v)?])?;
                    ctx.read(&y).await?
                }
                Pass::LinearBackwardInput => {
                    let dx = ctx.zeros("check dx", &[5, 70])?;
                    ctx.submit(&[&linear::backward_input_with(ctx, &s, &dyt, &wt, &dx, v)?])?;
                    ctx.read(&dx).await?
                }
                _ => {
                    let (dw, db) = (ctx.zeros("check dw", &[67, 70])?, ctx.zeros("check db", &[67])?);
                    let d = linear::backward_params_with(ctx, &s, &xt, &dyt, &dw, &db, v)?;
                    ctx.submit(&d.iter().collect::<Vec<_>>())?;
                    ctx.read(&dw).await?
                }
            };
            let mismatch = tol.compare(&format!("{pass} [{v}]"), &got, want).err();
            out.push(VariantCheck { pass: pass.name().into(), shape: linear_key(&s), variant: v.name().into(), mismatch });
        }
    }
    Ok(out)
}
