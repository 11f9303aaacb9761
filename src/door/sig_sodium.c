/*
 * sig_sodium: the Ed25519 verification primitive the core's verifier calls (cmd_verify_fn),
 * taken from libsodium. It owns nothing but the call into the library; what is verified, and
 * over which bytes, is the core's business (src/core/cmd.c).
 *
 * libsodium's crypto_sign_verify_detached refuses a non-canonical S, a small-order R or public
 * key and a non-canonical public key encoding, so one command has one valid signature and a
 * degenerate key verifies nothing.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "cmd.h"
#include "sig_sodium.h"

_Static_assert(crypto_sign_BYTES == CMD_SIG_LEN, "an Ed25519 signature is 64 bytes");
_Static_assert(crypto_sign_PUBLICKEYBYTES == CMD_PUBKEY_LEN, "an Ed25519 key is 32 bytes");

int
sig_sodium_init(void)
{
	/* 1 means another part of the process initialised the library first: that is fine. */
	return sodium_init() < 0 ? -1 : 0;
}

bool
sig_sodium_verify(const uint8_t sig[64], const uint8_t *msg, size_t len, const uint8_t pub[32])
{
	if (sig == NULL || pub == NULL || (msg == NULL && len != 0))
		return false;
	return crypto_sign_verify_detached(sig, msg, len, pub) == 0;
}

bool
sig_sodium_pubkey_valid(const uint8_t pub[32])
{
	return crypto_core_ed25519_is_valid_point(pub) == 1;
}
