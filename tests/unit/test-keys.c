/*
 * Unit tests of the authorized_keys parser (cmd_keys_parse in src/core/cmd_keys.c): every option
 * combination, the layout a hand-edited file has (comments, blank lines, tabs, CRLF), the
 * limits, and each error with the line it names. A file with an error must leave the ring as
 * it was, byte for byte, because that is what keeps the old keys in force after a bad reload.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "cmd.h"

#define ALL_ACTIONS 0xfU
#define BIG_TEXT    (64 * 1024)

/* A deterministic public key: 32 bytes of seed, seed+1, ... */
static void
fake_pub(uint8_t pub[CMD_PUBKEY_LEN], unsigned int seed)
{
	for (unsigned int i = 0; i < CMD_PUBKEY_LEN; i++)
		pub[i] = (uint8_t)(seed + i);
}

/* The key as garagectl keygen prints it: standard base64 with padding (44 characters). */
static const char *
pub_b64(unsigned int seed)
{
	static char b64[4][64];
	static unsigned int next;
	uint8_t pub[CMD_PUBKEY_LEN];
	char *out = b64[next++ % 4];

	fake_pub(pub, seed);
	sodium_bin2base64(out, sizeof(b64[0]), pub, sizeof(pub), sodium_base64_VARIANT_ORIGINAL);
	return out;
}

/* Parses text and expects success; the ring is left for the caller to inspect. */
static void
parse_ok(struct cmd_keyring *ring, const char *text)
{
	char err[256] = "";

	if (cmd_keys_parse(ring, text, strlen(text), err, sizeof(err)) != 0)
		fail_msg("should parse: \"%s\": %s", text, err);
	assert_string_equal(err, "");
}

static void
assert_key(const struct cmd_key *k, const char *kid, unsigned int seed, uint32_t actions)
{
	uint8_t pub[CMD_PUBKEY_LEN];

	fake_pub(pub, seed);
	assert_string_equal(k->kid, kid);
	assert_memory_equal(k->pub, pub, sizeof(pub));
	assert_int_equal(k->actions, actions);
}

/* ---- good files --------------------------------------------------------------------------- */

static void
test_keys_OneKeyDefaultsToEverything(void **state)
{
	struct cmd_keyring *ring = *state;
	char text[128];

	snprintf(text, sizeof(text), "ed25519 %s alice-phone\n", pub_b64(1));
	parse_ok(ring, text);
	assert_int_equal(ring->nkeys, 1);
	assert_key(&ring->keys[0], "alice-phone", 1, ALL_ACTIONS);
	assert_true(ring->keys[0].all_doors);
	assert_int_equal(ring->keys[0].ndoors, 0);
}

static void
test_keys_OptionCombinations(void **state)
{
	static const struct {
		const char *options;
		uint32_t actions;
		bool all_doors;
		const char *doors[CMD_MAX_DOORS];
	} rows[] = {
	    {"", ALL_ACTIONS, true, {NULL}},
	    {"actions=open", 1U << CMD_ACTION_OPEN, true, {NULL}},
	    {"actions=close", 1U << CMD_ACTION_CLOSE, true, {NULL}},
	    {"actions=stop", 1U << CMD_ACTION_STOP, true, {NULL}},
	    {"actions=toggle", 1U << CMD_ACTION_TOGGLE, true, {NULL}},
	    {"actions=open,close,stop,toggle", ALL_ACTIONS, true, {NULL}},
	    {"actions=toggle,open", 1U << CMD_ACTION_TOGGLE | 1U << CMD_ACTION_OPEN, true, {NULL}},
	    {"doors=main", ALL_ACTIONS, false, {"main"}},
	    {"doors=main,side", ALL_ACTIONS, false, {"main", "side"}},
	    {"actions=open doors=side", 1U << CMD_ACTION_OPEN, false, {"side"}},
	    {"doors=side actions=open,close", 3U, false, {"side"}},
	    {"\tactions=stop\t\tdoors=x_1-2  ", 1U << CMD_ACTION_STOP, false, {"x_1-2"}},
	    {"doors=a,b,c,d,e,f,g,h", ALL_ACTIONS, false, {"a", "b", "c", "d", "e", "f", "g", "h"}},
	    {"doors=abcdefghijklmnopqrstuvwxyz012345",
	     ALL_ACTIONS,
	     false,
	     {"abcdefghijklmnopqrstuvwxyz012345"}},
	};
	struct cmd_keyring *ring = *state;
	char text[256];

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		size_t ndoors = 0;

		snprintf(text, sizeof(text), "ed25519 %s k%zu %s\n", pub_b64(7), i,
		         rows[i].options);
		parse_ok(ring, text);
		assert_int_equal(ring->nkeys, 1);
		if (ring->keys[0].actions != rows[i].actions)
			fail_msg("\"%s\": actions 0x%x, want 0x%x", rows[i].options,
			         ring->keys[0].actions, rows[i].actions);
		assert_int_equal(ring->keys[0].all_doors, rows[i].all_doors);
		while (ndoors < CMD_MAX_DOORS && rows[i].doors[ndoors] != NULL)
			ndoors++;
		assert_int_equal(ring->keys[0].ndoors, ndoors);
		for (size_t d = 0; d < ndoors; d++)
			assert_string_equal(ring->keys[0].doors[d], rows[i].doors[d]);
	}
}

static void
test_keys_CommentsBlankLinesAndWhitespace(void **state)
{
	struct cmd_keyring *ring = *state;
	char text[1024];

	snprintf(text, sizeof(text),
	         "# garaged authorized_keys\n"
	         "\n"
	         "   \n"
	         "\t\n"
	         "   # an indented comment with ed25519 in it\n"
	         "ed25519 %s alice\n"
	         "#ed25519 %s commented-out\n"
	         "  \t ed25519\t%s   bob@laptop \t actions=open \n"
	         "\n"
	         "ed25519 %s Carol.Home_2 doors=side\n"
	         "#",
	         pub_b64(1), pub_b64(2), pub_b64(3), pub_b64(4));
	parse_ok(ring, text);
	assert_int_equal(ring->nkeys, 3);
	assert_key(&ring->keys[0], "alice", 1, ALL_ACTIONS);
	assert_key(&ring->keys[1], "bob@laptop", 3, 1U << CMD_ACTION_OPEN);
	assert_key(&ring->keys[2], "Carol.Home_2", 4, ALL_ACTIONS);
	assert_false(ring->keys[2].all_doors);
	assert_string_equal(ring->keys[2].doors[0], "side");
}

static void
test_keys_CrlfAndNoFinalNewline(void **state)
{
	struct cmd_keyring *ring = *state;
	char text[512];

	snprintf(text, sizeof(text),
	         "# written on Windows\r\n"
	         "\r\n"
	         "ed25519 %s alice actions=open,close\r\n"
	         "ed25519 %s bob doors=main\r\n"
	         "ed25519 %s carol",
	         pub_b64(1), pub_b64(2), pub_b64(3));
	parse_ok(ring, text);
	assert_int_equal(ring->nkeys, 3);
	/* The CR is the line ending's, not part of the last option or key id. */
	assert_key(&ring->keys[0], "alice", 1, 3U);
	assert_key(&ring->keys[1], "bob", 2, ALL_ACTIONS);
	assert_string_equal(ring->keys[1].doors[0], "main");
	assert_key(&ring->keys[2], "carol", 3, ALL_ACTIONS);
}

static void
test_keys_EmptyTextIsNoKeys(void **state)
{
	struct cmd_keyring *ring = *state;
	char err[64];

	ring->nkeys = 5;
	assert_int_equal(cmd_keys_parse(ring, "", 0, err, sizeof(err)), 0);
	assert_int_equal(ring->nkeys, 0);
	ring->nkeys = 5;
	assert_int_equal(cmd_keys_parse(ring, NULL, 0, err, sizeof(err)), 0);
	assert_int_equal(ring->nkeys, 0);
	parse_ok(ring, "# nothing yet\n\n");
	assert_int_equal(ring->nkeys, 0);
}

static void
test_keys_ExactlyMaxKeys(void **state)
{
	struct cmd_keyring *ring = *state;
	char *text = test_malloc(BIG_TEXT);
	size_t n = 0;

	for (unsigned int i = 0; i < CMD_MAX_KEYS; i++)
		n += (size_t)snprintf(text + n, BIG_TEXT - n, "ed25519 %s key%u\n", pub_b64(i), i);
	parse_ok(ring, text);
	assert_int_equal(ring->nkeys, CMD_MAX_KEYS);
	assert_key(&ring->keys[CMD_MAX_KEYS - 1], "key31", CMD_MAX_KEYS - 1, ALL_ACTIONS);
	test_free(text);
}

/* The limit is on the line without its ending, so a CRLF file gets the same 1024 bytes. */
static void
test_keys_LineOf1024BytesAccepted(void **state)
{
	struct cmd_keyring *ring = *state;
	char *text = test_malloc(BIG_TEXT);
	char err[128];
	int n;

	n = snprintf(text, BIG_TEXT, "ed25519 %s alice", pub_b64(1));
	memset(text + n, ' ', 1024 - (size_t)n);
	strcpy(text + 1024, "\r\n");
	parse_ok(ring, text);
	assert_int_equal(ring->nkeys, 1);

	/* One more byte on the line and the whole file is refused. */
	memset(text + n, ' ', 1025 - (size_t)n);
	strcpy(text + 1025, "\r\n");
	assert_int_equal(cmd_keys_parse(ring, text, strlen(text), err, sizeof(err)), -1);
	assert_string_equal(err, "1: line is longer than 1024 bytes: put one key on each line");

	/* Comments are lines too. */
	text[0] = '#';
	memset(text + 1, 'x', 1024);
	text[1025] = '\0';
	assert_int_equal(cmd_keys_parse(ring, text, strlen(text), err, sizeof(err)), -1);
	test_free(text);
}

/* ---- errors ------------------------------------------------------------------------------- */

/*
 * One bad file: the error must start with "LINE: ", contain want, and leave the ring exactly as
 * it was (here filled with 0xa5, which no parse would ever write).
 */
static void
expect_error(struct cmd_keyring *ring, const char *text, size_t len, unsigned int line,
             const char *want)
{
	struct cmd_keyring *before = test_malloc(sizeof(*before));
	char err[256];
	char prefix[16];

	memset(ring, 0xa5, sizeof(*ring));
	memcpy(before, ring, sizeof(*ring));
	memset(err, 0, sizeof(err));
	if (cmd_keys_parse(ring, text, len, err, sizeof(err)) != -1)
		fail_msg("should be refused: \"%s\"", text);
	snprintf(prefix, sizeof(prefix), "%u: ", line);
	if (strncmp(err, prefix, strlen(prefix)) != 0 || strstr(err, want) == NULL)
		fail_msg("\"%s\":\n got \"%s\"\nwant \"%s...%s...\"", text, err, prefix, want);
	assert_memory_equal(ring, before, sizeof(*ring));
	test_free(before);
}

static void
test_keys_Errors(void **state)
{
	static const struct {
		const char *fmt; /* %1$s is a good key, %2$s a second one */
		unsigned int line;
		const char *want;
	} rows[] = {
	    {"rsa AAAA alice\n", 1, "key type \"rsa\" is not supported: only ed25519 keys are"},
	    {"ssh-rsa AAAAB3NzaC1yc2E alice@host\n", 1, "\"ssh-rsa\" is not supported"},
	    {"ssh-ed25519 %1$s alice\n", 1, "\"ssh-ed25519\" is not supported: only ed25519"},
	    {"ED25519 %1$s alice\n", 1, "\"ED25519\" is not supported"},
	    {"ecdsa-sha2-nistp256 AAAA alice\n", 1, "only ed25519 keys are supported"},
	    {"ed25519\n", 1, "missing public key"},
	    {"ed25519   \t \n", 1, "missing public key"},
	    {"ed25519 %1$s\n", 1, "missing key id"},
	    {"ed25519 %1$s \r\n", 1, "missing key id"},
	    /* 31 and 33 bytes, unpadded, the URL alphabet, non-zero unused bits, junk. */
	    {"ed25519 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg== alice\n", 1,
	     "public key is not the standard base64 of 32 bytes"},
	    {"ed25519 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g alice\n", 1,
	     "public key is not"},
	    {"ed25519 AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA alice\n", 1, "public key is not"},
	    {"ed25519 -_-_BAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA= alice\n", 1,
	     "public key is not"},
	    {"ed25519 AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyB= alice\n", 1,
	     "public key is not"},
	    {"ed25519 AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHy== alice\n", 1,
	     "public key is not"},
	    {"ed25519 not-base64 alice\n", 1, "public key is not"},
	    /* Key ids. */
	    {"ed25519 %1$s bad!kid\n", 1, "key id \"bad!kid\" is invalid: use 1 to 64 of"},
	    {"ed25519 %1$s al\rice\n", 1, "key id \"al?ice\" is invalid"},
	    {"ed25519 %1$s caf\xc3\xa9\n", 1, "key id \"caf??\" is invalid"},
	    {"ed25519 %1$s "
	     "a123456789b123456789c123456789d123456789e123456789f123456789g1234\n",
	     1, "is invalid"},
	    {"ed25519 %1$s alice\n# c\ned25519 %2$s alice\n", 3,
	     "duplicate key id \"alice\" (first on line 1): give each key its own id"},
	    {"ed25519 %1$s alice\ned25519 %1$s Alice\ned25519 %2$s Alice doors=x\n", 3,
	     "(first on line 2)"},
	    /* Options. */
	    {"ed25519 %1$s alice foo=bar\n", 1, "unknown option \"foo=bar\": only actions="},
	    {"ed25519 %1$s alice actions\n", 1, "unknown option \"actions\""},
	    {"ed25519 %1$s alice Actions=open\n", 1, "unknown option \"Actions=open\""},
	    {"ed25519 %1$s alice # alice's phone\n", 1, "unknown option \"#\""},
	    {"ed25519 %1$s alice actions=open actions=close\n", 1, "actions= is given twice"},
	    {"ed25519 %1$s alice doors=main doors=side\n", 1, "doors= is given twice"},
	    {"ed25519 %1$s alice actions=fly\n", 1, "unknown action \"fly\": use open, close"},
	    {"ed25519 %1$s alice actions=OPEN\n", 1, "unknown action \"OPEN\""},
	    {"ed25519 %1$s alice actions=opens\n", 1, "unknown action \"opens\""},
	    {"ed25519 %1$s alice actions=\n", 1, "empty action in actions="},
	    {"ed25519 %1$s alice actions= open\n", 1, "empty action in actions="},
	    {"ed25519 %1$s alice actions=open,\n", 1, "empty action"},
	    {"ed25519 %1$s alice actions=,open\n", 1, "empty action"},
	    {"ed25519 %1$s alice actions=open,,close\n", 1, "empty action"},
	    {"ed25519 %1$s alice actions=open,close,open\n", 1,
	     "action \"open\" is listed twice in actions="},
	    {"ed25519 %1$s alice doors=\n", 1, "empty door in doors="},
	    {"ed25519 %1$s alice doors=main,\n", 1, "empty door"},
	    {"ed25519 %1$s alice doors=Main\n", 1, "door name \"Main\" is invalid"},
	    {"ed25519 %1$s alice doors=main.side\n", 1, "door name \"main.side\" is invalid"},
	    {"ed25519 %1$s alice doors=abcdefghijklmnopqrstuvwxyz0123456\n", 1, "is invalid"},
	    {"ed25519 %1$s alice doors=a,b,c,d,e,f,g,h,i\n", 1, "too many doors in doors="},
	    {"ed25519 %1$s alice doors=main,side,main\n", 1,
	     "door \"main\" is listed twice in doors="},
	    /* Line numbers count comments, blank lines and CRLF lines. */
	    {"# one\n\nrsa x y\n", 3, "is not supported"},
	    {"# one\r\n\r\n  \r\nrsa x y\r\n", 4, "is not supported"},
	    {"ed25519 %1$s alice\nrsa", 2, "is not supported"},
	    /* An error after good keys still refuses the whole file. */
	    {"ed25519 %1$s alice\ned25519 %2$s bob\n\n\ned25519 %2$s carol actions=x\n", 5,
	     "unknown action \"x\""},
	};
	struct cmd_keyring *ring = *state;
	char text[512];

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
		snprintf(text, sizeof(text), rows[i].fmt, pub_b64(1), pub_b64(2));
#pragma GCC diagnostic pop
		expect_error(ring, text, strlen(text), rows[i].line, rows[i].want);
	}
}

static void
test_keys_NulByteRefused(void **state)
{
	struct cmd_keyring *ring = *state;
	char text[256];
	int n = snprintf(text, sizeof(text), "# ok\ned25519 %s alice\n", pub_b64(1));

	/* The NUL ends what a C string would see, but not what the file holds. */
	text[n - 3] = '\0';
	expect_error(ring, text, (size_t)n, 2, "line contains a NUL byte");
}

static void
test_keys_TooManyKeys(void **state)
{
	struct cmd_keyring *ring = *state;
	char *text = test_malloc(BIG_TEXT);
	size_t n = 0;

	n += (size_t)snprintf(text + n, BIG_TEXT - n, "# header\n");
	for (unsigned int i = 0; i <= CMD_MAX_KEYS; i++)
		n += (size_t)snprintf(text + n, BIG_TEXT - n, "ed25519 %s key%u\n", pub_b64(i), i);
	expect_error(ring, text, n, CMD_MAX_KEYS + 2, "too many keys: at most 32 are allowed");
	test_free(text);
}

/* ---- the ring and the error buffer -------------------------------------------------------- */

static void
test_keys_RingReplacedEntirelyOnSuccess(void **state)
{
	struct cmd_keyring *ring = *state;
	char text[512];

	snprintf(text, sizeof(text), "ed25519 %s a\ned25519 %s b doors=main\ned25519 %s c\n",
	         pub_b64(1), pub_b64(2), pub_b64(3));
	parse_ok(ring, text);
	assert_int_equal(ring->nkeys, 3);

	/* A reload with fewer keys leaves nothing of the old ones behind: revocation works. */
	snprintf(text, sizeof(text), "ed25519 %s z\n", pub_b64(9));
	parse_ok(ring, text);
	assert_int_equal(ring->nkeys, 1);
	assert_key(&ring->keys[0], "z", 9, ALL_ACTIONS);
	assert_true(ring->keys[0].all_doors);
	assert_int_equal(ring->keys[0].ndoors, 0);
	assert_string_equal(ring->keys[0].doors[0], "");
	assert_string_equal(ring->keys[1].kid, "");
	assert_string_equal(ring->keys[2].kid, "");
}

static void
test_keys_ErrorBufferHandling(void **state)
{
	struct cmd_keyring *ring = *state;
	char text[128];
	char err[8];

	/* Truncated like snprintf: NUL-terminated, never past errlen. */
	memset(err, 'x', sizeof(err));
	assert_int_equal(cmd_keys_parse(ring, "rsa x y\n", 8, err, 6), -1);
	assert_string_equal(err, "1: ke");
	assert_int_equal(err[6], 'x');
	/* No buffer at all is fine. */
	assert_int_equal(cmd_keys_parse(ring, "rsa x y\n", 8, NULL, 0), -1);
	memset(err, 'x', sizeof(err));
	assert_int_equal(cmd_keys_parse(ring, "rsa x y\n", 8, err, 0), -1);
	assert_int_equal(err[0], 'x');
	/* Success leaves an empty message, not a stale one. */
	snprintf(text, sizeof(text), "ed25519 %s a\n", pub_b64(1));
	strcpy(err, "stale");
	assert_int_equal(cmd_keys_parse(ring, text, strlen(text), err, sizeof(err)), 0);
	assert_string_equal(err, "");
}

/* With no ring the text is only checked, as garaged --check-config wants. */
static void
test_keys_NullRingOnlyValidates(void **state)
{
	char text[128];
	char err[128];

	(void)state;
	snprintf(text, sizeof(text), "ed25519 %s a\n", pub_b64(1));
	assert_int_equal(cmd_keys_parse(NULL, text, strlen(text), err, sizeof(err)), 0);
	assert_int_equal(cmd_keys_parse(NULL, "rsa x y", 7, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "only ed25519"));
}

/* ---- lookup and permissions --------------------------------------------------------------- */

/* A key is found by its whole id only, and allows exactly what its line lists. */
static void
test_keys_FindAndAllow(void **state)
{
	struct cmd_keyring *ring = *state;
	const struct cmd_key *alice, *bob;
	char text[256];

	snprintf(text, sizeof(text),
	         "ed25519 %s alice\n"
	         "ed25519 %s bob actions=open,stop doors=side,back\n",
	         pub_b64(1), pub_b64(2));
	parse_ok(ring, text);

	alice = cmd_keyring_find(ring, "alice", 5);
	bob = cmd_keyring_find(ring, "bobby", 3); /* only n bytes are looked at */
	assert_ptr_equal(alice, &ring->keys[0]);
	assert_ptr_equal(bob, &ring->keys[1]);
	assert_null(cmd_keyring_find(ring, "ali", 3));
	assert_null(cmd_keyring_find(ring, "alice2", 6));
	assert_null(cmd_keyring_find(ring, "Alice", 5));
	assert_null(cmd_keyring_find(ring, "", 0));
	assert_null(cmd_keyring_find(NULL, "alice", 5));

	for (unsigned int a = 0; a < CMD_ACTION_COUNT; a++) {
		assert_true(cmd_key_allows(alice, (enum cmd_action)a, "main", 4));
		assert_true(cmd_key_allows(alice, (enum cmd_action)a, "anything", 8));
	}
	assert_true(cmd_key_allows(bob, CMD_ACTION_OPEN, "side", 4));
	assert_true(cmd_key_allows(bob, CMD_ACTION_STOP, "back", 4));
	assert_true(cmd_key_allows(bob, CMD_ACTION_OPEN, "sidewalk", 4));
	assert_false(cmd_key_allows(bob, CMD_ACTION_CLOSE, "side", 4));
	assert_false(cmd_key_allows(bob, CMD_ACTION_TOGGLE, "side", 4));
	assert_false(cmd_key_allows(bob, CMD_ACTION_OPEN, "main", 4));
	assert_false(cmd_key_allows(bob, CMD_ACTION_OPEN, "sid", 3));
	assert_false(cmd_key_allows(bob, CMD_ACTION_OPEN, "", 0));
	/* Not an action at all: refused, and no shift by a wild amount. */
	assert_false(cmd_key_allows(alice, CMD_ACTION_COUNT, "main", 4));
	assert_false(cmd_key_allows(alice, (enum cmd_action)40, "main", 4));
}

static int
setup(void **state)
{
	*state = test_calloc(1, sizeof(struct cmd_keyring));
	return *state == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	test_free(*state);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_keys_OneKeyDefaultsToEverything, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keys_OptionCombinations, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keys_CommentsBlankLinesAndWhitespace, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_keys_CrlfAndNoFinalNewline, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keys_EmptyTextIsNoKeys, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keys_ExactlyMaxKeys, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keys_LineOf1024BytesAccepted, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keys_Errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keys_NulByteRefused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keys_TooManyKeys, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keys_RingReplacedEntirelyOnSuccess, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_keys_ErrorBufferHandling, setup, teardown),
	    cmocka_unit_test(test_keys_NullRingOnlyValidates),
	    cmocka_unit_test_setup_teardown(test_keys_FindAndAllow, setup, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
