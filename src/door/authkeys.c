/*
 * authkeys: see authkeys.h. Like OpenSSH's StrictModes, a key file that someone else could
 * write is refused: whoever can add a line to it can open the door.
 */
#include "authkeys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "safepath.h"
#include "sig_sodium.h"

int
authkeys_load(const char *path, struct cmd_keyring *ring, char *err, size_t errlen)
{
	static char buf[AUTHKEYS_MAX_SIZE + 1];
	static struct cmd_keyring parsed; /* *ring stays as it was unless the whole file is good */
	char msg[256], why[1024];
	struct stat st;
	size_t len = 0;
	ssize_t n;
	size_t i;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s; check authorized_keys in [security]", path,
		         strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, errlen,
		         "%s is writable by group or others (mode %04o): anyone who can add a "
		         "line can open the door; run chmod go-w %s",
		         path, (unsigned)(st.st_mode & 07777), path);
		close(fd);
		return -1;
	}
	if (safepath_check(path, &st, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "authorized_keys %s", why);
		close(fd);
		return -1;
	}
	while ((n = read(fd, buf + len, sizeof(buf) - len)) > 0) {
		len += (size_t)n;
		if (len > AUTHKEYS_MAX_SIZE)
			break;
	}
	close(fd);
	if (n < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (len > AUTHKEYS_MAX_SIZE) {
		snprintf(err, errlen, "%s is larger than %u bytes; is it the right file?", path,
		         AUTHKEYS_MAX_SIZE);
		return -1;
	}
	if (cmd_keys_parse(&parsed, buf, len, msg, sizeof(msg)) != 0) {
		snprintf(err, errlen, "%s:%s", path, msg);
		return -1;
	}
	for (i = 0; i < parsed.nkeys; i++) {
		if (!sig_sodium_pubkey_valid(parsed.keys[i].pub)) {
			snprintf(
			    err, errlen,
			    "%s:%u: the key of '%s' is not a usable Ed25519 public key (a "
			    "small-order or non-canonical point); make a new one with garagectl "
			    "keygen",
			    path, (unsigned)parsed.keys[i].line, parsed.keys[i].kid);
			return -1;
		}
	}
	*ring = parsed;
	return 0;
}
