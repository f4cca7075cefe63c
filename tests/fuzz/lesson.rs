//! The lesson file target: the built-in lesson files as seeds, mutated as JSON (a value
//! anywhere replaced by a boundary value, a word the format knows or a part of another file; a
//! field dropped or added, typos included) or as bytes. A file that parses must be a valid lesson
//! whose own file reads back to it.

use serde_json::{Map, Value};
use tricklab::lessons::check::{MAX_ARMS, MAX_TRAINING_IMAGES, MIN_ARMS};
use tricklab::lessons::run::{sized, Size};
use tricklab::lessons::{catalog, file};
use tricklab::rng::Rng;
use tricklab::train::TrainConfig;

use super::mutate::{self, below, pick};
use super::Target;

/// Words a lesson file uses as values, and some near them.
const WORDS: [&str; 22] = [
    "mnist", "cifar10", "cosine", "step", "beats", "gap_shrinks", "early_loss", "test_accuracy", "generalization_gap",
    "gamma_norm", "higher", "lower", "schedules", "norms", "batches", "resnet20", "mobilenetv2", "mnist_resnet", "", " ",
    "x", "wide teacher",
];

/// Field names a lesson file has (beside the config fields), and typos of them.
const KEYS: [&str; 21] = [
    "tricklab_lesson", "id", "title", "base", "arms", "set", "name", "teacher", "metric", "kind", "steps", "rule", "trick",
    "baseline", "better", "margin", "without", "with", "views", "track_train_accuracy", "bogus",
];

fn run_lesson(input: &[u8]) -> Result<(), String> {
    let text = std::str::from_utf8(input).map_err(|e| e.to_string())?;
    let lesson = file::parse(text).map_err(|e| e.to_string())?;
    assert!((MIN_ARMS..=MAX_ARMS).contains(&lesson.arms.len()));
    assert!(lesson.training_images() <= MAX_TRAINING_IMAGES);
    assert_eq!(file::parse(&file::to_json(&lesson)).expect("a lesson's own file reads"), lesson);
    // The tiny version (the page's tests) either validates or says why.
    let tiny = sized(&lesson, Size::Tiny);
    for a in &tiny.arms {
        let steps = (tiny.train_images / a.config.batch_size as usize) as u64;
        a.config.validate(steps).map_err(|e| format!("tiny: {e}"))?;
    }
    Ok(())
}

/// A boundary number, a known word, or a small structure.
fn interesting(rng: &mut Rng) -> Value {
    match below(rng, 4) {
        0 => {
            let text = *pick(rng, &mutate::INTERESTING_TEXT);
            serde_json::from_str(text).unwrap_or(Value::Null)
        }
        1 => Value::from(*pick(rng, &mutate::INTERESTING)),
        2 => Value::from(*pick(rng, &WORDS)),
        _ => {
            let text = *pick(rng, &["true", "false", "null", "[]", "{}", "[0, 1]", "[1, 0]", "[2, 2]", "-1", "0.5"]);
            serde_json::from_str(text).unwrap()
        }
    }
}

/// The JSON pointer of every value in `v` (the document itself is "").
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => m.iter().for_each(|(k, c)| pointers(c, format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")), out)),
        Value::Array(a) => a.iter().enumerate().for_each(|(i, c)| pointers(c, format!("{at}/{i}"), out)),
        _ => {}
    }
    out.push(at);
}

/// A random part of `other` (another input), if it is JSON.
fn part_of(rng: &mut Rng, other: &[u8]) -> Option<Value> {
    let v: Value = serde_json::from_slice(other).ok()?;
    let mut all = Vec::new();
    pointers(&v, String::new(), &mut all);
    v.pointer(pick(rng, &all).as_str()).cloned()
}

/// One structural edit of the JSON document `v`.
fn edit(rng: &mut Rng, v: &mut Value, other: &[u8]) {
    let mut all = Vec::new();
    pointers(v, String::new(), &mut all);
    let at = pick(rng, &all).clone();
    let new = match below(rng, 3) {
        0 => part_of(rng, other).unwrap_or_else(|| interesting(rng)),
        _ => interesting(rng),
    };
    let (parent, last) = at.rsplit_once('/').unwrap_or(("", ""));
    match (below(rng, 4), v.pointer_mut(parent)) {
        (0, Some(Value::Object(m))) => drop(m.remove(&last.replace("~1", "/").replace("~0", "~"))),
        (0, Some(Value::Array(a))) if !a.is_empty() => drop(a.remove(last.parse::<usize>().unwrap_or(0).min(a.len() - 1))),
        (1, _) => {
            if let Some(Value::Object(m)) = v.pointer_mut(&at) {
                add_field(rng, m, new);
            } else if let Some(Value::Array(a)) = v.pointer_mut(&at) {
                a.push(new);
            }
        }
        _ => {
            if let Some(target) = v.pointer_mut(&at) {
                *target = new;
            }
        }
    }
}

fn add_field(rng: &mut Rng, m: &mut Map<String, Value>, value: Value) {
    let key = if below(rng, 2) == 0 { pick(rng, &KEYS) } else { pick(rng, &TrainConfig::FIELDS) };
    m.insert(key.to_string(), value);
}

/// The built-in lessons' files as JSON, read once per thread.
fn builtin(rng: &mut Rng) -> Value {
    thread_local! {
        static FILES: Vec<Value> = catalog::all().iter().map(|l| serde_json::from_str(&file::to_json(l)).unwrap()).collect();
    }
    FILES.with(|f| pick(rng, f).clone())
}

/// Structural edits of the JSON (most often; half of them of a built-in file, so that many
/// inputs stay valid lessons and reach the checks after parsing), or byte edits and number
/// rewrites.
fn mutate_lesson(rng: &mut Rng, input: &mut Vec<u8>, other: &[u8]) {
    let parsed = match below(rng, 8) {
        0 | 1 => None,
        2..=4 => Some(builtin(rng)),
        _ => serde_json::from_slice::<Value>(input).ok(),
    };
    let Some(mut v) = parsed else {
        return if below(rng, 2) == 0 { mutate::rewrite_number(rng, input) } else { mutate::mutate(rng, input, other) };
    };
    for _ in 0..1 + below(rng, 2) {
        edit(rng, &mut v, other);
    }
    let bytes = serde_json::to_vec_pretty(&v).unwrap();
    if bytes.len() < 64 << 10 {
        *input = bytes;
    }
}

pub fn lesson_file() -> Target {
    let seeds = catalog::all().iter().map(|l| file::to_json(l).into_bytes()).collect();
    Target { name: "lesson_file", seeds, mutate: mutate_lesson, run: run_lesson }
}
