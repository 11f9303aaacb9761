/*
 * Unit tests of invitations and enrollment requests (src/core/cmd_enroll.c): the invitation's
 * JSON both ways and its signed text, cmd_enroll_check() with every reason and each boundary,
 * the order of the checks, and the test vector of docs/protocol.md.
 *
 * Invitations and requests are signed for real with Ed25519 keys libsodium makes for each run
 * (the inviter's, the one-time key ik whose seed the invitation carries, the new key) and
 * verified through libsodium (sig_sodium) behind a wrapper that counts its calls, as in
 * test-admin.c: that is how the tests see which checks come before which signature. The
 * verifier is the command verifier itself, so the replay window all messages share is the real
 * one.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "base64.h"
#include "cmd.h"
#include "cmd_admin.h"
#include "cmd_enroll.h"
#include "sig_sodium.h"

#define DEVICE "garage"
#define NOW    INT64_C(1795547700) /* 2026-11-24T19:15:00Z, a Tuesday */
#define START  (NOW - 3600)
#define SKEW   30U
/* After DEVICE, START and SKEW, which its setup uses. */
#include "verifier_fixture.h"

#define NONCE   "EnRoLl-nOnCe" /* 9 bytes */
#define EXPIRES (NOW + 3600)

/*
 * owner is an admin; bob is not (he may open the side door); carol is an admin whose line a
 * test writes (set_carol()); mallory is in no keyring; dave is the invitee's new key and ik the
 * invitation's one-time key.
 */
static struct keypair owner, bob, carol, mallory, dave, ik;

/* An invitation and a request for it, and who signs what. */
struct spec {
	struct cmd_invite inv;
	const struct keypair *inviter; /* signs the invitation */
	const struct keypair *newkey;  /* its pub is the request's; it signs sig */
	const struct keypair *prover;  /* signs proof; ik for a real invitee */
	int64_t ts;
	const char *nonce;
};

/* The key that a line with OPTIONS (after "ed25519 <dave> KID") describes. */
static struct cmd_key
key_line(const char *kid, const char *options)
{
	struct cmd_key k;
	char line[1200], err[256];

	snprintf(line, sizeof(line), "ed25519 %s %s %s", pub_b64(dave.pk), kid, options);
	if (cmd_key_parse(&k, line, strlen(line), err, sizeof(err)) != 0)
		fail_msg("\"%s\": %s", line, err);
	return k;
}

static void
set_id(struct cmd_invite *inv, unsigned int n)
{
	uint8_t id[CMD_INVITE_ID_LEN];

	memset(id, 0, sizeof(id));
	memcpy(id, &n, sizeof(n));
	base64_encode(BASE64_URL_UNPADDED, id, sizeof(id), inv->id, sizeof(inv->id));
}

/* The owner invites dave for the main door, to open and close it, until the end of 2026. */
static struct spec
good_spec(void)
{
	struct spec s;

	memset(&s, 0, sizeof(s));
	strcpy(s.inv.device, DEVICE);
	set_id(&s.inv, 1);
	s.inv.key =
	    key_line("dave", "actions=open,close doors=main not_after=2026-12-31T23:59:59Z");
	memset(s.inv.key.pub, 0, sizeof(s.inv.key.pub));
	s.inv.expires = EXPIRES;
	memcpy(s.inv.ik, ik.pk, sizeof(s.inv.ik));
	strcpy(s.inv.by, "owner");
	s.inviter = &owner;
	s.newkey = &dave;
	s.prover = &ik;
	s.ts = NOW;
	s.nonce = NONCE;
	return s;
}

static void
sign_invite(struct spec *s)
{
	char text[CMD_INVITE_MAX];
	size_t n = cmd_invite_signed_text(text, sizeof(text), &s->inv);

	assert_true(n > 0);
	crypto_sign_detached(s->inv.sig, NULL, (const uint8_t *)text, n, s->inviter->sk);
}

static const char *
b64url(const void *bytes, size_t n)
{
	static char out[2][2048];
	static unsigned int next;
	char *o = out[next++ % 2];

	sodium_bin2base64(o, sizeof(out[0]), bytes, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return o;
}

/* The request of s around the invitation JSON INV, with fields PUB, TS and NONCE as given. */
static size_t
request_raw(char *buf, size_t cap, const struct spec *s, const char *inv, const char *pub)
{
	char text[CMD_ENROLL_SIGNED_TEXT_MAX], proof[128], sig[128];
	uint8_t raw[CMD_SIG_LEN];
	size_t n;
	int r;

	n = cmd_enroll_signed_text(text, sizeof(text), s->inv.device, s->inv.id, s->inv.key.kid,
	                           pub, s->ts, s->nonce);
	assert_true(n > 0);
	crypto_sign_detached(raw, NULL, (const uint8_t *)text, n, s->prover->sk);
	strcpy(proof, b64url(raw, sizeof(raw)));
	crypto_sign_detached(raw, NULL, (const uint8_t *)text, n, s->newkey->sk);
	strcpy(sig, b64url(raw, sizeof(raw)));
	r = snprintf(buf, cap,
	             "{\"v\":1,\"inv\":\"%s\",\"pub\":\"%s\",\"ts\":%lld,\"nonce\":\"%s\","
	             "\"proof\":\"%s\",\"sig\":\"%s\"}",
	             b64url(inv, strlen(inv)), pub, (long long)s->ts, s->nonce, proof, sig);
	assert_true(r > 0 && (size_t)r < cap);
	return (size_t)r;
}

/* The request of s as it stands (the invitation's signature as it is). */
static size_t
build_signed(char *buf, size_t cap, const struct spec *s)
{
	char json[CMD_INVITE_MAX];

	assert_true(cmd_invite_json(&s->inv, json, sizeof(json)) > 0);
	return request_raw(buf, cap, s, json, pub_b64(s->newkey->pk));
}

/* The request of s, its invitation signed first. */
static size_t
build(char *buf, size_t cap, struct spec *s)
{
	sign_invite(s);
	return build_signed(buf, cap, s);
}

/* The device's time t with the local calendar of UTC. */
static struct cmd_now
at(int64_t t)
{
	struct cmd_now now = {.unix_time = t, .wday = 7, .minute = 24 * 60};
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) != NULL) {
		now.wday = (uint8_t)tm.tm_wday;
		now.minute = (uint16_t)(tm.tm_hour * 60 + tm.tm_min);
	}
	return now;
}

static enum cmd_reason
check(struct fixture *f, const char *payload, size_t len, int64_t now, struct cmd_enroll *out)
{
	return cmd_enroll_check(&f->v, (const uint8_t *)payload, len, false, at(now), out);
}

static enum cmd_reason
check_spec(struct fixture *f, struct spec *s, int64_t now, struct cmd_enroll *out)
{
	char buf[CMD_ENROLL_MAX_PAYLOAD + 1];
	size_t n = build(buf, sizeof(buf), s);

	return check(f, buf, n, now, out);
}

#define assert_reason(got, want)                                                                   \
	do {                                                                                       \
		enum cmd_reason got_ = (got);                                                      \
		enum cmd_reason want_ = (want);                                                    \
		if (got_ != want_)                                                                 \
			fail_msg("reason %s, want %s", cmd_reason_name(got_),                      \
			         cmd_reason_name(want_));                                          \
	} while (0)

/* The ring of setup() with carol, an admin, whose line has OPTIONS. */
static void
set_carol(struct fixture *f, const char *options)
{
	char text[1024], err[256];

	snprintf(text, sizeof(text),
	         "ed25519 %s owner admin\n"
	         "ed25519 %s bob actions=open doors=side\n"
	         "ed25519 %s carol admin %s\n",
	         pub_b64(owner.pk), pub_b64(bob.pk), pub_b64(carol.pk), options);
	if (cmd_keys_parse(&f->ring, text, strlen(text), err, sizeof(err)) != 0)
		fail_msg("carol's line \"%s\": %s", options, err);
}

/* carol's invitation of a key with OPTIONS, she being an admin with CAROL. */
static enum cmd_reason
carol_invites(struct fixture *f, const char *carol_opts, const char *options, unsigned int id)
{
	struct spec s = good_spec();
	struct cmd_enroll out;

	set_carol(f, carol_opts);
	s.inv.key = key_line("dave", options);
	memset(s.inv.key.pub, 0, sizeof(s.inv.key.pub));
	s.inv.key.admin = false;
	strcpy(s.inv.by, "carol");
	s.inviter = &carol;
	uint64_t nonce = id;
	char nonce_text[16];

	set_id(&s.inv, id);
	strcpy(nonce_text, b64url(&nonce, sizeof(nonce))); /* a new nonce for each */
	s.nonce = nonce_text;
	return check_spec(f, &s, NOW, &out);
}

/* ---- accepted ----------------------------------------------------------------------------- */

static void
test_enroll_Accepted(void **state)
{
	struct fixture *f = *state;
	struct spec s = good_spec();
	struct cmd_enroll out;
	struct cmd_admin op;
	struct cmd_keyring *next = test_malloc(sizeof(*next));
	struct cmd_key want;

	assert_reason(check_spec(f, &s, NOW, &out), CMD_OK);
	/* The inviter's signature, the proof and the new key's own. */
	assert_int_equal(verify_calls, 3);
	assert_string_equal(out.inv.device, DEVICE);
	assert_string_equal(out.inv.id, s.inv.id);
	assert_string_equal(out.inv.by, "owner");
	assert_int_equal(out.inv.expires, EXPIRES);
	assert_memory_equal(out.inv.ik, ik.pk, sizeof(ik.pk));
	assert_memory_equal(out.inv.sig, s.inv.sig, sizeof(s.inv.sig));
	assert_int_equal(out.ts, NOW);
	assert_string_equal(out.nonce, NONCE);

	/* The new key: the invitation's kid and limits, the request's public key. */
	want = key_line("dave", "actions=open,close doors=main not_after=2026-12-31T23:59:59Z");
	assert_memory_equal(&out.inv.key, &want, sizeof(want));
	assert_false(out.inv.key.admin);
	assert_int_equal(out.inv.key.line, 0);

	/* The change it asks for, as an admin's add of that key would. */
	cmd_enroll_admin_op(&out, &op);
	assert_true(op.has_op);
	assert_int_equal(op.op, CMD_ADMIN_ADD);
	assert_string_equal(op.target, "dave");
	assert_string_equal(op.kid, "owner");
	assert_string_equal(op.nonce, NONCE);
	assert_memory_equal(&op.key, &want, sizeof(want));
	assert_reason(cmd_keyring_apply(&f->ring, &op, next), CMD_OK);
	assert_int_equal(next->nkeys, 3);
	assert_memory_equal(&next->keys[2], &want, sizeof(want));
	test_free(next);
}

/* An invitation that limits nothing, from an owner who is limited by nothing. */
static void
test_enroll_AcceptedWithoutLimits(void **state)
{
	struct fixture *f = *state;
	struct spec s = good_spec();
	struct cmd_enroll out;

	s.inv.key = key_line("dave", "");
	memset(s.inv.key.pub, 0, sizeof(s.inv.key.pub));
	assert_reason(check_spec(f, &s, NOW, &out), CMD_OK);
	assert_true(out.inv.key.all_doors);
	assert_int_equal(out.inv.key.actions, (1U << CMD_ACTION_COUNT) - 1U);
	assert_false(out.inv.key.has_not_after);
}

/* Every limit a key line has, in an invitation of every spelling JSON allows. */
static void
test_enroll_AcceptedInAnySpelling(void **state)
{
	struct fixture *f = *state;
	struct spec s = good_spec();
	struct cmd_enroll out;
	char inv[CMD_INVITE_MAX], buf[CMD_ENROLL_MAX_PAYLOAD + 1];
	size_t n;

	s.inv.key =
	    key_line("dave", "actions=toggle,open doors=side,main "
	                     "not_before=2026-11-01T00:00:00Z not_after=2026-12-01T00:00:00Z "
	                     "days=tue,mon hours=19:00-20:00");
	memset(s.inv.key.pub, 0, sizeof(s.inv.key.pub));
	sign_invite(&s);
	/* Fields in another order, lists in another order, spaces, tabs and newlines. */
	snprintf(
	    inv, sizeof(inv),
	    " {\n\t\"sig\" : \"%s\", \"by\":\"owner\",\"ik\":\"%s\",\"expires\": %lld ,"
	    "\"hours\":\"19:00-20:00\",\"days\":[ \"tue\" ,\"mon\" ],"
	    "\"not_after\":\"2026-12-01T00:00:00Z\",\"not_before\":\"2026-11-01T00:00:00Z\","
	    "\"doors\":[\"side\",\n\"main\"],\"actions\":[\"toggle\",\"open\"],\"kid\":\"dave\","
	    "\"id\":\"%s\",\"device\":\"garage\",\"v\":1}\r\n",
	    b64url(s.inv.sig, sizeof(s.inv.sig)), b64url(ik.pk, sizeof(ik.pk)), (long long)EXPIRES,
	    s.inv.id);
	/* The reader wants '{' first and '}' last: only its own whitespace is inside. */
	inv[strlen(inv) - 2] = '\0';
	memmove(inv, inv + 1, strlen(inv));
	n = request_raw(buf, sizeof(buf), &s, inv, pub_b64(dave.pk));
	assert_reason(check(f, buf, n, NOW, &out), CMD_OK);
	assert_int_equal(out.inv.key.days, (1U << 1) | (1U << 2));
	assert_int_equal(out.inv.key.ndoors, 2);
	assert_string_equal(out.inv.key.doors[0], "side");
	assert_true(out.inv.key.has_hours);
}

/* ---- the invitation's JSON ---------------------------------------------------------------- */

static bool
same_invite(const struct cmd_invite *a, const struct cmd_invite *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

static void
test_enroll_InviteJsonRoundTrip(void **state)
{
	static const char *const options[] = {
	    "",
	    "actions=open",
	    "doors=main",
	    "not_before=2026-01-01T00:00:00Z",
	    "not_after=2026-01-01T00:00:00Z",
	    "days=sun",
	    "hours=22:00-06:00",
	    "actions=open,close,stop doors=a,b,c,d,e,f,g,h not_before=1970-01-01T00:00:00Z "
	    "not_after=9999-12-31T23:59:59Z days=mon,tue,wed,thu,fri,sat,sun hours=00:00-23:59",
	};
	char json[CMD_INVITE_MAX], again[CMD_INVITE_MAX];
	struct cmd_invite back;

	(void)state;
	for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++) {
		struct spec s = good_spec();
		size_t n;

		s.inv.key = key_line("dave", options[i]);
		memset(s.inv.key.pub, 0, sizeof(s.inv.key.pub));
		sign_invite(&s);
		n = cmd_invite_json(&s.inv, json, sizeof(json));
		assert_true(n > 0);
		assert_int_equal(n, strlen(json));
		if (!cmd_invite_parse(&back, json, n))
			fail_msg("does not parse back: %s", json);
		assert_true(same_invite(&back, &s.inv));
		assert_int_equal(cmd_invite_json(&back, again, sizeof(again)), n);
		assert_string_equal(again, json);
		/* Exactly its size and its NUL; one byte less is nothing. */
		assert_int_equal(cmd_invite_json(&s.inv, again, n + 1), n);
		assert_int_equal(cmd_invite_json(&s.inv, again, n), 0);
		assert_string_equal(again, "");
	}
}

/* The largest invitation: every field at its longest fits CMD_INVITE_MAX, and so does its text. */
static void
test_enroll_LargestInvitationFits(void **state)
{
	struct fixture *f = *state;
	struct spec s = good_spec();
	struct cmd_enroll out;
	char json[CMD_INVITE_MAX], text[CMD_INVITE_MAX], doors[400], opts[600], kid[65], dev[33];
	char buf[CMD_ENROLL_MAX_PAYLOAD + 1];
	size_t n, len = 0;

	memset(kid, 'k', 64);
	kid[64] = '\0';
	memset(dev, 'd', 32);
	dev[32] = '\0';
	for (int d = 0; d < 8; d++)
		len +=
		    (size_t)snprintf(doors + len, sizeof(doors) - len, "%s%032d", d ? "," : "", d);
	snprintf(opts, sizeof(opts),
	         "actions=open,close,stop doors=%s not_before=2026-01-01T00:00:00Z "
	         "not_after=2026-12-31T23:59:59Z days=mon,tue,wed,thu,fri,sat,sun "
	         "hours=00:00-23:59",
	         doors);
	s.inv.key = key_line(kid, opts);
	memset(s.inv.key.pub, 0, sizeof(s.inv.key.pub));
	strcpy(s.inv.device, dev);
	strcpy(s.inv.by, kid);
	s.inv.by[0] = 'b';
	s.inv.expires = INT64_C(999999999999);
	sign_invite(&s);
	n = cmd_invite_json(&s.inv, json, sizeof(json));
	assert_true(n > 0);
	assert_true(cmd_invite_signed_text(text, sizeof(text), &s.inv) > 0);
	/* Its request fits the payload's limit (the device is another, so it stops there). */
	n = build_signed(buf, sizeof(buf), &s);
	assert_true(n <= CMD_ENROLL_MAX_PAYLOAD);
	assert_reason(check(f, buf, n, NOW, &out), CMD_WRONG_DEVICE);
	assert_string_equal(out.inv.key.kid, kid);
	/* One more second than 12 digits hold is no invitation. */
	s.inv.expires++;
	assert_int_equal(cmd_invite_json(&s.inv, json, sizeof(json)), 0);
	assert_int_equal(cmd_invite_signed_text(text, sizeof(text), &s.inv), 0);
}

/* What the writers refuse: what no invitation can be. */
static void
test_enroll_WritersRefuseWhatNoInvitationIs(void **state)
{
	char json[CMD_INVITE_MAX];
	struct spec s;

	(void)state;
	s = good_spec();
	s.inv.key.admin = true; /* an invitation never makes an admin */
	assert_int_equal(cmd_invite_json(&s.inv, json, sizeof(json)), 0);
	assert_int_equal(cmd_invite_signed_text(json, sizeof(json), &s.inv), 0);
	s = good_spec();
	strcpy(s.inv.device, "Garage");
	assert_int_equal(cmd_invite_json(&s.inv, json, sizeof(json)), 0);
	s = good_spec();
	s.inv.id[21] = '\0';
	assert_int_equal(cmd_invite_json(&s.inv, json, sizeof(json)), 0);
	s = good_spec();
	s.inv.id[21] = 'B'; /* unused bits set: not canonical */
	assert_int_equal(cmd_invite_json(&s.inv, json, sizeof(json)), 0);
	s = good_spec();
	strcpy(s.inv.by, "not a kid");
	assert_int_equal(cmd_invite_json(&s.inv, json, sizeof(json)), 0);
	s = good_spec();
	s.inv.key.actions = 0;
	assert_int_equal(cmd_invite_json(&s.inv, json, sizeof(json)), 0);
	s = good_spec();
	s.inv.expires = -1;
	assert_int_equal(cmd_invite_json(&s.inv, json, sizeof(json)), 0);
	s = good_spec();
	memset(s.inv.device, 'x', sizeof(s.inv.device)); /* no NUL */
	assert_int_equal(cmd_invite_json(&s.inv, json, sizeof(json)), 0);
	assert_int_equal(cmd_invite_json(NULL, json, sizeof(json)), 0);
	s = good_spec();
	assert_int_equal(cmd_invite_json(&s.inv, NULL, 0), 0);
	assert_false(cmd_invite_parse(NULL, "{}", 2));
}

/*
 * An invitation the reader refuses: a good one with FROM replaced by TO. Each is one way of
 * being wrong, and the request that carries it is malformed.
 */
static void
test_enroll_InvitationRefused(void **state)
{
	static const struct {
		const char *from, *to;
	} cases[] = {
	    /* shape */
	    {"{\"v\":1,", "{\"v\":1,\"v\":1,"},
	    {"{\"v\":1,", "{\"w\":1,"},
	    {"{\"v\":1,", "{"},
	    {"{\"v\":1,", "{\"v\":2,"},
	    {"{\"v\":1,", "{\"v\":\"1\","},
	    {"{\"v\":1,", "{\"v\":1,\"extra\":\"x\","},
	    {"{\"v\":1,", "[{\"v\":1,"},
	    {"{\"v\":1,", "{\"v\":1,,"},
	    {"{\"v\":1,", "{\"v\":1,\"o\":{\"a\":\"b\"},"},
	    {"\"device\":\"garage\"", "\"device\":\"gar\\u0061ge\""},
	    {"\"device\":\"garage\"", "\"device\":[\"garage\"]"},
	    {"\"device\":\"garage\"", "\"device\":\"Garage\""},
	    {"\"device\":\"garage\"", "\"device\":\"\""},
	    /* id */
	    {"\"id\":\"AQAAAAAAAAAAAAAAAAAAAA\"", "\"id\":\"AQAAAAAAAAAAAAAAAAAAAB\""},
	    {"\"id\":\"AQAAAAAAAAAAAAAAAAAAAA\"", "\"id\":\"AQAAAAAAAAAAAAAAAAAAAAAA\""},
	    {"\"id\":\"AQAAAAAAAAAAAAAAAAAAAA\"", "\"id\":\"AQAAAAAAAAAAAAAAAAAAA\""},
	    {"\"id\":\"AQAAAAAAAAAAAAAAAAAAAA\"", "\"id\":\"AQAAAAAAAAAAAAAAAAAAAA==\""},
	    {"\"id\":\"AQAAAAAAAAAAAAAAAAAAAA\"", "\"id\":\"AQAAAAAAAAAAAAAAAAAA+A\""},
	    /* the key's kid and limits */
	    {"\"kid\":\"dave\"", "\"kid\":\"da ve\""},
	    {"\"kid\":\"dave\"", "\"kid\":\"\""},
	    {"\"actions\":[\"open\",\"close\"]", "\"actions\":[]"},
	    {"\"actions\":[\"open\",\"close\"]", "\"actions\":[\"open\",\"open\"]"},
	    {"\"actions\":[\"open\",\"close\"]", "\"actions\":[\"open\",\"shut\"]"},
	    {"\"actions\":[\"open\",\"close\"]", "\"actions\":\"open\""},
	    {"\"actions\":[\"open\",\"close\"]", "\"actions\":[\"open\",1]"},
	    {"\"actions\":[\"open\",\"close\"]", "\"actions\":[\"open\",[\"close\"]]"},
	    {"\"actions\":[\"open\",\"close\"]", "\"actions\":[\"op\\u0065n\"]"},
	    {"\"actions\":[\"open\",\"close\"]", "\"actions\":[\"open\",]"},
	    {"\"actions\":[\"open\",\"close\"]", "\"actions\":[,\"open\"]"},
	    {"\"actions\":[\"open\",\"close\"]", "\"actions\":[\"open\" \"close\"]"},
	    {"\"doors\":[\"main\"]", "\"doors\":[]"},
	    {"\"doors\":[\"main\"]", "\"doors\":\"All\""},
	    {"\"doors\":[\"main\"]", "\"doors\":\"main\""},
	    {"\"doors\":[\"main\"]", "\"doors\":[\"all\",\"Main\"]"},
	    {"\"doors\":[\"main\"]", "\"doors\":[\"main\",\"main\"]"},
	    {"\"doors\":[\"main\"]",
	     "\"doors\":[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"i\"]"},
	    {"\"not_after\":\"2026-12-31T23:59:59Z\"", "\"not_after\":\"2026-12-31 23:59:59\""},
	    {"\"not_after\":\"2026-12-31T23:59:59Z\"", "\"not_after\":1798761599"},
	    {"\"not_after\":\"2026-12-31T23:59:59Z\"",
	     "\"not_after\":\"2026-12-31T23:59:59Z\",\"not_before\":\"2027-01-01T00:00:00Z\""},
	    {"\"not_after\":\"2026-12-31T23:59:59Z\"",
	     "\"not_after\":\"2026-12-31T23:59:59Z\",\"days\":[]"},
	    {"\"not_after\":\"2026-12-31T23:59:59Z\"",
	     "\"not_after\":\"2026-12-31T23:59:59Z\",\"days\":[\"mon\",\"mon\"]"},
	    {"\"not_after\":\"2026-12-31T23:59:59Z\"",
	     "\"not_after\":\"2026-12-31T23:59:59Z\",\"days\":[\"monday\"]"},
	    {"\"not_after\":\"2026-12-31T23:59:59Z\"",
	     "\"not_after\":\"2026-12-31T23:59:59Z\",\"hours\":\"07:00-07:00\""},
	    {"\"not_after\":\"2026-12-31T23:59:59Z\"",
	     "\"not_after\":\"2026-12-31T23:59:59Z\",\"hours\":[\"07:00-08:00\"]"},
	    {"\"not_after\":\"2026-12-31T23:59:59Z\"",
	     "\"not_after\":\"2026-12-31T23:59:59Z\",\"admin\":true"},
	    /* expires, ik, by, sig */
	    {"\"expires\":1795551300", "\"expires\":\"1795551300\""},
	    {"\"expires\":1795551300", "\"expires\":01795551300"},
	    {"\"expires\":1795551300", "\"expires\":1795551300.0"},
	    {"\"expires\":1795551300", "\"expires\":-1795551300"},
	    {"\"expires\":1795551300", "\"expires\":1000000000000"},
	    {"\"by\":\"owner\"", "\"by\":\"ow ner\""},
	    {"\"by\":\"owner\"", "\"by\":\"\""},
	};
	char good[CMD_INVITE_MAX], bad[CMD_INVITE_MAX + 64], *where;
	struct cmd_invite inv;
	struct spec s = good_spec();
	size_t n;

	(void)state;
	sign_invite(&s);
	n = cmd_invite_json(&s.inv, good, sizeof(good));
	assert_true(n > 0);
	assert_true(cmd_invite_parse(&inv, good, n));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		where = strstr(good, cases[i].from);
		if (where == NULL)
			fail_msg("case %zu: \"%s\" is not in %s", i, cases[i].from, good);
		snprintf(bad, sizeof(bad), "%.*s%s%s", (int)(where - good), good, cases[i].to,
		         where + strlen(cases[i].from));
		if (cmd_invite_parse(&inv, bad, strlen(bad)))
			fail_msg("case %zu accepted: %s", i, bad);
	}
	/* ik and sig of the wrong length, or not canonical. */
	for (size_t cut = 1; cut <= 2; cut++) {
		char *ik_at = strstr(good, "\"ik\":\"") + 6,
		     *sig_at = strstr(good, "\"sig\":\"") + 7;

		snprintf(bad, sizeof(bad), "%.*s%s", (int)(ik_at - good + 43 - cut), good,
		         ik_at + 43);
		assert_false(cmd_invite_parse(&inv, bad, strlen(bad)));
		snprintf(bad, sizeof(bad), "%.*s%s", (int)(sig_at - good + 86 - cut), good,
		         sig_at + 86);
		assert_false(cmd_invite_parse(&inv, bad, strlen(bad)));
	}
	/* Each field left out (not_before to hours may be). */
	{
		static const char *const required[] = {
		    "\"v\":",     "\"device\":",  "\"id\":", "\"kid\":", "\"actions\":",
		    "\"doors\":", "\"expires\":", "\"ik\":", "\"by\":",  "\"sig\":"};

		for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
			char *from = strstr(good, required[i]), *to;

			assert_non_null(from);
			to = from;
			/* to the next field's quote, or the end */
			while (*to != '\0' && !(to[0] == ',' && to[1] == '"'))
				to++;
			if (*to == ',')
				snprintf(bad, sizeof(bad), "%.*s%s", (int)(from - good), good,
				         to + 1);
			else
				snprintf(bad, sizeof(bad), "%.*s}", (int)(from - good - 1), good);
			if (cmd_invite_parse(&inv, bad, strlen(bad)))
				fail_msg("without %s accepted: %s", required[i], bad);
		}
	}
	/* At most CMD_INVITE_MAX bytes, whitespace included. */
	memset(bad, ' ', sizeof(bad));
	memcpy(bad, good, n - 1);
	bad[CMD_INVITE_MAX - 1] = '}';
	assert_true(cmd_invite_parse(&inv, bad, CMD_INVITE_MAX));
	bad[CMD_INVITE_MAX - 1] = ' ';
	bad[CMD_INVITE_MAX] = '}';
	assert_false(cmd_invite_parse(&inv, bad, CMD_INVITE_MAX + 1));
	assert_false(cmd_invite_parse(&inv, NULL, 0));
}

/* A refused invitation is still read as far as it goes: the event can say which it was. */
static void
test_enroll_InvitationReadAsFarAsItGoes(void **state)
{
	struct fixture *f = *state;
	struct spec s = good_spec();
	char json[CMD_INVITE_MAX], buf[CMD_ENROLL_MAX_PAYLOAD + 1], *where;
	struct cmd_enroll out;
	size_t n;

	sign_invite(&s);
	assert_true(cmd_invite_json(&s.inv, json, sizeof(json)) > 0);
	where = strstr(json, "\"expires\":");
	memcpy(where + 10, "0", 1); /* expires with a leading zero: JSON, but not a time */
	n = request_raw(buf, sizeof(buf), &s, json, pub_b64(dave.pk));
	assert_reason(check(f, buf, n, NOW, &out), CMD_MALFORMED);
	assert_int_equal(verify_calls, 0);
	assert_string_equal(out.inv.id, s.inv.id);
	assert_string_equal(out.inv.key.kid, "dave");
	assert_string_equal(out.inv.by, "owner");
	assert_string_equal(out.nonce, NONCE);
	assert_int_equal(out.ts, NOW);
}

/* ---- the request -------------------------------------------------------------------------- */

static void
test_enroll_RequestMalformed(void **state)
{
	static const struct {
		const char *from, *to;
	} cases[] = {
	    {"{\"v\":1,", "{\"v\":2,"},
	    {"{\"v\":1,", "{"},
	    {"{\"v\":1,", "{\"v\":1,\"v\":1,"},
	    {"{\"v\":1,", "{\"v\":1,\"kid\":\"dave\","},
	    {"{\"v\":1,", " {\"v\":1,"},
	    {"\"ts\":", "\"ts\":0"},
	    {"\"ts\":", "\"ts\":-"},
	    {"\"nonce\":\"EnRoLl-nOnCe\"", "\"nonce\":\"EnRoLl\""},
	    {"\"nonce\":\"EnRoLl-nOnCe\"", "\"nonce\":\"EnRoLl+nOnCe\""},
	    {"\"nonce\":\"EnRoLl-nOnCe\"", "\"nonce\":[\"EnRoLl-nOnCe\"]"},
	    {"\"inv\":\"", "\"inv\":\"A"},
	    {"\"inv\":\"", "\"inv\":\"!"},
	    {"\"inv\":\"", "\"inv\":\"e30"}, /* {} and then the rest */
	    {"\"proof\":\"", "\"proof\":\"A"},
	    {"\"sig\":\"", "\"sig\":\"A"},
	};
	struct fixture *f = *state;
	struct spec s = good_spec();
	char good[CMD_ENROLL_MAX_PAYLOAD + 1], bad[CMD_ENROLL_MAX_PAYLOAD + 64], *where;
	char pub[64];
	struct cmd_enroll out;
	size_t n;

	n = build(good, sizeof(good), &s);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		where = strstr(good, cases[i].from);
		assert_non_null(where);
		snprintf(bad, sizeof(bad), "%.*s%s%s", (int)(where - good), good, cases[i].to,
		         where + strlen(cases[i].from));
		if (check(f, bad, strlen(bad), NOW, &out) != CMD_MALFORMED)
			fail_msg("case %zu not malformed: %s", i, bad);
	}
	/* Each field left out. */
	for (const char *const *field =
	         (const char *const[]){"\"v\":", "\"inv\":", "\"pub\":", "\"ts\":", "\"nonce\":",
	                               "\"proof\":", "\"sig\":", NULL};
	     *field != NULL; field++) {
		char *from = strstr(good, *field), *to = from;

		while (*to != '\0' && !(to[0] == ',' && to[1] == '"'))
			to++;
		if (*to == ',')
			snprintf(bad, sizeof(bad), "%.*s%s", (int)(from - good), good, to + 1);
		else
			snprintf(bad, sizeof(bad), "%.*s}", (int)(from - good - 1), good);
		assert_reason(check(f, bad, strlen(bad), NOW, &out), CMD_MALFORMED);
	}
	/* pub: the 44 characters of standard base64 of 32 bytes, nothing else. */
	n = request_raw(bad, sizeof(bad), &s, "{}", pub_b64(dave.pk));
	assert_reason(check(f, bad, n, NOW, &out), CMD_MALFORMED);
	strcpy(pub, b64url(dave.pk, sizeof(dave.pk)));
	{
		char json[CMD_INVITE_MAX];

		assert_true(cmd_invite_json(&s.inv, json, sizeof(json)) > 0);
		n = request_raw(bad, sizeof(bad), &s, json, pub); /* base64url, no padding */
		assert_reason(check(f, bad, n, NOW, &out), CMD_MALFORMED);
		strcpy(pub, pub_b64(dave.pk));
		pub[42] = pub[42] == 'A' ? 'E' : 'A'; /* another key, canonical still */
		n = request_raw(bad, sizeof(bad), &s, json, pub);
		assert_true(check(f, bad, n, NOW, &out) != CMD_MALFORMED);
		/* The one-time key as the new key: the seed has been seen by others. */
		s.newkey = &ik;
		n = build_signed(bad, sizeof(bad), &s);
		assert_reason(check(f, bad, n, NOW, &out), CMD_MALFORMED);
	}
	assert_int_equal(cmd_enroll_check(&f->v, NULL, 0, false, at(NOW), &out), CMD_MALFORMED);
	assert_int_equal(
	    cmd_enroll_check(&f->v, (const uint8_t *)good, strlen(good), false, at(NOW), NULL),
	    CMD_MALFORMED);
}

static void
test_enroll_RetainedAndTooLarge(void **state)
{
	struct fixture *f = *state;
	struct spec s = good_spec();
	char buf[CMD_ENROLL_MAX_PAYLOAD + 2];
	struct cmd_enroll out;
	size_t n = build(buf, sizeof(buf), &s);

	/* Retained before anything, even a good request. */
	assert_int_equal(cmd_enroll_check(&f->v, (const uint8_t *)buf, n, true, at(NOW), &out),
	                 CMD_RETAINED);
	/* Padded to exactly the limit it is judged; one byte more is too large. */
	memset(buf + n - 1, ' ', CMD_ENROLL_MAX_PAYLOAD - n);
	buf[CMD_ENROLL_MAX_PAYLOAD - 1] = '}';
	assert_reason(check(f, buf, CMD_ENROLL_MAX_PAYLOAD, NOW, &out), CMD_OK);
	buf[CMD_ENROLL_MAX_PAYLOAD - 1] = ' ';
	buf[CMD_ENROLL_MAX_PAYLOAD] = '}';
	assert_reason(check(f, buf, CMD_ENROLL_MAX_PAYLOAD + 1, NOW, &out), CMD_TOO_LARGE);
	assert_int_equal(cmd_enroll_check(&f->v, (const uint8_t *)buf, CMD_ENROLL_MAX_PAYLOAD + 1,
	                                  true, at(NOW), &out),
	                 CMD_RETAINED);
	assert_int_equal(verify_calls, 3);
}

/* ---- the invitation's checks -------------------------------------------------------------- */

static void
test_enroll_WrongDevice(void **state)
{
	struct fixture *f = *state;
	struct spec s = good_spec();
	struct cmd_enroll out;

	strcpy(s.inv.device, "shed");
	assert_reason(check_spec(f, &s, NOW, &out), CMD_WRONG_DEVICE);
	assert_int_equal(verify_calls, 0);
	assert_string_equal(out.inv.device, "shed");
	/* A verifier nobody configured is no device's. */
	s = good_spec();
	{
		char buf[CMD_ENROLL_MAX_PAYLOAD + 1];
		size_t n = build(buf, sizeof(buf), &s);

		assert_int_equal(
		    cmd_enroll_check(NULL, (const uint8_t *)buf, n, false, at(NOW), &out),
		    CMD_WRONG_DEVICE);
		f->v.device_id[0] = '\0';
		assert_reason(check(f, buf, n, NOW, &out), CMD_WRONG_DEVICE);
	}
}

static void
test_enroll_InviterMustBeAnAdminNow(void **state)
{
	struct fixture *f = *state;
	struct spec s = good_spec();
	struct cmd_enroll out;

	/* Nobody of that kid; a key that is no admin, even one that signed for real. */
	strcpy(s.inv.by, "mallory");
	s.inviter = &mallory;
	assert_reason(check_spec(f, &s, NOW, &out), CMD_UNKNOWN_KEY);
	s = good_spec();
	strcpy(s.inv.by, "bob");
	s.inviter = &bob;
	s.inv.key = key_line("dave", "actions=open doors=side");
	memset(s.inv.key.pub, 0, sizeof(s.inv.key.pub));
	assert_reason(check_spec(f, &s, NOW, &out), CMD_NOT_ADMIN);
	assert_int_equal(verify_calls, 0);

	/* An admin outside their own validity or schedule invites nobody then. */
	s = good_spec();
	strcpy(s.inv.by, "carol");
	s.inviter = &carol;
	set_carol(f, "not_after=2026-11-24T19:14:59Z");
	assert_reason(check_spec(f, &s, NOW, &out), CMD_KEY_EXPIRED);
	set_carol(f, "not_before=2026-11-24T19:15:01Z");
	assert_reason(check_spec(f, &s, NOW, &out), CMD_KEY_NOT_YET_VALID);
	set_carol(f, "hours=19:16-20:00");
	assert_reason(check_spec(f, &s, NOW, &out), CMD_KEY_OFF_HOURS);
	assert_int_equal(verify_calls, 0);
	/* The same carol inside her hours (her invitation within them). */
	s.inv.key = key_line("dave", "hours=19:15-20:00");
	memset(s.inv.key.pub, 0, sizeof(s.inv.key.pub));
	set_carol(f, "hours=19:15-20:00");
	assert_reason(check_spec(f, &s, NOW, &out), CMD_OK);
}

static void
test_enroll_BadInvitation(void **state)
{
	struct fixture *f = *state;
	char buf[CMD_ENROLL_MAX_PAYLOAD + 1];
	struct cmd_enroll out;
	struct spec s;
	size_t n;

	/* Signed by someone else in the owner's name. */
	s = good_spec();
	s.inviter = &mallory;
	assert_reason(check_spec(f, &s, NOW, &out), CMD_BAD_INVITATION);
	assert_int_equal(verify_calls, 1);

	/* Every line of the signed text counts: each change after signing breaks it. */
	for (int field = 0; field < 9; field++) {
		s = good_spec();
		sign_invite(&s);
		switch (field) {
		case 0:
			set_id(&s.inv, 2);
			break;
		case 1:
			strcpy(s.inv.key.kid, "davf");
			break;
		case 2:
			s.inv.key.actions = 1U << CMD_ACTION_OPEN;
			break;
		case 3:
			strcpy(s.inv.key.doors[0], "side");
			break;
		case 4:
			s.inv.key.not_after--;
			break;
		case 5:
			s.inv.expires++;
			break;
		case 6:
			s.inv.ik[0] ^= 1;
			s.prover = &mallory; /* whose seed does not matter: it stops before */
			break;
		case 7:
			s.inv.key.days = 1U << 2;
			break;
		default:
			s.inv.sig[10] ^= 1;
			break;
		}
		n = build_signed(buf, sizeof(buf), &s);
		if (check(f, buf, n, NOW, &out) != CMD_BAD_INVITATION)
			fail_msg("change %d after signing: %s", field,
			         cmd_reason_name(check(f, buf, n, NOW, &out)));
	}
	/* A command's or an admin message's signature never passes for an invitation's. */
	s = good_spec();
	{
		char text[CMD_ADMIN_SIGNED_TEXT_MAX];
		size_t tn = cmd_admin_signed_text(text, sizeof(text), DEVICE, CMD_ADMIN_RENEW, "",
		                                  NOW, NONCE, "owner");

		crypto_sign_detached(s.inv.sig, NULL, (const uint8_t *)text, tn, owner.sk);
		n = build_signed(buf, sizeof(buf), &s);
		assert_reason(check(f, buf, n, NOW, &out), CMD_BAD_INVITATION);
	}
	/* Without a signature primitive nothing verifies. */
	s = good_spec();
	f->v.verify = NULL;
	assert_reason(check_spec(f, &s, NOW, &out), CMD_BAD_INVITATION);
}

static void
test_enroll_InvitationExpired(void **state)
{
	struct fixture *f = *state;
	struct spec s = good_spec();
	struct cmd_enroll out;

	/* Valid during its expiry second, not after. */
	s.inv.expires = NOW;
	assert_reason(check_spec(f, &s, NOW, &out), CMD_OK);
	s = good_spec();
	set_id(&s.inv, 2);
	s.inv.expires = NOW - 1;
	s.nonce = "EnRoLl-nOnCf";
	assert_reason(check_spec(f, &s, NOW, &out), CMD_INVITATION_EXPIRED);
	assert_int_equal(verify_calls, 3 + 1);
	/* Judged by the latest time seen: a clock set back does not revive it. */
	f->v.latest = NOW + 100;
	s.inv.expires = NOW + 50;
	s.ts = NOW + 100;
	assert_reason(check_spec(f, &s, NOW, &out), CMD_INVITATION_EXPIRED);
}

static void
test_enroll_OverPermissive(void **state)
{
	static const char *const carol_opts =
	    "actions=open,close doors=main,side not_after=2026-12-31T23:59:59Z "
	    "days=mon,tue,wed hours=07:00-20:00";
	static const struct {
		const char *options;
		bool ok;
	} cases[] = {
	    {"actions=open doors=main not_after=2026-12-31T23:59:59Z days=tue hours=19:00-20:00",
	     true},
	    {"actions=open,close doors=side,main not_after=2026-12-01T00:00:00Z "
	     "days=mon,tue,wed hours=07:00-20:00",
	     true},
	    /* one thing more than carol each */
	    {"actions=open,stop doors=main not_after=2026-12-31T23:59:59Z days=tue "
	     "hours=19:00-20:00",
	     false},
	    {"doors=main not_after=2026-12-31T23:59:59Z days=tue hours=19:00-20:00", false},
	    {"actions=open doors=main,back not_after=2026-12-31T23:59:59Z days=tue "
	     "hours=19:00-20:00",
	     false},
	    {"actions=open not_after=2026-12-31T23:59:59Z days=tue hours=19:00-20:00", false},
	    {"actions=open doors=main not_after=2027-01-01T00:00:00Z days=tue hours=19:00-20:00",
	     false},
	    {"actions=open doors=main days=tue hours=19:00-20:00", false},
	    {"actions=open doors=main not_after=2026-12-31T23:59:59Z days=tue,thu "
	     "hours=19:00-20:00",
	     false},
	    {"actions=open doors=main not_after=2026-12-31T23:59:59Z hours=19:00-20:00", false},
	    {"actions=open doors=main not_after=2026-12-31T23:59:59Z days=tue hours=19:00-20:01",
	     false},
	    {"actions=open doors=main not_after=2026-12-31T23:59:59Z days=tue", false},
	};
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum cmd_reason r =
		    carol_invites(f, carol_opts, cases[i].options, (unsigned)i + 10);

		if (r != (cases[i].ok ? CMD_OK : CMD_OVER_PERMISSIVE))
			fail_msg("\"%s\": %s", cases[i].options, cmd_reason_name(r));
	}
}

/* ---- the request's checks ----------------------------------------------------------------- */

static void
test_enroll_TimeWindow(void **state)
{
	struct fixture *f = *state;
	struct cmd_enroll out;
	struct spec s;
	char nonce_text[16];
	static const struct {
		int64_t ts;
		enum cmd_reason want;
	} cases[] = {
	    {NOW - SKEW - 1, CMD_STALE}, {NOW + SKEW + 1, CMD_FUTURE}, {NOW - SKEW, CMD_OK},
	    {NOW + SKEW, CMD_OK},        {START - 1, CMD_STALE},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		s = good_spec();
		set_id(&s.inv, (unsigned)i + 2);
		s.ts = cases[i].ts;
		strcpy(nonce_text, b64url(&i, sizeof(i)));
		s.nonce = nonce_text;
		verify_calls = 0;
		assert_reason(check_spec(f, &s, cases[i].ts == START - 1 ? START + 10 : NOW, &out),
		              cases[i].want);
		/* The invitation was checked first: one signature. */
		if (cases[i].want != CMD_OK)
			assert_int_equal(verify_calls, 1);
	}
}

static void
test_enroll_Replay(void **state)
{
	struct fixture *f = *state;
	struct spec s = good_spec();
	char buf[CMD_ENROLL_MAX_PAYLOAD + 1], text[CMD_SIGNED_TEXT_MAX], cmd[CMD_MAX_PAYLOAD + 1];
	uint8_t sig[CMD_SIG_LEN];
	struct cmd_enroll out;
	struct cmd c;
	size_t n = build(buf, sizeof(buf), &s), tn;

	assert_reason(check(f, buf, n, NOW, &out), CMD_OK);
	assert_reason(check(f, buf, n, NOW + 1, &out), CMD_REPLAY);
	/* Another request, with a nonce a command used before: one window for every message. */
	tn = cmd_signed_text(text, sizeof(text), DEVICE, "main", CMD_ACTION_OPEN, NOW,
	                     "CoMmAnD-nOnC", "owner");
	crypto_sign_detached(sig, NULL, (const uint8_t *)text, tn, owner.sk);
	snprintf(cmd, sizeof(cmd),
	         "{\"v\":1,\"door\":\"main\",\"action\":\"open\",\"ts\":%lld,\"nonce\":"
	         "\"CoMmAnD-nOnC\",\"kid\":\"owner\",\"sig\":\"%s\"}",
	         (long long)NOW, b64url(sig, sizeof(sig)));
	assert_reason(
	    cmd_check(&f->v, "main", (const uint8_t *)cmd, strlen(cmd), false, at(NOW), &c),
	    CMD_OK);
	s = good_spec();
	set_id(&s.inv, 2);
	strcpy(s.inv.key.kid, "erin");
	s.nonce = "CoMmAnD-nOnC";
	assert_reason(check_spec(f, &s, NOW, &out), CMD_REPLAY);
}

static void
test_enroll_BadProofAndBadSignature(void **state)
{
	struct fixture *f = *state;
	struct spec s = good_spec();
	struct cmd_enroll out;

	/* The proof by a key that is not the invitation's one-time key. */
	s.prover = &dave;
	assert_reason(check_spec(f, &s, NOW, &out), CMD_BAD_PROOF);
	assert_int_equal(verify_calls, 2);
	/* The new key's signature by another key than the one in pub. */
	s = good_spec();
	s.newkey = &mallory;
	{
		char buf[CMD_ENROLL_MAX_PAYLOAD + 1], json[CMD_INVITE_MAX];
		size_t n;

		sign_invite(&s);
		assert_true(cmd_invite_json(&s.inv, json, sizeof(json)) > 0);
		n = request_raw(buf, sizeof(buf), &s, json, pub_b64(dave.pk));
		verify_calls = 0;
		assert_reason(check(f, buf, n, NOW, &out), CMD_BAD_SIGNATURE);
		assert_int_equal(verify_calls, 3);
		/* Neither entered the replay window: the real request still passes. */
		s.newkey = &dave;
		n = build_signed(buf, sizeof(buf), &s);
		assert_reason(check(f, buf, n, NOW, &out), CMD_OK);
	}
	/* A request signed for another device: the device's own id is in the text it checks. */
	s = good_spec();
	set_id(&s.inv, 3);
	strcpy(s.inv.key.kid, "erin");
	s.nonce = "AnOtHeR-nOnC";
	strcpy(f->v.device_id, "shed");
	strcpy(s.inv.device, "shed");
	{
		char buf[CMD_ENROLL_MAX_PAYLOAD + 1], json[CMD_INVITE_MAX];
		size_t n;

		sign_invite(&s);
		assert_true(cmd_invite_json(&s.inv, json, sizeof(json)) > 0);
		strcpy(s.inv.device, DEVICE); /* the request's texts name the garage */
		n = request_raw(buf, sizeof(buf), &s, json, pub_b64(dave.pk));
		assert_reason(check(f, buf, n, NOW, &out), CMD_BAD_PROOF);
	}
}

static void
test_enroll_KidTakenOrRingFull(void **state)
{
	struct fixture *f = *state;
	struct spec s = good_spec();
	struct cmd_enroll out;
	char buf[CMD_ENROLL_MAX_PAYLOAD + 1];
	size_t n;

	strcpy(s.inv.key.kid, "bob");
	n = build(buf, sizeof(buf), &s);
	assert_reason(check(f, buf, n, NOW, &out), CMD_KEY_EXISTS);
	assert_int_equal(verify_calls, 3);
	/* Its nonce was remembered: the signatures were good. */
	assert_reason(check(f, buf, n, NOW, &out), CMD_REPLAY);

	/* A ring of CMD_MAX_KEYS keys has no room. */
	{
		char *text = test_malloc(64 * 1024), err[256];
		size_t len = (size_t)snprintf(text, 64 * 1024, "ed25519 %s owner admin\n",
		                              pub_b64(owner.pk));

		for (size_t i = 1; i < CMD_MAX_KEYS; i++)
			len += (size_t)snprintf(text + len, 64 * 1024 - len, "ed25519 %s k%zu\n",
			                        pub_b64(bob.pk), i);
		assert_int_equal(cmd_keys_parse(&f->ring, text, len, err, sizeof(err)), 0);
		test_free(text);
	}
	s = good_spec();
	s.nonce = "FuLl-RiNg-00";
	assert_reason(check_spec(f, &s, NOW, &out), CMD_TOO_MANY_KEYS);
}

/* The first reason of a request that is wrong in many ways, from the last to the first. */
static void
test_enroll_CheckOrder(void **state)
{
	struct fixture *f = *state;
	char buf[CMD_ENROLL_MAX_PAYLOAD + 1];
	struct cmd_enroll out;
	struct spec s = good_spec();
	size_t n;

	strcpy(s.inv.key.kid, "bob"); /* key_exists */
	s.prover = &dave;             /* bad_proof */
	assert_reason(check_spec(f, &s, NOW, &out), CMD_BAD_PROOF);
	s.ts = NOW - 100; /* stale */
	assert_reason(check_spec(f, &s, NOW, &out), CMD_STALE);
	s.inv.key = key_line("bob", "");
	memset(s.inv.key.pub, 0, sizeof(s.inv.key.pub));
	strcpy(s.inv.by, "carol");
	s.inviter = &carol;
	set_carol(f, "doors=main");
	assert_reason(check_spec(f, &s, NOW, &out), CMD_OVER_PERMISSIVE);
	s.inv.expires = NOW - 1;
	assert_reason(check_spec(f, &s, NOW, &out), CMD_INVITATION_EXPIRED);
	/* Signed by carol, sent in the owner's name. */
	strcpy(s.inv.by, "owner");
	assert_reason(check_spec(f, &s, NOW, &out), CMD_BAD_INVITATION);
	set_carol(f, "not_after=2026-01-01T00:00:00Z");
	strcpy(s.inv.by, "carol");
	assert_reason(check_spec(f, &s, NOW, &out), CMD_KEY_EXPIRED);
	strcpy(s.inv.by, "bob");
	assert_reason(check_spec(f, &s, NOW, &out), CMD_NOT_ADMIN);
	strcpy(s.inv.by, "nobody");
	assert_reason(check_spec(f, &s, NOW, &out), CMD_UNKNOWN_KEY);
	strcpy(s.inv.device, "shed");
	assert_reason(check_spec(f, &s, NOW, &out), CMD_WRONG_DEVICE);
	n = build(buf, sizeof(buf), &s);
	buf[n - 1] = ','; /* no longer JSON */
	assert_reason(check(f, buf, n, NOW, &out), CMD_MALFORMED);
	assert_int_equal(cmd_enroll_check(&f->v, (const uint8_t *)buf, CMD_ENROLL_MAX_PAYLOAD + 1,
	                                  false, at(NOW), &out),
	                 CMD_TOO_LARGE);
	assert_int_equal(cmd_enroll_check(&f->v, (const uint8_t *)buf, CMD_ENROLL_MAX_PAYLOAD + 1,
	                                  true, at(NOW), &out),
	                 CMD_RETAINED);
}

/* ---- the words and the signed texts ------------------------------------------------------- */

static void
test_enroll_ReasonWords(void **state)
{
	static const char *const words[] = {
	    "wrong_device", "bad_invitation",  "invitation_expired",   "over_permissive",
	    "bad_proof",    "invitation_used", "too_many_invitations", "invitations_write_failed",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		assert_string_equal(cmd_reason_name((enum cmd_reason)(CMD_WRONG_DEVICE + i)),
		                    words[i]);
	/* The door half's keys_busy came after them; nothing after it has a name. */
	assert_string_equal(cmd_reason_name((enum cmd_reason)(CMD_INVITATIONS_WRITE_FAILED + 1)),
	                    "keys_busy");
	assert_string_equal(cmd_reason_name((enum cmd_reason)(CMD_KEYS_BUSY + 1)), "unknown");
}

static void
test_enroll_SignedTexts(void **state)
{
	struct spec s = good_spec();
	char buf[CMD_INVITE_MAX], want[CMD_INVITE_MAX];
	size_t n;

	(void)state;
	snprintf(want, sizeof(want),
	         "garaged-invite-v1\ngarage\n%s\ndave\nactions=open,close doors=main "
	         "not_after=2026-12-31T23:59:59Z\n%lld\n%s\nowner",
	         s.inv.id, (long long)EXPIRES, b64url(ik.pk, sizeof(ik.pk)));
	n = cmd_invite_signed_text(buf, sizeof(buf), &s.inv);
	assert_int_equal(n, strlen(want));
	assert_string_equal(buf, want);
	assert_int_equal(cmd_invite_signed_text(buf, n + 1, &s.inv), n);
	assert_int_equal(cmd_invite_signed_text(buf, n, &s.inv), 0);
	assert_string_equal(buf, "");
	assert_int_equal(cmd_invite_signed_text(buf, sizeof(buf), NULL), 0);
	/* A key without limits is an empty line. */
	s.inv.key = key_line("dave", "");
	cmd_invite_signed_text(buf, sizeof(buf), &s.inv);
	assert_non_null(strstr(buf, "\ndave\n\n"));

	n = cmd_enroll_signed_text(buf, sizeof(buf), "d", "i", "k", "p", 42, "n");
	assert_string_equal(buf, "garaged-enroll-v1\nd\ni\nk\np\n42\nn");
	assert_int_equal(n, strlen(buf));
	assert_int_equal(cmd_enroll_signed_text(buf, n, "d", "i", "k", "p", 42, "n"), 0);
	assert_int_equal(cmd_enroll_signed_text(buf, sizeof(buf), "d", "i", "k", NULL, 42, "n"), 0);
	assert_int_equal(cmd_enroll_signed_text(NULL, 10, "d", "i", "k", "p", 42, "n"), 0);
	cmd_enroll_admin_op(NULL, NULL);
}

/*
 * The test vector of docs/protocol.md: the page and the code must agree byte for byte. The
 * keys come from the documented seeds, the texts are built by the core, the signatures are
 * compared with the documented ones (made with OpenSSL), and the documented request is
 * accepted as it stands.
 */
static void
test_enroll_ProtocolTestVector(void **state)
{
	static const char doc_keys[] =
	    "ed25519 A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg= alice-phone admin\n";
	static const char doc_ik[] = "JUO5L_EJVRFHatyDadtt3JM2ZaEZeN2hQE7hBmypVZ0";
	static const char doc_invite_text[] =
	    "garaged-invite-v1\ngarage\nZ2FyYWdlZC1pbnZpdGUwMQ\nbob\nactions=open,close "
	    "doors=main not_after=2026-12-31T23:59:59Z\n1795634100\n"
	    "JUO5L_EJVRFHatyDadtt3JM2ZaEZeN2hQE7hBmypVZ0\nalice-phone";
	static const char doc_invite_sig[] =
	    "LeeOll0dWGzTYTTgIEnKHMdgXY_WM2aYfZyNf2vF0B1lXQMC610wib_"
	    "dWhRJ5UXEq0iaXlNVNA1KmAoRGxcCDw";
	static const char doc_invitation[] =
	    "{\"v\":1,\"device\":\"garage\",\"id\":\"Z2FyYWdlZC1pbnZpdGUwMQ\",\"kid\":\"bob\","
	    "\"actions\":[\"open\",\"close\"],\"doors\":[\"main\"],\"not_after\":"
	    "\"2026-12-31T23:59:59Z\",\"expires\":1795634100,\"ik\":"
	    "\"JUO5L_EJVRFHatyDadtt3JM2ZaEZeN2hQE7hBmypVZ0\",\"by\":\"alice-phone\",\"sig\":"
	    "\"LeeOll0dWGzTYTTgIEnKHMdgXY_WM2aYfZyNf2vF0B1lXQMC610wib_"
	    "dWhRJ5UXEq0iaXlNVNA1KmAoRGxcCD"
	    "w\"}";
	static const char doc_enroll_text[] =
	    "garaged-enroll-v1\ngarage\nZ2FyYWdlZC1pbnZpdGUwMQ\nbob\n"
	    "Kay64UG8yvCyLhqU000LxzYeUm0L/hLIl5S8kyKWbdc=\n1795547700\nEnRoLl-nOnCe";
	static const char doc_proof[] = "9WQFp-6OvIUxvJiR7B6_TZuzikDDZvNuLACG0HbYGYddOkI_"
	                                "GKNsU6cKP5dOypnBdx8NqE9PQCT1DWeatrL5DA";
	static const char doc_sig[] = "nlCitcGEzdM4Vtnsm2IpdO_lNtOpdK0qqh0AxT309WHuYs-"
	                              "mkrkUEVoFPqDFIxThJKkfsasQIzOPmTbTjjouAA";
	static char doc_request[2 * CMD_ENROLL_MAX_PAYLOAD + 256];
	static struct cmd_keyring ring;
	static struct cmd_verifier v;
	struct keypair alice, bobk, one;
	uint8_t seed[32], sig[64];
	char text[CMD_INVITE_MAX], b64[CMD_INVITE_MAX * 2], err[128];
	struct cmd_invite inv;
	struct cmd_enroll out;
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(seed); i++)
		seed[i] = (uint8_t)i;
	crypto_sign_seed_keypair(alice.pk, alice.sk, seed);
	for (size_t i = 0; i < sizeof(seed); i++)
		seed[i] = (uint8_t)(0x20 + i);
	crypto_sign_seed_keypair(bobk.pk, bobk.sk, seed);
	for (size_t i = 0; i < sizeof(seed); i++)
		seed[i] = (uint8_t)(0x40 + i);
	crypto_sign_seed_keypair(one.pk, one.sk, seed);
	assert_string_equal(b64url(one.pk, 32), doc_ik);
	assert_string_equal(pub_b64(bobk.pk), "Kay64UG8yvCyLhqU000LxzYeUm0L/hLIl5S8kyKWbdc=");

	/* The invitation: its JSON is what the core writes, its text what the core signs. */
	assert_true(cmd_invite_parse(&inv, doc_invitation, strlen(doc_invitation)));
	assert_true(cmd_invite_json(&inv, text, sizeof(text)) > 0);
	assert_string_equal(text, doc_invitation);
	n = cmd_invite_signed_text(text, sizeof(text), &inv);
	assert_int_equal(n, strlen(doc_invite_text));
	assert_memory_equal(text, doc_invite_text, n);
	crypto_sign_detached(sig, NULL, (const uint8_t *)text, n, alice.sk);
	assert_string_equal(b64url(sig, sizeof(sig)), doc_invite_sig);

	/* The request's text, signed by the one-time key and by bob's. */
	n = cmd_enroll_signed_text(text, sizeof(text), "garage", inv.id, inv.key.kid,
	                           "Kay64UG8yvCyLhqU000LxzYeUm0L/hLIl5S8kyKWbdc=", 1795547700,
	                           "EnRoLl-nOnCe");
	assert_int_equal(n, strlen(doc_enroll_text));
	assert_memory_equal(text, doc_enroll_text, n);
	crypto_sign_detached(sig, NULL, (const uint8_t *)text, n, one.sk);
	assert_string_equal(b64url(sig, sizeof(sig)), doc_proof);
	crypto_sign_detached(sig, NULL, (const uint8_t *)text, n, bobk.sk);
	assert_string_equal(b64url(sig, sizeof(sig)), doc_sig);

	/* The documented request, accepted by a verifier with the documented key. */
	assert_true(base64_encode(BASE64_URL_UNPADDED, (const uint8_t *)doc_invitation,
	                          strlen(doc_invitation), b64, sizeof(b64)) > 0);
	snprintf(doc_request, sizeof(doc_request),
	         "{\"v\":1,\"inv\":\"%s\",\"pub\":\"Kay64UG8yvCyLhqU000LxzYeUm0L/hLIl5S8kyKWbdc=\","
	         "\"ts\":1795547700,\"nonce\":\"EnRoLl-nOnCe\",\"proof\":\"%s\",\"sig\":\"%s\"}",
	         b64, doc_proof, doc_sig);
	assert_int_equal(strlen(doc_request), 743);
	memset(&ring, 0, sizeof(ring));
	assert_int_equal(cmd_keys_parse(&ring, doc_keys, strlen(doc_keys), err, sizeof(err)), 0);
	memset(&v, 0, sizeof(v));
	strcpy(v.device_id, "garage");
	v.clock_skew = 30;
	v.start_time = 1795547600;
	v.keys = &ring;
	v.verify = sig_sodium_verify;
	assert_reason(cmd_enroll_check(&v, (const uint8_t *)doc_request, strlen(doc_request), false,
	                               at(1795547700), &out),
	              CMD_OK);
	assert_string_equal(out.inv.key.kid, "bob");
	assert_memory_equal(out.inv.key.pub, bobk.pk, 32);
}

/* ---- fixture ------------------------------------------------------------------------------ */

static int
setup(void **state)
{
	static const char *const doors[] = {"main"};
	char text[512];

	snprintf(text, sizeof(text),
	         "ed25519 %s owner admin\n"
	         "ed25519 %s bob actions=open doors=side\n",
	         pub_b64(owner.pk), pub_b64(bob.pk));
	return fixture_setup(state, text, doors, sizeof(doors) / sizeof(doors[0]));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_enroll_Accepted),
	    T(test_enroll_AcceptedWithoutLimits),
	    T(test_enroll_AcceptedInAnySpelling),
	    cmocka_unit_test(test_enroll_InviteJsonRoundTrip),
	    T(test_enroll_LargestInvitationFits),
	    cmocka_unit_test(test_enroll_WritersRefuseWhatNoInvitationIs),
	    cmocka_unit_test(test_enroll_InvitationRefused),
	    T(test_enroll_InvitationReadAsFarAsItGoes),
	    T(test_enroll_RequestMalformed),
	    T(test_enroll_RetainedAndTooLarge),
	    T(test_enroll_WrongDevice),
	    T(test_enroll_InviterMustBeAnAdminNow),
	    T(test_enroll_BadInvitation),
	    T(test_enroll_InvitationExpired),
	    T(test_enroll_OverPermissive),
	    T(test_enroll_TimeWindow),
	    T(test_enroll_Replay),
	    T(test_enroll_BadProofAndBadSignature),
	    T(test_enroll_KidTakenOrRingFull),
	    T(test_enroll_CheckOrder),
	    cmocka_unit_test(test_enroll_ReasonWords),
	    cmocka_unit_test(test_enroll_SignedTexts),
	    cmocka_unit_test(test_enroll_ProtocolTestVector),
	};

	if (sig_sodium_init() != 0)
		return 1;
	crypto_sign_keypair(owner.pk, owner.sk);
	crypto_sign_keypair(bob.pk, bob.sk);
	crypto_sign_keypair(carol.pk, carol.sk);
	crypto_sign_keypair(mallory.pk, mallory.sk);
	crypto_sign_keypair(dave.pk, dave.sk);
	crypto_sign_keypair(ik.pk, ik.sk);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
