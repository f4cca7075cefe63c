// One lesson on the page: its question, what to look for, the set-up and arms, the paper's
// full-scale result, and while it runs, the arms' curves overlaid and the lesson's own views,
// then the verdict the core computed from these runs. It only draws what it is given: the
// lesson (from the core's catalog), step events and records (from the worker).

import { LineChart, percent, seriesVar } from './chart.js';
import { ImageGrid, batchCaption, predictionCaption } from './images.js';
import { ConfusionView } from './confusion.js';
import { copyable, el, smooth } from '../dom.js';

const SMOOTHING = 0.8;
const colors = seriesVar;
// 1..n, the epochs of the longest record.
const epochAxis = (records) => Array.from({ length: Math.max(...records.map((r) => r.epochs.length)) }, (_, i) => i + 1);

// The optimum gap of label smoothing by the rule used here, the Keras tutorial's and GluonCV's (ε/K
// on every class): log(K(1 − ε)/ε + 1). The lesson's text also gives the paper's (ε/(K − 1) on the
// wrong classes), log((K − 1)(1 − ε)/ε).
const optimumGap = (eps, k = 10) => Math.log((1 - eps + eps / k) / (eps / k));

export class LessonView {
  constructor(root) {
    this.root = root;
  }

  // The lesson's text and, below, empty panels for its charts and views.
  show(lesson) {
    this.lesson = lesson;
    const arms = el('table', { class: 'arms' },
      el('thead', {}, el('tr', {}, el('th', {}, 'Arm'), el('th', {}, 'Batch'), el('th', {}, 'Epochs'), el('th', {}, 'Rate η'))),
      el('tbody', {}, ...lesson.arms.map((a, i) => el('tr', { 'data-arm': i },
        el('td', {}, el('span', { class: 'swatch', style: `background:${colors(i)}` }), ` ${a.name}`),
        el('td', {}, String(a.config.batch_size)),
        el('td', {}, String(a.config.epochs)),
        el('td', {}, String(+(a.config.linear_scaling ? a.config.base_lr * a.config.batch_size / a.config.base_batch_size : a.config.base_lr).toPrecision(3)))))));
    this.status = el('p', { class: 'lesson-status', role: 'status' }, 'Not run yet.');
    this.controls = el('div', { class: 'lesson-controls' });
    this.verdict = el('div', { class: 'verdict', 'aria-live': 'polite' });
    this.panels = {
      loss: el('div', { class: 'chart lesson-loss' }),
      accuracy: el('div', { class: 'chart lesson-accuracy' }),
      extra: el('div', { class: 'lesson-views' }),
      network: el('div', { class: 'lesson-network' }),
    };
    const paper = el('p', { class: 'paper' }, el('strong', {}, 'The paper, at full scale: '), `${lesson.paper.result} `, el('cite', {}, `(${lesson.paper.source})`));
    const noise = lesson.noise_note ? el('p', { class: 'noise' }, lesson.noise_note) : '';
    this.root.replaceChildren(
      el('h3', { class: 'lesson-title' }, lesson.title),
      el('p', { class: 'question' }, lesson.question),
      el('p', {}, el('strong', {}, 'Look for: '), lesson.look_for),
      el('p', { class: 'setup' }, el('strong', {}, 'Set-up: '), lesson.setup,
        ` ${lesson.training_images.toLocaleString('en')} training images in all; measured: ${lesson.metric_name}.`),
      arms, paper, noise, this.controls, this.status, this.verdict,
      this.panels.loss, this.panels.accuracy, this.panels.extra, this.panels.network,
    );
    const perImage = lesson.views.includes('loss_per_image');
    this.lossChart = new LineChart(this.panels.loss, { title: `Training loss per step, smoothed${perImage ? ' (x: images seen)' : ''}`, x: perImage ? 'images' : 'step', y: 'loss' });
    this.accChart = new LineChart(this.panels.accuracy, { title: 'Test accuracy per epoch', x: 'epoch', y: 'accuracy', yRange: [0, 1], integerX: true, singleAsBars: true, format: percent });
    this.perImage = perImage;
    this.losses = lesson.arms.map(() => []);
    this.epochs = lesson.arms.map(() => []);
    this.records = null;
    this.curvesFrame = 0;
  }

  // Appends a chunk of step events ({arm, step, loss, lr, epoch, finished}); the curves are
  // redrawn at the next animation frame, once however many chunks arrive before it.
  addEvents(events) {
    for (const e of events) {
      if (e.loss !== null) this.losses[e.arm].push([e.step, e.loss]);
      if (e.epoch) this.epochs[e.arm].push(e.epoch);
    }
    this.curvesFrame ||= requestAnimationFrame(() => {
      this.curvesFrame = 0;
      this.drawCurves();
    });
  }

  setStatus(text) {
    this.status.textContent = text;
  }

  drawCurves() {
    const arms = this.lesson.arms;
    const xOf = (arm, step) => (this.perImage ? step * arms[arm].config.batch_size : step);
    const xs = [...new Set(this.losses.flatMap((l, a) => l.map(([s]) => xOf(a, s))))].sort((a, b) => a - b);
    this.lossChart.set(xs, arms.map((arm, a) => {
      const byX = new Map(this.losses[a].map(([s, l]) => [xOf(a, s), l]));
      const values = smooth(xs.map((x) => [x, byX.get(x) ?? null]), SMOOTHING).map(([, y]) => y);
      return { label: arm.name, values, color: colors(a) };
    }));
    const maxEpoch = Math.max(0, ...this.epochs.map((e) => e.length));
    const epochs = Array.from({ length: maxEpoch }, (_, i) => i + 1);
    this.accChart.set(epochs, arms.map((arm, a) => ({
      label: arm.name, values: epochs.map((e) => this.epochs[a][e - 1]?.test_acc ?? null), color: colors(a), points: true,
    })));
  }

  // The finished runs: records (one per arm, from the core) and the verdict ({arms, verdict}).
  // classHref: the link of the lesson's "Class results" view.
  finish(records, verdict, classHref) {
    this.records = records;
    const values = verdict.arms.map((a) => `${a.name}: ${a.values[0] === null ? 'diverged' : a.values[0].toFixed(3)}`).join(' · ');
    this.verdict.replaceChildren(
      el('p', { class: verdict.verdict.holds ? 'held' : 'not-held' }, el('strong', {}, 'Verdict (computed from these runs): '), verdict.verdict.sentence),
      el('p', { class: 'values' }, values),
      this.resultLine(verdict.result_line, classHref),
    );
    this.drawViews(records);
  }

  // The run's result as one line the core wrote, with a Copy button: a class pastes its lines
  // together, and `tricklab lesson pool` pools them into one verdict.
  resultLine(line, classHref) {
    const [text, button] = copyable(line, 'result-line');
    const pool = el('a', { href: classHref, class: 'class-link' }, 'pool a class\'s results');
    return el('p', { class: 'result' }, 'Your result, for the class: ', text, ' ', button, ' (teachers: ', pool, ')');
  }

  drawViews(records) {
    const parts = [];
    const panel = (cls) => {
      const div = el('div', { class: `chart ${cls}` });
      parts.push(div);
      return div;
    };
    const draw = {
      schedules: () => this.drawSchedules(panel('view-schedules'), records),
      norms: () => this.drawNorms(panel('view-norms'), records),
      logit_gaps: () => this.drawGaps(panel('view-gaps'), records),
      calibration: () => this.drawCalibration(panel('view-calibration'), records),
      train_test_accuracy: () => this.drawTrainTest(panel('view-train-test'), records),
      batches: () => parts.push(...this.batchViews(records)),
    };
    for (const [view, drawOne] of Object.entries(draw)) if (this.lesson.views.includes(view)) drawOne();
    this.panels.extra.replaceChildren(...parts);
  }

  drawSchedules(root, records) {
    const chart = new LineChart(root, { title: 'Learning rate per step (each arm\'s schedule)', x: this.perImage ? 'images' : 'step', y: 'lr' });
    const len = Math.max(...records.map((r) => r.planned_lrs.length));
    const xs = Array.from({ length: len }, (_, i) => i);
    chart.set(xs, records.map((r, a) => ({ label: r.name, values: xs.map((i) => r.planned_lrs[i] ?? null), color: colors(a) })));
    this.schedules = chart;
  }

  drawNorms(root, records) {
    const chart = new LineChart(root, { title: 'Norm of all BN scales γ (solid) and shifts β (dashed) after each epoch', x: 'epoch', y: 'L2 norm', integerX: true, singleAsBars: true });
    const xs = epochAxis(records);
    chart.set(xs, records.flatMap((r, a) => [
      { label: `${r.name} γ`, values: xs.map((e) => r.epochs[e - 1]?.norms.gamma ?? null), color: colors(a), points: true },
      { label: `${r.name} β`, values: xs.map((e) => r.epochs[e - 1]?.norms.beta ?? null), color: colors(a), dash: true },
    ]));
  }

  drawGaps(root, records) {
    const chart = new LineChart(root, { title: 'Test images by gap between the top logit and the mean of the others', x: 'gap', y: 'images', stepped: true });
    const h = records.find((r) => r.result)?.result.gaps;
    if (!h) return;
    const xs = h.counts.map((_, i) => h.lo + i * h.width);
    const eps = Math.max(...records.map((r) => r.config.label_smoothing));
    chart.set(xs, records.map((r, a) => ({ label: r.name, values: r.result ? r.result.gaps.counts : xs.map(() => null), color: colors(a), width: 2 })),
      eps > 0 ? [{ x: optimumGap(eps), label: `optimum of the ε/K rule for ε = ${eps}: ${optimumGap(eps).toFixed(2)}` }] : []);
  }

  drawCalibration(root, records) {
    const chart = new LineChart(root, { title: 'Reliability: accuracy against confidence (the dashed diagonal is perfect calibration)', x: 'confidence', y: 'accuracy', yRange: [0, 1], xRange: [0, 1] });
    const bins = records.find((r) => r.result)?.result.calibration.bins ?? [];
    const xs = bins.map((b) => (b.lo + b.hi) / 2);
    chart.set(xs, [
      { label: 'perfect', values: xs, color: 'var(--grey)', dash: true },
      ...records.map((r, a) => ({
        label: `${r.name} (ECE ${r.result ? (100 * r.result.calibration.ece).toFixed(1) : '–'}%)`,
        values: r.result ? r.result.calibration.bins.map((b) => (b.count > 0 ? b.accuracy : null)) : xs.map(() => null),
        color: colors(a), points: true,
      })),
    ]);
  }

  drawTrainTest(root, records) {
    const chart = new LineChart(root, {
      title: 'Clean training accuracy (dashed) and test accuracy (solid) per epoch', x: 'epoch', y: 'accuracy', yRange: [0, 1], integerX: true, singleAsBars: true, format: percent,
    });
    const xs = epochAxis(records);
    chart.set(xs, records.flatMap((r, a) => [
      { label: `${r.name} test`, values: xs.map((e) => r.epochs[e - 1]?.test_acc ?? null), color: colors(a), points: true },
      { label: `${r.name} train`, values: xs.map((e) => r.epochs[e - 1]?.train_clean_acc ?? null), color: colors(a), dash: true },
    ]));
  }

  // The first batch each arm trained on.
  batchViews(records) {
    return records.flatMap((r, a) => {
      if (!r.batch) return [];
      const div = el('div', { class: 'view-batch' });
      const title = `What ${r.name} trains on (first batch${r.batch.lambda < 1 ? `, λ = ${r.batch.lambda.toFixed(2)}` : ''})`;
      new ImageGrid(div, { title }).render(r.batch.images, batchCaption(r.batch));
      div.style.borderColor = colors(a);
      return [div];
    });
  }

  // What each arm's trained network learned, side by side: its prediction grid and confusion
  // matrix, or a note for an arm that has no trained network (it diverged).
  showNetwork(records, classes = 10) {
    this.panels.network.replaceChildren(el('div', { class: 'network-arms' }, ...records.map((r, a) => this.armNetwork(r, a, classes))));
  }

  armNetwork(record, arm, classes) {
    const heading = el('h4', {}, el('span', { class: 'swatch', style: `background:${colors(arm)}` }), ` What ${record.name} learned`);
    if (!record.result) return el('section', { class: 'network-arm untrained', 'data-arm': arm }, heading, el('p', { class: 'muted' }, `${record.name} has no trained network (it diverged).`));
    const grid = el('div', { class: 'view-predictions' });
    const confusion = el('div', { class: 'view-confusion' });
    new ImageGrid(grid, { title: 'Test images: prediction (probability); red frame: mistakes' })
      .render(record.result.grid.images, predictionCaption(record.result.grid));
    new ConfusionView(confusion).render(record.result.confusion, classes);
    return el('section', { class: 'network-arm', 'data-arm': arm }, heading, grid, confusion);
  }
}
