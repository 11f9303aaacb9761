/*
 * ctl_util: see ctl_util.h.
 */
#include "ctl_util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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
