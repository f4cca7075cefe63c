// The URL round trip of the page's state, without a browser: every field survives, and a bad link
// names the offending setting.

import test from 'node:test';
import assert from 'node:assert/strict';
import { BadLink, MAX_BATCH_SIZE, MAX_EPOCHS, MAX_TOTAL_STEPS, fromHash, toHash, stepsPerEpoch, describeDifferences, lessonLink, siteLessonUrl } from '../state.js';

// The shape of the Rust core's defaults (the browser test checks the real ones).
const mnist = {
  dataset: 'mnist', model: 'mnist_resnet', epochs: 2, batch_size: 64, base_lr: 0.4, base_batch_size: 256,
  linear_scaling: true, lr_mode: 'step', lr_decay: 0.1, lr_decay_epochs: [1], warmup_epochs: 0, warmup_steps: null,
  warmup_lr: 0, hold_epochs: 0, hold_steps: null, label_smoothing: 0, mixup_alpha: 0, teacher: null, seed: 42, width_mult: 1,
};
const defaults = { mnist, cifar10: { ...mnist, dataset: 'cifar10', model: 'resnet20' } };

test('a config and the page options survive the URL hash', () => {
  const config = { ...mnist, seed: 9007199254740991, lr_mode: 'cosine', lr_decay_epochs: [], warmup_steps: 7, teacher: 'run-1', label_smoothing: 0.1 };
  const page = { train_limit: 512, test_limit: 0 };
  const back = fromHash(toHash(config, page), defaults);
  assert.deepEqual(back, { config, page });
});

test('a partial link takes the defaults of the dataset it names', () => {
  const { config } = fromHash('#dataset=cifar10&epochs=3', defaults);
  assert.equal(config.model, 'resnet20');
  assert.equal(config.epochs, 3);
});

test('bad values in a link are errors that name the setting', () => {
  assert.throws(() => fromHash('#epochs=lots', defaults), (e) => e instanceof BadLink && /epochs/.test(e.message));
  assert.throws(() => fromHash('#linear_scaling=yes', defaults), /linear_scaling must be true or false/);
  assert.throws(() => fromHash('#nonsense=1', defaults), /unknown setting "nonsense"/);
  assert.throws(() => fromHash('#dataset=imagenet', defaults), /dataset must be mnist or cifar10/);
  assert.throws(() => fromHash('#lr_decay_epochs=2,x', defaults), /lr_decay_epochs must be a whole number/);
  assert.throws(() => fromHash('#train_limit=-5', defaults), /train_limit/);
});

test('steps per epoch follow the training subset and the batch', () => {
  assert.equal(stepsPerEpoch({ ...mnist, batch_size: 128 }, { train_limit: 0 }), 468);
  assert.equal(stepsPerEpoch({ ...mnist, batch_size: 16 }, { train_limit: 320 }), 20);
});

test('differences from a baseline list only the changed fields', () => {
  assert.equal(describeDifferences(mnist, mnist), 'baseline');
  assert.equal(describeDifferences({ ...mnist, label_smoothing: 0.1, teacher: 'run-2' }, mnist), 'label_smoothing=0.1, teacher=run-2');
});

test('only the page\'s own settings are accepted, not what every object inherits', () => {
  for (const key of ['toString', 'constructor', 'hasOwnProperty', '__proto__', 'valueOf', 'isPrototypeOf']) {
    assert.throws(() => fromHash(`#${key}=5`, defaults), new RegExp(`unknown setting "${key}"`), key);
  }
  assert.throws(() => fromHash('#dataset=toString', defaults), /dataset must be mnist or cifar10/);
  assert.throws(() => fromHash('#dataset=__proto__', defaults), /dataset must be mnist or cifar10/);
  // Found by the fuzz test below: a second dataset replaced the first after its defaults were taken.
  assert.throws(() => fromHash('#dataset=mnist&dataset=imagenet', defaults), /setting "dataset" is given twice/);
  assert.throws(() => fromHash('#epochs=2&epochs=3', defaults), /setting "epochs" is given twice/);
  // Also found by it: -0 was kept, and written back as 0, so the link did not round-trip.
  const zero = fromHash('#warmup_lr=-0', defaults);
  assert.ok(Object.is(zero.config.warmup_lr, 0));
  assert.deepEqual(fromHash(toHash(zero.config, zero.page), defaults), zero);
});

test('every whole number in a link is bounded, with the limit in the message', () => {
  // 2^32 + 1 images used to be accepted as a training limit.
  assert.throws(() => fromHash('#train_limit=4294967297', defaults), /train_limit must be at most 60000/);
  assert.throws(() => fromHash('#dataset=cifar10&train_limit=50001', defaults), /train_limit must be at most 50000/);
  assert.throws(() => fromHash('#test_limit=10001', defaults), /test_limit must be at most 10000/);
  assert.equal(fromHash('#dataset=cifar10&train_limit=50000', defaults).page.train_limit, 50000);
  // A huge epoch count made the schedule preview allocate epochs × steps values.
  assert.throws(() => fromHash('#epochs=1e9', defaults), /epochs must be a whole number/);
  assert.throws(() => fromHash(`#epochs=${MAX_EPOCHS + 1}`, defaults), /epochs must be at most 1000/);
  assert.throws(() => fromHash('#epochs=99999999999999999999999', defaults), /epochs must be at most 1000/);
  assert.throws(() => fromHash(`#batch_size=${MAX_BATCH_SIZE + 1}`, defaults), /batch_size must be at most 4096/);
  assert.throws(() => fromHash(`#hold_steps=${MAX_TOTAL_STEPS + 1}`, defaults), /hold_steps must be at most 10000000/);
  assert.throws(() => fromHash('#hold_steps=18446744073709551615', defaults), /hold_steps must be at most/);
  assert.throws(() => fromHash('#lr_decay_epochs=1,1001', defaults), /lr_decay_epochs must be at most 1000/);
  assert.throws(() => fromHash('#seed=9007199254740992', defaults), /seed must be at most 9007199254740991/);
  assert.throws(() => fromHash('#base_lr=1e400', defaults), /base_lr must be a number/);
  const { config } = fromHash(`#epochs=${MAX_EPOCHS}&batch_size=${MAX_BATCH_SIZE}&warmup_steps=${MAX_TOTAL_STEPS}`, defaults);
  assert.deepEqual([config.epochs, config.batch_size, config.warmup_steps], [MAX_EPOCHS, MAX_BATCH_SIZE, MAX_TOTAL_STEPS]);
});

// A seeded mutation loop over links: any hash either parses into the page's own fields with
// bounded values, which survive the round trip, or is a BadLink; nothing else is thrown.
// FUZZ_EXECS sets the number of links (bench/FUZZ.md has the long run).
test('fuzz: any link parses to bounded own fields or is a BadLink', () => {
  const execs = Number(process.env.FUZZ_EXECS ?? 20000);
  let state = 0x2545f491;
  const rand = (n) => {
    state ^= state << 13; state >>>= 0; state ^= state >>> 17; state ^= state << 5; state >>>= 0;
    return state % n;
  };
  const pick = (list) => list[rand(list.length)];
  const keys = [...Object.keys(mnist), 'train_limit', 'test_limit', 'toString', 'constructor', '__proto__', 'hasOwnProperty', 'x', ''];
  const values = ['', '0', '1', '-1', '1.5', '1e9', '1e400', 'NaN', 'Infinity', 'true', 'false', 'null', 'mnist', 'cifar10',
    '4294967297', '9007199254740992', '18446744073709551615', '1000', '1001', '4096', '4097', '60000', '60001', '10000000',
    '1,2', '2,1', '1,,2', ',', 'toString', '%', '%00', '%E2%82%AC', ' 1', '0x10', '1_000', '٣'];
  const chars = '=&#%+ ,.-_0123456789aeE';
  let parsed = 0;
  for (let i = 0; i < execs; i++) {
    const parts = [];
    for (let n = rand(4); n >= 0; n--) {
      const key = pick(keys);
      // Half the values are the field's own default, so many links get far enough to parse.
      const own = Object.hasOwn(mnist, key) ? [mnist[key]].flat().join(',') : '0';
      parts.push(`${key}=${rand(2) ? own : pick(values)}`);
    }
    let hash = '#' + parts.join('&');
    for (let n = rand(4) - 1; n > 0; n--) {
      const at = rand(hash.length + 1);
      hash = rand(2) ? hash.slice(0, at) + chars[rand(chars.length)] + hash.slice(at) : hash.slice(0, at) + hash.slice(at + 1);
    }
    let result;
    try {
      result = fromHash(hash, defaults);
    } catch (e) {
      assert.ok(e instanceof BadLink, `${hash}: ${e}`);
      continue;
    }
    parsed++;
    const { config, page } = result;
    assert.deepEqual(Object.keys(config).sort(), Object.keys(defaults[config.dataset]).sort(), hash);
    assert.deepEqual(Object.keys(page).sort(), ['test_limit', 'train_limit'], hash);
    assert.ok(config.epochs <= MAX_EPOCHS && config.batch_size <= MAX_BATCH_SIZE, hash);
    assert.ok(page.train_limit <= 60000 && page.test_limit <= 10000, hash);
    for (const v of Object.values(config)) assert.ok(typeof v !== 'number' || Number.isFinite(v), hash);
    assert.deepEqual(fromHash(toHash(config, page), defaults), result, hash);
  }
  assert.ok(parsed > execs / 20, `only ${parsed} of ${execs} links parsed: the generator is too hostile`);
  console.log(`# fuzz fromHash: ${execs} links, ${parsed} parsed, ${execs - parsed} BadLink, 0 other errors`);
});

test('a lesson-url link opens a lesson file of this site only, with the seed and embed of any lesson', () => {
  const link = lessonLink('#lesson-url=lessons/my-lesson.json&embed=1&seed=7', ['warmup']);
  assert.deepEqual(link, { id: null, url: 'lessons/my-lesson.json', seed: 7, embed: true, tiny: false });
  assert.equal(siteLessonUrl('lessons/a.json', 'https://school.example/lab/tricklab/').href, 'https://school.example/lab/tricklab/lessons/a.json');
  assert.equal(siteLessonUrl('../shared/a.json', 'https://school.example/lab/tricklab/').href, 'https://school.example/lab/shared/a.json');
  for (const bad of ['https://evil.example/x.json', '//evil.example/x.json', 'javascript:alert(1)', 'data:application/json,{}', '\\\\evil/x.json', '']) {
    assert.throws(() => lessonLink(`#lesson-url=${encodeURIComponent(bad)}`, []), BadLink, bad);
  }
  assert.throws(() => lessonLink('#lesson=warmup&lesson-url=lessons/a.json', ['warmup']), /not both/);
  assert.throws(() => lessonLink('#lesson-url=lessons/a.json&speed=2', []), /unknown lesson setting "speed"/);
});
