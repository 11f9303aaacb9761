/*
 * authkeys: loads the authorized_keys file into the core's keyring, at start and on SIGHUP.
 * It owns the file's safety checks (a regular file, not writable by group or others, bounded
 * size); the core (cmd_keys_parse) owns the meaning of its lines.
 */
#ifndef GARAGED_AUTHKEYS_H
#define GARAGED_AUTHKEYS_H

#include <stddef.h>
#include <sys/stat.h>

#include "cmd.h"

#define AUTHKEYS_MAX_SIZE (64U * 1024U)

/* The file as it was read: its bytes, its fstat (mode, owner) and the keyring they make. */
struct authkeys_file {
	char text[AUTHKEYS_MAX_SIZE + 1]; /* one more, to see a file that is too large */
	size_t len;
	struct stat st;
	struct cmd_keyring ring;
};

/*
 * Reads PATH with every check authkeys_load() makes into *f. Returns 0, or -1 with one line in
 * err as authkeys_load() says it (*f is then unspecified). keyfile.c reads the file as it is
 * now with it before it changes a line.
 */
int authkeys_read(const char *path, struct authkeys_file *f, char *err, size_t errlen);

/*
 * Reads PATH into *ring. Returns 0, or -1 with one line in err ("PATH:LINE: message" for a bad
 * line) and *ring unchanged, so that a bad file on reload keeps the keys loaded before.
 */
int authkeys_load(const char *path, struct cmd_keyring *ring, char *err, size_t errlen);

/*
 * *dst = *src as the keyring goes, writing only the keys in use: SRC's keys, then zeros over
 * what DST held past them (a keyring's slots past nkeys are zero, cmd_keys_parse()). A plain
 * assignment writes all CMD_MAX_KEYS slots (13 KiB), which then stay resident for good.
 */
void authkeys_set_ring(struct cmd_keyring *dst, const struct cmd_keyring *src);

#endif
