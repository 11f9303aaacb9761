/*
 * certstore.c: the renewed pairs in state_dir. Which pair a network half uses (the one on
 * trial, the renewed one, the configured one) and the files garaged did not write so (a link,
 * a file open to others) passed over with a word; a pending key kept and installed with its
 * certificate as one file; promotion keeping the pair before; giving up a pair on trial or in
 * use, and the one before taking its place. The files are compared byte for byte.
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

#include "certstore.h"

#define KEY  "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
#define CERT "-----BEGIN CERTIFICATE-----\nBBBB\n-----END CERTIFICATE-----\n"

struct fixture {
	char dir[64];
};

static int
setup(void **state)
{
	static struct fixture f;

	snprintf(f.dir, sizeof(f.dir), "/tmp/garaged-certstore-test.XXXXXX");
	if (mkdtemp(f.dir) == NULL)
		return -1;
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

static const char *
at(const struct fixture *f, const char *name)
{
	static char buf[4][CERTSTORE_PATH_MAX];
	static int next;
	char *p = buf[next++ % 4];

	snprintf(p, CERTSTORE_PATH_MAX, "%s/%s", f->dir, name);
	return p;
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_true(fputs(text, fp) >= 0);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(chmod(path, mode), 0);
}

/* PATH's whole text (static buffer), or NULL when it is not there. */
static const char *
read_file(const char *path)
{
	static char buf[4096];
	FILE *fp = fopen(path, "r");
	size_t n;

	if (fp == NULL)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

static bool
exists(const char *path)
{
	return access(path, F_OK) == 0;
}

static enum certstore_pair
choose(const struct fixture *f, char *path, char *warn)
{
	return certstore_choose(f->dir, path, warn, 256);
}

static void
test_certstore_choose_Precedence(void **state)
{
	struct fixture *f = *state;
	char path[CERTSTORE_PATH_MAX], warn[256];

	assert_int_equal(choose(f, path, warn), CERTSTORE_CONFIGURED);
	assert_string_equal(path, "");
	assert_string_equal(warn, "");
	write_file(at(f, CERTSTORE_PAIR), CERT KEY, 0600);
	assert_int_equal(choose(f, path, warn), CERTSTORE_RENEWED);
	assert_string_equal(path, at(f, CERTSTORE_PAIR));
	write_file(at(f, CERTSTORE_TRIAL), CERT KEY, 0600);
	assert_int_equal(choose(f, path, warn), CERTSTORE_ON_TRIAL);
	assert_string_equal(path, at(f, CERTSTORE_TRIAL));
	assert_string_equal(warn, "");
	/* The previous and the refused pairs are never chosen. */
	unlink(at(f, CERTSTORE_TRIAL));
	unlink(at(f, CERTSTORE_PAIR));
	write_file(at(f, CERTSTORE_PREVIOUS), CERT KEY, 0600);
	write_file(at(f, CERTSTORE_REFUSED), CERT KEY, 0600);
	assert_int_equal(choose(f, path, warn), CERTSTORE_CONFIGURED);
}

static void
test_certstore_choose_NotOurs(void **state)
{
	struct fixture *f = *state;
	char path[CERTSTORE_PATH_MAX], warn[256];

	/* A pair others may read is passed over, with a word. */
	write_file(at(f, CERTSTORE_PAIR), CERT KEY, 0644);
	assert_int_equal(choose(f, path, warn), CERTSTORE_CONFIGURED);
	assert_non_null(strstr(warn, "open to group or others"));
	assert_non_null(strstr(warn, CERTSTORE_PAIR));
	/* A link planted as the trial pair: never followed; the renewed pair below it wins. */
	chmod(at(f, CERTSTORE_PAIR), 0600);
	assert_int_equal(symlink(at(f, CERTSTORE_PAIR), at(f, CERTSTORE_TRIAL)), 0);
	assert_int_equal(choose(f, path, warn), CERTSTORE_RENEWED);
	assert_non_null(strstr(warn, "not a regular file"));
	/* A directory in its place. */
	unlink(at(f, CERTSTORE_TRIAL));
	assert_int_equal(mkdir(at(f, CERTSTORE_TRIAL), 0700), 0);
	assert_int_equal(choose(f, path, warn), CERTSTORE_RENEWED);
	rmdir(at(f, CERTSTORE_TRIAL));
	unlink(at(f, CERTSTORE_PAIR));
}

static void
test_certstore_Install(void **state)
{
	struct fixture *f = *state;
	char err[512], path[CERTSTORE_PATH_MAX], warn[256];
	struct stat st;

	assert_false(certstore_pending(f->dir));
	/* Nothing pending: nothing to install, and nothing written. */
	assert_int_equal(certstore_install(f->dir, CERT, strlen(CERT), "c", err, sizeof(err)), 1);
	assert_false(exists(at(f, CERTSTORE_TRIAL)));

	assert_int_equal(certstore_keep_key(f->dir, KEY, strlen(KEY), err, sizeof(err)), 0);
	assert_true(certstore_pending(f->dir));
	assert_int_equal(stat(at(f, CERTSTORE_PENDING), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_string_equal(read_file(at(f, CERTSTORE_PENDING)), KEY);

	/* A certificate without its last line end gets one before the key. */
	assert_int_equal(certstore_install(f->dir, CERT, strlen(CERT) - 1, "garaged's renewed pair",
	                                   err, sizeof(err)),
	                 0);
	assert_string_equal(read_file(at(f, CERTSTORE_TRIAL)),
	                    "# garaged's renewed pair\n" CERT KEY);
	assert_int_equal(stat(at(f, CERTSTORE_TRIAL), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_false(certstore_pending(f->dir));
	assert_false(exists(at(f, CERTSTORE_TRIAL ".new")));
	assert_int_equal(choose(f, path, warn), CERTSTORE_ON_TRIAL);
	unlink(at(f, CERTSTORE_TRIAL));
}

static void
test_certstore_InstallPendingNotOurs(void **state)
{
	struct fixture *f = *state;
	char err[512];

	write_file(at(f, CERTSTORE_PENDING), KEY, 0644);
	assert_int_equal(certstore_install(f->dir, CERT, strlen(CERT), "c", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "open to group or others"));
	assert_false(exists(at(f, CERTSTORE_TRIAL)));
	/* A crash between the trial pair and the pending key's removal: the start drops it. */
	chmod(at(f, CERTSTORE_PENDING), 0600);
	certstore_drop_pending(f->dir);
	assert_false(exists(at(f, CERTSTORE_PENDING)));
}

static void
test_certstore_Promote(void **state)
{
	struct fixture *f = *state;
	char err[512], path[CERTSTORE_PATH_MAX], warn[256];

	/* The first renewal: no renewed pair before it, certfile stays where it is. */
	write_file(at(f, CERTSTORE_TRIAL), "one", 0600);
	assert_int_equal(certstore_promote(f->dir, err, sizeof(err)), 0);
	assert_string_equal(read_file(at(f, CERTSTORE_PAIR)), "one");
	assert_false(exists(at(f, CERTSTORE_PREVIOUS)));
	assert_false(exists(at(f, CERTSTORE_TRIAL)));
	/* The second: the first becomes the previous one. */
	write_file(at(f, CERTSTORE_TRIAL), "two", 0600);
	assert_int_equal(certstore_promote(f->dir, err, sizeof(err)), 0);
	assert_string_equal(read_file(at(f, CERTSTORE_PAIR)), "two");
	assert_string_equal(read_file(at(f, CERTSTORE_PREVIOUS)), "one");
	assert_int_equal(choose(f, path, warn), CERTSTORE_RENEWED);
	/* Nothing on trial: nothing to promote, and the pairs stay as they are. */
	assert_int_equal(certstore_promote(f->dir, err, sizeof(err)), -1);
	assert_non_null(strstr(err, CERTSTORE_TRIAL));
	assert_string_equal(read_file(at(f, CERTSTORE_PAIR)), "two");
	assert_string_equal(read_file(at(f, CERTSTORE_PREVIOUS)), "one");
	/* A crash between the two renames: no renewed pair, a trial one; promoting it again
	 * finishes the step. */
	assert_int_equal(rename(at(f, CERTSTORE_PAIR), at(f, CERTSTORE_TRIAL)), 0);
	assert_int_equal(choose(f, path, warn), CERTSTORE_ON_TRIAL);
	assert_int_equal(certstore_promote(f->dir, err, sizeof(err)), 0);
	assert_string_equal(read_file(at(f, CERTSTORE_PAIR)), "two");
	assert_string_equal(read_file(at(f, CERTSTORE_PREVIOUS)), "one");
	unlink(at(f, CERTSTORE_PREVIOUS));
	unlink(at(f, CERTSTORE_PAIR));
}

static void
test_certstore_GiveUp(void **state)
{
	struct fixture *f = *state;
	char err[512], path[CERTSTORE_PATH_MAX], warn[256];

	/* A pair on trial given up: the renewed pair in use stays. */
	write_file(at(f, CERTSTORE_PAIR), "in use", 0600);
	write_file(at(f, CERTSTORE_TRIAL), "new", 0600);
	assert_int_equal(certstore_give_up(f->dir, CERTSTORE_ON_TRIAL, err, sizeof(err)), 0);
	assert_string_equal(read_file(at(f, CERTSTORE_REFUSED)), "new");
	assert_string_equal(read_file(at(f, CERTSTORE_PAIR)), "in use");
	assert_int_equal(choose(f, path, warn), CERTSTORE_RENEWED);
	/* The renewed pair given up: the previous one takes its place. */
	write_file(at(f, CERTSTORE_PREVIOUS), "before", 0600);
	assert_int_equal(certstore_give_up(f->dir, CERTSTORE_RENEWED, err, sizeof(err)), 0);
	assert_string_equal(read_file(at(f, CERTSTORE_REFUSED)), "in use");
	assert_string_equal(read_file(at(f, CERTSTORE_PAIR)), "before");
	assert_false(exists(at(f, CERTSTORE_PREVIOUS)));
	/* ... and without one, certfile and keyfile. */
	assert_int_equal(certstore_give_up(f->dir, CERTSTORE_RENEWED, err, sizeof(err)), 0);
	assert_int_equal(choose(f, path, warn), CERTSTORE_CONFIGURED);
	assert_string_equal(read_file(at(f, CERTSTORE_REFUSED)), "before");
	/* Nothing to give up. */
	assert_int_equal(certstore_give_up(f->dir, CERTSTORE_ON_TRIAL, err, sizeof(err)), -1);
	unlink(at(f, CERTSTORE_REFUSED));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_certstore_choose_Precedence, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_certstore_choose_NotOurs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_certstore_Install, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_certstore_InstallPendingNotOurs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_certstore_Promote, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_certstore_GiveUp, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
