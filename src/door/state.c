/*
 * state: see state.h. The file is a few lines of text, so that an owner can read it:
 *
 *   # garaged's memory across restarts (docs/security.md "Restarts"); written by garaged only
 *   latest 1795950123
 *   nonce 1795950100 q83vEjRWeJA
 *
 * one "nonce TS BASE64URL" line for each accepted command still inside the time window.
 */
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomicfile.h"
#include "base64.h"
#include "config.h"

/* Larger than any file we write (a full window is about 60 KiB): more is not ours. */
#define STATE_LINE_MAX  (sizeof("nonce 12345678901234 ") + CMD_NONCE_TEXT_MAX + 1)
#define STATE_MAX_BYTES (256U + CMD_REPLAY_SLOTS * STATE_LINE_MAX)
/* Unix seconds up to here (year 36812): anything larger is not a time we wrote. */
#define STATE_TIME_MAX ((int64_t)1 << 40)

static int
parse_time(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 0 || v >= STATE_TIME_MAX)
		return -1;
	*out = (int64_t)v;
	return 0;
}

static const char *const afresh =
    "garaged writes this file itself. If you removed the card or edited it, remove the file to "
    "start afresh (see docs/security.md, Restarts)";

/* "TS NONCE" of a nonce line into *n. */
static int
parse_nonce(char *s, struct state_nonce *n)
{
	char *sp = strchr(s, ' ');
	int len;

	if (sp == NULL)
		return -1;
	*sp++ = '\0';
	if (parse_time(s, &n->ts) != 0)
		return -1;
	len = base64_decode(BASE64_URL_UNPADDED, sp, strlen(sp), n->bytes, sizeof(n->bytes));
	if (len < (int)CMD_NONCE_MIN)
		return -1;
	n->len = (uint8_t)len;
	return 0;
}

/* Parses TEXT (NUL-terminated) into *st: "latest" exactly once, nonces at most a window's. */
static int
parse(char *text, struct state *st, const char *path, char *err, size_t errlen)
{
	bool seen_latest = false;
	char *line, *next, *sp;
	int lineno = 0;

	for (line = text; line != NULL && *line != '\0'; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		lineno++;
		if (*line == '#')
			continue;
		sp = strchr(line, ' ');
		if (sp != NULL)
			*sp++ = '\0';
		if (sp != NULL && strcmp(line, "latest") == 0 && !seen_latest &&
		    parse_time(sp, &st->latest) == 0) {
			seen_latest = true;
		} else if (sp != NULL && strcmp(line, "nonce") == 0 &&
		           st->nnonces < CMD_REPLAY_SLOTS &&
		           parse_nonce(sp, &st->nonces[st->nnonces]) == 0) {
			st->nnonces++;
		} else {
			snprintf(err, errlen, "%s:%d: not a line garaged wrote; %s", path, lineno,
			         afresh);
			return -1;
		}
	}
	if (!seen_latest) {
		snprintf(err, errlen, "%s: latest is missing; %s", path, afresh);
		return -1;
	}
	return 0;
}

int
state_dir_ready(const char *dir, char *err, size_t errlen)
{
	struct stat sb;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		snprintf(err, errlen,
		         "state_dir %s: cannot create it: %s; create it for the user "
		         "garaged runs as, or set [device] state_dir",
		         dir, strerror(errno));
		return -1;
	}
	if (lstat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
		snprintf(err, errlen,
		         "state_dir %s: not a directory; set [device] state_dir to one", dir);
		return -1;
	}
	if (access(dir, W_OK | X_OK) != 0) {
		snprintf(err, errlen,
		         "state_dir %s: not writable by uid %u: %s; make it theirs (chown), or set "
		         "[device] state_dir",
		         dir, (unsigned)geteuid(), strerror(errno));
		return -1;
	}
	return 0;
}

int
state_file_read(const char *dir, const char *name, char *buf, size_t cap, size_t *len, bool *found,
                char *err, size_t errlen)
{
	char path[CONFIG_PATH_MAX + STATE_NAME_MAX + 2];
	ssize_t n;
	int fd;

	*len = 0;
	*found = false;
	if (cap == 0)
		return -1;
	buf[0] = '\0';
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (*len < cap - 1 && (n = read(fd, buf + *len, cap - 1 - *len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			close(fd);
			return -1;
		}
		*len += (size_t)n;
	}
	close(fd);
	buf[*len] = '\0';
	*found = true;
	return 0;
}

/*
 * The state without anything in it: only the counts are set, since nothing reads a nonce past
 * nnonces. A memset of the whole struct would make every page of its 48 KiB of nonces resident
 * for the rest of the run, for a window that holds a few live nonces at a time.
 */
static void
state_empty(struct state *st)
{
	st->latest = 0;
	st->nnonces = 0;
}

/* state_load() once the directory is ready, with TEXT (STATE_MAX_BYTES + 2 bytes) to read into. */
static int
load(const char *dir, char *text, struct state *st, bool *found, char *err, size_t errlen)
{
	char path[CONFIG_PATH_MAX + sizeof(STATE_FILE) + 1];
	size_t len;

	/* One byte more than allowed, and a NUL. */
	if (state_file_read(dir, STATE_FILE, text, STATE_MAX_BYTES + 2, &len, found, err, errlen) !=
	    0)
		return -1;
	else if (!*found)
		return 0;
	*found = false; /* until the text is known to be one garaged wrote */
	snprintf(path, sizeof(path), "%s/%s", dir, STATE_FILE);
	if (len > STATE_MAX_BYTES || memchr(text, '\0', len) != NULL) {
		snprintf(err, errlen, "%s: not a file garaged wrote (too long or binary); %s", path,
		         afresh);
		return -1;
	}
	if (parse(text, st, path, err, errlen) != 0) {
		state_empty(st);
		return -1;
	}
	*found = true;
	return 0;
}

int
state_load(const char *dir, struct state *st, bool *found, char *err, size_t errlen)
{
	char *text;
	int r;

	state_empty(st);
	*found = false;
	if (state_dir_ready(dir, err, errlen) != 0)
		return -1;
	/* The text only while it is read: a static buffer would keep the pages of the largest
	 * file ever read (up to 66 KiB) resident for the whole run. */
	text = malloc(STATE_MAX_BYTES + 2);
	if (text == NULL) {
		snprintf(err, errlen, "%s/%s: out of memory to read it", dir, STATE_FILE);
		return -1;
	}
	r = load(dir, text, st, found, err, errlen);
	free(text);
	return r;
}

int
state_check(const char *dir, bool *missing, char *err, size_t errlen)
{
	struct state *st;
	struct stat sb;
	bool found;
	int r;

	*missing = stat(dir, &sb) != 0 && errno == ENOENT;
	if (*missing)
		return 0;
	st = malloc(sizeof(*st)); /* 48 KiB: not on the stack, and not kept */
	if (st == NULL) {
		snprintf(err, errlen, "%s/%s: out of memory to read it", dir, STATE_FILE);
		return -1;
	}
	r = state_load(dir, st, &found, err, errlen);
	free(st);
	return r;
}

int
state_file_write(const char *dir, const char *name, const char *text, size_t len, char *err,
                 size_t errlen)
{
	const struct atomicfile_opts opts = {.mode = 0600};
	char path[CONFIG_PATH_MAX + STATE_NAME_MAX + 2];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	/* A directory that could not be flushed counts as a failure too: what these files keep
	 * through a power cut is what they are for. */
	return atomicfile_replace(path, text, len, &opts, err, errlen) == 0 ? 0 : -1;
}

int
state_save(const char *dir, const struct state *st, char *err, size_t errlen)
{
	/* Static, not allocated: this runs after every accepted command, and no allocation is
	 * added to that path. Only the file's length of it is ever written (a few lines for the
	 * nonces live in the time window), so only those pages become resident. */
	static char text[STATE_MAX_BYTES];
	char b64[CMD_NONCE_TEXT_MAX + 1];
	size_t i, len;

	len =
	    (size_t)snprintf(text, sizeof(text),
	                     "# garaged's memory across restarts (docs/security.md \"Restarts\"); "
	                     "written by garaged only\nlatest %" PRId64 "\n",
	                     st->latest);
	for (i = 0; i < st->nnonces && i < CMD_REPLAY_SLOTS; i++) {
		if (base64_encode(BASE64_URL_UNPADDED, st->nonces[i].bytes, st->nonces[i].len, b64,
		                  sizeof(b64)) == 0)
			continue;
		len += (size_t)snprintf(text + len, sizeof(text) - len, "nonce %" PRId64 " %s\n",
		                        st->nonces[i].ts, b64);
	}
	return state_file_write(dir, STATE_FILE, text, len, err, errlen);
}
