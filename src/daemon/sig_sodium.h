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
bool sig_sodium_verify(const uint8_t sig[64], const uint8_t *msg, size_t len,
                       const uint8_t pub[32]);

#endif
