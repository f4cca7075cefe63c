// The ablation table: final test accuracy of every run, and its change against the baseline run
// (when one is chosen), with the tricks each run turned on.

import { TRICKS } from '../tricks.js';

const pct = (x) => `${(100 * x).toFixed(2)}%`;

// The tricks a config turns on, by title.
export function tricksOn(config) {
  return TRICKS.filter((t) => config[t.toggle.field] !== t.toggle.off).map((t) => t.title);
}

export class AblationView {
  constructor(root) {
    this.body = root.querySelector('tbody');
  }

  render(runs, baselineRun) {
    this.body.replaceChildren(...runs.map((run) => {
      const tr = document.createElement('tr');
      const delta = baselineRun ? run.final.test_acc - baselineRun.final.test_acc : null;
      const cells = [
        run.name,
        `${run.config.model}, ${run.config.epochs} ep, batch ${run.config.batch_size}`,
        tricksOn(run.config).join(', ') || 'none',
        pct(run.final.test_acc),
        delta === null || run === baselineRun ? '–' : `${delta >= 0 ? '+' : ''}${(100 * delta).toFixed(2)}`,
      ];
      for (const text of cells) {
        const td = document.createElement('td');
        td.textContent = text;
        tr.append(td);
      }
      return tr;
    }));
  }
}
