// The kernel variants in the browser (SwiftShader): every variant the adapter offers agrees with
// the CPU reference; the page times them once for its adapter while the visitor reads the page,
// keeps the picks in IndexedDB (a reload times nothing), names the adapter and the variants in
// use, and, warmed up, goes from the Train click to the first finished step quickly.

import test from 'node:test';
import assert from 'node:assert/strict';
import { useBrowser, withPage } from './browser.mjs';

useBrowser();

// The page test's short run: a half-width MNIST ResNet at batch 16.
const SHORT_RUN = 'epochs=1&batch_size=16&base_lr=0.4&width_mult=0.5&lr_decay_epochs=&train_limit=320&test_limit=200';

const warmed = (p) => p.waitForFunction(() => window.tricklab.perf.warmed, null, { timeout: 240_000 }).then(() => p.evaluate(() => window.tricklab.perf.warm));

test('every kernel variant agrees with the CPU reference on this adapter', () => withPage('', {}, async (p) => {
  const checks = await p.evaluate(async () => {
    const m = await import('./pkg/tricklab.js');
    await m.default();
    return m.check_kernel_variants();
  });
  const variants = [...new Set(checks.map((c) => c.variant))].sort();
  assert.deepEqual(variants.filter((v) => v !== 'subgroup'), ['depthwise-2x8', 'depthwise-4x4', 'direct', 'pointwise', 'register', 'register-16x16', 'register-16x8', 'register-8x8', 'tiled', 'wide']);
  const bad = checks.filter((c) => c.mismatch !== null);
  assert.deepEqual(bad, []);
  console.log(`# ${checks.length} checks against the CPU reference, variants ${variants.join(', ')}: all agree`);
}));

test('kernel picks are timed once per adapter, kept, named on the page, and the warmed Train click starts at once', () => withPage(`#${SHORT_RUN}`, {}, async (p) => {
  const first = await warmed(p);
  assert.ok(first && !first.stopped && first.timed > 0, `the first visit times the kernels: ${JSON.stringify(first)}`);
  const text = await p.locator('#kernels').textContent();
  assert.match(text, /^Kernels on .+: conv forward (register|register-8x8|pointwise|wide|tiled)/);
  const saved = await p.evaluate(async () => (await import('./kernel-picks.js')).loadPicks());
  const cache = JSON.parse(saved);
  const [adapter] = Object.keys(cache.adapters);
  assert.ok(Object.keys(cache.adapters[adapter]).length >= first.timed, `${first.timed} passes timed and saved under ${adapter}`);

  await p.reload();
  await p.waitForSelector('body[data-ready]');
  const again = await warmed(p);
  assert.equal(again.timed, 0, 'a reload times nothing: the picks come from IndexedDB');
  console.log(`# warm-up: ${first.ms.toFixed(0)} ms on the first visit (${first.timed} passes timed, ${first.pipelines} pipelines), `
    + `${again.ms.toFixed(0)} ms after a reload (none timed)`);
  console.log(`# ${text}`);

  await p.locator('#train').click();
  await p.waitForFunction(() => window.tricklab.perf.firstStepMs !== null, null, { timeout: 120_000 });
  const ms = await p.evaluate(() => window.tricklab.perf.firstStepMs);
  console.log(`# warmed up, from the Train click to the first finished step: ${ms.toFixed(0)} ms (batch 16, half width)`);
  // The goal for a first step, on a run small enough for software WebGPU to step in a
  // fraction of it (388 ms measured on 2 cores).
  assert.ok(ms < 1000, `first step ${ms.toFixed(0)} ms, under a second`);
  await p.locator('#stop').click();
}));
