// Wires the playground together: the lessons, the settings form, the URL, the training worker,
// the charts, the status line, what the network learned, the run history with its exports and
// imports, and the service worker that keeps the site for offline use. The page renders and sends
// commands; all training happens in the worker (worker.js), on WebGPU or, without it, on the CPU,
// so the tab stays responsive. Everything the page knows lives in one PageState (state.js); this
// module changes it and asks the views to show it.

import { TrainerClient } from './trainer-client.js';
import { RunStore } from './store.js';
import { BadLink, PAGE_DEFAULTS, PageState, fromHash, lessonLink, splitCounts, stepsPerEpoch, toHash } from './state.js';
import { Lessons } from './lessons.js';
import { NetworkView } from './views/network.js';
import { ControlsView } from './views/controls.js';
import { LineChart, PALETTE } from './views/chart.js';
import { MessageView, StatusView } from './views/status.js';
import { HistoryView } from './views/history.js';
import { AblationView } from './views/ablation.js';
import { curvesCsv, curvesJson, download, fileStem } from './export.js';

const NO_WEBGPU = 'Without WebGPU, this page trains on your computer\'s CPU instead (WebAssembly), with the same numbers '
  + 'but much more slowly. To train on your GPU, use Chrome or Edge 113 or newer (Windows, macOS, ChromeOS, Android), '
  + 'Chrome on Linux with chrome://flags/#enable-unsafe-webgpu turned on, Safari 26 or newer, or Firefox 141 or newer on Windows.';
// On a slow backend (the CPU, a software GPU), a run of more training images than this (over all
// epochs) is timed before it starts; one that would take longer than LONG_RUN_S gets the offer of
// a smaller run instead.
const BIG_RUN_IMAGES = 20_000;
const LONG_RUN_S = 10 * 60;
// What the smaller run aims at: a few minutes, on at most a half-width model.
const SMALL_RUN_S = 3 * 60;
const SMALL_WIDTH = 0.5;
// Fields whose defaults depend on the dataset; switching dataset resets them.
const PER_DATASET = ['model', 'epochs', 'lr_decay_epochs', 'augmentation'];
// Loss smoothing: exponential moving average with this weight per step.
const SMOOTHING = 0.9;
// The core's message for a run whose loss became NaN or infinite (crate::Error::Diverged).
const DIVERGED = /training diverged at step (\d+)/;

const $ = (sel) => document.querySelector(sel);
// A software adapter may have no name: "(Cpu, BrowserWebGpu)".
const adapterName = (text) => text?.replace(/^\s*\(/, 'an unnamed adapter (');
// Where runs train, in the words of the status line.
const backendName = (backend) => (backend.kind === 'cpu' ? 'the CPU (WebAssembly, no WebGPU)' : `the GPU: ${adapterName(backend.adapter.description)}`);

const state = new PageState();
const store = new RunStore();

// Measurements the browser tests read: main-thread long tasks and the time to the first step.
const perf = { longTasks: [], longestTaskMs: 0, longestHandlerMs: 0, firstStepMs: null, trainClickedAt: null, warm: null, warmed: false };
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
const controls = new ControlsView($('#general'), $('#tricks'), $('#tweaks'));
const history = new HistoryView($('#history'), {
  onSelect: (id, on) => { on ? state.selected.add(id) : state.selected.delete(id); renderRuns(); drawCharts(); },
  onBaseline: (id) => { state.baselineId = id; renderRuns(); },
  onDelete: async (id) => {
    await store.delete(id);
    state.selected.delete(id);
    if (state.baselineId === id) state.baselineId = null;
    await reloadRuns();
    drawCharts();
  },
  onExport: (id, kind) => exportRun(id, kind),
});
const ablation = new AblationView($('#ablation'));
const client = new TrainerClient(timed(onRunEvent));
const network = new NetworkView(
  { pick: $('#network-pick'), batch: $('#network-batch'), grid: $('#network-grid'), confusion: $('#network-confusion'), draw: $('#network-draw'), empty: $('#network .empty') },
  {
    onPick: (id) => showNetwork(id),
    classify: async (id, image) => client.send('classify', { checkpoint: await store.checkpoint(id), image }),
  },
);
const lessons = new Lessons($('#lessons-list'), $('#lesson-panel'), {
  send: (cmd, args) => client.send(cmd, args),
  saveRun: saveLessonRun,
  setBusy: (busy) => { state.lessonRunning = busy; setRunning(busy); },
  showMessage: (text) => messages.show(text),
  where: () => backendName(state.backend),
});

// The planned schedule, so a test can check the preview's data as well as its picture, and the
// worker's commands (its test hooks among them: loseDevice, gpuMemory).
window.tricklab = {
  perf, preview: () => Array.from(state.curve), worker: (cmd, args) => client.send(cmd, args), lessons,
};

// Only the latest of overlapping calls of `fn` may finish; the others resolve to undefined.
function latestOnly(fn) {
  let seq = 0;
  return async (...args) => {
    const mine = ++seq;
    const result = await fn(...args);
    return mine === seq ? result : undefined;
  };
}

// ---- settings ----------------------------------------------------------------------------------

// The candidate validated by the Rust core, with its schedule; throws the core's message.
const checked = latestOnly(async (candidate) => {
  const spe = stepsPerEpoch(candidate.config, candidate.page);
  try {
    const config = await client.send('validate', { config: candidate.config, stepsPerEpoch: spe });
    const curve = await client.send('curve', { config, stepsPerEpoch: spe });
    return { config, page: candidate.page, curve };
  } catch (e) {
    return { error: e.message };
  }
});

// Validates `candidate` and previews its schedule; a bad value is reported beside the form and
// keeps the last good settings.
async function applySettings(candidate) {
  const result = await checked(candidate);
  if (!result) return; // a newer edit is on its way
  if (result.error) {
    configError.textContent = result.error;
    $('#train').disabled = true;
    return;
  }
  state.settings = { config: result.config, page: result.page };
  state.curve = result.curve;
  $('#slow').hidden = true; // an offer made for other settings
  configError.textContent = '';
  $('#train').disabled = !state.ready || state.running;
  const hash = toHash(result.config, result.page);
  // An open lesson keeps its own link; otherwise the URL shows the settings.
  if (location.hash !== hash && !lessons.open) window.history.replaceState(null, '', hash);
  drawCharts();
}

function settingsChanged() {
  const { config: current } = state.settings;
  let { config, page } = controls.read(current, state.defaults[current.dataset]);
  if (config.dataset !== current.dataset && state.defaults[config.dataset]) {
    for (const f of PER_DATASET) config[f] = state.defaults[config.dataset][f];
    controls.setTeachers(state.runs, config.dataset);
    controls.write(config, page);
    ({ config, page } = controls.read(config, state.defaults[config.dataset]));
    $('#cifar').hidden = config.dataset !== 'cifar10';
  }
  applySettings({ config, page });
}

// Opens the lesson a `#lesson=` link names (`embed=1` shows it alone); true when the hash is one.
function openLessonFromUrl() {
  let link;
  try {
    link = lessonLink(decodeURIComponent(location.hash), state.lessons.map((l) => l.id));
  } catch (e) {
    messages.show(`This link names a lesson the page does not have: ${e.message}.`);
    return false;
  }
  document.body.classList.toggle('embed', Boolean(link?.embed));
  if (!link) {
    lessons.close();
    return false;
  }
  lessons.show(link.id, link);
  if (!link.embed) $('#lessons').scrollIntoView();
  return true;
}

// Restores the settings from the URL hash; a bad link gets a visible message and the defaults.
// What the form shows is what runs: a field whose toggle is off takes its default (it had no
// effect: a hold without cosine, a temperature without a teacher).
async function restoreFromUrl() {
  let candidate = { config: { ...state.defaults.mnist }, page: { ...PAGE_DEFAULTS } };
  if (location.hash.length > 1 && !openLessonFromUrl()) {
    try {
      const parsed = fromHash(decodeURIComponent(location.hash), state.defaults);
      const config = await client.send('validate', { config: parsed.config, stepsPerEpoch: stepsPerEpoch(parsed.config, parsed.page) });
      if (config.teacher && !state.runs.some((r) => r.id === config.teacher)) {
        throw new BadLink(`the teacher run "${config.teacher}" is not in this browser's run history`);
      }
      candidate = { config, page: parsed.page };
    } catch (e) {
      messages.show(`This link has a setting the page cannot use: ${e.message}. The default settings are shown instead.`);
    }
  }
  const { dataset } = candidate.config;
  controls.setTeachers(state.runs, dataset);
  controls.write(candidate.config, candidate.page);
  $('#cifar').hidden = dataset !== 'cifar10';
  state.settings = candidate;
  await applySettings(controls.read(candidate.config, state.defaults[dataset]));
}

// ---- training ----------------------------------------------------------------------------------

// Seconds a run of `config` on `page`'s images takes at `speed` training images per second: its
// steps, and its evaluations (forward passes only, a third of a step's work per image) of the test
// set and of the 256 images the batch norms are re-estimated from, each epoch.
function runSeconds(config, page, speed) {
  const { test } = splitCounts(config, page);
  const perEpoch = stepsPerEpoch(config, page) * config.batch_size + (test + 256) / 3;
  return (config.epochs * perEpoch) / Math.max(speed, 1e-6);
}

function duration(s) {
  if (s < 90) return `${Math.round(s)} seconds`;
  if (s < 90 * 60) return `${Math.round(s / 60)} minutes`;
  return `${(s / 3600).toFixed(1)} hours`;
}

// On a slow backend, a large run is timed first; one that would take long is offered a smaller
// version (the same tricks on fewer images and a narrower model). True when `train` may go on.
async function checkRunTime(config, page) {
  const { train: images, test } = splitCounts(config, page);
  if (!state.backend.slow || images * config.epochs <= BIG_RUN_IMAGES) return true;
  status.text(`Timing a few steps on ${backendName(state.backend)} to see how long this run takes here…`);
  setRunning(true);
  try {
    let speed;
    try {
      speed = await client.send('speed', { config });
    } catch {
      return true; // the run itself will say what is wrong (CIFAR-10 not loaded, say)
    }
    const seconds = runSeconds(config, page, speed);
    if (seconds <= LONG_RUN_S) return true;
    const small = { ...config, width_mult: Math.min(config.width_mult, SMALL_WIDTH) };
    const smallSpeed = small.width_mult === config.width_mult ? speed : await client.send('speed', { config: small });
    // As many images as fit in SMALL_RUN_S (in thousands), at least 16 batches, at most the run's own.
    const fit = Math.floor((SMALL_RUN_S * smallSpeed) / config.epochs / 1.2 / 1000) * 1000;
    const trainLimit = Math.min(images, Math.max(16 * config.batch_size, fit));
    const smallPage = { train_limit: trainLimit, test_limit: Math.min(test, 1000) };
    const smallSeconds = runSeconds(small, smallPage, smallSpeed);
    state.smallerRun = { config: small, page: smallPage };
    $('#slow-text').textContent = `Training will be slow here: it runs on ${backendName(state.backend)}, at about `
      + `${Math.round(speed)} training images per second, so this run (${images.toLocaleString('en')} images × ${config.epochs} epochs, `
      + `${config.width_mult === 1 ? 'full' : `${config.width_mult}×`} width) would take about ${duration(seconds)}. A smaller run with the same tricks, `
      + `on ${trainLimit.toLocaleString('en')} training images, ${smallPage.test_limit.toLocaleString('en')} test images and a `
      + `${small.width_mult === 1 ? 'full' : `${small.width_mult}×`}-width model, takes about ${duration(smallSeconds)}.`;
    $('#slow').hidden = false;
    status.text(`Ready. This run would take about ${duration(seconds)} here; see the choice above.`);
    return false;
  } finally {
    setRunning(false);
  }
}

async function train({ checked = false } = {}) {
  messages.clear();
  $('#slow').hidden = true;
  if (!checked && !(await checkRunTime(state.settings.config, state.settings.page))) return;
  perf.trainClickedAt = performance.now();
  perf.firstStepMs = null;
  const { config, page } = state.settings;
  let teacher = null;
  if (config.teacher) {
    teacher = await store.checkpoint(config.teacher);
    if (!teacher) {
      messages.show(`The teacher run ${config.teacher} has no saved weights; pick another teacher.`);
      return;
    }
  }
  const counts = splitCounts(config, page);
  state.live = {
    status: 'running', config, page, curve: state.curve,
    loss: [], lrs: new Array(state.curve.length).fill(null), epochs: [], step: 0,
    images: 0, trainMs: 0, startedAt: null, pausedMs: 0, pausedAt: null,
    stepsPerEpoch: stepsPerEpoch(config, page), adapter: '', savedAs: null,
  };
  setRunning(true);
  status.text(`Preparing: loading ${config.dataset === 'mnist' ? 'MNIST' : 'CIFAR-10'} (${counts.train} training images) and building ${config.model} on ${backendName(state.backend)}…`);
  try {
    await client.send('train', { config, trainLimit: page.train_limit, testLimit: page.test_limit, teacher }, teacher ? [teacher] : []);
  } catch (e) {
    runFailed(e.message);
  }
}

function onRunEvent(ev) {
  if (state.lessonRunning) {
    lessons.onEvent(ev);
    return;
  }
  const { live } = state;
  if (!live || live.status !== 'running') return;
  if (ev.event === 'started') {
    showKernels(ev.kernels);
    live.adapter = ev.adapter;
    live.backend = ev.backend;
    live.startedAt = performance.now();
    status.text(`Training on ${backendName(state.backend)}: ${ev.stepsPerEpoch} steps per epoch, ${ev.trainCount} training and ${ev.testCount} test images.`);
  } else if (ev.event === 'evaluating') {
    status.text(`${ev.backend === 'cpu' ? 'CPU' : 'GPU'} · evaluating the trained network on the test set…`);
  } else if (ev.event === 'progress') {
    onProgress(ev);
  } else if (ev.event === 'epoch') {
    live.epochs.push({ epoch: ev.epoch, train_loss: ev.train_loss, train_acc: ev.train_acc, test_loss: ev.test_loss, test_acc: ev.test_acc });
    scheduleDraw();
  } else if (ev.event === 'batch') {
    live.batch = ev.preview;
    network.showBatch(ev.preview);
  } else if (ev.event === 'done') {
    keepRun('finished', { checkpoint: ev.checkpoint, views: ev.views });
  } else if (ev.event === 'stopped') {
    keepRun('stopped');
  } else if (ev.event === 'failed') {
    const diverged = ev.message.match(DIVERGED);
    if (diverged) keepRun('diverged', { message: ev.message, divergedAt: Number(diverged[1]) });
    else runFailed(ev.message);
  }
}

function onProgress(ev) {
  const { live } = state;
  if (perf.firstStepMs === null) perf.firstStepMs = performance.now() - perf.trainClickedAt;
  live.loss.push([ev.global_step, ev.chunk_loss]);
  ev.lrs.forEach((lr, i) => { live.lrs[ev.global_step - ev.steps + i] = lr; });
  live.step = ev.global_step;
  live.images += ev.images;
  live.trainMs += ev.ms;
  const elapsed = (performance.now() - live.startedAt - live.pausedMs) / 1000;
  const stepsPerSec = ev.global_step / Math.max(live.trainMs / 1000, 1e-6);
  status.progress({
    backend: live.backend === 'cpu' ? 'CPU' : 'GPU',
    epoch: ev.epoch + 1, epochs: live.config.epochs,
    step: ev.step, stepsPerEpoch: live.stepsPerEpoch, loss: ev.loss, acc: ev.acc,
    imagesPerSec: live.images / Math.max(live.trainMs / 1000, 1e-6), elapsed,
    eta: (ev.total_steps - ev.global_step) / stepsPerSec,
  });
  scheduleDraw();
}

// Puts the run that just ended in the history: finished (with its weights, so it can teach),
// stopped, or diverged. A run stopped before its first step has nothing to keep.
async function keepRun(outcome, { checkpoint = null, views = null, message = null, divergedAt = null } = {}) {
  const { live } = state;
  live.status = outcome;
  setRunning(false);
  if (message) messages.show(`Training stopped: ${message} The run is kept in the history, marked diverged.`);
  if (outcome === 'stopped' && live.loss.length === 0) {
    status.text('Stopped before the first step; there is nothing to keep.');
    drawCharts();
    return;
  }
  const last = live.epochs[live.epochs.length - 1] ?? null;
  const run = {
    id: `run-${Date.now()}`, name: state.nextRunName(), created: Date.now(), status: outcome,
    config: live.config, page: live.page, adapter: live.adapter,
    loss: live.loss, lrs: live.lrs, epochs: live.epochs, final: outcome === 'finished' ? last : null,
    steps: live.step, divergedAt,
    imagesPerSec: live.images / Math.max(live.trainMs / 1000, 1e-6),
    seconds: live.startedAt === null ? 0 : (performance.now() - live.startedAt - live.pausedMs) / 1000,
    views: views && { grid: views.grid, confusion: views.confusion, batch: live.batch ?? null },
    checkpoint,
  };
  const { saved, reason } = await store.put(run);
  state.selected.add(run.id);
  live.savedAs = run.id;
  const where = saved ? 'It is in the run history below.'
    : `It could not be saved in this browser (${reason}), so it is listed below only until this tab closes.`;
  // The history is drawn before the status says the run is in it.
  await reloadRuns();
  status.text(`${endOf(run)} ${where}`);
  if (run.views) showNetwork(run.id);
  drawCharts();
}

// A lesson's finished arm, kept in the history like any run; true when it was saved for good.
async function saveLessonRun(fields) {
  const adapter = state.backend.kind === 'cpu' ? 'CPU' : state.backend.adapter.description;
  const run = { id: `run-${Date.now()}-${fields.lesson.arm}`, created: Date.now(), adapter, steps: fields.loss.length, divergedAt: null, ...fields };
  const { saved } = await store.put(run);
  await reloadRuns();
  if (fields.lesson.arm === 0 || !state.networkRun) showNetwork(run.id);
  return saved;
}

// Shows what a finished run learned (its stored views) in "What the network learned".
function showNetwork(id) {
  const run = state.runs.find((r) => r.id === id);
  if (!run?.views) return;
  state.networkRun = id;
  network.show(run);
}

// How a kept run ended, for the status line.
function endOf(run) {
  const epochs = `${run.config.epochs} epoch${run.config.epochs === 1 ? '' : 's'}`;
  const done = `${run.epochs.length} of ${epochs}`;
  if (run.status === 'finished') {
    return `${run.name} finished: test accuracy ${(100 * run.final.test_acc).toFixed(2)}% after ${epochs} `
      + `(${Math.round(run.imagesPerSec)} images/s).`;
  }
  if (run.status === 'stopped') return `${run.name} stopped after step ${run.steps} (${done}).`;
  return `${run.name} diverged at step ${run.divergedAt} (${done}).`;
}

// A run that ended for another reason than its own (a lost GPU, a failed build): nothing to keep.
function runFailed(error) {
  // Every GPU failure reaches the page as the core's Error::Gpu, "GPU error: ...".
  const lost = /GPU error|device (was|is) lost/i.test(error);
  const what = lost ? 'The GPU stopped working for this page (a driver reset, the system taking the GPU back, or a crash)' : 'Training stopped';
  messages.show(`${what}: ${error} Your run history is kept; press Train to start again.`);
  status.text('The run did not finish.');
  state.live.status = 'failed';
  setRunning(false);
  drawCharts();
}

function setRunning(running) {
  controls.setLocked(running);
  $('#train').disabled = running || !state.ready || Boolean(configError.textContent);
  $('#pause').disabled = !running;
  $('#resume').disabled = true;
  $('#stop').disabled = !running;
}

function pause() {
  client.send('pause');
  if (state.live) state.live.pausedAt = performance.now();
  $('#pause').disabled = true;
  $('#resume').disabled = false;
  status.text(`${$('#status').textContent} · paused`);
}

function resume() {
  client.send('resume');
  if (state.live?.pausedAt) {
    state.live.pausedMs += performance.now() - state.live.pausedAt;
    state.live.pausedAt = null;
  }
  $('#pause').disabled = false;
  $('#resume').disabled = true;
}

// ---- runs and charts ---------------------------------------------------------------------------

async function reloadRuns() {
  state.runs = await store.list();
  for (const id of state.selected) if (!state.runs.some((r) => r.id === id)) state.selected.delete(id);
  controls.setTeachers(state.runs, state.settings.config.dataset);
  network.setRuns(state.runs, state.networkRun);
  renderRuns();
}

function renderRuns() {
  const baselineRun = state.baselineRun();
  history.render(state.runs, state.selected, state.baselineId, (run) => baselineRun?.config ?? state.defaults[run.config.dataset]);
  ablation.render(state.runs, baselineRun);
}

// Redraws the charts at the next frame, once however many events arrive before it.
const scheduleDraw = (() => {
  let pending = false;
  return () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(timed(() => { pending = false; drawCharts(); }));
  };
})();

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
  const shown = state.runs.filter((r) => state.selected.has(r.id)).map((r) => ({ name: r.name, loss: r.loss, epochs: r.epochs }));
  const { live } = state;
  if (live && !live.savedAs) shown.push({ name: 'current run', loss: live.loss, epochs: live.epochs });
  return shown;
}

function drawCharts() {
  const { live } = state;
  const planned = state.running ? live.curve : state.curve;
  const xs = Array.from(planned, (_, i) => i);
  const actual = state.running ? live.lrs : xs.map(() => null);
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

// ---- files in and out: CIFAR-10, imported weights, exports -----------------------------------

async function loadCifarFile(file) {
  status.text(`Reading ${file.name} in this tab (nothing is uploaded)…`);
  try {
    const bytes = await file.arrayBuffer();
    const counts = await client.send('loadCifar', { bytes, name: file.name }, [bytes]);
    const kept = counts.kept ? ' It is kept in this browser, so a reload does not ask for it again.'
      : ' This browser could not keep it (no room), so a reload will ask for it again.';
    messages.show(`CIFAR-10 loaded from ${file.name}: ${counts.train} training and ${counts.test} test images.${kept}`, 'notice');
    $('#cifar-kept').hidden = !counts.kept;
    status.text('CIFAR-10 is ready.');
  } catch (e) {
    // The core's message starts with the file's name and says what is wrong with it.
    messages.show(`CIFAR-10 could not be read from ${e.message}`);
    status.text('Ready.');
  }
}

async function forgetCifar() {
  await client.send('forgetCifar');
  $('#cifar-kept').hidden = true;
  status.text('The CIFAR-10 archive is removed from this browser.');
}

// Trained weights from a file (the CLI's `--save`, or an export) join the run history, where they
// can teach a distillation student. The core checks every tensor against the model the file's
// config names; a file it cannot use is explained and not kept.
async function importWeights(file) {
  let info;
  const bytes = await file.arrayBuffer();
  try {
    info = await client.send('checkpointInfo', { bytes: bytes.slice(0) });
  } catch (e) {
    messages.show(`${file.name} cannot be used: ${e.message.replace(/^this file: /, '')}`);
    return;
  }
  const { config } = info;
  const run = {
    id: `run-import-${Date.now()}`, name: file.name.replace(/\.safetensors$/i, ''), created: Date.now(), status: 'imported',
    config, page: { ...PAGE_DEFAULTS }, adapter: `imported from ${file.name}`, loss: [], lrs: [], epochs: [], final: null,
    steps: 0, divergedAt: null, imagesPerSec: null, seconds: 0, views: null, checkpoint: bytes, imported: { file: file.name, parameters: info.parameters },
  };
  const { saved, reason } = await store.put(run);
  await reloadRuns();
  const dataset = state.catalog.datasets.find((d) => d.name === config.dataset)?.label ?? config.dataset;
  const use = config.dataset === state.settings.config.dataset ? 'It can now teach a run: turn on knowledge distillation and pick it as the teacher.'
    : `It was trained on ${dataset}: switch the dataset to ${dataset} to use it as a teacher.`;
  messages.show(`Imported ${file.name}: ${config.model} (width ×${config.width_mult}, ${info.parameters.toLocaleString('en')} parameters) `
    + `trained on ${dataset}. ${use}${saved ? '' : ` It could not be saved in this browser (${reason}).`}`, 'notice');
}

// A run's curves (CSV or JSON) or its weights (safetensors, as `tricklab train --save` writes them).
async function exportRun(id, kind) {
  const run = state.runs.find((r) => r.id === id);
  if (!run) return;
  const stem = fileStem(run);
  if (kind === 'csv') download(`${stem}.csv`, curvesCsv(run), 'text/csv');
  else if (kind === 'json') download(`${stem}.json`, curvesJson(run), 'application/json');
  else {
    const weights = await store.checkpoint(id);
    if (!weights) {
      messages.show(`${run.name} has no saved weights (only a finished run keeps them).`);
      return;
    }
    download(`${stem}.safetensors`, weights, 'application/octet-stream');
  }
}

// A file dropped anywhere: weights (.safetensors) are imported; anything else is read as CIFAR-10.
function openFile(file) {
  if (/\.safetensors$/i.test(file.name)) importWeights(file);
  else loadCifarFile(file);
}

function wireFiles() {
  document.addEventListener('dragover', (e) => { e.preventDefault(); document.body.classList.add('dragging'); });
  document.addEventListener('dragleave', () => document.body.classList.remove('dragging'));
  document.addEventListener('drop', (e) => {
    e.preventDefault();
    document.body.classList.remove('dragging');
    const file = e.dataTransfer?.files?.[0];
    if (file) openFile(file);
  });
  $('#cifar-file').addEventListener('change', (e) => { if (e.target.files[0]) loadCifarFile(e.target.files[0]); });
  $('#cifar-forget').addEventListener('click', forgetCifar);
  $('#import-file').addEventListener('change', (e) => {
    if (e.target.files[0]) importWeights(e.target.files[0]);
    e.target.value = '';
  });
}

// ---- offline: the service worker ----------------------------------------------------------------

// Asks the service worker that serves the page which build it holds.
function workerVersion(sw) {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = ({ data }) => resolve(data);
    sw.postMessage('version', [channel.port2]);
    setTimeout(() => resolve(null), 2000);
  });
}

// Registers sw.js, which keeps the site for offline use, and says when a new version of the site
// replaced the cached one (its worker takes over at once; this page still runs the old code).
async function keepOffline() {
  const note = $('#site-note');
  if (!('serviceWorker' in navigator)) return;
  const hadWorker = Boolean(navigator.serviceWorker.controller);
  navigator.serviceWorker.addEventListener('controllerchange', async () => {
    const version = await workerVersion(navigator.serviceWorker.controller);
    if (hadWorker) {
      messages.show(`A new version of this site (${version}) was installed and replaced the copy kept for offline use. `
        + 'Reload the page to use it; your runs are kept.', 'notice');
      note.textContent = `Updated to version ${version}: reload to use it.`;
    } else {
      note.textContent = `This site is now kept in this browser and works offline (version ${version}).`;
    }
    document.body.dataset.swVersion = version;
  });
  try {
    await navigator.serviceWorker.register('sw.js');
  } catch (e) {
    note.textContent = `This site cannot be kept for offline use here (${e.message}).`;
    return;
  }
  if (hadWorker) {
    const version = await workerVersion(navigator.serviceWorker.controller);
    note.textContent = `Works offline: this site is kept in this browser (version ${version}).`;
    document.body.dataset.swVersion ??= version;
  }
}

// ---- start -------------------------------------------------------------------------------------

async function main() {
  for (const button of ['#train', '#pause', '#resume', '#stop']) $(button).disabled = true;
  status.text('Loading the training core…');
  const info = await client.send('init');
  state.defaults = info.defaults;
  state.catalog = info.catalog;
  state.lessons = info.lessons;
  lessons.setCatalog(info.lessons);
  // Where runs train: the GPU, or the CPU where WebGPU offers no adapter; either is slow when it
  // is the CPU (a software adapter such as SwiftShader or llvmpipe included).
  state.backend = { kind: info.backend, adapter: info.adapter, error: info.error, slow: info.backend === 'cpu' || Boolean(info.adapter?.software) };
  state.ready = true;
  controls.setCatalog(info.catalog);
  await store.open();
  if (!store.persistent) {
    messages.show(`This browser will not keep the run history (IndexedDB is unavailable: ${store.unavailable}). `
      + 'Runs are listed until this tab closes.');
  }
  try {
    state.runs = await store.list();
  } catch (e) {
    messages.show(`The run history could not be read: ${e.message}`);
  }
  renderRuns();
  await restoreFromUrl();
  // The form and the buttons only now, when there is a state for them to change.
  controls.listen(timed(settingsChanged));
  setRunning(false);
  $('#train').addEventListener('click', () => train());
  $('#slow-anyway').addEventListener('click', () => train({ checked: true }));
  $('#slow-smaller').addEventListener('click', async () => {
    const { config, page } = state.smallerRun;
    controls.write(config, page);
    await applySettings(controls.read(config, state.defaults[config.dataset]));
    train({ checked: true });
  });
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
  window.addEventListener('hashchange', () => {
    if (state.running) return;
    if (location.hash.includes('lesson=')) openLessonFromUrl();
    else if (location.hash !== toHash(state.settings.config, state.settings.page)) restoreFromUrl();
  });
  wireFiles();
  $('#cifar-kept').hidden = !info.cifarKept;
  if (state.backend.kind === 'cpu') {
    messages.show(`${info.error ? `No GPU here (${info.error}). ` : ''}${NO_WEBGPU}`, 'notice');
  }
  const slow = state.backend.slow ? ' Training will be slow here: small runs and the lessons take minutes; a larger run is timed first.' : '';
  status.text(state.backend.kind === 'cpu' ? `Ready. Training runs on ${backendName(state.backend)}.${slow}`
    : `Ready. GPU: ${adapterName(info.adapter.description)}.${slow}`);
  keepOffline();
  document.body.dataset.ready = 'true';
  if (state.backend.kind === 'gpu') warmUp();
}

// Which kernel variant each GEMM-shaped pass runs with on this adapter (picked by timing them
// here once; see the README), under the status line.
function showKernels(kernels) {
  if (!kernels) return;
  const passes = kernels.variants.map(({ pass, variants }) => `${pass} ${variants.join(' + ')}`).join(', ');
  $('#kernels').textContent = `Kernels on ${adapterName(kernels.adapter)}: ${passes || 'none prepared yet'}`
    + ` (for each pass and shape, the fastest of the variants timed once on this adapter; ${Object.keys(kernels.picks).length} timed so far).`;
  $('#kernels').hidden = false;
}

// While the visitor reads the page, the worker times kernel variants (first visit with this
// adapter only) and compiles every pipeline of the current run, so that Train starts at once.
async function warmUp() {
  try {
    const r = await client.send('warm', { config: state.settings.config });
    if (!r) return;
    perf.warm = { ms: r.ms, timed: r.timed, pipelines: r.pipelines, stopped: r.stopped };
    showKernels(r.kernels);
  } catch (e) {
    $('#kernels').textContent = `Preparing the GPU kernels failed: ${e.message}`;
    $('#kernels').hidden = false;
  } finally {
    perf.warmed = true;
  }
}

main().catch((e) => messages.show(`The page failed to start: ${e.message}`));
