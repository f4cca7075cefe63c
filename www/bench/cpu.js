// The CPU benchmark page's logic. `window.cpuBench` is what cpu-run.mjs calls: `tricklab(...)`
// asks the training worker (cpu-worker.js) for one run of the core's `cpu_bench` on a team of
// `workers`; `tfjs(...)` times TensorFlow.js's `cpu` backend training the same network (models.js)
// here on the main thread, one untimed step then `steps` timed ones.

import { spec, flopsPerStep, TfjsNet } from './models.js';

const tf = window.tf;
const worker = new Worker(new URL('./cpu-worker.js', import.meta.url), { type: 'module' });
const pending = new Map();
let nextId = 1;

worker.onmessage = ({ data }) => {
  const p = pending.get(data.id);
  pending.delete(data.id);
  if (data.error) p.reject(new Error(data.error));
  else p.resolve(data.result);
};
worker.onerror = (e) => {
  for (const p of pending.values()) p.reject(new Error(`the training worker failed: ${e.message ?? 'unknown error'}`));
  pending.clear();
};

/** One run of tricklab's CPU path: {model, batch, workers, steps, ms_per_step, images_per_s,
 * gflop_per_step, max_abs_diff_vs_1_worker, parameters, team_note}. */
function tricklab(workers, model, batch, steps) {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    worker.postMessage({ id, workers, model, batch, steps });
  });
}

function median(v) {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** TensorFlow.js's `cpu` backend on the same network: the first step's ms and each timed step's. */
async function tfjs(model, batch, steps) {
  await tf.setBackend('cpu');
  await tf.ready();
  const s = spec(model, batch);
  const net = new TfjsNet(tf, s, 0.01);
  let t = performance.now();
  await net.step();
  const first = performance.now() - t;
  const ms = [];
  for (let i = 0; i < steps; i += 1) {
    t = performance.now();
    const loss = await net.step();
    ms.push(performance.now() - t);
    if (!Number.isFinite(loss)) throw new Error(`TF.js's loss is not finite: ${loss}`);
  }
  for (const v of net.vars) v.dispose();
  tf.disposeVariables();
  return { model, batch, backend: tf.getBackend(), version: tf.version.tfjs, first_step_ms: first, ms, median_ms: median(ms) };
}

/** The model's GFLOP per step at `batch` (models.js counts them as tricklab's graph does). */
const gflop = (model, batch) => flopsPerStep(spec(model, batch)) / 1e9;

window.cpuBench = { tricklab, tfjs, gflop };

const log = (line) => { document.getElementById('log').textContent += `${line}\n`; };
const button = document.getElementById('run');
button.onclick = async () => {
  button.disabled = true;
  try {
    for (const workers of [1, 2]) {
      const r = await tricklab(workers, 'mnist_resnet', 64, 5);
      log(`${r.workers} worker(s): ${r.ms_per_step.toFixed(0)} ms per step, ${r.images_per_s.toFixed(1)} images/s, max |Δw| vs 1 worker ${r.max_abs_diff_vs_1_worker} (${r.team_note})`);
    }
  } catch (e) {
    log(`failed: ${e.message}`);
  }
  button.disabled = false;
};
button.disabled = false;
document.body.dataset.ready = '';
