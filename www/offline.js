// Offline use: registers the service worker (sw.js), which keeps the site in this browser, and
// says which version of the site serves the page, and when a new one replaced the cached copy.

import { $ } from './dom.js';

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
    await navigator.serviceWorker.register('sw.js');
  } catch (e) {
    note.textContent = `This site cannot be kept for offline use here (${e.message}).`;
    return;
  }
  if (hadWorker) {
    const version = await workerVersion(navigator.serviceWorker.controller);
    note.textContent = `Works offline: this site is kept in this browser (version ${version}).`;
    document.body.dataset.swVersion ??= version;
  }
}
