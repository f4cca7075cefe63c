//! What a lesson file must be beyond its fields' types, checked as it becomes a `Lesson`: the
//! texts that name it, the data it takes, 2 to 8 arms that differ, each with a valid config
//! (`TrainConfig::validate`, its errors moved to the path where the field was set), teachers and
//! rule arms that exist, a metric that can be measured, views listed once, and a size that fits
//! `MAX_TRAINING_IMAGES`.

use serde_json::Value;

use super::fields::{index, join, read};
use super::file::{config_map, ArmFile, ConfigPatch, LessonFile};
use super::{Arm, Lesson, Metric, Rule};
use crate::data::DatasetKind;
use crate::train::TrainConfig;
use crate::{Error, Result};

/// A lesson compares at least two arms and at most eight (the page draws one colour per arm).
pub const MIN_ARMS: usize = 2;
pub const MAX_ARMS: usize = 8;
/// The most training images a lesson's arms may process together (each arm's epochs × its steps
/// per epoch × its batch size, as `Lesson::training_images` counts them): 250,000, more than eight
/// times the largest built-in lesson (cosine, 29,952 images), so that a lesson still ends in
/// minutes on a GPU.
pub const MAX_TRAINING_IMAGES: u64 = 250_000;
/// The images MNIST has: the lesson's subsets are its first ones.
pub const MNIST_TRAIN_IMAGES: usize = 60_000;
pub const MNIST_TEST_IMAGES: usize = 10_000;
/// An id names the lesson in commands, links and result lines.
pub const MAX_ID_LEN: usize = 64;

fn fail<T>(path: impl Into<String>, msg: impl Into<String>) -> Result<T> {
    Err(Error::lesson(path, msg))
}

impl LessonFile {
    /// The lesson this file defines, once every check passed; the first failed check is the error.
    pub fn into_lesson(self) -> Result<Lesson> {
        self.check_texts()?;
        self.check_data()?;
        let arms = self.build_arms()?;
        let lesson = Lesson {
            id: self.id,
            title: self.title,
            question: self.question,
            look_for: self.look_for,
            setup: self.setup,
            dataset: self.dataset,
            train_images: self.train_images,
            test_images: self.test_images,
            arms,
            metric: self.metric,
            rule: self.rule,
            reported: self.reported,
            views: self.views,
            track_train_accuracy: self.track_train_accuracy,
            paper: self.paper,
            noise_note: self.noise_note,
        };
        check_measurement(&lesson)?;
        let images = lesson.training_images();
        if images > MAX_TRAINING_IMAGES {
            return fail(
                "arms",
                format!(
                    "train on {images} images in all (each arm's epochs × steps per epoch × batch size); a lesson \
                     trains on at most {MAX_TRAINING_IMAGES}, so that it ends in minutes"
                ),
            );
        }
        Ok(lesson)
    }

    fn check_texts(&self) -> Result<()> {
        let id = &self.id;
        let id_chars = id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if id.is_empty() || id.len() > MAX_ID_LEN || !id_chars || id.starts_with('-') {
            return fail(
                "id",
                format!("must be 1 to {MAX_ID_LEN} lowercase letters, digits and dashes, not starting with a dash (it names the lesson in commands and links); got {id:?}"),
            );
        }
        for (path, text) in [("title", &self.title), ("question", &self.question)] {
            if text.trim().is_empty() {
                return fail(path, "must not be empty");
            }
        }
        Ok(())
    }

    fn check_data(&self) -> Result<()> {
        if self.dataset != DatasetKind::Mnist {
            return fail("dataset", "must be `mnist`: the lessons run on MNIST, which the page has without a download");
        }
        if !(1..=MNIST_TRAIN_IMAGES).contains(&self.train_images) {
            return fail("train_images", format!("is {}; it must be from 1 to {MNIST_TRAIN_IMAGES}, MNIST's training set", self.train_images));
        }
        if !(1..=MNIST_TEST_IMAGES).contains(&self.test_images) {
            return fail("test_images", format!("is {}; it must be from 1 to {MNIST_TEST_IMAGES}, MNIST's test set", self.test_images));
        }
        Ok(())
    }

    /// Each arm with its config built and validated, its name and teacher checked, and different
    /// from every arm before it.
    fn build_arms(&self) -> Result<Vec<Arm>> {
        let n = self.arms.len();
        if !(MIN_ARMS..=MAX_ARMS).contains(&n) {
            return fail("arms", format!("has {n} arms; a lesson compares {MIN_ARMS} to {MAX_ARMS}"));
        }
        let mut arms: Vec<Arm> = Vec::with_capacity(n);
        for (i, a) in self.arms.iter().enumerate() {
            check_name(i, a, &self.arms[..i])?;
            check_teacher(i, a, &self.arms)?;
            let mut config = arm_config(self.dataset, &self.base, a, i)?;
            config.teacher = a.teacher.map(|t| self.arms[t].name.clone());
            let images = self.arm_images(i, a)?;
            let steps = images.checked_div(config.batch_size as usize).unwrap_or(0) as u64;
            config.validate(steps).map_err(|e| config_error(e, i, &self.base, a))?;
            let same = |b: &Arm| b.config == config && b.teacher == a.teacher && b.train_images == a.train_images;
            if let Some(j) = arms.iter().position(same) {
                return fail(index("arms", i), format!("trains exactly as arms[{j}]; the arms of a lesson differ in the trick"));
            }
            arms.push(Arm { name: a.name.clone(), config, teacher: a.teacher, train_images: a.train_images });
        }
        Ok(arms)
    }
}

impl LessonFile {
    /// The training images arm `i` takes: its own `train_images` (from 1 to the lesson's) or the
    /// lesson's.
    fn arm_images(&self, i: usize, a: &ArmFile) -> Result<usize> {
        match a.train_images {
            None => Ok(self.train_images),
            Some(n) if (1..=self.train_images).contains(&n) => Ok(n),
            Some(n) => fail(
                join(&index("arms", i), "train_images"),
                format!("is {n}; an arm trains on the first 1 to {} of the lesson's training images (its `train_images`)", self.train_images),
            ),
        }
    }
}

fn check_name(i: usize, a: &ArmFile, before: &[ArmFile]) -> Result<()> {
    let path = join(&index("arms", i), "name");
    if a.name.trim().is_empty() {
        return fail(path, "must not be empty");
    }
    match before.iter().position(|b| b.name == a.name) {
        Some(j) => fail(path, format!("is also the name of arms[{j}]; each arm has its own")),
        None => Ok(()),
    }
}

fn check_teacher(i: usize, a: &ArmFile, arms: &[ArmFile]) -> Result<()> {
    let Some(t) = a.teacher else { return Ok(()) };
    let path = join(&index("arms", i), "teacher");
    if t >= arms.len() {
        return fail(path, format!("is arm {t}, but the lesson has {} arms (0 to {})", arms.len(), arms.len() - 1));
    }
    if t == i {
        return fail(path, "is the arm itself; the teacher is another arm");
    }
    if arms[t].teacher.is_some() {
        return fail(path, format!("is arm {t}, which is taught itself; a teacher learns from the labels alone"));
    }
    Ok(())
}

/// The dataset's defaults, then `base`, then the arm's `set`; each field's value is checked for
/// its type at the path where it is written.
fn arm_config(dataset: DatasetKind, base: &ConfigPatch, arm: &ArmFile, i: usize) -> Result<TrainConfig> {
    let defaults = config_map(&TrainConfig::default_for(dataset));
    let set_path = join(&index("arms", i), "set");
    let mut all = defaults.clone();
    for (path, patch) in [("base", base), (set_path.as_str(), &arm.set)] {
        for (key, v) in &patch.0 {
            let mut one = defaults.clone();
            one.insert(key.clone(), v.clone());
            read::<TrainConfig>(&join(path, key), Value::Object(one))?;
            all.insert(key.clone(), v.clone());
        }
    }
    read(&index("arms", i), Value::Object(all))
}

/// A config error of arm `i` at the path where its field was set: the arm's `set`, else `base`,
/// else the arm itself (a default that does not fit the rest).
fn config_error(e: Error, i: usize, base: &ConfigPatch, arm: &ArmFile) -> Error {
    let Error::Config { field, msg } = e else { return e };
    let arm_path = index("arms", i);
    if arm.set.get(field).is_some() {
        Error::lesson(join(&join(&arm_path, "set"), field), msg)
    } else if base.get(field).is_some() {
        Error::lesson(join("base", field), msg)
    } else if field == "teacher" {
        Error::lesson(join(&arm_path, "teacher"), msg)
    } else {
        Error::lesson(arm_path, format!("`{field}` (the dataset's default here): {msg}"))
    }
}

/// The metric, the reported one, the rule and the views.
fn check_measurement(l: &Lesson) -> Result<()> {
    check_metric("metric", l.metric, l)?;
    if let Some(m) = l.reported {
        check_metric("reported", m, l)?;
    }
    check_rule(&l.rule, l.arms.len())?;
    match (0..l.views.len()).find(|&i| l.views[..i].contains(&l.views[i])) {
        Some(i) => fail(index("views", i), "is listed twice"),
        None => Ok(()),
    }
}

fn check_metric(path: &str, m: Metric, l: &Lesson) -> Result<()> {
    match m {
        Metric::EarlyLoss { steps } => {
            let arm_steps = |a: &Arm| a.config.total_steps((l.arm_images(a) / a.config.batch_size as usize) as u64);
            let (shortest, k) = l.arms.iter().enumerate().map(|(k, a)| (arm_steps(a), k)).min().expect("a lesson has arms");
            if steps == 0 {
                return fail(join(path, "steps"), "must be at least 1");
            }
            if steps > shortest {
                return fail(join(path, "steps"), format!("is {steps}, but arm {k} trains only {shortest} steps"));
            }
            Ok(())
        }
        Metric::GeneralizationGap if !l.track_train_accuracy => fail(
            "track_train_accuracy",
            format!("must be true: the {path} `generalization_gap` needs the clean training accuracy"),
        ),
        _ => Ok(()),
    }
}

fn check_rule(rule: &Rule, n: usize) -> Result<()> {
    let arm = |path: String, i: usize| match i < n {
        true => Ok(()),
        false => fail(path, format!("is arm {i}, but the lesson has {n} arms (0 to {})", n - 1)),
    };
    let pair = |path: &str, (a, b): (usize, usize)| {
        arm(index(path, 0), a)?;
        arm(index(path, 1), b)?;
        if a == b {
            return fail(path, "pairs an arm with itself");
        }
        Ok(())
    };
    let margin = match *rule {
        Rule::Beats { trick, baseline, margin, .. } => {
            arm("rule.trick".into(), trick)?;
            arm("rule.baseline".into(), baseline)?;
            if trick == baseline {
                return fail("rule.baseline", "is the trick's arm too; the rule compares two arms");
            }
            margin
        }
        Rule::GapShrinks { without, with, margin } => {
            pair("rule.without", without)?;
            pair("rule.with", with)?;
            margin
        }
    };
    if !(margin.is_finite() && margin >= 0.0) {
        return fail("rule.margin", format!("must be zero or positive, got {margin}"));
    }
    Ok(())
}
