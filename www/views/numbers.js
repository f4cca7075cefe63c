// A chart's text alternative: "The numbers", a <details> under the chart holding its data as a
// table (x down the side, one column per series). A long curve is sampled to about 50 rows, and
// the caption says so. The table is built when it is opened, and rebuilt while open as the chart
// gets new data.

import { el } from '../dom.js';

const MAX_ROWS = 50;

// A number as the table writes it: four significant digits, a gap as a dash.
export const plain = (v) => (Number.isFinite(v) ? String(+v.toPrecision(4)) : '–');

// The rows to show of `n`: all of them, or every `step`-th and the last.
export function sampleRows(n, max = MAX_ROWS) {
  if (n <= max) return { rows: Array.from({ length: n }, (_, i) => i), step: 1 };
  const step = Math.ceil(n / max);
  const rows = [];
  for (let i = 0; i < n; i += step) rows.push(i);
  if (rows[rows.length - 1] !== n - 1) rows.push(n - 1);
  return { rows, step };
}

export class NumbersView {
  // title: the chart's; x: the x axis's name; format(v): a series value as text.
  constructor({ title, x, format = plain }) {
    this.options = { title, x, format };
    this.data = null;
    const summary = el('summary', {}, 'The numbers', el('span', { class: 'visually-hidden' }, ` of the chart "${title}"`));
    this.summary = summary;
    this.details = el('details', { class: 'chart-numbers' }, summary);
    this.details.addEventListener('toggle', () => this.render());
  }

  // The chart's data: {xs, series: [{label, values}], marks: [{x, label}]}.
  update(data) {
    this.data = data;
    this.render();
  }

  render() {
    if (!this.details.open || !this.data) return;
    const { xs, series, marks } = this.data;
    const parts = [this.summary, this.table(xs, series)];
    if (marks.length > 0) parts.push(el('p', {}, `Marked on the chart: ${marks.map((m) => m.label).join('; ')}.`));
    this.details.replaceChildren(...parts);
  }

  table(xs, series) {
    const { title, x, format } = this.options;
    const { rows, step } = sampleRows(xs.length);
    const note = step > 1 ? ` (every ${step}th of the ${xs.length} values of ${x}, and the last)` : '';
    const head = el('tr', {}, el('th', { scope: 'col' }, x), ...series.map((s) => el('th', { scope: 'col' }, s.label)));
    const body = rows.map((i) => el('tr', {},
      el('th', { scope: 'row' }, plain(xs[i])),
      ...series.map((s) => el('td', {}, Number.isFinite(s.values[i]) ? format(s.values[i]) : '–'))));
    return el('div', { class: 'numbers-box', tabindex: '0', role: 'group', 'aria-label': `The numbers of ${title}` },
      el('table', { class: 'numbers' }, el('caption', {}, `${title}${note}`), el('thead', {}, head), el('tbody', {}, ...body)));
  }
}
