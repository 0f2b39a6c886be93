// Service worker: precaches every file listed in offline.json under a cache named by the site version,
// then serves cache first. offline.json itself is network first, so a changed site is noticed online.
const VERSION = new URL(self.location.href).searchParams.get('v');
const CACHE = `lightship-${VERSION}`;

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const listing = await (await fetch('offline.json', { cache: 'no-store' })).json();
    const cache = await caches.open(CACHE);
    await cache.addAll(['offline.json', ...listing.files]);
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    const names = await caches.keys();
    await Promise.all(names.filter((n) => n.startsWith('lightship-') && n !== CACHE).map((n) => caches.delete(n)));
    await self.clients.claim();
  })());
});

async function networkFirst(request) {
  try {
    return await fetch(request);
  } catch (error) {
    return (await caches.match(request, { ignoreSearch: true })) ?? Promise.reject(error);
  }
}

async function cacheFirst(request) {
  return (await caches.match(request, { ignoreSearch: true })) ?? fetch(request);
}

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== self.location.origin) return;
  event.respondWith(url.pathname.endsWith('/offline.json') ? networkFirst(event.request) : cacheFirst(event.request));
});
