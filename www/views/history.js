// The run history: every run (finished, stopped or diverged, or weights imported from a file) with
// how it ended, its config's differences from the baseline (the dataset's defaults, every trick
// off but linear scaling, or a finished run picked as baseline), a box to overlay its curves, its
// exports (curves as CSV and JSON, weights as safetensors) and a delete button.

import { describeDifferences } from '../state.js';

const pct = (x) => `${(100 * x).toFixed(2)}%`;

function cell(...children) {
  const td = document.createElement('td');
  td.append(...children);
  return td;
}

function control(type, name, label, checked) {
  const box = document.createElement('input');
  box.type = type;
  box.name = name;
  box.checked = checked;
  box.setAttribute('aria-label', label);
  return box;
}

const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;

// How a run ended, in words.
export function outcome(run) {
  const done = `${run.epochs.length} of ${plural(run.config.epochs, 'epoch')}`;
  const text = {
    finished: `finished, ${plural(run.config.epochs, 'epoch')}`,
    stopped: `stopped after ${done}`,
    diverged: `diverged at step ${run.divergedAt ?? '?'} (after ${done})`,
    imported: `imported from ${run.imported?.file ?? 'a file'} (not trained here)`,
  }[run.status] ?? run.status;
  return run.unsaved ? `${text}; not saved, kept until this tab closes` : text;
}

export class HistoryView {
  // handlers: {onSelect(id, on), onBaseline(id | null), onDelete(id), onExport(id, 'csv' | 'json' | 'weights')}
  constructor(root, handlers) {
    this.body = root.querySelector('tbody');
    this.empty = root.querySelector('.empty');
    this.handlers = handlers;
  }

  // runs: oldest first; selected: Set of ids; baselineConfig(run) gives the config to diff against.
  render(runs, selected, baselineId, baselineConfig) {
    this.empty.hidden = runs.length > 0;
    const defaultsRow = document.createElement('tr');
    const none = control('radio', 'baseline', 'Use the defaults as baseline', baselineId === null);
    none.addEventListener('change', () => this.handlers.onBaseline(null));
    defaultsRow.append(cell(), cell(none), cell('Defaults'), cell(), cell('every trick off but linear scaling (η = η₀ · b / 256)'), cell('–'), cell(), cell());
    const names = new Map(runs.map((r) => [r.id, r.name]));
    const rows = runs.map((run) => {
      const tr = document.createElement('tr');
      tr.dataset.run = run.id;
      tr.dataset.status = run.status;
      const compare = control('checkbox', 'compare', `Compare ${run.name}`, selected.has(run.id));
      compare.addEventListener('change', () => this.handlers.onSelect(run.id, compare.checked));
      // Only a finished run's final accuracy is a fair baseline.
      const baseline = control('radio', 'baseline', `Use ${run.name} as baseline`, baselineId === run.id);
      baseline.disabled = run.status !== 'finished';
      baseline.addEventListener('change', () => this.handlers.onBaseline(run.id));
      const del = document.createElement('button');
      del.type = 'button';
      del.textContent = 'Delete';
      del.setAttribute('aria-label', `Delete ${run.name}`);
      del.addEventListener('click', () => this.handlers.onDelete(run.id));
      const diff = run.id === baselineId ? 'baseline'
        : describeDifferences(run.config, baselineConfig(run)).replace(/teacher=([\w-]+)/, (m, id) => `teacher=${names.get(id) ?? id}`);
      const last = run.epochs[run.epochs.length - 1];
      const exports = cell(...this.exportButtons(run));
      exports.className = 'export';
      tr.append(cell(compare), cell(baseline), cell(run.name), cell(outcome(run)), cell(diff), cell(last ? pct(last.test_acc) : '–'), exports, cell(del));
      return tr;
    });
    this.body.replaceChildren(defaultsRow, ...rows);
  }

  // Curves as CSV and JSON, and the weights of a run that kept them (finished or imported).
  exportButtons(run) {
    const kinds = [['csv', 'CSV', 'its curves as CSV'], ['json', 'JSON', 'its curves and config as JSON']];
    if (run.status === 'finished' || run.status === 'imported') kinds.push(['weights', 'Weights', 'its trained weights (.safetensors, loads in PyTorch)']);
    return kinds.map(([kind, text, what]) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = text;
      b.dataset.export = kind;
      b.setAttribute('aria-label', `Export ${run.name}: ${what}`);
      b.addEventListener('click', () => this.handlers.onExport(run.id, kind));
      return b;
    });
  }
}
