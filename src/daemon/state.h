/*
 * state: what the door half must not forget when it restarts (docs/security.md "Restarts").
 *
 * The replay window lives in memory. So that no command accepted before a restart can be
 * accepted after it, whatever the clock says then, the door half keeps two numbers in
 * [device] state_dir: the newest timestamp of any command it accepted (nothing stamped at or
 * before it is accepted again) and the latest time it saw (a clock behind it is not trusted).
 * The file is replaced atomically (a temporary file in the same directory, fsync, rename,
 * fsync of the directory), so a crash leaves either the old or the new one, never a torn one.
 */
#ifndef GARAGED_STATE_H
#define GARAGED_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STATE_FILE "verifier"

struct state {
	int64_t accepted_ts; /* the newest timestamp of an accepted command; 0 when none */
	int64_t latest;      /* the latest unix time seen; 0 when never */
};

/*
 * Makes DIR (mode 0700) when it is missing, checks that it can be written, and reads its
 * state into *st: *found is false (and *st zero) when there is none yet. Returns 0, or -1
 * with a message naming the file and what to do.
 */
int state_load(const char *dir, struct state *st, bool *found, char *err, size_t errlen);

/*
 * --check-config's part: what state_load() would say, without making DIR. A DIR that does not
 * exist yet is not a problem (state_load() or systemd's StateDirectory= makes it): *missing is
 * then true. Returns 0, or -1 with the message state_load() would give.
 */
int state_check(const char *dir, bool *missing, char *err, size_t errlen);

/* Replaces DIR's state with *st, atomically and durably. 0, or -1 with a message. */
int state_save(const char *dir, const struct state *st, char *err, size_t errlen);

#endif
