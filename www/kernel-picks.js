// The kernel picks in IndexedDB: which kernel variant (register-blocked, tiled, ...) the core timed
// fastest for each pass and shape, per adapter (the core's `PickCache` JSON, keyed inside by the
// adapter's name, backend, vendor, device and driver). Saved after a run times new shapes, loaded
// when the worker starts, so only the first visit with an adapter pays for the timing. Where
// IndexedDB is unavailable the picks are simply timed again next time.

import { request } from './store.js';

const DB = 'tricklab-kernels';
const STORE = 'picks';
const KEY = 'picks';

async function open() {
  const o = indexedDB.open(DB, 1);
  o.onupgradeneeded = () => o.result.createObjectStore(STORE);
  return request(o);
}

// The saved JSON, or '' when there is none (or no IndexedDB). `key`: 'picks', or 'backend' for the
// backend chosen on a software adapter (backend-pick.js).
export async function loadPicks(key = KEY) {
  try {
    const db = await open();
    const json = await request(db.transaction(STORE, 'readonly').objectStore(STORE).get(key));
    db.close();
    return typeof json === 'string' ? json : '';
  } catch {
    return '';
  }
}

// Saves `json`; false when it could not be saved (the picks are then timed again next visit).
export async function savePicks(json, key = KEY) {
  try {
    const db = await open();
    await request(db.transaction(STORE, 'readwrite').objectStore(STORE).put(json, key));
    db.close();
    return true;
  } catch {
    return false;
  }
}
