// The URL round trip of the page's state, without a browser: every field survives, and a bad link
// names the offending setting.

import test from 'node:test';
import assert from 'node:assert/strict';
import { BadLink, fromHash, toHash, stepsPerEpoch, describeDifferences } from '../state.js';

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
