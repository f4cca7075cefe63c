//! The page's "Class results" view (`#class=LESSON`): a class's result lines and exported runs
//! pooled by the same `lessons::class::report` that `tricklab lesson pool` prints.

use wasm_bindgen::prelude::*;

use super::js_error;
use crate::lessons::run::{sized, Size};
use crate::lessons::{catalog, class, file};
use crate::Error;

/// One source the teacher gave: a dropped file (its name and text) or the pasted text ("pasted").
#[derive(serde::Deserialize)]
struct Source {
    name: String,
    text: String,
}

/// Pools `sources_json` (`[{name, text}]`) as runs of `lesson`: a built-in lesson's id, or a
/// lesson file's text; `tiny` pools its tiny version (another definition). Resolves to the
/// `ClassReport` as JSON, or an `Error` when the lesson is unknown or its file is malformed.
#[wasm_bindgen]
pub fn pool_class(lesson: &str, tiny: bool, sources_json: &str) -> Result<String, JsValue> {
    let found = if lesson.trim_start().starts_with('{') {
        file::parse(lesson)
    } else {
        catalog::find(lesson).ok_or_else(|| {
            let ids: Vec<String> = catalog::all().into_iter().map(|l| l.id).collect();
            Error::config("lesson", format!("there is no built-in lesson `{lesson}`; the lessons are {}", ids.join(", ")))
        })
    };
    let lesson = sized(&found.map_err(js_error)?, if tiny { Size::Tiny } else { Size::Full });
    let sources: Vec<Source> = serde_json::from_str(sources_json).map_err(|e| js_error(Error::config("sources", format!("not a list of {{name, text}}: {e}"))))?;
    let pairs: Vec<(&str, &str)> = sources.iter().map(|s| (s.name.as_str(), s.text.as_str())).collect();
    Ok(serde_json::to_string(&class::report(&lesson, &pairs)).expect("a report serializes"))
}
