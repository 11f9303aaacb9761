/*
 * Unit tests of authkeys_load() (src/door/authkeys.c): the door half's reading of the
 * authorized_keys file, at start and on SIGHUP. The lines' meaning is cmd_keys_parse()'s and
 * tested in test-keys.c; here is the file around them: who may have written it (mode, owner,
 * the directories above it), what it is (a regular file, not a link, a directory or a FIFO),
 * how big it is, keys that parse but can verify nothing, and the message for each refusal.
 * Every refusal must leave the keyring as it was, byte for byte: that is what keeps the old
 * keys in force after a bad reload. And authkeys_set_ring(), which copies a keyring writing
 * only the keys in use, makes the keyring an assignment would.
 */
/* nftw() is X/Open, beyond the POSIX level the build asks for. */
#define _XOPEN_SOURCE 700

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "authkeys.h"
#include "cmd.h"

struct fixture {
	char dir[256];
	char path[300]; /* dir/authorized_keys, written by each test */
	char good[300]; /* dir/good: two good keys, to load before a refused file */
};

static struct cmd_keyring ring, before; /* 12 KiB each: not on the stack */

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

static void
pub_of(unsigned char seed, uint8_t pub[CMD_PUBKEY_LEN])
{
	unsigned char s[crypto_sign_SEEDBYTES], sk[crypto_sign_SECRETKEYBYTES];

	memset(s, seed, sizeof(s));
	crypto_sign_seed_keypair(pub, sk, s);
}

static void
write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	/* fchmod, not the umask's idea of the mode asked for. */
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

static void
write_text(const char *path, const char *text)
{
	write_file(path, text, strlen(text), 0600);
}

static void
good_text(char *text, size_t size)
{
	snprintf(text, size,
	         "# garaged authorized_keys\n"
	         "ed25519 %s alice-phone\n"
	         "\n"
	         "ed25519 %s bob actions=open,close doors=side\n",
	         pub_b64(1), pub_b64(2));
}

static int
setup(void **state)
{
	static struct fixture f;
	const char *tmp = getenv("TMPDIR");
	char text[512];
	int n;

	if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	n = snprintf(f.dir, sizeof(f.dir), "%s/garaged-authkeys-test.XXXXXX", tmp);
	if (n < 0 || (size_t)n >= sizeof(f.dir) || mkdtemp(f.dir) == NULL)
		return -1;
	snprintf(f.path, sizeof(f.path), "%s/authorized_keys", f.dir);
	snprintf(f.good, sizeof(f.good), "%s/good", f.dir);
	good_text(text, sizeof(text));
	write_text(f.good, text);
	*state = &f;
	return 0;
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

	/* Depth first, links removed rather than followed. */
	return nftw(f->dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* One line of printable text, not empty. */
static void
assert_one_line(const char *err)
{
	assert_true(err[0] != '\0');
	for (const char *c = err; *c != '\0'; c++)
		if (*c < 0x20 || *c > 0x7e)
			fail_msg("byte 0x%02x at %td in \"%s\"", (unsigned char)*c, c - err, err);
}

static void
load_ok(const char *path)
{
	char err[1024] = "";

	if (authkeys_load(path, &ring, err, sizeof(err)) != 0)
		fail_msg("%s should load: %s", path, err);
}

/*
 * PATH is refused with a message containing WANT, and the ring is left as it was: both a ring
 * of keys loaded before (the reload case) and an arbitrary pattern, byte for byte.
 */
static void
refused(const struct fixture *f, const char *path, const char *want)
{
	char err[1024];

	load_ok(f->good);
	assert_int_equal(ring.nkeys, 2);
	memcpy(&before, &ring, sizeof(ring));
	memset(err, 'x', sizeof(err));
	assert_int_equal(authkeys_load(path, &ring, err, sizeof(err)), -1);
	assert_memory_equal(&ring, &before, sizeof(ring));
	assert_one_line(err);
	if (strstr(err, want) == NULL)
		fail_msg("%s: \"%s\" does not say \"%s\"", path, err, want);

	memset(&ring, 0xa5, sizeof(ring));
	memcpy(&before, &ring, sizeof(ring));
	assert_int_equal(authkeys_load(path, &ring, err, sizeof(err)), -1);
	assert_memory_equal(&ring, &before, sizeof(ring));
}

/* ---- good files --------------------------------------------------------------------------- */

static void
test_authkeys_load_GoodFile(void **state)
{
	struct fixture *f = *state;
	uint8_t pub[CMD_PUBKEY_LEN];

	memset(&ring, 0xa5, sizeof(ring));
	load_ok(f->good);
	assert_int_equal(ring.nkeys, 2);
	assert_string_equal(ring.keys[0].kid, "alice-phone");
	pub_of(1, pub);
	assert_memory_equal(ring.keys[0].pub, pub, sizeof(pub));
	assert_true(ring.keys[0].all_doors);
	assert_int_equal(ring.keys[0].line, 2);
	assert_string_equal(ring.keys[1].kid, "bob");
	pub_of(2, pub);
	assert_memory_equal(ring.keys[1].pub, pub, sizeof(pub));
	assert_int_equal(ring.keys[1].actions, 1U << CMD_ACTION_OPEN | 1U << CMD_ACTION_CLOSE);
	assert_false(ring.keys[1].all_doors);
	assert_int_equal(ring.keys[1].ndoors, 1);
	assert_string_equal(ring.keys[1].doors[0], "side");
	assert_int_equal(ring.keys[1].line, 4);
}

/* Others may read it (the keys are public); only writing is theirs to be refused. */
static void
test_authkeys_load_ReadableByOthersIsFine(void **state)
{
	struct fixture *f = *state;
	char text[512];

	good_text(text, sizeof(text));
	write_file(f->path, text, strlen(text), 0644);
	load_ok(f->path);
	assert_int_equal(ring.nkeys, 2);
	write_file(f->path, text, strlen(text), 0400);
	load_ok(f->path);
	assert_int_equal(ring.nkeys, 2);
}

/* No keys at all is a file too: every command is then refused. */
static void
test_authkeys_load_EmptyFile(void **state)
{
	struct fixture *f = *state;

	write_text(f->path, "");
	load_ok(f->good);
	load_ok(f->path);
	assert_int_equal(ring.nkeys, 0);
	write_text(f->path, "# nobody yet\n\n");
	load_ok(f->good);
	load_ok(f->path);
	assert_int_equal(ring.nkeys, 0);
}

/* ---- who may have written it -------------------------------------------------------------- */

static void
test_authkeys_load_GroupWritableRefused(void **state)
{
	struct fixture *f = *state;
	char text[512];

	good_text(text, sizeof(text));
	write_file(f->path, text, strlen(text), 0620);
	refused(f, f->path, "writable by group or others (mode 0620)");
	refused(f, f->path, "chmod go-w");
	write_file(f->path, text, strlen(text), 0660);
	refused(f, f->path, "writable by group or others (mode 0660)");
}

static void
test_authkeys_load_OtherWritableRefused(void **state)
{
	struct fixture *f = *state;
	char text[512];

	good_text(text, sizeof(text));
	write_file(f->path, text, strlen(text), 0602);
	refused(f, f->path, "writable by group or others (mode 0602)");
	write_file(f->path, text, strlen(text), 0666);
	refused(f, f->path, "writable by group or others (mode 0666)");
}

static void
test_authkeys_load_ForeignOwnerRefused(void **state)
{
	struct fixture *f = *state;
	char text[512], sub[320], path[340];

	if (geteuid() != 0)
		skip(); /* only root can give a file away */
	good_text(text, sizeof(text));
	write_text(f->path, text);
	assert_int_equal(chown(f->path, 4242, 4242), 0);
	refused(f, f->path, "is owned by uid 4242");
	/* A directory above it owned by someone else: they can swap the file. */
	snprintf(sub, sizeof(sub), "%s/sub", f->dir);
	assert_int_equal(mkdir(sub, 0755), 0);
	snprintf(path, sizeof(path), "%s/authorized_keys", sub);
	write_text(path, text);
	load_ok(path);
	assert_int_equal(chown(sub, 4242, 4242), 0);
	refused(f, path, "is owned by uid 4242");
}

static void
test_authkeys_load_WritableDirectoryRefused(void **state)
{
	struct fixture *f = *state;
	char text[512], sub[320], path[340];

	good_text(text, sizeof(text));
	snprintf(sub, sizeof(sub), "%s/sub", f->dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	snprintf(path, sizeof(path), "%s/authorized_keys", sub);
	write_text(path, text);
	assert_int_equal(chmod(sub, 0770), 0);
	refused(f, path, "writable by group or others (mode 0770)");
	assert_int_equal(chmod(sub, 0707), 0);
	refused(f, path, "writable by group or others (mode 0707)");
	/* Sticky, like /tmp: others cannot rename or remove what is not theirs. */
	assert_int_equal(chmod(sub, 01777), 0);
	load_ok(path);
	assert_int_equal(ring.nkeys, 2);
}

/* ---- what it is --------------------------------------------------------------------------- */

static void
test_authkeys_load_DirectoryRefused(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(mkdir(f->path, 0700), 0);
	refused(f, f->path, "not a regular file");
}

/* A FIFO would block the door half forever on open() or read(): refused at once. */
static void
test_authkeys_load_FifoRefusedWithoutBlocking(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(mkfifo(f->path, 0600), 0);
	alarm(10); /* a blocking open fails the test instead of hanging it */
	refused(f, f->path, "not a regular file");
	alarm(0);
}

/* The file itself is never reached through a link (O_NOFOLLOW): whoever can make the link
 * chooses the keys. A good file behind it changes nothing; neither does a dangling one. */
static void
test_authkeys_load_SymlinkRefused(void **state)
{
	struct fixture *f = *state;
	char dangling[320];

	assert_int_equal(symlink(f->good, f->path), 0);
	refused(f, f->path, strerror(ELOOP));
	refused(f, f->path, "check authorized_keys in [security]");
	snprintf(dangling, sizeof(dangling), "%s/dangling", f->dir);
	assert_int_equal(symlink("no-such-file", dangling), 0);
	refused(f, dangling, strerror(ELOOP));
}

/* A link among the directories above is followed, and the directory judged where it really is
 * (safepath.h): a linked /etc/garaged is fine, a linked one that others can write is not. */
static void
test_authkeys_load_LinkedDirectoryJudgedWhereItIs(void **state)
{
	struct fixture *f = *state;
	char text[512], real[320], link[320], path[340];

	good_text(text, sizeof(text));
	snprintf(real, sizeof(real), "%s/real", f->dir);
	snprintf(link, sizeof(link), "%s/link", f->dir);
	assert_int_equal(mkdir(real, 0700), 0);
	assert_int_equal(symlink("real", link), 0);
	snprintf(path, sizeof(path), "%s/authorized_keys", real);
	write_text(path, text);
	snprintf(path, sizeof(path), "%s/authorized_keys", link);
	load_ok(path);
	assert_int_equal(ring.nkeys, 2);
	assert_int_equal(chmod(real, 0777), 0);
	refused(f, path, "/real is writable by group or others");
}

/* ---- how big it is ------------------------------------------------------------------------ */

/* TEXT, after comment lines that make the file exactly SIZE bytes. */
static void
write_padded(const char *path, const char *text, size_t size)
{
	static char buf[4 * AUTHKEYS_MAX_SIZE];
	size_t tlen = strlen(text), pos = 0;

	assert_true(size <= sizeof(buf) && size >= tlen + 2);
	while (pos < size - tlen) {
		size_t line = size - tlen - pos < 64 ? size - tlen - pos : 64;

		memset(buf + pos, 'x', line);
		buf[pos] = '#';
		buf[pos + line - 1] = '\n';
		pos += line;
	}
	memcpy(buf + pos, text, tlen);
	write_file(path, buf, size, 0600);
}

static void
test_authkeys_load_SizeLimit(void **state)
{
	struct fixture *f = *state;
	char text[512];

	good_text(text, sizeof(text));
	write_padded(f->path, text, AUTHKEYS_MAX_SIZE);
	load_ok(f->path);
	assert_int_equal(ring.nkeys, 2);
	write_padded(f->path, text, AUTHKEYS_MAX_SIZE + 1);
	refused(f, f->path, "is larger than 65536 bytes");
	write_padded(f->path, text, 4 * AUTHKEYS_MAX_SIZE);
	refused(f, f->path, "is larger than 65536 bytes");
}

/* ---- what is in it ------------------------------------------------------------------------ */

static void
test_authkeys_load_BadLineNamesPathAndLine(void **state)
{
	struct fixture *f = *state;
	char text[512], want[400];

	snprintf(text, sizeof(text), "ed25519 %s alice\n# fine\ned25519 %s bob actions=fly\n",
	         pub_b64(1), pub_b64(2));
	write_text(f->path, text);
	snprintf(want, sizeof(want), "%s:3: ", f->path);
	refused(f, f->path, want);
	/* A NUL: plain text only, and the line says where. */
	write_file(f->path, "# a\n#\0b\n", 8, 0600);
	snprintf(want, sizeof(want), "%s:2: ", f->path);
	refused(f, f->path, want);
	refused(f, f->path, "NUL");
}

/*
 * Keys that decode to 32 bytes but can verify nothing useful: the identity and other
 * small-order points (signatures that hold for many messages) and a non-canonical encoding.
 * Refused with the file, the line and the key's name, after a good key on line 1.
 */
static void
test_authkeys_load_InvalidEd25519PointRefused(void **state)
{
	static const uint8_t bad[][CMD_PUBKEY_LEN] = {
	    /* the identity, (0, 1) */
	    {0x01},
	    /* (sqrt(-1), 0): order 4 */
	    {0x00},
	    /* a point of order 8 */
	    {0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4,
	     0x89, 0xf2, 0xef, 0x98, 0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6,
	     0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05},
	    /* y = p, the non-canonical encoding of 0 */
	    {0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
	};
	struct fixture *f = *state;
	char text[512], want[400], b64[64];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		sodium_bin2base64(b64, sizeof(b64), bad[i], CMD_PUBKEY_LEN,
		                  sodium_base64_VARIANT_ORIGINAL);
		snprintf(text, sizeof(text), "ed25519 %s alice\ned25519 %s mallory doors=main\n",
		         pub_b64(1), b64);
		write_text(f->path, text);
		snprintf(want, sizeof(want),
		         "%s:2: the key of 'mallory' is not a usable Ed25519 public key", f->path);
		refused(f, f->path, want);
	}
}

static void
test_authkeys_load_MissingFileRefused(void **state)
{
	struct fixture *f = *state;
	char path[320];

	refused(f, f->path, "No such file or directory; check authorized_keys in [security]");
	snprintf(path, sizeof(path), "%s/no-such-dir/authorized_keys", f->dir);
	refused(f, path, "No such file or directory");
}

/* A small buffer gets the start of the message, NUL-terminated, and the same verdict. */
static void
test_authkeys_load_SmallErrorBuffer(void **state)
{
	struct fixture *f = *state;
	char err[8];

	write_text(f->path, "bad\n");
	memset(&ring, 0xa5, sizeof(ring));
	memcpy(&before, &ring, sizeof(ring));
	memset(err, 'x', sizeof(err));
	assert_int_equal(authkeys_load(f->path, &ring, err, sizeof(err)), -1);
	assert_non_null(memchr(err, '\0', sizeof(err)));
	assert_memory_equal(&ring, &before, sizeof(ring));
}

/* ---- authkeys_set_ring() ------------------------------------------------------------------ */

/* A keyring of N keys, as cmd_keys_parse() leaves one: zeros past nkeys. */
static void
ring_of(struct cmd_keyring *r, size_t n)
{
	memset(r, 0, sizeof(*r));
	for (size_t i = 0; i < n; i++) {
		snprintf(r->keys[i].kid, sizeof(r->keys[i].kid), "key%zu", i);
		memset(r->keys[i].pub, (int)(i + 1), sizeof(r->keys[i].pub));
		r->keys[i].line = (uint32_t)(i + 1);
	}
	r->nkeys = n;
}

/* The keyring after authkeys_set_ring() is the one an assignment makes, byte for byte, whether
 * it held more keys before (their slots are cleared) or fewer. */
static void
test_authkeys_load_SetRingIsAnAssignment(void **state)
{
	static const size_t counts[][2] = {{5, 2}, {2, 5}, {0, CMD_MAX_KEYS}, {CMD_MAX_KEYS, 0}};

	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		ring_of(&ring, counts[i][0]);
		ring_of(&before, counts[i][1]);
		authkeys_set_ring(&ring, &before);
		assert_memory_equal(&ring, &before, sizeof(ring));
	}
	(void)state;
}

static int
init(void **state)
{
	(void)state;
	return sodium_init() < 0 ? -1 : 0;
}

#define T(name) cmocka_unit_test_setup_teardown(test_authkeys_load_##name, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T(GoodFile),
	    T(ReadableByOthersIsFine),
	    T(EmptyFile),
	    T(GroupWritableRefused),
	    T(OtherWritableRefused),
	    T(ForeignOwnerRefused),
	    T(WritableDirectoryRefused),
	    T(DirectoryRefused),
	    T(FifoRefusedWithoutBlocking),
	    T(SymlinkRefused),
	    T(LinkedDirectoryJudgedWhereItIs),
	    T(SizeLimit),
	    T(BadLineNamesPathAndLine),
	    T(InvalidEd25519PointRefused),
	    T(MissingFileRefused),
	    T(SmallErrorBuffer),
	    T(SetRingIsAnAssignment),
	};

	return cmocka_run_group_tests(tests, init, NULL);
}
