/*
 * cmd: the command's JSON, its signed text and the order of the checks (see cmd.h for what it
 * owns).
 *
 * Every byte that reaches cmd_check() is hostile until the signature says otherwise, so the
 * parser is deliberately narrower than JSON: one flat object, the seven fields exactly once,
 * no escapes, no bytes before the '{' or after the '}'. jsmn finds the tokens; the bytes between
 * them are then checked here one by one, because jsmn 1.1.0 alone accepts some non-JSON with
 * token counts that look right ({,"a":"b"}, {"a":"b",}, {"a":"b",,"c":"d"}, {"a"::"b"}). Text
 * is built with text.h rather than snprintf.
 *
 * It never does I/O, never reads a clock and never allocates; the largest thing on the stack is
 * the jsmn token array of cmd_check().
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base64.h"
#include "cmd.h"
#include "cmd_keys.h"
#include "cmd_names.h"
#include "cmd_replay.h"
#include "text.h"

/*
 * jsmn is header-only and included here and nowhere else; static keeps its symbols out of the
 * library's namespace. The build defines JSMN_STRICT (bare words are not values), but the
 * checks below do not rely on it: every byte between tokens is checked again.
 */
#define JSMN_STATIC
#include <jsmn.h>

#define NOT_FOUND SIZE_MAX

_Static_assert(CMD_JSON_TOKENS >= 15, "a valid command has 15 JSON tokens");

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

/* A field's value as found in the payload; count says how often its key appeared. */
struct field_value {
	const char *s;
	size_t n;
	bool is_string;
	unsigned int count;
};

/* The longest base64url texts a valid nonce and signature can have. */
#define NONCE_TEXT_MAX ((CMD_NONCE_MAX * 4U + 2U) / 3U)
#define SIG_TEXT_MAX   ((CMD_SIG_LEN * 4U + 2U) / 3U)
_Static_assert(NONCE_TEXT_MAX == CMD_NONCE_TEXT_MAX, "struct cmd's nonce holds the longest text");

_Static_assert(sizeof("garaged-cmd-v1\n") - 1 + CMD_NAME_MAX + 1 + CMD_NAME_MAX + 1 +
                       sizeof("toggle") - 1 + 1 + 12 + 1 + NONCE_TEXT_MAX + 1 + CMD_KID_MAX <
                   CMD_SIGNED_TEXT_MAX,
               "the longest text a valid command can sign fits CMD_SIGNED_TEXT_MAX");

static bool
is_json_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static size_t
skip_json_ws(const char *js, size_t len, size_t pos)
{
	while (pos < len && is_json_ws(js[pos]))
		pos++;
	return pos;
}

/* Where a token's bytes begin and end in the text: a string token excludes its quotes. */
static size_t
tok_begin(const jsmntok_t *t)
{
	return (size_t)t->start - (t->type == JSMN_STRING ? 1U : 0U);
}

static size_t
tok_after(const jsmntok_t *t)
{
	return (size_t)t->end + (t->type == JSMN_STRING ? 1U : 0U);
}

/*
 * True iff js[0..len) is exactly one JSON object whose values are all strings or primitives:
 * '{' first, '}' last, and between the tokens nothing but JSON whitespace and the one ':' or
 * ',' that belongs there. jsmn stops at a NUL byte, so an embedded NUL never gets this far.
 * On success tok[1 + 2i] and tok[2 + 2i] are the i-th key and value, for i < *npairs.
 */
static bool
json_flat_object(const char *js, size_t len, jsmntok_t *tok, size_t *npairs)
{
	jsmn_parser p;
	size_t n;
	size_t pos;
	int r;

	if (len < 2 || js[0] != '{' || js[len - 1] != '}')
		return false;
	jsmn_init(&p);
	r = jsmn_parse(&p, js, len, tok, CMD_JSON_TOKENS);
	if (r < 1 || tok[0].type != JSMN_OBJECT || tok[0].start != 0 || tok[0].end != (int)len ||
	    tok[0].size < 0 || r != 1 + 2 * tok[0].size)
		return false;
	n = (size_t)tok[0].size;

	pos = 1;
	for (size_t i = 0; i < n; i++) {
		const jsmntok_t *k = &tok[1 + 2 * i];
		const jsmntok_t *val = &tok[2 + 2 * i];

		if (k->type != JSMN_STRING || k->size != 1 || k->start < 1 || k->end < k->start)
			return false;
		else if ((val->type != JSMN_STRING && val->type != JSMN_PRIMITIVE) ||
		         val->size != 0 || val->start < 1 || val->end < val->start)
			return false;

		pos = skip_json_ws(js, len, pos);
		if (pos != tok_begin(k))
			return false;
		pos = skip_json_ws(js, len, tok_after(k));
		if (pos >= len || js[pos] != ':')
			return false;
		pos = skip_json_ws(js, len, pos + 1);
		if (pos != tok_begin(val))
			return false;
		pos = skip_json_ws(js, len, tok_after(val));
		if (i + 1 < n) {
			if (pos >= len || js[pos] != ',')
				return false;
			pos++;
		}
	}
	pos = skip_json_ws(js, len, pos);
	if (pos != len - 1)
		return false;
	*npairs = n;
	return true;
}

/* ts: 1 to 12 decimal digits, no sign, fraction, exponent or leading zero: one spelling. */
static bool
parse_ts(const char *s, size_t n, int64_t *ts)
{
	int64_t t = 0;

	if (n < 1 || n > 12 || (n > 1 && s[0] == '0'))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		t = t * 10 + (s[i] - '0');
	}
	*ts = t;
	return true;
}

/* The value of a field that appeared exactly once with the expected JSON type, or NULL. */
static const struct field_value *
field_get(const struct field_value *f, enum field which, bool want_string)
{
	if (f[which].count != 1 || f[which].is_string != want_string)
		return NULL;
	return &f[which];
}

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

/* The length of a string NUL-terminated within cap bytes, or NOT_FOUND if it is not. */
static size_t
bounded_len(const char *s, size_t cap)
{
	/* A loop, not memchr: nothing past the NUL of a short string may be read. */
	for (size_t i = 0; i < cap; i++) {
		if (s[i] == '\0')
			return i;
	}
	return NOT_FOUND;
}

/*
 * Reads the seven fields into *out as far as each is valid, whatever is wrong elsewhere, so a
 * rejection can still say which door, key and action it was about. The decoded nonce and the
 * signature go to the caller's buffers. Returns false if any field is missing, repeated, of
 * the wrong type or out of its charset, or any other key is present. No value may contain a
 * backslash: none of the charsets has one, so JSON escapes are refused without decoding them,
 * and the bytes checked are the bytes signed.
 */
static bool
read_fields(const char *js, const jsmntok_t *tok, size_t npairs, struct cmd *out,
            uint8_t nonce[CMD_NONCE_MAX], size_t *nonce_len, char nonce_text[NONCE_TEXT_MAX + 1],
            uint8_t sig[CMD_SIG_LEN])
{
	struct field_value f[F_COUNT];
	const struct field_value *x;
	bool ok = true;
	int r;

	memset(f, 0, sizeof(f));
	for (size_t i = 0; i < npairs; i++) {
		const jsmntok_t *k = &tok[1 + 2 * i];
		const jsmntok_t *val = &tok[2 + 2 * i];
		size_t klen = (size_t)(k->end - k->start);
		unsigned int which;

		for (which = 0; which < F_COUNT; which++) {
			if (strlen(field_names[which]) == klen &&
			    memcmp(field_names[which], js + k->start, klen) == 0)
				break;
		}
		if (which == F_COUNT) {
			ok = false; /* a key that is not ours, however it is spelt */
			continue;
		}
		f[which].count++;
		f[which].s = js + val->start;
		f[which].n = (size_t)(val->end - val->start);
		f[which].is_string = val->type == JSMN_STRING;
	}

	x = field_get(f, F_V, false);
	if (x == NULL || x->n != 1 || x->s[0] != '1')
		ok = false;

	x = field_get(f, F_DOOR, true);
	if (x != NULL && cmd_name_valid(x->s, x->n))
		cmd_name_copy(out->door, x->s, x->n);
	else
		ok = false;

	x = field_get(f, F_ACTION, true);
	if (x != NULL && cmd_action_parse(x->s, x->n, &out->action))
		out->has_action = true;
	else
		ok = false;

	x = field_get(f, F_TS, false);
	if (x == NULL || !parse_ts(x->s, x->n, &out->ts))
		ok = false;

	x = field_get(f, F_KID, true);
	if (x != NULL && cmd_kid_valid(x->s, x->n))
		cmd_name_copy(out->kid, x->s, x->n);
	else
		ok = false;

	x = field_get(f, F_NONCE, true);
	r = -1;
	if (x != NULL && x->n <= NONCE_TEXT_MAX)
		r = base64_decode(BASE64_URL_UNPADDED, x->s, x->n, nonce, CMD_NONCE_MAX);
	if (r >= (int)CMD_NONCE_MIN && r <= (int)CMD_NONCE_MAX) {
		*nonce_len = (size_t)r;
		memcpy(nonce_text, x->s, x->n);
		nonce_text[x->n] = '\0';
		/* Also for the audit event: whose answer it is, for the sender to match. */
		cmd_name_copy(out->nonce, x->s, x->n);
	} else {
		ok = false;
	}

	x = field_get(f, F_SIG, true);
	if (x == NULL || x->n != SIG_TEXT_MAX ||
	    base64_decode(BASE64_URL_UNPADDED, x->s, x->n, sig, CMD_SIG_LEN) != (int)CMD_SIG_LEN)
		ok = false;
	return ok;
}

enum cmd_reason
cmd_check(struct cmd_verifier *v, const char *topic_door, const uint8_t *payload, size_t len,
          bool retained, int64_t now, struct cmd *out)
{
	struct cmd scratch;
	jsmntok_t tok[CMD_JSON_TOKENS];
	size_t npairs = 0;
	uint8_t nonce[CMD_NONCE_MAX];
	size_t nonce_len = 0;
	char nonce_text[NONCE_TEXT_MAX + 1];
	uint8_t sig[CMD_SIG_LEN];
	char signed_text[CMD_SIGNED_TEXT_MAX];
	size_t signed_len;
	const struct cmd_key *key;
	size_t door_len, kid_len, topic_len, topic_index;
	struct cmd_replay_ticket ticket;
	enum cmd_reason reason;

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
	if (!json_flat_object((const char *)payload, len, tok, &npairs))
		return CMD_MALFORMED;
	if (!read_fields((const char *)payload, tok, npairs, out, nonce, &nonce_len, nonce_text,
	                 sig))
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
	topic_len = topic_door != NULL ? bounded_len(topic_door, CMD_NAME_MAX + 1) : NOT_FOUND;
	topic_index = topic_len != NOT_FOUND ? find_door(v, topic_door, topic_len) : NOT_FOUND;
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

	/* Time and replay: cheap too, but the nonce only enters the window after the signature. */
	reason = cmd_replay_check(v, out->ts, nonce, nonce_len, now, &ticket);
	if (reason != CMD_OK)
		return reason;

	/* Everything cheap has passed; only now is the one expensive check made. */
	if (v->verify == NULL || bounded_len(v->device_id, sizeof(v->device_id)) == NOT_FOUND)
		return CMD_BAD_SIGNATURE;
	signed_len = cmd_signed_text(signed_text, sizeof(signed_text), v->device_id, out->door,
	                             out->action, out->ts, nonce_text, out->kid);
	if (signed_len == 0 || !v->verify(sig, (const uint8_t *)signed_text, signed_len, key->pub))
		return CMD_BAD_SIGNATURE;

	/*
	 * Remember the nonce until its command could no longer pass the time check. With no room
	 * left, refusing is the safe side: forgetting a live nonce would let its command replay.
	 */
	if (!cmd_replay_commit(v, &ticket))
		return CMD_RATE_LIMITED;
	return CMD_OK;
}
