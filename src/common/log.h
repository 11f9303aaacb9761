/*
 * log: one line per event, to stderr in the foreground (-f) and to syslog otherwise. Every
 * line says which of garaged's processes wrote it ("door" or "net", log_set_process()), so that
 * no message has to say it by hand:
 *
 *   2026-11-29T12:00:00.123Z net warning: cannot connect to broker.local:8883: ...
 *
 * Before the daemon runs (argument and configuration errors), main() prints and exits itself;
 * from then on everything goes through log_*(). log_fatal() is for broken invariants only:
 * bad input from the network is logged with log_warnx() and dropped, never fatal.
 */
#ifndef GARAGED_LOG_H
#define GARAGED_LOG_H

#include <stdbool.h>
#include <stdint.h>

void log_init(const char *ident, bool foreground, bool verbose);
/* The process every line is tagged with from now on: a short word, or NULL for no tag. */
void log_set_process(const char *name);
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* As log_warnx(), with ": strerror(errno)" appended. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A broken invariant: logs and exits 1. log_fatal() appends ": strerror(errno)". */
void log_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void log_fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/*
 * A warning that outside input can repeat without bound (one per message of a flood) goes
 * through a limit of its own: at most LOG_LIMIT_BURST lines in a window of LOG_LIMIT_WINDOW_MS
 * from the first; the rest are counted, and said as one line, "WHAT: N more in the last minute",
 * once the window is over: at the next such line, or at log_limit_tick(), which a poll loop calls
 * by log_limit_deadline(). Each call site has its own static struct log_limit.
 */
#define LOG_LIMIT_BURST     5U
#define LOG_LIMIT_WINDOW_MS 60000U

struct log_limit {
	const char *what; /* names the summary line */
	uint64_t start;   /* the window's start (monotonic ms) */
	uint32_t shown;   /* lines written in this window */
	uint32_t held;    /* lines counted instead, in this window */
	bool open;        /* a window has started */
	bool registered;  /* in log.c's list of limits with lines held */
};
#define LOG_LIMIT_INIT(what)                                                                       \
	{                                                                                          \
		(what), 0, 0, 0, false, false                                                      \
	}

/*
 * The decision alone, with the clock passed in (tests drive it with a fake clock): whether a line
 * at NOW may be written. *summary is set to the number of lines held in a window that ended
 * before NOW (to be said first), else 0; a new window then starts with this line.
 */
bool log_limit_pass(struct log_limit *l, uint64_t now_ms, uint32_t *summary);
/* As log_warnx(), through L. */
void log_warnx_limited(struct log_limit *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Says every summary whose window is over; the earliest time one will be (UINT64_MAX: none),
 * on the limits' clock (CLOCK_MONOTONIC in ms, timer_now_ms()'s). */
void log_limit_tick(void);
uint64_t log_limit_deadline(void);
/* The clock of the limits: CLOCK_MONOTONIC in ms unless a test sets another (NULL: back). */
void log_set_clock(uint64_t (*now_ms)(void));

#endif
