// Browser tests of the playground: Debian's chromium (SwiftShader's software WebGPU) driven by
// playwright-core against the built site (`cargo xtask build-web` first; `cargo xtask test` does
// both and serves the site from its Rust server, passed in TRICKLAB_URL). Each step writes a
// screenshot to artifacts/screenshots/ at the repository root.

import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from './static-server.mjs';
import { TRICKS } from '../tricks.js';

const SHOTS = fileURLToPath(new URL('../../artifacts/screenshots/', import.meta.url));
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--enable-unsafe-webgpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];
// A run small enough for software WebGPU: 320 images in batches of 16 (20 steps per epoch), two
// epochs, a half-width MNIST ResNet, 0.4 per 256 images scaled to 0.025. Natively (llvmpipe) the
// same settings reach 55% test accuracy:
//   tricklab train --dataset mnist --epochs 2 --batch-size 16 --set base_lr=0.4 --set width_mult=0.5
//                  --set lr_decay_epochs=[] --train-limit 320 --test-limit 200
const SHORT_RUN = 'epochs=2&batch_size=16&base_lr=0.4&width_mult=0.5&lr_decay_epochs=&train_limit=320&test_limit=200';

let server;
let browser;
let context;
let page;
const problems = [];

async function hasWebGpu(b) {
  const p = await b.newPage();
  try {
    await p.goto(`${server.url}styles.css`); // WebGPU needs a secure context, which about:blank is not
    return await p.evaluate(async () => Boolean(navigator.gpu && (await navigator.gpu.requestAdapter())));
  } finally {
    await p.close();
  }
}

// chromium with WebGPU; `--enable-features=Vulkan` only if the plain flags find no adapter.
async function launch() {
  for (const extra of [[], ['--enable-features=Vulkan']]) {
    const b = await chromium.launch({ executablePath: CHROMIUM, args: [...FLAGS, ...extra] });
    if (await hasWebGpu(b)) return b;
    await b.close();
  }
  throw new Error(`${CHROMIUM} offers no WebGPU adapter even with --enable-features=Vulkan`);
}

async function open(hash = '') {
  const p = await context.newPage();
  p.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  p.on('console', (m) => { if (m.type() === 'error') problems.push(`console error: ${m.text()}`); });
  await p.goto(`${server.url}${hash}`);
  await p.waitForSelector('body[data-ready]', { timeout: 60_000 });
  return p;
}

const shot = (p, name) => p.screenshot({ path: `${SHOTS}${name}.png`, fullPage: true });
const preview = (p) => p.evaluate(() => window.tricklab.preview());

async function previewChangesAfter(p, action) {
  const before = await preview(p);
  await action();
  await p.waitForFunction((old) => JSON.stringify(window.tricklab.preview()) !== old, JSON.stringify(before), { timeout: 10_000 });
  return preview(p);
}

test.before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  if (!existsSync(fileURLToPath(new URL('../pkg/tricklab_bg.wasm', import.meta.url)))) {
    throw new Error('www/pkg is missing: run `cargo xtask build-web` first');
  }
  server = process.env.TRICKLAB_URL ? { url: process.env.TRICKLAB_URL, close() {} } : await startServer();
  browser = await launch();
  context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
});

test.after(async () => {
  await browser?.close();
  server?.close();
});

test('the served page loads without errors and finds a GPU', async () => {
  page = await open();
  await shot(page, '01-loaded');
  assert.match(await page.locator('#status').textContent(), /Ready\. GPU:/);
  assert.equal(await page.locator('#messages').textContent(), '');
  assert.deepEqual(problems, []);
});

test('every trick and setting has a control found by its label', async () => {
  for (const trick of TRICKS) {
    const toggle = page.getByLabel(trick.title, { exact: true });
    assert.equal(await toggle.count(), 1, trick.title);
    assert.equal(await toggle.getAttribute('type'), 'checkbox', trick.title);
    for (const p of trick.params) assert.equal(await page.getByLabel(p.label, { exact: true }).count(), 1, p.label);
    assert.match(await page.locator(`[data-trick="${trick.id}"] .trick-about`).textContent(), /=/, `${trick.title} shows its formula`);
  }
  for (const label of ['Dataset', 'Model', 'Epochs', 'Batch size', 'Base learning rate η₀', 'Seed']) {
    assert.equal(await page.getByLabel(label, { exact: true }).count(), 1, label);
  }
});

test('warmup and cosine knobs change the schedule preview at once', async () => {
  const step = await preview(page);
  assert.equal(step.length, 2 * 937, 'MNIST: 2 epochs of 937 steps');
  assert.ok(Math.abs(step[0] - 0.1) < 1e-6, `step decay starts at the scaled rate, 0.4 × 64 / 256: ${step[0]}`);
  assert.ok(Math.abs(step[937] - 0.01) < 1e-6, `and is ×0.1 after epoch 1: ${step[937]}`);

  const longer = await previewChangesAfter(page, () => page.getByLabel('Epochs', { exact: true }).fill('4'));
  assert.equal(longer.length, 4 * 937, 'the preview follows the epochs');

  const warm = await previewChangesAfter(page, () => page.getByLabel('Learning-rate warmup', { exact: true }).check());
  assert.ok(warm[0] < 0.001 && warm[936] > 0.099, `warmup ramps from 0 to 0.1 over epoch 1: ${warm[0]}, ${warm[936]}`);
  assert.ok(warm[468] > 0.04 && warm[468] < 0.06, `halfway through warmup the rate is about half: ${warm[468]}`);

  const cosine = await previewChangesAfter(page, () => page.getByLabel('Cosine decay', { exact: true }).check());
  const last = cosine[cosine.length - 1];
  assert.ok(last < 0.001 && cosine[2811] < cosine[1874], `cosine decays smoothly to 0: ${cosine[1874]}, ${cosine[2811]}, ${last}`);

  const held = await previewChangesAfter(page, () => page.getByLabel('Hold epochs', { exact: true }).fill('1'));
  assert.ok(Math.abs(held[1800] - 0.1) < 1e-6 && held[1800] > cosine[1800], `the hold keeps the full rate in epoch 2: ${held[1800]}`);
  assert.match(page.url(), /lr_mode=cosine/, 'the URL follows the settings');
  await shot(page, '02-schedule-preview');

  // A knob that makes the schedule impossible is explained beside the form.
  await page.getByLabel('Warmup epochs', { exact: true }).fill('9');
  await page.waitForFunction(() => document.querySelector('#config-error').textContent.includes('warmup'));
  assert.ok(await page.locator('#train').isDisabled());
  await shot(page, '03-schedule-error');
  await page.close();
});

test('a short MNIST run shows a falling loss and an accuracy, with a responsive page', async () => {
  page = await open(`#${SHORT_RUN}`);
  await page.locator('#train').click();
  await page.waitForFunction(() => window.tricklab.perf.firstStepMs !== null, null, { timeout: 120_000 });
  await page.waitForFunction(() => /epoch 2\/2/.test(document.querySelector('#status').textContent), null, { timeout: 120_000 });
  // A full-page screenshot relays the page out on its main thread; its tasks are the test's, not the page's.
  const shotStart = await page.evaluate(() => performance.now());
  await shot(page, '04-training');
  const shotEnd = await page.evaluate(() => performance.now());
  await page.waitForFunction(() => /finished/.test(document.querySelector('#status').textContent), null, { timeout: 240_000 });
  await shot(page, '05-finished');

  const status = await page.locator('#status').textContent();
  const acc = Number(status.match(/test accuracy ([\d.]+)%/)[1]);
  assert.ok(acc > 20, `well above chance (10%) after 40 steps: ${acc}%`);
  const losses = await page.evaluate(async () => {
    const db = await new Promise((ok) => { const r = indexedDB.open('tricklab'); r.onsuccess = () => ok(r.result); });
    const runs = await new Promise((ok) => { const r = db.transaction('runs').objectStore('runs').getAll(); r.onsuccess = () => ok(r.result); });
    return runs[0].loss.map(([, l]) => l);
  });
  const third = Math.max(1, Math.floor(losses.length / 3));
  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const early = mean(losses.slice(0, third));
  const late = mean(losses.slice(-third));
  assert.ok(late < early, `the loss falls: first third ${early.toFixed(3)}, last third ${late.toFixed(3)}`);

  const perf = await page.evaluate(() => window.tricklab.perf);
  const during = perf.longTasks.filter((t) => t.start >= perf.trainClickedAt);
  const page_ = during.filter((t) => t.start + t.ms < shotStart || t.start > shotEnd).map((t) => t.ms);
  const longest = Math.max(0, ...page_);
  console.log(`# time from clicking Train to the first step: ${perf.firstStepMs.toFixed(0)} ms`);
  console.log(`# main thread while training: ${page_.length} long tasks (>= 50 ms), longest ${longest.toFixed(0)} ms`
    + ` (${during.length - page_.length} more during the test's screenshot); longest page handler ${perf.longestHandlerMs.toFixed(1)} ms`);
  console.log(`# loss: first third ${early.toFixed(3)}, last third ${late.toFixed(3)}; final test accuracy ${acc}%`);
  assert.ok(longest < 50, `no main-thread task of 50 ms or more while training (longest ${longest} ms)`);
  assert.equal(await page.locator('#history tbody tr[data-run]').count(), 1);
});

test('pause holds the run, resume continues it, stop ends it without a history entry', async () => {
  const stepOf = () => page.evaluate(() => Number(document.querySelector('#status').textContent.match(/step (\d+)\//)?.[1] ?? -1));
  await page.locator('#train').click();
  await page.waitForFunction(() => /step \d+\/20/.test(document.querySelector('#status').textContent), null, { timeout: 60_000 });
  await page.locator('#pause').click();
  await page.waitForTimeout(1500); // a chunk already submitted may still report
  const paused = await stepOf();
  await page.waitForTimeout(1500);
  assert.equal(await stepOf(), paused, 'no steps while paused');
  assert.ok(await page.locator('#resume').isEnabled());
  await page.locator('#resume').click();
  await page.waitForFunction((s) => !/paused/.test(document.querySelector('#status').textContent)
    && Number(document.querySelector('#status').textContent.match(/step (\d+)\//)?.[1]) !== s, paused, { timeout: 60_000 });
  await page.locator('#stop').click();
  await page.waitForFunction(() => /Stopped/.test(document.querySelector('#status').textContent), null, { timeout: 60_000 });
  assert.ok(await page.locator('#train').isEnabled());
  assert.equal(await page.locator('#history tbody tr[data-run]').count(), 1, 'a stopped run is not added');
});

test('a reload keeps the run in the history', async () => {
  await page.reload();
  await page.waitForSelector('body[data-ready]', { timeout: 60_000 });
  const rows = page.locator('#history tbody tr[data-run]');
  assert.equal(await rows.count(), 1);
  assert.match(await rows.first().textContent(), /Run 1.*batch_size=16.*%/);
  assert.match(await page.locator('#ablation tbody').textContent(), /Run 1/);
  // The finished run can now teach the next one.
  const distill = page.getByLabel('Knowledge distillation', { exact: true });
  assert.ok(await distill.isEnabled());
  await page.getByLabel('Compare Run 1').check();
  await shot(page, '06-after-reload');
  await page.close();
});

test('a shared URL restores its config', async () => {
  page = await open('#dataset=mnist&seed=1234&epochs=3&label_smoothing=0.2&lr_mode=cosine&hold_epochs=1&mixup_alpha=0.4&last_gamma=true');
  assert.equal(await page.getByLabel('Seed', { exact: true }).inputValue(), '1234');
  assert.equal(await page.getByLabel('Epochs', { exact: true }).inputValue(), '3');
  assert.ok(await page.getByLabel('Label smoothing', { exact: true }).isChecked());
  assert.equal(await page.getByLabel('ε', { exact: true }).inputValue(), '0.2');
  assert.ok(await page.getByLabel('Cosine decay', { exact: true }).isChecked());
  assert.equal(await page.getByLabel('Hold epochs', { exact: true }).inputValue(), '1');
  assert.ok(await page.getByLabel('Mixup', { exact: true }).isChecked());
  assert.equal(await page.getByLabel('α', { exact: true }).inputValue(), '0.4');
  assert.ok(await page.getByLabel('Zero γ', { exact: true }).isChecked());
  assert.ok(!(await page.getByLabel('Learning-rate warmup', { exact: true }).isChecked()));
  assert.match(page.url(), /seed=1234/);
  assert.equal(await page.locator('#messages').textContent(), '');
  await shot(page, '07-shared-link');
  await page.close();
});

test('a malformed link shows a message and falls back to the defaults', async () => {
  page = await open('#epochs=lots&seed=7');
  const message = page.locator('#messages p.error');
  assert.equal(await message.count(), 1);
  assert.match(await message.textContent(), /epochs must be a whole number.*default settings/);
  assert.equal(await page.getByLabel('Epochs', { exact: true }).inputValue(), '2');
  assert.equal(await page.getByLabel('Seed', { exact: true }).inputValue(), '42');
  await shot(page, '08-bad-link');
  await page.close();

  page = await open('#label_smoothing=1.5');
  assert.match(await page.locator('#messages p.error').textContent(), /label_smoothing.*must be in \[0, 1\]/);
  await page.close();
});

test('without WebGPU the page says which browsers work', async () => {
  const p = await context.newPage();
  await p.addInitScript(() => Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined }));
  await p.goto(server.url);
  await p.waitForSelector('body[data-ready]', { timeout: 60_000 });
  assert.match(await p.locator('#messages').textContent(), /WebGPU.*Chrome or Edge 113/);
  assert.ok(await p.locator('#train').isDisabled());
  assert.equal(await p.locator('#history tbody tr[data-run]').count(), 1, 'the run history is still shown');
  await shot(p, '09-no-webgpu');
  await p.close();
  assert.deepEqual(problems, []);
});
