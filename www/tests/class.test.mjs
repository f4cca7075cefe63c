// Browser tests of the teacher's two views. "Class results" (#class=LESSON): a class's result
// lines pasted, two exported runs picked and the CLI's JSON lines of one seed dropped give the
// numbers `tricklab lesson pool` printed for the same files (fixtures/class/expected.json, which
// tests/class_pool.rs checks is the CLI's output), with every refused line named. "Check this
// computer" (#check): on SwiftShader every kernel variant is checked (one broken on purpose is
// failed, said and never used), each lesson is timed and estimated, and a summary line is given;
// in a chromium without WebGPU the same view checks the CPU.

import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { launchWithoutWebGpu, shot, useBrowser, withPage } from './browser.mjs';

useBrowser();

const FIXTURES = new URL('fixtures/class/', import.meta.url);
const fixture = (name) => readFileSync(new URL(name, FIXTURES), 'utf8');
const expected = JSON.parse(fixture('expected.json'));
const fmt = (v, digits = 3) => v.toFixed(digits);
const signed = (v) => (v >= 0 ? `+${fmt(v)}` : fmt(v));

test('pasted lines, picked exports and a dropped result file pool to the CLI\'s numbers, and refused lines are named', () => withPage(`#class=${expected.lesson}`, {}, async (p) => {
  assert.ok(await p.locator('#class-view').isVisible(), 'the view shows');
  assert.ok(await p.locator('main').isHidden(), 'the playground hides');
  assert.match(await p.locator('#class-view .class-lesson').textContent(), /Knowledge distillation with few labels/);
  await p.locator('#class-lines').fill(fixture('pasted'));
  await p.locator('#class-pool').click();
  await p.locator('#class-view .pooled-count', { hasText: 'Pooled 9 runs' }).waitFor({ timeout: 30_000 });

  // Two exported arms of runs, picked at once.
  await p.locator('#class-files').setInputFiles(['export-seed10.json', 'export-seed11.json'].map((name) => ({ name, mimeType: 'application/json', buffer: Buffer.from(fixture(name)) })));
  await p.locator('#class-view .pooled-count', { hasText: 'Pooled 11 runs' }).waitFor({ timeout: 30_000 });
  // One student's CLI output, dropped on the page.
  await p.evaluate((text) => {
    const dt = new DataTransfer();
    dt.items.add(new File([text], 'seed12.jsonl', { type: 'text/plain' }));
    document.body.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, fixture('seed12.jsonl'));
  await p.locator('#class-view .pooled-count', { hasText: `Pooled ${expected.seeds.length} runs` }).waitFor({ timeout: 30_000 });

  const report = p.locator('#class-view .class-report');
  assert.match(await report.locator('.pooled-count').textContent(), new RegExp(`seeds ${expected.seeds.join(', ')}\\b`));
  for (const arm of expected.arms) {
    assert.equal(await report.locator(`tr[data-arm="${arm.arm}"] .mean-sd`).textContent(), `${fmt(arm.mean)} ± ${fmt(arm.std)}`, arm.name);
  }
  const pooled = expected.pooled;
  assert.equal(await report.locator('circle.dot').count(), pooled.runs, 'one dot per student');
  assert.match(await report.locator('.showed-count').textContent(), new RegExp(`^${pooled.showed} of ${pooled.runs} runs showed the effect`));
  assert.equal((await report.locator('.verdict').textContent()).replace(/^Pooled verdict \(computed from these runs\): /, ''), pooled.sentence);
  const statistic = await report.locator('.statistic').textContent();
  assert.ok(statistic.includes(pooled.statistic), statistic);
  assert.ok(statistic.includes(`[${signed(pooled.interval[0])}, ${signed(pooled.interval[1])}]`), statistic);
  assert.ok(statistic.includes(fmt(pooled.sign_p, 4)), statistic);
  const refused = await report.locator('.refused li').allTextContents();
  assert.deepEqual(refused, expected.refused, 'the same lines refused, with the same file and line');
  for (const at of ['pasted:11', 'pasted:12', 'pasted:13', 'pasted:14']) assert.ok(refused.some((r) => r.startsWith(`${at}: `)), `${at} is refused: ${refused.join(' | ')}`);
  await shot(p, 'class-results');
  assert.deepEqual(p.problems, []);
}));

test('a class link to no lesson, or nothing to pool, says what to do', () => withPage('#class=no-such-lesson', {}, async (p) => {
  await p.locator('#class-pool').click();
  assert.match(await p.locator('#class-view .class-report').textContent(), /Nothing to pool yet/);
  await p.locator('#class-lines').fill('tricklab-result v1 lesson=warmup def=00000000 seed=1 backend=gpu a0=1/1 a1=2/2');
  await p.locator('#class-pool').click();
  await p.locator('#class-view .class-report .error', { hasText: /no built-in lesson `no-such-lesson`/ }).waitFor({ timeout: 30_000 });
  assert.deepEqual(p.problems, []);
}));

// The variant check on SwiftShader with one variant broken on purpose, the lessons timed (their
// tiny versions, whose steps cost what the full ones' do) and the summary line.
// The page opens under another view's link, so that it warms nothing up before the variant breaks.
test('#check on SwiftShader: every variant checked, a broken one failed and never used, every lesson estimated', () => withPage('#class=warmup', {}, async (p) => {
  await p.evaluate(() => window.tricklab.worker('breakVariant', { name: 'register-8x8' }));
  await p.evaluate(() => { location.hash = '#check&tiny=1'; });
  await p.locator('#check-view[data-state="done"]').waitFor({ timeout: 600_000 });
  assert.match(await p.locator('#check-view .check-adapter').textContent(), /GPU through WebGPU.*software adapter/);
  const broken = p.locator('#check-view tr[data-variant="register-8x8"] td.fail');
  assert.match(await broken.textContent(), /^fail \(\d+\): not used on this adapter/);
  assert.equal(await p.locator('#check-view tr[data-variant="register"] td.pass').count(), 1, 'the register kernels pass');
  const lessons = await p.evaluate(() => window.tricklab.lessons.catalog.map((l) => l.id));
  for (const id of lessons) assert.match(await p.locator(`#check-view tr[data-lesson="${id}"] td`).last().textContent(), /^\d+(\.\d)? (s|min)$/, id);
  const line = await p.locator('#check-view .check-line').textContent();
  assert.ok(line.length <= 300, line);
  assert.match(line, /^tricklab-check v1 GPU .*kernels \d+\/\d+ ok, not used: register-8x8; minutes /);
  for (const id of lessons) assert.ok(line.includes(` ${id}=`) || line.includes(`minutes ${id}=`), `${id} in ${line}`);
  // The picker does not use it: a run's kernels leave it out, and the page says why.
  const kernels = await p.evaluate(() => window.tricklab.worker('gpuKernels'));
  assert.ok(kernels.excluded.some((x) => x.variant === 'register-8x8'), JSON.stringify(kernels.excluded));
  for (const { pass, variants } of kernels.variants) assert.ok(!variants.includes('register-8x8'), `${pass}: ${variants}`);
  await shot(p, 'check-swiftshader');
  assert.deepEqual(p.problems, []);
}));

test('#check without WebGPU checks the CPU', async () => {
  const cpu = await launchWithoutWebGpu();
  try {
    await withPage('#check&tiny=1', { on: cpu }, async (p) => {
      await p.locator('#check-view[data-state="done"]').waitFor({ timeout: 600_000 });
      assert.match(await p.locator('#check-view .check-adapter').textContent(), /train on the CPU/);
      assert.match(await p.locator('#check-view .check-variants').textContent(), /No GPU kernels to check/);
      const line = await p.locator('#check-view .check-line').textContent();
      assert.match(line, /^tricklab-check v1 CPU, no WebGPU .*; kernels 0\/0 ok; minutes linear-scaling=\d/);
      assert.ok(line.length <= 300, line);
      await shot(p, 'check-cpu');
      assert.deepEqual(p.problems, []);
    });
  } finally {
    await cpu.close();
  }
});
