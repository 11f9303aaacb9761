/*
 * atomicfile: see atomicfile.h. The temporary file is PATH.new: one name, so that a crash never
 * leaves a trail of them, and the next replacement removes what one left.
 */
#include "atomicfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "safepath.h"

#define TMP_SUFFIX ".new"

const char *
atomicfile_stage_name(enum atomicfile_stage s)
{
	switch (s) {
	case ATOMICFILE_WRITTEN:
		return "written";
	case ATOMICFILE_SYNCED:
		return "synced";
	case ATOMICFILE_RENAMED:
		return "renamed";
	}
	return "unknown";
}

static int
write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The new file's owner, group and mode, as O asks, on the open descriptor FD. */
static int
set_attributes(int fd, const struct atomicfile_opts *o)
{
	struct stat st;

	if (o->set_owner) {
		if (fstat(fd, &st) != 0)
			return -1;
		if ((st.st_uid != o->uid || st.st_gid != o->gid) && fchown(fd, o->uid, o->gid) != 0)
			return -1;
	}
	/* After the owner: a change of owner may clear bits that fchmod() then sets. */
	return fchmod(fd, o->mode & 07777);
}

/*
 * Whether PATH is still the file EXPECT describes. Timestamps have the file system's
 * granularity: two writes within one tick of its clock that leave the size as it was look
 * the same (docs/security.md says what that leaves).
 */
static bool
still_the_same(const char *path, const struct stat *expect)
{
	struct stat st;

	return lstat(path, &st) == 0 && st.st_dev == expect->st_dev &&
	       st.st_ino == expect->st_ino && st.st_size == expect->st_size &&
	       st.st_mtim.tv_sec == expect->st_mtim.tv_sec &&
	       st.st_mtim.tv_nsec == expect->st_mtim.tv_nsec &&
	       st.st_ctim.tv_sec == expect->st_ctim.tv_sec &&
	       st.st_ctim.tv_nsec == expect->st_ctim.tv_nsec;
}

static void
stop_at(const struct atomicfile_opts *o, enum atomicfile_stage stage)
{
	if (o->pause != NULL)
		o->pause(stage, o->arg);
}

int
atomicfile_replace(const char *path, const void *data, size_t len, const struct atomicfile_opts *o,
                   char *err, size_t errlen)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	int fd, dfd, e;

	if (strlen(path) + sizeof(TMP_SUFFIX) > sizeof(tmp)) {
		snprintf(err, errlen, "%s: the path is too long", path);
		errno = ENAMETOOLONG;
		return -1;
	}
	snprintf(tmp, sizeof(tmp), "%s%s", path, TMP_SUFFIX);
	/* O_NOFOLLOW and O_EXCL after an unlink: a link planted at the temporary name is never
	 * followed, and what an earlier crash left there is gone. */
	(void)unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		e = errno;
		snprintf(err, errlen, "%s: %s", tmp, strerror(e));
		errno = e;
		return -1;
	}
	if (set_attributes(fd, o) != 0 || write_all(fd, data, len) != 0)
		goto fail;
	stop_at(o, ATOMICFILE_WRITTEN);
	if (fsync(fd) != 0)
		goto fail;
	stop_at(o, ATOMICFILE_SYNCED);
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	/* As late as it can be: what is left is the time between this stat and the rename. */
	if (o->expect != NULL && !still_the_same(path, o->expect)) {
		snprintf(err, errlen, "%s changed since it was read", path);
		(void)unlink(tmp);
		errno = ESTALE;
		return -1;
	}
	if (rename(tmp, path) != 0) {
		e = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		(void)unlink(tmp);
		errno = e;
		return -1;
	}
	stop_at(o, ATOMICFILE_RENAMED);
	/* The rename itself must reach the disk too, or a power cut could undo it. */
	safepath_dirname(path, dir);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) != 0) {
		e = errno;
		snprintf(err, errlen, "%s: fsync: %s", dir, strerror(e));
		if (dfd >= 0)
			close(dfd);
		errno = e;
		return 1;
	}
	close(dfd);
	return 0;

fail:
	e = errno;
	snprintf(err, errlen, "%s: %s", tmp, strerror(e));
	if (fd >= 0)
		close(fd);
	(void)unlink(tmp);
	errno = e;
	return -1;
}
