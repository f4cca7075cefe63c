//! Project tasks, the only scripts a person needs: `cargo xtask test` sets up what a fresh Debian
//! machine lacks and runs every test; `cargo xtask bench-kernels` times the kernels; `build-web`
//! and `serve` build and serve the playground.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

mod setup;

const USAGE: &str = "usage: cargo xtask <task>

tasks:
  test            install what is missing (Mesa lavapipe, wasm32 target), run every test, build wasm32
  bench-kernels   GFLOP/s of the conv and matmul kernels at ResNet-20 shapes (flags go to the CLI)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(),
        Some("bench-kernels") => bench_kernels(&args[1..]),
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
    eprintln!("+ {program} {}", args.join(" "));
    let status = Command::new(program)
        .args(args)
        .current_dir(root())
        .status()
        .map_err(|e| format!("could not start `{program}`: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{program} {}` failed ({status})", args.join(" ")))
    }
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

fn test() -> Result<(), String> {
    setup::lavapipe()?;
    setup::wasm_target()?;
    let cargo = cargo();
    run(&cargo, &["test", "--workspace", "--no-fail-fast"])?;
    run(&cargo, &["build", "--lib", "--target", "wasm32-unknown-unknown"])?;
    eprintln!("xtask test: native tests passed and the wasm32 build succeeded");
    Ok(())
}

fn bench_kernels(args: &[String]) -> Result<(), String> {
    setup::lavapipe()?;
    let mut all = vec!["run", "--release", "--quiet", "--bin", "tricklab", "--", "bench-kernels"];
    all.extend(args.iter().map(String::as_str));
    run(&cargo(), &all)
}
