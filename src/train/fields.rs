//! The table of every `TrainConfig` field that the page reads: its kind (how a link spells it),
//! its limits (the same as `TrainConfig::validate`'s, so a link cannot ask for a run the core
//! refuses), its label and the form's step, and the trick or model tweak that owns it; and for each
//! trick, the values it sets and the rule that says whether a config has it on. The page takes it
//! as JSON (`table_json`, through web.rs) and builds its URL parsing, its form, its trick toggles
//! and its ablation table from it; tests/fields.rs checks it against the config.

use serde::Serialize;
use serde_json::{json, Map, Value};

use super::config::{TrainConfig, MAX_BATCH_SIZE, MAX_EPOCHS, MAX_TOTAL_STEPS};
use crate::data::DatasetKind;
use crate::names::Named;
use crate::nn::models::ModelKind;

/// How a field's value is written in a link and read from the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Kind {
    /// One of a menu's names (`options`).
    #[serde(rename = "choice")]
    Choice,
    #[serde(rename = "bool")]
    Bool,
    /// A real number.
    #[serde(rename = "number")]
    Number,
    /// A whole number from `min` to `max`.
    #[serde(rename = "count")]
    Count,
    /// A whole number, or empty for none.
    #[serde(rename = "count?")]
    OptionalCount,
    /// A comma-separated list of whole numbers, each at most `max`.
    #[serde(rename = "counts")]
    Counts,
    /// A run's id, or empty for none (the distillation teacher).
    #[serde(rename = "teacher")]
    Teacher,
}

/// Where the form shows a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Control {
    /// Among the general settings (it may also be owned by a trick that overrides it while on).
    General,
    /// A parameter under its trick's toggle.
    Param,
    /// The trick's toggle itself: true while the trick is on, false when it is off.
    Toggle,
}

/// A menu: the core's named values, or a fixed list of (name, label).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Menu {
    None,
    Datasets,
    Models,
    List(&'static [(&'static str, &'static str)]),
}

/// One row of the table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Field {
    pub name: &'static str,
    pub kind: Kind,
    pub label: &'static str,
    pub control: Control,
    /// The id of the trick or tweak that owns it.
    pub trick: Option<&'static str>,
    /// The smallest and largest valid value (of each element, for a list).
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// Whether `min` / `max` themselves are invalid (a rate must be above 0, momentum below 1).
    pub min_open: bool,
    pub max_open: bool,
    /// The form's step (None: any value).
    pub step: Option<f64>,
    /// What a trick's parameter shows before it is first used (when its default means "off").
    pub usual: Option<f64>,
    pub menu: Menu,
}

impl Field {
    const fn new(name: &'static str, kind: Kind, label: &'static str) -> Self {
        let step = match kind {
            Kind::Count | Kind::OptionalCount => Some(1.0),
            _ => None,
        };
        Field {
            name,
            kind,
            label,
            control: Control::General,
            trick: None,
            min: None,
            max: None,
            min_open: false,
            max_open: false,
            step,
            usual: None,
            menu: Menu::None,
        }
    }

    const fn range(mut self, min: f64, max: f64) -> Self {
        self.min = Some(min);
        self.max = Some(max);
        self
    }

    const fn at_least(mut self, min: f64) -> Self {
        self.min = Some(min);
        self
    }

    const fn above(mut self, min: f64) -> Self {
        self.min = Some(min);
        self.min_open = true;
        self
    }

    const fn below_max(mut self) -> Self {
        self.max_open = true;
        self
    }

    const fn step(mut self, step: f64) -> Self {
        self.step = Some(step);
        self
    }

    const fn menu(mut self, menu: Menu) -> Self {
        self.menu = menu;
        self
    }

    const fn param(mut self, trick: &'static str) -> Self {
        self.control = Control::Param;
        self.trick = Some(trick);
        self
    }

    const fn toggle(mut self, trick: &'static str) -> Self {
        self.control = Control::Toggle;
        self.trick = Some(trick);
        self
    }

    const fn owned_by(mut self, trick: &'static str) -> Self {
        self.trick = Some(trick);
        self
    }

    const fn usual(mut self, value: f64) -> Self {
        self.usual = Some(value);
        self
    }
}

/// The seed's limit, 2^53 - 1 (JavaScript numbers are exact up to it).
const MAX_SEED: f64 = 9_007_199_254_740_991.0;
const EPOCHS: f64 = MAX_EPOCHS as f64;
const STEPS: f64 = MAX_TOTAL_STEPS as f64;

/// Every field, in the order the page shows them: the general settings, then each trick's and
/// tweak's own fields.
pub const FIELDS: [Field; 31] = {
    use Kind::*;
    [
        Field::new("dataset", Choice, "Dataset").menu(Menu::Datasets),
        Field::new("model", Choice, "Model").menu(Menu::Models),
        Field::new("width_mult", Number, "Width multiplier").above(0.0).range_max(4.0),
        Field::new("epochs", Count, "Epochs").range(1.0, EPOCHS),
        Field::new("batch_size", Count, "Batch size").range(1.0, MAX_BATCH_SIZE as f64),
        Field::new("base_lr", Number, "Base learning rate η₀").above(0.0),
        // Cosine decay is a trick; while it is on, this choice waits for it to be turned off.
        Field::new("lr_mode", Choice, "Schedule")
            .menu(Menu::List(&[("step", "Step decay"), ("constant", "Constant rate")]))
            .owned_by("cosine"),
        Field::new("lr_decay_epochs", Counts, "Step decay at epochs").range(1.0, EPOCHS),
        Field::new("lr_decay", Number, "Step decay factor").above(0.0).range_max(1.0),
        Field::new("momentum", Number, "Momentum").range(0.0, 1.0).below_max(),
        Field::new("weight_decay", Number, "Weight decay λ").at_least(0.0),
        Field::new("seed", Count, "Seed").range(0.0, MAX_SEED),
        Field::new("nesterov", Bool, "Nesterov momentum"),
        Field::new("augmentation", Bool, "Crop-and-flip augmentation (CIFAR-10)"),
        Field::new("linear_scaling", Bool, "Linear scaling").toggle("linear_scaling"),
        Field::new("base_batch_size", Count, "Reference batch b₀")
            .range(1.0, u32::MAX as f64)
            .param("linear_scaling")
            .usual(256.0),
        Field::new("warmup_epochs", Count, "Warmup epochs").range(0.0, EPOCHS).param("warmup").usual(1.0),
        Field::new("warmup_steps", OptionalCount, "Warmup steps (instead of epochs)").range(0.0, STEPS).param("warmup"),
        Field::new("warmup_lr", Number, "Warmup start rate").at_least(0.0).param("warmup").usual(0.0),
        Field::new("last_gamma", Bool, "Zero γ").toggle("zero_gamma"),
        Field::new("no_wd", Bool, "No bias decay").toggle("no_bias_decay"),
        Field::new("hold_epochs", Count, "Hold epochs").range(0.0, EPOCHS).param("cosine").usual(0.0),
        Field::new("hold_steps", OptionalCount, "Hold steps (instead of epochs)").range(0.0, STEPS).param("cosine"),
        Field::new("label_smoothing", Number, "ε").range(0.0, 1.0).step(0.01).param("label_smoothing").usual(0.1),
        Field::new("mixup_alpha", Number, "α").at_least(0.0).step(0.05).param("mixup").usual(0.2),
        Field::new("mixup_off_epochs", Count, "No mixup in the last epochs").range(0.0, EPOCHS).param("mixup").usual(0.0),
        Field::new("teacher", Teacher, "Teacher run").param("distillation"),
        Field::new("temperature", Number, "Temperature T").above(0.0).param("distillation"),
        Field::new("hard_weight", Number, "Hard-label weight w").range(0.0, 1.0).step(0.05).param("distillation"),
        Field::new("resnet_c", Bool, "ResNet-C stem").toggle("resnet_c"),
        Field::new("resnet_d", Bool, "ResNet-D shortcut").toggle("resnet_d"),
    ]
};

impl Field {
    const fn range_max(mut self, max: f64) -> Self {
        self.max = Some(max);
        self
    }

    /// The field's row as the page reads it, with its default from `defaults`.
    fn to_json(self, defaults: &Map<String, Value>) -> Value {
        let menu: Vec<Value> = match self.menu {
            Menu::None => Vec::new(),
            Menu::Datasets => named::<DatasetKind>(),
            Menu::Models => named::<ModelKind>(),
            Menu::List(rows) => rows.iter().map(|(name, label)| json!({ "name": name, "label": label })).collect(),
        };
        json!({
            "name": self.name, "kind": self.kind, "label": self.label, "control": self.control, "trick": self.trick,
            "min": self.min, "max": self.max, "min_open": self.min_open, "max_open": self.max_open,
            "step": self.step, "usual": self.usual, "options": menu, "default": defaults[self.name],
        })
    }
}

fn named<T: Named>() -> Vec<Value> {
    T::all().into_iter().map(|v| json!({ "name": v.name(), "label": v.label() })).collect()
}

/// Whether a config has a trick on, as a rule on its fields.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OnRule {
    /// The bool field is true.
    Flag { field: &'static str },
    /// The first of `fields` that is not null is above 0 (`warmup_steps` overrides `warmup_epochs`).
    Positive { fields: &'static [&'static str] },
    /// The field has this value.
    Equals { field: &'static str, value: &'static str },
    /// The field is not null.
    Set { field: &'static str },
}

/// A trick of the paper, or a model tweak (`tweak`), as the page turns it on and off.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Trick {
    pub id: &'static str,
    /// Its name on the page (its toggle's label).
    pub title: &'static str,
    pub tweak: bool,
    /// The values it sets while on (its toggle field, or the schedule cosine decay replaces).
    pub sets: &'static [(&'static str, &'static str)],
    pub rule: OnRule,
}

/// Every trick the page can toggle, then the model tweaks, in the page's order.
pub const TRICKS: [Trick; 10] = {
    use OnRule::*;
    /// A trick whose toggle is its bool field: its title is that field's label.
    const fn flag(id: &'static str, field: &'static str, tweak: bool) -> Trick {
        let mut i = 0;
        while !eq(FIELDS[i].name, field) {
            i += 1;
        }
        Trick { id, title: FIELDS[i].label, tweak, sets: &[], rule: Flag { field } }
    }
    const fn trick(id: &'static str, title: &'static str, rule: OnRule) -> Trick {
        Trick { id, title, tweak: false, sets: &[], rule }
    }
    const COSINE: Trick = Trick { sets: &[("lr_mode", "cosine")], ..trick("cosine", "Cosine decay", Equals { field: "lr_mode", value: "cosine" }) };
    [
        flag("linear_scaling", "linear_scaling", false),
        trick("warmup", "Learning-rate warmup", Positive { fields: &["warmup_steps", "warmup_epochs"] }),
        flag("zero_gamma", "last_gamma", false),
        flag("no_bias_decay", "no_wd", false),
        COSINE,
        trick("label_smoothing", "Label smoothing", Positive { fields: &["label_smoothing"] }),
        trick("mixup", "Mixup", Positive { fields: &["mixup_alpha"] }),
        trick("distillation", "Knowledge distillation", Set { field: "teacher" }),
        flag("resnet_c", "resnet_c", true),
        flag("resnet_d", "resnet_d", true),
    ]
};

impl Trick {
    /// Whether `config` has this trick on.
    pub fn is_on(&self, config: &TrainConfig) -> bool {
        let c = config_map(config);
        match self.rule {
            OnRule::Flag { field } => c[field] == Value::Bool(true),
            OnRule::Positive { fields } => {
                fields.iter().map(|f| &c[*f]).find(|v| !v.is_null()).and_then(Value::as_f64).is_some_and(|v| v > 0.0)
            }
            OnRule::Equals { field, value } => c[field] == value,
            OnRule::Set { field } => !c[field].is_null(),
        }
    }

    /// The fields it owns.
    pub fn fields(&self) -> impl Iterator<Item = &'static Field> + '_ {
        FIELDS.iter().filter(move |f| f.trick == Some(self.id))
    }

    fn to_json(self) -> Value {
        let mut v = serde_json::to_value(self).expect("a trick serializes");
        v["sets"] = Value::Object(self.sets.iter().map(|(k, val)| (k.to_string(), Value::from(*val))).collect());
        v
    }
}

/// `a == b` in a const fn.
const fn eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The field named `name`.
pub fn field(name: &str) -> Option<&'static Field> {
    FIELDS.iter().find(|f| f.name == name)
}

/// The trick with id `id`.
pub fn trick(id: &str) -> Option<&'static Trick> {
    TRICKS.iter().find(|t| t.id == id)
}

fn config_map(config: &TrainConfig) -> Map<String, Value> {
    match serde_json::to_value(config).expect("a config always serializes") {
        Value::Object(map) => map,
        _ => unreachable!("a struct serializes to a JSON object"),
    }
}

/// `{fields: [...], tricks: [...]}` as JSON, each field with its default (`TrainConfig::default()`).
pub fn table_json() -> String {
    let defaults = config_map(&TrainConfig::default());
    let fields: Vec<Value> = FIELDS.iter().map(|f| f.to_json(&defaults)).collect();
    let tricks: Vec<Value> = TRICKS.iter().map(|t| t.to_json()).collect();
    json!({ "fields": fields, "tricks": tricks }).to_string()
}
