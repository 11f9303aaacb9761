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

static void
test_state_FirstStartThenRoundTrip(void **state)
{
	struct fixture *f = *state;
	struct state st = {.accepted_ts = 99, .latest = 99}, back;
	char err[512], tmp[160];
	bool found = true;
	struct stat sb;

	assert_int_equal(state_load(f->dir, &st, &found, err, sizeof(err)), 0);
	assert_false(found);
	assert_int_equal(st.accepted_ts, 0);
	st.accepted_ts = 1795950020;
	st.latest = 1795950000;
	assert_int_equal(state_save(f->dir, &st, err, sizeof(err)), 0);
	assert_int_equal(stat(f->path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(state_load(f->dir, &back, &found, err, sizeof(err)), 0);
	assert_true(found);
	assert_int_equal(back.accepted_ts, 1795950020);
	assert_int_equal(back.latest, 1795950000);
	/* No temporary file is left behind. */
	snprintf(tmp, sizeof(tmp), "%s.new", f->path);
	assert_int_equal(access(tmp, F_OK), -1);
}

static void
test_state_MissingDirIsMade(void **state)
{
	struct fixture *f = *state;
	char sub[128], err[512];
	struct state st;
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
	    {"accepted_ts 1\nlatest x\n", "verifier:2: not a line garaged wrote"},
	    {"accepted_ts 1\n", "latest is missing"},
	    {"latest 1\n", "accepted_ts is missing"},
	    {"accepted_ts 1\naccepted_ts 2\nlatest 3\n", "verifier:2: not a line"},
	    {"accepted_ts -1\nlatest 3\n", "verifier:1: not a line"},
	    {"accepted_ts 99999999999999999999\nlatest 3\n", "verifier:1: not a line"},
	    {"accepted_ts 1 \nlatest 3\n", "verifier:1: not a line"},
	    {"accepted_ts  1\nlatest 3\n", "verifier:1: not a line"},
	    {"accepted_ts 1\nlatest 3\nextra 4\n", "verifier:3: not a line"},
	    {"", "accepted_ts is missing"},
	};
	struct fixture *f = *state;
	struct state st;
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
	char big[2048], err[512];
	struct state st;
	bool found;
	int fd;

	memset(big, '#', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	write_file(f->path, big);
	assert_int_equal(state_load(f->dir, &st, &found, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "too long or binary"));
	fd = open(f->path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "accepted_ts 1\0\nlatest 2\n", 24), 24);
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
	struct state st = {.accepted_ts = 5, .latest = 6};
	bool found;
	FILE *fp;
	char buf[32] = {0};

	snprintf(target, sizeof(target), "%s/target", f->dir);
	write_file(target, "accepted_ts 1\nlatest 2\n");
	assert_int_equal(symlink(target, f->path), 0);
	assert_int_equal(state_load(f->dir, &st, &found, err, sizeof(err)), -1);
	assert_int_equal(unlink(f->path), 0);
	snprintf(tmp, sizeof(tmp), "%s.new", f->path);
	assert_int_equal(symlink(target, tmp), 0);
	st.accepted_ts = 5;
	st.latest = 6;
	assert_int_equal(state_save(f->dir, &st, err, sizeof(err)), 0);
	fp = fopen(target, "r");
	assert_non_null(fp);
	assert_true(fread(buf, 1, sizeof(buf) - 1, fp) > 0);
	fclose(fp);
	assert_string_equal(buf, "accepted_ts 1\nlatest 2\n");
}

static void
test_state_UnwritableDirRefused(void **state)
{
	struct fixture *f = *state;
	char err[512];
	struct state st;
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
