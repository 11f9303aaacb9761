/*
 * invites: see invites.h. The file is a few lines of text, so that an owner can read it:
 *
 *   # invitations that have enrolled a key (docs/reference.md "Invitations"); written by garaged
 *   used Z2FyYWdlZC1pbnZpdGUwMQ 1795634100
 *
 * one "used ID EXPIRES" line per invitation, EXPIRES in Unix seconds.
 */
#include "invites.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base64.h"
#include "state.h"

#define HEADER                                                                                     \
	"# invitations that have enrolled a key (docs/reference.md \"Invitations\"); written by "  \
	"garaged only\n"
/* "used " + id + " " + 12 digits + "\n", with room: a longer line is not ours. */
#define LINE_MAX_BYTES (sizeof("used  \n") + CMD_INVITE_ID_TEXT_MAX + 20)
#define FILE_MAX_BYTES (sizeof(HEADER) + INVITES_MAX * LINE_MAX_BYTES)
/* The most an expiry can be: what an invitation's 12 digits hold. */
#define EXPIRES_MAX INT64_C(999999999999)

static const char *const damaged =
    "garaged writes this file itself: restore it from a backup, or remove the line (removing "
    "an id lets its invitation enrol again until it expires; see docs/reference.md, "
    "Invitations)";

static bool
id_valid(const char *s)
{
	uint8_t id[CMD_INVITE_ID_LEN];

	return strlen(s) == CMD_INVITE_ID_TEXT_MAX &&
	       base64_decode(BASE64_URL_UNPADDED, s, CMD_INVITE_ID_TEXT_MAX, id, sizeof(id)) ==
	           (int)CMD_INVITE_ID_LEN;
}

/* Decimal digits without a sign or a leading zero, up to EXPIRES_MAX. */
static bool
parse_expires(const char *s, int64_t *out)
{
	int64_t v = 0;
	size_t n = strlen(s);

	if (n < 1 || n > 12 || (n > 1 && s[0] == '0'))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

/* "used ID EXPIRES" into *e; text is the line, modified. */
static bool
parse_line(char *line, struct invites_entry *e)
{
	char *id, *exp;

	if (strncmp(line, "used ", 5) != 0)
		return false;
	id = line + 5;
	exp = strchr(id, ' ');
	if (exp == NULL)
		return false;
	*exp++ = '\0';
	if (!id_valid(id) || !parse_expires(exp, &e->expires))
		return false;
	memcpy(e->id, id, CMD_INVITE_ID_TEXT_MAX + 1);
	return true;
}

static int
parse(char *text, struct invites *iv, const char *path, char *err, size_t errlen)
{
	char *line, *next;
	int lineno = 0;

	for (line = text; line != NULL && *line != '\0'; line = next) {
		struct invites_entry e;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		lineno++;
		if (*line == '#')
			continue;
		if (!parse_line(line, &e)) {
			snprintf(err, errlen,
			         "%s:%d: not a line garaged wrote (\"used ID EXPIRES\"); %s", path,
			         lineno, damaged);
			return -1;
		} else if (invites_used(iv, e.id)) {
			snprintf(err, errlen, "%s:%d: invitation %s is listed twice; %s", path,
			         lineno, e.id, damaged);
			return -1;
		} else if (iv->n == INVITES_MAX) {
			snprintf(err, errlen, "%s:%d: more than %u invitations; %s", path, lineno,
			         INVITES_MAX, damaged);
			return -1;
		}
		iv->used[iv->n++] = e;
	}
	return 0;
}

static int
load(struct invites *iv, const char *dir, char *err, size_t errlen)
{
	static char text[FILE_MAX_BYTES + 2]; /* one byte more than allowed, and a NUL */
	char path[CONFIG_PATH_MAX + sizeof(INVITES_FILE) + 1];
	size_t len;
	bool found;

	memset(iv, 0, sizeof(*iv));
	if (strlen(dir) >= sizeof(iv->dir)) {
		snprintf(err, errlen, "state_dir %s: the path is too long", dir);
		return -1;
	}
	if (state_file_read(dir, INVITES_FILE, text, sizeof(text), &len, &found, err, errlen) != 0)
		return -1;
	snprintf(iv->dir, sizeof(iv->dir), "%s", dir);
	if (!found)
		return 0;
	snprintf(path, sizeof(path), "%s/%s", dir, INVITES_FILE);
	if (len > FILE_MAX_BYTES || memchr(text, '\0', len) != NULL) {
		snprintf(err, errlen, "%s: not a file garaged wrote (too long or binary); %s", path,
		         damaged);
	} else if (parse(text, iv, path, err, errlen) == 0) {
		return 0;
	}
	memset(iv, 0, sizeof(*iv));
	return -1;
}

int
invites_load(struct invites *iv, const char *dir, char *err, size_t errlen)
{
	memset(iv, 0, sizeof(*iv));
	if (state_dir_ready(dir, err, errlen) != 0)
		return -1;
	return load(iv, dir, err, errlen);
}

int
invites_check(const char *dir, char *err, size_t errlen)
{
	static struct invites iv;
	struct stat sb;

	if (stat(dir, &sb) != 0 && errno == ENOENT)
		return 0;
	return load(&iv, dir, err, errlen);
}

bool
invites_used(const struct invites *iv, const char *id)
{
	for (size_t i = 0; i < iv->n && i < INVITES_MAX; i++) {
		if (strcmp(iv->used[i].id, id) == 0)
			return true;
	}
	return false;
}

enum invites_result
invites_record(struct invites *iv, const char *id, int64_t expires, int64_t now, char *err,
               size_t errlen)
{
	static char text[FILE_MAX_BYTES];
	static struct invites next;
	size_t len;

	/* The caller asked invites_used() first: recording an id twice would hide that it did not.
	 */
	if (!id_valid(id) || expires < 0 || expires > EXPIRES_MAX || invites_used(iv, id)) {
		snprintf(err, errlen,
		         "internal error: invitation \"%.40s\" is used already or none the core "
		         "accepts",
		         id);
		return INVITES_ERROR;
	}
	/* The new set: the live ids, then this one. An expired one can never pass again. */
	memset(&next, 0, sizeof(next));
	memcpy(next.dir, iv->dir, sizeof(next.dir));
	for (size_t i = 0; i < iv->n && i < INVITES_MAX; i++) {
		if (iv->used[i].expires >= now)
			next.used[next.n++] = iv->used[i];
	}
	if (next.n == INVITES_MAX)
		return INVITES_FULL;
	memcpy(next.used[next.n].id, id, CMD_INVITE_ID_TEXT_MAX + 1);
	next.used[next.n++].expires = expires;

	len = (size_t)snprintf(text, sizeof(text), "%s", HEADER);
	for (size_t i = 0; i < next.n; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "used %s %" PRId64 "\n",
		                        next.used[i].id, next.used[i].expires);
	if (state_file_write(iv->dir, INVITES_FILE, text, len, err, errlen) != 0)
		return INVITES_ERROR;
	*iv = next;
	return INVITES_OK;
}
