// Offline use: `lightship web` writes offline.json (every file of the site and a version hash); the
// service worker sw.js?v=VERSION caches them, so the page and model load without a network after the
// first visit. A new site version gets a new worker and cache. Missing offline.json: online only.
//
// The page says whether that worked, as an installed app would: caching can fail (a full disk, the browser's
// storage quota, a file the server no longer has), and a user who counts on the page offline must know before
// the network goes. `show(state, text)` gets 'caching', then 'ready' or 'error' (with the service worker's
// reason when it sent one), or 'none' where the site or the browser has no offline mode.
export async function registerOffline(show) {
  if (!('serviceWorker' in navigator)) return show('none', '');
  let version;
  try {
    const response = await fetch('offline.json', { cache: 'no-store' });
    if (!response.ok) return show('none', '');
    ({ version } = await response.json());
  } catch (error) {
    return show('none', '');
  }
  let reason = 'the service worker stopped while caching the site';
  let failed = false;
  navigator.serviceWorker.addEventListener('message', (event) => {
    if (event.data?.type !== 'offline-error') return;
    reason = event.data.message;
    if (failed) show('error', `not available offline: ${reason}`);
  });
  try {
    show('caching', 'saving for offline use…');
    const registration = await navigator.serviceWorker.register(`sw.js?v=${encodeURIComponent(version)}`);
    const worker = registration.installing ?? registration.waiting;
    if (!worker) return show('ready', 'works offline');
    const settle = () => {
      if (worker.state === 'activated') show('ready', 'works offline');
      if (worker.state !== 'redundant' || failed) return;
      failed = true;
      show('error', `not available offline: ${reason}`);
    };
    worker.addEventListener('statechange', settle);
    settle();
  } catch (error) {
    show('error', `not available offline: ${error.message ?? error}`);
  }
}
