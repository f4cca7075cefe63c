// On a software adapter (SwiftShader, llvmpipe: a CPU emulating a GPU) the CPU path may well be
// faster than WebGPU, so the worker times both on a few steps of the run about to train (the core's
// speed probe, `measure_speed`) and trains on the faster; a hardware adapter is always used. At
// start it times the default MNIST run, so the page can say where runs will train. The choice is
// kept with the kernel picks (IndexedDB), per adapter, number of CPU workers and run (`runKey`), so
// a run like one timed before starts at once. The link's `&backend=gpu` or `&backend=cpu` decides
// instead.

import { loadPicks, savePicks } from './kernel-picks.js';

const KEY = 'backend';

// The choice in words: "CPU, 2 workers: 1.46× this software GPU".
function explain(pick) {
  const cpu = pick.workers > 1 ? `CPU, ${pick.workers} workers` : 'CPU, 1 worker';
  const ratio = pick.backend === 'cpu' ? pick.cpu / pick.gpu : pick.gpu / pick.cpu;
  return pick.backend === 'cpu' ? `${cpu}: ${ratio.toFixed(2)}× this software GPU (${pick.cpu.toFixed(1)} against ${pick.gpu.toFixed(1)} images/s)`
    : `the software GPU: ${ratio.toFixed(2)}× the ${cpu} (${pick.gpu.toFixed(1)} against ${pick.cpu.toFixed(1)} images/s)`;
}

// What decides which backend a run is faster on: its data, its network and width, and its batch.
export const runKey = (config) => `${config.dataset} ${config.model} ×${config.width_mult} batch ${config.batch_size}`;

// {backend, why, measured, gpu, cpu} (images per second, where timed) for a run of `config`:
// `asked` is the link's choice (null: measure), `speed(backend)` the images per second of that
// run there, `timing()` is called before the two are timed.
export async function pickBackend({ adapter, workers, asked, speed, config, timing = () => {} }) {
  if (!adapter) return { backend: 'cpu', why: null, measured: false };
  if (!adapter.software) return { backend: 'gpu', why: null, measured: false };
  // Asked for by the link (or kept by this browser): nothing to explain.
  if (asked === 'gpu' || asked === 'cpu') return { backend: asked, why: null, measured: false };
  const key = `${adapter.description} | ${workers} workers | ${runKey(config)}`;
  let kept = {};
  try {
    kept = JSON.parse((await loadPicks(KEY)) || '{}');
  } catch {
    kept = {};
  }
  if (kept[key]) return { ...kept[key], why: `${explain(kept[key])}, timed earlier for ${runKey(config)}`, measured: false };
  timing();
  const gpu = await speed('gpu');
  const cpu = await speed('cpu');
  const pick = { backend: cpu > gpu ? 'cpu' : 'gpu', gpu, cpu, workers };
  kept[key] = pick;
  await savePicks(JSON.stringify(kept), KEY);
  return { ...pick, why: `${explain(pick)}, timed for ${runKey(config)}`, measured: true };
}
