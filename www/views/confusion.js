// The confusion matrix: rows are true classes, columns predicted ones, each cell shaded by its
// share of the row (the diagonal in --right, mistakes in --wrong: charts.css reads the shade from
// the cell's --share, so the colours follow the scheme). The counts come from the core. The table
// scrolls inside its own box on a narrow screen.

import { el } from '../dom.js';

// A cell's shade: its share of the row, mistakes four times as strong (they are rarer).
const shade = (share, right) => Math.min(1, right ? share : 4 * share).toFixed(3);

export class ConfusionView {
  constructor(root) {
    this.root = root;
  }

  // counts: classes × classes, row-major by true class.
  render(counts, classes, title = 'Confusion matrix on the test set (rows: true class, columns: predicted)') {
    const corner = el('th', { scope: 'col' }, el('span', { class: 'visually-hidden' }, 'true class'));
    const head = el('tr', {}, corner, ...Array.from({ length: classes }, (_, c) => el('th', { scope: 'col' }, String(c))));
    const rows = Array.from({ length: classes }, (_, t) => {
      const row = counts.slice(t * classes, (t + 1) * classes);
      const total = Math.max(1, row.reduce((a, b) => a + b, 0));
      return el('tr', {}, el('th', { scope: 'row' }, String(t)), ...row.map((n, p) => el('td', {
        class: p === t ? 'right' : 'wrong',
        style: `--share: ${shade(n / total, p === t)}`,
      }, String(n))));
    });
    const table = el('table', { class: 'confusion' }, el('caption', {}, title), el('thead', {}, head), el('tbody', {}, ...rows));
    this.root.replaceChildren(el('div', { class: 'confusion-box', tabindex: '0', role: 'group', 'aria-label': title }, table));
  }
}
