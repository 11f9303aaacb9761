// The web app's signer against docs/protocol.md's test vector, in Node's own WebCrypto: the
// same modules the page loads (web/lib), with the vector's seed imported as PKCS#8, as the page
// imports an invitation's one-time seed. Also the URL fragment's parser, and that the service
// worker's list of the app's files is the list of files there are.
// Run: node --test tests/web/test-signer.mjs (ctest: unit-web).
import { test } from "node:test";
import assert from "node:assert/strict";
import { webcrypto } from "node:crypto";
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const web = join(root, "web");
const { subtle } = webcrypto;
const codec = await import(join(web, "lib", "codec.js"));
const keys = await import(join(web, "lib", "keys.js"));

// Every value of the vector is read from docs/protocol.md itself, so the page and the
// document cannot drift apart.
const protocol = readFileSync(join(root, "docs", "protocol.md"), "utf8");
const row = (label) => {
	const m = new RegExp("^\\| " + label + "[^|]*\\| `([^`]*)` \\|$", "m").exec(protocol);
	assert.ok(m, `docs/protocol.md has no row "${label}"`);
	return m[1];
};
const hex = (s) => Uint8Array.from(s.match(/../g), (h) => parseInt(h, 16));

test("the signer reproduces docs/protocol.md's test vector", async () => {
	const seed = hex(row("private key"));
	const [, pub, kid] = row("public key").split(" ");
	const device = row("device id");
	const [, , door, action, ts, nonce] = row("signed text").split("\\n");
	const key = await keys.importSeed(subtle, seed);
	const out = await keys.signCommand(subtle, key, { device, door, action, ts: Number(ts), nonce, kid });
	assert.equal(out.text, row("signed text").replaceAll("\\n", "\n"));
	assert.equal(out.sig, row("signature"));
	const cmd = /^```json\n(\{"v":1,"door":"main".*"sig":"hO2A[^"]*"\})\n```$/m.exec(protocol);
	assert.ok(cmd, "docs/protocol.md shows no command of the vector");
	assert.equal(out.json, cmd[1]);
	assert.equal(await keys.seedPublicKey(subtle, seed), codec.b64url(codec.fromB64(pub)));
	assert.equal(codec.keyLine(pub, kid), row("public key"));
});

test("a generated key is non-extractable and its line is authorized_keys'", async () => {
	const pair = await keys.generateKey(subtle);
	assert.equal(pair.privateKey.extractable, false);
	await assert.rejects(subtle.exportKey("pkcs8", pair.privateKey));
	const pub = await keys.publicKeyB64(subtle, pair.publicKey);
	assert.match(pub, /^[A-Za-z0-9+/]{43}=$/);
	const sig = await keys.signText(subtle, pair.privateKey, "x");
	assert.match(sig, /^[A-Za-z0-9_-]{86}$/);
});

test("an enrollment request carries both signatures over the same text", async () => {
	const seed = hex("1f".repeat(32));
	const ik = await keys.seedPublicKey(subtle, seed);
	const invitation = { v: 1, device: "garage", id: "AAAAAAAAAAAAAAAAAAAAAA", kid: "bob-phone",
		actions: ["open"], doors: "all", expires: 1795547679, ik, by: "alice", sig: "x" };
	const invText = codec.b64url(codec.utf8(JSON.stringify(invitation)));
	const pair = await keys.generateKey(subtle);
	const pub = await keys.publicKeyB64(subtle, pair.publicKey);
	const out = await keys.signEnrollment(subtle, { privateKey: pair.privateKey, seed, invText,
		invitation, pub, ts: 1795547679, nonce: "q83vEjRWeJA" });
	const req = JSON.parse(out.json);
	assert.deepEqual(Object.keys(req), ["v", "inv", "pub", "ts", "nonce", "proof", "sig"]);
	assert.equal(out.text, `garaged-enroll-v1\ngarage\n${invitation.id}\nbob-phone\n${pub}\n1795547679\nq83vEjRWeJA`);
	const verify = async (rawPub, sig) => subtle.verify({ name: "Ed25519" },
		await subtle.importKey("raw", rawPub, { name: "Ed25519" }, true, ["verify"]),
		codec.fromB64url(sig), codec.utf8(out.text));
	assert.ok(await verify(codec.fromB64url(ik), req.proof), "proof is not by the one-time key");
	assert.ok(await verify(codec.fromB64(pub), req.sig), "sig is not by the new key");
	assert.ok(await keys.seedMatches(subtle, seed, ik));
	assert.ok(!(await keys.seedMatches(subtle, hex("2e".repeat(32)), ik)));
});

test("the invitation URL's fragment: each form, and each way it can be wrong", () => {
	const enc = (o) => codec.b64url(codec.utf8(JSON.stringify(o)));
	const conn = { v: 1, user: "web", pass: "pw-pw-pw", prefix: "garage", device: "garage" };
	const inv = { v: 1, device: "garage", id: "AAAAAAAAAAAAAAAAAAAAAA", kid: "bob", expires: 1,
		ik: codec.b64url(new Uint8Array(32)) };
	const seed = codec.b64url(new Uint8Array(32).fill(7));
	assert.equal(codec.parseFragment(""), null);
	assert.equal(codec.parseFragment("#"), null);
	let f = codec.parseFragment("#.." + enc(conn));
	assert.deepEqual(f.connection, { user: "web", pass: "pw-pw-pw", prefix: "garage", device: "garage" });
	assert.equal(f.invitation, null);
	f = codec.parseFragment(`${enc(inv)}.${seed}`);
	assert.equal(f.invitation.kid, "bob");
	assert.equal(f.seed.length, 32);
	assert.equal(f.connection, null);
	f = codec.parseFragment(`${enc(inv)}.${seed}.${enc({ ...conn, device: undefined })}`);
	assert.equal(f.connection.user, "web");
	for (const bad of ["x", "a.b.c.d", `${enc(inv)}.`, `.${seed}`, "..", `..${enc({ ...conn, device: undefined })}`,
		`..${enc({ ...conn, v: 2 })}`, `..${enc({ ...conn, prefix: "a/+" })}`, "..!!", `..${enc([1])}`,
		`${enc(inv)}.${seed}.${enc({ ...conn, device: "other" })}`, `${enc({ ...inv, ik: "x" })}.${seed}`,
		`${enc(inv)}.${codec.b64url(new Uint8Array(31))}`, `..${enc({ ...conn, mqtt: "http://x" })}`])
		assert.throws(() => codec.parseFragment(bad), Error, bad);
});

test("the service worker's app shell is every file of the app", () => {
	const sw = readFileSync(join(web, "sw.js"), "utf8");
	const m = /const SHELL = (\[[^\]]*\]);/.exec(sw);
	assert.ok(m, "sw.js has no SHELL list");
	const shell = JSON.parse(m[1].replace(/,\s*\]$/, "]"));
	const files = [];
	for (const e of readdirSync(web, { withFileTypes: true, recursive: false })) {
		if (e.isFile() && /\.(html|js|css|webmanifest|svg|png)$/.test(e.name) && e.name !== "sw.js")
			files.push("./" + e.name);
	}
	for (const e of readdirSync(join(web, "lib"))) if (e.endsWith(".js")) files.push("./lib/" + e);
	files.push("./vendor/mqtt.min.js", "./");
	assert.deepEqual([...shell].sort(), files.sort());
});
