/*
 * Unit tests of the authorized_keys parser (cmd_keys_parse and cmd_key_parse in
 * src/core/cmd_keys.c): every option combination, the layout a hand-edited file has (comments,
 * blank lines, tabs, CRLF), the limits, and each error with the line it names. A file with an
 * error must leave the ring as it was, byte for byte, because that is what keeps the old keys in
 * force after a bad reload. The UTC time form of not_before= and not_after= is checked against
 * libc's gmtime_r() and timegm(), which the core itself may not use.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "cmd.h"

#define ALL_ACTIONS 0xfU
#define BIG_TEXT    (64 * 1024)

/* A deterministic public key: 32 bytes of seed, seed+1, ... */
static void
fake_pub(uint8_t pub[CMD_PUBKEY_LEN], unsigned int seed)
{
	for (unsigned int i = 0; i < CMD_PUBKEY_LEN; i++)
		pub[i] = (uint8_t)(seed + i);
}

/* The key as garagectl keygen prints it: standard base64 with padding (44 characters). */
static const char *
pub_b64(unsigned int seed)
{
	static char b64[4][64];
	static unsigned int next;
	uint8_t pub[CMD_PUBKEY_LEN];
	char *out = b64[next++ % 4];

	fake_pub(pub, seed);
	sodium_bin2base64(out, sizeof(b64[0]), pub, sizeof(pub), sodium_base64_VARIANT_ORIGINAL);
	return out;
}

/* Parses text and expects success; the ring is left for the caller to inspect. */
static void
parse_ok(struct cmd_keyring *ring, const char *text)
{
	char err[256] = "";

	if (cmd_keys_parse(ring, text, strlen(text), err, sizeof(err)) != 0)
		fail_msg("should parse: \"%s\": %s", text, err);
	assert_string_equal(err, "");
}

static void
assert_key(const struct cmd_key *k, const char *kid, unsigned int seed, uint32_t actions)
{
	uint8_t pub[CMD_PUBKEY_LEN];

	fake_pub(pub, seed);
	assert_string_equal(k->kid, kid);
	assert_memory_equal(k->pub, pub, sizeof(pub));
	assert_int_equal(k->actions, actions);
}

/* ---- good files --------------------------------------------------------------------------- */

static void
test_keys_OneKeyDefaultsToEverything(void **state)
{
	struct cmd_keyring *ring = *state;
	char text[128];

	snprintf(text, sizeof(text), "ed25519 %s alice-phone\n", pub_b64(1));
	parse_ok(ring, text);
	assert_int_equal(ring->nkeys, 1);
	assert_key(&ring->keys[0], "alice-phone", 1, ALL_ACTIONS);
	assert_true(ring->keys[0].all_doors);
	assert_int_equal(ring->keys[0].ndoors, 0);
}

static void
test_keys_OptionCombinations(void **state)
{
	static const struct {
		const char *options;
		uint32_t actions;
		bool all_doors;
		const char *doors[CMD_MAX_DOORS];
	} rows[] = {
	    {"", ALL_ACTIONS, true, {NULL}},
	    {"actions=open", 1U << CMD_ACTION_OPEN, true, {NULL}},
	    {"actions=close", 1U << CMD_ACTION_CLOSE, true, {NULL}},
	    {"actions=stop", 1U << CMD_ACTION_STOP, true, {NULL}},
	    {"actions=toggle", 1U << CMD_ACTION_TOGGLE, true, {NULL}},
	    {"actions=open,close,stop,toggle", ALL_ACTIONS, true, {NULL}},
	    {"actions=toggle,open", 1U << CMD_ACTION_TOGGLE | 1U << CMD_ACTION_OPEN, true, {NULL}},
	    {"doors=main", ALL_ACTIONS, false, {"main"}},
	    {"doors=main,side", ALL_ACTIONS, false, {"main", "side"}},
	    {"actions=open doors=side", 1U << CMD_ACTION_OPEN, false, {"side"}},
	    {"doors=side actions=open,close", 3U, false, {"side"}},
	    {"\tactions=stop\t\tdoors=x_1-2  ", 1U << CMD_ACTION_STOP, false, {"x_1-2"}},
	    {"doors=a,b,c,d,e,f,g,h", ALL_ACTIONS, false, {"a", "b", "c", "d", "e", "f", "g", "h"}},
	    {"doors=abcdefghijklmnopqrstuvwxyz012345",
	     ALL_ACTIONS,
	     false,
	     {"abcdefghijklmnopqrstuvwxyz012345"}},
	};
	struct cmd_keyring *ring = *state;
	char text[256];

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		size_t ndoors = 0;

		snprintf(text, sizeof(text), "ed25519 %s k%zu %s\n", pub_b64(7), i,
		         rows[i].options);
		parse_ok(ring, text);
		assert_int_equal(ring->nkeys, 1);
		if (ring->keys[0].actions != rows[i].actions)
			fail_msg("\"%s\": actions 0x%x, want 0x%x", rows[i].options,
			         ring->keys[0].actions, rows[i].actions);
		assert_int_equal(ring->keys[0].all_doors, rows[i].all_doors);
		while (ndoors < CMD_MAX_DOORS && rows[i].doors[ndoors] != NULL)
			ndoors++;
		assert_int_equal(ring->keys[0].ndoors, ndoors);
		for (size_t d = 0; d < ndoors; d++)
			assert_string_equal(ring->keys[0].doors[d], rows[i].doors[d]);
	}
}

static void
test_keys_CommentsBlankLinesAndWhitespace(void **state)
{
	struct cmd_keyring *ring = *state;
	char text[1024];

	snprintf(text, sizeof(text),
	         "# garaged authorized_keys\n"
	         "\n"
	         "   \n"
	         "\t\n"
	         "   # an indented comment with ed25519 in it\n"
	         "ed25519 %s alice\n"
	         "#ed25519 %s commented-out\n"
	         "  \t ed25519\t%s   bob@laptop \t actions=open \n"
	         "\n"
	         "ed25519 %s Carol.Home_2 doors=side\n"
	         "#",
	         pub_b64(1), pub_b64(2), pub_b64(3), pub_b64(4));
	parse_ok(ring, text);
	assert_int_equal(ring->nkeys, 3);
	assert_key(&ring->keys[0], "alice", 1, ALL_ACTIONS);
	assert_key(&ring->keys[1], "bob@laptop", 3, 1U << CMD_ACTION_OPEN);
	assert_key(&ring->keys[2], "Carol.Home_2", 4, ALL_ACTIONS);
	assert_false(ring->keys[2].all_doors);
	assert_string_equal(ring->keys[2].doors[0], "side");
}

static void
test_keys_CrlfAndNoFinalNewline(void **state)
{
	struct cmd_keyring *ring = *state;
	char text[512];

	snprintf(text, sizeof(text),
	         "# written on Windows\r\n"
	         "\r\n"
	         "ed25519 %s alice actions=open,close\r\n"
	         "ed25519 %s bob doors=main\r\n"
	         "ed25519 %s carol",
	         pub_b64(1), pub_b64(2), pub_b64(3));
	parse_ok(ring, text);
	assert_int_equal(ring->nkeys, 3);
	/* The CR is the line ending's, not part of the last option or key id. */
	assert_key(&ring->keys[0], "alice", 1, 3U);
	assert_key(&ring->keys[1], "bob", 2, ALL_ACTIONS);
	assert_string_equal(ring->keys[1].doors[0], "main");
	assert_key(&ring->keys[2], "carol", 3, ALL_ACTIONS);
}

static void
test_keys_EmptyTextIsNoKeys(void **state)
{
	struct cmd_keyring *ring = *state;
	char err[64];

	ring->nkeys = 5;
	assert_int_equal(cmd_keys_parse(ring, "", 0, err, sizeof(err)), 0);
	assert_int_equal(ring->nkeys, 0);
	ring->nkeys = 5;
	assert_int_equal(cmd_keys_parse(ring, NULL, 0, err, sizeof(err)), 0);
	assert_int_equal(ring->nkeys, 0);
	parse_ok(ring, "# nothing yet\n\n");
	assert_int_equal(ring->nkeys, 0);
}

static void
test_keys_ExactlyMaxKeys(void **state)
{
	struct cmd_keyring *ring = *state;
	char *text = test_malloc(BIG_TEXT);
	size_t n = 0;

	for (unsigned int i = 0; i < CMD_MAX_KEYS; i++)
		n += (size_t)snprintf(text + n, BIG_TEXT - n, "ed25519 %s key%u\n", pub_b64(i), i);
	parse_ok(ring, text);
	assert_int_equal(ring->nkeys, CMD_MAX_KEYS);
	assert_key(&ring->keys[CMD_MAX_KEYS - 1], "key31", CMD_MAX_KEYS - 1, ALL_ACTIONS);
	test_free(text);
}

/* The limit is on the line without its ending, so a CRLF file gets the same 1024 bytes. */
static void
test_keys_LineOf1024BytesAccepted(void **state)
{
	struct cmd_keyring *ring = *state;
	char *text = test_malloc(BIG_TEXT);
	char err[128];
	int n;

	n = snprintf(text, BIG_TEXT, "ed25519 %s alice", pub_b64(1));
	memset(text + n, ' ', 1024 - (size_t)n);
	strcpy(text + 1024, "\r\n");
	parse_ok(ring, text);
	assert_int_equal(ring->nkeys, 1);

	/* One more byte on the line and the whole file is refused. */
	memset(text + n, ' ', 1025 - (size_t)n);
	strcpy(text + 1025, "\r\n");
	assert_int_equal(cmd_keys_parse(ring, text, strlen(text), err, sizeof(err)), -1);
	assert_string_equal(err, "1: line is longer than 1024 bytes: put one key on each line");

	/* Comments are lines too. */
	text[0] = '#';
	memset(text + 1, 'x', 1024);
	text[1025] = '\0';
	assert_int_equal(cmd_keys_parse(ring, text, strlen(text), err, sizeof(err)), -1);
	test_free(text);
}

/* ---- validity, schedule and role ---------------------------------------------------------- */

/* Keys without the new options are what they were: valid always, every day, not admin. */
static void
test_keys_NoOptionsMeansNoLimitsAndNotAdmin(void **state)
{
	struct cmd_keyring *ring = *state;
	const struct cmd_key *k = &ring->keys[0];
	char text[256];

	snprintf(text, sizeof(text), "ed25519 %s alice actions=open doors=main\n", pub_b64(1));
	parse_ok(ring, text);
	assert_false(k->has_not_before);
	assert_false(k->has_not_after);
	assert_int_equal(k->days, 0);
	assert_false(k->has_hours);
	assert_false(k->admin);
	assert_int_equal(k->line, 1);
}

static void
test_keys_ValidityOptions(void **state)
{
	static const struct {
		const char *options;
		bool has_nb, has_na;
		int64_t nb, na;
	} rows[] = {
	    {"not_before=2026-12-24T18:00:00Z", true, false, INT64_C(1798135200), 0},
	    {"not_after=2026-12-31T23:59:59Z", false, true, 0, INT64_C(1798761599)},
	    {"not_after=2026-12-31T23:59:59Z not_before=2026-12-24T18:00:00Z", true, true,
	     INT64_C(1798135200), INT64_C(1798761599)},
	    /* One second of validity is a window too. */
	    {"not_before=2026-12-24T18:00:00Z not_after=2026-12-24T18:00:00Z", true, true,
	     INT64_C(1798135200), INT64_C(1798135200)},
	    {"not_before=1970-01-01T00:00:00Z", true, false, 0, 0},
	    {"not_after=9999-12-31T23:59:59Z", false, true, 0, INT64_C(253402300799)},
	    {"not_after=2000-02-29T12:34:56Z", false, true, 0, INT64_C(951827696)},
	    {"not_after=2024-02-29T23:59:59Z", false, true, 0, INT64_C(1709251199)},
	    {"not_after=2100-03-01T00:00:00Z", false, true, 0, INT64_C(4107542400)},
	};
	struct cmd_keyring *ring = *state;
	char text[256];

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct cmd_key *k = &ring->keys[0];

		snprintf(text, sizeof(text), "ed25519 %s k actions=open %s\n", pub_b64(3),
		         rows[i].options);
		parse_ok(ring, text);
		assert_int_equal(k->has_not_before, rows[i].has_nb);
		assert_int_equal(k->has_not_after, rows[i].has_na);
		if (k->not_before != rows[i].nb || k->not_after != rows[i].na)
			fail_msg("\"%s\": %lld..%lld", rows[i].options, (long long)k->not_before,
			         (long long)k->not_after);
		assert_int_equal(k->actions, 1U << CMD_ACTION_OPEN);
	}
}

static void
test_keys_ScheduleAndAdminOptions(void **state)
{
	static const struct {
		const char *options;
		uint8_t days;
		bool has_hours;
		uint16_t from, to;
		bool admin;
	} rows[] = {
	    {"days=mon", 1U << 1, false, 0, 0, false},
	    {"days=sun", 1U << 0, false, 0, 0, false},
	    {"days=sat,sun", 1U << 6 | 1U << 0, false, 0, 0, false},
	    {"days=mon,tue,wed,thu,fri", 0x3e, false, 0, 0, false},
	    {"days=sun,fri,wed,mon,sat,thu,tue", 0x7f, false, 0, 0, false},
	    {"hours=07:00-10:00", 0, true, 420, 600, false},
	    {"hours=22:00-06:00", 0, true, 1320, 360, false},
	    {"hours=00:00-23:59", 0, true, 0, 1439, false},
	    {"hours=23:59-00:00", 0, true, 1439, 0, false},
	    {"hours=18:00-00:00", 0, true, 1080, 0, false},
	    {"admin", 0, false, 0, 0, true},
	    {"days=fri,sat hours=22:30-02:15 admin", 0x60, true, 1350, 135, true},
	    {"admin actions=open days=tue", 1U << 2, false, 0, 0, true},
	};
	struct cmd_keyring *ring = *state;
	char text[256];

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct cmd_key *k = &ring->keys[0];

		snprintf(text, sizeof(text), "ed25519 %s k %s\n", pub_b64(3), rows[i].options);
		parse_ok(ring, text);
		if (k->days != rows[i].days || k->has_hours != rows[i].has_hours ||
		    k->hours_from != rows[i].from || k->hours_to != rows[i].to ||
		    k->admin != rows[i].admin)
			fail_msg("\"%s\": days 0x%x hours %d %u-%u admin %d", rows[i].options,
			         k->days, k->has_hours, k->hours_from, k->hours_to, k->admin);
		assert_false(k->has_not_before || k->has_not_after);
	}
}

/* cmd_utc_parse() and cmd_utc_format() agree with libc on every day of 1970 to 2400. */
static void
test_keys_UtcFormAgainstLibc(void **state)
{
	char want[32], got[CMD_UTC_TEXT_MAX];
	struct tm tm;
	int64_t back;

	(void)state;
	for (int64_t day = 0; day < INT64_C(157000); day++) {
		/* A different second of each day, so that every time of day is met too. */
		time_t t = (time_t)(day * 86400 + (day * 7919) % 86400);

		assert_non_null(gmtime_r(&t, &tm));
		strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%SZ", &tm);
		assert_int_equal(cmd_utc_format((int64_t)t, got, sizeof(got)), 20);
		if (strcmp(got, want) != 0)
			fail_msg("%lld: \"%s\", want \"%s\"", (long long)t, got, want);
		assert_true(cmd_utc_parse(got, 20, &back));
		assert_int_equal(back, (int64_t)t);
	}
	/* The ends of the form's range, and past them. */
	assert_int_equal(cmd_utc_format(0, got, sizeof(got)), 20);
	assert_string_equal(got, "1970-01-01T00:00:00Z");
	assert_int_equal(cmd_utc_format(INT64_C(253402300799), got, sizeof(got)), 20);
	assert_string_equal(got, "9999-12-31T23:59:59Z");
	assert_int_equal(cmd_utc_format(INT64_C(253402300800), got, sizeof(got)), 0);
	assert_string_equal(got, "");
	assert_int_equal(cmd_utc_format(-1, got, sizeof(got)), 0);
	assert_int_equal(cmd_utc_format(INT64_MIN, got, sizeof(got)), 0);
	assert_int_equal(cmd_utc_format(INT64_MAX, got, sizeof(got)), 0);
	/* Exactly room for the text and its NUL, and one byte less. */
	assert_int_equal(cmd_utc_format(0, got, CMD_UTC_TEXT_MAX), 20);
	assert_int_equal(cmd_utc_format(0, got, CMD_UTC_TEXT_MAX - 1), 0);
	assert_int_equal(cmd_utc_format(0, NULL, 0), 0);
}

static void
test_keys_UtcFormRefused(void **state)
{
	static const char *const bad[] = {
	    "",
	    "2026-12-24",
	    "2026-12-24T18:00:00",
	    "2026-12-24T18:00:00z",
	    "2026-12-24t18:00:00Z",
	    "2026-12-24 18:00:00Z",
	    "2026-12-24T18:00:00.0Z",
	    "2026-12-24T18:00:00+00:00",
	    "2026-12-24T18:00Z",
	    "2026-12-24T18:00:00ZZ",
	    "26-12-24T18:00:00Z",
	    "+2026-12-24T18:00:00Z",
	    "2026/12/24T18:00:00Z",
	    "2026-1-24T18:00:00Z",
	    "2026-12-2AT18:00:00Z",
	    "2026-00-24T18:00:00Z",
	    "2026-13-24T18:00:00Z",
	    "2026-12-00T18:00:00Z",
	    "2026-12-32T18:00:00Z",
	    "2026-04-31T18:00:00Z",
	    "2026-02-29T18:00:00Z",
	    "2100-02-29T18:00:00Z",
	    "1900-02-29T18:00:00Z",
	    "2026-12-24T24:00:00Z",
	    "2026-12-24T18:60:00Z",
	    "2026-12-24T18:00:60Z",
	    "1969-12-31T23:59:59Z",
	    "0000-01-01T00:00:00Z",
	    "2026-12-24T-1:00:00Z",
	};
	int64_t t = 42;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (cmd_utc_parse(bad[i], strlen(bad[i]), &t))
			fail_msg("\"%s\" should be refused", bad[i]);
		assert_int_equal(t, 42);
	}
	assert_false(cmd_utc_parse(NULL, 20, &t));
	/* Only n bytes are looked at. */
	assert_true(cmd_utc_parse("2000-02-29T12:34:56Zjunk", 20, &t));
	assert_int_equal(t, INT64_C(951827696));
	assert_true(cmd_utc_parse("2000-02-29T00:00:00Z", 20, &t));
	assert_true(cmd_utc_parse("2024-02-29T00:00:00Z", 20, &t));
}

/* One line on its own, as an admin message's add brings it: no line number in the messages. */
static void
test_keys_ParseOneLine(void **state)
{
	struct cmd_key k;
	char line[CMD_KEYS_LINE_MAX + 8];
	char err[256];
	int n;

	(void)state;
	n = snprintf(line, sizeof(line),
	             "ed25519 %s bob actions=open admin not_after=2026-12-31T23:59:59Z",
	             pub_b64(2));
	memset(&k, 0x5a, sizeof(k));
	assert_int_equal(cmd_key_parse(&k, line, (size_t)n, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_key(&k, "bob", 2, 1U << CMD_ACTION_OPEN);
	assert_true(k.admin);
	assert_true(k.has_not_after);
	assert_int_equal(k.not_after, INT64_C(1798761599));
	assert_int_equal(k.line, 0);
	assert_true(k.all_doors);
	/* With no key to fill, only the verdict. */
	assert_int_equal(cmd_key_parse(NULL, line, (size_t)n, NULL, 0), 0);

	assert_int_equal(cmd_key_parse(&k, "", 0, err, sizeof(err)), -1);
	assert_string_equal(err, "no key on the line: write \"ed25519 <base64 key> <key-id> "
	                         "[options]\"");
	assert_int_equal(cmd_key_parse(&k, NULL, 5, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no key on the line"));
	assert_int_equal(cmd_key_parse(&k, "  # a comment", 13, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no key on the line"));
	assert_int_equal(cmd_key_parse(&k, "rsa x y", 7, err, sizeof(err)), -1);
	assert_string_equal(err, "key type \"rsa\" is not supported: only ed25519 keys are "
	                         "supported (create one with garagectl keygen)");
	n = snprintf(line, sizeof(line), "ed25519 %s bob hours=10:00-10:00", pub_b64(2));
	assert_int_equal(cmd_key_parse(&k, line, (size_t)n, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "hours= \"10:00-10:00\" starts where it ends"));
	/* The whole-line rules hold too: a NUL inside, and the length. */
	n = snprintf(line, sizeof(line), "ed25519 %s bob", pub_b64(2));
	line[n - 1] = '\0';
	assert_int_equal(cmd_key_parse(&k, line, (size_t)n, err, sizeof(err)), -1);
	assert_string_equal(err, "line contains a NUL byte: the file must be plain text");
	n = snprintf(line, sizeof(line), "ed25519 %s bob", pub_b64(2));
	memset(line + n, ' ', CMD_KEYS_LINE_MAX + 1 - (size_t)n);
	assert_int_equal(cmd_key_parse(&k, line, CMD_KEYS_LINE_MAX, err, sizeof(err)), 0);
	assert_int_equal(cmd_key_parse(&k, line, CMD_KEYS_LINE_MAX + 1, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "line is longer than 1024 bytes"));
}

/* ---- a key back to text ------------------------------------------------------------------ */

/* Equal in everything a line says (the line number is where it was, not what it says). */
static void
assert_same_key(const struct cmd_key *a, const struct cmd_key *b, const char *what)
{
	bool same = strcmp(a->kid, b->kid) == 0 && memcmp(a->pub, b->pub, sizeof(a->pub)) == 0 &&
	            a->actions == b->actions && a->all_doors == b->all_doors &&
	            a->ndoors == b->ndoors && a->has_not_before == b->has_not_before &&
	            a->has_not_after == b->has_not_after && a->not_before == b->not_before &&
	            a->not_after == b->not_after && a->days == b->days &&
	            a->has_hours == b->has_hours && a->hours_from == b->hours_from &&
	            a->hours_to == b->hours_to && a->admin == b->admin;

	for (size_t d = 0; same && d < a->ndoors && d < CMD_MAX_DOORS; d++)
		same = strcmp(a->doors[d], b->doors[d]) == 0;
	if (!same)
		fail_msg("%s: the keys differ", what);
}

static void
parse_line_ok(struct cmd_key *k, const char *line)
{
	char err[256];

	if (cmd_key_parse(k, line, strlen(line), err, sizeof(err)) != 0)
		fail_msg("should parse: \"%s\": %s", line, err);
}

/* Each line written as a person might, and the canonical line the core writes back. */
static void
test_keys_FormatCanonical(void **state)
{
	static const struct {
		const char *options, *canonical;
	} rows[] = {
	    {"", ""},
	    {"actions=open,close,stop,toggle", ""},
	    {"actions=toggle,stop,close,open", ""},
	    {"actions=toggle,open", " actions=open,toggle"},
	    {"doors=side,main", " doors=side,main"},
	    {"\tadmin   doors=main\t", " doors=main admin"},
	    {"hours=22:00-06:00 days=sun,sat not_after=2026-12-31T23:59:59Z "
	     "not_before=2026-12-24T18:00:00Z actions=close",
	     " actions=close not_before=2026-12-24T18:00:00Z not_after=2026-12-31T23:59:59Z "
	     "days=sat,sun hours=22:00-06:00"},
	    {"days=sun,mon,tue,wed,thu,fri,sat", " days=mon,tue,wed,thu,fri,sat,sun"},
	    {"hours=00:00-23:59 admin actions=stop doors=a,b,c,d,e,f,g,h",
	     " actions=stop doors=a,b,c,d,e,f,g,h hours=00:00-23:59 admin"},
	    {"not_after=1970-01-01T00:00:00Z", " not_after=1970-01-01T00:00:00Z"},
	    {"not_before=9999-12-31T23:59:59Z", " not_before=9999-12-31T23:59:59Z"},
	};
	char line[CMD_KEYS_LINE_MAX + 1], want[CMD_KEYS_LINE_MAX + 1];
	char text[CMD_KEYS_LINE_MAX + 1];
	struct cmd_key k, again;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		snprintf(line, sizeof(line), "ed25519   %s  bob@home %s", pub_b64(5),
		         rows[i].options);
		snprintf(want, sizeof(want), "ed25519 %s bob@home%s", pub_b64(5),
		         rows[i].canonical);
		parse_line_ok(&k, line);
		assert_int_equal(cmd_key_format(&k, text, sizeof(text)), strlen(want));
		assert_string_equal(text, want);
		parse_line_ok(&again, text);
		assert_same_key(&k, &again, line);
		/* The canonical line is a fixed point. */
		assert_int_equal(cmd_key_format(&again, line, sizeof(line)), strlen(want));
		assert_string_equal(line, want);
	}
}

/*
 * parse(format(k)) == k for every combination of options, each with a few values; and the
 * JSON of each is valid JSON with exactly the fields the key has.
 */
static void
test_keys_FormatRoundTripEveryCombination(void **state)
{
	static const char *const actions[] = {NULL, "actions=open", "actions=stop,toggle",
	                                      "actions=open,close,stop"};
	static const char *const doors[] = {NULL, "doors=main", "doors=x,y-z,a_1"};
	static const char *const not_before[] = {NULL, "not_before=2026-12-24T18:00:00Z",
	                                         "not_before=1970-01-01T00:00:00Z"};
	static const char *const not_after[] = {NULL, "not_after=2026-12-31T23:59:59Z",
	                                        "not_after=9999-12-31T23:59:59Z"};
	static const char *const days[] = {NULL, "days=mon", "days=sat,sun,wed"};
	static const char *const hours[] = {NULL, "hours=07:00-10:00", "hours=22:30-06:15"};
	static const char *const admin[] = {NULL, "admin"};
	const char *const *lists[] = {actions, doors, not_before, not_after, days, hours, admin};
	const size_t sizes[] = {4, 3, 3, 3, 3, 3, 2};
	size_t combos = 1, count = 0;

	(void)state;
	for (size_t l = 0; l < 7; l++)
		combos *= sizes[l];
	for (size_t c = 0; c < combos; c++) {
		char line[CMD_KEYS_LINE_MAX + 1], text[CMD_KEYS_LINE_MAX + 1];
		char json[CMD_KEY_JSON_MAX];
		struct cmd_key k, again;
		size_t pick = c, n, jn;
		cJSON *o;

		n = (size_t)snprintf(line, sizeof(line), "ed25519 %s k%zu", pub_b64((unsigned)c),
		                     c);
		/* Options in an order that turns with c, so that the written order varies. */
		for (size_t l = 0; l < 7; l++) {
			const char *opt = lists[l][pick % sizes[l]];

			pick /= sizes[l];
			if (opt != NULL)
				n += (size_t)snprintf(line + n, sizeof(line) - n, " %s", opt);
		}
		parse_line_ok(&k, line);
		n = cmd_key_format(&k, text, sizeof(text));
		assert_true(n > 0 && n == strlen(text));
		parse_line_ok(&again, text);
		assert_same_key(&k, &again, line);

		jn = cmd_key_json(&k, json, sizeof(json));
		assert_true(jn > 0 && jn == strlen(json));
		o = cJSON_Parse(json);
		if (o == NULL)
			fail_msg("not JSON: %s", json);
		assert_string_equal(cJSON_GetObjectItemCaseSensitive(o, "kid")->valuestring, k.kid);
		assert_string_equal(cJSON_GetObjectItemCaseSensitive(o, "pub")->valuestring,
		                    pub_b64((unsigned)c));
		assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o, "actions")),
		                 __builtin_popcount(k.actions));
		if (k.all_doors)
			assert_string_equal(
			    cJSON_GetObjectItemCaseSensitive(o, "doors")->valuestring, "all");
		else
			assert_int_equal(
			    cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o, "doors")),
			    k.ndoors);
		assert_int_equal(cJSON_HasObjectItem(o, "not_before"), k.has_not_before);
		assert_int_equal(cJSON_HasObjectItem(o, "not_after"), k.has_not_after);
		assert_int_equal(cJSON_HasObjectItem(o, "days"), k.days != 0);
		assert_int_equal(cJSON_HasObjectItem(o, "hours"), k.has_hours);
		assert_int_equal(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "admin")),
		                 k.admin);
		assert_int_equal(cJSON_GetArraySize(o), 5 + k.has_not_before + k.has_not_after +
		                                            (k.days != 0) + k.has_hours);
		cJSON_Delete(o);
		count++;
	}
	assert_int_equal(count, 4 * 3 * 3 * 3 * 3 * 3 * 2);
}

static void
test_keys_Json(void **state)
{
	char line[256], json[CMD_KEY_JSON_MAX], want[CMD_KEY_JSON_MAX];
	struct cmd_key k;

	(void)state;
	snprintf(line, sizeof(line), "ed25519 %s bob actions=open doors=main", pub_b64(4));
	parse_line_ok(&k, line);
	snprintf(want, sizeof(want),
	         "{\"kid\":\"bob\",\"pub\":\"%s\",\"actions\":[\"open\"],\"doors\":[\"main\"],"
	         "\"admin\":false}",
	         pub_b64(4));
	assert_int_equal(cmd_key_json(&k, json, sizeof(json)), strlen(want));
	assert_string_equal(json, want);

	snprintf(line, sizeof(line),
	         "ed25519 %s walker doors=main,side not_after=2026-12-31T23:59:59Z "
	         "not_before=2026-12-01T00:00:00Z days=fri,mon hours=07:00-10:00 admin",
	         pub_b64(4));
	parse_line_ok(&k, line);
	snprintf(
	    want, sizeof(want),
	    "{\"kid\":\"walker\",\"pub\":\"%s\",\"actions\":[\"open\",\"close\",\"stop\","
	    "\"toggle\"],\"doors\":[\"main\",\"side\"],\"not_before\":\"2026-12-01T00:00:00Z\","
	    "\"not_after\":\"2026-12-31T23:59:59Z\",\"days\":[\"mon\",\"fri\"],"
	    "\"hours\":\"07:00-10:00\",\"admin\":true}",
	    pub_b64(4));
	assert_int_equal(cmd_key_json(&k, json, sizeof(json)), strlen(want));
	assert_string_equal(json, want);

	snprintf(line, sizeof(line), "ed25519 %s alice", pub_b64(4));
	parse_line_ok(&k, line);
	snprintf(want, sizeof(want),
	         "{\"kid\":\"alice\",\"pub\":\"%s\",\"actions\":[\"open\",\"close\",\"stop\","
	         "\"toggle\"],\"doors\":\"all\",\"admin\":false}",
	         pub_b64(4));
	assert_int_equal(cmd_key_json(&k, json, sizeof(json)), strlen(want));
	assert_string_equal(json, want);
}

/* The longest key there can be fits the documented buffers, exactly as the texts need. */
static void
test_keys_FormatBuffers(void **state)
{
	static const char kid64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._";
	char line[CMD_KEYS_LINE_MAX + 1], text[CMD_KEYS_LINE_MAX + 1], json[CMD_KEY_JSON_MAX];
	struct cmd_key k;
	size_t n, jn;

	(void)state;
	snprintf(line, sizeof(line),
	         "ed25519 %s %s actions=close,stop,toggle doors=abcdefghijklmnopqrstuvwxyz012345,"
	         "bbcdefghijklmnopqrstuvwxyz012345,cbcdefghijklmnopqrstuvwxyz012345,"
	         "dbcdefghijklmnopqrstuvwxyz012345,ebcdefghijklmnopqrstuvwxyz012345,"
	         "fbcdefghijklmnopqrstuvwxyz012345,gbcdefghijklmnopqrstuvwxyz012345,"
	         "hbcdefghijklmnopqrstuvwxyz012345 not_before=2026-12-24T18:00:00Z "
	         "not_after=2026-12-31T23:59:59Z days=mon,tue,wed,thu,fri,sat,sun "
	         "hours=22:00-06:00 admin",
	         pub_b64(9), kid64);
	parse_line_ok(&k, line);
	n = cmd_key_format(&k, text, sizeof(text));
	assert_int_equal(n, strlen(line));
	assert_string_equal(text, line);
	jn = cmd_key_json(&k, json, sizeof(json));
	assert_true(jn > 0 && jn < CMD_KEY_JSON_MAX);

	/* Exactly room for the text and its NUL; one byte less is nothing, and an empty text. */
	assert_int_equal(cmd_key_format(&k, text, n + 1), n);
	memset(text, 'x', sizeof(text));
	assert_int_equal(cmd_key_format(&k, text, n), 0);
	assert_string_equal(text, "");
	assert_int_equal(cmd_key_json(&k, json, jn + 1), jn);
	memset(json, 'x', sizeof(json));
	assert_int_equal(cmd_key_json(&k, json, jn), 0);
	assert_string_equal(json, "");
	assert_int_equal(cmd_key_format(&k, NULL, 0), 0);
	assert_int_equal(cmd_key_json(&k, NULL, 0), 0);
	assert_int_equal(cmd_key_format(NULL, text, sizeof(text)), 0);
	assert_int_equal(cmd_key_json(NULL, json, sizeof(json)), 0);
}

/* A struct no line could have made is refused, so that what is written always parses again. */
static void
test_keys_FormatRefusesWhatNoLineHolds(void **state)
{
	char line[128], text[CMD_KEYS_LINE_MAX + 1], json[CMD_KEY_JSON_MAX];
	struct cmd_key good, k;
	size_t i;

	(void)state;
	snprintf(line, sizeof(line), "ed25519 %s bob doors=main hours=07:00-10:00", pub_b64(1));
	parse_line_ok(&good, line);
	for (i = 0; i < 15; i++) {
		k = good;
		switch (i) {
		case 0:
			k.kid[0] = '\0';
			break;
		case 1:
			k.kid[1] = ' ';
			break;
		case 2:
			memset(k.kid, 'a', sizeof(k.kid));
			break;
		case 3:
			k.actions = 0;
			break;
		case 4:
			k.actions = 1U << CMD_ACTION_COUNT;
			break;
		case 5:
			k.ndoors = 0;
			break;
		case 6:
			k.ndoors = CMD_MAX_DOORS + 1;
			break;
		case 7:
			strcpy(k.doors[0], "Main");
			break;
		case 8:
			k.all_doors = true;
			break;
		case 9:
			k.hours_to = k.hours_from;
			break;
		case 10:
			k.hours_from = 24 * 60;
			break;
		case 11:
			k.has_not_after = true;
			k.not_after = -1;
			break;
		case 12:
			k.has_not_before = true;
			k.not_before = INT64_C(253402300800);
			break;
		case 13:
			k.has_not_before = k.has_not_after = true;
			k.not_before = 2;
			k.not_after = 1;
			break;
		default:
			k.days = 0x80;
			break;
		}
		if (cmd_key_format(&k, text, sizeof(text)) != 0 ||
		    cmd_key_json(&k, json, sizeof(json)) != 0)
			fail_msg("case %zu: written: %s", i, text);
	}
	/* Two doors of the same name. */
	snprintf(line, sizeof(line), "ed25519 %s bob doors=main,side", pub_b64(1));
	parse_line_ok(&k, line);
	strcpy(k.doors[1], "main");
	assert_int_equal(cmd_key_format(&k, text, sizeof(text)), 0);
}

/* ---- errors ------------------------------------------------------------------------------- */

/*
 * One bad file: the error must start with "LINE: ", contain want, and leave the ring exactly as
 * it was (here filled with 0xa5, which no parse would ever write).
 */
static void
expect_error(struct cmd_keyring *ring, const char *text, size_t len, unsigned int line,
             const char *want)
{
	struct cmd_keyring *before = test_malloc(sizeof(*before));
	char err[256];
	char prefix[16];

	memset(ring, 0xa5, sizeof(*ring));
	memcpy(before, ring, sizeof(*ring));
	memset(err, 0, sizeof(err));
	if (cmd_keys_parse(ring, text, len, err, sizeof(err)) != -1)
		fail_msg("should be refused: \"%s\"", text);
	snprintf(prefix, sizeof(prefix), "%u: ", line);
	if (strncmp(err, prefix, strlen(prefix)) != 0 || strstr(err, want) == NULL)
		fail_msg("\"%s\":\n got \"%s\"\nwant \"%s...%s...\"", text, err, prefix, want);
	assert_memory_equal(ring, before, sizeof(*ring));
	test_free(before);
}

static void
test_keys_Errors(void **state)
{
	static const struct {
		const char *fmt; /* %1$s is a good key, %2$s a second one */
		unsigned int line;
		const char *want;
	} rows[] = {
	    {"rsa AAAA alice\n", 1, "key type \"rsa\" is not supported: only ed25519 keys are"},
	    {"ssh-rsa AAAAB3NzaC1yc2E alice@host\n", 1, "\"ssh-rsa\" is not supported"},
	    {"ssh-ed25519 %1$s alice\n", 1, "\"ssh-ed25519\" is not supported: only ed25519"},
	    {"ED25519 %1$s alice\n", 1, "\"ED25519\" is not supported"},
	    {"ecdsa-sha2-nistp256 AAAA alice\n", 1, "only ed25519 keys are supported"},
	    {"ed25519\n", 1, "missing public key"},
	    {"ed25519   \t \n", 1, "missing public key"},
	    {"ed25519 %1$s\n", 1, "missing key id"},
	    {"ed25519 %1$s \r\n", 1, "missing key id"},
	    /* 31 and 33 bytes, unpadded, the URL alphabet, non-zero unused bits, junk. */
	    {"ed25519 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg== alice\n", 1,
	     "public key is not the standard base64 of 32 bytes"},
	    {"ed25519 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g alice\n", 1,
	     "public key is not"},
	    {"ed25519 AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA alice\n", 1, "public key is not"},
	    {"ed25519 -_-_BAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA= alice\n", 1,
	     "public key is not"},
	    {"ed25519 AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyB= alice\n", 1,
	     "public key is not"},
	    {"ed25519 AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHy== alice\n", 1,
	     "public key is not"},
	    {"ed25519 not-base64 alice\n", 1, "public key is not"},
	    /* Key ids. */
	    {"ed25519 %1$s bad!kid\n", 1, "key id \"bad!kid\" is invalid: use 1 to 64 of"},
	    {"ed25519 %1$s al\rice\n", 1, "key id \"al?ice\" is invalid"},
	    {"ed25519 %1$s caf\xc3\xa9\n", 1, "key id \"caf??\" is invalid"},
	    {"ed25519 %1$s "
	     "a123456789b123456789c123456789d123456789e123456789f123456789g1234\n",
	     1, "is invalid"},
	    {"ed25519 %1$s alice\n# c\ned25519 %2$s alice\n", 3,
	     "duplicate key id \"alice\" (first on line 1): give each key its own id"},
	    {"ed25519 %1$s alice\ned25519 %1$s Alice\ned25519 %2$s Alice doors=x\n", 3,
	     "(first on line 2)"},
	    /* Options. */
	    {"ed25519 %1$s alice foo=bar\n", 1, "unknown option \"foo=bar\": only actions="},
	    {"ed25519 %1$s alice actions\n", 1, "unknown option \"actions\""},
	    {"ed25519 %1$s alice Actions=open\n", 1, "unknown option \"Actions=open\""},
	    {"ed25519 %1$s alice # alice's phone\n", 1, "unknown option \"#\""},
	    {"ed25519 %1$s alice actions=open actions=close\n", 1, "actions= is given twice"},
	    {"ed25519 %1$s alice doors=main doors=side\n", 1, "doors= is given twice"},
	    {"ed25519 %1$s alice actions=fly\n", 1, "unknown action \"fly\": use open, close"},
	    {"ed25519 %1$s alice actions=OPEN\n", 1, "unknown action \"OPEN\""},
	    {"ed25519 %1$s alice actions=opens\n", 1, "unknown action \"opens\""},
	    {"ed25519 %1$s alice actions=\n", 1, "empty action in actions="},
	    {"ed25519 %1$s alice actions= open\n", 1, "empty action in actions="},
	    {"ed25519 %1$s alice actions=open,\n", 1, "empty action"},
	    {"ed25519 %1$s alice actions=,open\n", 1, "empty action"},
	    {"ed25519 %1$s alice actions=open,,close\n", 1, "empty action"},
	    {"ed25519 %1$s alice actions=open,close,open\n", 1,
	     "action \"open\" is listed twice in actions="},
	    {"ed25519 %1$s alice doors=\n", 1, "empty door in doors="},
	    {"ed25519 %1$s alice doors=main,\n", 1, "empty door"},
	    {"ed25519 %1$s alice doors=Main\n", 1, "door name \"Main\" is invalid"},
	    {"ed25519 %1$s alice doors=main.side\n", 1, "door name \"main.side\" is invalid"},
	    {"ed25519 %1$s alice doors=abcdefghijklmnopqrstuvwxyz0123456\n", 1, "is invalid"},
	    {"ed25519 %1$s alice doors=a,b,c,d,e,f,g,h,i\n", 1, "too many doors in doors="},
	    {"ed25519 %1$s alice doors=main,side,main\n", 1,
	     "door \"main\" is listed twice in doors="},
	    /* not_before= and not_after=. */
	    {"ed25519 %1$s alice not_before=2026-12-24T18:00:00\n", 1,
	     "not_before= \"2026-12-24T18:00:00\" is not a UTC time: write it as "
	     "2026-12-24T18:00:00Z"},
	    {"ed25519 %1$s alice not_after=2026-12-24\n", 1,
	     "not_after= \"2026-12-24\" is not a UTC time"},
	    {"ed25519 %1$s alice not_after=\n", 1, "not_after= \"\" is not a UTC time"},
	    {"ed25519 %1$s alice not_after=2026-02-29T00:00:00Z\n", 1, "is not a UTC time"},
	    {"ed25519 %1$s alice not_after=2026-12-24T24:00:00Z\n", 1, "is not a UTC time"},
	    {"ed25519 %1$s alice not_after=2026-12-24T18:00:00+01:00\n", 1, "is not a UTC time"},
	    {"ed25519 %1$s alice not_before=1969-12-31T23:59:59Z\n", 1, "is not a UTC time"},
	    {"ed25519 %1$s alice Not_after=2026-12-24T18:00:00Z\n", 1,
	     "unknown option \"Not_after=2026-12-24T18:00:00Z\""},
	    {"ed25519 %1$s alice not_after 2026-12-24T18:00:00Z\n", 1,
	     "unknown option \"not_after\""},
	    {"ed25519 %1$s alice not_after=2026-12-24T18:00:00Z not_after=2026-12-25T18:00:00Z\n",
	     1, "not_after= is given twice: give it once"},
	    {"ed25519 %1$s alice not_before=2026-12-24T18:00:00Z "
	     "not_before=2026-12-24T18:00:00Z\n",
	     1, "not_before= is given twice"},
	    {"ed25519 %1$s alice not_before=2026-12-24T18:00:01Z not_after=2026-12-24T18:00:00Z\n",
	     1, "not_before= is later than not_after=: the key would never be valid"},
	    /* days=. */
	    {"ed25519 %1$s alice days=\n", 1, "empty day in days=: list days as days=mon,tue,wed"},
	    {"ed25519 %1$s alice days=mon,\n", 1, "empty day in days="},
	    {"ed25519 %1$s alice days=,mon\n", 1, "empty day in days="},
	    {"ed25519 %1$s alice days=Mon\n", 1,
	     "unknown day \"Mon\" in days=: use mon, tue, wed, thu, fri, sat or sun"},
	    {"ed25519 %1$s alice days=monday\n", 1, "unknown day \"monday\""},
	    {"ed25519 %1$s alice days=mo\n", 1, "unknown day \"mo\""},
	    {"ed25519 %1$s alice days=1\n", 1, "unknown day \"1\""},
	    {"ed25519 %1$s alice days=mon,tue,mon\n", 1,
	     "day \"mon\" is listed twice in days=: list it once"},
	    {"ed25519 %1$s alice days=mon days=tue\n", 1, "days= is given twice"},
	    /* hours=. */
	    {"ed25519 %1$s alice hours=7:00-10:00\n", 1,
	     "hours= \"7:00-10:00\" is not a span of local time: write it as hours=07:00-10:00"},
	    {"ed25519 %1$s alice hours=07:00\n", 1, "is not a span of local time"},
	    {"ed25519 %1$s alice hours=07:00-24:00\n", 1, "is not a span of local time"},
	    {"ed25519 %1$s alice hours=24:00-07:00\n", 1, "is not a span of local time"},
	    {"ed25519 %1$s alice hours=07:60-08:00\n", 1, "is not a span of local time"},
	    {"ed25519 %1$s alice hours=07:00~10:00\n", 1, "is not a span of local time"},
	    {"ed25519 %1$s alice hours=07.00-10.00\n", 1, "is not a span of local time"},
	    {"ed25519 %1$s alice hours=07:00-10:00,12:00-13:00\n", 1,
	     "is not a span of local time"},
	    {"ed25519 %1$s alice hours=\n", 1, "hours= \"\" is not a span"},
	    {"ed25519 %1$s alice hours=07:00-07:00\n", 1,
	     "hours= \"07:00-07:00\" starts where it ends: give a span (leave hours= out for the "
	     "whole day)"},
	    {"ed25519 %1$s alice hours=07:00-10:00 hours=12:00-13:00\n", 1,
	     "hours= is given twice: give one span"},
	    /* admin. */
	    {"ed25519 %1$s alice admin admin\n", 1, "admin is given twice: give it once"},
	    {"ed25519 %1$s alice admin=yes\n", 1, "unknown option \"admin=yes\""},
	    {"ed25519 %1$s alice Admin\n", 1, "unknown option \"Admin\""},
	    {"ed25519 %1$s alice admins\n", 1, "unknown option \"admins\""},
	    {"admin ed25519 %1$s alice\n", 1, "key type \"admin\" is not supported"},
	    {"# guests\n\ned25519 %1$s alice admin\ned25519 %2$s bob days=mon hours=25:00-26:00\n",
	     4, "hours= \"25:00-26:00\" is not a span"},
	    /* Line numbers count comments, blank lines and CRLF lines. */
	    {"# one\n\nrsa x y\n", 3, "is not supported"},
	    {"# one\r\n\r\n  \r\nrsa x y\r\n", 4, "is not supported"},
	    {"ed25519 %1$s alice\nrsa", 2, "is not supported"},
	    /* An error after good keys still refuses the whole file. */
	    {"ed25519 %1$s alice\ned25519 %2$s bob\n\n\ned25519 %2$s carol actions=x\n", 5,
	     "unknown action \"x\""},
	};
	struct cmd_keyring *ring = *state;
	char text[512];

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
		snprintf(text, sizeof(text), rows[i].fmt, pub_b64(1), pub_b64(2));
#pragma GCC diagnostic pop
		expect_error(ring, text, strlen(text), rows[i].line, rows[i].want);
	}
}

static void
test_keys_NulByteRefused(void **state)
{
	struct cmd_keyring *ring = *state;
	char text[256];
	int n = snprintf(text, sizeof(text), "# ok\ned25519 %s alice\n", pub_b64(1));

	/* The NUL ends what a C string would see, but not what the file holds. */
	text[n - 3] = '\0';
	expect_error(ring, text, (size_t)n, 2, "line contains a NUL byte");
}

static void
test_keys_TooManyKeys(void **state)
{
	struct cmd_keyring *ring = *state;
	char *text = test_malloc(BIG_TEXT);
	size_t n = 0;

	n += (size_t)snprintf(text + n, BIG_TEXT - n, "# header\n");
	for (unsigned int i = 0; i <= CMD_MAX_KEYS; i++)
		n += (size_t)snprintf(text + n, BIG_TEXT - n, "ed25519 %s key%u\n", pub_b64(i), i);
	expect_error(ring, text, n, CMD_MAX_KEYS + 2, "too many keys: at most 32 are allowed");
	test_free(text);
}

/* ---- the ring and the error buffer -------------------------------------------------------- */

static void
test_keys_RingReplacedEntirelyOnSuccess(void **state)
{
	struct cmd_keyring *ring = *state;
	char text[512];

	snprintf(text, sizeof(text), "ed25519 %s a\ned25519 %s b doors=main\ned25519 %s c\n",
	         pub_b64(1), pub_b64(2), pub_b64(3));
	parse_ok(ring, text);
	assert_int_equal(ring->nkeys, 3);

	/* A reload with fewer keys leaves nothing of the old ones behind: revocation works. */
	snprintf(text, sizeof(text), "ed25519 %s z\n", pub_b64(9));
	parse_ok(ring, text);
	assert_int_equal(ring->nkeys, 1);
	assert_key(&ring->keys[0], "z", 9, ALL_ACTIONS);
	assert_true(ring->keys[0].all_doors);
	assert_int_equal(ring->keys[0].ndoors, 0);
	assert_string_equal(ring->keys[0].doors[0], "");
	assert_string_equal(ring->keys[1].kid, "");
	assert_string_equal(ring->keys[2].kid, "");
}

static void
test_keys_ErrorBufferHandling(void **state)
{
	struct cmd_keyring *ring = *state;
	char text[128];
	char err[8];

	/* Truncated like snprintf: NUL-terminated, never past errlen. */
	memset(err, 'x', sizeof(err));
	assert_int_equal(cmd_keys_parse(ring, "rsa x y\n", 8, err, 6), -1);
	assert_string_equal(err, "1: ke");
	assert_int_equal(err[6], 'x');
	/* No buffer at all is fine. */
	assert_int_equal(cmd_keys_parse(ring, "rsa x y\n", 8, NULL, 0), -1);
	memset(err, 'x', sizeof(err));
	assert_int_equal(cmd_keys_parse(ring, "rsa x y\n", 8, err, 0), -1);
	assert_int_equal(err[0], 'x');
	/* Success leaves an empty message, not a stale one. */
	snprintf(text, sizeof(text), "ed25519 %s a\n", pub_b64(1));
	strcpy(err, "stale");
	assert_int_equal(cmd_keys_parse(ring, text, strlen(text), err, sizeof(err)), 0);
	assert_string_equal(err, "");
}

/* With no ring the text is only checked, as garaged --check-config wants. */
static void
test_keys_NullRingOnlyValidates(void **state)
{
	char text[128];
	char err[128];

	(void)state;
	snprintf(text, sizeof(text), "ed25519 %s a\n", pub_b64(1));
	assert_int_equal(cmd_keys_parse(NULL, text, strlen(text), err, sizeof(err)), 0);
	assert_int_equal(cmd_keys_parse(NULL, "rsa x y", 7, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "only ed25519"));
}

/* ---- lookup and permissions --------------------------------------------------------------- */

/* A key is found by its whole id only, and allows exactly what its line lists. */
static void
test_keys_FindAndAllow(void **state)
{
	struct cmd_keyring *ring = *state;
	const struct cmd_key *alice, *bob;
	char text[256];

	snprintf(text, sizeof(text),
	         "ed25519 %s alice\n"
	         "ed25519 %s bob actions=open,stop doors=side,back\n",
	         pub_b64(1), pub_b64(2));
	parse_ok(ring, text);

	alice = cmd_keyring_find(ring, "alice", 5);
	bob = cmd_keyring_find(ring, "bobby", 3); /* only n bytes are looked at */
	assert_ptr_equal(alice, &ring->keys[0]);
	assert_ptr_equal(bob, &ring->keys[1]);
	assert_null(cmd_keyring_find(ring, "ali", 3));
	assert_null(cmd_keyring_find(ring, "alice2", 6));
	assert_null(cmd_keyring_find(ring, "Alice", 5));
	assert_null(cmd_keyring_find(ring, "", 0));
	assert_null(cmd_keyring_find(NULL, "alice", 5));

	for (unsigned int a = 0; a < CMD_ACTION_COUNT; a++) {
		assert_true(cmd_key_allows(alice, (enum cmd_action)a, "main", 4));
		assert_true(cmd_key_allows(alice, (enum cmd_action)a, "anything", 8));
	}
	assert_true(cmd_key_allows(bob, CMD_ACTION_OPEN, "side", 4));
	assert_true(cmd_key_allows(bob, CMD_ACTION_STOP, "back", 4));
	assert_true(cmd_key_allows(bob, CMD_ACTION_OPEN, "sidewalk", 4));
	assert_false(cmd_key_allows(bob, CMD_ACTION_CLOSE, "side", 4));
	assert_false(cmd_key_allows(bob, CMD_ACTION_TOGGLE, "side", 4));
	assert_false(cmd_key_allows(bob, CMD_ACTION_OPEN, "main", 4));
	assert_false(cmd_key_allows(bob, CMD_ACTION_OPEN, "sid", 3));
	assert_false(cmd_key_allows(bob, CMD_ACTION_OPEN, "", 0));
	/* Not an action at all: refused, and no shift by a wild amount. */
	assert_false(cmd_key_allows(alice, CMD_ACTION_COUNT, "main", 4));
	assert_false(cmd_key_allows(alice, (enum cmd_action)40, "main", 4));
}

/* ---- the invitations' helpers ------------------------------------------------------------ */

/* One key from one line's options, its pub seed 1. */
static struct cmd_key
key_of(const char *options)
{
	struct cmd_key k;
	char line[512], err[256];

	snprintf(line, sizeof(line), "ed25519 %s k %s", pub_b64(1), options);
	if (cmd_key_parse(&k, line, strlen(line), err, sizeof(err)) != 0)
		fail_msg("\"%s\": %s", options, err);
	return k;
}

static void
test_keys_DayAndHoursParse(void **state)
{
	static const char *const days[7] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
	unsigned int wday = 99;
	uint16_t from = 1, to = 1;

	(void)state;
	for (unsigned int d = 0; d < 7; d++) {
		assert_true(cmd_day_parse(days[d], 3, &wday));
		assert_int_equal(wday, d);
	}
	wday = 99;
	assert_false(cmd_day_parse("Mon", 3, &wday));
	assert_false(cmd_day_parse("mo", 2, &wday));
	assert_false(cmd_day_parse("mond", 4, &wday));
	assert_false(cmd_day_parse(NULL, 3, &wday));
	assert_int_equal(wday, 99);

	assert_true(cmd_hours_parse("07:00-10:00", 11, &from, &to));
	assert_int_equal(from, 7 * 60);
	assert_int_equal(to, 10 * 60);
	assert_true(cmd_hours_parse("23:59-00:00", 11, &from, &to));
	assert_int_equal(from, 23 * 60 + 59);
	assert_int_equal(to, 0);
	from = to = 1;
	assert_false(cmd_hours_parse("07:00-07:00", 11, &from, &to)); /* an empty span */
	assert_false(cmd_hours_parse("24:00-01:00", 11, &from, &to));
	assert_false(cmd_hours_parse("07:00_10:00", 11, &from, &to));
	assert_false(cmd_hours_parse("07:00-10:0", 10, &from, &to));
	assert_false(cmd_hours_parse("7:00-10:00", 10, &from, &to));
	assert_false(cmd_hours_parse(NULL, 11, &from, &to));
	assert_int_equal(from, 1);
	assert_int_equal(to, 1);
}

static void
test_keys_Within(void **state)
{
	static const struct {
		const char *k, *limit;
		bool within;
	} cases[] = {
	    /* Actions and doors: a subset, every door only from a key with every door. */
	    {"", "", true},
	    {"actions=open", "", true},
	    {"", "actions=open,close,stop", false},
	    {"actions=open,close", "actions=close,open,stop", true},
	    {"actions=open,toggle", "actions=open,close", false},
	    {"doors=main", "", true},
	    {"doors=main,side", "doors=side,main,back", true},
	    {"", "doors=main", false},
	    {"doors=main,side", "doors=main", false},
	    /* Expiry: no later than the limit's; not_before is not compared. */
	    {"not_after=2026-12-31T23:59:59Z", "", true},
	    {"", "not_after=2026-12-31T23:59:59Z", false},
	    {"not_after=2026-12-31T23:59:59Z", "not_after=2026-12-31T23:59:59Z", true},
	    {"not_after=2027-01-01T00:00:00Z", "not_after=2026-12-31T23:59:59Z", false},
	    {"not_after=2026-01-01T00:00:00Z", "not_after=2026-12-31T23:59:59Z", true},
	    {"not_before=2020-01-01T00:00:00Z", "not_before=2026-01-01T00:00:00Z", true},
	    {"", "not_before=2026-01-01T00:00:00Z", true},
	    /* The week and the day: inside the limit's, past midnight too. */
	    {"days=mon,tue", "days=mon,tue,wed", true},
	    {"days=mon,sun", "days=mon,tue", false},
	    {"", "days=mon", false},
	    {"days=mon", "", true},
	    {"hours=08:00-09:00", "hours=07:00-10:00", true},
	    {"hours=07:00-10:00", "hours=07:00-10:00", true},
	    {"hours=06:59-10:00", "hours=07:00-10:00", false},
	    {"hours=07:00-10:01", "hours=07:00-10:00", false},
	    {"", "hours=07:00-10:00", false},
	    {"hours=07:00-10:00", "", true},
	    {"hours=23:00-01:00", "hours=22:00-06:00", true},
	    {"hours=21:59-01:00", "hours=22:00-06:00", false},
	    {"hours=01:00-02:00", "hours=22:00-06:00", true},
	    {"hours=05:00-07:00", "hours=22:00-06:00", false},
	    {"hours=22:00-06:00", "hours=06:00-22:00", false},
	    {"hours=07:00-08:00", "hours=08:00-07:00", false},
	    {"hours=09:00-10:00", "hours=08:00-07:00", true},
	    /* admin only from an admin. */
	    {"admin", "admin", true},
	    {"admin", "", false},
	    {"", "admin", true},
	    {"actions=open doors=main not_after=2026-06-30T00:00:00Z days=sat,sun "
	     "hours=10:00-12:00",
	     "admin actions=open,close doors=main,side not_after=2026-12-31T23:59:59Z "
	     "days=fri,sat,sun hours=09:00-17:00",
	     true},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cmd_key k = key_of(cases[i].k), limit = key_of(cases[i].limit);

		if (cmd_key_within(&k, &limit) != cases[i].within)
			fail_msg("\"%s\" within \"%s\": want %s", cases[i].k, cases[i].limit,
			         cases[i].within ? "yes" : "no");
		/* Everything is within itself. */
		assert_true(cmd_key_within(&k, &k));
	}
	{
		struct cmd_key k = key_of("hours=07:00-10:00"), limit = key_of("hours=07:00-10:00");

		/* A span that no line holds never loops and is never within. */
		k.hours_to = 24 * 60;
		assert_false(cmd_key_within(&k, &limit));
		assert_false(cmd_key_within(NULL, &limit));
		assert_false(cmd_key_within(&limit, NULL));
	}
}

/* The option string of a line is what cmd_key_format() writes after the kid. */
static void
test_keys_OptionsAndLimitsText(void **state)
{
	static const char *const lines[] = {
	    "",
	    "admin",
	    "actions=open doors=main",
	    "actions=open,close doors=main,side not_before=2026-01-01T00:00:00Z "
	    "not_after=2026-12-31T23:59:59Z days=mon,sun hours=22:00-06:00 admin",
	};
	char buf[1024], line[1200], json[CMD_KEY_JSON_MAX], want[2 * CMD_KEY_JSON_MAX];
	struct text t;

	(void)state;
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		struct cmd_key k = key_of(lines[i]);

		text_init(&t, buf, sizeof(buf));
		cmd__key_put_options(&t, &k);
		assert_false(t.full);
		assert_string_equal(buf, lines[i]);
		assert_true(cmd_key_format(&k, line, sizeof(line)) > 0);
		assert_string_equal(
		    line + strlen("ed25519 ") + 44 + strlen(" k") + (buf[0] != '\0' ? 1 : 0), buf);

		/* The limits are cmd_key_json() between its pub and its admin. */
		text_init(&t, buf, sizeof(buf));
		cmd__key_put_limits(&t, &k);
		assert_true(cmd_key_json(&k, json, sizeof(json)) > 0);
		snprintf(want, sizeof(want), "{\"kid\":\"k\",\"pub\":\"%s\",%s,\"admin\":%s}",
		         pub_b64(1), buf, k.admin ? "true" : "false");
		assert_string_equal(json, want);
	}
}

static int
setup(void **state)
{
	*state = test_calloc(1, sizeof(struct cmd_keyring));
	return *state == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	test_free(*state);
	return 0;
}

/* Only days= or hours= make a keyring ask for the calendar (garaged's command_now()). */
static void
test_keys_ScheduledOnlyWithDaysOrHours(void **state)
{
	static struct cmd_keyring ring;
	char text[512];

	(void)state;
	snprintf(text, sizeof(text),
	         "ed25519 %s a not_after=2030-01-01T00:00:00Z\ned25519 %s b actions=open admin\n",
	         pub_b64(1), pub_b64(2));
	parse_ok(&ring, text);
	assert_false(cmd_keyring_scheduled(&ring));
	snprintf(text, sizeof(text), "ed25519 %s a\ned25519 %s b days=mon\n", pub_b64(1),
	         pub_b64(2));
	parse_ok(&ring, text);
	assert_true(cmd_keyring_scheduled(&ring));
	snprintf(text, sizeof(text), "ed25519 %s a hours=08:00-18:00\n", pub_b64(1));
	parse_ok(&ring, text);
	assert_true(cmd_keyring_scheduled(&ring));
	ring.nkeys = 0;
	assert_false(cmd_keyring_scheduled(&ring));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_keys_OneKeyDefaultsToEverything, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keys_OptionCombinations, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keys_CommentsBlankLinesAndWhitespace, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_keys_CrlfAndNoFinalNewline, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keys_EmptyTextIsNoKeys, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keys_ExactlyMaxKeys, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keys_LineOf1024BytesAccepted, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keys_NoOptionsMeansNoLimitsAndNotAdmin, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_keys_ValidityOptions, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keys_ScheduleAndAdminOptions, setup, teardown),
	    cmocka_unit_test(test_keys_UtcFormAgainstLibc),
	    cmocka_unit_test(test_keys_UtcFormRefused),
	    cmocka_unit_test(test_keys_ParseOneLine),
	    cmocka_unit_test(test_keys_FormatCanonical),
	    cmocka_unit_test(test_keys_FormatRoundTripEveryCombination),
	    cmocka_unit_test(test_keys_Json),
	    cmocka_unit_test(test_keys_FormatBuffers),
	    cmocka_unit_test(test_keys_FormatRefusesWhatNoLineHolds),
	    cmocka_unit_test_setup_teardown(test_keys_Errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keys_NulByteRefused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keys_TooManyKeys, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keys_RingReplacedEntirelyOnSuccess, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_keys_ErrorBufferHandling, setup, teardown),
	    cmocka_unit_test(test_keys_NullRingOnlyValidates),
	    cmocka_unit_test(test_keys_DayAndHoursParse),
	    cmocka_unit_test(test_keys_Within),
	    cmocka_unit_test(test_keys_OptionsAndLimitsText),
	    cmocka_unit_test(test_keys_ScheduledOnlyWithDaysOrHours),
	    cmocka_unit_test_setup_teardown(test_keys_FindAndAllow, setup, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
