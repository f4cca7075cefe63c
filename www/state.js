// The page's state: the run's TrainConfig (the Rust struct's fields, one for one) plus a few
// page-level options, and its round trip through the URL hash so a lesson is a link. One table
// says how each field is written and read; the Rust core validates the result.

// Page-level options that are not part of TrainConfig: how many images of each split to use.
export const PAGE_DEFAULTS = { train_limit: 0, test_limit: 0 };

// Split sizes of the datasets, for steps per epoch before anything is loaded.
export const SPLIT_SIZES = { mnist: { train: 60000, test: 10000 }, cifar10: { train: 50000, test: 10000 } };

// Fields whose default is null or a list, so their type cannot be read off the default value.
const SPECIAL_KINDS = { warmup_steps: 'count?', hold_steps: 'count?', teacher: 'text?', lr_decay_epochs: 'counts' };

export class BadLink extends Error {}

function kindOf(field, defaults) {
  if (SPECIAL_KINDS[field]) return SPECIAL_KINDS[field];
  const value = defaults[field];
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return 'number';
  return 'text';
}

function parseCount(field, text) {
  if (!/^\d+$/.test(text)) throw new BadLink(`${field} must be a whole number, got "${text}"`);
  return Number(text);
}

function parseValue(field, kind, text) {
  switch (kind) {
    case 'bool':
      if (text !== 'true' && text !== 'false') throw new BadLink(`${field} must be true or false, got "${text}"`);
      return text === 'true';
    case 'number': {
      const n = Number(text);
      if (text.trim() === '' || !Number.isFinite(n)) throw new BadLink(`${field} must be a number, got "${text}"`);
      return n;
    }
    case 'count?':
      return text === '' ? null : parseCount(field, text);
    case 'text?':
      return text === '' ? null : text;
    case 'counts':
      return text === '' ? [] : text.split(',').map((t) => parseCount(field, t));
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
  return `#${params}`;
}

// Parses a hash against the defaults of the dataset it names. Throws BadLink naming the field for
// an unknown field or a value of the wrong type; range checks are the Rust core's `validate`.
export function fromHash(hash, defaultsByDataset) {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const dataset = params.get('dataset') ?? 'mnist';
  const defaults = defaultsByDataset[dataset];
  if (!defaults) throw new BadLink(`dataset must be mnist or cifar10, got "${dataset}"`);
  const config = { ...defaults };
  const page = { ...PAGE_DEFAULTS };
  for (const [key, text] of params) {
    if (key in page) page[key] = parseCount(key, text);
    else if (key in config) config[key] = parseValue(key, kindOf(key, defaults), text);
    else throw new BadLink(`unknown setting "${key}"`);
  }
  return { config, page };
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
