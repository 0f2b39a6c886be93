// Service worker: precaches the files listed in offline.json under a cache named by the site version,
// then serves cache first. offline.json itself is network first, so a changed site is noticed online.
// onnxruntime-web's WebGPU build (ort/*.jsep.*, 28 MB) is not precached: only pages that run on WebGPU
// load it, and it is cached on that first use.
const VERSION = new URL(self.location.href).searchParams.get('v');
const CACHE = `lightship-${VERSION}`;
const LAZY = /\.jsep\./;

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const listing = await (await fetch('offline.json', { cache: 'no-store' })).json();
    const cache = await caches.open(CACHE);
    await cache.addAll(['offline.json', ...listing.files.filter((file) => !LAZY.test(file))]);
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
  const cached = await caches.match(request, { ignoreSearch: true });
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok && LAZY.test(new URL(request.url).pathname)) {
    await (await caches.open(CACHE)).put(request, response.clone());
  }
  return response;
}

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== self.location.origin) return;
  event.respondWith(url.pathname.endsWith('/offline.json') ? networkFirst(event.request) : cacheFirst(event.request));
});
