// The service worker: keeps the site's code (the page, its modules, the wasm) in the Cache API, so
// after one visit the page loads and trains with no network, for a classroom with poor internet.
// `cargo xtask build-web` writes this build's version and file list into BUILD; a new build
// changes this file, so the browser installs the new worker, which caches the new files, takes
// over at once and deletes the old copy; the page then says the site was updated. Data files
// (MNIST, a dropped CIFAR-10) are the training worker's (data.js): served here from its cache
// when present, else from the network.

const BUILD = { version: 'dev', files: [] };
// Cache names are per origin, so they carry the worker's scope: two copies of the site on one
// host (two folders) keep their own.
const PREFIX = `tricklab-site ${self.registration.scope} `;
const SITE = `${PREFIX}${BUILD.version}`;

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(SITE);
    // `no-cache`: each file revalidated with the host (a cheap "not modified" when the page just
    // loaded it), so a file the HTTP cache still holds from the previous version is not kept.
    await cache.addAll(BUILD.files.map((f) => new Request(f, { cache: 'no-cache' })));
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith(PREFIX) && name !== SITE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

// Cross-origin isolation. Training on every core shares memory between workers (SharedArrayBuffer,
// Atomics.wait), which a browser allows only in a cross-origin isolated page: one served with COOP
// and COEP headers. A static host (GitHub Pages, a school's server) sends none, but every file of
// the site passes through here, so this worker adds them: the page is isolated from the load after
// this worker took over (the first load comes from the host alone; the page does not reload itself).
// CORP `cross-origin` lets an isolated page of another site still embed this one in an iframe.
const ISOLATION = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'cross-origin',
};

// `response` with the isolation headers, in a new Response with its status, statusText and every
// header (a range response keeps its 206 and Content-Range). Opaque responses and network errors
// (status 0) cannot be rebuilt and pass as they are. A new Response has no URL of its own (the
// browser takes the request's), so a network response that followed a redirect is answered with a
// redirect to where it ended: the browser asks for that URL (through this worker), and a module or
// the training worker loaded from it resolves its imports there. A cached one (whose URL a rebuilt
// response loses) is rebuilt all the same, so it still serves offline, and a page navigated to it
// now loads (a browser refuses a redirected response to a navigation).
function isolated(response, fromNetwork) {
  if (response.status === 0) return response;
  if (response.redirected && fromNetwork) {
    response.body?.cancel().catch(() => {});
    return Response.redirect(response.url, 307);
  }
  const headers = new Headers(response.headers);
  for (const [name, value] of Object.entries(ISOLATION)) headers.set(name, value);
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

// Cached first: this build's files, then the data files the training worker kept, then the network;
// each answer with the isolation headers.
self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET' || !request.url.startsWith(self.registration.scope)) return;
  event.respondWith((async () => {
    const site = await caches.open(SITE);
    const hit = (await site.match(request, { ignoreSearch: true })) ?? (await caches.match(request));
    return hit ? isolated(hit, false) : isolated(await fetch(request), true);
  })());
});

// The page asks which version serves it.
self.addEventListener('message', (event) => {
  if (event.data === 'version') event.ports[0]?.postMessage(BUILD.version);
});
