/*
 * ctl_util: what every garagectl command shares: its one-line errors on stderr with the exit
 * status they mean (SPEC: 1 refused or failed, 2 usage or configuration), option parsing,
 * reading small files whole, and writing files safely (keys 0600 and never overwritten by
 * accident; others replaced atomically).
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

/* Certificates, keys, CRLs and lists are a few kilobytes; a larger file is not one. */
#define CTL_FILE_MAX (1024 * 1024)

/* A file read whole; a key file is freed with OPENSSL_secure_clear_free(), which clears it. */
struct ctl_blob {
	char *p; /* NUL-terminated for strstr; len excludes the NUL */
	size_t len, cap;
	mode_t mode;
	bool secure;
};

/*
 * Reads all of PATH (a regular file of at most CTL_FILE_MAX bytes) into *b, in OpenSSL's
 * secure heap when SECURE. Returns 0, or -1 with the reason in err (errno kept); on success
 * the caller frees *b with ctl_blob_free().
 */
int ctl_read_file(const char *path, bool secure, struct ctl_blob *b, char *err, size_t errlen);
void ctl_blob_free(struct ctl_blob *b);

/*
 * Replaces PATH with LEN bytes of DATA, mode MODE, through a temporary file in the same
 * directory renamed over it, so that a reader sees the old file or the new one, never half.
 * Returns 0, or -1 with the reason in err.
 */
int ctl_write_file(const char *path, const void *data, size_t len, mode_t mode, char *err,
                   size_t errlen);

/*
 * ctl_write_file(), with the new file given to group GID before it takes PATH's place, so
 * that it is never readable by the group with the old owner or by anyone with the new mode
 * and the old group ((gid_t)-1: the group of whoever runs this).
 */
int ctl_write_file_group(const char *path, const void *data, size_t len, mode_t mode, gid_t gid,
                         char *err, size_t errlen);

/*
 * Writes a private key to PATH, mode 0600. Without FORCE, O_EXCL makes "never overwrite" hold
 * even against a file that appears meanwhile, and O_NOFOLLOW refuses a planted symbolic link;
 * with FORCE the key is replaced atomically. HINT says what to do when PATH exists.
 */
int ctl_write_key(const char *path, const void *data, size_t len, bool force, const char *hint,
                  char *err, size_t errlen);
#endif
