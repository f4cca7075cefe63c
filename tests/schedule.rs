//! The seed's schedules and tricks against numbers produced by the seed's own Python: the
//! tutorial's `cosine_decay_with_warmup`, `WarmUpLearningRateScheduler` and `smooth_labels`, pasted
//! verbatim into a scratch script (not committed) and run with Python 3 and NumPy 2.4, printing
//! `repr(float(...))` for each value below. The rates must agree bit for bit (same f64 operations
//! in the same order); the CLI is checked against the library and for its error exit.

use std::process::Command;

use tricklab::check::Tolerance;
use tricklab::rng::Rng;
use tricklab::train::schedule::{
    constant, cosine_decay_with_warmup, step_decay, warmup_lr_scheduler, LrMode, LrSchedule, ScheduleSpec,
};
use tricklab::ops::targets::{mix_with_reversed, one_hot, smooth_labels, smoothed_targets};
use tricklab::train::tricks::{beta_sample, gamma_sample, mixup_lambda};
use tricklab::Error;

fn cosine(step: u64, base: f64, total: u64, warmup_lr: f64, warmup: u64, hold: u64) -> f64 {
    cosine_decay_with_warmup(step, base, total, warmup_lr, warmup, hold).unwrap()
}

/// Every (step, rate) of `want` is what `lr` gives, to the last bit.
fn assert_bit_for_bit(want: &[(u64, f64)], lr: impl Fn(u64) -> f64) {
    for &(step, rate) in want {
        assert_eq!(lr(step), rate, "step {step}");
    }
}

fn field_of(err: Error) -> &'static str {
    match err {
        Error::Config { field, .. } => field,
        other => panic!("expected a config error, got {other:?}"),
    }
}

#[test]
fn cosine_with_warmup_and_hold_matches_the_seed_bit_for_bit() {
    // cosine_decay_with_warmup(step, 0.1, 100, warmup_learning_rate=0.01, warmup_steps=10,
    // hold_base_rate_steps=20)
    let want: [(u64, f64); 15] = [
        (0, 0.01),
        (1, 0.019000000000000003),
        (5, 0.05500000000000001),
        (9, 0.09100000000000001),
        (10, 0.1),
        (29, 0.1),
        (30, 0.1),
        (31, 0.09994965332706574),
        (32, 0.09979871469976197),
        (50, 0.08117449009293669),
        (65, 0.05),
        (99, 5.034667293427053e-05),
        (100, 0.0),
        (101, 0.0),
        (200, 0.0),
    ];
    assert_bit_for_bit(&want, |step| cosine(step, 0.1, 100, 0.01, 10, 20));
}

#[test]
fn cosine_without_hold_matches_the_seed_bit_for_bit() {
    // cosine_decay_with_warmup(step, 0.001, 300, 0.0, 30, 0): the tutorial's own example
    // (epochs 100, 12 samples, batch 4, warmup 10 epochs).
    let want: [(u64, f64); 7] = [
        (0, 0.0),
        (3, 0.0001),
        (10, 0.0003333333333333334),
        (11, 0.00036666666666666667),
        (40, 0.0009966191788709714),
        (100, 0.0008431208189343669),
        (101, 0.0008388659995728662),
    ];
    assert_bit_for_bit(&want, |step| cosine(step, 0.001, 300, 0.0, 30, 0));
}

#[test]
fn hold_is_a_plateau_and_ends_with_a_strict_greater_than() {
    // Warmup 10, hold 20: the base rate from step 10 through step 30 = warmup + hold inclusive
    // (the seed keeps the base while NOT global_step > warmup + hold), then decay from step 31.
    // At step 30 itself the cosine term is also exactly the base (cos(0) = 1), so `>` and `>=`
    // agree there; what the strict `>` fixes is that no plateau step is ever below the base.
    for step in 10..=30 {
        assert_eq!(cosine(step, 0.1, 100, 0.0, 10, 20), 0.1, "step {step} is on the plateau");
    }
    assert!(cosine(31, 0.1, 100, 0.0, 10, 20) < 0.1);
    // Hold without warmup.
    for step in 0..=5 {
        assert_eq!(cosine(step, 0.2, 50, 0.0, 0, 5), 0.2);
    }
    assert!(cosine(6, 0.2, 50, 0.0, 0, 5) < 0.2);
}

#[test]
fn zero_after_total_steps_in_every_mode() {
    let total = 40;
    for mode in [LrMode::Cosine, LrMode::Step, LrMode::Constant] {
        let mut spec = ScheduleSpec::new(mode, 0.1, total);
        spec.warmup_steps = 4;
        spec.decay_steps = vec![20, 30];
        let s = LrSchedule::new(spec).unwrap();
        for step in total + 1..total + 20 {
            assert_eq!(s.lr(step), 0.0, "{mode:?} step {step}");
        }
        assert!(s.lr(total - 1) > 0.0, "{mode:?}");
    }
    // Cosine reaches exactly 0 at total_steps itself (cos(pi) is -1.0 in f64).
    assert_eq!(cosine(40, 0.1, 40, 0.0, 4, 0), 0.0);
}

#[test]
fn the_seeds_errors_are_errors() {
    // ValueError: total_steps must be larger or equal to warmup_steps.
    let e = cosine_decay_with_warmup(3, 0.1, 10, 0.0, 11, 0).unwrap_err();
    assert_eq!(field_of(e), "warmup_steps");
    // ValueError: learning_rate_base must be larger or equal to warmup_learning_rate.
    let e = cosine_decay_with_warmup(3, 0.1, 10, 0.2, 5, 0).unwrap_err();
    assert_eq!(field_of(e), "warmup_lr");
    // ... which the seed only checks when there is a warmup: 0.07938926261462366 from Python.
    assert_eq!(cosine(3, 0.1, 10, 0.2, 0, 0), 0.07938926261462366);
    // The checks do not depend on the step (the seed raises for every step).
    assert!(cosine_decay_with_warmup(0, 0.1, 10, 0.0, 11, 0).is_err());
    assert!(cosine_decay_with_warmup(1000, 0.1, 10, 0.2, 5, 0).is_err());
}

#[test]
fn warmup_equal_to_total_steps() {
    // The seed allows it (total_steps >= warmup_steps) but then divides by zero
    // (ZeroDivisionError: float division by zero), for hold 0 and for warmup + hold == total.
    assert_eq!(field_of(cosine_decay_with_warmup(3, 0.1, 10, 0.0, 10, 0).unwrap_err()), "total_steps");
    assert_eq!(field_of(cosine_decay_with_warmup(3, 0.1, 10, 0.0, 4, 6).unwrap_err()), "total_steps");
    // The message a visitor reads names the tutorial, not "the seed" (which on the page is the
    // random seed).
    let message = cosine_decay_with_warmup(3, 0.1, 10, 0.0, 10, 0).unwrap_err().to_string();
    assert!(message.contains("the Keras tutorial's formula divides by zero"), "{message}");
    assert!(!message.contains("seed"), "{message}");
    // With a hold that runs past the end the seed's value is defined: [0.0, 0.05, 0.09, 0.1, 0.0,
    // 0.0, 0.0] at steps [0, 5, 9, 10, 11, 15, 16] for (0.1, 10, 0.0, 10, 5).
    let got: Vec<f64> = [0, 5, 9, 10, 11, 15, 16].iter().map(|&s| cosine(s, 0.1, 10, 0.0, 10, 5)).collect();
    assert_eq!(got, [0.0, 0.05, 0.09, 0.1, 0.0, 0.0, 0.0]);
    // Step and constant modes have no division: warmup over the whole run is fine.
    for mode in [LrMode::Step, LrMode::Constant] {
        let mut spec = ScheduleSpec::new(mode, 0.1, 10);
        spec.warmup_steps = 10;
        let s = LrSchedule::new(spec).unwrap();
        assert_eq!(s.lr_f64(5), 0.05);
        assert_eq!(s.lr_f64(10), 0.1);
        assert_eq!(s.lr_f64(11), 0.0);
    }
}

#[test]
fn warmup_callback_matches_the_seed() {
    // The tutorial's WarmUpLearningRateScheduler(warmup_batches=5*12/4=15.0, init_lr=0.001) over
    // 7 epochs of 3 batches: the rate set at each on_batch_begin, simulated in Python.
    let want = [
        0.0,
        6.666666666666667e-05,
        0.00013333333333333334,
        0.0002,
        0.0002666666666666667,
        0.0003333333333333333,
        0.0004,
        0.00046666666666666666,
        0.0005333333333333334,
        0.0006000000000000001,
        0.0006666666666666666,
        0.0007333333333333333,
        0.0008,
        0.0008666666666666667,
        0.0009333333333333333,
        0.001,
        0.001,
        0.001,
        0.001,
        0.001,
        0.001,
    ];
    for (batch, lr) in want.iter().enumerate() {
        assert_eq!(warmup_lr_scheduler(batch as u64, 15.0, 0.001).unwrap(), *lr, "batch {batch}");
    }
    // A fractional warmup_batches (7.5) stays at the last rate it set, 7 * 0.01 / 7.5, below init_lr.
    let frac: Vec<f64> = (0..10).map(|b| warmup_lr_scheduler(b, 7.5, 0.01).unwrap()).collect();
    assert_eq!(frac[7], 0.009333333333333334);
    assert_eq!(frac[8..], [0.009333333333333334, 0.009333333333333334]);
    assert!(warmup_lr_scheduler(0, 0.0, 0.01).is_err());
    assert!(warmup_lr_scheduler(0, -1.0, 0.01).is_err());
}

#[test]
fn step_and_constant_modes() {
    // Linear warmup from 0.01 over 4 steps, then 0.1, 0.1 * 0.5 from step 10, * 0.25 from 20.
    assert_eq!(step_decay(0, 0.1, 30, 0.01, 4, 0.5, &[10, 20]), 0.01);
    assert_eq!(step_decay(2, 0.1, 30, 0.01, 4, 0.5, &[10, 20]), 0.05500000000000001); // (0.1 - 0.01) / 4 * 2 + 0.01
    assert_eq!(step_decay(4, 0.1, 30, 0.01, 4, 0.5, &[10, 20]), 0.1);
    assert_eq!(step_decay(9, 0.1, 30, 0.01, 4, 0.5, &[10, 20]), 0.1);
    assert_eq!(step_decay(10, 0.1, 30, 0.01, 4, 0.5, &[10, 20]), 0.05);
    assert_eq!(step_decay(20, 0.1, 30, 0.01, 4, 0.5, &[10, 20]), 0.025);
    assert_eq!(step_decay(30, 0.1, 30, 0.01, 4, 0.5, &[10, 20]), 0.025);
    assert_eq!(step_decay(31, 0.1, 30, 0.01, 4, 0.5, &[10, 20]), 0.0);
    assert_eq!(constant(0, 0.1, 30, 0.0, 0), 0.1);
    assert_eq!(constant(2, 0.1, 30, 0.0, 4), 0.05);
    assert_eq!(constant(30, 0.1, 30, 0.0, 4), 0.1);
    // The warmup line is the seed's in every mode.
    for step in 0..4 {
        assert_eq!(constant(step, 0.4, 97, 0.0123, 4), cosine(step, 0.4, 97, 0.0123, 4, 0));
        assert_eq!(step_decay(step, 0.4, 97, 0.0123, 4, 0.1, &[]), cosine(step, 0.4, 97, 0.0123, 4, 0));
    }
}

#[test]
fn schedule_rejects_bad_specs() {
    let bad = |f: fn(&mut ScheduleSpec)| {
        let mut spec = ScheduleSpec::new(LrMode::Step, 0.1, 100);
        f(&mut spec);
        field_of(LrSchedule::new(spec).unwrap_err())
    };
    assert_eq!(bad(|s| s.base_lr = 0.0), "base_lr");
    assert_eq!(bad(|s| s.base_lr = f64::NAN), "base_lr");
    assert_eq!(bad(|s| s.warmup_lr = -0.1), "warmup_lr");
    assert_eq!(bad(|s| s.warmup_steps = 101), "warmup_steps");
    assert_eq!(bad(|s| (s.warmup_steps, s.warmup_lr) = (5, 0.2)), "warmup_lr");
    assert_eq!(bad(|s| s.decay = 0.0), "decay");
    assert_eq!(bad(|s| s.decay = 1.5), "decay");
    assert_eq!(bad(|s| s.decay_steps = vec![50, 20]), "decay_steps");
    assert_eq!(bad(|s| (s.mode, s.hold_steps) = (LrMode::Cosine, 100)), "total_steps");
    assert_eq!(LrMode::parse("linear").map_err(field_of), Err("lr_mode"));
}

#[test]
fn schedule_f32_and_curve_follow_the_f64_rate() {
    let mut spec = ScheduleSpec::new(LrMode::Cosine, 0.1, 50);
    spec.warmup_steps = 5;
    let s = LrSchedule::new(spec).unwrap();
    let curve = s.curve(60);
    assert_eq!(curve.len(), 61);
    for (step, &lr) in curve.iter().enumerate() {
        assert_eq!(lr, cosine(step as u64, 0.1, 50, 0.0, 5, 0) as f32);
    }
}

#[test]
fn label_smoothing_matches_the_seeds_printed_example() {
    // "After smoothing: [0.01 0.01 0.01 0.01 0.01 0.90999997 0.01 0.01 0.01 0.01]" (float32).
    let mut y = one_hot(&[5], 10).unwrap();
    assert_eq!(y, [0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0]);
    smooth_labels(&mut y, 10, 0.1).unwrap();
    let mut want = [0.01f32; 10];
    want[5] = 0.90999997;
    assert_eq!(y, want);
    assert_eq!(format!("{:.8}", y[5]), "0.90999997");
    assert_eq!(smoothed_targets(&[5], 10, 0.1).unwrap(), want);
    // Rows stay distributions.
    let rows = smoothed_targets(&[0, 9, 3], 10, 0.2).unwrap();
    for row in rows.chunks(10) {
        Tolerance::strict().assert("row sum", &[row.iter().sum::<f32>()], &[1.0]);
    }
}

#[test]
fn label_smoothing_rejects_factors_outside_zero_one() {
    for eps in [-0.01, 1.01, f64::NAN, f64::INFINITY] {
        let mut y = one_hot(&[1], 10).unwrap();
        assert_eq!(field_of(smooth_labels(&mut y, 10, eps).unwrap_err()), "label_smoothing", "eps {eps}");
    }
    // Both ends are allowed: 0 keeps one-hot, 1 gives the uniform distribution.
    let mut y = one_hot(&[1], 4).unwrap();
    smooth_labels(&mut y, 4, 0.0).unwrap();
    assert_eq!(y, [0.0, 1.0, 0.0, 0.0]);
    smooth_labels(&mut y, 4, 1.0).unwrap();
    assert_eq!(y, [0.25; 4]);
    // Not whole rows, zero classes, or a label out of range.
    assert!(smooth_labels(&mut [0.0; 7], 10, 0.1).is_err());
    assert!(smooth_labels(&mut [], 0, 0.1).is_err());
    assert!(one_hot(&[10], 10).is_err());
}

#[test]
fn gamma_and_beta_samplers_have_the_right_moments() {
    // Seeded, so deterministic; the bounds are about 5 standard errors of the sample means.
    let n = 20_000;
    for shape in [0.2, 1.0, 3.5] {
        let mut rng = Rng::new(11);
        let xs: Vec<f64> = (0..n).map(|_| gamma_sample(&mut rng, shape)).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let se = (shape / n as f64).sqrt();
        assert!((mean - shape).abs() < 5.0 * se, "Gamma({shape}) mean {mean}");
        assert!(xs.iter().all(|&x| x >= 0.0 && x.is_finite()));
    }
    for alpha in [0.2, 1.0, 4.0] {
        let mut rng = Rng::new(12);
        let xs: Vec<f64> = (0..n).map(|_| beta_sample(&mut rng, alpha, alpha)).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n as f64;
        let want_var = 1.0 / (4.0 * (2.0 * alpha + 1.0));
        assert!((mean - 0.5).abs() < 5.0 * (want_var / n as f64).sqrt(), "Beta({alpha}) mean {mean}");
        assert!((var - want_var).abs() < 0.05 * want_var, "Beta({alpha}) variance {var} vs {want_var}");
        assert!(xs.iter().all(|&x| (0.0..=1.0).contains(&x)));
    }
    // Beta(1, 1) is uniform: a quarter of the draws fall below 0.25.
    let mut rng = Rng::new(13);
    let below = (0..n).filter(|_| beta_sample(&mut rng, 1.0, 1.0) < 0.25).count() as f64 / n as f64;
    assert!((below - 0.25).abs() < 0.02, "{below}");
}

#[test]
fn mixup_lambda_is_seeded_and_switches_off() {
    let draw = |seed| {
        let mut rng = Rng::new(seed);
        (0..8).map(|_| mixup_lambda(&mut rng, 0.2, 0, 10, 2).unwrap()).collect::<Vec<_>>()
    };
    assert_eq!(draw(5), draw(5));
    assert_ne!(draw(5), draw(6));
    let mut rng = Rng::new(1);
    assert_eq!(mixup_lambda(&mut rng, 0.0, 0, 10, 0).unwrap(), 1.0, "alpha 0 is off");
    assert_eq!(mixup_lambda(&mut rng, 0.2, 8, 10, 2).unwrap(), 1.0, "last 2 epochs are off");
    assert_eq!(mixup_lambda(&mut rng, 0.2, 9, 10, 2).unwrap(), 1.0);
    assert!(mixup_lambda(&mut rng, 0.2, 7, 10, 2).unwrap() < 1.0);
    assert_eq!(field_of(mixup_lambda(&mut rng, -0.1, 0, 10, 0).unwrap_err()), "mixup_alpha");
}

#[test]
fn mixup_blends_each_sample_with_the_reversed_batch() {
    // Three samples of two values; sample i pairs with sample 2 - i.
    let x = [1.0, 2.0, 10.0, 20.0, 100.0, 200.0];
    let got = mix_with_reversed(&x, 3, 0.75).unwrap();
    let want = [
        0.75 * 1.0 + 0.25 * 100.0,
        0.75 * 2.0 + 0.25 * 200.0,
        10.0,
        20.0,
        0.75 * 100.0 + 0.25 * 1.0,
        0.75 * 200.0 + 0.25 * 2.0,
    ];
    Tolerance::strict().assert("mixup", &got, &want);
    assert_eq!(mix_with_reversed(&x, 3, 1.0).unwrap(), x);
    assert!(mix_with_reversed(&x, 4, 0.5).is_err());
    assert!(mix_with_reversed(&x, 0, 0.5).is_err());
    assert!(mix_with_reversed(&[], 1, 0.5).is_err());
}

fn cli(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tricklab")).arg("schedule").args(args).output().unwrap()
}

#[test]
fn cli_prints_one_round_trip_rate_per_step() {
    let out = cli(&[
        "--mode",
        "cosine",
        "--base-lr",
        "0.1",
        "--total-steps",
        "100",
        "--warmup-lr",
        "0.01",
        "--warmup-steps",
        "10",
        "--hold-steps",
        "20",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 111, "steps 0..=total_steps + 10");
    for (step, line) in lines.iter().enumerate() {
        let lr: f64 = line.parse().unwrap();
        assert_eq!(lr, cosine(step as u64, 0.1, 100, 0.01, 10, 20), "line {step}: {line}");
    }
    assert_eq!(lines[31], "0.09994965332706574");
    let out =
        cli(&["--mode", "step", "--base-lr", "0.1", "--total-steps", "4", "--decay", "0.5", "--decay-steps", "2,3"]);
    assert!(out.status.success());
    let lines: Vec<String> = String::from_utf8(out.stdout).unwrap().lines().map(String::from).collect();
    assert_eq!(lines[..6], ["0.1", "0.1", "0.05", "0.025", "0.025", "0.0"]);
}

#[test]
fn cli_rejects_bad_arguments_with_a_message() {
    for args in [
        &["--mode", "cosine", "--base-lr", "0.1", "--total-steps", "10", "--warmup-steps", "11"][..],
        &["--mode", "cosine", "--base-lr", "0.1", "--total-steps", "10", "--warmup-steps", "10"][..],
        &["--mode", "linear", "--base-lr", "0.1", "--total-steps", "10"][..],
        &["--mode", "step", "--base-lr", "abc", "--total-steps", "10"][..],
        &["--mode", "constant", "--total-steps", "10"][..],
        &["--mode", "constant", "--base-lr", "0.1", "--total-steps", "10", "--hold-steps", "2"][..],
        &["--mode", "constant", "--base-lr", "0.1", "--total-steps"][..],
    ] {
        let out = cli(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with("tricklab schedule: ") && err.len() > 30, "{args:?}: {err}");
    }
}

#[test]
fn a_hold_past_the_end_holds_until_the_end_for_any_length() {
    // warmup + hold used to wrap for holds near 2^64, giving a cosine decay instead of the hold.
    for hold in [96, 1000, u64::MAX / 2, u64::MAX - 5, u64::MAX] {
        let spec = ScheduleSpec { warmup_steps: 5, hold_steps: hold, ..ScheduleSpec::new(LrMode::Cosine, 0.1, 100) };
        let s = LrSchedule::new(spec).unwrap();
        assert_eq!(s.lr_f64(0), 0.0, "warmup from 0");
        for step in 5..=100 {
            assert_eq!(s.lr_f64(step), 0.1, "hold {hold}, step {step}");
            assert_eq!(cosine(step, 0.1, 100, 0.0, 5, hold), 0.1);
        }
        assert_eq!((s.lr_f64(101), s.lr_f64(u64::MAX)), (0.0, 0.0));
    }
}

#[test]
fn cli_holds_for_any_hold_length() {
    let out = cli(&["--mode", "cosine", "--base-lr", "0.1", "--total-steps", "20", "--warmup-steps", "5", "--hold-steps", "18446744073709551615"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 31);
    assert_eq!(lines[..5], ["0.0", "0.02", "0.04", "0.06", "0.08"]);
    assert!(lines[5..=20].iter().all(|l| *l == "0.1"), "{lines:?}");
    assert!(lines[21..].iter().all(|l| *l == "0.0"), "{lines:?}");
}

#[test]
fn cli_bounds_total_steps_and_states_the_limit() {
    // u64::MAX used to overflow total + 10 (10 lines printed); 10^10 buffered every line and aborted.
    for total in ["18446744073709551615", "10000000000", "10000001"] {
        let out = cli(&["--mode", "constant", "--base-lr", "0.1", "--total-steps", total]);
        assert_eq!(out.status.code(), Some(2), "{total}");
        assert!(out.stdout.is_empty());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("--total-steps") && err.contains("at most 10000000"), "{err}");
    }
}

#[test]
fn cli_streams_its_output_and_stops_quietly_when_the_reader_does() {
    use std::io::BufRead;
    let mut child = Command::new(env!("CARGO_BIN_EXE_tricklab"))
        .args(["schedule", "--mode", "constant", "--base-lr", "0.1", "--total-steps", "10000000"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    assert_eq!(first, "0.1\n", "the first line comes before the rest is computed");
    // The reader is gone (like `| head -1`): the writer stops without an error or a panic.
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{:?}: {}", out.status, String::from_utf8_lossy(&out.stderr));
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
}
