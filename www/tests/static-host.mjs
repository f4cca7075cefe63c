// A plain static host for the tests that need one of their own: it serves a folder under a
// subpath (as GitHub Pages serves a project at /project/), with nothing but a content type per file
// extension (no special headers), can be stopped (no network at all) and started again on the
// same port, and lists what it was asked for.

import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm', '.gz': 'application/gzip', '.json': 'application/json',
};

export class StaticHost {
  // Serves `dir` at http://127.0.0.1:PORT`base` (base starts and ends with '/').
  constructor(dir, base) {
    this.dir = dir;
    this.base = base;
    this.requests = [];
    this.port = 0;
    this.server = null;
  }

  get url() {
    return `http://127.0.0.1:${this.port}${this.base}`;
  }

  async start() {
    this.server = createServer((req, res) => this.answer(req, res));
    await new Promise((resolve) => this.server.listen(this.port, '127.0.0.1', resolve));
    this.port = this.server.address().port;
    return this;
  }

  // Stops answering at once, open connections included: the site is offline.
  async stop() {
    if (!this.server?.listening) return;
    const closed = new Promise((resolve) => this.server.close(resolve));
    this.server.closeAllConnections();
    await closed;
  }

  async answer(req, res) {
    const path = decodeURIComponent(new URL(req.url, 'http://host').pathname);
    this.requests.push(path);
    const rel = path.startsWith(this.base) ? normalize(path.slice(this.base.length) || 'index.html') : null;
    if (rel === null || rel.startsWith('..')) {
      res.writeHead(404).end();
      return;
    }
    try {
      const body = await readFile(join(this.dir, rel.endsWith('/') ? `${rel}index.html` : rel));
      res.writeHead(200, { 'Content-Type': TYPES[extname(rel)] ?? 'application/octet-stream', 'Content-Length': body.length });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch {
      res.writeHead(404).end();
    }
  }
}
