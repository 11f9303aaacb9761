/*
 * timer: see timer.h.
 */
#define _GNU_SOURCE /* ppoll */
#include "timer.h"

#include <time.h>

uint64_t
timer_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000U + (uint64_t)ts.tv_nsec / 1000000U;
}

int
timer_poll(struct pollfd *pfd, nfds_t n, uint64_t deadline)
{
	struct timespec ts;
	uint64_t now, left;

	if (deadline == UINT64_MAX)
		return ppoll(pfd, n, NULL, NULL);
	/* The clock is read in whole milliseconds, truncated: the wait ends at the deadline or
	 * within a millisecond after it, never before. */
	now = timer_now_ms();
	left = deadline > now ? deadline - now : 0;
	ts.tv_sec = (time_t)(left / 1000U);
	ts.tv_nsec = (long)(left % 1000U) * 1000000L;
	return ppoll(pfd, n, &ts, NULL);
}
