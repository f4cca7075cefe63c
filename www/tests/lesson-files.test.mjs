// Browser tests of lesson files on the page: the site's own lessons (www/lessons/, listed in
// lessons/index.json) beside the built-in ones, a `#lesson-url=` link with `&seed=` and `&embed=1`,
// a file chosen with the picker or dropped on the page (an edited export of a built-in lesson
// runs; a malformed one is refused with the path of the field at fault), links that would leave
// the site refused, and "Make a lesson of these": two runs of the history become a lesson file
// that opens and runs. Lessons run at the tiny size (`&tiny=1`, or `tiny` on an opened lesson).

import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { shot, useBrowser, withPage } from './browser.mjs';

useBrowser();

const LESSON_TIMEOUT = 300_000;
const SITE_LESSON = 'lessons/batch-512-warmup.json';
const builtIn = (id) => JSON.parse(readFileSync(new URL(`../../lessons/${id}.json`, import.meta.url), 'utf8'));

// Runs the open lesson and waits until its arms are saved; its result line.
async function runOpenLesson(p) {
  await p.locator('#lesson-panel .run-lesson').click();
  await p.locator('#lesson-panel .lesson-status', { hasText: /Finished in/ }).waitFor({ timeout: LESSON_TIMEOUT });
  return p.locator('#lesson-panel .verdict .result-line').textContent();
}

// Opens `text` as a lesson file through the picker, at the tiny size the tests run.
async function pick(p, name, text) {
  await p.locator('#lesson-file').setInputFiles({ name, mimeType: 'application/json', buffer: Buffer.from(text) });
}

test('the site\'s lessons are listed, and a lesson-url link opens one with its seed, runs it, and two of its runs become a lesson that runs', () => withPage(`#lesson-url=${SITE_LESSON}&seed=3&tiny=1`, {}, async (p) => {
  await p.locator(`#lessons-list a[data-lesson-url="${SITE_LESSON}"]`).waitFor({ state: 'attached', timeout: 20_000 });
  assert.equal(await p.locator('#lesson-panel .lesson-title').textContent(), 'Large batches and warmup');
  assert.match(await p.locator('#lesson-panel .run-lesson').textContent(), /seed 3/);
  const line = await runOpenLesson(p);
  assert.match(line, /^tricklab-result v1 lesson=batch-512-warmup def=[0-9a-f]{8} seed=3 backend=(gpu|cpu) a0=\S+ a1=\S+ a2=\S+$/);
  await p.locator('nav a[data-nav="playground"]').click(); // the run history is the playground's
  assert.equal(await p.locator('#history tbody tr[data-run]').count(), 3, 'the three arms are in the history');

  // "Make a lesson of these": nothing picked yet says what to pick.
  await p.locator('#make-lesson').click();
  assert.match(await p.locator('#made-lesson .said').textContent(), /Pick a finished run as the baseline/);
  // The arm at batch 32 as the baseline, the one at batch 512 (64 at the tiny size) compared.
  const row = (name) => p.locator('#history tbody tr[data-run]', { hasText: `${name} (seed 3)` });
  await row('batch 32').locator('input[name="baseline"]').check();
  await row('batch 512').first().locator('input[name="compare"]').check();
  await p.locator('#make-lesson').click();
  // The worker drafts the file; the page says so until it is shown.
  await p.locator('#made-lesson .said', { hasText: /^A lesson of / }).waitFor({ timeout: 60_000 });
  const file = JSON.parse(await p.locator('#made-lesson textarea').inputValue());
  assert.equal(file.tricklab_lesson, 1);
  assert.deepEqual(file.arms.map((a) => a.name), ['Large batches and warmup: batch 32 (seed 3)', 'Large batches and warmup: batch 512 (seed 3)']);
  assert.deepEqual(file.arms[0].set, {});
  assert.deepEqual(file.arms[1].set, { batch_size: 64 }, 'the second arm sets only where it differs');
  assert.match(file.question, /batch_size is 64 instead of 32/);
  await p.locator('#made-lesson .open').click();
  await p.locator('#lesson-panel .lesson-title', { hasText: 'against' }).waitFor({ timeout: 20_000 });
  const made = await runOpenLesson(p);
  assert.match(made, new RegExp(`^tricklab-result v1 lesson=${file.id} def=[0-9a-f]{8} seed=1 `));
  await shot(p, 'lesson-file-made');
  assert.deepEqual(p.problems, []);
}));

test('a site lesson embeds as a built-in one does', () => withPage(`#lesson-url=${SITE_LESSON}&embed=1`, {}, async (p) => {
  await p.locator('#lesson-panel .lesson-title').waitFor({ timeout: 20_000 });
  for (const hidden of ['body > header', 'main', '#lessons-list']) assert.ok(await p.locator(hidden).first().isHidden(), `${hidden} is hidden`);
  assert.ok(await p.locator('#lesson-panel .run-lesson').isVisible());
  assert.deepEqual(p.problems, []);
}));

test('an edited export of a built-in lesson opens from the picker and runs; a malformed file names its field', () => withPage('', {}, async (p) => {
  const edited = { ...builtIn('zero-gamma'), id: 'my-zero-gamma', title: 'My zero γ' };
  await pick(p, 'my-zero-gamma.json', JSON.stringify(edited));
  await p.locator('#lesson-panel .lesson-title', { hasText: 'My zero γ' }).waitFor({ timeout: 20_000 });
  assert.equal(await p.locator('#lessons-list button[data-lesson-file="my-zero-gamma.json"]').count(), 1, 'listed as opened from its file');
  await p.evaluate(() => { window.tricklab.lessons.open.tiny = true; });
  assert.match(await runOpenLesson(p), /^tricklab-result v1 lesson=my-zero-gamma /);

  const bad = builtIn('warmup');
  bad.arms[1].set.batch_size = 0;
  await pick(p, 'bad.json', JSON.stringify(bad));
  await p.locator('#messages', { hasText: 'bad.json' }).waitFor({ timeout: 20_000 });
  assert.match(await p.locator('#messages').textContent(), /bad\.json: arms\[1\]\.set\.batch_size: /);
  for (const [name, text, why] of [['cut.json', '{"tricklab_lesson": 1, "id": "x"', /cut\.json: lesson: is not valid JSON/], ['deep.json', '['.repeat(100_000), /deep\.json: lesson: is not valid JSON/]]) {
    await pick(p, name, text);
    await p.locator('#messages', { hasText: name }).waitFor({ timeout: 20_000 });
    assert.match(await p.locator('#messages').textContent(), why);
  }
  assert.equal(await p.locator('#lesson-panel .lesson-title').textContent(), 'My zero γ', 'the open lesson stays');
  assert.deepEqual(p.problems, []);
}));

test('a lesson file dropped on the page opens', () => withPage('', {}, async (p) => {
  const text = JSON.stringify({ ...builtIn('cosine'), id: 'dropped-cosine', title: 'Dropped cosine' });
  const data = await p.evaluateHandle((t) => {
    const dt = new DataTransfer();
    dt.items.add(new File([t], 'dropped-cosine.json', { type: 'application/json' }));
    return dt;
  }, text);
  await p.dispatchEvent('body', 'drop', { dataTransfer: data });
  await p.locator('#lesson-panel .lesson-title', { hasText: 'Dropped cosine' }).waitFor({ timeout: 20_000 });
  assert.deepEqual(p.problems, []);
}));

test('a lesson-url that leaves the site, or names no file, is explained', async () => {
  await withPage('#lesson-url=https%3A%2F%2Fevil.example%2Fx.json', {}, async (p) => {
    assert.match(await p.locator('#messages').textContent(), /lesson-url must be a relative URL on this site/);
    assert.ok(await p.locator('#lesson-panel').isHidden());
  });
  await withPage('#lesson-url=lessons/nope.json', {}, async (p) => {
    await p.locator('#messages', { hasText: 'nope.json' }).waitFor({ timeout: 20_000 });
    assert.match(await p.locator('#messages').textContent(), /lessons\/nope\.json could not be fetched from this site \(HTTP 404/);
  });
});
