// The CPU path over several workers (www/cpu-team.js, the core's train::team): in a chromium
// without WebGPU, once the site's service worker has made the page cross-origin isolated, a run
// and a lesson asked to use 2 workers (`&workers=2`) share each batch between two Web Workers and
// give the one-worker numbers (synchronized batch norm, summed gradients); without isolation (the
// service worker blocked) the page trains on one worker and says why.

import test from 'node:test';
import assert from 'node:assert/strict';
import { SITE, launchWithoutWebGpu, open, ready, shot, useBrowser } from './browser.mjs';
import { SAME_RUN, close, recordStatus, trainedRun, waitStatus, weightsDiff } from './cpu-runs.mjs';

let noGpu;
useBrowser();
test.before(async () => { noGpu = await launchWithoutWebGpu(); });
test.after(async () => { await noGpu?.close(); });

// A page at `hash` in a fresh context, loaded a second time once the site's service worker
// controls it (so it is cross-origin isolated).
async function isolatedPage(hash) {
  const p = await open(hash, { on: noGpu, init: recordStatus });
  await p.waitForFunction(() => Boolean(navigator.serviceWorker.controller), null, { timeout: 60_000 });
  await p.reload();
  await ready(p);
  assert.equal(await p.evaluate(() => self.crossOriginIsolated), true, 'the service worker makes the page cross-origin isolated');
  return p;
}

// The lessons' arms as the history stores them: name, where they trained and epochs.
const lessonArms = (p) => p.evaluate(async () => {
  const { RunStore } = await import('./store.js');
  const runs = await (await new RunStore().open()).list();
  return runs.filter((r) => r.lesson).map((r) => ({ name: r.name, adapter: r.adapter, epochs: r.epochs }));
});

async function finishLesson(p) {
  await p.locator('.run-lesson').click();
  await p.waitForSelector('.verdict p', { timeout: 180_000 });
  await p.locator('.lesson-status', { hasText: /Finished in/ }).waitFor({ timeout: 60_000 });
  return lessonArms(p);
}

test('on 2 CPU workers a run and a lesson give the numbers of one worker', async () => {
  // One worker: the first load of a fresh browser is not isolated yet; `workers=1` says so anyway.
  const one = await open(`#${SAME_RUN}&workers=1`, { on: noGpu, init: recordStatus });
  assert.equal(await one.getAttribute('body', 'data-cpu-workers'), '1');
  const alone = await trainedRun(one);
  await one.goto(`${SITE}#lesson=label-smoothing&tiny=1&workers=1`);
  await ready(one);
  const lessonAlone = await finishLesson(one);
  await one.context().close();

  const two = await isolatedPage(`#${SAME_RUN}&workers=2`);
  assert.equal(await two.getAttribute('body', 'data-cpu-workers'), '2');
  assert.match(await two.locator('#status').textContent(), /Ready\. Training runs on the CPU \(WebAssembly, no WebGPU; 2 workers/);
  const shared = await trainedRun(two);
  assert.ok(shared.statusLog.some((t) => /^CPU ×2 · epoch 1\/1 · step \d+\/8/.test(t)), shared.statusLog.join('\n'));
  assert.match(shared.run.adapter, /the CPU, 2 workers/);
  const [a, b] = [alone.run.epochs[0], shared.run.epochs[0]];
  console.log(`# 1 worker:  ${JSON.stringify(a)} (${alone.run.imagesPerSec.toFixed(1)} images/s)`);
  console.log(`# 2 workers: ${JSON.stringify(b)} (${shared.run.imagesPerSec.toFixed(1)} images/s)`);
  for (const k of ['train_loss', 'train_acc', 'test_loss', 'test_acc']) assert.ok(Math.abs(a[k] - b[k]) <= 1e-5, `${k}: 1 worker ${a[k]}, 2 workers ${b[k]}`);
  const worst = weightsDiff(shared.weights, alone.weights);
  console.log(`# weights after 8 steps: largest |2 workers - 1 worker| ${worst.diff.toExponential(2)} (${worst.name}[${worst.i}])`);
  assert.ok(worst.diff <= 1e-5, JSON.stringify(worst));

  await two.goto(`${SITE}#lesson=label-smoothing&tiny=1&workers=2`);
  await ready(two);
  assert.equal(await two.getAttribute('body', 'data-cpu-workers'), '2');
  const lessonShared = await finishLesson(two);
  await shot(two, '35-cpu-two-workers-lesson');
  assert.deepEqual(lessonShared.map((r) => r.name), lessonAlone.map((r) => r.name));
  for (const arm of lessonShared) assert.equal(arm.adapter, 'CPU, 2 workers');
  for (const arm of lessonAlone) assert.equal(arm.adapter, 'CPU');
  lessonShared.forEach((arm, i) => arm.epochs.forEach((e, j) => {
    for (const k of ['train_loss', 'test_loss', 'test_acc']) {
      const want = lessonAlone[i].epochs[j][k];
      assert.ok(close(e[k], want) && Math.abs(e[k] - want) <= 1e-4, `${arm.name} epoch ${j + 1} ${k}: 2 workers ${e[k]}, 1 worker ${want}`);
    }
  }));
  assert.deepEqual(two.problems, []);
  await two.context().close();
});

test('without cross-origin isolation the page trains on one worker and says why', async () => {
  // With the service worker blocked, nothing gives the page its isolation.
  const p = await open(`#${SAME_RUN}&workers=2`, { on: noGpu, init: recordStatus, route: ['**/*', (r) => r.continue()] });
  assert.equal(await p.evaluate(() => self.crossOriginIsolated), false);
  assert.equal(await p.getAttribute('body', 'data-cpu-workers'), '1');
  assert.match(await p.locator('#status').textContent(), /Training runs on the CPU \(WebAssembly, no WebGPU; one worker, not 2: /);
  const { run, statusLog } = await trainedRun(p);
  assert.ok(statusLog.some((t) => /^CPU · epoch 1\/1/.test(t)), statusLog.join('\n'));
  assert.match(run.adapter, /the CPU \(tricklab's reference ops/);
  await waitStatus(p, /Run 1 finished/);
  assert.deepEqual(p.problems, []);
  await p.context().close();
});

test('a bad number of workers in a link is named and ignored', async () => {
  const p = await open(`#${SAME_RUN}&workers=0`, { on: noGpu });
  assert.match(await p.locator('#messages').textContent(), /choice for this computer is ignored: workers must be at least 1/);
  assert.equal(await p.getAttribute('body', 'data-cpu-workers'), '1');
  await p.context().close();
});

test('on a software GPU the page times each run against the CPU path, trains on the faster and says why', async () => {
  // No kept backend: this browser times both (the other tests keep SwiftShader's WebGPU). At start
  // it times the default MNIST run, to say where runs will train.
  const p = await open('#epochs=1&batch_size=16&width_mult=0.25&lr_decay_epochs=&train_limit=64&test_limit=16', { init: recordStatus, backend: null });
  const pick = await p.evaluate(() => window.tricklab.backendPick);
  console.log(`# default run: SwiftShader ${pick.gpu.toFixed(1)} images/s, CPU path (${pick.workers} worker) ${pick.cpu.toFixed(1)} images/s: ${pick.backend}`);
  assert.equal(pick.measured, true);
  assert.equal(pick.backend, pick.cpu > pick.gpu ? 'cpu' : 'gpu');
  const status = await p.locator('#status').textContent();
  assert.match(status, pick.backend === 'cpu' ? /Ready\. Training runs on the CPU \(WebAssembly; .*Picked: CPU, 1 worker: [\d.]+× this software GPU/
    : /Ready\. GPU: .*Picked: the software GPU: [\d.]+× the CPU, 1 worker/);
  assert.match(status, /timed for mnist \S+ ×1 batch 64/);
  // This run is not the default one (batch 16, a quarter of the width): it is timed on its own.
  const first = await trainedRun(p);
  assert.ok(first.statusLog.some((t) => /^Timing a few steps of this run on the software GPU and on the CPU/.test(t)), first.statusLog.join('\n'));
  const started = first.statusLog.find((t) => t.startsWith('Training on '));
  const m = started.match(/^Training on the (CPU|GPU).*Picked for this run: (CPU, 1 worker|the software GPU): ([\d.]+)× .*timed for mnist \S+ ×0\.25 batch 16\.$/);
  assert.ok(m, started);
  assert.equal(m[1] === 'CPU', m[2].startsWith('CPU'), started);
  assert.ok(first.statusLog.some((t) => t.startsWith(`${m[1]} · epoch 1/1`)), first.statusLog.join('\n'));
  // Both choices are kept with the kernel picks: the next visit, and the same run again, do not time.
  await p.reload();
  await ready(p);
  const again = await p.evaluate(() => window.tricklab.backendPick);
  assert.equal(again.measured, false);
  assert.equal(again.backend, pick.backend);
  assert.match(await p.locator('#status').textContent(), /timed earlier for mnist \S+ ×1 batch 64/);
  const second = await trainedRun(p, 2);
  assert.ok(!second.statusLog.some((t) => t.startsWith('Timing a few steps of this run')), second.statusLog.join('\n'));
  assert.ok(second.statusLog.some((t) => t.startsWith(`Training on the ${m[1]}`) && /timed earlier for mnist \S+ ×0\.25 batch 16\.$/.test(t)), second.statusLog.join('\n'));
  console.log(`# this run: ${started}`);
  // A lesson is timed on its largest arm's run, and says where it trains and why.
  await p.goto(`${SITE}#lesson=label-smoothing&tiny=1`);
  await ready(p);
  await p.evaluate(() => {
    window.lessonLog = [];
    new MutationObserver(() => {
      const t = document.querySelector('.lesson-status')?.textContent;
      if (t && t !== window.lessonLog.at(-1)) window.lessonLog.push(t);
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  await p.locator('.run-lesson').click();
  await p.locator('.lesson-status', { hasText: /Finished in/ }).waitFor({ timeout: 240_000 });
  const log = await p.evaluate(() => window.lessonLog);
  const said = log.find((t) => t.startsWith('Running 2 arms in turn on ')) ?? log.join('\n');
  console.log(`# lesson: ${said}`);
  assert.match(said, /^Running 2 arms in turn on the (CPU|GPU).*Picked: (CPU, 1 worker|the software GPU): [\d.]+× .*timed (for|earlier for) mnist \S+ ×[\d.]+ batch \d+\.$/);
  assert.equal(said.includes('on the CPU'), /Picked: CPU/.test(said), said);
  assert.deepEqual(p.problems, []);
  await p.context().close();
});
