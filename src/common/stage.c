/*
 * stage: see stage.h. A fixed array: a bench sends a few hundred commands; those past
 * STAGE_RECORDS are not kept.
 */
#include "stage.h"

#ifdef GARAGED_STAGES
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define STAGE_RECORDS 4096

static int64_t records[STAGE_RECORDS][STAGE_COUNT];
static int64_t current[STAGE_COUNT];
static size_t nrecords;

void
stage_mark(enum stage s)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	current[s] = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void
stage_end(void)
{
	if (nrecords < STAGE_RECORDS)
		memcpy(records[nrecords++], current, sizeof(current));
	stage_forget();
}

void
stage_forget(void)
{
	memset(current, 0, sizeof(current));
}

void
stage_dump(const char *who)
{
	size_t i, s;

	for (i = 0; i < nrecords; i++) {
		fprintf(stderr, "stages %s", who);
		for (s = 0; s < STAGE_COUNT; s++)
			fprintf(stderr, " %lld", (long long)records[i][s]);
		fputc('\n', stderr);
	}
	fflush(stderr);
}
#else
/* ISO C wants something in every translation unit. */
typedef int stage_unused;
#endif
