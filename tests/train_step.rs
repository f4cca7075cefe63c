//! A whole training step on the GPU equals the same step on the CPU reference — loss, metrics,
//! updated parameters, momentum buffers and BN running statistics — for every model, with every
//! trick on: zero-γ, no bias decay, Nesterov momentum with weight decay, label smoothing, mixup and
//! distillation from a teacher. Two steps, so momentum and the updated γ both take part.

mod common;
use common::*;
use tricklab::check::Tolerance;
use tricklab::rng::Rng;
use tricklab::nn::cpu::CpuNet;
use tricklab::nn::gpu::GpuNet;
use tricklab::names::Named;
use tricklab::nn::models::{build, ModelKind, ModelOptions};
use tricklab::gpu::block_on;
use tricklab::train::step::{CpuStep, GpuStep, StepOptions, Sums};
use tricklab::ops::targets::{mix_with_reversed, smoothed_targets};

const OPTIONS: StepOptions = StepOptions { momentum: 0.9, nesterov: true, weight_decay: 5e-4, no_wd: true, temperature: 4.0, hard_weight: 0.4 };

struct Batch {
    x: Vec<f32>,
    targets: Vec<f32>,
    labels: Vec<f32>,
}

/// A batch with label smoothing 0.1 and mixup λ = 0.7 applied, as the trainer would make it.
fn batch(rng: &mut Rng, shape: &[usize], classes: usize) -> Batch {
    let n = shape[0];
    let x = rng.vec(shape.iter().product(), -1.0, 1.0);
    let labels_u8: Vec<u8> = (0..n).map(|_| rng.below(classes) as u8).collect();
    let targets = smoothed_targets(&labels_u8, classes, 0.1).unwrap();
    Batch {
        x: mix_with_reversed(&x, n, 0.7).unwrap(),
        targets: mix_with_reversed(&targets, n, 0.7).unwrap(),
        labels: labels_u8.iter().map(|&l| l as f32).collect(),
    }
}

fn compare(name: &str, o: &ModelOptions, teacher_name: Option<&str>, seed: u64) {
    let graph = build(ModelKind::parse(name).unwrap(), o).unwrap();
    let params = graph.init_params(seed);
    let teacher_graph = teacher_name.map(|t| build(ModelKind::parse(t).unwrap(), &ModelOptions { last_gamma: false, ..o.clone() }).unwrap());
    let teacher_params = teacher_graph.as_ref().map(|g| g.init_params(seed + 100));
    let mut rng = Rng::new(seed + 1);
    let batches: Vec<Batch> = (0..2).map(|_| batch(&mut rng, graph.input_shape(), graph.classes)).collect();

    let cpu_teacher = teacher_graph.as_ref().zip(teacher_params.as_ref()).map(|(g, p)| CpuNet::new(g.clone(), p.clone()));
    let mut cpu = CpuStep::new(graph.clone(), params.clone(), cpu_teacher, OPTIONS);
    let gpu_teacher = teacher_graph.as_ref().zip(teacher_params.as_ref()).map(|(g, p)| GpuNet::new(ctx(), g.clone(), p).unwrap());
    let step = GpuStep::new(ctx(), GpuNet::new(ctx(), graph.clone(), &params).unwrap(), gpu_teacher, &OPTIONS).unwrap();
    let (mut gpu_losses, mut cpu_losses) = (Vec::new(), Vec::new());
    let mut before = Sums::default();
    for (i, b) in batches.iter().enumerate() {
        let lr = 0.1 / (i + 1) as f32;
        ctx().write(step.net.input(), &b.x).unwrap();
        ctx().write(&step.targets, &b.targets).unwrap();
        ctx().write(&step.labels, &b.labels).unwrap();
        step.set_lr(ctx(), lr).unwrap();
        ctx().submit(&step.dispatches()).unwrap();
        let sums = block_on(Sums::read(ctx(), &step.metrics)).unwrap();
        gpu_losses.push(sums.mean_loss_since(&before));
        before = sums;
        assert_eq!(sums.samples, ((i + 1) * graph.batch) as f64, "{name}: metrics count");

        // The CPU step runs its own forward (updating its running statistics), then continues from
        // the GPU's forward state (see `take_forward_state` in tests/common).
        cpu.forward(&b.x).unwrap();
        take_forward_state(&mut cpu.net, &step.net);
        cpu_losses.push(cpu.finish(&b.x, &b.targets, &b.labels, lr).unwrap().0);
    }

    let tol = Tolerance::permissive();
    tol.assert(&format!("{name} losses"), &gpu_losses, &cpu_losses);
    let mut bad = Vec::new();
    for (i, spec) in graph.params.iter().enumerate() {
        bad.extend(tol.compare(&format!("{name} param {}", spec.name), &read(&step.net.params[i]), &cpu.net.params[i]).err());
        bad.extend(tol.compare(&format!("{name} velocity {}", spec.name), &read(&step.velocity[i]), &cpu.velocity[i]).err());
    }
    for (i, (m, v)) in step.net.running.iter().enumerate() {
        bad.extend(tol.compare(&format!("{name} running mean {i}"), &read(m), &cpu.net.running[i].0).err());
        bad.extend(tol.compare(&format!("{name} running var {i}"), &read(v), &cpu.net.running[i].1).err());
    }
    assert!(bad.is_empty(), "{} mismatches:\n{}", bad.len(), bad.join("\n"));
}

fn all_tricks(batch: usize, channels: usize, size: usize) -> ModelOptions {
    ModelOptions { last_gamma: true, ..ModelOptions::new(batch, channels, size, 10) }
}

#[test]
fn resnet20_step_matches_reference() {
    compare("resnet20", &all_tricks(4, 3, 16), None, 1);
}

#[test]
fn resnet20_tweaked_distilled_step_matches_reference() {
    let o = ModelOptions { resnet_c: true, resnet_d: true, ..all_tricks(4, 3, 16) };
    compare("resnet20", &o, Some("resnet20"), 2);
}

#[test]
fn mnist_resnet_step_matches_reference() {
    // With ResNet-D the last block's shortcut average-pools 7×7 to 4×4 (ceil mode, clipped windows).
    let o = ModelOptions { resnet_c: true, resnet_d: true, ..all_tricks(4, 1, 28) };
    compare("mnist_resnet", &o, Some("mnist_resnet"), 3);
}

#[test]
fn mobilenetv2_step_matches_reference() {
    let o = ModelOptions { width_mult: 0.5, ..all_tricks(4, 3, 32) };
    compare("mobilenetv2", &o, None, 4);
}

#[test]
fn teacher_with_other_classes_is_rejected() {
    let student = build(ModelKind::Resnet20, &ModelOptions::new(2, 3, 16, 10)).unwrap();
    let teacher = build(ModelKind::Resnet20, &ModelOptions::new(2, 3, 16, 7)).unwrap();
    let s = GpuNet::new(ctx(), student.clone(), &student.init_params(1)).unwrap();
    let t = GpuNet::new(ctx(), teacher.clone(), &teacher.init_params(1)).unwrap();
    let err = GpuStep::new(ctx(), s, Some(t), &OPTIONS).err().expect("a 7-class teacher for a 10-class student must fail");
    assert!(err.to_string().contains("teacher"), "{err}");
}
