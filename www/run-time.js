// How long a run takes here: on a slow backend (the CPU, a software GPU) a large run is timed over
// a few steps before it starts, and one that would take long is offered a smaller version (the
// same tricks on fewer images and a narrower model) instead.

import { $ } from './dom.js';
import { splitCounts, stepsPerEpoch } from './state.js';

// A run of more training images than this (over all epochs) is timed first; one that would take
// longer than LONG_RUN_S gets the offer of a smaller run.
const BIG_RUN_IMAGES = 20_000;
const LONG_RUN_S = 10 * 60;
// What the smaller run aims at: a few minutes, on at most a half-width model.
const SMALL_RUN_S = 3 * 60;
const SMALL_WIDTH = 0.5;

// Seconds a run of `config` on `page`'s images takes at `speed` training images per second: its
// steps, and its evaluations (forward passes only, a third of a step's work per image) of the test
// set and of the 256 images the batch norms are re-estimated from, each epoch.
function runSeconds(config, page, speed) {
  const { test } = splitCounts(config, page);
  const perEpoch = stepsPerEpoch(config, page) * config.batch_size + (test + 256) / 3;
  return (config.epochs * perEpoch) / Math.max(speed, 1e-6);
}

function duration(s) {
  if (s < 90) return `${Math.round(s)} seconds`;
  if (s < 90 * 60) return `${Math.round(s / 60)} minutes`;
  return `${(s / 3600).toFixed(1)} hours`;
}

const width = (w) => (w === 1 ? 'full' : `${w}×`);

// The smaller run with the same tricks that fits in SMALL_RUN_S: {config, page, seconds}.
async function smallerRun(client, config, page, speed) {
  const { train: images, test } = splitCounts(config, page);
  const small = { ...config, width_mult: Math.min(config.width_mult, SMALL_WIDTH) };
  const smallSpeed = small.width_mult === config.width_mult ? speed : await client.send('speed', { config: small });
  // As many images as fit in SMALL_RUN_S (in thousands), at least 16 batches, at most the run's own.
  const fit = Math.floor((SMALL_RUN_S * smallSpeed) / config.epochs / 1.2 / 1000) * 1000;
  const smallPage = { train_limit: Math.min(images, Math.max(16 * config.batch_size, fit)), test_limit: Math.min(test, 1000) };
  return { config: small, page: smallPage, seconds: runSeconds(small, smallPage, smallSpeed) };
}

// The offer, in words.
function offerText(where, speed, seconds, config, page, small) {
  const { train: images } = splitCounts(config, page);
  return `Training will be slow here: it runs on ${where}, at about `
    + `${Math.round(speed)} training images per second, so this run (${images.toLocaleString('en')} images × ${config.epochs} epochs, `
    + `${width(config.width_mult)} width) would take about ${duration(seconds)}. A smaller run with the same tricks, `
    + `on ${small.page.train_limit.toLocaleString('en')} training images, ${small.page.test_limit.toLocaleString('en')} test images and a `
    + `${width(small.config.width_mult)}-width model, takes about ${duration(small.seconds)}.`;
}

// True when a run of `config` on `page` may start: it is small, the backend is fast, or it takes
// at most LONG_RUN_S here; otherwise the smaller run is offered (state.smallerRun) and it is false.
export async function checkRunTime(page, config, options) {
  const { state, client } = page;
  const { train: images } = splitCounts(config, options);
  if (!state.backend.slow || images * config.epochs <= BIG_RUN_IMAGES) return true;
  page.say(`Timing a few steps on ${page.where()} to see how long this run takes here…`);
  page.run.setRunning(true);
  try {
    let speed;
    try {
      speed = await client.send('speed', { config });
    } catch {
      return true; // the run itself will say what is wrong (CIFAR-10 not loaded, say)
    }
    const seconds = runSeconds(config, options, speed);
    if (seconds <= LONG_RUN_S) return true;
    const small = await smallerRun(client, config, options, speed);
    state.smallerRun = { config: small.config, page: small.page };
    $('#slow-text').textContent = offerText(page.where(), speed, seconds, config, options, small);
    $('#slow').hidden = false;
    page.say(`Ready. This run would take about ${duration(seconds)} here; see the choice above.`);
    return false;
  } finally {
    page.run.setRunning(false);
  }
}
