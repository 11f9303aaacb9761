/*
 * Unit tests of topic_door() (src/net/topic.c), the network half's reading of a topic the
 * broker delivered: which topics are a door's command topic and which door they name. A topic
 * that is not ours is ignored; one that is ours with a door segment we cannot hold still goes to
 * the door half with an empty door, so that the verifier refuses it as unknown_door and the
 * audit trail has it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <string.h>

#include "cmd.h"
#include "topic.h"

#define OUT_SIZE (CMD_NAME_MAX + 2) /* as the network half's */

/* Expects TOPIC (prefix "garage", device "gw1", leaf "cmd") to name DOOR. */
static void
door_is(const char *topic, const char *door)
{
	char out[OUT_SIZE];

	memset(out, 'x', sizeof(out));
	if (!topic_door(topic, "garage", "gw1", "cmd", out, sizeof(out)))
		fail_msg("\"%s\" should be a command topic", topic);
	assert_string_equal(out, door);
}

/* Expects TOPIC to be no command topic of garage/gw1, and OUT to come out empty. */
static void
not_ours(const char *topic, const char *prefix, const char *device, const char *leaf)
{
	char out[OUT_SIZE];

	memset(out, 'x', sizeof(out));
	if (topic_door(topic, prefix, device, leaf, out, sizeof(out)))
		fail_msg("\"%s\" is not %s/%s/<door>/%s: got door \"%s\"", topic, prefix, device,
		         leaf, out);
	assert_string_equal(out, "");
}

static void
test_topic_door_GoodTopics(void **state)
{
	char out[OUT_SIZE];

	(void)state;
	door_is("garage/gw1/main/cmd", "main");
	door_is("garage/gw1/side-2_b/cmd", "side-2_b");
	door_is("garage/gw1/abcdefghijklmnopqrstuvwxyz012345/cmd",
	        "abcdefghijklmnopqrstuvwxyz012345");
	/* Home Assistant's plain words come on another leaf of the same door. */
	assert_true(
	    topic_door("garage/gw1/main/ha_cmd", "garage", "gw1", "ha_cmd", out, sizeof(out)));
	assert_string_equal(out, "main");
	/* The door segment is not judged here: a name no door has is the verifier's. */
	door_is("garage/gw1/Main Door!/cmd", "Main Door!");
}

static void
test_topic_door_PrefixWithSlashes(void **state)
{
	char out[OUT_SIZE];

	(void)state;
	assert_true(
	    topic_door("home/garage/gw1/main/cmd", "home/garage", "gw1", "cmd", out, sizeof(out)));
	assert_string_equal(out, "main");
	assert_true(topic_door("a/b/c/gw1/side/cmd", "a/b/c", "gw1", "cmd", out, sizeof(out)));
	assert_string_equal(out, "side");
	/* The prefix's levels are all needed, in order. */
	not_ours("home/gw1/main/cmd", "home/garage", "gw1", "cmd");
	not_ours("garage/gw1/main/cmd", "home/garage", "gw1", "cmd");
	not_ours("home/garage/main/cmd", "home/garage", "gw1", "cmd");
	not_ours("garage/home/gw1/main/cmd", "home/garage", "gw1", "cmd");
}

/* A prefix or device that is only the start (or end) of a level is another topic. */
static void
test_topic_door_PrefixAndDeviceAreWholeLevels(void **state)
{
	(void)state;
	not_ours("garagex/gw1/main/cmd", "garage", "gw1", "cmd");
	not_ours("xgarage/gw1/main/cmd", "garage", "gw1", "cmd");
	not_ours("garag/gw1/main/cmd", "garage", "gw1", "cmd");
	not_ours("garage/gw12/main/cmd", "garage", "gw1", "cmd");
	not_ours("garage/xgw1/main/cmd", "garage", "gw1", "cmd");
	not_ours("garage/gw/main/cmd", "garage", "gw1", "cmd");
	not_ours("garage", "garage", "gw1", "cmd");
	not_ours("garage/", "garage", "gw1", "cmd");
	not_ours("garage/gw1", "garage", "gw1", "cmd");
	not_ours("garage/gw1/", "garage", "gw1", "cmd");
	not_ours("", "garage", "gw1", "cmd");
	not_ours("/garage/gw1/main/cmd", "garage", "gw1", "cmd");
	/* The device and the prefix in each other's places. */
	not_ours("gw1/garage/main/cmd", "garage", "gw1", "cmd");
}

static void
test_topic_door_WrongLeaf(void **state)
{
	(void)state;
	not_ours("garage/gw1/main/cmdx", "garage", "gw1", "cmd");
	not_ours("garage/gw1/main/cm", "garage", "gw1", "cmd");
	not_ours("garage/gw1/main/state", "garage", "gw1", "cmd");
	not_ours("garage/gw1/main/ha_cmd", "garage", "gw1", "cmd");
	not_ours("garage/gw1/main/cmd", "garage", "gw1", "ha_cmd");
	not_ours("garage/gw1/main/", "garage", "gw1", "cmd");
	not_ours("garage/gw1/main", "garage", "gw1", "cmd");
	/* The device's own topics, one level up, are not a door's. */
	not_ours("garage/gw1/cmd", "garage", "gw1", "cmd");
	not_ours("garage/gw1/events", "garage", "gw1", "cmd");
}

static void
test_topic_door_ExtraLevels(void **state)
{
	(void)state;
	not_ours("garage/gw1/main/x/cmd", "garage", "gw1", "cmd");
	not_ours("garage/gw1/main/cmd/x", "garage", "gw1", "cmd");
	not_ours("garage/gw1/main/cmd/", "garage", "gw1", "cmd");
	not_ours("garage/gw1/main/cmd/cmd", "garage", "gw1", "cmd");
	not_ours("garage/gw1//main/cmd", "garage", "gw1", "cmd");
	not_ours("garage/gw1/main//cmd", "garage", "gw1", "cmd");
	not_ours("garage//gw1/main/cmd", "garage", "gw1", "cmd");
	not_ours("x/garage/gw1/main/cmd", "garage", "gw1", "cmd");
}

/* An empty door segment is still a command topic: the verifier says unknown_door. */
static void
test_topic_door_EmptyDoorSegment(void **state)
{
	(void)state;
	door_is("garage/gw1//cmd", "");
}

/* A segment that does not fit OUT comes out empty, and the topic is still ours. */
static void
test_topic_door_DoorTooLongForOut(void **state)
{
	char out[8];

	(void)state;
	memset(out, 'x', sizeof(out));
	assert_true(topic_door("garage/gw1/abcdefg/cmd", "garage", "gw1", "cmd", out, sizeof(out)));
	assert_string_equal(out, "abcdefg"); /* 7 bytes and the NUL: just fits */
	memset(out, 'x', sizeof(out));
	assert_true(
	    topic_door("garage/gw1/abcdefgh/cmd", "garage", "gw1", "cmd", out, sizeof(out)));
	assert_string_equal(out, "");
	memset(out, 'x', sizeof(out));
	assert_true(topic_door("garage/gw1/abcdefghijklmnopqrstuvwxyz0123456789/cmd", "garage",
	                       "gw1", "cmd", out, sizeof(out)));
	assert_string_equal(out, "");
}

static void
test_topic_door_OutlenOneAndZero(void **state)
{
	char out[4];

	(void)state;
	/* Room for the NUL only: every door is too long, an empty one fits. */
	memset(out, 'x', sizeof(out));
	assert_true(topic_door("garage/gw1/m/cmd", "garage", "gw1", "cmd", out, 1));
	assert_int_equal(out[0], '\0');
	assert_int_equal(out[1], 'x');
	memset(out, 'x', sizeof(out));
	assert_true(topic_door("garage/gw1//cmd", "garage", "gw1", "cmd", out, 1));
	assert_int_equal(out[0], '\0');
	assert_int_equal(out[1], 'x');
	memset(out, 'x', sizeof(out));
	assert_false(topic_door("garage/gw1/m/state", "garage", "gw1", "cmd", out, 1));
	assert_int_equal(out[0], '\0');
	/* No room at all: false, and nothing written. */
	memset(out, 'x', sizeof(out));
	assert_false(topic_door("garage/gw1/m/cmd", "garage", "gw1", "cmd", out, 0));
	assert_int_equal(out[0], 'x');
}

/*
 * A topic the broker delivers has no wildcards (MQTT forbids them in a PUBLISH), and the
 * prefix and device are checked for them when the configuration is read. Here they are plain
 * characters: one in the door segment is that door's name (no door has it: unknown_door), one
 * anywhere else matches nothing.
 */
static void
test_topic_door_WildcardsAreCharacters(void **state)
{
	(void)state;
	door_is("garage/gw1/+/cmd", "+");
	door_is("garage/gw1/#/cmd", "#");
	not_ours("+/gw1/main/cmd", "garage", "gw1", "cmd");
	not_ours("#", "garage", "gw1", "cmd");
	not_ours("garage/+/main/cmd", "garage", "gw1", "cmd");
	not_ours("garage/#", "garage", "gw1", "cmd");
	not_ours("garage/gw1/main/+", "garage", "gw1", "cmd");
	not_ours("garage/gw1/main/#", "garage", "gw1", "cmd");
	not_ours("garage/gw1/+/+", "garage", "gw1", "cmd");
	not_ours("garage/gw1/#", "garage", "gw1", "cmd");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_topic_door_GoodTopics),
	    cmocka_unit_test(test_topic_door_PrefixWithSlashes),
	    cmocka_unit_test(test_topic_door_PrefixAndDeviceAreWholeLevels),
	    cmocka_unit_test(test_topic_door_WrongLeaf),
	    cmocka_unit_test(test_topic_door_ExtraLevels),
	    cmocka_unit_test(test_topic_door_EmptyDoorSegment),
	    cmocka_unit_test(test_topic_door_DoorTooLongForOut),
	    cmocka_unit_test(test_topic_door_OutlenOneAndZero),
	    cmocka_unit_test(test_topic_door_WildcardsAreCharacters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
