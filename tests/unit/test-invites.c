/*
 * invites.c and enroll.c: the used invitations the door half keeps in state_dir, and the one
 * rule of enroll_apply(), that an invitation enrols once. A restart keeps an id used; a file
 * garaged did not write is refused with FILE:LINE and what to do; ids are dropped only once
 * their invitations expired, never while live (a full set refuses instead); a write that fails
 * changes nothing, on disk or in memory.
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

#include "base64.h"
#include "enroll.h"
#include "invites.h"

struct fixture {
	char dir[64];
	char path[128];
};

static struct invites iv, back; /* INVITES_MAX entries each: not on the stack */

static int
setup(void **state)
{
	static struct fixture f;

	snprintf(f.dir, sizeof(f.dir), "/tmp/garaged-invites-test.XXXXXX");
	if (mkdtemp(f.dir) == NULL)
		return -1;
	snprintf(f.path, sizeof(f.path), "%s/%s", f.dir, INVITES_FILE);
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

static char *
read_file(const char *path)
{
	static char buf[16384];
	FILE *fp = fopen(path, "r");
	size_t n;

	assert_non_null(fp);
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

/* The id of invitation number n: 16 bytes, as base64url. */
static const char *
id_of(unsigned int n)
{
	static char ids[4][CMD_INVITE_ID_TEXT_MAX + 1];
	static unsigned int next;
	char *out = ids[next++ % 4];
	uint8_t bytes[CMD_INVITE_ID_LEN];

	memset(bytes, 0xa5, sizeof(bytes));
	memcpy(bytes, &n, sizeof(n));
	base64_encode(BASE64_URL_UNPADDED, bytes, sizeof(bytes), out, CMD_INVITE_ID_TEXT_MAX + 1);
	return out;
}

static void
load_ok(struct invites *set, const char *dir)
{
	char err[512] = "";

	if (invites_load(set, dir, err, sizeof(err)) != 0)
		fail_msg("load: %s", err);
}

static void
record_ok(const char *id, int64_t expires, int64_t now)
{
	char err[512] = "";

	if (invites_record(&iv, id, expires, now, err, sizeof(err)) != INVITES_OK)
		fail_msg("record %s: %s", id, err);
}

static void
test_invites_RestartKeepsIdsUsed(void **state)
{
	struct fixture *f = *state;
	char want[512];
	struct stat sb;

	/* A first start: no file, nothing used, the directory made if missing. */
	rmdir(f->dir);
	load_ok(&iv, f->dir);
	assert_int_equal(iv.n, 0);
	assert_int_equal(stat(f->dir, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);
	assert_false(invites_used(&iv, id_of(1)));

	record_ok(id_of(1), 1795634100, 1795547700);
	record_ok(id_of(2), 1795547700, 1795547700);
	assert_true(invites_used(&iv, id_of(1)));
	assert_true(invites_used(&iv, id_of(2)));
	assert_false(invites_used(&iv, id_of(3)));
	snprintf(want, sizeof(want),
	         "# invitations that have enrolled a key (docs/reference.md \"Invitations\"); "
	         "written by garaged only\nused %s 1795634100\nused %s 1795547700\n",
	         id_of(1), id_of(2));
	assert_string_equal(read_file(f->path), want);
	assert_int_equal(stat(f->path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);

	/* What a restart reads: the same ids, used. */
	load_ok(&back, f->dir);
	assert_int_equal(back.n, 2);
	assert_true(invites_used(&back, id_of(1)));
	assert_true(invites_used(&back, id_of(2)));
	assert_memory_equal(back.used, iv.used, sizeof(iv.used));
	assert_int_equal(invites_check(f->dir, want, sizeof(want)), 0);
}

static void
test_invites_ForeignFilesRefused(void **state)
{
	static const struct {
		const char *text;
		const char *want;
	} cases[] = {
	    {"used pQAAAKWlpaWlpaWlpaWlpQ\n", "invitations:1: not a line garaged wrote"},
	    {"# ok\nused pQAAAKWlpaWlpaWlpaWlpQ x\n", "invitations:2: not a line"},
	    {"used pQAAAKWlpaWlpaWlpaWlpQ -1\n", "invitations:1: not a line"},
	    {"used pQAAAKWlpaWlpaWlpaWlpQ 01795634100\n", "invitations:1: not a line"},
	    {"used pQAAAKWlpaWlpaWlpaWlpQ 1000000000000\n", "invitations:1: not a line"},
	    {"used pQAAAKWlpaWlpaWlpaWlpQ 1795634100 \n", "invitations:1: not a line"},
	    {"used  pQAAAKWlpaWlpaWlpaWlpQ 1795634100\n", "invitations:1: not a line"},
	    {"used pQAAAKWlpaWlpaWlpaWlpR 1795634100\n", "invitations:1: not a line"}, /* bits */
	    {"used pQAAAKWlpaWlpaWlpaWl 1795634100\n", "invitations:1: not a line"},   /* short */
	    {"Used pQAAAKWlpaWlpaWlpaWlpQ 1795634100\n", "invitations:1: not a line"},
	    {"nonce 5 q83vEjRWeJA\n", "invitations:1: not a line"},
	    {"\n", "invitations:1: not a line"},
	    {"used pQAAAKWlpaWlpaWlpaWlpQ 1795634100\nused pQAAAKWlpaWlpaWlpaWlpQ 5\n",
	     "invitations:2: invitation pQAAAKWlpaWlpaWlpaWlpQ is listed twice"},
	};
	struct fixture *f = *state;
	char err[512];

	/* The good line itself is one (id_of(0)). */
	assert_string_equal(id_of(0), "AAAAAKWlpaWlpaWlpaWlpQ");
	write_file(f->path, "used AAAAAKWlpaWlpaWlpaWlpQ 1795634100\n");
	load_ok(&iv, f->dir);
	assert_int_equal(iv.n, 1);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		write_file(f->path, cases[i].text);
		err[0] = '\0';
		iv.n = 7;
		if (invites_load(&iv, f->dir, err, sizeof(err)) != -1)
			fail_msg("accepted: %s", cases[i].text);
		/* FILE:LINE, what is wrong, and what to do. */
		if (strncmp(err, f->path, strlen(f->path)) != 0 ||
		    strstr(err, cases[i].want) == NULL ||
		    strstr(err, "garaged writes this file") == NULL)
			fail_msg("'%s': message '%s', want '%s' and what to do", cases[i].text, err,
			         cases[i].want);
		assert_int_equal(iv.n, 0);
		assert_int_equal(invites_check(f->dir, err, sizeof(err)), -1);
	}
}

static void
test_invites_TooManyOversizedAndBinaryRefused(void **state)
{
	struct fixture *f = *state;
	static char text[32768];
	char err[512];
	size_t len = 0;

	for (unsigned int i = 0; i <= INVITES_MAX; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "used %s 1795634100\n",
		                        id_of(i));
	write_file(f->path, text);
	assert_int_equal(invites_load(&iv, f->dir, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "invitations:65: more than 64 invitations"));

	memset(text, '#', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	write_file(f->path, text);
	assert_int_equal(invites_load(&iv, f->dir, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "too long or binary"));

	{
		int fd = open(f->path, O_WRONLY | O_TRUNC);

		assert_true(fd >= 0);
		assert_int_equal(write(fd, "# a\0b\n", 6), 6);
		close(fd);
	}
	assert_int_equal(invites_load(&iv, f->dir, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "too long or binary"));
}

static void
test_invites_LinksNotFollowed(void **state)
{
	struct fixture *f = *state;
	char err[512], elsewhere[160], tmp[160];

	snprintf(elsewhere, sizeof(elsewhere), "%s/elsewhere", f->dir);
	write_file(elsewhere, "used AAAAAKWlpaWlpaWlpaWlpQ 1795634100\n");
	assert_int_equal(symlink(elsewhere, f->path), 0);
	assert_int_equal(invites_load(&iv, f->dir, err, sizeof(err)), -1);
	unlink(f->path);

	/* A link planted at the temporary name is replaced, never written through. */
	load_ok(&iv, f->dir);
	snprintf(tmp, sizeof(tmp), "%s.new", f->path);
	assert_int_equal(symlink(elsewhere, tmp), 0);
	record_ok(id_of(9), 1795634100, 1795547700);
	assert_string_equal(read_file(elsewhere), "used AAAAAKWlpaWlpaWlpaWlpQ 1795634100\n");
	assert_non_null(strstr(read_file(f->path), id_of(9)));
}

/* Ids go once their invitations expired, not before: the second itself still counts. */
static void
test_invites_ExpiredPrunedOnWrite(void **state)
{
	struct fixture *f = *state;

	load_ok(&iv, f->dir);
	record_ok(id_of(1), 100, 50);
	record_ok(id_of(2), 200, 50);
	record_ok(id_of(3), 300, 50);
	/* At 200: 1 has expired, 2 is in its last second. */
	record_ok(id_of(4), 400, 200);
	assert_false(invites_used(&iv, id_of(1)));
	assert_true(invites_used(&iv, id_of(2)));
	assert_true(invites_used(&iv, id_of(3)));
	assert_true(invites_used(&iv, id_of(4)));
	assert_int_equal(iv.n, 3);
	assert_null(strstr(read_file(f->path), id_of(1)));
	load_ok(&back, f->dir);
	assert_int_equal(back.n, 3);
	assert_false(invites_used(&back, id_of(1)));
	assert_true(invites_used(&back, id_of(2)));
	/* A load keeps what the file says, expired or not: the next write drops it. */
	record_ok(id_of(5), 500, 301);
	assert_int_equal(iv.n, 2);
	assert_true(invites_used(&iv, id_of(4)));
	assert_true(invites_used(&iv, id_of(5)));
}

/* A full set refuses rather than forget a live id; once one expires there is room. */
static void
test_invites_FullRefusesRatherThanForget(void **state)
{
	struct fixture *f = *state;
	char before[16384], err[512];

	load_ok(&iv, f->dir);
	for (unsigned int i = 0; i < INVITES_MAX; i++)
		record_ok(id_of(i), 1000 + i, 500);
	assert_int_equal(iv.n, INVITES_MAX);
	strcpy(before, read_file(f->path));
	memcpy(&back, &iv, sizeof(iv));
	assert_int_equal(invites_record(&iv, id_of(100), 2000, 1000, err, sizeof(err)),
	                 INVITES_FULL);
	assert_memory_equal(&iv, &back, sizeof(iv));
	assert_string_equal(read_file(f->path), before);
	assert_false(invites_used(&iv, id_of(100)));
	/* At 1001 invitation 0 has expired: its place is free. */
	record_ok(id_of(100), 2000, 1001);
	assert_false(invites_used(&iv, id_of(0)));
	assert_true(invites_used(&iv, id_of(1)));
	assert_true(invites_used(&iv, id_of(100)));
}

static void
test_invites_WriteFailureChangesNothing(void **state)
{
	struct fixture *f = *state;
	char err[512] = "", cmd[160];

	load_ok(&iv, f->dir);
	record_ok(id_of(1), 1795634100, 1795547700);
	memcpy(&back, &iv, sizeof(iv));
	/* The directory is gone: nothing can be written. */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(invites_record(&iv, id_of(2), 1795634100, 1795547700, err, sizeof(err)),
	                 INVITES_ERROR);
	assert_non_null(strstr(err, f->dir));
	assert_memory_equal(&iv, &back, sizeof(iv));
	assert_false(invites_used(&iv, id_of(2)));
	mkdir(f->dir, 0700);

	/* Nor is an id recorded that is used already or no invitation's. */
	load_ok(&iv, f->dir);
	record_ok(id_of(1), 1795634100, 1795547700);
	assert_int_equal(invites_record(&iv, id_of(1), 1795634100, 1795547700, err, sizeof(err)),
	                 INVITES_ERROR);
	assert_int_equal(invites_record(&iv, "not-an-id", 1795634100, 1795547700, err, sizeof(err)),
	                 INVITES_ERROR);
	assert_int_equal(invites_record(&iv, id_of(2), -1, 1795547700, err, sizeof(err)),
	                 INVITES_ERROR);
	assert_int_equal(iv.n, 1);
}

static void
test_invites_UnusableDirRefused(void **state)
{
	struct fixture *f = *state;
	char err[512], file[160];

	snprintf(file, sizeof(file), "%s/file", f->dir);
	write_file(file, "x");
	assert_int_equal(invites_load(&iv, file, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a directory"));
	/* --check-config: a state_dir not made yet is no problem. */
	snprintf(file, sizeof(file), "%s/not-yet", f->dir);
	assert_int_equal(invites_check(file, err, sizeof(err)), 0);
}

/* ---- enroll_apply() ----------------------------------------------------------------------- */

static struct cmd_enroll
request_of(unsigned int n, int64_t expires)
{
	struct cmd_enroll e;

	memset(&e, 0, sizeof(e));
	strcpy(e.inv.device, "garage");
	strcpy(e.inv.id, id_of(n));
	strcpy(e.inv.by, "owner");
	e.inv.expires = expires;
	strcpy(e.inv.key.kid, "dave");
	e.inv.key.actions = 1U << CMD_ACTION_OPEN;
	e.inv.key.all_doors = true;
	memset(e.inv.key.pub, 7, sizeof(e.inv.key.pub));
	e.ts = 1795547700;
	strcpy(e.nonce, "EnRoLl-nOnCe");
	return e;
}

static void
test_invites_EnrollApplyOnce(void **state)
{
	struct fixture *f = *state;
	struct cmd_enroll e = request_of(1, 1795634100);
	struct cmd_admin op;
	char err[512];

	load_ok(&iv, f->dir);
	assert_int_equal(enroll_apply(&iv, &e, CMD_OK, 1795547700, &op, err, sizeof(err)), CMD_OK);
	assert_true(op.has_op);
	assert_int_equal(op.op, CMD_ADMIN_ADD);
	assert_string_equal(op.target, "dave");
	assert_string_equal(op.kid, "owner");
	assert_memory_equal(&op.key, &e.inv.key, sizeof(op.key));
	assert_string_equal(err, "");

	/* The second time, and after a restart, it is used. */
	assert_int_equal(enroll_apply(&iv, &e, CMD_OK, 1795547701, &op, err, sizeof(err)),
	                 CMD_INVITATION_USED);
	assert_false(op.has_op);
	load_ok(&iv, f->dir);
	assert_int_equal(enroll_apply(&iv, &e, CMD_OK, 1795547702, &op, err, sizeof(err)),
	                 CMD_INVITATION_USED);
	/* Used is what it is, also when the core found the kid taken (the key it enrolled) or
	 * the ring full; the core's other refusals are the core's, used or not. */
	assert_int_equal(enroll_apply(&iv, &e, CMD_KEY_EXISTS, 1795547702, &op, err, sizeof(err)),
	                 CMD_INVITATION_USED);
	assert_int_equal(
	    enroll_apply(&iv, &e, CMD_TOO_MANY_KEYS, 1795547702, &op, err, sizeof(err)),
	    CMD_INVITATION_USED);
	assert_int_equal(enroll_apply(&iv, &e, CMD_BAD_PROOF, 1795547702, &op, err, sizeof(err)),
	                 CMD_BAD_PROOF);
	assert_int_equal(
	    enroll_apply(&iv, &e, CMD_INVITATION_EXPIRED, 1795547702, &op, err, sizeof(err)),
	    CMD_INVITATION_EXPIRED);
	assert_false(op.has_op);
	/* A refusal of the core records nothing. */
	e = request_of(3, 1795634100);
	assert_int_equal(enroll_apply(&iv, &e, CMD_KEY_EXISTS, 1795547702, &op, err, sizeof(err)),
	                 CMD_KEY_EXISTS);
	assert_int_equal(enroll_apply(&iv, &e, CMD_REPLAY, 1795547702, &op, err, sizeof(err)),
	                 CMD_REPLAY);
	assert_false(invites_used(&iv, id_of(3)));
	/* Another invitation for the same kid is another invitation: the keyring judges the kid. */
	e = request_of(2, 1795634100);
	assert_int_equal(enroll_apply(&iv, &e, CMD_OK, 1795547702, &op, err, sizeof(err)), CMD_OK);
}

static void
test_invites_EnrollApplyFullOrUnwritable(void **state)
{
	struct fixture *f = *state;
	struct cmd_enroll e;
	struct cmd_admin op;
	char err[512], cmd[160];

	load_ok(&iv, f->dir);
	for (unsigned int i = 0; i < INVITES_MAX; i++)
		record_ok(id_of(i), 1795634100, 1795547700);
	e = request_of(100, 1795634100);
	assert_int_equal(enroll_apply(&iv, &e, CMD_OK, 1795547700, &op, err, sizeof(err)),
	                 CMD_TOO_MANY_INVITATIONS);
	assert_false(op.has_op);
	assert_false(invites_used(&iv, id_of(100)));

	load_ok(&iv, f->dir);
	iv.n = 0;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(enroll_apply(&iv, &e, CMD_OK, 1795547700, &op, err, sizeof(err)),
	                 CMD_INVITATIONS_WRITE_FAILED);
	assert_false(op.has_op);
	assert_non_null(strstr(err, INVITES_FILE));
	assert_false(invites_used(&iv, id_of(100)));
	mkdir(f->dir, 0700);
}

int
main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_invites_RestartKeepsIdsUsed),
	    T(test_invites_ForeignFilesRefused),
	    T(test_invites_TooManyOversizedAndBinaryRefused),
	    T(test_invites_LinksNotFollowed),
	    T(test_invites_ExpiredPrunedOnWrite),
	    T(test_invites_FullRefusesRatherThanForget),
	    T(test_invites_WriteFailureChangesNothing),
	    T(test_invites_UnusableDirRefused),
	    T(test_invites_EnrollApplyOnce),
	    T(test_invites_EnrollApplyFullOrUnwritable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
