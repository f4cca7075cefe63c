// "What the network learned", for any run: the batch it trains on (as images, live), and once it
// finished, a grid of test images with its predictions, the confusion matrix on the test set, and
// (MNIST) a digit to draw and classify. Everything shown was computed by the core; `classify`
// asks the worker.

import { ImageGrid, batchCaption, predictionCaption } from './images.js';
import { ConfusionView } from './confusion.js';
import { DrawDigitView } from './draw.js';

export class NetworkView {
  // roots: {pick, batch, grid, confusion, draw, empty}; onPick(runId); classify(runId, bytes)
  constructor(roots, { onPick, classify }) {
    this.roots = roots;
    this.classify = classify;
    this.runId = null;
    roots.pick.addEventListener('change', () => onPick(roots.pick.value));
  }

  // The finished runs of the history to choose from, newest first.
  setRuns(runs, current) {
    const finished = runs.filter((r) => r.status === 'finished' && r.views).reverse();
    this.roots.pick.replaceChildren(...finished.map((r) => {
      const o = document.createElement('option');
      o.value = r.id;
      o.textContent = r.name;
      return o;
    }));
    if (current) this.roots.pick.value = current;
    this.roots.empty.hidden = finished.length > 0;
  }

  // The live batch preview of the run in progress (the core's BatchPreview).
  showBatch(preview, title = 'What the network trains on: the first images of the latest epoch\'s first batch') {
    new ImageGrid(this.roots.batch, { title }).render(preview.images, batchCaption(preview));
  }

  // A finished run's views: {grid, confusion, batch?} and its dataset.
  show(run) {
    this.runId = run.id;
    this.roots.pick.value = run.id;
    if (run.views.batch) this.showBatch(run.views.batch, `What ${run.name} trained on (a batch of its last epoch)`);
    new ImageGrid(this.roots.grid, { title: `${run.name}: test images, prediction (probability); red: mistakes` })
      .render(run.views.grid.images, predictionCaption(run.views.grid));
    new ConfusionView(this.roots.confusion).render(run.views.confusion, 10);
    if (run.config.dataset === 'mnist') {
      this.roots.draw.hidden = false;
      this.draw ??= new DrawDigitView(this.roots.draw, (bytes) => this.classify(this.runId, bytes));
      this.draw.clear();
    } else {
      this.roots.draw.hidden = true;
    }
  }
}
