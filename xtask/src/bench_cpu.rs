//! `cargo xtask bench-cpu`: the CPU training path (no WebGPU) in headless chromium, on one and
//! more Web Workers, beside TensorFlow.js's `cpu` backend. Builds the site (unless --no-build),
//! installs the benchmark's packages (www/bench/package.json), serves dist/ with www/bench/ at
//! /bench/ cross-origin isolated (the workers share a SharedArrayBuffer) from this process on a
//! free port, and runs www/bench/cpu-run.mjs against it. The script prints one JSON line per
//! tricklab run and per TF.js model; other flags (--steps N, --tfjs-steps N, --workers 1,2,
//! --models a,b, --mnist-batch N, --resnet-batch N, --no-tfjs) are passed to it.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use super::server::{self, Mounts};
use super::{root, web};

pub fn bench_cpu(args: &[String]) -> Result<(), String> {
    let build = !args.iter().any(|a| a == "--no-build");
    let passed: Vec<&String> = args.iter().filter(|a| *a != "--no-build").collect();
    if !Path::new("/usr/bin/chromium").exists() {
        return Err("bench-cpu needs chromium: `apt-get install chromium` (or `cargo xtask test` once)".into());
    }
    if build {
        web::build_web()?;
    }
    let www = root().join("www");
    web::npm_packages(&www)?;
    web::npm_packages(&www.join("bench"))?;
    let listener = server::bind(0)?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    std::thread::spawn(move || server::serve_forever(listener, Mounts::site_and_bench_isolated()));
    let url = format!("http://127.0.0.1:{port}/");
    eprintln!("+ (cd www) TRICKLAB_URL={url} node bench/cpu-run.mjs {}", passed.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" "));
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
