// Offline use: `lightship web` writes offline.json (every file of the site and a version hash); the
// service worker sw.js?v=VERSION caches them all, so the page and model load without a network after the
// first visit. A new site version gets a new worker and cache. Missing offline.json: online only.
export async function registerOffline() {
  if (!('serviceWorker' in navigator)) return;
  try {
    const response = await fetch('offline.json', { cache: 'no-store' });
    if (!response.ok) return;
    const { version } = await response.json();
    await navigator.serviceWorker.register(`sw.js?v=${encodeURIComponent(version)}`);
  } catch (error) {
    console.warn('offline mode unavailable:', error);
  }
}
