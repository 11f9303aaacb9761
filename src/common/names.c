/*
 * names: see names.h. Plain byte tests, not <ctype.h>: a locale must not widen what a name may
 * hold.
 */
#include "names.h"

#include <string.h>

#include "cmd.h"

/* The core checks the same names in authorized_keys and in commands: one length for both. */
_Static_assert(NAMES_ID_MAX == CMD_NAME_MAX, "device id and door lengths differ from the core's");
_Static_assert(NAMES_KID_MAX == CMD_KID_MAX, "key id length differs from the core's");

/* The core's rules are the rules: the verifier compares these names in signed text, so a name
 * garagectl or garaged.conf accepts must be one the core accepts, byte for byte. */
bool
names_device_id_valid(const char *s)
{
	return cmd_name_valid(s, strlen(s));
}

bool
names_door_valid(const char *s)
{
	return cmd_name_valid(s, strlen(s));
}

bool
names_kid_valid(const char *s)
{
	return cmd_kid_valid(s, strlen(s));
}

enum names_prefix_error
names_topic_prefix_check(const char *s)
{
	size_t n = strlen(s);

	if (n == 0)
		return NAMES_PREFIX_EMPTY;
	if (n > NAMES_PREFIX_MAX)
		return NAMES_PREFIX_TOO_LONG;
	if (strpbrk(s, "+#") != NULL)
		return NAMES_PREFIX_WILDCARD;
	if (s[0] == '/' || s[n - 1] == '/' || strstr(s, "//") != NULL)
		return NAMES_PREFIX_EMPTY_LEVEL;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f)
			return NAMES_PREFIX_SPACE;
	return NAMES_PREFIX_OK;
}

bool
names_topic_prefix_valid(const char *s)
{
	return names_topic_prefix_check(s) == NAMES_PREFIX_OK;
}

bool
names_cn_valid(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > NAMES_CN_MAX)
		return false;
	for (; *s != '\0'; s++)
		if (*s <= ' ' || *s > '~' || *s == '+' || *s == '#' || *s == '/')
			return false;
	return true;
}
