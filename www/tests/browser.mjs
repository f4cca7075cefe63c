// What the browser tests share: Debian's chromium with WebGPU (SwiftShader), driven by playwright-core
// against the site xtask serves from dist/ (its address in TRICKLAB_URL), one browser per test file
// and one fresh context (own IndexedDB, caches and service worker) per page, a second chromium
// without WebGPU for the CPU fallback, and the screenshots in artifacts/screenshots/.

import test from 'node:test';
import { mkdirSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const SITE = process.env.TRICKLAB_URL;
export const SHOTS = fileURLToPath(new URL('../../artifacts/screenshots/', import.meta.url));
// The built site (`cargo xtask build-web`), which some tests copy and serve themselves.
export const DIST = fileURLToPath(new URL('../../dist/', import.meta.url));
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--enable-unsafe-webgpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];
let browser;

async function hasWebGpu(b) {
  const p = await b.newPage();
  try {
    await p.goto(`${SITE}styles.css`); // WebGPU needs a secure context, which about:blank is not
    return await p.evaluate(async () => Boolean(navigator.gpu && (await navigator.gpu.requestAdapter())));
  } finally {
    await p.close();
  }
}

// Chromium without WebGPU: without `--enable-unsafe-webgpu`, Linux chromium has `navigator.gpu`
// but no adapter, as a browser on a machine without a usable GPU. The caller closes it.
export async function launchWithoutWebGpu() {
  const b = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS.filter((f) => f !== '--enable-unsafe-webgpu') });
  if (await hasWebGpu(b)) {
    await b.close();
    throw new Error(`${CHROMIUM} offers a WebGPU adapter even without --enable-unsafe-webgpu`);
  }
  return b;
}

// chromium with WebGPU; `--enable-features=Vulkan` only if the plain flags find no adapter.
async function launch() {
  for (const extra of [[], ['--enable-features=Vulkan']]) {
    const b = await chromium.launch({ executablePath: CHROMIUM, args: [...FLAGS, ...extra] });
    if (await hasWebGpu(b)) return b;
    await b.close();
  }
  throw new Error(`${CHROMIUM} offers no WebGPU adapter even with --enable-features=Vulkan`);
}

export const ready = (p) => p.waitForSelector('body[data-ready]', { timeout: 60_000 });

// A page in a fresh browser context at `hash`, ready unless `wait` is false. `init` runs before the
// page's own scripts; `route` is [url glob, handler] (with the service worker blocked, as requests
// it answers would pass the route by); `on` is another browser (one without WebGPU), `base` another
// address of the site, `device` more options of the browser context (a phone's viewport and touch),
// `serviceWorkers` 'block' to block them without a route, `backend` the backend the browser keeps
// on a software GPU ('gpu' by default, so the tests train on SwiftShader's WebGPU as they ask; null:
// the page times it against the CPU path). `p.problems` collects page and console errors.
export async function open(hash = '', {
  init, route, wait = true, on = browser, base = SITE, device = {}, serviceWorkers = route ? 'block' : 'allow', backend = 'gpu',
} = {}) {
  const context = await on.newContext({ viewport: { width: 1280, height: 1000 }, serviceWorkers, ...device });
  if (backend) await context.addInitScript((b) => localStorage.setItem('tricklab.backend', b), backend);
  if (init) await context.addInitScript(init);
  if (route) await context.route(...route);
  const p = await context.newPage();
  p.problems = [];
  p.on('pageerror', (e) => p.problems.push(`page error: ${e.message}`));
  p.on('console', (m) => { if (m.type() === 'error') p.problems.push(`console error: ${m.text()}`); });
  await p.goto(`${base}${hash}`, { waitUntil: wait ? 'load' : 'domcontentloaded' });
  if (wait) await ready(p);
  return p;
}

// Runs `body` on a page of its own and closes its context, whatever happens.
export async function withPage(hash, options, body) {
  const p = await open(hash, options);
  try {
    await body(p);
  } finally {
    await p.context().close();
  }
}

export const shot = (p, name) => p.screenshot({ path: `${SHOTS}${name}.png`, fullPage: true });

// Launches the file's browser before its tests and closes it after them.
export function useBrowser() {
  test.before(async () => {
    if (!SITE) {
      throw new Error('TRICKLAB_URL is not set. Run the browser tests with `cargo xtask test-web`, which builds the site, '
        + 'serves it and sets TRICKLAB_URL (or `cargo xtask serve` and TRICKLAB_URL=http://127.0.0.1:8080/).');
    }
    mkdirSync(SHOTS, { recursive: true });
    if (!existsSync(`${DIST}pkg/tricklab_bg.wasm`)) {
      throw new Error('dist/ holds no site: run `cargo xtask test-web`, which builds it first');
    }
    browser = await launch();
  });
  test.after(async () => {
    await browser?.close();
  });
}
