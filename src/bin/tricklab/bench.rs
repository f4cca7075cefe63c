//! `tricklab bench-kernels`: GFLOP/s of every kernel variant (register-blocked, wide, tiled,
//! subgroup; `tricklab::gpu::variant`) of each GEMM-shaped pass (the convolution's forward,
//! backward-input and backward-weight at the distinct conv shapes of ResNet-20 on CIFAR-10, and
//! the linear layer's three products at the final FC shape and at a square 512³ product), and
//! which variant is picked: the fastest. The picks are saved to the kernel cache (as runs' own
//! timing would; see kernels.rs), so later runs on this adapter use them.
//!
//! Each measurement submits n back-to-back copies of the kernel's dispatches in one submit and
//! waits for the queue; n is picked after a warm-up so that one timed run lasts about --target-ms.
//! The variants of one pass are timed interleaved (A B C A B C ...), so a slow spell on the
//! machine hits them all alike, and each is reported as the median of --reps runs.

use std::time::Instant;

use serde_json::json;
use tricklab::gpu::tune::{Operands, Work};
use tricklab::gpu::{Dispatch, GpuContext, Pass, Variant};
use tricklab::ops::conv2d::Conv2dShape;
use tricklab::ops::linear::LinearShape;
use tricklab::train::config::MAX_BATCH_SIZE;

const HELP: &str = "usage: tricklab bench-kernels [--batch B] [--reps R] [--target-ms T] [--json]

Times every kernel variant of the conv passes at ResNet-20/CIFAR-10 shapes (batch B, default 64)
and of the linear products, prints GFLOP/s per variant and the pick (the fastest), and saves the
picks to the kernel cache. A time is the median of R timed runs (default 5) after a warm-up; each
timed run submits n back-to-back dispatches and waits, n chosen so that a run takes about T ms
(default 100), between 1 and 64. B is at most 4096 (the training limit) and must fit this
device's buffers. --json prints one JSON line per pass and shape instead of the table.";

struct Options {
    batch: usize,
    reps: usize,
    target_ms: f64,
    json: bool,
    layout: bool,
}

pub fn run(args: &[String]) -> Result<(), String> {
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("{HELP}");
        return Ok(());
    }
    let opts = parse(args)?;
    let ctx = crate::kernels::open()?;
    check_sizes(&ctx, opts.batch)?;
    if opts.layout {
        return layout_table(&ctx, &opts).map_err(|e| e.to_string());
    }
    let variants: Vec<&str> = Variant::ALL.iter().map(|v| v.name()).collect();
    if !opts.json {
        println!("adapter: {}", ctx.describe());
        println!(
            "batch {}, median of {} timed runs after a warm-up; a run = n back-to-back dispatches in one submit, then wait",
            opts.batch, opts.reps
        );
        println!("GFLOP/s per variant (\"-\": not available on this adapter or for this pass); pick = the fastest\n");
        println!("{:<22} {:<26} {:>8}  {}  pick", "pass", "shape", "MFLOP", variants.iter().map(|v| format!("{v:>14}")).collect::<String>());
    }
    let started = Instant::now();
    for work in works(opts.batch) {
        let row = measure_work(&ctx, &opts, &work).map_err(|e| e.to_string())?;
        let gflops: Vec<Option<f64>> = Variant::ALL.iter().map(|v| row.iter().find(|(rv, _)| rv == v).map(|(_, s)| work.flops() / s / 1e9)).collect();
        let pick = row.iter().min_by(|a, b| a.1.total_cmp(&b.1)).map(|(v, _)| *v).unwrap_or(Variant::Register);
        if row.len() > 1 {
            ctx.set_pick(work.pass(), &work.key(), pick);
        }
        if opts.json {
            let per: serde_json::Map<String, serde_json::Value> =
                Variant::ALL.iter().zip(&gflops).filter_map(|(v, g)| g.map(|g| (v.name().to_string(), json!((g * 1000.0).round() / 1000.0)))).collect();
            println!("{}", json!({"measurement": "kernel", "adapter": ctx.describe(), "pass": work.pass().name(), "shape": work.key(), "mflop": work.flops() / 1e6, "gflop_per_s": per, "picked": pick.name()}));
        } else {
            let cells: String = gflops.iter().map(|g| g.map_or(format!("{:>14}", "-"), |g| format!("{g:>14.3}"))).collect();
            println!("{:<22} {:<26} {:>8.1}  {cells}  {}", work.pass().name(), work.key(), work.flops() / 1e6, pick.name());
        }
    }
    crate::kernels::save(&ctx);
    if !opts.json {
        println!(
            "\nFLOPs per pass: conv = 2·N·C_out·OH·OW·(C_in/groups)·KH·KW (forward, backward-input and \
             backward-weight each do this many);\n                linear = 2·batch·in·out.\n\
             GFLOP/s = FLOPs / median seconds per dispatch. Picks saved to {}. Total time {:.1} s.",
            crate::kernels::cache_path().display(),
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// Every pass of every shape measured: the conv passes at the ResNet-20 shapes, then the linear
/// products.
fn works(batch: usize) -> Vec<Work> {
    let mut out = Vec::new();
    for (_, s) in resnet20_convs(batch) {
        for p in [Pass::ConvForward, Pass::ConvBackwardInput, Pass::ConvBackwardWeight] {
            out.push(Work::Conv(p, s));
        }
    }
    for (_, s) in linear_shapes(batch) {
        for p in [Pass::LinearForward, Pass::LinearBackwardInput, Pass::LinearBackwardWeight] {
            out.push(Work::Linear(p, s));
        }
    }
    out
}

/// The layout measurement: the register-blocked forward in NCHW and in NHWC at every ResNet-20
/// conv shape, interleaved.
fn layout_table(ctx: &GpuContext, opts: &Options) -> tricklab::Result<()> {
    println!("adapter: {}, batch {}, median of {} runs", ctx.describe(), opts.batch, opts.reps);
    println!("{:<26} {:>8}  {:>12}  {:>12}  NHWC/NCHW", "conv forward", "MFLOP", "NCHW GFLOP/s", "NHWC GFLOP/s");
    let mut rng = tricklab::rng::Rng::new(2019);
    let mut random = |label: &str, shape: &[usize]| ctx.tensor(label, shape, &rng.vec(shape.iter().product(), -1.0, 1.0));
    let (mut flops, mut nchw, mut nhwc) = (0.0, 0.0, 0.0);
    for (name, s) in resnet20_convs(opts.batch) {
        let (x, w, y) = (random("x", &s.input_shape())?, random("w", &s.weight_shape())?, random("y", &s.output_shape())?);
        let x2 = random("x nhwc", &[s.batch, s.in_h, s.in_w, s.in_channels])?;
        let w2 = random("w hwio", &[s.kernel_h, s.kernel_w, s.in_channels, s.out_channels])?;
        let y2 = random("y nhwc", &[s.batch, s.out_h(), s.out_w(), s.out_channels])?;
        let a = tricklab::gpu::conv2d::forward_with(ctx, &s, &x, &w, &y, Variant::Register)?;
        let b = tricklab::gpu::conv2d::forward_nhwc(ctx, &s, &x2, &w2, &y2)?;
        let mut kernels = [Timed::new(vec![&a]), Timed::new(vec![&b])];
        measure_interleaved(ctx, opts, &mut kernels)?;
        let f = s.forward_flops();
        let (ta, tb) = (kernels[0].median(), kernels[1].median());
        println!("{name:<26} {:>8.1}  {:>12.3}  {:>12.3}  {:>9.2}", f / 1e6, f / ta / 1e9, f / tb / 1e9, ta / tb);
        (flops, nchw, nhwc) = (flops + f, nchw + ta, nhwc + tb);
    }
    println!("{:<26} {:>8.1}  {:>12.3}  {:>12.3}  {:>9.2}", "all shapes above", flops / 1e6, flops / nchw / 1e9, flops / nhwc / 1e9, nchw / nhwc);
    Ok(())
}

/// Each available variant of `work` with its median seconds per call.
fn measure_work(ctx: &GpuContext, opts: &Options, work: &Work) -> tricklab::Result<Vec<(Variant, f64)>> {
    let operands = Operands::new(ctx, work)?;
    let mut prepared = Vec::new();
    for v in work.candidates(ctx) {
        if let Ok(p) = operands.prepare(ctx, work, v) {
            prepared.push((v, p));
        }
    }
    let mut kernels: Vec<Timed> = prepared.iter().map(|(_, p)| Timed::new(p.dispatches.iter().collect())).collect();
    measure_interleaved(ctx, opts, &mut kernels)?;
    Ok(prepared.iter().zip(&kernels).map(|((v, _), k)| (*v, k.median())).collect())
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut opts = Options { batch: 64, reps: 5, target_ms: 100.0, json: false, layout: false };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        if flag == "--json" || flag == "--layout" {
            opts.json |= flag == "--json";
            opts.layout |= flag == "--layout";
            continue;
        }
        let value = it.next().ok_or_else(|| format!("`{flag}` needs a value\n{HELP}"))?;
        match flag.as_str() {
            "--batch" => opts.batch = number(flag, value)?,
            "--reps" => opts.reps = number(flag, value)?,
            "--target-ms" => opts.target_ms = number(flag, value)?,
            other => return Err(format!("unknown option `{other}`\n{HELP}")),
        }
    }
    if opts.batch == 0 || opts.reps == 0 || opts.target_ms.is_nan() || opts.target_ms <= 0.0 {
        return Err(format!("--batch, --reps and --target-ms must be positive\n{HELP}"));
    }
    if opts.batch > MAX_BATCH_SIZE as usize {
        return Err(format!("--batch is {}; at most {MAX_BATCH_SIZE} (the largest training batch)", opts.batch));
    }
    if opts.reps > MAX_REPS || opts.target_ms > MAX_TARGET_MS {
        return Err(format!("--reps is at most {MAX_REPS} and --target-ms at most {MAX_TARGET_MS}"));
    }
    Ok(opts)
}

/// Bounds on the timing options: a benchmark that finishes.
const MAX_REPS: usize = 1000;
const MAX_TARGET_MS: f64 = 10_000.0;

/// Every tensor the benchmark will make, checked before any is: shapes the kernels can index, and
/// sizes within this device's storage buffer limit (random data for a batch that cannot run is
/// never allocated).
fn check_sizes(ctx: &GpuContext, batch: usize) -> Result<(), String> {
    let limit = ctx.limits.max_storage_buffer_binding_size.min(ctx.limits.max_buffer_size);
    let fits = |what: String, elements: usize| -> Result<(), String> {
        let bytes = elements as u64 * 4;
        if bytes > limit {
            return Err(format!(
                "--batch {batch}: {what} needs {bytes} bytes, above this device's storage buffer limit of {limit}"
            ));
        }
        Ok(())
    };
    for (name, s) in resnet20_convs(batch) {
        s.validate().map_err(|e| format!("--batch {batch}: conv {name}: {e}"))?;
        fits(format!("conv {name} input"), s.input_len())?;
        fits(format!("conv {name} output"), s.output_len())?;
        fits(format!("conv {name} weight"), s.weight_len())?;
    }
    for (name, s) in linear_shapes(batch) {
        s.validate().map_err(|e| format!("--batch {batch}: linear {name}: {e}"))?;
        fits(format!("linear {name} input"), s.x_len())?;
        fits(format!("linear {name} output"), s.y_len())?;
        fits(format!("linear {name} weight"), s.w_len())?;
    }
    Ok(())
}

fn number<T: std::str::FromStr>(flag: &str, value: &str) -> Result<T, String> {
    value.parse().map_err(|_| format!("`{flag}` needs a positive number, not `{value}`"))
}

/// The distinct convolutions of ResNet-20 on 32×32 CIFAR-10 images (the stem, the two 3×3 convs
/// of each stage, the stride-2 entries of stages 2 and 3 and their 1×1 projection shortcuts).
fn resnet20_convs(batch: usize) -> Vec<(&'static str, Conv2dShape)> {
    let c = |cin, hw, cout, k, stride, pad| Conv2dShape::new(batch, cin, hw, cout, k, stride, pad);
    vec![
        ("3->16 3x3 @32", c(3, 32, 16, 3, 1, 1)),
        ("16->16 3x3 @32", c(16, 32, 16, 3, 1, 1)),
        ("16->32 3x3 s2 @32", c(16, 32, 32, 3, 2, 1)),
        ("32->32 3x3 @16", c(32, 16, 32, 3, 1, 1)),
        ("32->64 3x3 s2 @16", c(32, 16, 64, 3, 2, 1)),
        ("64->64 3x3 @8", c(64, 8, 64, 3, 1, 1)),
        ("16->32 1x1 s2 @32", c(16, 32, 32, 1, 2, 0)),
        ("32->64 1x1 s2 @16", c(32, 16, 64, 1, 2, 0)),
    ]
}

/// The final FC layer of ResNet-20 at the benchmark's batch, and a square product.
fn linear_shapes(batch: usize) -> [(&'static str, LinearShape); 2] {
    [
        ("final FC: batch x 64 -> 10", LinearShape { batch, in_features: 64, out_features: 10 }),
        ("square 512 x 512 -> 512", LinearShape { batch: 512, in_features: 512, out_features: 512 }),
    ]
}

/// One kernel under test: its dispatches (recorded n times per run) and the runs' timings.
struct Timed<'a> {
    passes: Vec<&'a Dispatch>,
    calls: usize,
    seconds: Vec<f64>,
}

impl<'a> Timed<'a> {
    fn new(passes: Vec<&'a Dispatch>) -> Self {
        Timed { passes, calls: 1, seconds: Vec::new() }
    }

    /// Seconds for `calls` back-to-back copies of the passes, submitted at once, until idle.
    fn run_once(&self, ctx: &GpuContext, calls: usize) -> tricklab::Result<f64> {
        let list: Vec<&Dispatch> = (0..calls).flat_map(|_| self.passes.iter().copied()).collect();
        ctx.wait()?;
        let t = Instant::now();
        ctx.submit(&list)?;
        ctx.wait()?;
        Ok(t.elapsed().as_secs_f64())
    }

    /// An untimed run (pipeline JIT, caches), then one timed call to choose how many per run.
    fn warm_up(&mut self, ctx: &GpuContext, target_ms: f64) -> tricklab::Result<()> {
        self.run_once(ctx, 1)?;
        let one = self.run_once(ctx, 1)?;
        self.calls = ((target_ms / 1e3 / one).round() as usize).clamp(1, 64);
        Ok(())
    }

    fn measure(&mut self, ctx: &GpuContext) -> tricklab::Result<()> {
        let s = self.run_once(ctx, self.calls)?;
        self.seconds.push(s / self.calls as f64);
        Ok(())
    }

    /// Median seconds per call.
    fn median(&self) -> f64 {
        median(&self.seconds)
    }
}

/// Warms every kernel up, then times them interleaved, `reps` rounds.
fn measure_interleaved(ctx: &GpuContext, opts: &Options, kernels: &mut [Timed]) -> tricklab::Result<()> {
    for k in kernels.iter_mut() {
        k.warm_up(ctx, opts.target_ms)?;
    }
    for _ in 0..opts.reps {
        for k in kernels.iter_mut() {
            k.measure(ctx)?;
        }
    }
    Ok(())
}

/// The median of `v` (the mean of the middle two for an even count); timings of both benchmarks.
pub fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}
