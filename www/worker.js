// The training worker: loads the Rust core (WebAssembly), holds the datasets and the one run in
// progress, and answers the page's commands. Requests are `{id, cmd, ...}` and get `{id, ok,
// result | error}`; a run also posts events `{event: 'started' | 'progress' | 'epoch' | 'done' |
// 'stopped' | 'failed', ...}`; a lesson posts the events of lesson-runner.js. The page never touches
// the GPU or the wasm module itself. The run's trainer is freed the moment the run ends, however it
// ends, so its GPU memory is given back.

import init, {
  adapter_info, catalog, classify, default_config, gpu_memory, lessons, validate_config, schedule_curve, WebDataset, WebLesson, WebTrainer,
} from './pkg/tricklab.js';
import { runLesson } from './lesson-runner.js';

const MNIST_FILES = ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'];
const CIFAR_URL = 'data/cifar-10-binary.tar.gz';
// Each chunk of steps aims to take about this long, so pause/stop answer quickly and the metrics
// readback (one per chunk) stays a small share of the time.
const CHUNK_TARGET_MS = 300;
const MAX_CHUNK = 64;

const ready = init();
const datasets = {};
let run = null;

async function fetchBytes(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: ${response.status} ${response.statusText}`);
  return new Uint8Array(await response.arrayBuffer());
}

function loadMnist() {
  datasets.mnist ??= (async () => {
    await ready;
    const files = await Promise.all(MNIST_FILES.map((f) => fetchBytes(`data/mnist/${f}`)));
    return WebDataset.mnist(...files);
  })();
  return datasets.mnist;
}

// CIFAR-10 from the site's data folder, when the site has it.
function loadServedCifar() {
  datasets.cifar10 ??= (async () => {
    await ready;
    const head = await fetch(CIFAR_URL, { method: 'HEAD' });
    if (!head.ok) {
      throw new Error('CIFAR-10 is not loaded: drop the official cifar-10-binary.tar.gz onto the page '
        + '(from https://www.cs.toronto.edu/~kriz/cifar-10.html; it is read here and never uploaded)');
    }
    return WebDataset.cifar10(await fetchBytes(CIFAR_URL));
  })();
  datasets.cifar10.catch(() => { datasets.cifar10 = undefined; });
  return datasets.cifar10;
}

const dataset = (kind) => (kind === 'cifar10' ? loadServedCifar() : loadMnist());

const commands = {
  // The core's menus and defaults, and the GPU adapter (or why there is none).
  async init() {
    await ready;
    const menus = JSON.parse(catalog());
    const defaults = Object.fromEntries(menus.datasets.map(({ name }) => [name, JSON.parse(default_config(name))]));
    const info = { catalog: menus, defaults, lessons: JSON.parse(lessons()), adapter: null, error: null };
    loadMnist().catch(() => {}); // in the background, so the first run starts at once
    if (!self.navigator.gpu) return { ...info, error: 'no WebGPU in this browser' };
    try {
      return { ...info, adapter: await adapter_info() };
    } catch (e) {
      return { ...info, error: e.message };
    }
  },
  async validate({ config, stepsPerEpoch }) {
    await ready;
    return JSON.parse(validate_config(JSON.stringify(config), stepsPerEpoch));
  },
  async curve({ config, stepsPerEpoch }) {
    await ready;
    return schedule_curve(JSON.stringify(config), stepsPerEpoch);
  },
  async loadCifar({ bytes }) {
    await ready;
    const data = WebDataset.cifar10(new Uint8Array(bytes));
    datasets.cifar10 = Promise.resolve(data);
    return { train: data.train_count, test: data.test_count };
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
    trainer = await WebTrainer.start(data, JSON.stringify(config), trainLimit, testLimit, teacher ? new Uint8Array(teacher) : undefined);
    self.postMessage({
      event: 'started',
      adapter: trainer.adapter,
      stepsPerEpoch: trainer.steps_per_epoch,
      trainCount: trainer.train_count,
      testCount: trainer.test_count,
    });
    await trainLoop(state, trainer, config.batch_size);
    if (state.stopped) {
      self.postMessage({ event: 'stopped' });
    } else {
      // What the trained network does on the whole test set, for the page's views.
      const views = await trainer.final_views();
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
    await runLesson({ post: (m, transfer) => self.postMessage(m, transfer ?? []), control: state, WebLesson, data, id, seed, tiny });
  } catch (e) {
    self.postMessage({ event: 'failed', message: e?.message ?? String(e) });
  } finally {
    run = null;
  }
}

async function trainLoop(state, trainer, batchSize) {
  let chunk = 1;
  for (;;) {
    while (state.paused && !state.stopped) await new Promise((wake) => { state.wake = wake; });
    if (state.stopped) return;
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
    if (r.epoch_done) {
      const e = await trainer.evaluate();
      self.postMessage({ event: 'epoch', epoch: r.epoch + 1, train_loss: r.loss, train_acc: r.acc, ...e });
    }
    if (r.done) return;
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
