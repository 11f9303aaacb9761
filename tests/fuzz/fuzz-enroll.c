/*
 * fuzz-enroll: enrollment requests, cmd_enroll_check(), on arbitrary MQTT payloads, and the
 * invitation's reader and writers (cmd_invite_parse(), cmd_invite_json(),
 * cmd_invite_signed_text()) on arbitrary invitations.
 *
 * The verifier is the one the daemon builds: device "garage", clock skew 30 s, libsodium's
 * verify, and a keyring of alice-phone (protocol.md's test vector key, seed 00..1f, an admin),
 * bob (seed 20..3f, may open, not an admin), carol (seed 60..7f, an admin limited to open and
 * close on the main door until the end of 2026, Monday to Wednesday from 07:00 to 20:00), and
 * guest, an admin whose secret key nobody holds and who expired. The invitations' one-time key
 * has seed 40..5f and the invitee's new key (dave) seed 80..9f. "now" is fixed (the enroll test
 * vector's ts, 1795547700, a Tuesday at 19:15 UTC), so a run is repeatable.
 *
 * Input: the first byte is the MQTT side and the mode (0x80: the retain flag; 0x40: the rest
 * is an invitation, not a request; & 7: the local weekday, 7 being one no calendar has), the
 * second the local minute of the day in steps of six (beyond 1439 no calendar has one).
 * A request is judged as it is. An invitation is read and written back; then, when it names an
 * inviter whose seed this file holds, it is signed by that inviter (as garagectl invite would)
 * and sent in a request that dave signs with the one-time key and his own, so that mutations
 * of an invitation's content reach every check after the three signatures.
 *
 * Each request meets an empty replay window and is judged twice: one whose signatures verified
 * (accepted, or refused by the keyring: key_exists, too_many_keys) must then be a replay,
 * anything else must get the same answer and the same reading.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "base64.h"
#include "cmd_enroll.h"
#include "fuzz.h"
#include "sig_sodium.h"

#define NOW   INT64_C(1795547700) /* protocol.md's enroll test vector */
#define START (NOW - 3600)
#define SKEW  30U
#define NONCE "FuZz-nOnCe-0"

struct keypair {
	uint8_t pk[crypto_sign_PUBLICKEYBYTES];
	uint8_t sk[crypto_sign_SECRETKEYBYTES];
};

static struct keypair alice, bob, carol, ik, dave;
static struct cmd_keyring ring;
static struct cmd_verifier verifier;

static void
from_seed(struct keypair *k, uint8_t first)
{
	uint8_t seed[crypto_sign_SEEDBYTES];

	for (size_t i = 0; i < sizeof(seed); i++)
		seed[i] = (uint8_t)(first + i);
	crypto_sign_seed_keypair(k->pk, k->sk, seed);
}

static const char *
b64(const uint8_t pk[32])
{
	static char out[3][64];
	static unsigned int next;
	char *o = out[next++ % 3];

	base64_encode(BASE64_STANDARD_PADDED, pk, 32, o, sizeof(out[0]));
	return o;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char text[1024], err[256];

	(void)argc;
	(void)argv;
	if (sig_sodium_init() != 0) {
		fprintf(stderr, "fuzz-enroll: libsodium does not start\n");
		abort();
	}
	from_seed(&alice, 0x00);
	from_seed(&bob, 0x20);
	from_seed(&ik, 0x40);
	from_seed(&carol, 0x60);
	from_seed(&dave, 0x80);
	snprintf(text, sizeof(text),
	         "ed25519 %s alice-phone admin\n"
	         "ed25519 %s bob actions=open\n"
	         "ed25519 %s carol admin actions=open,close doors=main "
	         "not_after=2026-12-31T23:59:59Z days=mon,tue,wed hours=07:00-20:00\n"
	         "ed25519 YGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6e3x9fn8= guest admin "
	         "not_after=2026-11-24T19:14:59Z\n",
	         b64(alice.pk), b64(bob.pk), b64(carol.pk));
	if (cmd_keys_parse(&ring, text, strlen(text), err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz-enroll: the fixed keyring does not parse: %s\n", err);
		abort();
	}
	strcpy(verifier.device_id, "garage");
	verifier.clock_skew = SKEW;
	verifier.start_time = START;
	verifier.keys = &ring;
	verifier.verify = sig_sodium_verify;
	return 0;
}

/* Equal in everything a line says. */
static bool
same_key(const struct cmd_key *a, const struct cmd_key *b)
{
	if (strcmp(a->kid, b->kid) != 0 || memcmp(a->pub, b->pub, sizeof(a->pub)) != 0 ||
	    a->actions != b->actions || a->all_doors != b->all_doors || a->ndoors != b->ndoors ||
	    a->has_not_before != b->has_not_before || a->has_not_after != b->has_not_after ||
	    a->not_before != b->not_before || a->not_after != b->not_after || a->days != b->days ||
	    a->has_hours != b->has_hours || a->hours_from != b->hours_from ||
	    a->hours_to != b->hours_to || a->admin != b->admin)
		return false;
	for (size_t d = 0; d < a->ndoors; d++) {
		if (strcmp(a->doors[d], b->doors[d]) != 0)
			return false;
	}
	return true;
}

/* What must hold of an invitation the reader accepted: its writers give it back. */
static void
check_invitation(const struct cmd_invite *inv)
{
	static char json[CMD_INVITE_MAX], text[CMD_INVITE_MAX];
	static struct cmd_invite again, zero_pub;
	size_t n;

	zero_pub = *inv;
	memset(zero_pub.key.pub, 0, sizeof(zero_pub.key.pub));
	FUZZ_CHECK(!inv->key.admin && inv->key.line == 0);
	FUZZ_CHECK(cmd_key_well_formed(&inv->key));
	n = cmd_invite_json(&zero_pub, json, sizeof(json));
	FUZZ_CHECK(n > 0 && n < sizeof(json));
	FUZZ_CHECK(cmd_invite_parse(&again, json, n));
	FUZZ_CHECK(memcmp(&again, &zero_pub, sizeof(again)) == 0);
	FUZZ_CHECK(cmd_invite_signed_text(text, sizeof(text), inv) > 0);
}

/* What must hold of a request cmd_enroll_check() accepted, whatever the bytes were. */
static void
check_accepted(const struct cmd_enroll *e, struct cmd_now now)
{
	const struct cmd_key *by = cmd_keyring_find(&ring, e->inv.by, strlen(e->inv.by));
	static char line[CMD_KEYS_LINE_MAX + 1];
	static struct cmd_keyring next;
	static struct cmd_admin op;
	struct cmd_key again;

	FUZZ_CHECK(strcmp(e->inv.device, "garage") == 0);
	FUZZ_CHECK(by != NULL && by->admin && cmd_key_valid_at(by, now) == CMD_OK);
	FUZZ_CHECK(cmd_key_within(&e->inv.key, by));
	FUZZ_CHECK(NOW <= e->inv.expires);
	FUZZ_CHECK(e->ts >= START && e->ts >= NOW - SKEW && e->ts <= NOW + SKEW);
	FUZZ_CHECK(e->nonce[0] != '\0');
	FUZZ_CHECK(memcmp(e->inv.key.pub, e->inv.ik, sizeof(e->inv.ik)) != 0);
	FUZZ_CHECK(cmd_keyring_find(&ring, e->inv.key.kid, strlen(e->inv.key.kid)) == NULL);
	check_invitation(&e->inv);
	/* What the door half will write: it parses back to the key that was accepted. */
	FUZZ_CHECK(cmd_key_format(&e->inv.key, line, sizeof(line)) > 0);
	FUZZ_CHECK(cmd_key_parse(&again, line, strlen(line), NULL, 0) == 0);
	FUZZ_CHECK(same_key(&e->inv.key, &again));
	cmd_enroll_admin_op(e, &op);
	FUZZ_CHECK(cmd_keyring_apply(&ring, &op, &next) == CMD_OK);
	FUZZ_CHECK(next.nkeys == ring.nkeys + 1);
	FUZZ_CHECK(same_key(&next.keys[ring.nkeys], &e->inv.key));
}

static void
judge(const uint8_t *payload, size_t size, bool retained, struct cmd_now now)
{
	static struct cmd_enroll first, again;
	enum cmd_reason r, r2;
	bool genuine;

	memset(verifier.replay, 0, sizeof(verifier.replay));
	verifier.latest = START;

	r = cmd_enroll_check(&verifier, payload, size, retained, now, &first);
	FUZZ_CHECK(strcmp(cmd_reason_name(r), "unknown") != 0);
	if (retained)
		FUZZ_CHECK(r == CMD_RETAINED);
	else if (size > CMD_ENROLL_MAX_PAYLOAD)
		FUZZ_CHECK(r == CMD_TOO_LARGE);
	FUZZ_CHECK(memchr(first.inv.device, '\0', sizeof(first.inv.device)) != NULL);
	FUZZ_CHECK(memchr(first.inv.id, '\0', sizeof(first.inv.id)) != NULL);
	FUZZ_CHECK(memchr(first.inv.key.kid, '\0', sizeof(first.inv.key.kid)) != NULL);
	FUZZ_CHECK(memchr(first.inv.by, '\0', sizeof(first.inv.by)) != NULL);
	FUZZ_CHECK(memchr(first.nonce, '\0', sizeof(first.nonce)) != NULL);
	if (r == CMD_OK)
		check_accepted(&first, now);

	/* Both signatures verified: its nonce is in the window, whatever the keyring said. */
	genuine = r == CMD_OK || r == CMD_KEY_EXISTS || r == CMD_TOO_MANY_KEYS;
	r2 = cmd_enroll_check(&verifier, payload, size, retained, now, &again);
	FUZZ_CHECK(r2 == (genuine ? CMD_REPLAY : r));
	FUZZ_CHECK(memcmp(&first, &again, sizeof(first)) == 0);
}

static const struct keypair *
seed_of(const char *kid)
{
	if (strcmp(kid, "alice-phone") == 0)
		return &alice;
	else if (strcmp(kid, "bob") == 0)
		return &bob;
	else if (strcmp(kid, "carol") == 0)
		return &carol;
	return NULL;
}

/* The invitation in data, read, written back, and sent signed in a request of dave's. */
static void
invitation(const uint8_t *data, size_t size, bool retained, struct cmd_now now)
{
	static struct cmd_invite inv;
	static char json[CMD_INVITE_MAX], text[CMD_INVITE_MAX];
	static char inv64[CMD_INVITE_MAX * 2], req[CMD_ENROLL_MAX_PAYLOAD * 2];
	char proof[128], sig[128], pub[64];
	const struct keypair *inviter;
	uint8_t raw[64];
	size_t n;
	int len;

	if (!cmd_invite_parse(&inv, (const char *)data, size)) {
		FUZZ_CHECK(memchr(inv.id, '\0', sizeof(inv.id)) != NULL);
		FUZZ_CHECK(memchr(inv.by, '\0', sizeof(inv.by)) != NULL);
		return;
	}
	FUZZ_CHECK(size <= CMD_INVITE_MAX);
	check_invitation(&inv);

	/* Signed as its inviter would, when this file holds the inviter's seed. */
	inviter = seed_of(inv.by);
	if (inviter == NULL)
		return;
	n = cmd_invite_signed_text(text, sizeof(text), &inv);
	crypto_sign_detached(inv.sig, NULL, (const uint8_t *)text, n, inviter->sk);
	n = cmd_invite_json(&inv, json, sizeof(json));
	FUZZ_CHECK(n > 0);
	FUZZ_CHECK(
	    base64_encode(BASE64_URL_UNPADDED, (const uint8_t *)json, n, inv64, sizeof(inv64)) > 0);
	snprintf(pub, sizeof(pub), "%s", b64(dave.pk));
	n = cmd_enroll_signed_text(text, sizeof(text), inv.device, inv.id, inv.key.kid, pub, NOW,
	                           NONCE);
	FUZZ_CHECK(n > 0);
	crypto_sign_detached(raw, NULL, (const uint8_t *)text, n, ik.sk);
	base64_encode(BASE64_URL_UNPADDED, raw, sizeof(raw), proof, sizeof(proof));
	crypto_sign_detached(raw, NULL, (const uint8_t *)text, n, dave.sk);
	base64_encode(BASE64_URL_UNPADDED, raw, sizeof(raw), sig, sizeof(sig));
	len = snprintf(req, sizeof(req),
	               "{\"v\":1,\"inv\":\"%s\",\"pub\":\"%s\",\"ts\":%lld,\"nonce\":\"" NONCE
	               "\",\"proof\":\"%s\",\"sig\":\"%s\"}",
	               inv64, pub, (long long)NOW, proof, sig);
	FUZZ_CHECK(len > 0 && (size_t)len <= CMD_ENROLL_MAX_PAYLOAD);
	judge((const uint8_t *)req, (size_t)len, retained, now);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cmd_now now = {.unix_time = NOW};
	bool retained;

	if (size < 2)
		return 0;
	retained = (data[0] & 0x80) != 0;
	now.wday = data[0] & 7;
	now.minute = (uint16_t)(data[1] * 6U);
	if (data[0] & 0x40)
		invitation(data + 2, size - 2, retained, now);
	else
		judge(data + 2, size - 2, retained, now);
	return 0;
}
