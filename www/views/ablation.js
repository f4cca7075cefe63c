// The ablation table: final test accuracy of every finished run, and its change against the
// baseline run (when one is chosen), with the tricks and model tweaks each run turned on. Stopped
// and diverged runs stay in the history but are not compared here.

import { TOGGLES } from '../tricks.js';

const pct = (x) => `${(100 * x).toFixed(2)}%`;

// The tricks and tweaks a config turns on, by title.
export function tricksOn(config) {
  return TOGGLES.filter((t) => t.isOn(config)).map((t) => t.title);
}

export class AblationView {
  constructor(root) {
    this.body = root.querySelector('tbody');
  }

  render(runs, baselineRun) {
    this.body.replaceChildren(...runs.filter((r) => r.status === 'finished').map((run) => {
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
