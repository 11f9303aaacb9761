/*
 * log: one line per event, to stderr in the foreground (-f) and to syslog otherwise.
 *
 * Before the daemon runs (argument and configuration errors), main() prints and exits itself;
 * from then on everything goes through log_*(). log_fatal() is for broken invariants only:
 * bad input from the network is logged with log_warnx() and dropped, never fatal.
 */
#ifndef GARAGED_LOG_H
#define GARAGED_LOG_H

#include <stdbool.h>

void log_init(const char *ident, bool foreground, bool verbose);
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* As log_warnx(), with ": strerror(errno)" appended. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
