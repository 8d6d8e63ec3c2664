// The service worker: precache the app shell per version, serve it offline, never force an
// update. A new version installs, then waits until the page asks (no skipWaiting on its own:
// reloading under a half-typed form or a running push loses work — research note §3.6).
// The outbox lives in IndexedDB, which no cache change touches.
// The server (server/pwa_shell.py) replaces 'dev' with a hash of this file and of every SHELL
// file, so any change to the shell is a new version: never edit it by hand.
const VERSION = 'dev';
const CACHE = `wangge-shell-${VERSION}`;
const SHELL = [
  './', 'index.html', 'app.css', 'manifest.webmanifest',
  'icons/icon-192.png', 'icons/icon-512.png', 'icons/maskable-192.png', 'icons/maskable-512.png',
  'js/app.js', 'js/api.js', 'js/data.js', 'js/db.js', 'js/geo.js', 'js/i18n.js', 'js/map.js',
  'js/map-draw.js', 'js/map-layers.js', 'js/map-pick.js', 'js/map-tiles.js', 'js/map-view.js',
  'js/outbox.js', 'js/photo.js', 'js/session.js', 'js/storage.js', 'js/sync-client.js', 'js/ui.js',
  'js/upload.js', 'js/uuid.js', 'js/browser-check.js', 'js/browser-notice.js', 'js/limits.js', 'js/checks.js', 'js/places.js', 'js/gcj02.js',
  'js/screens/case-detail.js', 'js/screens/cases.js', 'js/screens/home.js', 'js/screens/login.js',
  'js/screens/report.js', 'js/screens/settings.js', 'js/screens/sync.js', 'js/screens/visit-form.js',
  'js/screens/visits.js', 'js/screens/campaigns.js', 'js/forms/conditions.js', 'js/forms/render.js', 'js/forms/readable.js', 'js/forms/forms.css',
];

self.addEventListener('install', (event) => {
  // cache: 'reload' skips the HTTP cache, so a version never precaches an older file.
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL.map((url) => new Request(url, { cache: 'reload' })))));
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith('wangge-shell-') && name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim(); // first install: control the open page without a reload
  })());
});

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== location.origin || !url.pathname.startsWith('/app/')) return;
  // The API is never cached here: the app's own IndexedDB is its offline copy.
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    const hit = event.request.mode === 'navigate'
      ? await cache.match('index.html')
      : await cache.match(event.request, { ignoreSearch: true });
    return hit || fetch(event.request);
  })());
});

self.addEventListener('message', (event) => {
  if (event.data && event.data.type === 'SKIP_WAITING') self.skipWaiting(); // the user said "reload"
});

// Background Sync (Chromium only): wake the open app to sync. The app also syncs on open,
// `online`, visibility and a timer, so browsers without it lose nothing.
self.addEventListener('sync', (event) => {
  if (event.tag !== 'wangge-sync') return;
  event.waitUntil((async () => {
    const pages = await self.clients.matchAll({ type: 'window' });
    for (const page of pages) page.postMessage({ type: 'sync' });
  })());
});
