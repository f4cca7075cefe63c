//! The one error type of the crate: every fallible engine, config and data call returns it.

use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// An op was given tensors whose shapes do not fit together (or are empty).
    Shape { op: &'static str, msg: String },
    /// No usable GPU adapter or device.
    NoAdapter(String),
    /// The GPU rejected something, or was lost.
    Gpu(String),
    /// A configuration value is invalid; names the field.
    Config { field: &'static str, msg: String },
    /// A dataset or model file is malformed.
    Data { file: String, msg: String },
    /// A lesson file is malformed or invalid; `path` names the field (`arms[1].set.batch_size`),
    /// or is `lesson` for the file as a whole.
    Lesson { path: String, msg: String },
    /// Training produced a non-finite loss.
    Diverged { step: u64, loss: f32 },
}

impl Error {
    pub fn shape(op: &'static str, msg: impl Into<String>) -> Self {
        Error::Shape { op, msg: msg.into() }
    }
    pub fn config(field: &'static str, msg: impl Into<String>) -> Self {
        Error::Config { field, msg: msg.into() }
    }
    pub fn data(file: impl Into<String>, msg: impl Into<String>) -> Self {
        Error::Data { file: file.into(), msg: msg.into() }
    }
    pub fn lesson(path: impl Into<String>, msg: impl Into<String>) -> Self {
        Error::Lesson { path: path.into(), msg: msg.into() }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Shape { op, msg } => write!(f, "{op}: {msg}"),
            Error::NoAdapter(msg) => write!(f, "no WebGPU adapter: {msg}"),
            Error::Gpu(msg) => write!(f, "GPU error: {msg}"),
            Error::Config { field, msg } => write!(f, "invalid config field `{field}`: {msg}"),
            Error::Data { file, msg } => write!(f, "{file}: {msg}"),
            Error::Lesson { path, msg } => write!(f, "{path}: {msg}"),
            Error::Diverged { step, loss } => write!(
                f,
                "training diverged at step {step}: the loss became {loss}. Try a lower learning rate or turn on warmup."
            ),
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;
