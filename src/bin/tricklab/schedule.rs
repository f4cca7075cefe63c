//! `tricklab schedule`: prints the learning rate of every global step 0..=total_steps+10, one per
//! line, so the crate's schedules can be diffed line by line against the Keras tutorial's Python. Each value
//! is the f64 in Rust's shortest round-trip form (`{:?}`: the fewest digits that parse back to the
//! same f64, the same digits as Python's `repr`; exponents are written `1e-5` where Python writes
//! `1e-05`, so compare with `float()` rather than as text).

use std::io::{BufWriter, ErrorKind, Write};

use tricklab::train::config::MAX_TOTAL_STEPS;
use tricklab::train::schedule::{LrMode, LrSchedule, ScheduleSpec};

const HELP: &str = "usage: tricklab schedule --mode cosine|step|constant --base-lr L --total-steps T
                         [--warmup-steps W] [--warmup-lr WL] [--hold-steps H]
                         [--decay F --decay-steps S1,S2,...]

Prints the learning rate for global_step = 0..=T+10, one per line, in f64's shortest round-trip
form. Cosine is the Keras tutorial's cosine_decay_with_warmup; every mode warms up linearly from WL to L
over W steps and is 0 after step T. --hold-steps is for cosine only; --decay (default 0.1) and
--decay-steps (absolute global steps) for step only. T is at most 10,000,000 (a training run's
limit).";

/// How many steps past the end are printed, to show the rate dropping to zero.
const TAIL: u64 = 10;

pub fn run(args: &[String]) -> Result<(), String> {
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("{HELP}");
        return Ok(());
    }
    let spec = parse(args)?;
    if spec.total_steps > MAX_TOTAL_STEPS {
        return Err(format!(
            "--total-steps is {}; at most {MAX_TOTAL_STEPS} steps are printed (a training run's limit)",
            spec.total_steps
        ));
    }
    let schedule = LrSchedule::new(spec).map_err(|e| e.to_string())?;
    let last = schedule.spec().total_steps + TAIL;
    // Line by line through one buffer: the output can be long, and a reader that stops early
    // (`| head`) ends the run quietly.
    let mut out = BufWriter::new(std::io::stdout().lock());
    let written = (0..=last).try_for_each(|step| writeln!(out, "{:?}", schedule.lr_f64(step))).and_then(|()| out.flush());
    match written {
        Err(e) if e.kind() != ErrorKind::BrokenPipe => Err(format!("cannot write to stdout: {e}")),
        _ => Ok(()),
    }
}

fn parse(args: &[String]) -> Result<ScheduleSpec, String> {
    let mut mode = None;
    let mut base_lr = None;
    let mut total = None;
    let mut spec = ScheduleSpec::new(LrMode::Constant, 0.0, 0);
    let (mut hold_given, mut decay_given) = (false, false);
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("`{flag}` needs a value\n{HELP}"))?;
        match flag.as_str() {
            "--mode" => mode = Some(LrMode::parse(value).map_err(|e| e.to_string())?),
            "--base-lr" => base_lr = Some(number::<f64>(flag, value)?),
            "--total-steps" => total = Some(number::<u64>(flag, value)?),
            "--warmup-steps" => spec.warmup_steps = number(flag, value)?,
            "--warmup-lr" => spec.warmup_lr = number(flag, value)?,
            "--hold-steps" => {
                spec.hold_steps = number(flag, value)?;
                hold_given = true;
            }
            "--decay" => {
                spec.decay = number(flag, value)?;
                decay_given = true;
            }
            "--decay-steps" => {
                spec.decay_steps = value.split(',').map(|s| number(flag, s.trim())).collect::<Result<_, _>>()?;
                decay_given = true;
            }
            other => return Err(format!("unknown option `{other}`\n{HELP}")),
        }
    }
    spec.mode = mode.ok_or("--mode is required (cosine, step or constant)")?;
    spec.base_lr = base_lr.ok_or("--base-lr is required")?;
    spec.total_steps = total.ok_or("--total-steps is required")?;
    if hold_given && spec.mode != LrMode::Cosine {
        return Err("--hold-steps applies to --mode cosine only".into());
    }
    if decay_given && spec.mode != LrMode::Step {
        return Err("--decay and --decay-steps apply to --mode step only".into());
    }
    Ok(spec)
}

fn number<T: std::str::FromStr>(flag: &str, value: &str) -> Result<T, String>
where
    T::Err: std::fmt::Display,
{
    value.parse().map_err(|e| format!("`{flag}` got `{value}`: {e}"))
}
