/*
 * caps: see caps.h. Every change goes through libcap's cap_set_proc(), which sets all three
 * of a process's sets at once, so that a set is never left as it was by mistake.
 */
#include "caps.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>

static const cap_value_t setuid_caps[] = {CAP_SETUID, CAP_SETGID};
#define NSETUID_CAPS ((int)(sizeof(setuid_caps) / sizeof(setuid_caps[0])))

bool
caps_can_setuid(void)
{
	cap_t c = cap_get_proc();
	cap_flag_value_t uid = CAP_CLEAR, gid = CAP_CLEAR;

	if (c == NULL)
		return false;
	(void)cap_get_flag(c, CAP_SETUID, CAP_PERMITTED, &uid);
	(void)cap_get_flag(c, CAP_SETGID, CAP_PERMITTED, &gid);
	cap_free(c);
	return uid == CAP_SET && gid == CAP_SET;
}

/* Sets the process's capabilities to CAP_SETUID and CAP_SETGID in the sets FLAGS (none if
 * nflags is 0) and nothing else. */
static int
set_only(const cap_flag_t *flags, int nflags, const char *what, char *err, size_t errlen)
{
	cap_t c = cap_init();
	int i, rc = 0;

	if (c == NULL) {
		snprintf(err, errlen, "%s: cap_init: %s", what, strerror(errno));
		return -1;
	}
	for (i = 0; rc == 0 && i < nflags; i++)
		rc = cap_set_flag(c, flags[i], NSETUID_CAPS, setuid_caps, CAP_SET);
	if (rc == 0)
		rc = cap_set_proc(c);
	if (rc != 0)
		snprintf(err, errlen, "%s: %s", what, strerror(errno));
	cap_free(c);
	return rc == 0 ? 0 : -1;
}

static int
clear_ambient(const char *what, char *err, size_t errlen)
{
	if (CAP_AMBIENT_SUPPORTED() && cap_reset_ambient() != 0) {
		snprintf(err, errlen, "%s: clearing the ambient capabilities: %s", what,
		         strerror(errno));
		return -1;
	}
	return 0;
}

int
caps_door_keep_setuid(char *err, size_t errlen)
{
	static const cap_flag_t permitted[] = {CAP_PERMITTED};

	/* The ambient set first: it may hold only what is also permitted and inheritable. */
	if (clear_ambient("door half", err, errlen) != 0)
		return -1;
	return set_only(permitted, 1, "door half: keeping only CAP_SETUID and CAP_SETGID", err,
	                errlen);
}

int
caps_pass_setuid(char *err, size_t errlen)
{
	static const cap_flag_t passed[] = {CAP_PERMITTED, CAP_INHERITABLE};
	int i;

	/* An ambient capability must be permitted and inheritable: those sets first. */
	if (set_only(passed, 2, "network half: passing CAP_SETUID and CAP_SETGID on", err,
	             errlen) != 0)
		return -1;
	for (i = 0; i < NSETUID_CAPS; i++)
		if (!CAP_AMBIENT_SUPPORTED() || cap_set_ambient(setuid_caps[i], CAP_SET) != 0) {
			snprintf(err, errlen,
			         "network half: raising ambient CAP_SETUID and CAP_SETGID: %s",
			         CAP_AMBIENT_SUPPORTED() ? strerror(errno)
			                                 : "no ambient capabilities (Linux < 4.3)");
			return -1;
		}
	return 0;
}

int
caps_raise_setuid(char *err, size_t errlen)
{
	static const cap_flag_t both[] = {CAP_PERMITTED, CAP_EFFECTIVE};

	return set_only(both, 2, "network half: raising CAP_SETUID and CAP_SETGID", err, errlen);
}

int
caps_drop_all(char *err, size_t errlen)
{
	if (clear_ambient("network half", err, errlen) != 0)
		return -1;
	return set_only(NULL, 0, "network half: dropping every capability", err, errlen);
}

bool
caps_none_left(void)
{
	cap_t c = cap_get_proc(), none = cap_init();
	bool empty = c != NULL && none != NULL && cap_compare(c, none) == 0;
	cap_value_t v;

	for (v = 0; empty && CAP_AMBIENT_SUPPORTED() && v < (cap_value_t)cap_max_bits(); v++)
		empty = cap_get_ambient(v) <= 0;
	cap_free(c);
	cap_free(none);
	return empty;
}
