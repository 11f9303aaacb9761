// codec: the texts the device reads and signs, exactly as docs/reference.md defines them; no
// key, no network, no page. Node's test runner imports this file as it is (tests/web), so it
// uses nothing but what browsers and Node share (TextEncoder, btoa, atob).

export const CMD_PREFIX = "garaged-cmd-v1";
export const ENROLL_PREFIX = "garaged-enroll-v1";
// An Ed25519 private key as PKCS#8 is these 16 bytes followed by the 32-byte seed (RFC 8410):
// how WebCrypto takes an invitation's one-time seed.
export const PKCS8_ED25519_PREFIX = Uint8Array.from([
	0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);

export const ACTIONS = ["open", "close", "stop", "toggle"];
export const STATES = ["closed", "opening", "open", "closing", "stopped", "unknown"];

const ID_RE = /^[a-z0-9_-]{1,32}$/; // device ids and door names
const KID_RE = /^[A-Za-z0-9._@-]{1,64}$/;
const B64URL_RE = /^[A-Za-z0-9_-]*$/;

export const validDevice = (s) => typeof s === "string" && ID_RE.test(s);
export const validDoor = validDevice;
export const validKid = (s) => typeof s === "string" && KID_RE.test(s);

// A topic prefix as names.c has it: levels without wildcards, spaces or empty levels.
export function validPrefix(s) {
	return (
		typeof s === "string" &&
		s.length >= 1 &&
		s.length <= 64 &&
		!/[+#\s\u0000-\u001f\u007f]/.test(s) &&
		!s.startsWith("/") &&
		!s.endsWith("/") &&
		!s.includes("//")
	);
}

export function utf8(s) {
	return new TextEncoder().encode(s);
}

function binary(bytes) {
	let s = "";
	for (const b of bytes) s += String.fromCharCode(b);
	return s;
}

// Standard base64 with padding: public keys, as authorized_keys and OpenSSH write them.
export function b64(bytes) {
	return btoa(binary(bytes));
}

// base64url without padding: nonces, signatures, the parts of an invitation URL.
export function b64url(bytes) {
	return b64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function fromB64url(text) {
	if (typeof text !== "string" || !B64URL_RE.test(text) || text.length % 4 === 1)
		throw new Error("not base64url");
	const std = text.replace(/-/g, "+").replace(/_/g, "/");
	const s = atob(std + "=".repeat((4 - (std.length % 4)) % 4));
	return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

export function fromB64(text) {
	const s = atob(text);
	return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

// The signed text of a command: seven lines joined by \n, no newline at the end.
export function commandText({ device, door, action, ts, nonce, kid }) {
	return [CMD_PREFIX, device, door, action, String(ts), nonce, kid].join("\n");
}

// The command's JSON: exactly the seven keys, numbers as numbers, nothing escaped (every
// value is of a character set that needs no escape, which the device insists on).
export function commandJSON({ door, action, ts, nonce, kid, sig }) {
	return JSON.stringify({ v: 1, door, action, ts, nonce, kid, sig });
}

// The text both signatures of an enrollment request cover (design notes, issue 15).
export function enrollText({ device, id, kid, pub, ts, nonce }) {
	return [ENROLL_PREFIX, device, id, kid, pub, String(ts), nonce].join("\n");
}

export function enrollJSON({ inv, pub, ts, nonce, proof, sig }) {
	return JSON.stringify({ v: 1, inv, pub, ts, nonce, proof, sig });
}

// The line for the device's authorized_keys.
export function keyLine(pubB64, kid) {
	return `ed25519 ${pubB64} ${kid}`;
}

export function topics(prefix, device) {
	const base = `${prefix}/${device}`;
	return {
		availability: `${base}/availability`,
		states: `${base}/+/state`,
		events: `${base}/events`,
		keys: `${base}/keys`,
		enroll: `${base}/enroll`,
		cmd: (door) => `${base}/${door}/cmd`,
		// The door of a state topic, or null.
		doorOfState(topic) {
			const rest = topic.startsWith(base + "/") ? topic.slice(base.length + 1) : "";
			const m = /^([a-z0-9_-]{1,32})\/state$/.exec(rest);
			return m ? m[1] : null;
		},
	};
}

function parseJSONPart(text, what) {
	let v;
	try {
		v = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(fromB64url(text)));
	} catch {
		throw new Error(`the ${what} in the link is damaged`);
	}
	if (v === null || typeof v !== "object" || Array.isArray(v))
		throw new Error(`the ${what} in the link is not a JSON object`);
	return v;
}

function checkConnection(c) {
	if (c.v !== 1) throw new Error("the link's connection part is of an unknown version");
	for (const k of ["user", "pass"])
		if (typeof c[k] !== "string" || c[k].length < 1 || c[k].length > 128)
			throw new Error(`the link's connection part has no ${k}`);
	if (!validPrefix(c.prefix)) throw new Error("the link's topic prefix is not one");
	if (c.device !== undefined && !validDevice(c.device))
		throw new Error("the link's device id is not one");
	if (c.kid !== undefined && !validKid(c.kid)) throw new Error("the link's key id is not one");
	if (c.mqtt !== undefined && !/^wss:\/\/[^\s]+$/.test(c.mqtt))
		throw new Error("the link's broker address is not a wss:// URL");
	const out = { user: c.user, pass: c.pass, prefix: c.prefix };
	for (const k of ["device", "kid", "mqtt"]) if (c[k] !== undefined) out[k] = c[k];
	return out;
}

function checkInvitation(inv) {
	if (inv.v !== 1) throw new Error("the invitation is of an unknown version");
	if (!validDevice(inv.device)) throw new Error("the invitation names no device");
	if (typeof inv.id !== "string" || !/^[A-Za-z0-9_-]{16,64}$/.test(inv.id))
		throw new Error("the invitation has no id");
	if (!validKid(inv.kid)) throw new Error("the invitation names no key id");
	if (!Number.isInteger(inv.expires)) throw new Error("the invitation has no expiry");
	if (typeof inv.ik !== "string" || fromB64url(inv.ik).length !== 32)
		throw new Error("the invitation has no one-time key");
	return inv;
}

// The URL fragment the web app is opened with (docs/reference.md, "The web app's invitation
// URL"): "I.S.C", "I.S" or "..C", where I is the invitation JSON, S its one-time seed and C
// the connection JSON, each base64url. Returns { invitation, invText, seed, connection }, the
// absent parts null; null for an empty fragment; throws Error with a sentence for a bad one.
export function parseFragment(fragment) {
	const f = (fragment || "").replace(/^#/, "");
	if (f === "") return null;
	const parts = f.split(".");
	if (parts.length < 2 || parts.length > 3)
		throw new Error("this link is not a garaged invitation (it should have two or three parts)");
	const [invText, seedText, connText = ""] = parts;
	if ((invText === "") !== (seedText === ""))
		throw new Error("the invitation in this link is incomplete (its secret is missing)");
	if (invText === "" && connText === "") throw new Error("this link carries nothing");
	const out = { invitation: null, invText: null, seed: null, connection: null };
	if (invText !== "") {
		out.invitation = checkInvitation(parseJSONPart(invText, "invitation"));
		out.invText = invText;
		try {
			out.seed = fromB64url(seedText);
		} catch {
			throw new Error("the invitation's secret in this link is damaged");
		}
		if (out.seed.length !== 32) throw new Error("the invitation's secret is not 32 bytes");
	}
	if (connText !== "") out.connection = checkConnection(parseJSONPart(connText, "connection"));
	if (out.invitation === null && out.connection.device === undefined)
		throw new Error("this link names no device");
	if (out.invitation && out.connection && out.connection.device !== undefined &&
	    out.connection.device !== out.invitation.device)
		throw new Error("this link's invitation and connection name different devices");
	return out;
}

// A fresh nonce: 12 random bytes (the device takes 8 to 32), base64url.
export function newNonce(cryptoImpl) {
	return b64url(cryptoImpl.getRandomValues(new Uint8Array(12)));
}
