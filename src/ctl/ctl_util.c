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

/* Fills the new file FD (at PATH) with DATA, mode MODE. On error PATH is removed. */
static int
fill_new_file(int fd, const char *path, const void *data, size_t len, mode_t mode, char *err,
              size_t errlen)
{
	int e;

	/* fchmod, not the umask, decides: the mode printed is the mode the file has. */
	if (fchmod(fd, mode) != 0 || write_all(fd, data, len) != 0 || fsync(fd) != 0) {
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
	if (fill_new_file(fd, tmp, data, len, mode, err, errlen) != 0)
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
	return fill_new_file(fd, path, data, len, 0600, err, errlen);
}
