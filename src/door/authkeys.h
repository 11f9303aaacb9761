/*
 * authkeys: loads the authorized_keys file into the core's keyring, at start and on SIGHUP.
 * It owns the file's safety checks (a regular file, not writable by group or others, bounded
 * size); the core (cmd_keys_parse) owns the meaning of its lines.
 */
#ifndef GARAGED_AUTHKEYS_H
#define GARAGED_AUTHKEYS_H

#include <stddef.h>

#include "cmd.h"

#define AUTHKEYS_MAX_SIZE (64U * 1024U)

/*
 * Reads PATH into *ring. Returns 0, or -1 with one line in err ("PATH:LINE: message" for a bad
 * line) and *ring unchanged, so that a bad file on reload keeps the keys loaded before.
 */
int authkeys_load(const char *path, struct cmd_keyring *ring, char *err, size_t errlen);

#endif
