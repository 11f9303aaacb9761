/*
 * cmd_keys: authorized_keys lines and the keyring (see cmd_keys.h for what it owns).
 *
 * The text is checked in full before the ring is touched: a file that is wrong anywhere is
 * refused as a whole with the first line at fault, and the keys in use stay as they were.
 * Messages name the line and say how to fix it, since they end up in front of whoever edited
 * the file.
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
		} else {
			text_puts(e, "unknown option ");
			text_put_quoted(e, w, wl);
			text_puts(e, ": only actions=... and doors=... may follow the key id");
			return -1;
		}
	}
	return 1;
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
		if (end - start > CMD_KEYS_LINE_MAX) {
			text_puts(e, "line is longer than ");
			text_put_u64(e, CMD_KEYS_LINE_MAX);
			text_puts(e, " bytes: put one key on each line");
			return -1;
		} else if (memchr(text + start, '\0', end - start) != NULL) {
			text_puts(e, "line contains a NUL byte: the file must be plain text");
			return -1;
		}
		r = parse_key_line(text + start, end - start, &k, &kid_at, e);
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

bool
cmd_key_allows(const struct cmd_key *k, enum cmd_action action, const char *door, size_t n)
{
	size_t ndoors = k->ndoors < CMD_MAX_DOORS ? k->ndoors : CMD_MAX_DOORS;

	if ((unsigned int)action >= CMD_ACTION_COUNT || (k->actions & (1U << action)) == 0)
		return false;
	else if (k->all_doors)
		return true;
	for (size_t i = 0; i < ndoors; i++) {
		if (cmd_name_eq(door, n, k->doors[i], sizeof(k->doors[i])))
			return true;
	}
	return false;
}
