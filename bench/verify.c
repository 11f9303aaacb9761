/*
 * verify: the cost of one Ed25519 verification (libsodium's crypto_sign_verify_detached) on
 * this machine, the reference for garaged's command latency (SPEC "Performance", verify_us).
 *
 * Each verification is timed on its own with CLOCK_MONOTONIC and the median is printed, so
 * that a page fault or a preemption in a few samples does not move the figure. The message is
 * a signed command's canonical text, the size garaged verifies.
 */
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WARMUP  200
#define SAMPLES 3000

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

int
main(void)
{
	static const char msg[] = "garaged-cmd-v1\ngarage\nmain\ntoggle\n1795547679\n"
	                          "q83vEjRWeJAq83vE\nbench";
	unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
	unsigned char sig[crypto_sign_BYTES];
	static int64_t t[SAMPLES];
	int64_t t0;
	int i;

	if (sodium_init() < 0) {
		fprintf(stderr, "verify: sodium_init failed\n");
		return 1;
	}
	crypto_sign_keypair(pk, sk);
	crypto_sign_detached(sig, NULL, (const unsigned char *)msg, sizeof(msg) - 1, sk);
	for (i = 0; i < WARMUP + SAMPLES; i++) {
		t0 = now_ns();
		if (crypto_sign_verify_detached(sig, (const unsigned char *)msg, sizeof(msg) - 1,
		                                pk) != 0) {
			fprintf(stderr, "verify: a good signature did not verify\n");
			return 1;
		}
		if (i >= WARMUP)
			t[i - WARMUP] = now_ns() - t0;
	}
	qsort(t, SAMPLES, sizeof(t[0]), cmp_i64);
	printf("verify_us %.1f us\n", (double)t[SAMPLES / 2] / 1000.0);
	return 0;
}
