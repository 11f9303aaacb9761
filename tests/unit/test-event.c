/*
 * Unit tests of the audit trail's JSON (src/common/event.c): every event parses as JSON with
 * cJSON (an independent parser), carries exactly the fields SPEC and docs/protocol.md promise,
 * escapes whatever it is given, and never writes past its buffer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <string.h>

#include "event.h"

static cJSON *
parse(const char *buf, size_t n)
{
	cJSON *j;

	assert_true(n > 0);
	assert_int_equal(strlen(buf), n);
	j = cJSON_ParseWithLength(buf, n);
	assert_non_null(j);
	assert_true(cJSON_IsObject(j));
	return j;
}

static const char *
str(const cJSON *j, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double
num(const cJSON *j, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);

	assert_true(cJSON_IsNumber(v));
	return v->valuedouble;
}

static int
nfields(const cJSON *j)
{
	return cJSON_GetArraySize(j);
}

static void
test_events_CommandAccepted(void **state)
{
	char buf[EVENT_MAX];
	struct cmd c;
	cJSON *j;

	(void)state;
	memset(&c, 0, sizeof(c));
	strcpy(c.door, "main");
	c.action = CMD_ACTION_OPEN;
	c.has_action = true;
	strcpy(c.kid, "alice-phone");
	strcpy(c.nonce, "q83vEjRWeJA");
	j = parse(buf, event_command(buf, sizeof(buf), 1795547680, &c, NULL, CMD_OK, 1));
	assert_int_equal(num(j, "ts"), 1795547680);
	assert_string_equal(str(j, "type"), "command");
	assert_string_equal(str(j, "door"), "main");
	assert_string_equal(str(j, "action"), "open");
	assert_string_equal(str(j, "kid"), "alice-phone");
	assert_string_equal(str(j, "nonce"), "q83vEjRWeJA");
	assert_string_equal(str(j, "result"), "accepted");
	assert_int_equal(num(j, "presses"), 1);
	assert_null(str(j, "reason"));
	assert_int_equal(nfields(j), 8);
	cJSON_Delete(j);
}

static void
test_events_CommandRejectedKnowsOnlyWhatWasParsed(void **state)
{
	char buf[EVENT_MAX];
	struct cmd c;
	cJSON *j;

	(void)state;
	/* A payload that never parsed: no door, action, kid or nonce to report. */
	memset(&c, 0, sizeof(c));
	j = parse(buf, event_command(buf, sizeof(buf), 7, &c, NULL, CMD_MALFORMED, 0));
	assert_string_equal(str(j, "result"), "rejected");
	assert_string_equal(str(j, "reason"), "malformed");
	assert_null(str(j, "door"));
	assert_null(str(j, "kid"));
	assert_null(cJSON_GetObjectItemCaseSensitive(j, "presses"));
	assert_int_equal(nfields(j), 4);
	cJSON_Delete(j);

	/* A replay: everything was understood. */
	strcpy(c.door, "side");
	c.action = CMD_ACTION_CLOSE;
	c.has_action = true;
	strcpy(c.kid, "bob");
	j = parse(buf, event_command(buf, sizeof(buf), 8, &c, NULL, CMD_REPLAY, 0));
	assert_string_equal(str(j, "door"), "side");
	assert_string_equal(str(j, "action"), "close");
	assert_string_equal(str(j, "kid"), "bob");
	assert_string_equal(str(j, "reason"), "replay");
	cJSON_Delete(j);
}

static void
test_events_EveryReasonIsSpecWord(void **state)
{
	static const char *const words[] = {
	    "malformed", "too_large", "unknown_key",  "forbidden", "bad_signature", "stale",
	    "future",    "replay",    "unknown_door", "retained",  "rate_limited",
	};
	char buf[EVENT_MAX];
	struct cmd c;
	cJSON *j;
	int r;

	(void)state;
	memset(&c, 0, sizeof(c));
	for (r = CMD_MALFORMED; r <= CMD_RATE_LIMITED; r++) {
		j = parse(buf, event_command(buf, sizeof(buf), 1, &c, NULL, (enum cmd_reason)r, 0));
		assert_string_equal(str(j, "reason"), words[r - CMD_MALFORMED]);
		cJSON_Delete(j);
	}
}

static void
test_events_ActorForUnsignedCommands(void **state)
{
	char buf[EVENT_MAX];
	struct cmd c;
	cJSON *j;

	(void)state;
	memset(&c, 0, sizeof(c));
	strcpy(c.door, "main");
	c.action = CMD_ACTION_CLOSE;
	c.has_action = true;
	j = parse(buf, event_command(buf, sizeof(buf), 9, &c, "homeassistant", CMD_OK, 1));
	assert_string_equal(str(j, "actor"), "homeassistant");
	assert_null(str(j, "kid"));
	assert_string_equal(str(j, "action"), "close");
	cJSON_Delete(j);
}

static void
test_events_Enroll(void **state)
{
	char buf[EVENT_MAX];
	struct cmd_enroll e;
	cJSON *j;

	(void)state;
	memset(&e, 0, sizeof(e));
	strcpy(e.inv.id, "Z2FyYWdlZC1pbnZpdGUwMQ");
	strcpy(e.inv.key.kid, "bob");
	strcpy(e.inv.by, "alice-phone");
	strcpy(e.nonce, "q83vEjRWeJA");
	j = parse(buf, event_enroll(buf, sizeof(buf), 1795547700, &e, CMD_OK));
	assert_int_equal(nfields(j), 7);
	assert_true(num(j, "ts") == 1795547700);
	assert_string_equal(str(j, "type"), "enroll");
	assert_string_equal(str(j, "invitation"), "Z2FyYWdlZC1pbnZpdGUwMQ");
	assert_string_equal(str(j, "kid"), "bob");
	assert_string_equal(str(j, "by"), "alice-phone");
	assert_string_equal(str(j, "nonce"), "q83vEjRWeJA");
	assert_string_equal(str(j, "result"), "accepted");
	assert_null(str(j, "reason"));
	cJSON_Delete(j);
	assert_string_equal(buf, "{\"ts\":1795547700,\"type\":\"enroll\",\"invitation\":"
	                         "\"Z2FyYWdlZC1pbnZpdGUwMQ\",\"kid\":\"bob\",\"by\":"
	                         "\"alice-phone\",\"nonce\":\"q83vEjRWeJA\",\"result\":"
	                         "\"accepted\"}");

	/* Refused, by the core or the door half, with what was read. */
	e.inv.by[0] = '\0';
	e.nonce[0] = '\0';
	j = parse(buf, event_enroll(buf, sizeof(buf), 1, &e, CMD_INVITATION_USED));
	assert_int_equal(nfields(j), 6);
	assert_string_equal(str(j, "result"), "rejected");
	assert_string_equal(str(j, "reason"), "invitation_used");
	assert_null(str(j, "by"));
	cJSON_Delete(j);
	memset(&e, 0, sizeof(e));
	j = parse(buf, event_enroll(buf, sizeof(buf), 1, &e, CMD_MALFORMED));
	assert_int_equal(nfields(j), 4);
	assert_string_equal(str(j, "reason"), "malformed");
	cJSON_Delete(j);
	/* Too small a buffer: nothing, and no byte past it. */
	assert_int_equal(event_enroll(buf, 20, 1, &e, CMD_MALFORMED), 0);
	assert_string_equal(buf, "");
}

static void
test_events_State(void **state)
{
	char buf[EVENT_MAX];
	cJSON *j;

	(void)state;
	j = parse(buf, event_state(buf, sizeof(buf), 1795547695, "main", DOOR_OPENING, DOOR_OPEN));
	assert_string_equal(str(j, "type"), "state");
	assert_string_equal(str(j, "door"), "main");
	assert_string_equal(str(j, "from"), "opening");
	assert_string_equal(str(j, "to"), "open");
	assert_int_equal(nfields(j), 5);
	cJSON_Delete(j);
}

/* The broker garaged is on: host as configured, port, preference and count as numbers. */
static void
test_events_Broker(void **state)
{
	char buf[EVENT_MAX];
	cJSON *j;

	(void)state;
	j = parse(buf, event_broker(buf, sizeof(buf), 1795547679, "fe80::1%eth0", 8883, 2, 2,
	                            "connected to broker 2 of 2"));
	assert_string_equal(str(j, "type"), "broker");
	assert_string_equal(str(j, "host"), "fe80::1%eth0");
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(j, "port")->valueint, 8883);
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(j, "preference")->valueint, 2);
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(j, "of")->valueint, 2);
	assert_string_equal(str(j, "message"), "connected to broker 2 of 2");
	assert_int_equal(nfields(j), 7);
	cJSON_Delete(j);
	/* No message: no field. */
	j = parse(buf, event_broker(buf, sizeof(buf), 1, "b", 1, 1, 1, NULL));
	assert_int_equal(nfields(j), 6);
	cJSON_Delete(j);
}

/* Whatever a bug upstream lets through, the trail stays valid JSON and says what it got. */
static void
test_events_EscapesEverything(void **state)
{
	char buf[EVENT_MAX];
	cJSON *j;

	(void)state;
	j = parse(buf,
	          event_note(buf, sizeof(buf), 1, "note", "d\"o\\or", "line\none\x01\x7f\xc3\xa9"));
	assert_string_equal(str(j, "door"), "d\"o\\or");
	/* Bytes outside printable ASCII come out as \u00XX, one per byte: lossless and plain. */
	assert_string_equal(str(j, "message"), "line\none\x01\x7f\xc3\x83\xc2\xa9");
	cJSON_Delete(j);
}

static void
test_events_NeverOverflows(void **state)
{
	char buf[64], big[400];
	size_t n, len;

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	n = event_note(buf, sizeof(buf), 1, "note", NULL, big);
	assert_int_equal(n, 0);
	assert_string_equal(buf, "");
	/* Exactly fitting and one byte short. */
	n = event_note(NULL, 0, 1, "note", NULL, "m");
	assert_int_equal(n, 0);
	len = event_note(buf, sizeof(buf), 1, "n", NULL, "m");
	assert_true(len > 0);
	assert_int_equal(event_note(buf, len + 1, 1, "n", NULL, "m"), len);
	assert_int_equal(event_note(buf, len, 1, "n", NULL, "m"), 0);
}

/* An admin message accepted: op, signer, target and nonce, as the admin message said them. */
static void
test_events_KeysAccepted(void **state)
{
	char buf[EVENT_MAX];
	struct cmd_admin a;
	cJSON *j;

	(void)state;
	memset(&a, 0, sizeof(a));
	a.op = CMD_ADMIN_ADD;
	a.has_op = true;
	strcpy(a.kid, "alice-phone");
	strcpy(a.target, "dog-walker");
	strcpy(a.nonce, "AdMiN-nOnCe0");
	j = parse(buf, event_keys(buf, sizeof(buf), 1795547700, &a, CMD_OK, NULL));
	assert_true(num(j, "ts") == 1795547700.0);
	assert_string_equal(str(j, "type"), "keys");
	assert_string_equal(str(j, "op"), "add");
	assert_string_equal(str(j, "kid"), "alice-phone");
	assert_string_equal(str(j, "target"), "dog-walker");
	assert_string_equal(str(j, "nonce"), "AdMiN-nOnCe0");
	assert_string_equal(str(j, "result"), "accepted");
	assert_null(str(j, "reason"));
	assert_null(str(j, "message"));
	assert_int_equal(nfields(j), 7);
	cJSON_Delete(j);
}

/* Refused: the reason, the message when there is one, and only the fields that were read. */
static void
test_events_KeysRejected(void **state)
{
	char buf[EVENT_MAX];
	struct cmd_admin a;
	cJSON *j;

	(void)state;
	memset(&a, 0, sizeof(a));
	j = parse(buf, event_keys(buf, sizeof(buf), 1, &a, CMD_MALFORMED, ""));
	assert_string_equal(str(j, "type"), "keys");
	assert_string_equal(str(j, "result"), "rejected");
	assert_string_equal(str(j, "reason"), "malformed");
	assert_int_equal(nfields(j), 4);
	cJSON_Delete(j);
	a.op = CMD_ADMIN_REMOVE;
	a.has_op = true;
	strcpy(a.kid, "bob");
	strcpy(a.target, "alice");
	j = parse(buf, event_keys(buf, sizeof(buf), 1, &a, CMD_KEYS_READ_ONLY, "see \"the log\""));
	assert_string_equal(str(j, "op"), "remove");
	assert_string_equal(str(j, "reason"), "keys_read_only");
	assert_string_equal(str(j, "message"), "see \"the log\"");
	assert_null(str(j, "nonce"));
	cJSON_Delete(j);
	j = parse(buf, event_keys(buf, sizeof(buf), 1, &a, CMD_KEYS_WRITE_FAILED, NULL));
	assert_string_equal(str(j, "reason"), "keys_write_failed");
	cJSON_Delete(j);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_events_CommandAccepted),
	    cmocka_unit_test(test_events_CommandRejectedKnowsOnlyWhatWasParsed),
	    cmocka_unit_test(test_events_EveryReasonIsSpecWord),
	    cmocka_unit_test(test_events_ActorForUnsignedCommands),
	    cmocka_unit_test(test_events_Enroll),
	    cmocka_unit_test(test_events_State),
	    cmocka_unit_test(test_events_Broker),
	    cmocka_unit_test(test_events_KeysAccepted),
	    cmocka_unit_test(test_events_KeysRejected),
	    cmocka_unit_test(test_events_EscapesEverything),
	    cmocka_unit_test(test_events_NeverOverflows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
