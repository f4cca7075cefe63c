//! Whole networks: the GPU executor's forward (train and eval) and backward against the CPU
//! reference executor, for every model, with the same seeded parameters and inputs.

mod common;
use common::*;
use tricklab::check::Tolerance;
use tricklab::rng::Rng;
use tricklab::nn::cpu::CpuNet;
use tricklab::nn::gpu::GpuNet;
use tricklab::gpu::batchnorm::{self, Passes};
use tricklab::names::Named;
use tricklab::nn::models::{build, ModelKind, ModelOptions};

fn compare_model(name: &str, o: &ModelOptions, seed: u64) {
    let graph = build(ModelKind::parse(name).unwrap(), o).unwrap();
    let params = graph.init_params(seed);
    let mut rng = Rng::new(seed + 1);
    let input = rng.vec(graph.act_len(0), -1.0, 1.0);
    let dlogits = rng.vec(graph.act_len(graph.output()), -0.1, 0.1);

    let mut cpu = CpuNet::new(graph.clone(), params.clone());
    let logits = cpu.forward(&input, true).unwrap().to_vec();

    let gpu = GpuNet::new(ctx(), graph.clone(), &params).unwrap();
    ctx().write(gpu.input(), &input).unwrap();
    ctx().write(gpu.dlogits(), &dlogits).unwrap();
    let fwd: Vec<_> = gpu.forward_train.iter().collect();
    ctx().submit(&fwd).unwrap();
    // Deep chains of reductions: the whole-network preset.
    let tol = Tolerance::permissive();
    tol.assert(&format!("{name} logits"), &read(gpu.logits()), &logits);

    take_forward_state(&mut cpu, &gpu);
    cpu.backward(&dlogits).unwrap();
    // The loss would write dlogits after the forward; here it was written up front.
    let bwd: Vec<_> = gpu.backward.iter().collect();
    ctx().submit(&bwd).unwrap();
    let bad: Vec<String> = graph
        .params
        .iter()
        .enumerate()
        .filter_map(|(i, spec)| tol.compare(&format!("{name} grad {}", spec.name), &read(&gpu.grads[i]), &cpu.grads[i]).err())
        .collect();
    assert!(bad.is_empty(), "{} of {} gradients differ:\n{}", bad.len(), graph.params.len(), bad.join("\n"));
    for (i, (m, v)) in gpu.running.iter().enumerate() {
        tol.assert(&format!("{name} running mean {i}"), &read(m), &cpu.running[i].0);
        tol.assert(&format!("{name} running var {i}"), &read(v), &cpu.running[i].1);
    }

    // Eval mode normalizes with the (now updated) running statistics.
    let want_eval = cpu.forward(&input, false).unwrap().to_vec();
    let eval: Vec<_> = gpu.forward_eval.iter().collect();
    ctx().submit(&eval).unwrap();
    tol.assert(&format!("{name} eval logits"), &read(gpu.logits()), &want_eval);
}

#[test]
fn resnet20_with_tweaks_matches_reference() {
    let mut o = ModelOptions::new(2, 3, 16, 10);
    o.resnet_c = true;
    o.resnet_d = true;
    o.last_gamma = true;
    compare_model("resnet20", &o, 10);
}

#[test]
fn resnet20_plain_matches_reference() {
    compare_model("resnet20", &ModelOptions::new(2, 3, 32, 10), 11);
}

#[test]
fn mnist_resnet_matches_reference() {
    compare_model("mnist_resnet", &ModelOptions::new(3, 1, 28, 10), 12);
}

#[test]
fn mobilenetv2_matches_reference() {
    let mut o = ModelOptions::new(2, 3, 32, 10);
    o.width_mult = 0.5;
    compare_model("mobilenetv2", &o, 13);
}

#[test]
fn mobilenetv2_trains_its_relu6s_inside_the_batch_norms() {
    // Every ReLU6 of MobileNetV2 reads a batch norm alone, so training runs none of them as a pass
    // of its own (their values are checked against the reference in `mobilenetv2_matches_reference`).
    let mut o = ModelOptions::new(2, 3, 32, 10);
    o.width_mult = 0.5;
    let graph = build(ModelKind::parse("mobilenetv2").unwrap(), &o).unwrap();
    let relu6s = graph.nodes.iter().filter(|n| matches!(n.layer, tricklab::nn::graph::Layer::Relu6)).count();
    let gpu = GpuNet::new(ctx(), graph.clone(), &graph.init_params(14)).unwrap();
    let count = |passes: &[tricklab::gpu::Dispatch], part: &str| passes.iter().filter(|d| d.label.contains(part)).count();
    assert!(relu6s > 20, "MobileNetV2 has {relu6s} ReLU6s");
    assert_eq!(count(&gpu.forward_train, "relu6_forward"), 0, "no ReLU6 pass of its own in the training forward");
    assert_eq!(count(&gpu.backward, "relu6_backward"), 0, "nor in the backward");
    // The pass that writes the batch norm's output applies the ReLU6: per channel on CPU adapters
    // (four values at a time, as every plane of this model holds a multiple of 4).
    let (forward, backward) = match batchnorm::passes_for(ctx()) {
        Passes::PerChannel => ("train_channel4+relu6", "backward_channel4+relu6"),
        Passes::Split => ("train_normalize+relu6", "backward_reduce+relu6"),
    };
    assert_eq!(count(&gpu.forward_train, forward), relu6s);
    assert_eq!(count(&gpu.backward, backward), relu6s);
    assert_eq!(count(&gpu.forward_eval, "relu6_forward"), relu6s, "evaluation keeps them as passes (not fused there)");
}
