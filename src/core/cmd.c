/*
 * cmd: the command's fields, its signed text and the order of the checks (see cmd.h for what it
 * owns).
 *
 * Every byte that reaches cmd_check() is hostile until the signature says otherwise, so the
 * command is deliberately narrower than JSON: one flat object (cmd_json.c reads it), the seven
 * fields exactly once, no escapes. Text is built with text.h rather than snprintf.
 *
 * It never does I/O, never reads a clock and never allocates; the largest things on the stack
 * are the signed text of cmd_check() and, below it, cmd_json.c's jsmn tokens.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cmd.h"
#include "cmd_json.h"
#include "cmd_keys.h"
#include "cmd_names.h"
#include "cmd_replay.h"
#include "text.h"

#define NOT_FOUND SIZE_MAX

size_t
cmd_signed_text(char *buf, size_t buflen, const char *device, const char *door,
                enum cmd_action action, int64_t ts, const char *nonce_b64, const char *kid)
{
	struct text t;

	if (buf == NULL || device == NULL || door == NULL || nonce_b64 == NULL || kid == NULL ||
	    (unsigned int)action >= CMD_ACTION_COUNT)
		return 0;
	text_init(&t, buf, buflen);
	text_puts(&t, "garaged-cmd-v1\n");
	text_puts(&t, device);
	text_puts(&t, "\n");
	text_puts(&t, door);
	text_puts(&t, "\n");
	text_puts(&t, cmd_action_name(action));
	text_puts(&t, "\n");
	text_put_i64(&t, ts);
	text_puts(&t, "\n");
	text_puts(&t, nonce_b64);
	text_puts(&t, "\n");
	text_puts(&t, kid);
	if (t.full) {
		if (buflen != 0)
			buf[0] = '\0';
		return 0;
	}
	return t.len;
}

/* ---- the command's JSON ------------------------------------------------------------------- */

enum field {
	F_V = 0,
	F_DOOR,
	F_ACTION,
	F_TS,
	F_NONCE,
	F_KID,
	F_SIG,
	F_COUNT,
};

static const char *const field_names[F_COUNT] = {"v",     "door", "action", "ts",
                                                 "nonce", "kid",  "sig"};

_Static_assert(sizeof("garaged-cmd-v1\n") - 1 + CMD_NAME_MAX + 1 + CMD_NAME_MAX + 1 +
                       sizeof("toggle") - 1 + 1 + 12 + 1 + CMD_NONCE_TEXT_MAX + 1 + CMD_KID_MAX <
                   CMD_SIGNED_TEXT_MAX,
               "the longest text a valid command can sign fits CMD_SIGNED_TEXT_MAX");

/* ---- the verifier ------------------------------------------------------------------------- */

static size_t
find_door(const struct cmd_verifier *v, const char *s, size_t n)
{
	size_t ndoors = v->ndoors < CMD_MAX_DOORS ? v->ndoors : CMD_MAX_DOORS;

	for (size_t i = 0; i < ndoors; i++) {
		if (cmd_name_eq(s, n, v->doors[i], sizeof(v->doors[i])))
			return i;
	}
	return NOT_FOUND;
}

/*
 * Reads the seven fields into *out as far as each is valid, whatever is wrong elsewhere, so a
 * rejection can still say which door, key and action it was about. The decoded nonce and the
 * signature go to the caller's buffers. Returns false if any field is missing, repeated, of
 * the wrong type or out of its charset (another key is cmd_check()'s to see). No value may contain
 * a backslash: none of the charsets has one, so JSON escapes are refused without decoding them, and
 * the bytes checked are the bytes signed.
 */
static bool
read_fields(const struct cmd__field *f, struct cmd *out, uint8_t nonce[CMD_NONCE_MAX],
            size_t *nonce_len, char nonce_text[CMD_NONCE_TEXT_MAX + 1], uint8_t sig[CMD_SIG_LEN])
{
	const struct cmd__field *x;
	bool ok = true;

	if (!cmd__read_v(&f[F_V]))
		ok = false;

	x = cmd__field_get(&f[F_DOOR], true);
	if (x != NULL && cmd_name_valid(x->s, x->n))
		cmd_name_copy(out->door, x->s, x->n);
	else
		ok = false;

	x = cmd__field_get(&f[F_ACTION], true);
	if (x != NULL && cmd_action_parse(x->s, x->n, &out->action))
		out->has_action = true;
	else
		ok = false;

	if (!cmd__read_ts(&f[F_TS], &out->ts))
		ok = false;

	if (!cmd__read_kid(&f[F_KID], out->kid))
		ok = false;

	/* The nonce also goes to the audit event: whose answer it is, for the sender to match. */
	if (cmd__read_nonce(&f[F_NONCE], nonce, nonce_len, nonce_text))
		cmd_name_copy(out->nonce, nonce_text, strlen(nonce_text));
	else
		ok = false;

	if (!cmd__read_sig(&f[F_SIG], sig))
		ok = false;
	return ok;
}

enum cmd_reason
cmd_check(struct cmd_verifier *v, const char *topic_door, const uint8_t *payload, size_t len,
          bool retained, struct cmd_now now, struct cmd *out)
{
	struct cmd scratch;
	struct cmd__field f[F_COUNT];
	uint8_t nonce[CMD_NONCE_MAX];
	size_t nonce_len = 0;
	char nonce_text[CMD_NONCE_TEXT_MAX + 1];
	uint8_t sig[CMD_SIG_LEN];
	char signed_text[CMD_SIGNED_TEXT_MAX];
	size_t signed_len;
	const struct cmd_key *key;
	size_t door_len, kid_len, topic_len, topic_index;
	struct cmd_replay_ticket ticket;
	enum cmd_reason reason;
	int json;

	if (out == NULL)
		out = &scratch;
	memset(out, 0, sizeof(*out));

	/* A retained message is replayed by the broker to every new subscriber: never act on it. */
	if (retained)
		return CMD_RETAINED;
	else if (len > CMD_MAX_PAYLOAD)
		return CMD_TOO_LARGE;
	else if (payload == NULL)
		return CMD_MALFORMED;
	json = cmd__json_fields((const char *)payload, len, field_names, F_COUNT, f);
	if (json < 0)
		return CMD_MALFORMED;
	/* The fields are read even after an unknown key, so that the event can say who it was. */
	if (!read_fields(f, out, nonce, &nonce_len, nonce_text, sig) || json != 0)
		return CMD_MALFORMED;
	/* A verifier nobody configured has no doors: fail closed, and say so. */
	if (v == NULL)
		return CMD_UNKNOWN_DOOR;

	/*
	 * The topic is not signed, but the daemon acts on the door it subscribed for as well as
	 * on the one in the payload; a disagreement is never resolved in anybody's favour.
	 */
	door_len = strlen(out->door);
	out->door_index = find_door(v, out->door, door_len);
	if (out->door_index == NOT_FOUND) {
		out->door_index = 0;
		return CMD_UNKNOWN_DOOR;
	}
	topic_len = topic_door != NULL ? cmd__bounded_len(topic_door, CMD_NAME_MAX + 1) : SIZE_MAX;
	topic_index = topic_len != SIZE_MAX ? find_door(v, topic_door, topic_len) : NOT_FOUND;
	if (topic_index == NOT_FOUND)
		return CMD_UNKNOWN_DOOR;
	else if (topic_index != out->door_index)
		return CMD_MALFORMED;

	kid_len = strlen(out->kid);
	key = cmd_keyring_find(v->keys, out->kid, kid_len);
	if (key == NULL)
		return CMD_UNKNOWN_KEY;
	else if (!cmd_key_allows(key, out->action, out->door, door_len))
		return CMD_FORBIDDEN;
	reason = cmd_key_valid_at(key, cmd_verifier_time(v, now));
	if (reason != CMD_OK)
		return reason;

	/* Time and replay: cheap too, but the nonce only enters the window after the signature. */
	reason = cmd_replay_check(v, out->ts, nonce, nonce_len, now.unix_time, &ticket);
	if (reason != CMD_OK)
		return reason;

	/* Everything cheap has passed; only now is the one expensive check made. */
	if (v->verify == NULL || cmd__bounded_len(v->device_id, sizeof(v->device_id)) == SIZE_MAX)
		return CMD_BAD_SIGNATURE;
	signed_len = cmd_signed_text(signed_text, sizeof(signed_text), v->device_id, out->door,
	                             out->action, out->ts, nonce_text, out->kid);
	if (signed_len == 0 || !v->verify(sig, (const uint8_t *)signed_text, signed_len, key->pub))
		return CMD_BAD_SIGNATURE;

	/*
	 * Remember the nonce until its command could no longer pass the time check. With no room
	 * left, refusing is the safe side: forgetting a live nonce would let its command replay.
	 */
	if (!cmd_replay_commit(v, &ticket, key->pub))
		return CMD_RATE_LIMITED;
	return CMD_OK;
}
