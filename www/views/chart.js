// A line chart on uPlot (served from the site's pkg/uplot, no CDN): one x axis, any number of
// named series, redrawn with `set`. The plot is rebuilt only when the set of series changes.

import uPlot from '../pkg/uplot/uPlot.esm.js';

const PALETTE = ['#1f6feb', '#d1242f', '#1a7f37', '#9a6700', '#8250df', '#bf3989', '#0a7b83', '#57606a'];

export class LineChart {
  constructor(root, { title, x, y, height = 220, yRange, integerX = false }) {
    this.root = root;
    this.options = { title, x, y, height, yRange, integerX };
    this.plot = null;
    this.key = '';
    new ResizeObserver(() => this.plot?.setSize({ width: this.width(), height })).observe(root);
  }

  width() {
    return Math.max(240, this.root.clientWidth);
  }

  // `xs`: the x values; `series`: [{label, values (same length as xs, null for gaps), dash?, color?}].
  set(xs, series) {
    const key = series.map((s) => `${s.label}|${s.dash ? 1 : 0}|${s.color ?? ''}`).join(';');
    const data = [xs, ...series.map((s) => s.values)];
    this.root.classList.toggle('no-data', xs.length === 0);
    if (this.plot && key === this.key) {
      this.plot.setData(data);
      return;
    }
    this.plot?.destroy();
    this.key = key;
    const { title, x, y, height, yRange, integerX } = this.options;
    this.plot = new uPlot({
      title,
      width: this.width(),
      height,
      scales: { x: { time: false }, y: yRange ? { range: yRange } : {} },
      axes: [integerX ? { label: x, incrs: [1, 2, 5, 10, 20, 50, 100] } : { label: x }, { label: y, size: 60 }],
      legend: { live: false },
      cursor: { drag: { x: false, y: false } },
      series: [
        { label: x },
        ...series.map((s, i) => ({
          label: s.label,
          stroke: s.color ?? PALETTE[i % PALETTE.length],
          width: s.width ?? 1.5,
          dash: s.dash ? [6, 4] : undefined,
          spanGaps: true,
          points: { show: s.points ?? false },
        })),
      ],
    }, data, this.root);
  }
}

export { PALETTE };
