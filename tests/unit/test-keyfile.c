/*
 * Unit tests of keyfile.c: authorized_keys as the door half changes it for a verified admin
 * message. What they hold it to: the new file is the old one with exactly the key's line added
 * or taken away (every comment and blank line the owner wrote survives, byte for byte); it
 * parses to the keyring the change makes; it keeps the old file's mode and owner; a refusal of
 * any kind leaves the file byte for byte and no temporary file behind; a file garaged may not
 * replace is keys_read_only, any other failure keys_write_failed; at each step of the write the
 * path holds the old file or the new one, whole; and the public key list fits the broker's
 * packet limit, or says it is cut.
 */
/* nftw() is X/Open and setgroups() BSD's, beyond the POSIX level the build asks for. */
#define _GNU_SOURCE

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>
#include <sodium.h>

#include "authkeys.h"
#include "channel.h"
#include "keyfile.h"
#include "sig_sodium.h"

/* The user the tests that need one who may not write become (run as root: nobody). */
#define NOBODY 65534

struct fixture {
	char dir[256];
	char path[300]; /* dir/authorized_keys */
	char tmp[310];  /* dir/authorized_keys.new, atomicfile's temporary file */
};

static struct cmd_keyring ring, loaded; /* 12 KiB each: not on the stack */
static char before[AUTHKEYS_MAX_SIZE + 1], after[AUTHKEYS_MAX_SIZE + 1]; /* file contents */
static char msg[2048];

/* The base64 public key of an Ed25519 key pair made from 32 bytes of SEED. */
static const char *
pub_b64(unsigned char seed)
{
	static char b64[4][64];
	static unsigned int next;
	unsigned char s[crypto_sign_SEEDBYTES], pk[crypto_sign_PUBLICKEYBYTES];
	unsigned char sk[crypto_sign_SECRETKEYBYTES];
	char *out = b64[next++ % 4];

	memset(s, seed, sizeof(s));
	crypto_sign_seed_keypair(pk, sk, s);
	sodium_bin2base64(out, sizeof(b64[0]), pk, sizeof(pk), sodium_base64_VARIANT_ORIGINAL);
	return out;
}

/* The Ed25519 identity point, a small-order key: 0x01 and 31 zero bytes, in base64. */
static const char *
identity_b64(void)
{
	static char b64[64];
	unsigned char pk[crypto_sign_PUBLICKEYBYTES] = {1};

	sodium_bin2base64(b64, sizeof(b64), pk, sizeof(pk), sodium_base64_VARIANT_ORIGINAL);
	return b64;
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t len = strlen(text);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

/* PATH's bytes, NUL-terminated, into BUF (AUTHKEYS_MAX_SIZE + 1 bytes). */
static size_t
read_file(const char *path, char *buf)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf, AUTHKEYS_MAX_SIZE);
	assert_true(n >= 0);
	buf[n] = '\0';
	close(fd);
	return (size_t)n;
}

static int
setup(void **state)
{
	static struct fixture f;

	if (sig_sodium_init() != 0)
		return -1;
	snprintf(f.dir, sizeof(f.dir), "/tmp/test-keyfile.XXXXXX");
	if (mkdtemp(f.dir) == NULL || chmod(f.dir, 0755) != 0)
		return -1;
	snprintf(f.path, sizeof(f.path), "%s/authorized_keys", f.dir);
	snprintf(f.tmp, sizeof(f.tmp), "%s.new", f.path);
	*state = &f;
	return 0;
}

/* For the tests that need no directory. */
static int
init(void **state)
{
	(void)state;
	return sig_sodium_init();
}

static int
remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	return nftw(f->dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* An add of LINE, as cmd_admin_check() leaves it when it accepted the message. */
static struct cmd_admin
add_op(const char *line)
{
	struct cmd_admin a;
	char err[256];

	memset(&a, 0, sizeof(a));
	a.op = CMD_ADMIN_ADD;
	a.has_op = true;
	if (cmd_key_parse(&a.key, line, strlen(line), err, sizeof(err)) != 0)
		fail_msg("%s: %s", line, err);
	memcpy(a.target, a.key.kid, sizeof(a.target));
	snprintf(a.kid, sizeof(a.kid), "alice");
	return a;
}

static struct cmd_admin
remove_op(const char *kid)
{
	struct cmd_admin a;

	memset(&a, 0, sizeof(a));
	a.op = CMD_ADMIN_REMOVE;
	a.has_op = true;
	snprintf(a.target, sizeof(a.target), "%s", kid);
	snprintf(a.kid, sizeof(a.kid), "alice");
	return a;
}

/* The owner's file: comments, a blank line, alice the admin, bob with options. */
static const char *
owner_text(void)
{
	static char text[1024];

	snprintf(text, sizeof(text),
	         "# the owner's keys\n"
	         "ed25519 %s alice admin\n"
	         "\n"
	         "# bob's laptop, since May\n"
	         "ed25519 %s bob   doors=main actions=open\n"
	         "# end\n",
	         pub_b64(1), pub_b64(2));
	return text;
}

/* The change made: the file holds WANT, the returned ring is the file's, and nothing is left. */
static void
assert_file(const struct fixture *f, const char *want)
{
	char err[512];

	read_file(f->path, after);
	assert_string_equal(after, want);
	assert_int_equal(access(f->tmp, F_OK), -1);
	assert_int_equal(authkeys_load(f->path, &loaded, err, sizeof(err)), 0);
	assert_int_equal(loaded.nkeys, ring.nkeys);
	assert_memory_equal(&loaded, &ring, sizeof(ring));
}

/* The verifier's time for the tests: now, a Monday at noon (no test key has a schedule). */
static struct cmd_now
now(void)
{
	struct cmd_now n = {.unix_time = (int64_t)time(NULL), .wday = 1, .minute = 12 * 60};

	return n;
}

/*
 * The key KID as the daemon has it loaded: from PATH as it is now (parsed without the
 * file's safety checks, which keyfile_change() makes itself), or, when the file has no such
 * kid, a key of that kid that is in no file.
 */
static struct cmd_key
signer_of(const char *path, const char *kid)
{
	static struct cmd_keyring r;
	static char text[AUTHKEYS_MAX_SIZE + 1];
	const struct cmd_key *k;
	struct cmd_key none;
	char err[256];
	size_t n = read_file(path, text);

	if (cmd_keys_parse(&r, text, n, err, sizeof(err)) == 0 &&
	    (k = cmd_keyring_find(&r, kid, strlen(kid))) != NULL)
		return *k;
	memset(&none, 0, sizeof(none));
	snprintf(none.kid, sizeof(none.kid), "%s", kid);
	memset(none.pub, 0x42, sizeof(none.pub));
	none.admin = true;
	return none;
}

/* keyfile_change() signed by KID as loaded from PATH just before, without hooks. */
static enum cmd_reason
change(const char *path, const char *kid, const struct cmd_admin *op,
       const struct keyfile_hooks *hooks)
{
	struct cmd_key k = signer_of(path, kid);

	return keyfile_change(path, &k, now(), op, hooks, &ring, msg, sizeof(msg));
}

/* A refusal of OP signed by SIGNER: REASON, and the file as it was, with no temporary file. */
static void
assert_refused_by(const struct fixture *f, const struct cmd_admin *op, const struct cmd_key *signer,
                  enum cmd_reason reason)
{
	enum cmd_reason got;

	read_file(f->path, before);
	memset(&ring, 0xa5, sizeof(ring));
	got = keyfile_change(f->path, signer, now(), op, NULL, &ring, msg, sizeof(msg));
	if (got != reason)
		fail_msg("%s %s by %s: %s (%s), want %s", cmd_admin_op_name(op->op), op->target,
		         signer->kid, cmd_reason_name(got), msg, cmd_reason_name(reason));
	assert_true(msg[0] != '\0');
	assert_null(strchr(msg, '\n'));
	read_file(f->path, after);
	assert_string_equal(after, before);
	assert_int_equal(access(f->tmp, F_OK), -1);
}

/* The same, signed by the key KID as the file has it (or a key of that kid in no file). */
static void
assert_refused(const struct fixture *f, const struct cmd_admin *op, const char *kid,
               enum cmd_reason reason)
{
	struct cmd_key k = signer_of(f->path, kid);

	assert_refused_by(f, op, &k, reason);
}

/* ---- adding and removing ------------------------------------------------------------------ */

static void
test_keyfile_AddKeepsTheFileAndAppendsTheCanonicalLine(void **state)
{
	struct fixture *f = *state;
	char line[256], want[2048];
	struct cmd_admin op;
	struct stat st;

	write_file(f->path, owner_text(), 0640);
	/* Options in any order and spacing: the device writes the canonical line. */
	snprintf(line, sizeof(line),
	         "ed25519 %s carol  hours=07:00-10:00 admin doors=main,side actions=close,open",
	         pub_b64(3));
	op = add_op(line);
	assert_int_equal(change(f->path, "alice", &op, NULL), CMD_OK);
	assert_string_equal(msg, "");
	snprintf(want, sizeof(want),
	         "%sed25519 %s carol actions=open,close doors=main,side hours=07:00-10:00 admin\n",
	         owner_text(), pub_b64(3));
	assert_file(f, want);
	assert_int_equal(ring.nkeys, 3);
	assert_string_equal(ring.keys[2].kid, "carol");
	assert_int_equal(ring.keys[2].line, 7);
	assert_true(ring.keys[2].admin);
	/* The old file's mode, whatever the umask. */
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
}

static void
test_keyfile_AddAfterALastLineWithoutEnding(void **state)
{
	struct fixture *f = *state;
	char text[512], line[256], want[1024];
	struct cmd_admin op;

	snprintf(text, sizeof(text), "ed25519 %s alice admin", pub_b64(1));
	write_file(f->path, text, 0600);
	snprintf(line, sizeof(line), "ed25519 %s bob", pub_b64(2));
	op = add_op(line);
	assert_int_equal(change(f->path, "alice", &op, NULL), CMD_OK);
	snprintf(want, sizeof(want), "%s\n%s\n", text, line);
	assert_file(f, want);
}

static void
test_keyfile_RemoveTakesOnlyItsLine(void **state)
{
	struct fixture *f = *state;
	char want[2048];
	struct cmd_admin op = remove_op("bob");

	write_file(f->path, owner_text(), 0600);
	assert_int_equal(change(f->path, "alice", &op, NULL), CMD_OK);
	snprintf(want, sizeof(want),
	         "# the owner's keys\n"
	         "ed25519 %s alice admin\n"
	         "\n"
	         "# bob's laptop, since May\n"
	         "# end\n",
	         pub_b64(1));
	assert_file(f, want);
	assert_int_equal(ring.nkeys, 1);
	assert_string_equal(ring.keys[0].kid, "alice");
}

/* CRLF line endings stay as they were; a last line without an ending goes whole. */
static void
test_keyfile_RemoveWithCrlfAndAnUnendedLastLine(void **state)
{
	struct fixture *f = *state;
	char text[1024], want[1024];
	struct cmd_admin op;

	snprintf(text, sizeof(text),
	         "# crlf\r\ned25519 %s alice admin\r\ned25519 %s bob\r\n"
	         "ed25519 %s carol",
	         pub_b64(1), pub_b64(2), pub_b64(3));
	write_file(f->path, text, 0600);
	op = remove_op("bob");
	assert_int_equal(change(f->path, "alice", &op, NULL), CMD_OK);
	snprintf(want, sizeof(want), "# crlf\r\ned25519 %s alice admin\r\ned25519 %s carol",
	         pub_b64(1), pub_b64(3));
	assert_file(f, want);
	op = remove_op("carol");
	assert_int_equal(change(f->path, "alice", &op, NULL), CMD_OK);
	snprintf(want, sizeof(want), "# crlf\r\ned25519 %s alice admin\r\n", pub_b64(1));
	assert_file(f, want);
}

/* ---- refusals ----------------------------------------------------------------------------- */

static void
test_keyfile_RefusalsLeaveTheFileAsItWas(void **state)
{
	struct fixture *f = *state;
	char line[256];
	struct cmd_admin op;

	write_file(f->path, owner_text(), 0600);
	snprintf(line, sizeof(line), "ed25519 %s bob", pub_b64(4));
	op = add_op(line);
	assert_refused(f, &op, "alice", CMD_KEY_EXISTS);
	op = remove_op("dave");
	assert_refused(f, &op, "alice", CMD_UNKNOWN_TARGET);
	op = remove_op("alice");
	assert_refused(f, &op, "alice", CMD_LAST_ADMIN);
	/* The file as it is now judges the signer: a hand edit that took alice's role away (or
	 * her key) is not undone by alice's message signed before it. */
	op = remove_op("bob");
	assert_refused(f, &op, "bob", CMD_NOT_ADMIN);
	assert_refused(f, &op, "mallory", CMD_UNKNOWN_KEY);
	/* renew changes no key. */
	op = remove_op("bob");
	op.op = CMD_ADMIN_RENEW;
	op.target[0] = '\0';
	assert_refused(f, &op, "alice", CMD_NOT_SUPPORTED);
	/* A key the core parses but libsodium would refuse at the next start: the identity. */
	snprintf(line, sizeof(line), "ed25519 %s small-order", identity_b64());
	op = add_op(line);
	assert_refused(f, &op, "alice", CMD_MALFORMED);
	assert_non_null(strstr(msg, "not a usable Ed25519"));
}

/*
 * The signer as the file has it now, public key included: alice's key replaced by hand under
 * the same kid (a stolen phone's), or given a not_after= that has passed, and not reloaded
 * yet, no longer manages the keys with the key that signed.
 */
static void
test_keyfile_SignerIsTheSameKeyInTheFileNow(void **state)
{
	struct fixture *f = *state;
	struct cmd_admin op = remove_op("bob");
	struct cmd_key loaded_alice;
	char text[1024];

	write_file(f->path, owner_text(), 0600);
	loaded_alice = signer_of(f->path, "alice");
	snprintf(text, sizeof(text), "ed25519 %s alice admin\ned25519 %s bob\n", pub_b64(7),
	         pub_b64(2));
	write_file(f->path, text, 0600);
	assert_refused_by(f, &op, &loaded_alice, CMD_UNKNOWN_KEY);
	assert_non_null(strstr(msg, "another public key"));
	snprintf(text, sizeof(text),
	         "ed25519 %s alice not_after=2020-01-01T00:00:00Z admin\ned25519 %s bob\n",
	         pub_b64(1), pub_b64(2));
	write_file(f->path, text, 0600);
	assert_refused_by(f, &op, &loaded_alice, CMD_KEY_EXPIRED);
	/* The same key, admin and valid: the change is made. */
	snprintf(text, sizeof(text), "ed25519 %s alice admin\ned25519 %s bob\n", pub_b64(1),
	         pub_b64(2));
	write_file(f->path, text, 0600);
	assert_int_equal(
	    keyfile_change(f->path, &loaded_alice, now(), &op, NULL, &ring, msg, sizeof(msg)),
	    CMD_OK);
}

/* A file authkeys.c would refuse to load is not changed either. */
static void
test_keyfile_UnsafeFileRefused(void **state)
{
	struct fixture *f = *state;
	struct cmd_admin op = remove_op("bob");

	write_file(f->path, owner_text(), 0620);
	assert_refused(f, &op, "alice", CMD_KEYS_WRITE_FAILED);
	assert_non_null(strstr(msg, "writable by group or others"));
}

/* Any failure of the write that is not a permission: keys_write_failed, nothing changed. */
static void
test_keyfile_WriteFailureRefused(void **state)
{
	struct fixture *f = *state;
	struct cmd_admin op = remove_op("bob");
	char inside[400];

	write_file(f->path, owner_text(), 0600);
	/* A directory where the temporary file goes: it cannot be removed or made. */
	assert_int_equal(mkdir(f->tmp, 0700), 0);
	snprintf(inside, sizeof(inside), "%s/x", f->tmp);
	write_file(inside, "x", 0600);
	read_file(f->path, before);
	assert_int_equal(change(f->path, "alice", &op, NULL), CMD_KEYS_WRITE_FAILED);
	read_file(f->path, after);
	assert_string_equal(after, before);
	assert_int_equal(unlink(inside), 0);
	assert_int_equal(rmdir(f->tmp), 0);
}

/*
 * Runs keyfile_change() as a user who may not do what it takes, in a child: as nobody when
 * the tests run as root. Returns its reason.
 */
static enum cmd_reason
change_as_nobody(const char *path, const struct cmd_admin *op)
{
	struct cmd_key k = signer_of(path, "alice");
	pid_t pid;
	int status;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (geteuid() == 0 &&
		    (setgroups(0, NULL) != 0 || setgid(NOBODY) != 0 || setuid(NOBODY) != 0))
			_exit(100);
		_exit(keyfile_change(path, &k, now(), op, NULL, &ring, msg, sizeof(msg)));
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return (enum cmd_reason)WEXITSTATUS(status);
}

/* A directory garaged may not write in (an /etc/garaged managed by hand): keys_read_only. */
static void
test_keyfile_DirectoryNotWritableIsReadOnly(void **state)
{
	struct fixture *f = *state;
	struct cmd_admin op = remove_op("bob");

	write_file(f->path, owner_text(), 0600);
	if (geteuid() == 0)
		assert_int_equal(chown(f->path, NOBODY, NOBODY), 0);
	else
		assert_int_equal(chmod(f->dir, 0555), 0);
	read_file(f->path, before);
	assert_int_equal(change_as_nobody(f->path, &op), CMD_KEYS_READ_ONLY);
	read_file(f->path, after);
	assert_string_equal(after, before);
	assert_int_equal(access(f->tmp, F_OK), -1);
	assert_int_equal(chmod(f->dir, 0755), 0);
}

/* A file of root's in a directory garaged may write: replacing it would change its owner, so
 * it is not replaced (EPERM from fchown). */
static void
test_keyfile_OwnerThatCannotBeKeptIsReadOnly(void **state)
{
	struct fixture *f = *state;
	struct cmd_admin op = remove_op("bob");

	if (geteuid() != 0)
		skip();
	/* root:nogroup 0640, as root:garaged is in /etc/garaged: garaged reads it by its group. */
	write_file(f->path, owner_text(), 0640);
	assert_int_equal(chown(f->path, 0, NOBODY), 0);
	assert_int_equal(chown(f->dir, NOBODY, NOBODY), 0);
	read_file(f->path, before);
	assert_int_equal(change_as_nobody(f->path, &op), CMD_KEYS_READ_ONLY);
	read_file(f->path, after);
	assert_string_equal(after, before);
	assert_int_equal(access(f->tmp, F_OK), -1);
	assert_int_equal(chown(f->dir, 0, 0), 0);
}

/* Who may change owners keeps the old file's. */
static void
test_keyfile_OwnerAndGroupKept(void **state)
{
	struct fixture *f = *state;
	struct cmd_admin op = remove_op("bob");
	struct stat st;

	if (geteuid() != 0)
		skip();
	/* root:nogroup: root may own it (safepath.h), and the group is not root's own. */
	write_file(f->path, owner_text(), 0640);
	assert_int_equal(chown(f->path, 0, NOBODY), 0);
	assert_int_equal(change(f->path, "alice", &op, NULL), CMD_OK);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_uid, 0);
	assert_int_equal(st.st_gid, NOBODY);
	assert_int_equal(st.st_mode & 07777, 0640);
}

/* ---- at every step, the old file or the new one ------------------------------------------- */

struct stages {
	const struct fixture *f;
	const char *old, *new;
	int seen;
};

static void
check_stage(enum atomicfile_stage stage, void *arg)
{
	static char now[AUTHKEYS_MAX_SIZE + 1], tmp[AUTHKEYS_MAX_SIZE + 1];
	struct stages *s = arg;

	read_file(s->f->path, now);
	switch (stage) {
	case ATOMICFILE_WRITTEN:
	case ATOMICFILE_SYNCED:
		/* A kill here leaves the old file, and a whole new one beside it. */
		assert_string_equal(now, s->old);
		read_file(s->f->tmp, tmp);
		assert_string_equal(tmp, s->new);
		break;
	case ATOMICFILE_RENAMED:
		assert_string_equal(now, s->new);
		assert_int_equal(access(s->f->tmp, F_OK), -1);
		break;
	}
	assert_int_equal(s->seen, (int)stage);
	s->seen++;
}

static void
test_keyfile_EveryStageLeavesTheOldOrTheNewFile(void **state)
{
	struct fixture *f = *state;
	char line[256], want[2048];
	struct cmd_admin op;
	struct stages s = {.f = f, .old = owner_text()};
	const struct keyfile_hooks hooks = {.pause = check_stage, .arg = &s};

	write_file(f->path, owner_text(), 0600);
	snprintf(line, sizeof(line), "ed25519 %s carol", pub_b64(3));
	snprintf(want, sizeof(want), "%s%s\n", owner_text(), line);
	s.new = want;
	op = add_op(line);
	assert_int_equal(change(f->path, "alice", &op, &hooks), CMD_OK);
	assert_int_equal(s.seen, 3);
	assert_string_equal(atomicfile_stage_name(ATOMICFILE_SYNCED), "synced");
	assert_file(f, want);
}

/*
 * The owner's hand edit while a change is in flight: at the "written" stage, EDITS times, the
 * file is rewritten in place (same inode, as `cat >` or an editor that writes in place does)
 * with TEXT and one more '#' line each time, so that each edit has another size.
 */
struct editor {
	const char *path, *text;
	int edits;
	int done;
	char last[2048];
};

static void
edit_in_place(enum atomicfile_stage stage, void *arg)
{
	struct editor *e = arg;
	size_t n;

	if (stage != ATOMICFILE_WRITTEN || e->edits == 0)
		return;
	e->edits--;
	e->done++;
	n = (size_t)snprintf(e->last, sizeof(e->last), "%s", e->text);
	for (int i = 0; i < e->done && n + 3 < sizeof(e->last); i++)
		n += (size_t)snprintf(e->last + n, sizeof(e->last) - n, "#\n");
	write_file(e->path, e->last, 0600);
}

/* The edit is kept: the change is made again from the file as the owner left it. */
static void
test_keyfile_HandEditInFlightIsKept(void **state)
{
	struct fixture *f = *state;
	char edited[256], line[256], want[2048 + 256];
	struct editor e = {.path = f->path, .text = edited, .edits = 1};
	const struct keyfile_hooks hooks = {.pause = edit_in_place, .arg = &e};
	struct cmd_admin op;

	write_file(f->path, owner_text(), 0600);
	/* The owner revokes bob by hand. */
	snprintf(edited, sizeof(edited), "ed25519 %s alice admin\n", pub_b64(1));
	snprintf(line, sizeof(line), "ed25519 %s carol", pub_b64(3));
	op = add_op(line);
	assert_int_equal(change(f->path, "alice", &op, &hooks), CMD_OK);
	assert_int_equal(e.done, 1);
	snprintf(want, sizeof(want), "%s%s\n", e.last, line);
	assert_file(f, want); /* the ring returned is the file's: alice and carol, no bob */
	assert_int_equal(ring.nkeys, 2);
	assert_null(cmd_keyring_find(&ring, "bob", 3));
}

/* A file that changes under every try is left as its last edit made it: keys_busy. */
static void
test_keyfile_FileThatKeepsChangingIsBusy(void **state)
{
	struct fixture *f = *state;
	char edited[256], line[256];
	struct editor e = {.path = f->path, .text = edited, .edits = (int)KEYFILE_TRIES};
	const struct keyfile_hooks hooks = {.pause = edit_in_place, .arg = &e};
	struct cmd_admin op;

	write_file(f->path, owner_text(), 0600);
	snprintf(edited, sizeof(edited), "ed25519 %s alice admin\n", pub_b64(1));
	snprintf(line, sizeof(line), "ed25519 %s carol", pub_b64(3));
	op = add_op(line);
	assert_int_equal(change(f->path, "alice", &op, &hooks), CMD_KEYS_BUSY);
	assert_int_equal(e.done, (int)KEYFILE_TRIES);
	assert_string_equal(cmd_reason_name(CMD_KEYS_BUSY), "keys_busy");
	assert_non_null(strstr(msg, "changed"));
	read_file(f->path, after);
	assert_string_equal(after, e.last);
	assert_int_equal(access(f->tmp, F_OK), -1);
}

/* The change made again is judged again: an edit that took the signer away refuses it. */
static void
test_keyfile_HandEditInFlightJudgesTheSignerAgain(void **state)
{
	struct fixture *f = *state;
	char edited[256], line[256];
	struct editor e = {.path = f->path, .text = edited, .edits = 1};
	const struct keyfile_hooks hooks = {.pause = edit_in_place, .arg = &e};
	struct cmd_admin op;

	write_file(f->path, owner_text(), 0600);
	snprintf(edited, sizeof(edited), "ed25519 %s dave admin\n", pub_b64(5));
	snprintf(line, sizeof(line), "ed25519 %s carol", pub_b64(3));
	op = add_op(line);
	assert_int_equal(change(f->path, "alice", &op, &hooks), CMD_UNKNOWN_KEY);
	read_file(f->path, after);
	assert_string_equal(after, e.last);
	assert_int_equal(access(f->tmp, F_OK), -1);
}

/* ---- keyfile_edit() on its own ------------------------------------------------------------ */

static void
test_keyfile_EditRefusesWhatItCannotDo(void **state)
{
	static char out[4096];
	const char *text = owner_text();
	struct cmd_admin op;
	char err[256], line[256];
	size_t n = 0;

	(void)state;
	assert_int_equal(cmd_keys_parse(&ring, text, strlen(text), err, sizeof(err)), 0);
	op = remove_op("bob");
	assert_int_equal(keyfile_edit(text, strlen(text), &ring, &op, out, sizeof(out), &n), 0);
	/* One byte short of the result and its NUL. */
	assert_int_equal(keyfile_edit(text, strlen(text), &ring, &op, out, n, &n), -1);
	op = remove_op("nobody");
	assert_int_equal(keyfile_edit(text, strlen(text), &ring, &op, out, sizeof(out), &n), -1);
	/* A ring whose line numbers are not this text's. */
	ring.keys[1].line = 99;
	op = remove_op("bob");
	assert_int_equal(keyfile_edit(text, strlen(text), &ring, &op, out, sizeof(out), &n), -1);
	snprintf(line, sizeof(line), "ed25519 %s carol", pub_b64(3));
	op = add_op(line);
	assert_int_equal(keyfile_edit(text, strlen(text), &ring, &op, out, strlen(text) + 10, &n),
	                 -1);
	op.has_op = false;
	assert_int_equal(keyfile_edit(text, strlen(text), &ring, &op, out, sizeof(out), &n), -1);
}

/* ---- the public key list ------------------------------------------------------------------ */

static void
test_keyfile_ListIsTheKeysInOrder(void **state)
{
	static char buf[CHANNEL_KEYS_MAX];
	const char *text = owner_text();
	const cJSON *keys, *k;
	char err[256];
	bool complete = false;
	cJSON *o;
	size_t n;

	(void)state;
	assert_int_equal(cmd_keys_parse(&ring, text, strlen(text), err, sizeof(err)), 0);
	n = keyfile_list_json(&ring, buf, sizeof(buf), &complete);
	assert_true(n > 0 && n == strlen(buf));
	assert_true(complete);
	o = cJSON_Parse(buf);
	assert_non_null(o);
	keys = cJSON_GetObjectItemCaseSensitive(o, "keys");
	assert_int_equal(cJSON_GetArraySize(keys), 2);
	k = cJSON_GetArrayItem(keys, 0);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(k, "kid")->valuestring, "alice");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(k, "admin")));
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(k, "pub")->valuestring, pub_b64(1));
	k = cJSON_GetArrayItem(keys, 1);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(k, "kid")->valuestring, "bob");
	assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(k, "admin")));
	assert_null(cJSON_GetObjectItemCaseSensitive(o, "truncated"));
	cJSON_Delete(o);

	/* The empty ring: an empty list. */
	ring.nkeys = 0;
	assert_int_equal(keyfile_list_json(&ring, buf, sizeof(buf), &complete), 11);
	assert_string_equal(buf, "{\"keys\":[]}");
	assert_true(complete);
}

/* A buffer too small for every key: those that fit, in order, and "truncated", still JSON. */
static void
test_keyfile_ListCutAtAKeySaysSo(void **state)
{
	static char full[CHANNEL_KEYS_MAX], buf[CHANNEL_KEYS_MAX];
	const char *text = owner_text();
	char err[256];
	bool complete = true;
	cJSON *o;
	size_t n, size;

	(void)state;
	assert_int_equal(cmd_keys_parse(&ring, text, strlen(text), err, sizeof(err)), 0);
	n = keyfile_list_json(&ring, full, sizeof(full), &complete);
	/* Exactly enough for both keys: complete. */
	assert_int_equal(keyfile_list_json(&ring, buf, n + 1, &complete), n);
	assert_true(complete);
	/* One byte less: alice only, and the list says it is cut. */
	for (size = n; size > 40; size--) {
		n = keyfile_list_json(&ring, buf, size, &complete);
		assert_true(n > 0 && n < size);
		assert_false(complete);
		o = cJSON_Parse(buf);
		assert_non_null(o);
		assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "truncated")));
		assert_true(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o, "keys")) < 2);
		cJSON_Delete(o);
	}
	assert_int_equal(keyfile_list_json(&ring, buf, 20, &complete), 0);
}

/* The largest key a line can hold, with key id ID (0 to 99) and key SEED. */
static void
largest_key(struct cmd_key *k, unsigned int id, unsigned char seed)
{
	char line[CMD_KEYS_LINE_MAX + 1], err[256];
	int n;

	n = snprintf(line, sizeof(line), "ed25519 %s %.62s%02u doors=", pub_b64(seed),
	             "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk", id);
	for (unsigned int d = 0; d < CMD_MAX_DOORS; d++)
		n += snprintf(line + n, sizeof(line) - (size_t)n, "%s%.31s%c", d > 0 ? "," : "",
		              "ddddddddddddddddddddddddddddddddd", 'a' + d);
	snprintf(line + n, sizeof(line) - (size_t)n,
	         " not_before=1970-01-01T00:00:01Z not_after=9999-12-31T23:59:58Z "
	         "days=mon,tue,wed,thu,fri,sat,sun hours=23:59-00:01 admin");
	assert_int_equal(cmd_key_parse(k, line, strlen(line), err, sizeof(err)), 0);
}

/*
 * P/D/keys is one MQTT packet: with the longest topic a configuration allows, the longest list
 * the door half sends must fit the 16384 bytes of max_packet_size that garagectl broker-config
 * writes at least. A ring of the largest keys a line can hold is longer than that: its list is
 * cut, and says so.
 */
static void
test_keyfile_LargestListFitsBrokerLimit(void **state)
{
	static char buf[CHANNEL_KEYS_MAX];
	bool complete = true;
	size_t n, topic, packet;

	(void)state;
	memset(&ring, 0, sizeof(ring));
	for (unsigned int i = 0; i < CMD_MAX_KEYS; i++)
		largest_key(&ring.keys[i], i, (unsigned char)(10 + i));
	ring.nkeys = CMD_MAX_KEYS;
	n = keyfile_list_json(&ring, buf, sizeof(buf), &complete);
	assert_false(complete);
	assert_true(n > 0 && n < CHANNEL_KEYS_MAX);
	/* P/D/keys: a 64-byte prefix, a 32-byte device id. */
	topic = 64 + 1 + 32 + strlen("/keys");
	/* 1 byte of type, at most 3 of remaining length (under 2 MB), 2 + topic, 2 of packet id. */
	packet = 1 + 3 + 2 + topic + 2 + (CHANNEL_KEYS_MAX - 1);
	print_message("largest key list: %zu bytes (cut), packet <= %zu bytes\n", n, packet);
	assert_true(packet <= 16384);
	/* 25 of the largest keys fit whole. */
	ring.nkeys = 25;
	keyfile_list_json(&ring, buf, sizeof(buf), &complete);
	assert_true(complete);
}

/* An add that would make the list longer than P/D/keys carries is refused: the device never
 * holds keys it cannot list. */
static void
test_keyfile_AddThatWouldCutTheListRefused(void **state)
{
	struct fixture *f = *state;
	static char text[AUTHKEYS_MAX_SIZE];
	char line[CMD_KEYS_LINE_MAX + 1];
	struct cmd_admin op;
	size_t n = 0;

	n += (size_t)snprintf(text + n, sizeof(text) - n, "ed25519 %s alice admin\n", pub_b64(1));
	for (unsigned int i = 0; i < 25; i++) {
		largest_key(&ring.keys[0], i, (unsigned char)(10 + i));
		n += cmd_key_format(&ring.keys[0], text + n, sizeof(text) - n);
		text[n++] = '\n';
	}
	text[n] = '\0';
	write_file(f->path, text, 0600);
	largest_key(&op.key, 99, 99);
	assert_true(cmd_key_format(&op.key, line, sizeof(line)) > 0);
	op = add_op(line);
	assert_refused(f, &op, "alice", CMD_TOO_MANY_KEYS);
	/* A small key still fits. */
	snprintf(line, sizeof(line), "ed25519 %s bob", pub_b64(2));
	op = add_op(line);
	assert_int_equal(change(f->path, "alice", &op, NULL), CMD_OK);
	assert_int_equal(ring.nkeys, 27);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_keyfile_AddKeepsTheFileAndAppendsTheCanonicalLine,
	                                    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keyfile_AddAfterALastLineWithoutEnding, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_keyfile_RemoveTakesOnlyItsLine, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keyfile_RemoveWithCrlfAndAnUnendedLastLine, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_keyfile_RefusalsLeaveTheFileAsItWas, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_keyfile_SignerIsTheSameKeyInTheFileNow, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_keyfile_UnsafeFileRefused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keyfile_WriteFailureRefused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keyfile_DirectoryNotWritableIsReadOnly, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_keyfile_OwnerThatCannotBeKeptIsReadOnly, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_keyfile_OwnerAndGroupKept, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keyfile_HandEditInFlightIsKept, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keyfile_FileThatKeepsChangingIsBusy, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_keyfile_HandEditInFlightJudgesTheSignerAgain,
	                                    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keyfile_EveryStageLeavesTheOldOrTheNewFile, setup,
	                                    teardown),
	    cmocka_unit_test_setup(test_keyfile_EditRefusesWhatItCannotDo, init),
	    cmocka_unit_test_setup(test_keyfile_ListIsTheKeysInOrder, init),
	    cmocka_unit_test_setup(test_keyfile_ListCutAtAKeySaysSo, init),
	    cmocka_unit_test_setup(test_keyfile_LargestListFitsBrokerLimit, init),
	    cmocka_unit_test_setup_teardown(test_keyfile_AddThatWouldCutTheListRefused, setup,
	                                    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
