//! Config fields given on the command line: `--set FIELD=VALUE` (and the named flags such as
//! `--epochs`) laid over a config file's fields. VALUE is read as JSON when it is JSON (`0.1`,
//! `true`, `[10,15]`, `null`) and as a string otherwise (`lr_mode=cosine`), so every field can be
//! set without quoting; `TrainConfig::from_json` then checks names and types.

use serde_json::{Map, Value};

use tricklab::train::TrainConfig;
use tricklab::{Error, Result};

/// Splits one `FIELD=VALUE` argument into the field and its JSON value.
pub fn parse_set(arg: &str) -> Result<(String, Value)> {
    let Some((field, text)) = arg.split_once('=') else {
        return Err(Error::config("config", format!("--set takes FIELD=VALUE, got `{arg}`")));
    };
    let value = serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()));
    Ok((field.to_string(), value))
}

/// The config made of `file`'s fields (a config file's JSON object, or empty) with `overrides`
/// on top; not yet validated (that needs the steps per epoch).
pub fn config_with(file: &Map<String, Value>, overrides: &Map<String, Value>) -> Result<TrainConfig> {
    let mut all = file.clone();
    all.extend(overrides.iter().map(|(k, v)| (k.clone(), v.clone())));
    TrainConfig::from_json(&Value::Object(all).to_string())
}
