// The worker's side of a lesson: starts a WebLesson (the core steps its arms in turn), reports
// each chunk of steps as they come, honours pause and stop, and at the end sends every arm's
// record, the verdict the core computed, and each trained arm's weights for the run history.
// Events: lesson-started {lesson}, lesson-progress {events}, lesson-done {records, verdict,
// checkpoints}, lesson-stopped {records}.

// Each chunk of steps aims to take about this long, so pause and stop answer quickly.
const CHUNK_TARGET_MS = 300;
const MAX_CHUNK = 32;

export async function runLesson({ post, control, WebLesson, data, id, seed, tiny, backend }) {
  const lesson = await WebLesson.start(data, id, seed, tiny, backend);
  try {
    post({ event: 'lesson-started', lesson: JSON.parse(lesson.lesson_json) });
    let chunk = 1;
    while (!lesson.done) {
      // A chunk on the CPU never returns to the event loop by itself: let pause and stop arrive.
      await new Promise((resolve) => { setTimeout(resolve, 0); });
      while (control.paused && !control.stopped) await new Promise((wake) => { control.wake = wake; });
      if (control.stopped) {
        post({ event: 'lesson-stopped', records: lesson.records() });
        return;
      }
      const t0 = performance.now();
      const events = await lesson.run_steps(chunk);
      const ms = performance.now() - t0;
      post({ event: 'lesson-progress', events, ms });
      chunk = Math.max(1, Math.min(MAX_CHUNK, Math.round(events.length * CHUNK_TARGET_MS / Math.max(ms, 1))));
    }
    const records = lesson.records();
    const checkpoints = [];
    for (const r of records) checkpoints.push(r.result ? (await lesson.export_checkpoint(r.arm)).buffer : null);
    post({ event: 'lesson-done', records, verdict: lesson.verdict(), checkpoints }, checkpoints.filter(Boolean));
  } finally {
    lesson.free();
  }
}
