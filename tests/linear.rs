//! Linear layer kernels against the reference in every built variant (sizes that do and do not
//! divide by the 4×4 block, the workgroup and the 64×64 tile), the reference's backward against
//! finite differences, and bad shapes and unbuilt variants.

mod common;
use common::*;
use tricklab::check::Tolerance;
use tricklab::rng::Rng;
use tricklab::gpu::linear as gpu;
use tricklab::gpu::Variant;
use tricklab::ops::linear::LinearShape;
use tricklab::reference::gradcheck::{dot, numerical_grad};
use tricklab::reference::linear as cpu;

fn shape(batch: usize, in_features: usize, out_features: usize) -> LinearShape {
    LinearShape { batch, in_features, out_features }
}

/// The variants built so far; every kernel test runs each of them.
const VARIANTS: [Variant; 2] = [Variant::Register, Variant::Tiled];

// Degenerate, ragged, block-aligned, the classifier head of a CIFAR ResNet, more than one
// workgroup of 4×4 blocks in every pass, and more than one ragged 64×64 tile in every dimension of
// every pass.
const SHAPES: [(usize, usize, usize); 7] = [(1, 1, 1), (3, 5, 7), (8, 16, 4), (128, 64, 10), (37, 129, 10), (70, 97, 66), (130, 150, 77)];

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
        let want_y = cpu::forward(&s, &x, &w, &b).unwrap();
        let want_dx = cpu::backward_input(&s, &dy, &w).unwrap();
        let (want_dw, want_db) = cpu::backward_params(&s, &x, &dy).unwrap();
        for variant in VARIANTS {
            // Start from garbage: the kernels must overwrite, not accumulate.
            let mut garbage = |label: &str, shape: &[usize]| upload(label, shape, &random(&mut rng, shape.iter().product()));
            let (y, dx) = (garbage("linear y", &[batch, outf]), garbage("linear dx", &[batch, inf]));
            let (dw, db) = (garbage("linear dw", &[outf, inf]), garbage("linear db", &[outf]));
            let fwd = gpu::forward_with(ctx(), &s, &xt, &wt, &bt, &y, variant).unwrap();
            let bwd_x = gpu::backward_input_with(ctx(), &s, &dyt, &wt, &dx, variant).unwrap();
            let bwd_p = gpu::backward_params_with(ctx(), &s, &xt, &dyt, &dw, &db, variant).unwrap();
            let mut all = vec![&fwd, &bwd_x];
            all.extend(bwd_p.iter());
            ctx().submit(&all).unwrap();

            let what = |t: &str| format!("{t} [{variant}] for {s:?}");
            Tolerance::balanced().assert(&what("y"), &read(&y), &want_y);
            Tolerance::balanced().assert(&what("dx"), &read(&dx), &want_dx);
            Tolerance::balanced().assert(&what("dw"), &read(&dw), &want_dw);
            Tolerance::balanced().assert(&what("db"), &read(&db), &want_db);
        }
    }
}

/// Every product names its variant in its label.
#[test]
fn dispatches_are_labelled_with_their_variant() {
    let s = shape(2, 3, 4);
    let (x, w, b, y) = (zeros("x", &[2, 3]), zeros("w", &[4, 3]), zeros("b", &[4]), zeros("y", &[2, 4]));
    for variant in VARIANTS {
        assert_eq!(gpu::forward_with(ctx(), &s, &x, &w, &b, &y, variant).unwrap().label, format!("linear product_bias [{variant}] -> y"));
        assert_eq!(gpu::backward_input_with(ctx(), &s, &y, &w, &x, variant).unwrap().label, format!("linear product [{variant}] -> x"));
        let passes = gpu::backward_params_with(ctx(), &s, &x, &y, &w, &b, variant).unwrap();
        assert_eq!(passes[0].label, format!("linear product [{variant}] -> w"));
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

    for variant in Variant::ALL.into_iter().filter(|v| !VARIANTS.contains(v)) {
        let e = gpu::forward_with(ctx(), &s, &x, &w, &b, &y, variant).err().expect("an unbuilt variant must fail").to_string();
        assert!(e.contains(&format!("linear forward: the {variant} variant is not built")), "{e}");
        let e = gpu::backward_input_with(ctx(), &s, &y, &w, &x, variant).err().expect("an unbuilt variant must fail").to_string();
        assert!(e.contains(&format!("linear backward_input: the {variant} variant is not built")), "{e}");
        let e = gpu::backward_params_with(ctx(), &s, &x, &y, &w, &b, variant).err().expect("an unbuilt variant must fail").to_string();
        assert!(e.contains(&format!("linear backward_params: the {variant} variant is not built")), "{e}");
    }
}

/// Not a check: GFLOP/s of every built variant for the three products at 512³, on whatever adapter
/// the test finds. `cargo test --test linear -- --ignored --nocapture variant_speed`
#[test]
#[ignore]
fn variant_speed() {
    let mut rng = Rng::new(13);
    let s = shape(512, 512, 512);
    let mut t = |label: &str| upload(label, &[512, 512], &random(&mut rng, 512 * 512));
    let (x, w, y) = (t("x"), t("w"), t("y"));
    let b = upload("b", &[512], &random(&mut rng, 512));
    println!("adapter: {}", ctx().describe());
    let seconds_per_run = |d: &tricklab::gpu::Dispatch| {
        ctx().submit(&[d]).unwrap();
        ctx().wait().unwrap();
        let reps = 5;
        let start = std::time::Instant::now();
        ctx().submit(&vec![d; reps]).unwrap();
        ctx().wait().unwrap();
        start.elapsed().as_secs_f64() / reps as f64
    };
    for variant in VARIANTS {
        let fwd = gpu::forward_with(ctx(), &s, &x, &w, &b, &y, variant).unwrap();
        let bwd_x = gpu::backward_input_with(ctx(), &s, &y, &w, &x, variant).unwrap();
        let bwd_p = gpu::backward_params_with(ctx(), &s, &x, &y, &w, &b, variant).unwrap();
        let gflop = s.flops() / 1e9;
        println!(
            "512³ {variant:<9} forward {:5.2}  backward_input {:5.2}  backward_weight (dW only) {:5.2} GFLOP/s",
            gflop / seconds_per_run(&fwd),
            gflop / seconds_per_run(&bwd_x),
            gflop / seconds_per_run(&bwd_p[0]),
        );
    }
}
