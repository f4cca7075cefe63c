// The settings controller: the form's edits and the URL hash become the page's settings, each
// validated by the Rust core with its schedule previewed; a bad value is reported beside the form
// and keeps the last good settings. The hash also picks the view (routes.js): a `#lesson=` or
// `#lesson-url=` link opens that lesson, no hash the lessons, `#playground` or settings the
// playground.

import { $ } from './dom.js';
import { reportHeight } from './embed.js';
import { viewOf } from './routes.js';
import { BadLink, Controller, fromHash, lessonLink, PAGE_DEFAULTS, stepsPerEpoch, toHash } from './state.js';

// Fields whose defaults depend on the dataset; switching dataset resets them.
const PER_DATASET = ['model', 'epochs', 'lr_decay_epochs', 'augmentation'];

// The lesson link `hash` names, or null (also for a link that names no lesson of the page).
function lessonLinkOrNull(hash, lessons) {
  try {
    return lessonLink(decodeURIComponent(hash), lessons.map((l) => l.id));
  } catch {
    return null;
  }
}

// Only the latest of overlapping calls of `fn` may finish; the others resolve to undefined.
function latestOnly(fn) {
  let seq = 0;
  return async (...args) => {
    const mine = ++seq;
    const result = await fn(...args);
    return mine === seq ? result : undefined;
  };
}

export class SettingsController extends Controller {
  constructor(page) {
    super(page);
    // The candidate validated by the Rust core, with its schedule; or the core's message.
    this.checked = latestOnly(async (candidate) => {
      const spe = stepsPerEpoch(candidate.config, candidate.page);
      try {
        const config = await this.client.send('validate', { config: candidate.config, stepsPerEpoch: spe });
        const curve = await this.client.send('curve', { config, stepsPerEpoch: spe });
        return { config, page: candidate.page, curve };
      } catch (e) {
        return { error: e.message };
      }
    });
  }

  // Validates `candidate` and previews its schedule.
  async apply(candidate) {
    const result = await this.checked(candidate);
    if (!result) return; // a newer edit is on its way
    this.state.configError = result.error ?? '';
    $('#config-error').textContent = this.state.configError;
    if (result.error) {
      $('#train').disabled = true;
      return;
    }
    this.state.settings = { config: result.config, page: result.page };
    this.state.curve = result.curve;
    $('#slow').hidden = true; // an offer made for other settings
    $('#train').disabled = !this.state.ready || this.state.running;
    const hash = toHash(result.config, result.page);
    // In the playground the URL shows the settings; every other view keeps its own link.
    if (location.hash !== hash && document.body.dataset.view === 'playground') window.history.replaceState(null, '', hash);
    this.page.charts.draw();
  }

  // Shows `config` and `page` in the form (a dataset's teachers and archive box with it) and
  // applies what the form then reads.
  show(config, pageOptions) {
    this.controls.setTeachers(this.state.runs, config.dataset);
    this.controls.write(config, pageOptions);
    $('#cifar').hidden = config.dataset !== 'cifar10';
    return this.controls.read(config, this.state.defaults[config.dataset]);
  }

  changed() {
    const { config: current } = this.state.settings;
    let { config, page: options } = this.controls.read(current, this.state.defaults[current.dataset]);
    if (config.dataset !== current.dataset && this.state.defaults[config.dataset]) {
      for (const f of PER_DATASET) config[f] = this.state.defaults[config.dataset][f];
      ({ config, page: options } = this.show(config, options));
    }
    this.apply({ config, page: options });
  }

  // Opens the lesson a `#lesson=` link names (`embed=1` shows it alone); true when the hash is one.
  openLesson() {
    let link;
    try {
      link = lessonLink(decodeURIComponent(location.hash), this.state.lessons.map((l) => l.id));
    } catch (e) {
      this.messages.show(`This link names a lesson the page does not have: ${e.message}.`);
      return false;
    }
    document.body.classList.toggle('embed', Boolean(link?.embed));
    reportHeight(Boolean(link?.embed));
    if (!link) {
      this.page.lessons.close();
      return false;
    }
    if (!this.page.lessons.isOpen(link)) {
      if (link.url) this.openLessonUrl(link);
      else this.page.lessons.show(link.id, link);
    }
    return true;
  }

  // A `#lesson-url=` link: the site's lesson file, fetched and read by the core.
  async openLessonUrl(link) {
    try {
      this.page.lessons.showLoaded(await this.page.lessonFiles.fromUrl(link.url), link);
    } catch (e) {
      this.messages.show(`This link's lesson file could not be opened: ${e.message}`);
    }
  }

  // The settings a link gives, validated; throws BadLink or the core's message.
  async fromLink() {
    const parsed = fromHash(decodeURIComponent(location.hash), this.state.defaults);
    const config = await this.client.send('validate', { config: parsed.config, stepsPerEpoch: stepsPerEpoch(parsed.config, parsed.page) });
    if (config.teacher && !this.state.runs.some((r) => r.id === config.teacher)) {
      throw new BadLink(`the teacher run "${config.teacher}" is not in this browser's run history`);
    }
    return { config, page: parsed.page };
  }

  // Restores the settings from the URL hash; a bad link gets a visible message and the defaults.
  // What the form shows is what runs: a field whose toggle is off takes its default (it had no
  // effect: a hold without cosine, a temperature without a teacher).
  async restore({ focus = false } = {}) {
    let candidate = { config: { ...this.state.defaults.mnist }, page: { ...PAGE_DEFAULTS } };
    const { routes } = this.page;
    const view = viewOf(location.hash);
    if (!routes.open(location.hash, { focus })) {
      if (view === 'lesson') routes.setView(this.openLesson() ? 'lesson' : 'lessons', { focus });
      else routes.setView(view, { focus });
      if (view === 'playground' && location.hash !== '#playground') {
        try {
          candidate = await this.fromLink();
        } catch (e) {
          this.messages.show(`This link has a setting the page cannot use: ${e.message}. The default settings are shown instead.`);
        }
      }
    }
    this.state.settings = candidate;
    await this.apply(this.show(candidate.config, candidate.page));
  }

  // The visitor followed a link (or went Back): another view, lesson or settings. While a run or
  // a lesson trains, the views still switch, but the settings and the open lesson stay.
  hashChanged() {
    const { routes } = this.page;
    const hash = location.hash;
    const view = viewOf(hash);
    const focus = { focus: true };
    if (this.state.running) {
      if (view === 'lessons' || view === 'playground') routes.setView(view, focus);
      else if (view === 'lesson' && this.page.lessons.isOpen(lessonLinkOrNull(hash, this.state.lessons))) routes.setView('lesson', focus);
      return;
    }
    if (routes.open(hash, focus)) return;
    if (view === 'lessons') routes.setView('lessons', focus);
    else if (view === 'lesson') routes.setView(this.openLesson() ? 'lesson' : 'lessons', focus);
    else if (hash === '#playground') {
      routes.setView('playground', focus);
      window.history.replaceState(null, '', toHash(this.state.settings.config, this.state.settings.page));
    } else if (hash !== toHash(this.state.settings.config, this.state.settings.page)) this.restore(focus);
    else routes.setView('playground', focus);
  }

  // The smaller run offered instead of a long one becomes the settings.
  async takeSmaller() {
    const { config, page: options } = this.state.smallerRun;
    this.controls.write(config, options);
    await this.apply(this.controls.read(config, this.state.defaults[config.dataset]));
  }
}
