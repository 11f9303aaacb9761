/*
 * log: see log.h. Lines in the foreground carry a UTC timestamp and the level, so that the
 * test harness and a person watching the demo read the same thing syslog would record.
 *
 * The limits on repeated warnings keep no memory of their own beyond each call site's struct:
 * a short list of the limits that hold lines, so that their summaries are said when their
 * window is over even if the warning never comes again.
 */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

static bool log_foreground = true;
static bool log_verbose;
static const char *log_process;

/* The limits holding lines whose summary is still to be said; one whose list is full says its
 * summary at its next line instead. */
#define LOG_HELD_MAX 16
static struct log_limit *log_held[LOG_HELD_MAX];
static uint64_t (*log_clock)(void);

void
log_init(const char *ident, bool foreground, bool verbose)
{
	log_foreground = foreground;
	log_verbose = verbose;
	if (!foreground)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_set_process(const char *name)
{
	log_process = name;
}

static void vwrite(int pri, const char *fmt, va_list ap, const char *suffix)
    __attribute__((format(printf, 2, 0)));

static void
vwrite(int pri, const char *fmt, va_list ap, const char *suffix)
{
	static const char *const names[] = {[LOG_ERR] = "error",
	                                    [LOG_WARNING] = "warning",
	                                    [LOG_INFO] = "info",
	                                    [LOG_DEBUG] = "debug"};
	char msg[1024], tag[16] = "";

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_process != NULL)
		snprintf(tag, sizeof(tag), "%s ", log_process);
	if (log_foreground) {
		struct timespec ts;
		struct tm tm;
		char when[32];

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
		fprintf(stderr, "%s.%03ldZ %s%s: %s%s\n", when, ts.tv_nsec / 1000000L, tag,
		        names[pri], msg, suffix ? suffix : "");
		fflush(stderr);
	} else {
		/* The journal keeps the priority apart and shows only the text: the level is
		 * part of it, as in the foreground. */
		syslog(pri, "%s%s: %s%s", tag, names[pri], msg, suffix ? suffix : "");
	}
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!log_verbose)
		return;
	va_start(ap, fmt);
	vwrite(LOG_DEBUG, fmt, ap, NULL);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwrite(LOG_INFO, fmt, ap, NULL);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwrite(LOG_WARNING, fmt, ap, NULL);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	char suffix[128];
	va_list ap;

	snprintf(suffix, sizeof(suffix), ": %s", strerror(errno));
	va_start(ap, fmt);
	vwrite(LOG_WARNING, fmt, ap, suffix);
	va_end(ap);
}

void
log_fatal(const char *fmt, ...)
{
	char suffix[128];
	va_list ap;

	snprintf(suffix, sizeof(suffix), ": %s", strerror(errno));
	va_start(ap, fmt);
	vwrite(LOG_ERR, fmt, ap, suffix);
	va_end(ap);
	exit(1);
}

void
log_fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwrite(LOG_ERR, fmt, ap, NULL);
	va_end(ap);
	exit(1);
}

static uint64_t
clock_ms(void)
{
	struct timespec ts;

	if (log_clock != NULL)
		return log_clock();
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000U + (uint64_t)ts.tv_nsec / 1000000U;
}

void
log_set_clock(uint64_t (*now_ms)(void))
{
	log_clock = now_ms;
}

static void
unhold(struct log_limit *l)
{
	size_t i;

	for (i = 0; l->registered && i < LOG_HELD_MAX; i++)
		if (log_held[i] == l)
			log_held[i] = NULL;
	l->registered = false;
}

static void
hold(struct log_limit *l)
{
	size_t i;

	for (i = 0; !l->registered && i < LOG_HELD_MAX; i++) {
		if (log_held[i] == NULL) {
			log_held[i] = l;
			l->registered = true;
		}
	}
}

bool
log_limit_pass(struct log_limit *l, uint64_t now_ms, uint32_t *summary)
{
	*summary = 0;
	if (l->open && now_ms - l->start >= LOG_LIMIT_WINDOW_MS) {
		*summary = l->held;
		l->open = false;
		unhold(l);
	}
	if (!l->open) {
		l->open = true;
		l->start = now_ms;
		l->shown = 0;
		l->held = 0;
	}
	if (l->shown < LOG_LIMIT_BURST) {
		l->shown++;
		return true;
	}
	if (l->held < UINT32_MAX)
		l->held++;
	hold(l);
	return false;
}

/* "WHAT: N more in the last minute": every held line came between the window's start and now. */
static void
say_held(const struct log_limit *l, uint32_t held, uint64_t since, uint64_t now_ms)
{
	uint64_t s = (now_ms - since + 999U) / 1000U;
	char period[32];

	if (s >= 60 && s < 120)
		snprintf(period, sizeof(period), "minute");
	else if (s >= 120)
		snprintf(period, sizeof(period), "%llu minutes", (unsigned long long)(s / 60));
	else
		snprintf(period, sizeof(period), "%llu s", (unsigned long long)(s > 0 ? s : 1));
	log_warnx("%s: %lu more in the last %s", l->what, (unsigned long)held, period);
}

void
log_warnx_limited(struct log_limit *l, const char *fmt, ...)
{
	uint64_t now = clock_ms(), since = l->start;
	uint32_t summary;
	va_list ap;

	if (!log_limit_pass(l, now, &summary))
		return;
	if (summary > 0)
		say_held(l, summary, since, now);
	va_start(ap, fmt);
	vwrite(LOG_WARNING, fmt, ap, NULL);
	va_end(ap);
}

void
log_limit_tick(void)
{
	uint64_t now_ms = clock_ms();
	struct log_limit *l;
	size_t i;

	for (i = 0; i < LOG_HELD_MAX; i++) {
		l = log_held[i];
		if (l == NULL || now_ms - l->start < LOG_LIMIT_WINDOW_MS)
			continue;
		unhold(l);
		l->open = false;
		if (l->held > 0)
			say_held(l, l->held, l->start, now_ms);
		l->held = 0;
	}
}

uint64_t
log_limit_deadline(void)
{
	uint64_t d = UINT64_MAX;
	size_t i;

	for (i = 0; i < LOG_HELD_MAX; i++)
		if (log_held[i] != NULL && log_held[i]->start + LOG_LIMIT_WINDOW_MS < d)
			d = log_held[i]->start + LOG_LIMIT_WINDOW_MS;
	return d;
}
