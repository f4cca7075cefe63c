// The benchmark page's logic: builds tricklab's step (WebBench, from the wasm package) and the
// TensorFlow.js network (models.js) for one model and batch, then times them in turn, one step
// each, so a slow spell of the machine hits both. `window.bench` is what run.mjs calls.

import init, { WebBench } from '../pkg/tricklab.js';
import { spec, flopsPerStep, TfjsNet } from './models.js';

const tf = window.tf;
let current = null;

const now = () => performance.now();

/** Builds both sides for `model` at `batch` and runs each one's first step (shader compilation
 * included). Resolves to the first-step times and the FLOPs per step. */
async function setup(model, batch) {
  await init();
  const s = spec(model, batch);
  let t = now();
  // Opens a new device, times the kernel variants (none known in a fresh profile), builds the step
  // and runs its first step, timing each phase.
  const ours = await WebBench.create(model, batch);
  const oursFirst = now() - t;
  const phases = ours.first_step;

  t = now();
  await tf.setBackend('webgpu');
  await tf.ready();
  const theirs = new TfjsNet(tf, s, 0.01);
  await theirs.step();
  const theirsFirst = now() - t;

  const gflop = flopsPerStep(s) / 1e9;
  if (Math.abs(gflop - ours.gflop_per_step) > 1e-9 * gflop) {
    throw new Error(`the two networks differ: ${gflop} GFLOP per step in TF.js, ${ours.gflop_per_step} in tricklab`);
  }
  current = { ours, theirs };
  return {
    model, batch, gflop,
    tricklab_first_step_ms: oursFirst,
    tricklab_first_step: phases,
    tricklab_variants: ours.variants,
    tricklab_kernel_timings: ours.kernel_timings,
    tfjs_first_step_ms: theirsFirst,
    tricklab_adapter: ours.adapter,
    tricklab_dispatches: ours.dispatches_per_step,
    tfjs_backend: tf.getBackend(),
    tfjs_version: tf.version.tfjs,
  };
}

/** One tricklab step of `ours` (a WebBench); resolves to {ms, loss}. */
async function timedStep(ours) {
  const t = now();
  const loss = await ours.step();
  return { ms: now() - t, loss };
}

/** One step of each, in turn; resolves to {tricklab_ms, tfjs_ms, tricklab_loss, tfjs_loss}. */
async function stepBoth() {
  const { ours, theirs } = current;
  const { ms: oursMs, loss: oursLoss } = await timedStep(ours);
  const t = now();
  const theirsLoss = await theirs.step();
  const theirsMs = now() - t;
  if (!Number.isFinite(oursLoss) || !Number.isFinite(theirsLoss)) {
    throw new Error(`a loss is not finite: tricklab ${oursLoss}, TF.js ${theirsLoss}`);
  }
  return { tricklab_ms: oursMs, tfjs_ms: theirsMs, tricklab_loss: oursLoss, tfjs_loss: theirsLoss };
}

/** Where tricklab's step time goes: each dispatch alone, summed per kernel family. */
async function profile() {
  return current.ours.profile();
}

/** Frees both sides' GPU memory before the next model. */
function teardown() {
  if (!current) return;
  current.ours.free();
  for (const v of current.theirs.vars) v.dispose();
  tf.disposeVariables();
  current = null;
}

function median(v) {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The whole comparison for one model, as run.mjs does it (for the button). */
async function compare(model, batch, steps, log) {
  const info = await setup(model, batch);
  log(`${model} batch ${batch}: first steps ${info.tricklab_first_step_ms.toFixed(0)} / ${info.tfjs_first_step_ms.toFixed(0)} ms`);
  await stepBoth(); // warm-up
  const ours = [];
  const theirs = [];
  for (let i = 0; i < steps; i++) {
    const r = await stepBoth();
    ours.push(r.tricklab_ms);
    theirs.push(r.tfjs_ms);
    log(`  step ${i + 1}: tricklab ${r.tricklab_ms.toFixed(0)} ms, TF.js ${r.tfjs_ms.toFixed(0)} ms`);
  }
  teardown();
  const a = median(ours);
  const b = median(theirs);
  return { ...info, tricklab_ms_per_step: a, tfjs_ms_per_step: b, ratio: b / a };
}

// tricklab alone, several models built side by side: their steps interleave, one of each in turn,
// so that a slow spell of this (noisy, 2-core) machine hits every model alike and the ratio of
// their GFLOP/s is steadier than one taken from runs minutes apart.
const alone = new Map();

/** Builds tricklab's step for `model` at `batch` beside the others already built (the kernel picks
 * are those the page keeps, found by `setup`). Resolves to {model, batch, gflop} (per step). */
async function setupAlone(model, batch) {
  await init();
  const ours = await WebBench.create(model, batch);
  alone.set(model, ours);
  return { model, batch, gflop: ours.gflop_per_step };
}

/** One tricklab step of `model` (built by `setupAlone`); resolves to its milliseconds. */
async function stepAlone(model) {
  const ours = alone.get(model);
  if (!ours) throw new Error(`${model} is not built: call setupAlone first`);
  const { ms, loss } = await timedStep(ours);
  if (!Number.isFinite(loss)) throw new Error(`${model}: the loss is not finite (${loss})`);
  return ms;
}

function teardownAlone() {
  for (const ours of alone.values()) ours.free();
  alone.clear();
}

window.bench = { setup, stepBoth, profile, teardown, compare, median, setupAlone, stepAlone, teardownAlone };

const button = document.getElementById('run');
const out = document.getElementById('log');
const log = (line) => { out.textContent += `${line}\n`; };
button.disabled = false;
button.addEventListener('click', async () => {
  button.disabled = true;
  try {
    for (const [model, batch] of [['resnet20', 8], ['mnist_resnet', 32], ['mobilenetv2', 8]]) {
      log(JSON.stringify(await compare(model, batch, 10, log)));
    }
  } catch (e) {
    log(`error: ${e.message}`);
  }
  button.disabled = false;
});
document.body.dataset.ready = '1';
