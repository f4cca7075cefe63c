// Drives the side-by-side benchmark page (www/bench/) in one headless chromium session with
// playwright-core: for each model it builds both sides (timing each one's first step), runs one
// untimed warm-up step of each, then --steps timed steps, tricklab and TensorFlow.js in turn.
// Prints one JSON line per model and a table. `cargo xtask bench-web` serves the site and runs
// this with TRICKLAB_URL set; flags: --resnet-batch N (8), --mnist-batch N (32),
// --mobilenet-batch N (8), --steps N (10), --models resnet20,mnist_resnet,mobilenetv2, --profile (then where tricklab's step time goes, per kernel
// family), --require-hardware (print why and stop when chromium offers only
// a software adapter; `cargo xtask bench-gpu` uses it), --allow-software (lifts that),
// --interleaved-steps N (20; 0 skips it): when two or more models ran, tricklab alone with every
// model built at once and their steps taken in turn, one of each per round, printing one more JSON
// line with each model's median ms and GFLOP/s and the ratios of GFLOP/s to the first model's.

import { chromium } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const URL_BASE = process.env.TRICKLAB_URL;
const FLAGS = ['--headless', '--no-sandbox', '--enable-unsafe-webgpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];
// A software-WebGPU TF.js step takes tens of seconds at batch 8; nothing should take this long.
const STEP_TIMEOUT_MS = 15 * 60 * 1000;

function options(argv) {
  const o = { resnetBatch: 8, mnistBatch: 32, mobilenetBatch: 8, steps: 10, models: ['resnet20', 'mnist_resnet', 'mobilenetv2'], requireHardware: false, allowSoftware: false, profile: false, interleavedSteps: 20 };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === '--require-hardware' || flag === '--allow-software' || flag === '--profile') {
      o[{ '--require-hardware': 'requireHardware', '--allow-software': 'allowSoftware', '--profile': 'profile' }[flag]] = true;
      i -= 1;
      continue;
    }
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (flag === '--resnet-batch') o.resnetBatch = Number(value);
    else if (flag === '--mnist-batch') o.mnistBatch = Number(value);
    else if (flag === '--mobilenet-batch') o.mobilenetBatch = Number(value);
    else if (flag === '--steps') o.steps = Number(value);
    else if (flag === '--models') o.models = value.split(',');
    else if (flag === '--interleaved-steps') o.interleavedSteps = Number(value);
    else throw new Error(`unknown flag ${flag}`);
  }
  if (!(o.interleavedSteps === 0 || o.interleavedSteps >= 10)) throw new Error('--interleaved-steps must be 0 or at least 10');
  if (!(o.steps >= 10)) throw new Error('--steps must be at least 10 (the issue asks for a median over 10 or more)');
  return o;
}

async function launch() {
  for (const extra of [[], ['--enable-features=Vulkan']]) {
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: [...FLAGS, ...extra] });
    const page = await browser.newPage();
    page.setDefaultTimeout(STEP_TIMEOUT_MS);
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    await page.goto(`${URL_BASE}bench/`);
    await page.waitForSelector('body[data-ready]', { timeout: 60_000 }).catch(() => {});
    const ok = await page.evaluate(async () => Boolean(window.bench && navigator.gpu && (await navigator.gpu.requestAdapter())));
    if (ok) return { browser, page, errors };
    await browser.close();
    if (errors.length) console.error(errors.join('\n'));
  }
  throw new Error(`${CHROMIUM} offers no WebGPU adapter (or the bench page did not load)`);
}

function median(v) {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const round = (x, d = 1) => Number(x.toFixed(d));

async function compare(page, model, batch, steps, withProfile) {
  const info = await page.evaluate(([m, b]) => window.bench.setup(m, b), [model, batch]);
  const f = info.tricklab_first_step;
  console.error(`${model} batch ${batch}: tricklab on ${info.tricklab_adapter} (${info.tricklab_dispatches} dispatches per step), TF.js ${info.tfjs_version} on ${info.tfjs_backend}`);
  console.error(`  first step: tricklab ${info.tricklab_first_step_ms.toFixed(0)} ms (device ${f.device_ms.toFixed(0)}, kernel timing ${f.tune_ms.toFixed(0)}, compile ${f.compile_ms.toFixed(0)} for ${f.pipelines} pipelines, upload ${f.upload_ms.toFixed(0)}, step ${f.step_ms.toFixed(0)}), TF.js ${info.tfjs_first_step_ms.toFixed(0)} ms`);
  console.error(`  variants: ${Object.entries(info.tricklab_variants).map(([p, v]) => `${p} ${v.join('+')}`).join(', ')}`
    + ` (subgroups ${f.subgroups ? 'offered' : 'not offered'})`);
  for (const t of info.tricklab_kernel_timings) {
    const cells = Object.entries(t.ms).map(([v, ms]) => `${v} ${(t.gflop / (ms / 1e3)).toFixed(3)}`).join(', ');
    console.error(`    ${t.pass.padEnd(22)} ${t.shape.padEnd(28)} GFLOP/s: ${cells} -> ${t.picked}`);
  }
  await page.evaluate(() => window.bench.stepBoth()); // warm-up
  const ours = [];
  const theirs = [];
  for (let i = 0; i < steps; i++) {
    const r = await page.evaluate(() => window.bench.stepBoth());
    ours.push(r.tricklab_ms);
    theirs.push(r.tfjs_ms);
    console.error(`  step ${i + 1}/${steps}: tricklab ${r.tricklab_ms.toFixed(0)} ms, TF.js ${r.tfjs_ms.toFixed(0)} ms`);
  }
  if (withProfile) {
    const rows = await page.evaluate(() => window.bench.profile());
    const total = rows.reduce((sum, r) => sum + r.ms, 0);
    console.error(`  profile (each dispatch alone, summed per family; ${total.toFixed(0)} ms in all):`);
    for (const r of rows.slice(0, 12)) console.error(`    ${r.family.padEnd(44)} ${String(r.count).padStart(4)} ${r.ms.toFixed(1).padStart(8)} ms ${(100 * r.ms / total).toFixed(1).padStart(5)}%`);
  }
  await page.evaluate(() => window.bench.teardown());
  const a = median(ours);
  const b = median(theirs);
  return {
    model,
    batch,
    tricklab_ms_per_step: round(a),
    tfjs_ms_per_step: round(b),
    ratio: round(b / a, 2),
    tricklab_first_step_ms: round(info.tricklab_first_step_ms, 0),
    // The same first step once the adapter's kernel picks are known (a later visit): without the
    // one-time kernel timing.
    tricklab_first_step_known_picks_ms: round(info.tricklab_first_step_ms - f.tune_ms, 0),
    first_step_breakdown_ms: {
      device: round(f.device_ms, 0), kernel_timing: round(f.tune_ms, 0), compile: round(f.compile_ms, 0),
      upload: round(f.upload_ms, 0), step: round(f.step_ms, 0),
    },
    pipelines: f.pipelines,
    tricklab_variants: info.tricklab_variants,
    kernel_timings: info.tricklab_kernel_timings.map((t) => ({
      pass: t.pass, shape: t.shape, picked: t.picked,
      gflop_per_s: Object.fromEntries(Object.entries(t.ms).map(([v, ms]) => [v, round(t.gflop / (ms / 1e3), 3)])),
    })),
    tfjs_first_step_ms: round(info.tfjs_first_step_ms, 0),
    gflop_per_step: round(info.gflop, 4),
    tricklab_images_per_s: round((batch * 1000) / a, 2),
    tfjs_images_per_s: round((batch * 1000) / b, 2),
    tricklab_gflop_per_s: round((info.gflop * 1000) / a, 3),
    tfjs_gflop_per_s: round((info.gflop * 1000) / b, 3),
    steps,
  };
}

// tricklab alone, every model built at once, one step of each per round (after one warm-up round):
// a slow spell of the machine then hits all of them, so the ratio of their GFLOP/s holds still
// better than between rows measured minutes apart. The ratio is also taken round by round.
async function interleaved(page, models, steps) {
  const built = [];
  for (const [model, batch] of models) built.push(await page.evaluate(([m, b]) => window.bench.setupAlone(m, b), [model, batch]));
  const ms = Object.fromEntries(models.map(([m]) => [m, []]));
  try {
    for (let k = 0; k <= steps; k++) {
      const cells = [];
      for (const [model] of models) {
        const t = await page.evaluate((m) => window.bench.stepAlone(m), model);
        if (k > 0) ms[model].push(t);
        cells.push(`${model} ${t.toFixed(0)} ms`);
      }
      console.error(`  ${k === 0 ? 'warm-up' : `round ${k}/${steps}`}: ${cells.join(', ')}`);
    }
  } finally {
    await page.evaluate(() => window.bench.teardownAlone());
  }
  const [first] = models[0];
  const gflop = Object.fromEntries(built.map((b) => [b.model, b.gflop]));
  const rate = (m, t) => (gflop[m] * 1000) / t;
  const mid = Object.fromEntries(built.map((b) => [b.model, median(ms[b.model])]));
  const per = {};
  for (const { model, batch } of built) {
    per[model] = { batch, ms_per_step: round(mid[model]), gflop_per_s: round(rate(model, mid[model]), 3), images_per_s: round((batch * 1000) / mid[model], 2) };
  }
  const ratios = {};
  for (const { model } of built.slice(1)) {
    const byRound = ms[model].map((t, i) => rate(first, ms[first][i]) / rate(model, t));
    ratios[`${first}_over_${model}`] = {
      of_medians: round(rate(first, mid[first]) / rate(model, mid[model]), 3),
      median_of_rounds: round(median(byRound), 3),
      min_of_rounds: round(Math.min(...byRound), 3),
      max_of_rounds: round(Math.max(...byRound), 3),
    };
  }
  return { measurement: 'tricklab_interleaved', steps, models: per, gflop_per_s_ratios: ratios };
}

function table(rows) {
  const head = ['model', 'batch', 'tricklab ms', 'TF.js ms', 'ratio', 'tricklab img/s', 'TF.js img/s', 'first step tricklab / TF.js ms', 'GFLOP/step'];
  const cells = rows.map((r) => [r.model, r.batch, r.tricklab_ms_per_step, r.tfjs_ms_per_step, r.ratio, r.tricklab_images_per_s, r.tfjs_images_per_s, `${r.tricklab_first_step_ms} / ${r.tfjs_first_step_ms}`, r.gflop_per_step].map(String));
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c) => c.map((v, i) => v.padStart(widths[i])).join('  ');
  return [line(head), ...cells.map(line)].join('\n');
}

async function main() {
  if (!URL_BASE) throw new Error('TRICKLAB_URL is not set: run this through `cargo xtask bench-web`');
  const o = options(process.argv.slice(2));
  const { browser, page, errors } = await launch();
  if (o.requireHardware && !o.allowSoftware) {
    const info = await page.evaluate(async () => {
      const a = await navigator.gpu.requestAdapter();
      return { fallback: a.isFallbackAdapter ?? a.info?.isFallbackAdapter ?? false, vendor: a.info?.vendor ?? '', architecture: a.info?.architecture ?? '', description: a.info?.description ?? '' };
    });
    const software = info.fallback || /swiftshader|llvmpipe|lavapipe/i.test(`${info.vendor} ${info.architecture} ${info.description}`);
    if (software) {
      console.log(JSON.stringify({ measurement: 'browser', skipped: `chromium offers only a software WebGPU adapter here (${info.vendor} ${info.architecture} ${info.description})`.trim() }));
      await browser.close();
      return;
    }
  }
  const rows = [];
  try {
    for (const model of o.models) {
      const batch = { resnet20: o.resnetBatch, mobilenetv2: o.mobilenetBatch }[model] ?? o.mnistBatch;
      const row = await compare(page, model, batch, o.steps, o.profile);
      console.log(JSON.stringify(row));
      rows.push(row);
    }
    if (o.interleavedSteps > 0 && rows.length >= 2) {
      console.error(`tricklab alone, ${rows.map((r) => r.model).join(' and ')} built at once, one step of each per round:`);
      const line = await interleaved(page, rows.map((r) => [r.model, r.batch]), o.interleavedSteps);
      console.log(JSON.stringify(line));
      for (const [pair, r] of Object.entries(line.gflop_per_s_ratios)) {
        console.error(`  GFLOP/s ratio ${pair.replace('_over_', ' / ')}: ${r.of_medians} of the medians; round by round ${r.median_of_rounds} (median), ${r.min_of_rounds}-${r.max_of_rounds}`);
      }
    }
  } finally {
    await browser.close();
  }
  console.log(`\n${table(rows)}`);
  console.log('ms = median per training step (forward, loss, backward, SGD with momentum; until the loss is read back)');
  console.log(`over ${o.steps} steps after one warm-up step, the two alternating; ratio = TF.js ms / tricklab ms.`);
  console.log('GFLOP/step = 3 x forward FLOPs, counting 2 per multiply-add in conv and linear layers only');
  console.log('(forward, input gradient and weight gradient each do one forward\'s worth).');
  if (errors.length) console.error(`page errors:\n${errors.join('\n')}`);
}

main().catch((e) => {
  console.error(`bench-web: ${e.stack ?? e}`);
  process.exit(1);
});
