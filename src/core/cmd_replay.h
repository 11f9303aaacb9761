/*
 * cmd_replay: the time window and the replay window of the command verifier (SPEC "Signed
 * command", docs/security.md D5 and D6).
 *
 * It owns the verifier's clock_skew, start_time, latest and replay fields (struct cmd_verifier,
 * cmd.h) and the rules over them: a command is judged by the latest time ever seen, never one
 * stamped before the start, and a nonce of an accepted command is remembered for as long as
 * its command could pass the time check, in CMD_REPLAY_SLOTS fixed slots (core_config.h), each
 * with the key that signed it: a key holds at most CMD_REPLAY_PER_KEY live nonces, so that one
 * key holder's flood fills its own share and no other key's. It never reads a clock (the
 * caller passes the time), never checks a signature, never allocates.
 */
#ifndef GARAGED_CORE_CMD_REPLAY_H
#define GARAGED_CORE_CMD_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmd_keys.h"
#include "cmd_names.h"
#include "core_config.h"

struct cmd_verifier;

/*
 * Remembered nonces, each until its command's timestamp leaves the window, with the first
 * bytes of the public key that signed it (its share's). Fixed memory.
 */
struct cmd_replay_slot {
	uint8_t nonce[CMD_NONCE_MAX];
	uint8_t len; /* 0 = free */
	bool tagged; /* false: counts for no key's share (a nonce put back after a restart) */
	uint8_t tag[CMD_REPLAY_TAG_LEN];
	int64_t ts;
};

/*
 * Starts the verifier at NOW with an empty replay window: nothing stamped before NOW passes.
 * LATEST is the latest time seen before a restart (0 when unknown): time is never earlier than
 * that, so a clock set back is not trusted until it catches up (its commands are judged by
 * LATEST meanwhile). clock_skew must be set first.
 */
void cmd_verifier_start(struct cmd_verifier *v, int64_t now, int64_t latest);

/*
 * After cmd_verifier_start(): puts back one nonce of a command accepted before a restart, with
 * its timestamp, so that the command is a replay after the restart as it was before. The state
 * kept across restarts does not say which key signed it, so it counts for no key's share (it
 * still takes a slot until its command leaves the time window). Returns false for a nonce that
 * cannot be one (its length) or when the window has no room.
 */
bool cmd_verifier_remember(struct cmd_verifier *v, const uint8_t *nonce, size_t len, int64_t ts);

/*
 * The time the verifier judges by at the clock's NOW: NOW raised to the latest it has seen, so
 * that a clock set back does not reopen the time window nor revive an expired key. The caller
 * reads its local calendar (days=, hours=) for this time, not for its clock's (the core knows
 * no time zone), and passes both as struct cmd_now. It changes nothing in the verifier.
 */
int64_t cmd_verifier_now(const struct cmd_verifier *v, int64_t now);

/*
 * NOW as a key is judged by it: its Unix time raised to cmd_verifier_now(). When that raises
 * it, NOW's calendar was read for another time than the one judged by, so it is dropped (out
 * of range, which no days= or hours= contains): a scheduled key is then refused rather than
 * judged by a clock set back. The door half passes the calendar of cmd_verifier_now() itself,
 * which is kept. It changes nothing in the verifier.
 */
struct cmd_now cmd_verifier_time(const struct cmd_verifier *v, struct cmd_now now);

/*
 * What cmd_replay_check() found for one command, for cmd_replay_commit() to remember its nonce
 * by. It points at the caller's nonce, and holds only until the window next changes: nothing
 * may use the verifier between the two calls.
 */
struct cmd_replay_ticket {
	const uint8_t *nonce;
	size_t len;
	int64_t ts;
	int64_t oldest; /* what is older can never pass the time check again */
	size_t slot;    /* where the nonce goes in the window, SIZE_MAX when not known yet */
};

/*
 * The time and replay checks of one command stamped TS with NONCE[0..LEN), at NOW: CMD_STALE,
 * CMD_FUTURE, CMD_REPLAY, or CMD_OK with *t filled for cmd_replay_commit(); CMD_MALFORMED for
 * a nonce length no command can have. It advances the verifier's latest time, and may forget
 * nonces whose commands have left the window, but never remembers one: only the caller knows
 * whether the signature is good, and forgeries must not fill the window.
 */
enum cmd_reason cmd_replay_check(struct cmd_verifier *v, int64_t ts, const uint8_t *nonce,
                                 size_t len, int64_t now, struct cmd_replay_ticket *t);

/*
 * After cmd_replay_check() said CMD_OK and the signature verified: remembers the command's
 * nonce, in the share of the key whose public key is SIGNER, until its command could no longer
 * pass the time check. False when that key already holds CMD_REPLAY_PER_KEY live nonces, or
 * the window is full of live nonces; the command must then be refused (rate_limited), since
 * forgetting a live nonce would let its command be replayed. SIGNER NULL counts for no key.
 */
bool cmd_replay_commit(struct cmd_verifier *v, const struct cmd_replay_ticket *t,
                       const uint8_t *signer);

#endif
