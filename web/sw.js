// The web app's service worker: it keeps the app's own files so that the app opens from the
// home screen even when the server cannot be reached, and never anything else. The door's
// state, the events and the broker connection never pass through it (the WebSocket is not a
// fetch), so a stale state can never be shown as the current one.
//
// Network first: each file comes from the server when it answers (an upgrade reaches the
// phone at once), from the cache only when it does not.

const CACHE = "garaged-web-v1";
const SHELL = [
	"./",
	"./index.html",
	"./app.js",
	"./style.css",
	"./manifest.webmanifest",
	"./icon.svg",
	"./icon-192.png",
	"./icon-512.png",
	"./apple-touch-icon.png",
	"./lib/codec.js",
	"./lib/keys.js",
	"./lib/store.js",
	"./lib/words.js",
	"./vendor/mqtt.min.js",
];
const shellUrls = new Set(SHELL.map((p) => new URL(p, self.registration.scope).href));

self.addEventListener("install", (event) => {
	event.waitUntil(
		caches
			.open(CACHE)
			.then((c) => c.addAll(SHELL))
			.then(() => self.skipWaiting()),
	);
});

self.addEventListener("activate", (event) => {
	event.waitUntil(
		caches
			.keys()
			.then((names) => Promise.all(names.filter((n) => n !== CACHE).map((n) => caches.delete(n))))
			.then(() => self.clients.claim()),
	);
});

self.addEventListener("fetch", (event) => {
	const req = event.request;
	if (req.method !== "GET") return;
	const url = new URL(req.url);
	url.search = "";
	url.hash = "";
	if (!shellUrls.has(url.href)) return;
	event.respondWith(
		fetch(req)
			.then((res) => {
				if (res.ok) {
					const copy = res.clone();
					caches.open(CACHE).then((c) => c.put(url.href, copy));
				}
				return res;
			})
			.catch(() => caches.match(url.href).then((hit) => hit || Response.error())),
	);
});
