// The run's three charts: the planned and actual learning rate of each step, the smoothed training
// loss and the accuracy per epoch of the run in progress and of every run selected in the history.

import { $, smooth } from './dom.js';
import { LineChart, percent, seriesVar } from './views/chart.js';

// Loss smoothing: exponential moving average with this weight per step.
const SMOOTHING = 0.9;

// The curves to draw: the run in progress (unless it is already saved) and the selected runs.
function shownRuns(state) {
  const shown = state.runs.filter((r) => state.selected.has(r.id)).map((r) => ({ name: r.name, loss: r.loss, epochs: r.epochs }));
  const { live } = state;
  if (live && !live.savedAs) shown.push({ name: 'current run', loss: live.loss, epochs: live.epochs });
  return shown;
}

export function chartsController(page) {
  const { state } = page;
  const lrChart = new LineChart($('#chart-lr'), { title: 'Learning rate per step', x: 'step', y: 'lr' });
  const lossChart = new LineChart($('#chart-loss'), { title: 'Training loss (smoothed)', x: 'step', y: 'loss' });
  const accChart = new LineChart($('#chart-acc'), {
    title: 'Accuracy per epoch (dashed: train)', x: 'epoch', y: 'accuracy', yRange: [0, 1], integerX: true, singleAsBars: true, format: percent,
  });

  function drawRates() {
    const running = state.active?.kind === 'run';
    const planned = running ? state.live.curve : state.curve;
    const xs = Array.from(planned, (_, i) => i);
    lrChart.set(xs, [
      { label: 'planned', values: Array.from(planned), color: 'var(--grey)', dash: true },
      { label: 'actual', values: running ? state.live.lrs : xs.map(() => null), color: seriesVar(0), width: 2 },
    ]);
  }

  function draw() {
    drawRates();
    const shown = shownRuns(state);
    const steps = [...new Set(shown.flatMap((r) => r.loss.map(([s]) => s)))].sort((a, b) => a - b);
    lossChart.set(steps, shown.map((r, i) => {
      const byStep = new Map(smooth(r.loss, SMOOTHING, { perStep: true }));
      return { label: r.name, values: steps.map((s) => byStep.get(s) ?? null), color: seriesVar(i) };
    }));
    const maxEpoch = Math.max(0, ...shown.map((r) => r.epochs.length));
    const epochs = Array.from({ length: maxEpoch }, (_, i) => i + 1);
    accChart.set(epochs, shown.flatMap((r, i) => [
      { label: `${r.name} test`, values: epochs.map((e) => r.epochs[e - 1]?.test_acc ?? null), color: seriesVar(i), points: true },
      { label: `${r.name} train`, values: epochs.map((e) => r.epochs[e - 1]?.train_acc ?? null), color: seriesVar(i), dash: true },
    ]));
  }

  // Redraws the charts at the next frame, once however many events arrive before it.
  let pending = false;
  function schedule() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(page.timed(() => { pending = false; draw(); }));
  }

  return { draw, schedule };
}
