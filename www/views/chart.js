// A line chart on uPlot (served from the site's pkg/uplot, no CDN): one x axis, any number of
// named series, given with `set`, and optional vertical marks (a dashed line with a label at an
// x, such as the optimum of a histogram). `set` keeps the latest data (`data`, at once) and draws
// it at most once per animation frame; the plot is rebuilt only when the set of series or the
// colour scheme changes. Colours come from the page's CSS variables (theme.js). A chart made with
// `singleAsBars` draws a single x value as bars (bars.js), not lone dots. Under every chart,
// "The numbers" (numbers.js) holds its data as a table; the canvas is an image with a label.

import uPlot from '../pkg/uplot/uPlot.esm.js';
import { el } from '../dom.js';
import { paintBars } from './bars.js';
import { NumbersView, plain } from './numbers.js';
import { chartTheme, isDark, onSchemeChange, resolveColor, seriesColor, seriesVar } from './theme.js';

export { seriesColor, seriesVar };
// The series colours as CSS colours (`var(--chart-N)`): for a style, or a series' `color`.
export const PALETTE = Array.from({ length: 8 }, (_, i) => seriesVar(i));

// A share as a percentage with one decimal: the accuracy charts' `format`.
export const percent = (v) => `${(100 * v).toFixed(1)}%`;

// Every chart on the page, by its root element, redrawn in the new colours when the scheme changes.
const charts = new WeakMap();
onSchemeChange(() => {
  for (const root of document.querySelectorAll('[data-chart]')) charts.get(root)?.restyle();
});

// Dashed vertical lines with labels at the marks' x values, drawn over plot `u` in `color`.
function drawMarks(u, marks, color) {
  const { ctx } = u;
  ctx.save();
  ctx.strokeStyle = color;
  ctx.fillStyle = color;
  ctx.setLineDash([4, 4]);
  ctx.font = `${12 * devicePixelRatio}px system-ui`;
  for (const m of marks) {
    const px = u.valToPos(m.x, 'x', true);
    ctx.beginPath();
    ctx.moveTo(px, u.bbox.top);
    ctx.lineTo(px, u.bbox.top + u.bbox.height);
    ctx.stroke();
    ctx.fillText(m.label, px + 4, u.bbox.top + 14 * devicePixelRatio);
  }
  ctx.restore();
}

const SERIES_KEY = (series) => series.map((s) => `${s.label}|${s.dash ? 1 : 0}|${s.color ?? ''}`).join(';');

export class LineChart {
  // format(v): a value as text, in the bars and the table (default: four significant digits).
  constructor(root, { title, x, y, height = 220, yRange, xRange, integerX = false, stepped = false, singleAsBars = false, format = plain }) {
    this.root = root;
    this.options = { title, x, y, height, yRange, xRange, integerX, stepped, singleAsBars, format };
    this.data = null; // the latest {xs, series, marks}, drawn or about to be
    this.mode = null; // 'lines' or 'bars', as last drawn
    this.plot = null;
    this.key = '';
    this.theme = null; // the colours of the last drawing
    this.frame = 0;
    this.box = el('div', { class: 'chart-plot' });
    this.numbers = new NumbersView({ title, x, format });
    root.replaceChildren(this.box, this.numbers.details);
    root.dataset.chart = '';
    charts.set(root, this);
    new ResizeObserver(() => this.resize()).observe(root);
  }

  width() {
    return Math.max(240, this.root.clientWidth);
  }

  // `xs`: the x values; `series`: [{label, values (same length as xs, null for gaps), dash?, color?
  // (a CSS colour, `var(--…)` included)}]; `marks`: [{x, label}] drawn as dashed vertical lines.
  // The first data is drawn at once, later data at the next animation frame.
  set(xs, series, marks = []) {
    this.data = { xs, series, marks };
    if (!this.mode) {
      this.draw();
    } else if (!this.frame) {
      this.frame = requestAnimationFrame(() => this.draw());
    }
  }

  // Draws the latest data now (a pending frame then has nothing left to do).
  draw() {
    if (this.frame) cancelAnimationFrame(this.frame);
    this.frame = 0;
    if (!this.data) return;
    const { xs, series } = this.data;
    this.root.classList.toggle('no-data', xs.length === 0);
    if (xs.length === 1 && this.options.singleAsBars) this.drawBars();
    else this.drawLines();
    this.numbers.update(this.data);
    this.canvas().setAttribute('role', 'img');
    this.canvas().setAttribute('aria-label', this.describe(xs, series));
  }

  // Rebuilds in the colours of the scheme now.
  restyle() {
    this.key = '';
    this.draw();
  }

  resize() {
    if (this.mode === 'lines') this.plot?.setSize({ width: this.width(), height: this.options.height });
    if (this.mode === 'bars') this.drawBars();
  }

  canvas() {
    return this.box.querySelector('canvas');
  }

  // What the canvas shows, in words (its aria-label).
  describe(xs, series) {
    const { title, x, y, format } = this.options;
    if (xs.length === 0) return `${title}: no data yet.`;
    if (this.mode === 'bars') {
      const values = series.map((s) => `${s.label} ${Number.isFinite(s.values[0]) ? format(s.values[0]) : 'none'}`).join(', ');
      return `${title}, ${x} ${plain(xs[0])}, as bars: ${values}.`;
    }
    return `${title}: ${y} against ${x} (${plain(xs[0])} to ${plain(xs[xs.length - 1])}) for ${series.map((s) => s.label).join(', ')}. The numbers are in the table below.`;
  }

  colorOf(s, i) {
    return resolveColor(s.color ?? seriesVar(i));
  }

  drawLines() {
    const { xs, series } = this.data;
    const data = [xs, ...series.map((s) => s.values)];
    const key = `${isDark()}#${SERIES_KEY(series)}`;
    if (this.mode === 'lines' && this.plot && key === this.key) {
      this.plot.setData(data); // redraws, marks included (the draw hook)
      return;
    }
    this.clear();
    this.mode = 'lines';
    this.key = key;
    this.theme = { ...chartTheme(), series: series.map((s, i) => this.colorOf(s, i)) };
    this.plot = new uPlot(this.plotOptions(series, this.theme), data, this.box);
  }

  plotOptions(series, theme) {
    const { title, x, y, height, yRange, xRange, integerX, stepped } = this.options;
    const axis = (label, extra) => ({
      label, stroke: theme.fg, grid: { stroke: theme.grid, width: 1 }, ticks: { stroke: theme.ticks, width: 1 }, ...extra,
    });
    return {
      title,
      width: this.width(),
      height,
      scales: { x: xRange ? { time: false, range: xRange } : { time: false }, y: yRange ? { range: yRange } : {} },
      hooks: { draw: [(u) => drawMarks(u, this.data.marks, theme.muted)] },
      axes: [axis(x, integerX ? { incrs: [1, 2, 5, 10, 20, 50, 100] } : {}), axis(y, { size: 60 })],
      legend: { live: false },
      cursor: { drag: { x: false, y: false } },
      series: [
        { label: x },
        ...series.map((s, i) => ({
          label: s.label,
          stroke: theme.series[i],
          width: s.width ?? 1.5,
          dash: s.dash ? [6, 4] : undefined,
          spanGaps: true,
          paths: stepped ? uPlot.paths.stepped({ align: 1 }) : undefined,
          points: { show: s.points ?? false, fill: theme.bg },
        })),
      ],
    };
  }

  // The single x value's series as bars, under the chart's title.
  drawBars() {
    const { xs, series } = this.data;
    const { title, x, yRange, format } = this.options;
    if (this.mode !== 'bars') {
      this.clear();
      this.mode = 'bars';
      this.box.replaceChildren(el('div', { class: 'chart-title' }, title), el('canvas', { class: 'chart-bars' }));
    }
    this.box.querySelector('.chart-title').textContent = `${title} (${x} ${plain(xs[0])})`;
    this.theme = { ...chartTheme(), series: series.map((s, i) => this.colorOf(s, i)) };
    const values = series.map((s) => s.values[0]);
    const bars = series.map((s, i) => ({ label: s.label, value: values[i], text: Number.isFinite(values[i]) ? format(values[i]) : 'none', color: this.theme.series[i], dash: s.dash }));
    const range = yRange ?? [Math.min(0, ...values.filter(Number.isFinite)), Math.max(0, ...values.filter(Number.isFinite))];
    paintBars(this.canvas(), this.width(), bars, range, this.theme);
  }

  clear() {
    this.plot?.destroy();
    this.plot = null;
    this.mode = null;
    this.box.replaceChildren();
  }
}
