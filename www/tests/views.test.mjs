// Browser tests of the page's views as a student and a teacher meet them: the lessons (the landing
// view, as cards), a lesson, the playground, class results and the computer check, each under its
// own link and each saying on its first screen what to do there. In every view, at phone width
// (390 px) and at desktop width, in light and dark mode: nothing wider than the screen, and
// axe-core finds no WCAG 2.1 A/AA violation. The views are reached with the keyboard alone, old
// links open the views they opened before, and a lesson card shows this browser's last verdict
// and the estimate "Check this computer" measured. Screenshots: artifacts/screenshots/view-*.png.

import test from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { shot, useBrowser, withPage } from './browser.mjs';

useBrowser();

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const LESSON_TIMEOUT = 300_000;

// axe-core's WCAG 2.0 and 2.1 A and AA rules on the page as it is now: the violations, each with
// the elements it found, in one line per rule.
async function axeViolations(p) {
  if (!(await p.evaluate(() => Boolean(window.axe)))) await p.addScriptTag({ path: AXE });
  const found = await p.evaluate(async () => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return r.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; ')})`);
  });
  return found;
}

// How much wider than the screen the page is, in CSS pixels (0: no horizontal overflow).
const overflow = (p) => p.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);

// The view's own first-screen sentence: visible, and within the first 900 px of the page.
async function leadOnFirstScreen(p, view) {
  const lead = p.locator(`.view[data-view-name="${view}"] .lead`).first();
  assert.ok(await lead.isVisible(), `${view}: its lead sentence shows`);
  const box = await lead.boundingBox();
  assert.ok(box.y + box.height < 900, `${view}: the lead ends at ${box.y + box.height} px, within the first screen`);
  return lead.textContent();
}

// Checks the page as it is at both widths and in both colour schemes.
async function checkEverywhere(p, name) {
  for (const [width, height] of [[1280, 1000], [390, 844]]) {
    await p.setViewportSize({ width, height });
    for (const colorScheme of ['light', 'dark']) {
      await p.emulateMedia({ colorScheme });
      await p.waitForTimeout(150); // the charts redraw in the new colours on the next frame
      assert.equal(await overflow(p), 0, `${name} at ${width} px (${colorScheme}) is no wider than the screen`);
      assert.deepEqual(await axeViolations(p), [], `${name} at ${width} px (${colorScheme}): axe`);
      await shot(p, `view-${name}-${width}${colorScheme === 'dark' ? '-dark' : ''}`);
    }
  }
  await p.emulateMedia({ colorScheme: 'light' });
  await p.setViewportSize({ width: 1280, height: 1000 });
}

test('no link opens the lessons as cards, each with its question and size, and says what to do', () => withPage('', {}, async (p) => {
  assert.equal(await p.evaluate(() => document.body.dataset.view), 'lessons');
  assert.match(await leadOnFirstScreen(p, 'lessons'), /Pick a lesson/);
  const lessons = await p.evaluate(() => window.tricklab.lessons.catalog.map((l) => ({ id: l.id, question: l.question, arms: l.arms.length })));
  for (const l of lessons) {
    const card = p.locator(`.lesson-card[data-card="${l.id}"]`);
    assert.equal(await card.locator('.card-question').textContent(), l.question);
    assert.match(await card.locator('.card-facts').textContent(), new RegExp(`^${l.arms} runs · \\d+k training images`));
  }
  assert.ok(await p.locator('#playground').isHidden(), 'the playground is a view of its own');
  assert.equal(await p.locator('nav [aria-current="page"]').textContent(), 'Lessons');
  await checkEverywhere(p, 'lessons');
}));

test('the views are reached with the keyboard alone, and each says what to do there', () => withPage('', {}, async (p) => {
  const focusLink = async (name, key = 'Tab') => {
    for (let i = 0; i < 40; i += 1) {
      await p.keyboard.press(key);
      if (await p.evaluate(() => document.activeElement?.textContent?.trim()) === name) return;
    }
    throw new Error(`${key} never reached "${name}"`);
  };
  await focusLink('Playground');
  await p.keyboard.press('Enter');
  await p.waitForFunction(() => document.body.dataset.view === 'playground');
  assert.match(await leadOnFirstScreen(p, 'playground'), /press Train/);
  assert.match(await p.evaluate(() => location.hash), /^#dataset=mnist&/, 'the playground\'s URL shows its settings');
  assert.equal(await p.evaluate(() => document.activeElement?.id), 'playground-title', 'the view\'s heading takes the focus');
  // The settings keep when the visitor goes to the lessons and back.
  await p.getByLabel('Seed', { exact: true }).fill('77');
  await p.waitForFunction(() => /seed=77/.test(location.hash));
  await focusLink('Lessons', 'Shift+Tab'); // back up to the navigation
  await p.keyboard.press('Enter');
  await p.waitForFunction(() => document.body.dataset.view === 'lessons');
  await focusLink('Learning-rate warmup');
  await p.keyboard.press('Enter');
  await p.waitForFunction(() => document.body.dataset.view === 'lesson');
  assert.match(await leadOnFirstScreen(p, 'lesson'), /press “Run this lesson”/);
  assert.ok(await p.evaluate(() => document.activeElement?.classList.contains('lesson-title')), 'the lesson\'s title takes the focus');
  // The lesson's run button is reached by Tab and starts it with Enter.
  for (let i = 0; i < 40 && !(await p.evaluate(() => document.activeElement?.classList.contains('run-lesson'))); i += 1) await p.keyboard.press('Tab');
  assert.ok(await p.evaluate(() => document.activeElement?.classList.contains('run-lesson')), 'Tab reaches "Run this lesson"');
  await p.goBack();
  await p.waitForFunction(() => document.body.dataset.view === 'lessons');
  await p.goForward();
  await p.waitForFunction(() => document.body.dataset.view === 'lesson');
  await focusLink('Playground', 'Shift+Tab');
  await p.keyboard.press('Enter');
  await p.waitForFunction(() => document.body.dataset.view === 'playground');
  assert.equal(await p.getByLabel('Seed', { exact: true }).inputValue(), '77', 'the settings were kept');
  assert.deepEqual(p.problems, []);
}));

test('on a phone (390 px, touch), every control of the playground and the lessons is large enough to tap', () => withPage('#playground', { device: { viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true } }, async (p) => {
  assert.ok(await p.evaluate(() => matchMedia('(pointer: coarse)').matches), 'the phone has a coarse pointer');
  await p.locator('details.more > summary').click();
  const small = await p.evaluate(() => [...document.querySelectorAll('button, select, input, summary, nav a')]
    .filter((e) => e.offsetParent !== null)
    .map((e) => ({ what: `${e.tagName} ${e.id || e.textContent.trim().slice(0, 30)}`, small: /checkbox|radio/.test(e.type), ...e.getBoundingClientRect().toJSON() }))
    .filter((r) => r.height < (r.small ? 24 : 44)));
  assert.deepEqual(small.map((r) => `${r.what}: ${Math.round(r.width)}×${Math.round(r.height)}`), []);
  assert.equal(await overflow(p), 0);
  await p.goto(`${await p.evaluate(() => location.href.split('#')[0])}#lessons`);
  await p.waitForFunction(() => document.body.dataset.view === 'lessons');
  assert.equal(await overflow(p), 0);
  await shot(p, 'view-lessons-phone-touch');
}));

test('old links open the views they opened: settings the playground, a lesson its lesson, embed the lesson alone', async () => {
  await withPage('#seed=5&epochs=3', {}, async (p) => {
    assert.equal(await p.evaluate(() => document.body.dataset.view), 'playground');
    assert.equal(await p.getByLabel('Seed', { exact: true }).inputValue(), '5');
  });
  await withPage('#lesson=cosine&seed=3', {}, async (p) => {
    assert.equal(await p.evaluate(() => document.body.dataset.view), 'lesson');
    assert.match(await p.locator('.run-lesson').textContent(), /seed 3/);
  });
  await withPage('#lesson=cosine&embed=1', {}, async (p) => {
    for (const hidden of ['body > header', '#lessons', '#playground', '.back-line']) assert.ok(await p.locator(hidden).isHidden(), `${hidden} is hidden`);
    assert.ok(await p.locator('.run-lesson').isVisible());
    assert.equal(await p.evaluate(() => document.activeElement?.tagName), 'BODY', 'an embedded lesson takes no focus from the tutorial around it');
  });
});

test('the playground, class results and the computer check pass axe and fit a phone, in light and dark mode', async () => {
  await withPage('#playground', {}, async (p) => {
    assert.ok(await p.locator('.trick[data-trick="warmup"] .trick-params').isHidden(), 'an off trick hides its parameters');
    await p.getByLabel('Learning-rate warmup', { exact: true }).check();
    assert.ok(await p.locator('.trick[data-trick="warmup"] .trick-params').isVisible(), 'switched on, it shows them');
    assert.ok(await p.locator('.trick[data-trick="warmup"] .trick-about').evaluate((d) => d.open), 'and its explanation');
    assert.ok(await p.getByLabel('Momentum', { exact: true }).isHidden(), 'a rarely used field waits behind "More settings"');
    await p.locator('details.more > summary').click();
    assert.ok(await p.getByLabel('Momentum', { exact: true }).isVisible());
    await checkEverywhere(p, 'playground');
  });
  await withPage('#class=warmup', {}, async (p) => {
    assert.match(await leadOnFirstScreen(p, 'class'), /Pool a class's runs/);
    await checkEverywhere(p, 'class');
  });
});

test('a finished lesson passes axe and fits a phone; its card then shows the verdict, and the check\'s estimate', () => withPage('#lesson=label-smoothing&tiny=1', {}, async (p) => {
  await p.locator('.run-lesson').click();
  await p.locator('.lesson-status', { hasText: /^Finished/ }).waitFor({ timeout: LESSON_TIMEOUT });
  const sentence = await p.locator('.verdict p').first().textContent();
  await checkEverywhere(p, 'lesson');

  await p.locator('.back-to-lessons').click();
  await p.waitForFunction(() => document.body.dataset.view === 'lessons');
  const verdict = p.locator('.lesson-card[data-card="label-smoothing"] .card-verdict');
  assert.equal(await verdict.textContent(), `Your last run here (seed 1, tiny): ${sentence.replace(/^Verdict \(computed from these runs\): /, '')}`);

  await p.goto(`${await p.evaluate(() => location.href.split('#')[0])}#check&tiny=1`);
  await p.locator('.check-summary code').waitFor({ timeout: LESSON_TIMEOUT });
  assert.match(await leadOnFirstScreen(p, 'check'), /open this page on each lab computer/);
  await checkEverywhere(p, 'check');
  await p.locator('nav a[data-nav="lessons"]').click();
  await p.waitForFunction(() => document.body.dataset.view === 'lessons');
  const estimated = await p.locator('#check-view tr[data-lesson="warmup"] td').last().textContent();
  assert.match(await p.locator('.lesson-card[data-card="warmup"] .card-facts').textContent(), new RegExp(`about ${estimated} on this computer \\(tiny version\\)`));
  assert.ok(await p.locator('.lesson-card[data-card="label-smoothing"] .card-verdict').isVisible(), 'a reload of the view keeps the verdict');
  assert.deepEqual(p.problems, []);
}));

test('while a lesson trains, the visitor can go to the playground and back, and the lesson goes on', () => withPage('#lesson=zero-gamma&tiny=1', {}, async (p) => {
  await p.locator('.run-lesson').click();
  await p.locator('.lesson-status', { hasText: /^Running/ }).waitFor({ timeout: LESSON_TIMEOUT });
  await p.locator('nav a[data-nav="playground"]').click();
  await p.waitForFunction(() => document.body.dataset.view === 'playground');
  assert.ok(await p.locator('#train').isDisabled(), 'the playground cannot start a second run meanwhile');
  await p.goBack();
  await p.waitForFunction(() => document.body.dataset.view === 'lesson');
  await p.locator('.lesson-status', { hasText: /^Finished/ }).waitFor({ timeout: LESSON_TIMEOUT });
  assert.ok(await p.locator('.verdict p').first().isVisible());
  assert.deepEqual(p.problems, []);
}));
