/*
 * fuzz: what every libFuzzer target in tests/fuzz/ shares: the entry points libFuzzer calls
 * (declared here because the build has -Wmissing-prototypes) and a check that stays on in
 * every build type.
 *
 * assert() is not used for the targets' own invariants: a release-type build defines NDEBUG,
 * and a fuzzer whose checks compiled away would report nothing while finding everything.
 */
#ifndef GARAGED_FUZZ_H
#define GARAGED_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts with the broken invariant named, so libFuzzer saves the input as a crash. */
#define FUZZ_CHECK(cond)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__,       \
			        #cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#endif
