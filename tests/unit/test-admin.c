/*
 * Unit tests of the signed admin message (src/core/cmd_admin.c): cmd_admin_check(), its signed
 * text and op words, and cmd_keyring_apply(), the change it asks for.
 *
 * Messages are signed for real with Ed25519 keys libsodium makes for each run and verified
 * through libsodium (sig_sodium) behind a wrapper that counts its calls, as in test-cmd.c: that
 * is how the tests see that no cheap refusal reaches the signature. The verifier is the command
 * verifier itself, so that the replay window the two kinds of message share is the real one.
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
#include "sig_sodium.h"

#define DEVICE "garage"
#define NOW    INT64_C(1795547679) /* 2026-11-24T19:14:39Z, a Tuesday */
#define START  (NOW - 3600)
#define SKEW   30U
/* After DEVICE, START and SKEW, which its setup uses. */
#include "verifier_fixture.h"

#define NONCE "AdMiN-nOnCe0" /* 9 bytes */

/*
 * owner is an admin; bob is not (he may open the side door); carol is an admin whose line each
 * test writes (set_carol()); mallory is in no keyring; dave is the key that adds bring.
 */
static struct keypair owner, bob, carol, mallory, dave;

/* What an admin message says, and who signs it for which device. */
struct spec {
	const char *device;
	const char *op;
	const char *arg;
	int64_t ts;
	const char *nonce;
	const char *kid;
	const struct keypair *signer;
};

/* dave's line, as an add brings it. */
static const char *
dave_line(void)
{
	static char line[256];

	snprintf(line, sizeof(line),
	         "ed25519 %s dave actions=open doors=main not_after=2026-12-31T23:59:59Z",
	         pub_b64(dave.pk));
	return line;
}

static struct spec
add_spec(void)
{
	struct spec s = {DEVICE, "add", dave_line(), NOW, NONCE, "owner", &owner};

	return s;
}

/* The signature of s as base64url without padding; the op's word must be a real one. */
static void
sign_spec(const struct spec *s, char sig_b64[CMD_SIG_LEN * 2])
{
	char text[CMD_ADMIN_SIGNED_TEXT_MAX];
	uint8_t sig[CMD_SIG_LEN];
	enum cmd_admin_op op = CMD_ADMIN_ADD;
	size_t n;

	(void)cmd_admin_op_parse(s->op, strlen(s->op), &op);
	n = cmd_admin_signed_text(text, sizeof(text), s->device, op, s->arg, s->ts, s->nonce,
	                          s->kid);
	assert_true(n > 0);
	crypto_sign_detached(sig, NULL, (const uint8_t *)text, n, s->signer->sk);
	sodium_bin2base64(sig_b64, CMD_SIG_LEN * 2, sig, sizeof(sig),
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static size_t
build_with_sig(char *buf, size_t cap, const struct spec *s, const char *sig_b64)
{
	int n = snprintf(buf, cap,
	                 "{\"v\":1,\"op\":\"%s\",\"arg\":\"%s\",\"ts\":%lld,\"nonce\":\"%s\","
	                 "\"kid\":\"%s\",\"sig\":\"%s\"}",
	                 s->op, s->arg, (long long)s->ts, s->nonce, s->kid, sig_b64);

	assert_true(n > 0 && (size_t)n < cap);
	return (size_t)n;
}

static size_t
build(char *buf, size_t cap, const struct spec *s)
{
	char sig[CMD_SIG_LEN * 2];

	sign_spec(s, sig);
	return build_with_sig(buf, cap, s, sig);
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
check(struct fixture *f, const char *payload, size_t len, int64_t now, struct cmd_admin *out)
{
	return cmd_admin_check(&f->v, (const uint8_t *)payload, len, false, at(now), out);
}

static enum cmd_reason
check_spec(struct fixture *f, const struct spec *s, int64_t now, struct cmd_admin *out)
{
	char buf[CMD_ADMIN_MAX_PAYLOAD + 1];
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

/* The ring of setup() and carol, an admin, with OPTIONS on her line. */
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

/* ---- accepted messages -------------------------------------------------------------------- */

static void
test_admin_AddAccepted(void **state)
{
	struct fixture *f = *state;
	struct spec s = add_spec();
	struct cmd_admin out;
	struct cmd_key want;
	char err[128];

	assert_reason(check_spec(f, &s, NOW, &out), CMD_OK);
	assert_int_equal(verify_calls, 1);
	assert_true(out.has_op);
	assert_int_equal(out.op, CMD_ADMIN_ADD);
	assert_string_equal(out.target, "dave");
	assert_string_equal(out.kid, "owner");
	assert_string_equal(out.nonce, NONCE);
	assert_int_equal(out.ts, NOW);
	assert_string_equal(out.error, "");
	assert_int_equal(cmd_key_parse(&want, s.arg, strlen(s.arg), err, sizeof(err)), 0);
	assert_memory_equal(&out.key, &want, sizeof(want));
	assert_memory_equal(out.key.pub, dave.pk, sizeof(dave.pk));
	assert_int_equal(out.key.actions, 1U << CMD_ACTION_OPEN);
	assert_true(out.key.has_not_after);
	assert_false(out.key.admin);
}

static void
test_admin_RemoveAndRenewAccepted(void **state)
{
	struct fixture *f = *state;
	struct spec s = add_spec();
	struct cmd_admin out;

	s.op = "remove";
	s.arg = "bob";
	assert_reason(check_spec(f, &s, NOW, &out), CMD_OK);
	assert_int_equal(out.op, CMD_ADMIN_REMOVE);
	assert_string_equal(out.target, "bob");
	assert_string_equal(out.key.kid, "");

	s.op = "renew";
	s.arg = "";
	s.nonce = "renew-nonce0";
	assert_reason(check_spec(f, &s, NOW, &out), CMD_OK);
	assert_int_equal(out.op, CMD_ADMIN_RENEW);
	assert_string_equal(out.target, "");
	assert_string_equal(out.nonce, "renew-nonce0");
}

/* An add may bring a line of every option, admin included, and in any spacing it likes. */
static void
test_admin_AddOfEveryKindOfLine(void **state)
{
	static const char *const options[] = {
	    "",
	    " admin",
	    " actions=open,close doors=main,side not_before=2026-12-01T00:00:00Z "
	    "not_after=2026-12-31T23:59:59Z days=mon,tue,wed,thu,fri hours=07:00-10:00",
	    "   hours=22:00-06:00   days=sat,sun  ",
	};
	struct fixture *f = *state;
	char line[512], nonce[16];
	struct cmd_admin out;

	for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++) {
		struct spec s = add_spec();

		snprintf(line, sizeof(line), "ed25519 %s dave%s", pub_b64(dave.pk), options[i]);
		snprintf(nonce, sizeof(nonce), "nonce-%04zuAA", i);
		s.arg = line;
		s.nonce = nonce;
		assert_reason(check_spec(f, &s, NOW, &out), CMD_OK);
		assert_string_equal(out.target, "dave");
		assert_int_equal(out.key.admin, i == 1);
	}
}

/* The longest add that fits the payload's limit is accepted: the signed text has room. */
static void
test_admin_LongestAddFits(void **state)
{
	struct fixture *f = *state;
	struct spec s = add_spec();
	char line[CMD_ADMIN_MAX_PAYLOAD], buf[CMD_ADMIN_MAX_PAYLOAD + 2], sig[CMD_SIG_LEN * 2];
	size_t base, n;

	/* Two key ids of 64 and a nonce of 43: the other fields at their longest. */
	s.kid = "carol-with-a-key-id-of-sixty-four-characters-exactly-12345678901";
	assert_int_equal(strlen(s.kid), 64);
	s.signer = &carol;
	s.nonce = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
	s.ts = NOW;
	set_carol(f, "");
	{
		char text[1024], err[256];

		snprintf(text, sizeof(text), "ed25519 %s owner admin\ned25519 %s %s admin\n",
		         pub_b64(owner.pk), pub_b64(carol.pk), s.kid);
		assert_int_equal(cmd_keys_parse(&f->ring, text, strlen(text), err, sizeof(err)), 0);
	}
	base = (size_t)snprintf(line, sizeof(line), "ed25519 %s dave", pub_b64(dave.pk));
	s.arg = line;
	/* Grow the line with blanks until the payload is exactly at its limit. */
	sign_spec(&s, sig);
	n = build_with_sig(buf, sizeof(buf), &s, sig);
	memset(line + base, ' ', CMD_ADMIN_MAX_PAYLOAD - n);
	line[base + CMD_ADMIN_MAX_PAYLOAD - n] = '\0';
	n = build(buf, sizeof(buf), &s);
	assert_int_equal(n, CMD_ADMIN_MAX_PAYLOAD);
	assert_reason(check(f, buf, n, NOW, NULL), CMD_OK);

	/* One byte more is too large, before anything else is looked at. */
	strcat(line, " ");
	s.nonce = "BAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
	n = build(buf, sizeof(buf), &s);
	assert_int_equal(n, CMD_ADMIN_MAX_PAYLOAD + 1);
	verify_calls = 0;
	assert_reason(check(f, buf, n, NOW, NULL), CMD_TOO_LARGE);
	assert_int_equal(verify_calls, 0);
}

/* ---- refusals ----------------------------------------------------------------------------- */

/* Payloads that are not an admin message; $TS, $NONCE, $SIG and $LINE stand for add_spec()'s. */
static size_t
expand(char *out, size_t cap, const char *tpl)
{
	struct spec s = add_spec();
	char sig[CMD_SIG_LEN * 2], ts[24];
	size_t n = 0;

	sign_spec(&s, sig);
	snprintf(ts, sizeof(ts), "%lld", (long long)s.ts);
	while (*tpl != '\0') {
		static const char *const names[] = {"$TS", "$NONCE", "$SIG", "$LINE"};
		const char *values[] = {ts, s.nonce, sig, s.arg};
		size_t i;

		for (i = 0; i < 4; i++) {
			if (strncmp(tpl, names[i], strlen(names[i])) == 0)
				break;
		}
		if (i < 4) {
			assert_true(n + strlen(values[i]) < cap);
			memcpy(out + n, values[i], strlen(values[i]));
			n += strlen(values[i]);
			tpl += strlen(names[i]);
		} else {
			assert_true(n + 1 < cap);
			out[n++] = *tpl++;
		}
	}
	out[n] = '\0';
	return n;
}

#define FIELDS_AFTER_ARG ",\"ts\":$TS,\"nonce\":\"$NONCE\",\"kid\":\"owner\",\"sig\":\"$SIG\"}"

static void
test_admin_MalformedPayloads(void **state)
{
	static const struct {
		const char *name;
		const char *tpl;
		enum cmd_reason want;
		const char *error; /* in out.error, for an add */
	} rows[] = {
	    {"the valid message itself",
	     "{\"v\":1,\"op\":\"add\",\"arg\":\"$LINE\"" FIELDS_AFTER_ARG, CMD_OK, ""},
	    {"empty", "", CMD_MALFORMED, ""},
	    {"not JSON", "add dave", CMD_MALFORMED, ""},
	    {"array", "[]", CMD_MALFORMED, ""},
	    {"trailing newline", "{\"v\":1,\"op\":\"add\",\"arg\":\"$LINE\"" FIELDS_AFTER_ARG "\n",
	     CMD_MALFORMED, ""},
	    {"v = 2", "{\"v\":2,\"op\":\"add\",\"arg\":\"$LINE\"" FIELDS_AFTER_ARG, CMD_MALFORMED,
	     ""},
	    {"no op", "{\"v\":1,\"arg\":\"$LINE\"" FIELDS_AFTER_ARG, CMD_MALFORMED, ""},
	    {"no arg", "{\"v\":1,\"op\":\"add\"" FIELDS_AFTER_ARG, CMD_MALFORMED, ""},
	    {"op twice",
	     "{\"v\":1,\"op\":\"add\",\"op\":\"add\",\"arg\":\"$LINE\"" FIELDS_AFTER_ARG,
	     CMD_MALFORMED, ""},
	    {"arg twice",
	     "{\"v\":1,\"op\":\"add\",\"arg\":\"$LINE\",\"arg\":\"$LINE\"" FIELDS_AFTER_ARG,
	     CMD_MALFORMED, ""},
	    {"an extra field",
	     "{\"v\":1,\"op\":\"add\",\"arg\":\"$LINE\",\"door\":\"main\"" FIELDS_AFTER_ARG,
	     CMD_MALFORMED, ""},
	    {"a command's action instead of op",
	     "{\"v\":1,\"action\":\"add\",\"arg\":\"$LINE\"" FIELDS_AFTER_ARG, CMD_MALFORMED, ""},
	    {"unknown op", "{\"v\":1,\"op\":\"grant\",\"arg\":\"$LINE\"" FIELDS_AFTER_ARG,
	     CMD_MALFORMED, ""},
	    {"op in capitals", "{\"v\":1,\"op\":\"ADD\",\"arg\":\"$LINE\"" FIELDS_AFTER_ARG,
	     CMD_MALFORMED, ""},
	    {"op as number", "{\"v\":1,\"op\":1,\"arg\":\"$LINE\"" FIELDS_AFTER_ARG, CMD_MALFORMED,
	     ""},
	    {"arg as number", "{\"v\":1,\"op\":\"remove\",\"arg\":7" FIELDS_AFTER_ARG,
	     CMD_MALFORMED, ""},
	    {"arg null", "{\"v\":1,\"op\":\"renew\",\"arg\":null" FIELDS_AFTER_ARG, CMD_MALFORMED,
	     ""},
	    /* add: the line parser's verdict, and its message. */
	    {"add of nothing", "{\"v\":1,\"op\":\"add\",\"arg\":\"\"" FIELDS_AFTER_ARG,
	     CMD_MALFORMED, "no key on the line"},
	    {"add of a comment", "{\"v\":1,\"op\":\"add\",\"arg\":\"# $LINE\"" FIELDS_AFTER_ARG,
	     CMD_MALFORMED, "no key on the line"},
	    {"add of an rsa key",
	     "{\"v\":1,\"op\":\"add\",\"arg\":\"rsa AAAA dave\"" FIELDS_AFTER_ARG, CMD_MALFORMED,
	     "key type \"rsa\" is not supported"},
	    {"add with a bad option",
	     "{\"v\":1,\"op\":\"add\",\"arg\":\"$LINE days=someday\"" FIELDS_AFTER_ARG,
	     CMD_MALFORMED, "unknown day \"someday\" in days="},
	    {"add of an empty window",
	     "{\"v\":1,\"op\":\"add\",\"arg\":\"$LINE "
	     "not_before=2027-01-01T00:00:00Z\"" FIELDS_AFTER_ARG,
	     CMD_MALFORMED, "not_before= is later than not_after="},
	    {"add of two lines",
	     "{\"v\":1,\"op\":\"add\",\"arg\":\"$LINE\n$LINE\"" FIELDS_AFTER_ARG, CMD_MALFORMED,
	     "a control byte"},
	    {"add with a tab", "{\"v\":1,\"op\":\"add\",\"arg\":\"$LINE\tadmin\"" FIELDS_AFTER_ARG,
	     CMD_MALFORMED, "a control byte"},
	    {"add with an escaped newline",
	     "{\"v\":1,\"op\":\"add\",\"arg\":\"$LINE\\nadmin\"" FIELDS_AFTER_ARG, CMD_MALFORMED,
	     "a backslash"},
	    {"add with an escaped quote",
	     "{\"v\":1,\"op\":\"add\",\"arg\":\"$LINE \\\"admin\\\"\"" FIELDS_AFTER_ARG,
	     CMD_MALFORMED, "a quote"},
	    {"add with a unicode escape",
	     "{\"v\":1,\"op\":\"add\",\"arg\":\"$LINE\\u0020admin\"" FIELDS_AFTER_ARG,
	     CMD_MALFORMED, "a backslash"},
	    {"add with UTF-8",
	     "{\"v\":1,\"op\":\"add\",\"arg\":\"$LINE caf\xc3\xa9\"" FIELDS_AFTER_ARG,
	     CMD_MALFORMED, "outside ASCII"},
	    /* remove: a kid. */
	    {"remove of nothing", "{\"v\":1,\"op\":\"remove\",\"arg\":\"\"" FIELDS_AFTER_ARG,
	     CMD_MALFORMED, ""},
	    {"remove of a bad kid",
	     "{\"v\":1,\"op\":\"remove\",\"arg\":\"bob dave\"" FIELDS_AFTER_ARG, CMD_MALFORMED, ""},
	    {"remove of a line", "{\"v\":1,\"op\":\"remove\",\"arg\":\"$LINE\"" FIELDS_AFTER_ARG,
	     CMD_MALFORMED, ""},
	    {"remove of a 65-byte kid",
	     "{\"v\":1,\"op\":\"remove\",\"arg\":"
	     "\"a123456789b123456789c123456789d123456789e123456789f123456789g1234"
	     "\"" FIELDS_AFTER_ARG,
	     CMD_MALFORMED, ""},
	    /* renew: nothing. */
	    {"renew of something", "{\"v\":1,\"op\":\"renew\",\"arg\":\"x\"" FIELDS_AFTER_ARG,
	     CMD_MALFORMED, ""},
	    {"renew of a space", "{\"v\":1,\"op\":\"renew\",\"arg\":\" \"" FIELDS_AFTER_ARG,
	     CMD_MALFORMED, ""},
	};
	struct fixture *f = *state;
	char buf[2048];
	struct cmd_admin out;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		size_t n = expand(buf, sizeof(buf), rows[i].tpl);
		enum cmd_reason got;

		memset(f->v.replay, 0, sizeof(f->v.replay));
		verify_calls = 0;
		got = check(f, buf, n, NOW, &out);
		if (got != rows[i].want)
			fail_msg("%s: %s, want %s", rows[i].name, cmd_reason_name(got),
			         cmd_reason_name(rows[i].want));
		if (strstr(out.error, rows[i].error) == NULL ||
		    (rows[i].error[0] == '\0' && out.error[0] != '\0'))
			fail_msg("%s: error \"%s\", want \"%s\"", rows[i].name, out.error,
			         rows[i].error);
		assert_int_equal(verify_calls, got == CMD_OK ? 1 : 0);
		/* A line that was refused leaves no key behind. */
		if (rows[i].error[0] != '\0')
			assert_string_equal(out.key.kid, "");
	}
}

static void
test_admin_RetainedAndTooLarge(void **state)
{
	struct fixture *f = *state;
	struct spec s = add_spec();
	char buf[CMD_ADMIN_MAX_PAYLOAD + 1];
	size_t n = build(buf, sizeof(buf), &s);
	struct cmd_admin out;

	verify_calls = 0;
	assert_reason(cmd_admin_check(&f->v, (const uint8_t *)buf, n, true, at(NOW), &out),
	              CMD_RETAINED);
	assert_reason(cmd_admin_check(&f->v, NULL, 0, true, at(NOW), &out), CMD_RETAINED);
	assert_reason(cmd_admin_check(&f->v, (const uint8_t *)buf, 100000, true, at(NOW), &out),
	              CMD_RETAINED);
	assert_reason(cmd_admin_check(&f->v, (const uint8_t *)buf, CMD_ADMIN_MAX_PAYLOAD + 1, false,
	                              at(NOW), &out),
	              CMD_TOO_LARGE);
	assert_reason(cmd_admin_check(&f->v, NULL, 0, false, at(NOW), &out), CMD_MALFORMED);
	assert_int_equal(verify_calls, 0);
	/* The retained copy did not use the nonce up: the message itself is still good. */
	assert_reason(check(f, buf, n, NOW, &out), CMD_OK);
}

static void
test_admin_UnknownKeyAndNotAdmin(void **state)
{
	struct fixture *f = *state;
	struct spec s = add_spec();

	verify_calls = 0;
	s.kid = "mallory";
	s.signer = &mallory;
	assert_reason(check_spec(f, &s, NOW, NULL), CMD_UNKNOWN_KEY);
	/* bob's own key and signature: a key that may open a door may not manage keys. */
	s.kid = "bob";
	s.signer = &bob;
	assert_reason(check_spec(f, &s, NOW, NULL), CMD_NOT_ADMIN);
	s.op = "remove";
	s.arg = "owner";
	assert_reason(check_spec(f, &s, NOW, NULL), CMD_NOT_ADMIN);
	s.op = "renew";
	s.arg = "";
	assert_reason(check_spec(f, &s, NOW, NULL), CMD_NOT_ADMIN);
	assert_int_equal(verify_calls, 0);
	/* A verifier with no keys, or none at all, knows nobody. */
	f->v.keys = NULL;
	s = add_spec();
	assert_reason(check_spec(f, &s, NOW, NULL), CMD_UNKNOWN_KEY);
	{
		char buf[CMD_ADMIN_MAX_PAYLOAD + 1];
		size_t n = build(buf, sizeof(buf), &s);

		assert_reason(cmd_admin_check(NULL, (const uint8_t *)buf, n, false, at(NOW), NULL),
		              CMD_UNKNOWN_KEY);
	}
}

/* The signer's own limits, as a command's: an admin key off hours may not manage keys. */
static void
test_admin_SignerKeyLimits(void **state)
{
	struct fixture *f = *state;
	struct spec s = add_spec();

	s.kid = "carol";
	s.signer = &carol;
	set_carol(f, "not_before=2026-11-24T19:14:40Z");
	assert_reason(check_spec(f, &s, NOW, NULL), CMD_KEY_NOT_YET_VALID);
	set_carol(f, "not_after=2026-11-24T19:14:38Z");
	assert_reason(check_spec(f, &s, NOW, NULL), CMD_KEY_EXPIRED);
	set_carol(f, "days=mon");
	assert_reason(check_spec(f, &s, NOW, NULL), CMD_KEY_OFF_HOURS);
	set_carol(f, "hours=08:00-17:00");
	assert_reason(check_spec(f, &s, NOW, NULL), CMD_KEY_OFF_HOURS);
	assert_int_equal(verify_calls, 0);
	set_carol(f, "not_after=2026-11-24T19:14:39Z days=tue hours=19:00-20:00");
	assert_reason(check_spec(f, &s, NOW, NULL), CMD_OK);
}

static void
test_admin_TimeWindow(void **state)
{
	struct fixture *f = *state;
	struct spec s = add_spec();

	s.ts = NOW - SKEW - 1;
	assert_reason(check_spec(f, &s, NOW, NULL), CMD_STALE);
	s.ts = NOW + SKEW + 1;
	assert_reason(check_spec(f, &s, NOW, NULL), CMD_FUTURE);
	s.ts = START - 1;
	assert_reason(check_spec(f, &s, START + 1, NULL), CMD_STALE);
	assert_int_equal(verify_calls, 0);
	s.ts = NOW - SKEW;
	s.nonce = "edge-nonce-1";
	assert_reason(check_spec(f, &s, NOW, NULL), CMD_OK);
	s.ts = NOW + SKEW;
	s.nonce = "edge-nonce-2";
	assert_reason(check_spec(f, &s, NOW, NULL), CMD_OK);
}

static void
test_admin_ReplayIsRefused(void **state)
{
	struct fixture *f = *state;
	struct spec s = add_spec();
	char buf[CMD_ADMIN_MAX_PAYLOAD + 1];
	size_t n = build(buf, sizeof(buf), &s);

	assert_reason(check(f, buf, n, NOW, NULL), CMD_OK);
	verify_calls = 0;
	assert_reason(check(f, buf, n, NOW, NULL), CMD_REPLAY);
	assert_reason(check(f, buf, n, NOW + 5, NULL), CMD_REPLAY);
	/* The same nonce with another op is the same nonce. */
	s.op = "remove";
	s.arg = "bob";
	assert_reason(check_spec(f, &s, NOW, NULL), CMD_REPLAY);
	assert_int_equal(verify_calls, 0);
}

/* A door command "open main" signed by owner, with the nonce given. */
static size_t
build_command(char *buf, size_t cap, const char *nonce, int64_t ts)
{
	char text[CMD_SIGNED_TEXT_MAX], sig_b64[CMD_SIG_LEN * 2];
	uint8_t sig[CMD_SIG_LEN];
	size_t n;
	int len;

	n = cmd_signed_text(text, sizeof(text), DEVICE, "main", CMD_ACTION_OPEN, ts, nonce,
	                    "owner");
	assert_true(n > 0);
	crypto_sign_detached(sig, NULL, (const uint8_t *)text, n, owner.sk);
	sodium_bin2base64(sig_b64, sizeof(sig_b64), sig, sizeof(sig),
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	len =
	    snprintf(buf, cap,
	             "{\"v\":1,\"door\":\"main\",\"action\":\"open\",\"ts\":%lld,\"nonce\":\"%s\","
	             "\"kid\":\"owner\",\"sig\":\"%s\"}",
	             (long long)ts, nonce, sig_b64);
	assert_true(len > 0 && (size_t)len < cap);
	return (size_t)len;
}

/* Commands and admin messages share one replay window: a nonce is a nonce. */
static void
test_admin_ReplayWindowSharedWithCommands(void **state)
{
	struct fixture *f = *state;
	struct spec s = add_spec();
	char buf[CMD_MAX_PAYLOAD + 1];
	size_t n;

	/* A command first, then an admin message with its nonce. */
	n = build_command(buf, sizeof(buf), "shared-nonce", NOW);
	assert_reason(cmd_check(&f->v, "main", (const uint8_t *)buf, n, false, at(NOW), NULL),
	              CMD_OK);
	s.nonce = "shared-nonce";
	assert_reason(check_spec(f, &s, NOW, NULL), CMD_REPLAY);

	/* An admin message first, then a command with its nonce. */
	s.nonce = "admin-first0";
	assert_reason(check_spec(f, &s, NOW, NULL), CMD_OK);
	n = build_command(buf, sizeof(buf), "admin-first0", NOW);
	assert_reason(cmd_check(&f->v, "main", (const uint8_t *)buf, n, false, at(NOW), NULL),
	              CMD_REPLAY);

	/* A forged admin message does not use a nonce up for a command. */
	s.nonce = "forged-nonce";
	s.signer = &mallory;
	assert_reason(check_spec(f, &s, NOW, NULL), CMD_BAD_SIGNATURE);
	n = build_command(buf, sizeof(buf), "forged-nonce", NOW);
	assert_reason(cmd_check(&f->v, "main", (const uint8_t *)buf, n, false, at(NOW), NULL),
	              CMD_OK);
}

/* Whatever differs from what the owner signed is a bad signature. */
static void
test_admin_SignatureCoversEveryLine(void **state)
{
	struct fixture *f = *state;
	char buf[CMD_ADMIN_MAX_PAYLOAD + 1], sig[CMD_SIG_LEN * 2], other_line[512];
	struct spec good = add_spec();
	struct spec signed_as;
	unsigned int nonce = 0;

	snprintf(other_line, sizeof(other_line), "%s admin", dave_line());
	for (int which = 0; which < 8; which++) {
		char nonce_b64[16];
		size_t n;

		snprintf(nonce_b64, sizeof(nonce_b64), "sig-nonce%03u", nonce++);
		good.nonce = nonce_b64;
		signed_as = good;
		switch (which) {
		case 0:
			signed_as.device = "garage2";
			break;
		case 1:
			signed_as.op = "renew";
			break;
		case 2:
			signed_as.arg = other_line;
			break;
		case 3:
			signed_as.ts = NOW - 1;
			break;
		case 4:
			signed_as.nonce = "sig-nonceXXX";
			break;
		case 5:
			signed_as.kid = "bob";
			break;
		case 6:
			signed_as.signer = &bob;
			break;
		default:
			signed_as.signer = &carol;
			break;
		}
		sign_spec(&signed_as, sig);
		n = build_with_sig(buf, sizeof(buf), &good, sig);
		verify_calls = 0;
		if (check(f, buf, n, NOW, NULL) != CMD_BAD_SIGNATURE)
			fail_msg("a signature over another text (%d) was accepted", which);
		assert_int_equal(verify_calls, 1);
	}
	/* And every flipped bit of a good signature. */
	good.nonce = "flip-nonce00";
	sign_spec(&good, sig);
	for (size_t i = 0; i < 86; i++) {
		char bad[CMD_SIG_LEN * 2];

		memcpy(bad, sig, sizeof(bad));
		/* The last character carries 2 bits and 4 that must be zero: A, Q, g or w. */
		if (i == 85)
			bad[i] = sig[i] == 'A' ? 'g' : 'A';
		else
			bad[i] = sig[i] == 'A' ? 'Q' : 'A';
		build_with_sig(buf, sizeof(buf), &good, bad);
		assert_reason(check(f, buf, strlen(buf), NOW, NULL), CMD_BAD_SIGNATURE);
	}
	assert_reason(check(f, buf, build_with_sig(buf, sizeof(buf), &good, sig), NOW, NULL),
	              CMD_OK);
}

/*
 * A command's signature never passes for an admin message's: the first line of the signed text
 * says which kind it is, so a text signed as one can never be read as the other.
 */
static void
test_admin_CommandSignatureIsNotAnAdminSignature(void **state)
{
	struct fixture *f = *state;
	char cmd[CMD_MAX_PAYLOAD + 1], text[CMD_SIGNED_TEXT_MAX], buf[CMD_ADMIN_MAX_PAYLOAD + 1];
	char sig_b64[CMD_SIG_LEN * 2];
	uint8_t sig[CMD_SIG_LEN];
	struct spec s = add_spec();
	size_t n;

	/* owner signs "open main"; its signature is put on an admin message of the same fields. */
	n = cmd_signed_text(text, sizeof(text), DEVICE, "main", CMD_ACTION_OPEN, NOW, NONCE,
	                    "owner");
	crypto_sign_detached(sig, NULL, (const uint8_t *)text, n, owner.sk);
	sodium_bin2base64(sig_b64, sizeof(sig_b64), sig, sizeof(sig),
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	n = build_with_sig(buf, sizeof(buf), &s, sig_b64);
	assert_reason(check(f, buf, n, NOW, NULL), CMD_BAD_SIGNATURE);
	/* And an admin message is no command. */
	n = build(buf, sizeof(buf), &s);
	assert_reason(cmd_check(&f->v, "main", (const uint8_t *)buf, n, false, at(NOW), NULL),
	              CMD_MALFORMED);
	n = build_command(cmd, sizeof(cmd), NONCE, NOW);
	assert_reason(check(f, cmd, n, NOW, NULL), CMD_MALFORMED);
}

/* The order of the checks: each pair says the earlier reason. */
static void
test_admin_CheckOrder(void **state)
{
	struct fixture *f = *state;
	struct spec s = add_spec();
	char buf[CMD_ADMIN_MAX_PAYLOAD + 1], sig[CMD_SIG_LEN * 2];
	size_t n;

	verify_calls = 0;
	/* Not an admin beats the key's limits, the time and the signature. */
	s.kid = "bob";
	s.signer = &mallory;
	s.ts = NOW - 3600;
	assert_reason(check_spec(f, &s, NOW, NULL), CMD_NOT_ADMIN);
	/* The key's limits beat the time window. */
	s = add_spec();
	s.kid = "carol";
	s.signer = &carol;
	s.ts = NOW - 3600;
	set_carol(f, "not_after=2026-11-24T19:14:38Z");
	assert_reason(check_spec(f, &s, NOW, NULL), CMD_KEY_EXPIRED);
	/* Stale beats a bad signature. */
	s = add_spec();
	s.ts = NOW - 3600;
	s.signer = &mallory;
	assert_reason(check_spec(f, &s, NOW, NULL), CMD_STALE);
	/* A malformed arg beats an unknown key. */
	s.kid = "mallory";
	s.op = "renew";
	s.arg = "x";
	assert_reason(check_spec(f, &s, NOW, NULL), CMD_MALFORMED);
	assert_int_equal(verify_calls, 0);
	/* Replay beats a bad signature: a replayed forgery is refused without a verify. */
	s = add_spec();
	assert_reason(check_spec(f, &s, NOW, NULL), CMD_OK);
	sign_spec(&s, sig);
	sig[0] = sig[0] == 'A' ? 'B' : 'A';
	n = build_with_sig(buf, sizeof(buf), &s, sig);
	verify_calls = 0;
	assert_reason(check(f, buf, n, NOW, NULL), CMD_REPLAY);
	assert_int_equal(verify_calls, 0);
}

/* What is known of a refused message is kept for its event; nothing stale survives. */
static void
test_admin_OutFilledAsFarAsParsed(void **state)
{
	struct fixture *f = *state;
	struct spec s = add_spec();
	struct cmd_admin out;
	char buf[2048];
	size_t n;

	memset(&out, 0x5a, sizeof(out));
	s.kid = "bob";
	s.signer = &bob;
	assert_reason(check_spec(f, &s, NOW, &out), CMD_NOT_ADMIN);
	assert_string_equal(out.kid, "bob");
	assert_string_equal(out.target, "dave");
	assert_int_equal(out.op, CMD_ADMIN_ADD);
	assert_string_equal(out.nonce, NONCE);
	/* Nothing but the text and zeros: the same message judged twice gives the same bytes. */
	for (size_t i = strlen(NONCE); i < sizeof(out.nonce); i++)
		assert_int_equal(out.nonce[i], 0);

	memset(&out, 0x5a, sizeof(out));
	n = expand(buf, sizeof(buf),
	           "{\"v\":1,\"op\":\"add\",\"arg\":\"$LINE foo\"" FIELDS_AFTER_ARG);
	assert_reason(check(f, buf, n, NOW, &out), CMD_MALFORMED);
	assert_string_equal(out.kid, "owner");
	assert_string_equal(out.target, "");
	assert_true(out.has_op);
	assert_string_equal(out.error, "unknown option \"foo\": only actions=, doors=, "
	                               "not_before=, not_after=, days=, hours= and admin may "
	                               "follow the key id");

	memset(&out, 0x5a, sizeof(out));
	assert_reason(cmd_admin_check(&f->v, (const uint8_t *)"{}", 2, false, at(NOW), &out),
	              CMD_MALFORMED);
	assert_false(out.has_op);
	assert_string_equal(out.kid, "");
	assert_string_equal(out.nonce, "");
	assert_string_equal(out.error, "");
}

/* ---- the change --------------------------------------------------------------------------- */

/* A ring of n keys k0 ... with the given ones admin. */
static void
make_ring(struct cmd_keyring *ring, size_t n, const char *admins)
{
	char *text = test_malloc(64 * 1024);
	char err[256];
	size_t len = 0;

	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(text + len, 64 * 1024 - len, "ed25519 %s k%zu%s\n",
		                        pub_b64(bob.pk), i, admins[i] == 'a' ? " admin" : "");
	if (cmd_keys_parse(ring, text, len, err, sizeof(err)) != 0)
		fail_msg("ring: %s", err);
	test_free(text);
}

static struct cmd_admin
op_of(enum cmd_admin_op which, const char *target)
{
	struct cmd_admin op;
	char line[256], err[128];

	memset(&op, 0, sizeof(op));
	op.op = which;
	op.has_op = true;
	/* Signed by k0, at NOW, as cmd_admin_check() leaves it. */
	snprintf(op.kid, sizeof(op.kid), "k0");
	op.now = NOW;
	if (which == CMD_ADMIN_ADD) {
		snprintf(line, sizeof(line), "ed25519 %s %s doors=main", pub_b64(dave.pk), target);
		assert_int_equal(cmd_key_parse(&op.key, line, strlen(line), err, sizeof(err)), 0);
	}
	if (which != CMD_ADMIN_RENEW)
		snprintf(op.target, sizeof(op.target), "%s", target);
	return op;
}

/* A refusal leaves the output ring exactly as it was. */
static void
expect_refused(const struct cmd_keyring *ring, const struct cmd_admin *op, enum cmd_reason want)
{
	struct cmd_keyring *out = test_malloc(sizeof(*out));
	struct cmd_keyring *before = test_malloc(sizeof(*before));

	memset(out, 0xa5, sizeof(*out));
	memcpy(before, out, sizeof(*out));
	assert_reason(cmd_keyring_apply(ring, op, out), want);
	assert_memory_equal(out, before, sizeof(*out));
	test_free(out);
	test_free(before);
}

static void
test_admin_ApplyAdd(void **state)
{
	struct fixture *f = *state;
	struct cmd_keyring *out = test_malloc(sizeof(*out));
	struct cmd_admin op = op_of(CMD_ADMIN_ADD, "dave");

	make_ring(&f->ring, 3, "a..");
	assert_reason(cmd_keyring_apply(&f->ring, &op, out), CMD_OK);
	assert_int_equal(out->nkeys, 4);
	assert_memory_equal(out->keys, f->ring.keys, 3 * sizeof(out->keys[0]));
	assert_string_equal(out->keys[3].kid, "dave");
	assert_int_equal(out->keys[3].line, 0);
	assert_memory_equal(out->keys[3].pub, dave.pk, sizeof(dave.pk));
	assert_false(out->keys[3].all_doors);

	/* The kid is taken: by an admin, by a plain key, and by the key it would be. */
	op = op_of(CMD_ADMIN_ADD, "k0");
	expect_refused(&f->ring, &op, CMD_KEY_EXISTS);
	op = op_of(CMD_ADMIN_ADD, "k2");
	expect_refused(&f->ring, &op, CMD_KEY_EXISTS);
	op = op_of(CMD_ADMIN_ADD, "dave");
	expect_refused(out, &op, CMD_KEY_EXISTS);
	/* Kids are case-sensitive, as in the file. */
	op = op_of(CMD_ADMIN_ADD, "K0");
	assert_reason(cmd_keyring_apply(&f->ring, &op, out), CMD_OK);
	test_free(out);
}

static void
test_admin_ApplyAddToAFullRing(void **state)
{
	struct fixture *f = *state;
	struct cmd_keyring *out = test_malloc(sizeof(*out));
	char admins[CMD_MAX_KEYS + 1];
	struct cmd_admin op;

	memset(admins, '.', CMD_MAX_KEYS);
	admins[0] = 'a';
	make_ring(&f->ring, CMD_MAX_KEYS - 1, admins);
	op = op_of(CMD_ADMIN_ADD, "dave");
	assert_reason(cmd_keyring_apply(&f->ring, &op, out), CMD_OK);
	assert_int_equal(out->nkeys, CMD_MAX_KEYS);
	op = op_of(CMD_ADMIN_ADD, "erin");
	memcpy(op.key.pub, mallory.pk, sizeof(op.key.pub)); /* a key of its own */
	expect_refused(out, &op, CMD_TOO_MANY_KEYS);
	/* An existing kid is named as such, full or not. */
	op = op_of(CMD_ADMIN_ADD, "dave");
	expect_refused(out, &op, CMD_KEY_EXISTS);
	/* After a remove there is room again. */
	op = op_of(CMD_ADMIN_REMOVE, "k5");
	assert_reason(cmd_keyring_apply(out, &op, out), CMD_OK);
	op = op_of(CMD_ADMIN_ADD, "erin");
	memcpy(op.key.pub, mallory.pk, sizeof(op.key.pub));
	assert_reason(cmd_keyring_apply(out, &op, out), CMD_OK);
	assert_int_equal(out->nkeys, CMD_MAX_KEYS);
	assert_string_equal(out->keys[CMD_MAX_KEYS - 1].kid, "erin");
	test_free(out);
}

/* cmd_keyring_can_add() says what apply's add says, and changes nothing. */
static void
test_admin_CanAdd(void **state)
{
	struct fixture *f = *state;
	struct cmd_keyring *full = test_malloc(sizeof(*full));
	char admins[CMD_MAX_KEYS + 1];
	struct cmd_admin op = op_of(CMD_ADMIN_ADD, "dave");
	struct cmd_key bad;

	make_ring(&f->ring, 3, "a..");
	assert_reason(cmd_keyring_can_add(&f->ring, &op.key), CMD_OK);
	op = op_of(CMD_ADMIN_ADD, "k1");
	assert_reason(cmd_keyring_can_add(&f->ring, &op.key), CMD_KEY_EXISTS);
	memset(admins, '.', CMD_MAX_KEYS);
	admins[0] = 'a';
	make_ring(full, CMD_MAX_KEYS, admins);
	op = op_of(CMD_ADMIN_ADD, "dave");
	assert_reason(cmd_keyring_can_add(full, &op.key), CMD_TOO_MANY_KEYS);
	op = op_of(CMD_ADMIN_ADD, "k7");
	assert_reason(cmd_keyring_can_add(full, &op.key), CMD_KEY_EXISTS);
	/* What no line holds, or no ring: malformed. */
	bad = op.key;
	bad.actions = 0;
	assert_reason(cmd_keyring_can_add(&f->ring, &bad), CMD_MALFORMED);
	assert_reason(cmd_keyring_can_add(NULL, &op.key), CMD_MALFORMED);
	assert_reason(cmd_keyring_can_add(&f->ring, NULL), CMD_MALFORMED);
	test_free(full);
}

static void
test_admin_ApplyRemove(void **state)
{
	struct fixture *f = *state;
	struct cmd_keyring *out = test_malloc(sizeof(*out));
	struct cmd_admin op;

	make_ring(&f->ring, 4, "a.a.");
	/* The others keep their order; the freed slot is empty, so nothing of k1 remains. */
	op = op_of(CMD_ADMIN_REMOVE, "k1");
	memset(out, 0xa5, sizeof(*out));
	assert_reason(cmd_keyring_apply(&f->ring, &op, out), CMD_OK);
	assert_int_equal(out->nkeys, 3);
	assert_string_equal(out->keys[0].kid, "k0");
	assert_string_equal(out->keys[1].kid, "k2");
	assert_string_equal(out->keys[2].kid, "k3");
	assert_null(cmd_keyring_find(out, "k1", 2));
	for (size_t i = 3; i < CMD_MAX_KEYS; i++) {
		static const struct cmd_key zero;

		assert_memory_equal(&out->keys[i], &zero, sizeof(zero));
	}
	/* The first and the last. */
	op = op_of(CMD_ADMIN_REMOVE, "k3");
	assert_reason(cmd_keyring_apply(out, &op, out), CMD_OK);
	op = op_of(CMD_ADMIN_REMOVE, "k0");
	assert_reason(cmd_keyring_apply(out, &op, out), CMD_OK);
	assert_int_equal(out->nkeys, 1);
	assert_string_equal(out->keys[0].kid, "k2");

	op = op_of(CMD_ADMIN_REMOVE, "nobody");
	expect_refused(&f->ring, &op, CMD_UNKNOWN_TARGET);
	op = op_of(CMD_ADMIN_REMOVE, "K1");
	expect_refused(&f->ring, &op, CMD_UNKNOWN_TARGET);
	test_free(out);
}

/* No change may leave the ring without an admin key: only a shell could manage it again. */
static void
test_admin_ApplyLastAdmin(void **state)
{
	struct fixture *f = *state;
	struct cmd_keyring *out = test_malloc(sizeof(*out));
	struct cmd_admin op;

	make_ring(&f->ring, 3, ".a.");
	op = op_of(CMD_ADMIN_REMOVE, "k1");
	expect_refused(&f->ring, &op, CMD_LAST_ADMIN);
	/* Plain keys go as they like. */
	op = op_of(CMD_ADMIN_REMOVE, "k0");
	assert_reason(cmd_keyring_apply(&f->ring, &op, out), CMD_OK);

	/* With two admins, one may go (even the signer itself), and then not the other. */
	make_ring(&f->ring, 3, "aa.");
	op = op_of(CMD_ADMIN_REMOVE, "k0");
	assert_reason(cmd_keyring_apply(&f->ring, &op, out), CMD_OK);
	op = op_of(CMD_ADMIN_REMOVE, "k1");
	expect_refused(out, &op, CMD_LAST_ADMIN);
	/* Adding an admin first makes room to remove the old one. */
	op = op_of(CMD_ADMIN_ADD, "dave");
	snprintf(op.kid, sizeof(op.kid), "k1");
	op.key.admin = true;
	assert_reason(cmd_keyring_apply(out, &op, out), CMD_OK);
	op = op_of(CMD_ADMIN_REMOVE, "k1");
	assert_reason(cmd_keyring_apply(out, &op, out), CMD_OK);
	assert_true(cmd_keyring_find(out, "dave", 4)->admin);
	test_free(out);
}

/*
 * An expired admin key can never sign again, and one not valid yet cannot manage the keys
 * now: neither lets the last admin key that can sign now be removed.
 */
static void
test_admin_ApplyLastUsableAdmin(void **state)
{
	struct fixture *f = *state;
	struct cmd_keyring *out = test_malloc(sizeof(*out));
	char text[1024], err[256];
	struct cmd_admin op;

	/* k0 admin; k1 admin expired in 2020; k2 admin from 2030; k3 plain. */
	snprintf(text, sizeof(text),
	         "ed25519 %s k0 admin\n"
	         "ed25519 %s k1 not_after=2020-01-01T00:00:00Z admin\n"
	         "ed25519 %s k2 not_before=2030-01-01T00:00:00Z admin\n"
	         "ed25519 %s k3\n",
	         pub_b64(owner.pk), pub_b64(carol.pk), pub_b64(dave.pk), pub_b64(bob.pk));
	assert_int_equal(cmd_keys_parse(&f->ring, text, strlen(text), err, sizeof(err)), 0);
	op = op_of(CMD_ADMIN_REMOVE, "k0");
	expect_refused(&f->ring, &op, CMD_LAST_ADMIN);
	/* The unusable admins themselves may go, and plain keys. */
	op = op_of(CMD_ADMIN_REMOVE, "k1");
	assert_reason(cmd_keyring_apply(&f->ring, &op, out), CMD_OK);
	op = op_of(CMD_ADMIN_REMOVE, "k2");
	assert_reason(cmd_keyring_apply(out, &op, out), CMD_OK);
	op = op_of(CMD_ADMIN_REMOVE, "k3");
	assert_reason(cmd_keyring_apply(out, &op, out), CMD_OK);
	op = op_of(CMD_ADMIN_REMOVE, "k0");
	expect_refused(out, &op, CMD_LAST_ADMIN);

	/* Judged at the change's time: in 2019 k1 could still sign, in 2030 k2 can. */
	op = op_of(CMD_ADMIN_REMOVE, "k0");
	op.now = 1546300800; /* 2019-01-01 */
	assert_reason(cmd_keyring_apply(&f->ring, &op, out), CMD_OK);
	op.now = 1893456000; /* 2030-01-01, its first second */
	assert_reason(cmd_keyring_apply(&f->ring, &op, out), CMD_OK);
	op.now = 1893456000 - 1;
	expect_refused(&f->ring, &op, CMD_LAST_ADMIN);
	/* The last second of k1's not_after is still its. */
	op.now = 1577836800; /* 2020-01-01T00:00:00Z */
	assert_reason(cmd_keyring_apply(&f->ring, &op, out), CMD_OK);
	op.now = 1577836800 + 1;
	expect_refused(&f->ring, &op, CMD_LAST_ADMIN);
	test_free(out);
}

/* The ring of setup(), with carol's admin line as OPTIONS, ready for an add signed by carol. */
static struct cmd_admin
add_by_carol(struct fixture *f, const char *carol_options, const char *dave_options)
{
	struct cmd_admin op = op_of(CMD_ADMIN_ADD, "dave");
	char line[512], err[256];

	set_carol(f, carol_options);
	snprintf(line, sizeof(line), "ed25519 %s dave %s", pub_b64(dave.pk), dave_options);
	assert_int_equal(cmd_key_parse(&op.key, line, strlen(line), err, sizeof(err)), 0);
	snprintf(op.kid, sizeof(op.kid), "carol");
	return op;
}

/*
 * An admin key with limits adds only keys within them (cmd_key_within(), as an invitation):
 * otherwise its limits would mean nothing, since it could add an admin without them and use
 * that. An admin without limits adds anything.
 */
static void
test_admin_ApplyAddWithinTheSignersLimits(void **state)
{
	static const char *const limited =
	    "doors=main actions=open,close not_after=2026-12-31T23:59:59Z days=mon,tue "
	    "hours=08:00-18:00";
	static const struct {
		const char *dave;
		enum cmd_reason want;
	} rows[] = {
	    {"doors=main actions=open not_after=2026-12-31T23:59:59Z days=tue hours=09:00-10:00",
	     CMD_OK},
	    {"doors=main actions=open,close not_after=2026-12-01T00:00:00Z days=mon,tue "
	     "hours=08:00-18:00 admin",
	     CMD_OK},
	    {"", CMD_OVER_PERMISSIVE},
	    {"admin", CMD_OVER_PERMISSIVE},
	    {"doors=main actions=open days=tue hours=09:00-10:00", CMD_OVER_PERMISSIVE},
	    {"doors=main actions=open,stop not_after=2026-12-31T23:59:59Z days=tue "
	     "hours=09:00-10:00",
	     CMD_OVER_PERMISSIVE},
	    {"actions=open not_after=2026-12-31T23:59:59Z days=tue hours=09:00-10:00",
	     CMD_OVER_PERMISSIVE},
	    {"doors=main actions=open not_after=2027-01-01T00:00:00Z days=tue hours=09:00-10:00",
	     CMD_OVER_PERMISSIVE},
	    {"doors=main actions=open not_after=2026-12-31T23:59:59Z days=tue,wed "
	     "hours=09:00-10:00",
	     CMD_OVER_PERMISSIVE},
	    {"doors=main actions=open not_after=2026-12-31T23:59:59Z days=tue hours=07:00-10:00",
	     CMD_OVER_PERMISSIVE},
	};
	struct fixture *f = *state;
	struct cmd_keyring *out = test_malloc(sizeof(*out));
	struct cmd_admin op;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		op = add_by_carol(f, limited, rows[i].dave);
		if (rows[i].want == CMD_OK)
			assert_reason(cmd_keyring_apply(&f->ring, &op, out), CMD_OK);
		else
			expect_refused(&f->ring, &op, rows[i].want);
	}
	/* Without limits, anything; the limits of the signer's line as the ring has it count. */
	op = add_by_carol(f, "", "admin");
	assert_reason(cmd_keyring_apply(&f->ring, &op, out), CMD_OK);
	op = add_by_carol(f, "doors=main", "admin");
	expect_refused(&f->ring, &op, CMD_OVER_PERMISSIVE);
	/* A signer the ring does not have adds nothing. */
	op = add_by_carol(f, "", "");
	snprintf(op.kid, sizeof(op.kid), "mallory");
	expect_refused(&f->ring, &op, CMD_UNKNOWN_KEY);
	test_free(out);
}

/* A public key already in the ring is not added again under another kid. */
static void
test_admin_ApplyAddSameKeyOtherKid(void **state)
{
	struct fixture *f = *state;
	struct cmd_keyring *out = test_malloc(sizeof(*out));
	struct cmd_admin op;
	char line[256], err[128];

	make_ring(&f->ring, 2, "a.");
	op = op_of(CMD_ADMIN_ADD, "bob2");
	snprintf(line, sizeof(line), "ed25519 %s bob2", pub_b64(bob.pk)); /* k0's and k1's key */
	assert_int_equal(cmd_key_parse(&op.key, line, strlen(line), err, sizeof(err)), 0);
	expect_refused(&f->ring, &op, CMD_KEY_EXISTS);
	assert_reason(cmd_keyring_can_add(&f->ring, &op.key), CMD_KEY_EXISTS);
	/* Its own key, under that kid: added. */
	memcpy(op.key.pub, dave.pk, sizeof(op.key.pub));
	assert_reason(cmd_keyring_apply(&f->ring, &op, out), CMD_OK);
	test_free(out);
}

/*
 * One admin key's flood of valid admin messages fills its share of the replay window, which
 * commands share: the owner's own messages still pass, and can remove the flooding key.
 */
static void
test_admin_FloodFillsOnlyTheSignersShare(void **state)
{
	struct fixture *f = *state;
	struct spec s = add_spec();
	struct cmd_admin out;
	char nonce[32];

	set_carol(f, "");
	s.kid = "carol";
	s.signer = &carol;
	s.nonce = nonce;
	s.ts = NOW + SKEW;
	for (unsigned int i = 0; i < CMD_REPLAY_PER_KEY; i++) {
		snprintf(nonce, sizeof(nonce), "carol-flood%05u", i);
		assert_reason(check_spec(f, &s, NOW, &out), CMD_OK);
	}
	snprintf(nonce, sizeof(nonce), "carol-flood%05u", (unsigned)CMD_REPLAY_PER_KEY);
	assert_reason(check_spec(f, &s, NOW, &out), CMD_RATE_LIMITED);

	s = add_spec();
	s.op = "remove";
	s.arg = "carol";
	assert_reason(check_spec(f, &s, NOW, &out), CMD_OK);
	assert_string_equal(out.target, "carol");
	assert_int_equal(out.now, NOW);
}

static void
test_admin_ApplyRenewAndBadOps(void **state)
{
	struct fixture *f = *state;
	struct cmd_keyring *out = test_malloc(sizeof(*out));
	struct cmd_admin op = op_of(CMD_ADMIN_RENEW, "");

	make_ring(&f->ring, 2, "a.");
	memset(out, 0xa5, sizeof(*out));
	assert_reason(cmd_keyring_apply(&f->ring, &op, out), CMD_OK);
	assert_memory_equal(out, &f->ring, sizeof(*out));

	op.has_op = false;
	expect_refused(&f->ring, &op, CMD_MALFORMED);
	op = op_of(CMD_ADMIN_RENEW, "");
	op.op = CMD_ADMIN_OP_COUNT;
	expect_refused(&f->ring, &op, CMD_MALFORMED);
	/* An add of a key that no line could hold. */
	op = op_of(CMD_ADMIN_ADD, "dave");
	op.key.actions = 0;
	expect_refused(&f->ring, &op, CMD_MALFORMED);
	op = op_of(CMD_ADMIN_ADD, "dave");
	assert_reason(cmd_keyring_apply(NULL, &op, out), CMD_MALFORMED);
	assert_reason(cmd_keyring_apply(&f->ring, NULL, out), CMD_MALFORMED);
	assert_reason(cmd_keyring_apply(&f->ring, &op, NULL), CMD_MALFORMED);
	test_free(out);
}

/* From the message to the ring: what cmd_admin_check() accepted, applied. */
static void
test_admin_CheckThenApply(void **state)
{
	struct fixture *f = *state;
	struct cmd_keyring *next = test_malloc(sizeof(*next));
	struct spec s = add_spec();
	struct cmd_admin out;
	char line[CMD_KEYS_LINE_MAX + 1];

	assert_reason(check_spec(f, &s, NOW, &out), CMD_OK);
	assert_reason(cmd_keyring_apply(&f->ring, &out, next), CMD_OK);
	assert_int_equal(next->nkeys, f->ring.nkeys + 1);
	/* The line the door half will write is the canonical form of the one that was sent. */
	assert_true(cmd_key_format(&next->keys[next->nkeys - 1], line, sizeof(line)) > 0);
	assert_string_equal(line, s.arg);
	/* The same add again, signed anew: the key exists now. */
	f->ring = *next;
	s.nonce = "second-add00";
	assert_reason(check_spec(f, &s, NOW, &out), CMD_OK);
	assert_reason(cmd_keyring_apply(&f->ring, &out, next), CMD_KEY_EXISTS);
	/* The new key may open a door at once, and may not manage keys. */
	s.kid = "dave";
	s.signer = &dave;
	s.nonce = "dave-admin00";
	assert_reason(check_spec(f, &s, NOW, &out), CMD_NOT_ADMIN);
	test_free(next);
}

/* ---- the words and the signed text -------------------------------------------------------- */

static void
test_admin_OpWordsAndReasons(void **state)
{
	static const char *const reasons[] = {
	    "not_admin",     "unknown_target", "key_exists",        "last_admin",
	    "too_many_keys", "keys_read_only", "keys_write_failed", "not_supported"};
	enum cmd_admin_op op;

	(void)state;
	assert_string_equal(cmd_admin_op_name(CMD_ADMIN_ADD), "add");
	assert_string_equal(cmd_admin_op_name(CMD_ADMIN_REMOVE), "remove");
	assert_string_equal(cmd_admin_op_name(CMD_ADMIN_RENEW), "renew");
	assert_string_equal(cmd_admin_op_name(CMD_ADMIN_OP_COUNT), "unknown");
	assert_true(cmd_admin_op_parse("remove", 6, &op));
	assert_int_equal(op, CMD_ADMIN_REMOVE);
	assert_true(cmd_admin_op_parse("renewal", 5, &op)); /* only len bytes are looked at */
	assert_int_equal(op, CMD_ADMIN_RENEW);
	assert_false(cmd_admin_op_parse("Add", 3, &op));
	assert_false(cmd_admin_op_parse("", 0, &op));
	assert_false(cmd_admin_op_parse(NULL, 0, &op));
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		assert_string_equal(cmd_reason_name((enum cmd_reason)(CMD_NOT_ADMIN + i)),
		                    reasons[i]);
}

static void
test_admin_SignedText(void **state)
{
	static const char want[] =
	    "garaged-admin-v1\ngarage\nremove\nbob\n1795547679\n" NONCE "\nowner";
	char buf[CMD_ADMIN_SIGNED_TEXT_MAX];

	(void)state;
	assert_int_equal(cmd_admin_signed_text(buf, sizeof(buf), DEVICE, CMD_ADMIN_REMOVE, "bob",
	                                       NOW, NONCE, "owner"),
	                 sizeof(want) - 1);
	assert_string_equal(buf, want);
	assert_int_equal(cmd_admin_signed_text(buf, sizeof(want), DEVICE, CMD_ADMIN_REMOVE, "bob",
	                                       NOW, NONCE, "owner"),
	                 sizeof(want) - 1);
	assert_int_equal(cmd_admin_signed_text(buf, sizeof(want) - 1, DEVICE, CMD_ADMIN_REMOVE,
	                                       "bob", NOW, NONCE, "owner"),
	                 0);
	assert_string_equal(buf, "");
	/* renew's empty arg is an empty line. */
	cmd_admin_signed_text(buf, sizeof(buf), "d", CMD_ADMIN_RENEW, "", 0, "n", "k");
	assert_string_equal(buf, "garaged-admin-v1\nd\nrenew\n\n0\nn\nk");
	assert_int_equal(
	    cmd_admin_signed_text(buf, sizeof(buf), "d", CMD_ADMIN_OP_COUNT, "", 0, "n", "k"), 0);
	assert_int_equal(
	    cmd_admin_signed_text(buf, sizeof(buf), "d", CMD_ADMIN_ADD, NULL, 0, "n", "k"), 0);
	assert_int_equal(cmd_admin_signed_text(NULL, 10, "d", CMD_ADMIN_ADD, "", 0, "n", "k"), 0);
}

/*
 * The test vector of docs/protocol.md: the page and the code must agree byte for byte. The key
 * is derived from the documented seed (the command's test vector key, an admin here), the
 * signed text is built by the core, the signature is compared with the documented one (made
 * with OpenSSL), and the documented message is accepted as it stands.
 */
static void
test_admin_ProtocolTestVector(void **state)
{
	static const char doc_keys[] =
	    "ed25519 A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg= alice-phone admin\n";
	static const char doc_arg[] = "ed25519 Kay64UG8yvCyLhqU000LxzYeUm0L/hLIl5S8kyKWbdc= bob "
	                              "actions=open doors=main not_after=2026-12-31T23:59:59Z";
	static const char doc_text[] =
	    "garaged-admin-v1\ngarage\nadd\ned25519 Kay64UG8yvCyLhqU000LxzYeUm0L/hLIl5S8kyKWbdc= "
	    "bob actions=open doors=main not_after=2026-12-31T23:59:59Z\n1795547700\nAdMiN-nOnCe0\n"
	    "alice-phone";
	static const char doc_sig[] =
	    "Eawfqi3v82B4qL4FlLxNnNq0hexukdeTTAIlApldJbchhyBnDW6oZIzt9O7tG"
	    "nFh8dqvy_e82RavZrx1d1XnDQ";
	static const char doc_msg[] =
	    "{\"v\":1,\"op\":\"add\",\"arg\":\"ed25519 Kay64UG8yvCyLhqU000LxzYeUm0L/"
	    "hLIl5S8kyKWbdc= bob actions=open doors=main not_after=2026-12-31T23:59:59Z\","
	    "\"ts\":1795547700,\"nonce\":\"AdMiN-nOnCe0\",\"kid\":\"alice-phone\",\"sig\":"
	    "\"Eawfqi3v82B4qL4FlLxNnNq0hexukdeTTAIlApldJbchhyBnDW6oZIzt9O7tGnFh8dqvy_"
	    "e82RavZrx1d1XnDQ\"}";
	static struct cmd_keyring ring, next;
	static struct cmd_verifier v;
	uint8_t seed[32], pk[32], sk[64], sig[64];
	char text[CMD_ADMIN_SIGNED_TEXT_MAX], sig_b64[128], err[128];
	struct cmd_admin out;
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(seed); i++)
		seed[i] = (uint8_t)i;
	assert_int_equal(crypto_sign_seed_keypair(pk, sk, seed), 0);
	memset(&ring, 0, sizeof(ring));
	assert_int_equal(cmd_keys_parse(&ring, doc_keys, strlen(doc_keys), err, sizeof(err)), 0);
	assert_memory_equal(ring.keys[0].pub, pk, 32);

	n = cmd_admin_signed_text(text, sizeof(text), "garage", CMD_ADMIN_ADD, doc_arg, 1795547700,
	                          "AdMiN-nOnCe0", "alice-phone");
	assert_int_equal(n, strlen(doc_text));
	assert_memory_equal(text, doc_text, n);
	crypto_sign_detached(sig, NULL, (const uint8_t *)text, n, sk);
	assert_true(base64_encode(BASE64_URL_UNPADDED, sig, sizeof(sig), sig_b64, sizeof(sig_b64)) >
	            0);
	assert_string_equal(sig_b64, doc_sig);

	memset(&v, 0, sizeof(v));
	strcpy(v.device_id, "garage");
	v.clock_skew = 30;
	v.start_time = 1795547600;
	v.keys = &ring;
	v.verify = sig_sodium_verify;
	assert_int_equal(cmd_admin_check(&v, (const uint8_t *)doc_msg, strlen(doc_msg), false,
	                                 at(1795547700), &out),
	                 CMD_OK);
	assert_string_equal(out.kid, "alice-phone");
	assert_string_equal(out.target, "bob");
	assert_int_equal(cmd_keyring_apply(&ring, &out, &next), CMD_OK);
	assert_int_equal(next.nkeys, 2);
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
	    T(test_admin_AddAccepted),
	    T(test_admin_RemoveAndRenewAccepted),
	    T(test_admin_AddOfEveryKindOfLine),
	    T(test_admin_LongestAddFits),
	    T(test_admin_MalformedPayloads),
	    T(test_admin_RetainedAndTooLarge),
	    T(test_admin_UnknownKeyAndNotAdmin),
	    T(test_admin_SignerKeyLimits),
	    T(test_admin_TimeWindow),
	    T(test_admin_ReplayIsRefused),
	    T(test_admin_ReplayWindowSharedWithCommands),
	    T(test_admin_SignatureCoversEveryLine),
	    T(test_admin_CommandSignatureIsNotAnAdminSignature),
	    T(test_admin_CheckOrder),
	    T(test_admin_OutFilledAsFarAsParsed),
	    T(test_admin_ApplyAdd),
	    T(test_admin_ApplyAddToAFullRing),
	    T(test_admin_CanAdd),
	    T(test_admin_ApplyRemove),
	    T(test_admin_ApplyLastAdmin),
	    T(test_admin_ApplyLastUsableAdmin),
	    T(test_admin_ApplyAddWithinTheSignersLimits),
	    T(test_admin_ApplyAddSameKeyOtherKid),
	    T(test_admin_FloodFillsOnlyTheSignersShare),
	    T(test_admin_ApplyRenewAndBadOps),
	    T(test_admin_CheckThenApply),
	    cmocka_unit_test(test_admin_OpWordsAndReasons),
	    cmocka_unit_test(test_admin_SignedText),
	    cmocka_unit_test(test_admin_ProtocolTestVector),
	};

	if (sig_sodium_init() != 0)
		return 1;
	crypto_sign_keypair(owner.pk, owner.sk);
	crypto_sign_keypair(bob.pk, bob.sk);
	crypto_sign_keypair(carol.pk, carol.sk);
	crypto_sign_keypair(mallory.pk, mallory.sk);
	crypto_sign_keypair(dave.pk, dave.sk);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
