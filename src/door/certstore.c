/*
 * certstore: see certstore.h. Every step is a whole-file write (atomicfile.h) or a rename
 * followed by an fsync of the directory, so that a crash or a power cut between two steps
 * leaves a state that the next start reads as one of the states above:
 *
 *   install: write client.pem.trial, remove client.key.pending (a crash between the two: the
 *            trial pair wins, and certstore_drop_pending() removes the pending key at start);
 *   promote: client.pem -> client.pem.previous, client.pem.trial -> client.pem (a crash between
 *            the two: no renewed pair but a trial one, which is tried again and promoted);
 *   give up: client.pem.trial (or client.pem) -> client.pem.refused, and for the renewed pair
 *            client.pem.previous -> client.pem.
 */
#include "certstore.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "atomicfile.h"

/* A pending key larger than this is none the network half sent. */
#define KEY_MAX CHANNEL_PEM_MAX

static void
path_of(char *out, const char *dir, const char *name)
{
	snprintf(out, CERTSTORE_PATH_MAX, "%s/%s", dir, name);
}

/* Flushes DIR itself, so that the renames in it survive a power cut. */
static int
sync_dir(const char *dir, char *err, size_t errlen)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || fsync(fd) != 0) {
		snprintf(err, errlen, "%s: fsync: %s", dir, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* Whether DIR/NAME is a file as garaged writes them; WHY says what is wrong when it is not. */
static bool
ours(const char *path, const char **why)
{
	struct stat st;

	*why = NULL;
	if (lstat(path, &st) != 0)
		return false;
	if (!S_ISREG(st.st_mode))
		*why = "not a regular file";
	else if (st.st_uid != geteuid())
		*why = "not owned by the user garaged runs as";
	else if ((st.st_mode & 077) != 0)
		*why = "open to group or others";
	return *why == NULL;
}

enum certstore_pair
certstore_choose(const char *dir, char *path, char *warn, size_t warnlen)
{
	static const char *const names[] = {CERTSTORE_TRIAL, CERTSTORE_PAIR};
	static const enum certstore_pair kinds[] = {CERTSTORE_ON_TRIAL, CERTSTORE_RENEWED};
	const char *why;
	size_t i;

	warn[0] = '\0';
	for (i = 0; i < 2; i++) {
		path_of(path, dir, names[i]);
		if (ours(path, &why))
			return kinds[i];
		if (why != NULL && warn[0] == '\0')
			snprintf(warn, warnlen,
			         "%s is %s: garaged did not write it so, and does not use it", path,
			         why);
	}
	path[0] = '\0';
	return CERTSTORE_CONFIGURED;
}

bool
certstore_pending(const char *dir)
{
	char path[CERTSTORE_PATH_MAX];
	const char *why;

	path_of(path, dir, CERTSTORE_PENDING);
	return ours(path, &why);
}

int
certstore_keep_key(const char *dir, const char *pem, size_t len, char *err, size_t errlen)
{
	const struct atomicfile_opts opts = {.mode = 0600};
	char path[CERTSTORE_PATH_MAX];

	path_of(path, dir, CERTSTORE_PENDING);
	return atomicfile_replace(path, pem, len, &opts, err, errlen) < 0 ? -1 : 0;
}

/* DIR's pending key into buf (KEY_MAX): its length; 0 when there is none; -1 with err. */
static ssize_t
read_pending(const char *dir, char *buf, char *err, size_t errlen)
{
	char path[CERTSTORE_PATH_MAX];
	const char *why;
	struct stat st;
	ssize_t n;
	int fd;

	path_of(path, dir, CERTSTORE_PENDING);
	if (!ours(path, &why)) {
		if (why == NULL)
			return 0;
		snprintf(err, errlen, "%s is %s", path, why);
		return -1;
	}
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || st.st_size <= 0 || st.st_size >= KEY_MAX) {
		snprintf(err, errlen, "%s: not a key garaged wrote", path);
		close(fd);
		return -1;
	}
	n = read(fd, buf, (size_t)st.st_size);
	close(fd);
	if (n != st.st_size) {
		snprintf(err, errlen, "%s: %s", path, n < 0 ? strerror(errno) : "a short read");
		return -1;
	}
	return n;
}

int
certstore_install(const char *dir, const char *cert, size_t len, const char *comment, char *err,
                  size_t errlen)
{
	/* 25 KiB for a renewal, once in months: allocated, wiped and freed, not kept static,
	 * whose pages would stay resident for the rest of the run (garaged.c gives the heap
	 * back after it). */
	struct {
		char key[KEY_MAX], text[2 * KEY_MAX + 512];
	} * w;
	const struct atomicfile_opts opts = {.mode = 0600};
	char path[CERTSTORE_PATH_MAX];
	ssize_t klen;
	int n, r;

	w = malloc(sizeof(*w));
	if (w == NULL) {
		snprintf(err, errlen, "out of memory to install the certificate");
		return -1;
	}
	klen = read_pending(dir, w->key, err, errlen);
	r = klen == 0 ? 1 : -1;
	if (klen <= 0)
		goto out;
	n = snprintf(w->text, sizeof(w->text), "# %s\n", comment);
	if (n < 0 || (size_t)n + len + (size_t)klen + 1 > sizeof(w->text)) {
		snprintf(err, errlen, "the certificate and key are larger than garaged keeps");
		r = -1;
		goto out;
	}
	memcpy(w->text + n, cert, len);
	if (len > 0 && cert[len - 1] != '\n')
		w->text[n + len++] = '\n';
	memcpy(w->text + n + len, w->key, (size_t)klen);
	path_of(path, dir, CERTSTORE_TRIAL);
	r = atomicfile_replace(path, w->text, (size_t)n + len + (size_t)klen, &opts, err, errlen);
	r = r < 0 ? -1 : 0;
out:
	sodium_memzero(w, sizeof(*w));
	free(w);
	if (r == 0)
		certstore_drop_pending(dir);
	return r;
}

void
certstore_drop_pending(const char *dir)
{
	char path[CERTSTORE_PATH_MAX], err[CERTSTORE_PATH_MAX + 64];

	path_of(path, dir, CERTSTORE_PENDING);
	if (unlink(path) == 0)
		(void)sync_dir(dir, err, sizeof(err));
}

/* rename(DIR/FROM, DIR/TO); a FROM that is not there is no error when MISSING_OK. */
static int
move(const char *dir, const char *from, const char *to, bool missing_ok, char *err, size_t errlen)
{
	char a[CERTSTORE_PATH_MAX], b[CERTSTORE_PATH_MAX];

	path_of(a, dir, from);
	path_of(b, dir, to);
	if (rename(a, b) == 0 || (missing_ok && errno == ENOENT))
		return 0;
	snprintf(err, errlen, "%s -> %s: %s", a, b, strerror(errno));
	return -1;
}

int
certstore_promote(const char *dir, char *err, size_t errlen)
{
	char trial[CERTSTORE_PATH_MAX];
	const char *why;

	/* Nothing moves unless there is a pair on trial to take the renewed pair's place. */
	path_of(trial, dir, CERTSTORE_TRIAL);
	if (!ours(trial, &why)) {
		snprintf(err, errlen, "%s is %s", trial, why != NULL ? why : "not there");
		return -1;
	}
	if (move(dir, CERTSTORE_PAIR, CERTSTORE_PREVIOUS, true, err, errlen) != 0 ||
	    move(dir, CERTSTORE_TRIAL, CERTSTORE_PAIR, false, err, errlen) != 0)
		return -1;
	return sync_dir(dir, err, errlen);
}

int
certstore_give_up(const char *dir, enum certstore_pair which, char *err, size_t errlen)
{
	if (which == CERTSTORE_ON_TRIAL) {
		if (move(dir, CERTSTORE_TRIAL, CERTSTORE_REFUSED, false, err, errlen) != 0)
			return -1;
	} else if (which == CERTSTORE_RENEWED) {
		if (move(dir, CERTSTORE_PAIR, CERTSTORE_REFUSED, false, err, errlen) != 0 ||
		    move(dir, CERTSTORE_PREVIOUS, CERTSTORE_PAIR, true, err, errlen) != 0)
			return -1;
	}
	return sync_dir(dir, err, errlen);
}
