/*
 * fuzz-base64: the strict base64 codec of the core (src/core/base64.c), both variants.
 *
 * Strict means canonical: a text that decodes must be exactly what encoding its bytes gives
 * back, or two spellings of one nonce or key could exist. Every input is read both ways: as a
 * text, decoded in each variant (and, when that works, re-encoded and compared, and decoded
 * again into one byte too few, which must fail); and as bytes, encoded in each variant and
 * decoded back. libsodium's codec, which the unit tests hold up as the reference, must agree
 * on every verdict and every byte of an ASCII text. Buffers are allocated at their exact size so
 * that AddressSanitizer sees a write one byte past the end.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base64.h"
#include "fuzz.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		abort();
	return 0;
}

static int
sodium_variant(enum base64_variant v)
{
	return v == BASE64_STANDARD_PADDED ? sodium_base64_VARIANT_ORIGINAL
	                                   : sodium_base64_VARIANT_URLSAFE_NO_PADDING;
}

static bool
ascii(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return false;
	return true;
}

/* The input as a text in variant v. */
static void
decode_text(enum base64_variant v, const char *text, size_t size)
{
	/* Three bytes for each four characters, two for a partial last group; never malloc(0). */
	size_t outmax = size / 4 * 3 + 3;
	uint8_t *out = malloc(outmax);
	uint8_t *ref = malloc(outmax);
	char *again;
	size_t ref_len = 0;
	int n, sn;

	FUZZ_CHECK(out != NULL && ref != NULL);
	n = base64_decode(v, text, size, out, outmax);
	FUZZ_CHECK(n >= -1 && (n < 0 || (size_t)n <= outmax));
	if (!ascii(text, size)) {
		/* Debian 12's libsodium (1.0.18) decodes every byte from 0x80 up as '/', so it
		 * is no reference there; no such byte is in either alphabet. */
		FUZZ_CHECK(n == -1);
		goto out;
	}
	sn = sodium_base642bin(ref, outmax, text, size, NULL, &ref_len, NULL, sodium_variant(v));
	FUZZ_CHECK((n >= 0) == (sn == 0));
	if (n < 0)
		goto out;
	FUZZ_CHECK((size_t)n == ref_len && memcmp(out, ref, ref_len) == 0);

	/* Canonical: the bytes encode back to exactly the text they came from. */
	again = malloc(size + 1);
	FUZZ_CHECK(again != NULL);
	FUZZ_CHECK(base64_encode(v, out, (size_t)n, again, size + 1) == size);
	FUZZ_CHECK(memcmp(again, text, size) == 0 && again[size] == '\0');
	free(again);

	/* A result one byte longer than the room is refused, never cut short. */
	if (n > 0) {
		uint8_t *tight = malloc((size_t)n - 1 + 1);

		FUZZ_CHECK(tight != NULL);
		FUZZ_CHECK(base64_decode(v, text, size, tight, (size_t)n - 1) == -1);
		free(tight);
	}
out:
	free(out);
	free(ref);
}

/* The input as bytes, encoded in variant v and decoded back. */
static void
encode_bytes(enum base64_variant v, const uint8_t *data, size_t size)
{
	size_t cap = sodium_base64_ENCODED_LEN(size, sodium_variant(v));
	char *text = malloc(cap);
	char *ref = malloc(cap);
	uint8_t *back = malloc(size + 1);
	size_t len;

	FUZZ_CHECK(text != NULL && ref != NULL && back != NULL);
	/* sodium's length counts the NUL: exactly the room base64_encode needs. */
	len = base64_encode(v, data, size, text, cap);
	FUZZ_CHECK(len + 1 == cap);
	FUZZ_CHECK(base64_encode(v, data, size, text, cap - 1) == 0);
	len = base64_encode(v, data, size, text, cap);
	sodium_bin2base64(ref, cap, data, size, sodium_variant(v));
	FUZZ_CHECK(strcmp(text, ref) == 0);
	FUZZ_CHECK(base64_decode(v, text, len, back, size) == (int)size);
	FUZZ_CHECK(memcmp(back, data, size) == 0);
	free(text);
	free(ref);
	free(back);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The decoder's int result bounds what it may be asked; libFuzzer's inputs are far less. */
	if (size > 65536)
		return 0;
	decode_text(BASE64_STANDARD_PADDED, (const char *)data, size);
	decode_text(BASE64_URL_UNPADDED, (const char *)data, size);
	encode_bytes(BASE64_STANDARD_PADDED, data, size);
	encode_bytes(BASE64_URL_UNPADDED, data, size);
	return 0;
}
