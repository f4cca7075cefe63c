// The worker's side of a lesson: starts a WebLesson (the core steps its arms in turn, so their
// curves grow together), reports each chunk of steps as they come (step-loop.js), honours pause
// and stop, and at the end sends every arm's record, the verdict the core computed, and each
// trained arm's weights for the run history. Events (protocol.js): lesson-started, lesson-progress,
// lesson-done, lesson-stopped, each with the lesson's run id.

import { runEvent } from './protocol.js';
import { stepLoop } from './step-loop.js';

// At most this many arm steps per chunk (the arms alternate within it).
const MAX_CHUNK = 32;

// `post(event, transfer)`; `control`: the worker's run {id, paused, stopped, wake}.
// `file`: a lesson file's text, else `id` names a built-in lesson. `pick`: why it trains on
// `backend`, where that was timed (else null).
export async function runLesson({ post, control, WebLesson, data, id, file, seed, tiny, backend, pick = null }) {
  const lesson = await (file ? WebLesson.start_file(data, file, seed, tiny, backend) : WebLesson.start(data, id, seed, tiny, backend));
  const send = (event, fields, transfer) => post(runEvent(control.id, event, fields), transfer);
  try {
    send('lesson-started', { lesson: JSON.parse(lesson.lesson_json), backend, pick });
    const done = lesson.done || await stepLoop(control, {
      maxChunk: MAX_CHUNK,
      run: (n) => lesson.run_steps(n),
      count: (events) => events.length,
      report: (events, ms) => {
        send('lesson-progress', { events, ms });
        return lesson.done;
      },
    });
    if (!done) {
      send('lesson-stopped', { records: lesson.records() });
      return;
    }
    const records = lesson.records();
    const checkpoints = [];
    for (const r of records) checkpoints.push(r.result ? (await lesson.export_checkpoint(r.arm)).buffer : null);
    send('lesson-done', { records, verdict: lesson.verdict(), checkpoints }, checkpoints.filter(Boolean));
  } finally {
    lesson.free();
  }
}
