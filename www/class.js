// "Class results" (`#class=LESSON`, `&tiny=1` for the tiny version the tests run): a teacher
// pastes the result lines a class's runs of one lesson printed, or drops (or picks) the files its
// arms were exported to, and the core pools them (lessons::class, the same report `tricklab lesson
// pool` prints): how many runs it pooled and which lines it refused, each arm's mean ± sd, one dot
// per student for the paired difference, how many runs showed the effect, and a pooled verdict
// with its statistic in words. The numbers come from the core; this draws them.

import { $, el } from './dom.js';
import { Controller } from './state.js';

const SVG = 'http://www.w3.org/2000/svg';
const svg = (tag, attrs = {}, ...children) => {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  node.append(...children);
  return node;
};
const fmt = (v, digits = 3) => (v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits));
const signed = (v) => (v >= 0 ? `+${fmt(v)}` : fmt(v));

// The largest file read as a source: a class's result files are small.
const MAX_SOURCE_BYTES = 16 << 20;

export class ClassResults extends Controller {
  constructor(page) {
    super(page);
    this.root = $('#class-view');
    this.lessonId = null;
    this.tiny = false;
    // Dropped or picked files, kept until pooled again: [{name, text}].
    this.files = [];
  }

  // The route the page's router opens under `#class=LESSON`.
  route() {
    return {
      name: 'class',
      matches: (hash) => /^#class=/.test(hash),
      open: (hash) => this.open(hash),
      close: () => { this.root.hidden = true; },
      drop: (files) => this.addFiles(files),
    };
  }

  open(hash) {
    const params = new URLSearchParams(hash.slice(1));
    this.lessonId = params.get('class');
    this.tiny = params.get('tiny') === '1';
    const lesson = this.lesson();
    this.root.querySelector('.class-lesson').textContent = lesson
      ? `Lesson: ${lesson.title} (${this.lessonId}${this.tiny ? ', tiny version' : ''}). ${lesson.question}`
      : `Lesson: ${this.lessonId}${this.tiny ? ' (tiny version)' : ''}.`;
    this.root.querySelector('.back').href = lesson?.url ? `#lesson-url=${lesson.url}` : `#lesson=${encodeURIComponent(this.lessonId)}`;
    this.root.hidden = false;
    $('#class-lines').focus();
  }

  // The lesson named in the link: a built-in one, the site's or one opened here (they keep their file).
  lesson() {
    const { lessons } = this.page;
    return [...lessons.catalog, ...lessons.site, ...lessons.opened].find((l) => l.id === this.lessonId) ?? null;
  }

  async addFiles(files) {
    for (const file of files) {
      if (file.size > MAX_SOURCE_BYTES) {
        this.messages.show(`${file.name}: is ${file.size} bytes; a result file is at most 16 MiB.`);
        continue;
      }
      this.files = [...this.files.filter((f) => f.name !== file.name), { name: file.name, text: await file.text() }];
    }
    this.root.querySelector('.class-files-list').textContent = this.files.length
      ? `Files to pool: ${this.files.map((f) => f.name).join(', ')}.` : '';
    await this.pool();
  }

  // Pools the pasted lines and the files given so far.
  async pool() {
    const pasted = $('#class-lines').value;
    const sources = [...(pasted.trim() ? [{ name: 'pasted', text: pasted }] : []), ...this.files];
    const out = this.root.querySelector('.class-report');
    if (!sources.length) {
      out.replaceChildren(el('p', { class: 'error' }, 'Nothing to pool yet: paste result lines above, or drop or pick exported files.'));
      return;
    }
    const lesson = this.lesson();
    try {
      const report = await this.client.send('poolClass', { lesson: lesson?.file ?? this.lessonId, tiny: this.tiny, sources });
      out.replaceChildren(...reportView(report));
    } catch (e) {
      out.replaceChildren(el('p', { class: 'error' }, `These results cannot be pooled: ${e.message}`));
    }
  }

  wire() {
    this.page.routes.add(this.route());
    $('#class-pool').addEventListener('click', () => this.pool());
    $('#class-files').addEventListener('change', (e) => {
      this.addFiles([...e.target.files]);
      e.target.value = '';
    });
  }
}

// The report, as the view's parts.
function reportView(r) {
  const n = r.seeds.length;
  const parts = [el('p', { class: 'pooled-count' }, `Pooled ${n} run${n === 1 ? '' : 's'}${n ? ` (seeds ${r.seeds.join(', ')})` : ''} of definition ${r.def}.`)];
  if (r.refused.length) {
    parts.push(el('p', {}, `Refused ${r.refused.length} (the rest are pooled):`), el('ul', { class: 'refused' }, ...r.refused.map((m) => el('li', {}, m))));
  }
  if (!n) return [...parts, el('p', { class: 'verdict' }, r.verdict)];
  parts.push(armsTable(r), dotPlot(r));
  const p = r.pooled;
  parts.push(el('p', { class: 'showed-count' }, `${p.showed} of ${p.runs} runs showed the effect (a difference above ${fmt(r.margin)}); ${p.against} went the other way.`));
  parts.push(el('p', { class: `verdict ${p.finding}` }, el('strong', {}, 'Pooled verdict (computed from these runs): '), p.sentence));
  parts.push(el('p', { class: 'statistic muted' }, `Statistic: ${p.statistic}. Mean difference ${signed(p.mean)} (sd ${fmt(p.sd)}), 95% interval [${signed(p.interval[0])}, ${signed(p.interval[1])}]; `
    + `sign test: if the trick made no difference, a split at least this lopsided would happen with probability ${fmt(p.sign_p, 4)}.`));
  return parts;
}

// Each arm's mean ± sd of the measurement, and of the final test accuracy, over the pooled runs.
function armsTable(r) {
  const accMean = (a) => {
    const v = a.test_acc.filter((x) => x !== null);
    return v.length ? v.reduce((s, x) => s + x, 0) / v.length : null;
  };
  const rows = r.arms.map((a) => el('tr', { 'data-arm': a.arm },
    el('th', { scope: 'row' }, a.name),
    el('td', { class: 'mean-sd' }, `${fmt(a.mean)} ± ${fmt(a.std)}`),
    el('td', {}, `${fmt(accMean(a), 2)}%`),
    el('td', {}, a.diverged ? `${a.diverged}` : '0')));
  return el('table', { class: 'class-arms' },
    el('caption', {}, `Each arm over the ${r.seeds.length} runs: ${r.metric}, mean ± sd`),
    el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Arm'), el('th', { scope: 'col' }, `${r.metric}, mean ± sd`), el('th', { scope: 'col' }, 'Test accuracy, mean'), el('th', { scope: 'col' }, 'Diverged'))),
    el('tbody', {}, ...rows));
}

// One dot per run for its paired difference, the zero line, the rule's margin and the pooled
// 95% interval; the same numbers follow as a list (its text alternative).
function dotPlot(r) {
  const dots = r.seeds.map((seed, i) => ({ seed, d: r.differences[i] })).filter((x) => x.d !== null);
  const [lo, hi] = r.pooled ? r.pooled.interval : [0, 0];
  const values = [0, r.margin, lo, hi, ...dots.map((x) => x.d)];
  let min = Math.min(...values);
  let max = Math.max(...values);
  const pad = (max - min || 1) * 0.08;
  min -= pad;
  max += pad;
  const W = 600;
  const x = (v) => 20 + ((v - min) / (max - min)) * (W - 40);
  const plot = svg('svg', { viewBox: `0 0 ${W} 90`, role: 'img', 'aria-labelledby': 'class-dots-caption', class: 'dot-plot' });
  plot.append(svg('line', { x1: x(0), x2: x(0), y1: 5, y2: 70, class: 'zero' }));
  plot.append(svg('text', { x: x(0), y: 84, 'text-anchor': 'middle' }, '0'));
  if (r.pooled) {
    plot.append(svg('rect', { x: x(lo), y: 30, width: Math.max(1, x(hi) - x(lo)), height: 10, class: 'interval' }));
    // The interval's ends, labelled under it.
    plot.append(svg('text', { x: x(lo), y: 54, 'text-anchor': 'end' }, signed(lo)), svg('text', { x: x(hi), y: 54, 'text-anchor': 'start' }, signed(hi)));
  }
  dots.forEach(({ seed, d }, i) => {
    plot.append(svg('circle', { cx: x(d), cy: 18 + (i % 3) * 5, r: 4, class: d > r.margin ? 'dot showed' : 'dot', 'data-seed': seed }, svg('title', {}, `seed ${seed}: ${signed(d)}`)));
  });
  const caption = el('figcaption', { id: 'class-dots-caption' },
    `The difference in each run (${r.difference_is}): one dot per student; the bar is the pooled 95% interval of the mean, the line is zero.`);
  const list = el('p', { class: 'dot-values' }, `Differences by seed: ${r.seeds.map((s, i) => `seed ${s} ${r.differences[i] === null ? 'diverged' : signed(r.differences[i])}`).join('; ')}.`);
  return el('figure', { class: 'class-dots' }, caption, plot, list);
}
