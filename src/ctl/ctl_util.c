/*
 * ctl_util: see ctl_util.h.
 */
#include "ctl_util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

int
ctl_usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("garagectl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("; see garagectl --help\n", stderr);
	return CTL_EXIT_USAGE;
}

int
ctl_failed(const char *fmt, ...)
{
	va_list ap;

	fputs("garagectl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CTL_EXIT_FAILED;
}

int
ctl_option(int argc, char *argv[], int *i, const char *name, const char **val)
{
	const char *a = argv[*i];
	size_t n = strlen(name);

	if (strncmp(a, name, n) != 0)
		return 0;
	if (a[n] == '=' && name[1] == '-') {
		*val = a + n + 1;
		return 1;
	}
	if (a[n] != '\0')
		return 0;
	if (*i + 1 >= argc) {
		ctl_usage_error("%s needs a value", name);
		return -1;
	}
	*val = argv[++*i];
	return 1;
}

const char *
ctl_ssl_reason(char *buf, size_t size)
{
	unsigned long e = ERR_get_error();
	const char *r = e != 0 ? ERR_reason_error_string(e) : NULL;

	buf[0] = '\0';
	if (r != NULL)
		snprintf(buf, size, " (%s)", r);
	else if (e != 0)
		snprintf(buf, size, " (OpenSSL error %lx)", e);
	ERR_clear_error();
	return buf;
}

void
ctl_blob_free(struct ctl_blob *b)
{
	if (b->p != NULL && b->secure)
		OPENSSL_secure_clear_free(b->p, b->cap);
	else
		free(b->p);
	b->p = NULL;
}

int
ctl_read_file(const char *path, bool secure, struct ctl_blob *b, char *err, size_t errlen)
{
	struct stat st;
	ssize_t n;
	int fd, e;

	memset(b, 0, sizeof(*b));
	b->secure = secure;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		e = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		errno = e;
		return -1;
	}
	if (fstat(fd, &st) != 0) {
		e = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		close(fd);
		errno = e;
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > CTL_FILE_MAX) {
		if (!S_ISREG(st.st_mode))
			snprintf(err, errlen, "%s is not a regular file; give the file itself",
			         path);
		else
			snprintf(err, errlen, "%s is too large to be a certificate, key or list",
			         path);
		close(fd);
		errno = EINVAL;
		return -1;
	}
	b->mode = st.st_mode;
	b->cap = (size_t)st.st_size + 1;
	b->p = secure ? OPENSSL_secure_malloc(b->cap) : malloc(b->cap);
	if (b->p == NULL) {
		close(fd);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* A file that grows meanwhile is cut at its size: it then fails to parse. */
	while (b->len < b->cap - 1 && (n = read(fd, b->p + b->len, b->cap - 1 - b->len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			e = errno;
			snprintf(err, errlen, "%s: %s", path, strerror(e));
			close(fd);
			ctl_blob_free(b);
			errno = e;
			return -1;
		}
		b->len += (size_t)n;
	}
	b->p[b->len] = '\0';
	close(fd);
	return 0;
}

static int
write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/*
 * Fills the new file FD (at PATH) with DATA, group GID ((gid_t)-1: unchanged), mode MODE. On
 * error PATH is removed.
 */
static int
fill_new_file(int fd, const char *path, const void *data, size_t len, mode_t mode, gid_t gid,
              char *err, size_t errlen)
{
	int e;

	/* The group before the mode, and fchmod, not the umask, decides: the mode printed is the
	 * mode the file has. */
	if ((gid != (gid_t)-1 && fchown(fd, (uid_t)-1, gid) != 0) || fchmod(fd, mode) != 0 ||
	    write_all(fd, data, len) != 0 || fsync(fd) != 0) {
		e = errno;
		close(fd);
		unlink(path);
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(e));
		return -1;
	}
	if (close(fd) != 0) {
		e = errno;
		unlink(path);
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(e));
		return -1;
	}
	return 0;
}

int
ctl_write_file(const char *path, const void *data, size_t len, mode_t mode, char *err,
               size_t errlen)
{
	return ctl_write_file_group(path, data, len, mode, (gid_t)-1, err, errlen);
}

int
ctl_write_file_group(const char *path, const void *data, size_t len, mode_t mode, gid_t gid,
                     char *err, size_t errlen)
{
	char tmp[PATH_MAX];
	int fd, e;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= sizeof(tmp)) {
		snprintf(err, errlen, "%s: the path is too long; use a shorter one", path);
		return -1;
	}
	fd = mkstemp(tmp); /* O_EXCL, mode 0600 until fill_new_file sets MODE */
	if (fd < 0) {
		e = errno;
		snprintf(err, errlen, "cannot create a file next to %s: %s", path, strerror(e));
		return -1;
	}
	if (fill_new_file(fd, tmp, data, len, mode, gid, err, errlen) != 0)
		return -1;
	if (rename(tmp, path) != 0) {
		e = errno;
		unlink(tmp);
		snprintf(err, errlen, "cannot replace %s: %s", path, strerror(e));
		return -1;
	}
	return 0;
}

int
ctl_write_key(const char *path, const void *data, size_t len, bool force, const char *hint,
              char *err, size_t errlen)
{
	int fd, e;

	if (force)
		return ctl_write_file(path, data, len, 0600, err, errlen);
	fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		e = errno;
		if (e == EEXIST)
			snprintf(err, errlen, "%s already exists; %s", path, hint);
		else
			snprintf(err, errlen, "cannot create %s: %s", path, strerror(e));
		return -1;
	}
	return fill_new_file(fd, path, data, len, 0600, (gid_t)-1, err, errlen);
}
