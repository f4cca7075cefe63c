// What the CPU tests share (cpu.test.mjs, workers.test.mjs): the status lines a page showed, a
// run trained to its end with its stored weights, and the largest difference between two runs'
// weights.

import { readSafetensors } from './safetensors.mjs';

// Eight steps of a quarter-width model with smoothed, mixed targets, evaluated on 50 images (three
// batches and a short one). Natively, tests/trainer.rs compares the two backends the same way.
export const SAME_RUN = 'epochs=1&batch_size=16&base_lr=0.4&width_mult=0.25&lr_decay_epochs=&train_limit=128&test_limit=50'
  + '&label_smoothing=0.1&mixup_alpha=0.4';

// The whole-step tolerance of the Rust tests (Tolerance::permissive: 1e-3 + 1e-2 · |value|).
export const close = (got, want) => Math.abs(got - want) <= 1e-3 + 1e-2 * Math.abs(want);

// Every status line the page shows, in order (recorded from the start, before the page's scripts).
export const recordStatus = () => {
  window.statusLog = [];
  new MutationObserver(() => {
    const t = document.querySelector('#status')?.textContent;
    if (t && t !== window.statusLog.at(-1)) window.statusLog.push(t);
  }).observe(document, { subtree: true, childList: true, characterData: true });
};

export const waitStatus = (p, pattern, timeout = 120_000) => p.waitForFunction(
  (source) => new RegExp(source).test(document.querySelector('#status').textContent), pattern.source, { timeout },
);

// Trains the page's settings to the end; returns the stored run, its weights and the status lines.
export async function trainedRun(p, number = 1) {
  await p.locator('#train').click();
  await waitStatus(p, new RegExp(`Run ${number} finished`), 240_000);
  return p.evaluate(async () => {
    const { RunStore } = await import('./store.js');
    const store = await new RunStore().open();
    const run = (await store.list()).at(-1);
    return { run, weights: Array.from(new Uint8Array(await store.checkpoint(run.id))), statusLog: window.statusLog };
  });
}

// The largest |a - b| over every tensor of two safetensors files, and where; `check(a, b, name)`
// is called on each pair of values.
export function weightsDiff(aBytes, bBytes, check = () => {}) {
  const [a, b] = [readSafetensors(aBytes), readSafetensors(bBytes)];
  let worst = { diff: 0 };
  for (const [name, { values }] of Object.entries(a.tensors)) {
    const want = b.tensors[name].values;
    values.forEach((v, i) => {
      const diff = Math.abs(v - want[i]);
      if (diff > worst.diff) worst = { name, i, diff, a: v, b: want[i] };
      check(v, want[i], `${name}[${i}]`);
    });
  }
  return { ...worst, names: [Object.keys(a.tensors), Object.keys(b.tensors)] };
}
