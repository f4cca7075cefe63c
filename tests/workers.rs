//! Data-parallel training on the CPU (`train::team`, `train::threads`): a run whose batches are
//! shared by 2 or 3 workers, with synchronized batch norm and summed gradients, trains the numbers
//! of the one-worker run (losses, evaluation, weights, running statistics), with the tricks that
//! touch the loss (mixup, label smoothing, distillation) on; a batch smaller than the team trains
//! alone; a worker's failure ends the run with its reason instead of a wait that never ends.

mod common;
use common::digits;
use std::rc::Rc;

use tricklab::data::DatasetKind;
use tricklab::gpu::block_on;
use tricklab::reference::sync::{rows, Alone};
use tricklab::train::backend::Device;
use tricklab::train::checkpoint::Checkpoint;
use tricklab::train::team::{Crew, Shard, Team, Work};
use tricklab::train::threads::ThreadCrew;
use tricklab::train::trainer::Trainer;
use tricklab::train::TrainConfig;


fn config() -> TrainConfig {
    TrainConfig {
        epochs: 1,
        batch_size: 16,
        base_lr: 1.6,
        width_mult: 0.5,
        mixup_alpha: 0.4,
        label_smoothing: 0.1,
        ..TrainConfig::default_for(DatasetKind::Mnist)
    }
}

fn team(workers: usize) -> Device {
    Device::Team(Rc::new(Team::new(Box::new(ThreadCrew::new(workers).unwrap()))))
}

/// Per-step mean losses, then the test loss and accuracy and the weights.
fn train(device: Device, config: TrainConfig, teacher: Option<Checkpoint>, steps: usize) -> (Vec<f32>, (f32, f32), Checkpoint) {
    let mut t = Trainer::new(device, config, &digits(96, 1), &digits(40, 2), teacher).unwrap();
    let mut last = None;
    let losses = (0..steps)
        .map(|_| {
            t.step().unwrap();
            let p = block_on(t.progress()).unwrap();
            let loss = p.mean_loss_since(last.as_ref());
            last = Some(p);
            loss
        })
        .collect();
    let eval = block_on(t.evaluate()).unwrap();
    (losses, eval, block_on(t.checkpoint()).unwrap())
}

fn max_diff(a: &Checkpoint, b: &Checkpoint) -> f32 {
    let params = a.params.iter().zip(&b.params);
    let running = a.running.iter().zip(&b.running).flat_map(|((m1, v1), (m2, v2))| [(m1, m2), (v1, v2)]);
    params.chain(running).flat_map(|(x, y)| x.iter().zip(y).map(|(p, q)| (p - q).abs())).fold(0.0, f32::max)
}

#[test]
fn the_batch_is_cut_into_even_rows_in_order() {
    assert_eq!(rows(16, 0, 3), 0..5);
    assert_eq!(rows(16, 1, 3), 5..10);
    assert_eq!(rows(16, 2, 3), 10..16);
    assert_eq!(rows(64, 1, 2), 32..64);
}

#[test]
fn two_and_three_workers_train_the_numbers_of_one() {
    let (losses, eval, weights) = train(Device::Cpu, config(), None, 5);
    for workers in [2, 3] {
        let device = team(workers);
        assert_eq!(device.describe(), format!("the CPU, {workers} workers (tricklab's reference ops, no GPU)"));
        let (l, e, w) = train(device, config(), None, 5);
        let diff = max_diff(&w, &weights);
        eprintln!("{workers} workers: losses {l:?} against {losses:?}; weights and BN statistics differ by at most {diff:e}");
        assert!(diff <= 1e-4, "{workers} workers: weights differ by {diff}");
        for (a, b) in l.iter().zip(&losses) {
            assert!((a - b).abs() <= 1e-4 * b.abs().max(1.0), "{workers} workers: losses {l:?} against {losses:?}");
        }
        assert!((e.0 - eval.0).abs() <= 1e-4 && (e.1 - eval.1).abs() <= 1e-6, "{workers} workers: evaluation {e:?} against {eval:?}");
    }
}

#[test]
fn a_distilled_run_shares_its_batches_too() {
    let (_, _, teacher) = train(Device::Cpu, config(), None, 3);
    let student = TrainConfig { teacher: Some("teacher".into()), hard_weight: 0.5, temperature: 2.0, ..config() };
    let (l1, _, w1) = train(Device::Cpu, student.clone(), Some(teacher.clone()), 3);
    let (l2, _, w2) = train(team(2), student, Some(teacher), 3);
    assert!(max_diff(&w1, &w2) <= 1e-4, "{}", max_diff(&w1, &w2));
    for (a, b) in l1.iter().zip(&l2) {
        assert!((a - b).abs() <= 1e-4, "{l1:?} against {l2:?}");
    }
}

#[test]
fn a_batch_smaller_than_the_team_trains_alone() {
    let device = team(3);
    let t = Trainer::new(device, TrainConfig { batch_size: 2, ..config() }, &digits(32, 1), &digits(8, 2), None).unwrap();
    assert_eq!(t.device().describe(), tricklab::train::backend::CPU_DESCRIPTION);
}

#[test]
fn a_failing_worker_ends_the_work_with_its_reason() {
    let crew = ThreadCrew::new(2).unwrap();
    let c = config();
    crew.open(1, &c, None).unwrap();
    let mut leader = Shard::new(&c, None, 0, 2, crew.leader_reduce()).unwrap();
    let x = vec![0.0; 16 * 784];
    let targets = vec![0.1; 16 * 10];
    let labels = vec![0.0; 16];
    // The other worker was never told of run 7: it fails, and the leader stops waiting for it.
    crew.send(7, &Work::Train { x: &x, targets: &targets, labels: &labels, lr: 0.1 }).unwrap();
    let err = leader.work(&Work::Train { x: &x, targets: &targets, labels: &labels, lr: 0.1 }).err().expect("the leader must not wait forever");
    assert!(err.to_string().contains("worker 1 has no run 7"), "{err}");
    // A leader alone needs no team.
    assert!(Shard::new(&c, None, 0, 1, Box::new(Alone)).is_ok());
    assert!(ThreadCrew::new(1).is_err());
}
