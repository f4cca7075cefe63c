//! Elementwise kernels against the reference, and the reference's backward against finite
//! differences.

mod common;
use common::*;
use tricklab::check::Tolerance;
use tricklab::rng::Rng;
use tricklab::gpu::elementwise as gpu;
use tricklab::reference::elementwise as cpu;
use tricklab::reference::gradcheck::{dot, numerical_grad};

// 1, a non-multiple of the workgroup size, and more than 65535 workgroups' worth (2-D grid).
const SIZES: [usize; 3] = [1, 1000, 256 * 65535 + 77];

#[test]
fn relu_and_relu6_match_reference() {
    let mut rng = Rng::new(1);
    for n in SIZES {
        let x = rng.vec(n, -8.0, 8.0);
        let dy = random(&mut rng, n);
        let (xt, dyt) = (upload("x", &[n], &x), upload("dy", &[n], &dy));
        let (y, dx) = (zeros("y", &[n]), zeros("dx", &[n]));
        for six in [false, true] {
            let (fwd, bwd) = if six {
                (gpu::relu6_forward(ctx(), &xt, &y).unwrap(), gpu::relu6_backward(ctx(), &y, &dyt, &dx).unwrap())
            } else {
                (gpu::relu_forward(ctx(), &xt, &y).unwrap(), gpu::relu_backward(ctx(), &y, &dyt, &dx).unwrap())
            };
            ctx().submit(&[&fwd, &bwd]).unwrap();
            let want_y = if six { cpu::relu6_forward(&x) } else { cpu::relu_forward(&x) };
            let want_dx = if six { cpu::relu6_backward(&want_y, &dy) } else { cpu::relu_backward(&want_y, &dy) };
            Tolerance::strict().assert(&format!("relu6={six} y n={n}"), &read(&y), &want_y);
            Tolerance::strict().assert(&format!("relu6={six} dx n={n}"), &read(&dx), &want_dx);
        }
    }
}

#[test]
fn add_add_assign_and_copy_match_reference() {
    let mut rng = Rng::new(2);
    for n in SIZES {
        let (a, b) = (random(&mut rng, n), random(&mut rng, n));
        let (at, bt, y) = (upload("a", &[n], &a), upload("b", &[n], &b), zeros("y", &[n]));
        let d1 = gpu::add(ctx(), &at, &bt, &y).unwrap();
        let d2 = gpu::add_assign(ctx(), &y, &at).unwrap();
        let copied = zeros("copied", &[n]);
        let d3 = gpu::copy(ctx(), &y, &copied).unwrap();
        ctx().submit(&[&d1, &d2, &d3]).unwrap();
        let mut want = cpu::add(&a, &b);
        cpu::add_assign(&mut want, &a);
        Tolerance::strict().assert(&format!("a+b+a n={n}"), &read(&y), &want);
        Tolerance::strict().assert(&format!("copy n={n}"), &read(&copied), &want);
    }
}

#[test]
fn reference_backward_matches_finite_differences() {
    let mut rng = Rng::new(3);
    // Keep inputs away from the kinks at 0 and 6, where the derivative is undefined.
    let x: Vec<f32> = (0..64).map(|_| { let v = rng.range(-7.5, 7.5); if (v.abs() < 0.05) || ((v - 6.0).abs() < 0.05) { 1.0 } else { v } }).collect();
    let w = random(&mut rng, 64);
    for six in [false, true] {
        let fwd = if six { cpu::relu6_forward } else { cpu::relu_forward };
        let y = fwd(&x);
        let analytic = if six { cpu::relu6_backward(&y, &w) } else { cpu::relu_backward(&y, &w) };
        let numeric = numerical_grad(&x, 1e-3, |x| dot(&w, &fwd(x)));
        Tolerance::finite_difference().assert(&format!("relu6={six} dx"), &analytic, &numeric);
    }
}

#[test]
fn mismatched_and_empty_shapes_are_errors() {
    let a = upload("a", &[10], &[0.0; 10]);
    let b = upload("b", &[11], &[0.0; 11]);
    let y = zeros("y", &[10]);
    let err = gpu::add(ctx(), &a, &b, &y).err().expect("mismatched add must fail");
    assert!(err.to_string().contains("`b` has 11 elements but 10"), "{err}");
    assert!(ctx().zeros("empty", &[0, 3]).is_err());
    assert!(ctx().tensor("short", &[4], &[1.0, 2.0]).is_err());
}
