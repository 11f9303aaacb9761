/*
 * Unit tests of the strict base64 codec (src/core/base64.c): the RFC 4648 vectors in both
 * variants, every way a text can be refused, and agreement with libsodium's codec, which the
 * core cannot link on a microcontroller but the tests can: the same output for thousands of
 * random byte strings, and the same accept/refuse verdict for mutated and exhaustively
 * enumerated short texts. Random inputs come from a fixed-seed generator, so a failure repeats.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <string.h>

#include <sodium.h>

#include "base64.h"

#define STD BASE64_STANDARD_PADDED
#define URL BASE64_URL_UNPADDED

/* xorshift64*: reproducible, and independent of the randomness the code under test might use. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t
rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static int
sodium_variant(enum base64_variant v)
{
	return v == STD ? sodium_base64_VARIANT_ORIGINAL : sodium_base64_VARIANT_URLSAFE_NO_PADDING;
}

/* libsodium's verdict on a text: the byte count, or -1; the whole text must be consumed. */
static int
sodium_decode(enum base64_variant v, const char *text, size_t len, uint8_t *out, size_t outmax)
{
	size_t n = 0;

	if (sodium_base642bin(out, outmax, text, len, NULL, &n, NULL, sodium_variant(v)) != 0)
		return -1;
	return (int)n;
}

static int
decode_str(enum base64_variant v, const char *text, uint8_t *out, size_t outmax)
{
	return base64_decode(v, text, strlen(text), out, outmax);
}

/* ---- known vectors ------------------------------------------------------------------------ */

static const struct {
	const char *bytes;
	const char *std;
	const char *url;
} rfc4648[] = {
    {"", "", ""},
    {"f", "Zg==", "Zg"},
    {"fo", "Zm8=", "Zm8"},
    {"foo", "Zm9v", "Zm9v"},
    {"foob", "Zm9vYg==", "Zm9vYg"},
    {"fooba", "Zm9vYmE=", "Zm9vYmE"},
    {"foobar", "Zm9vYmFy", "Zm9vYmFy"},
};

static void
test_base64_Rfc4648Encode(void **state)
{
	char out[16];

	(void)state;
	for (size_t i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
		const uint8_t *in = (const uint8_t *)rfc4648[i].bytes;
		size_t n = strlen(rfc4648[i].bytes);

		memset(out, 'x', sizeof(out));
		assert_int_equal(base64_encode(STD, in, n, out, sizeof(out)),
		                 strlen(rfc4648[i].std));
		assert_string_equal(out, rfc4648[i].std);
		memset(out, 'x', sizeof(out));
		assert_int_equal(base64_encode(URL, in, n, out, sizeof(out)),
		                 strlen(rfc4648[i].url));
		assert_string_equal(out, rfc4648[i].url);
	}
}

static void
test_base64_Rfc4648Decode(void **state)
{
	uint8_t out[16];

	(void)state;
	for (size_t i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
		size_t n = strlen(rfc4648[i].bytes);

		memset(out, 0, sizeof(out));
		assert_int_equal(decode_str(STD, rfc4648[i].std, out, sizeof(out)), n);
		assert_memory_equal(out, rfc4648[i].bytes, n);
		memset(out, 0, sizeof(out));
		assert_int_equal(decode_str(URL, rfc4648[i].url, out, sizeof(out)), n);
		assert_memory_equal(out, rfc4648[i].bytes, n);
	}
}

/* 0xfb 0xff uses both characters where the alphabets differ. */
static void
test_base64_AlphabetsDiffer(void **state)
{
	static const uint8_t bytes[] = {0xfb, 0xff, 0xbf};
	uint8_t out[4];
	char text[8];

	(void)state;
	assert_int_equal(base64_encode(STD, bytes, 3, text, sizeof(text)), 4);
	assert_string_equal(text, "+/+/");
	assert_int_equal(base64_encode(URL, bytes, 3, text, sizeof(text)), 4);
	assert_string_equal(text, "-_-_");
	assert_int_equal(decode_str(STD, "+/+/", out, sizeof(out)), 3);
	assert_memory_equal(out, bytes, 3);
	assert_int_equal(decode_str(URL, "-_-_", out, sizeof(out)), 3);
	assert_memory_equal(out, bytes, 3);
	/* Each variant refuses the other's two characters. */
	assert_int_equal(decode_str(STD, "-_-_", out, sizeof(out)), -1);
	assert_int_equal(decode_str(STD, "-/+/", out, sizeof(out)), -1);
	assert_int_equal(decode_str(STD, "+_+/", out, sizeof(out)), -1);
	assert_int_equal(decode_str(URL, "+/+/", out, sizeof(out)), -1);
	assert_int_equal(decode_str(URL, "+_-_", out, sizeof(out)), -1);
	assert_int_equal(decode_str(URL, "-/-_", out, sizeof(out)), -1);
}

/* ---- rejections --------------------------------------------------------------------------- */

static void
test_base64_StandardRejections(void **state)
{
	static const char *const bad[] = {
	    "Zg",           /* padding missing */
	    "Zg=",          /* padding short */
	    "Zg===",        /* padding long */
	    "Zm8",          /* padding missing */
	    "Zm9vY",        /* not a multiple of four */
	    "Z===",         /* one data character: 6 bits, not a byte */
	    "====",         /* padding only */
	    "=",            /* padding only */
	    "Zg=A",         /* padding before data */
	    "Z=g=",         /* padding in the middle */
	    "Zm9v====",     /* a whole group of padding */
	    "=Zm9",         /* padding first */
	    "Zm9vZg==Zg==", /* padding inside, then more data */
	    "Zh==",         /* non-zero unused bits: "Zg==" is the only spelling of "f" */
	    "Zm9=",         /* non-zero unused bits: "Zm8=" is the only spelling of "fo" */
	    "Zm 9v",        /* whitespace */
	    "Zm9v\n",       /* newline */
	    " Zm9v",        /* leading space */
	    "Zm.v",         /* punctuation */
	    "Zm9\x80",      /* a high byte */
	    "Zm9\xff",      /* a high byte */
	};
	uint8_t out[16];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (decode_str(STD, bad[i], out, sizeof(out)) != -1)
			fail_msg("standard decode of \"%s\" should be refused", bad[i]);
	}
	/* An embedded NUL is a character outside the alphabet like any other. */
	assert_int_equal(base64_decode(STD, "Zm\0v", 4, out, sizeof(out)), -1);
	assert_int_equal(base64_decode(STD, "Zg=\0", 4, out, sizeof(out)), -1);
}

static void
test_base64_UrlRejections(void **state)
{
	static const char *const bad[] = {
	    "Z",           /* 1 mod 4: 6 bits, not a byte */
	    "Zm9vY",       /* 1 mod 4 */
	    "Zm9vYmFyZ",   /* 1 mod 4 */
	    "Zg==",        /* padding is not part of this variant */
	    "Zg=",         /* padding */
	    "Zm8=",        /* padding */
	    "=",           /* padding */
	    "Zh",          /* non-zero unused bits */
	    "Zm9",         /* non-zero unused bits */
	    "Zm9v Zg",     /* whitespace */
	    "Zm9v\r",      /* carriage return */
	    "Zm+v",        /* standard alphabet */
	    "Zm/v",        /* standard alphabet */
	    "Zm9\x7f",     /* DEL */
	    "Zm9\xc3\xa9", /* UTF-8 */
	};
	uint8_t out[16];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (decode_str(URL, bad[i], out, sizeof(out)) != -1)
			fail_msg("url decode of \"%s\" should be refused", bad[i]);
	}
	assert_int_equal(base64_decode(URL, "Zm\0v", 4, out, sizeof(out)), -1);
}

/* The unused bits of the last character, tried one at a time. */
static void
test_base64_EveryNonZeroUnusedBitRefused(void **state)
{
	static const char abc[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	uint8_t out[4];
	char text[8];
	size_t accepted2 = 0;
	size_t accepted3 = 0;

	(void)state;
	for (int c = 0; c < 64; c++) {
		/* One byte: two characters, the second keeps 2 of its 6 bits; 4 unused. */
		text[0] = 'Z';
		text[1] = abc[c];
		text[2] = '\0';
		if (decode_str(URL, text, out, sizeof(out)) == 1) {
			assert_int_equal(c & 0x0f, 0);
			accepted2++;
		} else {
			assert_int_not_equal(c & 0x0f, 0);
		}
		/* Two bytes: three characters, the third keeps 4 of its bits; 2 unused. */
		text[2] = abc[c];
		text[3] = '\0';
		if (decode_str(URL, text, out, sizeof(out)) == 2) {
			assert_int_equal(c & 0x03, 0);
			accepted3++;
		} else {
			assert_int_not_equal(c & 0x03, 0);
		}
	}
	assert_int_equal(accepted2, 4);
	assert_int_equal(accepted3, 16);
}

static void
test_base64_DecodeOutmax(void **state)
{
	uint8_t out[8];

	(void)state;
	memset(out, 0xee, sizeof(out));
	assert_int_equal(decode_str(STD, "Zm9vYmFy", out, 6), 6);
	assert_int_equal(out[6], 0xee); /* nothing past the result */
	assert_int_equal(decode_str(STD, "Zm9vYmFy", out, 5), -1);
	assert_int_equal(decode_str(URL, "Zm9vYmE", out, 5), 5);
	assert_int_equal(decode_str(URL, "Zm9vYmE", out, 4), -1);
	assert_int_equal(decode_str(STD, "", out, 0), 0);
	assert_int_equal(decode_str(URL, "", NULL, 0), 0);
	assert_int_equal(decode_str(URL, "Zg", NULL, 0), -1);
	assert_int_equal(base64_decode(URL, NULL, 0, out, sizeof(out)), 0);
	assert_int_equal(base64_decode(URL, NULL, 4, out, sizeof(out)), -1);
	assert_int_equal(base64_decode((enum base64_variant)7, "Zm9v", 4, out, sizeof(out)), -1);
}

static void
test_base64_EncodeOutmax(void **state)
{
	static const uint8_t in[] = "foobar";
	char out[16];

	(void)state;
	/* The text and its NUL must both fit. */
	assert_int_equal(base64_encode(STD, in, 4, out, 9), 8);
	assert_string_equal(out, "Zm9vYg==");
	assert_int_equal(base64_encode(STD, in, 4, out, 8), 0);
	assert_int_equal(base64_encode(URL, in, 4, out, 7), 6);
	assert_string_equal(out, "Zm9vYg");
	assert_int_equal(base64_encode(URL, in, 4, out, 6), 0);
	assert_int_equal(base64_encode(URL, in, 0, out, 1), 0);
	assert_string_equal(out, "");
	assert_int_equal(base64_encode(URL, in, 1, NULL, 0), 0);
	assert_int_equal(base64_encode(URL, NULL, 1, out, sizeof(out)), 0);
	assert_int_equal(base64_encode((enum base64_variant)7, in, 1, out, sizeof(out)), 0);
	/* A length whose text would not fit in a size_t is refused, not wrapped. */
	assert_int_equal(base64_encode(STD, in, SIZE_MAX, out, sizeof(out)), 0);
}

/* ---- against libsodium -------------------------------------------------------------------- */

static void
test_base64_AgreesWithSodiumOnRandomBytes(void **state)
{
	uint8_t in[80];
	uint8_t back[80];
	uint8_t sback[80];
	char ours[128];
	char theirs[128];

	(void)state;
	for (int round = 0; round < 4000; round++) {
		size_t n = (size_t)(rng() % (sizeof(in) + 1));

		for (size_t i = 0; i < n; i++)
			in[i] = (uint8_t)rng();
		for (int vi = 0; vi < 2; vi++) {
			enum base64_variant v = vi == 0 ? STD : URL;
			size_t len = base64_encode(v, in, n, ours, sizeof(ours));

			sodium_bin2base64(theirs, sizeof(theirs), in, n, sodium_variant(v));
			assert_string_equal(ours, theirs);
			assert_int_equal(len, strlen(theirs));
			assert_int_equal(base64_decode(v, ours, len, back, n), n);
			assert_memory_equal(back, in, n);
			assert_int_equal(sodium_decode(v, ours, len, sback, sizeof(sback)), n);
			/* One byte short of room is refused by both. */
			if (n > 0) {
				assert_int_equal(base64_decode(v, ours, len, back, n - 1), -1);
				assert_int_equal(sodium_decode(v, ours, len, sback, n - 1), -1);
			}
		}
	}
}

/*
 * Both codecs say the same about t: refused by both, or the same bytes from both. The one
 * known exception is a byte of 0x80 or above: libsodium 1.0.18 reads the text through a plain
 * (signed) char, and its constant-time character lookup then takes some such bytes for
 * alphabet characters ("A\x80A" decodes to two bytes). Ours refuses every one of them, and
 * that is checked instead.
 */
static void
assert_same_verdict(enum base64_variant v, const char *t, size_t len)
{
	uint8_t ours[96];
	uint8_t theirs[96];
	int a = base64_decode(v, t, len, ours, sizeof(ours));
	int b;

	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)t[i] >= 0x80) {
			if (a != -1)
				fail_msg("variant %d: a text with byte 0x%02x was accepted", (int)v,
				         (unsigned char)t[i]);
			return;
		}
	}
	b = sodium_decode(v, t, len, theirs, sizeof(theirs));
	if (a != b)
		fail_msg("variant %d, %zu bytes \"%.*s\": ours %d, libsodium %d", (int)v, len,
		         (int)len, t, a, b);
	if (a > 0)
		assert_memory_equal(ours, theirs, (size_t)a);
}

/* Characters a mutation may bring in: both alphabets, padding, whitespace, NUL, high bytes. */
static const char mutants[] = "AZaz09+/-_= \t\n\r.\x80\xff";

static void
test_base64_AgreesWithSodiumOnMutatedTexts(void **state)
{
	uint8_t in[48];
	char text[80];
	size_t refused = 0;

	(void)state;
	for (int round = 0; round < 6000; round++) {
		enum base64_variant v = round % 2 == 0 ? STD : URL;
		size_t n = (size_t)(rng() % 40);
		size_t len;

		for (size_t i = 0; i < n; i++)
			in[i] = (uint8_t)rng();
		len = base64_encode(v, in, n, text, sizeof(text) - 2);
		switch (rng() % 5) {
		case 0: /* replace one character */
			if (len > 0)
				text[rng() % len] = mutants[rng() % (sizeof(mutants) - 1)];
			break;
		case 1: /* delete one character */
			if (len > 0) {
				size_t at = (size_t)(rng() % len);

				memmove(text + at, text + at + 1, len - at);
				len--;
			}
			break;
		case 2: /* append one character */
			text[len++] = mutants[rng() % (sizeof(mutants) - 1)];
			break;
		case 3: /* flip a bit in the last character (the unused bits live there) */
			if (len > 0)
				text[len - 1] ^= (char)(1 << (rng() % 6));
			break;
		default: /* truncate */
			len = len > 0 ? (size_t)(rng() % len) : 0;
			break;
		}
		text[len] = '\0';
		assert_same_verdict(v, text, len);
		if (base64_decode(v, text, len, in, sizeof(in)) < 0)
			refused++;
	}
	/* Mutations that happen to stay canonical exist, but most must have been refused. */
	assert_true(refused > 3000);
}

/*
 * Every one- to three-character text over the mutation characters and both alphabets, and
 * every final group of the padded variant with two arbitrary bytes: the last group is where a
 * lenient decoder lets a second spelling through.
 */
static void
test_base64_AgreesWithSodiumExhaustivelyOnShortTexts(void **state)
{
	static const char chars[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_= \n\x80";
	const size_t nc = sizeof(chars) - 1;
	char t[4];

	(void)state;
	for (int vi = 0; vi < 2; vi++) {
		enum base64_variant v = vi == 0 ? STD : URL;

		for (size_t a = 0; a < nc; a++) {
			t[0] = chars[a];
			assert_same_verdict(v, t, 1);
			for (size_t b = 0; b < nc; b++) {
				t[1] = chars[b];
				assert_same_verdict(v, t, 2);
				for (size_t c = 0; c < nc; c++) {
					t[2] = chars[c];
					assert_same_verdict(v, t, 3);
				}
			}
		}
	}
	for (int a = 0; a < 256; a++) {
		for (int b = 0; b < 256; b++) {
			t[0] = (char)a;
			t[1] = (char)b;
			t[2] = '=';
			t[3] = '=';
			assert_same_verdict(STD, t, 4);
			assert_same_verdict(URL, t, 2);
			t[2] = 'Q';
			t[3] = '=';
			assert_same_verdict(STD, t, 4);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_base64_Rfc4648Encode),
	    cmocka_unit_test(test_base64_Rfc4648Decode),
	    cmocka_unit_test(test_base64_AlphabetsDiffer),
	    cmocka_unit_test(test_base64_StandardRejections),
	    cmocka_unit_test(test_base64_UrlRejections),
	    cmocka_unit_test(test_base64_EveryNonZeroUnusedBitRefused),
	    cmocka_unit_test(test_base64_DecodeOutmax),
	    cmocka_unit_test(test_base64_EncodeOutmax),
	    cmocka_unit_test(test_base64_AgreesWithSodiumOnRandomBytes),
	    cmocka_unit_test(test_base64_AgreesWithSodiumOnMutatedTexts),
	    cmocka_unit_test(test_base64_AgreesWithSodiumExhaustivelyOnShortTexts),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
