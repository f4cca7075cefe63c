// "Check this computer" (`#check`; the tests' `&tiny=1` estimates the tiny lessons): what a teacher
// needs to know about each lab computer before class, measured here when the view opens: the
// adapter and backend, every kernel variant against the CPU reference (a variant that fails is not
// used on this adapter, and the view says so), each lesson's estimated duration from a few timed
// steps of its largest arm, and one line to copy that sums it up. The core measures; this draws.

import { $, copyable, el } from './dom.js';
import { Controller } from './state.js';
import { minutes, remember } from './lessons.js';

export class CheckComputer extends Controller {
  constructor(page) {
    super(page);
    // The check in progress (a second run waits for it), and whether it estimates tiny lessons.
    Object.assign(this, { root: $('#check-view'), running: null, tiny: false });
  }

  route() {
    return {
      name: 'check',
      matches: (hash) => /^#check(&|$)/.test(hash),
      open: (hash) => this.open(hash),
      close: () => { this.root.hidden = true; },
    };
  }

  open(hash) {
    this.tiny = new URLSearchParams(hash.slice(1)).get('tiny') === '1';
    this.root.hidden = false;
    this.run();
  }

  part(name) {
    return this.root.querySelector(`.check-${name}`);
  }

  // Runs every check once (a second call while one runs waits for it).
  run() {
    this.running ??= this.checkAll().finally(() => { this.running = null; });
    return this.running;
  }

  async checkAll() {
    const { backend } = this.state;
    this.root.dataset.state = 'running';
    $('#check-again').disabled = true;
    for (const name of ['variants', 'lessons', 'summary']) this.part(name).replaceChildren(el('p', { class: 'muted' }, 'Waiting…'));
    const adapter = backend.kind === 'gpu'
      ? `GPU ${backend.adapter.description.trim()}${backend.adapter.software ? ' (software)' : ''}`
      : `CPU, no WebGPU (${backend.error ?? 'no adapter'})`;
    this.part('adapter').textContent = backend.kind === 'gpu'
      ? `Runs here train on the GPU through WebGPU: ${backend.adapter.description}. ${backend.adapter.software ? 'It is a software adapter (a CPU emulating a GPU): lessons run, slowly.' : 'It is a hardware GPU.'}`
      : `Runs here train on the CPU (WebAssembly): ${backend.error ?? 'WebGPU offers no adapter'}. The lessons run, slowly.`;
    try {
      const { count, failed } = await this.checkVariants(backend.kind === 'gpu');
      const estimates = await this.estimateLessons();
      const line = await this.client.send('checkSummary', { adapter, checks: count, failed, estimates });
      this.showSummary(line);
      this.root.dataset.state = 'done';
    } catch (e) {
      this.part('summary').replaceChildren(el('p', { class: 'error' }, `The check stopped: ${e.message}`));
      this.root.dataset.state = 'failed';
    } finally {
      $('#check-again').disabled = false;
    }
  }

  // Every kernel variant against the CPU reference, one row per variant: {count, failed: names}.
  async checkVariants(gpu) {
    const out = this.part('variants');
    if (!gpu) {
      out.replaceChildren(el('p', {}, 'No GPU kernels to check: runs here use the CPU reference ops.'));
      return { count: 0, failed: [] };
    }
    out.replaceChildren(el('p', { class: 'muted' }, 'Checking every kernel variant against the CPU reference…'));
    const checks = await this.client.send('checkVariants');
    const byVariant = new Map();
    for (const c of checks) {
      const v = byVariant.get(c.variant) ?? { checks: 0, failed: [] };
      v.checks += 1;
      if (c.mismatch) v.failed.push(c);
      byVariant.set(c.variant, v);
    }
    const rows = [...byVariant].map(([name, v]) => el('tr', { 'data-variant': name },
      el('th', { scope: 'row' }, name),
      el('td', {}, `${v.checks}`),
      el('td', { class: v.failed.length ? 'fail' : 'pass' }, v.failed.length
        ? `fail (${v.failed.length}): not used on this adapter. ${v.failed.map((c) => `${c.pass} ${c.shape}`).join('; ')}`
        : 'pass')));
    out.replaceChildren(el('table', { class: 'check-table' },
      el('caption', {}, `Each kernel variant against the CPU reference (${checks.length} checks)`),
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Variant'), el('th', { scope: 'col' }, 'Checks'), el('th', { scope: 'col' }, 'Result'))),
      el('tbody', {}, ...rows)));
    const failed = [...new Set(checks.filter((c) => c.mismatch).map((c) => `${c.variant}(${c.pass})`))];
    return { count: checks.length, failed };
  }

  // Each lesson in turn: a few timed steps of its largest arm, the lesson's duration estimated.
  async estimateLessons() {
    const out = this.part('lessons');
    const lessons = this.state.lessons ?? [];
    const rows = lessons.map((l) => el('tr', { 'data-lesson': l.id }, el('th', { scope: 'row' }, l.title), el('td', {}, '…'), el('td', {}, '…'), el('td', {}, 'waiting')));
    out.replaceChildren(el('table', { class: 'check-table' },
      el('caption', {}, `Each lesson's estimated duration here, from ${this.tiny ? 'its tiny version and ' : ''}a few timed steps of its largest arm`),
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Lesson'), el('th', { scope: 'col' }, 'Arm timed'), el('th', { scope: 'col' }, 'Per step'), el('th', { scope: 'col' }, 'Estimated'))),
      el('tbody', {}, ...rows)));
    const estimates = [];
    for (const [i, l] of lessons.entries()) {
      rows[i].cells[3].textContent = 'timing…';
      const e = await this.client.send('estimateLesson', { id: l.id, tiny: this.tiny });
      rows[i].cells[1].textContent = `${e.arm_name} (batch ${e.batch})`;
      rows[i].cells[2].textContent = `${Math.round(e.step_ms)} ms`;
      rows[i].cells[3].textContent = minutes(e.seconds);
      remember('estimate', l.id, { seconds: e.seconds, tiny: this.tiny });
      estimates.push(e);
    }
    this.page.lessons.render();
    return estimates;
  }

  showSummary(line) {
    const [code, copy] = copyable(line, 'check-line');
    this.part('summary').replaceChildren(el('p', {}, 'This computer in one line, to collect with the others: ', code, ' ', copy));
  }

  wire() {
    this.page.routes.add(this.route());
    $('#check-again').addEventListener('click', () => this.run());
  }
}
