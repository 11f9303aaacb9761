/*
 * cmd_enroll: invitations and enrollment requests (see cmd_enroll.h for what it owns).
 *
 * Both are strict JSON in the manner of a command: one flat object, each field exactly once, no
 * escapes (cmd_json.c). The invitation alone has lists (actions, doors, days), spelt as the key
 * list on P/D/keys spells a key's limits, so that an invitation reads like the key it makes.
 * The request carries the invitation as base64url: its bytes reach the device exactly as the
 * inviter's client wrote them, whatever JSON they hold, and the request stays one flat object.
 *
 * Signatures never cover JSON. The inviter signs a text of eight lines built from the parsed
 * invitation, in which the new key's limits are its canonical authorized_keys options (the
 * text cmd_key_format() writes after the kid), so two spellings of one invitation have one
 * signature and the bytes checked are the meaning signed. Each text starts with a line naming
 * its kind: no command's, admin message's, invitation's or request's signature passes for
 * another's.
 *
 * It never does I/O, never reads a clock and never allocates. cmd_enroll_check() keeps one
 * buffer of CMD_INVITE_MAX bytes on its stack: the decoded invitation first, then, once that
 * is read into struct cmd_invite, each signed text in turn.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base64.h"
#include "cmd.h"
#include "cmd_admin.h"
#include "cmd_enroll.h"
#include "cmd_json.h"
#include "cmd_keys.h"
#include "cmd_names.h"
#include "cmd_replay.h"
#include "text.h"

#define INVITE_HEAD "garaged-invite-v1\n"
#define ENROLL_HEAD "garaged-enroll-v1\n"

/* Base64 texts: a public key as authorized_keys has it, ik and a signature as base64url. */
#define PUB_TEXT_LEN 44U
#define IK_TEXT_LEN  43U
#define SIG_TEXT_LEN 86U
/* The longest base64url text of an invitation of CMD_INVITE_MAX bytes. */
#define INVITE_TEXT_MAX ((CMD_INVITE_MAX * 4U + 2U) / 3U)
/* The largest expires a request's reader takes: 12 digits, as a ts. */
#define EXPIRES_MAX INT64_C(999999999999)

/* ---- the invitation ----------------------------------------------------------------------- */

enum invite_field {
	I_V = 0,
	I_DEVICE,
	I_ID,
	I_KID,
	I_ACTIONS,
	I_DOORS,
	I_NOT_BEFORE,
	I_NOT_AFTER,
	I_DAYS,
	I_HOURS,
	I_EXPIRES,
	I_IK,
	I_BY,
	I_SIG,
	I_COUNT,
};

static const char *const invite_names[I_COUNT] = {
    "v",         "device", "id",    "kid",     "actions", "doors", "not_before",
    "not_after", "days",   "hours", "expires", "ik",      "by",    "sig"};

/* The largest invitation cmd_invite_json() writes, with its NUL. */
_Static_assert(sizeof("{\"v\":1,\"device\":\"\",\"id\":\"\",\"kid\":\"\",\"actions\":[\"open\","
                      "\"close\",\"stop\",\"toggle\"],\"doors\":[],\"not_before\":\"\","
                      "\"not_after\":\"\",\"days\":[\"mon\",\"tue\",\"wed\",\"thu\",\"fri\","
                      "\"sat\",\"sun\"],\"hours\":\"00:00-00:00\",\"expires\":,\"ik\":\"\","
                      "\"by\":\"\",\"sig\":\"\"}") +
                       CMD_NAME_MAX + CMD_INVITE_ID_TEXT_MAX + CMD_KID_MAX +
                       CMD_MAX_DOORS * (CMD_NAME_MAX + 3) + 2 * (CMD_UTC_TEXT_MAX - 1) + 12 +
                       IK_TEXT_LEN + CMD_KID_MAX + SIG_TEXT_LEN <=
                   CMD_INVITE_MAX,
               "the JSON of every invitation fits CMD_INVITE_MAX");
/* The largest text an inviter signs, with its NUL. */
_Static_assert(sizeof(INVITE_HEAD) + CMD_NAME_MAX + 1 + CMD_INVITE_ID_TEXT_MAX + 1 + CMD_KID_MAX +
                       1 + sizeof("actions=open,close,stop,toggle") + sizeof("doors=") +
                       CMD_MAX_DOORS * (CMD_NAME_MAX + 1) + 2 * sizeof("not_before=") +
                       2 * CMD_UTC_TEXT_MAX + sizeof("days=mon,tue,wed,thu,fri,sat,sun") +
                       sizeof("hours=00:00-00:00") + 12 + 1 + IK_TEXT_LEN + 1 + CMD_KID_MAX <=
                   CMD_INVITE_MAX,
               "the signed text of every invitation fits CMD_INVITE_MAX");
_Static_assert(sizeof(ENROLL_HEAD) + CMD_NAME_MAX + 1 + CMD_INVITE_ID_TEXT_MAX + 1 + CMD_KID_MAX +
                       1 + PUB_TEXT_LEN + 1 + 12 + 1 + CMD_NONCE_TEXT_MAX <=
                   CMD_ENROLL_SIGNED_TEXT_MAX,
               "the signed text of every request fits CMD_ENROLL_SIGNED_TEXT_MAX");
/* A request of the largest invitation, and every other field at its longest. */
_Static_assert(sizeof("{\"v\":1,\"inv\":\"\",\"pub\":\"\",\"ts\":,\"nonce\":\"\",\"proof\":\"\","
                      "\"sig\":\"\"}") -
                       1 + INVITE_TEXT_MAX + PUB_TEXT_LEN + 12 + CMD_NONCE_TEXT_MAX +
                       2 * SIG_TEXT_LEN <=
                   CMD_ENROLL_MAX_PAYLOAD,
               "CMD_ENROLL_MAX_PAYLOAD holds a request for any invitation");

/* An invitation id: CMD_INVITE_ID_LEN bytes as canonical base64url without padding. */
static bool
id_valid(const char *s, size_t n)
{
	uint8_t id[CMD_INVITE_ID_LEN];

	return n == CMD_INVITE_ID_TEXT_MAX &&
	       base64_decode(BASE64_URL_UNPADDED, s, n, id, sizeof(id)) == (int)CMD_INVITE_ID_LEN;
}

/* Whether inv holds only what an invitation can: what the writers below accept. */
static bool
invite_well_formed(const struct cmd_invite *inv)
{
	size_t n;

	if (inv == NULL)
		return false;
	n = cmd__bounded_len(inv->device, sizeof(inv->device));
	if (n == SIZE_MAX || !cmd_name_valid(inv->device, n))
		return false;
	n = cmd__bounded_len(inv->id, sizeof(inv->id));
	if (n == SIZE_MAX || !id_valid(inv->id, n))
		return false;
	n = cmd__bounded_len(inv->by, sizeof(inv->by));
	if (n == SIZE_MAX || !cmd_kid_valid(inv->by, n))
		return false;
	return cmd_key_well_formed(&inv->key) && !inv->key.admin && inv->expires >= 0 &&
	       inv->expires <= EXPIRES_MAX;
}

/* The length of a finished text, or 0 with an empty buffer when it did not fit. */
static size_t
text_done(struct text *t, char *buf, size_t len)
{
	if (!t->full)
		return t->len;
	if (buf != NULL && len != 0)
		buf[0] = '\0';
	return 0;
}

/* bytes[0..n) as base64url without padding, into t. */
static void
put_b64url(struct text *t, const uint8_t *bytes, size_t n)
{
	char b64[SIG_TEXT_LEN + 1];

	if (base64_encode(BASE64_URL_UNPADDED, bytes, n, b64, sizeof(b64)) == 0)
		t->full = true; /* cannot happen: the buffer holds a signature's text */
	else
		text_puts(t, b64);
}

size_t
cmd_invite_signed_text(char *buf, size_t buflen, const struct cmd_invite *inv)
{
	struct text t;

	text_init(&t, buf, buflen);
	if (!invite_well_formed(inv))
		t.full = true;
	if (t.full)
		return text_done(&t, buf, buflen);
	text_puts(&t, INVITE_HEAD);
	text_puts(&t, inv->device);
	text_puts(&t, "\n");
	text_puts(&t, inv->id);
	text_puts(&t, "\n");
	text_puts(&t, inv->key.kid);
	text_puts(&t, "\n");
	cmd__key_put_options(&t, &inv->key);
	text_puts(&t, "\n");
	text_put_i64(&t, inv->expires);
	text_puts(&t, "\n");
	put_b64url(&t, inv->ik, sizeof(inv->ik));
	text_puts(&t, "\n");
	text_puts(&t, inv->by);
	return text_done(&t, buf, buflen);
}

size_t
cmd_invite_json(const struct cmd_invite *inv, char *buf, size_t buflen)
{
	struct text t;

	text_init(&t, buf, buflen);
	if (!invite_well_formed(inv))
		t.full = true;
	if (t.full)
		return text_done(&t, buf, buflen);
	text_puts(&t, "{\"v\":1,\"device\":\"");
	text_puts(&t, inv->device);
	text_puts(&t, "\",\"id\":\"");
	text_puts(&t, inv->id);
	text_puts(&t, "\",\"kid\":\"");
	text_puts(&t, inv->key.kid);
	text_puts(&t, "\",");
	cmd__key_put_limits(&t, &inv->key);
	text_puts(&t, ",\"expires\":");
	text_put_i64(&t, inv->expires);
	text_puts(&t, ",\"ik\":\"");
	put_b64url(&t, inv->ik, sizeof(inv->ik));
	text_puts(&t, "\",\"by\":\"");
	text_puts(&t, inv->by);
	text_puts(&t, "\",\"sig\":\"");
	put_b64url(&t, inv->sig, sizeof(inv->sig));
	text_puts(&t, "\"}");
	return text_done(&t, buf, buflen);
}

/* not_before or not_after: absent, or a UTC time as on a key line. */
static bool
read_utc(const struct cmd__field *f, bool *has, int64_t *t)
{
	if (f->count == 0)
		return true;
	f = cmd__field_get(f, true);
	*has = f != NULL && cmd_utc_parse(f->s, f->n, t);
	return *has;
}

/* hours: absent, or a span as on a key line. */
static bool
read_hours(const struct cmd__field *f, struct cmd_key *k)
{
	if (f->count == 0)
		return true;
	f = cmd__field_get(f, true);
	k->has_hours = f != NULL && cmd_hours_parse(f->s, f->n, &k->hours_from, &k->hours_to);
	return k->has_hours;
}

/* actions: a list of 1 to 4 action words, each once. */
static bool
read_actions(const struct cmd__field *f, struct cmd_key *k)
{
	const char *s;
	size_t n, pos = 0;
	enum cmd_action a;

	f = cmd__field_get_list(f);
	if (f == NULL)
		return false;
	while (cmd__list_next(f, &pos, &s, &n)) {
		if (!cmd_action_parse(s, n, &a) || (k->actions & (1U << a)) != 0)
			return false;
		k->actions |= 1U << a;
	}
	return k->actions != 0;
}

/* doors: "all", or a list of 1 to CMD_MAX_DOORS door names, each once. */
static bool
read_doors(const struct cmd__field *f, struct cmd_key *k)
{
	const struct cmd__field *x = cmd__field_get(f, true);
	const char *s;
	size_t n, pos = 0;

	if (x != NULL) {
		k->all_doors = x->n == 3 && memcmp(x->s, "all", 3) == 0;
		return k->all_doors;
	}
	f = cmd__field_get_list(f);
	if (f == NULL)
		return false;
	while (cmd__list_next(f, &pos, &s, &n)) {
		if (k->ndoors == CMD_MAX_DOORS || !cmd_name_valid(s, n))
			return false;
		for (size_t d = 0; d < k->ndoors; d++) {
			if (cmd_name_eq(s, n, k->doors[d], sizeof(k->doors[d])))
				return false;
		}
		cmd_name_copy(k->doors[k->ndoors++], s, n);
	}
	return k->ndoors != 0;
}

/* days: absent, or a list of 1 to 7 weekdays, each once. */
static bool
read_days(const struct cmd__field *f, struct cmd_key *k)
{
	const char *s;
	size_t n, pos = 0;
	unsigned int day;

	if (f->count == 0)
		return true;
	f = cmd__field_get_list(f);
	if (f == NULL)
		return false;
	while (cmd__list_next(f, &pos, &s, &n)) {
		if (!cmd_day_parse(s, n, &day) || (k->days & (1U << day)) != 0)
			return false;
		k->days |= (uint8_t)(1U << day);
	}
	return k->days != 0;
}

/* The new key's kid and limits, each as far as it is valid. */
static bool
read_key(const struct cmd__field *f, struct cmd_key *k)
{
	bool ok = true;

	if (!cmd__read_kid(&f[I_KID], k->kid))
		ok = false;
	if (!read_actions(&f[I_ACTIONS], k))
		ok = false;
	if (!read_doors(&f[I_DOORS], k))
		ok = false;
	if (!read_utc(&f[I_NOT_BEFORE], &k->has_not_before, &k->not_before))
		ok = false;
	if (!read_utc(&f[I_NOT_AFTER], &k->has_not_after, &k->not_after))
		ok = false;
	/* As on a key line: a key that could never be valid is a mistake. */
	if (k->has_not_before && k->has_not_after && k->not_before > k->not_after)
		ok = false;
	if (!read_days(&f[I_DAYS], k))
		ok = false;
	if (!read_hours(&f[I_HOURS], k))
		ok = false;
	return ok;
}

/* A base64url string of exactly n bytes into out. */
static bool
read_b64url(const struct cmd__field *f, uint8_t *out, size_t n)
{
	f = cmd__field_get(f, true);
	return f != NULL && f->n == (n * 4U + 2U) / 3U &&
	       base64_decode(BASE64_URL_UNPADDED, f->s, f->n, out, n) == (int)n;
}

bool
cmd_invite_parse(struct cmd_invite *inv, const char *js, size_t len)
{
	struct cmd__field f[I_COUNT];
	const struct cmd__field *x;
	bool ok = true;
	int json;

	if (inv == NULL)
		return false;
	memset(inv, 0, sizeof(*inv));
	if (js == NULL || len > CMD_INVITE_MAX)
		return false;
	json = cmd__json_fields_lists(js, len, invite_names, I_COUNT, f);
	if (json < 0)
		return false;

	if (!cmd__read_v(&f[I_V]))
		ok = false;
	x = cmd__field_get(&f[I_DEVICE], true);
	if (x != NULL && cmd_name_valid(x->s, x->n))
		cmd_name_copy(inv->device, x->s, x->n);
	else
		ok = false;
	x = cmd__field_get(&f[I_ID], true);
	if (x != NULL && id_valid(x->s, x->n))
		cmd_name_copy(inv->id, x->s, x->n);
	else
		ok = false;
	if (!read_key(f, &inv->key))
		ok = false;
	if (!cmd__read_ts(&f[I_EXPIRES], &inv->expires))
		ok = false;
	if (!read_b64url(&f[I_IK], inv->ik, sizeof(inv->ik)))
		ok = false;
	if (!cmd__read_kid(&f[I_BY], inv->by))
		ok = false;
	if (!cmd__read_sig(&f[I_SIG], inv->sig))
		ok = false;
	return ok && json == 0;
}

/* ---- the request -------------------------------------------------------------------------- */

size_t
cmd_enroll_signed_text(char *buf, size_t buflen, const char *device, const char *id,
                       const char *kid, const char *pub_b64, int64_t ts, const char *nonce_b64)
{
	struct text t;

	text_init(&t, buf, buflen);
	if (device == NULL || id == NULL || kid == NULL || pub_b64 == NULL || nonce_b64 == NULL)
		t.full = true;
	if (t.full)
		return text_done(&t, buf, buflen);
	text_puts(&t, ENROLL_HEAD);
	text_puts(&t, device);
	text_puts(&t, "\n");
	text_puts(&t, id);
	text_puts(&t, "\n");
	text_puts(&t, kid);
	text_puts(&t, "\n");
	text_puts(&t, pub_b64);
	text_puts(&t, "\n");
	text_put_i64(&t, ts);
	text_puts(&t, "\n");
	text_puts(&t, nonce_b64);
	return text_done(&t, buf, buflen);
}

enum field {
	F_V = 0,
	F_INV,
	F_PUB,
	F_TS,
	F_NONCE,
	F_PROOF,
	F_SIG,
	F_COUNT,
};

static const char *const field_names[F_COUNT] = {"v", "inv", "pub", "ts", "nonce", "proof", "sig"};

/* What a request carries besides the invitation, for the checks after the parsing. */
struct request {
	uint8_t nonce[CMD_NONCE_MAX];
	size_t nonce_len;
	char nonce_text[CMD_NONCE_TEXT_MAX + 1];
	char pub_text[PUB_TEXT_LEN + 1];
	uint8_t proof[CMD_SIG_LEN];
	uint8_t sig[CMD_SIG_LEN];
};

/* inv: base64url of an invitation, decoded into buf and read into *inv. */
static bool
read_invitation(const struct cmd__field *f, char buf[CMD_INVITE_MAX], struct cmd_invite *inv)
{
	int n;

	f = cmd__field_get(f, true);
	/* Checking the length first keeps the decoder's output within buf. */
	if (f == NULL || f->n > INVITE_TEXT_MAX)
		return false;
	n = base64_decode(BASE64_URL_UNPADDED, f->s, f->n, (uint8_t *)buf, CMD_INVITE_MAX);
	return n >= 0 && cmd_invite_parse(inv, buf, (size_t)n);
}

/*
 * Reads the seven fields into *out and *r as far as each is valid, whatever is wrong elsewhere,
 * so that a rejection can still say which invitation it was about. False if any is missing,
 * repeated, of the wrong type or out of its charset.
 */
static bool
read_fields(const struct cmd__field *f, char buf[CMD_INVITE_MAX], struct cmd_enroll *out,
            struct request *r)
{
	const struct cmd__field *x;
	bool ok = true;

	if (!cmd__read_v(&f[F_V]))
		ok = false;
	/* First: it zeroes the invitation, the new key's pub included. */
	if (!read_invitation(&f[F_INV], buf, &out->inv))
		ok = false;

	x = cmd__field_get(&f[F_PUB], true);
	if (x != NULL && x->n == PUB_TEXT_LEN &&
	    base64_decode(BASE64_STANDARD_PADDED, x->s, x->n, out->inv.key.pub,
	                  sizeof(out->inv.key.pub)) == (int)CMD_PUBKEY_LEN)
		cmd_name_copy(r->pub_text, x->s, x->n);
	else
		ok = false;

	if (!cmd__read_ts(&f[F_TS], &out->ts))
		ok = false;
	if (cmd__read_nonce(&f[F_NONCE], r->nonce, &r->nonce_len, r->nonce_text))
		cmd_name_copy(out->nonce, r->nonce_text, strlen(r->nonce_text));
	else
		ok = false;
	if (!cmd__read_sig(&f[F_PROOF], r->proof))
		ok = false;
	if (!cmd__read_sig(&f[F_SIG], r->sig))
		ok = false;
	return ok;
}

enum cmd_reason
cmd_enroll_check(struct cmd_verifier *v, const uint8_t *payload, size_t len, bool retained,
                 struct cmd_now now, struct cmd_enroll *out)
{
	struct cmd__field f[F_COUNT];
	struct request r;
	/* The decoded invitation, then the inviter's signed text, then the request's. */
	char buf[CMD_INVITE_MAX];
	size_t n;
	const struct cmd_key *inviter;
	struct cmd_replay_ticket ticket;
	enum cmd_reason reason;
	int json;

	if (out == NULL)
		return CMD_MALFORMED;
	memset(out, 0, sizeof(*out));

	/* As for a command: the broker hands a retained message to every new subscriber. */
	if (retained)
		return CMD_RETAINED;
	else if (len > CMD_ENROLL_MAX_PAYLOAD)
		return CMD_TOO_LARGE;
	else if (payload == NULL)
		return CMD_MALFORMED;
	json = cmd__json_fields((const char *)payload, len, field_names, F_COUNT, f);
	if (json < 0)
		return CMD_MALFORMED;
	memset(&r, 0, sizeof(r));
	if (!read_fields(f, buf, out, &r) || json != 0)
		return CMD_MALFORMED;
	/*
	 * The seed travelled with the invitation, in a QR code or a link that others may have
	 * seen: it proves that the invitee had the invitation, and must never become a door key.
	 */
	if (memcmp(out->inv.key.pub, out->inv.ik, sizeof(out->inv.ik)) == 0)
		return CMD_MALFORMED;

	/* A verifier nobody configured is no device's: fail closed. */
	if (v == NULL || cmd__bounded_len(v->device_id, sizeof(v->device_id)) == SIZE_MAX ||
	    strcmp(out->inv.device, v->device_id) != 0)
		return CMD_WRONG_DEVICE;

	/* The inviter as the keys stand now: a removed or demoted admin invites nobody. */
	inviter = cmd_keyring_find(v->keys, out->inv.by, strlen(out->inv.by));
	if (inviter == NULL)
		return CMD_UNKNOWN_KEY;
	else if (!inviter->admin)
		return CMD_NOT_ADMIN;
	out->now = cmd_verifier_now(v, now.unix_time);
	reason = cmd_key_valid_at(inviter, cmd_verifier_time(v, now));
	if (reason != CMD_OK)
		return reason;

	n = cmd_invite_signed_text(buf, sizeof(buf), &out->inv);
	if (v->verify == NULL || n == 0 ||
	    !v->verify(out->inv.sig, (const uint8_t *)buf, n, inviter->pub))
		return CMD_BAD_INVITATION;
	/* Valid during its expiry second itself, as a key is during its not_after. */
	if (cmd_verifier_time(v, now).unix_time > out->inv.expires)
		return CMD_INVITATION_EXPIRED;
	/* The inviter signed it, but an admin may not hand out more than they hold. */
	if (!cmd_key_within(&out->inv.key, inviter))
		return CMD_OVER_PERMISSIVE;

	reason = cmd_replay_check(v, out->ts, r.nonce, r.nonce_len, now.unix_time, &ticket);
	if (reason != CMD_OK)
		return reason;

	n = cmd_enroll_signed_text(buf, sizeof(buf), v->device_id, out->inv.id, out->inv.key.kid,
	                           r.pub_text, out->ts, r.nonce_text);
	if (n == 0 || !v->verify(r.proof, (const uint8_t *)buf, n, out->inv.ik))
		return CMD_BAD_PROOF;
	if (!v->verify(r.sig, (const uint8_t *)buf, n, out->inv.key.pub))
		return CMD_BAD_SIGNATURE;

	/*
	 * The request counts in its inviter's share of the replay window: the inviter is the key
	 * of the ring that vouched for it, and a share per key of the ring is what keeps every
	 * key's room (core_config.h, CMD_REPLAY_PER_KEY).
	 */
	if (!cmd_replay_commit(v, &ticket, inviter->pub))
		return CMD_RATE_LIMITED;
	return cmd_keyring_can_add(v->keys, &out->inv.key);
}

void
cmd_enroll_admin_op(const struct cmd_enroll *e, struct cmd_admin *op)
{
	if (op == NULL)
		return;
	memset(op, 0, sizeof(*op));
	if (e == NULL)
		return;
	op->op = CMD_ADMIN_ADD;
	op->has_op = true;
	op->key = e->inv.key;
	op->key.line = 0;
	memcpy(op->target, e->inv.key.kid, sizeof(op->target));
	op->ts = e->ts;
	op->now = e->now;
	memcpy(op->nonce, e->nonce, sizeof(op->nonce));
	/* The inviter is who asked for the key, as the signer of an admin's add is. */
	memcpy(op->kid, e->inv.by, sizeof(op->kid));
}
