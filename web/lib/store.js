// store: what the web app keeps on the phone, in IndexedDB: its key pair (the private half a
// non-extractable CryptoKey, which IndexedDB stores as it is: structured clone), the broker
// connection, and the invitation it used. Never the door's state: that is always the
// device's latest word, from the broker.

const DB = "garaged";
const STORE = "kv";

let opened = null;

function open() {
	if (opened) return opened;
	opened = new Promise((resolve, reject) => {
		const req = indexedDB.open(DB, 1);
		req.onupgradeneeded = () => req.result.createObjectStore(STORE);
		req.onsuccess = () => resolve(req.result);
		req.onerror = () => reject(req.error);
	});
	return opened;
}

async function run(mode, fn) {
	const db = await open();
	return new Promise((resolve, reject) => {
		const tx = db.transaction(STORE, mode);
		const req = fn(tx.objectStore(STORE));
		tx.oncomplete = () => resolve(req.result);
		tx.onerror = () => reject(tx.error);
		tx.onabort = () => reject(tx.error);
	});
}

export const get = (key) => run("readonly", (s) => s.get(key));
export const put = (key, value) => run("readwrite", (s) => s.put(value, key));
export const del = (key) => run("readwrite", (s) => s.delete(key));

// Asks the browser not to evict this origin's storage: the key is in it.
export async function persist() {
	try {
		if (navigator.storage && navigator.storage.persist) return await navigator.storage.persist();
	} catch {
		/* not offered: the key stays as long as the browser keeps site data */
	}
	return false;
}
