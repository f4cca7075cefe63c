//! Pooling a class's runs of a lesson (lessons::pool): the statistics against known values, and
//! the pooled verdicts of the 12-seed runs recorded in bench/runs/ (the same numbers
//! bench/lessons_table.py --paired printed for bench/LESSONS.md).

use tricklab::lessons::catalog;
use tricklab::lessons::pool::{self, Finding};

#[test]
fn t_quantiles_match_the_tables() {
    // Two-sided 95% critical values of Student's t for 1, 11 and 30 degrees of freedom.
    for (df, want) in [(1.0, 12.7062), (11.0, 2.2010), (30.0, 2.0423)] {
        let got = pool::t_quantile(0.975, df);
        assert!((got - want).abs() < 1e-3, "t_0.975({df}) = {got}, want {want}");
    }
    assert!((pool::t_cdf(0.0, 5.0) - 0.5).abs() < 1e-12);
}

#[test]
fn sign_test_is_the_binomial_tail() {
    // 11 up, 1 down: 2 * (C(12,0) + C(12,1)) / 2^12.
    assert!((pool::sign_test(11, 1) - 26.0 / 4096.0).abs() < 1e-12);
    assert_eq!(pool::sign_test(6, 6), 1.0);
    assert_eq!(pool::sign_test(0, 0), 1.0);
    // A class of 200 does not overflow.
    assert!(pool::sign_test(150, 50) < 1e-10);
}

/// Each seed's value per arm, from `tricklab lesson NAME --seeds N` output.
fn runs_of(path: &str) -> Vec<Vec<Option<f64>>> {
    let text = std::fs::read_to_string(path).unwrap();
    let lines: Vec<serde_json::Value> = text.lines().filter(|l| l.starts_with('{')).map(|l| serde_json::from_str(l).unwrap()).collect();
    let summary = lines.iter().find(|l| l.get("verdict").is_some()).unwrap();
    let arms = summary["arms"].as_array().unwrap();
    let seeds = arms[0]["values"].as_array().unwrap().len();
    (0..seeds).map(|s| arms.iter().map(|a| a["values"][s].as_f64()).collect()).collect()
}

#[test]
fn twelve_seeds_settle_resnet_d_and_not_distillation() {
    let tweaks = catalog::find("resnet-tweaks").unwrap();
    let p = pool::pool(&tweaks, &runs_of("bench/runs/h200-2026-12-04/resnet-tweaks-12.jsonl")).unwrap();
    assert_eq!((p.runs, p.showed, p.against), (12, 11, 1));
    assert!((p.mean - 0.929).abs() < 1e-3 && (p.interval[0] - 0.572).abs() < 1e-3 && (p.interval[1] - 1.286).abs() < 1e-3, "{p:?}");
    assert!((p.sign_p - 26.0 / 4096.0).abs() < 1e-12);
    assert_eq!(p.finding, Finding::Effect);
    assert!(p.sentence.contains("11 of 12 runs"), "{}", p.sentence);

    let distill = catalog::find("distillation").unwrap();
    let p = pool::pool(&distill, &runs_of("bench/runs/h200-2026-12-04/distillation-12.jsonl")).unwrap();
    assert_eq!((p.runs, p.showed), (12, 4));
    assert!((p.mean + 0.154).abs() < 1e-3 && p.interval[0] < 0.0 && p.interval[1] > 0.0, "{p:?}");
    assert_eq!(p.finding, Finding::Unsettled);
    assert!(p.sentence.contains("cannot tell"), "{}", p.sentence);
}

#[test]
fn a_consistent_reversal_and_a_single_run_are_named() {
    let tweaks = catalog::find("resnet-tweaks").unwrap();
    // ResNet-D (arm 2) below plain (arm 0) in every run.
    let runs: Vec<Vec<Option<f64>>> = (0..8).map(|i| vec![Some(92.0 + 0.1 * i as f64), Some(91.0), Some(90.5 + 0.05 * i as f64)]).collect();
    let p = pool::pool(&tweaks, &runs).unwrap();
    assert_eq!(p.finding, Finding::Reversed);
    assert_eq!(p.against, 8);

    let one = pool::pool(&tweaks, &runs[..1]).unwrap();
    assert_eq!(one.finding, Finding::Unsettled);
    assert_eq!(one.interval, [one.mean, one.mean]);
    assert!(one.sentence.starts_with("One run"), "{}", one.sentence);
}

#[test]
fn diverged_runs_are_left_out_and_bad_input_is_refused() {
    let tweaks = catalog::find("resnet-tweaks").unwrap();
    let runs = vec![vec![Some(92.0), Some(91.0), None], vec![Some(92.0), Some(91.0), Some(93.0)], vec![Some(92.5), Some(91.0), Some(93.1)]];
    let p = pool::pool(&tweaks, &runs).unwrap();
    assert_eq!((p.runs, p.left_out), (2, 1));
    let err = pool::pool(&tweaks, &[vec![Some(1.0)]]).unwrap_err().to_string();
    assert!(err.contains("3 arms"), "{err}");
    assert!(pool::pool(&tweaks, &[vec![None, None, None]]).is_err());
}

/// `tricklab lesson pool`, fed one file per student (each seed's lines, as `lesson NAME --seed S`
/// prints them), gives the same per-arm means as the `--seeds 12` summary that came with them,
/// and refuses a repeated seed and another lesson's line by file and line.
#[test]
fn lesson_pool_cli_matches_the_seeds_summary() {
    let path = "bench/runs/h200-2026-12-04/resnet-tweaks-12.jsonl";
    let text = std::fs::read_to_string(path).unwrap();
    let dir = std::env::temp_dir().join(format!("tricklab-pool-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut files = Vec::new();
    for seed in 1..=12u64 {
        let mine: Vec<&str> = text.lines().filter(|l| l.contains(&format!("\"seed\":{seed},"))).collect();
        assert_eq!(mine.len(), 3, "seed {seed}");
        let f = dir.join(format!("student-{seed}.jsonl"));
        std::fs::write(&f, mine.join("\n")).unwrap();
        files.push(f);
    }
    // A student who pasted seed 3 again, and a line from another lesson.
    let again = dir.join("again.jsonl");
    let other = std::fs::read_to_string("bench/runs/h200-2026-12-04/distillation-12.jsonl").unwrap();
    std::fs::write(&again, format!("{}\n{}\n", std::fs::read_to_string(&files[2]).unwrap().lines().next().unwrap(), other.lines().next().unwrap())).unwrap();
    files.push(again);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tricklab")).args(["lesson", "pool"]).args(&files).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let pooled: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let want: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    for (a, b) in pooled["arms"].as_array().unwrap().iter().zip(want["arms"].as_array().unwrap()) {
        assert!((a["mean"].as_f64().unwrap() - b["mean"].as_f64().unwrap()).abs() < 1e-9, "{a} vs {b}");
        assert_eq!(a["values"], b["values"]);
    }
    let refused: Vec<String> = pooled["refused"].as_array().unwrap().iter().map(|r| r.as_str().unwrap().to_string()).collect();
    assert_eq!(refused.len(), 2, "{refused:?}");
    assert!(refused[0].contains("again.jsonl:1") && refused[0].contains("seed 3 arm 0 is given twice"), "{refused:?}");
    assert!(refused[1].contains("again.jsonl:2") && refused[1].contains("lesson `distillation`"), "{refused:?}");
    assert_eq!(pooled["pooled"]["finding"], "effect");
    std::fs::remove_dir_all(&dir).ok();
}

/// The distillation and model-tweaks lessons quote their 12-seed pooled results: the numbers in
/// their notes are the ones the pool computes from the recorded runs.
#[test]
fn lessons_quote_their_pooled_twelve_seeds() {
    let note = |id: &str| catalog::find(id).unwrap().noise_note.unwrap().split_whitespace().collect::<Vec<_>>().join(" ");
    let signed = |v: f64| format!("{}{:.2}", if v < 0.0 { "−" } else { "+" }, v.abs());
    for (id, file) in [("resnet-tweaks", "resnet-tweaks-12"), ("distillation", "distillation-12")] {
        let lesson = catalog::find(id).unwrap();
        let p = pool::pool(&lesson, &runs_of(&format!("bench/runs/h200-2026-12-04/{file}.jsonl"))).unwrap();
        let text = note(id);
        for fact in [format!("{} points on average", signed(p.mean)), format!("95% interval {} to {}", signed(p.interval[0]), signed(p.interval[1]))] {
            assert!(text.contains(&fact), "{id}'s note lacks `{fact}`: {text}");
        }
    }
    // ResNet-C (arm 1) against plain (arm 0), pooled the same way.
    let runs = runs_of("bench/runs/h200-2026-12-04/resnet-tweaks-12.jsonl");
    let c: Vec<f64> = runs.iter().map(|r| r[1].unwrap() - r[0].unwrap()).collect();
    let mean = c.iter().sum::<f64>() / c.len() as f64;
    let below = c.iter().filter(|&&d| d < 0.0).count();
    let text = note("resnet-tweaks");
    assert!(text.contains(&format!("{} points on average, below the plain network in {below} of 12", signed(mean))), "{text}");
}

/// A run's one-line result: written and read back, short enough to paste, and pooled like the
/// CLI's JSON lines; a line of another definition of the lesson (an edit, or the tiny version) is
/// refused with its line number.
#[test]
fn result_lines_round_trip_and_pool() {
    use tricklab::lessons::result::{definition_hash, ResultLine};
    use tricklab::lessons::run::{sized, Size};
    let tweaks = catalog::find("resnet-tweaks").unwrap();
    let def = definition_hash(&tweaks);
    assert_eq!(def.len(), 8);
    assert_eq!(def, definition_hash(&sized(&tweaks, Size::Full)), "the full size is the lesson itself");
    assert_ne!(def, definition_hash(&sized(&tweaks, Size::Tiny)), "the tiny version is another definition");
    let mut edited = tweaks.clone();
    edited.arms[1].config.base_lr *= 2.0;
    assert_ne!(def, definition_hash(&edited));

    // Every built-in lesson's longest line fits in 300 characters.
    for l in catalog::all() {
        let worst = ResultLine { lesson: l.id.clone(), def: definition_hash(&l), seed: (1 << 53) - 1, backend: "cpu".into(), arms: vec![(Some(-100.0), Some(100.0)); l.arms.len()] };
        assert!(worst.write().len() <= 300, "{}: {} characters", l.id, worst.write().len());
    }

    // The 12 recorded seeds as result lines pool to the same numbers as their JSON lines.
    let runs = runs_of("bench/runs/h200-2026-12-04/resnet-tweaks-12.jsonl");
    let lines: Vec<String> = runs
        .iter()
        .enumerate()
        .map(|(i, r)| ResultLine { lesson: "resnet-tweaks".into(), def: def.clone(), seed: i as u64 + 1, backend: "gpu".into(), arms: r.iter().map(|v| (*v, Some(93.0))).collect() }.write())
        .collect();
    for line in &lines {
        assert_eq!(ResultLine::read(line).unwrap().write(), *line, "round trip");
    }
    let mut text = lines.join("\n");
    text.push_str(&format!("\n{}\n", lines[0].replace(&def, "00000000")));
    text.push_str("tricklab-result v1 lesson=resnet-tweaks seed=x\n");
    let known = |id: &str| catalog::find(id).map(|l| (l.arms.len(), definition_hash(&l)));
    let c = pool::collect(&[("class.txt", &text)], known);
    assert_eq!(c.seeds, (1..=12).collect::<Vec<u64>>());
    assert_eq!(c.refused.len(), 2, "{:?}", c.refused);
    assert!(c.refused[0].starts_with("class.txt:13: a result of another definition"), "{:?}", c.refused);
    assert!(c.refused[1].starts_with("class.txt:14: seed `x` is not a whole number"), "{:?}", c.refused);
    let p = pool::pool(&tweaks, &c.runs).unwrap();
    let direct = pool::pool(&tweaks, &runs).unwrap();
    assert!((p.mean - direct.mean).abs() < 1e-3 && p.showed == direct.showed, "{p:?} vs {direct:?}");

    // What a malformed line says.
    for (line, says) in [
        ("tricklab-result v1 lesson=a def=1 seed=1 backend=gpu a1=1/2", "unexpected `a1`"),
        ("tricklab-result v1 lesson=a def=1 seed=1 backend=gpu a0=1", "is not value/accuracy"),
        ("tricklab-result v1 lesson=a def=1 seed=1 backend=gpu a0=nan/2", "`nan` is not a number"),
        ("tricklab-result v1 lesson=a def=1 backend=gpu a0=1/2", "no seed"),
    ] {
        let e = ResultLine::read(line).unwrap_err();
        assert!(e.contains(says), "{line}: {e}");
    }
    assert_eq!(ResultLine::read("tricklab-result v1 lesson=a def=1 seed=3 backend=cpu a0=-/-").unwrap().arms, vec![(None, None)]);
}

/// The browser test of the "Class results" view (www/tests/class.test.mjs) compares the page with
/// www/tests/fixtures/class/expected.json: that file must be what `tricklab lesson pool` prints
/// for the same files (pasted lines with four bad ones, two page exports, one student's JSON
/// lines), so the page and the CLI agree through it.
#[test]
fn the_class_fixture_is_what_the_cli_prints() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("www/tests/fixtures/class");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tricklab"))
        .current_dir(&dir)
        .args(["lesson", "pool", "pasted", "export-seed10.json", "export-seed11.json", "seed12.jsonl"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let expected: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    assert_eq!(printed, expected, "regenerate expected.json with the command above if the lesson changed on purpose");
    assert_eq!(printed["seeds"].as_array().unwrap().len(), 12);
    assert_eq!(printed["refused"].as_array().unwrap().len(), 4);
}

/// The class report the page's view draws (lessons::class) reads the page's exports: one arm's
/// export carries its run's whole result line, so two arms of one run count once; an export of a
/// run that is no lesson's, and any line of another lesson, are refused by name.
#[test]
fn class_reports_read_page_exports_and_refuse_what_is_not_the_lesson() {
    use tricklab::lessons::class;
    let lesson = catalog::find("label-smoothing").unwrap();
    let def = tricklab::lessons::result::definition_hash(&lesson);
    let line = |seed: u64, a: f64| format!("tricklab-result v1 lesson=label-smoothing def={def} seed={seed} backend=gpu a0={a:.4}/98.00 a1={:.4}/98.10", a / 2.0);
    let export = |arm: usize, seed: u64, result: Option<String>| {
        let lesson = result.map(|r| serde_json::json!({ "id": "label-smoothing", "seed": seed, "arm": arm, "result": r }));
        serde_json::to_string_pretty(&serde_json::json!({ "tricklab": "run", "name": "x", "lesson": lesson })).unwrap()
    };
    let (a0, a1, plain) = (export(0, 1, Some(line(1, 9.0))), export(1, 1, Some(line(1, 9.0))), export(0, 5, None));
    let pasted = format!("{}\n{}\n", line(2, 8.0), line(3, 10.0));
    let r = class::report(&lesson, &[("pasted", &pasted), ("arm0.json", &a0), ("arm1.json", &a1), ("plain.json", &plain)]);
    assert_eq!(r.seeds, vec![2, 3, 1]);
    assert_eq!(r.differences.len(), 3);
    assert_eq!(r.refused.len(), 2, "{:?}", r.refused);
    assert!(r.refused[0].starts_with("arm1.json:1: the same result as arm0.json:1"), "{:?}", r.refused);
    assert!(r.refused[1].starts_with("plain.json:1: an exported run that is not an arm of a lesson"), "{:?}", r.refused);
    let p = r.pooled.as_ref().unwrap();
    assert_eq!(p.runs, 3);
    assert!((r.arms[0].mean - 9.0).abs() < 1e-9 && (p.mean - 4.5).abs() < 1e-9, "{:?} {p:?}", r.arms[0]);

    // Nothing of this lesson: no pool, a verdict that says what to give.
    let r = class::report(&lesson, &[("pasted", "tricklab-result v1 lesson=warmup def=1 seed=1 backend=gpu a0=1/1 a1=1/1")]);
    assert!(r.seeds.is_empty() && r.pooled.is_none());
    assert!(r.refused[0].contains("a result of lesson `warmup`, not `label-smoothing`"), "{:?}", r.refused);
    assert!(r.verdict.starts_with("No run of lesson `label-smoothing`"), "{}", r.verdict);
}
