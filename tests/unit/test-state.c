/*
 * state.c: what the door half remembers across a restart. A round trip, a first start, and
 * every way a file it did not write is refused (with the line and what to do), a temporary
 * file or link planted at its names, and a directory it cannot make or write.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "state.h"

struct fixture {
	char dir[64];
	char path[128];
};

static int
setup(void **state)
{
	static struct fixture f;

	snprintf(f.dir, sizeof(f.dir), "/tmp/garaged-state-test.XXXXXX");
	if (mkdtemp(f.dir) == NULL)
		return -1;
	snprintf(f.path, sizeof(f.path), "%s/%s", f.dir, STATE_FILE);
	*state = &f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

static struct state st, back; /* a whole replay window each: not on the stack */

static void
test_state_FirstStartThenRoundTrip(void **state)
{
	struct fixture *f = *state;
	char err[512], tmp[160];
	bool found = true;
	struct stat sb;
	size_t i;

	st.latest = 99;
	assert_int_equal(state_load(f->dir, &st, &found, err, sizeof(err)), 0);
	assert_false(found);
	assert_int_equal(st.latest, 0);
	assert_int_equal(st.nnonces, 0);
	st.latest = 1795950000;
	/* A full window of nonces of every size, so that the file's bound is tried too. */
	st.nnonces = CMD_REPLAY_SLOTS;
	for (i = 0; i < CMD_REPLAY_SLOTS; i++) {
		st.nonces[i].ts = 1795950020 - (int64_t)(i % 50);
		st.nonces[i].len =
		    (uint8_t)(CMD_NONCE_MIN + i % (CMD_NONCE_MAX - CMD_NONCE_MIN + 1));
		memset(st.nonces[i].bytes, (int)(i & 0xff), st.nonces[i].len);
		st.nonces[i].bytes[0] = (uint8_t)(i >> 8);
	}
	assert_int_equal(state_save(f->dir, &st, err, sizeof(err)), 0);
	assert_int_equal(stat(f->path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(state_load(f->dir, &back, &found, err, sizeof(err)), 0);
	assert_true(found);
	assert_int_equal(back.latest, 1795950000);
	assert_int_equal(back.nnonces, CMD_REPLAY_SLOTS);
	for (i = 0; i < CMD_REPLAY_SLOTS; i++) {
		assert_int_equal(back.nonces[i].ts, st.nonces[i].ts);
		assert_int_equal(back.nonces[i].len, st.nonces[i].len);
		assert_memory_equal(back.nonces[i].bytes, st.nonces[i].bytes, st.nonces[i].len);
	}
	/* No temporary file is left behind. */
	snprintf(tmp, sizeof(tmp), "%s.new", f->path);
	assert_int_equal(access(tmp, F_OK), -1);
}

static void
test_state_MissingDirIsMade(void **state)
{
	struct fixture *f = *state;
	char sub[128], err[512];
	bool found;
	struct stat sb;

	snprintf(sub, sizeof(sub), "%s/sub", f->dir);
	assert_int_equal(state_load(sub, &st, &found, err, sizeof(err)), 0);
	assert_int_equal(stat(sub, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);
}

static void
test_state_ForeignFilesRefused(void **state)
{
	static const struct {
		const char *text;
		const char *want;
	} cases[] = {
	    {"latest 1\nnonce 5 x\n", "verifier:2: not a line garaged wrote"},
	    {"nonce 5 q83vEjRWeJA\n", "latest is missing"},
	    {"latest x\n", "verifier:1: not a line"},
	    {"latest 1\nlatest 2\n", "verifier:2: not a line"},
	    {"latest -1\n", "verifier:1: not a line"},
	    {"latest 99999999999999999999\n", "verifier:1: not a line"},
	    {"latest 1 \n", "verifier:1: not a line"},
	    {"latest  1\n", "verifier:1: not a line"},
	    {"latest 1\nnonce 5 q83vEjRWeJ\n", "verifier:2: not a line"},   /* bad base64 */
	    {"latest 1\nnonce 5 AAAA\n", "verifier:2: not a line"},         /* too short */
	    {"latest 1\nnonce 5 q83vEjRWeJA=\n", "verifier:2: not a line"}, /* padded */
	    {"latest 1\nnonce q83vEjRWeJA\n", "verifier:2: not a line"},    /* no time */
	    {"latest 1\naccepted_ts 4\n", "verifier:2: not a line"},
	    {"", "latest is missing"},
	};
	struct fixture *f = *state;
	char err[512];
	bool found;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		write_file(f->path, cases[i].text);
		err[0] = '\0';
		if (state_load(f->dir, &st, &found, err, sizeof(err)) != -1)
			fail_msg("accepted: %s", cases[i].text);
		if (strstr(err, cases[i].want) == NULL || strstr(err, "start afresh") == NULL)
			fail_msg("'%s': message '%s', want '%s' and what to do", cases[i].text, err,
			         cases[i].want);
		assert_false(found);
	}
}

static void
test_state_OversizedAndBinaryRefused(void **state)
{
	struct fixture *f = *state;
	static char big[128 * 1024];
	char err[512];
	bool found;
	int fd;

	memset(big, '#', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	write_file(f->path, big);
	assert_int_equal(state_load(f->dir, &st, &found, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "too long or binary"));
	fd = open(f->path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "latest 1\0\nlatest 2\n", 19), 19);
	close(fd);
	assert_int_equal(state_load(f->dir, &st, &found, err, sizeof(err)), -1);
}

/* A link at the file's name is not followed, and one at the temporary name is not written
 * through: the target stays as it was. */
static void
test_state_LinksNotFollowed(void **state)
{
	struct fixture *f = *state;
	char target[128], tmp[160], err[512];
	bool found;
	FILE *fp;
	char buf[32] = {0};

	snprintf(target, sizeof(target), "%s/target", f->dir);
	write_file(target, "latest 2\n");
	assert_int_equal(symlink(target, f->path), 0);
	assert_int_equal(state_load(f->dir, &st, &found, err, sizeof(err)), -1);
	assert_int_equal(unlink(f->path), 0);
	snprintf(tmp, sizeof(tmp), "%s.new", f->path);
	assert_int_equal(symlink(target, tmp), 0);
	st.latest = 6;
	st.nnonces = 0;
	assert_int_equal(state_save(f->dir, &st, err, sizeof(err)), 0);
	fp = fopen(target, "r");
	assert_non_null(fp);
	assert_true(fread(buf, 1, sizeof(buf) - 1, fp) > 0);
	fclose(fp);
	assert_string_equal(buf, "latest 2\n");
}

static void
test_state_UnwritableDirRefused(void **state)
{
	struct fixture *f = *state;
	char err[512];
	bool found;

	assert_int_equal(state_load("/proc/garaged-no-such-dir", &st, &found, err, sizeof(err)),
	                 -1);
	assert_non_null(strstr(err, "state_dir /proc/garaged-no-such-dir: cannot create it"));
	write_file(f->path, "x");
	assert_int_equal(state_load(f->path, &st, &found, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a directory"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_state_FirstStartThenRoundTrip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_state_MissingDirIsMade, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_state_ForeignFilesRefused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_state_OversizedAndBinaryRefused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_state_LinksNotFollowed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_state_UnwritableDirRefused, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
