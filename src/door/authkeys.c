/*
 * authkeys: see authkeys.h. Like OpenSSH's StrictModes, a key file that someone else could
 * write is refused: whoever can add a line to it can open the door.
 */
#include "authkeys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
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

void
authkeys_set_ring(struct cmd_keyring *dst, const struct cmd_keyring *src)
{
	size_t n = src->nkeys < CMD_MAX_KEYS ? src->nkeys : CMD_MAX_KEYS;
	size_t was = dst->nkeys < CMD_MAX_KEYS ? dst->nkeys : CMD_MAX_KEYS;

	memcpy(dst->keys, src->keys, n * sizeof(dst->keys[0]));
	if (was > n)
		memset(&dst->keys[n], 0, (was - n) * sizeof(dst->keys[0]));
	dst->nkeys = n;
}

int
authkeys_load(const char *path, struct cmd_keyring *ring, char *err, size_t errlen)
{
	/* *ring stays as it was unless the whole file is good. The file and its keyring (77 KiB)
	 * only while it is read: static, the pages of the largest file ever loaded would stay
	 * resident for the whole run (garaged.c gives the heap back after a load). */
	struct authkeys_file *f = malloc(sizeof(*f));
	int r = -1;

	if (f == NULL) {
		snprintf(err, errlen, "%s: out of memory to read it", path);
		return -1;
	}
	if (authkeys_read(path, f, err, errlen) == 0) {
		authkeys_set_ring(ring, &f->ring);
		r = 0;
	}
	free(f);
	return r;
}
