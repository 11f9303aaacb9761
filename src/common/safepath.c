/*
 * safepath: see safepath.h. Like OpenSSH's safe_path(), but a sticky world-writable directory
 * (/tmp) is allowed: its other users can neither remove nor rename a file they do not own.
 */
/* realpath() is X/Open, beyond the POSIX level the build asks for. */
#define _XOPEN_SOURCE 700

#include "safepath.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool
trusted_owner(uid_t uid)
{
	return uid == 0 || uid == geteuid();
}

void
safepath_dirname(const char *path, char *dir)
{
	char *slash;

	memcpy(dir, path, strlen(path) + 1);
	slash = strrchr(dir, '/');
	if (slash == NULL)
		strcpy(dir, ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
}

int
safepath_check(const char *path, const struct stat *st, char *msg, size_t msglen)
{
	char dir[PATH_MAX], real[PATH_MAX], *slash;
	struct stat ds;

	if (!trusted_owner(st->st_uid)) {
		snprintf(
		    msg, msglen,
		    "%s is owned by uid %u, neither root nor the user garaged runs as (uid %u); "
		    "run chown root %s (or chown it to that user)",
		    path, (unsigned)st->st_uid, (unsigned)geteuid(), path);
		return -1;
	}
	if (strlen(path) + 2 > sizeof(dir)) {
		snprintf(msg, msglen, "%s: the path is too long", path);
		return -1;
	}
	safepath_dirname(path, dir);
	if (realpath(dir, real) == NULL) {
		snprintf(msg, msglen, "%s: its directory %s: %s", path, dir, strerror(errno));
		return -1;
	}
	/* From the file's directory up to "/", each one as it really is. */
	for (;;) {
		if (stat(real, &ds) != 0) {
			snprintf(msg, msglen, "%s: directory %s: %s", path, real, strerror(errno));
			return -1;
		}
		if (!trusted_owner(ds.st_uid)) {
			snprintf(
			    msg, msglen,
			    "%s: its directory %s is owned by uid %u, neither root nor the user "
			    "garaged runs as; whoever owns it can replace the file. Move the file, "
			    "or run chown root %s",
			    path, real, (unsigned)ds.st_uid, real);
			return -1;
		}
		if ((ds.st_mode & (S_IWGRP | S_IWOTH)) != 0 && (ds.st_mode & S_ISVTX) == 0) {
			snprintf(msg, msglen,
			         "%s: its directory %s is writable by group or others (mode %04o): "
			         "they can replace the file. Run chmod go-w %s, or move the file",
			         path, real, (unsigned)(ds.st_mode & 07777), real);
			return -1;
		}
		if (strcmp(real, "/") == 0)
			return 0;
		slash = strrchr(real, '/');
		if (slash == real)
			real[1] = '\0';
		else
			*slash = '\0';
	}
}
