/*
 * cmd_admin: signed admin messages and the keyring changes they ask for (see cmd_admin.h for
 * what it owns).
 *
 * The message is a command's sibling: the same flat JSON with seven fields (cmd_json.c), the
 * same v, ts, nonce and sig, and a signed text of seven lines whose first names the message
 * type, so that a command's signature can never pass for an admin message's or the reverse.
 * The one field that is new is arg, which for an add carries an authorized_keys line: spaces,
 * '=', ',', ':' and base64's '+' and '/', but never a byte outside printable ASCII, a quote or a
 * backslash, so that the signed text stays seven lines and the bytes checked are the bytes
 * signed.
 *
 * It never does I/O, never reads a clock and never allocates; the largest thing on the stack is
 * the signed text of cmd_admin_check(), CMD_ADMIN_SIGNED_TEXT_MAX bytes.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cmd.h"
#include "cmd_admin.h"
#include "cmd_json.h"
#include "cmd_keys.h"
#include "cmd_names.h"
#include "cmd_replay.h"
#include "text.h"

static const char *const op_names[CMD_ADMIN_OP_COUNT] = {"add", "remove", "renew"};

enum field {
	F_V = 0,
	F_OP,
	F_ARG,
	F_TS,
	F_NONCE,
	F_KID,
	F_SIG,
	F_COUNT,
};

static const char *const field_names[F_COUNT] = {"v", "op", "arg", "ts", "nonce", "kid", "sig"};

/* The fixed bytes of the signed text, and of the smallest payload around the same fields. */
#define SIGNED_HEAD "garaged-admin-v1\n"
#define JSON_FIXED                                                                                 \
	"{\"v\":1,\"op\":\"\",\"arg\":\"\",\"ts\":,\"nonce\":\"\",\"kid\":\"\",\"sig\":\""         \
	"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"" \
	"}"

_Static_assert(sizeof(SIGNED_HEAD) - 1 + CMD_NAME_MAX + 6 < sizeof(JSON_FIXED) - 1,
               "an admin message's signed text is shorter than its payload, so "
               "CMD_ADMIN_SIGNED_TEXT_MAX (the payload's limit) holds it and its NUL");

const char *
cmd_admin_op_name(enum cmd_admin_op op)
{
	if ((unsigned int)op < CMD_ADMIN_OP_COUNT)
		return op_names[op];
	return "unknown";
}

bool
cmd_admin_op_parse(const char *s, size_t len, enum cmd_admin_op *out)
{
	if (s == NULL)
		return false;
	for (unsigned int op = 0; op < CMD_ADMIN_OP_COUNT; op++) {
		if (strlen(op_names[op]) == len && memcmp(op_names[op], s, len) == 0) {
			if (out != NULL)
				*out = (enum cmd_admin_op)op;
			return true;
		}
	}
	return false;
}

/* cmd_admin_signed_text() with the arg as arg[0..arg_len), which need not end in a NUL. */
static size_t
signed_text(char *buf, size_t buflen, const char *device, enum cmd_admin_op op, const char *arg,
            size_t arg_len, int64_t ts, const char *nonce_b64, const char *kid)
{
	struct text t;

	if (buf == NULL || device == NULL || arg == NULL || nonce_b64 == NULL || kid == NULL ||
	    (unsigned int)op >= CMD_ADMIN_OP_COUNT)
		return 0;
	text_init(&t, buf, buflen);
	text_puts(&t, SIGNED_HEAD);
	text_puts(&t, device);
	text_puts(&t, "\n");
	text_puts(&t, op_names[op]);
	text_puts(&t, "\n");
	text_putn(&t, arg, arg_len);
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

size_t
cmd_admin_signed_text(char *buf, size_t buflen, const char *device, enum cmd_admin_op op,
                      const char *arg, int64_t ts, const char *nonce_b64, const char *kid)
{
	return signed_text(buf, buflen, device, op, arg, arg != NULL ? strlen(arg) : 0, ts,
	                   nonce_b64, kid);
}

/* ---- the message -------------------------------------------------------------------------- */

/* An arg's bytes: printable ASCII without a quote or a backslash. */
static bool
arg_charset(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] < 0x20 || s[i] > 0x7e || s[i] == '"' || s[i] == '\\')
			return false;
	}
	return true;
}

/* The arg as its op wants it: an add's key line, a remove's kid, a renew's nothing. */
static bool
read_arg(const struct cmd__field *f, struct cmd_admin *out)
{
	struct text e;

	f = cmd__field_get(f, true);
	if (f == NULL || !out->has_op)
		return false;
	switch (out->op) {
	case CMD_ADMIN_ADD:
		/* The line parser says why a line is wrong; the bytes no line has, this says. */
		if (f->n <= CMD_KEYS_LINE_MAX && !arg_charset(f->s, f->n)) {
			text_init(&e, out->error, sizeof(out->error));
			text_puts(&e, "the line has a control byte, a quote, a backslash or a "
			              "byte outside ASCII: no key line has one");
			return false;
		} else if (cmd_key_parse(&out->key, f->s, f->n, out->error, sizeof(out->error)) !=
		           0) {
			memset(&out->key, 0, sizeof(out->key));
			return false;
		}
		memcpy(out->target, out->key.kid, sizeof(out->target));
		return true;
	case CMD_ADMIN_REMOVE:
		if (!cmd_kid_valid(f->s, f->n))
			return false;
		cmd_name_copy(out->target, f->s, f->n);
		return true;
	case CMD_ADMIN_RENEW:
	default:
		return f->n == 0;
	}
}

/*
 * Reads the seven fields into *out as far as each is valid, whatever is wrong elsewhere, so a
 * rejection can still say who asked for what. The nonce and signature go to the caller's
 * buffers, and the arg's bytes to *arg and *arg_len. False if any field is missing, repeated,
 * of the wrong type or out of its charset, or the arg does not fit the op.
 */
static bool
read_fields(const struct cmd__field *f, struct cmd_admin *out, const char **arg, size_t *arg_len,
            uint8_t nonce[CMD_NONCE_MAX], size_t *nonce_len,
            char nonce_text[CMD_NONCE_TEXT_MAX + 1], uint8_t sig[CMD_SIG_LEN])
{
	const struct cmd__field *x;
	bool ok = true;

	if (!cmd__read_v(&f[F_V]))
		ok = false;

	x = cmd__field_get(&f[F_OP], true);
	if (x != NULL && cmd_admin_op_parse(x->s, x->n, &out->op))
		out->has_op = true;
	else
		ok = false;

	if (read_arg(&f[F_ARG], out)) {
		*arg = f[F_ARG].s;
		*arg_len = f[F_ARG].n;
	} else {
		ok = false;
	}

	if (!cmd__read_ts(&f[F_TS], &out->ts))
		ok = false;

	if (!cmd__read_kid(&f[F_KID], out->kid))
		ok = false;

	if (cmd__read_nonce(&f[F_NONCE], nonce, nonce_len, nonce_text))
		cmd_name_copy(out->nonce, nonce_text, strlen(nonce_text));
	else
		ok = false;

	if (!cmd__read_sig(&f[F_SIG], sig))
		ok = false;
	return ok;
}

enum cmd_reason
cmd_admin_check(struct cmd_verifier *v, const uint8_t *payload, size_t len, bool retained,
                struct cmd_now now, struct cmd_admin *out)
{
	struct cmd_admin scratch;
	struct cmd__field f[F_COUNT];
	const char *arg = NULL;
	size_t arg_len = 0;
	uint8_t nonce[CMD_NONCE_MAX];
	size_t nonce_len = 0;
	char nonce_text[CMD_NONCE_TEXT_MAX + 1];
	uint8_t sig[CMD_SIG_LEN];
	char signed_buf[CMD_ADMIN_SIGNED_TEXT_MAX];
	size_t signed_len;
	const struct cmd_key *key;
	struct cmd_replay_ticket ticket;
	enum cmd_reason reason;
	int json;

	if (out == NULL)
		out = &scratch;
	memset(out, 0, sizeof(*out));

	/* As for a command: the broker hands a retained message to every new subscriber. */
	if (retained)
		return CMD_RETAINED;
	else if (len > CMD_ADMIN_MAX_PAYLOAD)
		return CMD_TOO_LARGE;
	else if (payload == NULL)
		return CMD_MALFORMED;
	json = cmd__json_fields((const char *)payload, len, field_names, F_COUNT, f);
	if (json < 0)
		return CMD_MALFORMED;
	if (!read_fields(f, out, &arg, &arg_len, nonce, &nonce_len, nonce_text, sig) || json != 0)
		return CMD_MALFORMED;

	/* A verifier nobody configured knows no keys: fail closed. */
	key = v != NULL ? cmd_keyring_find(v->keys, out->kid, strlen(out->kid)) : NULL;
	if (key == NULL)
		return CMD_UNKNOWN_KEY;
	else if (!key->admin)
		return CMD_NOT_ADMIN;
	out->now = cmd_verifier_now(v, now.unix_time);
	reason = cmd_key_valid_at(key, cmd_verifier_time(v, now));
	if (reason != CMD_OK)
		return reason;

	/* One replay window for commands and admin messages: a nonce is a nonce. */
	reason = cmd_replay_check(v, out->ts, nonce, nonce_len, now.unix_time, &ticket);
	if (reason != CMD_OK)
		return reason;

	if (v->verify == NULL || cmd__bounded_len(v->device_id, sizeof(v->device_id)) == SIZE_MAX)
		return CMD_BAD_SIGNATURE;
	signed_len = signed_text(signed_buf, sizeof(signed_buf), v->device_id, out->op, arg,
	                         arg_len, out->ts, nonce_text, out->kid);
	if (signed_len == 0 || !v->verify(sig, (const uint8_t *)signed_buf, signed_len, key->pub))
		return CMD_BAD_SIGNATURE;

	if (!cmd_replay_commit(v, &ticket, key->pub))
		return CMD_RATE_LIMITED;
	return CMD_OK;
}

/* ---- the change --------------------------------------------------------------------------- */

/* True iff k is inside its not_before= and not_after= at T (both seconds included). */
static bool
usable_at(const struct cmd_key *k, int64_t t)
{
	return (!k->has_not_before || t >= k->not_before) &&
	       (!k->has_not_after || t <= k->not_after);
}

/* Admin keys of the ring's first nkeys, but SKIP, that may sign at T. */
static size_t
count_usable_admins(const struct cmd_keyring *ring, size_t nkeys, const struct cmd_key *skip,
                    int64_t t)
{
	size_t n = 0;

	for (size_t i = 0; i < nkeys; i++)
		n += &ring->keys[i] != skip && ring->keys[i].admin && usable_at(&ring->keys[i], t);
	return n;
}

enum cmd_reason
cmd_keyring_can_add(const struct cmd_keyring *ring, const struct cmd_key *k)
{
	size_t nkeys;

	if (ring == NULL || !cmd_key_well_formed(k))
		return CMD_MALFORMED;
	nkeys = ring->nkeys < CMD_MAX_KEYS ? ring->nkeys : CMD_MAX_KEYS;
	if (cmd_keyring_find(ring, k->kid, cmd__bounded_len(k->kid, sizeof(k->kid))) != NULL)
		return CMD_KEY_EXISTS;
	for (size_t i = 0; i < nkeys; i++) {
		if (memcmp(ring->keys[i].pub, k->pub, sizeof(k->pub)) == 0)
			return CMD_KEY_EXISTS;
	}
	if (nkeys == CMD_MAX_KEYS)
		return CMD_TOO_MANY_KEYS;
	return CMD_OK;
}

enum cmd_reason
cmd_keyring_apply(const struct cmd_keyring *ring, const struct cmd_admin *op,
                  struct cmd_keyring *out_ring)
{
	const struct cmd_key *k, *signer;
	enum cmd_reason reason;
	size_t nkeys, at;

	if (ring == NULL || op == NULL || out_ring == NULL || !op->has_op)
		return CMD_MALFORMED;
	nkeys = ring->nkeys < CMD_MAX_KEYS ? ring->nkeys : CMD_MAX_KEYS;

	/* Every reason is found before *out_ring is touched, which may be *ring. */
	switch (op->op) {
	case CMD_ADMIN_ADD:
		/*
		 * Admin limits mean something only if an admin cannot hand out more than it holds:
		 * the same rule as for an invitation, judged against the signer's line in RING.
		 */
		signer =
		    cmd_keyring_find(ring, op->kid, cmd__bounded_len(op->kid, sizeof(op->kid)));
		if (signer == NULL)
			return CMD_UNKNOWN_KEY;
		else if (cmd_key_well_formed(&op->key) && !cmd_key_within(&op->key, signer))
			return CMD_OVER_PERMISSIVE;
		reason = cmd_keyring_can_add(ring, &op->key);
		if (reason != CMD_OK)
			return reason;
		if (out_ring != ring)
			*out_ring = *ring;
		out_ring->keys[nkeys] = op->key;
		out_ring->keys[nkeys].line = 0;
		out_ring->nkeys = nkeys + 1;
		return CMD_OK;
	case CMD_ADMIN_REMOVE:
		k = cmd_keyring_find(ring, op->target,
		                     cmd__bounded_len(op->target, sizeof(op->target)));
		if (k == NULL)
			return CMD_UNKNOWN_TARGET;
		/*
		 * Without an admin key that can sign now, only a shell on the device could manage
		 * keys again: an expired admin key, or one not valid yet, does not count.
		 */
		else if (k->admin && count_usable_admins(ring, nkeys, k, op->now) == 0)
			return CMD_LAST_ADMIN;
		at = (size_t)(k - ring->keys);
		if (out_ring != ring)
			*out_ring = *ring;
		memmove(&out_ring->keys[at], &out_ring->keys[at + 1],
		        (nkeys - at - 1) * sizeof(out_ring->keys[0]));
		memset(&out_ring->keys[nkeys - 1], 0, sizeof(out_ring->keys[0]));
		out_ring->nkeys = nkeys - 1;
		return CMD_OK;
	case CMD_ADMIN_RENEW:
		if (out_ring != ring)
			*out_ring = *ring;
		return CMD_OK;
	default:
		return CMD_MALFORMED;
	}
}
