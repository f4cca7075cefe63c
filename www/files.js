// Files in and out of the page: a CIFAR-10 archive (chosen or dropped anywhere on the page, read
// here and never uploaded, kept in this browser until the visitor forgets it), trained weights
// imported from a .safetensors file into the run history, and a run's exports (curves as CSV or
// JSON, weights as safetensors).

import { $ } from './dom.js';
import { Controller, PAGE_DEFAULTS } from './state.js';
import { curvesCsv, curvesJson, download, fileStem } from './export.js';

export class FilesController extends Controller {
  async loadCifarFile(file) {
    this.page.say(`Reading ${file.name} in this tab (nothing is uploaded)…`);
    try {
      const bytes = await file.arrayBuffer();
      const counts = await this.client.send('loadCifar', { bytes, name: file.name }, [bytes]);
      const kept = counts.kept ? ' It is kept in this browser, so a reload does not ask for it again.'
        : ' This browser could not keep it (no room), so a reload will ask for it again.';
      this.messages.show(`CIFAR-10 loaded from ${file.name}: ${counts.train} training and ${counts.test} test images.${kept}`, 'notice');
      $('#cifar-kept').hidden = !counts.kept;
      this.page.say('CIFAR-10 is ready.');
    } catch (e) {
      // The core's message starts with the file's name and says what is wrong with it.
      this.messages.show(`CIFAR-10 could not be read from ${e.message}`);
      this.page.say('Ready.');
    }
  }

  async forgetCifar() {
    await this.client.send('forgetCifar');
    $('#cifar-kept').hidden = true;
    this.page.say('The CIFAR-10 archive is removed from this browser.');
  }

  // Trained weights from a file (the CLI's `--save`, or an export) join the run history, where they
  // can teach a distillation student. The core checks every tensor against the model the file's
  // config names; a file it cannot use is explained and not kept.
  async importWeights(file) {
    let info;
    const bytes = await file.arrayBuffer();
    try {
      info = await this.client.send('checkpointInfo', { bytes: bytes.slice(0) });
    } catch (e) {
      this.messages.show(`${file.name} cannot be used: ${e.message.replace(/^this file: /, '')}`);
      return;
    }
    const { config } = info;
    const run = {
      id: `run-import-${Date.now()}`, name: file.name.replace(/\.safetensors$/i, ''), created: Date.now(), status: 'imported',
      config, page: { ...PAGE_DEFAULTS }, adapter: `imported from ${file.name}`, loss: [], lrs: [], epochs: [], final: null,
      steps: 0, divergedAt: null, imagesPerSec: null, seconds: 0, views: null, checkpoint: bytes, imported: { file: file.name, parameters: info.parameters },
    };
    const { saved, reason } = await this.store.put(run);
    await this.page.runs.reload();
    const dataset = this.state.catalog.datasets.find((d) => d.name === config.dataset)?.label ?? config.dataset;
    const use = config.dataset === this.state.settings.config.dataset ? 'It can now teach a run: turn on knowledge distillation and pick it as the teacher.'
      : `It was trained on ${dataset}: switch the dataset to ${dataset} to use it as a teacher.`;
    this.messages.show(`Imported ${file.name}: ${config.model} (width ×${config.width_mult}, ${info.parameters.toLocaleString('en')} parameters) `
      + `trained on ${dataset}. ${use}${saved ? '' : ` It could not be saved in this browser (${reason}).`}`, 'notice');
  }

  // A run's curves (CSV or JSON) or its weights (safetensors, as `tricklab train --save` writes them).
  async exportRun(id, kind) {
    const run = this.state.runs.find((r) => r.id === id);
    if (!run) return;
    const stem = fileStem(run);
    if (kind === 'csv') download(`${stem}.csv`, curvesCsv(run), 'text/csv');
    else if (kind === 'json') download(`${stem}.json`, curvesJson(run), 'application/json');
    else {
      const weights = await this.store.checkpoint(id);
      if (!weights) {
        this.messages.show(`${run.name} has no saved weights (only a finished run keeps them).`);
        return;
      }
      download(`${stem}.safetensors`, weights, 'application/octet-stream');
    }
  }

  // A file dropped anywhere: weights (.safetensors) are imported, a lesson file (.json) opens as a
  // lesson (unless a view with its own link, such as #class=, is open and takes its drops); anything
  // else is read as CIFAR-10.
  openFile(file) {
    if (/\.safetensors$/i.test(file.name)) this.importWeights(file);
    else if (/\.json$/i.test(file.name)) {
      if (!this.page.routes.current) this.page.lessonFiles.open(file);
    } else this.loadCifarFile(file);
  }

  // The file inputs and dropping a file anywhere on the page.
  wire() {
    document.addEventListener('dragover', (e) => { e.preventDefault(); document.body.classList.add('dragging'); });
    document.addEventListener('dragleave', () => document.body.classList.remove('dragging'));
    document.addEventListener('drop', (e) => {
      e.preventDefault();
      document.body.classList.remove('dragging');
      // A view with its own link that takes drops (#class= takes many result files at once).
      const route = this.page.routes.current;
      if (route?.drop) {
        route.drop([...(e.dataTransfer?.files ?? [])]);
        return;
      }
      const file = e.dataTransfer?.files?.[0];
      if (file) this.openFile(file);
    });
    $('#cifar-file').addEventListener('change', (e) => {
      if (e.target.files[0]) this.loadCifarFile(e.target.files[0]);
    });
    $('#cifar-forget').addEventListener('click', () => this.forgetCifar());
    $('#import-file').addEventListener('change', (e) => {
      if (e.target.files[0]) this.importWeights(e.target.files[0]);
      e.target.value = '';
    });
  }
}
