// The core's table of config fields and tricks (src/train/fields.rs, written into fields-table.js
// from the core and checked against it by tests/fields.rs): each TrainConfig field's kind, limits,
// default, label and owning trick, and each trick's title and rule for "on". The URL parsing
// (state.js), the form (views/controls.js), the trick toggles (tricks.js) and the ablation table
// read it; it is there before the core (WebAssembly) loads, so the form is too.

import TABLE from './fields-table.js';

export class FieldTable {
  // `table`: {fields: [{name, kind, label, control, trick, min, max, min_open, max_open, step,
  // usual, options, default}], tricks: [{id, title, tweak, sets, rule}]}.
  constructor({ fields, tricks }) {
    this.fields = fields;
    this.tricks = tricks;
    this.byName = new Map(fields.map((f) => [f.name, f]));
  }

  field(name) {
    return this.byName.get(name);
  }

  // The general settings, in the form's order.
  general() {
    return this.fields.filter((f) => f.control === 'general');
  }

  // The fields a trick owns, and among them the parameters the visitor sets.
  owned(trick) {
    return this.fields.filter((f) => f.trick === trick.id);
  }

  params(trick) {
    return this.owned(trick).filter((f) => f.control === 'param');
  }

  // Whether `config` has `trick` on, by the core's rule.
  isOn(trick, config) {
    const { rule } = trick;
    switch (rule.kind) {
      case 'flag': return config[rule.field] === true;
      case 'positive': return (rule.fields.map((f) => config[f]).find((v) => v !== null && v !== undefined) ?? 0) > 0;
      case 'equals': return config[rule.field] === rule.value;
      case 'set': return config[rule.field] !== null && config[rule.field] !== undefined;
      default: throw new Error(`unknown trick rule ${rule.kind}`);
    }
  }

  // `config` with `trick` on (`on`) or off: on, it takes the trick's set values and its toggle;
  // off, its toggle is false and its parameters take `defaults` (a general setting it overrides
  // while on keeps the form's value).
  apply(trick, on, config, defaults) {
    for (const f of this.owned(trick)) {
      if (f.control === 'toggle') config[f.name] = on;
      else if (!on && f.control === 'param') config[f.name] = defaults[f.name];
    }
    if (on) Object.assign(config, trick.sets);
  }

  // The titles of the tricks and tweaks a config turns on.
  titlesOn(config) {
    return this.tricks.filter((t) => this.isOn(t, config)).map((t) => t.title);
  }
}

export const FIELDS = new FieldTable(TABLE);
