/*
 * base64: strict decoding and encoding of the two alphabets the command format uses: standard
 * base64 with padding (authorized_keys public keys, as OpenSSH writes them) and base64url without
 * padding (nonce and signature in a command). Strict means canonical: one text per byte string,
 * so that two spellings of one nonce cannot slip past the replay window. Written here rather than
 * taken from libsodium because the core must build without it on a microcontroller; the unit
 * tests check it against libsodium's sodium_base642bin.
 */
#ifndef GARAGED_CORE_BASE64_H
#define GARAGED_CORE_BASE64_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum base64_variant {
	BASE64_STANDARD_PADDED = 0, /* A-Z a-z 0-9 + /, '=' padding required */
	BASE64_URL_UNPADDED,        /* A-Z a-z 0-9 - _, no '=' */
};

/*
 * Decodes exactly len characters of text into out (at most outmax bytes). Returns the number of
 * bytes, or -1 for any character outside the alphabet, wrong padding, non-zero unused bits, or
 * a result longer than outmax.
 */
int base64_decode(enum base64_variant v, const char *text, size_t len, uint8_t *out, size_t outmax);

/* Encodes len bytes into out with a NUL; returns the text length, or 0 if outmax is too small. */
size_t base64_encode(enum base64_variant v, const uint8_t *in, size_t len, char *out,
                     size_t outmax);

#endif
