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
authkeys_read(const char *path, struct authkeys_file *f, char *err, size_t errlen)
{
	char *buf = f->text, msg[256], why[1024];
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
	if (fstat(fd, &f->st) != 0 || !S_ISREG(f->st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	if (f->st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, errlen,
		         "%s is writable by group or others (mode %04o): anyone who can add a "
		         "line can open the door; run chmod go-w %s",
		         path, (unsigned)(f->st.st_mode & 07777), path);
		close(fd);
		return -1;
	}
	if (safepath_check(path, &f->st, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "authorized_keys %s", why);
		close(fd);
		return -1;
	}
	while ((n = read(fd, buf + len, sizeof(f->text) - len)) > 0) {
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
	if (cmd_keys_parse(&f->ring, buf, len, msg, sizeof(msg)) != 0) {
		snprintf(err, errlen, "%s:%s", path, msg);
		return -1;
	}
	for (i = 0; i < f->ring.nkeys; i++) {
		if (!sig_sodium_pubkey_valid(f->ring.keys[i].pub)) {
			snprintf(
			    err, errlen,
			    "%s:%u: the key of '%s' is not a usable Ed25519 public key (a "
			    "small-order or non-canonical point); make a new one with garagectl "
			    "keygen",
			    path, (unsigned)f->ring.keys[i].line, f->ring.keys[i].kid);
			return -1;
		}
	}
	f->len = len;
	return 0;
}

int
authkeys_load(const char *path, struct cmd_keyring *ring, char *err, size_t errlen)
{
	static struct authkeys_file f; /* *ring stays as it was unless the whole file is good */

	if (authkeys_read(path, &f, err, errlen) != 0)
		return -1;
	*ring = f.ring;
	return 0;
}
