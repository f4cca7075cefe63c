// The CPU benchmark's training worker: it leads the team (cpu-team.js starts the helpers; the
// leader blocks in Atomics.wait, which only a worker may) and runs the core's `cpu_bench`. Each
// message {id, workers, model, batch, steps} starts a fresh team of that size and answers
// {id, result} or {id, error}. The weights of a model and batch's one-worker run are kept, so a
// later run of the same model and batch on more workers reports how far its weights are from them.

import init, { cpu_bench, set_cpu_team } from '../pkg/tricklab.js';
import { setUpTeam } from '../cpu-team.js';

const loaded = init();
const oneWorker = new Map();

/** The largest |a[i] - b[i]|, where it is and the two values there. */
function largestDiff(a, b) {
  if (a.length !== b.length) throw new Error(`the weights differ in length: ${a.length} and ${b.length}`);
  let at = 0;
  for (let i = 1; i < a.length; i += 1) if (Math.abs(a[i] - b[i]) > Math.abs(a[at] - b[at])) at = i;
  return { max: Math.abs(a[at] - b[at]), at, these: a[at], one_worker: b[at] };
}

async function bench({ workers, model, batch, steps }) {
  await loaded;
  const team = await setUpTeam({ workers, isolation: null }, set_cpu_team);
  const r = await cpu_bench(model, batch, steps);
  const key = `${model}/${batch}`;
  const { weights, ...result } = r;
  if (r.workers === 1) oneWorker.set(key, weights);
  const base = oneWorker.get(key);
  const diff = base ? largestDiff(weights, base) : null;
  result.max_abs_diff_vs_1_worker = diff?.max ?? null;
  result.largest_diff = diff;
  result.parameters = weights.length;
  result.team_note = team.note;
  return result;
}

self.onmessage = async ({ data }) => {
  try {
    self.postMessage({ id: data.id, result: await bench(data) });
  } catch (e) {
    self.postMessage({ id: data.id, error: String(e?.stack ?? e?.message ?? e) });
  }
};
