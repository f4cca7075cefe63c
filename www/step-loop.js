// The worker's one stepping loop, for a run and for a lesson alike: chunks of steps, each sized to
// take about CHUNK_TARGET_MS so that pause and stop answer quickly and the metrics readback (one
// per chunk) stays a small share of the time, with pause, resume and stop honoured between chunks.

const CHUNK_TARGET_MS = 300;

// Lets the worker answer the messages that arrived during a chunk (pause, stop): a chunk on the CPU
// resolves without ever returning to the event loop, which a GPU readback does.
const yieldToMessages = () => new Promise((resolve) => { setTimeout(resolve, 0); });

// Steps `stepper` until it is done or `control` is stopped; true when it is done. `control`:
// {paused, stopped, wake} (the worker's run); `stepper`: {maxChunk, run(n) (up to n steps; its
// result), count(result) (the steps it took), report(result, ms) (posts it; true when done)}.
export async function stepLoop(control, stepper) {
  let chunk = 1;
  for (;;) {
    await yieldToMessages();
    while (control.paused && !control.stopped) await new Promise((wake) => { control.wake = wake; });
    if (control.stopped) return false;
    const t0 = performance.now();
    const result = await stepper.run(chunk);
    const ms = performance.now() - t0;
    chunk = Math.max(1, Math.min(stepper.maxChunk, Math.round(stepper.count(result) * CHUNK_TARGET_MS / Math.max(ms, 1))));
    if (await stepper.report(result, ms)) return true;
  }
}
