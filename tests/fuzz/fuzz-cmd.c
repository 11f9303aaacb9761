/*
 * fuzz-cmd: the signed-command verifier, cmd_check(), on arbitrary MQTT payloads.
 *
 * The verifier is the one the daemon builds: device "garage", doors main and side, a keyring
 * of two real Ed25519 keys (alice-phone, from protocol.md's test vector seed 00..1f, who may do
 * anything; bob, seed 20..3f, who may only open and close the side door, this month, on Mondays
 * and Tuesdays from 19:00 to 19:29) and libsodium's verify, so that the valid commands of the
 * seed corpus reach every check after the signature and the mutations of them cover every
 * rejection; four guest keys whose limits refuse them now, with public keys nobody holds the
 * secret of (the key's limits are checked before the signature). "now" is fixed (the test
 * vector's ts, a Tuesday at 19:14:39 in the UTC the test device lives in), so a run is
 * repeatable and a saved crash replays.
 *
 * Input: the first byte chooses what the MQTT layer would have added (the topic's door in its
 * low two bits, no topic at all with 0x40, the retain flag with 0x80: '0' is door main, '1'
 * side); the rest is the payload. Each input meets an empty replay window, is judged, then
 * judged again: a command accepted once must then be a replay, anything else must get the same
 * answer twice, and once its time has passed every accepted command must be stale.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cmd.h"
#include "fuzz.h"
#include "sig_sodium.h"

#define NOW   INT64_C(1795547679) /* protocol.md's test vector: 2026-11-24T19:14:39Z, Tuesday */
#define START (NOW - 3600)        /* the daemon has been up for an hour */
#define SKEW  30U

/* NOW with the local calendar of UTC. */
static const struct cmd_now now = {.unix_time = NOW, .wday = 2, .minute = 19 * 60 + 14};

static const char keys_text[] =
    "# the test vector's key (seed 00 01 .. 1f): every action on every door\n"
    "ed25519 A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg= alice-phone\n"
    "# seed 20 21 .. 3f\n"
    "ed25519 Kay64UG8yvCyLhqU000LxzYeUm0L/hLIl5S8kyKWbdc= bob actions=open,close doors=side "
    "not_before=2026-11-01T00:00:00Z not_after=2026-11-30T23:59:59Z days=mon,tue "
    "hours=19:00-19:30\n"
    "# guests refused now: by not_after, not_before, days= and hours=\n"
    "ed25519 QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8= guest-expired "
    "not_after=2026-11-24T19:14:38Z\n"
    "ed25519 YGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6e3x9fn8= guest-later "
    "not_before=2026-11-24T19:14:40Z\n"
    "ed25519 gIGCg4SFhoeIiYqLjI2Oj5CRkpOUlZaXmJmam5ydnp8= guest-weekend days=sat,sun\n"
    "ed25519 oKGio6SlpqeoqaqrrK2ur7CxsrO0tba3uLm6u7y9vr8= guest-night hours=22:00-06:00 "
    "admin\n";

/* Topic doors: two configured, one that is not, one longer than any name may be. */
static const char *const topic_doors[4] = {
    "main",
    "side",
    "back",
    "a-door-name-far-longer-than-thirty-two-bytes",
};

static struct cmd_keyring ring;
static struct cmd_verifier verifier;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[256];

	(void)argc;
	(void)argv;
	if (sig_sodium_init() != 0) {
		fprintf(stderr, "fuzz-cmd: libsodium does not start\n");
		abort();
	}
	if (cmd_keys_parse(&ring, keys_text, sizeof(keys_text) - 1, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz-cmd: the fixed keyring does not parse: %s\n", err);
		abort();
	}
	strcpy(verifier.device_id, "garage");
	strcpy(verifier.doors[0], "main");
	strcpy(verifier.doors[1], "side");
	verifier.ndoors = 2;
	verifier.clock_skew = SKEW;
	verifier.start_time = START;
	verifier.keys = &ring;
	verifier.verify = sig_sodium_verify;
	return 0;
}

/* What must hold of a command cmd_check() accepted, whatever the bytes were. */
static void
check_accepted(const struct cmd *c, const char *topic)
{
	const struct cmd_key *k = NULL;

	FUZZ_CHECK(c->door_index < verifier.ndoors);
	FUZZ_CHECK(strcmp(c->door, verifier.doors[c->door_index]) == 0);
	FUZZ_CHECK(topic != NULL && strcmp(topic, c->door) == 0);
	FUZZ_CHECK(c->has_action && (unsigned int)c->action < CMD_ACTION_COUNT);
	FUZZ_CHECK(c->ts >= START && c->ts >= NOW - SKEW && c->ts <= NOW + SKEW);
	FUZZ_CHECK(c->nonce[0] != '\0');
	for (size_t i = 0; i < ring.nkeys; i++)
		if (strcmp(ring.keys[i].kid, c->kid) == 0)
			k = &ring.keys[i];
	FUZZ_CHECK(k != NULL);
	FUZZ_CHECK((k->actions & (1U << c->action)) != 0);
	FUZZ_CHECK(cmd_key_valid_at(k, now) == CMD_OK);
	if (!k->all_doors) {
		bool allowed = false;

		for (size_t i = 0; i < k->ndoors; i++)
			allowed = allowed || strcmp(k->doors[i], c->door) == 0;
		FUZZ_CHECK(allowed);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cmd first, again;
	enum cmd_reason r, r2;
	const char *topic;
	bool retained;

	if (size < 1)
		return 0;
	topic = (data[0] & 0x40) != 0 ? NULL : topic_doors[data[0] & 3];
	retained = (data[0] & 0x80) != 0;
	data++;
	size--;

	/* Every input meets the same state: a daemon that has accepted nothing yet. */
	memset(verifier.replay, 0, sizeof(verifier.replay));
	verifier.latest = START; /* each input meets a fresh clock, as at the daemon's start */

	r = cmd_check(&verifier, topic, data, size, retained, now, &first);
	FUZZ_CHECK(strcmp(cmd_reason_name(r), "unknown") != 0);
	if (retained)
		FUZZ_CHECK(r == CMD_RETAINED);
	else if (size > CMD_MAX_PAYLOAD)
		FUZZ_CHECK(r == CMD_TOO_LARGE);
	if (r == CMD_OK)
		check_accepted(&first, topic);
	/* Whatever was understood of a rejected command is still well-formed text. */
	FUZZ_CHECK(memchr(first.door, '\0', sizeof(first.door)) != NULL);
	FUZZ_CHECK(memchr(first.kid, '\0', sizeof(first.kid)) != NULL);
	FUZZ_CHECK(memchr(first.nonce, '\0', sizeof(first.nonce)) != NULL);

	/* The same bytes again, as a replaying attacker would send them. */
	r2 = cmd_check(&verifier, topic, data, size, retained, now, &again);
	FUZZ_CHECK(r2 == (r == CMD_OK ? CMD_REPLAY : r));
	FUZZ_CHECK(memcmp(&first, &again, sizeof(first)) == 0);

	/* Once its time has passed, the window may forget the nonce: the clock refuses it. */
	if (r == CMD_OK) {
		struct cmd_now later = now;

		later.unix_time = NOW + 2 * SKEW + 1;
		FUZZ_CHECK(cmd_check(&verifier, topic, data, size, false, later, NULL) ==
		           CMD_STALE);
	}
	return 0;
}
