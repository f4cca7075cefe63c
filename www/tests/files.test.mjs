// Files in and out of the page: a finished run exports its curves (CSV, JSON) and its weights (the
// safetensors file the CLI writes); weights the CLI trained (tests/fixtures/cli-teacher.safetensors)
// are imported and teach a run; a file of the wrong model or shape, or not a tricklab file at all,
// is explained; a dropped CIFAR-10 archive is kept across a reload until the visitor forgets it, and
// a file that is not the archive is named, with what is wrong with it in plain words.

import test from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { ready, shot, useBrowser, withPage } from './browser.mjs';
import { readSafetensors } from './safetensors.mjs';

// Four steps of a quarter-width model, in two chunks' worth of loss readings at most.
const TINY_RUN = 'epochs=2&batch_size=16&base_lr=0.4&width_mult=0.25&lr_decay_epochs=&train_limit=32&test_limit=16';
// The CLI saved it (on the CPU backend; 2,048 MNIST images, one epoch, 85% test accuracy):
//   tricklab train --cpu --dataset mnist --epochs 1 --batch-size 32 --set width_mult=0.25 \
//     --set 'lr_decay_epochs=[]' --train-limit 2048 --test-limit 500 --save www/tests/fixtures/cli-teacher.safetensors
const CLI_TEACHER = new URL('./fixtures/cli-teacher.safetensors', import.meta.url);

const waitStatus = (p, pattern, timeout = 120_000) => p.waitForFunction(
  (source) => new RegExp(source).test(document.querySelector('#status').textContent), pattern.source, { timeout },
);
const historyRows = (p) => p.locator('#history tbody tr[data-run]');

// Clicks an export button of the first run and returns the file's name and bytes.
async function exported(p, kind) {
  const [download] = await Promise.all([p.waitForEvent('download'), p.locator(`#history tr[data-run] button[data-export=${kind}]`).first().click()]);
  const chunks = [];
  for await (const c of await download.createReadStream()) chunks.push(c);
  return { name: download.suggestedFilename(), bytes: Buffer.concat(chunks) };
}

useBrowser();

test('a finished run exports its curves as CSV and JSON and its weights as the CLI\'s safetensors', () => withPage(`#${TINY_RUN}`, {}, async (p) => {
  await p.locator('#train').click();
  await waitStatus(p, /Run 1 finished/);
  const stored = await p.evaluate(async () => {
    const { RunStore } = await import('./store.js');
    const store = await new RunStore().open();
    const [run] = await store.list();
    return { run, weights: Array.from(new Uint8Array(await store.checkpoint(run.id))) };
  });

  const csv = await exported(p, 'csv');
  assert.equal(csv.name, 'tricklab-run-1.csv');
  const lines = csv.bytes.toString('utf8').trim().split('\n');
  assert.equal(lines[0], 'step,epoch,lr,train_loss,epoch_train_loss,epoch_train_acc,test_loss,test_acc');
  assert.equal(lines.length, 1 + 4, 'a row per step');
  const last = lines[4].split(',');
  assert.equal(last[0], '4');
  assert.equal(last[1], '2');
  assert.equal(Number(last[7]), stored.run.epochs[1].test_acc, 'the last step carries its epoch\'s test accuracy');

  const json = JSON.parse((await exported(p, 'json')).bytes.toString('utf8'));
  assert.equal(json.tricklab, 'run');
  assert.equal(json.config.width_mult, 0.25);
  assert.equal(json.steps.length, 4);
  assert.deepEqual(json.epochs, stored.run.epochs);
  assert.equal(json.steps_per_epoch, 2);

  const weights = await exported(p, 'weights');
  assert.equal(weights.name, 'tricklab-run-1.safetensors');
  assert.deepEqual([...weights.bytes], stored.weights, 'the weights the run kept, byte for byte');
  const { metadata, tensors } = readSafetensors(weights.bytes);
  assert.equal(JSON.parse(metadata.tricklab_config).model, 'mnist_resnet');
  assert.deepEqual(tensors['stem0.conv.weight'].shape, [4, 1, 3, 3]);
  assert.ok('fc.weight' in tensors && 'stem0.bn.running_var' in tensors, Object.keys(tensors).join(' '));
  assert.deepEqual(p.problems, []);
}));

test('weights the CLI trained teach a run here; the wrong model, shape or file is explained', () => withPage(`#${TINY_RUN}`, {}, async (p) => {
  const cli = await readFile(CLI_TEACHER);
  // Not a tricklab file at all.
  await p.locator('#import-file').setInputFiles({ name: 'notes.safetensors', mimeType: 'application/octet-stream', buffer: Buffer.from('hello, this is not a model') });
  await p.locator('#messages p.error').waitFor();
  assert.match(await p.locator('#messages p.error').textContent(), /notes\.safetensors cannot be used: the header claims \d+ bytes/);
  // A config that names another width than its tensors have: every tensor is checked.
  const wider = Buffer.from(cli.toString('latin1').replace('\\"width_mult\\":0.25', '\\"width_mult\\":0.50'), 'latin1');
  assert.notDeepEqual(wider, cli);
  await p.locator('#import-file').setInputFiles({ name: 'wider.safetensors', mimeType: 'application/octet-stream', buffer: wider });
  await p.waitForFunction(() => document.querySelectorAll('#messages p.error').length === 2);
  assert.match(await p.locator('#messages p.error').nth(1).textContent(), /wider\.safetensors cannot be used: tensor `stem0.conv.weight` has shape \[4, 1, 3, 3\], the model needs \[8, 1, 3, 3\]/);
  assert.equal(await historyRows(p).count(), 0, 'a file the page cannot use is not kept');

  // The CLI's file: imported into the history, then a distillation teacher.
  await p.locator('#import-file').setInputFiles(CLI_TEACHER.pathname);
  await p.locator('#messages p.notice').waitFor();
  assert.match(await p.locator('#messages p.notice').textContent(), /Imported cli-teacher\.safetensors: mnist_resnet \(width ×0\.25, [\d,]+ parameters\) trained on MNIST\. It can now teach a run/);
  assert.match(await historyRows(p).first().textContent(), /cli-teacher.*imported from cli-teacher\.safetensors/);
  const distill = p.getByLabel('Knowledge distillation', { exact: true });
  assert.ok(await distill.isEnabled());
  await distill.check();
  await p.waitForFunction(() => /teacher=run-import-/.test(location.hash));
  assert.match(await p.getByLabel('Teacher run', { exact: true }).textContent(), /cli-teacher \(imported\)/);
  await p.locator('#train').click();
  await waitStatus(p, /Run 1 finished/);
  assert.match(await historyRows(p).nth(1).textContent(), /teacher=cli-teacher/);
  await shot(p, '32-cli-teacher');
  // The imported weights export again as they came.
  const back = await exported(p, 'weights');
  assert.deepEqual(back.bytes, cli);
  assert.deepEqual(p.problems, []);
}));

// A ustar member: a 512-byte header (name, octal mode and size, checksum) and the data padded to 512.
function tarMember(name, data) {
  const h = Buffer.alloc(512);
  h.write(name, 0);
  h.write('0000644\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124);
  h.write('00000000000\0', 136);
  h.write('        ', 148);
  h.write('0', 156);
  h.write('ustar\0' + '00', 257);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return Buffer.concat([h, data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
}

// A CIFAR-10 archive in the official layout with `records` random images per batch.
function tinyCifar(records) {
  const batch = (seed) => {
    const b = Buffer.alloc(records * 3073);
    for (let i = 0; i < b.length; i++) b[i] = (i * 7919 + seed * 104729) % 251;
    for (let r = 0; r < records; r++) b[r * 3073] = (r + seed) % 10;
    return b;
  };
  const names = ['data_batch_1', 'data_batch_2', 'data_batch_3', 'data_batch_4', 'data_batch_5', 'test_batch'];
  const tar = Buffer.concat([...names.map((n, i) => tarMember(`cifar-10-batches-bin/${n}.bin`, batch(i))), Buffer.alloc(1024)]);
  return gzipSync(tar);
}

const CIFAR_RUN = 'dataset=cifar10&model=resnet20&width_mult=0.25&epochs=1&batch_size=16&base_lr=0.4&lr_decay_epochs=&train_limit=32&test_limit=16';

test('a dropped CIFAR-10 archive is kept across a reload until the visitor forgets it', () => withPage(`#${CIFAR_RUN}`, {}, async (p) => {
  assert.equal(await p.locator('#cifar-kept').isVisible(), false);
  await p.locator('#cifar-file').setInputFiles({ name: 'cifar-10-binary.tar.gz', mimeType: 'application/gzip', buffer: tinyCifar(32) });
  await p.locator('#cifar-kept').waitFor({ state: 'visible' });
  assert.match(await p.locator('#messages').textContent(), /CIFAR-10 loaded from cifar-10-binary\.tar\.gz: 160 training and 32 test images\. It is kept in this browser/);

  await p.reload();
  await ready(p);
  assert.ok(await p.locator('#cifar-kept').isVisible(), 'the page says the archive is kept');
  await p.locator('#train').click();
  await waitStatus(p, /Run 1 finished/);
  const log = await p.evaluate(() => window.tricklab.worker('dataLog'));
  assert.ok(log.some((f) => f.path === 'kept/cifar-10-binary.tar.gz' && f.from === 'cache'), JSON.stringify(log));
  await shot(p, '33-cifar-kept');

  await p.locator('#cifar-forget').click();
  await p.locator('#cifar-kept').waitFor({ state: 'hidden' });
  await p.reload();
  await ready(p);
  assert.equal(await p.locator('#cifar-kept').isVisible(), false);
  await p.locator('#train').click();
  await p.locator('#messages p.error').waitFor();
  assert.match(await p.locator('#messages p.error').textContent(), /CIFAR-10 is not loaded: drop the official cifar-10-binary\.tar\.gz/);
  assert.deepEqual(p.problems, []);
}));

test('a file that is not the CIFAR-10 archive is named, with what is wrong with it', () => withPage(`#${CIFAR_RUN}`, {}, async (p) => {
  // An empty file, and a gzip of random bytes (whose tar header a tar reader would quote raw).
  let state = 12345;
  const random = Buffer.alloc(4096).map(() => {
    state ^= state << 13; state ^= state >>> 17; state ^= state << 5;
    return state & 255;
  });
  const cases = [
    ['empty.tar.gz', Buffer.alloc(0), /^CIFAR-10 could not be read from empty\.tar\.gz: is empty \(0 bytes\); CIFAR-10 comes as the official cifar-10-binary\.tar\.gz/],
    ['random.tar.gz', gzipSync(random), /^CIFAR-10 could not be read from random\.tar\.gz: is gzip-compressed, but what it holds is not a tar archive, so it is not the official cifar-10-binary\.tar\.gz/],
  ];
  for (const [name, buffer, says] of cases) {
    await p.locator('#cifar-file').setInputFiles({ name, mimeType: 'application/gzip', buffer });
    const error = p.locator('#messages p.error', { hasText: name });
    await error.waitFor();
    const text = await error.textContent();
    assert.match(text, says);
    assert.doesNotMatch(text, /\uFFFD|[\u0000-\u001F]/, 'plain text, no raw bytes');
  }
  assert.equal(await p.locator('#cifar-kept').isVisible(), false);
}));
