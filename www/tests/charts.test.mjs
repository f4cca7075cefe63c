// Browser tests of the charts and the views of what a network learned: a chart of one x value is
// drawn as labelled bars (not lone dots), every chart has its numbers as a table under it and is an
// image with a label, drawing is batched to animation frames, the colours follow the colour
// scheme, and after a lesson each arm's network is shown side by side, in one column on a phone,
// without widening the page. Screenshots go to artifacts/screenshots/charts-*.png.

import test from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { shot, useBrowser, withPage } from './browser.mjs';

useBrowser();

const LESSON_TIMEOUT = 300_000;
const percent = (v) => `${(100 * v).toFixed(1)}%`;
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

// axe-core's WCAG 2.1 A and AA violations inside `scope`, one line per rule.
async function axeViolations(p, scope) {
  if (!(await p.evaluate(() => Boolean(window.axe)))) await p.addScriptTag({ path: AXE });
  return p.evaluate(async (sel) => {
    const r = await window.axe.run(sel, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return r.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; ')})`);
  }, scope);
}

// A LineChart made in the page, on a fresh 600 px wide element; `run` gets (LineChart, root).
const inPage = (p, run) => p.evaluate(`(async () => {
  const { LineChart } = await import('./views/chart.js');
  const root = document.createElement('div');
  root.className = 'chart test-chart';
  root.style.width = '600px';
  document.body.append(root);
  return (${run})(LineChart, root);
})()`);

// Each chart's numbers, opened: {caption, head, rows (cells as text)}.
const openNumbers = (p, scope) => p.evaluate((sel) => Array.from(document.querySelectorAll(`${sel} [data-chart]`), (chart) => {
  const details = chart.querySelector('details.chart-numbers');
  details.open = true;
  details.dispatchEvent(new Event('toggle')); // the toggle event comes later; render now
  const table = details.querySelector('table');
  const canvas = chart.querySelector('canvas');
  return {
    cls: chart.className,
    summary: details.querySelector('summary').textContent,
    caption: table?.caption.textContent,
    head: Array.from(table?.tHead.rows[0].cells ?? [], (c) => c.textContent),
    rows: Array.from(table?.tBodies[0].rows ?? [], (r) => Array.from(r.cells, (c) => c.textContent)),
    role: canvas?.getAttribute('role'),
    label: canvas?.getAttribute('aria-label'),
  };
}), scope);

test('one x value is drawn as labelled bars, two or more as lines; drawing waits for the next frame', () => withPage('#lesson=warmup', {}, async (p) => {
  const one = await inPage(p, (LineChart, root) => {
    const chart = new LineChart(root, { title: 'Accuracy', x: 'epoch', y: 'accuracy', yRange: [0, 1], integerX: true, singleAsBars: true, format: (v) => `${(100 * v).toFixed(1)}%` });
    chart.set([1], [{ label: 'A', values: [0.978] }, { label: 'B', values: [0.5] }]);
    const canvas = root.querySelector('canvas');
    return { mode: chart.mode, bars: canvas.classList.contains('chart-bars'), uplot: root.querySelectorAll('.uplot').length, label: canvas.getAttribute('aria-label'), role: canvas.getAttribute('role'), title: root.querySelector('.chart-title').textContent };
  });
  assert.deepEqual([one.mode, one.bars, one.uplot, one.role], ['bars', true, 0, 'img']);
  assert.match(one.label, /A 97\.8%, B 50\.0%/);
  assert.match(one.title, /Accuracy \(epoch 1\)/);

  // Two epochs: a line chart; a hundred updates in one task are drawn once, at the next frame,
  // and the latest data can be read at once.
  const many = await inPage(p, async (LineChart, root) => {
    const chart = new LineChart(root, { title: 'Accuracy', x: 'epoch', y: 'accuracy', integerX: true, singleAsBars: true });
    chart.set([1], [{ label: 'A', values: [0.1] }]);
    let draws = 0;
    const draw = chart.draw.bind(chart);
    chart.draw = () => { draws += 1; draw(); };
    for (let i = 2; i <= 101; i += 1) chart.set(Array.from({ length: i }, (_, k) => k + 1), [{ label: 'A', values: Array.from({ length: i }, (_, k) => k / i) }]);
    const before = { draws, latest: chart.data.xs.length };
    await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
    return { before, draws, mode: chart.mode, points: chart.plot.data[0].length, uplot: root.querySelectorAll('.uplot canvas[role=img]').length };
  });
  assert.deepEqual(many.before, { draws: 0, latest: 101 }, 'nothing drawn before the frame; the data is there at once');
  assert.deepEqual([many.draws, many.mode, many.points, many.uplot], [1, 'lines', 101, 1]);
  assert.deepEqual(p.problems, []);
}));

test('the charts take their colours from the page and follow the colour scheme', () => withPage('#lesson=warmup', {}, async (p) => {
  await p.emulateMedia({ colorScheme: 'light' });
  await inPage(p, (LineChart, root) => {
    window.testChart = new LineChart(root, { title: 'Loss', x: 'step', y: 'loss' });
    window.testChart.set([1, 2, 3], [{ label: 'A', values: [3, 2, 1] }, { label: 'B', values: [3, 1, 0.5], dash: true }]);
  });
  const look = () => p.evaluate(() => {
    const chart = window.testChart;
    const axis = chart.plot.axes[0];
    const css = getComputedStyle(document.documentElement);
    return {
      background: css.backgroundColor,
      fg: css.getPropertyValue('--fg').trim(),
      chart1: css.getPropertyValue('--chart-1').trim(),
      axisStroke: typeof axis.stroke === 'function' ? axis.stroke(chart.plot, 0) : axis.stroke,
      seriesStroke: chart.plot.series[1].stroke(chart.plot, 1),
      title: getComputedStyle(document.querySelector('.test-chart .u-title')).color,
      swatch: getComputedStyle(document.querySelector('.arms .swatch')).backgroundColor,
    };
  });
  const light = await look();
  assert.equal(light.axisStroke, light.fg, 'the axes are drawn in --fg');
  assert.equal(light.seriesStroke, light.chart1, 'the first series in --chart-1');
  await p.emulateMedia({ colorScheme: 'dark' });
  await p.waitForFunction((fg) => window.testChart.theme.fg !== fg, light.fg);
  const dark = await look();
  assert.equal(dark.axisStroke, dark.fg, 'the axes are redrawn in the dark --fg');
  assert.equal(dark.seriesStroke, dark.chart1);
  for (const key of ['background', 'fg', 'axisStroke', 'seriesStroke', 'title', 'swatch']) assert.notEqual(dark[key], light[key], `${key} changes with the scheme`);
  await shot(p, 'charts-dark-lesson');
  assert.deepEqual(p.problems, []);
}));

test('after a one-epoch lesson: accuracy as bars with the records\' values, every chart\'s numbers, each arm\'s network side by side', () => withPage('#lesson=zero-gamma&tiny=1', {}, async (p) => {
  await p.locator('.run-lesson').click();
  await p.waitForSelector('.verdict p', { timeout: LESSON_TIMEOUT });
  const records = await p.evaluate(() => window.tricklab.lessons.view.records);
  assert.ok(records.every((r) => r.epochs.length === 1), 'the tiny lesson has one epoch');

  // The accuracy panel: one bar per arm, labelled with its test accuracy; no dot plot.
  await p.waitForSelector('#lesson-panel .lesson-accuracy canvas.chart-bars');
  const expected = records.map((r) => `${r.name} ${percent(r.epochs[0].test_acc)}`);
  await p.waitForFunction((want) => want.every((w) => document.querySelector('.lesson-accuracy canvas').getAttribute('aria-label').includes(w)), expected);
  assert.equal(await p.locator('#lesson-panel .lesson-accuracy .uplot').count(), 0, 'no line chart of lone dots');

  // Every chart: an image with a label, and its numbers as a table.
  const numbers = await openNumbers(p, '#lesson-panel');
  assert.ok(numbers.length >= 2, `${numbers.length} charts`);
  for (const n of numbers) {
    assert.equal(n.role, 'img', `${n.cls}: the canvas is an image`);
    assert.ok(n.label.length > 20, `${n.cls}: its label says what it shows: ${n.label}`);
    assert.match(n.summary, /^The numbers/);
    assert.ok(n.rows.length >= 1 && n.rows.length <= 51, `${n.cls}: ${n.rows.length} rows`);
  }
  const accuracy = numbers.find((n) => n.cls.includes('lesson-accuracy'));
  assert.deepEqual(accuracy.head, ['epoch', ...records.map((r) => r.name)]);
  assert.deepEqual(accuracy.rows, [['1', ...records.map((r) => percent(r.epochs[0].test_acc))]]);
  const loss = numbers.find((n) => n.cls.includes('lesson-loss'));
  assert.deepEqual(loss.head.slice(1), records.map((r) => r.name));
  assert.ok(Math.abs(Number(loss.rows[0][1]) - records[0].losses[0]) < 1e-3 * records[0].losses[0], `the first loss: ${loss.rows[0][1]} ≈ ${records[0].losses[0]}`);

  // What each arm learned, side by side on a wide screen.
  const arms = p.locator('#lesson-panel .lesson-network .network-arm');
  assert.equal(await arms.count(), records.length);
  for (const [i, r] of records.entries()) {
    const arm = arms.nth(i);
    assert.equal((await arm.locator('h4').first().textContent()).trim(), `What ${r.name} learned`);
    if (!r.result) {
      assert.match(await arm.textContent(), /has no trained network \(it diverged\)/);
      continue;
    }
    assert.ok(await arm.locator('.image-grid figure').count() >= 24, `${r.name}: the prediction grid`);
    assert.equal(await arm.locator('table.confusion td').count(), 100, `${r.name}: the confusion matrix`);
  }
  const boxes = async () => Promise.all([0, 1].map((i) => arms.nth(i).boundingBox()));
  const [a, b] = await boxes();
  assert.ok(Math.abs(a.y - b.y) < 1 && b.x > a.x + a.width - 1, `side by side: ${JSON.stringify([a, b])}`);
  await p.locator('#lesson-panel .lesson-network').screenshot({ path: new URL('../../artifacts/screenshots/charts-networks.png', import.meta.url).pathname });
  assert.deepEqual(await axeViolations(p, '#lesson-panel'), [], 'the lesson, its charts and their numbers pass axe (light)');

  // On a phone: one column, and nothing of the charts or views wider than the screen.
  for (const width of [360, 390, 430]) {
    await p.setViewportSize({ width, height: 900 });
    await p.waitForFunction(() => new Promise((resolve) => requestAnimationFrame(() => resolve(true))));
    const [c, d] = await boxes();
    assert.ok(d.y >= c.y + c.height - 1, `${width} px: one column`);
    const wide = await p.evaluate(() => Array.from(document.querySelectorAll('#lesson-panel [data-chart], #lesson-panel .network-arm, #lesson-panel .confusion-box, #lesson-panel .image-grid, #lesson-panel .uplot, #lesson-panel canvas'))
      .filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
      .map((e) => `${e.tagName}.${e.className} right ${e.getBoundingClientRect().right}`));
    assert.deepEqual(wide, [], `${width} px: nothing wider than the screen`);
    const page = await p.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
    console.log(`# ${width} px: the page is ${page[0]} px wide in a ${page[1]} px window`);
  }
  await p.emulateMedia({ colorScheme: 'dark' });
  assert.deepEqual(await axeViolations(p, '#lesson-panel'), [], 'the lesson, its charts and their numbers pass axe (dark, 430 px)');
  await shot(p, 'charts-lesson-phone-dark');
  assert.deepEqual(p.problems, []);
}));
