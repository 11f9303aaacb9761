/*
 * fuzz-authkeys: authkeys_load() (src/door/authkeys.c), the door half's loading of the
 * authorized_keys file at start and on SIGHUP, on arbitrary file contents.
 *
 * fuzz-keys fuzzes the lines (cmd_keys_parse()); this fuzzes the loading around them: the
 * size bound, the copy into the keyring, the refusal of keys that are not usable Ed25519
 * points, and the messages. Each input is written to a file of mode 0600 in a private
 * temporary directory and loaded into a keyring holding an arbitrary pattern. A refusal must
 * leave that pattern byte for byte (the old keys stay in force after a bad reload) and say
 * why in one printable line that names the file; an acceptance must give well-formed keys,
 * each a usable point. Beyond those, the verdict must be what cmd_keys_parse() and libsodium
 * say of the same bytes: a file over AUTHKEYS_MAX_SIZE is refused; else a file the parser
 * refuses is refused with "PATH:" and the parser's message; else the first key that is not a
 * valid point is refused by its line; else the keyring is what the parser made, byte for byte.
 *
 * Input: byte 0 says how big the file is: 1 makes it exactly AUTHKEYS_MAX_SIZE bytes and 2 one
 * byte more, with comment lines in front of the rest, so that the size bound is reached without
 * inputs of 64 KiB; any other value leaves the file the rest of the input. (Only two values of
 * 256 pad, because a padded file is slow: 64 KiB written and parsed twice.)
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "authkeys.h"
#include "cmd.h"
#include "fuzz.h"
#include "sig_sodium.h"

/* What a keyring held before the reload: an arbitrary pattern that no load produces. */
#define OLD_RING_BYTE 0xa5

static char dir[256], path[300];
static struct cmd_keyring ring, old_ring, direct;
static char file[AUTHKEYS_MAX_SIZE + 2];

static void
remove_files(void)
{
	unlink(path);
	rmdir(dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");

	(void)argc;
	(void)argv;
	if (sig_sodium_init() != 0)
		abort();
	/* mkdtemp makes it 0700: the loader's checks of the directories above pass, so that
	 * every input reaches the reading and the parsing. */
	snprintf(dir, sizeof(dir), "%s/garaged-fuzz-authkeys.XXXXXX",
	         tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL) {
		perror("fuzz-authkeys: mkdtemp");
		abort();
	}
	snprintf(path, sizeof(path), "%s/authorized_keys", dir);
	atexit(remove_files);
	memset(&old_ring, OLD_RING_BYTE, sizeof(old_ring));
	return 0;
}

/* The file: comment lines of up to 64 bytes in front of REST, to make it SIZE bytes. */
static size_t
make_file(const uint8_t *rest, size_t rlen, size_t size)
{
	size_t pos = 0;

	if (rlen >= size || size > sizeof(file)) {
		size = rlen < sizeof(file) ? rlen : sizeof(file);
		memcpy(file, rest, size);
		return size;
	}
	while (pos < size - rlen) {
		size_t line = size - rlen - pos < 64 ? size - rlen - pos : 64;

		memset(file + pos, 'x', line);
		file[pos] = '#';
		file[pos + line - 1] = '\n';
		pos += line;
	}
	memcpy(file + pos, rest, rlen);
	return size;
}

static void
write_file(const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(fchmod(fd, 0600) == 0);
	FUZZ_CHECK(write(fd, data, len) == (ssize_t)len);
	FUZZ_CHECK(close(fd) == 0);
}

/* One line of printable text, NUL-terminated within the buffer, naming the file. */
static void
check_message(const char *err, size_t errlen)
{
	size_t n = strnlen(err, errlen);

	FUZZ_CHECK(n < errlen);
	FUZZ_CHECK(n > 0);
	for (size_t i = 0; i < n; i++)
		FUZZ_CHECK(err[i] >= 0x20 && err[i] < 0x7f);
	FUZZ_CHECK(strstr(err, path) != NULL);
}

static void
check_key(const struct cmd_key *k, size_t i)
{
	size_t kidlen = strnlen(k->kid, sizeof(k->kid));

	FUZZ_CHECK(kidlen > 0 && kidlen < sizeof(k->kid));
	FUZZ_CHECK(crypto_core_ed25519_is_valid_point(k->pub) == 1);
	FUZZ_CHECK(k->actions != 0);
	FUZZ_CHECK((k->actions & ~((1U << CMD_ACTION_COUNT) - 1U)) == 0);
	FUZZ_CHECK(k->all_doors ? k->ndoors == 0 : k->ndoors >= 1 && k->ndoors <= CMD_MAX_DOORS);
	FUZZ_CHECK(k->line >= 1);
	if (i > 0)
		FUZZ_CHECK(k->line > (k - 1)->line);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[1024], perr[256], want[1024];
	size_t len, bad = SIZE_MAX;
	int r, pr = -1;

	if (size < 1)
		return 0;
	len = make_file(data + 1, size - 1,
	                data[0] == 1   ? AUTHKEYS_MAX_SIZE
	                : data[0] == 2 ? AUTHKEYS_MAX_SIZE + 1
	                               : 0);
	write_file(file, len);

	memcpy(&ring, &old_ring, sizeof(ring));
	memset(err, 'x', sizeof(err));
	r = authkeys_load(path, &ring, err, sizeof(err));
	FUZZ_CHECK(r == 0 || r == -1);

	/* What the parts say of the same bytes. */
	if (len <= AUTHKEYS_MAX_SIZE) {
		pr = cmd_keys_parse(&direct, file, len, perr, sizeof(perr));
		for (size_t i = 0; pr == 0 && bad == SIZE_MAX && i < direct.nkeys; i++)
			if (crypto_core_ed25519_is_valid_point(direct.keys[i].pub) != 1)
				bad = i;
	}

	if (r != 0) {
		FUZZ_CHECK(memcmp(&ring, &old_ring, sizeof(ring)) == 0);
		check_message(err, sizeof(err));
		if (len > AUTHKEYS_MAX_SIZE) {
			FUZZ_CHECK(strstr(err, "larger than") != NULL);
		} else if (pr != 0) {
			snprintf(want, sizeof(want), "%s:%s", path, perr);
			FUZZ_CHECK(strcmp(err, want) == 0);
		} else {
			FUZZ_CHECK(bad != SIZE_MAX);
			snprintf(want, sizeof(want), "%s:%u: the key of '%s' ", path,
			         (unsigned)direct.keys[bad].line, direct.keys[bad].kid);
			FUZZ_CHECK(strncmp(err, want, strlen(want)) == 0);
		}
		return 0;
	}
	FUZZ_CHECK(len <= AUTHKEYS_MAX_SIZE && pr == 0 && bad == SIZE_MAX);
	FUZZ_CHECK(memcmp(&ring, &direct, sizeof(ring)) == 0);
	FUZZ_CHECK(ring.nkeys <= CMD_MAX_KEYS);
	for (size_t i = 0; i < ring.nkeys; i++)
		check_key(&ring.keys[i], i);
	return 0;
}
