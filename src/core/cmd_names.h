/*
 * cmd_names: the words of a signed command and of its answer (SPEC "Signed command",
 * "Events"): the actions, the reasons a command is refused, and the charsets of the names a
 * command carries (device id, door, key id).
 *
 * It owns the spelling of each word and the one rule per kind of name, so that the key-line
 * parser, the command parser, the events and garagectl cannot drift apart. It holds no state,
 * never does I/O and never allocates.
 */
#ifndef GARAGED_CORE_CMD_NAMES_H
#define GARAGED_CORE_CMD_NAMES_H

#include <stdbool.h>
#include <stddef.h>

#include "core_config.h"

enum cmd_action {
	CMD_ACTION_OPEN = 0,
	CMD_ACTION_CLOSE,
	CMD_ACTION_STOP,
	CMD_ACTION_TOGGLE,
	CMD_ACTION_COUNT,
};

/*
 * SPEC "Events" reasons; CMD_OK is not one of them. The order here is not the order of the
 * checks (cmd.h says that): new words are added at the end.
 */
enum cmd_reason {
	CMD_OK = 0,
	CMD_MALFORMED,
	CMD_TOO_LARGE,
	CMD_UNKNOWN_KEY,
	CMD_FORBIDDEN,
	CMD_BAD_SIGNATURE,
	CMD_STALE,
	CMD_FUTURE,
	CMD_REPLAY,
	CMD_UNKNOWN_DOOR,
	CMD_RETAINED,
	CMD_RATE_LIMITED,
	/* The key's own limits (authorized_keys not_before=, not_after=, days=, hours=). */
	CMD_KEY_NOT_YET_VALID,
	CMD_KEY_EXPIRED,
	CMD_KEY_OFF_HOURS,
	/* Admin messages (cmd_admin.h): the signer, then the change asked for. */
	CMD_NOT_ADMIN,
	CMD_UNKNOWN_TARGET,
	CMD_KEY_EXISTS,
	CMD_LAST_ADMIN,
	CMD_TOO_MANY_KEYS,
	/*
	 * The door half's own, never the core's verdict: a change the core allowed that
	 * authorized_keys could not take (a file garaged may not write, or a write that failed),
	 * and a message of a kind the device does not handle (yet).
	 */
	CMD_KEYS_READ_ONLY,
	CMD_KEYS_WRITE_FAILED,
	CMD_NOT_SUPPORTED,
	/* Enrollment (cmd_enroll.h): the invitation and its proof, then the door half's record. */
	CMD_WRONG_DEVICE,
	CMD_BAD_INVITATION,
	CMD_INVITATION_EXPIRED,
	CMD_OVER_PERMISSIVE,
	CMD_BAD_PROOF,
	CMD_INVITATION_USED,
	CMD_TOO_MANY_INVITATIONS,
	CMD_INVITATIONS_WRITE_FAILED,
	/* The door half's: authorized_keys kept changing on the disk while a change was made. */
	CMD_KEYS_BUSY,
};

const char *cmd_action_name(enum cmd_action a); /* "open" ... */
const char *cmd_reason_name(enum cmd_reason r); /* "malformed" ...; "ok" for CMD_OK */
/* Parses "open" ... into *out; false for anything else. */
bool cmd_action_parse(const char *s, size_t len, enum cmd_action *out);

/* A device id or door name: [a-z0-9_-]{1,CMD_NAME_MAX}. */
bool cmd_name_valid(const char *s, size_t n);
/* A key id: [A-Za-z0-9._@-]{1,CMD_KID_MAX}: never a newline, so the signed text is unambiguous. */
bool cmd_kid_valid(const char *s, size_t n);

/* s[0..n) equals the NUL-terminated name held in a buffer of cap bytes. */
bool cmd_name_eq(const char *s, size_t n, const char *name, size_t cap);
/* Copies s[0..n), already checked to fit in dst with its NUL, NUL-terminated. */
void cmd_name_copy(char *dst, const char *s, size_t n);

#endif
