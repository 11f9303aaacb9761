/*
 * Unit tests of the command verifier: cmd_check and its helpers (src/core/cmd.c, the words
 * and charsets of cmd_names.c, the time and replay windows of cmd_replay.c).
 *
 * Commands are signed for real, with Ed25519 keys that libsodium makes for each run, and
 * verified through libsodium (sig_sodium) behind a wrapper that counts its calls: that is how
 * the tests see that no cheap rejection ever reaches the expensive check. Hostile payloads
 * are written as templates in which $TS, $NONCE and $SIG stand for the fields of one valid
 * command, so each row differs from an accepted command in exactly the way it names.
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
#include "sig_sodium.h"

#define DEVICE "garage"
#define NOW    INT64_C(1795547679)
#define START  (NOW - 3600) /* the daemon has been up for an hour */
#define SKEW   30U
/* After DEVICE, START and SKEW, which its setup uses. */
#include "verifier_fixture.h"

#define NONCE "q83vEjRWeJA" /* the SPEC's example: 8 bytes */

/* The SPEC's example with its fields as placeholders, signed by alice for door main. */
#define BASE                                                                                       \
	"{\"v\":1,\"door\":\"main\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE\","          \
	"\"kid\":\"alice\",\"sig\":\"$SIG\"}"

/* alice may do anything; bob may only open the side door; mallory is in no keyring. */
static struct keypair alice, bob, mallory;

/* What a command says, and who signs what for which device. */
struct spec {
	const char *device; /* the device id in the signed text */
	const char *door;
	const char *action;
	int64_t ts;
	const char *nonce;
	const char *kid;
	const struct keypair *signer;
};

static struct spec
default_spec(void)
{
	struct spec s = {DEVICE, "main", "open", NOW, NONCE, "alice", &alice};

	return s;
}

/* The signature of s, as base64url without padding (86 characters). */
static void
sign_spec(const struct spec *s, char sig_b64[CMD_SIG_LEN * 2])
{
	char text[CMD_SIGNED_TEXT_MAX];
	uint8_t sig[CMD_SIG_LEN];
	enum cmd_action a = CMD_ACTION_OPEN;
	size_t n;

	(void)cmd_action_parse(s->action, strlen(s->action), &a);
	n = cmd_signed_text(text, sizeof(text), s->device, s->door, a, s->ts, s->nonce, s->kid);
	assert_true(n > 0);
	crypto_sign_detached(sig, NULL, (const uint8_t *)text, n, s->signer->sk);
	sodium_bin2base64(sig_b64, CMD_SIG_LEN * 2, sig, sizeof(sig),
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/* The JSON of s with the signature sig_b64, in the field order of the SPEC. */
static size_t
build_with_sig(char *buf, size_t cap, const struct spec *s, const char *sig_b64)
{
	int n = snprintf(buf, cap,
	                 "{\"v\":1,\"door\":\"%s\",\"action\":\"%s\",\"ts\":%lld,\"nonce\":\"%s\","
	                 "\"kid\":\"%s\",\"sig\":\"%s\"}",
	                 s->door, s->action, (long long)s->ts, s->nonce, s->kid, sig_b64);

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

/* Replaces $TS, $NONCE and $SIG in tpl with the default spec's values. */
static size_t
expand(char *out, size_t cap, const char *tpl)
{
	struct spec s = default_spec();
	char sig[CMD_SIG_LEN * 2];
	char ts[24];
	size_t n = 0;

	sign_spec(&s, sig);
	snprintf(ts, sizeof(ts), "%lld", (long long)s.ts);
	while (*tpl != '\0') {
		const char *put = NULL;
		size_t skip = 1;

		if (strncmp(tpl, "$TS", 3) == 0) {
			put = ts;
			skip = 3;
		} else if (strncmp(tpl, "$NONCE", 6) == 0) {
			put = NONCE;
			skip = 6;
		} else if (strncmp(tpl, "$SIG", 4) == 0) {
			put = sig;
			skip = 4;
		}
		if (put != NULL) {
			assert_true(n + strlen(put) < cap);
			memcpy(out + n, put, strlen(put));
			n += strlen(put);
		} else {
			assert_true(n + 1 < cap);
			out[n++] = *tpl;
		}
		tpl += skip;
	}
	out[n] = '\0';
	return n;
}

/* Nonce number i as base64url of 8 bytes. */
static void
nonce_text(char out[16], uint32_t i)
{
	uint8_t raw[8] = {
	    'n',       'o', 'n', 'c', (uint8_t)(i >> 24), (uint8_t)(i >> 16), (uint8_t)(i >> 8),
	    (uint8_t)i};

	base64_encode(BASE64_URL_UNPADDED, raw, sizeof(raw), out, 16);
}

/* The device's time t with the local calendar of UTC, as the tests' device lives there. */
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
check(struct fixture *f, const char *topic, const char *payload, size_t len, int64_t now,
      struct cmd *out)
{
	return cmd_check(&f->v, topic, (const uint8_t *)payload, len, false, at(now), out);
}

static enum cmd_reason
check_spec(struct fixture *f, const struct spec *s, int64_t now)
{
	char buf[CMD_MAX_PAYLOAD + 1];
	size_t n = build(buf, sizeof(buf), s);
	struct cmd out;

	return check(f, s->door, buf, n, now, &out);
}

#define assert_reason(got, want)                                                                   \
	do {                                                                                       \
		enum cmd_reason got_ = (got);                                                      \
		enum cmd_reason want_ = (want);                                                    \
		if (got_ != want_)                                                                 \
			fail_msg("reason %s, want %s", cmd_reason_name(got_),                      \
			         cmd_reason_name(want_));                                          \
	} while (0)

/* ---- accepted commands -------------------------------------------------------------------- */

/* Leaves the stack below the caller full of junk, for what a callee forgets to initialise. */
static void __attribute__((noinline)) dirty_stack(void)
{
	volatile char junk[16384];

	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = 0x5a;
}

static void
test_cmd_ValidCommandAccepted(void **state)
{
	struct fixture *f = *state;
	char buf[CMD_MAX_PAYLOAD + 1];
	struct cmd out;
	struct spec s = default_spec();
	size_t n = build(buf, sizeof(buf), &s);

	dirty_stack();
	assert_reason(check(f, "main", buf, n, NOW, &out), CMD_OK);
	assert_int_equal(verify_calls, 1);
	assert_string_equal(out.door, "main");
	assert_int_equal(out.door_index, 0);
	assert_true(out.has_action);
	assert_int_equal(out.action, CMD_ACTION_OPEN);
	assert_int_equal(out.ts, NOW);
	assert_string_equal(out.kid, "alice");
	assert_string_equal(out.nonce, s.nonce);
	/* Nothing but the text and zeros: the same command judged twice gives the same bytes. */
	for (size_t i = strlen(s.nonce); i < sizeof(out.nonce); i++)
		assert_int_equal(out.nonce[i], 0);
}

static void
test_cmd_EveryActionOnEveryDoor(void **state)
{
	static const char *const doors[] = {"main", "side"};
	struct fixture *f = *state;
	char buf[CMD_MAX_PAYLOAD + 1];
	char nonce[16];
	struct cmd out;

	for (size_t d = 0; d < 2; d++) {
		for (unsigned int a = 0; a < CMD_ACTION_COUNT; a++) {
			struct spec s = default_spec();
			size_t n;

			nonce_text(nonce, (uint32_t)(d * CMD_ACTION_COUNT + a));
			s.door = doors[d];
			s.action = cmd_action_name((enum cmd_action)a);
			s.nonce = nonce;
			n = build(buf, sizeof(buf), &s);
			assert_reason(check(f, doors[d], buf, n, NOW, &out), CMD_OK);
			assert_int_equal(out.door_index, d);
			assert_int_equal(out.action, a);
		}
	}
	/* bob's one permission works too. */
	{
		struct spec s = default_spec();

		s.door = "side";
		s.kid = "bob";
		s.signer = &bob;
		s.nonce = "bob-nonce-A";
		assert_reason(check_spec(f, &s, NOW), CMD_OK);
	}
}

/* Nonces of every allowed size, 8 to 32 bytes. */
static void
test_cmd_NonceSizes(void **state)
{
	struct fixture *f = *state;
	uint8_t raw[CMD_NONCE_MAX + 1];
	char nonce[64];

	for (size_t len = 0; len <= CMD_NONCE_MAX + 1; len++) {
		struct spec s = default_spec();
		enum cmd_reason want =
		    len >= CMD_NONCE_MIN && len <= CMD_NONCE_MAX ? CMD_OK : CMD_MALFORMED;

		memset(raw, (int)len, sizeof(raw));
		assert_true(base64_encode(BASE64_URL_UNPADDED, raw, len, nonce, sizeof(nonce)) >
		                0 ||
		            len == 0);
		s.nonce = nonce;
		verify_calls = 0;
		assert_reason(check_spec(f, &s, NOW), want);
		assert_int_equal(verify_calls, want == CMD_OK ? 1 : 0);
	}
}

/* JSON allows whitespace between tokens and keys in any order; neither changes what is signed. */
static void
test_cmd_KeyOrderAndInnerWhitespace(void **state)
{
	static const char *const pairs[7] = {
	    "\"v\":1",          "\"door\":\"main\"",    "\"action\":\"open\"",
	    "\"ts\":$TS",       "\"nonce\":\"$NONCE\"", "\"kid\":\"alice\"",
	    "\"sig\":\"$SIG\"",
	};
	struct fixture *f = *state;
	char tpl[512];
	char buf[CMD_MAX_PAYLOAD + 1];
	size_t n;

	for (size_t rot = 0; rot < 7; rot++) {
		size_t t = 0;

		t += (size_t)snprintf(tpl + t, sizeof(tpl) - t, "{");
		for (size_t i = 0; i < 7; i++)
			t += (size_t)snprintf(tpl + t, sizeof(tpl) - t, "%s%s", i ? "," : "",
			                      pairs[(7 - i + rot) % 7]);
		snprintf(tpl + t, sizeof(tpl) - t, "}");
		n = expand(buf, sizeof(buf), tpl);
		memset(f->v.replay, 0, sizeof(f->v.replay));
		assert_reason(check(f, "main", buf, n, NOW, NULL), CMD_OK);
	}

	n = expand(buf, sizeof(buf),
	           "{ \"v\" : 1 ,\n\t\"door\":\"main\",\r\n\"action\":  \"open\",\"ts\":$TS\n,"
	           "\"nonce\":\"$NONCE\",\"kid\":\"alice\",\"sig\":\"$SIG\"\n}");
	memset(f->v.replay, 0, sizeof(f->v.replay));
	assert_reason(check(f, "main", buf, n, NOW, NULL), CMD_OK);
}

/* ---- hostile payloads --------------------------------------------------------------------- */

static const struct {
	const char *name;
	const char *topic;
	const char *tpl;
	enum cmd_reason want;
} hostile[] = {
    {"the valid command itself", "main", BASE, CMD_OK},
    /* Not one JSON object. */
    {"empty", "main", "", CMD_MALFORMED},
    {"not JSON", "main", "open the door", CMD_MALFORMED},
    {"plain OPEN", "main", "OPEN", CMD_MALFORMED},
    {"array", "main", "[" BASE "]", CMD_MALFORMED},
    {"empty array", "main", "[]", CMD_MALFORMED},
    {"string", "main", "\"open\"", CMD_MALFORMED},
    {"number", "main", "1", CMD_MALFORMED},
    {"null", "main", "null", CMD_MALFORMED},
    {"empty object", "main", "{}", CMD_MALFORMED},
    {"open brace", "main", "{", CMD_MALFORMED},
    {"close brace", "main", "}", CMD_MALFORMED},
    {"unterminated", "main",
     "{\"v\":1,\"door\":\"main\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"alice\",\"sig\":\"$SIG\"",
     CMD_MALFORMED},
    {"unterminated string", "main",
     "{\"v\":1,\"door\":\"main\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"alice\",\"sig\":\"$SIG}",
     CMD_MALFORMED},
    {"two objects", "main", BASE BASE, CMD_MALFORMED},
    {"nested object value", "main",
     "{\"v\":1,\"door\":{\"name\":\"main\"},\"action\":\"open\",\"ts\":$TS,\"nonce\":"
     "\"$NONCE\",\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    {"array value", "main",
     "{\"v\":1,\"door\":[\"main\"],\"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    {"empty object value", "main",
     "{\"v\":1,\"door\":\"main\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"alice\",\"sig\":\"$SIG\",\"x\":{}}",
     CMD_MALFORMED},
    /* Bytes outside the object. */
    {"trailing space", "main", BASE " ", CMD_MALFORMED},
    {"trailing newline", "main", BASE "\n", CMD_MALFORMED},
    {"trailing CRLF", "main", BASE "\r\n", CMD_MALFORMED},
    {"trailing garbage", "main", BASE "x", CMD_MALFORMED},
    {"trailing comma", "main", BASE ",", CMD_MALFORMED},
    {"trailing brace", "main", BASE "}", CMD_MALFORMED},
    {"leading space", "main", " " BASE, CMD_MALFORMED},
    {"leading newline", "main", "\n" BASE, CMD_MALFORMED},
    {"leading BOM", "main", "\xef\xbb\xbf" BASE, CMD_MALFORMED},
    /* Broken separators that a tokenizer alone might let through. */
    {"comma before the first key", "main",
     "{,\"v\":1,\"door\":\"main\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    {"comma after the last value", "main",
     "{\"v\":1,\"door\":\"main\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"alice\",\"sig\":\"$SIG\",}",
     CMD_MALFORMED},
    {"missing comma", "main",
     "{\"v\":1,\"door\":\"main\" \"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    {"double comma", "main",
     "{\"v\":1,,\"door\":\"main\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    {"missing colon", "main",
     "{\"v\":1,\"door\" \"main\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    {"double colon", "main",
     "{\"v\":1,\"door\"::\"main\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    {"value chained with a colon", "main",
     "{\"v\":1,\"door\":\"main\":\"side\",\"action\":\"open\",\"ts\":$TS,\"nonce\":"
     "\"$NONCE\",\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    {"semicolon for comma", "main",
     "{\"v\":1;\"door\":\"main\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    {"bare word key", "main",
     "{v:1,\"door\":\"main\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    {"single quotes", "main",
     "{'v':1,\"door\":\"main\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    {"escaped key for v", "main",
     "{\"\\u0076\":1,\"door\":\"main\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    /* v. */
    {"v as string", "main",
     "{\"v\":\"1\",\"door\":\"main\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    {"v = 2", "main",
     "{\"v\":2,\"door\":\"main\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    {"v = 0", "main",
     "{\"v\":0,\"door\":\"main\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    {"v = 1.0", "main",
     "{\"v\":1.0,\"door\":\"main\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    {"v = 01", "main",
     "{\"v\":01,\"door\":\"main\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    {"v = 1e0", "main",
     "{\"v\":1e0,\"door\":\"main\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    {"v = -1", "main",
     "{\"v\":-1,\"door\":\"main\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    {"v = true", "main",
     "{\"v\":true,\"door\":\"main\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    {"v = null", "main",
     "{\"v\":null,\"door\":\"main\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    {"v = +1", "main",
     "{\"v\":+1,\"door\":\"main\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    /* ts. */
    {"ts as string", "main",
     "{\"v\":1,\"door\":\"main\",\"action\":\"open\",\"ts\":\"$TS\",\"nonce\":\"$NONCE\","
     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    {"ts negative", "main",
     "{\"v\":1,\"door\":\"main\",\"action\":\"open\",\"ts\":-$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    {"ts minus zero", "main",
     "{\"v\":1,\"door\":\"main\",\"action\":\"open\",\"ts\":-0,\"nonce\":\"$NONCE\","
     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    {"ts with fraction", "main",
     "{\"v\":1,\"door\":\"main\",\"action\":\"open\",\"ts\":$TS.0,\"nonce\":\"$NONCE\","
     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    {"ts with exponent", "main",
     "{\"v\":1,\"door\":\"main\",\"action\":\"open\",\"ts\":$TSe0,\"nonce\":\"$NONCE\","
     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    {"ts in scientific notation", "main",
     "{\"v\":1,\"door\":\"main\",\"action\":\"open\",\"ts\":1.795547679e9,\"nonce\":"
     "\"$NONCE\",\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    {"ts with leading zero", "main",
     "{\"v\":1,\"door\":\"main\",\"action\":\"open\",\"ts\":0$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    {"ts of 13 digits", "main",
     "{\"v\":1,\"door\":\"main\",\"action\":\"open\",\"ts\":1795547679000,\"nonce\":"
     "\"$NONCE\",\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    {"ts of 30 digits", "main",
     "{\"v\":1,\"door\":\"main\",\"action\":\"open\",\"ts\":179554767900000000000000000000,"
     "\"nonce\":\"$NONCE\",\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    {"ts = true", "main",
     "{\"v\":1,\"door\":\"main\",\"action\":\"open\",\"ts\":true,\"nonce\":\"$NONCE\","
     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    {"ts = null", "main",
     "{\"v\":1,\"door\":\"main\",\"action\":\"open\",\"ts\":null,\"nonce\":\"$NONCE\","
     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    {"ts with plus sign", "main",
     "{\"v\":1,\"door\":\"main\",\"action\":\"open\",\"ts\":+$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    {"ts with hex", "main",
     "{\"v\":1,\"door\":\"main\",\"action\":\"open\",\"ts\":0x6b05c11f,\"nonce\":\"$NONCE\","
     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    /* door. */
    {"door as number", "main",
     "{\"v\":1,\"door\":1,\"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    {"door null", "main",
     "{\"v\":1,\"door\":null,\"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    {"door uppercase", "main",
     "{\"v\":1,\"door\":\"Main\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    {"door with space", "main",
     "{\"v\":1,\"door\":\"ma in\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    {"door empty", "main",
     "{\"v\":1,\"door\":\"\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    {"door of 33 characters", "main",
     "{\"v\":1,\"door\":\"abcdefghijklmnopqrstuvwxyz0123456\",\"action\":\"open\",\"ts\":$TS,"
     "\"nonce\":\"$NONCE\",\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    {"door with escape", "main",
     "{\"v\":1,\"door\":\"ma\\u0069n\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    {"door with escaped newline", "main",
     "{\"v\":1,\"door\":\"main\\n\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    {"door with raw newline", "main",
     "{\"v\":1,\"door\":\"main\n\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    {"door with slash", "main",
     "{\"v\":1,\"door\":\"main/side\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    /* action. */
    {"action uppercase", "main",
     "{\"v\":1,\"door\":\"main\",\"action\":\"OPEN\",\"ts\":$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    {"action unknown", "main",
     "{\"v\":1,\"door\":\"main\",\"action\":\"unlock\",\"ts\":$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    {"action with suffix", "main",
     "{\"v\":1,\"door\":\"main\",\"action\":\"opens\",\"ts\":$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    {"action prefix", "main",
     "{\"v\":1,\"door\":\"main\",\"action\":\"ope\",\"ts\":$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    {"action empty", "main",
     "{\"v\":1,\"door\":\"main\",\"action\":\"\",\"ts\":$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    {"action with escape", "main",
     "{\"v\":1,\"door\":\"main\",\"action\":\"op\\u0065n\",\"ts\":$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    {"action with escaped NUL", "main",
     "{\"v\":1,\"door\":\"main\",\"action\":\"open\\u0000\",\"ts\":$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    {"action as number", "main",
     "{\"v\":1,\"door\":\"main\",\"action\":0,\"ts\":$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    /* kid. */
    {"kid with space", "main",
     "{\"v\":1,\"door\":\"main\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"ali ce\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    {"kid with raw newline", "main",
     "{\"v\":1,\"door\":\"main\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"alice\nmain\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    {"kid with escaped newline", "main",
     "{\"v\":1,\"door\":\"main\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"alice\\n\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    {"kid with escape", "main",
     "{\"v\":1,\"door\":\"main\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"ali\\u0063e\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    {"kid with UTF-8", "main",
     "{\"v\":1,\"door\":\"main\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"alic\xc3\xa9\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    {"kid empty", "main",
     "{\"v\":1,\"door\":\"main\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    {"kid of 65 characters", "main",
     "{\"v\":1,\"door\":\"main\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE\",\"kid\":"
     "\"a123456789b123456789c123456789d123456789e123456789f123456789g1234\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    {"kid as number", "main",
     "{\"v\":1,\"door\":\"main\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE\","
     "\"kid\":7,\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    /* nonce. */
    {"nonce of 7 bytes", "main",
     "{\"v\":1,\"door\":\"main\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"q83vEjRWeA\","
     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    {"nonce of 33 bytes", "main",
     "{\"v\":1,\"door\":\"main\",\"action\":\"open\",\"ts\":$TS,\"nonce\":"
     "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\",\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    {"nonce of 200 characters", "main",
     "{\"v\":1,\"door\":\"main\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\""
     "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
     "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
     "AAAAAAAAAAAAAAAA\",\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    {"nonce padded", "main",
     "{\"v\":1,\"door\":\"main\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE=\","
     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    {"nonce in the standard alphabet", "main",
     "{\"v\":1,\"door\":\"main\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"q83vEjRWe+/\","
     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    {"nonce with non-zero unused bits", "main",
     "{\"v\":1,\"door\":\"main\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"q83vEjRWeJB\","
     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    {"nonce of 1 mod 4 characters", "main",
     "{\"v\":1,\"door\":\"main\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"q83vEjRWeJAAA\","
     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    {"nonce with an escaped slash", "main",
     "{\"v\":1,\"door\":\"main\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"q83vEjRWe\\/A\","
     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    {"nonce empty", "main",
     "{\"v\":1,\"door\":\"main\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"\","
     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    {"nonce as number", "main",
     "{\"v\":1,\"door\":\"main\",\"action\":\"open\",\"ts\":$TS,\"nonce\":12345678,"
     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    /* sig. */
    {"sig of 63 bytes", "main",
     "{\"v\":1,\"door\":\"main\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"alice\",\"sig\":"
     "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
     "AAAAAAAAAAAAAAA\"}",
     CMD_MALFORMED},
    {"sig of 65 bytes", "main",
     "{\"v\":1,\"door\":\"main\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"alice\",\"sig\":\"$SIGAA\"}",
     CMD_MALFORMED},
    {"sig one character short", "main",
     "{\"v\":1,\"door\":\"main\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"alice\",\"sig\":"
     "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
     "AAAAAAAAAAAAAAAAAAA\"}",
     CMD_MALFORMED},
    {"sig padded", "main",
     "{\"v\":1,\"door\":\"main\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"alice\",\"sig\":\"$SIG==\"}",
     CMD_MALFORMED},
    {"sig in the standard alphabet", "main",
     "{\"v\":1,\"door\":\"main\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"alice\",\"sig\":\"++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++"
     "++++++++++++++++++++++++\"}",
     CMD_MALFORMED},
    {"sig empty", "main",
     "{\"v\":1,\"door\":\"main\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"alice\",\"sig\":\"\"}",
     CMD_MALFORMED},
    {"sig as number", "main",
     "{\"v\":1,\"door\":\"main\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"alice\",\"sig\":0}",
     CMD_MALFORMED},
    /* Doors and the topic. */
    {"unknown door", "garden",
     "{\"v\":1,\"door\":\"garden\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_UNKNOWN_DOOR},
    {"unknown door on a known topic", "main",
     "{\"v\":1,\"door\":\"garden\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_UNKNOWN_DOOR},
    {"known door on an unknown topic", "garden", BASE, CMD_UNKNOWN_DOOR},
    {"topic empty", "", BASE, CMD_UNKNOWN_DOOR},
    {"topic uppercase", "Main", BASE, CMD_UNKNOWN_DOOR},
    {"topic with a suffix", "main2", BASE, CMD_UNKNOWN_DOOR},
    {"topic longer than any name", "mainmainmainmainmainmainmainmainmainmain", BASE,
     CMD_UNKNOWN_DOOR},
    {"payload main on topic side", "side", BASE, CMD_MALFORMED},
    {"payload side on topic main", "main",
     "{\"v\":1,\"door\":\"side\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_MALFORMED},
    /* Keys and permissions. */
    {"unknown kid", "main",
     "{\"v\":1,\"door\":\"main\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"mallory\",\"sig\":\"$SIG\"}",
     CMD_UNKNOWN_KEY},
    {"kid in another case", "main",
     "{\"v\":1,\"door\":\"main\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"Alice\",\"sig\":\"$SIG\"}",
     CMD_UNKNOWN_KEY},
    {"kid a prefix of a known one", "main",
     "{\"v\":1,\"door\":\"main\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"alic\",\"sig\":\"$SIG\"}",
     CMD_UNKNOWN_KEY},
    {"kid extending a known one", "main",
     "{\"v\":1,\"door\":\"main\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"alicex\",\"sig\":\"$SIG\"}",
     CMD_UNKNOWN_KEY},
    {"forbidden door", "main",
     "{\"v\":1,\"door\":\"main\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"bob\",\"sig\":\"$SIG\"}",
     CMD_FORBIDDEN},
    {"forbidden action", "side",
     "{\"v\":1,\"door\":\"side\",\"action\":\"close\",\"ts\":$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"bob\",\"sig\":\"$SIG\"}",
     CMD_FORBIDDEN},
    {"forbidden action and door", "main",
     "{\"v\":1,\"door\":\"main\",\"action\":\"toggle\",\"ts\":$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"bob\",\"sig\":\"$SIG\"}",
     CMD_FORBIDDEN},
    /* Time. */
    {"ts zero", "main",
     "{\"v\":1,\"door\":\"main\",\"action\":\"open\",\"ts\":0,\"nonce\":\"$NONCE\","
     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_STALE},
    {"ts far in the future", "main",
     "{\"v\":1,\"door\":\"main\",\"action\":\"open\",\"ts\":999999999999,\"nonce\":\"$NONCE\","
     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_FUTURE},
    /* Everything right but the signature: the only rows that reach verify. */
    {"signature of another command", "side",
     "{\"v\":1,\"door\":\"side\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"bob\",\"sig\":\"$SIG\"}",
     CMD_BAD_SIGNATURE},
    {"signature for another door", "side",
     "{\"v\":1,\"door\":\"side\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_BAD_SIGNATURE},
    {"signature for another action", "main",
     "{\"v\":1,\"door\":\"main\",\"action\":\"close\",\"ts\":$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_BAD_SIGNATURE},
    {"signature for another ts", "main",
     "{\"v\":1,\"door\":\"main\",\"action\":\"open\",\"ts\":1795547680,\"nonce\":\"$NONCE\","
     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_BAD_SIGNATURE},
    {"signature for another nonce", "main",
     "{\"v\":1,\"door\":\"main\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"q83vEjRWeJQ\","
     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
     CMD_BAD_SIGNATURE},
    {"all-zero signature", "main",
     "{\"v\":1,\"door\":\"main\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE\","
     "\"kid\":\"alice\",\"sig\":"
     "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
     "AAAAAAAAAAAAAAAAAAAA\"}",
     CMD_BAD_SIGNATURE},
};

static void
test_cmd_HostilePayloads(void **state)
{
	struct fixture *f = *state;
	char buf[1024];

	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		size_t n = expand(buf, sizeof(buf), hostile[i].tpl);
		enum cmd_reason got;
		unsigned int want_calls =
		    hostile[i].want == CMD_OK || hostile[i].want == CMD_BAD_SIGNATURE ? 1 : 0;

		memset(f->v.replay, 0, sizeof(f->v.replay));
		verify_calls = 0;
		got = check(f, hostile[i].topic, buf, n, NOW, NULL);
		if (got != hostile[i].want)
			fail_msg("%s: %s, want %s", hostile[i].name, cmd_reason_name(got),
			         cmd_reason_name(hostile[i].want));
		/* Only a command that passed every cheap check costs a verification. */
		if (verify_calls != want_calls)
			fail_msg("%s: %u verify calls, want %u", hostile[i].name, verify_calls,
			         want_calls);
	}
}

/* Each field missing, each field twice (same value and a different one), and extra fields. */
static void
test_cmd_MissingDuplicatedAndExtraFields(void **state)
{
	static const char *const pairs[7] = {
	    "\"v\":1",          "\"door\":\"main\"",    "\"action\":\"open\"",
	    "\"ts\":$TS",       "\"nonce\":\"$NONCE\"", "\"kid\":\"alice\"",
	    "\"sig\":\"$SIG\"",
	};
	static const char *const other[7] = {
	    "\"v\":1",           "\"door\":\"side\"",         "\"action\":\"close\"",
	    "\"ts\":1795547680", "\"nonce\":\"q83vEjRWeJQ\"", "\"kid\":\"bob\"",
	    "\"sig\":\"$SIG\"",
	};
	static const char *const extra[] = {
	    "\"x\":\"y\"", "\"V\":1",  "\"sig2\":\"$SIG\"",
	    "\"\":1",      "\"v \":1", "\"comment\":\"hi\"",
	};
	struct fixture *f = *state;
	char tpl[1024];
	char buf[1024];
	size_t n;

	for (size_t variant = 0; variant < 3 * 7 + sizeof(extra) / sizeof(extra[0]); variant++) {
		size_t t = 0;

		t += (size_t)snprintf(tpl + t, sizeof(tpl) - t, "{");
		for (size_t i = 0; i < 7; i++) {
			if (variant < 7 && i == variant)
				continue; /* missing */
			t += (size_t)snprintf(tpl + t, sizeof(tpl) - t, "%s%s", t > 1 ? "," : "",
			                      pairs[i]);
			if (variant >= 7 && variant < 14 && i == variant - 7)
				t += (size_t)snprintf(tpl + t, sizeof(tpl) - t, ",%s", pairs[i]);
		}
		/* The second copy comes last, where a "last one wins" parser would take it. */
		if (variant >= 14 && variant < 21)
			t += (size_t)snprintf(tpl + t, sizeof(tpl) - t, ",%s", other[variant - 14]);
		if (variant >= 21)
			t += (size_t)snprintf(tpl + t, sizeof(tpl) - t, ",%s", extra[variant - 21]);
		snprintf(tpl + t, sizeof(tpl) - t, "}");

		n = expand(buf, sizeof(buf), tpl);
		verify_calls = 0;
		if (check(f, "main", buf, n, NOW, NULL) != CMD_MALFORMED)
			fail_msg("should be malformed: %s", buf);
		assert_int_equal(verify_calls, 0);
	}
}

static void
test_cmd_TooLarge(void **state)
{
	struct fixture *f = *state;
	char buf[2048];
	char padded[CMD_MAX_PAYLOAD + 2];
	struct cmd out;
	size_t n = expand(buf, sizeof(buf), BASE);

	/* A valid command padded inside with whitespace to exactly 512 bytes is still valid... */
	assert_true(n < CMD_MAX_PAYLOAD);
	padded[0] = '{';
	memset(padded + 1, ' ', CMD_MAX_PAYLOAD - n);
	memcpy(padded + 1 + CMD_MAX_PAYLOAD - n, buf + 1, n - 1);
	assert_reason(check(f, "main", padded, CMD_MAX_PAYLOAD, NOW, &out), CMD_OK);

	/* ...and one byte more is too large, before any parsing and at no verification cost. */
	memset(f->v.replay, 0, sizeof(f->v.replay));
	padded[0] = '{';
	memset(padded + 1, ' ', CMD_MAX_PAYLOAD + 1 - n);
	memcpy(padded + 1 + CMD_MAX_PAYLOAD + 1 - n, buf + 1, n - 1);
	verify_calls = 0;
	assert_reason(check(f, "main", padded, CMD_MAX_PAYLOAD + 1, NOW, &out), CMD_TOO_LARGE);
	assert_int_equal(verify_calls, 0);
	assert_string_equal(out.door, "");
	assert_string_equal(out.kid, "");
	assert_string_equal(out.nonce, "");

	memset(buf, 'x', sizeof(buf));
	assert_reason(check(f, "main", buf, 513, NOW, &out), CMD_TOO_LARGE);
	assert_reason(check(f, "main", buf, sizeof(buf), NOW, &out), CMD_TOO_LARGE);
	/* The length alone decides: a huge one is refused without reading a byte. */
	assert_reason(check(f, "main", buf, SIZE_MAX, NOW, &out), CMD_TOO_LARGE);
	assert_int_equal(verify_calls, 0);
}

static void
test_cmd_EmbeddedNul(void **state)
{
	struct fixture *f = *state;
	char base[1024];
	char buf[1024];
	size_t n = expand(base, sizeof(base), BASE);

	/* A NUL anywhere in the payload: inside a string, between tokens, at the very end. */
	for (size_t at = 0; at <= n; at++) {
		memcpy(buf, base, at);
		buf[at] = '\0';
		memcpy(buf + at + 1, base + at, n - at);
		verify_calls = 0;
		if (check(f, "main", buf, n + 1, NOW, NULL) != CMD_MALFORMED)
			fail_msg("NUL inserted at %zu was not malformed", at);
		assert_int_equal(verify_calls, 0);
	}
	/* A NUL replacing the closing brace. */
	memcpy(buf, base, n);
	buf[n - 1] = '\0';
	assert_reason(check(f, "main", buf, n, NOW, NULL), CMD_MALFORMED);
}

/* A retained message is refused whatever it is, and does not use up the command's nonce. */
static void
test_cmd_RetainedAlwaysRefused(void **state)
{
	struct fixture *f = *state;
	char buf[1024];
	struct cmd out;
	size_t n = expand(buf, sizeof(buf), BASE);

	verify_calls = 0;
	assert_reason(cmd_check(&f->v, "main", (const uint8_t *)buf, n, true, at(NOW), &out),
	              CMD_RETAINED);
	assert_int_equal(verify_calls, 0);
	assert_string_equal(out.door, "");
	assert_false(out.has_action);
	assert_reason(cmd_check(&f->v, "main", (const uint8_t *)"junk", 4, true, at(NOW), &out),
	              CMD_RETAINED);
	assert_reason(cmd_check(&f->v, "nope", (const uint8_t *)buf, 100000, true, at(NOW), &out),
	              CMD_RETAINED);
	assert_reason(cmd_check(&f->v, "main", NULL, 0, true, at(NOW), &out), CMD_RETAINED);
	assert_int_equal(verify_calls, 0);

	/* Delivered live (MQTT 3.1.1 clears the flag for existing subscribers), it is judged. */
	assert_reason(check(f, "main", buf, n, NOW, &out), CMD_OK);
	assert_reason(cmd_check(&f->v, "main", (const uint8_t *)buf, n, true, at(NOW), &out),
	              CMD_RETAINED);
	assert_reason(check(f, "main", buf, n, NOW, &out), CMD_REPLAY);
}

/* ---- time --------------------------------------------------------------------------------- */

static void
test_cmd_TimeBoundaries(void **state)
{
	static const struct {
		const char *name;
		int64_t now;
		int64_t ts;
		enum cmd_reason want;
	} rows[] = {
	    {"ts == now", NOW, NOW, CMD_OK},
	    {"ts == now - skew", NOW, NOW - SKEW, CMD_OK},
	    {"ts == now - skew - 1", NOW, NOW - SKEW - 1, CMD_STALE},
	    {"ts == now + skew", NOW, NOW + SKEW, CMD_OK},
	    {"ts == now + skew + 1", NOW, NOW + SKEW + 1, CMD_FUTURE},
	    {"an hour old", NOW, NOW - 3600, CMD_STALE},
	    {"a day ahead", NOW, NOW + 86400, CMD_FUTURE},
	    {"ts == start_time", START + 10, START, CMD_OK},
	    {"ts == start_time - 1, within skew", START + 10, START - 1, CMD_STALE},
	    {"at start, one second before it", START, START - 1, CMD_STALE},
	    {"at start, ts == start", START, START, CMD_OK},
	    {"at start, ts == start + skew", START, START + SKEW, CMD_OK},
	    {"clock behind start, ts == start", START - 5, START, CMD_OK},
	    {"clock far behind start, ts == start", START - 100, START, CMD_FUTURE},
	};
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct spec s = default_spec();
		enum cmd_reason got;

		s.ts = rows[i].ts;
		memset(f->v.replay, 0, sizeof(f->v.replay));
		f->v.latest = 0; /* each row is a fresh clock */
		verify_calls = 0;
		got = check_spec(f, &s, rows[i].now);
		if (got != rows[i].want)
			fail_msg("%s: %s, want %s", rows[i].name, cmd_reason_name(got),
			         cmd_reason_name(rows[i].want));
		assert_int_equal(verify_calls, rows[i].want == CMD_OK ? 1 : 0);
	}
}

static void
test_cmd_ZeroSkew(void **state)
{
	struct fixture *f = *state;
	struct spec s = default_spec();

	f->v.clock_skew = 0;
	assert_reason(check_spec(f, &s, NOW), CMD_OK);
	s.nonce = "q83vEjRWeJQ";
	assert_reason(check_spec(f, &s, NOW + 1), CMD_STALE);
	f->v.latest = 0;
	assert_reason(check_spec(f, &s, NOW - 1), CMD_FUTURE);
}

/* A clock at the ends of int64_t neither wraps the window nor lets anything through. */
static void
test_cmd_ExtremeClock(void **state)
{
	struct fixture *f = *state;
	struct spec s = default_spec();

	f->v.clock_skew = UINT32_MAX;
	f->v.start_time = INT64_MIN;
	assert_reason(check_spec(f, &s, INT64_MAX), CMD_STALE);
	f->v.latest = INT64_MIN;
	assert_reason(check_spec(f, &s, INT64_MIN), CMD_FUTURE);
	f->v.latest = INT64_MIN;
	f->v.start_time = INT64_MAX;
	assert_reason(check_spec(f, &s, NOW), CMD_STALE);
}

/*
 * A clock stepped back does not reopen the replay window: accepted at NOW, forgotten once the
 * clock passed NOW + skew, the command is refused when the clock shows NOW again (stale against
 * the latest time seen), and commands are judged against that latest time until it catches up.
 */
static void
test_cmd_ClockSteppedBackDoesNotReopenWindow(void **state)
{
	struct fixture *f = *state;
	struct spec s = default_spec();
	struct spec later = default_spec();

	assert_reason(check_spec(f, &s, NOW), CMD_OK);
	/* Time jumps ahead: a fresh command then purges the old nonce from the window. */
	later.ts = NOW + 10 * SKEW;
	later.nonce = "AAAAAAAAAAAAAAAAAAAAAA";
	assert_reason(check_spec(f, &later, NOW + 10 * SKEW), CMD_OK);
	/* And back: the captured command must not be accepted again. */
	verify_calls = 0;
	assert_reason(check_spec(f, &s, NOW), CMD_STALE);
	assert_int_equal(verify_calls, 0);
	assert_int_equal(f->v.latest, NOW + 10 * SKEW);
}

/*
 * A restart empties the replay window; the nonces put back with cmd_verifier_remember() keep
 * the promise: a command accepted before, even one stamped in the future, is a replay after it,
 * while another command of the same second is not refused for it.
 */
static void
test_cmd_RestartRefusesWhatWasAccepted(void **state)
{
	struct fixture *f = *state;
	struct spec s = default_spec(), other = default_spec();
	uint8_t raw[8];

	s.ts = NOW + 20; /* a phone whose clock runs ahead */
	assert_reason(check_spec(f, &s, NOW), CMD_OK);
	assert_int_equal(base64_decode(BASE64_URL_UNPADDED, NONCE, strlen(NONCE), raw, sizeof(raw)),
	                 8);
	cmd_verifier_start(&f->v, NOW + 5, NOW);
	assert_true(cmd_verifier_remember(&f->v, raw, sizeof(raw), s.ts));
	verify_calls = 0;
	assert_reason(check_spec(f, &s, NOW + 5), CMD_REPLAY);
	assert_int_equal(verify_calls, 0);
	other.ts = NOW + 5;
	other.nonce = "AAAAAAAAAAAAAAAAAAAAAA";
	assert_reason(check_spec(f, &other, NOW + 5), CMD_OK);
	/* Without what was saved, the restarted window let it through. */
	cmd_verifier_start(&f->v, NOW + 5, 0);
	assert_reason(check_spec(f, &s, NOW + 5), CMD_OK);
}

/* A clock behind the latest time seen is not trusted: commands are judged by that time. */
static void
test_cmd_RestartWithClockSetBack(void **state)
{
	struct fixture *f = *state;
	struct spec s = default_spec();
	struct spec fresh = default_spec();
	uint8_t raw[8];

	assert_reason(check_spec(f, &s, NOW), CMD_OK);
	assert_int_equal(base64_decode(BASE64_URL_UNPADDED, NONCE, strlen(NONCE), raw, sizeof(raw)),
	                 8);
	cmd_verifier_start(&f->v, NOW - 50, NOW + 1);
	assert_true(cmd_verifier_remember(&f->v, raw, sizeof(raw), s.ts));
	assert_int_equal(f->v.latest, NOW + 1);
	assert_reason(check_spec(f, &s, NOW - 50), CMD_REPLAY);
	fresh.ts = NOW + 2;
	fresh.nonce = "AAAAAAAAAAAAAAAAAAAAAA";
	assert_reason(check_spec(f, &fresh, NOW - 50), CMD_OK);
	/* A nonce older than the window is not needed; one of a wrong size is refused. */
	assert_true(cmd_verifier_remember(&f->v, raw, sizeof(raw), NOW + 1 - SKEW - 1));
	assert_false(cmd_verifier_remember(&f->v, raw, 4, NOW));
	/* Nothing saved and the clock right: only what is stamped before now is stale. */
	cmd_verifier_start(&f->v, NOW + 100, 0);
	assert_int_equal(f->v.start_time, NOW + 100);
	assert_int_equal(f->v.latest, NOW + 100);
}

/* ---- replay ------------------------------------------------------------------------------- */

static void
test_cmd_SameCommandTwiceIsReplay(void **state)
{
	struct fixture *f = *state;
	char buf[1024];
	size_t n = expand(buf, sizeof(buf), BASE);

	assert_reason(check(f, "main", buf, n, NOW, NULL), CMD_OK);
	verify_calls = 0;
	assert_reason(check(f, "main", buf, n, NOW, NULL), CMD_REPLAY);
	assert_reason(check(f, "main", buf, n, NOW + 1, NULL), CMD_REPLAY);
	/* The replay check comes before the signature: a replay flood costs no verification. */
	assert_int_equal(verify_calls, 0);
}

/* The nonce is what is remembered: a re-signed command reusing it is refused as well. */
static void
test_cmd_NonceReuseIsReplay(void **state)
{
	struct fixture *f = *state;
	struct spec s = default_spec();

	assert_reason(check_spec(f, &s, NOW), CMD_OK);
	s.ts = NOW + 1;
	assert_reason(check_spec(f, &s, NOW), CMD_REPLAY);
	s.action = "close";
	assert_reason(check_spec(f, &s, NOW), CMD_REPLAY);
	s.door = "side";
	s.kid = "bob";
	s.action = "open";
	s.signer = &bob;
	assert_reason(check_spec(f, &s, NOW), CMD_REPLAY);
}

/*
 * The window's own two calls, as cmd_check() makes them around the signature: a check never
 * remembers the nonce, only a commit does, so a command whose signature fails leaves nothing.
 */
static void
test_cmd_ReplayCheckThenCommit(void **state)
{
	struct fixture *f = *state;
	struct cmd_replay_ticket t, again;
	const uint8_t nonce[CMD_NONCE_MAX + 1] = {1, 2, 3, 4, 5, 6, 7, 8, 9};

	cmd_verifier_start(&f->v, START, 0);
	/* No command has a nonce of these lengths: refused before the window is looked at. */
	assert_reason(cmd_replay_check(&f->v, NOW, nonce, CMD_NONCE_MIN - 1, NOW, &t),
	              CMD_MALFORMED);
	assert_reason(cmd_replay_check(&f->v, NOW, nonce, CMD_NONCE_MAX + 1, NOW, &t),
	              CMD_MALFORMED);
	assert_reason(cmd_replay_check(&f->v, NOW, NULL, CMD_NONCE_MIN, NOW, &t), CMD_MALFORMED);
	assert_int_equal(f->v.latest, START);

	assert_reason(cmd_replay_check(&f->v, START - 1, nonce, 8, NOW, &t), CMD_STALE);
	assert_reason(cmd_replay_check(&f->v, NOW - SKEW - 1, nonce, 8, NOW, &t), CMD_STALE);
	assert_reason(cmd_replay_check(&f->v, NOW + SKEW + 1, nonce, 8, NOW, &t), CMD_FUTURE);
	assert_int_equal(f->v.latest, NOW);

	assert_reason(cmd_replay_check(&f->v, NOW, nonce, 8, NOW, &t), CMD_OK);
	assert_reason(cmd_replay_check(&f->v, NOW, nonce, 8, NOW, &again), CMD_OK);
	assert_true(cmd_replay_commit(&f->v, &t, f->ring.keys[0].pub));
	assert_reason(cmd_replay_check(&f->v, NOW + 1, nonce, 8, NOW, &t), CMD_REPLAY);
	/* The same first bytes, one longer: another nonce. */
	assert_reason(cmd_replay_check(&f->v, NOW, nonce, 9, NOW, &t), CMD_OK);
}

static void
test_cmd_ReplayWindowExpiry(void **state)
{
	struct fixture *f = *state;
	struct spec s = default_spec();

	assert_reason(check_spec(f, &s, NOW), CMD_OK);
	/* While the first command could still pass the time check, its nonce is remembered. */
	s.ts = NOW + SKEW;
	assert_reason(check_spec(f, &s, NOW + SKEW), CMD_REPLAY);
	/* One second later it could not, and the nonce may be used again. */
	s.ts = NOW + SKEW + 1;
	assert_reason(check_spec(f, &s, NOW + SKEW + 1), CMD_OK);
	assert_reason(check_spec(f, &s, NOW + SKEW + 1), CMD_REPLAY);
	/* The original command is stale by then, so forgetting its nonce let nothing replay. */
	s.ts = NOW;
	assert_reason(check_spec(f, &s, NOW + SKEW + 1), CMD_STALE);
}

/* ---- signatures --------------------------------------------------------------------------- */

static enum cmd_reason
check_with_sig(struct fixture *f, const struct spec *s, const uint8_t sig[CMD_SIG_LEN])
{
	char sig_b64[CMD_SIG_LEN * 2];
	char buf[CMD_MAX_PAYLOAD + 1];
	size_t n;

	sodium_bin2base64(sig_b64, sizeof(sig_b64), sig, CMD_SIG_LEN,
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	n = build_with_sig(buf, sizeof(buf), s, sig_b64);
	return check(f, s->door, buf, n, NOW, NULL);
}

static void
signature_of(const struct spec *s, uint8_t sig[CMD_SIG_LEN])
{
	char sig_b64[CMD_SIG_LEN * 2];
	size_t n = 0;

	sign_spec(s, sig_b64);
	assert_int_equal(sodium_base642bin(sig, CMD_SIG_LEN, sig_b64, strlen(sig_b64), NULL, &n,
	                                   NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING),
	                 0);
	assert_int_equal(n, CMD_SIG_LEN);
}

static void
test_cmd_EveryFlippedSignatureBitRefused(void **state)
{
	struct fixture *f = *state;
	struct spec s = default_spec();
	uint8_t sig[CMD_SIG_LEN];

	signature_of(&s, sig);
	verify_calls = 0;
	for (size_t bit = 0; bit < CMD_SIG_LEN * 8; bit++) {
		sig[bit / 8] ^= (uint8_t)(1U << (bit % 8));
		if (check_with_sig(f, &s, sig) != CMD_BAD_SIGNATURE)
			fail_msg("signature with bit %zu flipped was not refused", bit);
		sig[bit / 8] ^= (uint8_t)(1U << (bit % 8));
	}
	assert_int_equal(verify_calls, CMD_SIG_LEN * 8);
	/* The unflipped signature still works: the refusals were about the bits. */
	assert_reason(check_with_sig(f, &s, sig), CMD_OK);
}

static void
test_cmd_ForgedSignaturesRefused(void **state)
{
	struct fixture *f = *state;
	struct spec s;

	/* mallory signs in alice's name. */
	s = default_spec();
	s.signer = &mallory;
	assert_reason(check_spec(f, &s, NOW), CMD_BAD_SIGNATURE);
	/* bob, who is in the keyring, signs in alice's name. */
	s = default_spec();
	s.signer = &bob;
	assert_reason(check_spec(f, &s, NOW), CMD_BAD_SIGNATURE);
	/* alice's signature for another device is no good here. */
	s = default_spec();
	s.device = "garage2";
	assert_reason(check_spec(f, &s, NOW), CMD_BAD_SIGNATURE);
	s.device = "";
	assert_reason(check_spec(f, &s, NOW), CMD_BAD_SIGNATURE);
	/* alice signs as bob: the kid is covered by the signature too. */
	s = default_spec();
	s.door = "side";
	s.kid = "bob";
	assert_reason(check_spec(f, &s, NOW), CMD_BAD_SIGNATURE);
	/* All of these were refused before any nonce was remembered: the real one still works. */
	s = default_spec();
	assert_reason(check_spec(f, &s, NOW), CMD_OK);
}

/* S + L verifies in a lax Ed25519: libsodium refuses the non-canonical S, so must we. */
static void
test_cmd_MalleatedSignatureRefused(void **state)
{
	static const uint8_t order[32] = {
	    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
	    0xa2, 0xde, 0xf9, 0xde, 0x14, 0,    0,    0,    0,    0,    0,
	    0,    0,    0,    0,    0,    0,    0,    0,    0,    0x10,
	};
	struct fixture *f = *state;
	struct spec s = default_spec();
	uint8_t sig[CMD_SIG_LEN];
	unsigned int carry = 0;

	signature_of(&s, sig);
	for (size_t i = 0; i < 32; i++) {
		unsigned int sum = sig[32 + i] + order[i] + carry;

		sig[32 + i] = (uint8_t)sum;
		carry = sum >> 8;
	}
	assert_int_equal(carry, 0);
	assert_reason(check_with_sig(f, &s, sig), CMD_BAD_SIGNATURE);
}

/* The signed text is exactly the SPEC's, independently of cmd_signed_text. */
static void
test_cmd_SignatureOverTheSpecText(void **state)
{
	static const char text[] =
	    "garaged-cmd-v1\ngarage\nmain\nopen\n1795547679\nq83vEjRWeJA\nalice";
	struct fixture *f = *state;
	struct spec s = default_spec();
	uint8_t sig[CMD_SIG_LEN];

	crypto_sign_detached(sig, NULL, (const uint8_t *)text, sizeof(text) - 1, alice.sk);
	assert_reason(check_with_sig(f, &s, sig), CMD_OK);

	/* The same with a trailing newline is another text, and another signature. */
	memset(f->v.replay, 0, sizeof(f->v.replay));
	crypto_sign_detached(sig, NULL,
	                     (const uint8_t *)"garaged-cmd-v1\ngarage\nmain\nopen\n"
	                                      "1795547679\nq83vEjRWeJA\nalice\n",
	                     sizeof(text), alice.sk);
	assert_reason(check_with_sig(f, &s, sig), CMD_BAD_SIGNATURE);
}

/* A forgery with nonce N must not keep the real command with nonce N out. */
static void
test_cmd_ForgeryDoesNotEnterReplayWindow(void **state)
{
	struct fixture *f = *state;
	struct spec s = default_spec();

	s.signer = &mallory;
	assert_reason(check_spec(f, &s, NOW), CMD_BAD_SIGNATURE);
	assert_reason(check_spec(f, &s, NOW), CMD_BAD_SIGNATURE); /* still not a replay */
	s.signer = &alice;
	assert_reason(check_spec(f, &s, NOW), CMD_OK);
	assert_reason(check_spec(f, &s, NOW), CMD_REPLAY);
}

/* ---- a key's validity and schedule ---------------------------------------------------------- */

/* Tuesday 2026-11-24 00:00:00 UTC, the day NOW is in (19:14:39). */
#define TUE0 (NOW - (19 * 3600 + 14 * 60 + 39))

/* The keyring of setup(), and carol, mallory's key pair, with OPTIONS on her line. */
static void
set_carol(struct fixture *f, const char *options)
{
	char text[1024], a64[64], b64[64], c64[64], err[256];

	sodium_bin2base64(a64, sizeof(a64), alice.pk, sizeof(alice.pk),
	                  sodium_base64_VARIANT_ORIGINAL);
	sodium_bin2base64(b64, sizeof(b64), bob.pk, sizeof(bob.pk), sodium_base64_VARIANT_ORIGINAL);
	sodium_bin2base64(c64, sizeof(c64), mallory.pk, sizeof(mallory.pk),
	                  sodium_base64_VARIANT_ORIGINAL);
	snprintf(text, sizeof(text),
	         "ed25519 %s alice\ned25519 %s bob actions=open doors=side\n"
	         "ed25519 %s carol %s\n",
	         a64, b64, c64, options);
	if (cmd_keys_parse(&f->ring, text, strlen(text), err, sizeof(err)) != 0)
		fail_msg("carol's line \"%s\": %s", options, err);
}

/*
 * carol's signed "open main" stamped ts, judged at the device's time now (the UTC calendar),
 * each with a nonce of its own and a verifier that has seen no later time.
 */
static enum cmd_reason
carol_at(struct fixture *f, int64_t ts, int64_t now)
{
	static uint32_t count;
	struct spec s = default_spec();
	char nonce[16];

	nonce_text(nonce, 0x10000 + count++);
	s.kid = "carol";
	s.signer = &mallory;
	s.ts = ts;
	s.nonce = nonce;
	f->v.latest = 0;
	return check_spec(f, &s, now);
}

/* not_before and not_after, both seconds inside, by the device's time. */
static void
test_cmd_KeyValidityWindow(void **state)
{
	struct fixture *f = *state;

	set_carol(f, "not_before=2026-11-24T19:14:40Z"); /* NOW + 1 */
	assert_reason(carol_at(f, NOW, NOW), CMD_KEY_NOT_YET_VALID);
	assert_reason(carol_at(f, NOW + 1, NOW + 1), CMD_OK);
	assert_reason(carol_at(f, NOW + 2, NOW + 2), CMD_OK);

	set_carol(f, "not_after=2026-11-24T19:14:39Z"); /* NOW */
	assert_reason(carol_at(f, NOW - 1, NOW - 1), CMD_OK);
	assert_reason(carol_at(f, NOW, NOW), CMD_OK);
	assert_reason(carol_at(f, NOW + 1, NOW + 1), CMD_KEY_EXPIRED);
	assert_reason(carol_at(f, NOW + 3600, NOW + 3600), CMD_KEY_EXPIRED);

	set_carol(f, "not_before=2026-11-24T19:14:39Z not_after=2026-11-24T19:14:39Z");
	assert_reason(carol_at(f, NOW - 1, NOW - 1), CMD_KEY_NOT_YET_VALID);
	assert_reason(carol_at(f, NOW, NOW), CMD_OK);
	assert_reason(carol_at(f, NOW + 1, NOW + 1), CMD_KEY_EXPIRED);

	/* alice and bob have no limits and never meet these reasons. */
	assert_reason(check_spec(f,
	                         &(struct spec){DEVICE, "main", "open", NOW + 7200, "alice-lateA",
	                                        "alice", &alice},
	                         NOW + 7200),
	              CMD_OK);
}

/* The device's time decides, not the ts the sender wrote. */
static void
test_cmd_KeyValidityByDeviceTimeNotTs(void **state)
{
	struct fixture *f = *state;

	set_carol(f, "not_after=2026-11-24T19:14:39Z");
	/* A ts from before the end, inside the time window, at a device time after it. */
	assert_reason(carol_at(f, NOW - 10, NOW + 5), CMD_KEY_EXPIRED);
	set_carol(f, "not_before=2026-11-24T19:14:39Z");
	/* A ts at the start, sent a second early by a sender whose clock is ahead. */
	assert_reason(carol_at(f, NOW + 10, NOW - 1), CMD_KEY_NOT_YET_VALID);
	assert_reason(carol_at(f, NOW + 10, NOW), CMD_OK);
}

/* A clock set back does not make an expired key valid again: the latest time seen decides. */
static void
test_cmd_KeyExpiryNotUndoneByClockSetBack(void **state)
{
	struct fixture *f = *state;
	struct spec s = default_spec();
	struct spec c = default_spec();

	set_carol(f, "not_after=2026-11-24T19:14:39Z");
	s.ts = NOW + 100;
	s.nonce = "alice-later0";
	assert_reason(check_spec(f, &s, NOW + 100), CMD_OK);
	c.kid = "carol";
	c.signer = &mallory;
	/* The clock now says NOW again, and carol's command is stamped NOW. */
	assert_reason(check_spec(f, &c, NOW), CMD_KEY_EXPIRED);
}

static void
test_cmd_KeyDays(void **state)
{
	struct fixture *f = *state;

	/* NOW is a Tuesday. */
	set_carol(f, "days=tue");
	assert_reason(carol_at(f, NOW, NOW), CMD_OK);
	set_carol(f, "days=sun,mon,wed,thu,fri,sat");
	assert_reason(carol_at(f, NOW, NOW), CMD_KEY_OFF_HOURS);
	set_carol(f, "days=mon,tue,wed,thu,fri,sat,sun");
	assert_reason(carol_at(f, NOW, NOW), CMD_OK);
	/* The last second of Tuesday and the first of Wednesday. */
	f->v.start_time = 0;
	set_carol(f, "days=tue");
	assert_reason(carol_at(f, TUE0 + 86399, TUE0 + 86399), CMD_OK);
	assert_reason(carol_at(f, TUE0 + 86400, TUE0 + 86400), CMD_KEY_OFF_HOURS);
	assert_reason(carol_at(f, TUE0, TUE0), CMD_OK);
	assert_reason(carol_at(f, TUE0 - 1, TUE0 - 1), CMD_KEY_OFF_HOURS);
}

static void
test_cmd_KeyHours(void **state)
{
	struct fixture *f = *state;

	/* NOW is minute 19:14 (and 39 s). */
	set_carol(f, "hours=19:14-19:15");
	assert_reason(carol_at(f, NOW, NOW), CMD_OK);
	set_carol(f, "hours=19:00-19:14");
	assert_reason(carol_at(f, NOW, NOW), CMD_KEY_OFF_HOURS);
	set_carol(f, "hours=19:15-20:00");
	assert_reason(carol_at(f, NOW, NOW), CMD_KEY_OFF_HOURS);
	/* Wrapping spans: all but minute 19:14, and only 19:14 to midnight and the morning. */
	set_carol(f, "hours=19:15-19:14");
	assert_reason(carol_at(f, NOW, NOW), CMD_KEY_OFF_HOURS);
	set_carol(f, "hours=19:14-19:13");
	assert_reason(carol_at(f, NOW, NOW), CMD_OK);

	/* 22:00-06:00 on Tuesday, minute by minute at its ends. */
	f->v.start_time = 0;
	set_carol(f, "hours=22:00-06:00");
	assert_reason(carol_at(f, TUE0 + 22 * 3600 - 1, TUE0 + 22 * 3600 - 1), CMD_KEY_OFF_HOURS);
	assert_reason(carol_at(f, TUE0 + 22 * 3600, TUE0 + 22 * 3600), CMD_OK);
	assert_reason(carol_at(f, TUE0 + 86399, TUE0 + 86399), CMD_OK);
	assert_reason(carol_at(f, TUE0 + 86400, TUE0 + 86400), CMD_OK);
	assert_reason(carol_at(f, TUE0 + 6 * 3600 - 1, TUE0 + 6 * 3600 - 1), CMD_OK);
	assert_reason(carol_at(f, TUE0 + 6 * 3600, TUE0 + 6 * 3600), CMD_KEY_OFF_HOURS);
	assert_reason(carol_at(f, TUE0 + 12 * 3600, TUE0 + 12 * 3600), CMD_KEY_OFF_HOURS);
}

/*
 * days= and hours= are both judged at the moment of the command: hours=22:00-06:00 days=tue
 * is Tuesday's early morning and Tuesday's late evening, not the night into Wednesday.
 */
static void
test_cmd_KeyDaysWithWrappingHours(void **state)
{
	struct fixture *f = *state;

	f->v.start_time = 0;
	set_carol(f, "days=tue hours=22:00-06:00");
	assert_reason(carol_at(f, TUE0 + 5 * 3600, TUE0 + 5 * 3600), CMD_OK);
	assert_reason(carol_at(f, TUE0 + 23 * 3600, TUE0 + 23 * 3600), CMD_OK);
	assert_reason(carol_at(f, TUE0 + 86400 + 3600, TUE0 + 86400 + 3600), CMD_KEY_OFF_HOURS);
	assert_reason(carol_at(f, TUE0 - 3600, TUE0 - 3600), CMD_KEY_OFF_HOURS);
	set_carol(f, "days=tue,wed hours=22:00-06:00");
	assert_reason(carol_at(f, TUE0 + 86400 + 3600, TUE0 + 86400 + 3600), CMD_OK);
	assert_reason(carol_at(f, TUE0 + 86400 + 6 * 3600, TUE0 + 86400 + 6 * 3600),
	              CMD_KEY_OFF_HOURS);
}

/* A caller that cannot tell the local time gives a calendar out of range: schedules fail closed. */
static void
test_cmd_KeyScheduleWithoutLocalTime(void **state)
{
	struct fixture *f = *state;
	struct spec s = default_spec();
	char buf[CMD_MAX_PAYLOAD + 1];
	struct cmd_now bad_day = at(NOW), bad_minute = at(NOW);
	size_t n;

	bad_day.wday = 7;
	bad_minute.minute = 24 * 60;
	s.kid = "carol";
	s.signer = &mallory;
	set_carol(f, "days=mon,tue,wed,thu,fri,sat,sun");
	n = build(buf, sizeof(buf), &s);
	assert_reason(cmd_check(&f->v, "main", (const uint8_t *)buf, n, false, bad_day, NULL),
	              CMD_KEY_OFF_HOURS);
	assert_reason(cmd_check(&f->v, "main", (const uint8_t *)buf, n, false, bad_minute, NULL),
	              CMD_OK);
	set_carol(f, "hours=00:00-23:59");
	s.nonce = "carol-nonce2";
	n = build(buf, sizeof(buf), &s);
	assert_reason(cmd_check(&f->v, "main", (const uint8_t *)buf, n, false, bad_minute, NULL),
	              CMD_KEY_OFF_HOURS);
	assert_reason(cmd_check(&f->v, "main", (const uint8_t *)buf, n, false, bad_day, NULL),
	              CMD_OK);
	/* A key without a schedule does not look at the calendar at all. */
	set_carol(f, "not_after=2026-12-31T23:59:59Z");
	s.nonce = "carol-nonce3";
	n = build(buf, sizeof(buf), &s);
	bad_day.minute = 60000;
	assert_reason(cmd_check(&f->v, "main", (const uint8_t *)buf, n, false, bad_day, NULL),
	              CMD_OK);
}

/*
 * The key's limits come after its permissions and before the time window, and like every
 * cheap check before the signature: a forbidden and expired key is forbidden, an expired key
 * with a stale command is expired, and no refusal of the key's limits costs a verification.
 */
static void
test_cmd_KeyLimitsInTheCheckOrder(void **state)
{
	struct fixture *f = *state;
	struct spec s = default_spec();
	char sig[CMD_SIG_LEN * 2];
	char buf[CMD_MAX_PAYLOAD + 1];
	size_t n;

	s.kid = "carol";
	s.signer = &mallory;
	set_carol(f, "actions=close not_after=2026-11-24T19:14:38Z");
	assert_reason(check_spec(f, &s, NOW), CMD_FORBIDDEN);
	set_carol(f, "doors=side days=mon");
	assert_reason(check_spec(f, &s, NOW), CMD_FORBIDDEN);

	verify_calls = 0;
	set_carol(f, "not_after=2026-11-24T19:14:38Z");
	s.ts = NOW - 3600;
	assert_reason(check_spec(f, &s, NOW), CMD_KEY_EXPIRED);
	s.ts = NOW + 3600;
	assert_reason(check_spec(f, &s, NOW), CMD_KEY_EXPIRED);
	set_carol(f, "not_before=2026-11-24T19:14:40Z");
	assert_reason(check_spec(f, &s, NOW), CMD_KEY_NOT_YET_VALID);
	set_carol(f, "hours=01:00-02:00");
	assert_reason(check_spec(f, &s, NOW), CMD_KEY_OFF_HOURS);
	/* A forged signature is not even looked at. */
	s.ts = NOW;
	sign_spec(&s, sig);
	sig[0] = sig[0] == 'A' ? 'B' : 'A';
	n = build_with_sig(buf, sizeof(buf), &s, sig);
	assert_reason(check(f, "main", buf, n, NOW, NULL), CMD_KEY_OFF_HOURS);
	assert_int_equal(verify_calls, 0);

	/* A replayed command of a key that has since expired says so, not replay. */
	set_carol(f, "not_after=2026-11-24T19:14:39Z");
	s.nonce = "carol-onceAA";
	assert_reason(check_spec(f, &s, NOW), CMD_OK);
	assert_reason(check_spec(f, &s, NOW), CMD_REPLAY);
	assert_reason(check_spec(f, &s, NOW + 1), CMD_KEY_EXPIRED);
}

/* cmd_key_valid_at() on its own, at each boundary of each limit. */
static void
test_cmd_KeyValidAt(void **state)
{
	struct cmd_key k;
	struct cmd_now t = {.unix_time = 1000, .wday = 3, .minute = 600};

	(void)state;
	memset(&k, 0, sizeof(k));
	assert_reason(cmd_key_valid_at(&k, t), CMD_OK);
	t.wday = 200;
	t.minute = 65535;
	t.unix_time = INT64_MIN;
	assert_reason(cmd_key_valid_at(&k, t), CMD_OK);
	t.unix_time = INT64_MAX;
	assert_reason(cmd_key_valid_at(&k, t), CMD_OK);

	k.has_not_before = true;
	k.not_before = 1000;
	k.has_not_after = true;
	k.not_after = 2000;
	t = (struct cmd_now){.unix_time = 999, .wday = 3, .minute = 600};
	assert_reason(cmd_key_valid_at(&k, t), CMD_KEY_NOT_YET_VALID);
	t.unix_time = 1000;
	assert_reason(cmd_key_valid_at(&k, t), CMD_OK);
	t.unix_time = 2000;
	assert_reason(cmd_key_valid_at(&k, t), CMD_OK);
	t.unix_time = 2001;
	assert_reason(cmd_key_valid_at(&k, t), CMD_KEY_EXPIRED);
	t.unix_time = INT64_MIN;
	assert_reason(cmd_key_valid_at(&k, t), CMD_KEY_NOT_YET_VALID);
	t.unix_time = INT64_MAX;
	assert_reason(cmd_key_valid_at(&k, t), CMD_KEY_EXPIRED);

	t.unix_time = 1500;
	k.days = 1U << 3;
	assert_reason(cmd_key_valid_at(&k, t), CMD_OK);
	for (unsigned int d = 0; d < 256; d++) {
		t.wday = (uint8_t)d;
		assert_reason(cmd_key_valid_at(&k, t), d == 3 ? CMD_OK : CMD_KEY_OFF_HOURS);
	}
	t.wday = 3;
	k.has_hours = true;
	k.hours_from = 600;
	k.hours_to = 601;
	for (unsigned int m = 0; m < 2000; m++) {
		t.minute = (uint16_t)m;
		assert_reason(cmd_key_valid_at(&k, t), m == 600 ? CMD_OK : CMD_KEY_OFF_HOURS);
	}
	k.hours_from = 1439;
	k.hours_to = 0;
	for (unsigned int m = 0; m < 2000; m++) {
		t.minute = (uint16_t)m;
		assert_reason(cmd_key_valid_at(&k, t), m == 1439 ? CMD_OK : CMD_KEY_OFF_HOURS);
	}
	k.hours_from = 1;
	k.hours_to = 0;
	for (unsigned int m = 0; m < 2000; m++) {
		t.minute = (uint16_t)m;
		assert_reason(cmd_key_valid_at(&k, t),
		              m >= 1 && m < 1440 ? CMD_OK : CMD_KEY_OFF_HOURS);
	}
}

/* A key removed from authorized_keys (SIGHUP) is unknown from the next command on. */
static void
test_cmd_RevokedKeyRefused(void **state)
{
	struct fixture *f = *state;
	struct spec s = default_spec();
	char text[128];
	char b64[64];
	char err[128];

	sodium_bin2base64(b64, sizeof(b64), bob.pk, sizeof(bob.pk), sodium_base64_VARIANT_ORIGINAL);
	snprintf(text, sizeof(text), "ed25519 %s bob actions=open doors=side\n", b64);
	assert_int_equal(cmd_keys_parse(&f->ring, text, strlen(text), err, sizeof(err)), 0);
	assert_reason(check_spec(f, &s, NOW), CMD_UNKNOWN_KEY);
}

/* "HH:MM" of UTC at t, into buf. */
static void
hm_of(char buf[6], int64_t t)
{
	struct cmd_now n = at(t);

	snprintf(buf, 6, "%02u:%02u", (unsigned)(n.minute / 60) % 24, (unsigned)n.minute % 60);
}

/*
 * With the clock set back, days= and hours= follow the time the verifier judges by (the latest
 * seen), as not_before= and not_after= do: the caller reads the calendar of
 * cmd_verifier_now(), and a calendar read for the clock set back is not trusted.
 */
static void
test_cmd_ScheduleFollowsTheVerifiersTime(void **state)
{
	struct fixture *f = *state;
	struct spec s = default_spec();
	char a64[64], text[256], from[6], to[6], err[128];
	const int64_t back = NOW - 7200; /* the clock, two hours behind the latest time seen */

	assert_int_equal(cmd_verifier_now(&f->v, NOW), NOW);
	cmd_verifier_start(&f->v, START, NOW);
	assert_int_equal(cmd_verifier_now(&f->v, back), NOW);
	assert_int_equal(cmd_verifier_now(&f->v, NOW + 5), NOW + 5);
	assert_int_equal(f->v.latest, NOW); /* asking changes nothing */

	/* The walker's hours ended an hour before the latest time seen, and held at the clock's. */
	sodium_bin2base64(a64, sizeof(a64), alice.pk, sizeof(alice.pk),
	                  sodium_base64_VARIANT_ORIGINAL);
	hm_of(from, NOW - 3 * 3600);
	hm_of(to, NOW - 3600);
	snprintf(text, sizeof(text), "ed25519 %s alice hours=%s-%s\n", a64, from, to);
	assert_int_equal(cmd_keys_parse(&f->ring, text, strlen(text), err, sizeof(err)), 0);
	s.ts = NOW;

	/* The calendar of the verifier's time: off hours, as with the clock right. */
	s.nonce = "sched-nonce1";
	{
		char buf[CMD_MAX_PAYLOAD + 1];
		size_t n = build(buf, sizeof(buf), &s);

		assert_reason(cmd_check(&f->v, "main", (const uint8_t *)buf, n, false,
		                        at(cmd_verifier_now(&f->v, back)), NULL),
		              CMD_KEY_OFF_HOURS);
		/* A calendar read for the clock set back (inside the hours) is not trusted. */
		assert_reason(
		    cmd_check(&f->v, "main", (const uint8_t *)buf, n, false, at(back), NULL),
		    CMD_KEY_OFF_HOURS);
		assert_int_equal(cmd_verifier_time(&f->v, at(back)).unix_time, NOW);
		assert_int_equal(cmd_verifier_time(&f->v, at(back)).wday, 7);
		assert_int_equal(cmd_verifier_time(&f->v, at(NOW)).minute, at(NOW).minute);
	}

	/* Hours around the latest time seen: obeyed with the clock still behind. */
	hm_of(from, NOW - 3600);
	hm_of(to, NOW + 3600);
	snprintf(text, sizeof(text), "ed25519 %s alice hours=%s-%s\n", a64, from, to);
	assert_int_equal(cmd_keys_parse(&f->ring, text, strlen(text), err, sizeof(err)), 0);
	{
		char buf[CMD_MAX_PAYLOAD + 1];
		size_t n = build(buf, sizeof(buf), &s);

		assert_reason(cmd_check(&f->v, "main", (const uint8_t *)buf, n, false,
		                        at(cmd_verifier_now(&f->v, back)), NULL),
		              CMD_OK);
	}
}

/* ---- the window's capacity ---------------------------------------------------------------- */

/* A full ring of keys k0 ... k31 that may do anything, each with its own key pair. */
static struct keypair many[CMD_MAX_KEYS];
static char many_kid[CMD_MAX_KEYS][8];

static void
make_full_ring(struct fixture *f)
{
	char *text = test_malloc(CMD_MAX_KEYS * 128);
	char b64[64], err[128];
	size_t len = 0;

	for (size_t i = 0; i < CMD_MAX_KEYS; i++) {
		sodium_bin2base64(b64, sizeof(b64), many[i].pk, sizeof(many[i].pk),
		                  sodium_base64_VARIANT_ORIGINAL);
		len += (size_t)snprintf(text + len, CMD_MAX_KEYS * 128 - len, "ed25519 %s %s\n",
		                        b64, many_kid[i]);
	}
	if (cmd_keys_parse(&f->ring, text, len, err, sizeof(err)) != 0)
		fail_msg("ring: %s", err);
	test_free(text);
}

/*
 * One key holder's flood of valid commands fills its own share of the window and no more: its
 * next command is verified, then refused as rate_limited, while every other key still has the
 * room of a whole share. This is what keeps the owner able to revoke a key that floods.
 */
static void
test_cmd_KeyShareIsRateLimited(void **state)
{
	const uint32_t early = CMD_REPLAY_PER_KEY / 2;
	struct fixture *f = *state;
	struct spec s = default_spec();
	char nonce[16];

	s.nonce = nonce;
	for (uint32_t i = 0; i < CMD_REPLAY_PER_KEY; i++) {
		nonce_text(nonce, i);
		s.ts = i < early ? NOW - SKEW : NOW + SKEW;
		assert_reason(check_spec(f, &s, NOW), CMD_OK);
	}
	nonce_text(nonce, CMD_REPLAY_PER_KEY);
	verify_calls = 0;
	assert_reason(check_spec(f, &s, NOW), CMD_RATE_LIMITED);
	assert_int_equal(verify_calls, 1);
	/* Not remembered, so refused the same way again; its earlier ones are still replays. */
	assert_reason(check_spec(f, &s, NOW), CMD_RATE_LIMITED);
	nonce_text(nonce, 0);
	s.ts = NOW - SKEW;
	assert_reason(check_spec(f, &s, NOW), CMD_REPLAY);

	/* Another key is not touched by alice's share: bob opens the side door. */
	s = default_spec();
	s.kid = "bob";
	s.signer = &bob;
	s.door = "side";
	s.nonce = "bobs-nonce00";
	assert_reason(check_spec(f, &s, NOW), CMD_OK);

	/* One second on, alice's early ones have left the time window: her share has room. */
	s = default_spec();
	s.nonce = nonce;
	s.ts = NOW + 1;
	for (uint32_t i = 0; i < early; i++) {
		nonce_text(nonce, 100 + i);
		assert_reason(check_spec(f, &s, NOW + 1), CMD_OK);
	}
	nonce_text(nonce, 200);
	assert_reason(check_spec(f, &s, NOW + 1), CMD_RATE_LIMITED);
}

/*
 * Every key of a full ring at its share at once still leaves room: the shares fit the window
 * (core_config.h's _Static_assert), so no set of keys can starve another.
 */
static void
test_cmd_SharesOfAFullRingFitTheWindow(void **state)
{
	struct fixture *f = *state;
	struct spec s = default_spec();
	char nonce[16];

	make_full_ring(f);
	s.nonce = nonce;
	s.ts = NOW;
	for (uint32_t k = 0; k < CMD_MAX_KEYS; k++) {
		s.kid = many_kid[k];
		s.signer = &many[k];
		for (uint32_t i = 0; i < CMD_REPLAY_PER_KEY; i++) {
			nonce_text(nonce, k * 1000 + i);
			assert_reason(check_spec(f, &s, NOW), CMD_OK);
		}
		nonce_text(nonce, k * 1000 + CMD_REPLAY_PER_KEY);
		assert_reason(check_spec(f, &s, NOW), CMD_RATE_LIMITED);
	}
	assert_true(CMD_MAX_KEYS * CMD_REPLAY_PER_KEY <= CMD_REPLAY_SLOTS - 1);
}

/*
 * The window itself can still be full: the nonces put back after a restart count for no key's
 * share (the state file does not say whose they were). A full window refuses a new valid
 * command rather than evict a live nonce, until the restored ones leave the time window.
 */
static void
test_cmd_FullWindowIsRateLimited(void **state)
{
	/* One slot always stays empty, so that every probe of the table ends. */
	const uint32_t cap = CMD_REPLAY_SLOTS - 1;
	const uint32_t early = CMD_REPLAY_SLOTS / 2;
	struct fixture *f = *state;
	struct spec s = default_spec();
	uint8_t raw[8] = {'r', 'e', 's', 't', 0, 0, 0, 0};
	char nonce[16];

	cmd_verifier_start(&f->v, START, NOW);
	/* Some early in the skew, the rest late: every one of them live at NOW. */
	for (uint32_t i = 0; i < cap; i++) {
		raw[6] = (uint8_t)(i >> 8);
		raw[7] = (uint8_t)i;
		assert_true(
		    cmd_verifier_remember(&f->v, raw, sizeof(raw), i < early ? NOW - SKEW : NOW));
	}
	raw[6] = raw[7] = 0xff;
	assert_false(cmd_verifier_remember(&f->v, raw, sizeof(raw), NOW));

	/* A new valid command: verified, then refused rather than evict a live nonce. */
	s.nonce = nonce;
	nonce_text(nonce, 1);
	s.ts = NOW;
	verify_calls = 0;
	assert_reason(check_spec(f, &s, NOW), CMD_RATE_LIMITED);
	assert_int_equal(verify_calls, 1);
	assert_reason(check_spec(f, &s, NOW), CMD_RATE_LIMITED);
	/* A forgery is still a forgery. */
	s.signer = &mallory;
	assert_reason(check_spec(f, &s, NOW), CMD_BAD_SIGNATURE);
	s.signer = &alice;

	/* One second on, the early ones can no longer pass the time check: room again. */
	s.ts = NOW + 1;
	assert_reason(check_spec(f, &s, NOW + 1), CMD_OK);
	nonce_text(nonce, 2);
	assert_reason(check_spec(f, &s, NOW + 1), CMD_OK);
}

/* xorshift64*, seeded, so that a failure repeats. */
static uint64_t
rng(uint64_t *st)
{
	*st ^= *st >> 12;
	*st ^= *st << 25;
	*st ^= *st >> 27;
	return *st * 0x2545f4914f6cdd1dULL;
}

/*
 * The window against the simplest possible model of it (every accepted nonce with its
 * timestamp and its key) over thousands of random commands from a full ring: fresh nonces
 * faster than they die, so that every share is full most of the time and dead entries fill
 * the table, are purged and live ones moved about constantly; replays of recently accepted
 * nonces, which must be found wherever the moving left them; time that mostly ticks and
 * sometimes jumps. Whatever the table does inside, its answers must be the model's.
 */
static void
test_cmd_ReplayWindowMatchesModel(void **state)
{
	enum { STEPS = 12000 };
	struct fixture *f = *state;
	int64_t *model_ts = test_malloc(STEPS * sizeof(*model_ts)); /* by nonce; -1: never */
	uint8_t *model_key = test_malloc(STEPS * sizeof(*model_key));
	uint32_t *accepted = test_malloc(STEPS * sizeof(*accepted));
	size_t naccepted = 0;
	uint32_t fresh = 0;
	uint64_t seed = 0x5eed1234abcdULL;
	int64_t now = NOW;
	size_t reasons[CMD_RATE_LIMITED + 1] = {0};
	char nonce[16];

	make_full_ring(f);
	for (size_t i = 0; i < STEPS; i++)
		model_ts[i] = -1;
	for (int step = 0; step < STEPS; step++) {
		struct spec s = default_spec();
		uint32_t pick, key;
		int64_t oldest;
		size_t live = 0, share = 0;
		enum cmd_reason want;
		enum cmd_reason got;

		if (rng(&seed) % 100 == 0)
			now += 1;
		else if (rng(&seed) % 2000 == 0)
			now += (int64_t)(rng(&seed) % 100);
		/* Half the time, one of the last 1500 accepted nonces comes again, by its key. */
		if (naccepted > 0 && rng(&seed) % 2 == 0) {
			size_t back = (size_t)(rng(&seed) % (naccepted < 1500 ? naccepted : 1500));

			pick = accepted[naccepted - 1 - back];
			key = model_key[pick];
		} else {
			pick = fresh++;
			key = (uint32_t)(rng(&seed) % CMD_MAX_KEYS);
		}
		s.ts = now - SKEW - 1 + (int64_t)(rng(&seed) % (2 * SKEW + 3));
		nonce_text(nonce, pick);
		s.nonce = nonce;
		s.kid = many_kid[key];
		s.signer = &many[key];

		oldest = now - SKEW > START ? now - SKEW : START;
		for (size_t i = 0; i < naccepted; i++) {
			live += model_ts[accepted[i]] >= oldest;
			share += model_ts[accepted[i]] >= oldest && model_key[accepted[i]] == key;
		}
		if (s.ts < now - (int64_t)SKEW)
			want = CMD_STALE;
		else if (s.ts > now + (int64_t)SKEW)
			want = CMD_FUTURE;
		else if (model_ts[pick] >= oldest)
			want = CMD_REPLAY;
		else if (share == CMD_REPLAY_PER_KEY || live == CMD_REPLAY_SLOTS - 1)
			want = CMD_RATE_LIMITED;
		else
			want = CMD_OK;

		got = check_spec(f, &s, now);
		if (got != want)
			fail_msg(
			    "step %d (nonce %u, key %u, ts now%+lld, %zu live, %zu of its key): "
			    "%s, want %s",
			    step, pick, key, (long long)(s.ts - now), live, share,
			    cmd_reason_name(got), cmd_reason_name(want));
		if (got == CMD_OK) {
			if (model_ts[pick] == -1)
				accepted[naccepted++] = pick;
			model_ts[pick] = s.ts;
			model_key[pick] = (uint8_t)key;
		}
		reasons[got]++;
	}
	/* The run went through every case it is meant to test, not just the easy one. */
	assert_true(reasons[CMD_OK] > 2000);
	assert_true(reasons[CMD_REPLAY] > 1000);
	assert_true(reasons[CMD_RATE_LIMITED] > 1000);
	assert_true(reasons[CMD_STALE] > 50);
	assert_true(reasons[CMD_FUTURE] > 50);
	test_free(accepted);
	test_free(model_key);
	test_free(model_ts);
}

/* ---- what a rejection can still say ------------------------------------------------------- */

static void
test_cmd_OutFilledAsFarAsParsed(void **state)
{
	static const struct {
		const char *name;
		const char *tpl;
		bool retained;
		enum cmd_reason want;
		const char *door;
		bool has_action;
		int64_t ts;
		const char *kid;
	} rows[] = {
	    {"accepted", BASE, false, CMD_OK, "main", true, NOW, "alice"},
	    {"retained", BASE, true, CMD_RETAINED, "", false, 0, ""},
	    {"not JSON", "door=main kid=alice", false, CMD_MALFORMED, "", false, 0, ""},
	    {"trailing byte", BASE " ", false, CMD_MALFORMED, "", false, 0, ""},
	    {"unknown kid",
	     "{\"v\":1,\"door\":\"main\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE\","
	     "\"kid\":\"mallory\",\"sig\":\"$SIG\"}",
	     false, CMD_UNKNOWN_KEY, "main", true, NOW, "mallory"},
	    {"unknown door",
	     "{\"v\":1,\"door\":\"garden\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE\","
	     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
	     false, CMD_UNKNOWN_DOOR, "garden", true, NOW, "alice"},
	    {"stale",
	     "{\"v\":1,\"door\":\"main\",\"action\":\"open\",\"ts\":1,\"nonce\":\"$NONCE\","
	     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
	     false, CMD_STALE, "main", true, 1, "alice"},
	    {"bad nonce",
	     "{\"v\":1,\"door\":\"main\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"x\","
	     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
	     false, CMD_MALFORMED, "main", true, NOW, "alice"},
	    {"bad sig",
	     "{\"v\":1,\"door\":\"main\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE\","
	     "\"kid\":\"alice\",\"sig\":\"x\"}",
	     false, CMD_MALFORMED, "main", true, NOW, "alice"},
	    {"v = 2",
	     "{\"v\":2,\"door\":\"main\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE\","
	     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
	     false, CMD_MALFORMED, "main", true, NOW, "alice"},
	    {"extra field",
	     "{\"v\":1,\"door\":\"main\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE\","
	     "\"kid\":\"alice\",\"sig\":\"$SIG\",\"x\":1}",
	     false, CMD_MALFORMED, "main", true, NOW, "alice"},
	    {"bad door",
	     "{\"v\":1,\"door\":\"Main\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE\","
	     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
	     false, CMD_MALFORMED, "", true, NOW, "alice"},
	    {"bad action",
	     "{\"v\":1,\"door\":\"main\",\"action\":\"fly\",\"ts\":$TS,\"nonce\":\"$NONCE\","
	     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
	     false, CMD_MALFORMED, "main", false, NOW, "alice"},
	    {"bad ts",
	     "{\"v\":1,\"door\":\"main\",\"action\":\"open\",\"ts\":\"$TS\",\"nonce\":\"$NONCE\","
	     "\"kid\":\"alice\",\"sig\":\"$SIG\"}",
	     false, CMD_MALFORMED, "main", true, 0, "alice"},
	    {"bad kid",
	     "{\"v\":1,\"door\":\"main\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE\","
	     "\"kid\":\"a b\",\"sig\":\"$SIG\"}",
	     false, CMD_MALFORMED, "main", true, NOW, ""},
	    /* A field given twice says nothing reliable: it is left empty. */
	    {"door twice",
	     "{\"v\":1,\"door\":\"main\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE\","
	     "\"kid\":\"alice\",\"sig\":\"$SIG\",\"door\":\"side\"}",
	     false, CMD_MALFORMED, "", true, NOW, "alice"},
	    {"kid twice",
	     "{\"v\":1,\"door\":\"main\",\"action\":\"open\",\"ts\":$TS,\"nonce\":\"$NONCE\","
	     "\"kid\":\"alice\",\"sig\":\"$SIG\",\"kid\":\"bob\"}",
	     false, CMD_MALFORMED, "main", true, NOW, ""},
	};
	struct fixture *f = *state;
	char buf[1024];
	struct cmd out;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		size_t n = expand(buf, sizeof(buf), rows[i].tpl);
		enum cmd_reason got;

		/* Stale data in *out must never survive into the answer. */
		memset(&out, 0x5a, sizeof(out));
		memset(f->v.replay, 0, sizeof(f->v.replay));
		got = cmd_check(&f->v, "main", (const uint8_t *)buf, n, rows[i].retained, at(NOW),
		                &out);
		if (got != rows[i].want)
			fail_msg("%s: %s, want %s", rows[i].name, cmd_reason_name(got),
			         cmd_reason_name(rows[i].want));
		if (strcmp(out.door, rows[i].door) != 0 || strcmp(out.kid, rows[i].kid) != 0 ||
		    out.has_action != rows[i].has_action || out.ts != rows[i].ts)
			fail_msg("%s: door \"%s\" kid \"%s\" has_action %d ts %lld", rows[i].name,
			         out.door, out.kid, out.has_action, (long long)out.ts);
		if (out.has_action)
			assert_int_equal(out.action, CMD_ACTION_OPEN);
	}
}

/* ---- defensive edges ---------------------------------------------------------------------- */

static void
test_cmd_FailsClosedOnMissingPieces(void **state)
{
	struct fixture *f = *state;
	char buf[1024];
	size_t n = expand(buf, sizeof(buf), BASE);

	f->v.verify = NULL;
	assert_reason(check(f, "main", buf, n, NOW, NULL), CMD_BAD_SIGNATURE);
	f->v.verify = counting_verify;
	f->v.keys = NULL;
	assert_reason(check(f, "main", buf, n, NOW, NULL), CMD_UNKNOWN_KEY);
	f->v.keys = &f->ring;
	f->v.ndoors = 0;
	assert_reason(check(f, "main", buf, n, NOW, NULL), CMD_UNKNOWN_DOOR);
	f->v.ndoors = 2;
	assert_reason(cmd_check(NULL, "main", (const uint8_t *)buf, n, false, at(NOW), NULL),
	              CMD_UNKNOWN_DOOR);
	assert_reason(cmd_check(&f->v, "main", NULL, 0, false, at(NOW), NULL), CMD_MALFORMED);
	assert_reason(cmd_check(&f->v, "main", NULL, 10, false, at(NOW), NULL), CMD_MALFORMED);
	assert_reason(cmd_check(&f->v, NULL, (const uint8_t *)buf, n, false, at(NOW), NULL),
	              CMD_UNKNOWN_DOOR);
	/* A device id that is not NUL-terminated cannot be what anybody signed for. */
	memset(f->v.device_id, 'g', sizeof(f->v.device_id));
	assert_reason(check(f, "main", buf, n, NOW, NULL), CMD_BAD_SIGNATURE);
	strcpy(f->v.device_id, DEVICE);
	assert_reason(check(f, "main", buf, n, NOW, NULL), CMD_OK);
}

/* A flood of commands refused by cheap checks costs no verification at all. */
static void
test_cmd_CheapRejectionsNeverVerify(void **state)
{
	struct fixture *f = *state;
	char buf[1024];
	size_t n = expand(buf, sizeof(buf), BASE);
	struct spec s = default_spec();

	assert_reason(check(f, "main", buf, n, NOW, NULL), CMD_OK);
	verify_calls = 0;
	for (int i = 0; i < 1000; i++) {
		assert_reason(check(f, "main", buf, n, NOW, NULL), CMD_REPLAY);
		assert_reason(
		    cmd_check(&f->v, "main", (const uint8_t *)buf, n, true, at(NOW), NULL),
		    CMD_RETAINED);
		assert_reason(check(f, "main", buf, n - 1, NOW, NULL), CMD_MALFORMED);
		assert_reason(check(f, "main", buf, 600, NOW, NULL), CMD_TOO_LARGE);
		assert_reason(check(f, "garden", buf, n, NOW, NULL), CMD_UNKNOWN_DOOR);
		assert_reason(check(f, "main", buf, n, NOW + 3600, NULL), CMD_STALE);
		f->v.latest = 0; /* a clock far behind, not one stepped back */
		assert_reason(check(f, "main", buf, n, NOW - 3600, NULL), CMD_FUTURE);
	}
	s.kid = "mallory";
	s.signer = &mallory;
	assert_reason(check_spec(f, &s, NOW), CMD_UNKNOWN_KEY);
	s.kid = "bob";
	assert_reason(check_spec(f, &s, NOW), CMD_FORBIDDEN);
	assert_int_equal(verify_calls, 0);
}

/* ---- helpers: signed text, names ---------------------------------------------------------- */

static void
test_cmd_SignedText(void **state)
{
	static const char want[] =
	    "garaged-cmd-v1\ngarage\nmain\nopen\n1795547679\nq83vEjRWeJA\nalice";
	char buf[CMD_SIGNED_TEXT_MAX];
	size_t n;

	(void)state;
	n = cmd_signed_text(buf, sizeof(buf), "garage", "main", CMD_ACTION_OPEN, NOW, NONCE,
	                    "alice");
	assert_int_equal(n, sizeof(want) - 1);
	assert_string_equal(buf, want);
	/* Exactly enough room for the text and its NUL, and one byte less. */
	assert_int_equal(cmd_signed_text(buf, sizeof(want), "garage", "main", CMD_ACTION_OPEN, NOW,
	                                 NONCE, "alice"),
	                 sizeof(want) - 1);
	assert_int_equal(cmd_signed_text(buf, sizeof(want) - 1, "garage", "main", CMD_ACTION_OPEN,
	                                 NOW, NONCE, "alice"),
	                 0);
	assert_int_equal(
	    cmd_signed_text(buf, 0, "garage", "main", CMD_ACTION_OPEN, NOW, NONCE, "alice"), 0);
	n = cmd_signed_text(buf, sizeof(buf), "d", "side", CMD_ACTION_TOGGLE, 0, "AAAAAAAAAAA",
	                    "k");
	assert_int_equal(n, strlen(buf));
	assert_string_equal(buf, "garaged-cmd-v1\nd\nside\ntoggle\n0\nAAAAAAAAAAA\nk");
	cmd_signed_text(buf, sizeof(buf), "d", "x", CMD_ACTION_STOP, INT64_MIN, "n", "k");
	assert_string_equal(buf, "garaged-cmd-v1\nd\nx\nstop\n-9223372036854775808\nn\nk");
	cmd_signed_text(buf, sizeof(buf), "d", "x", CMD_ACTION_CLOSE, INT64_MAX, "n", "k");
	assert_string_equal(buf, "garaged-cmd-v1\nd\nx\nclose\n9223372036854775807\nn\nk");
	assert_int_equal(cmd_signed_text(buf, sizeof(buf), NULL, "x", CMD_ACTION_OPEN, 1, "n", "k"),
	                 0);
	assert_int_equal(cmd_signed_text(buf, sizeof(buf), "d", "x", CMD_ACTION_COUNT, 1, "n", "k"),
	                 0);
	assert_int_equal(cmd_signed_text(NULL, 10, "d", "x", CMD_ACTION_OPEN, 1, "n", "k"), 0);
}

static void
test_cmd_Names(void **state)
{
	static const char *const reasons[] = {
	    "ok",
	    "malformed",
	    "too_large",
	    "unknown_key",
	    "forbidden",
	    "bad_signature",
	    "stale",
	    "future",
	    "replay",
	    "unknown_door",
	    "retained",
	    "rate_limited",
	    "key_not_yet_valid",
	    "key_expired",
	    "key_off_hours",
	};
	enum cmd_action a;

	(void)state;
	for (unsigned int r = 0; r < sizeof(reasons) / sizeof(reasons[0]); r++)
		assert_string_equal(cmd_reason_name((enum cmd_reason)r), reasons[r]);
	assert_string_equal(cmd_reason_name((enum cmd_reason)99), "unknown");
	assert_string_equal(cmd_action_name(CMD_ACTION_OPEN), "open");
	assert_string_equal(cmd_action_name(CMD_ACTION_CLOSE), "close");
	assert_string_equal(cmd_action_name(CMD_ACTION_STOP), "stop");
	assert_string_equal(cmd_action_name(CMD_ACTION_TOGGLE), "toggle");
	assert_string_equal(cmd_action_name(CMD_ACTION_COUNT), "unknown");

	assert_true(cmd_action_parse("toggle", 6, &a));
	assert_int_equal(a, CMD_ACTION_TOGGLE);
	assert_true(cmd_action_parse("stopped", 4, &a)); /* only len bytes are looked at */
	assert_int_equal(a, CMD_ACTION_STOP);
	assert_false(cmd_action_parse("stop", 5, &a));
	assert_false(cmd_action_parse("ope", 3, &a));
	assert_false(cmd_action_parse("OPEN", 4, &a));
	assert_false(cmd_action_parse("", 0, &a));
	assert_false(cmd_action_parse(NULL, 0, &a));
}

/* The charsets of device ids, door names and key ids, at their boundaries. */
static void
test_cmd_NameCharsets(void **state)
{
	static const char n33[] = "abcdefghijklmnopqrstuvwxyz0123456";
	static const char k65[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._@";
	char buf[CMD_NAME_MAX + 1];

	(void)state;
	assert_true(cmd_name_valid("main", 4));
	assert_true(cmd_name_valid("a_b-9", 5));
	assert_true(cmd_name_valid(n33, CMD_NAME_MAX));
	assert_false(cmd_name_valid(n33, CMD_NAME_MAX + 1));
	assert_false(cmd_name_valid("", 0));
	assert_false(cmd_name_valid("Main", 4));
	assert_false(cmd_name_valid("a.b", 3));
	assert_false(cmd_name_valid("a b", 3));
	assert_false(cmd_name_valid("a\nb", 3));
	assert_false(cmd_name_valid("a\0b", 3));

	assert_true(cmd_kid_valid("alice-phone", 11));
	assert_true(cmd_kid_valid("Bob.2@home_x", 12));
	assert_true(cmd_kid_valid(k65, CMD_KID_MAX));
	assert_false(cmd_kid_valid(k65, CMD_KID_MAX + 1));
	assert_false(cmd_kid_valid("", 0));
	assert_false(cmd_kid_valid("a b", 3));
	assert_false(cmd_kid_valid("a\nb", 3));
	assert_false(cmd_kid_valid("a/b", 3));

	cmd_name_copy(buf, "mainly", 4);
	assert_string_equal(buf, "main");
	assert_true(cmd_name_eq("main", 4, buf, sizeof(buf)));
	assert_true(cmd_name_eq("mainly", 4, buf, sizeof(buf)));
	assert_false(cmd_name_eq("mai", 3, buf, sizeof(buf)));
	assert_false(cmd_name_eq("mains", 5, buf, sizeof(buf)));
	/* A name as long as its buffer has no room for its NUL: it cannot be equal. */
	assert_false(cmd_name_eq("main", 4, buf, 4));
}

/* ---- fixture ------------------------------------------------------------------------------ */

static int
setup(void **state)
{
	static const char *const doors[] = {"main", "side"};
	char text[512];

	snprintf(text, sizeof(text),
	         "ed25519 %s alice\n"
	         "ed25519 %s bob actions=open doors=side\n",
	         pub_b64(alice.pk), pub_b64(bob.pk));
	return fixture_setup(state, text, doors, sizeof(doors) / sizeof(doors[0]));
}

/*
 * The test vector of docs/protocol.md: the page and the code must agree byte for byte. The key
 * is derived from the documented seed, the signed text is built by the core, the signature is
 * compared with the documented one, and the documented command is accepted as it stands.
 */
static void
test_cmd_ProtocolTestVector(void **state)
{
	static const char doc_pub_line[] =
	    "ed25519 A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg= alice-phone\n";
	static const char doc_text[] =
	    "garaged-cmd-v1\ngarage\nmain\nopen\n1795547679\nq83vEjRWeJA\nalice-phone";
	static const char doc_sig[] = "hO2AEZ9fuRy_E4-mstitp1letSMOG1J9l57GTgbZ_"
	                              "BzmOFCVudE75K5JJxJ2RloNmoqrEaj81GwQvFHS4zUiBw";
	static const char doc_cmd[] =
	    "{\"v\":1,\"door\":\"main\",\"action\":\"open\",\"ts\":1795547679,\"nonce\":"
	    "\"q83vEjRWeJA\",\"kid\":\"alice-phone\",\"sig\":\"hO2AEZ9fuRy_E4-"
	    "mstitp1letSMOG1J9l57GTgbZ_"
	    "BzmOFCVudE75K5JJxJ2RloNmoqrEaj81GwQvFHS4zUiBw\"}";
	static struct cmd_keyring ring;
	static struct cmd_verifier v;
	uint8_t seed[32], pk[32], sk[64], sig[64];
	char text[CMD_SIGNED_TEXT_MAX], sig_b64[128], err[128];
	struct cmd out;
	size_t n, i;

	(void)state;
	for (i = 0; i < sizeof(seed); i++)
		seed[i] = (uint8_t)i;
	assert_int_equal(crypto_sign_seed_keypair(pk, sk, seed), 0);

	/* The documented authorized_keys line holds exactly this public key. */
	memset(&ring, 0, sizeof(ring));
	assert_int_equal(
	    cmd_keys_parse(&ring, doc_pub_line, strlen(doc_pub_line), err, sizeof(err)), 0);
	assert_int_equal(ring.nkeys, 1);
	assert_memory_equal(ring.keys[0].pub, pk, 32);

	/* The documented signed text is what the core builds, and its signature is the one shown.
	 */
	n = cmd_signed_text(text, sizeof(text), "garage", "main", CMD_ACTION_OPEN, 1795547679,
	                    "q83vEjRWeJA", "alice-phone");
	assert_int_equal(n, strlen(doc_text));
	assert_memory_equal(text, doc_text, n);
	crypto_sign_detached(sig, NULL, (const uint8_t *)text, n, sk);
	assert_true(base64_encode(BASE64_URL_UNPADDED, sig, sizeof(sig), sig_b64, sizeof(sig_b64)) >
	            0);
	assert_string_equal(sig_b64, doc_sig);

	/* And the documented command is accepted by a device "garage" with door "main". */
	memset(&v, 0, sizeof(v));
	strcpy(v.device_id, "garage");
	strcpy(v.doors[0], "main");
	v.ndoors = 1;
	v.clock_skew = 30;
	v.start_time = 1795547600;
	v.keys = &ring;
	v.verify = sig_sodium_verify;
	assert_int_equal(cmd_check(&v, "main", (const uint8_t *)doc_cmd, strlen(doc_cmd), false,
	                           at(1795547679), &out),
	                 CMD_OK);
	assert_string_equal(out.kid, "alice-phone");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_cmd_ValidCommandAccepted),
	    T(test_cmd_EveryActionOnEveryDoor),
	    T(test_cmd_NonceSizes),
	    T(test_cmd_KeyOrderAndInnerWhitespace),
	    T(test_cmd_HostilePayloads),
	    T(test_cmd_MissingDuplicatedAndExtraFields),
	    T(test_cmd_TooLarge),
	    T(test_cmd_EmbeddedNul),
	    T(test_cmd_RetainedAlwaysRefused),
	    T(test_cmd_TimeBoundaries),
	    T(test_cmd_ZeroSkew),
	    T(test_cmd_ExtremeClock),
	    T(test_cmd_ClockSteppedBackDoesNotReopenWindow),
	    T(test_cmd_ScheduleFollowsTheVerifiersTime),
	    T(test_cmd_RestartRefusesWhatWasAccepted),
	    T(test_cmd_RestartWithClockSetBack),
	    T(test_cmd_SameCommandTwiceIsReplay),
	    T(test_cmd_NonceReuseIsReplay),
	    T(test_cmd_ReplayCheckThenCommit),
	    T(test_cmd_ReplayWindowExpiry),
	    T(test_cmd_EveryFlippedSignatureBitRefused),
	    T(test_cmd_ForgedSignaturesRefused),
	    T(test_cmd_MalleatedSignatureRefused),
	    T(test_cmd_SignatureOverTheSpecText),
	    T(test_cmd_ForgeryDoesNotEnterReplayWindow),
	    T(test_cmd_RevokedKeyRefused),
	    T(test_cmd_KeyValidityWindow),
	    T(test_cmd_KeyValidityByDeviceTimeNotTs),
	    T(test_cmd_KeyExpiryNotUndoneByClockSetBack),
	    T(test_cmd_KeyDays),
	    T(test_cmd_KeyHours),
	    T(test_cmd_KeyDaysWithWrappingHours),
	    T(test_cmd_KeyScheduleWithoutLocalTime),
	    T(test_cmd_KeyLimitsInTheCheckOrder),
	    cmocka_unit_test(test_cmd_KeyValidAt),
	    T(test_cmd_KeyShareIsRateLimited),
	    T(test_cmd_SharesOfAFullRingFitTheWindow),
	    T(test_cmd_FullWindowIsRateLimited),
	    T(test_cmd_ReplayWindowMatchesModel),
	    T(test_cmd_OutFilledAsFarAsParsed),
	    T(test_cmd_FailsClosedOnMissingPieces),
	    T(test_cmd_CheapRejectionsNeverVerify),
	    T(test_cmd_SignedText),
	    T(test_cmd_Names),
	    T(test_cmd_NameCharsets),
	    cmocka_unit_test(test_cmd_ProtocolTestVector),
	};

	if (sig_sodium_init() != 0)
		return 1;
	crypto_sign_keypair(alice.pk, alice.sk);
	crypto_sign_keypair(bob.pk, bob.sk);
	crypto_sign_keypair(mallory.pk, mallory.sk);
	for (size_t i = 0; i < CMD_MAX_KEYS; i++) {
		crypto_sign_keypair(many[i].pk, many[i].sk);
		snprintf(many_kid[i], sizeof(many_kid[i]), "k%zu", i);
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
