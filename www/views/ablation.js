// The ablation table: final test accuracy of every finished run, and its change against the
// baseline run (when one is chosen), with the tricks and model tweaks each run turned on (by the
// core's rules, fields.js). Stopped and diverged runs stay in the history but are not compared here.

import { el } from '../dom.js';
import { FIELDS } from '../fields.js';

const pct = (x) => `${(100 * x).toFixed(2)}%`;

// The tricks and tweaks a config turns on, by title.
export const tricksOn = (config) => FIELDS.titlesOn(config);

export class AblationView {
  constructor(root) {
    this.body = root.querySelector('tbody');
  }

  render(runs, baselineRun) {
    this.body.replaceChildren(...runs.filter((r) => r.status === 'finished').map((run) => {
      const delta = baselineRun ? run.final.test_acc - baselineRun.final.test_acc : null;
      const cells = [
        run.name,
        `${run.config.model}, ${run.config.epochs} ep, batch ${run.config.batch_size}`,
        tricksOn(run.config).join(', ') || 'none',
        pct(run.final.test_acc),
        delta === null || run === baselineRun ? '–' : `${delta >= 0 ? '+' : ''}${(100 * delta).toFixed(2)}`,
      ];
      return el('tr', {}, ...cells.map((text) => el('td', {}, text)));
    }));
  }
}
