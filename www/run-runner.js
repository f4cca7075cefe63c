// The worker's side of a run: starts a WebTrainer, steps it in chunks (step-loop.js) that never
// cross an epoch, reports each chunk, the batch the network sees at the start of each epoch and
// each epoch's evaluation, and at the end the trained network's views and weights. The trainer is
// freed the moment the run ends, however it ends, so its GPU memory is given back. Events
// (protocol.js): started, progress, batch, evaluating, epoch, done, stopped, each with the run's id.

import { runEvent } from './protocol.js';
import { stepLoop } from './step-loop.js';

// At most this many steps per chunk.
const MAX_CHUNK = 64;

// The chunks of `trainer`; resolves to the last chunk's report, or null when stopped.
async function trainLoop(control, trainer, { batchSize, backend, send }) {
  let last = null;
  const done = await stepLoop(control, {
    maxChunk: MAX_CHUNK,
    run: (n) => {
      if (control.loseDevice) {
        control.loseDevice = false;
        trainer.lose_device();
      }
      return trainer.run_steps(n);
    },
    count: (r) => r.steps,
    report: async (r, ms) => {
      last = r;
      send('progress', { ...r, lrs: Array.from(r.lrs), images: r.steps * batchSize, ms });
      // The batch the network sees (crop, flip, mixup), once at the start of each epoch.
      if (r.step === r.steps) send('batch', { preview: await trainer.batch_preview() });
      if (r.done) return true; // the last epoch is evaluated with the final views
      if (r.epoch_done) {
        send('evaluating', { backend });
        const e = await trainer.evaluate();
        send('epoch', { epoch: r.epoch + 1, train_loss: r.loss, train_acc: r.acc, ...e });
      }
      return false;
    },
  });
  return done ? last : null;
}

// What the trained network does on the whole test set, for the page's views; its test loss and
// accuracy are the last epoch's (one evaluation, not two: it is most of the time a run on the CPU
// spends outside its steps). Then its weights.
async function finish(trainer, last, { backend, send }) {
  send('evaluating', { backend });
  const views = await trainer.final_views();
  send('epoch', { epoch: last.epoch + 1, train_loss: last.loss, train_acc: last.acc, test_loss: views.test_loss, test_acc: views.test_acc });
  const checkpoint = await trainer.export_checkpoint();
  send('done', { checkpoint: checkpoint.buffer, views }, [checkpoint.buffer]);
}

// Trains `config` on `data`; `start(data, ...)` resolves to the WebTrainer, `onStarted(trainer)`
// runs once it is built. `post(event, transfer)`; `control`: the worker's run.
// `pick`: why this run trains on `backend`, where that was timed (else null).
export async function runTraining({ post, control, start, onStarted, data, config, trainLimit, testLimit, teacher, backend, pick = null }) {
  const send = (event, fields, transfer) => post(runEvent(control.id, event, fields), transfer);
  let trainer = null;
  try {
    trainer = await start(data, JSON.stringify(config), trainLimit, testLimit, teacher ? new Uint8Array(teacher) : undefined, backend);
    send('started', {
      backend, pick, adapter: trainer.adapter, kernels: onStarted(), stepsPerEpoch: trainer.steps_per_epoch,
      trainCount: trainer.train_count, testCount: trainer.test_count,
    });
    const last = await trainLoop(control, trainer, { batchSize: config.batch_size, backend, send });
    if (last) await finish(trainer, last, { backend, send });
    else send('stopped');
  } finally {
    trainer?.free();
  }
}
