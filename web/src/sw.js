// Service worker: precaches the files listed in offline.json under a cache named by the site version,
// then serves cache first. offline.json itself is network first, so a changed site is noticed online.
// Not precached, but cached on first use (lazy): what only pages that run on WebGPU load, onnxruntime-web's
// WebGPU build (ort/*.jsep.*, 28 MB) and the WebGPU models (offline.json's `on_use`, which `lightship web`
// lists: 12 MB for airbench, 67 MB for a ResNet-18), and the LiteRT.js builds (litert/, 9 MB each) other than
// the one this browser loads by default: the relaxed-SIMD build where WebAssembly has relaxed SIMD, else the
// compat one (the threaded build is loaded only with ?threads=N on a cross-origin isolated page).
const VERSION = new URL(self.location.href).searchParams.get('v');
const CACHE = `lightship-${VERSION}`;
/** A module using a relaxed SIMD instruction, as @litertjs/core's feature check (WASM_RELAXED_SIMD_CHECK). */
const RELAXED_SIMD = WebAssembly.validate(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3,
  2, 1, 0, 10, 15, 1, 13, 0, 65, 1, 253, 15, 65, 2, 253, 15, 253, 128, 2, 11]));
const LITERT_BUILD = RELAXED_SIMD ? 'litert_wasm_internal.' : 'litert_wasm_compat_internal.';

/** Whether the site file `path` (as offline.json lists it) waits for its first use instead of the install. */
function lazy(path, listing) {
  const name = path.split('/').pop();
  return name.includes('.jsep.') || (name.startsWith('litert_wasm_') && !name.startsWith(LITERT_BUILD))
    || (listing.on_use ?? []).includes(path);
}

/** offline.json as this worker cached it at install (a worker may be restarted at any time: no globals). */
async function cachedListing() {
  const response = await (await caches.open(CACHE)).match('offline.json');
  return response ? response.json() : { files: [] };
}

/** Tell the pages why caching failed (offline.js shows it): the install's own rejection carries no reason. */
async function reportFailure(error) {
  const message = error?.message ?? String(error);
  for (const client of await self.clients.matchAll({ includeUncontrolled: true, type: 'window' })) {
    client.postMessage({ type: 'offline-error', message });
  }
}

/** Fetch `file` and store it in `cache`; the error names the file and the step that failed. */
async function store(cache, file) {
  let response;
  try {
    response = await fetch(file, { cache: 'no-store' });
  } catch (error) {
    throw new Error(`could not download ${file}: ${error.message ?? error}`);
  }
  if (!response.ok) throw new Error(`could not download ${file}: HTTP ${response.status}`);
  try {
    await cache.put(file, response);
  } catch (error) {
    // Chromium says QuotaExceededError, or "Unexpected internal error" when the disk itself is full.
    throw new Error(`could not store ${file} (disk full or storage quota reached): ${error.message ?? error}`);
  }
}

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    try {
      const listing = await (await fetch('offline.json', { cache: 'no-store' })).json();
      const cache = await caches.open(CACHE);
      // One by one rather than cache.addAll, whose error does not say which file failed.
      const precached = listing.files.filter((file) => !lazy(file, listing));
      await Promise.all(['offline.json', ...precached].map((file) => store(cache, file)));
    } catch (error) {
      await caches.delete(CACHE); // no half-filled cache left behind
      await reportFailure(error);
      throw error;
    }
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
  const scope = new URL(self.registration.scope).pathname;
  const path = new URL(request.url).pathname;
  // A listed file that is not in the cache yet is a lazy one (the install stored all the others).
  if (response.ok && path.startsWith(scope) && (await cachedListing()).files.includes(path.slice(scope.length))) {
    await (await caches.open(CACHE)).put(request, response.clone());
  }
  return response;
}

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== self.location.origin) return;
  event.respondWith(url.pathname.endsWith('/offline.json') ? networkFirst(event.request) : cacheFirst(event.request));
});
