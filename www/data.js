// The worker's data files, kept in the Cache API: MNIST's gzipped IDX files are downloaded once
// per browser (a reload, a second run or a lesson reads them from the cache), and a CIFAR-10
// archive the visitor dropped is kept under a name of its own until they ask the page to forget
// it. Where the Cache API is missing or full, files still load, from the network, every time.

const CACHE = 'tricklab-data';
// The dropped archive's key: a URL under the site's folder that the server never serves.
const DROPPED_CIFAR = 'kept/cifar-10-binary.tar.gz';
const SERVED_CIFAR = 'data/cifar-10-binary.tar.gz';

// A site-relative path as an absolute URL (the key the Cache API stores it under).
const url = (path) => new URL(path, self.location.href).href;

export class DataFiles {
  constructor() {
    this.cache = (async () => {
      try {
        return await caches.open(CACHE);
      } catch {
        return null; // no Cache API here (an insecure context, a blocked site)
      }
    })();
    // Where each file came from: {path, from: 'cache' | 'network', bytes, ms}.
    this.log = [];
    // Milliseconds the core took to inflate and parse each dataset, by name (the worker fills it).
    this.parsedMs = {};
  }

  // The bytes of `path`: from the cache, else downloaded and then kept.
  async get(path) {
    const t0 = performance.now();
    const cache = await this.cache;
    const hit = await cache?.match(url(path));
    const response = hit ?? await fetch(path);
    if (!response.ok) throw new Error(`${path}: ${response.status} ${response.statusText}`);
    if (!hit && cache) {
      // A full quota only costs the next visit a download.
      await cache.put(url(path), response.clone()).catch(() => {});
    }
    const bytes = new Uint8Array(await response.arrayBuffer());
    this.log.push({ path, from: hit ? 'cache' : 'network', bytes: bytes.length, ms: performance.now() - t0 });
    return bytes;
  }

  // CIFAR-10's archive: the one the visitor dropped, else the site's (when it has one), else null.
  // `cifarName` then says which one it is, for the core's errors to name.
  async cifar() {
    const kept = await (await this.cache)?.match(url(DROPPED_CIFAR));
    if (kept) {
      this.log.push({ path: DROPPED_CIFAR, from: 'cache', bytes: Number(kept.headers.get('Content-Length')) });
      this.cifarName = 'the CIFAR-10 archive kept in this browser';
      return new Uint8Array(await kept.arrayBuffer());
    }
    const head = await fetch(SERVED_CIFAR, { method: 'HEAD' }).catch(() => null);
    const cached = await (await this.cache)?.match(url(SERVED_CIFAR));
    this.cifarName = SERVED_CIFAR;
    return head?.ok || cached ? this.get(SERVED_CIFAR) : null;
  }

  // Keeps a dropped archive; false when this browser cannot (no Cache API, or too little room).
  async keepDroppedCifar(bytes) {
    const cache = await this.cache;
    if (!cache) return false;
    const headers = { 'Content-Type': 'application/gzip', 'Content-Length': String(bytes.byteLength) };
    return cache.put(url(DROPPED_CIFAR), new Response(bytes, { headers })).then(() => true, () => false);
  }

  async hasDroppedCifar() {
    return Boolean(await (await this.cache)?.match(url(DROPPED_CIFAR)));
  }

  // Removes the kept archive; true when there was one.
  async forgetDroppedCifar() {
    return (await (await this.cache)?.delete(url(DROPPED_CIFAR))) ?? false;
  }
}
