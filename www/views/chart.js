// A line chart on uPlot (served from the site's pkg/uplot, no CDN): one x axis, any number of
// named series, redrawn with `set`, and optional vertical marks (a dashed line with a label at an
// x, such as the optimum of a histogram). The plot is rebuilt only when the set of series changes.

import uPlot from '../pkg/uplot/uPlot.esm.js';

const PALETTE = ['#1f6feb', '#d1242f', '#1a7f37', '#9a6700', '#8250df', '#bf3989', '#0a7b83', '#57606a'];

// Dashed vertical lines with labels at the marks' x values, drawn over plot `u`.
function drawMarks(u, marks) {
  const { ctx } = u;
  ctx.save();
  ctx.strokeStyle = '#57606a';
  ctx.fillStyle = '#57606a';
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

export class LineChart {
  constructor(root, { title, x, y, height = 220, yRange, xRange, integerX = false, stepped = false }) {
    this.root = root;
    this.options = { title, x, y, height, yRange, xRange, integerX, stepped };
    this.marks = [];
    this.plot = null;
    this.key = '';
    new ResizeObserver(() => this.plot?.setSize({ width: this.width(), height })).observe(root);
  }

  width() {
    return Math.max(240, this.root.clientWidth);
  }

  // `xs`: the x values; `series`: [{label, values (same length as xs, null for gaps), dash?, color?}];
  // `marks`: [{x, label}] drawn as dashed vertical lines.
  set(xs, series, marks = []) {
    this.marks = marks;
    const key = series.map((s) => `${s.label}|${s.dash ? 1 : 0}|${s.color ?? ''}`).join(';');
    const data = [xs, ...series.map((s) => s.values)];
    this.root.classList.toggle('no-data', xs.length === 0);
    if (this.plot && key === this.key) {
      this.plot.setData(data); // redraws, marks included (the draw hook)
      return;
    }
    this.plot?.destroy();
    this.key = key;
    const { title, x, y, height, yRange, xRange, integerX, stepped } = this.options;
    this.plot = new uPlot({
      title,
      width: this.width(),
      height,
      scales: { x: xRange ? { time: false, range: xRange } : { time: false }, y: yRange ? { range: yRange } : {} },
      hooks: { draw: [(u) => drawMarks(u, this.marks)] },
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
          paths: stepped ? uPlot.paths.stepped({ align: 1 }) : undefined,
          points: { show: s.points ?? false },
        })),
      ],
    }, data, this.root);
  }
}

export { PALETTE };
