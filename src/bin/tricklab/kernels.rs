//! The CLI's kernel picks: a GPU context opened with the picks saved for its adapter, and the
//! variants timed for whatever a run prepares that has none yet (`tricklab::train::tuning`), saved
//! back to the cache file so that later runs start at once. The file is `$TRICKLAB_KERNEL_CACHE`
//! if set, else `$XDG_CACHE_HOME/tricklab/kernel-picks.json`, else
//! `~/.cache/tricklab/kernel-picks.json`. A cache that cannot be read or parsed is ignored with a
//! note (the picks are timed again); one that cannot be written costs only the note.
//! `TRICKLAB_KERNELS=register` turns the picker off: every pass uses the register-blocked kernels
//! (the ones before variants existed), for before/after comparisons.

use std::path::PathBuf;
use std::rc::Rc;

use tricklab::gpu::tune::{PickCache, Timing};
use tricklab::gpu::{block_on, GpuContext};
use tricklab::train::tuning::{self, PickStore};

/// Where the picks are kept.
pub fn cache_path() -> PathBuf {
    if let Some(p) = std::env::var_os("TRICKLAB_KERNEL_CACHE") {
        return PathBuf::from(p);
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("tricklab").join("kernel-picks.json")
}

/// The cache file's picks (empty when there is no file; a note on stderr when it is unusable).
pub fn read_cache() -> PickCache {
    let path = cache_path();
    let Ok(text) = std::fs::read_to_string(&path) else { return PickCache::default() };
    let (cache, problem) = PickCache::parse(&text);
    if let Some(p) = problem {
        eprintln!("kernels: ignoring {} ({p}); the kernel variants will be timed again", path.display());
    }
    cache
}

/// Adds `ctx`'s picks to the cache file.
pub fn save(ctx: &GpuContext) {
    let path = cache_path();
    let mut cache = read_cache();
    cache.store_from(ctx);
    // Written aside and renamed, so a run reading the file at the same moment never sees half.
    let aside = path.with_extension(format!("json.{}", std::process::id()));
    let written = path
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|_| std::fs::write(&aside, cache.to_json()))
        .and_then(|_| std::fs::rename(&aside, &path));
    if let Err(e) = written {
        eprintln!("kernels: could not save the picks to {} ({e}); they will be timed again next run", path.display());
    }
}

/// True when `TRICKLAB_KERNELS=register` asks for the register-blocked kernels everywhere.
fn picker_off() -> bool {
    std::env::var("TRICKLAB_KERNELS").is_ok_and(|v| v == "register")
}

/// The cache file as the CLI's `PickStore`: picks timed are saved back to it, with a note on
/// stderr; `TRICKLAB_KERNELS=register` turns the picker off.
pub struct CacheFile;

impl PickStore for CacheFile {
    fn saved(&self) -> PickCache {
        read_cache()
    }

    fn keep(&mut self, ctx: &GpuContext, timed: &[Timing], seconds: f64) {
        if timed.is_empty() {
            return;
        }
        for (pass, v, why) in ctx.excluded() {
            eprintln!("kernels: not using {v} for {pass} on this adapter: it disagrees with the CPU reference ({why})");
        }
        eprintln!(
            "kernels: timed the variants of {} passes on {} in {seconds:.1} s; picks saved to {}",
            timed.len(),
            ctx.describe(),
            cache_path().display()
        );
        save(ctx);
    }

    fn picking(&self) -> bool {
        !picker_off()
    }
}

/// Opens the GPU with the picks saved for its adapter.
pub fn open() -> Result<Rc<GpuContext>, String> {
    block_on(tuning::open_gpu(&mut CacheFile)).map_err(|e| e.to_string())
}

/// Picks for everything `graph` prepares that has none yet (none with the picker off); saves them.
pub fn prepare_graph(ctx: &GpuContext, graph: &tricklab::nn::graph::Graph) -> Result<Vec<Timing>, String> {
    if picker_off() {
        return Ok(vec![]);
    }
    if !ctx.variants_checked() {
        block_on(tricklab::gpu::tune::check_variants(ctx)).map_err(|e| e.to_string())?;
    }
    let timed = block_on(tuning::tune_graph(ctx, graph)).map_err(|e| e.to_string())?;
    if !timed.is_empty() {
        save(ctx);
    }
    Ok(timed)
}

/// The variants actually prepared, per pass, e.g. "conv forward register+register-8x8, …".
pub fn describe_used(ctx: &GpuContext) -> String {
    let by_pass = ctx.variants_by_pass();
    let line = |(p, vs): &(tricklab::gpu::Pass, Vec<tricklab::gpu::Variant>)| format!("{p} {}", vs.iter().map(|v| v.name()).collect::<Vec<_>>().join("+"));
    by_pass.iter().map(line).collect::<Vec<_>>().join(", ")
}

/// `tricklab adapter`: the adapter as one JSON line, `{name, device_type, backend, software,
/// subgroups}`, for scripts (`cargo xtask bench-gpu` refuses a software adapter by default).
pub fn adapter() -> Result<(), String> {
    let ctx = block_on(GpuContext::new()).map_err(|e| e.to_string())?;
    let i = &ctx.info;
    println!(
        "{}",
        serde_json::json!({
            "name": i.name, "device_type": format!("{:?}", i.device_type), "backend": format!("{:?}", i.backend),
            "driver": format!("{} {}", i.driver, i.driver_info), "software": ctx.is_software(),
            "subgroups": ctx.features.contains(wgpu::Features::SUBGROUP),
        })
    );
    Ok(())
}

/// `tricklab check-kernels`: every kernel variant this adapter has, of every conv and linear pass,
/// against the CPU reference (`tune::check_against_reference`, the check the page runs), one JSON
/// line per (pass, shape, variant) with `ok` and the mismatch, then a summary line. Fails when any
/// variant disagrees.
pub fn check() -> Result<(), String> {
    let ctx = block_on(GpuContext::new()).map_err(|e| e.to_string())?;
    let checks = block_on(tricklab::gpu::tune::check_against_reference(&ctx)).map_err(|e| e.to_string())?;
    for c in &checks {
        println!(
            "{}",
            serde_json::json!({"pass": c.pass, "shape": c.shape, "variant": c.variant, "ok": c.mismatch.is_none(), "mismatch": c.mismatch})
        );
    }
    let failed = checks.iter().filter(|c| c.mismatch.is_some()).count();
    println!("{}", serde_json::json!({"adapter": ctx.describe(), "checked": checks.len(), "failed": failed}));
    match failed {
        0 => Ok(()),
        n => Err(format!("{n} of {} kernel checks disagree with the CPU reference on {}", checks.len(), ctx.describe())),
    }
}
