//! Pooling kernels (global average, 2×2 max, 2×2 average) against the reference, the reference's
//! backwards against finite differences, max-pool tie-breaking, and shape errors.

mod common;
use common::*;
use tricklab::check::Tolerance;
use tricklab::rng::Rng;
use tricklab::gpu::pool as gpu;
use tricklab::ops::pool::PoolShape;
use tricklab::reference::gradcheck::{dot, numerical_grad};
use tricklab::reference::pool as cpu;

/// Odd sizes (floored by the max pool, rounded up by the average pool), batch 1, channels 3 / 16 / 64, a 2×2 minimum, and the
/// largest ResNet-20 activation.
fn shapes() -> Vec<PoolShape> {
    vec![
        PoolShape::new(1, 3, 7, 7),
        PoolShape::new(2, 16, 5, 3),
        PoolShape::new(3, 64, 8, 8),
        PoolShape::new(1, 16, 2, 2),
        PoolShape::new(2, 3, 6, 9),
        PoolShape::new(64, 16, 32, 32),
    ]
}

type GpuPass = fn(&tricklab::gpu::GpuContext, &PoolShape, &tricklab::gpu::Tensor, &tricklab::gpu::Tensor) -> tricklab::Result<tricklab::gpu::Dispatch>;
type CpuPass = fn(&PoolShape, &[f32]) -> tricklab::Result<Vec<f32>>;

/// A pool whose output has `out_len(s)` values: its GPU forward and backward on random x and dy
/// against the reference (`y_tol` for the forward's sums; the backward spreads dy exactly).
fn check_pool(label: &str, seed: u64, all: Vec<PoolShape>, out_len: fn(&PoolShape) -> usize, gpu_pass: (GpuPass, GpuPass), cpu_pass: (CpuPass, CpuPass), y_tol: Tolerance) {
    let mut rng = Rng::new(seed);
    for s in all {
        let x = random(&mut rng, s.len());
        let dy = random(&mut rng, out_len(&s));
        let (xt, dyt) = (upload(&format!("{label} x"), &[s.len()], &x), upload(&format!("{label} dy"), &[out_len(&s)], &dy));
        let (y, dx) = (zeros(&format!("{label} y"), &[out_len(&s)]), zeros(&format!("{label} dx"), &[s.len()]));
        let fwd = gpu_pass.0(ctx(), &s, &xt, &y).unwrap();
        let bwd = gpu_pass.1(ctx(), &s, &dyt, &dx).unwrap();
        ctx().submit(&[&fwd, &bwd]).unwrap();
        y_tol.assert(&format!("{label} y {s:?}"), &read(&y), &cpu_pass.0(&s, &x).unwrap());
        Tolerance::strict().assert(&format!("{label} dx {s:?}"), &read(&dx), &cpu_pass.1(&s, &dy).unwrap());
    }
}

#[test]
fn global_avg_pool_matches_reference() {
    let mut all = shapes();
    all.push(PoolShape::new(2, 3, 1, 5)); // a single row: too small for 2×2 but fine here
    // Sums of up to 1024 terms in the same order on both sides; only FMA contraction may differ.
    let gpu_pass: (GpuPass, GpuPass) = (gpu::global_avg_pool_forward, gpu::global_avg_pool_backward);
    let cpu_pass: (CpuPass, CpuPass) = (cpu::global_avg_pool_forward, cpu::global_avg_pool_backward);
    check_pool("gap", 10, all, PoolShape::planes, gpu_pass, cpu_pass, Tolerance::balanced());
}

/// Runs the GPU max pool forward and backward and compares both with the reference.
fn check_max_pool(s: &PoolShape, x: &[f32], dy: &[f32]) {
    let (xt, dyt) = (upload("max x", &[s.len()], x), upload("max dy", &[s.pooled2_len()], dy));
    let (y, dx) = (zeros("max y", &[s.pooled2_len()]), zeros("max dx", &[s.len()]));
    let fwd = gpu::max_pool2_forward(ctx(), s, &xt, &y).unwrap();
    let bwd = gpu::max_pool2_backward(ctx(), s, &xt, &dyt, &dx).unwrap();
    ctx().submit(&[&fwd, &bwd]).unwrap();
    Tolerance::strict().assert(&format!("max y {s:?}"), &read(&y), &cpu::max_pool2_forward(s, x).unwrap());
    Tolerance::strict().assert(&format!("max dx {s:?}"), &read(&dx), &cpu::max_pool2_backward(s, x, dy).unwrap());
}

#[test]
fn max_pool2_matches_reference() {
    let mut rng = Rng::new(11);
    for s in shapes() {
        let x = random(&mut rng, s.len());
        let dy = random(&mut rng, s.pooled2_len());
        check_max_pool(&s, &x, &dy);
    }
}

#[test]
fn max_pool2_ties_go_to_the_first_in_row_major_order() {
    // Hand-checked: one 2×2 window with its maximum 5 at positions 1 and 2 (row-major): the
    // gradient goes to position 1 only. The third column is dropped (odd width) and gets 0.
    let s = PoolShape::new(1, 1, 2, 3);
    let x = [1.0, 5.0, 9.0, 5.0, 2.0, 9.0];
    let want_dx = [0.0, 7.0, 0.0, 0.0, 0.0, 0.0];
    assert_eq!(cpu::max_pool2_backward(&s, &x, &[7.0]).unwrap(), want_dx);
    check_max_pool(&s, &x, &[7.0]);
    // Many ties: values from {0, 1, 2}, so most windows hold a repeated maximum.
    let mut rng = Rng::new(12);
    for s in [PoolShape::new(2, 16, 7, 7), PoolShape::new(1, 3, 8, 5)] {
        let x: Vec<f32> = (0..s.len()).map(|_| rng.below(3) as f32).collect();
        let dy = random(&mut rng, s.pooled2_len());
        check_max_pool(&s, &x, &dy);
    }
}

#[test]
fn avg_pool2_matches_reference() {
    let gpu_pass: (GpuPass, GpuPass) = (gpu::avg_pool2_forward, gpu::avg_pool2_backward);
    let cpu_pass: (CpuPass, CpuPass) = (cpu::avg_pool2_forward, cpu::avg_pool2_backward);
    check_pool("avg", 13, shapes(), PoolShape::avg_pooled2_len, gpu_pass, cpu_pass, Tolerance::strict());
}

/// Distinct values at least 0.01 apart (a shuffled ramp), so a 1e-3 step never changes which
/// element of a window is the maximum.
fn tie_free(rng: &mut Rng, n: usize) -> Vec<f32> {
    let mut v: Vec<f32> = (0..n).map(|i| i as f32 * 0.01 - n as f32 * 0.005).collect();
    for i in (1..n).rev() {
        v.swap(i, rng.below(i + 1));
    }
    v
}

#[test]
fn reference_backwards_match_finite_differences() {
    let mut rng = Rng::new(14);
    for s in [PoolShape::new(2, 3, 5, 4), PoolShape::new(1, 2, 3, 3)] {
        let x = tie_free(&mut rng, s.len());

        let w = random(&mut rng, s.planes());
        let numeric = numerical_grad(&x, 1e-3, |x| dot(&w, &cpu::global_avg_pool_forward(&s, x).unwrap()));
        let analytic = cpu::global_avg_pool_backward(&s, &w).unwrap();
        Tolerance::finite_difference().assert(&format!("gap dx {s:?}"), &analytic, &numeric);

        let w = random(&mut rng, s.pooled2_len());
        let numeric = numerical_grad(&x, 1e-3, |x| dot(&w, &cpu::max_pool2_forward(&s, x).unwrap()));
        let analytic = cpu::max_pool2_backward(&s, &x, &w).unwrap();
        Tolerance::finite_difference().assert(&format!("max dx {s:?}"), &analytic, &numeric);

        let w = random(&mut rng, s.avg_pooled2_len());
        let numeric = numerical_grad(&x, 1e-3, |x| dot(&w, &cpu::avg_pool2_forward(&s, x).unwrap()));
        let analytic = cpu::avg_pool2_backward(&s, &w).unwrap();
        Tolerance::finite_difference().assert(&format!("avg dx {s:?}"), &analytic, &numeric);
    }
}

#[test]
fn output_sizes_floor_for_max_and_round_up_for_average() {
    let s = PoolShape::new(2, 3, 7, 5);
    assert_eq!((s.out_height(), s.out_width(), s.pooled2_len(), s.planes()), (3, 2, 36, 6));
    assert_eq!((s.avg_out_height(), s.avg_out_width(), s.avg_pooled2_len()), (4, 3, 72));
    let s = PoolShape::new(1, 1, 32, 32);
    assert_eq!((s.out_height(), s.out_width()), (16, 16));
    assert_eq!((s.avg_out_height(), s.avg_out_width()), (16, 16));
}

#[test]
fn average_pool_edge_windows_average_what_they_have() {
    // A 3×3 plane 1..=9 pools to 2×2: a full window, two clipped to 2 elements, one to 1
    // (PyTorch: avg_pool2d(x, 2, ceil_mode=True, count_include_pad=False)).
    let s = PoolShape::new(1, 1, 3, 3);
    let x: Vec<f32> = (1..=9).map(|v| v as f32).collect();
    let expected_y = [3.0, 4.5, 7.5, 9.0];
    let dy = [4.0, 2.0, 6.0, 1.0];
    let expected_dx = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 3.0, 3.0, 1.0];
    assert_eq!(cpu::avg_pool2_forward(&s, &x).unwrap(), expected_y);
    assert_eq!(cpu::avg_pool2_backward(&s, &dy).unwrap(), expected_dx);
    let (xt, dyt) = (upload("x", &[9], &x), upload("dy", &[4], &dy));
    let (y, dx) = (zeros("y", &[4]), zeros("dx", &[9]));
    let fwd = gpu::avg_pool2_forward(ctx(), &s, &xt, &y).unwrap();
    let bwd = gpu::avg_pool2_backward(ctx(), &s, &dyt, &dx).unwrap();
    ctx().submit(&[&fwd, &bwd]).unwrap();
    assert_eq!(read(&y), expected_y);
    assert_eq!(read(&dx), expected_dx);
}

#[test]
fn bad_shapes_are_errors() {
    let s = PoolShape::new(1, 2, 4, 4);
    let x = upload("x", &[32], &[0.0; 32]);
    let y_short = zeros("y short", &[7]);
    let y = zeros("y", &[8]);
    let pooled_global = zeros("pooled", &[2]);
    let err = gpu::max_pool2_forward(ctx(), &s, &x, &y_short).err().expect("short output must fail");
    assert!(err.to_string().contains("`y short` has 7 elements but 8"), "{err}");
    assert!(gpu::avg_pool2_forward(ctx(), &s, &y, &y_short).is_err(), "x of the wrong size");
    assert!(gpu::avg_pool2_backward(ctx(), &s, &y_short, &x).is_err(), "dy of the wrong size");
    assert!(gpu::max_pool2_backward(ctx(), &s, &x, &y, &y).is_err(), "dx of the wrong size");
    assert!(gpu::global_avg_pool_forward(ctx(), &s, &x, &y).is_err(), "global output must be (N,C)");
    assert!(gpu::global_avg_pool_backward(ctx(), &s, &pooled_global, &y).is_err(), "dx of the wrong size");
    assert!(cpu::max_pool2_forward(&s, &[0.0; 31]).is_err());
    assert!(cpu::global_avg_pool_backward(&s, &[0.0; 3]).is_err());

    // Zero-sized dimensions, and windows that do not fit.
    for bad in [PoolShape::new(0, 2, 4, 4), PoolShape::new(1, 0, 4, 4), PoolShape::new(1, 2, 0, 4)] {
        assert!(bad.validate().is_err(), "{bad:?}");
        assert!(cpu::global_avg_pool_forward(&bad, &[]).is_err(), "{bad:?}");
        assert!(gpu::global_avg_pool_forward(ctx(), &bad, &x, &pooled_global).is_err(), "{bad:?}");
    }
    let thin = PoolShape::new(1, 2, 1, 16);
    assert!(thin.validate().is_ok());
    let err = cpu::avg_pool2_forward(&thin, &[0.0; 32]).expect_err("a 1-row input cannot be 2×2 pooled");
    assert!(err.to_string().contains("at least 2"), "{err}");
    assert!(gpu::max_pool2_forward(ctx(), &thin, &x, &y).is_err());
}
