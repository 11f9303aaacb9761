/*
 * timer: the monotonic clock in milliseconds, and waiting in poll until an absolute deadline.
 * Both halves' poll loops, the broker connection and the mDNS lookup count time the same way.
 */
#ifndef GARAGED_TIMER_H
#define GARAGED_TIMER_H

#include <poll.h>
#include <stdint.h>

/* CLOCK_MONOTONIC in milliseconds. */
uint64_t timer_now_ms(void);

/*
 * ppoll(2) on PFD until one is ready or DEADLINE (timer_now_ms()'s clock; UINT64_MAX: none)
 * has come. One system call a wake-up: a timerfd would add its read and its re-arming to every
 * expiry (make bench's idle_syscalls_per_min). Returns what ppoll returns.
 */
int timer_poll(struct pollfd *pfd, nfds_t n, uint64_t deadline);

#endif
