//! SGD kernel against the reference over several steps (plain and Nesterov momentum, with and
//! without weight decay, momentum 0), a hand-computed two-step example, the learning-rate tensor
//! being re-read on every submit, and bad input.

mod common;
use common::*;
use tricklab::check::Tolerance;
use tricklab::rng::Rng;
use tricklab::gpu::sgd as gpu;
use tricklab::ops::sgd::SgdParams;
use tricklab::reference::sgd as cpu;

fn params(len: usize, momentum: f32, weight_decay: f32, nesterov: bool) -> SgdParams {
    SgdParams { len, momentum, weight_decay, nesterov }
}

/// Runs `lrs.len()` steps on the GPU and the reference from the same start, with a fresh random
/// gradient and a new learning rate each step, all through one dispatch built once.
fn compare_steps(rng: &mut Rng, p: &SgdParams, lrs: &[f32]) {
    let n = p.len;
    let mut w = random(rng, n);
    let mut v = vec![0.0; n];
    let (wt, vt) = (upload("sgd w", &[n], &w), zeros("sgd velocity", &[n]));
    let (gt, lrt) = (zeros("sgd grad", &[n]), zeros("sgd lr", &[1]));
    let step = gpu::step(ctx(), p, &lrt, &wt, &gt, &vt).unwrap();
    for &lr in lrs {
        let grad = random(rng, n);
        ctx().write(&gt, &grad).unwrap();
        ctx().write(&lrt, &[lr]).unwrap();
        ctx().submit(&[&step]).unwrap();
        cpu::step(p, lr, &mut w, &grad, &mut v).unwrap();
    }
    Tolerance::strict().assert(&format!("w after {} steps, {p:?}", lrs.len()), &read(&wt), &w);
    Tolerance::strict().assert(&format!("velocity after {} steps, {p:?}", lrs.len()), &read(&vt), &v);
}

#[test]
fn matches_reference_over_several_steps() {
    let mut rng = Rng::new(31);
    let lrs = [0.1, 0.05, 0.2, 0.01];
    for n in [1, 1000, 70_001] {
        for (momentum, weight_decay, nesterov) in [(0.9, 5e-4, false), (0.9, 5e-4, true), (0.9, 0.0, false), (0.0, 1e-4, false), (0.0, 0.0, false), (0.5, 0.1, true)] {
            compare_steps(&mut rng, &params(n, momentum, weight_decay, nesterov), &lrs);
        }
    }
}

#[test]
fn large_tensor_uses_a_two_dimensional_grid() {
    // More than 65535 workgroups of 256 threads: the kernel must recover its index from a 2-D grid.
    let mut rng = Rng::new(32);
    compare_steps(&mut rng, &params(256 * 65535 + 77, 0.9, 5e-4, true), &[0.1]);
}

#[test]
fn hand_computed_two_steps() {
    // w = 1, grad = 0.5, momentum 0.9, weight decay 0.1, lr 0.1 then 0.05.
    // Plain:    g = 0.6, v = 0.6, w = 0.94;  g = 0.594, v = 1.134, w = 0.94 − 0.0567 = 0.8833
    // Nesterov: g = 0.6, v = 0.6, step = 1.14, w = 0.886;
    //           g = 0.5886, v = 1.1286, step = 1.60434, w = 0.886 − 0.080217 = 0.805783
    for (nesterov, want_w, want_v) in [(false, 0.8833, 1.134), (true, 0.805783, 1.1286)] {
        let p = params(1, 0.9, 0.1, nesterov);
        let (mut w, mut v) = (vec![1.0], vec![0.0]);
        let (wt, vt, gt, lrt) = (upload("w", &[1], &[1.0]), zeros("velocity", &[1]), upload("grad", &[1], &[0.5]), upload("lr", &[1], &[0.1]));
        let step = gpu::step(ctx(), &p, &lrt, &wt, &gt, &vt).unwrap();
        ctx().submit(&[&step]).unwrap();
        ctx().write(&lrt, &[0.05]).unwrap();
        ctx().submit(&[&step]).unwrap();
        cpu::step(&p, 0.1, &mut w, &[0.5], &mut v).unwrap();
        cpu::step(&p, 0.05, &mut w, &[0.5], &mut v).unwrap();
        let what = |t: &str| format!("{t} nesterov={nesterov}");
        Tolerance::strict().assert(&what("reference w"), &w, &[want_w]);
        Tolerance::strict().assert(&what("reference v"), &v, &[want_v]);
        Tolerance::strict().assert(&what("GPU w"), &read(&wt), &[want_w]);
        Tolerance::strict().assert(&what("GPU v"), &read(&vt), &[want_v]);
    }
}

#[test]
fn a_zero_learning_rate_only_moves_the_velocity() {
    let p = params(3, 0.9, 0.0, false);
    let (wt, vt) = (upload("w", &[3], &[1.0, 2.0, 3.0]), zeros("velocity", &[3]));
    let (gt, lrt) = (upload("grad", &[3], &[1.0, -1.0, 0.5]), upload("lr", &[1], &[0.0]));
    let step = gpu::step(ctx(), &p, &lrt, &wt, &gt, &vt).unwrap();
    ctx().submit(&[&step]).unwrap();
    assert_eq!(read(&wt), vec![1.0, 2.0, 3.0]);
    assert_eq!(read(&vt), vec![1.0, -1.0, 0.5]);
    ctx().write(&lrt, &[1.0]).unwrap();
    ctx().submit(&[&step]).unwrap();
    // v = 0.9·v + g = 1.9·g, w -= 1.9·g
    Tolerance::strict().assert("w after lr 1", &read(&wt), &[1.0 - 1.9, 2.0 + 1.9, 3.0 - 0.95]);
}

#[test]
fn bad_input_is_an_error() {
    let good = params(4, 0.9, 5e-4, true);
    assert!(good.validate().is_ok());
    for bad in [
        params(0, 0.9, 0.0, false),
        params(4, -0.1, 0.0, false),
        params(4, f32::NAN, 0.0, false),
        params(4, 0.9, -1e-4, false),
        params(4, 0.9, f32::INFINITY, false),
        params(4, 0.0, 0.0, true),
    ] {
        assert!(bad.validate().is_err(), "{bad:?} must be rejected");
        assert!(cpu::step(&bad, 0.1, &mut [0.0; 4], &[0.0; 4], &mut [0.0; 4]).is_err());
    }
    assert!(cpu::step(&good, 0.1, &mut [0.0; 3], &[0.0; 4], &mut [0.0; 4]).is_err());
    assert!(cpu::step(&good, 0.1, &mut [0.0; 4], &[0.0; 5], &mut [0.0; 4]).is_err());
    assert!(cpu::step(&good, 0.1, &mut [0.0; 4], &[0.0; 4], &mut [0.0; 3]).is_err());

    let (w, g, v, lr) = (zeros("w", &[4]), zeros("grad", &[4]), zeros("velocity", &[4]), zeros("lr", &[1]));
    let lr2 = zeros("lr2", &[2]);
    let err = gpu::step(ctx(), &good, &lr2, &w, &g, &v).err().expect("a 2-element lr must fail");
    assert!(err.to_string().contains("`lr2` has 2 elements but 1"), "{err}");
    assert!(gpu::step(ctx(), &good, &lr, &w, &zeros("short grad", &[3]), &v).is_err());
    assert!(gpu::step(ctx(), &good, &lr, &w, &g, &zeros("short velocity", &[3])).is_err());
    assert!(gpu::step(ctx(), &params(5, 0.9, 0.0, false), &lr, &w, &g, &v).is_err());
    assert!(gpu::step(ctx(), &params(4, 0.0, 0.0, true), &lr, &w, &g, &v).is_err());
    assert!(gpu::step(ctx(), &good, &lr, &w, &g, &v).is_ok());
}
