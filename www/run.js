// The run controller: Train, Pause, Resume and Stop, the events of the run in progress (routed
// here by its id), the status line while it trains, and the run kept in the history when it ends:
// finished (with its weights, so it can teach), stopped or diverged. A run that fails for another
// reason (a lost GPU, a failed build) leaves a message and nothing to keep.

import { $ } from './dom.js';
import { Controller, splitCounts, stepsPerEpoch } from './state.js';
import { progressLine } from './views/status.js';
import { checkRunTime } from './run-time.js';

// The core's message for a run whose loss became NaN or infinite (crate::Error::Diverged).
const DIVERGED = /training diverged at step (\d+)/;

// How a kept run ended, for the status line.
function endOf(run) {
  const epochs = `${run.config.epochs} epoch${run.config.epochs === 1 ? '' : 's'}`;
  const done = `${run.epochs.length} of ${epochs}`;
  if (run.status === 'finished') {
    return `${run.name} finished: test accuracy ${(100 * run.final.test_acc).toFixed(2)}% after ${epochs} `
      + `(${Math.round(run.imagesPerSec)} images/s).`;
  }
  if (run.status === 'stopped') return `${run.name} stopped after step ${run.steps} (${done}).`;
  return `${run.name} diverged at step ${run.divergedAt} (${done}).`;
}

// The run in progress as PageState keeps it.
function liveRun(config, page, curve) {
  return {
    status: 'running', config, page, curve,
    loss: [], lrs: new Array(curve.length).fill(null), epochs: [], step: 0,
    images: 0, trainMs: 0, startedAt: null, pausedMs: 0, pausedAt: null,
    stepsPerEpoch: stepsPerEpoch(config, page), adapter: '', savedAs: null,
  };
}

// The history's record of the run that just ended.
function record(state, outcome, { checkpoint, views, divergedAt }) {
  const { live } = state;
  const last = live.epochs[live.epochs.length - 1] ?? null;
  return {
    id: `run-${Date.now()}`, name: state.nextRunName(), created: Date.now(), status: outcome,
    config: live.config, page: live.page, adapter: live.adapter,
    loss: live.loss, lrs: live.lrs, epochs: live.epochs, final: outcome === 'finished' ? last : null,
    steps: live.step, divergedAt,
    imagesPerSec: live.images / Math.max(live.trainMs / 1000, 1e-6),
    seconds: live.startedAt === null ? 0 : (performance.now() - live.startedAt - live.pausedMs) / 1000,
    views: views && { grid: views.grid, confusion: views.confusion, batch: live.batch ?? null },
    checkpoint,
  };
}

export class RunController extends Controller {
  // The form locked and the buttons set for a run in progress, or for none.
  setRunning(running) {
    this.page.controls.setLocked(running);
    $('#train').disabled = running || !this.state.ready || Boolean(this.state.configError);
    $('#pause').disabled = !running;
    $('#resume').disabled = true;
    $('#stop').disabled = !running;
  }

  async train({ checked = false } = {}) {
    this.messages.clear();
    $('#slow').hidden = true;
    const { config, page: options } = this.state.settings;
    if (!checked && !(await checkRunTime(this.page, config, options))) return;
    this.perf.trainClickedAt = performance.now();
    this.perf.firstStepMs = null;
    const teacher = config.teacher ? await this.store.checkpoint(config.teacher) : null;
    if (config.teacher && !teacher) {
      this.messages.show(`The teacher run ${config.teacher} has no saved weights; pick another teacher.`);
      return;
    }
    this.state.live = liveRun(config, options, this.state.curve);
    const run = this.state.begin('run');
    this.setRunning(true);
    const counts = splitCounts(config, options);
    this.page.say(`Preparing: loading ${config.dataset === 'mnist' ? 'MNIST' : 'CIFAR-10'} (${counts.train} training images) and building ${config.model} on ${this.page.where()}…`);
    try {
      await this.client.send('train', { run, config, trainLimit: options.train_limit, testLimit: options.test_limit, teacher }, teacher ? [teacher] : []);
    } catch (e) {
      this.failed(e.message);
    }
  }

  started(ev) {
    const { live } = this.state;
    this.page.showKernels(ev.kernels);
    live.adapter = ev.adapter;
    live.backend = ev.backend;
    live.startedAt = performance.now();
    const picked = ev.pick ? ` Picked for this run: ${ev.pick}.` : '';
    this.page.say(`Training on ${this.page.where(ev.backend)}: ${ev.stepsPerEpoch} steps per epoch, ${ev.trainCount} training and ${ev.testCount} test images.${picked}`);
  }

  // 'GPU', 'CPU', or 'CPU ×N' where N workers share each batch.
  backendLabel(backend) {
    if (backend !== 'cpu') return 'GPU';
    const n = this.state.backend.cpu?.workers ?? 1;
    return n > 1 ? `CPU ×${n}` : 'CPU';
  }

  progress(ev) {
    const { live } = this.state;
    if (this.perf.firstStepMs === null) this.perf.firstStepMs = performance.now() - this.perf.trainClickedAt;
    live.loss.push([ev.global_step, ev.chunk_loss]);
    ev.lrs.forEach((lr, i) => { live.lrs[ev.global_step - ev.steps + i] = lr; });
    live.step = ev.global_step;
    live.images += ev.images;
    live.trainMs += ev.ms;
    const elapsed = (performance.now() - live.startedAt - live.pausedMs) / 1000;
    const stepsPerSec = ev.global_step / Math.max(live.trainMs / 1000, 1e-6);
    this.page.say(progressLine({
      backend: this.backendLabel(live.backend),
      epoch: ev.epoch + 1, epochs: live.config.epochs,
      step: ev.step, stepsPerEpoch: live.stepsPerEpoch, loss: ev.loss, acc: ev.acc,
      imagesPerSec: live.images / Math.max(live.trainMs / 1000, 1e-6), elapsed,
      eta: (ev.total_steps - ev.global_step) / stepsPerSec,
    }));
    this.page.charts.schedule();
  }

  // An event of this run (protocol.js).
  onEvent(ev) {
    const { live } = this.state;
    const handlers = {
      started: () => this.started(ev),
      picking: () => this.page.say('Timing a few steps of this run on the software GPU and on the CPU, to train on the faster…'),
      progress: () => this.progress(ev),
      evaluating: () => this.page.say(`${this.backendLabel(ev.backend)} · evaluating the trained network on the test set…`),
      epoch: () => {
        live.epochs.push({ epoch: ev.epoch, train_loss: ev.train_loss, train_acc: ev.train_acc, test_loss: ev.test_loss, test_acc: ev.test_acc });
        this.page.charts.schedule();
      },
      batch: () => {
        live.batch = ev.preview;
        this.page.network.showBatch(ev.preview);
      },
      done: () => this.keep('finished', { checkpoint: ev.checkpoint, views: ev.views }),
      stopped: () => this.keep('stopped'),
      failed: () => {
        const diverged = ev.message.match(DIVERGED);
        if (diverged) this.keep('diverged', { message: ev.message, divergedAt: Number(diverged[1]) });
        else this.failed(ev.message);
      },
    };
    handlers[ev.event]?.();
  }

  // Puts the run that just ended in the history. A run stopped before its first step has nothing to keep.
  async keep(outcome, { checkpoint = null, views = null, message = null, divergedAt = null } = {}) {
    this.state.live.status = outcome;
    this.state.end();
    this.setRunning(false);
    if (message) this.messages.show(`Training stopped: ${message} The run is kept in the history, marked diverged.`);
    if (outcome === 'stopped' && this.state.live.loss.length === 0) {
      this.page.say('Stopped before the first step; there is nothing to keep.');
      this.page.charts.draw();
      return;
    }
    const run = record(this.state, outcome, { checkpoint, views, divergedAt });
    const { saved, reason } = await this.store.put(run);
    this.state.selected.add(run.id);
    this.state.live.savedAs = run.id;
    const where = saved ? 'It is in the run history below.'
      : `It could not be saved in this browser (${reason}), so it is listed below only until this tab closes.`;
    // The history is drawn before the status says the run is in it.
    await this.page.runs.reload();
    this.page.say(`${endOf(run)} ${where}`);
    if (run.views) this.page.runs.showNetwork(run.id);
    this.page.charts.draw();
  }

  // A run that ended for another reason than its own: nothing to keep.
  failed(error) {
    // Every GPU failure reaches the page as the core's Error::Gpu, "GPU error: ...".
    const lost = /GPU error|device (was|is) lost/i.test(error);
    const what = lost ? 'The GPU stopped working for this page (a driver reset, the system taking the GPU back, or a crash)' : 'Training stopped';
    this.messages.show(`${what}: ${error} Your run history is kept; press Train to start again.`);
    this.page.say('The run did not finish.');
    this.state.live.status = 'failed';
    this.state.end();
    this.setRunning(false);
    this.page.charts.draw();
  }

  pause() {
    this.client.send('pause');
    this.state.paused = true;
    if (this.state.live) this.state.live.pausedAt = performance.now();
    $('#pause').disabled = true;
    $('#resume').disabled = false;
    this.page.say(`${this.state.statusLine} · paused`);
  }

  resume() {
    this.client.send('resume');
    this.state.paused = false;
    if (this.state.live?.pausedAt) {
      this.state.live.pausedMs += performance.now() - this.state.live.pausedAt;
      this.state.live.pausedAt = null;
    }
    $('#pause').disabled = false;
    $('#resume').disabled = true;
  }

  stop() {
    this.client.send('stop');
  }
}
