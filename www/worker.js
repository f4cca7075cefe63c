// The training worker: loads the Rust core (WebAssembly), holds the datasets and the one run in
// progress (a run, run-runner.js, or a lesson, lesson-runner.js, both stepped by step-loop.js), and
// answers the page's commands. The commands and the events, each event with its run's id, are
// declared in protocol.js. The page never touches the GPU or the wasm module itself.
//
// Runs train on WebGPU, or, where the browser offers no WebGPU adapter, on the core's CPU
// reference ops (the same numbers within the reference tolerance, much slower). Data files are
// kept in the Cache API (data.js), so MNIST is downloaded once per browser and a dropped CIFAR-10
// archive is not asked for again.

import init, {
  adapter_info, break_kernel_variant, catalog, check_kernel_variants, check_summary, checkpoint_info, classify, estimate_lesson, config_fields, default_config, gpu_kernels, gpu_memory, kernel_picks, lesson_from_runs, lessons, measure_speed, parse_lesson, pool_class,
  set_cpu_team, set_kernel_picks, stop_warm_up, validate_config, schedule_curve, warm_up, WebDataset, WebLesson, WebTrainer,
} from './pkg/tricklab.js';
import { loadPicks, savePicks } from './kernel-picks.js';
import { runLesson } from './lesson-runner.js';
import { runTraining } from './run-runner.js';
import { runEvent } from './protocol.js';
import { DataFiles } from './data.js';
import { setUpTeam, teamFailed } from './cpu-team.js';
import { pickBackend } from './backend-pick.js';

const MNIST_FILES = ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'];

const ready = init();
const files = new DataFiles();
const datasets = {};
// The run or lesson in progress: {id (the page's), paused, stopped, loseDevice, wake}.
let run = null;
// The warm-up started by `warm` (kernel picks and pipelines for the page's current run), which a
// run waits for so that the two do not time kernels against each other.
let warming = Promise.resolve();
// Where runs train unless a run's own timing says otherwise: 'gpu' (WebGPU) or 'cpu' (the
// reference ops), decided by `init` for the default run; and the adapter `init` found.
let backend = 'gpu';
let adapterFound = null;
// How CPU runs share their batches: {workers, note}, and what the page asked for ({workers, isolation}).
let cpu = null;
let cpuAsked = {};

// MNIST's four gzipped IDX files (the core inflates them), from the cache after the first visit.
function loadMnist() {
  datasets.mnist ??= (async () => {
    await ready;
    const bytes = await Promise.all(MNIST_FILES.map((f) => files.get(`data/mnist/${f}.gz`)));
    const t0 = performance.now();
    const data = WebDataset.mnist(...bytes);
    files.parsedMs.mnist = performance.now() - t0;
    return data;
  })();
  datasets.mnist.catch(() => { datasets.mnist = undefined; });
  return datasets.mnist;
}

// CIFAR-10: the archive the visitor dropped (kept in this browser), else the site's own copy.
function loadCifar() {
  datasets.cifar10 ??= (async () => {
    await ready;
    const bytes = await files.cifar();
    if (!bytes) {
      throw new Error('CIFAR-10 is not loaded: drop the official cifar-10-binary.tar.gz onto the page '
        + '(from https://www.cs.toronto.edu/~kriz/cifar-10.html; it is read here and never uploaded)');
    }
    return WebDataset.cifar10(bytes, files.cifarName);
  })();
  datasets.cifar10.catch(() => { datasets.cifar10 = undefined; });
  return datasets.cifar10;
}

const dataset = (kind) => (kind === 'cifar10' ? loadCifar() : loadMnist());

// The WebGPU adapter `{description, software}`, or why there is none (then runs use the CPU).
async function findAdapter() {
  if (!self.navigator.gpu) return { adapter: null, error: 'this browser has no WebGPU' };
  const probe = await self.navigator.gpu.requestAdapter().catch(() => null);
  if (!probe) return { adapter: null, error: 'WebGPU offers no adapter here: no usable GPU, or WebGPU is turned off' };
  try {
    return { adapter: await adapter_info(), error: null };
  } catch (e) {
    return { adapter: null, error: e.message };
  }
}

// Where a run of `config` trains (backend-pick.js), on the adapter `init` found: a hardware GPU;
// on a software one, the faster of it and the CPU path, timed on a few steps of that run
// (`timing()` first); the CPU where there is no adapter.
async function choose(config, timing) {
  const speed = async (b) => measure_speed(await dataset(config.dataset), JSON.stringify(config), b);
  try {
    return await pickBackend({ adapter: adapterFound, workers: cpu?.workers ?? 1, asked: cpuAsked.backend ?? null, speed, config, timing });
  } catch (e) {
    return { backend: adapterFound ? 'gpu' : 'cpu', why: `timing the two backends failed (${e.message}), so the GPU is used`, measured: false };
  }
}

// The backend for a run or lesson of `config` (run id `id`): the page hears 'picking' while the
// two are timed.
function chooseFor(id, config) {
  return choose(config, () => post(runEvent(id, 'picking', {})));
}

// The config of a lesson's largest arm (`file`: a lesson file's text, else `id` names a built-in one).
function lessonConfig(id, file) {
  const lesson = file ? JSON.parse(parse_lesson(file)) : JSON.parse(lessons()).find((l) => l.id === id);
  const arms = lesson?.arms ?? [];
  return arms.reduce((a, b) => (b.config.batch_size > a.config.batch_size ? b : a), arms[0])?.config;
}

const commands = {
  // The core's menus, field table and defaults, the backend runs will use, the GPU adapter (or why there is
  // none), and whether a dropped CIFAR-10 archive is kept.
  async init(asked = {}) {
    await ready;
    const menus = JSON.parse(catalog());
    const defaults = Object.fromEntries(menus.datasets.map(({ name }) => [name, JSON.parse(default_config(name))]));
    loadMnist().catch(() => {}); // in the background, so the first run starts at once
    const picksProblem = set_kernel_picks(await loadPicks());
    const { adapter, error } = await findAdapter();
    adapterFound = adapter;
    cpuAsked = asked;
    cpu = !adapter || adapter.software ? await setUpTeam(asked, set_cpu_team) : null;
    const pick = await choose(defaults.mnist);
    backend = pick.backend;
    return {
      catalog: menus, fields: JSON.parse(config_fields()), defaults, lessons: JSON.parse(lessons()), backend, adapter, error, cpu, pick, cifarKept: await files.hasDroppedCifar(),
      picksProblem: picksProblem || null,
    };
  },
  // While the visitor reads the page: the kernel picks (timed only where this adapter has not met
  // the shapes) and every pipeline a run of `config` needs, so the Train click goes straight to
  // the first step. A run or lesson that starts meanwhile stops it (what it timed is kept).
  // Resolves to {ms, timed, pipelines, stopped, kernels}.
  async warm({ config }) {
    if (backend !== 'gpu' || config.dataset !== 'mnist' || run) return null;
    const t0 = performance.now();
    const job = (async () => {
      const r = await warm_up(await loadMnist(), JSON.stringify(config));
      await savePicks(kernel_picks());
      return r;
    })();
    warming = job.catch(() => {});
    const r = await job;
    return { ms: performance.now() - t0, ...r, kernels: gpu_kernels() };
  },
  // Images per second of `config` on the backend it would train on, timed over a few steps of a
  // small batch (on a software GPU, both are timed if this run has not been).
  async speed({ config }) {
    const data = await dataset(config.dataset);
    stop_warm_up();
    await warming;
    const pick = await choose(config);
    return pick.measured ? pick[pick.backend] : measure_speed(data, JSON.stringify(config), pick.backend);
  },
  // Where each data file came from (the cache or the network), for the tests.
  dataLog() {
    return files.log;
  },
  // How long the core took to inflate and parse each dataset, in ms.
  parseTimes() {
    return files.parsedMs;
  },
  // What a safetensors file holds (its run's config), or why it cannot be a tricklab model.
  async checkpointInfo({ bytes }) {
    await ready;
    return JSON.parse(checkpoint_info(new Uint8Array(bytes)));
  },
  async validate({ config, stepsPerEpoch }) {
    await ready;
    return JSON.parse(validate_config(JSON.stringify(config), stepsPerEpoch));
  },
  async curve({ config, stepsPerEpoch }) {
    await ready;
    return schedule_curve(JSON.stringify(config), stepsPerEpoch);
  },
  // A dropped archive: parsed, then kept in this browser so a reload does not ask for it again.
  // `name` is the file's name, which the core's errors name.
  async loadCifar({ bytes, name }) {
    await ready;
    const data = WebDataset.cifar10(new Uint8Array(bytes), name);
    datasets.cifar10 = Promise.resolve(data);
    const kept = await files.keepDroppedCifar(bytes);
    return { train: data.train_count, test: data.test_count, kept };
  },
  // "Forget it": the kept archive is removed from this browser (and from this tab's memory).
  async forgetCifar() {
    const data = await datasets.cifar10?.catch(() => null);
    data?.free();
    datasets.cifar10 = undefined;
    return files.forgetDroppedCifar();
  },
  // A run (`run`: its id, which its events carry).
  async train(options) {
    begin(options.run, async (control, data) => {
      const pick = await chooseFor(options.run, options.config);
      return runTraining({
        post, control, data, ...options, backend: pick.backend, pick: pick.why, start: WebTrainer.start, onStarted: () => savedKernels(),
      });
    }, options.config.dataset);
    return true;
  },
  // A lesson: its arms step in turn in the core; pause and stop work as for a run. `file`: a
  // lesson file's text (else `id` names a built-in lesson).
  async lesson({ run: runId, id, file, seed, tiny }) {
    begin(runId, async (control, data) => {
      const config = lessonConfig(id, file);
      const pick = config ? await chooseFor(runId, config) : { backend, why: null };
      return runLesson({ post, control, WebLesson, data, id, file, seed, tiny, backend: pick.backend, pick: pick.why });
    }, 'mnist');
    return true;
  },
  // A lesson file's text, read and validated by the core: the lesson, or an error naming the
  // field at fault.
  async parseLesson({ text }) {
    await ready;
    return JSON.parse(parse_lesson(text));
  },
  // The lesson file of two history runs ({name, config, train_limit, test_limit} each).
  async draftLesson({ baseline, other }) {
    await ready;
    return lesson_from_runs(JSON.stringify(baseline), JSON.stringify(other));
  },
  // A class's results of one lesson pooled by the core (lessons::class): `lesson` is a built-in
  // lesson's id or a lesson file's text, `sources` the pasted text and dropped files ({name, text}).
  async poolClass({ lesson, tiny, sources }) {
    await ready;
    return JSON.parse(pool_class(lesson, Boolean(tiny), JSON.stringify(sources)));
  },
  // "Check this computer": every kernel variant against the CPU reference (a failing one is not
  // used here from then on, and the record is saved with the picks); each built-in lesson's
  // estimated duration from a few timed steps of its largest arm; the one-line summary.
  async checkVariants() {
    await ready;
    if (backend !== 'gpu') return [];
    stop_warm_up();
    await warming;
    const checks = await check_kernel_variants();
    await savePicks(kernel_picks());
    return checks;
  },
  async estimateLesson({ id, tiny }) {
    if (run) throw new Error('a run is in progress; check this computer when it has finished');
    const data = await loadMnist();
    stop_warm_up();
    await warming;
    return JSON.parse(await estimate_lesson(data, id, Boolean(tiny), backend));
  },
  async checkSummary({ adapter, checks, failed, estimates }) {
    await ready;
    return check_summary(adapter, checks, JSON.stringify(failed), JSON.stringify(estimates));
  },
  // The class probabilities of one image under a run's saved weights (CPU reference).
  async classify({ checkpoint, image }) {
    await ready;
    return classify(new Uint8Array(checkpoint), image);
  },
  pause() {
    if (run) run.paused = true;
    return true;
  },
  resume() {
    if (run) {
      run.paused = false;
      run.wake?.();
    }
    return true;
  },
  stop() {
    if (run) {
      run.stopped = true;
      run.wake?.();
    }
    return true;
  },
  // Test hooks (www/tests/page.test.mjs): destroy the run's GPU device before its next chunk, as
  // a driver reset would; and the live GPU buffers and bytes, with the wasm memory's size.
  loseDevice() {
    if (run) run.loseDevice = true;
    return Boolean(run);
  },
  // Test hooks (www/tests/class.test.mjs): kernel variant `name` computes wrong results from now
  // on; and what the shared GPU context runs (its variants per pass, picks, variants left out).
  async breakVariant({ name }) {
    await ready;
    await break_kernel_variant(name);
    return true;
  },
  async gpuKernels() {
    await ready;
    return gpu_kernels();
  },
  async gpuMemory() {
    const { memory } = await ready;
    return { ...gpu_memory(), wasmBytes: memory.buffer.byteLength };
  },
};

const post = (message, transfer) => self.postMessage(message, transfer ?? []);

// After a run built its model: the kernel picks it timed are saved, and the kernels it uses shown.
function savedKernels() {
  if (backend !== 'gpu') return null;
  savePicks(kernel_picks());
  return gpu_kernels();
}

// Starts run `id` (a run or a lesson): `work(control, data)` once its dataset is loaded and the
// warm-up has stopped. A failure is its `failed` event; the worker is free again when it ends.
function begin(id, work, datasetKind) {
  if (run) throw new Error('a run is already in progress; stop it first');
  const control = { id, paused: false, stopped: false, loseDevice: false, wake: null };
  run = control;
  (async () => {
    try {
      const data = await dataset(datasetKind);
      stop_warm_up();
      await warming;
      await work(control, data);
    } catch (e) {
      post(runEvent(id, 'failed', { message: e?.message ?? String(e) }));
    } finally {
      if (adapterFound) savePicks(kernel_picks());
      if (teamFailed()) cpu = await setUpTeam(cpuAsked, set_cpu_team);
      run = null;
    }
  })();
}

self.onmessage = async ({ data }) => {
  const { id, cmd } = data;
  try {
    if (!commands[cmd]) throw new Error(`unknown command ${cmd}`);
    self.postMessage({ id, ok: true, result: await commands[cmd](data.args ?? {}) });
  } catch (e) {
    self.postMessage({ id, ok: false, error: e?.message ?? String(e) });
  }
};
