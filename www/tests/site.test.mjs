// The built site as a static host serves it: a copy of dist/ under a subpath of a plain host (no
// special headers), visited once, then used with no network at all (the host stopped and the
// browser offline): it loads and trains from the service worker's cache, with MNIST from the
// Cache API. Then the host serves a new build, and the page says it replaced the cached one.

import test from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DIST, ready, shot, useBrowser, withPage } from './browser.mjs';
import { StaticHost } from './static-host.mjs';

// One step of a quarter-width model on 16 images.
const TINY_RUN = 'epochs=1&batch_size=16&base_lr=0.4&width_mult=0.25&lr_decay_epochs=&train_limit=16&test_limit=16';
const BASE = '/class/tricklab/';

const text = (p, sel) => p.locator(sel).textContent();
const waitText = (p, sel, pattern, timeout = 60_000) => p.waitForFunction(
  ([s, source]) => new RegExp(source).test(document.querySelector(s).textContent), [sel, pattern.source], { timeout },
);
// `read()`'s value once `done(value)` holds, polled (playwright's waitForFunction does not await).
async function until(read, done, timeout = 60_000) {
  const end = Date.now() + timeout;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > end) throw new Error(`timed out; last value ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
// The worker's record of where each MNIST file came from, once all four are loaded.
const mnistLog = (p) => until(() => p.evaluate(() => window.tricklab.worker('dataLog')), (log) => log.length >= 4);

useBrowser();

test('after one visit the site trains offline from a subpath, and a new version replaces the cached one', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tricklab-site-'));
  await cp(DIST, dir, { recursive: true });
  const host = await new StaticHost(dir, BASE).start();
  try {
    await withPage(`#${TINY_RUN}`, { base: host.url }, async (p) => {
      // First visit: the service worker caches the site and takes over; MNIST is downloaded once.
      await p.waitForFunction(() => document.body.dataset.swVersion, null, { timeout: 60_000 });
      assert.match(await text(p, '#site-note'), /now kept in this browser and works offline/);
      const first = await mnistLog(p);
      assert.deepEqual(first.map((f) => f.from), ['network', 'network', 'network', 'network'], JSON.stringify(first));
      const mnistBytes = first.reduce((n, f) => n + f.bytes, 0);
      const parsed = await until(() => p.evaluate(() => window.tricklab.worker('parseTimes')), (t) => t.mnist !== undefined);
      console.log(`# MNIST downloaded on the first visit: ${mnistBytes} bytes (${(mnistBytes / 1e6).toFixed(2)} MB, gzipped); `
        + `inflated and parsed by the core in the worker in ${parsed.mnist.toFixed(0)} ms`);
      assert.ok(mnistBytes < 12e6, `MNIST ships gzipped: ${mnistBytes} bytes`);

      // A reload reads MNIST from the cache.
      await p.reload();
      await ready(p);
      assert.deepEqual((await mnistLog(p)).map((f) => f.from), ['cache', 'cache', 'cache', 'cache']);

      // No network at all: the host stopped and the browser offline.
      await host.stop();
      await p.context().setOffline(true);
      const asked = host.requests.length;
      await p.reload();
      await ready(p);
      await waitText(p, '#site-note', /Works offline/);
      await p.locator('#train').click();
      await waitText(p, '#status', /Run 1 finished/, 120_000);
      await shot(p, '40-offline-trained');
      assert.equal(host.requests.length, asked, 'nothing reached the host while offline');
      assert.deepEqual(p.problems, []);

      // Every request stayed under the site's folder: its URLs are relative.
      const outside = host.requests.filter((r) => !r.startsWith(BASE));
      assert.deepEqual(outside, [], 'requests outside the subpath');

      // A new build on the host: the page says it replaced the cached copy.
      await p.context().setOffline(false);
      await host.start();
      const sw = await readFile(join(dir, 'sw.js'), 'utf8');
      const old = sw.match(/version: '([0-9a-f]+)'/)[1];
      const next = 'feedc0de00000001';
      await writeFile(join(dir, 'sw.js'), sw.replace(`version: '${old}'`, `version: '${next}'`));
      const html = await readFile(join(dir, 'index.html'), 'utf8');
      await writeFile(join(dir, 'index.html'), html.replace('<title>', '<meta name="build" content="next">\n  <title>'));
      await p.evaluate(async () => (await navigator.serviceWorker.getRegistration()).update());
      await waitText(p, '#messages', new RegExp(`new version of this site \\(${next}\\) was installed and replaced the copy`));
      // The new worker deletes the old copy as it activates, just after it takes over the page.
      const siteCaches = () => p.evaluate(async () => (await caches.keys()).filter((k) => k.startsWith('tricklab-site')));
      const kept = await until(siteCaches, (names) => names.length === 1);
      assert.ok(kept[0].endsWith(next), `only the new build is cached: ${kept}`);
      await shot(p, '41-updated');
      await p.reload();
      await ready(p);
      await waitText(p, '#site-note', new RegExp(`version ${next}`));
      assert.equal(await p.locator('meta[name=build]').getAttribute('content'), 'next', 'the reload shows the new build');
      console.log(`# offline: trained with the host stopped; update ${old} -> ${next} announced and served`);
    });
  } finally {
    await host.stop().catch(() => {});
    await rm(dir, { recursive: true, force: true });
  }
});
