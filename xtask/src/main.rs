//! Project tasks, the only scripts a person needs: `cargo xtask test` sets up what a fresh Debian
//! machine lacks and runs every test; `cargo xtask bench-kernels` times the kernels; `build-web`
//! and `serve` build and serve the playground.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

mod bench_cpu;
mod bench_gpu;
mod bench_web;
mod server;
mod setup;
mod site;
mod web;

const USAGE: &str = "usage: cargo xtask <task>

tasks:
  serve [--port N] [--no-build]
                  set up what is missing, build the playground and serve dist/ (default port 8080)
  build-web       build the static site in dist/ (exactly the files it serves: the page, the wasm,
                  gzipped MNIST, the service worker) and print its size
  fetch-data cifar10 [--from FILE]
                  download (or copy) the official CIFAR-10 binary archive into www/data/ (the
                  next build-web puts it in the site)
  test-web        build the site and run only the browser tests (chromium, software WebGPU)
  test            install what is missing (Mesa lavapipe, wasm32 target, chromium), run every test,
                  build the site and run the browser tests
  bench-kernels   GFLOP/s of every conv and linear kernel variant at ResNet-20 shapes, and the picks (flags go to the CLI)
  bench-web [--no-build] [--resnet-batch N] [--mnist-batch N] [--mobilenet-batch N] [--steps N] [--models a,b] [--profile]
                  ms per training step of tricklab and TensorFlow.js (WebGPU) in headless chromium
                  (installs TensorFlow.js into www/bench/node_modules; nothing else does)
  bench-cpu [--no-build] [--steps N] [--tfjs-steps N] [--workers 1,2] [--models a,b] [--mnist-batch N] [--resnet-batch N] [--no-tfjs]
                  the CPU path in headless chromium on 1, 2, ... workers and TensorFlow.js's cpu backend
  bench-gpu [--quick] [--allow-software] [--no-browser] [--bin PATH]
                  on a machine with a real GPU: the adapter, every kernel variant with the picks,
                  native steps (ResNet-20 batch 128, MNIST model batch 256) and the browser
                  benchmark, one JSON line per measurement (--quick: small sizes, to check it)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(),
        Some("bench-kernels") => bench_kernels(&args[1..]),
        Some("bench-web") => bench_web::bench_web(&args[1..]),
        Some("bench-cpu") => bench_cpu::bench_cpu(&args[1..]),
        Some("bench-gpu") => bench_gpu::bench_gpu(&args[1..]),
        Some("serve") => web::serve(&args[1..]),
        Some("build-web") => web::build_web(),
        Some("test-web") => web::build_web().and_then(|()| web::browser_tests()),
        Some("fetch-data") => web::fetch_data(&args[1..]),
        Some("-h" | "--help" | "help") | None => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(format!("unknown task `{other}`\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("xtask: {msg}");
            ExitCode::FAILURE
        }
    }
}

/// The repository root (the parent of xtask/).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// Runs a command in the repository root, echoing it, and fails with its exit status.
pub fn run(program: &str, args: &[&str]) -> Result<(), String> {
    run_in(&root(), program, args)
}

/// Runs a command in `dir`, echoing it, and fails with its exit status.
pub fn run_in(dir: &Path, program: &str, args: &[&str]) -> Result<(), String> {
    eprintln!("+ (cd {}) {program} {}", dir.display(), args.join(" "));
    let status = Command::new(program)
        .args(args)
        .current_dir(dir)
        .status()
        .map_err(|e| format!("could not start `{program}` (is it installed?): {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{program} {}` failed ({status})", args.join(" ")))
    }
}

pub fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

fn test() -> Result<(), String> {
    setup::lavapipe()?;
    setup::runtime_dir();
    setup::wasm_target()?;
    let cargo = cargo();
    run(&cargo, &["test", "--workspace", "--no-fail-fast"])?;
    web::build_web()?;
    web::browser_tests()?;
    eprintln!("xtask test: native tests and browser tests passed");
    Ok(())
}

fn bench_kernels(args: &[String]) -> Result<(), String> {
    setup::lavapipe()?;
    let mut all = vec!["run", "--release", "--quiet", "--bin", "tricklab", "--", "bench-kernels"];
    all.extend(args.iter().map(String::as_str));
    run(&cargo(), &all)
}
