/*
 * cmd_keys: authorized_keys lines (SPEC "authorized_keys") and the keyring they make: who may
 * sign commands, with which public key, for which actions and doors, when, and who may manage
 * the keys (admin).
 *
 * It owns the key-line syntax and its error messages, the UTC time form of not_before= and
 * not_after=, and the answer to "may this key ask for that action on that door?". It never
 * reads a file (the caller passes the text), never reads a clock, never checks a signature,
 * never allocates: a ring is CMD_MAX_KEYS fixed slots (core_config.h).
 */
#ifndef GARAGED_CORE_CMD_KEYS_H
#define GARAGED_CORE_CMD_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmd_names.h"
#include "core_config.h"
#include "text.h"

/*
 * The device's time as a verifier judges a key by it: Unix seconds, and the local calendar
 * the caller read with them (the core knows no time zone). A wday or minute out of its range
 * is never inside a key's days= or hours=: a caller that cannot tell the local time fails
 * closed for scheduled keys, and keys without a schedule do not care.
 */
struct cmd_now {
	int64_t unix_time;
	uint8_t wday;    /* local weekday, 0 = Sunday to 6 = Saturday */
	uint16_t minute; /* local minute of the day, 0 to 1439 */
};

/* One authorized_keys line. */
struct cmd_key {
	char kid[CMD_KID_MAX + 1];
	uint8_t pub[CMD_PUBKEY_LEN];
	uint32_t actions; /* bit (1 << enum cmd_action); all four when the line has no actions= */
	bool all_doors;   /* no doors= on the line */
	char doors[CMD_MAX_DOORS][CMD_NAME_MAX + 1];
	size_t ndoors;
	/* The key is valid from not_before to not_after, both seconds included (Unix time). */
	bool has_not_before;
	bool has_not_after;
	int64_t not_before;
	int64_t not_after;
	uint8_t days; /* bit (1 << weekday), 0 = Sunday; 0 when the line has no days= (every day) */
	bool has_hours;
	uint16_t hours_from; /* minute of the local day, 0 to 1439: the first minute inside */
	uint16_t hours_to; /* the first minute outside; below hours_from the span wraps midnight */
	bool admin;        /* may sign admin messages (cmd_admin.h) */
	uint32_t line;     /* in the authorized_keys text, for messages about the key; 0 if none */
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

/*
 * Parses one authorized_keys line line[0..n), without its line ending, into *k (line 0).
 * Returns 0, or -1 with the message in err (no line number: there is no file) and *k unspecified.
 * A blank or comment line is an error here: it holds no key.
 */
int cmd_key_parse(struct cmd_key *k, const char *line, size_t n, char *err, size_t errlen);

/*
 * True iff k holds only what a parsed line can hold (kid and doors in their charsets, known
 * actions, a validity window that is not empty, days of one week, an hours span that is not
 * empty): a key the writers below accept and whose line parses again.
 */
bool cmd_key_well_formed(const struct cmd_key *k);

/*
 * Writes key k as its canonical authorized_keys line, without a line ending, into buf: "ed25519
 * <base64 key> <kid>", then only the options that limit it, in the order actions=, doors=,
 * not_before=, not_after=, days=, hours=, admin; actions= only when it is not all four, actions
 * and days in a fixed order (open close stop toggle, mon to sun), doors as listed. Parsing the
 * line gives k back, all but its line number. Returns the length, or 0 when buf is too small
 * or k is not a key a line can hold; CMD_KEYS_LINE_MAX + 1 bytes always hold the line of one.
 */
size_t cmd_key_format(const struct cmd_key *k, char *buf, size_t len);

/*
 * Writes key k as the JSON object of the public key list (P/D/keys) into buf:
 * {"kid":"bob","pub":"<base64 key>","actions":["open"],"doors":["main"],
 *  "not_before":"2026-12-24T18:00:00Z","not_after":"2026-12-31T23:59:59Z","days":["mon"],
 *  "hours":"07:00-10:00","admin":false}
 * in that order, on one line: actions always (all four when unlimited), doors the list or
 * "all", not_before, not_after, days and hours only when the key has them, admin always.
 * Every string is from a charset that needs no escape. Returns the length, or 0 when buf is too
 * small or k is not a key a line can hold; CMD_KEY_JSON_MAX bytes always hold it.
 */
size_t cmd_key_json(const struct cmd_key *k, char *buf, size_t len);

/*
 * The time form of not_before= and not_after=: exactly "YYYY-MM-DDTHH:MM:SSZ", UTC, a real
 * date of the years 1970 to 9999, seconds 00 to 59. Parses s[0..n) into Unix seconds (no libc,
 * no time zone); false for anything else.
 */
bool cmd_utc_parse(const char *s, size_t n, int64_t *t);

/*
 * Writes t in that form into buf (CMD_UTC_TEXT_MAX bytes hold it and its NUL); returns its
 * length, 20, or 0 when buf is too small or t is outside the years 1970 to 9999.
 */
size_t cmd_utc_format(int64_t t, char *buf, size_t len);

/* A weekday of days=, "mon" to "sun", from s[0..n) into *wday (0 = Sunday); false otherwise. */
bool cmd_day_parse(const char *s, size_t n, unsigned int *wday);

/*
 * A span of hours=, "HH:MM-HH:MM" from 00:00 to 23:59 with different ends, from s[0..n) into
 * minutes of the day: *from the first inside, *to the first outside; false otherwise.
 */
bool cmd_hours_parse(const char *s, size_t n, uint16_t *from, uint16_t *to);

/*
 * True iff key k allows nothing that key LIMIT does not, from a moment at which LIMIT is valid
 * on: its actions are LIMIT's or fewer, its doors are among LIMIT's (every door only when LIMIT
 * has every door), it expires no later than LIMIT (if LIMIT expires), its days= and hours= lie
 * inside LIMIT's (if LIMIT has them), and it is admin only if LIMIT is. not_before= is not
 * compared: k can only ever be used from now on, and the caller checks that LIMIT is valid now
 * (cmd_key_valid_at()). The invitations' rule (cmd_enroll.h): never more than the inviter's.
 */
bool cmd_key_within(const struct cmd_key *k, const struct cmd_key *limit);

/*
 * Internal to src/core (cmd_enroll.c writes an invitation with them): what cmd_key_format()
 * writes after the kid, without its leading space ("" for a key without limits), and the
 * permission fields of cmd_key_json(), "actions" to "hours", without braces. k must be
 * cmd_key_well_formed().
 */
void cmd__key_put_options(struct text *t, const struct cmd_key *k);
void cmd__key_put_limits(struct text *t, const struct cmd_key *k);

/* The key with id kid[0..n) in ring, or NULL (also for a NULL ring). */
const struct cmd_key *cmd_keyring_find(const struct cmd_keyring *ring, const char *kid, size_t n);

/* Whether any key of RING has days= or hours=: only then does a command need the calendar. */
bool cmd_keyring_scheduled(const struct cmd_keyring *ring);

/* True iff key k allows action on door[0..n): its actions= and its doors= (if any) name them. */
bool cmd_key_allows(const struct cmd_key *k, enum cmd_action action, const char *door, size_t n);

/*
 * Whether key k may be used at NOW: CMD_KEY_NOT_YET_VALID before its not_before,
 * CMD_KEY_EXPIRED after its not_after (a key is valid during both seconds themselves),
 * CMD_KEY_OFF_HOURS when now's local weekday is not in its days= or now's local minute not in
 * its hours=, else CMD_OK. Both days= and hours= are judged at the moment itself: hours=22:00-
 * 06:00 days=fri is Friday from 00:00 to 05:59 and from 22:00 to 23:59, not Saturday morning.
 */
enum cmd_reason cmd_key_valid_at(const struct cmd_key *k, struct cmd_now now);

#endif
