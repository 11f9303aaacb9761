/*
 * cmd_keys: authorized_keys lines (SPEC "authorized_keys") and the keyring they make: who may
 * sign commands, with which public key, for which actions and doors.
 *
 * It owns the key-line syntax, its error messages, and the answer to "may this key ask for that
 * action on that door?". It never reads a file (the caller passes the text), never checks a
 * signature, never allocates: a ring is CMD_MAX_KEYS fixed slots (core_config.h).
 */
#ifndef GARAGED_CORE_CMD_KEYS_H
#define GARAGED_CORE_CMD_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmd_names.h"
#include "core_config.h"

/* One authorized_keys line. */
struct cmd_key {
	char kid[CMD_KID_MAX + 1];
	uint8_t pub[CMD_PUBKEY_LEN];
	uint32_t actions; /* bit (1 << enum cmd_action); all four when the line has no actions= */
	bool all_doors;   /* no doors= on the line */
	char doors[CMD_MAX_DOORS][CMD_NAME_MAX + 1];
	size_t ndoors;
	uint32_t line; /* in the authorized_keys text, for messages about the key */
};

struct cmd_keyring {
	struct cmd_key keys[CMD_MAX_KEYS];
	size_t nkeys;
};

/*
 * Parses an authorized_keys text (SPEC "authorized_keys": one key a line, '#' comments, blank
 * lines) into *ring. Returns 0, or -1 with "LINE: message" in err (the caller adds the file
 * name); *ring is then unchanged, so that a bad file on reload keeps the old keys.
 */
int cmd_keys_parse(struct cmd_keyring *ring, const char *text, size_t len, char *err,
                   size_t errlen);

/* The key with id kid[0..n) in ring, or NULL (also for a NULL ring). */
const struct cmd_key *cmd_keyring_find(const struct cmd_keyring *ring, const char *kid, size_t n);

/* True iff key k allows action on door[0..n): its actions= and its doors= (if any) name them. */
bool cmd_key_allows(const struct cmd_key *k, enum cmd_action action, const char *door, size_t n);

#endif
