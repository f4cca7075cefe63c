//! Lesson files (lessons::file): every error names the path of the field at fault, a malformed
//! file ends in an error (not JSON, truncated, nested 100,000 deep, too large), and on the command
//! line an exported built-in lesson run with `--file` gives exactly the built-in lesson's
//! measurements and verdict, while an edited export (new id and title) runs as a lesson of its own.
//! The runs are `--tiny`, on lavapipe, on a few generated MNIST-shaped images.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::{json, Value};
use tricklab::lessons::check::MAX_TRAINING_IMAGES;
use tricklab::lessons::file::{self, MAX_FILE_BYTES};
use tricklab::lessons::{catalog, Lesson};

#[path = "common/tempdir.rs"]
mod tempdir;
use tempdir::TempDir;
#[path = "common/mnist_files.rs"]
mod mnist_files;
use mnist_files::write_mnist;

/// Built-in lesson `id`'s file as JSON, to edit.
fn export(id: &str) -> Value {
    serde_json::from_str(&file::to_json(&catalog::find(id).unwrap())).unwrap()
}

/// The error `parse` gives for `v`.
#[track_caller]
fn error_of(v: &Value) -> String {
    match file::parse(&v.to_string()) {
        Ok(l) => panic!("`{}` was accepted: {l:?}", v),
        Err(e) => e.to_string(),
    }
}

/// A built-in lesson, an edit of its file, and the start of the error the edited file gives.
type Case = (&'static str, fn(&mut Value), &'static str);

#[test]
fn errors_name_the_field_path() {
    let cases: Vec<Case> = vec![
        ("warmup", |v| v["arms"][1]["set"]["batch_size"] = json!(0), "arms[1].set.batch_size: must be at least 1"),
        ("warmup", |v| v["arms"][1]["set"]["batch_sise"] = json!(64), "arms[1].set.batch_sise: unknown config field"),
        ("warmup", |v| v["base"]["epoch"] = json!(2), "base.epoch: unknown config field"),
        ("warmup", |v| v["base"]["width_mult"] = json!("wide"), "base.width_mult: invalid type: string \"wide\""),
        ("warmup", |v| v["base"]["model"] = json!("resnet50"), "base.model:"),
        ("warmup", |v| v["base"]["width_mult"] = json!(9), "base.width_mult: must be above 0 and at most 4"),
        ("warmup", |v| v["base"]["seed"] = json!(7), "base.seed: is not set here"),
        ("warmup", |v| v["arms"][0]["set"]["dataset"] = json!("mnist"), "arms[0].set.dataset: is not set here"),
        ("warmup", |v| v["titel"] = json!("x"), "titel: unknown field; the fields here are tricklab_lesson, id"),
        ("warmup", |v| v["arms"][0]["nam"] = json!("x"), "arms[0].nam: unknown field"),
        ("warmup", |v| v["arms"][0]["name"] = json!(1), "arms[0].name: invalid type"),
        ("warmup", |v| v["arms"][1]["name"] = json!("no warmup"), "arms[1].name: is also the name of arms[0]"),
        ("warmup", |v| v["arms"][1]["set"] = json!({ "warmup_steps": 0 }), "arms[1]: trains exactly as arms[0]"),
        ("warmup", |v| v["arms"].as_array_mut().unwrap().truncate(1), "arms: has 1 arms; a lesson compares 2 to 8"),
        ("warmup", |v| v["rule"]["trick"] = json!(5), "rule.trick: is arm 5, but the lesson has 2 arms (0 to 1)"),
        ("warmup", |v| v["rule"]["margin"] = json!(-1), "rule.margin: must be zero or positive"),
        ("warmup", |v| v["rule"]["kind"] = json!("wins"), "rule.kind: unknown rule `wins`"),
        ("warmup", |v| v["rule"]["margn"] = json!(1), "rule.margn: unknown field"),
        ("warmup", |v| v["metric"]["steps"] = json!(0), "metric.steps: must be at least 1"),
        ("warmup", |v| v["metric"]["steps"] = json!(31), "metric.steps: is 31, but arm 0 trains only 30 steps"),
        ("warmup", |v| v["metric"] = json!({ "kind": "accuracy" }), "metric.kind: unknown metric `accuracy`; the metrics are early_loss, test_accuracy"),
        ("warmup", |v| v["views"][0] = json!("charts"), "views[0]: unknown variant `charts`"),
        ("warmup", |v| v["views"] = json!(["schedules", "schedules"]), "views[1]: is listed twice"),
        ("warmup", |v| v["paper"] = json!({ "result": "x" }), "paper.source: is missing"),
        ("warmup", |v| v["tricklab_lesson"] = json!(2), "tricklab_lesson: is 2; this tricklab reads lesson files of version 1"),
        ("warmup", |v| drop(v.as_object_mut().unwrap().remove("tricklab_lesson")), "tricklab_lesson: is missing"),
        ("warmup", |v| v["dataset"] = json!("cifar10"), "dataset: must be `mnist`"),
        ("warmup", |v| v["train_images"] = json!(0), "train_images: is 0; it must be from 1 to 60000"),
        ("warmup", |v| v["id"] = json!("My Lesson"), "id: must be 1 to 64 lowercase letters"),
        ("warmup", |v| v["base"]["epochs"] = json!(100), "arms: train on 1536000 images in all"),
        ("mixup", |v| v["track_train_accuracy"] = json!(false), "track_train_accuracy: must be true"),
        ("distillation", |v| v["arms"][2]["teacher"] = json!(7), "arms[2].teacher: is arm 7, but the lesson has 3 arms"),
        ("distillation", |v| v["arms"][2]["teacher"] = json!(2), "arms[2].teacher: is the arm itself"),
        ("distillation", |v| v["arms"][0]["teacher"] = json!(1), "arms[2].teacher: is arm 0, which is taught itself"),
        ("distillation", |v| v["arms"][2]["set"]["teacher"] = json!("x"), "arms[2].set.teacher: is not set here"),
        ("linear-scaling", |v| v["rule"]["with"] = json!([0, 0]), "rule.with: pairs an arm with itself"),
        ("linear-scaling", |v| v["rule"]["without"] = json!([1, 4]), "rule.without[1]: is arm 4"),
    ];
    for (id, edit, expected) in cases {
        let mut v = export(id);
        edit(&mut v);
        let e = error_of(&v);
        assert!(e.starts_with(expected), "{id}: expected `{expected}...`, got `{e}`");
    }
    // Nine arms (that differ) are too many.
    let mut v = export("warmup");
    v["arms"] = (0..9).map(|k| json!({ "name": format!("arm {k}"), "set": { "warmup_steps": k } })).collect();
    assert!(error_of(&v).starts_with("arms: has 9 arms"), "{}", error_of(&v));
    assert!(MAX_TRAINING_IMAGES >= 8 * catalog::all().iter().map(Lesson::training_images).max().unwrap());
}

#[test]
fn malformed_files_are_errors_not_crashes() {
    let text = file::to_json(&catalog::find("resnet-tweaks").unwrap());
    let not_json = file::parse("tricklab lesson, but not JSON").unwrap_err().to_string();
    assert!(not_json.starts_with("lesson: is not valid JSON"), "{not_json}");
    for cut in [1, text.len() / 3, text.len() / 2, text.len() - 2] {
        let e = file::parse(&text[..cut]).unwrap_err().to_string();
        assert!(e.starts_with("lesson: is not valid JSON"), "cut at {cut}: {e}");
    }
    for (open, close) in [("[", "]"), ("{\"a\":", "}")] {
        let deep = format!("{}1{}", open.repeat(100_000), close.repeat(100_000));
        let e = file::parse(&deep).unwrap_err().to_string();
        assert!(e.contains("recursion limit"), "{e}");
    }
    let e = file::parse(&" ".repeat(MAX_FILE_BYTES + 1)).unwrap_err().to_string();
    assert!(e.contains("a lesson file is at most 1048576"), "{e}");
    for wrong in ["[]", "null", "\"lesson\"", "{}"] {
        assert!(file::parse(wrong).is_err(), "{wrong}");
    }
}

/// `tricklab lesson ARGS --tiny` (seed 1 unless ARGS give one) on the data in `data`, with the
/// register-blocked kernels (no timing picks, so two runs use the same kernels); its stdout's JSON
/// lines.
fn run_tiny(data: &Path, args: &[&str]) -> Vec<Value> {
    let out: Output = Command::new(env!("CARGO_BIN_EXE_tricklab"))
        .args(["lesson", "--seed", "1"])
        .args(args)
        .args(["--tiny", "--data", data.to_str().unwrap()])
        .env("TRICKLAB_KERNELS", "register")
        .output()
        .unwrap();
    assert!(out.status.success(), "tricklab lesson {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// The lines without their timings.
fn without_timings(mut lines: Vec<Value>) -> Vec<Value> {
    for l in &mut lines {
        let o = l.as_object_mut().unwrap();
        o.remove("images_per_sec");
        o.remove("seconds");
    }
    lines
}

#[test]
fn every_exported_lesson_runs_as_the_built_in_one() {
    let dir = TempDir::new("exported");
    write_mnist(&dir.0, 128, 64);
    for lesson in catalog::all() {
        let path = dir.write(&format!("{}.json", lesson.id), file::to_json(&lesson).as_bytes());
        let builtin = without_timings(run_tiny(&dir.0, &[&lesson.id]));
        let from_file = without_timings(run_tiny(&dir.0, &["--file", path.to_str().unwrap()]));
        assert_eq!(builtin.len(), lesson.arms.len() + 1, "{}: one line per arm and the summary", lesson.id);
        assert_eq!(builtin, from_file, "{}", lesson.id);
    }
}

#[test]
fn an_edited_export_runs_as_a_lesson_of_its_own() {
    let dir = TempDir::new("edited");
    write_mnist(&dir.0, 128, 64);
    let mut v = export("resnet-tweaks");
    v["id"] = json!("my-tweaks");
    v["title"] = json!("My ResNet tweaks");
    let path = dir.write("my-tweaks.json", serde_json::to_string_pretty(&v).unwrap().as_bytes());
    let lines = run_tiny(&dir.0, &["--file", path.to_str().unwrap()]);
    assert_eq!(lines.len(), 4, "three arms and the summary");
    assert!(lines.iter().all(|l| l["lesson"] == "my-tweaks"), "{lines:?}");
    let summary = &lines[3];
    assert!(summary["verdict"].as_str().unwrap().contains("ResNet-D"), "{summary}");
    assert_eq!(summary["training_images"], json!(3 * 2 * 128));
    // A class's runs of it pool with `lesson pool --file`, as the runs of a built-in lesson do
    // (`--tiny`: these are runs of its tiny version, whose definition hash differs).
    let text = |lines: &[Value]| lines.iter().map(|l| format!("{l}\n")).collect::<String>();
    let one = dir.write("seed-1.jsonl", text(&lines).as_bytes());
    let two = dir.write("seed-2.jsonl", text(&run_tiny(&dir.0, &["--file", path.to_str().unwrap(), "--seed", "2"])).as_bytes());
    let out = Command::new(env!("CARGO_BIN_EXE_tricklab"))
        .args(["lesson", "pool", "--file", path.to_str().unwrap(), "--tiny", one.to_str().unwrap(), two.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let pooled: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((&pooled["lesson"], &pooled["seeds"], &pooled["refused"]), (&json!("my-tweaks"), &json!([1, 2]), &json!([])));
}

#[test]
fn a_bad_file_on_the_command_line_names_the_file_and_the_field() {
    let dir = TempDir::new("bad");
    let mut v = export("warmup");
    v["arms"][1]["set"]["batch_size"] = json!(0);
    let path = dir.write("bad.json", v.to_string().as_bytes());
    let out = Command::new(env!("CARGO_BIN_EXE_tricklab")).args(["lesson", "--file", path.to_str().unwrap(), "--tiny"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("bad.json: arms[1].set.batch_size: must be at least 1"), "{err}");
    assert!(!err.contains("adapter:"), "failed before opening the GPU: {err}");
    let out = Command::new(env!("CARGO_BIN_EXE_tricklab")).args(["lesson", "--file", "/dev/zero"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/dev/zero") && err.contains("1048576"), "{err}");
    let out = Command::new(env!("CARGO_BIN_EXE_tricklab")).args(["lesson", "--export", "warmup"]).output().unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), include_str!("../lessons/warmup.json"));
}

/// `n` written with thousands separators, as the README writes numbers.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

#[test]
fn the_readme_example_is_a_valid_lesson_and_its_limits_are_the_checked_ones() {
    let readme = include_str!("../README.md");
    let section = readme.split("### Writing a lesson").nth(1).expect("README has the section");
    let example = section.split("```json\n").nth(1).unwrap().split("```").next().unwrap();
    let l = file::parse(example).unwrap_or_else(|e| panic!("the README's example: {e}"));
    assert_eq!((l.id.as_str(), l.arms.len(), l.arms[2].config.label_smoothing), ("stronger-smoothing", 3, 0.3));
    let largest = catalog::all().into_iter().max_by_key(Lesson::training_images).unwrap();
    let section = section.split_whitespace().collect::<Vec<_>>().join(" ");
    for fact in [
        format!("at most {} images in all", thousands(MAX_TRAINING_IMAGES)),
        format!("the largest built-in lesson, {}, trains on {}", largest.id, thousands(largest.training_images())),
        "A file is at most 1 MiB".to_string(),
    ] {
        assert!(section.contains(&fact), "README should say `{fact}`");
    }
    assert_eq!(MAX_FILE_BYTES, 1 << 20);
}
