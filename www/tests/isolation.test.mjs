// Cross-origin isolation from the site's own service worker, on a plain static host that sends no
// special headers: the first load is not isolated; once sw.js serves the page (COOP, COEP and CORP
// on all it answers), a reload is, with SharedArrayBuffer, and everything the page loads (modules,
// the training worker, the wasm, MNIST) still loads and trains under COEP require-corp; a
// redirected and a range response still work. With service workers blocked the page is not
// isolated and says why. The site embedded in an iframe still loads, in an isolated page of
// another origin (and is isolated there) as in a plain one.

import test from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { DIST, open, ready, useBrowser, withPage } from './browser.mjs';
import { StaticHost } from './static-host.mjs';

const BASE = '/tricklab/';
// One step of a quarter-width model on 16 images.
const TINY_RUN = 'epochs=1&batch_size=16&base_lr=0.4&width_mult=0.25&lr_decay_epochs=&train_limit=16&test_limit=16';
const ISOLATION_HEADERS = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'cross-origin-resource-policy': 'cross-origin',
};

// dist/ on a plain host, plus a file that redirects to another and one answered in ranges.
class Host extends StaticHost {
  async answer(req, res) {
    const path = new URL(req.url, 'http://host').pathname;
    if (path === `${BASE}moved.json`) {
      res.writeHead(302, { Location: 'lessons/index.json' }).end();
    } else if (path === `${BASE}bytes.bin` && req.headers.range === 'bytes=2-5') {
      res.writeHead(206, { 'Content-Type': 'application/octet-stream', 'Content-Range': 'bytes 2-5/10', 'Content-Length': 4 }).end('2345');
    } else {
      await super.answer(req, res);
    }
  }
}

let host;
test.before(async () => { host = await new Host(DIST, BASE).start(); });
test.after(() => host?.stop());
useBrowser();

// What the page (or a frame) says of its isolation: the browser's, its own mark and offline.js's.
const isolationOf = (frame) => frame.evaluate(async () => ({
  browser: self.crossOriginIsolated,
  sharedMemory: typeof SharedArrayBuffer,
  marked: document.body.dataset.isolated,
  said: (await import(new URL('offline.js', location.href).href)).isolation(),
}));

// What `fetch(url, init)` from the page gets: status, final URL, the isolation headers and the text.
const fetched = (p, url, init = {}) => p.evaluate(async ([u, i]) => {
  const r = await fetch(u, i);
  const names = ['cross-origin-opener-policy', 'cross-origin-embedder-policy', 'cross-origin-resource-policy', 'content-range'];
  return { status: r.status, url: r.url, redirected: r.redirected, headers: Object.fromEntries(names.map((n) => [n, r.headers.get(n)])), text: await r.text() };
}, [url, init]);

test('the first load is not isolated; once the service worker serves the page, a reload is, and trains', () => withPage(`#${TINY_RUN}`, { base: host.url }, async (p) => {
  const first = await isolationOf(p);
  assert.equal(first.browser, false, 'the host sends no isolation headers');
  assert.equal(first.marked, 'false');
  await p.waitForFunction(() => document.body.dataset.swVersion, null, { timeout: 60_000 });
  assert.deepEqual((await isolationOf(p)).said, {
    isolated: false, reason: "the site's service worker was just installed: reload the page to use every core",
  });

  await p.reload();
  await ready(p);
  const second = await isolationOf(p);
  assert.deepEqual(second, {
    browser: true, sharedMemory: 'function', marked: 'true',
    said: { isolated: true, reason: 'the page is cross-origin isolated: training can use every core' },
  });
  const page = await fetched(p, 'index.html');
  assert.equal(page.status, 200);
  assert.deepEqual(page.headers, { ...ISOLATION_HEADERS, 'content-range': null }, 'the page as the service worker serves it');

  // A redirect keeps its final URL (a module or worker resolves its imports there), with the headers.
  const moved = await fetched(p, 'moved.json');
  assert.equal(moved.status, 200);
  assert.ok(moved.url.endsWith(`${BASE}lessons/index.json`) && moved.redirected, moved.url);
  assert.deepEqual(JSON.parse(moved.text), JSON.parse((await fetched(p, 'lessons/index.json')).text));
  assert.equal(moved.headers['cross-origin-embedder-policy'], 'require-corp');
  // A range response keeps its status and range.
  const part = await fetched(p, 'bytes.bin', { headers: { Range: 'bytes=2-5' } });
  assert.deepEqual(part, { status: 206, url: `${host.url}bytes.bin`, redirected: false, headers: { ...ISOLATION_HEADERS, 'content-range': 'bytes 2-5/10' }, text: '2345' });

  // The training worker, the wasm and MNIST load under COEP require-corp: a run trains.
  await p.locator('#train').click();
  await p.locator('#status', { hasText: /Run 1 finished/ }).waitFor({ timeout: 180_000 });
  assert.deepEqual(p.problems, []);
  console.log('# isolated from the second load: crossOriginIsolated, SharedArrayBuffer, a run trained');
}));

test('with service workers blocked the page is not isolated, says why, and is ready', () => withPage('', { base: host.url, serviceWorkers: 'block' }, async (p) => {
  await p.waitForFunction(async () => (await import(new URL('offline.js', location.href).href)).isolation().reason.includes('blocked'), null, { timeout: 20_000 });
  assert.deepEqual(await isolationOf(p), {
    browser: false, sharedMemory: 'undefined', marked: 'false',
    said: { isolated: false, reason: 'the service worker is blocked here' },
  });
  await p.reload();
  await ready(p);
  assert.equal((await isolationOf(p)).browser, false);
  assert.deepEqual(p.problems, []);
}));

// A page of another origin that embeds the site's lesson, with the isolation headers or without. A
// frame of another origin is isolated only where its parent allows it (`allow="cross-origin-isolated"`).
async function tutorialHost(site) {
  const server = createServer((req, res) => {
    const headers = req.url === '/isolated' ? ISOLATION_HEADERS : {};
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', ...headers })
      .end(`<!doctype html><title>tutorial</title><iframe id="lesson" src="${site}#lesson=cosine&embed=1" allow="cross-origin-isolated" width="800" height="700"></iframe>`);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${server.address().port}/` };
}

test('the site embedded in an isolated page of another origin loads and is isolated; in a plain page it loads', async () => {
  const tutorial = await tutorialHost(host.url);
  const p = await open('', { base: host.url });
  try {
    await p.waitForFunction(() => document.body.dataset.swVersion, null, { timeout: 60_000 });
    for (const [path, isolated] of [['isolated', true], ['plain', false]]) {
      await p.goto(`${tutorial.url}${path}`);
      await p.frameLocator('#lesson').locator('body[data-ready]').waitFor({ state: 'attached', timeout: 60_000 });
      await p.frameLocator('#lesson').locator('#lesson-panel .run-lesson').waitFor({ timeout: 20_000 });
      assert.equal(await p.evaluate(() => self.crossOriginIsolated), isolated, `the ${path} tutorial`);
      const frame = await isolationOf(p.frame({ url: (u) => u.href.startsWith(host.url) }));
      assert.equal(frame.browser, isolated, `the site in the ${path} tutorial`);
      if (!isolated) assert.match(frame.said.reason, /^this page is embedded in another page that is not cross-origin isolated/);
    }
    assert.deepEqual(p.problems, []);
  } finally {
    await p.context().close();
    tutorial.server.close();
  }
});
