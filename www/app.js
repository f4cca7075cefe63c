// Wires the playground together: one PageState (state.js) that every controller changes, the
// views that show it, and the controllers: the settings and the URL (settings.js), the run in
// progress (run.js, run-time.js), the charts (charts.js), the run history (runs.js), files in and
// out (files.js), the lessons (lessons.js) and offline use (offline.js). The page renders and
// sends commands; all training happens in the worker (worker.js; protocol.js declares its
// messages), on WebGPU or, without it, on the CPU, so the tab stays responsive. Worker events
// carry their run's id and go to the run or lesson that has it.

import TABLE from './fields-table.js';
import { $ } from './dom.js';
import { TrainerClient } from './trainer-client.js';
import { RunStore } from './store.js';
import { PageState, machineAsked } from './state.js';
import { Lessons } from './lessons.js';
import { NetworkView } from './views/network.js';
import { ControlsView } from './views/controls.js';
import { MessageView, StatusView } from './views/status.js';
import { HistoryView } from './views/history.js';
import { AblationView } from './views/ablation.js';
import { SettingsController } from './settings.js';
import { RunController } from './run.js';
import { chartsController } from './charts.js';
import { RunsController } from './runs.js';
import { FilesController } from './files.js';
import { isolation, keepOffline } from './offline.js';
import { Routes } from './routes.js';
import { LessonFiles } from './lesson-files.js';
import { ClassResults } from './class.js';
import { CheckComputer } from './check.js';
import { Warmer, adapterName } from './warm.js';

const NO_WEBGPU = 'Without WebGPU, this page trains on your computer\'s CPU instead (WebAssembly), with the same numbers '
  + 'but much more slowly. To train on your GPU, use Chrome or Edge 113 or newer (Windows, macOS, ChromeOS, Android), '
  + 'Chrome on Linux with chrome://flags/#enable-unsafe-webgpu turned on, Safari 26 or newer, or Firefox 141 or newer on Windows.';

// Where runs train, in the words of the status line (on the CPU: how many workers share a batch).
const backendName = (backend) => (backend.kind === 'cpu' ? `the CPU (WebAssembly${backend.adapter ? '' : ', no WebGPU'}; ${backend.cpu.note})`
  : `the GPU: ${adapterName(backend.adapter.description)}`);

// Measurements the browser tests read: main-thread long tasks and the time to the first step.
const perf = { longTasks: [], longestTaskMs: 0, longestHandlerMs: 0, firstStepMs: null, trainClickedAt: null, warm: null, warmed: false, warmups: [], slowHandlers: [] };
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
      const ms = performance.now() - t0;
      perf.longestHandlerMs = Math.max(perf.longestHandlerMs, ms);
      if (ms >= 50) perf.slowHandlers.push({ at: t0, ms, what: args[0]?.event ?? args[0]?.type ?? fn.name });
    }
  };
}

// What every controller reaches: the state, the worker, the store, the views and each other.
const state = new PageState();
const status = new StatusView($('#status'));
const page = {
  state, perf, timed, store: new RunStore(), messages: new MessageView($('#messages')),
  controls: new ControlsView($('#general'), $('#tricks'), $('#tweaks')),
  ablation: new AblationView($('#ablation')),
  // The status line says `text` (and the state remembers what it says).
  say: (text) => {
    state.statusLine = text;
    status.text(text);
  },
  where: (kind) => backendName(kind ? { ...state.backend, kind } : state.backend),
  routes: new Routes(),
};
page.client = new TrainerClient(timed(onRunEvent));
page.warmer = new Warmer(page);
page.showKernels = (kernels) => page.warmer.showKernels(kernels);
page.settings = new SettingsController(page);
page.run = new RunController(page);
page.charts = chartsController(page);
page.runs = new RunsController(page);
page.files = new FilesController(page);
page.lessonFiles = new LessonFiles(page);
page.classResults = new ClassResults(page);
page.checkComputer = new CheckComputer(page);
page.history = new HistoryView($('#history'), page.runs.handlers);
page.network = new NetworkView(
  { pick: $('#network-pick'), batch: $('#network-batch'), grid: $('#network-grid'), confusion: $('#network-confusion'), draw: $('#network-draw'), empty: $('#network .empty') },
  {
    onPick: (id) => page.runs.showNetwork(id),
    classify: async (id, image) => page.client.send('classify', { checkpoint: await page.store.checkpoint(id), image }),
  },
);
page.lessons = new Lessons($('#lessons-list'), $('#lesson-panel'), {
  start: (args) => {
    const run = state.begin('lesson');
    page.run.setRunning(true);
    return page.client.send('lesson', { ...args, run });
  },
  ended: () => {
    state.end();
    page.run.setRunning(false);
  },
  saveRun: (run) => page.runs.saveLessonRun(run),
  showMessage: (text) => page.messages.show(text),
  where: (kind) => backendName(kind ? { ...state.backend, kind } : state.backend),
  // An opened lesson shows in its view, its arms' pipelines compiled while the visitor reads.
  shown: (lesson) => {
    // The heading takes the focus when the visitor opened it, not at load (nor inside a tutorial's iframe).
    page.routes.setView('lesson', { focus: document.body.dataset.ready === 'true' && !document.body.classList.contains('embed') });
    if (state.ready && !state.running) page.warmer.lesson(lesson);
  },
});

// The planned schedule, so a test can check the preview's data as well as its picture, and the
// worker's commands (its test hooks among them: loseDevice, gpuMemory).
window.tricklab = {
  perf, preview: () => Array.from(state.curve), worker: (cmd, args) => page.client.send(cmd, args), lessons: page.lessons,
  warming: () => page.warmer.queue, backendPick: null,
};

// A worker event goes to the run or lesson whose id it carries; one without an id (the worker
// itself failed) to whatever trains.
function onRunEvent(ev) {
  const { active } = state;
  if (!active || (ev.run !== null && ev.run !== active.id)) return;
  if (active.kind === 'lesson') page.lessons.onEvent(ev);
  else page.run.onEvent(ev);
}

// ---- start -------------------------------------------------------------------------------------

// What the core says at start: its menus, defaults and lessons, and where runs will train.
async function startCore() {
  page.say('Loading the training core…');
  let asked = { workers: null, backend: null };
  try {
    asked = machineAsked(decodeURIComponent(location.hash));
  } catch (e) {
    page.messages.show(`This link's choice for this computer is ignored: ${e.message}.`);
  }
  // A browser may keep its backend (the page's tests keep WebGPU on SwiftShader so).
  asked.backend ??= localStorage.getItem('tricklab.backend');
  const info = await page.client.send('init', { ...asked, isolation: isolation() });
  state.defaults = info.defaults;
  state.catalog = info.catalog;
  state.lessons = info.lessons;
  page.lessons.setCatalog(info.lessons);
  // Where runs train: the GPU, or the CPU where WebGPU offers no adapter; either is slow when it
  // is the CPU (a software adapter such as SwiftShader or llvmpipe included).
  window.tricklab.backendPick = info.pick;
  state.backend = { kind: info.backend, adapter: info.adapter, error: info.error, cpu: info.cpu, slow: info.backend === 'cpu' || Boolean(info.adapter?.software) };
  document.body.dataset.cpuWorkers = info.cpu?.workers ?? '';
  state.ready = true;
  // The form was built from the page's copy of the field table: it must be this core's.
  if (JSON.stringify(info.fields) !== JSON.stringify(TABLE)) {
    page.messages.show('This page and its training core come from different builds (their config fields differ): reload the page.');
  }
  return info;
}

async function openHistory() {
  const { store, messages } = page;
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
  page.runs.render();
}

// The form and the buttons, once there is a state for them to change.
function wireButtons() {
  const { run, settings } = page;
  page.controls.listen(timed(() => settings.changed()));
  run.setRunning(false);
  $('#train').addEventListener('click', () => run.train());
  $('#slow-anyway').addEventListener('click', () => run.train({ checked: true }));
  $('#slow-smaller').addEventListener('click', async () => {
    await settings.takeSmaller();
    run.train({ checked: true });
  });
  $('#pause').addEventListener('click', () => run.pause());
  $('#resume').addEventListener('click', () => run.resume());
  $('#stop').addEventListener('click', () => run.stop());
  $('#share').addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(location.href);
      page.say('The link to these settings is copied.');
    } catch {
      page.say(`The link to these settings: ${location.href}`);
    }
  });
  window.addEventListener('hashchange', () => settings.hashChanged());
  // A link to where the URL already is (All lessons, after a lesson opened from a file) still goes.
  document.addEventListener('click', (e) => {
    const a = e.target.closest?.('a[href^="#"]');
    if (a && a.getAttribute('href') === (location.hash || '#lessons') && document.body.dataset.view !== a.dataset.nav) settings.hashChanged();
  });
  page.files.wire();
  page.lessonFiles.wire();
}

// Where runs train, said once at start.
function announceBackend(info) {
  if (!info.adapter) page.messages.show(`${info.error ? `No GPU here (${info.error}). ` : ''}${NO_WEBGPU}`, 'notice');
  const slow = state.backend.slow ? ' Training will be slow here: small runs and the lessons take minutes; a larger run is timed first.' : '';
  const picked = info.pick?.why ? ` Picked: ${info.pick.why}.` : '';
  page.say(state.backend.kind === 'cpu' ? `Ready. Training runs on ${backendName(state.backend)}.${picked}${slow}`
    : `Ready. GPU: ${adapterName(info.adapter.description)}.${picked}${slow}`);
}

async function main() {
  for (const button of ['#train', '#pause', '#resume', '#stop']) $(button).disabled = true;
  const info = await startCore();
  await openHistory();
  page.classResults.wire();
  page.checkComputer.wire();
  await page.settings.restore();
  wireButtons();
  $('#cifar-kept').hidden = !info.cifarKept;
  announceBackend(info);
  keepOffline(page.messages);
  page.lessonFiles.loadSite();
  document.body.dataset.ready = 'true';
  if (page.lessons.open) page.warmer.lesson(page.lessons.open.lesson);
  else if (!page.routes.current) page.warmer.settings();
}

main().catch((e) => page.messages.show(`The page failed to start: ${e.message}`));
