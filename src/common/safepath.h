/*
 * safepath: whether a secret file garaged reads (authorized_keys, the TLS private key, the
 * broker password) can have been put there by someone else, as OpenSSH's StrictModes asks.
 *
 * Whoever can add a line to authorized_keys opens the door, and whoever can swap the private
 * key speaks as the device. So such a file must be owned by root or by the user garaged runs
 * as, and so must every directory above it, up to "/": none of them writable by group or
 * others, except a directory with the sticky bit (like /tmp), where others cannot rename or
 * remove what is not theirs. Symbolic links are never followed to the file itself (callers
 * open it with O_NOFOLLOW); directories are judged where they really are (realpath).
 */
#ifndef GARAGED_SAFEPATH_H
#define GARAGED_SAFEPATH_H

#include <stddef.h>
#include <sys/stat.h>

/*
 * PATH names the file whose fstat is ST. Returns 0, or -1 with what is wrong and what to do
 * in msg (without the key name: the caller says which setting it is).
 */
int safepath_check(const char *path, const struct stat *st, char *msg, size_t msglen);

/* The directory PATH is in ("." for a bare name, "/" for one in the root) into DIR, which holds
 * at least strlen(PATH) + 2 bytes. */
void safepath_dirname(const char *path, char *dir);

#endif
