// The run history controller: the runs kept in this browser (store.js) in the history table and
// the ablation table, which of them are compared and which is the baseline, what a finished run's
// network learned, and a lesson's trained arms kept like any run.

import { Controller } from './state.js';

export class RunsController extends Controller {
  // The history table and the ablation table.
  render() {
    const baselineRun = this.state.baselineRun();
    this.page.history.render(this.state.runs, this.state.selected, this.state.baselineId, (run) => baselineRun?.config ?? this.state.defaults[run.config.dataset]);
    this.page.ablation.render(this.state.runs, baselineRun);
  }

  async reload() {
    this.state.runs = await this.store.list();
    for (const id of this.state.selected) if (!this.state.runs.some((r) => r.id === id)) this.state.selected.delete(id);
    this.page.controls.setTeachers(this.state.runs, this.state.settings.config.dataset);
    this.page.network.setRuns(this.state.runs, this.state.networkRun);
    this.render();
  }

  // Shows what a finished run learned (its stored views) in "What the network learned".
  showNetwork(id) {
    const run = this.state.runs.find((r) => r.id === id);
    if (!run?.views) return;
    this.state.networkRun = id;
    this.page.network.show(run);
  }

  // A lesson's finished arm, kept in the history like any run; true when it was saved for good.
  async saveLessonRun(fields) {
    const workers = this.state.backend.cpu?.workers ?? 1;
    const cpu = workers > 1 ? `CPU, ${workers} workers` : 'CPU';
    const adapter = this.state.backend.kind === 'cpu' ? cpu : this.state.backend.adapter.description;
    const run = { id: `run-${Date.now()}-${fields.lesson.arm}`, created: Date.now(), adapter, steps: fields.loss.length, divergedAt: null, ...fields };
    const { saved } = await this.store.put(run);
    await this.reload();
    if (fields.lesson.arm === 0 || !this.state.networkRun) this.showNetwork(run.id);
    return saved;
  }

  // The history table's handlers.
  get handlers() {
    return {
      onSelect: (id, on) => {
        if (on) this.state.selected.add(id);
        else this.state.selected.delete(id);
        this.render();
        this.page.charts.draw();
      },
      onBaseline: (id) => {
        this.state.baselineId = id;
        this.render();
      },
      onDelete: async (id) => {
        await this.store.delete(id);
        this.state.selected.delete(id);
        if (this.state.baselineId === id) this.state.baselineId = null;
        await this.reload();
        this.page.charts.draw();
      },
      onExport: (id, kind) => this.page.files.exportRun(id, kind),
    };
  }
}
