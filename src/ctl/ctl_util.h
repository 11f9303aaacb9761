/*
 * ctl_util: what every garagectl command shares: its one-line errors on stderr with the exit
 * status they mean (SPEC: 1 refused or failed, 2 usage or configuration), and option parsing.
 */
#ifndef GARAGED_CTL_UTIL_H
#define GARAGED_CTL_UTIL_H

enum ctl_exit {
	CTL_EXIT_OK = 0,
	CTL_EXIT_FAILED = 1, /* refused, failed, or the door did not get there in time */
	CTL_EXIT_USAGE = 2,  /* usage or configuration error */
};

/* Prints "garagectl: <message>; see garagectl --help" and returns CTL_EXIT_USAGE. */
int ctl_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "garagectl: <message>" and returns CTL_EXIT_FAILED. */
int ctl_failed(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Matches option NAME at argv[*i], as "NAME VALUE" or, for long options, "NAME=VALUE".
 * Returns 1 with the value in *val (and *i on its last word), 0 if argv[*i] is not NAME, or
 * -1 when the value is missing (reported as a usage error).
 */
int ctl_option(int argc, char *argv[], int *i, const char *name, const char **val);

#endif
