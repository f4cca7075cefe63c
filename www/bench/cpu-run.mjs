// Drives the CPU benchmark page (www/bench/cpu.html) in one headless chromium session with
// playwright-core, WebGPU left off: for each model, tricklab's CPU path (the core's `cpu_bench`
// in a Web Worker leading a team of 1, 2, ... workers: one untimed step, then --steps timed
// steps) and then TensorFlow.js's `cpu` backend on the same network and batch on the page's main
// thread (one untimed step, then --tfjs-steps timed steps, the median). Prints one JSON line per
// tricklab run and one per TF.js model; progress goes to stderr. `cargo xtask bench-cpu` serves
// the site cross-origin isolated and runs this with TRICKLAB_URL set; flags: --steps N (5),
// --tfjs-steps N (3), --workers 1,2, --models mnist_resnet,resnet20, --mnist-batch N (64),
// --resnet-batch N (32), --no-tfjs.

import { chromium } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const URL_BASE = process.env.TRICKLAB_URL;
const FLAGS = ['--headless', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run'];

function options(argv) {
  const o = { steps: 5, tfjsSteps: 3, workers: [1, 2], models: ['mnist_resnet', 'resnet20'], mnistBatch: 64, resnetBatch: 32, tfjs: true };
  const numbers = { '--steps': 'steps', '--tfjs-steps': 'tfjsSteps', '--mnist-batch': 'mnistBatch', '--resnet-batch': 'resnetBatch' };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === '--no-tfjs') {
      o.tfjs = false;
      i -= 1;
      continue;
    }
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (numbers[flag]) o[numbers[flag]] = Number(value);
    else if (flag === '--workers') o.workers = value.split(',').map(Number);
    else if (flag === '--models') o.models = value.split(',');
    else throw new Error(`unknown flag ${flag}`);
  }
  for (const k of ['steps', 'tfjsSteps', 'mnistBatch', 'resnetBatch']) {
    if (!(Number.isInteger(o[k]) && o[k] >= 1)) throw new Error(`${k} must be a whole number of at least 1`);
  }
  if (!o.workers.every((w) => Number.isInteger(w) && w >= 1)) throw new Error('--workers takes whole numbers of at least 1, such as 1,2');
  return o;
}

async function open() {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(`${URL_BASE}bench/cpu.html`);
  await page.waitForSelector('body[data-ready]', { timeout: 60_000 }).catch(() => {});
  const state = await page.evaluate(() => ({ loaded: Boolean(window.cpuBench), isolated: self.crossOriginIsolated }));
  if (!state.loaded) {
    await browser.close();
    throw new Error(`the CPU benchmark page did not load${errors.length ? `:\n${errors.join('\n')}` : ''}`);
  }
  if (!state.isolated) {
    await browser.close();
    throw new Error('the page is not cross-origin isolated (crossOriginIsolated is false), so its workers cannot share memory: '
      + 'serve it with `Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy: require-corp` (`cargo xtask bench-cpu` does)');
  }
  return { browser, page, errors };
}

const round = (x, d = 1) => Number(x.toFixed(d));
const batchOf = (o, model) => (model === 'resnet20' ? o.resnetBatch : o.mnistBatch);

/** One model and batch on each worker count; resolves to the JSON lines' objects. */
async function tricklab(page, o, model) {
  const batch = batchOf(o, model);
  // The whole batch's FLOPs: a team's `gflop_per_step` counts one worker's rows only.
  const gflop = await page.evaluate((a) => window.cpuBench.gflop(a.model, a.batch), { model, batch });
  const rows = [];
  let single = null;
  for (const workers of o.workers) {
    const started = Date.now();
    const r = await page.evaluate((a) => window.cpuBench.tricklab(a.workers, a.model, a.batch, a.steps), { workers, model, batch, steps: o.steps });
    console.error(`tricklab ${model} batch ${batch}, ${r.team_note}: ${r.ms_per_step.toFixed(0)} ms per step, ${r.parameters} parameters (${((Date.now() - started) / 1000).toFixed(0)} s)`);
    const d = r.largest_diff;
    if (d && workers !== 1) console.error(`  largest weight difference from one worker's: parameter ${d.at}, ${d.these} against ${d.one_worker}`);
    if (r.workers !== workers) throw new Error(`asked for ${workers} workers, ran on ${r.workers}: ${r.team_note}`);
    if (workers === 1 && Math.abs(gflop - r.gflop_per_step) > 1e-9 * gflop) {
      throw new Error(`the networks differ: ${gflop} GFLOP per step in models.js, ${r.gflop_per_step} in tricklab`);
    }
    if (workers === 1) single = r;
    rows.push({
      model, batch, workers,
      images_per_s: round(r.images_per_s, 2),
      ms_per_step: round(r.ms_per_step),
      gflop_per_s: round((gflop * 1000) / r.ms_per_step, 3),
      max_abs_diff_vs_1_worker: workers === 1 ? 0 : r.max_abs_diff_vs_1_worker,
      speedup_vs_1_worker: single ? round(single.ms_per_step / r.ms_per_step, 2) : null,
      steps: o.steps,
    });
  }
  return rows;
}

/** TF.js's `cpu` backend on the model, beside tricklab's best run of it. */
async function tfjs(page, o, model, ours) {
  const batch = batchOf(o, model);
  console.error(`TF.js cpu ${model} batch ${batch}: 1 untimed step, then ${o.tfjsSteps} timed steps...`);
  const r = await page.evaluate((a) => window.cpuBench.tfjs(a.model, a.batch, a.steps), { model, batch, steps: o.tfjsSteps });
  console.error(`  TF.js ${r.version} on ${r.backend}: first step ${r.first_step_ms.toFixed(0)} ms, then ${r.ms.map((m) => m.toFixed(0)).join(', ')} ms`);
  if (r.backend !== 'cpu') throw new Error(`TF.js ran on ${r.backend}, not cpu`);
  const theirs = (batch * 1000) / r.median_ms;
  const best = ours.length ? Math.max(...ours.map((row) => row.images_per_s)) : null;
  return {
    model, batch, tfjs_backend: 'cpu',
    tfjs_images_per_s: round(theirs, 2),
    tfjs_ms_per_step: round(r.median_ms),
    tricklab_best_images_per_s: best,
    ratio_tricklab_over_tfjs: best === null ? null : round(best / theirs, 2),
  };
}

async function main() {
  if (!URL_BASE) throw new Error('TRICKLAB_URL is not set: run this through `cargo xtask bench-cpu`');
  const o = options(process.argv.slice(2));
  const started = Date.now();
  const { browser, page, errors } = await open();
  try {
    const ours = {};
    for (const model of o.models) {
      ours[model] = await tricklab(page, o, model);
      for (const row of ours[model]) console.log(JSON.stringify(row));
    }
    for (const model of o.tfjs ? o.models : []) {
      console.log(JSON.stringify(await tfjs(page, o, model, ours[model])));
    }
  } finally {
    await browser.close();
  }
  if (errors.length) console.error(`page errors:\n${errors.join('\n')}`);
  console.error(`bench-cpu: ${((Date.now() - started) / 1000).toFixed(0)} s in chromium`);
}

main().catch((e) => {
  console.error(`bench-cpu: ${e.stack ?? e}`);
  process.exit(1);
});
