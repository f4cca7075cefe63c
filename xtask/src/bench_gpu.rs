//! `cargo xtask bench-gpu`: everything worth measuring on a machine with a real GPU, in one
//! command (a few minutes on a desktop GPU), as one JSON line per measurement on stdout
//! (progress on stderr):
//!   - the adapter (`tricklab adapter`); a software adapter (llvmpipe) is refused unless
//!     --allow-software, since its numbers say nothing about a GPU;
//!   - the kernel table: every variant of every conv/linear pass at ResNet-20 shapes, with the
//!     pick (`tricklab bench-kernels --json`);
//!   - native training steps: ResNet-20 at batch 128 and the MNIST model at batch 256
//!     (`tricklab bench-step`): ms/step, images/s, GFLOP/s, first step;
//!   - the browser benchmark against TensorFlow.js (`cargo xtask bench-web`), when chromium is
//!     installed and finds a hardware WebGPU adapter (it is started with
//!     `--enable-unsafe-webgpu --enable-features=Vulkan`); otherwise a line saying why not.
//!
//! --quick shrinks every size (batch 8/16, few repetitions) to check the command itself on a
//! software adapter in about a minute. --bin PATH uses a tricklab binary built elsewhere instead
//! of building one (for a machine without the toolchain or the crates).

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

use super::{cargo, root, run};

struct Options {
    allow_software: bool,
    quick: bool,
    bin: Option<PathBuf>,
    browser: bool,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options { allow_software: false, quick: false, bin: None, browser: true };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--allow-software" => o.allow_software = true,
            "--quick" => o.quick = true,
            "--no-browser" => o.browser = false,
            "--bin" => o.bin = Some(PathBuf::from(it.next().ok_or("--bin needs a path")?)),
            other => return Err(format!("bench-gpu: unknown option `{other}` (--allow-software, --quick, --no-browser, --bin PATH)")),
        }
    }
    Ok(o)
}

/// Runs the tricklab binary with `args`; returns its stdout (its stderr goes to ours).
fn tricklab(bin: &PathBuf, args: &[&str]) -> Result<String, String> {
    eprintln!("+ {} {}", bin.display(), args.join(" "));
    let out = Command::new(bin)
        .args(args)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("could not start {}: {e}", bin.display()))?;
    if !out.status.success() {
        return Err(format!("`tricklab {}` failed ({})", args.join(" "), out.status));
    }
    String::from_utf8(out.stdout).map_err(|e| format!("tricklab printed something that is not UTF-8: {e}"))
}

/// The JSON lines of `text`, each with `"measurement": kind` added.
fn json_lines(text: &str, kind: &str) -> Vec<serde_json::Value> {
    text.lines()
        .filter(|l| l.starts_with('{'))
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .map(|mut v| {
            if let Some(m) = v.as_object_mut() {
                m.entry("measurement").or_insert_with(|| kind.into());
            }
            v
        })
        .collect()
}

pub fn bench_gpu(args: &[String]) -> Result<(), String> {
    let o = parse(args)?;
    let started = Instant::now();
    let bin = match &o.bin {
        Some(b) => b.clone(),
        None => {
            run(&cargo(), &["build", "--release", "--bin", "tricklab"])?;
            root().join("target/release/tricklab")
        }
    };
    let adapter = json_lines(&tricklab(&bin, &["adapter"])?, "adapter");
    let adapter = adapter.into_iter().next().ok_or("`tricklab adapter` printed no JSON")?;
    println!("{adapter}");
    if adapter["software"].as_bool() == Some(true) && !o.allow_software {
        return Err(format!(
            "the GPU adapter here is {} ({}), a software one: its numbers would say nothing about a GPU. \
             Install the GPU's Vulkan driver, or pass --allow-software to check the command itself",
            adapter["name"], adapter["device_type"]
        ));
    }

    // Every variant against the CPU reference on this adapter (a failure is printed, not fatal:
    // the timings below still say something, and the failing variant is in the lines).
    match tricklab(&bin, &["check-kernels"]) {
        Ok(out) => json_lines(&out, "kernel check").iter().for_each(|l| println!("{l}")),
        Err(e) => println!("{}", serde_json::json!({"measurement": "kernel check", "error": e})),
    }

    // The kernel table, with the picks (saved to the kernel cache, so the steps below use them).
    let kernel_args: &[&str] = if o.quick { &["bench-kernels", "--json", "--batch", "8", "--reps", "1", "--target-ms", "5"] } else { &["bench-kernels", "--json", "--batch", "128", "--reps", "5", "--target-ms", "50"] };
    for line in json_lines(&tricklab(&bin, kernel_args)?, "kernel") {
        println!("{line}");
    }

    // Whole training steps.
    let (resnet_batch, mnist_batch, steps) = if o.quick { ("8", "16", "3") } else { ("128", "256", "20") };
    for (model, batch) in [("resnet20", resnet_batch), ("mnist_resnet", mnist_batch)] {
        let out = tricklab(&bin, &["bench-step", "--model", model, "--batch", batch, "--steps", steps])?;
        for line in json_lines(&out, "native step") {
            println!("{line}");
        }
    }

    // The browser, against TensorFlow.js.
    if !o.browser {
        println!("{}", serde_json::json!({"measurement": "browser", "skipped": "--no-browser"}));
    } else if !std::path::Path::new("/usr/bin/chromium").exists() {
        println!("{}", serde_json::json!({"measurement": "browser", "skipped": "chromium is not installed (apt-get install chromium)"}));
    } else {
        let mut web_args: Vec<String> = vec!["--require-hardware".into()];
        if o.quick {
            web_args.extend(["--allow-software", "--models", "mnist_resnet", "--mnist-batch", "8"].map(String::from));
        }
        let out = super::bench_web::bench_web_output(&web_args)?;
        for line in json_lines(&out, "browser step") {
            println!("{line}");
        }
    }
    eprintln!("bench-gpu took {:.0} s", started.elapsed().as_secs_f64());
    Ok(())
}
