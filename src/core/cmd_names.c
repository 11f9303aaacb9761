/*
 * cmd_names: the words of a signed command and of its answer (see cmd_names.h for what it
 * owns).
 *
 * The reason words are the contract with everyone who reads the events: docs/reference.md lists
 * each in its reasons' table, and tests/integration/test-deploy.sh reads them from the table
 * below to check that it does.
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "cmd_names.h"

static const char *const action_names[CMD_ACTION_COUNT] = {"open", "close", "stop", "toggle"};

static const char *const reason_names[] = {
    [CMD_OK] = "ok",
    [CMD_MALFORMED] = "malformed",
    [CMD_TOO_LARGE] = "too_large",
    [CMD_UNKNOWN_KEY] = "unknown_key",
    [CMD_FORBIDDEN] = "forbidden",
    [CMD_BAD_SIGNATURE] = "bad_signature",
    [CMD_STALE] = "stale",
    [CMD_FUTURE] = "future",
    [CMD_REPLAY] = "replay",
    [CMD_UNKNOWN_DOOR] = "unknown_door",
    [CMD_RETAINED] = "retained",
    [CMD_RATE_LIMITED] = "rate_limited",
    [CMD_KEY_NOT_YET_VALID] = "key_not_yet_valid",
    [CMD_KEY_EXPIRED] = "key_expired",
    [CMD_KEY_OFF_HOURS] = "key_off_hours",
    [CMD_NOT_ADMIN] = "not_admin",
    [CMD_UNKNOWN_TARGET] = "unknown_target",
    [CMD_KEY_EXISTS] = "key_exists",
    [CMD_LAST_ADMIN] = "last_admin",
    [CMD_TOO_MANY_KEYS] = "too_many_keys",
    [CMD_KEYS_READ_ONLY] = "keys_read_only",
    [CMD_KEYS_WRITE_FAILED] = "keys_write_failed",
    [CMD_NOT_SUPPORTED] = "not_supported",
    [CMD_WRONG_DEVICE] = "wrong_device",
    [CMD_BAD_INVITATION] = "bad_invitation",
    [CMD_INVITATION_EXPIRED] = "invitation_expired",
    [CMD_OVER_PERMISSIVE] = "over_permissive",
    [CMD_BAD_PROOF] = "bad_proof",
    [CMD_INVITATION_USED] = "invitation_used",
    [CMD_TOO_MANY_INVITATIONS] = "too_many_invitations",
    [CMD_INVITATIONS_WRITE_FAILED] = "invitations_write_failed",
    [CMD_KEYS_BUSY] = "keys_busy",
};

const char *
cmd_action_name(enum cmd_action a)
{
	if ((unsigned int)a < CMD_ACTION_COUNT)
		return action_names[a];
	return "unknown";
}

const char *
cmd_reason_name(enum cmd_reason r)
{
	if ((unsigned int)r < sizeof(reason_names) / sizeof(reason_names[0]))
		return reason_names[r];
	return "unknown";
}

bool
cmd_action_parse(const char *s, size_t len, enum cmd_action *out)
{
	if (s == NULL)
		return false;
	for (unsigned int a = 0; a < CMD_ACTION_COUNT; a++) {
		if (strlen(action_names[a]) == len && memcmp(action_names[a], s, len) == 0) {
			if (out != NULL)
				*out = (enum cmd_action)a;
			return true;
		}
	}
	return false;
}

bool
cmd_name_valid(const char *s, size_t n)
{
	if (n < 1 || n > CMD_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
	}
	return true;
}

bool
cmd_kid_valid(const char *s, size_t n)
{
	if (n < 1 || n > CMD_KID_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '@' || c == '-'))
			return false;
	}
	return true;
}

bool
cmd_name_eq(const char *s, size_t n, const char *name, size_t cap)
{
	return n < cap && memcmp(s, name, n) == 0 && name[n] == '\0';
}

void
cmd_name_copy(char *dst, const char *s, size_t n)
{
	memcpy(dst, s, n);
	dst[n] = '\0';
}
