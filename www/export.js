// A run leaves the page: its curves as CSV (one row per step, a spreadsheet's shape) and as JSON
// (the run's record: config, page options, curves, epochs, result), and its trained weights as
// the safetensors file the CLI's `tricklab train --save` writes (bench/torch_load.py loads it in
// PyTorch). Lessons' arms are runs in the history like any other, so they export the same way.

import { stepsPerEpoch } from './state.js';

// "Label smoothing: smoothed (seed 1)" -> "tricklab-label-smoothing-smoothed-seed-1".
export function fileStem(run) {
  const slug = run.name.toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
  return `tricklab-${slug || run.id}`;
}

// Every step's rate and measured loss, with the epoch it belongs to. The page reads the loss back
// once per chunk of steps, so a run's `train_loss` is the mean of the steps since the previous
// value, on the chunk's last step (a lesson reads every step).
function stepRows(run) {
  const spe = stepsPerEpoch(run.config, run.page ?? { train_limit: 0, test_limit: 0 });
  const losses = new Map(run.loss.map(([step, loss]) => [step, loss]));
  const steps = Math.max(run.steps ?? 0, run.lrs?.filter((v) => v !== null).length ?? 0, ...run.loss.map(([s]) => s));
  return Array.from({ length: steps }, (_, i) => {
    const step = i + 1;
    return { step, epoch: Math.ceil(step / spe), lr: run.lrs?.[i] ?? null, train_loss: losses.get(step) ?? null };
  });
}

// The run as one JSON document.
export function curvesJson(run) {
  const doc = {
    tricklab: 'run',
    name: run.name,
    status: run.status,
    created: new Date(run.created).toISOString(),
    config: run.config,
    page: run.page ?? null,
    adapter: run.adapter ?? null,
    lesson: run.lesson ?? null,
    steps_per_epoch: stepsPerEpoch(run.config, run.page ?? { train_limit: 0, test_limit: 0 }),
    steps: stepRows(run),
    epochs: run.epochs,
    final: run.final ?? null,
    diverged_at: run.divergedAt ?? null,
    images_per_sec: run.imagesPerSec ?? null,
    seconds: run.seconds ?? null,
  };
  return JSON.stringify(doc, null, 2);
}

const cell = (v) => (v === null || v === undefined || Number.isNaN(v) ? '' : String(v));

// One row per step: step, epoch, lr, train_loss; an epoch's last step also carries the epoch's
// train and test loss and accuracy.
export function curvesCsv(run) {
  const spe = stepsPerEpoch(run.config, run.page ?? { train_limit: 0, test_limit: 0 });
  const epochs = new Map(run.epochs.map((e) => [e.epoch * spe, e]));
  const head = ['step', 'epoch', 'lr', 'train_loss', 'epoch_train_loss', 'epoch_train_acc', 'test_loss', 'test_acc'];
  const rows = stepRows(run).map((r) => {
    const e = epochs.get(r.step);
    return [r.step, r.epoch, r.lr, r.train_loss, e?.train_loss, e?.train_acc, e?.test_loss, e?.test_acc].map(cell).join(',');
  });
  return `${[head.join(','), ...rows].join('\n')}\n`;
}

// Offers `bytes` (a string, an ArrayBuffer or a typed array) to the visitor as a file.
export function download(name, bytes, type) {
  const url = URL.createObjectURL(new Blob([bytes], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
