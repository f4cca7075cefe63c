// Offline use: registers the service worker (sw.js), which keeps the site in this browser, and
// says which version of the site serves the page, and when a new one replaced the cached copy.
// The worker also makes the page cross-origin isolated (shared memory for training on every core)
// from the load after it took over; isolation() says whether this load is, and if not, why.

import { $ } from './dom.js';

// What became of the service worker in this load: 'starting' until register() settles, then
// 'registered', 'blocked' (with `error`), 'bypassed' (active, but this load came without it),
// 'installed' (it took over this page, which had none) or 'updated' (a new version took over).
const worker = { state: 'starting', error: '' };
document.body.dataset.isolated = String(self.crossOriginIsolated === true);

// Why this load is not cross-origin isolated, in plain words.
function notIsolatedBecause() {
  if (self.crossOriginIsolated === undefined) return 'this browser cannot isolate a page (it has no cross-origin isolation)';
  if (!('serviceWorker' in navigator)) {
    return self.isSecureContext ? 'this browser has no service worker' : 'the site is not served over HTTPS, so it has no service worker';
  }
  if (worker.state === 'blocked') return `the service worker is blocked here${worker.error ? ` (${worker.error})` : ''}`;
  if (worker.state === 'installed') return "the site's service worker was just installed: reload the page to use every core";
  if (worker.state === 'updated') return "a new version of the site's service worker was just installed: reload the page to use every core";
  if (worker.state === 'bypassed') return "this load bypassed the site's service worker (a forced reload?): reload the page to use every core";
  if (!navigator.serviceWorker.controller) {
    return "the site's service worker does not serve this page yet (it installs on the first visit): reload the page to use every core";
  }
  if (self !== self.top) {
    return 'this page is embedded in another page that is not cross-origin isolated, or does not allow it (allow="cross-origin-isolated")';
  }
  return "an older version of the site's service worker served this load: reload the page to use every core";
}

// Whether this load is cross-origin isolated (SharedArrayBuffer and Atomics.wait in workers, so
// training can use every core), and why not when it is not.
export function isolation() {
  if (self.crossOriginIsolated === true) return { isolated: true, reason: 'the page is cross-origin isolated: training can use every core' };
  return { isolated: false, reason: notIsolatedBecause() };
}

// Asks the service worker that serves the page which build it holds.
function workerVersion(sw) {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = ({ data }) => resolve(data);
    sw.postMessage('version', [channel.port2]);
    setTimeout(() => resolve(null), 2000);
  });
}

// Registers sw.js, which keeps the site for offline use, and says when a new version of the site
// replaced the cached one (its worker takes over at once; this page still runs the old code).
export async function keepOffline(messages) {
  const note = $('#site-note');
  if (!('serviceWorker' in navigator)) return;
  const hadWorker = Boolean(navigator.serviceWorker.controller);
  navigator.serviceWorker.addEventListener('controllerchange', async () => {
    worker.state = hadWorker ? 'updated' : 'installed';
    const version = await workerVersion(navigator.serviceWorker.controller);
    if (hadWorker) {
      messages.show(`A new version of this site (${version}) was installed and replaced the copy kept for offline use. `
        + 'Reload the page to use it; your runs are kept.', 'notice');
      note.textContent = `Updated to version ${version}: reload to use it.`;
    } else {
      note.textContent = `This site is now kept in this browser and works offline (version ${version}).`;
    }
    document.body.dataset.swVersion = version;
  });
  try {
    // A browser, or an extension, that blocks service workers may resolve with no registration.
    const registration = await navigator.serviceWorker.register('sw.js');
    const bypassed = registration?.active && !navigator.serviceWorker.controller;
    if (worker.state === 'starting') worker.state = !registration ? 'blocked' : bypassed ? 'bypassed' : 'registered';
  } catch (e) {
    Object.assign(worker, { state: 'blocked', error: e.message });
    note.textContent = `This site cannot be kept for offline use here (${e.message}).`;
    return;
  }
  if (hadWorker) {
    const version = await workerVersion(navigator.serviceWorker.controller);
    note.textContent = `Works offline: this site is kept in this browser (version ${version}).`;
    document.body.dataset.swVersion ??= version;
  }
}
