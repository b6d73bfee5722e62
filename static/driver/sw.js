// The driver app's service worker (scope /driver/), served by dispatch/execution/views.py with
// `globalThis.WAYPOINT_SW = {version, shell, todayUrl}` in front of this file.
//
// The shell (page, scripts, styles, icons) is cached on install; the page and today's route are
// network-first with the cached copy as the fallback, the static files cache-first. Background
// Sync wakes the worker when the connection returns: it asks an open app to sync, or syncs the
// queue itself when no app window is open.
import { flush, getSession, sendPositions, SYNC_TAG } from "./queue.js";

const { version, shell, todayUrl } = globalThis.WAYPOINT_SW;
const CACHE = `waypoint-driver-${version}`;
const pageUrl = shell[0];

globalThis.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE).then((cache) => cache.addAll(shell)).then(() => globalThis.skipWaiting()),
  );
});

globalThis.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) {
      if (key.startsWith("waypoint-driver-") && key !== CACHE) await caches.delete(key);
    }
    await globalThis.clients.claim();
  })());
});

async function networkFirst(request, cacheKey) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(cacheKey, response.clone());
    return response;
  } catch (error) {
    const cached = await cache.match(cacheKey);
    if (!cached) throw error;
    // Marked, so the app can say it shows the copy saved on the phone.
    const headers = new Headers(cached.headers);
    headers.set("X-Waypoint-Offline-Copy", "1");
    return new Response(cached.body, { status: cached.status, statusText: cached.statusText, headers });
  }
}

async function cacheFirst(request) {
  const cached = await caches.match(request);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) (await caches.open(CACHE)).put(request, response.clone());
  return response;
}

globalThis.addEventListener("fetch", (event) => {
  const { request } = event;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== globalThis.location.origin) return;
  if (request.mode === "navigate" && url.pathname === pageUrl) {
    event.respondWith(networkFirst(request, pageUrl));
  } else if (url.pathname === todayUrl) {
    event.respondWith(networkFirst(request, todayUrl));
  } else if (shell.includes(url.pathname) || url.pathname.startsWith("/static/")) {
    event.respondWith(cacheFirst(request));
  }
});

globalThis.addEventListener("sync", (event) => {
  if (event.tag !== SYNC_TAG) return;
  event.waitUntil((async () => {
    const windows = await globalThis.clients.matchAll({ type: "window" });
    if (windows.length) {
      for (const client of windows) client.postMessage({ type: "sync" });
      return;
    }
    const session = await getSession();
    if (!session) return;
    await flush(session);
    await sendPositions(session);
  })());
});
