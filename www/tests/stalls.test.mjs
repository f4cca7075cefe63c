// The page never freezes while a full-size lesson trains (chromium on SwiftShader here): no
// main-thread task of 100 ms or more (a `longtask` observer), and at most one gap of over 200 ms
// between animation frames (a requestAnimationFrame probe). The frame gaps that remain come from
// the GPU process, not the page (no long task goes with them): WebGPU's createComputePipeline is
// synchronous there, and SwiftShader compiles the run's 47 pipelines on the thread that also
// composites the page, which holds frames up for about half a second; stopping a warm-up halfway
// adds a shorter one. When a lesson opens, the page compiles its arms' pipelines while the visitor
// reads (warm.js), so a lesson started after that has no frame gap at all. Both cases are
// measured: the warmed one against the limits, the one started at once (before the warm-up
// ended) against the main-thread limit and at most two gaps over 200 ms. The figures are printed
// and written to artifacts/stalls.json.

import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { useBrowser, withPage } from './browser.mjs';

useBrowser();

const LESSON = 'label-smoothing';
const LESSON_TIMEOUT = 600_000;
const figures = {};

// Runs the open lesson at full size with the frame probe on; returns what was measured.
async function measureLesson(p) {
  await p.evaluate(() => {
    const probe = { gaps: [], last: performance.now(), frames: 0, stop: false };
    window.frameProbe = probe;
    const tick = (t) => {
      if (t - probe.last > 100) probe.gaps.push({ at: Math.round(probe.last), ms: Math.round(t - probe.last) });
      probe.last = t;
      probe.frames += 1;
      if (!probe.stop) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
    probe.t0 = performance.now();
  });
  await p.locator('.run-lesson').click();
  await p.locator('.lesson-status', { hasText: /^Finished/ }).waitFor({ timeout: LESSON_TIMEOUT });
  return p.evaluate(() => {
    const probe = window.frameProbe;
    probe.stop = true;
    const tasks = window.tricklab.perf.longTasks.filter((t) => t.start >= probe.t0);
    return {
      seconds: Math.round((performance.now() - probe.t0) / 100) / 10,
      frames: probe.frames,
      longestTaskMs: Math.round(Math.max(0, ...tasks.map((t) => t.ms))),
      longTasks: tasks.length,
      gapsOver100ms: probe.gaps,
      gapsOver200ms: probe.gaps.filter((g) => g.ms > 200).length,
      longestGapMs: Math.max(0, ...probe.gaps.map((g) => g.ms)),
    };
  });
}

function check(name, m, allowedGaps = 1) {
  figures[name] = m;
  console.log(`${name}: ${JSON.stringify(m)}`);
  mkdirSync(new URL('../../artifacts/', import.meta.url), { recursive: true });
  writeFileSync(new URL('../../artifacts/stalls.json', import.meta.url), `${JSON.stringify(figures, null, 2)}\n`);
  assert.ok(m.longestTaskMs < 100, `${name}: a main-thread task took ${m.longestTaskMs} ms`);
  assert.ok(m.gapsOver200ms <= allowedGaps, `${name}: ${m.gapsOver200ms} frame gaps over 200 ms`);
}

test('a full-size lesson started after its warm-up: no long task, and at most one frame gap over 200 ms', () => withPage(`#lesson=${LESSON}`, {}, async (p) => {
  await p.evaluate(() => window.tricklab.warming());
  const warmed = await p.evaluate(() => window.tricklab.perf.warmups);
  assert.ok(warmed.length >= 1 && warmed.every((w) => !w.stopped), `the lesson's arms were warmed: ${JSON.stringify(warmed)}`);
  check('after the warm-up', await measureLesson(p));
  assert.deepEqual(p.problems, []);
}));

test('a full-size lesson started at once, before its warm-up ends: no long task; the pipelines compile in the run', () => withPage(`#lesson=${LESSON}`, {}, async (p) => {
  check('started at once', await measureLesson(p), 2);
  assert.deepEqual(p.problems, []);
}));
