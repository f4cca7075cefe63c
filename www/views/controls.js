// The settings form: the general controls (dataset, model, epochs, batch size, rate, schedule,
// seed, ...), one labelled toggle per trick and per model tweak with its parameters, explanation
// and formula. Every config control, its label, limits and menu come from the core's field table
// (fields.js, tricks.js). It only turns the form into a config and back; the app decides what a
// change means. The form stays disabled until the app has a state to edit (`listen`).

import { el } from '../dom.js';
import { FIELDS } from '../fields.js';
import { TRICKS, TWEAKS } from '../tricks.js';

// The settings most runs change show first; the rest sit behind "More settings".
const COMMON = new Set(['dataset', 'model', 'epochs', 'batch_size', 'base_lr', 'lr_mode', 'seed']);

// Page-level options, not TrainConfig fields.
const PAGE = [
  { name: 'train_limit', label: 'Training images (0 = all)', kind: 'count', min: 0, step: 1 },
  { name: 'test_limit', label: 'Test images (0 = all)', kind: 'count', min: 0, step: 1 },
];

const options = (rows) => rows.map(({ name, label }) => el('option', { value: name }, label));

function input(spec, id) {
  if (spec.kind === 'choice') return el('select', { id }, ...options(spec.options));
  if (spec.kind === 'teacher') return el('select', { id });
  if (spec.kind === 'bool') return el('input', { id, type: 'checkbox' });
  if (spec.kind === 'counts') return el('input', { id, type: 'text', inputmode: 'numeric', pattern: '[0-9, ]*' });
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
  if (kind === 'choice' || kind === 'teacher') return control.value;
  if (kind === 'counts') return control.value.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (kind === 'count?' && control.value.trim() === '') return null;
  return control.value.trim() === '' ? NaN : Number(control.value);
}

function writeInput(control, kind, value) {
  if (kind === 'bool') control.checked = Boolean(value);
  else if (kind === 'counts') control.value = (value ?? []).join(', ');
  // A menu keeps its choice when the value is not one of its options (lr_mode while cosine is on).
  else if (kind === 'choice' && ![...control.options].some((o) => o.value === value)) return;
  else control.value = value ?? '';
}

// A teacher menu shows `value` even when it is not (yet) one of its runs.
function writeTeacher(control, value) {
  if (value && ![...control.options].some((o) => o.value === value)) control.append(el('option', { value }, value));
  if (value) control.value = value;
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
    const more = el('div', { class: 'grid' });
    this.addRows(generalRoot, FIELDS.general().filter((f) => COMMON.has(f.name)), 'cfg', this.general);
    this.addRows(more, FIELDS.general().filter((f) => !COMMON.has(f.name)), 'cfg', this.general);
    this.addRows(more, PAGE, 'page', this.page);
    generalRoot.after(el('details', { class: 'more' }, el('summary', {}, 'More settings: width, step decay, momentum, weight decay, augmentation, image limits'), more));
    for (const trick of TRICKS) tricksRoot.append(this.toggleRow(trick));
    for (const tweak of TWEAKS) tweaksRoot.append(this.toggleRow(tweak));
    this.roots = [generalRoot, more, tricksRoot, tweaksRoot];
    this.setLocked(true);
  }

  addRows(root, specs, prefix, into) {
    for (const spec of specs) {
      const { row, control } = labelled(spec, `${prefix}-${spec.name}`);
      root.append(row);
      into.set(spec.name, { spec, control });
    }
  }

  // Calls `onChange` on every edit from now on (the app calls it once it has a state to edit).
  listen(onChange) {
    for (const node of this.roots) {
      node.addEventListener('input', () => onChange());
      node.addEventListener('change', () => onChange());
    }
  }

  toggleRow(trick) {
    const id = `trick-${trick.id}`;
    const toggle = el('input', { id, type: 'checkbox', 'aria-describedby': `${id}-about` });
    const head = el('div', { class: 'trick-head' }, toggle, el('label', { for: id }, trick.title));
    const params = el('div', { class: 'trick-params' });
    for (const spec of trick.params) {
      const { row, control } = labelled(spec, `param-${spec.name}`, 'field small');
      params.append(row);
      this.params.set(spec.name, { spec, control });
    }
    // The explanation and formula, one click away; open while the trick is on.
    const about = el('details', { class: 'trick-about', id: `${id}-about` },
      el('summary', {}, 'What it does, and its formula'), el('p', {}, trick.text), el('code', {}, trick.formula));
    const row = el('div', { class: 'trick', 'data-trick': trick.id }, head, params, about);
    this.toggles.set(trick.id, { trick, toggle, row, about });
    toggle.addEventListener('change', () => {
      about.open = toggle.checked;
      this.syncDisabled();
    });
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
      for (const { name, kind, usual } of trick.params) {
        const { control } = this.params.get(name);
        if (kind === 'teacher') writeTeacher(control, config[name]);
        else if (on || !this.shown.has(name)) writeInput(control, kind, on || usual === null ? config[name] : usual);
        this.shown.add(name);
      }
    }
    this.syncDisabled();
  }

  // The config the form shows, on top of `base` (which supplies the fields without a control).
  // A toggle that is off sets its own field false and its parameters to their `defaults` value,
  // so the run's config shows only what is on.
  read(base, defaults) {
    const config = { ...base };
    const page = {};
    for (const [field, { spec, control }] of this.general) config[field] = readInput(control, spec.kind);
    for (const [field, { spec, control }] of this.page) page[field] = readInput(control, spec.kind);
    for (const { trick, toggle } of this.toggles.values()) {
      FIELDS.apply(trick, toggle.checked, config, defaults);
      if (!toggle.checked) continue;
      for (const { name, kind } of trick.params) config[name] = readInput(this.params.get(name).control, kind);
    }
    if (config.teacher === '') config.teacher = null;
    return { config, page };
  }

  syncDisabled() {
    const ownedByOn = new Set();
    for (const { trick, toggle, row } of this.toggles.values()) {
      row.classList.toggle('on', toggle.checked);
      if (toggle.checked) trick.owns.forEach((f) => ownedByOn.add(f));
      for (const p of trick.params) this.params.get(p.name).control.disabled = this.locked || !toggle.checked;
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
