// Warming up while the visitor reads: the worker times the kernel variants (the first visit with
// this adapter only) and compiles every pipeline a run needs, so that Train or "Run this lesson"
// goes straight to its first step instead of compiling in the middle of the run (on a software
// GPU a compile there is a visible stall). One warm-up at a time, in the order asked; a run or
// lesson that starts stops the one in progress, and the worker declines the rest while it trains.

import { $ } from './dom.js';

// A software adapter may have no name: "(Cpu, BrowserWebGpu)".
export const adapterName = (text) => text?.replace(/^\s*\(/, 'an unnamed adapter (');

export class Warmer {
  constructor(page) {
    this.page = page;
    this.queue = Promise.resolve();
    this.warmedConfigs = new Set();
  }

  // Which kernel variant each GEMM-shaped pass runs with on this adapter (picked by timing them
  // here once; see the README), under the status line.
  showKernels(kernels) {
    if (!kernels) return;
    const passes = kernels.variants.map(({ pass, variants }) => `${pass} ${variants.join(' + ')}`).join(', ');
    $('#kernels').textContent = `Kernels on ${adapterName(kernels.adapter)}: ${passes || 'none prepared yet'}`
      + ` (for each pass and shape, the fastest of the variants timed once on this adapter; ${Object.keys(kernels.picks).length} timed so far).`
      + (kernels.excluded?.length ? ` Not used here, because they disagree with the CPU reference on this adapter: ${kernels.excluded.map((x) => `${x.variant} (${x.pass})`).join(', ')}.` : '');
    $('#kernels').hidden = false;
  }

  // The current settings' run.
  settings() {
    return this.configs([this.page.state.settings.config]);
  }

  // Every arm of `lesson` (the arms share their shapes more often than not: each is warmed once).
  lesson(lesson) {
    return this.configs(lesson.arms.map((a) => a.config));
  }

  configs(list) {
    const { state, perf } = this.page;
    if (state.backend?.kind !== 'gpu') return this.queue;
    for (const config of list) {
      const key = JSON.stringify(config);
      if (this.warmedConfigs.has(key)) continue;
      this.warmedConfigs.add(key);
      this.queue = this.queue.then(() => this.one(config, perf));
    }
    return this.queue;
  }

  async one(config, perf) {
    const t0 = performance.now();
    try {
      const r = await this.page.client.send('warm', { config });
      if (!r) {
        this.warmedConfigs.delete(JSON.stringify(config)); // declined: something trains
        return;
      }
      if (r.stopped) this.warmedConfigs.delete(JSON.stringify(config));
      perf.warm = { ms: r.ms, timed: r.timed, pipelines: r.pipelines, stopped: r.stopped };
      perf.warmups.push({ dataset: config.dataset, batch: config.batch_size, ms: performance.now() - t0, pipelines: r.pipelines, stopped: r.stopped });
      this.showKernels(r.kernels);
    } catch (e) {
      $('#kernels').textContent = `Preparing the GPU kernels failed: ${e.message}`;
      $('#kernels').hidden = false;
    } finally {
      perf.warmed = true;
    }
  }
}
