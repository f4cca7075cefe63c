//! `tricklab bench-kernels`: GFLOP/s of the convolution kernels (forward in NCHW and NHWC, backward
//! for the input, backward for the weight) at the distinct conv shapes of ResNet-20 on CIFAR-10,
//! and of the linear kernel at the final FC shape and at a square 512³ product.
//!
//! Each measurement submits n back-to-back copies of the kernel's dispatches in one submit and
//! waits for the queue; n is picked after a warm-up so that one timed run lasts about --target-ms.
//! The kernels of one shape are timed interleaved (A B C D A B C D ...), so a slow spell on the
//! machine hits them all alike, and each is reported as the median of --reps runs.

use std::time::Instant;

use tricklab::rng::Rng;
use tricklab::gpu::{block_on, conv2d, linear, Dispatch, GpuContext, Tensor};
use tricklab::ops::conv2d::Conv2dShape;
use tricklab::ops::linear::LinearShape;
use tricklab::train::config::MAX_BATCH_SIZE;

const HELP: &str = "usage: tricklab bench-kernels [--batch B] [--reps R] [--target-ms T]

Times the conv kernels at ResNet-20/CIFAR-10 shapes (batch B, default 64) and the linear kernel,
and prints GFLOP/s: the median of R timed runs (default 5) after a warm-up. Each timed run submits
n back-to-back dispatches and waits; n is chosen so that a run takes about T ms (default 100),
between 1 and 64. B is at most 4096 (the training limit) and must fit this device's buffers.";

struct Options {
    batch: usize,
    reps: usize,
    target_ms: f64,
}

pub fn run(args: &[String]) -> Result<(), String> {
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("{HELP}");
        return Ok(());
    }
    let opts = parse(args)?;
    let ctx = block_on(GpuContext::new()).map_err(|e| e.to_string())?;
    check_sizes(&ctx, opts.batch)?;
    println!("adapter: {}", ctx.describe());
    println!(
        "batch {}, median of {} timed runs after a warm-up; a run = n back-to-back dispatches in one submit, then wait\n",
        opts.batch, opts.reps
    );
    let started = Instant::now();
    conv_table(&ctx, &opts).map_err(|e| e.to_string())?;
    println!();
    linear_table(&ctx, &opts).map_err(|e| e.to_string())?;
    println!(
        "\nFLOPs per pass: conv = 2·N·C_out·OH·OW·(C_in/groups)·KH·KW (forward, backward-input and \
         backward-weight each do this many);\n                linear = 2·batch·in·out.\n\
         GFLOP/s = FLOPs / median seconds per dispatch (ms per dispatch in parentheses). Total time {:.1} s.",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut opts = Options { batch: 64, reps: 5, target_ms: 100.0 };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
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
    flops: f64,
    calls: usize,
    seconds: Vec<f64>,
}

impl<'a> Timed<'a> {
    fn new(passes: Vec<&'a Dispatch>, flops: f64) -> Self {
        Timed { passes, flops, calls: 1, seconds: Vec::new() }
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

    fn cell(&self) -> String {
        let s = self.median();
        format!("{:6.2} ({:7.2})", self.flops / s / 1e9, s * 1e3)
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

fn random_tensor(ctx: &GpuContext, rng: &mut Rng, label: String, shape: &[usize]) -> tricklab::Result<Tensor> {
    let n = shape.iter().product();
    ctx.tensor(label, shape, &rng.vec(n, -1.0, 1.0))
}

fn conv_table(ctx: &GpuContext, opts: &Options) -> tricklab::Result<()> {
    println!("conv (GFLOP/s, ms per dispatch)   MFLOP   fwd NCHW          fwd NHWC          NHWC/NCHW  bwd input         bwd weight");
    let mut rng = Rng::new(2019);
    let (mut flops, mut seconds) = (0.0, [0.0f64; 4]);
    for (name, s) in resnet20_convs(opts.batch) {
        let t = |role: &str| format!("bench conv {name} {role}");
        let x = random_tensor(ctx, &mut rng, t("x"), &s.input_shape())?;
        let w = random_tensor(ctx, &mut rng, t("w"), &s.weight_shape())?;
        let dy = random_tensor(ctx, &mut rng, t("dy"), &s.output_shape())?;
        let y = ctx.zeros(t("y"), &s.output_shape())?;
        let dx = ctx.zeros(t("dx"), &s.input_shape())?;
        let dw = ctx.zeros(t("dw"), &s.weight_shape())?;
        // The NHWC kernel reads the same numbers in its own layout; only the timing matters here
        // (tests/conv2d.rs checks its results against the reference).
        let x_nhwc = random_tensor(ctx, &mut rng, t("x nhwc"), &[s.batch, s.in_h, s.in_w, s.in_channels])?;
        let w_hwio = random_tensor(ctx, &mut rng, t("w hwio"), &[s.kernel_h, s.kernel_w, s.in_channels, s.out_channels])?;
        let y_nhwc = ctx.zeros(t("y nhwc"), &[s.batch, s.out_h(), s.out_w(), s.out_channels])?;

        let fwd = conv2d::forward(ctx, &s, &x, &w, &y)?;
        let fwd_nhwc = conv2d::forward_nhwc(ctx, &s, &x_nhwc, &w_hwio, &y_nhwc)?;
        let bwd_in = conv2d::backward_input(ctx, &s, &dy, &w, &dx)?;
        let bwd_w = conv2d::backward_weight(ctx, &s, &x, &dy, &dw)?;
        let f = s.forward_flops();
        let mut kernels = [
            Timed::new(vec![&fwd], f),
            Timed::new(vec![&fwd_nhwc], f),
            Timed::new(vec![&bwd_in], f),
            Timed::new(bwd_w.dispatches(), f),
        ];
        measure_interleaved(ctx, opts, &mut kernels)?;
        let ratio = kernels[0].median() / kernels[1].median();
        println!(
            "  {name:<31} {:7.1}  {}  {}  {ratio:9.2}  {}  {}",
            f / 1e6,
            kernels[0].cell(),
            kernels[1].cell(),
            kernels[2].cell(),
            kernels[3].cell()
        );
        flops += f;
        for (total, k) in seconds.iter_mut().zip(&kernels) {
            *total += k.median();
        }
    }
    let g = |s: f64| format!("{:6.2} ({:7.1})", flops / s / 1e9, s * 1e3);
    println!(
        "  {:<31} {:7.1}  {}  {}  {:9.2}  {}  {}",
        "all shapes above (one each)",
        flops / 1e6,
        g(seconds[0]),
        g(seconds[1]),
        seconds[0] / seconds[1],
        g(seconds[2]),
        g(seconds[3])
    );
    println!("  (NHWC/NCHW = NHWC speed relative to NCHW: above 1 means NHWC is faster)");
    Ok(())
}

fn linear_table(ctx: &GpuContext, opts: &Options) -> tricklab::Result<()> {
    println!("linear forward (GFLOP/s, ms per dispatch)   MFLOP   y = x·Wᵀ + b");
    let mut rng = Rng::new(2020);
    for (name, s) in linear_shapes(opts.batch) {
        let t = |role: &str| format!("bench linear {name} {role}");
        let x = random_tensor(ctx, &mut rng, t("x"), &[s.batch, s.in_features])?;
        let w = random_tensor(ctx, &mut rng, t("w"), &[s.out_features, s.in_features])?;
        let b = random_tensor(ctx, &mut rng, t("b"), &[s.out_features])?;
        let y = ctx.zeros(t("y"), &[s.batch, s.out_features])?;
        let fwd = linear::forward(ctx, &s, &x, &w, &b, &y)?;
        let mut kernels = [Timed::new(vec![&fwd], s.flops())];
        measure_interleaved(ctx, opts, &mut kernels)?;
        println!("  {name:<41} {:7.2}  {}", s.flops() / 1e6, kernels[0].cell());
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
