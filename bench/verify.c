/*
 * verify: the cost of one Ed25519 verification (libsodium's crypto_sign_verify_detached) on
 * this machine, the reference for garaged's command latency (SPEC "Performance", verify_us).
 *
 * Each verification is timed on its own with CLOCK_MONOTONIC and the median is printed, so
 * that a page fault or a preemption in a few samples does not move the figure. The message is
 * a signed command's canonical text, the size garaged verifies.
 *
 * verify PAUSE_MS SAMPLES: the same, with a sleep of PAUSE_MS before each verification, as
 * between a door's commands: caches and CPUs have gone cold, as they have for the door half
 * (printed as verify_idle_us, the floor under make bench's received-to-verified stage).
 */
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WARMUP      200
#define SAMPLES_MAX 3000

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
main(int argc, char *argv[])
{
	long pause_ms = argc > 2 ? strtol(argv[1], NULL, 10) : 0;
	int samples = argc > 2 ? (int)strtol(argv[2], NULL, 10) : SAMPLES_MAX;
	int warmup = pause_ms > 0 ? 2 : WARMUP;
	static const char msg[] = "garaged-cmd-v1\ngarage\nmain\ntoggle\n1795547679\n"
	                          "q83vEjRWeJAq83vE\nbench";
	unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
	unsigned char sig[crypto_sign_BYTES];
	static int64_t t[SAMPLES_MAX];
	int64_t t0;
	int i;

	if (sodium_init() < 0) {
		fprintf(stderr, "verify: sodium_init failed\n");
		return 1;
	}
	crypto_sign_keypair(pk, sk);
	if (pause_ms < 0 || pause_ms > 1000 || samples < 10 || samples > SAMPLES_MAX) {
		fprintf(stderr, "usage: verify [PAUSE_MS (0-1000) SAMPLES (10-%d)]\n", SAMPLES_MAX);
		return 2;
	}
	crypto_sign_detached(sig, NULL, (const unsigned char *)msg, sizeof(msg) - 1, sk);
	for (i = 0; i < warmup + samples; i++) {
		if (pause_ms > 0)
			usleep((useconds_t)pause_ms * 1000U);
		t0 = now_ns();
		if (crypto_sign_verify_detached(sig, (const unsigned char *)msg, sizeof(msg) - 1,
		                                pk) != 0) {
			fprintf(stderr, "verify: a good signature did not verify\n");
			return 1;
		}
		if (i >= warmup)
			t[i - warmup] = now_ns() - t0;
	}
	qsort(t, (size_t)samples, sizeof(t[0]), cmp_i64);
	printf("%s %.1f us\n", pause_ms > 0 ? "verify_idle_us" : "verify_us",
	       (double)t[samples / 2] / 1000.0);
	return 0;
}
