/*
 * base64: strict, canonical decoding and encoding of standard padded base64 and of base64url
 * without padding (see base64.h for what it owns).
 *
 * Canonical means that every byte string has exactly one accepted spelling: no characters from
 * the other alphabet, no whitespace, padding exactly where RFC 4648 puts it (and only in the
 * padded variant), and the unused low bits of the last character zero. The replay window
 * compares decoded nonces, so a second spelling of one nonce would be harmless there, but the
 * signature covers the nonce as text, and one spelling keeps "what was signed" and "what was
 * remembered" the same thing. Nothing here allocates or depends on a table in RAM, so the same
 * code runs on a microcontroller. On failure, out may hold a partial result: callers decode
 * into their own scratch and use it only when the return value says so.
 */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "base64.h"

static const char alphabet_standard[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char alphabet_url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* The 6-bit value of c in the variant's alphabet, or -1 (which includes '='). */
static int
sextet(enum base64_variant v, unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	else if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	else if (c >= '0' && c <= '9')
		return c - '0' + 52;
	else if (v == BASE64_STANDARD_PADDED && c == '+')
		return 62;
	else if (v == BASE64_STANDARD_PADDED && c == '/')
		return 63;
	else if (v == BASE64_URL_UNPADDED && c == '-')
		return 62;
	else if (v == BASE64_URL_UNPADDED && c == '_')
		return 63;
	else
		return -1;
}

int
base64_decode(enum base64_variant v, const char *text, size_t len, uint8_t *out, size_t outmax)
{
	size_t data = len; /* characters that carry bits, padding excluded */
	size_t n;
	size_t o = 0;
	uint32_t acc = 0;
	unsigned int bits = 0;

	if (v != BASE64_STANDARD_PADDED && v != BASE64_URL_UNPADDED)
		return -1;
	else if (text == NULL && len != 0)
		return -1;

	if (v == BASE64_STANDARD_PADDED) {
		/*
		 * Padding is one or two '=' that complete the last group of four. Any other '='
		 * is left among the data characters, where the alphabet refuses it.
		 */
		if (len % 4 != 0)
			return -1;
		if (len >= 1 && text[len - 1] == '=') {
			data--;
			if (len >= 2 && text[len - 2] == '=')
				data--;
		}
	}
	/* One character holds 6 bits, less than a byte: no encoder ever ends a text that way. */
	if (data % 4 == 1)
		return -1;

	n = data / 4 * 3 + (data % 4 == 0 ? 0 : data % 4 - 1);
	if (n > outmax || n > (size_t)INT_MAX)
		return -1;
	else if (out == NULL && n != 0)
		return -1;

	for (size_t i = 0; i < data; i++) {
		int s = sextet(v, (unsigned char)text[i]);

		if (s < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)s;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
			/* Only the bits not yet written are kept, so acc never grows past 14 bits.
			 */
			acc &= (1U << bits) - 1U;
		}
	}
	/* Bits left over must be zero, or "Zh" would be a second spelling of "Zg". */
	if (acc != 0)
		return -1;
	return (int)o;
}

size_t
base64_encode(enum base64_variant v, const uint8_t *in, size_t len, char *out, size_t outmax)
{
	const char *abc;
	size_t rem = len % 3;
	size_t n;
	size_t o = 0;
	size_t i;

	if (v == BASE64_STANDARD_PADDED)
		abc = alphabet_standard;
	else if (v == BASE64_URL_UNPADDED)
		abc = alphabet_url;
	else
		return 0;
	if (in == NULL && len != 0)
		return 0;
	/* The text is a third longer than the bytes; refuse lengths where that would wrap. */
	if (len / 3 > (SIZE_MAX - 8) / 4)
		return 0;

	n = len / 3 * 4;
	if (rem != 0)
		n += v == BASE64_STANDARD_PADDED ? 4 : rem + 1;
	if (out == NULL || outmax < n + 1)
		return 0;

	for (i = 0; i + 3 <= len; i += 3) {
		uint32_t w = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

		out[o++] = abc[(w >> 18) & 63];
		out[o++] = abc[(w >> 12) & 63];
		out[o++] = abc[(w >> 6) & 63];
		out[o++] = abc[w & 63];
	}
	if (rem != 0) {
		uint32_t w = (uint32_t)in[i] << 16;

		if (rem == 2)
			w |= (uint32_t)in[i + 1] << 8;
		out[o++] = abc[(w >> 18) & 63];
		out[o++] = abc[(w >> 12) & 63];
		if (rem == 2)
			out[o++] = abc[(w >> 6) & 63];
		if (v == BASE64_STANDARD_PADDED) {
			while (o % 4 != 0)
				out[o++] = '=';
		}
	}
	out[o] = '\0';
	return o;
}
