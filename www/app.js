// Wires the playground together: the settings form, the URL, the training worker, the charts,
// the status line and the run history. The page renders and sends commands; all training happens
// in the worker (worker.js), so the tab stays responsive.

import { TrainerClient } from './trainer-client.js';
import { RunStore } from './store.js';
import { BadLink, PAGE_DEFAULTS, fromHash, splitCounts, stepsPerEpoch, toHash } from './state.js';
import { ControlsView } from './views/controls.js';
import { LineChart, PALETTE } from './views/chart.js';
import { MessageView, StatusView } from './views/status.js';
import { HistoryView } from './views/history.js';
import { AblationView } from './views/ablation.js';

const NO_WEBGPU = 'This page trains on your own GPU through WebGPU, which this browser does not offer. '
  + 'Use Chrome or Edge 113 or newer (Windows, macOS, ChromeOS, Android), Chrome on Linux with '
  + 'chrome://flags/#enable-unsafe-webgpu turned on, Safari 26 or newer, or Firefox 141 or newer on Windows. '
  + 'You can still explore the settings and the schedule preview.';
// Fields whose defaults depend on the dataset; switching dataset resets them.
const PER_DATASET = ['model', 'epochs', 'lr_decay_epochs', 'augmentation'];
// Loss smoothing: exponential moving average with this weight per step.
const SMOOTHING = 0.9;

const $ = (sel) => document.querySelector(sel);
// A software adapter may have no name: "(Cpu, BrowserWebGpu)".
const adapterName = (text) => text?.replace(/^\s*\(/, 'an unnamed adapter (');

// Measurements the browser tests read: main-thread long tasks and the time to the first step.
const perf = { longTasks: [], longestTaskMs: 0, longestHandlerMs: 0, firstStepMs: null, trainClickedAt: null };
// The planned schedule, so a test can check the preview's data as well as its picture.
window.tricklab = { perf, preview: () => Array.from(curve) };
if (PerformanceObserver.supportedEntryTypes?.includes('longtask')) {
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      perf.longTasks.push({ start: e.startTime, ms: e.duration });
      perf.longestTaskMs = Math.max(perf.longestTaskMs, e.duration);
    }
  }).observe({ type: 'longtask', buffered: true });
}
function timed(fn) {
  return (...args) => {
    const t0 = performance.now();
    try {
      return fn(...args);
    } finally {
      perf.longestHandlerMs = Math.max(perf.longestHandlerMs, performance.now() - t0);
    }
  };
}

const messages = new MessageView($('#messages'));
const status = new StatusView($('#status'));
const configError = $('#config-error');
const lrChart = new LineChart($('#chart-lr'), { title: 'Learning rate per step', x: 'step', y: 'lr' });
const lossChart = new LineChart($('#chart-loss'), { title: 'Training loss (smoothed)', x: 'step', y: 'loss' });
const accChart = new LineChart($('#chart-acc'), { title: 'Accuracy per epoch (dashed: train)', x: 'epoch', y: 'accuracy', yRange: [0, 1], integerX: true });
const controls = new ControlsView($('#general'), $('#tricks'), () => settingsChanged());
const history = new HistoryView($('#history'), {
  onSelect: (id, on) => { on ? selected.add(id) : selected.delete(id); renderRuns(); drawCharts(); },
  onBaseline: (id) => { baselineId = id; renderRuns(); },
  onDelete: async (id) => { await store.delete(id); selected.delete(id); if (baselineId === id) baselineId = null; await reloadRuns(); drawCharts(); },
});
const ablation = new AblationView($('#ablation'));
const client = new TrainerClient(timed(onRunEvent));

let defaults = null; // by dataset
let state = null; // {config, page}: the last valid settings
let curve = new Float32Array(0); // planned lr per step
let store = null;
let runs = [];
const selected = new Set();
let baselineId = null;
let live = null; // the run in progress (or just finished)
let settingsSeq = 0;
let drawPending = false;
let gpuReady = false;

// ---- settings ----------------------------------------------------------------------------------

// Validates `candidate` in the Rust core and previews its schedule; a bad value is reported beside
// the form and keeps the last good state.
async function applySettings(candidate) {
  const seq = ++settingsSeq;
  const spe = stepsPerEpoch(candidate.config, candidate.page);
  try {
    const config = await client.send('validate', { config: candidate.config, stepsPerEpoch: spe });
    const planned = await client.send('curve', { config, stepsPerEpoch: spe });
    if (seq !== settingsSeq) return;
    state = { config, page: candidate.page };
    curve = planned;
    configError.textContent = '';
    $('#train').disabled = !gpuReady || Boolean(live?.running);
    history_replace(toHash(config, candidate.page));
    drawCharts();
  } catch (e) {
    if (seq !== settingsSeq) return;
    configError.textContent = e.message;
    $('#train').disabled = true;
  }
}

function history_replace(hash) {
  if (location.hash !== hash) window.history.replaceState(null, '', hash);
}

function settingsChanged() {
  const { config, page } = controls.read(state.config, defaults[state.config.dataset]);
  if (config.dataset !== state.config.dataset && defaults[config.dataset]) {
    for (const f of PER_DATASET) config[f] = defaults[config.dataset][f];
    controls.write(config, page);
    controls.setTeachers(runs, config.dataset);
    $('#cifar').hidden = config.dataset !== 'cifar10';
  }
  applySettings({ config, page });
}

// Restores the settings from the URL hash; a bad link gets a visible message and the defaults.
async function restoreFromUrl() {
  let candidate = { config: { ...defaults.mnist }, page: { ...PAGE_DEFAULTS } };
  if (location.hash.length > 1) {
    try {
      const parsed = fromHash(decodeURIComponent(location.hash), defaults);
      const config = await client.send('validate', { config: parsed.config, stepsPerEpoch: stepsPerEpoch(parsed.config, parsed.page) });
      if (config.teacher && !runs.some((r) => r.id === config.teacher)) {
        throw new BadLink(`the teacher run "${config.teacher}" is not in this browser's run history`);
      }
      candidate = { config, page: parsed.page };
    } catch (e) {
      messages.show(`This link has a setting the page cannot use: ${e.message}. The default settings are shown instead.`);
    }
  }
  state = candidate;
  controls.setTeachers(runs, candidate.config.dataset);
  controls.write(candidate.config, candidate.page);
  $('#cifar').hidden = candidate.config.dataset !== 'cifar10';
  await applySettings(candidate);
}

// ---- training ----------------------------------------------------------------------------------

async function train() {
  messages.clear();
  perf.trainClickedAt = performance.now();
  perf.firstStepMs = null;
  const { config, page } = state;
  let teacher = null;
  if (config.teacher) {
    teacher = await store.checkpoint(config.teacher);
    if (!teacher) {
      messages.show(`The teacher run ${config.teacher} has no saved weights; pick another teacher.`);
      return;
    }
  }
  const counts = splitCounts(config, page);
  live = {
    running: true, paused: false, config, page, curve,
    loss: [], lrs: new Array(curve.length).fill(null), epochs: [],
    images: 0, trainMs: 0, startedAt: null, pausedMs: 0, pausedAt: null,
    stepsPerEpoch: stepsPerEpoch(config, page), totalSteps: curve.length, adapter: '',
  };
  setRunning(true);
  status.text(`Preparing: loading ${config.dataset === 'mnist' ? 'MNIST' : 'CIFAR-10'} (${counts.train} training images) and building ${config.model} on the GPU…`);
  try {
    await client.send('train', { config, trainLimit: page.train_limit, testLimit: page.test_limit, teacher }, teacher ? [teacher] : []);
  } catch (e) {
    runEnded(e.message);
  }
}

function onRunEvent(ev) {
  if (!live) return;
  if (ev.event === 'started') {
    live.adapter = ev.adapter;
    live.startedAt = performance.now();
    status.text(`Training on ${adapterName(ev.adapter)}: ${ev.stepsPerEpoch} steps per epoch, ${ev.trainCount} training and ${ev.testCount} test images.`);
  } else if (ev.event === 'progress') {
    onProgress(ev);
  } else if (ev.event === 'epoch') {
    live.epochs.push({ epoch: ev.epoch, train_loss: ev.train_loss, train_acc: ev.train_acc, test_loss: ev.test_loss, test_acc: ev.test_acc });
    scheduleDraw();
  } else if (ev.event === 'done') {
    saveRun(ev.checkpoint);
  } else if (ev.event === 'stopped') {
    runEnded(null);
    status.text('Stopped. The run was not added to the history (only finished runs are).');
  } else if (ev.event === 'failed') {
    runEnded(ev.message);
  }
}

function onProgress(ev) {
  if (perf.firstStepMs === null) perf.firstStepMs = performance.now() - perf.trainClickedAt;
  live.loss.push([ev.global_step, ev.chunk_loss]);
  ev.lrs.forEach((lr, i) => { live.lrs[ev.global_step - ev.steps + i] = lr; });
  live.images += ev.images;
  live.trainMs += ev.ms;
  live.last = ev;
  const elapsed = (performance.now() - live.startedAt - live.pausedMs) / 1000;
  const stepsPerSec = ev.global_step / Math.max(live.trainMs / 1000, 1e-6);
  status.progress({
    epoch: ev.epoch + 1, epochs: live.config.epochs,
    step: ev.step, stepsPerEpoch: live.stepsPerEpoch, loss: ev.loss, acc: ev.acc,
    imagesPerSec: live.images / Math.max(live.trainMs / 1000, 1e-6), elapsed,
    eta: (ev.total_steps - ev.global_step) / stepsPerSec,
  });
  scheduleDraw();
}

async function saveRun(checkpoint) {
  const number = runs.reduce((n, r) => Math.max(n, Number(r.name.replace(/\D/g, '')) || 0), 0) + 1;
  const last = live.epochs[live.epochs.length - 1];
  const run = {
    id: `run-${Date.now()}`, name: `Run ${number}`, created: Date.now(),
    config: live.config, page: live.page, adapter: live.adapter,
    loss: live.loss, lrs: live.lrs, epochs: live.epochs, final: last,
    imagesPerSec: live.images / Math.max(live.trainMs / 1000, 1e-6),
    seconds: (performance.now() - live.startedAt - live.pausedMs) / 1000,
    checkpoint,
  };
  try {
    await store.put(run);
  } catch (e) {
    messages.show(`The run finished but could not be saved in this browser's storage: ${e.message}`);
  }
  selected.add(run.id);
  live.savedAs = run.id;
  runEnded(null);
  status.text(`${run.name} finished: test accuracy ${(100 * last.test_acc).toFixed(2)}% after ${run.config.epochs} epochs (${Math.round(run.imagesPerSec)} images/s). It is in the run history below.`);
  await reloadRuns();
  drawCharts();
}

function runEnded(error) {
  if (error) {
    const lost = /device was lost|GPU error/i.test(error);
    messages.show(`${lost ? 'The GPU stopped working for this page' : 'Training stopped'}: ${error} Your run history is kept.`);
    status.text('The run did not finish.');
  }
  live.running = false;
  setRunning(false);
}

function setRunning(running) {
  controls.setLocked(running);
  $('#train').disabled = running || !gpuReady;
  $('#pause').disabled = !running;
  $('#resume').disabled = true;
  $('#stop').disabled = !running;
}

function pause() {
  client.send('pause');
  live.paused = true;
  live.pausedAt = performance.now();
  $('#pause').disabled = true;
  $('#resume').disabled = false;
  status.text(`${$('#status').textContent} · paused`);
}

function resume() {
  client.send('resume');
  live.paused = false;
  live.pausedMs += performance.now() - live.pausedAt;
  $('#pause').disabled = false;
  $('#resume').disabled = true;
}

// ---- runs and charts ---------------------------------------------------------------------------

async function reloadRuns() {
  runs = await store.list();
  for (const id of selected) if (!runs.some((r) => r.id === id)) selected.delete(id);
  controls.setTeachers(runs, state.config.dataset);
  renderRuns();
}

function renderRuns() {
  const baselineRun = runs.find((r) => r.id === baselineId) ?? null;
  history.render(runs, selected, baselineId, (run) => baselineRun?.config ?? defaults[run.config.dataset]);
  ablation.render(runs, baselineRun);
}

function scheduleDraw() {
  if (drawPending) return;
  drawPending = true;
  requestAnimationFrame(timed(() => { drawPending = false; drawCharts(); }));
}

function smooth(points) {
  let avg = null;
  let prevStep = 0;
  return points.map(([step, loss]) => {
    const w = SMOOTHING ** Math.max(1, step - prevStep);
    prevStep = step;
    avg = avg === null || !Number.isFinite(avg) ? loss : w * avg + (1 - w) * loss;
    return [step, avg];
  });
}

// The curves to draw: the run in progress (unless it is already saved) and the selected runs.
function shownRuns() {
  const shown = runs.filter((r) => selected.has(r.id)).map((r) => ({ name: r.name, loss: r.loss, epochs: r.epochs }));
  if (live && !live.savedAs) shown.push({ name: 'current run', loss: live.loss, epochs: live.epochs });
  return shown;
}

function drawCharts() {
  const planned = live?.running ? live.curve : curve;
  const xs = Array.from(planned, (_, i) => i);
  const actual = live?.running ? live.lrs : xs.map(() => null);
  lrChart.set(xs, [
    { label: 'planned', values: Array.from(planned), color: '#8c959f', dash: true },
    { label: 'actual', values: actual, color: '#1f6feb', width: 2 },
  ]);
  const shown = shownRuns();
  const steps = [...new Set(shown.flatMap((r) => r.loss.map(([s]) => s)))].sort((a, b) => a - b);
  lossChart.set(steps, shown.map((r, i) => {
    const byStep = new Map(smooth(r.loss));
    return { label: r.name, values: steps.map((s) => byStep.get(s) ?? null), color: PALETTE[i % PALETTE.length] };
  }));
  const maxEpoch = Math.max(0, ...shown.map((r) => r.epochs.length));
  const epochs = Array.from({ length: maxEpoch }, (_, i) => i + 1);
  accChart.set(epochs, shown.flatMap((r, i) => [
    { label: `${r.name} test`, values: epochs.map((e) => r.epochs[e - 1]?.test_acc ?? null), color: PALETTE[i % PALETTE.length], points: true },
    { label: `${r.name} train`, values: epochs.map((e) => r.epochs[e - 1]?.train_acc ?? null), color: PALETTE[i % PALETTE.length], dash: true },
  ]));
}

// ---- CIFAR-10 file ------------------------------------------------------------------------------

async function loadCifarFile(file) {
  status.text(`Reading ${file.name} in this tab (nothing is uploaded)…`);
  try {
    const bytes = await file.arrayBuffer();
    const counts = await client.send('loadCifar', { bytes }, [bytes]);
    messages.show(`CIFAR-10 loaded from ${file.name}: ${counts.train} training and ${counts.test} test images.`, 'notice');
    status.text('CIFAR-10 is ready.');
  } catch (e) {
    messages.show(`${file.name} could not be read as CIFAR-10: ${e.message}`);
    status.text('Ready.');
  }
}

function wireCifarDrop() {
  document.addEventListener('dragover', (e) => { e.preventDefault(); document.body.classList.add('dragging'); });
  document.addEventListener('dragleave', () => document.body.classList.remove('dragging'));
  document.addEventListener('drop', (e) => {
    e.preventDefault();
    document.body.classList.remove('dragging');
    const file = e.dataTransfer?.files?.[0];
    if (file) loadCifarFile(file);
  });
  $('#cifar-file').addEventListener('change', (e) => { if (e.target.files[0]) loadCifarFile(e.target.files[0]); });
}

// ---- start -------------------------------------------------------------------------------------

async function main() {
  $('#train').addEventListener('click', train);
  $('#pause').addEventListener('click', pause);
  $('#resume').addEventListener('click', resume);
  $('#stop').addEventListener('click', () => client.send('stop'));
  $('#share').addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(location.href);
      status.text('The link to these settings is copied.');
    } catch {
      status.text(`The link to these settings: ${location.href}`);
    }
  });
  window.addEventListener('hashchange', () => { if (!live?.running && location.hash !== toHash(state.config, state.page)) restoreFromUrl(); });
  wireCifarDrop();
  setRunning(false);
  $('#train').disabled = true;
  status.text('Loading the training core…');
  const info = await client.send('init');
  defaults = info.defaults;
  gpuReady = Boolean(info.adapter && navigator.gpu);
  try {
    store = await RunStore.open();
    runs = await store.list();
  } catch (e) {
    messages.show(`This browser will not keep the run history (IndexedDB is unavailable: ${e.message}).`);
    store = { list: async () => [], put: async () => {}, delete: async () => {}, checkpoint: async () => null };
  }
  renderRuns();
  await restoreFromUrl();
  if (!navigator.gpu) {
    messages.show(NO_WEBGPU);
  } else if (info.error) {
    messages.show(`WebGPU is present but no GPU could be opened (${info.error}). ${NO_WEBGPU}`);
  }
  const adapter = adapterName(info.adapter);
  status.text(gpuReady ? `Ready. GPU: ${adapter}.` : 'Ready to explore the settings (no WebGPU here: training is unavailable).');
  document.body.dataset.ready = 'true';
}

main().catch((e) => messages.show(`The page failed to start: ${e.message}`));
