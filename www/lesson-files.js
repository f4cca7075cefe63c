// Lesson files on the page. A lesson is a JSON file (README.md, "Writing a lesson") that opens
// three ways: from the site's folder by a link (`#lesson-url=lessons/my-lesson.json`, a relative
// URL on this site only), dropped on the page, or chosen with the file picker. The site's own
// lessons, listed in `lessons/index.json` beside the page, join the built-in ones in the list.
// The core reads and validates each file (its errors name the field at fault) and runs it as it
// runs a built-in lesson. "Make a lesson of these" turns a baseline run and one run compared with
// it into a lesson file.

import { $ } from './dom.js';
import { download } from './export.js';
import { Controller, siteLessonUrl } from './state.js';

// The largest lesson file the core reads (lessons::file::MAX_FILE_BYTES): a bigger one is refused
// before it is read.
const MAX_FILE_BYTES = 1 << 20;

// A history run as the core's draft takes it.
const draftRun = (run) => ({ name: run.name, config: run.config, train_limit: run.page?.train_limit ?? 0, test_limit: run.page?.test_limit ?? 0 });

export class LessonFiles extends Controller {
  // The lesson in `text` (read and validated by the core), with its text and where it came from;
  // throws an Error that starts with `where`.
  async read(text, where) {
    try {
      const lesson = await this.client.send('parseLesson', { text });
      return { ...lesson, file: text, where };
    } catch (e) {
      throw new Error(`${where}: ${e.message}`);
    }
  }

  // The lesson file at `path` on this site.
  async fromUrl(path) {
    const url = siteLessonUrl(path, location.href);
    let response;
    try {
      response = await fetch(url, { cache: 'no-cache' });
    } catch (e) {
      throw new Error(`${path} could not be fetched from this site (${e.message})`);
    }
    if (!response.ok) throw new Error(`${path} could not be fetched from this site (HTTP ${response.status} ${response.statusText})`);
    return { ...await this.read(await response.text(), path), url: path };
  }

  async fromFile(file) {
    if (file.size > MAX_FILE_BYTES) throw new Error(`${file.name}: is ${file.size} bytes; a lesson file is at most ${MAX_FILE_BYTES} (1 MiB)`);
    return this.read(await file.text(), file.name);
  }

  // The site's lessons (lessons/index.json: {"lessons": ["my-lesson.json", …]}, paths relative to
  // its folder); none when the site has no index. A file that cannot be read is said, not listed.
  async loadSite() {
    let index;
    try {
      const response = await fetch('lessons/index.json', { cache: 'no-cache' });
      if (response.status === 404) return;
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      index = await response.json();
    } catch (e) {
      this.messages.show(`This site's list of lessons (lessons/index.json) could not be read: ${e.message}.`);
      return;
    }
    const paths = Array.isArray(index?.lessons) ? index.lessons : null;
    if (!paths || !paths.every((p) => typeof p === 'string')) {
      this.messages.show('This site\'s list of lessons (lessons/index.json) must be {"lessons": ["my-lesson.json", …]}.');
      return;
    }
    const found = await Promise.all(paths.map((p) => this.fromUrl(`lessons/${p}`).catch((e) => {
      this.messages.show(`A lesson of this site could not be opened: ${e.message}`);
      return null;
    })));
    this.page.lessons.addSite(found.filter(Boolean));
  }

  // A file dropped or picked: opened as a lesson at once.
  async open(file) {
    try {
      const lesson = await this.fromFile(file);
      this.page.lessons.addOpened(lesson);
      this.page.lessons.showLoaded(lesson);
      $('#lessons').scrollIntoView();
    } catch (e) {
      this.messages.show(`This lesson file could not be opened: ${e.message}`);
    }
  }

  wire() {
    $('#lesson-file').addEventListener('change', (e) => {
      if (e.target.files[0]) this.open(e.target.files[0]);
      e.target.value = '';
    });
    $('#make-lesson').addEventListener('click', () => this.makeFromHistory());
    $('#made-lesson .download').addEventListener('click', () => {
      const file = this.draftFile();
      download(file.name, $('#made-lesson textarea').value, 'application/json');
    });
    $('#made-lesson .open').addEventListener('click', () => this.open(this.draftFile()));
  }

  // "Make a lesson of these": the baseline run and the one run compared with it become a lesson
  // file, shown with a download and a button that opens it as a lesson.
  async makeFromHistory() {
    const baseline = this.state.baselineRun();
    const others = this.state.runs.filter((r) => this.state.selected.has(r.id) && r !== baseline);
    if (!baseline || others.length !== 1) {
      this.showDraft(null, 'Pick a finished run as the baseline (its "Baseline" circle) and tick "Compare" on exactly one other run, then press "Make a lesson of these" again.');
      return;
    }
    this.showDraft(null, `Making a lesson of ${baseline.name} against ${others[0].name}…`);
    try {
      const text = await this.client.send('draftLesson', { baseline: draftRun(baseline), other: draftRun(others[0]) });
      this.showDraft(text, `A lesson of ${baseline.name} (the baseline arm) against ${others[0].name}. Its question is a draft; write what to look for and the paper's result, then host it beside the site or open it here.`);
    } catch (e) {
      this.showDraft(null, `These two runs cannot become a lesson: ${e.message}`);
    }
  }

  showDraft(text, said) {
    const out = $('#made-lesson');
    out.hidden = false;
    out.querySelector('.said').textContent = said;
    const file = out.querySelector('textarea');
    file.hidden = !text;
    file.value = text ?? '';
    for (const b of out.querySelectorAll('button')) b.hidden = !text;
  }

  // The drafted file: downloaded, or opened as a lesson.
  draftFile() {
    const text = $('#made-lesson textarea').value;
    return new File([text], `${JSON.parse(text).id}.json`, { type: 'application/json' });
  }
}
