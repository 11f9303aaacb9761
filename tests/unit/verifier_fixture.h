/*
 * verifier_fixture: what the unit tests of the core's three signed messages share (test-cmd.c,
 * test-admin.c, test-enroll.c): test keys, a verify function that counts its calls, and a
 * fixture holding a keyring and a verifier set up for DEVICE, with START and SKEW, which the
 * including file defines. Include it after cmocka.h.
 */
#ifndef GARAGED_TEST_VERIFIER_FIXTURE_H
#define GARAGED_TEST_VERIFIER_FIXTURE_H

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "cmd.h"
#include "sig_sodium.h"

struct keypair {
	uint8_t pk[crypto_sign_PUBLICKEYBYTES];
	uint8_t sk[crypto_sign_SECRETKEYBYTES];
};

/* How often the verifier called its signature check: a cheap refusal must not. */
static unsigned int verify_calls;

static inline bool
counting_verify(const uint8_t sig[CMD_SIG_LEN], const uint8_t *msg, size_t len,
                const uint8_t pub[CMD_PUBKEY_LEN])
{
	verify_calls++;
	return sig_sodium_verify(sig, msg, len, pub);
}

/* A public key as an authorized_keys line writes it; four calls may share a printf. */
static inline const char *
pub_b64(const uint8_t pk[crypto_sign_PUBLICKEYBYTES])
{
	static char b64[4][64];
	static unsigned int next;
	char *out = b64[next++ % 4];

	sodium_bin2base64(out, sizeof(b64[0]), pk, crypto_sign_PUBLICKEYBYTES,
	                  sodium_base64_VARIANT_ORIGINAL);
	return out;
}

struct fixture {
	struct cmd_keyring ring;
	struct cmd_verifier v;
};

/*
 * cmocka setup: a fixture whose keyring is KEYS (authorized_keys text) and whose verifier
 * knows the NDOORS doors DOORS, into *state.
 */
static inline int
fixture_setup(void **state, const char *keys, const char *const *doors, size_t ndoors)
{
	struct fixture *f = test_calloc(1, sizeof(*f));
	char err[128];

	if (f == NULL)
		return -1;
	if (cmd_keys_parse(&f->ring, keys, strlen(keys), err, sizeof(err)) != 0) {
		print_error("keys: %s\n", err);
		test_free(f);
		return -1;
	}
	strcpy(f->v.device_id, DEVICE);
	for (size_t i = 0; i < ndoors; i++)
		strcpy(f->v.doors[i], doors[i]);
	f->v.ndoors = ndoors;
	f->v.clock_skew = SKEW;
	f->v.start_time = START;
	f->v.keys = &f->ring;
	f->v.verify = counting_verify;
	verify_calls = 0;
	*state = f;
	return 0;
}

static inline int
teardown(void **state)
{
	test_free(*state);
	return 0;
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

#endif
