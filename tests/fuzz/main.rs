//! Fuzzing every reader of outside bytes with a seeded mutation loop on stable Rust: MNIST IDX
//! (raw and gzipped), CIFAR-10 batches and .tar.gz archives (mutated as tar, then gzipped, or as
//! gzip bytes), safetensors checkpoints, config JSON, `--set FIELD=VALUE` arguments and lesson
//! files. Each input must give `Ok` with consistent contents or an error: never a panic, and never
//! one allocation above `ALLOC_ALARM` or one input taking more than `SLOW_ALARM`. Inputs that reach
//! an error message not seen before join the corpus, so the loop works its way past the early
//! checks.
//!
//! CI runs `TRICKLAB_FUZZ_EXECS` (default 10,000) inputs per target; bench/FUZZ.md has the long
//! runs and their command. A failing input is written to target/fuzz-crashes/ and named in the
//! failure.

mod lesson;
mod mutate;
// The CLI's `--set` parsing (a module of the tricklab binary, which tests cannot import).
#[path = "../../src/bin/tricklab/overrides.rs"]
mod overrides;
#[path = "../common/tar.rs"]
mod tar_stream;
mod targets;

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashSet;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::cell::Cell;
use std::time::{Duration, Instant};

use tricklab::rng::Rng;

/// The largest single allocation this thread has asked the system allocator for since the last
/// reset. Per thread, because the tests run in parallel and one of them allocates 1 GiB on purpose
/// (`the_harness_catches_panics_and_huge_allocations`): a process-wide maximum made the other
/// targets fail now and then with that test's allocation.
struct Watch;

thread_local! {
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

fn note(size: usize) {
    LARGEST.with(|l| l.set(l.get().max(size)));
}

unsafe impl GlobalAlloc for Watch {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Watch = Watch;

/// No reader may allocate this much at once for a fuzz input (all are under 100 KB; the largest
/// legitimate buffer, a 185 MB archive read with doubling growth, would stay under it).
const ALLOC_ALARM: usize = 512 << 20;
const SLOW_ALARM: Duration = Duration::from_secs(10);

/// One reader under test: its seed inputs, how to mutate an input, and how to run one (an `Err`
/// is the reader's error message; a broken invariant panics).
pub struct Target {
    pub name: &'static str,
    pub seeds: Vec<Vec<u8>>,
    pub mutate: fn(&mut Rng, &mut Vec<u8>, &[u8]),
    pub run: fn(&[u8]) -> Result<(), String>,
}

/// What one target's loop saw.
#[derive(Debug)]
struct Outcome {
    execs: u64,
    ok: u64,
    errors: u64,
    corpus: usize,
    seconds: f64,
}

fn execs() -> u64 {
    std::env::var("TRICKLAB_FUZZ_EXECS").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000)
}

/// An error message with its numbers blanked, so "is 12 bytes" and "is 13 bytes" are one kind.
fn kind_of(msg: &str) -> String {
    let mut out = String::new();
    for c in msg.chars().take(90) {
        if !c.is_ascii_digit() {
            out.push(c);
        } else if !out.ends_with('#') {
            out.push('#');
        }
    }
    out
}

fn save_crash(target: &str, input: &[u8]) -> String {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-crashes");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{target}-{:016x}", input.iter().fold(0xcbf29ce484222325u64, |h, &b| (h ^ b as u64).wrapping_mul(0x100000001b3))));
    std::fs::write(&path, input).unwrap();
    path.display().to_string()
}

/// Runs one input, turning a panic, a huge allocation or a slow input into a failure.
fn check_one(t: &Target, input: &[u8]) -> Result<(), String> {
    LARGEST.with(|l| l.set(0));
    let started = Instant::now();
    let result = catch_unwind(AssertUnwindSafe(|| (t.run)(input)));
    let (largest, took) = (LARGEST.with(Cell::get), started.elapsed());
    let problem = match &result {
        Err(_) => Some("panicked (message above)".to_string()),
        Ok(_) if largest > ALLOC_ALARM => Some(format!("allocated {largest} bytes at once")),
        Ok(_) if took > SLOW_ALARM => Some(format!("took {took:?}")),
        Ok(_) => None,
    };
    if let Some(why) = problem {
        panic!("fuzz {}: {why}; input saved as {}", t.name, save_crash(t.name, input));
    }
    result.unwrap()
}

fn fuzz(t: &Target, execs: u64, seed: u64) -> Outcome {
    let started = Instant::now();
    let mut rng = Rng::new(seed);
    let mut corpus = t.seeds.clone();
    let mut seen = HashSet::new();
    let (mut ok, mut errors) = (0, 0);
    for seed in &t.seeds {
        if let Err(msg) = check_one(t, seed) {
            seen.insert(kind_of(&msg));
        }
    }
    for _ in 0..execs {
        let mut input = mutate::pick(&mut rng, &corpus).clone();
        let other = mutate::pick(&mut rng, &corpus).clone();
        (t.mutate)(&mut rng, &mut input, &other);
        match check_one(t, &input) {
            Ok(()) => ok += 1,
            Err(msg) => {
                errors += 1;
                if corpus.len() < 256 && seen.insert(kind_of(&msg)) {
                    corpus.push(input);
                }
            }
        }
    }
    Outcome { execs, ok, errors, corpus: corpus.len(), seconds: started.elapsed().as_secs_f64() }
}

fn run_target(t: Target) {
    let n = execs();
    let seed = std::env::var("TRICKLAB_FUZZ_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(2019);
    let o = fuzz(&t, n, seed);
    println!(
        "fuzz {}: {} execs, {} ok, {} errors, 0 crashes, corpus {}, {:.1} s ({:.0} execs/s), seed {seed}",
        t.name,
        o.execs,
        o.ok,
        o.errors,
        o.corpus,
        o.seconds,
        o.execs as f64 / o.seconds
    );
    assert_eq!(o.ok + o.errors, n);
}

#[test]
fn fuzz_mnist_idx() {
    run_target(targets::mnist_idx());
}

#[test]
fn fuzz_mnist_idx_gz() {
    run_target(targets::mnist_idx_gz());
}

#[test]
fn fuzz_cifar_bin() {
    run_target(targets::cifar_bin());
}

#[test]
fn fuzz_cifar_tar_gz() {
    run_target(targets::cifar_tar_gz());
}

#[test]
fn fuzz_checkpoint() {
    run_target(targets::checkpoint());
}

#[test]
fn fuzz_config_json() {
    run_target(targets::config_json());
}

#[test]
fn fuzz_set_values() {
    run_target(targets::set_values());
}

#[test]
fn fuzz_lesson_file() {
    run_target(lesson::lesson_file());
}

/// The harness itself finds what it is meant to: a reader that panics on a wrapped product, and
/// one that allocates from a header.
#[test]
fn the_harness_catches_panics_and_huge_allocations() {
    fn wrapping(input: &[u8]) -> Result<(), String> {
        let n = u32::from_be_bytes(input[..4].try_into().unwrap());
        Err(format!("{}", n.checked_mul(16).expect("the size overflowed")))
    }
    fn allocating(input: &[u8]) -> Result<(), String> {
        let n = u32::from_le_bytes(input[..4].try_into().unwrap()) as usize;
        let v: Vec<u8> = Vec::with_capacity((n << 8).min(1 << 30));
        Err(format!("{}", v.capacity()))
    }
    // Harmless seeds; only mutations (interesting integers in the first bytes) reach the defects.
    let fixed_length = |rng: &mut Rng, data: &mut Vec<u8>, other: &[u8]| {
        mutate::mutate(rng, data, other);
        data.resize(8, 0);
    };
    for (run, why) in [(wrapping as fn(&[u8]) -> Result<(), String>, "panicked"), (allocating, "allocated")] {
        let t = Target { name: "self-test", seeds: vec![vec![0; 8]], mutate: fixed_length, run };
        let caught = catch_unwind(AssertUnwindSafe(|| fuzz(&t, 10_000, 1))).expect_err("the defect must be found");
        let msg = caught.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(msg.contains(why), "{msg}");
    }
}
