// The run history in IndexedDB: each finished run with its config, curves, final metrics and
// trained weights (so it can be a distillation teacher). A reload loses nothing.

const DB = 'tricklab';
const STORE = 'runs';

function request(r) {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

export class RunStore {
  static async open() {
    const open = indexedDB.open(DB, 1);
    open.onupgradeneeded = () => open.result.createObjectStore(STORE, { keyPath: 'id' });
    return new RunStore(await request(open));
  }

  constructor(db) {
    this.db = db;
  }

  tx(mode) {
    return this.db.transaction(STORE, mode).objectStore(STORE);
  }

  // Every run without its weights, oldest first.
  async list() {
    const runs = await request(this.tx('readonly').getAll());
    return runs.map(({ checkpoint, ...rest }) => rest).sort((a, b) => a.created - b.created);
  }

  async checkpoint(id) {
    const run = await request(this.tx('readonly').get(id));
    return run?.checkpoint ?? null;
  }

  put(run) {
    return request(this.tx('readwrite').put(run));
  }

  delete(id) {
    return request(this.tx('readwrite').delete(id));
  }
}
