//! The depthwise convolution's variants (`Direct`, `Depthwise4x4`, `Depthwise2x8`) against the CPU
//! reference: forward, backward for the input and backward for the weight, on depthwise shapes
//! that cover the blocks' edges (planes off the 4×4 and 2×8 blocks, strides 1 to 3, kernels 1×1
//! to 7×7, padding 0 to 3, non-square inputs, a channel multiplier, one and many weight-gradient
//! chunks, a 38×38 plane), each output starting from garbage; through `conv2d::*_with`, as the
//! picker runs them.

mod common;
use common::*;
use tricklab::check::Tolerance;
use tricklab::gpu::conv2d::{self as gpu, uses_direct_kernels};
use tricklab::gpu::{conv2d_depthwise, Pass, Variant};
use tricklab::ops::conv2d::Conv2dShape;
use tricklab::reference::conv2d as cpu;
use tricklab::rng::Rng;

const TOL: Tolerance = Tolerance::balanced();

fn shapes() -> Vec<(String, Conv2dShape)> {
    let mut out: Vec<(String, Conv2dShape)> = conv_shapes().into_iter().filter(|(_, s)| uses_direct_kernels(s)).map(|(n, s)| (n.to_string(), s)).collect();
    let more = [
        ("dw 3x3 s1 odd 11x11", conv(2, 5, 11, 5, 3, 1, 1).with_groups(5)),
        ("dw 3x3 s2 odd 13x13", conv(2, 6, 13, 6, 3, 2, 1).with_groups(6)),
        ("dw 3x3 s2 4x4 plane", conv(3, 7, 4, 7, 3, 2, 1).with_groups(7)),
        ("dw 3x3 s1 2x2 plane", conv(2, 9, 2, 9, 3, 1, 1).with_groups(9)),
        ("dw 3x3 pad 0 non-square", Conv2dShape { in_h: 9, in_w: 6, ..conv(2, 4, 9, 4, 3, 1, 0).with_groups(4) }),
        ("dw 3x3 s1 pad 2", conv(2, 3, 7, 3, 3, 1, 2).with_groups(3)),
        ("dw 3x3 s1 pad 3", conv(2, 3, 6, 3, 3, 1, 3).with_groups(3)),
        ("dw 1x1", conv(2, 4, 5, 4, 1, 1, 0).with_groups(4)),
        ("dw 5x5 pad 2", conv(2, 3, 10, 3, 5, 1, 2).with_groups(3)),
        ("dw 7x7 s2 pad 3", conv(1, 3, 15, 3, 7, 2, 3).with_groups(3)),
        ("dw 3x3 s3", conv(2, 4, 11, 4, 3, 3, 1).with_groups(4)),
        ("dw multiplier 3 s2", conv(2, 3, 9, 9, 3, 2, 1).with_groups(3)),
        ("dw many chunks 32x32 batch 4", conv(4, 8, 32, 8, 3, 1, 1).with_groups(8)),
        // Many blocks per plane, the last row and column blocks partial.
        ("dw 3x3 s1 38x38", conv(1, 2, 38, 2, 3, 1, 1).with_groups(2)),
        ("dw 3x3 s2 38x38", conv(1, 2, 38, 2, 3, 2, 1).with_groups(2)),
        // Stride 2 with an even padding: the written-out forward and weight gradient, the general
        // input gradient; an odd plane whose last dx block is partial.
        ("dw 3x3 s2 pad 0 odd 11x11", conv(2, 3, 11, 3, 3, 2, 0).with_groups(3)),
        ("dw 3x3 s2 pad 2 10x10", conv(2, 3, 10, 3, 3, 2, 2).with_groups(3)),
        ("dw 3x3 s2 pad 1 10x10 batch 3", conv(3, 5, 10, 5, 3, 2, 1).with_groups(5)),
    ];
    out.extend(more.into_iter().map(|(n, s)| (n.to_string(), s)));
    assert!(out.iter().all(|(_, s)| uses_direct_kernels(s)));
    // Both kinds of kernel run: the written-out 3×3 ones (stride 1, stride 2 with odd and even
    // paddings) and the general ones.
    let unrolled = |stride: usize, pads: &[usize]| out.iter().filter(|(_, s)| conv2d_depthwise::unrolled_3x3(s) && s.stride == stride && pads.contains(&s.padding)).count();
    let counts = [unrolled(1, &[0, 1, 2]), unrolled(2, &[1]), unrolled(2, &[0, 2])];
    assert!(counts[0] >= 6 && counts[1] >= 4 && counts[2] >= 2, "written-out 3×3 shapes: {counts:?}");
    assert!(out.iter().filter(|(_, s)| !conv2d_depthwise::unrolled_3x3(s)).count() >= 6);
    out
}

/// All three passes of `variant` on every shape; the weight gradient twice in one submit (it must
/// overwrite dw, not add to it). Returns the weight gradient's chunk counts.
fn check(variant: Variant, seed: u64) -> Vec<usize> {
    let mut rng = Rng::new(seed);
    let mut splits = Vec::new();
    for (name, s) in shapes() {
        let (x, w, dy) = (random(&mut rng, s.input_len()), random(&mut rng, s.weight_len()), random(&mut rng, s.output_len()));
        let (xt, wt, dyt) = (upload("x", &s.input_shape(), &x), upload("w", &s.weight_shape(), &w), upload("dy", &s.output_shape(), &dy));
        let y = upload("y", &s.output_shape(), &random(&mut rng, s.output_len()));
        let dx = upload("dx", &s.input_shape(), &random(&mut rng, s.input_len()));
        let dw = upload("dw", &s.weight_shape(), &random(&mut rng, s.weight_len()));
        let f = gpu::forward_with(ctx(), &s, &xt, &wt, &y, variant).unwrap();
        let bi = gpu::backward_input_with(ctx(), &s, &dyt, &wt, &dx, variant).unwrap();
        let bw = gpu::backward_weight_with(ctx(), &s, &xt, &dyt, &dw, variant).unwrap();
        assert_eq!(f.label, format!("conv2d forward [{variant}] -> y"));
        assert_eq!(bi.label, format!("conv2d backward_input [{variant}] -> dx"));
        assert!(bw.passes.iter().all(|d| d.label.contains(&format!("[{variant}]"))));
        splits.push(bw.splits());
        ctx().submit(&[[&f, &bi].as_slice(), &bw.dispatches(), &bw.dispatches()].concat()).unwrap();
        TOL.assert(&format!("{variant} {name}: y"), &read(&y), &cpu::forward(&s, &x, &w).unwrap());
        TOL.assert(&format!("{variant} {name}: dx"), &read(&dx), &cpu::backward_input(&s, &dy, &w).unwrap());
        TOL.assert(&format!("{variant} {name}: dw ({} chunks)", bw.splits()), &read(&dw), &cpu::backward_weight(&s, &x, &dy).unwrap());
    }
    assert!(splits.contains(&1) && splits.iter().any(|&n| n > 2), "both weight-gradient paths: {splits:?}");
    splits
}

#[test]
fn direct_matches_reference() {
    check(Variant::Direct, 41);
}

#[test]
fn depthwise_4x4_matches_reference() {
    check(Variant::Depthwise4x4, 42);
}

#[test]
fn depthwise_2x8_matches_reference() {
    check(Variant::Depthwise2x8, 43);
}

/// A depthwise shape offers exactly the depthwise variants to the picker, and a dense shape none
/// of them; asked for a dense variant (as before any pick), a depthwise shape takes the direct
/// kernels, and a dense shape cannot run a depthwise variant.
#[test]
fn depthwise_shapes_have_their_own_variants() {
    let dw = conv(2, 8, 6, 8, 3, 1, 1).with_groups(8);
    let dense = conv(2, 8, 6, 8, 3, 1, 1);
    for pass in Pass::CONV {
        assert_eq!(gpu::variants_for(ctx(), pass, &dw), Variant::DEPTHWISE.to_vec(), "{pass}");
        let dense_variants = gpu::variants_for(ctx(), pass, &dense);
        assert!(!dense_variants.is_empty() && dense_variants.iter().all(|v| !Variant::DEPTHWISE.contains(v)), "{pass}: {dense_variants:?}");
    }
    let (x, w, y) = (zeros("x", &dw.input_shape()), zeros("w", &dw.weight_shape()), zeros("y", &dw.output_shape()));
    assert_eq!(gpu::forward_with(ctx(), &dw, &x, &w, &y, Variant::Register).unwrap().label, "conv2d forward [direct] -> y");
    let (x, w, y) = (zeros("x", &dense.input_shape()), zeros("w", &dense.weight_shape()), zeros("y", &dense.output_shape()));
    let e = gpu::forward_with(ctx(), &dense, &x, &w, &y, Variant::Depthwise4x4).err().expect("a dense shape has no depthwise kernel").to_string();
    assert!(e.contains("depthwise-4x4"), "{e}");
}

#[test]
fn shapes_past_the_kernels_limits_are_errors() {
    let big = conv(1, 2, 12, 2, 9, 1, 4).with_groups(2);
    let (x, w, y) = (zeros("x", &big.input_shape()), zeros("w", &big.weight_shape()), zeros("y", &big.output_shape()));
    let e = conv2d_depthwise::forward(ctx(), &big, &x, &w, &y, Variant::Depthwise4x4).err().expect("a 9×9 kernel is past the limit").to_string();
    assert!(e.contains("7×7"), "{e}");
    let dense = conv(1, 2, 6, 2, 3, 1, 1);
    let (x, w, y) = (zeros("x", &dense.input_shape()), zeros("w", &dense.weight_shape()), zeros("y", &dense.output_shape()));
    assert!(conv2d_depthwise::forward(ctx(), &dense, &x, &w, &y, Variant::Depthwise2x8).is_err());
    // The direct kernels take any depthwise shape.
    assert!(gpu::forward_with(ctx(), &big, &zeros("x", &big.input_shape()), &zeros("w", &big.weight_shape()), &zeros("y", &big.output_shape()), Variant::Direct).is_ok());
}

/// conv2d_depthwise3.wgsl is what shaders/depthwise3.py writes (edit the script, not the file).
#[test]
fn unrolled_kernels_are_the_generators_output() {
    let root = env!("CARGO_MANIFEST_DIR");
    let out = std::process::Command::new("python3")
        .arg(format!("{root}/shaders/depthwise3.py"))
        .output()
        .expect("python3 runs shaders/depthwise3.py");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let committed = std::fs::read_to_string(format!("{root}/shaders/conv2d_depthwise3.wgsl")).unwrap();
    assert!(String::from_utf8(out.stdout).unwrap() == committed, "shaders/conv2d_depthwise3.wgsl differs from `python3 shaders/depthwise3.py`: regenerate it");
}
