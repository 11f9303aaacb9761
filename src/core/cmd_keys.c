/*
 * cmd_keys: authorized_keys lines and the keyring (see cmd_keys.h for what it owns).
 *
 * The text is checked in full before the ring is touched: a file that is wrong anywhere is
 * refused as a whole with the first line at fault, and the keys in use stay as they were.
 * Messages name the line and say how to fix it, since they end up in front of whoever edited
 * the file.
 *
 * Times are plain arithmetic: a not_before= or not_after= is UTC and becomes Unix seconds
 * through the proleptic Gregorian calendar (days_from_civil() below), with no libc time
 * function and no time zone, so that every port reads a line the same way. The local calendar
 * that days= and hours= are judged by is the caller's (struct cmd_now).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base64.h"
#include "cmd_keys.h"
#include "cmd_names.h"
#include "text.h"

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* The next run of non-blank bytes in s[*pos..n), or false at the end of the line. */
static bool
next_word(const char *s, size_t n, size_t *pos, const char **word, size_t *wlen)
{
	size_t i = *pos;
	size_t start;

	while (i < n && is_blank(s[i]))
		i++;
	if (i == n) {
		*pos = i;
		return false;
	}
	start = i;
	while (i < n && !is_blank(s[i]))
		i++;
	*word = s + start;
	*wlen = i - start;
	*pos = i;
	return true;
}

/* ---- the UTC time form ------------------------------------------------------------------- */

#define SECONDS_PER_DAY INT64_C(86400)
/* 9999-12-31T23:59:59Z, the last second the form can write. */
#define UTC_LAST INT64_C(253402300799)

/*
 * Days from 1970-01-01 to y-m-d (m 1 to 12) in the proleptic Gregorian calendar: Howard
 * Hinnant's days_from_civil(), whose years run from March so that the leap day comes last.
 */
static int64_t
days_from_civil(int64_t y, unsigned int m, unsigned int d)
{
	int64_t era;
	unsigned int yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned int)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* The inverse: the date of day z after 1970-01-01. */
static void
civil_from_days(int64_t z, int64_t *y, unsigned int *m, unsigned int *d)
{
	int64_t era;
	unsigned int doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned int)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static unsigned int
days_in_month(unsigned int y, unsigned int m)
{
	static const unsigned char days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29U : days[m - 1];
}

/* Exactly n decimal digits. */
static bool
get_digits(const char *s, size_t n, unsigned int *v)
{
	*v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		*v = *v * 10 + (unsigned int)(s[i] - '0');
	}
	return true;
}

/* v in exactly width digits, zeros in front. */
static void
put_digits(struct text *t, unsigned int v, unsigned int width)
{
	char d[4];

	for (unsigned int i = width; i > 0; i--) {
		d[i - 1] = (char)('0' + v % 10);
		v /= 10;
	}
	text_putn(t, d, width);
}

bool
cmd_utc_parse(const char *s, size_t n, int64_t *t)
{
	unsigned int y, mo, d, h, mi, sec;

	if (s == NULL || n != CMD_UTC_TEXT_MAX - 1 || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
	    s[13] != ':' || s[16] != ':' || s[19] != 'Z')
		return false;
	else if (!get_digits(s, 4, &y) || !get_digits(s + 5, 2, &mo) || !get_digits(s + 8, 2, &d) ||
	         !get_digits(s + 11, 2, &h) || !get_digits(s + 14, 2, &mi) ||
	         !get_digits(s + 17, 2, &sec))
		return false;
	else if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 ||
	         mi > 59 || sec > 59)
		return false;
	*t = days_from_civil(y, mo, d) * SECONDS_PER_DAY + (int64_t)(h * 3600 + mi * 60 + sec);
	return true;
}

size_t
cmd_utc_format(int64_t t, char *buf, size_t len)
{
	struct text e;
	int64_t y;
	unsigned int mo, d, sec;

	if (buf == NULL || len < CMD_UTC_TEXT_MAX || t < 0 || t > UTC_LAST) {
		if (buf != NULL && len != 0)
			buf[0] = '\0';
		return 0;
	}
	civil_from_days(t / SECONDS_PER_DAY, &y, &mo, &d);
	sec = (unsigned int)(t % SECONDS_PER_DAY);
	text_init(&e, buf, len);
	put_digits(&e, (unsigned int)y, 4);
	text_puts(&e, "-");
	put_digits(&e, mo, 2);
	text_puts(&e, "-");
	put_digits(&e, d, 2);
	text_puts(&e, "T");
	put_digits(&e, sec / 3600, 2);
	text_puts(&e, ":");
	put_digits(&e, sec / 60 % 60, 2);
	text_puts(&e, ":");
	put_digits(&e, sec % 60, 2);
	text_puts(&e, "Z");
	return e.len;
}

/* ---- options -------------------------------------------------------------------------------- */

/* Weekday names by struct cmd_now's wday, 0 = Sunday. */
static const char *const day_names[7] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

/* not_before=... or not_after=...: the name for messages, without its '='. */
static int
parse_utc_option(const char *name, bool *seen, int64_t *t, const char *v, size_t n, struct text *e)
{
	if (*seen) {
		text_puts(e, name);
		text_puts(e, "= is given twice: give it once");
		return -1;
	} else if (!cmd_utc_parse(v, n, t)) {
		text_puts(e, name);
		text_puts(e, "= ");
		text_put_quoted(e, v, n);
		text_puts(e, " is not a UTC time: write it as 2026-12-24T18:00:00Z (a real date of "
		             "the years 1970 to 9999, the Z included)");
		return -1;
	}
	*seen = true;
	return 0;
}

bool
cmd_day_parse(const char *s, size_t n, unsigned int *wday)
{
	for (unsigned int day = 0; day < 7; day++) {
		if (s != NULL && n == 3 && memcmp(s, day_names[day], 3) == 0) {
			*wday = day;
			return true;
		}
	}
	return false;
}

/* days=mon,tue: each day once, at least one, in any order. */
static int
parse_days(struct cmd_key *k, const char *v, size_t n, struct text *e)
{
	size_t i = 0;

	k->days = 0;
	for (;;) {
		size_t start = i;
		unsigned int day;

		while (i < n && v[i] != ',')
			i++;
		if (i == start) {
			text_puts(e, "empty day in days=: list days as days=mon,tue,wed");
			return -1;
		}
		if (!cmd_day_parse(v + start, i - start, &day)) {
			text_puts(e, "unknown day ");
			text_put_quoted(e, v + start, i - start);
			text_puts(e, " in days=: use mon, tue, wed, thu, fri, sat or sun");
			return -1;
		} else if (k->days & (1U << day)) {
			text_puts(e, "day ");
			text_put_quoted(e, v + start, i - start);
			text_puts(e, " is listed twice in days=: list it once");
			return -1;
		}
		k->days |= (uint8_t)(1U << day);
		if (i == n)
			return 0;
		i++; /* the comma */
	}
}

/* HH:MM, 00:00 to 23:59, as a minute of the day. */
static bool
parse_hhmm(const char *s, uint16_t *minute)
{
	unsigned int h, m;

	if (s[2] != ':' || !get_digits(s, 2, &h) || !get_digits(s + 3, 2, &m) || h > 23 || m > 59)
		return false;
	*minute = (uint16_t)(h * 60 + m);
	return true;
}

bool
cmd_hours_parse(const char *s, size_t n, uint16_t *from, uint16_t *to)
{
	uint16_t f, t;

	if (s == NULL || n != 11 || s[5] != '-' || !parse_hhmm(s, &f) || !parse_hhmm(s + 6, &t) ||
	    f == t)
		return false;
	*from = f;
	*to = t;
	return true;
}

/* hours=07:00-10:00: from the first minute to the last before "to"; 22:00-06:00 wraps. */
static int
parse_hours(struct cmd_key *k, const char *v, size_t n, struct text *e)
{
	uint16_t from, to;

	if (n == 11 && v[5] == '-' && parse_hhmm(v, &from) && parse_hhmm(v + 6, &to) &&
	    from == to) {
		text_puts(e, "hours= ");
		text_put_quoted(e, v, n);
		text_puts(
		    e, " starts where it ends: give a span (leave hours= out for the whole day)");
		return -1;
	} else if (!cmd_hours_parse(v, n, &k->hours_from, &k->hours_to)) {
		text_puts(e, "hours= ");
		text_put_quoted(e, v, n);
		text_puts(e,
		          " is not a span of local time: write it as hours=07:00-10:00 (00:00 to "
		          "23:59; 22:00-06:00 runs past midnight)");
		return -1;
	}
	k->has_hours = true;
	return 0;
}

/* actions=open,close: each name once, at least one. */
static int
parse_actions(struct cmd_key *k, const char *v, size_t n, struct text *e)
{
	size_t i = 0;

	k->actions = 0;
	for (;;) {
		size_t start = i;
		enum cmd_action a;

		while (i < n && v[i] != ',')
			i++;
		if (i == start) {
			text_puts(e, "empty action in actions=: list actions as "
			             "actions=open,close,stop,toggle");
			return -1;
		} else if (!cmd_action_parse(v + start, i - start, &a)) {
			text_puts(e, "unknown action ");
			text_put_quoted(e, v + start, i - start);
			text_puts(e, ": use open, close, stop or toggle");
			return -1;
		} else if (k->actions & (1U << a)) {
			text_puts(e, "action ");
			text_put_quoted(e, v + start, i - start);
			text_puts(e, " is listed twice in actions=: list it once");
			return -1;
		}
		k->actions |= 1U << a;
		if (i == n)
			return 0;
		i++; /* the comma */
	}
}

/* doors=main,side: each name once, at least one, at most CMD_MAX_DOORS. */
static int
parse_doors(struct cmd_key *k, const char *v, size_t n, struct text *e)
{
	size_t i = 0;

	k->all_doors = false;
	k->ndoors = 0;
	for (;;) {
		size_t start = i;

		while (i < n && v[i] != ',')
			i++;
		if (i == start) {
			text_puts(e, "empty door in doors=: list doors as doors=main,side");
			return -1;
		} else if (!cmd_name_valid(v + start, i - start)) {
			text_puts(e, "door name ");
			text_put_quoted(e, v + start, i - start);
			text_puts(e, " is invalid: use 1 to 32 of a-z 0-9 _ -");
			return -1;
		}
		for (size_t d = 0; d < k->ndoors; d++) {
			if (cmd_name_eq(v + start, i - start, k->doors[d], sizeof(k->doors[d]))) {
				text_puts(e, "door ");
				text_put_quoted(e, v + start, i - start);
				text_puts(e, " is listed twice in doors=: list it once");
				return -1;
			}
		}
		if (k->ndoors == CMD_MAX_DOORS) {
			text_puts(e, "too many doors in doors=: at most ");
			text_put_u64(e, CMD_MAX_DOORS);
			text_puts(e, " are allowed; leave doors= out to allow every door");
			return -1;
		}
		cmd_name_copy(k->doors[k->ndoors++], v + start, i - start);
		if (i == n)
			return 0;
		i++; /* the comma */
	}
}

/*
 * One line without its line ending: 0 for a blank or comment line, 1 with *k filled and
 * *kid_at pointing at the key id in s for a key, -1 with the reason (after the line number the
 * caller has already written) in e.
 */
static int
parse_key_line(const char *s, size_t n, struct cmd_key *k, const char **kid_at, struct text *e)
{
	const char *w;
	size_t wl;
	size_t pos = 0;
	bool seen_actions = false;
	bool seen_doors = false;
	bool seen_days = false;

	if (!next_word(s, n, &pos, &w, &wl) || w[0] == '#')
		return 0;

	memset(k, 0, sizeof(*k));
	if (wl != 7 || memcmp(w, "ed25519", 7) != 0) {
		text_puts(e, "key type ");
		text_put_quoted(e, w, wl);
		text_puts(e, " is not supported: only ed25519 keys are supported "
		             "(create one with garagectl keygen)");
		return -1;
	}

	if (!next_word(s, n, &pos, &w, &wl)) {
		text_puts(e, "missing public key: write \"ed25519 <base64 key> <key-id>\"");
		return -1;
	}
	/* 44 characters are exactly 32 bytes; checking first keeps the decoder's output bounded. */
	if (wl != 44 || base64_decode(BASE64_STANDARD_PADDED, w, wl, k->pub, sizeof(k->pub)) !=
	                    (int)CMD_PUBKEY_LEN) {
		text_puts(e,
		          "public key is not the standard base64 of 32 bytes: copy the whole line "
		          "that garagectl keygen printed");
		return -1;
	}

	if (!next_word(s, n, &pos, &w, &wl)) {
		text_puts(e, "missing key id after the public key: add a name such as alice-phone");
		return -1;
	} else if (!cmd_kid_valid(w, wl)) {
		text_puts(e, "key id ");
		text_put_quoted(e, w, wl);
		text_puts(e, " is invalid: use 1 to 64 of A-Z a-z 0-9 . _ @ -");
		return -1;
	}
	cmd_name_copy(k->kid, w, wl);
	*kid_at = w;

	k->actions = (1U << CMD_ACTION_COUNT) - 1U;
	k->all_doors = true;
	while (next_word(s, n, &pos, &w, &wl)) {
		if (wl >= 8 && memcmp(w, "actions=", 8) == 0) {
			if (seen_actions) {
				text_puts(e,
				          "actions= is given twice: put every action in one list");
				return -1;
			}
			seen_actions = true;
			if (parse_actions(k, w + 8, wl - 8, e) != 0)
				return -1;
		} else if (wl >= 6 && memcmp(w, "doors=", 6) == 0) {
			if (seen_doors) {
				text_puts(e, "doors= is given twice: put every door in one list");
				return -1;
			}
			seen_doors = true;
			if (parse_doors(k, w + 6, wl - 6, e) != 0)
				return -1;
		} else if (wl >= 11 && memcmp(w, "not_before=", 11) == 0) {
			if (parse_utc_option("not_before", &k->has_not_before, &k->not_before,
			                     w + 11, wl - 11, e) != 0)
				return -1;
		} else if (wl >= 10 && memcmp(w, "not_after=", 10) == 0) {
			if (parse_utc_option("not_after", &k->has_not_after, &k->not_after, w + 10,
			                     wl - 10, e) != 0)
				return -1;
		} else if (wl >= 5 && memcmp(w, "days=", 5) == 0) {
			if (seen_days) {
				text_puts(e, "days= is given twice: put every day in one list");
				return -1;
			}
			seen_days = true;
			if (parse_days(k, w + 5, wl - 5, e) != 0)
				return -1;
		} else if (wl >= 6 && memcmp(w, "hours=", 6) == 0) {
			if (k->has_hours) {
				text_puts(e, "hours= is given twice: give one span");
				return -1;
			} else if (parse_hours(k, w + 6, wl - 6, e) != 0) {
				return -1;
			}
		} else if (wl == 5 && memcmp(w, "admin", 5) == 0) {
			if (k->admin) {
				text_puts(e, "admin is given twice: give it once");
				return -1;
			}
			k->admin = true;
		} else {
			text_puts(e, "unknown option ");
			text_put_quoted(e, w, wl);
			text_puts(e,
			          ": only actions=, doors=, not_before=, not_after=, days=, hours= "
			          "and admin may follow the key id");
			return -1;
		}
	}
	/* A key that can never be valid is a mistake, not a way to disable it: say so. */
	if (k->has_not_before && k->has_not_after && k->not_before > k->not_after) {
		text_puts(e, "not_before= is later than not_after=: the key would never be valid");
		return -1;
	}
	return 1;
}

/* parse_key_line() after the checks that concern the line as a whole. */
static int
parse_line(const char *s, size_t n, struct cmd_key *k, const char **kid_at, struct text *e)
{
	if (n > CMD_KEYS_LINE_MAX) {
		text_puts(e, "line is longer than ");
		text_put_u64(e, CMD_KEYS_LINE_MAX);
		text_puts(e, " bytes: put one key on each line");
		return -1;
	} else if (memchr(s, '\0', n) != NULL) {
		text_puts(e, "line contains a NUL byte: the file must be plain text");
		return -1;
	}
	return parse_key_line(s, n, k, kid_at, e);
}

/*
 * One pass over the whole text. With ring NULL it only validates and reports the first error;
 * with a ring it fills it. cmd_keys_parse() runs the first and, only if the text is good, the
 * second, so that a bad file never leaves a half-written ring behind and the two passes cannot
 * disagree (they are the same code).
 */
static int
keys_pass(struct cmd_keyring *ring, const char *text, size_t len, struct text *e)
{
	/* Where each key id was seen in the text, to name the first line of a duplicate. */
	struct {
		const char *kid;
		size_t len;
		size_t line;
	} seen[CMD_MAX_KEYS];
	struct cmd_key k;
	size_t nkeys = 0;
	size_t line = 0;
	size_t pos = 0;

	while (pos < len) {
		size_t start = pos;
		size_t end;
		size_t kidlen;
		const char *kid_at = NULL;
		int r;

		while (pos < len && text[pos] != '\n')
			pos++;
		end = pos;
		if (pos < len)
			pos++; /* the '\n' */
		if (end > start && text[end - 1] == '\r')
			end--; /* CRLF, as a file edited on Windows has it */
		line++;

		/* The message starts with the line number, wiped again if the line is good. */
		text_init(e, e->buf, e->cap);
		text_put_u64(e, line);
		text_puts(e, ": ");
		r = parse_line(text + start, end - start, &k, &kid_at, e);
		if (r < 0)
			return -1;
		else if (r == 0)
			continue;

		kidlen = strlen(k.kid);
		for (size_t i = 0; i < nkeys; i++) {
			if (seen[i].len == kidlen && memcmp(seen[i].kid, k.kid, kidlen) == 0) {
				text_puts(e, "duplicate key id ");
				text_put_quoted(e, k.kid, kidlen);
				text_puts(e, " (first on line ");
				text_put_u64(e, seen[i].line);
				text_puts(e, "): give each key its own id");
				return -1;
			}
		}
		if (nkeys == CMD_MAX_KEYS) {
			text_puts(e, "too many keys: at most ");
			text_put_u64(e, CMD_MAX_KEYS);
			text_puts(e, " are allowed; remove keys that are no longer used");
			return -1;
		}
		seen[nkeys].kid = kid_at;
		seen[nkeys].len = kidlen;
		seen[nkeys].line = line;
		k.line = (uint32_t)line;
		if (ring != NULL)
			ring->keys[nkeys] = k;
		nkeys++;
	}
	text_init(e, e->buf, e->cap);
	if (ring != NULL)
		ring->nkeys = nkeys;
	return 0;
}

int
cmd_keys_parse(struct cmd_keyring *ring, const char *text, size_t len, char *err, size_t errlen)
{
	struct text e;

	text_init(&e, err, errlen);
	if (text == NULL)
		len = 0;
	if (keys_pass(NULL, text, len, &e) != 0)
		return -1;
	/* The text is good: only now is the old ring replaced, entirely, slots past nkeys too. */
	if (ring != NULL) {
		memset(ring, 0, sizeof(*ring));
		(void)keys_pass(ring, text, len, &e);
	}
	return 0;
}

/* ---- a key back to text ------------------------------------------------------------------ */

/* The longest base64 of a public key: 44 characters. */
#define PUB_TEXT_MAX (((CMD_PUBKEY_LEN + 2U) / 3U) * 4U)

_Static_assert(sizeof("ed25519 ") - 1 + PUB_TEXT_MAX + 1 + CMD_KID_MAX +
                       sizeof(" actions=open,close,stop,toggle") - 1 + sizeof(" doors=") - 1 +
                       CMD_MAX_DOORS * (CMD_NAME_MAX + 1) + 2 * (sizeof(" not_before=") - 1) +
                       2 * (CMD_UTC_TEXT_MAX - 1) + sizeof(" days=mon,tue,wed,thu,fri,sat,sun") -
                       1 + sizeof(" hours=00:00-00:00") - 1 + sizeof(" admin") - 1 <=
                   CMD_KEYS_LINE_MAX,
               "the canonical line of every key is short enough to be parsed again");
_Static_assert(sizeof("{\"kid\":\"\",\"pub\":\"\",\"actions\":[\"open\",\"close\",\"stop\","
                      "\"toggle\"],\"doors\":[],\"not_before\":\"\",\"not_after\":\"\","
                      "\"days\":[\"mon\",\"tue\",\"wed\",\"thu\",\"fri\",\"sat\",\"sun\"],"
                      "\"hours\":\"00:00-00:00\",\"admin\":false}") +
                       CMD_KID_MAX + PUB_TEXT_MAX + CMD_MAX_DOORS * (CMD_NAME_MAX + 3) +
                       2 * (CMD_UTC_TEXT_MAX - 1) <=
                   CMD_KEY_JSON_MAX,
               "the JSON of every key fits CMD_KEY_JSON_MAX");

/* The length of a name in a buffer of cap bytes; cap, which no valid name has, without a NUL. */
static size_t
name_len(const char *s, size_t cap)
{
	const char *nul = memchr(s, '\0', cap);

	return nul != NULL ? (size_t)(nul - s) : cap;
}

/* The writers are given structs, and a struct may come from anywhere (an admin message, a test). */
bool
cmd_key_well_formed(const struct cmd_key *k)
{
	size_t kid_len;

	if (k == NULL)
		return false;
	kid_len = name_len(k->kid, sizeof(k->kid));
	if (!cmd_kid_valid(k->kid, kid_len))
		return false;
	else if (k->actions == 0 || (k->actions >> CMD_ACTION_COUNT) != 0)
		return false;
	else if (k->all_doors ? k->ndoors != 0 : k->ndoors < 1 || k->ndoors > CMD_MAX_DOORS)
		return false;
	for (size_t d = 0; d < (k->all_doors ? 0 : k->ndoors); d++) {
		size_t n = name_len(k->doors[d], sizeof(k->doors[d]));

		if (!cmd_name_valid(k->doors[d], n))
			return false;
		for (size_t e = 0; e < d; e++) {
			if (strcmp(k->doors[d], k->doors[e]) == 0)
				return false;
		}
	}
	if ((k->has_not_before && (k->not_before < 0 || k->not_before > UTC_LAST)) ||
	    (k->has_not_after && (k->not_after < 0 || k->not_after > UTC_LAST)) ||
	    (k->has_not_before && k->has_not_after && k->not_before > k->not_after))
		return false;
	else if ((k->days & 0x80U) != 0)
		return false;
	return !k->has_hours ||
	       (k->hours_from < 24 * 60 && k->hours_to < 24 * 60 && k->hours_from != k->hours_to);
}

static void
put_pub(struct text *t, const struct cmd_key *k)
{
	char b64[PUB_TEXT_MAX + 1];

	if (base64_encode(BASE64_STANDARD_PADDED, k->pub, sizeof(k->pub), b64, sizeof(b64)) == 0)
		t->full = true; /* cannot happen: the buffer is the encoding's size */
	else
		text_puts(t, b64);
}

static void
put_utc(struct text *t, int64_t when)
{
	char s[CMD_UTC_TEXT_MAX];

	if (cmd_utc_format(when, s, sizeof(s)) == 0)
		t->full = true; /* cannot happen: cmd_key_well_formed() checked the range */
	else
		text_puts(t, s);
}

static void
put_hours(struct text *t, const struct cmd_key *k)
{
	put_digits(t, k->hours_from / 60U, 2);
	text_puts(t, ":");
	put_digits(t, k->hours_from % 60U, 2);
	text_puts(t, "-");
	put_digits(t, k->hours_to / 60U, 2);
	text_puts(t, ":");
	put_digits(t, k->hours_to % 60U, 2);
}

/* The lists of a key, comma-separated, each item between quotes: "" for the line, "\"" for JSON. */
static void
put_actions(struct text *t, const struct cmd_key *k, const char *quote)
{
	const char *sep = "";

	for (unsigned int a = 0; a < CMD_ACTION_COUNT; a++) {
		if ((k->actions & (1U << a)) == 0)
			continue;
		text_puts(t, sep);
		text_puts(t, quote);
		text_puts(t, cmd_action_name((enum cmd_action)a));
		text_puts(t, quote);
		sep = ",";
	}
}

static void
put_doors(struct text *t, const struct cmd_key *k, const char *quote)
{
	for (size_t d = 0; d < k->ndoors; d++) {
		text_puts(t, d == 0 ? "" : ",");
		text_puts(t, quote);
		text_puts(t, k->doors[d]);
		text_puts(t, quote);
	}
}

/* Monday first, as ISO 8601 counts the week. */
static void
put_days(struct text *t, const struct cmd_key *k, const char *quote)
{
	const char *sep = "";

	for (unsigned int i = 1; i <= 7; i++) {
		unsigned int day = i % 7;

		if ((k->days & (1U << day)) == 0)
			continue;
		text_puts(t, sep);
		text_puts(t, quote);
		text_puts(t, day_names[day]);
		text_puts(t, quote);
		sep = ",";
	}
}

/* The length of a finished text, or 0 with an empty buffer when it did not fit. */
static size_t
text_done(struct text *t, char *buf, size_t len)
{
	if (!t->full)
		return t->len;
	if (buf != NULL && len != 0)
		buf[0] = '\0';
	return 0;
}

/*
 * The options that limit k, in their canonical order: the first after SP, the others each after
 * a space.
 */
static void
put_options(struct text *t, const struct cmd_key *k, const char *sp)
{
	if (k->actions != (1U << CMD_ACTION_COUNT) - 1U) {
		text_puts(t, sp);
		text_puts(t, "actions=");
		put_actions(t, k, "");
		sp = " ";
	}
	if (!k->all_doors) {
		text_puts(t, sp);
		text_puts(t, "doors=");
		put_doors(t, k, "");
		sp = " ";
	}
	if (k->has_not_before) {
		text_puts(t, sp);
		text_puts(t, "not_before=");
		put_utc(t, k->not_before);
		sp = " ";
	}
	if (k->has_not_after) {
		text_puts(t, sp);
		text_puts(t, "not_after=");
		put_utc(t, k->not_after);
		sp = " ";
	}
	if (k->days != 0) {
		text_puts(t, sp);
		text_puts(t, "days=");
		put_days(t, k, "");
		sp = " ";
	}
	if (k->has_hours) {
		text_puts(t, sp);
		text_puts(t, "hours=");
		put_hours(t, k);
		sp = " ";
	}
	if (k->admin) {
		text_puts(t, sp);
		text_puts(t, "admin");
	}
}

void
cmd__key_put_options(struct text *t, const struct cmd_key *k)
{
	put_options(t, k, "");
}

void
cmd__key_put_limits(struct text *t, const struct cmd_key *k)
{
	text_puts(t, "\"actions\":[");
	put_actions(t, k, "\"");
	if (k->all_doors) {
		text_puts(t, "],\"doors\":\"all\"");
	} else {
		text_puts(t, "],\"doors\":[");
		put_doors(t, k, "\"");
		text_puts(t, "]");
	}
	if (k->has_not_before) {
		text_puts(t, ",\"not_before\":\"");
		put_utc(t, k->not_before);
		text_puts(t, "\"");
	}
	if (k->has_not_after) {
		text_puts(t, ",\"not_after\":\"");
		put_utc(t, k->not_after);
		text_puts(t, "\"");
	}
	if (k->days != 0) {
		text_puts(t, ",\"days\":[");
		put_days(t, k, "\"");
		text_puts(t, "]");
	}
	if (k->has_hours) {
		text_puts(t, ",\"hours\":\"");
		put_hours(t, k);
		text_puts(t, "\"");
	}
}

size_t
cmd_key_format(const struct cmd_key *k, char *buf, size_t len)
{
	struct text t;

	text_init(&t, buf, len);
	if (!cmd_key_well_formed(k))
		t.full = true;
	if (t.full)
		return text_done(&t, buf, len);
	text_puts(&t, "ed25519 ");
	put_pub(&t, k);
	text_puts(&t, " ");
	text_puts(&t, k->kid);
	put_options(&t, k, " ");
	return text_done(&t, buf, len);
}

size_t
cmd_key_json(const struct cmd_key *k, char *buf, size_t len)
{
	struct text t;

	text_init(&t, buf, len);
	if (!cmd_key_well_formed(k))
		t.full = true;
	if (t.full)
		return text_done(&t, buf, len);
	text_puts(&t, "{\"kid\":\"");
	text_puts(&t, k->kid);
	text_puts(&t, "\",\"pub\":\"");
	put_pub(&t, k);
	text_puts(&t, "\",");
	cmd__key_put_limits(&t, k);
	text_puts(&t, k->admin ? ",\"admin\":true}" : ",\"admin\":false}");
	return text_done(&t, buf, len);
}

int
cmd_key_parse(struct cmd_key *k, const char *line, size_t n, char *err, size_t errlen)
{
	struct cmd_key scratch;
	const char *kid_at;
	struct text e;
	int r;

	text_init(&e, err, errlen);
	if (k == NULL)
		k = &scratch;
	if (line == NULL) {
		line = "";
		n = 0;
	}
	r = parse_line(line, n, k, &kid_at, &e);
	if (r == 0)
		text_puts(&e, "no key on the line: write \"ed25519 <base64 key> <key-id> "
		              "[options]\"");
	if (r <= 0)
		return -1;
	k->line = 0;
	text_init(&e, err, errlen);
	return 0;
}

bool
cmd_keyring_scheduled(const struct cmd_keyring *ring)
{
	size_t nkeys = ring->nkeys < CMD_MAX_KEYS ? ring->nkeys : CMD_MAX_KEYS;

	for (size_t i = 0; i < nkeys; i++)
		if (ring->keys[i].days != 0 || ring->keys[i].has_hours)
			return true;
	return false;
}

const struct cmd_key *
cmd_keyring_find(const struct cmd_keyring *ring, const char *kid, size_t n)
{
	size_t nkeys;

	if (ring == NULL)
		return NULL;
	nkeys = ring->nkeys < CMD_MAX_KEYS ? ring->nkeys : CMD_MAX_KEYS;
	for (size_t i = 0; i < nkeys; i++) {
		if (cmd_name_eq(kid, n, ring->keys[i].kid, sizeof(ring->keys[i].kid)))
			return &ring->keys[i];
	}
	return NULL;
}

/* Whether door[0..n) is one of the doors= k lists (not whether k has doors= at all). */
static bool
lists_door(const struct cmd_key *k, const char *door, size_t n)
{
	size_t ndoors = k->ndoors < CMD_MAX_DOORS ? k->ndoors : CMD_MAX_DOORS;

	for (size_t i = 0; i < ndoors; i++) {
		if (cmd_name_eq(door, n, k->doors[i], sizeof(k->doors[i])))
			return true;
	}
	return false;
}

bool
cmd_key_allows(const struct cmd_key *k, enum cmd_action action, const char *door, size_t n)
{
	if ((unsigned int)action >= CMD_ACTION_COUNT || (k->actions & (1U << action)) == 0)
		return false;
	return k->all_doors || lists_door(k, door, n);
}

enum cmd_reason
cmd_key_valid_at(const struct cmd_key *k, struct cmd_now now)
{
	uint16_t m = now.minute;

	if (k->has_not_before && now.unix_time < k->not_before)
		return CMD_KEY_NOT_YET_VALID;
	else if (k->has_not_after && now.unix_time > k->not_after)
		return CMD_KEY_EXPIRED;
	else if (k->days != 0 && (now.wday > 6 || (k->days & (1U << now.wday)) == 0))
		return CMD_KEY_OFF_HOURS;
	else if (!k->has_hours)
		return CMD_OK;
	/* From hours_from up to the minute before hours_to; past midnight when to < from. */
	if (m >= 24 * 60)
		return CMD_KEY_OFF_HOURS;
	else if (k->hours_from < k->hours_to)
		return m >= k->hours_from && m < k->hours_to ? CMD_OK : CMD_KEY_OFF_HOURS;
	return m >= k->hours_from || m < k->hours_to ? CMD_OK : CMD_KEY_OFF_HOURS;
}

/* Whether minute m of the local day is inside k's hours= (a key without hours= has all). */
static bool
in_hours(const struct cmd_key *k, uint16_t m)
{
	if (!k->has_hours)
		return true;
	else if (k->hours_from < k->hours_to)
		return m >= k->hours_from && m < k->hours_to;
	return m >= k->hours_from || m < k->hours_to;
}

bool
cmd_key_within(const struct cmd_key *k, const struct cmd_key *limit)
{
	size_t ndoors;

	if (k == NULL || limit == NULL)
		return false;
	else if ((k->actions & ~limit->actions) != 0 || (k->admin && !limit->admin))
		return false;
	else if (!limit->all_doors) {
		ndoors = k->ndoors < CMD_MAX_DOORS ? k->ndoors : CMD_MAX_DOORS;
		if (k->all_doors || ndoors == 0)
			return false;
		for (size_t d = 0; d < ndoors; d++) {
			size_t n = name_len(k->doors[d], sizeof(k->doors[d]));

			if (!lists_door(limit, k->doors[d], n))
				return false;
		}
	}
	if (limit->has_not_after && (!k->has_not_after || k->not_after > limit->not_after))
		return false;
	else if (limit->days != 0 && (k->days == 0 || (k->days & ~limit->days) != 0))
		return false;
	else if (!limit->has_hours)
		return true;
	else if (!k->has_hours || k->hours_from >= 24 * 60 || k->hours_to >= 24 * 60 ||
	         k->hours_from == k->hours_to)
		return false;
	/* Every minute of k's span, past midnight too, is one of limit's: at most a day of them. */
	for (uint16_t m = k->hours_from; m != k->hours_to; m = (uint16_t)((m + 1) % (24 * 60))) {
		if (!in_hours(limit, m))
			return false;
	}
	return true;
}
