/*
 * backend_assert: what the backend tests (test-sim.c, test-gpiod.c) ask of any backend: is its
 * descriptor readable, what do the sensors read, and how many descriptors are open. Include after <cmocka.h>.
 */
#ifndef GARAGED_BACKEND_ASSERT_H
#define GARAGED_BACKEND_ASSERT_H

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdbool.h>

#include "backend.h"

/* True if the backend's descriptor is readable within timeout_ms. */
static inline bool
readable(struct backend *b, int timeout_ms)
{
	struct pollfd p = {.fd = backend_fd(b), .events = POLLIN};
	int n;

	assert_true(p.fd >= 0);
	do {
		n = poll(&p, 1, timeout_ms);
	} while (n < 0 && errno == EINTR);
	assert_true(n >= 0);
	return n == 1 && (p.revents & POLLIN) != 0;
}

/* Open descriptors of this process, to show a backend closed everything it opened. */
static inline int
count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		n++;
	closedir(d);
	return n;
}

static inline void
assert_levels(struct backend *b, bool closed, bool open)
{
	struct backend_levels lv;

	assert_int_equal(backend_read(b, &lv), 0);
	assert_int_equal(lv.closed, closed);
	assert_int_equal(lv.open, open);
}

#endif
