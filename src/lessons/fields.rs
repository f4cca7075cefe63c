//! Reading a JSON object field by field, each with its path in the document, so that an error in
//! a lesson file says where it is (`arms[1].set.batch_size: ...`). Each value is read with serde;
//! a field the object does not know is refused by name, so that a typo is never ignored.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::{Error, Result};

/// The path an error about the whole document is reported at.
pub const ROOT: &str = "lesson";

/// `key` inside the object at `path` (`""` is the document itself).
pub fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// Element `i` of the array at `path`.
pub fn index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

/// `path` as it is shown in an error: the document itself is `lesson`.
fn shown(path: &str) -> &str {
    if path.is_empty() {
        ROOT
    } else {
        path
    }
}

/// `v` read as a `T`; serde's message, at `path`, when it is not one.
pub fn read<T: DeserializeOwned>(path: &str, v: Value) -> Result<T> {
    serde_json::from_value(v).map_err(|e| Error::lesson(shown(path), e.to_string()))
}

/// What kind of JSON value `v` is, for messages.
pub fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The fields of one JSON object, taken out one by one.
pub struct Fields {
    path: String,
    map: Map<String, Value>,
}

impl Fields {
    /// The object at `path`; an error if `v` is not an object.
    pub fn open(path: &str, v: Value) -> Result<Self> {
        match v {
            Value::Object(map) => Ok(Fields { path: path.to_string(), map }),
            other => Err(Error::lesson(shown(path), format!("must be a JSON object, not {}", kind(&other)))),
        }
    }

    /// Refuses any field not in `keys` (those already taken out included), naming the first.
    pub fn allow(&self, keys: &[&str]) -> Result<()> {
        match self.map.keys().find(|k| !keys.contains(&k.as_str())) {
            Some(k) => Err(Error::lesson(self.path(k), format!("unknown field; the fields here are {}", keys.join(", ")))),
            None => Ok(()),
        }
    }

    /// The path of `key` in this object.
    pub fn path(&self, key: &str) -> String {
        join(&self.path, key)
    }

    /// The value of `key`, which must be there.
    pub fn value(&mut self, key: &str) -> Result<Value> {
        self.map.remove(key).ok_or_else(|| Error::lesson(self.path(key), "is missing"))
    }

    /// The value of `key` if it is there and not null.
    pub fn value_opt(&mut self, key: &str) -> Option<Value> {
        self.map.remove(key).filter(|v| !v.is_null())
    }

    /// `key`, which must be there, read as a `T`.
    pub fn req<T: DeserializeOwned>(&mut self, key: &str) -> Result<T> {
        let v = self.value(key)?;
        read(&self.path(key), v)
    }

    /// `key` read as a `T`, or `T`'s default when it is left out or null.
    pub fn opt<T: DeserializeOwned + Default>(&mut self, key: &str) -> Result<T> {
        match self.value_opt(key) {
            Some(v) => read(&self.path(key), v),
            None => Ok(T::default()),
        }
    }
}
