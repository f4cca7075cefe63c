// The run history in IndexedDB: each run (finished, stopped or diverged) with its config, curves,
// metrics and, for a finished run, its trained weights (so it can be a distillation teacher). A
// reload loses nothing. Where IndexedDB is unavailable (a private window, a blocked site) or a save
// fails (the storage quota), the run is kept in this tab's memory instead and `put` says so, so
// training still works and the page can tell the visitor the run will not survive the tab.

const DB = 'tricklab';
const STORE = 'runs';

export function request(r) {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

const message = (e) => e?.message || String(e);

// A run as the page lists it: no weights; runs saved before runs had a status were finished.
function listed({ checkpoint, ...run }, unsaved) {
  return { status: 'finished', ...run, unsaved };
}

export class RunStore {
  constructor() {
    this.db = null;
    this.unavailable = null; // why IndexedDB cannot be used, once `open` has failed
    this.memory = new Map(); // runs that could not be saved, by id
  }

  // Opens the database; on failure the store keeps runs in memory and `unavailable` says why.
  async open() {
    try {
      const open = indexedDB.open(DB, 1);
      open.onupgradeneeded = () => open.result.createObjectStore(STORE, { keyPath: 'id' });
      this.db = await request(open);
    } catch (e) {
      this.unavailable = message(e);
    }
    return this;
  }

  get persistent() {
    return this.db !== null;
  }

  tx(mode) {
    return this.db.transaction(STORE, mode).objectStore(STORE);
  }

  // Every run without its weights, oldest first; `unsaved` marks the ones kept only in memory.
  async list() {
    const stored = this.db ? await request(this.tx('readonly').getAll()) : [];
    const runs = [...stored.map((r) => listed(r, false)), ...[...this.memory.values()].map((r) => listed(r, true))];
    return runs.sort((a, b) => a.created - b.created);
  }

  async checkpoint(id) {
    if (this.memory.has(id)) return this.memory.get(id).checkpoint ?? null;
    const run = this.db ? await request(this.tx('readonly').get(id)) : null;
    return run?.checkpoint ?? null;
  }

  // Saves a run: `{saved: true}`, or `{saved: false, reason}` when it is kept only in this tab.
  async put(run) {
    if (!this.db) {
      this.memory.set(run.id, run);
      return { saved: false, reason: `IndexedDB is unavailable: ${this.unavailable}` };
    }
    try {
      // Complete only when the transaction commits: a full quota fails the commit, not the put.
      const tx = this.db.transaction(STORE, 'readwrite');
      tx.objectStore(STORE).put(run);
      await new Promise((resolve, reject) => {
        tx.oncomplete = resolve;
        tx.onabort = () => reject(tx.error ?? new Error('the save was aborted'));
      });
      return { saved: true };
    } catch (e) {
      this.memory.set(run.id, run);
      return { saved: false, reason: `saving failed: ${message(e)}` };
    }
  }

  async delete(id) {
    if (this.memory.delete(id)) return;
    if (this.db) await request(this.tx('readwrite').delete(id));
  }
}
