//! BatchNorm2d kernels against the reference (training forward with running statistics over two
//! steps, evaluation, backward, and the fused BN+ReLU and BN+ReLU6 pairs), the reference's backward against finite
//! differences, hand-checked running statistics, and shape errors.

mod common;
use common::*;
use tricklab::check::Tolerance;
use tricklab::rng::Rng;
use tricklab::gpu::batchnorm::{self as gpu, Passes};
use tricklab::gpu::{Dispatch, Tensor};
use tricklab::ops::batchnorm::{Activation, BatchNormShape};
use tricklab::reference::batchnorm as cpu;
use tricklab::reference::gradcheck::{dot, numerical_grad};

/// Odd spatial sizes, batch 1 (with H·W > 1), channels 3 / 16 / 64, and ResNet-20's largest BN
/// (65536 values per channel).
fn shapes() -> Vec<BatchNormShape> {
    vec![
        BatchNormShape::new(2, 3, 5, 3),
        BatchNormShape::new(1, 16, 7, 7),
        BatchNormShape::new(4, 64, 8, 8),
        BatchNormShape::new(3, 3, 1, 1),
        BatchNormShape::new(1, 3, 17, 19),
        BatchNormShape::new(64, 16, 32, 32),
    ]
}

/// Runs `check` on each of `shapes`, with or without a fused activation, drawing from one seeded
/// generator.
/// `check` on every shape, as both the split passes (GPUs) and the per-channel ones (CPU adapters).
fn over(seed: u64, shapes: impl IntoIterator<Item = BatchNormShape>, act: Option<Activation>, check: fn(&BatchNormShape, Option<Activation>, Passes, &mut Rng)) {
    let mut rng = Rng::new(seed);
    for s in shapes {
        for passes in [Passes::Split, Passes::PerChannel] {
            check(&s, act, passes, &mut rng);
        }
    }
}

fn submit(dispatches: &[Dispatch]) {
    ctx().submit(&dispatches.iter().collect::<Vec<_>>()).unwrap();
}

/// Per-layer GPU state: parameters, running statistics and saved statistics.
struct Layer {
    gamma: Tensor,
    beta: Tensor,
    running_mean: Tensor,
    running_var: Tensor,
    mean: Tensor,
    inv_std: Tensor,
}

impl Layer {
    fn t(&self) -> gpu::BnTensors<'_> {
        gpu::BnTensors {
            gamma: &self.gamma,
            beta: &self.beta,
            running_mean: &self.running_mean,
            running_var: &self.running_var,
            mean: &self.mean,
            inv_std: &self.inv_std,
        }
    }
}

/// Host copies of the same, for the reference.
struct Host {
    gamma: Vec<f32>,
    beta: Vec<f32>,
    running_mean: Vec<f32>,
    running_var: Vec<f32>,
}

impl Host {
    fn t(&mut self) -> cpu::BnTensors<'_> {
        cpu::BnTensors { gamma: &self.gamma, beta: &self.beta, running_mean: &mut self.running_mean, running_var: &mut self.running_var }
    }
}

fn layer(rng: &mut Rng, s: &BatchNormShape) -> (Layer, Host) {
    layer_for(rng, s, None)
}

/// A layer for the activation fused after it, if any: γ between 0.5 and 1.5, or with ReLU6
/// between 2 and 4, so that some outputs pass 6 and the clamp at 6 is tested, not only the one at 0.
fn layer_for(rng: &mut Rng, s: &BatchNormShape, act: Option<Activation>) -> (Layer, Host) {
    let gamma = if act == Some(Activation::Relu6) { (2.0, 4.0) } else { (0.5, 1.5) };
    let c = s.channels;
    let host = Host {
        gamma: rng.vec(c, gamma.0, gamma.1),
        beta: random(rng, c),
        running_mean: random(rng, c),
        running_var: rng.vec(c, 0.5, 2.0),
    };
    let gpu = Layer {
        gamma: upload("bn gamma", &[c], &host.gamma),
        beta: upload("bn beta", &[c], &host.beta),
        running_mean: upload("bn running_mean", &[c], &host.running_mean),
        running_var: upload("bn running_var", &[c], &host.running_var),
        mean: zeros("bn mean", &[c]),
        inv_std: zeros("bn inv_std", &[c]),
    };
    (gpu, host)
}

/// With ReLU6, asserts that the expected output holds values clamped at 0 and at 6 both.
fn assert_both_clamps(act: Option<Activation>, want_y: &[f32], what: &str) {
    if act == Some(Activation::Relu6) {
        assert!(want_y.contains(&0.0) && want_y.contains(&6.0), "{what}: the test data reaches both of ReLU6's clamps");
    }
}

/// Activations with a per-channel offset and scale, so the statistics are not all near (0, 1).
fn activations(rng: &mut Rng, s: &BatchNormShape) -> Vec<f32> {
    let offsets: Vec<f32> = (0..s.channels).map(|_| rng.range(-3.0, 3.0)).collect();
    let scales: Vec<f32> = (0..s.channels).map(|_| rng.range(0.1, 4.0)).collect();
    (0..s.len()).map(|i| offsets[(i / s.plane()) % s.channels] + scales[(i / s.plane()) % s.channels] * rng.normal()).collect()
}

/// Two training steps (GPU and reference), checking y, the saved statistics and the running
/// statistics after both steps.
fn check_two_training_steps(s: &BatchNormShape, act: Option<Activation>, passes: Passes, rng: &mut Rng) {
    let (l, mut h) = layer_for(rng, s, act);
    let y = zeros("bn y", &[s.len()]);
    for step in 0..2 {
        let x = activations(rng, s);
        let xt = upload("bn x", &[s.len()], &x);
        submit(&gpu::forward_train_with(ctx(), s, &l.t(), &xt, &y, act, passes).unwrap());
        let r = match act {
            Some(a) => cpu::forward_train_act(s, &x, &mut h.t(), a),
            None => cpu::forward_train(s, &x, &mut h.t()),
        };
        let (want_y, want_mean, want_inv_std) = r.unwrap();
        let what = format!("{s:?} act={act:?} {passes:?} step {step}");
        assert_both_clamps(act, &want_y, &what);
        Tolerance::balanced().assert(&format!("y {what}"), &read(&y), &want_y);
        Tolerance::balanced().assert(&format!("mean {what}"), &read(&l.mean), &want_mean);
        Tolerance::balanced().assert(&format!("inv_std {what}"), &read(&l.inv_std), &want_inv_std);
    }
    let what = format!("{s:?} act={act:?} {passes:?} after 2 steps");
    Tolerance::balanced().assert(&format!("running_mean {what}"), &read(&l.running_mean), &h.running_mean);
    Tolerance::balanced().assert(&format!("running_var {what}"), &read(&l.running_var), &h.running_var);
}

#[test]
fn forward_train_matches_reference_over_two_steps() {
    over(20, shapes(), None, check_two_training_steps);
}

#[test]
fn fused_relu_forward_matches_reference() {
    over(21, [BatchNormShape::new(2, 16, 5, 3), BatchNormShape::new(1, 3, 7, 7)], Some(Activation::Relu), check_two_training_steps);
}

#[test]
fn fused_relu6_forward_matches_reference() {
    over(27, [BatchNormShape::new(2, 16, 5, 3), BatchNormShape::new(4, 96, 8, 8)], Some(Activation::Relu6), check_two_training_steps);
}

#[test]
fn statistics_stay_accurate_with_a_large_mean() {
    // 65536 values per channel around 100 with spread 0.1: E[x²] − E[x]² in f32 would lose the
    // variance almost entirely; the threads' running means and deviations (one pass) keep it.
    let s = BatchNormShape::new(64, 3, 32, 32);
    let mut rng = Rng::new(22);
    let x: Vec<f32> = (0..s.len()).map(|_| 100.0 + 0.1 * rng.normal()).collect();
    let (l, mut h) = layer(&mut rng, &s);
    let (xt, y) = (upload("bn x", &[s.len()], &x), zeros("bn y", &[s.len()]));
    submit(&gpu::forward_train(ctx(), &s, &l.t(), &xt, &y).unwrap());
    let (want_y, _, want_inv_std) = cpu::forward_train(&s, &x, &mut h.t()).unwrap();
    Tolerance::balanced().assert("inv_std at mean 100", &read(&l.inv_std), &want_inv_std);
    Tolerance::balanced().assert("running_var at mean 100", &read(&l.running_var), &h.running_var);
    // y = gamma·(x − mean)·inv_std + beta turns a one-ulp difference in the mean (ulp(100) ≈ 8e-6)
    // into about 1e-4 (gamma·inv_std ≈ 15), at balanced's absolute floor: y gets the looser preset.
    Tolerance::permissive().assert("y at mean 100", &read(&y), &want_y);
}

#[test]
fn forward_eval_matches_reference() {
    let mut rng = Rng::new(23);
    let mut all = shapes();
    all.push(BatchNormShape::new(1, 3, 1, 1)); // one value per channel is fine in evaluation
    for s in all {
        let (l, mut h) = layer(&mut rng, &s);
        let x = activations(&mut rng, &s);
        let (xt, y) = (upload("bn x", &[s.len()], &x), zeros("bn y", &[s.len()]));
        submit(&gpu::forward_eval(ctx(), &s, &l.t(), &xt, &y).unwrap());
        let want = cpu::forward_eval(&s, &x, &h.t()).unwrap();
        Tolerance::strict().assert(&format!("eval y {s:?}"), &read(&y), &want);
    }
}

/// Forward (to get the saved statistics), then backward on GPU and reference.
fn check_backward(s: &BatchNormShape, act: Option<Activation>, passes: Passes, rng: &mut Rng) {
    let (l, mut h) = layer_for(rng, s, act);
    let x = activations(rng, s);
    let dy = random(rng, s.len());
    let (xt, dyt, y) = (upload("bn x", &[s.len()], &x), upload("bn dy", &[s.len()], &dy), zeros("bn y", &[s.len()]));
    let (dx, dgamma, dbeta) = (zeros("bn dx", &[s.len()]), zeros("bn dgamma", &[s.channels]), zeros("bn dbeta", &[s.channels]));
    let g = gpu::BnGrads { dx: &dx, dgamma: &dgamma, dbeta: &dbeta };
    submit(&gpu::forward_train_with(ctx(), s, &l.t(), &xt, &y, act, passes).unwrap());
    submit(&gpu::backward_with(ctx(), s, &l.t(), &xt, act, &dyt, &g, passes).unwrap());
    let (want_y, mean, inv_std) = match act {
        Some(a) => cpu::forward_train_act(s, &x, &mut h.t(), a).unwrap(),
        None => cpu::forward_train(s, &x, &mut h.t()).unwrap(),
    };
    let (want_dx, want_dgamma, want_dbeta) = match act {
        Some(a) => cpu::backward_act(s, &x, &want_y, &dy, &h.gamma, &mean, &inv_std, a).unwrap(),
        None => cpu::backward(s, &x, &dy, &h.gamma, &mean, &inv_std).unwrap(),
    };
    let what = format!("{s:?} act={act:?} {passes:?}");
    assert_both_clamps(act, &want_y, &what);
    // dgamma and dbeta sum up to 65536 terms in f32 (balanced's "batch statistics" case); dx
    // subtracts those sums from n·dy, so it inherits their absolute error scaled by gamma·inv_std/n.
    Tolerance::balanced().assert(&format!("dbeta {what}"), &read(&dbeta), &want_dbeta);
    Tolerance::balanced().assert(&format!("dgamma {what}"), &read(&dgamma), &want_dgamma);
    Tolerance::balanced().assert(&format!("dx {what}"), &read(&dx), &want_dx);
}

#[test]
fn backward_matches_reference() {
    over(24, shapes(), None, check_backward);
}

#[test]
fn fused_relu_backward_matches_reference() {
    over(25, [BatchNormShape::new(2, 16, 5, 3), BatchNormShape::new(1, 64, 7, 7), BatchNormShape::new(64, 16, 32, 32)], Some(Activation::Relu), check_backward);
}

#[test]
fn fused_relu6_backward_matches_reference() {
    over(28, [BatchNormShape::new(2, 16, 5, 3), BatchNormShape::new(4, 96, 8, 8)], Some(Activation::Relu6), check_backward);
}

#[test]
fn reference_backward_matches_finite_differences() {
    let mut rng = Rng::new(26);
    for s in [BatchNormShape::new(2, 3, 3, 2), BatchNormShape::new(1, 2, 5, 3)] {
        let (_, h) = layer(&mut rng, &s);
        let x = activations(&mut rng, &s);
        let w = random(&mut rng, s.len());
        // The running statistics are a side effect that does not feed y; each call gets fresh copies.
        let loss = |x: &[f32], gamma: &[f32], beta: &[f32]| {
            let (mut rm, mut rv) = (h.running_mean.clone(), h.running_var.clone());
            let mut t = cpu::BnTensors { gamma, beta, running_mean: &mut rm, running_var: &mut rv };
            dot(&w, &cpu::forward_train(&s, x, &mut t).unwrap().0)
        };
        let (mut rm, mut rv) = (h.running_mean.clone(), h.running_var.clone());
        let mut t = cpu::BnTensors { gamma: &h.gamma, beta: &h.beta, running_mean: &mut rm, running_var: &mut rv };
        let (_, mean, inv_std) = cpu::forward_train(&s, &x, &mut t).unwrap();
        let (dx, dgamma, dbeta) = cpu::backward(&s, &x, &w, &h.gamma, &mean, &inv_std).unwrap();
        let tol = Tolerance::finite_difference();
        tol.assert(&format!("dx {s:?}"), &dx, &numerical_grad(&x, 1e-3, |x| loss(x, &h.gamma, &h.beta)));
        tol.assert(&format!("dgamma {s:?}"), &dgamma, &numerical_grad(&h.gamma, 1e-3, |g| loss(&x, g, &h.beta)));
        tol.assert(&format!("dbeta {s:?}"), &dbeta, &numerical_grad(&h.beta, 1e-3, |b| loss(&x, &h.gamma, b)));
    }
}

/// Channel c of a (batch 2, 2 channels, 1×2) input holds `values[c]` in both images.
fn hand_checked_case() -> (BatchNormShape, Vec<f32>) {
    let s = BatchNormShape::new(2, 2, 1, 2);
    // Channel 0: constant 3 (mean 3, variance 0). Channel 1: 1, 3, 1, 3 (mean 2, biased variance 1,
    // unbiased variance 4/3).
    let x = vec![3.0, 3.0, 1.0, 3.0, 3.0, 3.0, 1.0, 3.0];
    (s, x)
}

#[test]
fn running_statistics_match_a_hand_checked_case() {
    let (s, x) = hand_checked_case();
    let (gamma, beta) = (vec![2.0, 2.0], vec![0.5, -0.5]);
    // PyTorch's update from running (0, 1) with momentum 0.1: mean 0.1·batch mean,
    // var 0.9 + 0.1·unbiased variance.
    let want_rm = [0.3, 0.2];
    let want_rv = [0.9, 0.9 + 0.1 * 4.0 / 3.0];
    // y: channel 0 is exactly beta; channel 1 is ±gamma/sqrt(1 + eps) + beta.
    let k = 2.0 / (1.0f32 + 1e-5).sqrt();
    let want_y = [0.5, 0.5, -k - 0.5, k - 0.5, 0.5, 0.5, -k - 0.5, k - 0.5];
    let want_inv_std = [1.0 / 1e-5f32.sqrt(), 1.0 / (1.0f32 + 1e-5).sqrt()];

    let (mut rm, mut rv) = (vec![0.0, 0.0], vec![1.0, 1.0]);
    let mut t = cpu::BnTensors { gamma: &gamma, beta: &beta, running_mean: &mut rm, running_var: &mut rv };
    let (y, mean, inv_std) = cpu::forward_train(&s, &x, &mut t).unwrap();
    let tol = Tolerance::strict();
    tol.assert("reference running_mean", &rm, &want_rm);
    tol.assert("reference running_var", &rv, &want_rv);
    tol.assert("reference mean", &mean, &[3.0, 2.0]);
    tol.assert("reference inv_std", &inv_std, &want_inv_std);
    tol.assert("reference y", &y, &want_y);

    let l = Layer {
        gamma: upload("bn gamma", &[2], &gamma),
        beta: upload("bn beta", &[2], &beta),
        running_mean: upload("bn running_mean", &[2], &[0.0, 0.0]),
        running_var: upload("bn running_var", &[2], &[1.0, 1.0]),
        mean: zeros("bn mean", &[2]),
        inv_std: zeros("bn inv_std", &[2]),
    };
    let (xt, yt) = (upload("bn x", &[8], &x), zeros("bn y", &[8]));
    submit(&gpu::forward_train(ctx(), &s, &l.t(), &xt, &yt).unwrap());
    tol.assert("gpu running_mean", &read(&l.running_mean), &want_rm);
    tol.assert("gpu running_var", &read(&l.running_var), &want_rv);
    tol.assert("gpu mean", &read(&l.mean), &[3.0, 2.0]);
    tol.assert("gpu inv_std", &read(&l.inv_std), &want_inv_std);
    tol.assert("gpu y", &read(&yt), &want_y);
}

#[test]
fn bad_shapes_are_errors() {
    let s = BatchNormShape::new(2, 3, 2, 2);
    let x = upload("bn x", &[24], &[0.0; 24]);
    let c3 = || zeros("bn c3", &[3]);
    let (g, b, rm, rv, m, is) = (c3(), c3(), c3(), c3(), c3(), c3());
    let short = zeros("bn gamma short", &[2]);
    let y = zeros("bn y", &[24]);
    let t = gpu::BnTensors { gamma: &g, beta: &b, running_mean: &rm, running_var: &rv, mean: &m, inv_std: &is };
    let err = gpu::forward_train(ctx(), &s, &gpu::BnTensors { gamma: &short, ..t }, &x, &y).err().expect("short gamma must fail");
    assert!(err.to_string().contains("`bn gamma short` has 2 elements but 3"), "{err}");
    assert!(gpu::forward_train(ctx(), &s, &t, &x, &g).is_err(), "y of the wrong size");
    assert!(gpu::forward_eval(ctx(), &s, &gpu::BnTensors { running_var: &short, ..t }, &x, &y).is_err(), "short running_var");
    let grads = gpu::BnGrads { dx: &y, dgamma: &g, dbeta: &b };
    assert!(gpu::backward(ctx(), &s, &t, &x, &g, &grads).is_err(), "dy of the wrong size");
    assert!(gpu::backward_act(ctx(), &s, &t, &x, &short, &grads, Activation::Relu).is_err(), "dy of the wrong size");
    assert!(gpu::backward(ctx(), &s, &gpu::BnTensors { beta: &short, ..t }, &x, &y, &grads).is_err(), "short beta");
    assert!(gpu::backward(ctx(), &s, &t, &x, &y, &gpu::BnGrads { dgamma: &short, ..grads }).is_err(), "short dgamma");
    let xs = [0.0; 24];
    let (mut rmh, mut rvh) = (vec![0.0; 3], vec![1.0; 3]);
    let mut th = cpu::BnTensors { gamma: &[1.0; 3], beta: &[0.0; 3], running_mean: &mut rmh, running_var: &mut rvh };
    assert!(cpu::forward_train(&s, &xs[..23], &mut th).is_err());
    th.beta = &[0.0; 2];
    assert!(cpu::forward_train(&s, &xs, &mut th).is_err());
    assert!(cpu::backward(&s, &xs, &xs[..20], &[1.0; 3], &[0.0; 3], &[1.0; 3]).is_err());

    // Zero dimensions, bad hyper-parameters, and training with one value per channel.
    let bad = [
        BatchNormShape::new(0, 3, 2, 2),
        BatchNormShape::new(2, 0, 2, 2),
        BatchNormShape::new(2, 3, 2, 0),
        BatchNormShape { eps: 0.0, ..s },
        BatchNormShape { eps: f32::NAN, ..s },
        BatchNormShape { momentum: 1.5, ..s },
        BatchNormShape { momentum: -0.1, ..s },
    ];
    for b in bad {
        assert!(b.validate().is_err(), "{b:?}");
        let th = cpu::BnTensors { gamma: &[1.0; 3], beta: &[0.0; 3], running_mean: &mut [0.0; 3], running_var: &mut [1.0; 3] };
        assert!(cpu::forward_eval(&b, &xs, &th).is_err(), "{b:?}");
    }
    let single = BatchNormShape::new(1, 3, 1, 1);
    assert!(single.validate().is_ok());
    let err = single.validate_training().expect_err("one value per channel cannot be trained on");
    assert!(err.to_string().contains("more than 1 value per channel"), "{err}");
    let x3 = upload("bn x3", &[3], &[0.0; 3]);
    assert!(gpu::forward_train(ctx(), &single, &t, &x3, &x3).is_err());
    let (mut rmh, mut rvh) = (vec![0.0; 3], vec![1.0; 3]);
    let mut th = cpu::BnTensors { gamma: &[1.0; 3], beta: &[0.0; 3], running_mean: &mut rmh, running_var: &mut rvh };
    assert!(cpu::forward_train(&single, &[0.0; 3], &mut th).is_err());
}

/// A software adapter (lavapipe here) runs each training pass as one workgroup per channel, one
/// dispatch where a GPU gets two; both kinds are checked against the reference above.
#[test]
fn cpu_adapters_run_one_dispatch_per_pass() {
    let s = BatchNormShape::new(2, 4, 3, 3);
    let mut rng = Rng::new(29);
    let (l, _) = layer(&mut rng, &s);
    let (x, y, dy) = (zeros("bn x", &[s.len()]), zeros("bn y", &[s.len()]), zeros("bn dy", &[s.len()]));
    let (dgamma, dbeta) = (zeros("bn dgamma", &[4]), zeros("bn dbeta", &[4]));
    let g = gpu::BnGrads { dx: &y, dgamma: &dgamma, dbeta: &dbeta };
    let want = if ctx().is_software() { (Passes::PerChannel, 1) } else { (Passes::Split, 2) };
    assert_eq!(gpu::passes_for(ctx()), want.0);
    assert_eq!(gpu::forward_train(ctx(), &s, &l.t(), &x, &y).unwrap().len(), want.1);
    assert_eq!(gpu::backward(ctx(), &s, &l.t(), &x, &dy, &g).unwrap().len(), want.1);
}

/// On a CPU adapter the per-channel passes read four values at a time wherever a plane holds a
/// multiple of 4 (their `4` entries), and one at a time elsewhere (MNIST's 7×7 planes).
#[test]
fn per_channel_passes_read_vec4s_where_the_planes_allow() {
    let mut rng = Rng::new(30);
    for (s, suffix) in [(BatchNormShape::new(2, 4, 3, 3), ""), (BatchNormShape::new(2, 4, 2, 2), "4"), (BatchNormShape::new(2, 4, 7, 4), "4")] {
        let (l, _) = layer(&mut rng, &s);
        let (x, y, dy) = (zeros("bn x", &[s.len()]), zeros("bn y", &[s.len()]), zeros("bn dy", &[s.len()]));
        let (dgamma, dbeta) = (zeros("bn dgamma", &[4]), zeros("bn dbeta", &[4]));
        let g = gpu::BnGrads { dx: &y, dgamma: &dgamma, dbeta: &dbeta };
        let forward = gpu::forward_train_with(ctx(), &s, &l.t(), &x, &y, Some(Activation::Relu6), Passes::PerChannel).unwrap();
        assert_eq!(forward[0].label, format!("batchnorm train_channel{suffix}+relu6 -> bn y"), "{s:?}");
        let backward = gpu::backward_with(ctx(), &s, &l.t(), &x, None, &dy, &g, Passes::PerChannel).unwrap();
        assert_eq!(backward[0].label, format!("batchnorm backward_channel{suffix} -> bn y"), "{s:?}");
    }
}
