// The page's side of the training worker: commands as promises, run events (each with its run's
// id; protocol.js declares both) to a callback.

import { runEvent } from './protocol.js';

export class TrainerClient {
  constructor(onEvent) {
    this.worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
    this.pending = new Map();
    this.next = 1;
    this.worker.onmessage = ({ data }) => {
      if (data.event) {
        onEvent(data);
        return;
      }
      const waiter = this.pending.get(data.id);
      this.pending.delete(data.id);
      if (data.ok) waiter?.resolve(data.result);
      else waiter?.reject(new Error(data.error));
    };
    // No run of its own: it ends whatever runs.
    this.worker.onerror = (e) => onEvent(runEvent(null, 'failed', { message: `the training worker failed to start: ${e.message ?? 'unknown error'}` }));
  }

  send(cmd, args = {}, transfer = []) {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // The arguments travel apart from the message's own id: a command's `id` argument (a
      // lesson's) must not take the place of the id its answer is matched by.
      this.worker.postMessage({ id, cmd, args }, transfer);
    });
  }
}
