//! The training config: JSON round trip, per-dataset defaults, and one test per invalid value
//! checking that the error names the field at fault.

use tricklab::data::DatasetKind;
use tricklab::names::Named;
use tricklab::nn::models::ModelKind;
use tricklab::train::{LrMode, TrainConfig};
use tricklab::Error;

// The CLI's `--set` parsing (a module of the tricklab binary, which tests cannot import).
#[path = "../src/bin/tricklab/overrides.rs"]
mod overrides;

/// 50,000 CIFAR images in batches of 128, rounded down.
const STEPS: u64 = 390;

fn field_of(result: tricklab::Result<impl std::fmt::Debug>) -> &'static str {
    match result {
        Err(Error::Config { field, msg }) => {
            assert!(!msg.is_empty());
            field
        }
        other => panic!("expected a config error, got {other:?}"),
    }
}

fn cifar() -> TrainConfig {
    TrainConfig::default_for(DatasetKind::Cifar10)
}

#[test]
fn defaults_are_valid_for_both_datasets() {
    for dataset in [DatasetKind::Mnist, DatasetKind::Cifar10] {
        let c = TrainConfig::default_for(dataset);
        assert_eq!(c.dataset, dataset);
        c.validate(STEPS).unwrap();
        c.validate(1).unwrap();
        let s = c.schedule(STEPS).unwrap();
        let (lr, why) = match dataset {
            DatasetKind::Mnist => (0.1, "MNIST: 0.4 per 256 images, scaled to 64"),
            DatasetKind::Cifar10 => (0.05, "CIFAR-10: the paper's 0.1 per 256 images, scaled to 128"),
        };
        assert_eq!(s.lr_f64(0), lr, "{why}");
        let last = lr * 0.1f64.powi(c.lr_decay_epochs.len() as i32);
        assert!((s.lr_f64(c.epochs as u64 * STEPS - 1) - last).abs() < 1e-12, "×0.1 at each decay epoch");
    }
    assert_eq!(TrainConfig::default(), TrainConfig::default_for(DatasetKind::Mnist));
    assert_eq!(TrainConfig::default_for(DatasetKind::Mnist).model, ModelKind::MnistResnet);
    assert_eq!(cifar().model, ModelKind::Resnet20);
}

#[test]
fn json_round_trip_keeps_every_field() {
    let mut c = cifar();
    c.model = ModelKind::Resnet56;
    c.lr_mode = LrMode::Cosine;
    c.warmup_epochs = 2;
    c.warmup_steps = Some(17);
    c.hold_steps = Some(3);
    c.warmup_lr = 0.001;
    c.base_lr = 0.1 + 0.2; // not a short decimal: must still round-trip exactly
    c.label_smoothing = 0.1;
    c.mixup_alpha = 0.2;
    c.teacher = Some("teachers/resnet56.bin".into());
    c.seed = (1 << 53) - 1;
    c.resnet_d = true;
    let json = c.to_json();
    assert_eq!(TrainConfig::from_json(&json).unwrap(), c);
    for dataset in [DatasetKind::Mnist, DatasetKind::Cifar10] {
        let d = TrainConfig::default_for(dataset);
        assert_eq!(TrainConfig::from_json(&d.to_json()).unwrap(), d);
    }
}

#[test]
fn fields_list_matches_the_json_keys() {
    let value: serde_json::Value = serde_json::from_str(&cifar().to_json()).unwrap();
    let keys: Vec<&str> = value.as_object().unwrap().keys().map(String::as_str).collect();
    let mut fields = TrainConfig::FIELDS.to_vec();
    let mut sorted_keys = keys.clone();
    fields.sort();
    sorted_keys.sort();
    assert_eq!(sorted_keys, fields);
}

#[test]
fn missing_fields_take_the_named_datasets_defaults() {
    assert_eq!(TrainConfig::from_json("{}").unwrap(), TrainConfig::default_for(DatasetKind::Mnist));
    assert_eq!(TrainConfig::from_json(r#"{"dataset":"cifar10"}"#).unwrap(), cifar());
    let c = TrainConfig::from_json(r#"{"dataset":"cifar10","label_smoothing":0.1,"lr_mode":"cosine"}"#).unwrap();
    assert_eq!((c.label_smoothing, c.lr_mode, c.model), (0.1, LrMode::Cosine, ModelKind::Resnet20));
}

#[test]
fn parse_errors_name_the_field() {
    assert_eq!(field_of(TrainConfig::from_json(r#"{"model":"resnet18"}"#)), "model");
    let Err(e) = TrainConfig::from_json(r#"{"model":"resnet18"}"#) else { unreachable!() };
    assert!(e.to_string().contains("mobilenetv2"), "lists the allowed values: {e}");
    assert_eq!(field_of(TrainConfig::from_json(r#"{"dataset":"imagenet"}"#)), "dataset");
    assert_eq!(field_of(TrainConfig::from_json(r#"{"lr_mode":"poly"}"#)), "lr_mode");
    assert_eq!(field_of(TrainConfig::from_json(r#"{"epochs":-1}"#)), "epochs");
    assert_eq!(field_of(TrainConfig::from_json(r#"{"no_wd":"yes"}"#)), "no_wd");
    let Err(e) = TrainConfig::from_json(r#"{"warmup_epoch":5}"#) else { panic!("unknown field accepted") };
    assert!(e.to_string().contains("warmup_epoch") && e.to_string().contains("warmup_epochs"), "{e}");
    assert!(TrainConfig::from_json("[1, 2]").is_err());
    assert!(TrainConfig::from_json("{").is_err());
}

#[test]
fn serde_alone_also_rejects_unknown_fields() {
    assert!(serde_json::from_str::<TrainConfig>(r#"{"mixup":true}"#).is_err());
}

fn invalid(f: impl FnOnce(&mut TrainConfig)) -> &'static str {
    let mut c = cifar();
    f(&mut c);
    let field = field_of(c.validate(STEPS));
    assert_eq!(field_of(c.schedule(STEPS)), field, "schedule() validates too");
    field
}

#[test]
fn sizes_and_rates_are_checked() {
    assert_eq!(invalid(|c| c.epochs = 0), "epochs");
    assert_eq!(invalid(|c| c.batch_size = 0), "batch_size");
    assert_eq!(field_of(cifar().validate(0)), "batch_size");
    assert_eq!(invalid(|c| c.base_batch_size = 0), "base_batch_size");
    assert_eq!(invalid(|c| c.base_lr = 0.0), "base_lr");
    assert_eq!(invalid(|c| c.base_lr = -0.1), "base_lr");
    assert_eq!(invalid(|c| c.base_lr = f64::NAN), "base_lr");
    assert_eq!(invalid(|c| c.warmup_lr = -1e-3), "warmup_lr");
    assert_eq!(invalid(|c| c.lr_decay = 0.0), "lr_decay");
    assert_eq!(invalid(|c| c.lr_decay_epochs = vec![15, 10]), "lr_decay_epochs");
    assert_eq!(invalid(|c| c.momentum = 1.0), "momentum");
    assert_eq!(invalid(|c| c.weight_decay = -1e-4), "weight_decay");
    assert_eq!(invalid(|c| c.seed = 1 << 53), "seed");
}

#[test]
fn linear_scaling_sets_the_rate() {
    let mut c = cifar();
    c.batch_size = 512;
    assert_eq!(c.lr(), 0.2);
    c.linear_scaling = false;
    assert_eq!(c.lr(), 0.1);
}

#[test]
fn the_seeds_schedule_errors_name_the_config_field() {
    assert_eq!(invalid(|c| c.warmup_epochs = 21), "warmup_epochs");
    assert_eq!(invalid(|c| c.warmup_steps = Some(20 * STEPS + 1)), "warmup_steps");
    assert_eq!(invalid(|c| (c.warmup_epochs, c.warmup_lr) = (1, 0.06)), "warmup_lr");
    // Cosine needs a decay phase: warmup (+ hold) equal to the run divides by zero in the seed.
    assert_eq!(invalid(|c| (c.lr_mode, c.warmup_epochs) = (LrMode::Cosine, 20)), "warmup_epochs");
    assert_eq!(invalid(|c| (c.lr_mode, c.warmup_epochs, c.hold_epochs) = (LrMode::Cosine, 5, 15)), "hold_epochs");
    assert_eq!(invalid(|c| (c.lr_mode, c.hold_steps) = (LrMode::Cosine, Some(20 * STEPS))), "hold_steps");
    // ... which step mode does not need.
    let mut c = cifar();
    c.warmup_epochs = 20;
    c.validate(STEPS).unwrap();
}

#[test]
fn trick_values_are_checked() {
    assert_eq!(invalid(|c| c.label_smoothing = 1.5), "label_smoothing");
    assert_eq!(invalid(|c| c.label_smoothing = -0.1), "label_smoothing");
    assert_eq!(invalid(|c| c.mixup_alpha = -0.2), "mixup_alpha");
    assert_eq!(invalid(|c| c.mixup_off_epochs = 21), "mixup_off_epochs");
    assert_eq!(invalid(|c| c.temperature = 0.0), "temperature");
    assert_eq!(invalid(|c| c.hard_weight = 1.1), "hard_weight");
    assert_eq!(invalid(|c| c.teacher = Some(" ".into())), "teacher");
}

#[test]
fn impossible_model_and_dataset_pairs_are_rejected() {
    assert_eq!(invalid(|c| c.model = ModelKind::MnistResnet), "model");
    assert_eq!(invalid(|c| (c.model, c.resnet_c) = (ModelKind::Mobilenetv2, true)), "resnet_c");
    assert_eq!(invalid(|c| (c.model, c.resnet_d) = (ModelKind::Mobilenetv2, true)), "resnet_d");
    let mut mnist = TrainConfig::default_for(DatasetKind::Mnist);
    mnist.augmentation = true;
    assert_eq!(field_of(mnist.validate(STEPS)), "augmentation");
}

#[test]
fn schedule_is_built_in_global_steps() {
    let mut c = cifar();
    c.lr_mode = LrMode::Cosine;
    c.warmup_epochs = 1;
    c.hold_epochs = 1;
    let s = c.schedule(STEPS).unwrap();
    let spec = s.spec();
    assert_eq!((spec.total_steps, spec.warmup_steps, spec.hold_steps), (20 * STEPS, STEPS, STEPS));
    assert_eq!(s.lr_f64(2 * STEPS), 0.05);
    assert!(s.lr_f64(2 * STEPS + 1) < 0.05);
    // Step mode: boundaries at the decay epochs, hold ignored.
    let s = cifar().schedule(STEPS).unwrap();
    assert_eq!(s.spec().decay_steps, vec![10 * STEPS, 15 * STEPS]);
    assert_eq!(s.spec().hold_steps, 0);
    assert_eq!(s.lr_f64(10 * STEPS - 1), 0.05);
    assert_eq!(s.lr_f64(10 * STEPS), 0.05 * 0.1);
}

/// The field and message of a config error.
fn error_of(result: tricklab::Result<impl std::fmt::Debug>) -> (&'static str, String) {
    match result {
        Err(Error::Config { field, msg }) => (field, msg),
        other => panic!("expected a config error, got {other:?}"),
    }
}

#[test]
fn huge_step_counts_are_errors_not_wrapped_sums() {
    // warmup + hold used to wrap past 2^64 and pass.
    assert_eq!(invalid(|c| (c.lr_mode, c.warmup_epochs, c.hold_steps) = (LrMode::Cosine, 1, Some(u64::MAX))), "hold_steps");
    assert_eq!(invalid(|c| (c.lr_mode, c.hold_epochs) = (LrMode::Cosine, u32::MAX)), "hold_epochs");
    assert_eq!(invalid(|c| (c.lr_mode, c.warmup_steps) = (LrMode::Cosine, Some(u64::MAX))), "warmup_steps");
    assert_eq!(invalid(|c| c.warmup_epochs = u32::MAX), "warmup_epochs");
    // Any steps per epoch: the products saturate and the run is too long.
    let (field, msg) = error_of(cifar().validate(u64::MAX));
    assert_eq!(field, "epochs");
    assert!(msg.contains("at most 10000000"), "{msg}");
    let mut c = cifar();
    c.lr_decay_epochs = vec![u32::MAX];
    assert_eq!(c.total_steps(u64::MAX), u64::MAX);
    assert_eq!(c.warmup_steps_for(u64::MAX), 0);
}

#[test]
fn run_sizes_have_upper_bounds_stated_in_the_error() {
    let mut c = cifar();
    c.epochs = u32::MAX;
    let (field, msg) = error_of(c.validate(STEPS));
    assert_eq!((field, msg.contains("at most 1000 epochs")), ("epochs", true), "{msg}");
    assert_eq!(invalid(|c| c.epochs = 1001), "epochs");
    let mut c = cifar();
    c.batch_size = 4097;
    let (field, msg) = error_of(c.validate(STEPS));
    assert_eq!((field, msg.contains("at most 4096")), ("batch_size", true), "{msg}");
    // 1000 epochs of 10,000 steps is the longest run; one more step per epoch is too long.
    let mut c = cifar();
    (c.epochs, c.batch_size, c.lr_decay_epochs) = (1000, 4096, vec![]);
    c.validate(10_000).unwrap();
    let (field, msg) = error_of(c.validate(10_001));
    assert_eq!(field, "epochs");
    assert!(msg.contains("10001000 steps") && msg.contains("at most 10000000"), "{msg}");
}

#[test]
fn rates_must_be_usable_in_f32() {
    // 1e-300 is a positive f64 but 0 in f32: training used to run silently at rate 0.
    for base_lr in [1e-300, 1e-40, 1e300] {
        let mut c = cifar();
        c.base_lr = base_lr;
        let (field, msg) = error_of(c.validate(STEPS));
        assert_eq!(field, "base_lr", "{base_lr}");
        assert!(msg.contains("f32"), "{msg}");
    }
    assert_eq!(invalid(|c| c.base_lr = f64::MAX), "base_lr");
    // Linear scaling decides: 2e-38 per 256 images is 1e-38 at 128, below f32's smallest normal.
    let mut c = cifar();
    c.base_lr = 2e-38;
    assert_eq!(field_of(c.validate(STEPS)), "base_lr");
    c.linear_scaling = false;
    c.validate(STEPS).unwrap();
}

#[test]
fn saved_configs_are_checked_without_the_steps_per_epoch() {
    cifar().validate_saved().unwrap();
    TrainConfig::default_for(DatasetKind::Mnist).validate_saved().unwrap();
    for (f, field) in [
        (Box::new(|c: &mut TrainConfig| c.batch_size = 0) as Box<dyn Fn(&mut TrainConfig)>, "batch_size"),
        (Box::new(|c| c.epochs = 0), "epochs"),
        (Box::new(|c| c.base_lr = -5.0), "base_lr"),
        (Box::new(|c| c.width_mult = 1e300), "width_mult"),
        (Box::new(|c| c.label_smoothing = 2.0), "label_smoothing"),
    ] {
        let mut c = cifar();
        f(&mut c);
        assert_eq!(field_of(c.validate_saved()), field);
    }
}

#[test]
fn models_build_rejects_any_width_mult_without_overflow() {
    use tricklab::nn::models::{build, ModelOptions};
    // width_mult 1e300 is infinite as f32: its channel count used to overflow.
    for w in [1e300f64 as f32, f32::MAX, 1e6, f32::INFINITY, f32::NAN, -1.0] {
        for model in ModelKind::all() {
            let (c, size) = if model == ModelKind::MnistResnet { (1, 28) } else { (3, 32) };
            let o = ModelOptions { width_mult: w, ..ModelOptions::new(2, c, size, 10) };
            assert_eq!(field_of(build(model, &o)), "width_mult", "{model} at {w}");
        }
    }
    let o = ModelOptions { width_mult: 4.0, ..ModelOptions::new(2, 3, 32, 10) };
    build(ModelKind::Mobilenetv2, &o).unwrap();
}

/// A checkpoint of `config`'s model with freshly initialized weights, saved, with `saved` as the
/// config written into it.
fn saved_checkpoint(config: &TrainConfig, saved: TrainConfig) -> Vec<u8> {
    use tricklab::train::checkpoint::{save, Checkpoint};
    let (graph, initial) = Checkpoint::initial(config, 2).unwrap();
    save(&graph, &Checkpoint { config: saved, ..initial })
}

#[test]
fn a_teacher_files_config_is_validated() {
    use tricklab::train::checkpoint::{load, MAX_CHECKPOINT_BYTES};
    let good = TrainConfig { width_mult: 0.25, ..TrainConfig::default_for(DatasetKind::Mnist) };
    let bytes = saved_checkpoint(&good, good.clone());
    assert_eq!(load("t.safetensors", &bytes, |c| c.graph(2)).unwrap().1.config, good);
    // batch_size 0, epochs 0 and base_lr -5 used to be accepted from a teacher file.
    for (bad, field) in [
        (TrainConfig { batch_size: 0, epochs: 0, base_lr: -5.0, ..good.clone() }, "epochs"),
        (TrainConfig { base_lr: -5.0, ..good.clone() }, "base_lr"),
        (TrainConfig { batch_size: 0, ..good.clone() }, "batch_size"),
    ] {
        let err = load("t.safetensors", &saved_checkpoint(&good, bad), |c| c.graph(2)).unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("t.safetensors: the training config saved in this file is invalid"), "{text}");
        assert!(text.contains(&format!("`{field}`")), "{text}");
    }
    // Sizes claimed by the file are bounded.
    let mut huge_header = bytes.clone();
    huge_header[..8].copy_from_slice(&u64::MAX.to_le_bytes());
    let err = load("t.safetensors", &huge_header, |c| c.graph(2)).unwrap_err().to_string();
    assert!(err.contains("header claims 18446744073709551615 bytes"), "{err}");
    let too_long = vec![0; MAX_CHECKPOINT_BYTES as usize + 1];
    let err = load("t.safetensors", &too_long, |c| c.graph(2)).unwrap_err().to_string();
    assert!(err.contains("at most 268435456"), "{err}");
}

#[test]
fn the_checkpoint_limit_holds_the_largest_model() {
    use tricklab::train::checkpoint::MAX_CHECKPOINT_BYTES;
    let largest = TrainConfig { model: ModelKind::Mobilenetv2, width_mult: 4.0, ..cifar() };
    largest.validate(STEPS).unwrap();
    let graph = largest.graph(1).unwrap();
    let bytes = 4 * graph.param_count() as u64;
    assert!(bytes * 2 < MAX_CHECKPOINT_BYTES, "mobilenetv2 at width 4 saves {bytes} bytes of parameters");
}

/// Inputs found by the fuzz test (tests/fuzz), kept as they were found.
#[test]
fn fuzz_findings_stay_fixed() {
    // A config that validated but could not build its model: 1e-300 is 0 as the models' f32.
    let overrides: serde_json::Map<String, serde_json::Value> =
        ["epochs=1", "width_mult=1e-300"].iter().map(|a| overrides::parse_set(a).unwrap()).collect();
    let c = overrides::config_with(&serde_json::Map::new(), &overrides).unwrap();
    assert_eq!(field_of(c.validate(937)), "width_mult");
    // A number that did not survive to_json and back (serde_json's fast float parsing was off by
    // one unit in the last place), so a saved config could come back changed.
    let json = r#"{"dataset":"mnist","model":"mnist_resnet","epochs":2,"batch_size":64,"base_lr":0.4,"base_batch_size":256,"linear_scaling":true,"lr_mode":"cosine","lr_decay":0.1,"lr_decay_epochs":[1],"warmup_epochs":1,"warmup_steps":null,"warmup_lr":9007199254740991,"hold_epochs":1,"hold_steps":null,"momentum":0.9,"nesterov":false,"weight_decay":0.0001,"no_wd":false,"last_gamma":false,"label_smoothing":0.1,"mixup_alpha":0.0,"mixup_off_epochs":0,"teacher":null,"temperature":20.0,"hard_weight":0.5,"augmentation":false,"seed":42,"resnet_c":false,"resnet_d":false,"width_mult":1.0}"#;
    let c = TrainConfig::from_json(json).unwrap();
    assert_eq!(c.warmup_lr, 9007199254740991.0);
    assert_eq!(TrainConfig::from_json(&c.to_json()).unwrap(), c);
}
