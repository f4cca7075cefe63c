//! `tricklab check-lab`, the native "Check this computer": on this adapter every kernel variant is
//! checked, each built-in lesson is timed and estimated, and the summary line fits in 300
//! characters however long the adapter's name and however many variants fail.

#[path = "common/tempdir.rs"]
mod tempdir;
#[path = "common/mnist_files.rs"]
mod mnist_files;

use tricklab::lessons::catalog;
use tricklab::lessons::estimate::{self, Estimate};

#[test]
fn check_lab_checks_the_kernels_and_estimates_every_lesson() {
    // Generated images: the largest arm's batch (256) times the five steps it runs.
    let dir = tempdir::TempDir::new("check-lab");
    mnist_files::write_mnist(&dir.0, 1280, 256);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tricklab"))
        .env("TRICKLAB_KERNEL_CACHE", dir.0.join("kernel-picks.json"))
        .args(["check-lab", "--tiny", "--data", dir.0.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let adapter: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    assert!(adapter["adapter"].as_str().is_some_and(|a| !a.is_empty()), "{}", lines[0]);
    let kernels: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
    assert!(kernels["checked"].as_u64().unwrap() > 50 && kernels["failed"] == 0, "{}", lines[1]);
    let ids: Vec<String> = catalog::all().into_iter().map(|l| l.id).collect();
    let estimates: Vec<Estimate> = lines[2..2 + ids.len()].iter().map(|l| serde_json::from_str(l).unwrap()).collect();
    for (e, id) in estimates.iter().zip(&ids) {
        assert_eq!(&e.lesson, id);
        assert!(e.step_ms > 0.0 && e.seconds > 0.0 && e.gflop > 0.0, "{e:?}");
    }
    let summary = lines[2 + ids.len()];
    assert!(summary.starts_with("tricklab-check v1 ") && summary.chars().count() <= 300, "{summary}");
    for id in &ids {
        assert!(summary.contains(&format!(" {id}=")), "{id} in {summary}");
    }
}

#[test]
fn the_summary_line_fits_with_a_long_adapter_name_and_failures() {
    let estimates: Vec<Estimate> = catalog::all()
        .into_iter()
        .map(|l| Estimate { lesson: l.id, title: l.title, arm: 0, arm_name: "x".into(), batch: 64, step_ms: 1234.5, gflop: 100.0, seconds: 5999.0 })
        .collect();
    let failed: Vec<String> = ["conv forward", "conv backward-input", "conv backward-weight"].iter().flat_map(|p| ["register-8x8", "register-16x8", "tiled"].map(|v| format!("{v}({p})"))).collect();
    let line = estimate::summary_line(&"a very long adapter name ".repeat(20), 78, &failed, &estimates);
    assert!(line.chars().count() <= 300, "{} characters: {line}", line.chars().count());
    assert!(line.contains("kernels 69/78 ok, not used: register-8x8,register-16x8,tiled;"), "{line}");
    assert!(line.contains("resnet-tweaks=100.0"), "{line}");
}
