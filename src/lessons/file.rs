//! Lesson files: a lesson as one JSON document, the one way a lesson is defined (the built-in ones
//! are files in lessons/, embedded in the build). `LessonFile` is the format; `parse` reads and
//! validates a file into a `Lesson` (errors name the field's path, `arms[1].set.batch_size`), and
//! `to_json` writes a `Lesson` back as its file. README.md ("Writing a lesson") explains every
//! field.
//!
//! The arms are written so that they differ only in the trick: an arm's config is the dataset's
//! defaults (`TrainConfig::default_for`), then the lesson's `base`, then the arm's own `set`. The
//! seed is the run's, the dataset the lesson's, and a distillation teacher is an arm (`teacher`:
//! its index), so none of the three is a field of `base` or `set`.

use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use super::fields::{self, index, read, Fields, ROOT};
use super::{Lesson, Metric, Paper, Rule, View};
use crate::data::DatasetKind;
use crate::train::TrainConfig;
use crate::{Error, Result};

/// The version this build reads and writes (the file's `tricklab_lesson`).
pub const FORMAT_VERSION: u32 = 1;
/// The largest lesson file read: a lesson is a few KB (the longest built-in one is under 6 KB).
pub const MAX_FILE_BYTES: usize = 1 << 20;

/// Config fields that a lesson file does not set through `base` or `set`, and why.
pub const NOT_SETTABLE: [(&str, &str); 3] = [
    ("dataset", "is the lesson's own `dataset`, the same for every arm"),
    ("seed", "is the run's (tricklab lesson --seed, the page's seed), not the lesson's"),
    ("teacher", "is given by the arm's `teacher`: the index of the arm that teaches it"),
];

const TOP_KEYS: [&str; 18] = [
    "tricklab_lesson",
    "id",
    "title",
    "question",
    "look_for",
    "setup",
    "dataset",
    "train_images",
    "test_images",
    "base",
    "arms",
    "metric",
    "rule",
    "reported",
    "views",
    "track_train_accuracy",
    "paper",
    "noise_note",
];

/// A lesson as its file holds it (the fields in the order they are written).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LessonFile {
    pub tricklab_lesson: u32,
    pub id: String,
    pub title: String,
    pub question: String,
    pub look_for: String,
    pub setup: String,
    pub dataset: DatasetKind,
    pub train_images: usize,
    pub test_images: usize,
    /// Config fields every arm shares (where they differ from the dataset's defaults).
    pub base: ConfigPatch,
    pub arms: Vec<ArmFile>,
    pub metric: Metric,
    pub rule: Rule,
    pub reported: Option<Metric>,
    pub views: Vec<View>,
    pub track_train_accuracy: bool,
    pub paper: Paper,
    pub noise_note: Option<String>,
}

/// One arm: its name, the config fields it sets on top of `base`, and the arm that teaches it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArmFile {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub teacher: Option<usize>,
    /// Only the first this many of the lesson's training images (a student with few labels).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub train_images: Option<usize>,
    pub set: ConfigPatch,
}

/// Config fields and their JSON values, written in `TrainConfig::FIELDS` order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConfigPatch(pub Vec<(String, Value)>);

impl Serialize for ConfigPatch {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

impl ConfigPatch {
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
}

/// Reads and validates a lesson file.
pub fn parse(text: &str) -> Result<Lesson> {
    if text.len() > MAX_FILE_BYTES {
        return Err(Error::lesson(ROOT, format!("is {} bytes; a lesson file is at most {MAX_FILE_BYTES} (1 MiB)", text.len())));
    }
    let value: Value = serde_json::from_str(text).map_err(|e| Error::lesson(ROOT, format!("is not valid JSON: {e}")))?;
    LessonFile::read(value)?.into_lesson()
}

/// `lesson` as its file (pretty JSON, ending in a newline). `parse` of it gives `lesson` back,
/// except for the arms' seeds (the run's).
pub fn to_json(lesson: &Lesson) -> String {
    let text = serde_json::to_string_pretty(&LessonFile::from_lesson(lesson)).expect("a lesson file serializes");
    text + "\n"
}

/// A config as a JSON object of all its fields.
pub fn config_map(c: &TrainConfig) -> Map<String, Value> {
    match serde_json::to_value(c).expect("a config serializes") {
        Value::Object(m) => m,
        _ => unreachable!("a config serializes to an object"),
    }
}

impl LessonFile {
    /// The file's fields, each checked for its type and its path; unknown fields are refused.
    /// What the values mean together is `into_lesson`'s to check.
    pub fn read(value: Value) -> Result<Self> {
        let mut f = Fields::open("", value)?;
        let version: u32 = f.req("tricklab_lesson")?;
        if version != FORMAT_VERSION {
            return Err(Error::lesson("tricklab_lesson", format!("is {version}; this tricklab reads lesson files of version {FORMAT_VERSION}")));
        }
        f.allow(&TOP_KEYS)?;
        Ok(LessonFile {
            tricklab_lesson: version,
            id: f.req("id")?,
            title: f.req("title")?,
            question: f.req("question")?,
            look_for: f.req("look_for")?,
            setup: f.req("setup")?,
            dataset: f.req("dataset")?,
            train_images: f.req("train_images")?,
            test_images: f.req("test_images")?,
            base: read_patch("base", f.value_opt("base"))?,
            arms: read_arms(f.value("arms")?)?,
            metric: read_metric("metric", f.value("metric")?)?,
            rule: read_rule(f.value("rule")?)?,
            reported: f.value_opt("reported").map(|v| read_metric("reported", v)).transpose()?,
            views: read_views(f.value_opt("views"))?,
            track_train_accuracy: f.opt("track_train_accuracy")?,
            paper: read_paper(f.value("paper")?)?,
            noise_note: f.opt("noise_note")?,
        })
    }

    /// The file of `lesson`: `base` holds each config field where most arms (more than half) share
    /// a value other than the dataset's default, and each arm's `set` the fields where it differs
    /// from that.
    pub fn from_lesson(l: &Lesson) -> Self {
        let defaults = config_map(&TrainConfig::default_for(l.dataset));
        let arms: Vec<Map<String, Value>> = l.arms.iter().map(|a| config_map(&a.config)).collect();
        let settable: Vec<&str> = TrainConfig::FIELDS.iter().copied().filter(|f| !NOT_SETTABLE.iter().any(|(n, _)| n == f)).collect();
        let majority = |k: &str| arms.iter().map(|a| &a[k]).find(|v| 2 * arms.iter().filter(|a| a[k] == **v).count() > arms.len());
        let base = settable.iter().filter_map(|&k| majority(k).filter(|v| **v != defaults[k]).map(|v| (k.to_string(), v.clone())));
        let base = ConfigPatch(base.collect());
        let arm_files = l
            .arms
            .iter()
            .zip(&arms)
            .map(|(arm, config)| {
                let set = settable.iter().filter(|&&k| config[k] != *base.get(k).unwrap_or(&defaults[k])).map(|&k| (k.to_string(), config[k].clone()));
                ArmFile { name: arm.name.clone(), teacher: arm.teacher, train_images: arm.train_images, set: ConfigPatch(set.collect()) }
            })
            .collect();
        LessonFile {
            tricklab_lesson: FORMAT_VERSION,
            id: l.id.clone(),
            title: l.title.clone(),
            question: l.question.clone(),
            look_for: l.look_for.clone(),
            setup: l.setup.clone(),
            dataset: l.dataset,
            train_images: l.train_images,
            test_images: l.test_images,
            base,
            arms: arm_files,
            metric: l.metric,
            rule: l.rule.clone(),
            reported: l.reported,
            views: l.views.clone(),
            track_train_accuracy: l.track_train_accuracy,
            paper: l.paper.clone(),
            noise_note: l.noise_note.clone(),
        }
    }
}

/// `base` or an arm's `set`: config field names (refusing unknown ones and `NOT_SETTABLE`) with
/// their values as written; their types are checked when the arm's config is built.
fn read_patch(path: &str, v: Option<Value>) -> Result<ConfigPatch> {
    let Some(v) = v else { return Ok(ConfigPatch::default()) };
    let Value::Object(mut map) = v else {
        return Err(Error::lesson(path, format!("must be a JSON object of config fields, not {}", fields::kind(&v))));
    };
    if let Some(key) = map.keys().find(|k| !TrainConfig::FIELDS.contains(&k.as_str())) {
        return Err(Error::lesson(
            fields::join(path, key),
            format!("unknown config field; the fields are {}", TrainConfig::FIELDS.join(", ")),
        ));
    }
    if let Some((key, why)) = NOT_SETTABLE.iter().find(|(k, _)| map.contains_key(*k)) {
        return Err(Error::lesson(fields::join(path, key), format!("is not set here: it {why}")));
    }
    let ordered = TrainConfig::FIELDS.iter().filter_map(|&k| map.remove(k).map(|v| (k.to_string(), v)));
    Ok(ConfigPatch(ordered.collect()))
}

fn read_arms(v: Value) -> Result<Vec<ArmFile>> {
    let items: Vec<Value> = read("arms", v)?;
    items
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            let path = index("arms", i);
            let mut f = Fields::open(&path, v)?;
            f.allow(&["name", "teacher", "train_images", "set"])?;
            let (name, teacher, train_images) = (f.req("name")?, f.opt("teacher")?, f.opt("train_images")?);
            Ok(ArmFile { name, teacher, train_images, set: read_patch(&f.path("set"), f.value_opt("set"))? })
        })
        .collect()
}

/// Every metric, for looking one up by its `kind` (the names serde gives them).
const METRICS: [Metric; 7] = [
    Metric::EarlyLoss { steps: 0 },
    Metric::TestAccuracy,
    Metric::FinalTrainLoss,
    Metric::GeneralizationGap,
    Metric::LogitGap,
    Metric::CalibrationError,
    Metric::GammaNorm,
];

/// A tagged value's `kind` as serde writes it.
fn kind_name<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v).ok().and_then(|v| v["kind"].as_str().map(String::from)).unwrap_or_default()
}

fn read_metric(path: &str, v: Value) -> Result<Metric> {
    let mut f = Fields::open(path, v)?;
    let kind: String = f.req("kind")?;
    let Some(metric) = METRICS.iter().find(|m| kind_name(*m) == kind) else {
        let names: Vec<String> = METRICS.iter().map(kind_name).collect();
        return Err(Error::lesson(f.path("kind"), format!("unknown metric `{kind}`; the metrics are {}", names.join(", "))));
    };
    match metric {
        Metric::EarlyLoss { .. } => {
            f.allow(&["kind", "steps"])?;
            Ok(Metric::EarlyLoss { steps: f.req("steps")? })
        }
        other => {
            f.allow(&["kind"])?;
            Ok(*other)
        }
    }
}

fn read_rule(v: Value) -> Result<Rule> {
    let mut f = Fields::open("rule", v)?;
    let kind: String = f.req("kind")?;
    match kind.as_str() {
        "beats" => {
            f.allow(&["kind", "trick", "baseline", "better", "margin"])?;
            Ok(Rule::Beats { trick: f.req("trick")?, baseline: f.req("baseline")?, better: f.req("better")?, margin: f.req("margin")? })
        }
        "gap_shrinks" => {
            f.allow(&["kind", "without", "with", "margin"])?;
            Ok(Rule::GapShrinks { without: f.req("without")?, with: f.req("with")?, margin: f.req("margin")? })
        }
        other => Err(Error::lesson("rule.kind", format!("unknown rule `{other}`; the rules are beats, gap_shrinks"))),
    }
}

fn read_views(v: Option<Value>) -> Result<Vec<View>> {
    let Some(v) = v else { return Ok(Vec::new()) };
    let items: Vec<Value> = read("views", v)?;
    items.into_iter().enumerate().map(|(i, v)| read(&index("views", i), v)).collect()
}

fn read_paper(v: Value) -> Result<Paper> {
    let mut f = Fields::open("paper", v)?;
    f.allow(&["result", "source"])?;
    Ok(Paper { result: f.req("result")?, source: f.req("source")? })
}
