//! `cargo xtask bench-web`: the side-by-side training-speed benchmark in the browser. Builds the
//! site (unless --no-build), installs the benchmark's own packages (TensorFlow.js, in
//! www/bench/package.json, so building or serving the site never installs them), serves dist/
//! with www/bench/ at /bench/ from this process on a free port, and runs www/bench/run.mjs
//! (playwright-core driving Debian's chromium, headless) against it: tricklab and TensorFlow.js
//! with its WebGPU backend train ResNet-20, the MNIST model and MobileNetV2 in one session, one
//! step each in turn. The script prints one JSON line per model and a table; other flags
//! (--resnet-batch N, --mnist-batch N, --mobilenet-batch N, --steps N, --models a,b) are passed
//! to it.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use super::server::{self, Mounts};
use super::{root, web};

pub fn bench_web(args: &[String]) -> Result<(), String> {
    run_bench(args, true).map(|_| ())
}

/// The benchmark as `bench_web` runs it, its stdout (JSON lines and the table) returned instead of
/// printed; progress still goes to stderr.
pub fn bench_web_output(args: &[String]) -> Result<String, String> {
    run_bench(args, false)
}

/// What the browser benchmarks (`task`: bench-web, bench-cpu) do before their script: build the
/// site unless --no-build, install the page's and the benchmark's packages, and serve `mounts` from
/// this process on a free port. Returns the flags to pass on and the site's address.
pub fn serve_for(task: &str, args: &[String], mounts: Mounts) -> Result<(Vec<String>, String), String> {
    let build = !args.iter().any(|a| a == "--no-build");
    let passed: Vec<String> = args.iter().filter(|a| *a != "--no-build").cloned().collect();
    if !Path::new("/usr/bin/chromium").exists() {
        return Err(format!("{task} needs chromium: `apt-get install chromium` (or `cargo xtask test` once)"));
    }
    if build {
        web::build_web()?;
    }
    let www = root().join("www");
    web::npm_packages(&www)?;
    web::npm_packages(&www.join("bench"))?;
    let listener = server::bind(0)?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    std::thread::spawn(move || server::serve_forever(listener, mounts));
    Ok((passed, format!("http://127.0.0.1:{port}/")))
}

fn run_bench(args: &[String], echo: bool) -> Result<String, String> {
    let (passed, url) = serve_for("bench-web", args, Mounts::site_and_bench())?;
    let www = root().join("www");
    eprintln!("+ (cd www) TRICKLAB_URL={url} node bench/run.mjs {}", passed.join(" "));
    let started = Instant::now();
    let mut child = Command::new("node")
        .arg("bench/run.mjs")
        .args(passed)
        .current_dir(&www)
        .env("TRICKLAB_URL", &url)
        .env("CHROMIUM", "/usr/bin/chromium")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not start node: {e}"))?;
    // Each line is shown as it comes (a model's JSON line when it is done) and kept.
    let mut stdout = String::new();
    if let Some(out) = child.stdout.take() {
        for line in std::io::BufRead::lines(std::io::BufReader::new(out)) {
            let line = line.map_err(|e| format!("reading the benchmark's output: {e}"))?;
            if echo {
                println!("{line}");
            }
            stdout.push_str(&line);
            stdout.push('\n');
        }
    }
    let status = child.wait().map_err(|e| format!("waiting for node: {e}"))?;
    eprintln!("bench-web took {:.0} s", started.elapsed().as_secs_f64());
    if status.success() {
        Ok(stdout)
    } else {
        Err(format!("the benchmark failed ({status})"))
    }
}
