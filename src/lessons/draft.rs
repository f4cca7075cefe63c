//! A lesson drafted from two runs: the page's "Make a lesson of these" turns a baseline run and
//! a run that differs from it into a lesson file. Its arms are the two configs: the file's `base`
//! is the baseline's config (where it differs from the dataset's defaults), the baseline arm sets
//! nothing, and the other arm's `set` is exactly where it differs from the baseline;
//! it measures test accuracy and asks whether the second arm beats the baseline. The question is a
//! draft made from the difference; what to look for, why it is set up so, and the paper's result
//! are left for the author to write.

use super::check::{MNIST_TEST_IMAGES, MNIST_TRAIN_IMAGES};
use super::file::{self, config_map, ConfigPatch, NOT_SETTABLE};
use super::{Arm, Better, Lesson, Metric, Paper, Rule};
use crate::data::DatasetKind;
use crate::names::Named;
use crate::train::TrainConfig;
use crate::{Error, Result};

/// One run of the history, as a lesson arm: its name, its config and the images it trained and
/// tested on (0: the whole split, as the page's limits say).
#[derive(Debug, Clone)]
pub struct DraftRun {
    pub name: String,
    pub config: TrainConfig,
    pub train_limit: usize,
    pub test_limit: usize,
}

/// The lesson file of `baseline` against `other`, validated as any lesson file is (its text, or
/// the first check it fails).
pub fn from_runs(baseline: &DraftRun, other: &DraftRun) -> Result<String> {
    for run in [baseline, other] {
        if run.config.dataset != DatasetKind::Mnist {
            return Err(Error::config("dataset", format!("`{}` trained on {}; a lesson runs on MNIST", run.name, run.config.dataset.label())));
        }
        if run.config.teacher.is_some() {
            return Err(Error::config(
                "teacher",
                format!("`{}` learned from a teacher run; in a lesson the teacher is an arm of the file (README, \"Writing a lesson\"): write it by hand", run.name),
            ));
        }
    }
    let changed = differences(&baseline.config, &other.config);
    let images = |limit: usize, all: usize| if limit == 0 { all } else { limit.min(all) };
    let (train_a, train_b) = (images(baseline.train_limit, MNIST_TRAIN_IMAGES), images(other.train_limit, MNIST_TRAIN_IMAGES));
    if changed.is_empty() && train_a == train_b {
        return Err(Error::config("runs", format!("`{}` and `{}` train alike; a lesson compares runs that differ", baseline.name, other.name)));
    }
    let train_images = train_a.max(train_b);
    let own = |n: usize| (n < train_images).then_some(n);
    let arm = |run: &DraftRun, n: usize| Arm { name: run.name.clone(), config: run.config.clone(), teacher: None, train_images: own(n) };
    let mut what: Vec<String> = changed.iter().map(|(k, a, b)| format!("{k} is {b} instead of {a}")).collect();
    if train_a != train_b {
        what.push(format!("the run trains on {train_b} images instead of {train_a}"));
    }
    let lesson = Lesson {
        id: slug(&changed),
        title: format!("{} against {}", other.name, baseline.name),
        question: format!("What changes in test accuracy when {}?", what.join(" and ")),
        look_for: String::new(),
        setup: format!("Made from two runs of the playground; each arm trains with the lesson's seed on the first {train_images} MNIST training images unless it says fewer."),
        dataset: DatasetKind::Mnist,
        train_images,
        test_images: images(baseline.test_limit.max(other.test_limit), MNIST_TEST_IMAGES),
        arms: vec![arm(baseline, train_a), arm(other, train_b)],
        metric: Metric::TestAccuracy,
        rule: Rule::Beats { trick: 1, baseline: 0, better: Better::Higher, margin: 0.0 },
        reported: None,
        views: Vec::new(),
        track_train_accuracy: false,
        paper: Paper { result: String::new(), source: String::new() },
        noise_note: None,
    };
    // `base`: the baseline's config; the baseline arm sets nothing, the other arm its difference.
    let mut draft = file::LessonFile::from_lesson(&lesson);
    let (defaults, base, theirs) = (config_map(&TrainConfig::default_for(DatasetKind::Mnist)), config_map(&baseline.config), config_map(&other.config));
    let settable = TrainConfig::FIELDS.iter().filter(|k| !NOT_SETTABLE.iter().any(|(n, _)| n == *k));
    draft.base = ConfigPatch(settable.filter(|k| base[**k] != defaults[**k]).map(|k| (k.to_string(), base[*k].clone())).collect());
    draft.arms[0].set = ConfigPatch::default();
    draft.arms[1].set = ConfigPatch(changed.iter().map(|(k, _, _)| (k.clone(), theirs[k.as_str()].clone())).collect());
    let text = serde_json::to_string_pretty(&draft).expect("a lesson file serializes") + "\n";
    file::parse(&text)?;
    Ok(text)
}

/// The settable config fields where `b` differs from `a`: (field, a's value, b's value).
fn differences(a: &TrainConfig, b: &TrainConfig) -> Vec<(String, String, String)> {
    let (a, b) = (config_map(a), config_map(b));
    TrainConfig::FIELDS
        .iter()
        .filter(|f| !NOT_SETTABLE.iter().any(|(n, _)| n == *f) && a[**f] != b[**f])
        .map(|f| (f.to_string(), a[*f].to_string(), b[*f].to_string()))
        .collect()
}

/// An id from the fields that differ (`batch-size-base-lr`), at most 64 characters.
fn slug(changed: &[(String, String, String)]) -> String {
    let mut id = changed.iter().map(|(k, _, _)| k.replace('_', "-")).collect::<Vec<_>>().join("-");
    if id.is_empty() {
        id = "train-images".into();
    }
    id.truncate(super::check::MAX_ID_LEN);
    id.trim_end_matches('-').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(name: &str, f: impl FnOnce(&mut TrainConfig)) -> DraftRun {
        let mut config = TrainConfig::default_for(DatasetKind::Mnist);
        f(&mut config);
        DraftRun { name: name.into(), config, train_limit: 4096, test_limit: 1000 }
    }

    #[test]
    fn two_runs_become_a_lesson_whose_arms_differ_in_their_difference() {
        let a = run("batch 64", |_| {});
        let b = run("batch 512 with warmup", |c| {
            c.batch_size = 512;
            c.warmup_epochs = 1;
        });
        let text = from_runs(&a, &b).unwrap();
        let l = file::parse(&text).unwrap();
        assert_eq!(l.id, "batch-size-warmup-epochs");
        assert_eq!(l.arms[0].config, a.config);
        assert_eq!(l.arms[1].config, b.config);
        assert_eq!((l.train_images, l.test_images), (4096, 1000));
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["arms"][1]["set"], serde_json::json!({"batch_size": 512, "warmup_epochs": 1}));
        assert_eq!(v["arms"][0]["set"], serde_json::json!({}));
        assert_eq!(v["base"], serde_json::json!({}), "the baseline is the defaults");

        assert!(l.question.contains("batch_size is 512 instead of 64"), "{}", l.question);
        assert_eq!(l.look_for, "", "left for the author");

        // A baseline off the defaults is the file's `base`; the other arm sets only its difference.
        let a = run("wide", |c| c.width_mult = 0.5);
        let b = run("wide, smoothed", |c| {
            c.width_mult = 0.5;
            c.label_smoothing = 0.1;
        });
        let text = from_runs(&a, &b).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!((&v["base"], &v["arms"][0]["set"], &v["arms"][1]["set"]), (&serde_json::json!({"width_mult": 0.5}), &serde_json::json!({}), &serde_json::json!({"label_smoothing": 0.1})));
        let l = file::parse(&text).unwrap();
        assert_eq!((&l.arms[0].config, &l.arms[1].config), (&a.config, &b.config));
    }

    #[test]
    fn runs_on_fewer_images_keep_their_count_as_the_arm_s() {
        let a = run("all", |_| {});
        let mut b = run("fewer", |_| {});
        b.train_limit = 1024;
        let l = file::parse(&from_runs(&a, &b).unwrap()).unwrap();
        assert_eq!((l.train_images, l.arms[0].train_images, l.arms[1].train_images), (4096, None, Some(1024)));
    }

    #[test]
    fn refuses_what_a_lesson_cannot_hold() {
        let a = run("a", |_| {});
        let same = from_runs(&a, &run("b", |_| {})).unwrap_err().to_string();
        assert!(same.contains("train alike"), "{same}");
        let cifar = run("c", |c| *c = TrainConfig::default_for(DatasetKind::Cifar10));
        assert!(from_runs(&a, &cifar).unwrap_err().to_string().contains("runs on MNIST"));
        let taught = run("d", |c| c.teacher = Some("run-1".into()));
        assert!(from_runs(&a, &taught).unwrap_err().to_string().contains("teacher"));
        let mut huge = run("e", |c| c.epochs = 30);
        huge.train_limit = 0;
        let err = from_runs(&a, &huge).unwrap_err().to_string();
        assert!(err.contains("at most 250000"), "{err}");
    }
}
