/*
 * fuzz-admin: the signed admin message, cmd_admin_check(), on arbitrary MQTT payloads, and
 * cmd_keyring_apply() on every change it accepts.
 *
 * The verifier is the one the daemon builds: device "garage", clock skew 30 s, libsodium's
 * verify, and a keyring of alice-phone (protocol.md's test vector key, seed 00..1f, an admin),
 * bob (seed 20..3f, not an admin), and two admins whose secret keys nobody holds and whose
 * limits refuse them at most times (night: 22:00-06:00; guest: expired), which are checked
 * before the signature. The seed corpus holds add, remove and renew messages that alice-phone
 * and bob signed for real, so that mutations of them reach every check after the signature.
 * "now" is fixed (the admin test vector's ts, 2026-11-24T19:15:00Z), so a run is repeatable.
 *
 * Input: the first byte is the MQTT side and the calendar (0x80: the retain flag; & 7: the
 * local weekday, 7 being one no calendar has), the second the local minute of the day in steps
 * of six (up to 1530: beyond 1439 no calendar has); the rest is the payload. Each input meets
 * an empty replay window and is judged twice: a message accepted once must then be a replay,
 * anything else must get the same answer. Each accepted change is applied to three rings (the
 * verifier's, one whose only admin is alice-phone, and a full one) and the result checked
 * against what the rules say it must be.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cmd_admin.h"
#include "fuzz.h"
#include "sig_sodium.h"

#define NOW   INT64_C(1795547700) /* protocol.md's admin test vector */
#define START (NOW - 3600)
#define SKEW  30U

static const char keys_text[] =
    "# the test vector's key (seed 00 01 .. 1f), an admin\n"
    "ed25519 A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg= alice-phone admin\n"
    "# seed 20 21 .. 3f: may open doors, not manage keys\n"
    "ed25519 Kay64UG8yvCyLhqU000LxzYeUm0L/hLIl5S8kyKWbdc= bob actions=open\n"
    "ed25519 QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8= night admin hours=22:00-06:00\n"
    "ed25519 YGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6e3x9fn8= guest admin "
    "not_after=2026-11-24T19:14:59Z\n";

static const char lone_admin_text[] =
    "ed25519 A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg= alice-phone admin\n"
    "ed25519 Kay64UG8yvCyLhqU000LxzYeUm0L/hLIl5S8kyKWbdc= bob\n";

static struct cmd_keyring ring, lone_admin, full, out_ring;
static struct cmd_verifier verifier;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[256];

	(void)argc;
	(void)argv;
	if (sig_sodium_init() != 0) {
		fprintf(stderr, "fuzz-admin: libsodium does not start\n");
		abort();
	}
	if (cmd_keys_parse(&ring, keys_text, sizeof(keys_text) - 1, err, sizeof(err)) != 0 ||
	    cmd_keys_parse(&lone_admin, lone_admin_text, sizeof(lone_admin_text) - 1, err,
	                   sizeof(err)) != 0) {
		fprintf(stderr, "fuzz-admin: the fixed keyrings do not parse: %s\n", err);
		abort();
	}
	/* The full ring: the lone admin's two keys and copies of bob up to the limit. */
	full = lone_admin;
	for (size_t i = full.nkeys; i < CMD_MAX_KEYS; i++) {
		full.keys[i] = lone_admin.keys[1];
		snprintf(full.keys[i].kid, sizeof(full.keys[i].kid), "copy%zu", i);
	}
	full.nkeys = CMD_MAX_KEYS;
	strcpy(verifier.device_id, "garage");
	verifier.clock_skew = SKEW;
	verifier.start_time = START;
	verifier.keys = &ring;
	verifier.verify = sig_sodium_verify;
	return 0;
}

/* Admin keys of r but SKIP that may sign at T (their not_before= and not_after=). */
static size_t
count_usable_admins(const struct cmd_keyring *r, const struct cmd_key *skip, int64_t t)
{
	size_t n = 0;

	for (size_t i = 0; i < r->nkeys; i++) {
		const struct cmd_key *k = &r->keys[i];

		n += k != skip && k->admin && (!k->has_not_before || t >= k->not_before) &&
		     (!k->has_not_after || t <= k->not_after);
	}
	return n;
}

/* True iff a key of r has pub. */
static bool
has_pub(const struct cmd_keyring *r, const uint8_t *pub)
{
	for (size_t i = 0; i < r->nkeys; i++) {
		if (memcmp(r->keys[i].pub, pub, CMD_PUBKEY_LEN) == 0)
			return true;
	}
	return false;
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

/* The change applied to one ring, against what the rules of cmd_admin.h say. */
static void
check_apply(const struct cmd_keyring *r, const struct cmd_admin *a)
{
	const struct cmd_key *target = cmd_keyring_find(r, a->target, strlen(a->target));
	const struct cmd_key *signer = cmd_keyring_find(r, a->kid, strlen(a->kid));
	enum cmd_reason got, want = CMD_OK;

	switch (a->op) {
	case CMD_ADMIN_ADD:
		if (signer == NULL)
			want = CMD_UNKNOWN_KEY;
		else if (!cmd_key_within(&a->key, signer))
			want = CMD_OVER_PERMISSIVE;
		else if (target != NULL || has_pub(r, a->key.pub))
			want = CMD_KEY_EXISTS;
		else if (r->nkeys == CMD_MAX_KEYS)
			want = CMD_TOO_MANY_KEYS;
		break;
	case CMD_ADMIN_REMOVE:
		if (target == NULL)
			want = CMD_UNKNOWN_TARGET;
		else if (target->admin && count_usable_admins(r, target, a->now) == 0)
			want = CMD_LAST_ADMIN;
		break;
	default:
		break;
	}
	memset(&out_ring, 0xa5, sizeof(out_ring));
	got = cmd_keyring_apply(r, a, &out_ring);
	if (got != want) {
		fprintf(stderr, "fuzz-admin: apply %s %s: %s, want %s\n", cmd_admin_op_name(a->op),
		        a->target, cmd_reason_name(got), cmd_reason_name(want));
		FUZZ_CHECK(got == want);
	}
	if (got != CMD_OK) {
		for (size_t i = 0; i < sizeof(out_ring); i++)
			FUZZ_CHECK(((const uint8_t *)&out_ring)[i] == 0xa5);
		return;
	}
	FUZZ_CHECK(count_usable_admins(&out_ring, NULL, a->now) >= 1);
	switch (a->op) {
	case CMD_ADMIN_ADD:
		FUZZ_CHECK(out_ring.nkeys == r->nkeys + 1);
		FUZZ_CHECK(same_key(&out_ring.keys[r->nkeys], &a->key));
		break;
	case CMD_ADMIN_REMOVE:
		FUZZ_CHECK(out_ring.nkeys == r->nkeys - 1);
		FUZZ_CHECK(cmd_keyring_find(&out_ring, a->target, strlen(a->target)) == NULL);
		break;
	default:
		FUZZ_CHECK(memcmp(&out_ring, r, sizeof(out_ring)) == 0);
		break;
	}
}

/* What must hold of a message cmd_admin_check() accepted, whatever the bytes were. */
static void
check_accepted(const struct cmd_admin *a, struct cmd_now now)
{
	const struct cmd_key *k = cmd_keyring_find(&ring, a->kid, strlen(a->kid));
	static char line[CMD_KEYS_LINE_MAX + 1];
	struct cmd_key again;

	FUZZ_CHECK(k != NULL && k->admin);
	FUZZ_CHECK(cmd_key_valid_at(k, now) == CMD_OK);
	FUZZ_CHECK(a->has_op && (unsigned int)a->op < CMD_ADMIN_OP_COUNT);
	FUZZ_CHECK(a->ts >= START && a->ts >= NOW - SKEW && a->ts <= NOW + SKEW);
	FUZZ_CHECK(a->nonce[0] != '\0');
	FUZZ_CHECK(a->error[0] == '\0');
	FUZZ_CHECK(a->now == NOW);
	switch (a->op) {
	case CMD_ADMIN_ADD:
		/* What the door half will write: it parses back to the key that was accepted. */
		FUZZ_CHECK(strcmp(a->target, a->key.kid) == 0);
		FUZZ_CHECK(cmd_key_format(&a->key, line, sizeof(line)) > 0);
		FUZZ_CHECK(cmd_key_parse(&again, line, strlen(line), NULL, 0) == 0);
		FUZZ_CHECK(same_key(&a->key, &again));
		break;
	case CMD_ADMIN_REMOVE:
		FUZZ_CHECK(cmd_kid_valid(a->target, strlen(a->target)));
		break;
	default:
		FUZZ_CHECK(a->target[0] == '\0');
		break;
	}
	check_apply(&ring, a);
	check_apply(&lone_admin, a);
	check_apply(&full, a);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cmd_admin first, again;
	struct cmd_now now = {.unix_time = NOW};
	enum cmd_reason r, r2;
	bool retained;

	if (size < 2)
		return 0;
	retained = (data[0] & 0x80) != 0;
	now.wday = data[0] & 7;
	now.minute = (uint16_t)(data[1] * 6U);
	data += 2;
	size -= 2;

	memset(verifier.replay, 0, sizeof(verifier.replay));
	verifier.latest = START;

	r = cmd_admin_check(&verifier, data, size, retained, now, &first);
	FUZZ_CHECK(strcmp(cmd_reason_name(r), "unknown") != 0);
	if (retained)
		FUZZ_CHECK(r == CMD_RETAINED);
	else if (size > CMD_ADMIN_MAX_PAYLOAD)
		FUZZ_CHECK(r == CMD_TOO_LARGE);
	FUZZ_CHECK(memchr(first.kid, '\0', sizeof(first.kid)) != NULL);
	FUZZ_CHECK(memchr(first.target, '\0', sizeof(first.target)) != NULL);
	FUZZ_CHECK(memchr(first.nonce, '\0', sizeof(first.nonce)) != NULL);
	FUZZ_CHECK(memchr(first.error, '\0', sizeof(first.error)) != NULL);
	for (size_t i = 0; first.error[i] != '\0'; i++)
		FUZZ_CHECK(first.error[i] >= 0x20 && first.error[i] < 0x7f);
	if (r == CMD_OK)
		check_accepted(&first, now);

	r2 = cmd_admin_check(&verifier, data, size, retained, now, &again);
	FUZZ_CHECK(r2 == (r == CMD_OK ? CMD_REPLAY : r));
	FUZZ_CHECK(memcmp(&first, &again, sizeof(first)) == 0);
	return 0;
}
