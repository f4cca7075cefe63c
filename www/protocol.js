// The messages between the page (trainer-client.js) and the training worker (worker.js), declared
// once. A command is `{id, cmd, args}` and is answered `{id, ok, result | error}` (the arguments
// travel apart from `id`, since a lesson's own `id` is one of them). A run or a
// lesson is started with a `run` id the page picks, and every event it posts carries that id, so
// the page routes events by run, not by what it believes is running.

/**
 * @typedef {'init' | 'warm' | 'speed' | 'dataLog' | 'parseTimes' | 'checkpointInfo' | 'validate' | 'curve'
 *   | 'loadCifar' | 'forgetCifar' | 'train' | 'lesson' | 'classify' | 'pause' | 'resume' | 'stop'
 *   | 'loseDevice' | 'gpuMemory' | 'parseLesson' | 'draftLesson' | 'poolClass'
 *   | 'checkVariants' | 'estimateLesson' | 'checkSummary' | 'breakVariant'} Command
 *
 * Arguments of the commands that take some:
 * @typedef {{config: object}} WarmArgs            warm, speed
 * @typedef {{config: object, stepsPerEpoch: number}} ScheduleArgs   validate, curve
 * @typedef {{bytes: ArrayBuffer, name?: string}} BytesArgs       checkpointInfo, loadCifar (name: the file's, for the core's errors)
 * @typedef {{run: number, config: object, trainLimit: number, testLimit: number, teacher: ArrayBuffer | null}} TrainArgs
 * @typedef {{run: number, id: string, file?: string, seed: number, tiny: boolean}} LessonArgs   (file: a lesson file's text)
 * @typedef {{text: string}} ParseLessonArgs        parseLesson (answers the lesson, as `init`'s lessons)
 * @typedef {{baseline: object, other: object}} DraftLessonArgs   draftLesson ({name, config, train_limit, test_limit} each; answers a lesson file's text)
 * @typedef {{lesson: string, tiny: boolean, sources: {name: string, text: string}[]}} PoolClassArgs   poolClass (lesson: a built-in id or a lesson file's text; answers lessons::class::ClassReport)
 * @typedef {{id: string, tiny: boolean}} EstimateLessonArgs   estimateLesson (answers lessons::estimate::Estimate)
 * @typedef {{adapter: string, checks: number, failed: string[], estimates: object[]}} CheckSummaryArgs   checkSummary (answers the line)
 * @typedef {{name: string}} BreakVariantArgs      breakVariant (a test hook)
 * `checkVariants` answers [{pass, shape, variant, mismatch}] (none on the CPU).
 * @typedef {{checkpoint: ArrayBuffer, image: Uint8Array}} ClassifyArgs
 *
 * `init` answers {catalog, fields, defaults, lessons, backend, adapter, error, cifarKept, picksProblem}.
 */

/**
 * Events of a run (`train`); each has `run`, the id the command gave:
 * @typedef {{event: 'picking', run: number}} PickingEvent   (a run or a lesson: its two backends are being timed)
 * @typedef {{event: 'started', run: number, backend: string, pick: string | null, adapter: string, kernels: object | null,
 *   stepsPerEpoch: number, trainCount: number, testCount: number}} StartedEvent
 * @typedef {{event: 'progress', run: number, epoch: number, step: number, global_step: number, total_steps: number,
 *   steps: number, loss: number, acc: number, chunk_loss: number, lrs: number[], epoch_done: boolean, done: boolean,
 *   images: number, ms: number}} ProgressEvent
 * @typedef {{event: 'batch', run: number, preview: object}} BatchEvent
 * @typedef {{event: 'evaluating', run: number, backend: string}} EvaluatingEvent
 * @typedef {{event: 'epoch', run: number, epoch: number, train_loss: number, train_acc: number,
 *   test_loss: number, test_acc: number}} EpochEvent
 * @typedef {{event: 'done', run: number, checkpoint: ArrayBuffer, views: object}} DoneEvent
 * @typedef {{event: 'stopped', run: number}} StoppedEvent
 *
 * Events of a lesson (`lesson`):
 * @typedef {{event: 'lesson-started', run: number, lesson: object, backend: string, pick: string | null}} LessonStartedEvent
 * @typedef {{event: 'lesson-progress', run: number, events: object[], ms: number}} LessonProgressEvent
 * @typedef {{event: 'lesson-done', run: number, records: object[], verdict: object, checkpoints: (ArrayBuffer | null)[]}} LessonDoneEvent
 * @typedef {{event: 'lesson-stopped', run: number, records: object[]}} LessonStoppedEvent
 *
 * Either may fail; `run` is null when the worker itself failed to start:
 * @typedef {{event: 'failed', run: number | null, message: string}} FailedEvent
 *
 * @typedef {PickingEvent | StartedEvent | ProgressEvent | BatchEvent | EvaluatingEvent | EpochEvent | DoneEvent | StoppedEvent
 *   | LessonStartedEvent | LessonProgressEvent | LessonDoneEvent | LessonStoppedEvent | FailedEvent} RunEvent
 */

/**
 * An event of run `run` (the worker's side).
 * @param {number} run
 * @param {RunEvent['event']} event
 * @param {object} [fields]
 * @returns {RunEvent}
 */
export const runEvent = (run, event, fields = {}) => ({ ...fields, event, run });
