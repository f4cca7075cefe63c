// The CPU path over several Web Workers (the core's train::team): the training worker leads and
// starts the others (cpu-helper.js); each holds its own copy of every run's network and computes
// its rows of each batch. The work travels by postMessage; the sums (each batch norm's statistics,
// the loss, the gradients) meet in one SharedArrayBuffer behind an Atomics barrier, every worker
// adding the workers' parts in the same order, worker 0 first, so all get the same bits. That
// needs a cross-origin isolated page (the site's service worker gives it from the second load).

// Int32 control words at the start of the shared buffer.
const ARRIVED = 0;
const GENERATION = 1;
const FAILED = 2;
const FAILURE_LENGTH = 3;
const CONTROL_BYTES = 64;
// The first failure's message, then one slot per worker (sums longer than a slot go in parts).
const FAILURE_BYTES = 1024;
const SLOT_BYTES = 1 << 20;
// A worker that has not reached a barrier after this long is taken for lost.
const PATIENCE_MS = 120_000;

export const MAX_WORKERS = 8;

// How many workers CPU runs use: `&workers=N` in the page's link, else one per core less one
// for the page, at most MAX_WORKERS; 1 where the page is not cross-origin isolated.
export function teamSize(asked, cores = self.navigator.hardwareConcurrency ?? 1) {
  const wanted = Number.isInteger(asked) && asked > 0 ? asked : cores - 1;
  return Math.max(1, Math.min(MAX_WORKERS, wanted));
}

// One worker's side of the team's sums (the core calls sumF64 and sumF32 with views of its memory).
export class Exchange {
  constructor(buffer, rank, workers) {
    this.buffer = buffer;
    this.rank = rank;
    this.workers = workers;
    this.control = new Int32Array(buffer, 0, CONTROL_BYTES / 4);
  }

  static buffer(workers) {
    return new SharedArrayBuffer(CONTROL_BYTES + FAILURE_BYTES + workers * SLOT_BYTES);
  }

  get failed() {
    return Atomics.load(this.control, FAILED) !== 0;
  }

  failure() {
    const length = Atomics.load(this.control, FAILURE_LENGTH);
    const bytes = new Uint8Array(this.buffer, CONTROL_BYTES, length).slice();
    return new TextDecoder().decode(bytes);
  }

  // Marks the team failed (the first reason is kept) and wakes every worker waiting at a barrier.
  fail(why) {
    if (Atomics.compareExchange(this.control, FAILED, 0, 1) === 0) {
      const bytes = new TextEncoder().encode(why).slice(0, FAILURE_BYTES);
      new Uint8Array(this.buffer, CONTROL_BYTES, bytes.length).set(bytes);
      Atomics.store(this.control, FAILURE_LENGTH, bytes.length);
    }
    Atomics.notify(this.control, GENERATION);
  }

  check() {
    if (this.failed) throw new Error(`another CPU worker failed: ${this.failure()}`);
  }

  // Waits until every worker has arrived (a reusable barrier: the last one to arrive starts the
  // next generation and wakes the others).
  barrier() {
    const c = this.control;
    this.check();
    const generation = Atomics.load(c, GENERATION);
    if (Atomics.add(c, ARRIVED, 1) === this.workers - 1) {
      Atomics.store(c, ARRIVED, 0);
      Atomics.add(c, GENERATION, 1);
      Atomics.notify(c, GENERATION);
      return;
    }
    const since = performance.now();
    while (Atomics.load(c, GENERATION) === generation) {
      this.check();
      if (performance.now() - since > PATIENCE_MS) {
        this.fail(`worker ${this.rank} waited ${PATIENCE_MS / 1000} s for the others`);
        this.check();
      }
      Atomics.wait(c, GENERATION, generation, 1000);
    }
  }

  // Sums `data` (a Float64Array or Float32Array) over the workers, in place, slot by slot in
  // rank order, in float64.
  sum(data, Kind) {
    const capacity = SLOT_BYTES / Kind.BYTES_PER_ELEMENT;
    const slot = (rank, n) => new Kind(this.buffer, CONTROL_BYTES + FAILURE_BYTES + rank * SLOT_BYTES, n);
    for (let start = 0; start < data.length; start += capacity) {
      const part = data.subarray(start, Math.min(data.length, start + capacity));
      slot(this.rank, part.length).set(part);
      this.barrier();
      const slots = Array.from({ length: this.workers }, (_, r) => slot(r, part.length));
      for (let i = 0; i < part.length; i += 1) {
        let acc = 0;
        for (const s of slots) acc += s[i];
        part[i] = acc;
      }
      this.barrier();
    }
  }

  sumF64(data) {
    this.sum(data, Float64Array);
  }

  sumF32(data) {
    this.sum(data, Float32Array);
  }
}

// The leader's handle on the other workers, as the core's `JsCrew` expects it.
export class Crew {
  constructor(helpers, buffer) {
    this.helpers = helpers;
    this.workers = helpers.length + 1;
    this.exchange = new Exchange(buffer, 0, this.workers);
  }

  post(message) {
    for (const h of this.helpers) h.postMessage(message);
  }

  open(net, config, teacher) {
    this.post({ op: 'open', net, config, teacher: teacher.slice() });
  }

  // The views point into the leader's wasm memory: copied before they travel.
  work(net, kind, x, targets, labels, scalar) {
    this.post({ op: 'work', net, kind, x: x.slice(), targets: targets.slice(), labels: labels.slice(), scalar });
  }

  close(net) {
    this.post({ op: 'close', net });
  }

  fail(why) {
    this.exchange.fail(`the leader: ${why}`);
  }

  stop() {
    for (const h of this.helpers) h.terminate();
  }
}

// Starts `workers - 1` helpers sharing one buffer with the caller; resolves to the Crew once
// each has loaded the core, or rejects with the first helper's error.
export async function startTeam(workers) {
  const buffer = Exchange.buffer(workers);
  const helpers = [];
  try {
    await Promise.all(Array.from({ length: workers - 1 }, (_, i) => new Promise((resolve, reject) => {
      const h = new Worker(new URL('./cpu-helper.js', import.meta.url), { type: 'module' });
      helpers.push(h);
      h.onmessage = ({ data }) => (data.ready ? resolve() : reject(new Error(data.error)));
      h.onerror = (e) => reject(new Error(`a CPU worker failed to start: ${e.message ?? 'unknown error'}`));
      h.postMessage({ op: 'start', buffer, rank: i + 1, workers });
    })));
  } catch (e) {
    for (const h of helpers) h.terminate();
    throw e;
  }
  return new Crew(helpers, buffer);
}

// The training worker's team: the crew handed to the core (`setTeam`, its set_cpu_team), how
// many workers CPU runs use and why not more, in words for the page's status line.
let current = null;

export async function setUpTeam({ workers: asked, isolation }, setTeam) {
  current?.stop();
  current = null;
  setTeam(null);
  const size = teamSize(asked);
  const cores = self.navigator.hardwareConcurrency ?? 1;
  if (size < 2) {
    return { workers: 1, note: asked ? 'one worker, as the link asks' : `one worker: this computer reports ${cores} core${cores === 1 ? '' : 's'}, one of them for the page` };
  }
  if (!self.crossOriginIsolated) {
    const why = isolation?.reason ?? 'the page is not cross-origin isolated';
    return { workers: 1, note: `one worker, not ${size}: ${why}` };
  }
  try {
    current = await startTeam(size);
  } catch (e) {
    return { workers: 1, note: `one worker, not ${size}: ${e.message}` };
  }
  setTeam(current);
  return { workers: size, note: `${size} workers, ${asked ? 'as the link asks' : 'one per core less one for the page'}` };
}

// After a failure the team's buffer stays failed: a new team replaces it for the next run.
export function teamFailed() {
  return Boolean(current?.exchange.failed);
}
