// The garaged web app: one card per door of one device, from the device's retained state;
// commands signed on this phone with its own Ed25519 key; each command's outcome as the
// device reports it on its events topic, matched by nonce; enrollment by invitation. The
// broker (through nginx, wss://HOST/mqtt) is only a messenger: it sees signed commands,
// which it can neither make nor change.
//
// Hooks the tests (and anyone scripting the page) rely on: [data-door="N"] holds
// [data-state] (the state word), button[data-action="open|close|stop"] and [data-result]
// (the last command's result word: accepted, the device's reason word, or ours: sent,
// no_answer, not_sent); [data-enrollment] holds enrolled or the device's reason word;
// [data-broker] connecting|connected|unreachable; [data-availability] online|offline|unknown;
// [data-keyline] this phone's authorized_keys line.

import * as codec from "./lib/codec.js";
import * as keys from "./lib/keys.js";
import * as store from "./lib/store.js";
import { reasonWords, stateWords, targetOf } from "./lib/words.js";

const subtle = crypto.subtle;
const ANSWER_MS = 10000; // the device answers a command within this, or it is no_answer
const ENROLL_MS = 20000;
const ARRIVE_MS = 180000; // the longest a door's travel is followed (travel_time_s is at most 600)

const $ = (sel, el = document) => el.querySelector(sel);

const app = {
	settings: null, // { user, pass, prefix, device, mqtt? }
	key: null, // { kid, privateKey, publicKey, pub }
	client: null,
	topics: null,
	broker: "connecting",
	doors: new Map(), // name -> { el, state, follow }
	pending: new Map(), // nonce -> { door, action, from, timer }
	invite: null, // { invitation, invText, seed, sent, timer }
};

function setText(el, text) {
	if (el && el.textContent !== text) el.textContent = text;
}

function showBanner(text) {
	const b = $("[data-banner]");
	setText(b, text || "");
	b.hidden = !text;
}

function setupError(text) {
	const e = $("[data-setup-error]");
	setText(e, text || "");
	e.hidden = !text;
	if (text) $("[data-setup]").open = true;
}

// ---- the key ----------------------------------------------------------------------------

function randomKid() {
	const b = crypto.getRandomValues(new Uint8Array(3));
	return "phone-" + Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

async function loadKey() {
	let k = await store.get("key");
	if (!k || !k.privateKey || !k.publicKey) {
		const pair = await keys.generateKey(subtle);
		k = { kid: randomKid(), privateKey: pair.privateKey, publicKey: pair.publicKey };
		k.pub = await keys.publicKeyB64(subtle, pair.publicKey);
		await store.put("key", k);
		store.persist();
	}
	app.key = k;
	showKey();
}

async function setKid(kid) {
	if (!codec.validKid(kid) || kid === app.key.kid) return;
	app.key.kid = kid;
	await store.put("key", app.key);
	showKey();
}

function showKey() {
	setText($("[data-keyline]"), codec.keyLine(app.key.pub, app.key.kid));
	$("#s-kid").value = app.key.kid;
}

// ---- doors ------------------------------------------------------------------------------

function doorCard(name) {
	let d = app.doors.get(name);
	if (d) return d;
	const el = $("#door-card").content.firstElementChild.cloneNode(true);
	el.dataset.door = name;
	setText($(".door-name", el), `Door ${name}`);
	const title = `door-${name}-title`;
	$(".door-title", el).id = title;
	el.setAttribute("aria-labelledby", title);
	$(".actions", el).setAttribute("aria-label", `Door ${name}`);
	for (const b of el.querySelectorAll("button[data-action]")) {
		b.setAttribute("aria-label", `${b.textContent} door ${name}`);
		b.addEventListener("click", () => send(name, b.dataset.action));
	}
	d = { el, state: "unknown", follow: null };
	app.doors.set(name, d);
	// Cards in name order, whatever order the retained states came in.
	const list = $("#doors");
	const after = [...app.doors.keys()].sort().filter((n) => n > name)[0];
	list.insertBefore(el, after ? app.doors.get(after).el : null);
	$("[data-no-doors]").hidden = true;
	enableButtons();
	return d;
}

function removeDoor(name) {
	const d = app.doors.get(name);
	if (!d) return;
	d.el.remove();
	app.doors.delete(name);
	$("[data-no-doors]").hidden = app.doors.size > 0;
}

function setState(name, state) {
	if (!codec.STATES.includes(state)) state = "unknown";
	const d = doorCard(name);
	d.state = state;
	setText($("[data-state]", d.el), state);
	setText($(".state-words", d.el), stateWords(state));
	$(".door-pic", d.el).dataset.pic = state;
	followProgress(d);
}

function setResult(name, word, words, cls) {
	const d = doorCard(name);
	setText($("[data-result]", d.el), word);
	const w = $(".result-words", d.el);
	setText(w, words);
	w.className = "result-words " + (cls || "");
}

// After an accepted command: the door's way to where the command leads, until it gets there.
function followProgress(d) {
	const f = d.follow;
	const bar = $("progress.move", d.el);
	const line = $("[data-progress]", d.el);
	if (!f) {
		bar.hidden = true;
		return;
	}
	if (d.state === f.target) {
		setText(line, `Arrived: ${stateWords(d.state).toLowerCase()}.`);
		bar.hidden = true;
		clearTimeout(f.timer);
		d.follow = null;
	} else if (d.state === "opening" || d.state === "closing") {
		setText(line, `${stateWords(d.state)}…`);
		bar.hidden = false;
	} else if (f.moved) {
		// It moved and stopped elsewhere (stopped, reversed, or a sensor lost it).
		setText(line, `The door stopped: ${stateWords(d.state).toLowerCase()}, not ${f.target}.`);
		bar.hidden = true;
		clearTimeout(f.timer);
		d.follow = null;
	}
	if (d.follow && (d.state === "opening" || d.state === "closing")) d.follow.moved = true;
}

function follow(name, action, from, presses) {
	const d = doorCard(name);
	clearTimeout(d.follow && d.follow.timer);
	d.follow = null;
	const target = targetOf(action, from);
	if (!target || presses === 0 || d.state === target) {
		setText($("[data-progress]", d.el), presses === 0 ? "Nothing to move: the door is already there." : "");
		$("progress.move", d.el).hidden = true;
		return;
	}
	d.follow = {
		target,
		moved: false,
		timer: setTimeout(() => {
			setText($("[data-progress]", d.el), `The door has not arrived (${d.state}).`);
			$("progress.move", d.el).hidden = true;
			d.follow = null;
		}, ARRIVE_MS),
	};
	setText($("[data-progress]", d.el), "Waiting for the door to move…");
	$("progress.move", d.el).hidden = false;
	followProgress(d);
}

function enableButtons() {
	const off = app.broker !== "connected";
	for (const b of document.querySelectorAll("button[data-action]")) b.disabled = off;
}

// ---- commands ---------------------------------------------------------------------------

async function send(door, action) {
	if (app.broker !== "connected" || !app.client) {
		setResult(door, "not_sent", reasonWords("not_sent"), "bad");
		return;
	}
	const d = doorCard(door);
	const ts = Math.floor(Date.now() / 1000);
	const nonce = codec.newNonce(crypto);
	const fields = { device: app.settings.device, door, action, ts, nonce, kid: app.key.kid };
	const { json } = await keys.signCommand(subtle, app.key.privateKey, fields);
	const p = { door, action, from: d.state, timer: null };
	p.timer = setTimeout(() => {
		app.pending.delete(nonce);
		setResult(door, "no_answer", reasonWords("no_answer"), "bad");
	}, ANSWER_MS);
	app.pending.set(nonce, p);
	setResult(door, "sent", `${action}: sent, waiting for the device…`, "muted");
	app.client.publish(app.topics.cmd(door), json, { qos: 1, retain: false }, (err) => {
		if (!err) return;
		clearTimeout(p.timer);
		app.pending.delete(nonce);
		setResult(door, "not_sent", reasonWords("not_sent"), "bad");
	});
}

function onCommandEvent(ev) {
	const p = typeof ev.nonce === "string" ? app.pending.get(ev.nonce) : null;
	if (!p) return;
	clearTimeout(p.timer);
	app.pending.delete(ev.nonce);
	if (ev.result === "accepted") {
		setResult(p.door, "accepted", `${p.action}: ${reasonWords("accepted")}`, "ok");
		follow(p.door, p.action, p.from, typeof ev.presses === "number" ? ev.presses : 1);
	} else {
		const word = typeof ev.reason === "string" && /^[a-z_]{1,32}$/.test(ev.reason) ? ev.reason : "rejected";
		setResult(p.door, word, `${p.action}: ${reasonWords(word)}`, "bad");
	}
}

// ---- enrollment -------------------------------------------------------------------------

function setEnrollment(word, words, waiting) {
	$("[data-enrollment-box]").hidden = false;
	setText($("[data-enrollment]"), word);
	setText($(".enroll-words"), words);
	$(".enroll-progress").hidden = !waiting;
}

async function sendEnrollment() {
	const inv = app.invite;
	if (!inv || inv.sent || app.broker !== "connected") return;
	const done = await store.get("enrolled");
	if (done && done.id === inv.invitation.id) {
		setEnrollment("enrolled", reasonWords("enrolled"), false);
		return;
	}
	if (!(await keys.seedMatches(subtle, inv.seed, inv.invitation.ik))) {
		setEnrollment("bad_link", "This link is damaged: its secret does not belong to its invitation. Ask for a new one.", false);
		return;
	}
	inv.sent = true;
	const ts = Math.floor(Date.now() / 1000);
	const nonce = codec.newNonce(crypto);
	const { json } = await keys.signEnrollment(subtle, {
		privateKey: app.key.privateKey,
		seed: inv.seed,
		invText: inv.invText,
		invitation: inv.invitation,
		pub: app.key.pub,
		ts,
		nonce,
	});
	setEnrollment("waiting", "Sent this phone's key to the device; waiting for its answer…", true);
	inv.timer = setTimeout(() => {
		inv.sent = false; // a later reconnect may try again: the device refuses a used invitation
		setEnrollment("no_answer", "The device did not answer the enrollment. It may not take invitations yet: ask the owner to add this phone's key (below).", false);
	}, ENROLL_MS);
	app.client.publish(app.topics.enroll, json, { qos: 1, retain: false });
}

async function onEnrollEvent(ev) {
	const inv = app.invite;
	if (!inv || ev.invitation !== inv.invitation.id) return;
	clearTimeout(inv.timer);
	if (ev.result === "accepted") {
		await store.put("enrolled", { id: inv.invitation.id, kid: inv.invitation.kid });
		setEnrollment("enrolled", reasonWords("enrolled"), false);
	} else {
		const word = typeof ev.reason === "string" && /^[a-z_]{1,32}$/.test(ev.reason) ? ev.reason : "rejected";
		setEnrollment(word, reasonWords(word), false);
	}
	app.invite = null;
}

// ---- the broker -------------------------------------------------------------------------

function setBroker(state, words) {
	app.broker = state;
	const pill = $("[data-broker]");
	pill.dataset.broker = state;
	setText(pill, state);
	setText($(".broker-words"), words || "");
	showBanner(state === "unreachable" ? `The broker is unreachable: the doors' state below may be out of date. Trying again… ${words || ""}` : "");
	enableButtons();
}

function setAvailability(word) {
	const a = ["online", "offline"].includes(word) ? word : "unknown";
	const pill = $("[data-availability]");
	pill.dataset.availability = a;
	setText(pill, a);
}

function onMessage(topic, payload) {
	const t = app.topics;
	const text = new TextDecoder().decode(payload);
	if (topic === t.availability) return setAvailability(text);
	const door = t.doorOfState(topic);
	if (door) return text === "" ? removeDoor(door) : setState(door, text);
	if (topic === t.keys) return onKeys(text);
	if (topic !== t.events) return;
	let ev;
	try {
		ev = JSON.parse(text);
	} catch {
		return;
	}
	if (!ev || typeof ev !== "object") return;
	if (ev.type === "command") onCommandEvent(ev);
	else if (ev.type === "enroll") onEnrollEvent(ev);
}

// The device's key list (retained): whether it holds this phone's key, and under which name.
function onKeys(text) {
	let list;
	try {
		list = JSON.parse(text).keys;
	} catch {
		return;
	}
	if (!Array.isArray(list)) return;
	const mine = list.find((k) => k && k.pub === app.key.pub);
	const el = $("[data-key-known]");
	el.dataset.keyKnown = mine ? "yes" : "no";
	setText(el, mine ? `The device knows this key as ${mine.kid}.` : "The device does not know this key yet.");
	if (mine && codec.validKid(mine.kid)) setKid(mine.kid);
}

function connect() {
	if (app.client) {
		app.client.end(true);
		app.client = null;
	}
	for (const name of [...app.doors.keys()]) removeDoor(name);
	const s = app.settings;
	app.topics = codec.topics(s.prefix, s.device);
	setText($("[data-device-name]"), s.device);
	setAvailability("unknown");
	setBroker("connecting", "Connecting…");
	const url = s.mqtt || `wss://${location.host}/mqtt`;
	const hex = Array.from(crypto.getRandomValues(new Uint8Array(6)), (x) => x.toString(16).padStart(2, "0")).join("");
	const client = globalThis.mqtt.connect(url, {
		username: s.user,
		password: s.pass,
		clientId: `garaged-web-${hex}`,
		protocolVersion: 4,
		clean: true,
		keepalive: 30,
		reconnectPeriod: 2000,
		connectTimeout: 8000,
		reconnectOnConnackError: true,
		// Plain timers: the worker timers would need a blob: worker, which the page's
		// Content-Security-Policy refuses.
		timerVariant: "native",
	});
	app.client = client;
	client.on("connect", () => {
		setBroker("connected", "");
		const t = app.topics;
		client.subscribe([t.availability, t.states, t.events, t.keys], { qos: 1 }, (err, granted) => {
			const refused = (granted || []).filter((g) => g.qos === 128).map((g) => g.topic);
			if (err || refused.length)
				showBanner(`The broker does not let this login read ${refused.join(", ") || "the device's topics"}: is the topic prefix right?`);
			else sendEnrollment();
		});
	});
	client.on("reconnect", () => {
		if (app.broker !== "unreachable") setBroker("connecting", "Connecting…");
	});
	client.on("close", () => {
		if (app.client !== client) return;
		setBroker("unreachable", "");
		// The device's word on its availability came through the broker: not known now.
		setAvailability("unknown");
	});
	client.on("error", (e) => {
		const why = e && /auth|password|Not authorized/i.test(String(e.message)) ? "The broker refused this login (user name or password)." : "";
		if (why) setBroker("unreachable", why);
	});
	client.on("message", onMessage);
}

// ---- settings and links -----------------------------------------------------------------

function complete(s) {
	return s && s.user && s.pass && codec.validPrefix(s.prefix) && codec.validDevice(s.device);
}

async function useLink(text) {
	const hash = text.includes("#") ? text.slice(text.indexOf("#") + 1) : text.trim();
	const f = codec.parseFragment(hash.trim());
	if (!f) throw new Error("this link carries nothing");
	const s = { ...(app.settings || {}) };
	if (f.connection) {
		Object.assign(s, f.connection);
		delete s.kid;
		if (!f.connection.mqtt) delete s.mqtt;
	}
	if (f.invitation) {
		s.device = f.invitation.device;
		app.invite = { invitation: f.invitation, invText: f.invText, seed: f.seed, sent: false, timer: null };
		await setKid(f.invitation.kid);
		setEnrollment("pending", `Invitation for ${f.invitation.kid} on device ${f.invitation.device}.`, false);
	} else if (f.connection.kid) {
		await setKid(f.connection.kid);
	}
	if (!complete(s)) throw new Error("this link lacks the broker's login: ask for a link from garagectl invite --url");
	app.settings = s;
	await store.put("settings", s);
	fillSettingsForm();
	connect();
}

function fillSettingsForm() {
	const s = app.settings || {};
	const form = $("[data-settings-form]");
	for (const k of ["device", "prefix", "user", "pass", "mqtt"]) if (s[k] !== undefined) form.elements[k].value = s[k];
}

function bindForms() {
	$("[data-link-form]").addEventListener("submit", async (e) => {
		e.preventDefault();
		setupError("");
		try {
			await useLink(e.target.elements.link.value);
			e.target.elements.link.value = "";
		} catch (err) {
			setupError(err.message);
		}
	});
	$("[data-settings-form]").addEventListener("submit", async (e) => {
		e.preventDefault();
		setupError("");
		const el = e.target.elements;
		const s = { device: el.device.value.trim(), prefix: el.prefix.value.trim(), user: el.user.value, pass: el.pass.value };
		if (el.mqtt.value.trim()) s.mqtt = el.mqtt.value.trim();
		if (!complete(s)) return setupError("Check the device id and topic prefix.");
		if (s.mqtt && !/^wss:\/\/\S+$/.test(s.mqtt)) return setupError("The broker address must start with wss://.");
		if (!codec.validKid(el.kid.value)) return setupError("A key id is 1 to 64 of A-Z, a-z, 0-9 and ._@-");
		await setKid(el.kid.value);
		app.settings = s;
		await store.put("settings", s);
		connect();
	});
	$("[data-copy-key]").addEventListener("click", async () => {
		try {
			await navigator.clipboard.writeText($("[data-keyline]").textContent);
		} catch {
			/* no clipboard: the line is selectable (user-select: all) */
		}
	});
}

async function main() {
	if ("serviceWorker" in navigator) navigator.serviceWorker.register("sw.js").catch(() => {});
	bindForms();
	if (!crypto.subtle) {
		showBanner("This page needs a secure (https) connection.");
		return;
	}
	try {
		await loadKey();
	} catch (err) {
		showBanner(`This browser cannot make an Ed25519 key (${err.message}); it is too old for this app.`);
		return;
	}
	app.settings = (await store.get("settings")) || null;
	fillSettingsForm();
	const hash = location.hash;
	// The secret leaves the address bar and the history at once: it is in memory now.
	if (hash) history.replaceState(null, "", location.pathname + location.search);
	if (hash && hash !== "#") {
		try {
			await useLink(hash);
			return;
		} catch (err) {
			setupError(err.message);
		}
	}
	if (complete(app.settings)) connect();
	else {
		$("[data-setup]").open = true;
		setBroker("unreachable", "Not set up yet: open the invitation link you were sent.");
		showBanner("");
	}
}

window.addEventListener("DOMContentLoaded", main);
