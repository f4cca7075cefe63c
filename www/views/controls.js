// The settings form: the general controls (dataset, model, epochs, batch size, rate, seed, ...) and
// one labelled toggle per trick with its parameters, explanation and formula. It only turns the
// form into a config and back; the app decides what a change means.

import { TRICKS } from '../tricks.js';

const GENERAL = [
  { field: 'dataset', label: 'Dataset', kind: 'select', options: [['mnist', 'MNIST'], ['cifar10', 'CIFAR-10']] },
  {
    field: 'model', label: 'Model', kind: 'select',
    options: [['mnist_resnet', 'MNIST ResNet'], ['resnet20', 'ResNet-20'], ['resnet32', 'ResNet-32'], ['resnet56', 'ResNet-56'], ['mobilenetv2', 'MobileNetV2']],
  },
  { field: 'width_mult', label: 'Width multiplier (MNIST ResNet, MobileNetV2)', kind: 'number', min: 0.125, max: 4, step: 'any' },
  { field: 'epochs', label: 'Epochs', kind: 'number', min: 1, step: 1 },
  { field: 'batch_size', label: 'Batch size', kind: 'number', min: 1, step: 1 },
  { field: 'base_lr', label: 'Base learning rate η₀', kind: 'number', min: 0, step: 'any' },
  { field: 'lr_decay_epochs', label: 'Step decay at epochs (×0.1)', kind: 'list' },
  { field: 'weight_decay', label: 'Weight decay λ', kind: 'number', min: 0, step: 'any' },
  { field: 'augmentation', label: 'Crop-and-flip augmentation (CIFAR-10)', kind: 'bool' },
  { field: 'seed', label: 'Seed', kind: 'number', min: 0, step: 1 },
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

function input(spec, id) {
  if (spec.kind === 'select') {
    return el('select', { id }, ...spec.options.map(([value, text]) => el('option', { value }, text)));
  }
  if (spec.kind === 'teacher') return el('select', { id });
  if (spec.kind === 'bool') return el('input', { id, type: 'checkbox' });
  if (spec.kind === 'list') return el('input', { id, type: 'text', inputmode: 'numeric', pattern: '[0-9, ]*' });
  return el('input', { id, type: 'number', min: spec.min, max: spec.max, step: spec.step ?? 'any' });
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
  return control.value.trim() === '' ? NaN : Number(control.value);
}

function writeInput(control, kind, value) {
  if (kind === 'bool') control.checked = Boolean(value);
  else if (kind === 'list') control.value = (value ?? []).join(', ');
  else control.value = value ?? '';
}

export class ControlsView {
  constructor(generalRoot, tricksRoot, onChange) {
    this.general = new Map();
    this.page = new Map();
    this.tricks = new Map();
    this.params = new Map();
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
    for (const trick of TRICKS) tricksRoot.append(this.trickRow(trick));
    for (const node of [generalRoot, tricksRoot]) {
      node.addEventListener('input', () => onChange());
      node.addEventListener('change', () => onChange());
    }
  }

  trickRow(trick) {
    const id = `trick-${trick.id}`;
    const toggle = el('input', { id, type: 'checkbox', 'aria-describedby': `${id}-about` });
    const head = el('div', { class: 'trick-head' }, toggle, el('label', { for: id }, trick.title));
    const params = el('div', { class: 'trick-params' });
    for (const p of trick.params) {
      const { row, control } = labelled({ kind: p.kind ?? 'number', ...p }, `param-${p.field}`, 'field small');
      params.append(row);
      this.params.set(p.field, { spec: { kind: p.kind ?? 'number', ...p }, control });
    }
    const about = el('p', { class: 'trick-about', id: `${id}-about` }, trick.text, ' ', el('code', {}, trick.formula));
    const row = el('div', { class: 'trick', 'data-trick': trick.id }, head, params, about);
    this.tricks.set(trick.id, { trick, toggle, row });
    toggle.addEventListener('change', () => this.syncDisabled());
    return row;
  }

  // The teacher choices: finished runs of the same dataset, newest first.
  setTeachers(runs, dataset) {
    const { control } = this.params.get('teacher');
    const current = control.value;
    control.replaceChildren(...runs.filter((r) => r.config.dataset === dataset).map((r) => el('option', { value: r.id }, `${r.name} (test acc ${(100 * r.final.test_acc).toFixed(1)}%)`)));
    if ([...control.options].some((o) => o.value === current)) control.value = current;
    const toggle = this.tricks.get('distillation').toggle;
    toggle.disabled = this.locked || control.options.length === 0;
    if (toggle.disabled && !this.locked) toggle.checked = false;
    this.syncDisabled();
  }

  // Shows a config and the page options. A trick that is off keeps its parameters' last values
  // in the form (or the usual ones) for when it is turned on again.
  write(config, page) {
    for (const [field, { spec, control }] of this.general) writeInput(control, spec.kind, config[field]);
    for (const [field, { spec, control }] of this.page) writeInput(control, spec.kind, page[field]);
    for (const { trick, toggle } of this.tricks.values()) {
      const { field, on, off } = trick.toggle;
      toggle.checked = config[field] !== off && config[field] !== undefined;
      for (const p of trick.params) {
        const { spec, control } = this.params.get(p.field);
        const value = config[p.field];
        if (spec.kind === 'teacher') {
          if (value && ![...control.options].some((o) => o.value === value)) control.append(el('option', { value }, value));
          if (value) control.value = value;
        } else if (toggle.checked) {
          writeInput(control, spec.kind, value);
        } else if (control.value === '') {
          writeInput(control, spec.kind, p.field === field ? on : value);
        }
      }
    }
    this.syncDisabled();
  }

  // The config the form shows, on top of `base` (which supplies the fields without a control).
  // The parameters of a trick that is off take their `defaults`, so the run's config shows
  // only what changed.
  read(base, defaults) {
    const config = { ...base };
    const page = {};
    for (const [field, { spec, control }] of this.general) config[field] = readInput(control, spec.kind);
    for (const [field, { spec, control }] of this.page) page[field] = readInput(control, spec.kind);
    for (const { trick, toggle } of this.tricks.values()) {
      const { field, on, off } = trick.toggle;
      for (const p of trick.params) {
        const { spec, control } = this.params.get(p.field);
        config[p.field] = toggle.checked ? readInput(control, spec.kind) : defaults[p.field];
      }
      if (!toggle.checked) config[field] = off;
      else if (!trick.params.some((p) => p.field === field)) config[field] = on;
    }
    if (config.teacher === '') config.teacher = null;
    return { config, page };
  }

  syncDisabled() {
    for (const { trick, toggle, row } of this.tricks.values()) {
      row.classList.toggle('on', toggle.checked);
      for (const p of trick.params) this.params.get(p.field).control.disabled = this.locked || !toggle.checked;
    }
  }

  // Structural settings cannot change while a run trains.
  setLocked(locked) {
    this.locked = locked;
    for (const { control } of [...this.general.values(), ...this.page.values()]) control.disabled = locked;
    for (const { toggle } of this.tricks.values()) toggle.disabled = locked;
    if (!locked) this.tricks.get('distillation').toggle.disabled = this.params.get('teacher').control.options.length === 0;
    this.syncDisabled();
  }

  // Ids of every trick toggle with its label text (for tests and the ablation view).
  trickLabels() {
    return [...this.tricks.values()].map(({ trick }) => trick.title);
  }
}
