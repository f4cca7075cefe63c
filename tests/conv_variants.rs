//! The Wide and Subgroup convolution kernels against the CPU reference: forward, backward for the
//! input and backward for the weight, at tests/conv2d.rs's shapes (depthwise left out: those use
//! conv2d's direct kernels) plus a larger one, each output starting from garbage. The Subgroup
//! tests skip, saying so, on a device without the `subgroups` feature.

mod common;
use common::*;
use tricklab::check::Tolerance;
use tricklab::gpu::conv2d::BackwardWeight;
use tricklab::gpu::{conv2d_subgroup, conv2d_wide, Dispatch, GpuContext, Tensor};
use tricklab::ops::conv2d::Conv2dShape;
use tricklab::reference::conv2d as cpu;
use tricklab::rng::Rng;

/// The conv kernel tests' shapes (tests/common) without those of one input channel per group
/// (depthwise and the channel multiplier), which take conv2d's direct kernels.
fn shapes() -> Vec<(&'static str, Conv2dShape)> {
    conv_shapes().into_iter().filter(|(_, s)| !tricklab::gpu::conv2d::uses_direct_kernels(s)).collect()
}

/// Sums of up to 64·9 (forward, backward input) or 4·16·16 (weight) products of values in [-1, 1].
const TOL: Tolerance = Tolerance::balanced();

type Pass = fn(&GpuContext, &Conv2dShape, &Tensor, &Tensor, &Tensor) -> tricklab::Result<Dispatch>;
type Reference = fn(&Conv2dShape, &[f32], &[f32]) -> tricklab::Result<Vec<f32>>;
type WeightPass = fn(&GpuContext, &Conv2dShape, &Tensor, &Tensor, &Tensor) -> tricklab::Result<BackwardWeight>;

fn check_forward(variant: &str, seed: u64, forward: Pass) {
    check_data_pass(variant, seed, "y", |s| (s.input_shape(), s.output_shape()), cpu::forward, forward);
}

fn check_backward_input(variant: &str, seed: u64, backward_input: Pass) {
    check_data_pass(variant, seed, "dx", |s| (s.output_shape(), s.input_shape()), cpu::backward_input, backward_input);
}

/// A data pass (forward: x, w -> y; backward-input: dy, w -> dx) on every shape against the
/// reference, its output starting from garbage. `shapes` gives the first operand's shape and the
/// output's.
fn check_data_pass(variant: &str, seed: u64, out: &str, shapes_of: fn(&Conv2dShape) -> ([usize; 4], [usize; 4]), want: Reference, run: Pass) {
    let mut rng = Rng::new(seed);
    for (name, s) in shapes() {
        let (a_shape, out_shape) = shapes_of(&s);
        let (a, w) = (random(&mut rng, a_shape.iter().product()), random(&mut rng, s.weight_len()));
        let (at, wt) = (upload("a", &a_shape, &a), upload("w", &s.weight_shape(), &w));
        let o = upload(out, &out_shape, &random(&mut rng, out_shape.iter().product()));
        ctx().submit(&[&run(ctx(), &s, &at, &wt, &o).unwrap()]).unwrap();
        TOL.assert(&format!("{variant} {name}: {out}"), &read(&o), &want(&s, &a, &w).unwrap());
    }
}

fn check_backward_weight(variant: &str, seed: u64, backward_weight: WeightPass) {
    let mut rng = Rng::new(seed);
    let mut splits_seen = Vec::new();
    for (name, s) in shapes() {
        let (x, dy) = (random(&mut rng, s.input_len()), random(&mut rng, s.output_len()));
        let (xt, dyt) = (upload("x", &s.input_shape(), &x), upload("dy", &s.output_shape(), &dy));
        let dw = upload("dw", &s.weight_shape(), &random(&mut rng, s.weight_len()));
        let bw = backward_weight(ctx(), &s, &xt, &dyt, &dw).unwrap();
        splits_seen.push(bw.splits());
        // Twice in one submit: the second run must give the same dw (overwrite, no accumulate).
        let passes = [bw.dispatches(), bw.dispatches()].concat();
        ctx().submit(&passes).unwrap();
        let what = format!("{variant} {name}: dw ({} chunks)", bw.splits());
        TOL.assert(&what, &read(&dw), &cpu::backward_weight(&s, &x, &dy).unwrap());
    }
    assert!(splits_seen.contains(&1), "no shape took the single-chunk path: {splits_seen:?}");
    assert!(splits_seen.iter().any(|&n| n > 2), "no shape took the split path: {splits_seen:?}");
}

/// False (with a note) where the device has no subgroups.
fn has_subgroups() -> bool {
    let ok = conv2d_subgroup::supported(ctx());
    if !ok {
        eprintln!("skipped: {} does not offer the `subgroups` feature", ctx().describe());
    }
    ok
}

#[test]
fn wide_forward_matches_reference() {
    check_forward("wide", 21, conv2d_wide::forward);
}

#[test]
fn wide_backward_input_matches_reference() {
    check_backward_input("wide", 22, conv2d_wide::backward_input);
}

#[test]
fn wide_backward_weight_matches_reference() {
    check_backward_weight("wide", 23, conv2d_wide::backward_weight);
}

/// Every block shape the shader allows for, not only the chosen ones.
#[test]
fn wide_other_blocks_match_reference() {
    use conv2d_wide::Block;
    let mut rng = Rng::new(24);
    for block in [Block { ch: 4, px: 4 }, Block { ch: 4, px: 8 }, Block { ch: 8, px: 8 }, Block { ch: 3, px: 5 }] {
        for (name, s) in shapes() {
            let (x, w, dy) = (random(&mut rng, s.input_len()), random(&mut rng, s.weight_len()), random(&mut rng, s.output_len()));
            let (xt, wt) = (upload("x", &s.input_shape(), &x), upload("w", &s.weight_shape(), &w));
            let dyt = upload("dy", &s.output_shape(), &dy);
            let y = upload("y", &s.output_shape(), &random(&mut rng, s.output_len()));
            let dx = upload("dx", &s.input_shape(), &random(&mut rng, s.input_len()));
            let dw = upload("dw", &s.weight_shape(), &random(&mut rng, s.weight_len()));
            let f = conv2d_wide::forward_blocked(ctx(), &s, &xt, &wt, &y, block).unwrap();
            let bi = conv2d_wide::backward_input_blocked(ctx(), &s, &dyt, &wt, &dx, block).unwrap();
            let bw = conv2d_wide::backward_weight_blocked(ctx(), &s, &xt, &dyt, &dw, block).unwrap();
            ctx().submit(&[[&f, &bi].as_slice(), &bw.dispatches()].concat()).unwrap();
            TOL.assert(&format!("wide {block:?} {name}: y"), &read(&y), &cpu::forward(&s, &x, &w).unwrap());
            TOL.assert(&format!("wide {block:?} {name}: dx"), &read(&dx), &cpu::backward_input(&s, &dy, &w).unwrap());
            TOL.assert(&format!("wide {block:?} {name}: dw"), &read(&dw), &cpu::backward_weight(&s, &x, &dy).unwrap());
        }
    }
}

#[test]
fn subgroup_forward_matches_reference() {
    if has_subgroups() {
        check_forward("subgroup", 31, conv2d_subgroup::forward);
        // The 4-channel block too.
        check_forward("subgroup 4x8", 34, |c, s, x, w, y| {
            conv2d_subgroup::forward_blocked(c, s, x, w, y, conv2d_wide::Block { ch: 4, px: 8 })
        });
    }
}

#[test]
fn subgroup_backward_input_matches_reference() {
    if has_subgroups() {
        check_backward_input("subgroup", 32, conv2d_subgroup::backward_input);
    }
}

#[test]
fn subgroup_backward_weight_matches_reference() {
    if has_subgroups() {
        check_backward_weight("subgroup", 33, conv2d_subgroup::backward_weight);
    }
}

#[test]
fn depthwise_is_an_error() {
    let s = conv(2, 16, 9, 16, 3, 1, 1).with_groups(16);
    let (x, w, y) = (zeros("x", &s.input_shape()), zeros("w", &s.weight_shape()), zeros("y", &s.output_shape()));
    let e = conv2d_wide::forward(ctx(), &s, &x, &w, &y).err().expect("depthwise must be an error").to_string();
    assert!(e.contains("depthwise"), "{e}");
}
