//! Convolution kernels against the reference (forward, backward for the input and for the weight,
//! in every built variant, and the NHWC measurement kernel), the reference's backward passes against
//! finite differences, and bad shapes and unbuilt variants rejected with clear errors.

mod common;
use common::*;
use tricklab::check::Tolerance;
use tricklab::rng::Rng;
use tricklab::gpu::conv2d as gpu;
use tricklab::gpu::{Pass, Variant};
use tricklab::ops::conv2d::Conv2dShape;
use tricklab::reference::conv2d as cpu;
use tricklab::reference::gradcheck::{dot, numerical_grad};

/// The variants of conv2d.wgsl, conv2d_blocked.wgsl and conv2d_tiled.wgsl (Wide and Subgroup:
/// tests/conv_variants.rs).
const VARIANTS: [Variant; 5] = [Variant::Register, Variant::Register8x8, Variant::Register16x8, Variant::Register16x16, Variant::Tiled];


/// Sums over at most 96·9 = 864 (forward, backward input) or 4·16·16 = 1024 (weight) products of
/// values in [-1, 1]: the `balanced` preset.
const TOL: Tolerance = Tolerance::balanced();

type DataPass = fn(&tricklab::gpu::GpuContext, &Conv2dShape, &tricklab::gpu::Tensor, &tricklab::gpu::Tensor, &tricklab::gpu::Tensor, Variant) -> tricklab::Result<tricklab::gpu::Dispatch>;
type Reference = fn(&Conv2dShape, &[f32], &[f32]) -> tricklab::Result<Vec<f32>>;

/// A data pass (forward: x, w -> y; backward-input: dy, w -> dx) of every variant on every
/// shape against the reference. `shapes` gives the first operand's shape and the output's.
fn check_data_pass(seed: u64, out: &str, shapes: fn(&Conv2dShape) -> ([usize; 4], [usize; 4]), want: Reference, run: DataPass) {
    let mut rng = Rng::new(seed);
    for (name, s) in conv_shapes() {
        let (a_shape, out_shape) = shapes(&s);
        let (a, w) = (random(&mut rng, a_shape.iter().product()), random(&mut rng, s.weight_len()));
        let (at, wt) = (upload("a", &a_shape, &a), upload("w", &s.weight_shape(), &w));
        let want = want(&s, &a, &w).unwrap();
        for variant in VARIANTS {
            // Start from garbage: the kernel must overwrite, not accumulate.
            let o = upload(out, &out_shape, &random(&mut rng, out_shape.iter().product()));
            ctx().submit(&[&run(ctx(), &s, &at, &wt, &o, variant).unwrap()]).unwrap();
            TOL.assert(&format!("{name} [{variant}]: {out}"), &read(&o), &want);
        }
    }
}

#[test]
fn forward_matches_reference() {
    check_data_pass(11, "y", |s| (s.input_shape(), s.output_shape()), cpu::forward, gpu::forward_with);
}

#[test]
fn backward_input_matches_reference() {
    check_data_pass(12, "dx", |s| (s.output_shape(), s.input_shape()), cpu::backward_input, gpu::backward_input_with);
}

#[test]
fn backward_weight_matches_reference() {
    let mut rng = Rng::new(13);
    let mut splits_seen: Vec<(Variant, usize)> = Vec::new();
    for (name, s) in conv_shapes() {
        let (x, dy) = (random(&mut rng, s.input_len()), random(&mut rng, s.output_len()));
        let (xt, dyt) = (upload("x", &s.input_shape(), &x), upload("dy", &s.output_shape(), &dy));
        let want = cpu::backward_weight(&s, &x, &dy).unwrap();
        for variant in VARIANTS {
            let dw = upload("dw", &s.weight_shape(), &random(&mut rng, s.weight_len()));
            let bw = gpu::backward_weight_with(ctx(), &s, &xt, &dyt, &dw, variant).unwrap();
            splits_seen.push((variant, bw.splits()));
            // Twice in one submit: the second run must give the same dw (overwrite, no accumulate).
            let passes = [bw.dispatches(), bw.dispatches()].concat();
            ctx().submit(&passes).unwrap();
            TOL.assert(&format!("{name} [{variant}]: dw ({} chunks)", bw.splits()), &read(&dw), &want);
        }
    }
    for variant in VARIANTS {
        let seen: Vec<usize> = splits_seen.iter().filter(|(v, _)| *v == variant).map(|&(_, n)| n).collect();
        assert!(seen.contains(&1), "[{variant}] no shape took the single-chunk path: {seen:?}");
        assert!(seen.iter().any(|&n| n > 2), "[{variant}] no shape took the split path: {seen:?}");
    }
}

/// A 1×1 convolution at stride 1 without padding runs as one row of H·W pixels per image (its
/// forward and input gradient); other shapes keep theirs. conv_shapes' 1×1 shapes check the
/// results.
#[test]
fn pointwise_convolutions_run_one_row_per_image() {
    let s = conv(2, 8, 4, 16, 1, 1, 0);
    assert_eq!(gpu::one_row_per_image(&s), Conv2dShape { in_h: 1, in_w: 16, ..s });
    for other in [conv(2, 8, 4, 16, 1, 2, 0), conv(2, 8, 4, 16, 3, 1, 1), conv(2, 8, 4, 16, 1, 1, 1)] {
        assert_eq!(gpu::one_row_per_image(&other), other);
    }
}

/// Every dispatch names its variant; depthwise shapes take their own variants, or the direct
/// kernels when asked for a dense one.
#[test]
fn dispatches_are_labelled_with_their_variant() {
    let s = conv(2, 4, 6, 8, 3, 1, 1);
    let (x, w, y) = (zeros("x", &s.input_shape()), zeros("w", &s.weight_shape()), zeros("y", &s.output_shape()));
    for variant in VARIANTS {
        let d = gpu::forward_with(ctx(), &s, &x, &w, &y, variant).unwrap();
        assert_eq!(d.label, format!("conv2d forward [{variant}] -> y"));
        let d = gpu::backward_input_with(ctx(), &s, &y, &w, &x, variant).unwrap();
        assert_eq!(d.label, format!("conv2d backward_input [{variant}] -> x"));
        let bw = gpu::backward_weight_with(ctx(), &s, &x, &y, &w, variant).unwrap();
        assert!(bw.passes.iter().all(|d| d.label.contains(&format!("[{variant}]"))), "{:?}", bw.passes.iter().map(|d| &d.label).collect::<Vec<_>>());
    }
    let dw = conv(2, 8, 6, 8, 3, 1, 1).with_groups(8);
    let (x, w, y) = (zeros("x", &dw.input_shape()), zeros("w", &dw.weight_shape()), zeros("y", &dw.output_shape()));
    for variant in Variant::ALL {
        let d = gpu::forward_with(ctx(), &dw, &x, &w, &y, variant).unwrap();
        // Its own variants by name; any other (dense) variant takes the direct kernels.
        let expected = if Variant::DEPTHWISE.contains(&variant) { variant } else { Variant::Direct };
        assert_eq!(d.label, format!("conv2d forward [{expected}] -> y"));
        assert!(gpu::backward_input_with(ctx(), &dw, &y, &w, &x, variant).is_ok());
        assert!(gpu::backward_weight_with(ctx(), &dw, &x, &y, &w, variant).is_ok());
    }
}

/// `v`, of row-major shape `src`, with its axes reordered: output axis k is source axis `perm[k]`.
fn permute(v: &[f32], src: [usize; 4], perm: [usize; 4]) -> Vec<f32> {
    let dst = perm.map(|p| src[p]);
    let mut out = vec![0.0; v.len()];
    for (i, &val) in v.iter().enumerate() {
        let (mut rest, mut idx) = (i, [0usize; 4]);
        for a in (0..4).rev() {
            idx[a] = rest % src[a];
            rest /= src[a];
        }
        out[(0..4).fold(0, |o, k| o * dst[k] + idx[perm[k]])] = val;
    }
    out
}

/// NCHW `[n, c, h, w]` -> NHWC `[n, h, w, c]`.
fn nchw_to_nhwc(v: &[f32], [n, c, h, w]: [usize; 4]) -> Vec<f32> {
    permute(v, [n, c, h, w], [0, 2, 3, 1])
}

/// NHWC back to NCHW (the shape given as NCHW `[n, c, h, w]`).
fn nhwc_to_nchw(v: &[f32], [n, c, h, w]: [usize; 4]) -> Vec<f32> {
    permute(v, [n, h, w, c], [0, 3, 1, 2])
}

/// `[c_out, c_in, kh, kw]` -> `[kh, kw, c_in, c_out]`.
fn weight_to_hwio(v: &[f32], shape: [usize; 4]) -> Vec<f32> {
    permute(v, shape, [2, 3, 1, 0])
}

#[test]
fn nhwc_forward_matches_reference() {
    let mut rng = Rng::new(14);
    for (name, s) in conv_shapes().into_iter().filter(|(_, s)| s.groups == 1) {
        let (x, w) = (random(&mut rng, s.input_len()), random(&mut rng, s.weight_len()));
        let xt = upload("x nhwc", &[s.batch, s.in_h, s.in_w, s.in_channels], &nchw_to_nhwc(&x, s.input_shape()));
        let wt = upload("w hwio", &[s.kernel_h, s.kernel_w, s.in_channels, s.out_channels], &weight_to_hwio(&w, s.weight_shape()));
        let y = upload("y nhwc", &[s.batch, s.out_h(), s.out_w(), s.out_channels], &random(&mut rng, s.output_len()));
        let d = gpu::forward_nhwc(ctx(), &s, &xt, &wt, &y).unwrap();
        ctx().submit(&[&d]).unwrap();
        let got = nhwc_to_nchw(&read(&y), s.output_shape());
        TOL.assert(&format!("{name}: y nhwc"), &got, &cpu::forward(&s, &x, &w).unwrap());
    }
}

#[test]
fn reference_backward_matches_finite_differences() {
    let cases = [
        ("3x3 stride 2 pad 1", conv(2, 2, 5, 3, 3, 2, 1)),
        ("1x1 pad 0", conv(1, 3, 4, 2, 1, 1, 0)),
        ("grouped 4->4 groups 2", conv(1, 4, 4, 4, 3, 1, 1).with_groups(2)),
        ("depthwise 3 stride 2", conv(1, 3, 5, 3, 3, 2, 1).with_groups(3)),
    ];
    let mut rng = Rng::new(15);
    for (name, s) in cases {
        let (x, w) = (random(&mut rng, s.input_len()), random(&mut rng, s.weight_len()));
        // The loss is sum(g ⊙ y), so dL/dy = g.
        let g = random(&mut rng, s.output_len());
        let dx = cpu::backward_input(&s, &g, &w).unwrap();
        let dx_num = numerical_grad(&x, 1e-3, |x| dot(&g, &cpu::forward(&s, x, &w).unwrap()));
        Tolerance::finite_difference().assert(&format!("{name}: dx"), &dx, &dx_num);
        let dw = cpu::backward_weight(&s, &x, &g).unwrap();
        let dw_num = numerical_grad(&w, 1e-3, |w| dot(&g, &cpu::forward(&s, &x, w).unwrap()));
        Tolerance::finite_difference().assert(&format!("{name}: dw"), &dw, &dw_num);
    }
}

fn err_text<T>(r: tricklab::Result<T>) -> String {
    match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn bad_shapes_are_errors() {
    let s = conv(2, 4, 6, 8, 3, 1, 1);
    let x = zeros("x", &s.input_shape());
    let w = zeros("w", &s.weight_shape());
    let y = zeros("y", &s.output_shape());
    let short = zeros("short", &[5]);

    let e = err_text(gpu::forward(ctx(), &s, &short, &w, &y));
    assert!(e.contains("`short` has 5 elements but 288"), "{e}");
    let e = err_text(gpu::backward_input(ctx(), &s, &y, &short, &x));
    assert!(e.contains("conv2d backward_input") && e.contains("`short`"), "{e}");
    let e = err_text(gpu::backward_weight(ctx(), &s, &x, &y, &short));
    assert!(e.contains("conv2d backward_weight") && e.contains("`short`"), "{e}");
    let e = err_text(cpu::forward(&s, &[0.0; 3], &[0.0; 288]));
    assert!(e.contains("`x` has 3 elements"), "{e}");

    let e = err_text(Conv2dShape { batch: 0, ..s }.validate());
    assert!(e.contains("`batch` is 0"), "{e}");
    let e = err_text(Conv2dShape { stride: 0, ..s }.validate());
    assert!(e.contains("`stride` is 0"), "{e}");
    let e = err_text(gpu::forward(ctx(), &Conv2dShape { kernel_w: 0, ..s }, &x, &w, &y));
    assert!(e.contains("`kernel_w` is 0"), "{e}");

    let e = err_text(s.with_groups(3).validate());
    assert!(e.contains("`in_channels` = 4 is not divisible by groups = 3"), "{e}");
    let e = err_text(conv(1, 4, 6, 6, 3, 1, 1).with_groups(4).validate());
    assert!(e.contains("`out_channels` = 6 is not divisible by groups = 4"), "{e}");
    let e = err_text(cpu::backward_weight(&s.with_groups(3), &[0.0; 288], &[0.0; 576]));
    assert!(e.contains("not divisible"), "{e}");

    let e = err_text(conv(1, 1, 4, 1, 7, 1, 1).validate());
    assert!(e.contains("7x7 kernel is larger than the padded 6x6 input"), "{e}");

    let grouped = s.with_groups(2);
    let wg = zeros("w grouped", &grouped.weight_shape());
    let e = err_text(gpu::forward_nhwc(ctx(), &grouped, &x, &wg, &y));
    assert!(e.contains("groups = 1 only"), "{e}");
}

#[test]
fn shape_arithmetic() {
    let s = conv(64, 16, 32, 32, 3, 2, 1);
    assert_eq!((s.out_h(), s.out_w()), (16, 16));
    assert_eq!(s.weight_len(), 32 * 16 * 9);
    assert_eq!(s.output_len(), 64 * 32 * 16 * 16);
    assert_eq!(s.forward_flops(), 2.0 * 64.0 * 32.0 * 256.0 * 16.0 * 9.0);
    let dw = conv(1, 8, 5, 8, 3, 1, 1).with_groups(8);
    assert!(dw.is_depthwise() && gpu::uses_direct_kernels(&dw));
    assert_eq!(dw.weight_shape(), [8, 1, 3, 3]);
    assert_eq!(dw.forward_flops(), 2.0 * 8.0 * 25.0 * 9.0);
}

/// Seconds per run of `passes`, recorded `reps` times in one submit after one warm-up submit.
fn seconds_per_run(passes: &[&tricklab::gpu::Dispatch]) -> f64 {
    ctx().submit(passes).unwrap();
    ctx().wait().unwrap();
    let t = std::time::Instant::now();
    ctx().submit(passes).unwrap();
    ctx().wait().unwrap();
    let reps = (1.0 / t.elapsed().as_secs_f64()).clamp(2.0, 20.0) as usize;
    let list: Vec<_> = (0..reps).flat_map(|_| passes.iter().copied()).collect();
    let t = std::time::Instant::now();
    ctx().submit(&list).unwrap();
    ctx().wait().unwrap();
    t.elapsed().as_secs_f64() / reps as f64
}

/// Not a check: GFLOP/s of every built variant for the three passes at two ResNet shapes, on
/// whatever adapter the test finds. `cargo test --test conv2d -- --ignored --nocapture variant_speed`
#[test]
#[ignore]
fn variant_speed() {
    let mut rng = Rng::new(16);
    println!("adapter: {}", ctx().describe());
    for (name, s) in [("resnet20 16->16 32x32 batch 64", conv(64, 16, 32, 16, 3, 1, 1)), ("64->64 8x8 batch 64", conv(64, 64, 8, 64, 3, 1, 1))] {
        let x = upload("x", &s.input_shape(), &random(&mut rng, s.input_len()));
        let w = upload("w", &s.weight_shape(), &random(&mut rng, s.weight_len()));
        let y = upload("y", &s.output_shape(), &random(&mut rng, s.output_len()));
        let gflop = s.forward_flops() / 1e9;
        for variant in VARIANTS {
            let fwd = gpu::forward_with(ctx(), &s, &x, &w, &y, variant).unwrap();
            let bwd_x = gpu::backward_input_with(ctx(), &s, &y, &w, &x, variant).unwrap();
            let bwd_w = gpu::backward_weight_with(ctx(), &s, &x, &y, &w, variant).unwrap();
            let rate = |passes: &[&tricklab::gpu::Dispatch]| gflop / seconds_per_run(passes);
            println!(
                "{name:<32} {variant:<9} forward {:5.2}  backward_input {:5.2}  backward_weight {:5.2} GFLOP/s ({} chunks)",
                rate(&[&fwd]),
                rate(&[&bwd_x]),
                rate(&bwd_w.dispatches()),
                bwd_w.splits()
            );
        }
    }
}

/// The generated kernel files are what their scripts write (edit the script, not the file):
/// conv2d_blocked.wgsl (shaders/blocked.py) and conv2d_pointwise.wgsl (shaders/pointwise.py).
#[test]
fn blocked_kernels_are_the_generators_output() {
    let root = env!("CARGO_MANIFEST_DIR");
    for (script, file) in [("blocked.py", "conv2d_blocked.wgsl"), ("pointwise.py", "conv2d_pointwise.wgsl")] {
        let out = std::process::Command::new("python3")
            .arg(format!("{root}/shaders/{script}"))
            .output()
            .expect("python3 runs the generator");
        assert!(out.status.success(), "{script}: {}", String::from_utf8_lossy(&out.stderr));
        let committed = std::fs::read_to_string(format!("{root}/shaders/{file}")).unwrap();
        assert!(String::from_utf8(out.stdout).unwrap() == committed, "shaders/{file} differs from `python3 shaders/{script}`: regenerate it");
    }
}

/// Pointwise shapes (1×1, stride 1, no padding, one group; channels and planes multiples of 4)
/// run the vec4 kernels under `Variant::Pointwise`, every pass against the reference, with blocks
/// off both edges and the weight gradient in one chunk and in several. Other shapes are not offered
/// them, and asked for them anyway run register-16x16.
#[test]
fn pointwise_kernels_match_reference() {
    let shapes = [
        ("16->24 on 4x4", conv(2, 16, 4, 24, 1, 1, 0)),
        ("20->12 on 6x6 (channel and pixel blocks off the edges)", conv(3, 20, 6, 12, 1, 1, 0)),
        ("4->36 on 8x8 batch 1", conv(1, 4, 8, 36, 1, 1, 0)),
        ("32->32 on 16x16 batch 4 (weight gradient in chunks)", conv(4, 32, 16, 32, 1, 1, 0)),
    ];
    let mut rng = Rng::new(16);
    let mut splits = Vec::new();
    for (name, s) in shapes {
        assert!(gpu::pointwise(&s), "{name}");
        for pass in [Pass::ConvForward, Pass::ConvBackwardInput, Pass::ConvBackwardWeight] {
            assert!(gpu::variants_for(ctx(), pass, &s).contains(&Variant::Pointwise), "{name}: {pass:?}");
        }
        let (x, w, dy) = (random(&mut rng, s.input_len()), random(&mut rng, s.weight_len()), random(&mut rng, s.output_len()));
        let (xt, wt, dyt) = (upload("x", &s.input_shape(), &x), upload("w", &s.weight_shape(), &w), upload("dy", &s.output_shape(), &dy));
        let y = upload("y", &s.output_shape(), &random(&mut rng, s.output_len()));
        let d = gpu::forward_with(ctx(), &s, &xt, &wt, &y, Variant::Pointwise).unwrap();
        assert_eq!(d.label, "conv2d forward [pointwise] -> y");
        ctx().submit(&[&d]).unwrap();
        TOL.assert(&format!("{name} [pointwise]: y"), &read(&y), &cpu::forward(&s, &x, &w).unwrap());
        let dx = upload("dx", &s.input_shape(), &random(&mut rng, s.input_len()));
        let d = gpu::backward_input_with(ctx(), &s, &dyt, &wt, &dx, Variant::Pointwise).unwrap();
        assert_eq!(d.label, "conv2d backward_input [pointwise] -> dx");
        ctx().submit(&[&d]).unwrap();
        TOL.assert(&format!("{name} [pointwise]: dx"), &read(&dx), &cpu::backward_input(&s, &dy, &w).unwrap());
        let dw = upload("dw", &s.weight_shape(), &random(&mut rng, s.weight_len()));
        let bw = gpu::backward_weight_with(ctx(), &s, &xt, &dyt, &dw, Variant::Pointwise).unwrap();
        assert!(bw.passes.iter().all(|d| d.label.contains("[pointwise]")));
        splits.push(bw.splits());
        ctx().submit(&[bw.dispatches(), bw.dispatches()].concat()).unwrap();
        TOL.assert(&format!("{name} [pointwise]: dw ({} chunks)", bw.splits()), &read(&dw), &cpu::backward_weight(&s, &x, &dy).unwrap());
    }
    assert!(splits.contains(&1) && splits.iter().any(|&n| n > 2), "one chunk and several: {splits:?}");
    let others = [conv(2, 6, 4, 8, 1, 1, 0), conv(2, 8, 7, 8, 1, 1, 0), conv(2, 8, 8, 8, 1, 2, 0), conv(2, 8, 8, 8, 3, 1, 1), conv(2, 8, 8, 8, 1, 1, 0).with_groups(2)];
    for s in others {
        assert!(!gpu::pointwise(&s), "{s:?}");
        assert!(!gpu::variants_for(ctx(), Pass::ConvForward, &s).contains(&Variant::Pointwise), "{s:?}");
        let (x, w, y) = (zeros("x", &s.input_shape()), zeros("w", &s.weight_shape()), zeros("y", &s.output_shape()));
        let d = gpu::forward_with(ctx(), &s, &x, &w, &y, Variant::Pointwise).unwrap();
        assert_eq!(d.label, "conv2d forward [register-16x16] -> y", "{s:?}");
    }
}
