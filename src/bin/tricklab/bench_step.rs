//! `tricklab bench-step`: milliseconds per whole training step (`tricklab::bench::StepBench`, the
//! same step the page's bench-web times: forward, loss, backward and SGD, recorded as one submit and
//! waited for) of ResNet-20 on 32×32×3 inputs and of the default MNIST model, natively. It reports the time from building the model to
//! the first finished step (pipeline creation included), the median over the timed steps, images/s
//! and GFLOP/s, and with `--profile` where one step's time goes, per kernel family. With
//! `--pytorch PYTHON` it runs `bench/pytorch_resnet20.py` under that interpreter on the same model,
//! batch and thread count, and prints the ratio.
//!
//! FLOPs per step = 3 × forward FLOPs, forward FLOPs = Σ over conv and linear layers of
//! 2 · multiply-adds (`Graph::forward_flops`): the backward does one product of the forward's size
//! for the input gradient and one for the weight gradient. BN, ReLU, pooling, loss and SGD are not
//! counted.

use crate::bench::median;
use std::collections::BTreeMap;
use std::process::Command;
use std::time::Instant;

use tricklab::bench::StepBench;
use tricklab::gpu::{block_on, Dispatch, GpuContext};
use tricklab::names::Named;
use tricklab::nn::models::ModelKind;

const HELP: &str = "usage: tricklab bench-step [--model M] [--batch B] [--steps S] [--profile] [--pytorch PYTHON] [--threads T]

Times whole training steps (forward, loss, backward, SGD with momentum; one submit, then wait) on
random data. M is a model name (resnet20 and the CIFAR models on 32x32x3 inputs, mnist_resnet on
28x28x1) or all (default: resnet20 and mnist_resnet, at batch 8 and 32 unless B is given). S timed steps after one warm-up step (default 10). Prints one
JSON line per model and a table.

  --profile         also time every dispatch of one step on its own (repeated in one submit) and
                    print the time per kernel family
  --pytorch PYTHON  run bench/pytorch_resnet20.py with PYTHON on the same ResNet-20 step (CPU,
                    T threads, default: the number of CPUs) and print both and their ratio";

struct Options {
    models: Vec<ModelKind>,
    batch: Option<usize>,
    steps: usize,
    profile: bool,
    pytorch: Option<String>,
    threads: usize,
}

/// One model's numbers.
struct Measured {
    model: ModelKind,
    batch: usize,
    first_step_ms: f64,
    median_ms: f64,
    dispatches: usize,
    gflop: f64,
}

impl Measured {
    fn images_per_s(&self) -> f64 {
        self.batch as f64 * 1e3 / self.median_ms
    }
    fn gflop_per_s(&self) -> f64 {
        self.gflop * 1e3 / self.median_ms
    }
    /// The JSON line `cargo xtask bench-gpu` and bench-web read.
    fn json(&self) -> serde_json::Value {
        let r = |v: f64, digits: i32| (v * 10f64.powi(digits)).round() / 10f64.powi(digits);
        serde_json::json!({
            "model": self.model.to_string(), "batch": self.batch, "tricklab_ms_per_step": r(self.median_ms, 2),
            "tricklab_first_step_ms": r(self.first_step_ms, 1), "images_per_s": r(self.images_per_s(), 1),
            "gflop_per_step": r(self.gflop, 4), "gflop_per_s": r(self.gflop_per_s(), 3), "dispatches_per_step": self.dispatches,
        })
    }
}

pub fn run(args: &[String]) -> Result<(), String> {
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("{HELP}");
        return Ok(());
    }
    let opts = parse(args)?;
    let mut results = Vec::new();
    for &model in &opts.models {
        let batch = opts.batch.unwrap_or(if model == ModelKind::MnistResnet { 32 } else { 8 });
        let m = measure(model, batch, &opts).map_err(|e| e.to_string())?;
        println!("{}", m.json());
        results.push(m);
    }
    println!("\nmodel          batch  ms/step (median)  first step ms  images/s  GFLOP/step  GFLOP/s  dispatches");
    for m in &results {
        println!(
            "{:<14} {:>5}  {:>16.1}  {:>13.0}  {:>8.1}  {:>10.3}  {:>7.3}  {:>10}",
            m.model,
            m.batch,
            m.median_ms,
            m.first_step_ms,
            m.images_per_s(),
            m.gflop,
            m.gflop_per_s(),
            m.dispatches
        );
    }
    println!("GFLOP/step = 3 x forward FLOPs (2 per multiply-add, conv and linear layers only).");
    if let Some(python) = &opts.pytorch {
        let Some(ours) = results.iter().find(|m| m.model == ModelKind::Resnet20) else {
            return Err("--pytorch compares ResNet-20: include --model resnet20".into());
        };
        pytorch(python, ours, &opts)?;
    }
    Ok(())
}

fn parse(args: &[String]) -> Result<Options, String> {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut opts = Options { models: vec![ModelKind::Resnet20, ModelKind::MnistResnet], batch: None, steps: 10, profile: false, pytorch: None, threads: cpus };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        if flag == "--profile" {
            opts.profile = true;
            continue;
        }
        let value = it.next().ok_or_else(|| format!("`{flag}` needs a value\n{HELP}"))?;
        match flag.as_str() {
            "--model" => {
                opts.models = match value.as_str() {
                    "all" => vec![ModelKind::Resnet20, ModelKind::MnistResnet],
                    name => vec![ModelKind::parse(name).map_err(|e| format!("{e}, or all"))?],
                }
            }
            "--batch" => opts.batch = Some(number(flag, value)?),
            "--steps" => opts.steps = number(flag, value)?,
            "--threads" => opts.threads = number(flag, value)?,
            "--pytorch" => opts.pytorch = Some(value.clone()),
            other => return Err(format!("unknown option `{other}`\n{HELP}")),
        }
    }
    if opts.batch == Some(0) || opts.steps == 0 || opts.threads == 0 {
        return Err(format!("--batch, --steps and --threads must be positive\n{HELP}"));
    }
    let max_batch = tricklab::train::config::MAX_BATCH_SIZE as usize;
    if opts.batch.is_some_and(|b| b > max_batch) {
        return Err(format!("--batch is at most {max_batch} (the largest training batch)"));
    }
    Ok(opts)
}

fn number(flag: &str, value: &str) -> Result<usize, String> {
    value.parse().map_err(|_| format!("`{flag}` needs a positive whole number, not `{value}`"))
}

fn measure(model: ModelKind, batch: usize, opts: &Options) -> tricklab::Result<Measured> {
    // A fresh context per model, so the first step pays for every pipeline it uses; the kernel
    // picks come from the cache, or are timed first (reported apart: a one-time cost per adapter).
    let ctx = crate::kernels::open().map_err(tricklab::Error::Gpu)?;
    eprintln!("{model} batch {batch} on {}", ctx.describe());
    let tuned = Instant::now();
    let timed = crate::kernels::prepare_graph(&ctx, &tricklab::bench::bench_config(model).graph(batch)?).map_err(tricklab::Error::Gpu)?;
    if !timed.is_empty() {
        eprintln!("  kernel variants of {} passes timed in {:.1} s", timed.len(), tuned.elapsed().as_secs_f64());
    }
    let started = Instant::now();
    let bench = StepBench::new(&ctx, model, batch)?;
    let dispatches = bench.dispatches();
    ctx.submit(&dispatches)?;
    ctx.wait()?;
    let first_step_ms = started.elapsed().as_secs_f64() * 1e3;
    eprintln!("  variants: {}", crate::kernels::describe_used(&ctx));
    let mut times = Vec::with_capacity(opts.steps);
    for _ in 0..opts.steps {
        let t = Instant::now();
        ctx.submit(&dispatches)?;
        ctx.wait()?;
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let loss = block_on(ctx.read_bytes(&bench.step.metrics.buffer, 4))?;
    let loss = f32::from_le_bytes(loss[..4].try_into().unwrap());
    if !loss.is_finite() {
        return Err(tricklab::Error::Gpu(format!("{model}: the summed loss is {loss} after the timed steps")));
    }
    let median_ms = median(&times);
    if opts.profile {
        profile(&ctx, &dispatches, median_ms)?;
    }
    Ok(Measured { model, batch, first_step_ms, median_ms, dispatches: dispatches.len(), gflop: bench.gflop })
}

/// Times each dispatch of the step alone: `REPS` copies in one submit, then wait, divided by
/// `REPS`; sums them per family. The sum can differ from the whole step (per-submit overhead,
/// caches); both are printed. Repeating a dispatch changes the numbers it works on (SGD and
/// running statistics move on) but not the work it does.
fn profile(ctx: &GpuContext, dispatches: &[&Dispatch], step_ms: f64) -> tricklab::Result<()> {
    const REPS: usize = 5;
    let mut families: BTreeMap<String, (usize, f64)> = BTreeMap::new();
    let mut total = 0.0;
    for d in dispatches {
        let list = vec![*d; REPS];
        ctx.submit(&list)?;
        ctx.wait()?;
        let t = Instant::now();
        ctx.submit(&list)?;
        ctx.wait()?;
        let ms = t.elapsed().as_secs_f64() * 1e3 / REPS as f64;
        let e = families.entry(d.family()).or_default();
        e.0 += 1;
        e.1 += ms;
        total += ms;
    }
    let mut rows: Vec<_> = families.into_iter().collect();
    rows.sort_by(|a, b| b.1 .1.total_cmp(&a.1 .1));
    eprintln!("  profile: each dispatch alone ({REPS} copies per submit); sum {total:.1} ms vs {step_ms:.1} ms for the whole step");
    eprintln!("  {:<40} {:>5} {:>9} {:>6}", "family", "count", "ms", "share");
    for (name, (count, ms)) in rows {
        eprintln!("  {name:<40} {count:>5} {ms:>9.2} {:>5.1}%", 100.0 * ms / total);
    }
    let empty = Instant::now();
    ctx.submit(&[])?;
    ctx.wait()?;
    eprintln!("  an empty submit + wait: {:.3} ms", empty.elapsed().as_secs_f64() * 1e3);
    Ok(())
}

/// Runs the PyTorch script on the same ResNet-20 step, with oneDNN on (PyTorch's default) and off,
/// and prints both times and their ratios to tricklab's.
fn pytorch(python: &str, ours: &Measured, opts: &Options) -> Result<(), String> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/bench/pytorch_resnet20.py");
    println!();
    for mkldnn in ["on", "off"] {
        let out = Command::new(python)
            .arg(script)
            .args(["--batch", &ours.batch.to_string(), "--steps", &opts.steps.to_string(), "--threads", &opts.threads.to_string()])
            .args(["--mkldnn", mkldnn])
            .output()
            .map_err(|e| format!("could not run `{python} {script}`: {e}"))?;
        if !out.status.success() {
            return Err(format!("{script} failed:\n{}", String::from_utf8_lossy(&out.stderr)));
        }
        let text = String::from_utf8_lossy(&out.stdout);
        let line = text.lines().rev().find(|l| l.starts_with('{')).ok_or_else(|| format!("{script} printed no JSON line:\n{text}"))?;
        let value: serde_json::Value = serde_json::from_str(line).map_err(|e| format!("{script}: {e}: {line}"))?;
        let torch_ms = value["ms_per_step"].as_f64().ok_or_else(|| format!("{script}: no ms_per_step in {line}"))?;
        println!(
            "{{\"model\":\"resnet20\",\"batch\":{},\"threads\":{},\"tricklab_lavapipe_ms_per_step\":{:.2},\"pytorch_cpu_ms_per_step\":{:.2},\"pytorch_mkldnn\":\"{mkldnn}\",\"ratio_pytorch_over_tricklab\":{:.3},\"torch\":{}}}",
            ours.batch, opts.threads, ours.median_ms, torch_ms, torch_ms / ours.median_ms, value["torch"]
        );
        println!(
            "ResNet-20 batch {} natively: tricklab (lavapipe) {:.1} ms/step, PyTorch CPU ({} threads, oneDNN {mkldnn}) {:.1} ms/step; PyTorch/tricklab = {:.2}",
            ours.batch, ours.median_ms, opts.threads, torch_ms, torch_ms / ours.median_ms
        );
    }
    Ok(())
}
