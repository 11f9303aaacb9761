/*
 * ctl_util: what every garagectl command shares: its one-line errors on stderr with the exit
 * status they mean (SPEC: 1 refused or failed, 2 usage or configuration), option parsing, and
 * writing files safely (keys 0600 and never overwritten by accident; others replaced atomically).
 */
#ifndef GARAGED_CTL_UTIL_H
#define GARAGED_CTL_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

enum ctl_exit {
	CTL_EXIT_OK = 0,
	CTL_EXIT_FAILED = 1, /* refused, failed, or the door did not get there in time */
	CTL_EXIT_USAGE = 2,  /* usage or configuration error */
};

/* Prints "garagectl: <message>; see garagectl --help" and returns CTL_EXIT_USAGE. */
int ctl_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "garagectl: <message>" and returns CTL_EXIT_FAILED. */
int ctl_failed(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Matches option NAME at argv[*i], as "NAME VALUE" or, for long options, "NAME=VALUE".
 * Returns 1 with the value in *val (and *i on its last word), 0 if argv[*i] is not NAME, or
 * -1 when the value is missing (reported as a usage error).
 */
int ctl_option(int argc, char *argv[], int *i, const char *name, const char **val);

/* The first OpenSSL error as " (reason)" in buf, for a message; "" when there is none. */
const char *ctl_ssl_reason(char *buf, size_t size);

/*
 * Replaces PATH with LEN bytes of DATA, mode MODE, through a temporary file in the same
 * directory renamed over it, so that a reader sees the old file or the new one, never half.
 * Returns 0, or -1 with the reason in err.
 */
int ctl_write_file(const char *path, const void *data, size_t len, mode_t mode, char *err,
                   size_t errlen);

/*
 * Writes a private key to PATH, mode 0600. Without FORCE, O_EXCL makes "never overwrite" hold
 * even against a file that appears meanwhile, and O_NOFOLLOW refuses a planted symbolic link;
 * with FORCE the key is replaced atomically. HINT says what to do when PATH exists.
 */
int ctl_write_key(const char *path, const void *data, size_t len, bool force, const char *hint,
                  char *err, size_t errlen);
#endif
