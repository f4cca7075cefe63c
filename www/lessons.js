// The Lessons section: the list of lessons (the core's built-in ones, the site's own from
// lessons/index.json, and files opened here: lesson-files.js), one open lesson at a time, its run
// in the worker, and its arms saved into the run history when it finishes. A lesson is a link:
// `#lesson=warmup` opens a built-in one and `#lesson-url=lessons/my-lesson.json` a file of the
// site; `&embed=1` shows it alone (for an iframe in a tutorial), `&seed=N` picks the seed, and
// the tests' `&tiny=1` runs two steps per epoch.

import { LessonView } from './views/lesson.js';
import { el } from './dom.js';

// What this browser remembers of a lesson, by `lessonKey`: `verdict` ({holds, sentence, seed, tiny}
// of its last run here) and `estimate` ({seconds, tiny}, from "Check this computer").
const lessonKey = (l) => (l.url ? `url:${l.url}` : l.where ? `file:${l.where}` : l.id);
export function remember(kind, key, value) {
  try {
    localStorage.setItem(`tricklab.${kind}.${key}`, JSON.stringify(value));
  } catch {
    // storage off or full: the cards just do not show it
  }
}
function remembered(kind, key) {
  try {
    return JSON.parse(localStorage.getItem(`tricklab.${kind}.${key}`));
  } catch {
    return null;
  }
}
export const minutes = (s) => (s < 60 ? `${Math.round(s)} s` : `${(s / 60).toFixed(1)} min`);

export class Lessons {
  // listRoot: where the list goes; panelRoot: where an open lesson goes. hooks: {start({id, seed,
  // tiny}) (starts the lesson in the worker, whose events then come to onEvent), ended() (it no
  // longer trains), saveRun(run) -> Promise<boolean>, showMessage(text), where(kind) (the GPU or the
  // CPU, in words; kind: the backend a lesson picked, else where runs train), shown(lesson) (a lesson opened)}
  constructor(listRoot, panelRoot, hooks) {
    this.listRoot = listRoot;
    this.panelRoot = panelRoot;
    this.hooks = hooks;
    this.catalog = [];
    // Lessons from files: the site's (each with its `url`) and those opened here (`where`: the
    // file's name); each keeps its file's text (`file`) to run.
    this.site = [];
    this.opened = [];
    this.view = null;
    this.open = null; // {lesson, seed, tiny}
    this.running = false;
  }

  setCatalog(lessons) {
    this.catalog = lessons;
    this.render();
  }

  addSite(lessons) {
    this.site = lessons;
    this.render();
  }

  addOpened(lesson) {
    this.opened = [...this.opened.filter((l) => l.where !== lesson.where), lesson];
    this.render();
  }

  // The landing view's cards: the built-in lessons, the site's (marked) and the files opened in
  // this tab, each with its question, its size, its estimated time here (once "Check this
  // computer" measured it) and the verdict of this browser's last run of it.
  render() {
    const builtIn = this.catalog.map((l) => this.card(el('a', { href: `#lesson=${l.id}`, 'data-lesson': l.id }, l.title), l));
    const site = this.site.map((l) => this.card(el('a', { href: `#lesson-url=${l.url}`, 'data-lesson-url': l.url }, l.title), l, 'this site\'s lesson'));
    const opened = this.opened.map((l) => {
      const open = el('button', { type: 'button', class: 'link', 'data-lesson-file': l.where }, l.title);
      open.addEventListener('click', () => this.showLoaded(l));
      return this.card(open, l, `from ${l.where}`);
    });
    this.listRoot.replaceChildren(el('ul', { class: 'lesson-cards' }, ...builtIn, ...site, ...opened));
  }

  card(link, lesson, from) {
    const key = lessonKey(lesson);
    const estimate = remembered('estimate', key);
    const last = remembered('verdict', key);
    const facts = [`${lesson.arms.length} runs`, `${Math.round(lesson.training_images / 1000)}k training images`];
    if (estimate) facts.push(`about ${minutes(estimate.seconds)} on this computer${estimate.tiny ? ' (tiny version)' : ''}`);
    return el('li', { class: 'lesson-card', 'data-card': key },
      el('h2', {}, link),
      el('p', { class: 'card-question' }, lesson.question),
      el('p', { class: 'card-facts' }, facts.join(' · '), from ? el('span', { class: 'source' }, ` · ${from}`) : ''),
      last ? el('p', { class: `card-verdict ${last.holds ? 'held' : 'not-held'}` },
        el('strong', {}, `Your last run here (seed ${last.seed}${last.tiny ? ', tiny' : ''}): `), last.sentence) : '');
  }

  // Whether `link` (state.js lessonLink) names the lesson open now, with its seed and size.
  isOpen(link) {
    if (!this.open || !link) return false;
    const { lesson, seed, tiny } = this.open;
    const same = link.url ? lesson.url === link.url : (lesson.id === link.id && !lesson.file);
    return same && seed === link.seed && tiny === link.tiny;
  }

  // Opens built-in lesson `id` (seed, tiny from the link); returns false for an unknown id.
  show(id, options = {}) {
    const lesson = this.catalog.find((l) => l.id === id);
    if (!lesson) return false;
    this.showLoaded(lesson, options);
    return true;
  }

  // Opens `lesson` (a built-in one, or one read from a file, which keeps its text in `file`).
  showLoaded(lesson, { seed = 1, tiny = false } = {}) {
    this.open = { lesson, seed, tiny };
    const runButton = el('button', { type: 'button', class: 'run-lesson' }, `Run this lesson (seed ${seed})`);
    runButton.addEventListener('click', () => this.run());
    this.panelRoot.replaceChildren();
    this.view = new LessonView(this.panelRoot);
    this.runButton = runButton;
    this.showLesson(lesson);
    this.panelRoot.hidden = false;
    this.hooks.shown(lesson);
  }

  // The lesson's text and panels, with the run button in its place.
  showLesson(lesson) {
    this.view.show(lesson);
    this.view.controls.append(this.runButton);
  }

  close() {
    this.open = null;
    this.view = null;
    this.panelRoot.hidden = true;
    this.panelRoot.replaceChildren();
  }

  async run() {
    if (!this.open || this.running) return;
    const { lesson, seed, tiny } = this.open;
    this.running = true;
    this.runButton.disabled = true;
    this.showLesson(lesson);
    this.view.setStatus(`Preparing the arms on ${this.hooks.where()}…`);
    this.startedAt = performance.now();
    try {
      await this.hooks.start({ id: lesson.id, file: lesson.file, seed, tiny });
    } catch (e) {
      this.ended(`The lesson could not start: ${e.message}`);
    }
  }

  // The events of this lesson's run (protocol.js).
  onEvent(ev) {
    if (!this.view) return;
    if (ev.event === 'lesson-started') {
      // The lesson as it runs (the tests' tiny version differs from the catalog's).
      this.showLesson({ ...this.open.lesson, ...ev.lesson });
      this.view.setStatus(`Running ${ev.lesson.arms.length} arms in turn on ${this.hooks.where(ev.backend)}…${ev.pick ? ` Picked: ${ev.pick}.` : ''}`);
    } else if (ev.event === 'picking') {
      this.view.setStatus('Timing a few steps of this lesson on the software GPU and on the CPU, to train on the faster…');
    } else if (ev.event === 'lesson-progress') {
      this.view.addEvents(ev.events);
      const last = ev.events[ev.events.length - 1];
      if (last) this.view.setStatus(`Running: ${this.open.lesson.arms[last.arm].name}, step ${last.step} · ${Math.round((performance.now() - this.startedAt) / 1000)} s`);
    } else if (ev.event === 'lesson-done') {
      this.finish(ev);
    } else if (ev.event === 'lesson-stopped') {
      this.ended('Stopped. The arms that had not finished are not saved.');
    } else if (ev.event === 'failed') {
      this.ended(`The lesson stopped: ${ev.message}`);
    }
  }

  async finish({ records, verdict, checkpoints }) {
    const { lesson, seed, tiny } = this.open;
    this.view.finish(records, verdict, `#class=${encodeURIComponent(lesson.id)}${tiny ? '&tiny=1' : ''}`);
    remember('verdict', lessonKey(lesson), { holds: verdict.verdict.holds, sentence: verdict.verdict.sentence, seed, tiny });
    this.render();
    this.view.showNetwork(records);
    const seconds = (performance.now() - this.startedAt) / 1000;
    let saved = 0;
    for (const [i, r] of records.entries()) {
      if (!r.result) continue;
      const ok = await this.hooks.saveRun({
        name: `${lesson.title}: ${r.name} (seed ${seed})`,
        config: r.config,
        page: { train_limit: lesson.train_images, test_limit: lesson.test_images },
        loss: r.losses.map((l, s) => [s + 1, l]),
        lrs: r.lrs,
        epochs: r.epochs.map((e) => ({ epoch: e.epoch, train_loss: e.train_loss, train_acc: e.train_acc, test_loss: e.test_loss, test_acc: e.test_acc })),
        final: { test_acc: r.result.test_acc, test_loss: r.result.test_loss },
        imagesPerSec: r.images / Math.max(r.train_seconds, 1e-6),
        seconds,
        lesson: { id: lesson.id, seed, arm: i, result: verdict.result_line },
        views: { grid: r.result.grid, confusion: r.result.confusion, batch: r.batch },
        status: 'finished',
        checkpoint: checkpoints[i],
      });
      if (ok) saved += 1;
    }
    const kept = saved > 0 ? ` ${saved} trained arms are in the run history.` : ' The arms could not be saved in this browser.';
    this.ended(null, `Finished in ${Math.round(seconds)} s.${kept}`);
  }

  ended(error, text) {
    this.running = false;
    if (this.runButton) this.runButton.disabled = false;
    this.hooks.ended();
    if (error) this.hooks.showMessage(error);
    this.view?.setStatus(text ?? error ?? '');
  }
}
