//! Linear layer kernels against the reference (sizes that do and do not divide by the 4×4 block
//! and the workgroup), the reference's backward against finite differences, and bad shapes.

mod common;
use common::*;
use tricklab::check::Tolerance;
use tricklab::rng::Rng;
use tricklab::gpu::linear as gpu;
use tricklab::ops::linear::LinearShape;
use tricklab::reference::gradcheck::{dot, numerical_grad};
use tricklab::reference::linear as cpu;

fn shape(batch: usize, in_features: usize, out_features: usize) -> LinearShape {
    LinearShape { batch, in_features, out_features }
}

// Degenerate, ragged, block-aligned, the classifier head of a CIFAR ResNet, and more than one
// workgroup of 4×4 blocks in every pass.
const SHAPES: [(usize, usize, usize); 6] = [(1, 1, 1), (3, 5, 7), (8, 16, 4), (128, 64, 10), (37, 129, 10), (70, 97, 66)];

#[test]
fn forward_and_backward_match_reference() {
    let mut rng = Rng::new(11);
    for (batch, inf, outf) in SHAPES {
        let s = shape(batch, inf, outf);
        let (x, w, b, dy) = (random(&mut rng, s.x_len()), random(&mut rng, s.w_len()), random(&mut rng, outf), random(&mut rng, s.y_len()));
        let xt = upload("linear x", &[batch, inf], &x);
        let wt = upload("linear w", &[outf, inf], &w);
        let bt = upload("linear b", &[outf], &b);
        let dyt = upload("linear dy", &[batch, outf], &dy);
        let (y, dx) = (zeros("linear y", &[batch, outf]), zeros("linear dx", &[batch, inf]));
        let (dw, db) = (zeros("linear dw", &[outf, inf]), zeros("linear db", &[outf]));
        let fwd = gpu::forward(ctx(), &s, &xt, &wt, &bt, &y).unwrap();
        let bwd_x = gpu::backward_input(ctx(), &s, &dyt, &wt, &dx).unwrap();
        let bwd_p = gpu::backward_params(ctx(), &s, &xt, &dyt, &dw, &db).unwrap();
        let mut all = vec![&fwd, &bwd_x];
        all.extend(bwd_p.iter());
        ctx().submit(&all).unwrap();

        let what = |t: &str| format!("{t} for {s:?}");
        Tolerance::balanced().assert(&what("y"), &read(&y), &cpu::forward(&s, &x, &w, &b).unwrap());
        Tolerance::balanced().assert(&what("dx"), &read(&dx), &cpu::backward_input(&s, &dy, &w).unwrap());
        let (want_dw, want_db) = cpu::backward_params(&s, &x, &dy).unwrap();
        Tolerance::balanced().assert(&what("dw"), &read(&dw), &want_dw);
        Tolerance::balanced().assert(&what("db"), &read(&db), &want_db);
    }
}

#[test]
fn reference_forward_is_a_matrix_product_plus_bias() {
    // x = [[1, 2]], W = [[1, 0], [0, 1], [1, 1]], b = [10, 20, 30]  ->  y = [11, 22, 33]
    let s = shape(1, 2, 3);
    let y = cpu::forward(&s, &[1.0, 2.0], &[1.0, 0.0, 0.0, 1.0, 1.0, 1.0], &[10.0, 20.0, 30.0]).unwrap();
    assert_eq!(y, vec![11.0, 22.0, 33.0]);
}

#[test]
fn reference_backward_matches_finite_differences() {
    let mut rng = Rng::new(12);
    let s = shape(3, 5, 4);
    let (x, w, b) = (random(&mut rng, s.x_len()), random(&mut rng, s.w_len()), random(&mut rng, 4));
    let g = random(&mut rng, s.y_len());
    let dx = cpu::backward_input(&s, &g, &w).unwrap();
    let (dw, db) = cpu::backward_params(&s, &x, &g).unwrap();
    let fd = Tolerance::finite_difference();
    fd.assert("dx", &dx, &numerical_grad(&x, 1e-3, |x| dot(&g, &cpu::forward(&s, x, &w, &b).unwrap())));
    fd.assert("dw", &dw, &numerical_grad(&w, 1e-3, |w| dot(&g, &cpu::forward(&s, &x, w, &b).unwrap())));
    fd.assert("db", &db, &numerical_grad(&b, 1e-3, |b| dot(&g, &cpu::forward(&s, &x, &w, b).unwrap())));
}

#[test]
fn flops_count_two_per_multiply_add() {
    assert_eq!(shape(128, 64, 10).flops(), 2.0 * 128.0 * 64.0 * 10.0);
}

#[test]
fn bad_shapes_are_errors() {
    let s = shape(2, 3, 4);
    for bad in [shape(0, 3, 4), shape(2, 0, 4), shape(2, 3, 0)] {
        assert!(bad.validate().is_err(), "{bad:?} must be rejected");
        assert!(cpu::forward(&bad, &[], &[], &[]).is_err());
    }
    // Reference: each input with one element too many.
    assert!(cpu::forward(&s, &[0.0; 7], &[0.0; 12], &[0.0; 4]).is_err());
    assert!(cpu::forward(&s, &[0.0; 6], &[0.0; 13], &[0.0; 4]).is_err());
    assert!(cpu::forward(&s, &[0.0; 6], &[0.0; 12], &[0.0; 5]).is_err());
    assert!(cpu::backward_input(&s, &[0.0; 9], &[0.0; 12]).is_err());
    assert!(cpu::backward_params(&s, &[0.0; 6], &[0.0; 7]).is_err());

    // GPU: every tensor is checked against the shape.
    let (x, w, b, y) = (zeros("x", &[2, 3]), zeros("w", &[4, 3]), zeros("b", &[4]), zeros("y", &[2, 4]));
    let w_bad = zeros("w_bad", &[4, 4]);
    let err = gpu::forward(ctx(), &s, &x, &w_bad, &b, &y).err().expect("wrong weight size must fail");
    assert!(err.to_string().contains("`w_bad` has 16 elements but 12"), "{err}");
    assert!(gpu::forward(ctx(), &s, &x, &w, &b, &zeros("y_bad", &[2, 3])).is_err());
    assert!(gpu::forward(ctx(), &shape(2, 3, 0), &x, &w, &b, &y).is_err());
    assert!(gpu::backward_input(ctx(), &s, &y, &w, &zeros("dx_bad", &[3, 3])).is_err());
    assert!(gpu::backward_params(ctx(), &s, &x, &y, &w, &zeros("db_bad", &[3])).is_err());
    assert!(gpu::forward(ctx(), &s, &x, &w, &b, &y).is_ok());
}
