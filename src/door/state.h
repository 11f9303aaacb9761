/*
 * state: what the door half must not forget when it restarts (docs/security.md "Restarts").
 *
 * The replay window lives in memory. So that no command accepted before a restart can be
 * accepted after it, whatever the clock says then, the door half keeps in [device] state_dir
 * the latest time it saw (a clock behind it is not trusted) and the live part of the replay
 * window: the nonce and timestamp of every accepted command that the time window would still
 * let through. Anything older is stale after the restart anyway.
 * The file is replaced atomically (atomicfile.h: a temporary file in the same directory,
 * fsync, rename, fsync of the directory), so a crash leaves either the old or the new one,
 * never a torn one.
 */
#ifndef GARAGED_STATE_H
#define GARAGED_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmd.h"

#define STATE_FILE "verifier"
/* The longest name of a file in state_dir (the verifier's, invites.h's). */
#define STATE_NAME_MAX 32

struct state_nonce {
	int64_t ts;
	uint8_t len;
	uint8_t bytes[CMD_NONCE_MAX];
};

struct state {
	int64_t latest; /* the latest unix time seen; 0 when never */
	size_t nnonces;
	struct state_nonce nonces[CMD_REPLAY_SLOTS];
};

/*
 * Makes DIR (mode 0700) when it is missing, checks that it can be written, and reads its
 * state into *st: *found is false (and *st empty: latest 0, no nonces) when there is none
 * yet. Returns 0, or -1 with a message naming the file and what to do (and *st empty). Only
 * latest, nnonces and the nnonces first nonces are written.
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

/*
 * The discipline every file in state_dir shares (the verifier's here, the used invitations'
 * in invites.c), so that each is written and read one way.
 *
 * state_dir_ready(): makes DIR (mode 0700) when it is missing and checks that it is a
 * directory this process can write. 0, or -1 with a message that says what to do.
 *
 * state_file_read(): reads DIR/NAME (never through a symbolic link) into buf, at most cap - 1
 * bytes, NUL-terminated, its length in *len: a caller that allows N bytes passes cap N + 2 and
 * refuses *len > N. *found is false (and 0 returned) when the file does not exist; -1 with a
 * message when it cannot be read.
 *
 * state_file_write(): replaces DIR/NAME with text[0..len), atomically and durably: a temporary
 * file DIR/NAME.new (mode 0600, created anew, never through a link), fsync, rename over NAME,
 * fsync of DIR. A crash leaves the old file or the new one, never a torn one. 0, or -1 with a
 * message; NAME is then as it was.
 */
int state_dir_ready(const char *dir, char *err, size_t errlen);
int state_file_read(const char *dir, const char *name, char *buf, size_t cap, size_t *len,
                    bool *found, char *err, size_t errlen);
int state_file_write(const char *dir, const char *name, const char *text, size_t len, char *err,
                     size_t errlen);

#endif
