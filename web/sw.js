// Service worker: caches the page, the module and the models at install so the page works
// offline once loaded. Cache-first for the build's own files; nothing else is cached and
// no request is made that the page did not make.
/* global BINGLI_BUILD */
'use strict';
importScripts('build.js');
const CACHE = `bingli-${BINGLI_BUILD.id}`;

self.addEventListener('install', (ev) => {
  ev.waitUntil(caches.open(CACHE).then((c) => c.addAll(BINGLI_BUILD.assets)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (ev) => {
  ev.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k.startsWith('bingli-') && k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener('fetch', (ev) => {
  const req = ev.request;
  if (req.method !== 'GET' || new URL(req.url).origin !== self.location.origin) return;
  ev.respondWith(caches.open(CACHE).then(async (c) => {
    const hit = await c.match(req, { ignoreSearch: true });
    if (hit) return hit;
    return fetch(req);
  }));
});
