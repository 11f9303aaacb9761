/*
 * timer: the monotonic clock in milliseconds, and arming a timerfd for an absolute deadline.
 * Both halves' poll loops, the broker connection and the mDNS lookup count time the same way.
 */
#ifndef GARAGED_TIMER_H
#define GARAGED_TIMER_H

#include <stdint.h>

/* CLOCK_MONOTONIC in milliseconds. */
uint64_t timer_now_ms(void);

/*
 * Arms the timerfd TFD (CLOCK_MONOTONIC) to fire at DEADLINE (UINT64_MAX disarms), only when
 * it differs from *armed, which it then records. Returns 0, or -1 with errno set.
 */
int timer_arm(int tfd, uint64_t *armed, uint64_t deadline);

#endif
