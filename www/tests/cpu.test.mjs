// The page without WebGPU: in a chromium whose WebGPU offers no adapter, the page trains on the
// core's CPU reference ops (wasm, SIMD128) and says so; the same run gives the same numbers as on
// SwiftShader's WebGPU in the normal chromium, within the tolerance of whole training steps; the
// two backends' speeds are printed; and on a slow backend a long run is offered a smaller one.

import test from 'node:test';
import assert from 'node:assert/strict';
import { launchWithoutWebGpu, shot, useBrowser, withPage } from './browser.mjs';
import { readSafetensors } from './safetensors.mjs';
import { SAME_RUN, close, recordStatus, trainedRun, waitStatus, weightsDiff } from './cpu-runs.mjs';

// The speed comparison: the default model (full width) for 10 steps of 32 images.
const SPEED_RUN = 'epochs=1&batch_size=32&base_lr=0.4&lr_decay_epochs=&train_limit=320&test_limit=32';

let noGpu;
useBrowser();
test.before(async () => { noGpu = await launchWithoutWebGpu(); });
test.after(async () => { await noGpu?.close(); });

test('without WebGPU the page trains on the CPU, says so, and matches the GPU run', async () => {
  let gpu;
  await withPage(`#${SAME_RUN}`, { init: recordStatus }, async (p) => {
    assert.match(await p.locator('#status').textContent(), /Ready\. GPU:/);
    gpu = await trainedRun(p);
  });
  await withPage(`#${SAME_RUN}`, { on: noGpu, init: recordStatus }, async (p) => {
    assert.match(await p.locator('#status').textContent(), /Ready\. Training runs on the CPU \(WebAssembly, no WebGPU; one worker/);
    assert.match(await p.locator('#messages').textContent(), /No GPU here \(WebGPU offers no adapter.*trains on your computer's CPU instead.*Chrome or Edge 113/);
    assert.ok(await p.locator('#train').isEnabled(), 'Train works without WebGPU');
    const cpu = await trainedRun(p);
    await shot(p, '30-cpu-trained');
    assert.ok(cpu.statusLog.some((t) => /^Training on the CPU/.test(t)), cpu.statusLog.join('\n'));
    assert.ok(cpu.statusLog.some((t) => /^CPU · epoch 1\/1 · step \d+\/8/.test(t)), cpu.statusLog.join('\n'));
    assert.ok(gpu.statusLog.some((t) => /^GPU · epoch 1\/1 · step \d+\/8/.test(t)), gpu.statusLog.join('\n'));
    assert.match(cpu.run.adapter, /the CPU/);

    // The same numbers: the epoch's training loss and accuracy, the test loss and accuracy, and
    // every trained weight and running statistic.
    const [g, c] = [gpu.run.epochs[0], cpu.run.epochs[0]];
    console.log(`# GPU (SwiftShader) epoch: ${JSON.stringify(g)}`);
    console.log(`# CPU (wasm)        epoch: ${JSON.stringify(c)}`);
    for (const k of ['train_loss', 'train_acc', 'test_loss', 'test_acc']) assert.ok(close(c[k], g[k]), `${k}: CPU ${c[k]}, GPU ${g[k]}`);
    const worst = weightsDiff(cpu.weights, gpu.weights, (c, g, at) => assert.ok(close(c, g), `${at}: CPU ${c}, GPU ${g}`));
    assert.deepEqual(worst.names[0], worst.names[1]);
    console.log(`# weights after 8 steps: largest |CPU - GPU| ${worst.diff.toExponential(2)} (${worst.name}[${worst.i}])`);
    assert.deepEqual(p.problems, []);
  });
});

test('the CPU path and SwiftShader WebGPU train the default model: images per second', async () => {
  const speeds = {};
  for (const [name, on] of [['SwiftShader WebGPU', undefined], ['CPU (wasm, SIMD128)', noGpu]]) {
    await withPage(`#${SPEED_RUN}`, on ? { on } : {}, async (p) => {
      const { run } = await trainedRun(p);
      speeds[name] = run.imagesPerSec;
      console.log(`# ${name}: ${run.imagesPerSec.toFixed(1)} images/s (mnist_resnet full width, batch 32, 10 steps; ${run.adapter})`);
    });
  }
  const ratio = speeds['CPU (wasm, SIMD128)'] / speeds['SwiftShader WebGPU'];
  console.log(`# CPU / SwiftShader: ${ratio.toFixed(2)}×`);
  assert.ok(ratio > 0, 'both trained');
});

test('on a slow backend a long run is timed first and offered a smaller one', () => withPage('#playground', { on: noGpu }, async (p) => {
  await p.locator('#train').click();
  await p.locator('#slow').waitFor({ state: 'visible', timeout: 60_000 });
  const offer = await p.locator('#slow-text').textContent();
  console.log(`# the offer: ${offer}`);
  assert.match(offer, /Training will be slow here: it runs on the CPU.*this run \(60,000 images × 2 epochs, full width\) would take about [\d.]+ (minutes|hours)/);
  assert.match(offer, /A smaller run with the same tricks, on [\d,]+ training images, 1,000 test images and a 0\.5×-width model, takes about \d+ (seconds|minutes)/);
  await shot(p, '31-slow-offer');
  await p.locator('#slow-smaller').click();
  await waitStatus(p, /^CPU · epoch 1\/2/, 60_000).catch(async (e) => {
    throw new Error(`${e.message}; status: ${await p.locator('#status').textContent()}; messages: ${await p.locator('#messages').textContent()}`);
  });
  assert.match(p.url(), /width_mult=0\.5/);
  assert.match(p.url(), /train_limit=\d+/);
  assert.equal(await p.locator('#slow').isVisible(), false);
  await p.locator('#stop').click();
  await waitStatus(p, /Run 1 stopped/, 60_000);
  assert.deepEqual(p.problems, []);
}));

test('a lesson runs on the CPU too, and its arms export from the history like any run', () => withPage('#lesson=label-smoothing&tiny=1', { on: noGpu }, async (p) => {
  await p.locator('.run-lesson').click();
  await p.waitForSelector('.verdict p', { timeout: 120_000 });
  // The verdict is drawn first; the arms are saved into the history after it.
  await p.locator('.lesson-status', { hasText: /Finished in/ }).waitFor({ timeout: 30_000 });
  await p.locator('nav a[data-nav="playground"]').click(); // the run history is the playground's
  const rows = p.locator('#history tbody tr[data-run]');
  assert.equal(await rows.count(), 2, 'both arms are in the history');
  assert.match(await rows.first().textContent(), /Label smoothing: .*seed 1/);
  const [download] = await Promise.all([p.waitForEvent('download'), rows.first().locator('button[data-export=weights]').click()]);
  assert.match(download.suggestedFilename(), /^tricklab-label-smoothing-.*-seed-1\.safetensors$/);
  const chunks = [];
  for await (const c of await download.createReadStream()) chunks.push(c);
  const { metadata } = readSafetensors(Buffer.concat(chunks));
  assert.equal(JSON.parse(metadata.tricklab_config).width_mult, 0.25);
  const [csv] = await Promise.all([p.waitForEvent('download'), rows.first().locator('button[data-export=csv]').click()]);
  assert.match(csv.suggestedFilename(), /\.csv$/);
  await shot(p, '34-cpu-lesson');
  assert.deepEqual(p.problems, []);
}));
