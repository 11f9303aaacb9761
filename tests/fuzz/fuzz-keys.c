/*
 * fuzz-keys: the authorized_keys parser, cmd_keys_parse(), on arbitrary file contents.
 *
 * The file is written by the owner, but whoever can write it can open the door, and a reload
 * (SIGHUP) must never leave a half-parsed keyring behind. So beyond "never crashes" this
 * checks what the verifier relies on: every key it returns is well-formed (a kid in its
 * charset, unique; a non-empty set of known actions; either all doors or a list of valid,
 * distinct door names; a validity window that is not empty, days of a week, a span of the day
 * that is not empty), a refused file leaves the old keyring byte for byte as it was, and the
 * message says which line, in printable text, within any buffer size. And what the key
 * management writes back: every key's canonical line (cmd_key_format) parses to the same key,
 * and its JSON (cmd_key_json) fits CMD_KEY_JSON_MAX and is printable.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cmd.h"
#include "fuzz.h"

/* What a keyring held before the reload: an arbitrary pattern that no parse produces. */
#define OLD_RING_BYTE 0xa5

static struct cmd_keyring ring, old_ring;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	memset(&old_ring, OLD_RING_BYTE, sizeof(old_ring));
	return 0;
}

static bool
in_charset(const char *s, const char *extra, bool upper)
{
	for (; *s != '\0'; s++) {
		char c = *s;

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      (upper && c >= 'A' && c <= 'Z') || strchr(extra, c) != NULL))
			return false;
	}
	return true;
}

/* A NUL-terminated string of 1 to max bytes within a buffer of max + 1. */
static size_t
field_len(const char *s, size_t max)
{
	const char *nul = memchr(s, '\0', max + 1);

	FUZZ_CHECK(nul != NULL);
	FUZZ_CHECK(nul != s);
	return (size_t)(nul - s);
}

/* Equal in everything a line says: all of it but the line number. */
static bool
same_key(const struct cmd_key *a, const struct cmd_key *b)
{
	if (strcmp(a->kid, b->kid) != 0 || memcmp(a->pub, b->pub, sizeof(a->pub)) != 0 ||
	    a->actions != b->actions || a->all_doors != b->all_doors || a->ndoors != b->ndoors ||
	    a->has_not_before != b->has_not_before || a->has_not_after != b->has_not_after ||
	    a->not_before != b->not_before || a->not_after != b->not_after || a->days != b->days ||
	    a->has_hours != b->has_hours || a->hours_from != b->hours_from ||
	    a->hours_to != b->hours_to || a->admin != b->admin)
		return false;
	for (size_t d = 0; d < a->ndoors; d++) {
		if (strcmp(a->doors[d], b->doors[d]) != 0)
			return false;
	}
	return true;
}

/* The canonical line parses back to the key, and the JSON fits and is printable. */
static void
check_written(const struct cmd_key *k)
{
	static char line[CMD_KEYS_LINE_MAX + 1];
	static char json[CMD_KEY_JSON_MAX];
	struct cmd_key again;
	char err[256];
	size_t n;
	int r;

	n = cmd_key_format(k, line, sizeof(line));
	FUZZ_CHECK(n > 0 && n == strlen(line));
	r = cmd_key_parse(&again, line, n, err, sizeof(err));
	if (r != 0)
		fprintf(stderr, "fuzz-keys: \"%s\": %s\n", line, err);
	FUZZ_CHECK(r == 0);
	FUZZ_CHECK(same_key(k, &again));
	n = cmd_key_json(k, json, sizeof(json));
	FUZZ_CHECK(n > 0 && n == strlen(json) && json[0] == '{' && json[n - 1] == '}');
	for (size_t i = 0; i < n; i++)
		FUZZ_CHECK(json[i] >= 0x20 && json[i] < 0x7f && json[i] != '\\');
}

static void
check_key(const struct cmd_key *k)
{
	field_len(k->kid, CMD_KID_MAX);
	FUZZ_CHECK(in_charset(k->kid, "._@-", true));
	FUZZ_CHECK(k->actions != 0);
	FUZZ_CHECK((k->actions & ~((1U << CMD_ACTION_COUNT) - 1U)) == 0);
	FUZZ_CHECK(!(k->has_not_before && k->has_not_after) || k->not_before <= k->not_after);
	FUZZ_CHECK(k->has_not_before || k->not_before == 0);
	FUZZ_CHECK(k->has_not_after || k->not_after == 0);
	FUZZ_CHECK(k->days < 0x80);
	if (k->has_hours)
		FUZZ_CHECK(k->hours_from < 1440 && k->hours_to < 1440 &&
		           k->hours_from != k->hours_to);
	else
		FUZZ_CHECK(k->hours_from == 0 && k->hours_to == 0);
	check_written(k);
	if (k->all_doors) {
		FUZZ_CHECK(k->ndoors == 0);
		return;
	}
	FUZZ_CHECK(k->ndoors >= 1 && k->ndoors <= CMD_MAX_DOORS);
	for (size_t d = 0; d < k->ndoors; d++) {
		field_len(k->doors[d], CMD_NAME_MAX);
		FUZZ_CHECK(in_charset(k->doors[d], "_-", false));
		for (size_t e = 0; e < d; e++)
			FUZZ_CHECK(strcmp(k->doors[d], k->doors[e]) != 0);
	}
}

/* "LINE: reason", printable, NUL-terminated within the buffer. */
static void
check_message(const char *err, size_t errlen)
{
	size_t n = strnlen(err, errlen);

	FUZZ_CHECK(n < errlen);
	FUZZ_CHECK(n > 0 && err[0] >= '1' && err[0] <= '9');
	for (size_t i = 0; i < n; i++)
		FUZZ_CHECK(err[i] >= 0x20 && err[i] < 0x7f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	char err[256];
	char small[6];
	int r;

	memcpy(&ring, &old_ring, sizeof(ring));
	r = cmd_keys_parse(&ring, text, size, err, sizeof(err));
	FUZZ_CHECK(r == 0 || r == -1);
	if (r != 0) {
		FUZZ_CHECK(memcmp(&ring, &old_ring, sizeof(ring)) == 0);
		check_message(err, sizeof(err));
	} else {
		FUZZ_CHECK(err[0] == '\0');
		FUZZ_CHECK(ring.nkeys <= CMD_MAX_KEYS);
		for (size_t i = 0; i < ring.nkeys; i++) {
			check_key(&ring.keys[i]);
			for (size_t j = 0; j < i; j++)
				FUZZ_CHECK(strcmp(ring.keys[i].kid, ring.keys[j].kid) != 0);
		}
	}

	/* The verdict does not depend on the room for the message, and the message fits any. */
	memset(small, 'x', sizeof(small));
	FUZZ_CHECK(cmd_keys_parse(NULL, text, size, small, sizeof(small)) == r);
	FUZZ_CHECK(memchr(small, '\0', sizeof(small)) != NULL);
	FUZZ_CHECK(cmd_keys_parse(NULL, text, size, NULL, 0) == r);
	return 0;
}
