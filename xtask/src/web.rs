//! The playground's build and serve tasks: `build-web` (wasm32 target, wasm-bindgen-cli at the
//! crate's exact version, the page's npm packages, the release wasm, then the site assembled in
//! dist/ by `site.rs`), `serve` (dist/ through the small static server in `server.rs`), the
//! browser tests, and `fetch-data cifar10` (the official CIFAR-10 binary archive, downloaded or
//! copied from a local file into www/data/, from where the build puts it in the site).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::server::{self, Mounts};
use crate::site::{self, dist, www, CIFAR_FILE};
use crate::{cargo, root, run, run_in, setup};

const CIFAR_URL: &str = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz";

/// The version of the `wasm-bindgen` crate in Cargo.lock (the CLI must match it exactly).
fn locked_wasm_bindgen_version() -> Result<String, String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock")).map_err(|e| format!("cannot read Cargo.lock: {e}"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "name = \"wasm-bindgen\"" {
            if let Some(v) = lines.next().and_then(|l| l.trim().strip_prefix("version = \"")) {
                return Ok(v.trim_end_matches('"').to_string());
            }
        }
    }
    Err("Cargo.lock has no wasm-bindgen package; build the wasm32 target once first".into())
}

/// The wasm-bindgen CLI at `version`: the one on PATH or in ~/.cargo/bin if it matches, else
/// installed with `cargo install`.
fn wasm_bindgen_cli(version: &str) -> Result<String, String> {
    let home_bin = std::env::var("HOME").map(|h| format!("{h}/.cargo/bin/wasm-bindgen")).unwrap_or_default();
    for candidate in ["wasm-bindgen", home_bin.as_str()] {
        let out = Command::new(candidate).arg("--version").output();
        if let Ok(o) = out {
            if String::from_utf8_lossy(&o.stdout).split_whitespace().nth(1) == Some(version) {
                return Ok(candidate.to_string());
            }
        }
    }
    // Not `--locked`: one of the CLI's locked dependencies is missing from the registry mirror
    // these machines use, and the unlocked resolve builds a working CLI at the exact version.
    run(&cargo(), &["install", "wasm-bindgen-cli", "--version", version])?;
    Ok(home_bin)
}

/// `npm ci` (or `npm install` without a lock file) in `dir` (www/ for the page and its tests,
/// www/bench/ for the benchmark's TensorFlow.js) when its node_modules is missing or stale.
pub fn npm_packages(dir: &Path) -> Result<(), String> {
    let www = dir.to_path_buf();
    // A node_modules linked from another checkout belongs to that checkout: `npm ci` here would
    // empty it through the link (a fresh checkout's lock file is always newer than its stamp).
    if std::fs::symlink_metadata(www.join("node_modules")).is_ok_and(|m| m.file_type().is_symlink()) {
        return Ok(());
    }
    let stamp = www.join("node_modules/.package-lock.json");
    let lock = www.join("package-lock.json");
    let fresh = match (std::fs::metadata(&stamp), std::fs::metadata(&lock)) {
        (Ok(s), Ok(l)) => s.modified().ok() >= l.modified().ok(),
        _ => false,
    };
    if fresh {
        return Ok(());
    }
    let task = if lock.exists() { "ci" } else { "install" };
    run_in(&www, "npm", &[task, "--no-audit", "--no-fund"])
}


/// Cargo's build folder: CARGO_TARGET_DIR when set (several checkouts may share one), else target/.
fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root().join(dir),
        None => root().join("target"),
    }
}

/// Builds the static site in dist/: the release wasm through wasm-bindgen into dist/pkg/, then
/// the page's files, uPlot, gzipped MNIST and the service worker (`site::assemble`).
pub fn build_web() -> Result<(), String> {
    setup::wasm_target()?;
    let version = locked_wasm_bindgen_version()?;
    let cli = wasm_bindgen_cli(&version)?;
    npm_packages(&www())?;
    run(&cargo(), &["build", "--lib", "--release", "--target", "wasm32-unknown-unknown"])?;
    let wasm = target_dir().join("wasm32-unknown-unknown/release/tricklab.wasm");
    let pkg = dist().join("pkg");
    let wasm_arg = wasm.display().to_string();
    let pkg_arg = pkg.display().to_string();
    run(&cli, &["--target", "web", "--no-typescript", "--out-dir", &pkg_arg, &wasm_arg])?;
    site::check_simd(&pkg.join("tricklab_bg.wasm"))?;
    site::assemble()?;
    eprintln!("build-web: the site in {} is ready (static: copy the folder to any host, at any path)", dist().display());
    Ok(())
}

/// `fetch-data cifar10 [--from FILE]`: puts the official archive at www/data/cifar-10-binary.tar.gz.
pub fn fetch_data(args: &[String]) -> Result<(), String> {
    let usage = "usage: cargo xtask fetch-data cifar10 [--from FILE]";
    if args.first().map(String::as_str) != Some("cifar10") {
        return Err(usage.into());
    }
    let to = www().join("data").join(CIFAR_FILE);
    match args.get(1).map(String::as_str) {
        Some("--from") => {
            let from = args.get(2).ok_or(usage)?;
            std::fs::create_dir_all(to.parent().unwrap()).map_err(|e| e.to_string())?;
            std::fs::copy(from, &to).map_err(|e| format!("cannot copy {from} to {}: {e}", to.display()))?;
        }
        None => {
            std::fs::create_dir_all(to.parent().unwrap()).map_err(|e| e.to_string())?;
            let out = to.display().to_string();
            run("curl", &["--fail", "--location", "--output", &out, CIFAR_URL])?;
        }
        Some(other) => return Err(format!("unknown option `{other}`\n{usage}")),
    }
    let mut magic = [0u8; 2];
    std::fs::File::open(&to).and_then(|mut f| f.read_exact(&mut magic)).map_err(|e| format!("{}: {e}", to.display()))?;
    if magic != [0x1f, 0x8b] {
        return Err(format!("{} is not a gzip archive; expected the official {CIFAR_FILE}", to.display()));
    }
    eprintln!("fetch-data: {} is ready; `cargo xtask build-web` puts it in the site, which loads it when CIFAR-10 is chosen", to.display());
    Ok(())
}

/// Parses `serve`'s flags: `--port N` (default 8080) and `--no-build`.
pub fn serve(args: &[String]) -> Result<(), String> {
    let mut port = 8080u16;
    let mut build = true;
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--port" => {
                let v = args.get(i + 1).ok_or("--port needs a number")?;
                port = v.parse().map_err(|_| format!("--port: `{v}` is not a port number"))?;
                i += 1;
            }
            "--no-build" => build = false,
            other => return Err(format!("unknown option `{other}`; serve takes --port N and --no-build")),
        }
        i += 1;
    }
    if build {
        build_web()?;
    } else if !dist().join("index.html").exists() {
        return Err(format!("{} holds no site yet: run `cargo xtask build-web` (or serve without --no-build)", dist().display()));
    }
    let listener = server::bind(port)?;
    eprintln!("serving {} at http://127.0.0.1:{port}/ (Ctrl-C stops)", dist().display());
    server::serve_forever(listener, Mounts::site());
    Ok(())
}

/// Debian's chromium for the browser tests, installed with apt-get when missing and we are root.
fn chromium() -> Result<(), String> {
    if Path::new("/usr/bin/chromium").exists() {
        return Ok(());
    }
    let is_root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0"));
    if !is_root {
        return Err("the browser tests need chromium; install it with `apt-get install chromium`".into());
    }
    run("apt-get", &["update", "-qq"])?;
    run("apt-get", &["install", "-y", "-qq", "chromium"])
}

/// Serves the built site (dist/) from this process on a free port and runs `npm test` (www/tests/*.test.mjs,
/// playwright-core driving chromium) against it.
pub fn browser_tests() -> Result<(), String> {
    chromium()?;
    let listener = server::bind(0)?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    std::thread::spawn(move || server::serve_forever(listener, Mounts::site()));
    let url = format!("http://127.0.0.1:{port}/");
    eprintln!("+ (cd www) TRICKLAB_URL={url} npm test");
    let status = Command::new("npm")
        .arg("test")
        .current_dir(www())
        .env("TRICKLAB_URL", &url)
        .env("CHROMIUM", "/usr/bin/chromium")
        .status()
        .map_err(|e| format!("could not start npm: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("the browser tests failed ({status}); screenshots are in artifacts/screenshots/"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_locked_wasm_bindgen_version_is_found() {
        let v = locked_wasm_bindgen_version().unwrap();
        assert!(v.split('.').count() == 3, "{v}");
    }
}
