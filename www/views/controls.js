// The settings form: the general controls (dataset, model, epochs, batch size, rate, schedule,
// seed, ...), one labelled toggle per trick and per model tweak with its parameters, explanation
// and formula. It only turns the form into a config and back; the app decides what a change
// means. The dataset and model menus come from the Rust core's catalog (`setCatalog`), and the
// form stays disabled until the app has a state to edit (`listen`).

import { TRICKS, TWEAKS } from '../tricks.js';

const GENERAL = [
  { field: 'dataset', label: 'Dataset', kind: 'select', catalog: 'datasets' },
  { field: 'model', label: 'Model', kind: 'select', catalog: 'models' },
  { field: 'width_mult', label: 'Width multiplier', kind: 'number', min: 0.125, max: 4, step: 'any' },
  { field: 'epochs', label: 'Epochs', kind: 'number', min: 1, step: 1 },
  { field: 'batch_size', label: 'Batch size', kind: 'number', min: 1, step: 1 },
  { field: 'base_lr', label: 'Base learning rate η₀', kind: 'number', min: 0, step: 'any' },
  // Cosine decay is a trick below; while it is on, this choice waits for it to be turned off.
  { field: 'lr_mode', label: 'Schedule', kind: 'select', options: [['step', 'Step decay'], ['constant', 'Constant rate']] },
  { field: 'lr_decay_epochs', label: 'Step decay at epochs', kind: 'list' },
  { field: 'lr_decay', label: 'Step decay factor', kind: 'number', min: 0, max: 1, step: 'any' },
  { field: 'momentum', label: 'Momentum', kind: 'number', min: 0, max: 0.999, step: 'any' },
  { field: 'weight_decay', label: 'Weight decay λ', kind: 'number', min: 0, step: 'any' },
  { field: 'seed', label: 'Seed', kind: 'number', min: 0, step: 1 },
  { field: 'nesterov', label: 'Nesterov momentum', kind: 'bool' },
  { field: 'augmentation', label: 'Crop-and-flip augmentation (CIFAR-10)', kind: 'bool' },
];

const PAGE = [
  { field: 'train_limit', label: 'Training images (0 = all)', kind: 'number', min: 0, step: 1 },
  { field: 'test_limit', label: 'Test images (0 = all)', kind: 'number', min: 0, step: 1 },
];

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v !== undefined && v !== null) node.setAttribute(k, v);
  }
  node.append(...children);
  return node;
}

const options = (pairs) => pairs.map(([value, text]) => el('option', { value }, text));

function input(spec, id) {
  if (spec.kind === 'select') return el('select', { id }, ...options(spec.options ?? []));
  if (spec.kind === 'teacher') return el('select', { id });
  if (spec.kind === 'bool') return el('input', { id, type: 'checkbox' });
  if (spec.kind === 'list') return el('input', { id, type: 'text', inputmode: 'numeric', pattern: '[0-9, ]*' });
  const placeholder = spec.kind === 'count?' ? 'none' : undefined;
  return el('input', { id, type: 'number', min: spec.min, max: spec.max, step: spec.step ?? 'any', placeholder });
}

function labelled(spec, id, className = 'field') {
  const control = input(spec, id);
  const label = el('label', { for: id }, spec.label);
  return { row: spec.kind === 'bool' ? el('div', { class: `${className} check` }, control, label) : el('div', { class: className }, label, control), control };
}

function readInput(control, kind) {
  if (kind === 'bool') return control.checked;
  if (kind === 'select' || kind === 'teacher') return control.value;
  if (kind === 'list') return control.value.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (kind === 'count?' && control.value.trim() === '') return null;
  return control.value.trim() === '' ? NaN : Number(control.value);
}

function writeInput(control, kind, value) {
  if (kind === 'bool') control.checked = Boolean(value);
  else if (kind === 'list') control.value = (value ?? []).join(', ');
  // A menu keeps its choice when the value is not one of its options (lr_mode while cosine is on).
  else if (kind === 'select' && ![...control.options].some((o) => o.value === value)) return;
  else control.value = value ?? '';
}

export class ControlsView {
  constructor(generalRoot, tricksRoot, tweaksRoot) {
    this.general = new Map();
    this.page = new Map();
    this.toggles = new Map();
    this.params = new Map();
    // Parameters that have shown a value; the others show their usual one until first used.
    this.shown = new Set();
    this.locked = true;
    for (const spec of GENERAL) {
      const { row, control } = labelled(spec, `cfg-${spec.field}`);
      generalRoot.append(row);
      this.general.set(spec.field, { spec, control });
    }
    for (const spec of PAGE) {
      const { row, control } = labelled(spec, `page-${spec.field}`);
      generalRoot.append(row);
      this.page.set(spec.field, { spec, control });
    }
    for (const trick of TRICKS) tricksRoot.append(this.toggleRow(trick));
    for (const tweak of TWEAKS) tweaksRoot.append(this.toggleRow(tweak));
    this.roots = [generalRoot, tricksRoot, tweaksRoot];
    this.setLocked(true);
  }

  // Calls `onChange` on every edit from now on (the app calls it once it has a state to edit).
  listen(onChange) {
    for (const node of this.roots) {
      node.addEventListener('input', () => onChange());
      node.addEventListener('change', () => onChange());
    }
  }

  // The dataset and model menus: `{models: [{name, label}], datasets: [{name, label}]}`.
  setCatalog(catalog) {
    for (const { spec, control } of this.general.values()) {
      if (spec.catalog) control.replaceChildren(...options(catalog[spec.catalog].map((r) => [r.name, r.label])));
    }
  }

  toggleRow(trick) {
    const id = `trick-${trick.id}`;
    const toggle = el('input', { id, type: 'checkbox', 'aria-describedby': `${id}-about` });
    const head = el('div', { class: 'trick-head' }, toggle, el('label', { for: id }, trick.title));
    const params = el('div', { class: 'trick-params' });
    for (const p of trick.params) {
      const spec = { kind: 'number', ...p };
      const { row, control } = labelled(spec, `param-${p.field}`, 'field small');
      params.append(row);
      this.params.set(p.field, { spec, control });
    }
    const about = el('p', { class: 'trick-about', id: `${id}-about` }, trick.text, ' ', el('code', {}, trick.formula));
    const row = el('div', { class: 'trick', 'data-trick': trick.id }, head, params, about);
    this.toggles.set(trick.id, { trick, toggle, row });
    toggle.addEventListener('change', () => this.syncDisabled());
    return row;
  }

  // The teacher choices: finished runs of the same dataset that kept their weights, and imported
  // weights, newest first.
  setTeachers(runs, dataset) {
    const { control } = this.params.get('teacher');
    const current = control.value;
    const teachers = runs.filter((r) => (r.status === 'finished' || r.status === 'imported') && r.config.dataset === dataset).reverse();
    const label = (r) => (r.final ? `${r.name} (test acc ${(100 * r.final.test_acc).toFixed(1)}%)` : `${r.name} (imported)`);
    control.replaceChildren(...teachers.map((r) => el('option', { value: r.id }, label(r))));
    if ([...control.options].some((o) => o.value === current)) control.value = current;
    const { toggle } = this.toggles.get('distillation');
    toggle.disabled = this.locked || control.options.length === 0;
    if (control.options.length === 0 && !this.locked) toggle.checked = false;
    this.syncDisabled();
  }

  // Shows a config and the page options. A toggle that is off keeps its parameters' last values
  // in the form (or their usual ones) for when it is turned on again.
  write(config, page) {
    for (const [field, { spec, control }] of this.general) writeInput(control, spec.kind, config[field]);
    for (const [field, { spec, control }] of this.page) writeInput(control, spec.kind, page[field]);
    for (const { trick, toggle } of this.toggles.values()) {
      const on = trick.isOn(config);
      toggle.checked = on;
      for (const p of trick.params) {
        const { spec, control } = this.params.get(p.field);
        const value = config[p.field];
        if (spec.kind === 'teacher') {
          if (value && ![...control.options].some((o) => o.value === value)) control.append(el('option', { value }, value));
          if (value) control.value = value;
        } else if (on || !this.shown.has(p.field)) {
          writeInput(control, spec.kind, on || p.usual === undefined ? value : p.usual);
        }
        this.shown.add(p.field);
      }
    }
    this.syncDisabled();
  }

  // The config the form shows, on top of `base` (which supplies the fields without a control).
  // Every field a toggle owns takes its `defaults` value while the toggle is off (unless it is
  // also a general setting), so the run's config shows only what is on.
  read(base, defaults) {
    const config = { ...base };
    const page = {};
    for (const [field, { spec, control }] of this.general) config[field] = readInput(control, spec.kind);
    for (const [field, { spec, control }] of this.page) page[field] = readInput(control, spec.kind);
    for (const { trick, toggle } of this.toggles.values()) {
      if (toggle.checked) {
        Object.assign(config, trick.on);
        for (const p of trick.params) config[p.field] = readInput(this.params.get(p.field).control, this.params.get(p.field).spec.kind);
      } else {
        for (const field of trick.owns) if (!this.general.has(field)) config[field] = defaults[field];
      }
    }
    if (config.teacher === '') config.teacher = null;
    return { config, page };
  }

  syncDisabled() {
    const ownedByOn = new Set();
    for (const { trick, toggle, row } of this.toggles.values()) {
      row.classList.toggle('on', toggle.checked);
      if (toggle.checked) trick.owns.forEach((f) => ownedByOn.add(f));
      for (const p of trick.params) this.params.get(p.field).control.disabled = this.locked || !toggle.checked;
    }
    // A general setting that an active trick overrides (the schedule, under cosine decay).
    for (const [field, { control }] of this.general) control.disabled = this.locked || ownedByOn.has(field);
  }

  // Nothing can change while a run trains or before the page has its state.
  setLocked(locked) {
    this.locked = locked;
    for (const { control } of this.page.values()) control.disabled = locked;
    for (const { toggle } of this.toggles.values()) toggle.disabled = locked;
    if (!locked) this.toggles.get('distillation').toggle.disabled = this.params.get('teacher').control.options.length === 0;
    this.syncDisabled();
  }
}
