/*
 * timer: see timer.h. Re-arming only when the deadline moved saves a system call per loop.
 */
#include "timer.h"

#include <string.h>
#include <sys/timerfd.h>
#include <time.h>

uint64_t
timer_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000U + (uint64_t)ts.tv_nsec / 1000000U;
}

int
timer_arm(int tfd, uint64_t *armed, uint64_t deadline)
{
	struct itimerspec its;

	if (deadline == *armed)
		return 0;
	memset(&its, 0, sizeof(its));
	if (deadline != UINT64_MAX) {
		/* Zero would disarm: an overdue deadline fires at the earliest representable time.
		 */
		its.it_value.tv_sec = (time_t)(deadline / 1000U);
		its.it_value.tv_nsec = (long)(deadline % 1000U) * 1000000L;
		if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
			its.it_value.tv_nsec = 1;
	}
	if (timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL) != 0)
		return -1;
	*armed = deadline;
	return 0;
}
