/*
 * fuzz-replay: the replay window of cmd_check() (src/core/cmd_replay.c), against a model of
 * what it must remember.
 *
 * fuzz-cmd meets an empty window every time, and the real window holds 1023 nonces: no input
 * of a few hundred bytes fills it, makes its entries collide, or lets them expire under a
 * probe. So this target has its own build of the core with CMD_REPLAY_SLOTS 8 (capacity 7), a
 * signature check that accepts everything (the window is what is tested, and only signed
 * commands ever reach it), and a clock skew of 4 s. Each input is a sequence of commands, three
 * bytes each: which of 32 nonces, the ts relative to now, and how far the clock moves on.
 *
 * The model is the rule in cmd.h and cmd_replay.h: a command in the time window is a replay if an
 * accepted one with its nonce is still in the time window, rate_limited if the window already holds
 * its capacity of live nonces, and accepted otherwise. The clock only moves forward here: a clock
 * stepped back can revive a nonce the window has already forgotten (see docs/fuzzing.md).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base64.h"
#include "cmd.h"
#include "fuzz.h"

#define SKEW      4U
#define START     INT64_C(1000000)
#define CAPACITY  (CMD_REPLAY_SLOTS - 1U) /* one slot always stays empty */
#define NNONCES   32U
#define MAX_STEPS 256U

_Static_assert(CMD_REPLAY_SLOTS == 8U, "fuzz-replay is built with an 8-slot window");

/* An all-zero signature in base64url: it decodes, and the verify below takes anything. */
#define ZERO_SIG                                                                                   \
	"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

static struct cmd_keyring ring;
static struct cmd_verifier verifier;

static bool
accept_all(const uint8_t sig[CMD_SIG_LEN], const uint8_t *msg, size_t len,
           const uint8_t pub[CMD_PUBKEY_LEN])
{
	(void)sig;
	(void)msg;
	(void)len;
	(void)pub;
	return true;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	strcpy(ring.keys[0].kid, "k");
	ring.keys[0].actions = (1U << CMD_ACTION_COUNT) - 1U;
	ring.keys[0].all_doors = true;
	ring.nkeys = 1;
	strcpy(verifier.device_id, "garage");
	strcpy(verifier.doors[0], "main");
	verifier.ndoors = 1;
	verifier.clock_skew = SKEW;
	verifier.start_time = START;
	verifier.keys = &ring;
	verifier.verify = accept_all;
	return 0;
}

/* What the window must remember: every accepted command, with its ts. */
struct accepted {
	uint8_t nonce;
	int64_t ts;
};

static enum cmd_reason
expected(const struct accepted *acc, size_t nacc, uint8_t nonce, int64_t ts, int64_t now)
{
	int64_t oldest = now - SKEW;
	size_t live = 0;
	bool seen = false;

	if (ts < START || ts < oldest)
		return CMD_STALE;
	else if (ts > now + SKEW)
		return CMD_FUTURE;
	if (oldest < START)
		oldest = START;
	for (size_t i = 0; i < nacc; i++) {
		if (acc[i].ts < oldest)
			continue;
		live++;
		seen = seen || acc[i].nonce == nonce;
	}
	if (seen)
		return CMD_REPLAY;
	return live >= CAPACITY ? CMD_RATE_LIMITED : CMD_OK;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct accepted acc[MAX_STEPS];
	size_t nacc = 0;
	int64_t now = START + SKEW / 2; /* so that a ts just before the start is possible */

	memset(verifier.replay, 0, sizeof(verifier.replay));
	verifier.latest = START; /* each input meets a fresh clock, as at the daemon's start */
	for (size_t i = 0; i + 3 <= size && i / 3 < MAX_STEPS; i += 3) {
		uint8_t id = data[i] % NNONCES;
		/* -8 .. +7 s around now: stale, live and future in about equal parts. */
		int64_t ts = now + (int64_t)(data[i + 1] % 16) - 8;
		uint8_t raw[CMD_NONCE_MIN] = {0};
		char nonce[CMD_NONCE_TEXT_MAX + 1];
		char payload[CMD_MAX_PAYLOAD];
		enum cmd_reason r, want;
		int n;

		/* 8 bytes that differ in one: FNV-1a spreads them over all 8 slots. */
		raw[0] = id;
		FUZZ_CHECK(
		    base64_encode(BASE64_URL_UNPADDED, raw, sizeof(raw), nonce, sizeof(nonce)) > 0);
		n = snprintf(payload, sizeof(payload),
		             "{\"v\":1,\"door\":\"main\",\"action\":\"open\",\"ts\":%lld,"
		             "\"nonce\":\"%s\",\"kid\":\"k\",\"sig\":\"" ZERO_SIG "\"}",
		             (long long)ts, nonce);
		FUZZ_CHECK(n > 0 && (size_t)n < sizeof(payload));

		want = expected(acc, nacc, id, ts, now);
		r = cmd_check(&verifier, "main", (const uint8_t *)payload, (size_t)n, false,
		              (struct cmd_now){.unix_time = now}, NULL);
		if (r != want) {
			fprintf(stderr, "step %zu: nonce %u ts now%+lld: got %s, want %s\n", i / 3,
			        id, (long long)(ts - now), cmd_reason_name(r),
			        cmd_reason_name(want));
			FUZZ_CHECK(r == want);
		}
		if (r == CMD_OK) {
			acc[nacc].nonce = id;
			acc[nacc].ts = ts;
			nacc++;
		}
		/* 0 to 3 s on, or with the top bit a jump past the whole window. */
		now += (data[i + 2] & 0x80) != 0 ? 3 * SKEW : data[i + 2] % 4;
	}
	return 0;
}
