/*
 * cmd: signed commands (SPEC "Signed command"): the codec and the verifier that decides, from
 * raw payload bytes, whether a command may move a door.
 *
 * It owns every rule that stands between a byte string from the network and a relay pulse, and
 * the order they are applied in: size, strict JSON shape (jsmn, no allocation), field charsets
 * that keep the signed text unambiguous, known key, per-key permissions, the key's validity and
 * schedule, the time window, the replay window, and the Ed25519 signature. Three rooms hold parts
 * of it, each with its own header, all included here, so that callers include this one: cmd_names.h
 * (the words and charsets), cmd_keys.h (authorized_keys lines and the keyring) and cmd_replay.h
 * (the time and replay windows). It never does I/O, never reads a clock, never allocates: the
 * caller passes the time (with its local calendar, struct cmd_now) and a signature primitive
 * (libsodium on Linux; a microcontroller port brings its own), and all storage is fixed-size from
 * core_config.h.
 */
#ifndef GARAGED_CORE_CMD_H
#define GARAGED_CORE_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmd_keys.h"
#include "cmd_names.h"
#include "cmd_replay.h"
#include "core_config.h"

/* The signature primitive: true iff sig is a valid Ed25519 signature of msg by pub. */
typedef bool (*cmd_verify_fn)(const uint8_t sig[CMD_SIG_LEN], const uint8_t *msg, size_t len,
                              const uint8_t pub[CMD_PUBKEY_LEN]);

/*
 * Builds the signed text "garaged-cmd-v1\n<device>\n<door>\n<action>\n<ts>\n<nonce>\n<kid>"
 * (nonce as its base64url text, no trailing newline) into buf. Returns its length, or 0 when
 * it does not fit. garagectl signs exactly what the device verifies.
 */
size_t cmd_signed_text(char *buf, size_t buflen, const char *device, const char *door,
                       enum cmd_action action, int64_t ts, const char *nonce_b64, const char *kid);

/* A command as far as it was understood; fields are empty/zero where parsing did not reach. */
struct cmd {
	enum cmd_action action;
	bool has_action;
	char door[CMD_NAME_MAX + 1];
	size_t door_index; /* into the verifier's doors, valid when the result is CMD_OK */
	int64_t ts;
	char kid[CMD_KID_MAX + 1];
	char nonce[CMD_NONCE_TEXT_MAX + 1]; /* as received (base64url), for the audit event */
};

/*
 * The caller fills device_id, doors, ndoors, clock_skew, keys and verify, then calls
 * cmd_verifier_start(), which owns the rest with the other cmd_replay.h functions.
 */
struct cmd_verifier {
	char device_id[CMD_NAME_MAX + 1];
	char doors[CMD_MAX_DOORS][CMD_NAME_MAX + 1];
	size_t ndoors;
	uint32_t clock_skew; /* seconds */
	int64_t start_time;  /* unix seconds when the daemon started: older commands are stale */
	int64_t latest;      /* the latest "now" seen: time never runs backwards for the window */
	const struct cmd_keyring *keys;
	cmd_verify_fn verify;
	struct cmd_replay_slot replay[CMD_REPLAY_SLOTS];
};

/*
 * Judges one message from TOPIC_DOOR's command topic at the device's time NOW: returns CMD_OK
 * and fills *out, or the SPEC reason (and *out as far as it got). Order: retained first
 * (whatever else is true), then size, shape, door, key, permission, the key's validity and
 * schedule, time, replay: every cheap check before the signature, so a flood of forgeries costs
 * little. A key is judged by the time the verifier judges by (cmd_verifier_time(): the latest it
 * has seen, as the time window is: a clock set back does not revive an expired key nor move a
 * schedule), its days= and hours= by NOW's local calendar, which the caller reads for
 * cmd_verifier_now(). Only a command with a valid signature enters the replay window, so
 * forgeries cannot fill it; a key that holds its share of the window (CMD_REPLAY_PER_KEY), or a
 * full window of live nonces, refuses new commands as rate_limited rather than forget one that
 * could then be replayed.
 */
enum cmd_reason cmd_check(struct cmd_verifier *v, const char *topic_door, const uint8_t *payload,
                          size_t len, bool retained, struct cmd_now now, struct cmd *out);

#endif
