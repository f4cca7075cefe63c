//! The page's field table (`train::fields`) against the config it describes: every field once,
//! the defaults of `TrainConfig::default()`, limits that `validate` enforces (a value just outside
//! one is refused, one just inside is not), and trick rules that agree with the values the tricks set.

use serde_json::{json, Map, Value};
use tricklab::data::DatasetKind;
use tricklab::names::Named;
use tricklab::nn::models::ModelKind;
use tricklab::train::config::{MAX_EPOCHS, MAX_TOTAL_STEPS};
use tricklab::train::fields::{self, Control, Kind, FIELDS, TRICKS};
use tricklab::train::TrainConfig;

/// Steps per epoch of the runs below (a small training set keeps every schedule short).
const STEPS: u64 = 10;

fn defaults() -> Map<String, Value> {
    match serde_json::to_value(TrainConfig::default()).unwrap() {
        Value::Object(m) => m,
        _ => unreachable!(),
    }
}

/// `base` with `changes`, parsed and validated: Ok(()) or the config error's field.
fn check(base: &Map<String, Value>, changes: &[(&str, Value)]) -> Result<(), String> {
    let mut c = base.clone();
    for (k, v) in changes {
        c.insert(k.to_string(), v.clone());
    }
    let config = TrainConfig::from_json(&Value::Object(c).to_string()).map_err(|e| e.to_string())?;
    config.validate(STEPS).map_err(|e| e.to_string())
}

/// The defaults with the field's trick on (its set values and its other parameters' usual values),
/// the context in which the trick's parameters are validated.
fn context(field: &fields::Field) -> Map<String, Value> {
    let mut c = defaults();
    c.insert("epochs".into(), json!(4));
    c.insert("lr_decay_epochs".into(), json!([]));
    if let Some(t) = field.trick.and_then(fields::trick) {
        for (k, v) in t.sets {
            c.insert(k.to_string(), json!(v));
        }
        for f in t.fields() {
            if f.control == Control::Toggle {
                c.insert(f.name.into(), json!(true));
            }
        }
    }
    c
}

#[test]
fn every_config_field_appears_exactly_once() {
    let names: Vec<&str> = FIELDS.iter().map(|f| f.name).collect();
    for name in TrainConfig::FIELDS {
        assert_eq!(names.iter().filter(|n| **n == name).count(), 1, "{name}");
    }
    let keys: Vec<String> = defaults().keys().cloned().collect();
    assert_eq!(names.len(), keys.len(), "the table has {names:?}, the config {keys:?}");
    for name in &names {
        assert!(keys.iter().any(|k| k == name), "{name} is not a config field");
    }
}

#[test]
fn the_table_defaults_are_the_config_defaults() {
    let table: Value = serde_json::from_str(&fields::table_json()).unwrap();
    let d = defaults();
    for row in table["fields"].as_array().unwrap() {
        let name = row["name"].as_str().unwrap();
        assert_eq!(row["default"], d[name], "{name}");
    }
    assert_eq!(table["fields"].as_array().unwrap().len(), TrainConfig::FIELDS.len());
    assert_eq!(table["tricks"].as_array().unwrap().len(), TRICKS.len());
}

#[test]
fn the_defaults_have_only_linear_scaling_on() {
    let on: Vec<&str> = TRICKS.iter().filter(|t| t.is_on(&TrainConfig::default())).map(|t| t.id).collect();
    assert_eq!(on, ["linear_scaling"]);
    let cifar = TrainConfig::default_for(DatasetKind::Cifar10);
    assert_eq!(TRICKS.iter().filter(|t| t.is_on(&cifar)).count(), 1);
}

#[test]
fn each_trick_is_on_with_its_values_and_off_without_them() {
    for t in &TRICKS {
        let f = t.fields().next().unwrap_or_else(|| panic!("{} owns no field", t.id));
        let mut on = context(f);
        for p in t.fields() {
            if let Some(u) = p.usual {
                on.insert(p.name.into(), value(p, u));
            }
        }
        if t.id == "distillation" {
            on.insert("teacher".into(), json!("run-1"));
        }
        let config = TrainConfig::from_json(&Value::Object(on.clone()).to_string()).unwrap();
        assert!(t.is_on(&config), "{} is on with {on:?}", t.id);
        // Off: its toggle false, its parameters at their defaults (a general field keeps its value,
        // here the default schedule).
        let mut off = on;
        for p in t.fields() {
            let value = if p.control == Control::Toggle { json!(false) } else { defaults()[p.name].clone() };
            off.insert(p.name.into(), value);
        }
        let config = TrainConfig::from_json(&Value::Object(off).to_string()).unwrap();
        assert!(!t.is_on(&config), "{} is off", t.id);
    }
}

#[test]
fn warmup_steps_decide_warmup_when_set() {
    let warmup = fields::trick("warmup").unwrap();
    let c = TrainConfig { warmup_epochs: 1, warmup_steps: Some(0), ..TrainConfig::default() };
    assert!(!warmup.is_on(&c));
    let c = TrainConfig { warmup_epochs: 0, warmup_steps: Some(5), ..TrainConfig::default() };
    assert!(warmup.is_on(&c));
}

/// A value of `field`'s kind: the number `x` (a list of it for a list).
fn value(field: &fields::Field, x: f64) -> Value {
    match field.kind {
        Kind::Counts => json!([x]),
        Kind::Count | Kind::OptionalCount if x.fract() == 0.0 && x >= 0.0 => json!(x as u64),
        Kind::Count | Kind::OptionalCount => json!(x),
        _ => json!(x),
    }
}

/// The next f64 past `x` towards `dir` (±1), or a whole step for a whole-number field.
fn past(field: &fields::Field, x: f64, dir: f64) -> f64 {
    match field.kind {
        Kind::Count | Kind::OptionalCount | Kind::Counts => x + dir,
        _ if x == 0.0 => dir * f64::MIN_POSITIVE,
        _ => x + dir * x.abs() * f64::EPSILON,
    }
}

#[test]
fn a_value_just_outside_a_limit_is_refused() {
    for f in FIELDS.iter() {
        let c = context(f);
        for (bound, open, dir) in [(f.min, f.min_open, -1.0), (f.max, f.max_open, 1.0)] {
            let Some(b) = bound else { continue };
            // lr_decay_epochs: validation does not bound a decay boundary (one past the last epoch
            // never applies, see below); the link's limit is MAX_EPOCHS, the most epochs a run has.
            if f.name == "lr_decay_epochs" && dir > 0.0 {
                continue;
            }
            let outside = if open { b } else { past(f, b, dir) };
            let r = check(&c, &[(f.name, value(f, outside))]);
            assert!(r.is_err(), "{} = {outside} (limit {b}) must be refused", f.name);
        }
    }
}

#[test]
fn a_value_just_inside_a_real_limit_is_accepted() {
    for f in FIELDS.iter().filter(|f| f.kind == Kind::Number) {
        let c = context(f);
        for (bound, open, dir) in [(f.min, f.min_open, 1.0), (f.max, f.max_open, -1.0)] {
            let Some(b) = bound else { continue };
            // Inside an open bound at 0: a small value the f32 optimizer and models still see.
            let inside = if open && b == 0.0 { 1e-6 } else if open { past(f, b, dir) } else { b };
            // The warmup's start rate must stay at or below the base rate.
            let extra: &[(&str, Value)] = if f.name == "base_lr" { &[("warmup_lr", json!(0.0))] } else { &[] };
            let mut changes = vec![(f.name, value(f, inside))];
            changes.extend(extra.iter().cloned());
            assert_eq!(check(&c, &changes), Ok(()), "{} = {inside} (limit {b}) is valid", f.name);
        }
    }
    // Whole numbers at their limits, where the rest of the config allows them.
    let mut c = defaults();
    c.insert("lr_decay_epochs".into(), json!([]));
    for (name, v) in [("epochs", json!(MAX_EPOCHS)), ("batch_size", json!(4096)), ("seed", json!((1u64 << 53) - 1)), ("base_batch_size", json!(u32::MAX))] {
        let mut config = TrainConfig::from_json(&Value::Object(c.clone()).to_string()).unwrap();
        let one = TrainConfig::from_json(&json!({ name: v }).to_string()).unwrap();
        match name {
            "epochs" => config.epochs = one.epochs,
            "batch_size" => config.batch_size = one.batch_size,
            "seed" => config.seed = one.seed,
            _ => config.base_batch_size = one.base_batch_size,
        }
        assert_eq!(config.validate(1).map_err(|e| e.to_string()), Ok(()), "{name} = {v}");
    }
    let max = |name: &str| fields::field(name).unwrap().max.unwrap();
    assert_eq!(max("epochs"), MAX_EPOCHS as f64);
    assert_eq!(max("warmup_steps"), MAX_TOTAL_STEPS as f64);
    assert_eq!(max("hold_steps"), MAX_TOTAL_STEPS as f64);
}

#[test]
fn a_decay_boundary_past_the_link_limit_never_applies() {
    let at = |epochs: Vec<u32>| {
        let c = TrainConfig { epochs: MAX_EPOCHS, lr_decay_epochs: epochs, ..TrainConfig::default() };
        c.schedule(1).unwrap().curve(MAX_EPOCHS as u64 - 1)
    };
    assert_eq!(at(vec![MAX_EPOCHS + 1]), at(vec![]));
}

#[test]
fn the_menus_are_the_core_names() {
    let table: Value = serde_json::from_str(&fields::table_json()).unwrap();
    let menu = |name: &str| -> Vec<String> {
        let row = table["fields"].as_array().unwrap().iter().find(|r| r["name"] == name).unwrap().clone();
        row["options"].as_array().unwrap().iter().map(|o| o["name"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(menu("model"), ModelKind::all().into_iter().map(|m| m.name().to_string()).collect::<Vec<_>>());
    assert_eq!(menu("dataset"), DatasetKind::all().into_iter().map(|d| d.name().to_string()).collect::<Vec<_>>());
    // Cosine is a trick; the menu holds the other schedules, and each parses.
    for mode in menu("lr_mode") {
        assert!(TrainConfig::from_json(&json!({ "lr_mode": mode }).to_string()).is_ok(), "{mode}");
    }
    for t in &TRICKS {
        for (k, v) in t.sets {
            assert!(TrainConfig::from_json(&json!({ *k: v }).to_string()).is_ok(), "{}: {k} = {v}", t.id);
        }
    }
}

/// The page's copy of the table, www/fields-table.js, written from the core: the page builds its
/// form from it before the core (WebAssembly) has loaded, and the URL tests read it without a
/// browser. `TRICKLAB_BLESS=1 cargo test --test fields` rewrites it after a change to the table.
#[test]
fn the_page_reads_this_table() {
    let table: Value = serde_json::from_str(&fields::table_json()).unwrap();
    // One row per line.
    let rows = |key: &str| table[key].as_array().unwrap().iter().map(|r| format!("    {r},\n")).collect::<String>();
    let text = format!(
        "// The core's table of config fields and tricks (src/train/fields.rs), written by\n\
         // `TRICKLAB_BLESS=1 cargo test --test fields`; tests/fields.rs checks that it is current. Do not edit.\n\n\
         export default {{\n  \"fields\": [\n{}  ],\n  \"tricks\": [\n{}  ],\n}};\n",
        rows("fields"),
        rows("tricks")
    );
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("www/fields-table.js");
    if std::env::var_os("TRICKLAB_BLESS").is_some() {
        std::fs::write(&path, &text).unwrap();
    }
    let page = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(page == text, "{} is not the core's table: run `TRICKLAB_BLESS=1 cargo test --test fields`", path.display());
}
