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

// Cached first: this build's files, then the data files the training worker kept, then the network.
self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET' || !request.url.startsWith(self.registration.scope)) return;
  event.respondWith((async () => {
    const site = await caches.open(SITE);
    const hit = (await site.match(request, { ignoreSearch: true })) ?? (await caches.match(request));
    return hit ?? fetch(request);
  })());
});

// The page asks which version serves it.
self.addEventListener('message', (event) => {
  if (event.data === 'version') event.ports[0]?.postMessage(BUILD.version);
});
