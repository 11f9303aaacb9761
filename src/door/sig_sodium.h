/*
 * sig_sodium: the Ed25519 verification primitive for the core (cmd_verify_fn), from libsodium.
 */
#ifndef GARAGED_SIG_SODIUM_H
#define GARAGED_SIG_SODIUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* sodium_init(); returns 0, or -1 when libsodium cannot start. */
int sig_sodium_init(void);
/*
 * Whether PUB is an Ed25519 public key that can verify anything: a canonical encoding of a
 * point on the curve, in the main subgroup, not of small order. A small-order key makes
 * signatures that hold for many messages; such a line in authorized_keys is a mistake or a trap.
 */
bool sig_sodium_pubkey_valid(const uint8_t pub[32]);
bool sig_sodium_verify(const uint8_t sig[64], const uint8_t *msg, size_t len,
                       const uint8_t pub[32]);

#endif
