//! Closed sets of named things (the models, the datasets): each kind lists its values once, in one
//! table of (value, name, label) rows. The name is the serde/JSON/URL spelling, the label is what
//! the page shows; parsing an unknown name is an error that names the config field and the choices.

use crate::{Error, Result};

pub trait Named: Copy + PartialEq + Sized + 'static {
    /// The config field that holds a value of this kind (used in error messages).
    const FIELD: &'static str;
    /// Every value with its name and label, in display order.
    const TABLE: &'static [(Self, &'static str, &'static str)];

    fn name(self) -> &'static str {
        Self::row(self).1
    }

    fn label(self) -> &'static str {
        Self::row(self).2
    }

    fn row(self) -> &'static (Self, &'static str, &'static str) {
        Self::TABLE.iter().find(|r| r.0 == self).expect("every value has a row in its table")
    }

    fn all() -> Vec<Self> {
        Self::TABLE.iter().map(|r| r.0).collect()
    }

    fn parse(name: &str) -> Result<Self> {
        Self::TABLE.iter().find(|r| r.1 == name).map(|r| r.0).ok_or_else(|| {
            let names: Vec<&str> = Self::TABLE.iter().map(|r| r.1).collect();
            Error::config(Self::FIELD, format!("unknown {} `{name}`; choose one of {}", Self::FIELD, names.join(", ")))
        })
    }
}

/// Gives a `Named` type its serde form (the name) and `Display`; pair it with
/// `#[serde(try_from = "String", into = "&'static str")]` on the type.
#[macro_export]
macro_rules! named_serde {
    ($t:ty) => {
        impl TryFrom<String> for $t {
            type Error = String;
            fn try_from(name: String) -> std::result::Result<Self, String> {
                <$t as $crate::names::Named>::parse(&name).map_err(|e| match e {
                    $crate::Error::Config { msg, .. } => msg,
                    other => other.to_string(),
                })
            }
        }
        impl From<$t> for &'static str {
            fn from(v: $t) -> &'static str {
                $crate::names::Named::name(v)
            }
        }
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.pad($crate::names::Named::name(*self))
            }
        }
    };
}
