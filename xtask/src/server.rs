//! A small std-only static HTTP server: `serve` and the browser tests serve dist/ at the root;
//! `bench-web` adds www/bench/ (the benchmark page and its own TensorFlow.js packages) at /bench/;
//! `bench-cpu` serves the same, cross-origin isolated (COOP/COEP headers on every response, so the
//! page's workers may share a SharedArrayBuffer). The plain site sends no such headers: the site's
//! own tests check that its service worker alone isolates it.
//! GET and HEAD only, one thread per connection, nothing outside the mounted folders.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};

use crate::site::{dist, www};

/// URL prefixes (each ending in `/`) and the folders they serve, the longest prefix first, and
/// whether every response carries the cross-origin isolation headers.
#[derive(Clone)]
pub struct Mounts(Vec<(String, PathBuf)>, bool);

/// The headers that make a page cross-origin isolated (`self.crossOriginIsolated`).
const ISOLATION_HEADERS: &str = "Cross-Origin-Opener-Policy: same-origin\r\nCross-Origin-Embedder-Policy: require-corp\r\n";

impl Mounts {
    /// The built site at the root.
    pub fn site() -> Self {
        Mounts(vec![("/".into(), dist())], false)
    }

    /// The built site, with the benchmark page at /bench/.
    pub fn site_and_bench() -> Self {
        Mounts(vec![("/bench/".into(), www().join("bench")), ("/".into(), dist())], false)
    }

    /// As `site_and_bench`, cross-origin isolated: the CPU benchmark's workers share memory.
    pub fn site_and_bench_isolated() -> Self {
        Mounts(Self::site_and_bench().0, true)
    }

    /// The extra headers of every response: the isolation headers only where a benchmark page
    /// is mounted and isolation was asked for.
    fn extra_headers(&self) -> &'static str {
        let bench = self.0.iter().any(|(prefix, _)| prefix == "/bench/");
        if self.1 && bench {
            ISOLATION_HEADERS
        } else {
            ""
        }
    }

    /// Maps a URL path to a file, refusing anything that climbs out of its folder.
    fn resolve(&self, url: &str) -> Option<PathBuf> {
        let path = url.split(['?', '#']).next().unwrap_or("/");
        let (prefix, dir) = self.0.iter().find(|(p, _)| path.starts_with(p.as_str()))?;
        resolve_in(dir, &path[prefix.len()..])
    }
}

fn resolve_in(dir: &Path, rest: &str) -> Option<PathBuf> {
    let mut out = dir.to_path_buf();
    for part in rest.split('/').filter(|p| !p.is_empty()) {
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

pub fn bind(port: u16) -> Result<TcpListener, String> {
    TcpListener::bind(("127.0.0.1", port)).map_err(|e| format!("cannot listen on 127.0.0.1:{port}: {e}"))
}

/// Answers requests for files under the mounted folders, one thread per connection.
pub fn serve_forever(listener: TcpListener, mounts: Mounts) {
    for stream in listener.incoming().flatten() {
        let mounts = mounts.clone();
        std::thread::spawn(move || {
            let _ = handle(stream, &mounts);
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

fn handle(stream: TcpStream, mounts: &Mounts) -> std::io::Result<()> {
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
        respond(&stream, mounts, method, url)?;
        if !keep_alive {
            return Ok(());
        }
    }
}

fn respond(mut stream: &TcpStream, mounts: &Mounts, method: &str, url: &str) -> std::io::Result<()> {
    if method != "GET" && method != "HEAD" {
        return write_status(stream, "405 Method Not Allowed", "only GET and HEAD are served\n");
    }
    let Some(path) = mounts.resolve(url) else {
        return write_status(stream, "403 Forbidden", "forbidden\n");
    };
    let Ok(body) = std::fs::read(&path) else {
        return write_status(stream, "404 Not Found", &format!("{url} not found\n"));
    };
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {}\r\nContent-Length: {}\r\nCache-Control: no-cache\r\n{}\r\n",
        mime(&path),
        body.len(),
        mounts.extra_headers()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mime_types_cover_the_site() {
        assert_eq!(mime(Path::new("pkg/tricklab_bg.wasm")), "application/wasm");
        assert_eq!(mime(Path::new("app.js")), "text/javascript; charset=utf-8");
        assert_eq!(mime(Path::new("index.html")), "text/html; charset=utf-8");
        assert_eq!(mime(Path::new("data/mnist/train-images-idx3-ubyte.gz")), "application/gzip");
    }

    #[test]
    fn paths_cannot_climb_out_of_the_site() {
        let m = Mounts(vec![("/bench/".into(), PathBuf::from("/srv/bench")), ("/".into(), PathBuf::from("/srv/site"))], false);
        assert_eq!(m.resolve("/../etc/passwd"), None);
        assert_eq!(m.resolve("/.git/config"), None);
        assert_eq!(m.resolve("/bench/../../etc/passwd"), None);
        assert_eq!(m.resolve("/app.js?v=1"), Some(PathBuf::from("/srv/site/app.js")));
        assert_eq!(m.resolve("/bench/bench.js"), Some(PathBuf::from("/srv/bench/bench.js")));
        assert_eq!(m.resolve("/pkg/tricklab.js"), Some(PathBuf::from("/srv/site/pkg/tricklab.js")));
    }

    #[test]
    fn only_the_cpu_benchmark_is_isolated() {
        assert_eq!(Mounts::site().extra_headers(), "");
        assert_eq!(Mounts::site_and_bench().extra_headers(), "");
        let isolated = Mounts::site_and_bench_isolated().extra_headers();
        assert!(isolated.contains("Cross-Origin-Opener-Policy: same-origin\r\n"));
        assert!(isolated.contains("Cross-Origin-Embedder-Policy: require-corp\r\n"));
        assert_eq!(Mounts(vec![("/".into(), PathBuf::from("/srv/site"))], true).extra_headers(), "");
    }
}
