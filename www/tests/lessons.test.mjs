// Browser tests of the lessons. Every lesson runs at the tiny size the page offers for this
// (`&tiny=1`: quarter-width models, two steps of at most 64 images per epoch), which checks the
// page and the core together, not the effect: the arms' curves and the lesson's own views are
// drawn, the verdict is the one computed from these runs (its numbers are recomputed here from the
// records), the trained arms enter the run history, and what the network learned can be looked at
// (each arm's prediction grid and confusion matrix, a drawn digit). An embedded lesson shows nothing else.
// Screenshots of every lesson go to artifacts/screenshots/lesson-*.png.

import test from 'node:test';
import assert from 'node:assert/strict';
import { open, shot, SITE, useBrowser, withPage } from './browser.mjs';

useBrowser();

// The lessons the page must offer (the core's catalog, in its order).
const LESSONS = ['linear-scaling', 'warmup', 'zero-gamma', 'no-bias-decay', 'cosine', 'label-smoothing', 'mixup', 'distillation', 'distillation-few-labels', 'resnet-tweaks'];
const LESSON_TIMEOUT = 300_000;

// The lesson's metric of one arm's record, as the core defines it (src/lessons/verdict.rs), and
// as the verdict writes it.
function metricValue(metric, r) {
  const last = r.epochs[r.epochs.length - 1];
  const f = r.result;
  switch (metric.kind) {
    case 'early_loss': return r.losses.length >= metric.steps ? r.losses.slice(0, metric.steps).reduce((a, b) => a + b, 0) / metric.steps : null;
    case 'test_accuracy': return f ? 100 * f.test_acc : null;
    case 'final_train_loss': return f ? last.train_loss : null;
    case 'generalization_gap': return f ? 100 * (f.train_clean_acc - f.test_acc) : null;
    case 'logit_gap': return f ? f.mean_gap : null;
    case 'calibration_error': return f ? 100 * f.calibration.ece : null;
    case 'gamma_norm': return f ? last.norms.gamma : null;
    default: throw new Error(`unknown metric ${metric.kind}`);
  }
}

// `v` with `d` decimals, an exact tie rounded to even as Rust's formatting does (toFixed rounds it
// up; accuracies over 64 test images make such ties).
function fixed(v, d) {
  const x = v * 10 ** d;
  const down = Math.floor(x);
  const n = x - down === 0.5 ? (down % 2 === 0 ? down : down + 1) : Math.round(x);
  return (n / 10 ** d).toFixed(d);
}

function written(metric, v) {
  if (v === null) return 'diverged';
  if (metric.kind === 'test_accuracy' || metric.kind === 'calibration_error') return `${fixed(v, 2)}%`;
  if (metric.kind === 'generalization_gap') return `${fixed(v, 2)} points`;
  return fixed(v, 3);
}

// The arms the lesson's rule compares.
const ruleArms = (rule) => (rule.kind === 'beats' ? [rule.trick, rule.baseline] : [...rule.without, ...rule.with]);

const VIEW_PANELS = {
  loss_per_image: '.lesson-loss canvas',
  schedules: '.view-schedules canvas',
  norms: '.view-norms canvas',
  logit_gaps: '.view-gaps canvas',
  calibration: '.view-calibration canvas',
  train_test_accuracy: '.view-train-test canvas',
  batches: '.view-batch figure canvas',
};

test('the page lists every lesson, and a lesson link opens it', () => withPage('#lesson=warmup', {}, async (p) => {
  const ids = await p.evaluate(() => window.tricklab.lessons.catalog.map((l) => l.id));
  assert.deepEqual(ids, LESSONS);
  assert.equal(await p.locator('#lessons-list a[data-lesson]').count(), LESSONS.length);
  assert.equal(await p.locator('#lesson-panel .lesson-title').textContent(), 'Learning-rate warmup');
  assert.match(await p.locator('#lesson-panel .paper').textContent(), /Table 4/);
  assert.ok(await p.locator('#lesson-panel .run-lesson').isEnabled());
  assert.deepEqual(p.problems, []);
}));

test('an unknown lesson in a link is explained', () => withPage('#lesson=nope', {}, async (p) => {
  assert.match(await p.locator('#messages').textContent(), /no lesson "nope"; the lessons are linear-scaling/);
  assert.ok(await p.locator('#lesson-panel').isHidden());
}));

test('an embedded lesson shows the lesson alone', () => withPage('#lesson=cosine&embed=1', {}, async (p) => {
  for (const hidden of ['body > header', 'main', '#lessons-list', '#lessons > h2']) {
    assert.ok(await p.locator(hidden).first().isHidden(), `${hidden} is hidden in an embed`);
  }
  assert.ok(await p.locator('#lesson-panel .question').isVisible());
  assert.ok(await p.locator('#lesson-panel .run-lesson').isVisible());
  await shot(p, 'lesson-embed-cosine');
}));

// A tutorial's page with README.md's listener: the iframe starts at a guessed 300 px and ends at
// the embedded lesson's own height, so nothing is cut off and nothing is left blank.
test('an embedded lesson tells its parent its height, and the listener fits the iframe to it', async () => {
  const p = await open('styles.css', { wait: false });
  try {
    await p.setContent(`<iframe id="lesson" src="${SITE}#lesson=cosine&embed=1" width="700" height="300" style="border: 0"></iframe>
      <script>
        window.heights = [];
        addEventListener('message', (e) => {
          const frame = document.getElementById('lesson');
          if (e.source !== frame.contentWindow || e.data?.tricklab !== 'height') return;
          window.heights.push(e.data.height);
          frame.style.height = e.data.height + 'px';
        });
      </script>`);
    await p.frameLocator('#lesson').locator('#lesson-panel .run-lesson').waitFor({ timeout: 60_000 });
    const fits = () => {
      const frame = document.getElementById('lesson');
      const inner = frame.contentDocument.documentElement;
      const content = Math.ceil(inner.getBoundingClientRect().height);
      return content > 300 && Math.abs(frame.getBoundingClientRect().height - content) <= 1 && inner.scrollHeight <= frame.clientHeight + 1;
    };
    await p.waitForFunction(fits, null, { timeout: 20_000 });
    const heights = await p.evaluate(() => window.heights);
    assert.ok(heights.length >= 1 && heights.every((h) => Number.isInteger(h) && h > 0), `${heights}`);
    console.log(`# the embed reported heights ${heights.join(', ')} px`);
  } finally {
    await p.context().close();
  }
});

for (const [index, id] of LESSONS.entries()) {
  test(`lesson ${id} runs at the tiny size, draws its views, and states a verdict computed from its runs`, () => withPage(`#lesson=${id}&tiny=1`, {}, async (p) => {
    await p.locator('.run-lesson').click();
    await p.waitForSelector('.verdict p', { timeout: LESSON_TIMEOUT });
    const { lesson, records } = await p.evaluate(() => ({ lesson: window.tricklab.lessons.open.lesson, records: window.tricklab.lessons.view.records }));
    const ran = await p.evaluate(() => window.tricklab.lessons.view.lesson);

    // Every arm trained its steps, and its loss curve has a point per step.
    for (const r of records) {
      assert.equal(r.losses.length, r.total_steps, `${r.name}: a loss per step`);
      assert.equal(r.epochs.length, r.config.epochs, `${r.name}: an evaluation per epoch`);
    }
    const losses = await p.evaluate(() => window.tricklab.lessons.view.losses.map((l) => l.length));
    assert.deepEqual(losses, records.map((r) => r.total_steps), 'the page drew every step it was sent');

    // The lesson's own views, and the loss and accuracy charts, are drawn.
    for (const selector of ['.lesson-loss canvas', '.lesson-accuracy canvas', ...lesson.views.map((v) => VIEW_PANELS[v] ?? `missing view ${v}`)]) {
      assert.ok(await p.locator(`#lesson-panel ${selector}`).count() > 0, `${id}: ${selector} is drawn`);
    }

    // The verdict states each compared arm's value as these records give it.
    const verdict = await p.locator('.verdict p').first().textContent();
    for (const a of ruleArms(ran.rule)) {
      const v = written(ran.metric, metricValue(ran.metric, records[a]));
      assert.ok(verdict.includes(`${records[a].name} ${v}`), `${id}: the verdict gives ${records[a].name} ${v}: ${verdict}`);
    }
    assert.match(verdict, /In this run/);

    // The run's one-line result for the class: the core's line, short enough to paste.
    const line = await p.locator('#lesson-panel .verdict .result-line').textContent();
    assert.match(line, new RegExp(`^tricklab-result v1 lesson=${id} def=[0-9a-f]{8} seed=1 backend=(gpu|cpu) a0=\\S+/\\S+`));
    assert.equal(line.match(/ a\d+=/g).length, records.length, `${id}: one value per arm: ${line}`);
    assert.ok(line.length <= 300, `${id}: ${line.length} characters`);

    // The trained arms are in the history, and what one of them learned is shown.
    const trained = records.filter((r) => r.result).length;
    // The verdict is drawn first; the arms are saved into the history after it.
    await p.locator('#lesson-panel .lesson-status', { hasText: /Finished in/ }).waitFor({ timeout: 30_000 });
    assert.equal(await p.locator('#history tbody tr[data-run]').count(), trained, 'every trained arm is in the history');
    assert.ok(await p.locator('#lesson-panel .lesson-network .image-grid figure').count() >= 24 * trained, 'each trained arm\'s prediction grid');
    assert.equal(await p.locator('#lesson-panel .lesson-network table.confusion td').count(), 100 * trained, 'each trained arm\'s confusion matrix');
    await shot(p, `lesson-${String(index + 1).padStart(2, '0')}-${id}`);
    assert.deepEqual(p.problems, []);
  }));
}

test('after a lesson, the playground\'s network view shows predictions and a confusion matrix, and classifies a digit drawn by touch, and one drawn with the keyboard', () => withPage('#lesson=label-smoothing&tiny=1', { device: { hasTouch: true } }, async (p) => {
  await p.locator('.run-lesson').click();
  await p.waitForSelector('.verdict p', { timeout: LESSON_TIMEOUT });
  await p.locator('nav a[data-nav="playground"]').click();
  await p.waitForFunction(() => document.body.dataset.view === 'playground');
  assert.ok(await p.locator('#network-grid .image-grid figure').count() >= 24);
  assert.equal(await p.locator('#network-confusion table.confusion td').count(), 100);
  assert.ok(await p.locator('#network-batch .image-grid figure').count() > 0, 'the batch the network trained on');
  const canvas = p.locator('#network-draw canvas');
  await canvas.scrollIntoViewIfNeeded(); // touches land in viewport coordinates
  const box = await canvas.boundingBox();
  // A "1", drawn with a finger: one vertical stroke down the middle, as touch events.
  const cdp = await p.context().newCDPSession(p);
  const touch = (type, i) => cdp.send('Input.dispatchTouchEvent', { type, touchPoints: type === 'touchEnd' ? [] : [{ x: box.x + box.width / 2, y: box.y + box.height * (0.2 + 0.06 * i) }] });
  await touch('touchStart', 0);
  for (let i = 1; i <= 10; i += 1) await touch('touchMove', i);
  await touch('touchEnd', 10);
  await p.waitForFunction(() => document.querySelectorAll('#network-draw .probabilities .bar').length === 10, null, { timeout: 30_000 });
  const percents = await p.locator('#network-draw .probabilities .bar span:last-child').allTextContents();
  const total = percents.reduce((sum, t) => sum + Number(t.replace('%', '')), 0);
  assert.ok(Math.abs(total - 100) < 1, `the class probabilities add up to 100%: ${percents.join(' ')}`);
  // The same with the keyboard: Delete clears, Space puts the pen down, arrows draw, Enter asks.
  await canvas.focus();
  await p.keyboard.press('Delete');
  assert.equal(await p.locator('#network-draw .probabilities .bar').count(), 0, 'cleared');
  await p.keyboard.press('Space');
  for (let i = 0; i < 10; i += 1) await p.keyboard.press('ArrowDown');
  await p.keyboard.press('Space');
  assert.match(await p.locator('#network-draw .pen-where').textContent(), /pen up at 50% across, 75% down/);
  await p.keyboard.press('Enter');
  await p.waitForFunction(() => document.querySelectorAll('#network-draw .probabilities .bar').length === 10, null, { timeout: 30_000 });
  const ink = await canvas.evaluate((c) => Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data).filter((v, i) => i % 4 === 0 && v > 128).length);
  assert.ok(ink > 2000, `the keyboard drew a stroke (${ink} bright pixels)`);
  await p.locator('#network').screenshot({ path: new URL('../../artifacts/screenshots/network-views.png', import.meta.url).pathname });
  assert.deepEqual(p.problems, []);
}));
