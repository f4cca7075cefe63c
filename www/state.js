// The page's state: the run's TrainConfig (the Rust struct's fields, one for one) plus a few
// page-level options, and its round trip through the URL hash so a lesson is a link. The core's
// field table (fields.js) says how each field is written and read and bounds every whole number,
// so a link cannot ask for a run that never ends or a schedule preview too large to allocate; the
// Rust core validates the result.

import { FIELDS } from './fields.js';

// Page-level options that are not part of TrainConfig: how many images of each split to use.
export const PAGE_DEFAULTS = { train_limit: 0, test_limit: 0 };

// Split sizes of the datasets, for steps per epoch before anything is loaded.
export const SPLIT_SIZES = { mnist: { train: 60000, test: 10000 }, cifar10: { train: 50000, test: 10000 } };

// The core's limits on the size of a run (TrainConfig's MAX_EPOCHS, MAX_BATCH_SIZE, MAX_TOTAL_STEPS).
export const MAX_EPOCHS = FIELDS.field('epochs').max;
export const MAX_BATCH_SIZE = FIELDS.field('batch_size').max;
export const MAX_TOTAL_STEPS = FIELDS.field('warmup_steps').max;

export class BadLink extends Error {}

// A whole number from 0 to `max`.
function parseCount(field, text, max) {
  if (!/^\d+$/.test(text)) throw new BadLink(`${field} must be a whole number, got "${text}"`);
  const n = Number(text);
  if (!(n <= max)) throw new BadLink(`${field} must be at most ${max}, got ${text}`);
  return n;
}

function parseValue(field, spec, text) {
  switch (spec.kind) {
    case 'bool':
      if (text !== 'true' && text !== 'false') throw new BadLink(`${field} must be true or false, got "${text}"`);
      return text === 'true';
    case 'number': {
      const n = Number(text);
      if (text.trim() === '' || !Number.isFinite(n)) throw new BadLink(`${field} must be a number, got "${text}"`);
      return n === 0 ? 0 : n; // -0 would be written back as 0
    }
    case 'count':
      return parseCount(field, text, spec.max);
    case 'count?':
      return text === '' ? null : parseCount(field, text, spec.max);
    case 'teacher':
      return text === '' ? null : text;
    case 'counts':
      return text === '' ? [] : text.split(',').map((t) => parseCount(field, t, spec.max));
    default:
      return text;
  }
}

function writeValue(value) {
  if (value === null) return '';
  if (Array.isArray(value)) return value.join(',');
  return String(value);
}

// The full state as a URL hash: every config field (seed included), then the page options.
export function toHash(config, page) {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(config)) params.set(k, writeValue(v));
  for (const [k, v] of Object.entries(page)) params.set(k, writeValue(v));
  // The link's choices for this computer (CPU workers, backend) are kept as the settings change.
  const current = new URLSearchParams((globalThis.location?.hash ?? '').replace(/^#/, ''));
  for (const key of MACHINE_KEYS) if (current.has(key)) params.set(key, current.get(key));
  return `#${params}`;
}

// Parses a hash against the defaults of the dataset it names. Throws BadLink naming the field for
// an unknown or repeated field (only the page's own keys: not `toString` or `constructor`), a
// value of the wrong type or a whole number past its limit; the other range checks are the Rust
// core's `validate`.
export function fromHash(hash, defaultsByDataset) {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const dataset = params.get('dataset') ?? 'mnist';
  const defaults = Object.hasOwn(defaultsByDataset, dataset) ? defaultsByDataset[dataset] : undefined;
  const sizes = Object.hasOwn(SPLIT_SIZES, dataset) ? SPLIT_SIZES[dataset] : undefined;
  if (!defaults || !sizes) throw new BadLink(`dataset must be mnist or cifar10, got "${dataset}"`);
  const config = { ...defaults };
  const page = { ...PAGE_DEFAULTS };
  const pageMax = { train_limit: sizes.train, test_limit: sizes.test };
  const seen = new Set();
  for (const [key, text] of params) {
    // A second `dataset` would change the dataset after its defaults were chosen.
    if (seen.has(key)) throw new BadLink(`setting "${key}" is given twice`);
    seen.add(key);
    if (MACHINE_KEYS.includes(key)) continue; // this computer's, not the run's: machineAsked
    if (Object.hasOwn(page, key)) page[key] = parseCount(key, text, pageMax[key]);
    else if (Object.hasOwn(config, key)) config[key] = parseValue(key, FIELDS.field(key), text);
    else throw new BadLink(`unknown setting "${key}"`);
  }
  return { config, page };
}

// What a link may say about this computer rather than the run, in any view.
const MACHINE_KEYS = ['workers', 'backend'];

// `&workers=N` (how many CPU workers share each batch where runs train on the CPU, 1 to 8) and
// `&backend=gpu|cpu` (where to train on a software GPU, instead of timing both) in any link, as
// {workers, backend}, null where the link does not say. Throws BadLink for another value.
export function machineAsked(hash) {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const asked = { workers: null, backend: params.get('backend') };
  if (asked.backend !== null && asked.backend !== 'gpu' && asked.backend !== 'cpu') throw new BadLink(`backend must be gpu or cpu, got "${asked.backend}"`);
  const text = params.get('workers');
  if (text === null) return asked;
  asked.workers = parseCount('workers', text, 8);
  if (asked.workers < 1) throw new BadLink('workers must be at least 1');
  return asked;
}

// A lesson link, `#lesson=ID[&seed=N][&embed=1][&tiny=1]`, as {id, seed, embed, tiny}; null for
// any other hash. `tiny` (two steps per epoch) is for the page's tests.
export function lessonLink(hash, lessonIds) {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  if (!params.has('lesson') && !params.has('lesson-url')) return null;
  const link = { id: params.get('lesson'), url: params.get('lesson-url'), seed: 1, embed: false, tiny: false };
  if (link.url !== null) {
    if (link.id !== null) throw new BadLink('a link opens one lesson: "lesson" or "lesson-url", not both');
    siteLessonUrl(link.url, 'https://example.org/site/');
  } else if (!lessonIds.includes(link.id)) throw new BadLink(`there is no lesson "${link.id}"; the lessons are ${lessonIds.join(', ')}`);
  for (const [key, text] of params) {
    if (key === 'lesson' || key === 'lesson-url' || MACHINE_KEYS.includes(key)) continue;
    if (key === 'seed') link.seed = parseCount('seed', text, FIELDS.field('seed').max);
    else if (key === 'embed' || key === 'tiny') {
      if (text !== '1' && text !== '0') throw new BadLink(`${key} must be 1 or 0, got "${text}"`);
      link[key] = text === '1';
    } else throw new BadLink(`unknown lesson setting "${key}"`);
  }
  return link;
}

// The URL of a lesson file named by a link's `lesson-url`, resolved against the page's `base`: a
// relative URL on the same site only (a link cannot make the page fetch from elsewhere).
export function siteLessonUrl(text, base) {
  if (!text || /^[a-z][a-z0-9+.-]*:/i.test(text) || /^[/\\]{2}/.test(text)) {
    throw new BadLink(`lesson-url must be a relative URL on this site, such as lessons/my-lesson.json; got "${text}"`);
  }
  const url = new URL(text, base);
  if (url.origin !== new URL(base).origin) throw new BadLink(`lesson-url "${text}" leaves this site`);
  return url;
}

// Images per split after the page's limits (0 = the whole split).
export function splitCounts(config, page) {
  const sizes = SPLIT_SIZES[config.dataset];
  const cap = (limit, n) => (limit > 0 ? Math.min(limit, n) : n);
  return { train: cap(page.train_limit, sizes.train), test: cap(page.test_limit, sizes.test) };
}

export function stepsPerEpoch(config, page) {
  return Math.floor(splitCounts(config, page).train / Math.max(1, config.batch_size));
}

// The fields where `config` differs from `baseline`, as `[field, value]` pairs.
export function differences(config, baseline) {
  return Object.keys(config)
    .filter((k) => writeValue(config[k]) !== writeValue(baseline[k]))
    .map((k) => [k, config[k]]);
}

export function describeDifferences(config, baseline) {
  const diff = differences(config, baseline);
  return diff.length === 0 ? 'baseline' : diff.map(([k, v]) => `${k}=${writeValue(v) || 'none'}`).join(', ');
}

// Everything the page knows, in one object that the controllers own and the views only read:
// what the core told it, the settings the form and the URL show, the run history, the run or
// lesson in progress, and what the status line and the form's error say.
export class PageState {
  constructor() {
    this.defaults = null; // the core's default TrainConfig of each dataset, by name
    this.catalog = null; // the core's {models, datasets}: [{name, label}] each
    // Where runs train (the worker decides): kind 'gpu' or 'cpu', the adapter {description,
    // software} or null, why there is no GPU, and whether training is slow here.
    this.backend = { kind: 'gpu', adapter: null, error: null, slow: false };
    this.ready = false; // the worker has answered `init`
    this.smallerRun = null; // {config, page}: the smaller run offered instead of a long one
    this.settings = null; // {config, page}: the last valid settings (what the URL shows)
    this.configError = ''; // why the form's settings cannot run ('' when they can)
    this.curve = new Float32Array(0); // the planned rate of every step of `settings`
    this.runs = []; // the run history, oldest first, without weights
    this.selected = new Set(); // ids of the runs whose curves are drawn
    this.baselineId = null; // the run the others are compared with (null: the defaults)
    this.live = null; // the run in progress, or the last one until the next starts
    this.lessons = []; // the core's lessons
    // What trains in the worker: {id, kind: 'run' | 'lesson'}, or null. Worker events carry the id.
    this.active = null;
    this.lastRunId = 0; // the id given to the latest run or lesson
    this.paused = false;
    this.statusLine = ''; // what the status line says
    this.networkRun = null; // id of the run "What the network learned" shows
  }

  // True while anything trains in the worker: a run or a lesson.
  get running() {
    return this.active !== null;
  }

  // Starts a run or a lesson: its id, for the command and its events.
  begin(kind) {
    this.lastRunId += 1;
    this.active = { id: this.lastRunId, kind };
    this.paused = false;
    return this.lastRunId;
  }

  end() {
    this.active = null;
    this.paused = false;
  }

  baselineRun() {
    return this.runs.find((r) => r.id === this.baselineId) ?? null;
  }

  // "Run N", one past the highest such number so far (lesson runs have names of their own).
  nextRunName() {
    const number = this.runs.reduce((n, r) => Math.max(n, Number(r.name.match(/^Run (\d+)$/)?.[1] ?? 0)), 0) + 1;
    return `Run ${number}`;
  }
}

// What each controller (settings.js, run.js, runs.js, files.js) works with: the page's parts by
// name (its state, the worker's client, the run store, the message banner, the form and the
// measurements the tests read), and `page` itself for the other controllers and views.
export class Controller {
  constructor(page) {
    this.page = page;
    this.state = page.state;
    this.client = page.client;
    this.store = page.store;
    this.messages = page.messages;
    this.controls = page.controls;
    this.perf = page.perf;
  }
}
