/*
 * cmd_enroll: invitations and enrollment requests (docs/reference.md "Invitations"): the codec
 * and the verifier that decide, from raw payload bytes published on P/D/enroll, whether a new
 * key may join the keyring because an admin invited it.
 *
 * An admin signs an invitation: the device, a unique id, the new key's kid and permissions
 * (never more than the inviter's own), an expiry, and a one-time Ed25519 public key `ik` whose
 * 32-byte seed travels with the invitation to the invitee and never crosses the broker. The
 * invitee's client makes its own key and publishes a request that carries the invitation, its
 * new public key, a time stamp and a nonce, signed twice over the same text: with the seed
 * (the proof that it holds the invitation's secret) and with the new key (the proof that it
 * holds that key).
 *
 * It owns the invitation's fields, JSON and signed text, the request's fields and signed text,
 * and the order of the checks. It shares the strict JSON reader (cmd_json.h), the key lines and
 * their options (cmd_keys.h), the verifier with its time and replay windows (cmd.h,
 * cmd_replay.h: one window for commands, admin messages and requests) and the keyring rules
 * (cmd_admin.h). Whether an invitation was used already is not the core's to know: that needs
 * storage, and the door half keeps it (src/door/invites.c) and checks it after this says yes.
 * It never does I/O, never reads a clock, never allocates.
 */
#ifndef GARAGED_CORE_CMD_ENROLL_H
#define GARAGED_CORE_CMD_ENROLL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmd.h"
#include "cmd_admin.h"
#include "cmd_keys.h"
#include "cmd_names.h"
#include "core_config.h"

/* An invitation, as far as it was understood; fields are empty/zero where parsing did not reach. */
struct cmd_invite {
	char device[CMD_NAME_MAX + 1];
	char id[CMD_INVITE_ID_TEXT_MAX + 1]; /* base64url of CMD_INVITE_ID_LEN random bytes */
	/*
	 * The new key as invited: its kid and its limits (actions, doors, not_before, not_after,
	 * days, hours); never admin; its pub is zero here, since the request brings it.
	 */
	struct cmd_key key;
	int64_t expires;            /* Unix seconds: the invitation is valid up to this second */
	uint8_t ik[CMD_PUBKEY_LEN]; /* the one-time key; the invitee holds its seed */
	char by[CMD_KID_MAX + 1];   /* the inviter's kid: an admin key */
	uint8_t sig[CMD_SIG_LEN];   /* the inviter's signature of cmd_invite_signed_text() */
};

/*
 * Builds the text the inviter signs,
 * "garaged-invite-v1\n<device>\n<id>\n<kid>\n<options>\n<expires>\n<ik>\n<by>", into buf: the
 * options as the new key's authorized_keys line has them after its kid (cmd_key_format(), ""
 * for a key without limits), ik as base64url without padding, no trailing newline. Returns its
 * length, or 0 when it does not fit or inv holds what no invitation can (a key no line could
 * hold, an admin one, a name outside its charset); CMD_INVITE_MAX bytes hold that of any
 * invitation.
 */
size_t cmd_invite_signed_text(char *buf, size_t buflen, const struct cmd_invite *inv);

/*
 * Writes inv as its JSON object, one line, fields in the order of docs/reference.md:
 * {"v":1,"device":..,"id":..,"kid":..,"actions":[..],"doors":"all"|[..],"not_before":..,
 *  "not_after":..,"days":[..],"hours":..,"expires":N,"ik":..,"by":..,"sig":..}
 * (not_before to hours only when the key has them). Returns the length, or 0 when buf is too
 * small or inv is not an invitation (as above); CMD_INVITE_MAX bytes always hold it.
 */
size_t cmd_invite_json(const struct cmd_invite *inv, char *buf, size_t buflen);

/*
 * Parses an invitation's JSON js[0..len) into *inv, each field as far as it is valid: true
 * when it is exactly the object cmd_invite_json() describes (in any order and spacing, no
 * escapes, not_before to hours optional), at most CMD_INVITE_MAX bytes. It checks no signature:
 * cmd_enroll_check() does, and garagectl enroll reads the invitation it was given with it.
 */
bool cmd_invite_parse(struct cmd_invite *inv, const char *js, size_t len);

/*
 * Builds the text both signatures of a request cover,
 * "garaged-enroll-v1\n<device>\n<id>\n<kid>\n<pub>\n<ts>\n<nonce>", into buf: id and kid the
 * invitation's, pub the new key as standard base64 (as in authorized_keys), nonce its base64url
 * text, no trailing newline. Returns its length, or 0 when it does not fit;
 * CMD_ENROLL_SIGNED_TEXT_MAX bytes hold that of any request.
 */
size_t cmd_enroll_signed_text(char *buf, size_t buflen, const char *device, const char *id,
                              const char *kid, const char *pub_b64, int64_t ts,
                              const char *nonce_b64);

/* A request as far as it was understood; fields are empty/zero where parsing did not reach. */
struct cmd_enroll {
	/*
	 * The invitation it carries. inv.key is the new key: the invitation's kid and limits with
	 * the request's public key, ready for cmd_keyring_apply() (cmd_enroll_admin_op()).
	 */
	struct cmd_invite inv;
	int64_t ts;
	int64_t now; /* the time it was judged at (cmd_verifier_now()), for cmd_keyring_apply() */
	char nonce[CMD_NONCE_TEXT_MAX + 1]; /* as received (base64url) */
};

/*
 * Judges one message from P/D/enroll at the device's time NOW with the command verifier V (its
 * device id, keys, signature primitive, time and replay windows; not its doors): returns CMD_OK
 * and fills *out, or the reason (and *out as far as it got). OUT must not be NULL (the
 * invitation is read into it; CMD_MALFORMED if it is). Order: retained (whatever else is
 * true), too_large (over CMD_ENROLL_MAX_PAYLOAD), malformed (not exactly the seven fields, an
 * invitation that does not decode or parse, a new key that is the invitation's one-time key),
 * wrong_device (the invitation is for another device), unknown_key (no key has the inviter's
 * kid), not_admin (the inviter's line lacks admin), the inviter's key_not_yet_valid,
 * key_expired and key_off_hours, bad_invitation (the inviter's signature), invitation_expired,
 * over_permissive (the new key would allow more than the inviter's: cmd_key_within()), stale,
 * future, replay (one window with commands and admin messages), bad_proof (the signature by the
 * invitation's one-time key), bad_signature (the signature by the new key), rate_limited when
 * the inviter's share of the replay window, or the window, is full, then key_exists and
 * too_many_keys (cmd_keyring_can_add()). Only a request with both signatures valid enters the
 * replay window, in its inviter's share. Times are judged as a key's are: by the latest time
 * the verifier has seen; out->now is that time.
 *
 * Its stack holds CMD_INVITE_MAX bytes for the invitation and the signed texts, and the
 * invitation's CMD_INVITE_JSON_TOKENS jsmn tokens while it is read.
 */
enum cmd_reason cmd_enroll_check(struct cmd_verifier *v, const uint8_t *payload, size_t len,
                                 bool retained, struct cmd_now now, struct cmd_enroll *out);

/*
 * The keyring change an accepted request asks for, as cmd_admin_check() would have read an
 * admin's add of the same key: op add, target the new kid, key the new key. For
 * cmd_keyring_apply() and the door half's writer of authorized_keys.
 */
void cmd_enroll_admin_op(const struct cmd_enroll *e, struct cmd_admin *op);

#endif
