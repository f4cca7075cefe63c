//! `cargo xtask bench-cpu`: the CPU training path (no WebGPU) in headless chromium, on one and
//! more Web Workers, beside TensorFlow.js's `cpu` backend. Builds the site (unless --no-build),
//! installs the benchmark's packages (www/bench/package.json), serves dist/ with www/bench/ at
//! /bench/ cross-origin isolated (the workers share a SharedArrayBuffer) from this process on a
//! free port, and runs www/bench/cpu-run.mjs against it. The script prints one JSON line per
//! tricklab run and per TF.js model; other flags (--steps N, --tfjs-steps N, --workers 1,2,
//! --models a,b, --mnist-batch N, --resnet-batch N, --no-tfjs) are passed to it.

use std::process::Command;
use std::time::Instant;

use super::bench_web::serve_for;
use super::root;
use super::server::Mounts;

pub fn bench_cpu(args: &[String]) -> Result<(), String> {
    let (passed, url) = serve_for("bench-cpu", args, Mounts::site_and_bench_isolated())?;
    let www = root().join("www");
    eprintln!("+ (cd www) TRICKLAB_URL={url} node bench/cpu-run.mjs {}", passed.join(" "));
    let started = Instant::now();
    // stdout is inherited: each JSON line shows when its run is done.
    let status = Command::new("node")
        .arg("bench/cpu-run.mjs")
        .args(passed)
        .current_dir(&www)
        .env("TRICKLAB_URL", &url)
        .env("CHROMIUM", "/usr/bin/chromium")
        .status()
        .map_err(|e| format!("could not start node: {e}"))?;
    eprintln!("bench-cpu took {:.0} s", started.elapsed().as_secs_f64());
    if status.success() {
        Ok(())
    } else {
        Err(format!("the benchmark failed ({status})"))
    }
}
