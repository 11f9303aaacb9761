// keys: the phone's Ed25519 key and every signature the web app makes, through WebCrypto only
// (no JavaScript crypto library). The private key is made non-extractable: no script, ours
// included, can read it out of the browser, which keeps it in IndexedDB as a CryptoKey.
// Every function takes the SubtleCrypto to use, so that Node's test runner can check the
// same code against docs/protocol.md's test vector.

import {
	PKCS8_ED25519_PREFIX,
	b64,
	b64url,
	commandJSON,
	commandText,
	enrollJSON,
	enrollText,
	fromB64url,
	utf8,
} from "./codec.js";

const ED25519 = { name: "Ed25519" };

// A new key pair; the private half can sign and never leaves the browser.
export async function generateKey(subtle) {
	return subtle.generateKey(ED25519, false, ["sign", "verify"]);
}

// The 32-byte public key in standard base64, as authorized_keys has it.
export async function publicKeyB64(subtle, publicKey) {
	return b64(new Uint8Array(await subtle.exportKey("raw", publicKey)));
}

// A private key from a 32-byte RFC 8032 seed (an invitation's one-time secret, or a test
// vector's key). EXTRACTABLE only where its public half must be read back (seedPublicKey).
export async function importSeed(subtle, seed, extractable = false) {
	if (seed.length !== 32) throw new Error("an Ed25519 seed is 32 bytes");
	const pkcs8 = new Uint8Array(PKCS8_ED25519_PREFIX.length + 32);
	pkcs8.set(PKCS8_ED25519_PREFIX);
	pkcs8.set(seed, PKCS8_ED25519_PREFIX.length);
	try {
		return await subtle.importKey("pkcs8", pkcs8, ED25519, extractable, ["sign"]);
	} finally {
		pkcs8.fill(0);
	}
}

// The public key that belongs to a seed, base64url: the JWK of a private key carries it as x.
export async function seedPublicKey(subtle, seed) {
	const key = await importSeed(subtle, seed, true);
	const jwk = await subtle.exportKey("jwk", key);
	return jwk.x;
}

export async function signText(subtle, privateKey, text) {
	return b64url(new Uint8Array(await subtle.sign(ED25519, privateKey, utf8(text))));
}

// A signed command: { text, sig, json } for FIELDS (device, door, action, ts, nonce, kid).
export async function signCommand(subtle, privateKey, fields) {
	const text = commandText(fields);
	const sig = await signText(subtle, privateKey, text);
	return { text, sig, json: commandJSON({ ...fields, sig }) };
}

// The enrollment request: the new key's signature proves possession of it, the one-time
// key's (from the invitation's seed) that the sender holds the invitation's secret.
export async function signEnrollment(subtle, { privateKey, seed, invText, invitation, pub, ts, nonce }) {
	const text = enrollText({
		device: invitation.device,
		id: invitation.id,
		kid: invitation.kid,
		pub,
		ts,
		nonce,
	});
	const once = await importSeed(subtle, seed);
	const proof = await signText(subtle, once, text);
	const sig = await signText(subtle, privateKey, text);
	return { text, json: enrollJSON({ inv: invText, pub, ts, nonce, proof, sig }) };
}

// Whether an invitation's seed is the one its ik commits to: a damaged link is told apart
// from a refusal before anything is sent.
export async function seedMatches(subtle, seed, ik) {
	const x = await seedPublicKey(subtle, seed);
	return x === ik || b64url(fromB64url(x)) === ik;
}
