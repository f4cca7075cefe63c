// The training worker: loads the Rust core (WebAssembly), holds the datasets and the one run in
// progress, and answers the page's commands. Requests are `{id, cmd, ...}` and get `{id, ok,
// result | error}`; a run also posts events `{event: 'started' | 'progress' | 'epoch' | 'done' |
// 'stopped' | 'failed', ...}`; a lesson posts the events of lesson-runner.js. The page never touches
// the GPU or the wasm module itself. The run's trainer is freed the moment the run ends, however it
// ends, so its GPU memory is given back.
//
// Runs train on WebGPU, or, where the browser offers no WebGPU adapter, on the core's CPU
// reference ops (the same numbers within the reference tolerance, much slower). Data files are
// kept in the Cache API (data.js), so MNIST is downloaded once per browser and a dropped CIFAR-10
// archive is not asked for again.

import init, {
  adapter_info, catalog, checkpoint_info, classify, default_config, gpu_kernels, gpu_memory, kernel_picks, lessons, measure_speed,
  set_kernel_picks, stop_warm_up, validate_config, schedule_curve, warm_up, WebDataset, WebLesson, WebTrainer,
} from './pkg/tricklab.js';
import { loadPicks, savePicks } from './kernel-picks.js';
import { runLesson } from './lesson-runner.js';
import { DataFiles } from './data.js';

const MNIST_FILES = ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'];
// Each chunk of steps aims to take about this long, so pause/stop answer quickly and the metrics
// readback (one per chunk) stays a small share of the time.
const CHUNK_TARGET_MS = 300;
const MAX_CHUNK = 64;

const ready = init();
// Lets the worker answer the messages that arrived during a chunk (pause, stop): a chunk on the CPU
// resolves without ever returning to the event loop, which a GPU readback does.
const yieldToMessages = () => new Promise((resolve) => { setTimeout(resolve, 0); });
const files = new DataFiles();
const datasets = {};
let run = null;
// The warm-up started by `warm` (kernel picks and pipelines for the page's current run), which a
// run waits for so that the two do not time kernels against each other.
let warming = Promise.resolve();
// Where runs train: 'gpu' (WebGPU) or 'cpu' (the reference ops), decided once by `init`.
let backend = 'gpu';

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
    return WebDataset.cifar10(bytes, 'cifar-10-binary.tar.gz');
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

const commands = {
  // The core's menus and defaults, the backend runs will use, the GPU adapter (or why there is
  // none), and whether a dropped CIFAR-10 archive is kept.
  async init() {
    await ready;
    const menus = JSON.parse(catalog());
    const defaults = Object.fromEntries(menus.datasets.map(({ name }) => [name, JSON.parse(default_config(name))]));
    loadMnist().catch(() => {}); // in the background, so the first run starts at once
    const picksProblem = set_kernel_picks(await loadPicks());
    const { adapter, error } = await findAdapter();
    backend = adapter ? 'gpu' : 'cpu';
    return {
      catalog: menus, defaults, lessons: JSON.parse(lessons()), backend, adapter, error, cifarKept: await files.hasDroppedCifar(),
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
  // Images per second of `config` on this backend, timed over a few steps of a small batch.
  async speed({ config }) {
    const data = await dataset(config.dataset);
    stop_warm_up();
    await warming;
    return measure_speed(data, JSON.stringify(config), backend);
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
  async train(options) {
    if (run) throw new Error('a run is already in progress; stop it first');
    run = { paused: false, stopped: false, loseDevice: false, wake: null };
    startRun(run, options);
    return true;
  },
  // A lesson: its arms step in turn in the core; pause and stop work as for a run.
  async lesson({ id, seed, tiny }) {
    if (run) throw new Error('a run is already in progress; stop it first');
    run = { paused: false, stopped: false, loseDevice: false, wake: null };
    startLesson(run, { id, seed, tiny });
    return true;
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
  async gpuMemory() {
    const { memory } = await ready;
    return { ...gpu_memory(), wasmBytes: memory.buffer.byteLength };
  },
};

async function startRun(state, { config, trainLimit, testLimit, teacher }) {
  let trainer = null;
  try {
    const data = await dataset(config.dataset);
    stop_warm_up();
    await warming;
    trainer = await WebTrainer.start(data, JSON.stringify(config), trainLimit, testLimit, teacher ? new Uint8Array(teacher) : undefined, backend);
    if (backend === 'gpu') savePicks(kernel_picks());
    self.postMessage({
      event: 'started',
      backend,
      adapter: trainer.adapter,
      kernels: backend === 'gpu' ? gpu_kernels() : null,
      stepsPerEpoch: trainer.steps_per_epoch,
      trainCount: trainer.train_count,
      testCount: trainer.test_count,
    });
    const last = await trainLoop(state, trainer, config.batch_size);
    if (state.stopped) {
      self.postMessage({ event: 'stopped' });
    } else {
      // What the trained network does on the whole test set, for the page's views; its test loss
      // and accuracy are the last epoch's (one evaluation, not two: it is most of the time a run
      // on the CPU spends outside its steps).
      self.postMessage({ event: 'evaluating', backend });
      const views = await trainer.final_views();
      self.postMessage({ event: 'epoch', epoch: last.epoch + 1, train_loss: last.loss, train_acc: last.acc, test_loss: views.test_loss, test_acc: views.test_acc });
      const checkpoint = await trainer.export_checkpoint();
      self.postMessage({ event: 'done', checkpoint: checkpoint.buffer, views }, [checkpoint.buffer]);
    }
  } catch (e) {
    self.postMessage({ event: 'failed', message: e?.message ?? String(e) });
  } finally {
    trainer?.free();
    run = null;
  }
}

async function startLesson(state, { id, seed, tiny }) {
  try {
    const data = await dataset('mnist');
    stop_warm_up();
    await warming;
    await runLesson({ post: (m, transfer) => self.postMessage(m, transfer ?? []), control: state, WebLesson, data, id, seed, tiny, backend });
  } catch (e) {
    self.postMessage({ event: 'failed', message: e?.message ?? String(e) });
  } finally {
    if (backend === 'gpu') savePicks(kernel_picks());
    run = null;
  }
}

async function trainLoop(state, trainer, batchSize) {
  let chunk = 1;
  for (;;) {
    await yieldToMessages();
    while (state.paused && !state.stopped) await new Promise((wake) => { state.wake = wake; });
    if (state.stopped) return null;
    if (state.loseDevice) {
      state.loseDevice = false;
      trainer.lose_device();
    }
    const t0 = performance.now();
    const r = await trainer.run_steps(chunk);
    const ms = performance.now() - t0;
    self.postMessage({ event: 'progress', ...r, lrs: Array.from(r.lrs), images: r.steps * batchSize, ms });
    // The batch the network sees (crop, flip, mixup), once at the start of each epoch.
    if (r.step === r.steps) self.postMessage({ event: 'batch', preview: await trainer.batch_preview() });
    chunk = Math.max(1, Math.min(MAX_CHUNK, Math.round(r.steps * CHUNK_TARGET_MS / Math.max(ms, 1))));
    if (r.done) return r; // the last epoch is evaluated with the final views
    if (r.epoch_done) {
      self.postMessage({ event: 'evaluating', backend });
      const e = await trainer.evaluate();
      self.postMessage({ event: 'epoch', epoch: r.epoch + 1, train_loss: r.loss, train_acc: r.acc, ...e });
    }
  }
}

self.onmessage = async ({ data }) => {
  const { id, cmd } = data;
  try {
    if (!commands[cmd]) throw new Error(`unknown command ${cmd}`);
    self.postMessage({ id, ok: true, result: await commands[cmd](data) });
  } catch (e) {
    self.postMessage({ id, ok: false, error: e?.message ?? String(e) });
  }
};
