//! The training config: JSON round trip, per-dataset defaults, and one test per invalid value
//! checking that the error names the field at fault.

use tricklab::data::DatasetKind;
use tricklab::nn::models::ModelKind;
use tricklab::train::{LrMode, TrainConfig};
use tricklab::Error;

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
