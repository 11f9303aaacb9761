/*
 * cmd_admin: signed admin messages (docs/reference.md "The admin message"): the codec and the
 * verifier that decide, from raw payload bytes published on P/D/admin, whether a change to the
 * keyring was asked for by an admin key; and the change itself, as a pure function of the ring.
 *
 * It owns the admin message's fields, its signed text, the order of its checks (a command's
 * where they apply, and not_admin) and the rules a change must keep (unknown_target,
 * over_permissive, key_exists, last_admin, too_many_keys). It shares what a command has too: the
 * strict JSON reader (cmd_json.h), the key lines (cmd_keys.h), and the verifier with its time and
 * replay windows (cmd.h, cmd_replay.h), since a nonce is a nonce whichever message used it. It
 * never does I/O, never reads a clock, never allocates: the door half writes the new
 * authorized_keys and swaps its keyring.
 */
#ifndef GARAGED_CORE_CMD_ADMIN_H
#define GARAGED_CORE_CMD_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmd.h"
#include "cmd_keys.h"
#include "cmd_names.h"
#include "core_config.h"

enum cmd_admin_op {
	CMD_ADMIN_ADD = 0, /* arg: one authorized_keys line, the key to add */
	CMD_ADMIN_REMOVE,  /* arg: the kid of the key to remove */
	CMD_ADMIN_RENEW,   /* arg: empty; reserved for certificate renewal (issue 17) */
	CMD_ADMIN_OP_COUNT,
};

const char *cmd_admin_op_name(enum cmd_admin_op op); /* "add" ...; "unknown" for others */
/* Parses "add", "remove" or "renew" from s[0..len) into *out; false for anything else. */
bool cmd_admin_op_parse(const char *s, size_t len, enum cmd_admin_op *out);

/*
 * Builds the signed text "garaged-admin-v1\n<device>\n<op>\n<arg>\n<ts>\n<nonce>\n<kid>"
 * (nonce as its base64url text, no trailing newline) into buf. Returns its length, or 0 when it
 * does not fit; CMD_ADMIN_SIGNED_TEXT_MAX bytes hold that of any admin message that fits
 * CMD_ADMIN_MAX_PAYLOAD. The signer signs exactly what the device verifies.
 */
size_t cmd_admin_signed_text(char *buf, size_t buflen, const char *device, enum cmd_admin_op op,
                             const char *arg, int64_t ts, const char *nonce_b64, const char *kid);

/* An admin message as far as it was understood; fields are empty/zero where parsing did not reach.
 */
struct cmd_admin {
	enum cmd_admin_op op;
	bool has_op;
	char target[CMD_KID_MAX + 1]; /* add: the new key's kid; remove: the kid to remove */
	struct cmd_key key;           /* add: the key its line describes (line 0) */
	int64_t ts;
	/*
	 * The time the message was judged at, as the verifier judges (cmd_verifier_now()):
	 * cmd_keyring_apply() judges the change at it, so the writer of authorized_keys passes
	 * it on with the op.
	 */
	int64_t now;
	char kid[CMD_KID_MAX + 1];          /* the signer's */
	char nonce[CMD_NONCE_TEXT_MAX + 1]; /* as received (base64url), for the audit event */
	char error[CMD_ADMIN_ERROR_MAX];    /* add: why its line was refused, when it was */
};

/*
 * Judges one message from P/D/admin at the device's time NOW with the command verifier V (its
 * device id, keys, signature primitive, time and replay windows; not its doors): returns CMD_OK
 * and fills *out, or the reason (and *out as far as it got). Order, as a command's where they
 * apply: retained (whatever else is true), too_large (over CMD_ADMIN_MAX_PAYLOAD), malformed
 * (not exactly the seven fields, or an arg that does not fit the op: an add's line is parsed
 * and its message kept in out->error), unknown_key, not_admin (the signer's line lacks admin),
 * the signer's key_not_yet_valid, key_expired and key_off_hours, stale, future, replay (one
 * window with commands), bad_signature, and rate_limited when the signer's share of the replay
 * window, or the window, is full. Only a message with a valid signature enters the replay
 * window, in its signer's share. out->now is the time it was judged at. Whether the change fits
 * the keyring is cmd_keyring_apply()'s to say.
 */
enum cmd_reason cmd_admin_check(struct cmd_verifier *v, const uint8_t *payload, size_t len,
                                bool retained, struct cmd_now now, struct cmd_admin *out);

/*
 * Whether key k could be added to RING as it is: CMD_OK, CMD_KEY_EXISTS when its kid is in the
 * ring or its public key is (under another kid: a removed key must not come back, nor a kept
 * one live on, under a second name), CMD_TOO_MANY_KEYS when the ring holds CMD_MAX_KEYS,
 * CMD_MALFORMED for a NULL ring or a key no line could hold. cmd_keyring_apply()'s add, and the
 * enrollment's last check (cmd_enroll.h), ask it.
 */
enum cmd_reason cmd_keyring_can_add(const struct cmd_keyring *ring, const struct cmd_key *k);

/*
 * The keyring RING with the change OP (as cmd_admin_check() accepted it) made at the time
 * op->now, into *out_ring: CMD_OK, or the reason the change cannot be made, and then *out_ring
 * is untouched.
 * add: unknown_key when the signer (op->kid) is not in the ring; over_permissive when the key
 * would allow more than the signer's own line (cmd_key_within(), the invitations' rule: an
 * admin key without limits may add anything, one with doors=, actions=, not_after=, days= or
 * hours= only keys inside them); key_exists when the kid or the public key is in the ring;
 * too_many_keys when the ring holds CMD_MAX_KEYS; else the key comes last, with line 0.
 * remove: unknown_target when the kid is not in the ring; last_admin when it is an admin key
 * and no other admin key in the ring is valid at op->now (its not_before= and not_after=: an
 * expired admin can never sign again, and one not valid yet cannot manage the keys now, which
 * is what the rule keeps possible; days= and hours= are not looked at, since they come round
 * within a week); else the others keep their order and the freed slot is zeroed. renew: the
 * ring as it is. malformed for an op that is none of these or an add whose key no line could
 * hold. out_ring may be ring itself. Line numbers stay those of the old text: the caller that
 * writes the new file reads it back for new ones.
 */
enum cmd_reason cmd_keyring_apply(const struct cmd_keyring *ring, const struct cmd_admin *op,
                                  struct cmd_keyring *out_ring);

#endif
