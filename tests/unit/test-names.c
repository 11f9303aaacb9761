/*
 * Unit tests of names: each kind of name at its boundary lengths, every single byte against
 * the kind's character set, and the device id, door and key id rules against the core's own
 * checks of the same names in authorized_keys, so that garaged's configuration, garagectl and
 * the command verifier cannot come to disagree on a name.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "names.h"

/* A string of N copies of C. */
static const char *
repeat(char *buf, size_t size, char c, size_t n)
{
	assert_true(n < size);
	memset(buf, c, n);
	buf[n] = '\0';
	return buf;
}

static bool
in_id_set(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static bool
in_kid_set(int c)
{
	return in_id_set(c) || (c >= 'A' && c <= 'Z') || c == '.' || c == '@';
}

/* Every byte but NUL as a one-character name: accepted exactly when WANT says so. */
static void
each_byte(bool (*valid)(const char *), bool (*want)(int))
{
	char s[2] = "";
	int c;

	for (c = 1; c < 256; c++) {
		s[0] = (char)c;
		if (valid(s) != want(c))
			print_error("byte 0x%02x: got %d\n", (unsigned)c, !want(c));
		assert_int_equal(valid(s), want(c));
	}
}

static void
test_names_device_id_valid_Lengths(void **state)
{
	char buf[128];

	(void)state;
	assert_false(names_device_id_valid(""));
	assert_true(names_device_id_valid("a"));
	assert_true(names_device_id_valid(repeat(buf, sizeof(buf), 'g', NAMES_ID_MAX)));
	assert_false(names_device_id_valid(repeat(buf, sizeof(buf), 'g', NAMES_ID_MAX + 1)));
	assert_true(names_device_id_valid("barn_2-x"));
}

static void
test_names_device_id_valid_Characters(void **state)
{
	(void)state;
	each_byte(names_device_id_valid, in_id_set);
	/* A bad character anywhere, not only first. */
	assert_false(names_device_id_valid("garage "));
	assert_false(names_device_id_valid("gar/age"));
	assert_false(names_device_id_valid("Garage"));
	assert_false(names_device_id_valid("gar\nage"));
	assert_false(names_device_id_valid("garag\xc3\xa9"));
}

static void
test_names_door_valid_Lengths(void **state)
{
	char buf[128];

	(void)state;
	assert_false(names_door_valid(""));
	assert_true(names_door_valid("m"));
	assert_true(names_door_valid(repeat(buf, sizeof(buf), 'd', NAMES_ID_MAX)));
	assert_false(names_door_valid(repeat(buf, sizeof(buf), 'd', NAMES_ID_MAX + 1)));
}

static void
test_names_door_valid_Characters(void **state)
{
	(void)state;
	each_byte(names_door_valid, in_id_set);
	assert_false(names_door_valid("main+"));
	assert_false(names_door_valid("ma#in"));
	assert_false(names_door_valid("side.door"));
}

static void
test_names_kid_valid_Lengths(void **state)
{
	char buf[128];

	(void)state;
	assert_false(names_kid_valid(""));
	assert_true(names_kid_valid("K"));
	assert_true(names_kid_valid(repeat(buf, sizeof(buf), 'k', NAMES_KID_MAX)));
	assert_false(names_kid_valid(repeat(buf, sizeof(buf), 'k', NAMES_KID_MAX + 1)));
	assert_true(names_kid_valid("alice.phone@home_2-A"));
}

static void
test_names_kid_valid_Characters(void **state)
{
	(void)state;
	each_byte(names_kid_valid, in_kid_set);
	assert_false(names_kid_valid("alice phone"));
	assert_false(names_kid_valid("alice:phone"));
	assert_false(names_kid_valid("alice\n"));
}

/* Whether the core takes KID as the key id of an authorized_keys line, and DOOR in doors=. */
static bool
core_takes(const char *kid, const char *door)
{
	static struct cmd_keyring ring;
	char line[256], err[256];

	snprintf(line, sizeof(line),
	         "ed25519 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= %s%s%s\n", kid,
	         door != NULL ? " doors=" : "", door != NULL ? door : "");
	return cmd_keys_parse(&ring, line, strlen(line), err, sizeof(err)) == 0;
}

/*
 * The core keeps its own copies of these checks (it may not depend on src/common); here they
 * are held to one answer: every printable and non-ASCII byte, and the boundary lengths.
 */
static void
test_names_kid_valid_MatchesCore(void **state)
{
	char s[2] = "", buf[128];
	int c;

	(void)state;
	assert_true(core_takes("alice", NULL)); /* the line itself is good */
	for (c = '!'; c < 256; c++) {
		s[0] = (char)c;
		if (core_takes(s, NULL) != names_kid_valid(s))
			print_error("kid byte 0x%02x: core %d, names %d\n", (unsigned)c,
			            core_takes(s, NULL), names_kid_valid(s));
		assert_int_equal(core_takes(s, NULL), names_kid_valid(s));
		if (core_takes("alice", s) != names_door_valid(s))
			print_error("door byte 0x%02x: core %d, names %d\n", (unsigned)c,
			            core_takes("alice", s), names_door_valid(s));
		assert_int_equal(core_takes("alice", s), names_door_valid(s));
	}
	assert_true(core_takes(repeat(buf, sizeof(buf), 'k', NAMES_KID_MAX), NULL));
	assert_false(core_takes(repeat(buf, sizeof(buf), 'k', NAMES_KID_MAX + 1), NULL));
	assert_true(core_takes("alice", repeat(buf, sizeof(buf), 'd', NAMES_ID_MAX)));
	assert_false(core_takes("alice", repeat(buf, sizeof(buf), 'd', NAMES_ID_MAX + 1)));
}

static void
test_names_topic_prefix_check_Reasons(void **state)
{
	static const struct {
		const char *s;
		enum names_prefix_error want;
	} cases[] = {
	    {"garage", NAMES_PREFIX_OK},
	    {"home/garage", NAMES_PREFIX_OK},
	    {"a/b/c", NAMES_PREFIX_OK},
	    {"garag\xc3\xa9", NAMES_PREFIX_OK}, /* UTF-8 is a topic's own encoding */
	    {"", NAMES_PREFIX_EMPTY},
	    {"a/+", NAMES_PREFIX_WILDCARD},
	    {"a#", NAMES_PREFIX_WILDCARD},
	    {"+", NAMES_PREFIX_WILDCARD},
	    {"/garage", NAMES_PREFIX_EMPTY_LEVEL},
	    {"garage/", NAMES_PREFIX_EMPTY_LEVEL},
	    {"a//b", NAMES_PREFIX_EMPTY_LEVEL},
	    {"/", NAMES_PREFIX_EMPTY_LEVEL},
	    {"my garage", NAMES_PREFIX_SPACE},
	    {"a\tb", NAMES_PREFIX_SPACE},
	    {"a\x7f", NAMES_PREFIX_SPACE},
	    {"a\x01", NAMES_PREFIX_SPACE},
	    /* Two things wrong: the first of the enum is the answer. */
	    {"/a b", NAMES_PREFIX_EMPTY_LEVEL},
	    {"+/", NAMES_PREFIX_WILDCARD},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (names_topic_prefix_check(cases[i].s) != cases[i].want)
			print_error("'%s': got %d, want %d\n", cases[i].s,
			            (int)names_topic_prefix_check(cases[i].s), (int)cases[i].want);
		assert_int_equal(names_topic_prefix_check(cases[i].s), cases[i].want);
		assert_int_equal(names_topic_prefix_valid(cases[i].s),
		                 cases[i].want == NAMES_PREFIX_OK);
	}
}

static void
test_names_topic_prefix_check_Lengths(void **state)
{
	char buf[128];

	(void)state;
	assert_int_equal(names_topic_prefix_check(repeat(buf, sizeof(buf), 'p', NAMES_PREFIX_MAX)),
	                 NAMES_PREFIX_OK);
	assert_int_equal(
	    names_topic_prefix_check(repeat(buf, sizeof(buf), 'p', NAMES_PREFIX_MAX + 1)),
	    NAMES_PREFIX_TOO_LONG);
	assert_true(names_topic_prefix_valid("p"));
}

static bool
in_cn_set(int c)
{
	return c > ' ' && c <= '~' && c != '+' && c != '#' && c != '/';
}

static void
test_names_cn_valid_Lengths(void **state)
{
	char buf[128];

	(void)state;
	assert_false(names_cn_valid(""));
	assert_true(names_cn_valid("c"));
	assert_true(names_cn_valid(repeat(buf, sizeof(buf), 'c', NAMES_CN_MAX)));
	assert_false(names_cn_valid(repeat(buf, sizeof(buf), 'c', NAMES_CN_MAX + 1)));
}

static void
test_names_cn_valid_Characters(void **state)
{
	(void)state;
	each_byte(names_cn_valid, in_cn_set);
	assert_true(names_cn_valid("garage.local"));
	assert_true(names_cn_valid("alice@home:1"));
	assert_true(names_cn_valid("fe80::1"));
	assert_false(names_cn_valid("garage local"));
	assert_false(names_cn_valid("garage/+"));
	assert_false(names_cn_valid("caf\xc3\xa9"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names_device_id_valid_Lengths),
	    cmocka_unit_test(test_names_device_id_valid_Characters),
	    cmocka_unit_test(test_names_door_valid_Lengths),
	    cmocka_unit_test(test_names_door_valid_Characters),
	    cmocka_unit_test(test_names_kid_valid_Lengths),
	    cmocka_unit_test(test_names_kid_valid_Characters),
	    cmocka_unit_test(test_names_kid_valid_MatchesCore),
	    cmocka_unit_test(test_names_topic_prefix_check_Reasons),
	    cmocka_unit_test(test_names_topic_prefix_check_Lengths),
	    cmocka_unit_test(test_names_cn_valid_Lengths),
	    cmocka_unit_test(test_names_cn_valid_Characters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
