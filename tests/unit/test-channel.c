/*
 * Unit tests of the channel between the two halves (src/common/channel.c): channel_check(),
 * the one judge of every packet either half receives, and the framing of channel_send() and
 * channel_recv() over a real SOCK_SEQPACKET socketpair. Each way a packet can be wrong is
 * refused here once: a size off by one for every type, a header that lies about the size, a
 * type from the wrong half, a field out of range, a string with no NUL, a packet too long to
 * fit (as MSG_TRUNC reports it). What the receivers do with an accepted packet (index the doors
 * with state.door, print door and state as strings, copy event.len bytes) is what these
 * refusals protect.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "channel.h"

/* The receiver's configuration in most tests: two doors, Home Assistant's plain words off. */
static const struct channel_limits two_doors = {.ndoors = 2, .ha_unsigned = false};

static const enum channel_type net_types[] = {CHANNEL_CONNECTED, CHANNEL_COMMAND,
                                              CHANNEL_RUNNING,   CHANNEL_NEW_KEY,
                                              CHANNEL_NEW_CERT,  CHANNEL_CONNECT_FAILED};
static const enum channel_type door_types[] = {CHANNEL_STATE, CHANNEL_EVENT, CHANNEL_GOODBYE,
                                               CHANNEL_KEYS, CHANNEL_RENEWAL};
static const enum channel_type all_types[] = {
    CHANNEL_CONNECTED, CHANNEL_COMMAND,        CHANNEL_RUNNING, CHANNEL_NEW_KEY,
    CHANNEL_NEW_CERT,  CHANNEL_CONNECT_FAILED, CHANNEL_STATE,   CHANNEL_EVENT,
    CHANNEL_GOODBYE,   CHANNEL_KEYS,           CHANNEL_RENEWAL, CHANNEL_START};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static union channel_msg msg; /* 16 KiB: not on the stack */

static size_t
type_size(enum channel_type t)
{
	switch (t) {
	case CHANNEL_COMMAND:
		return sizeof(struct channel_command);
	case CHANNEL_STATE:
		return sizeof(struct channel_state);
	case CHANNEL_EVENT:
		return sizeof(struct channel_event);
	case CHANNEL_KEYS:
		return sizeof(struct channel_keys);
	case CHANNEL_NEW_KEY:
		return sizeof(struct channel_new_key);
	case CHANNEL_NEW_CERT:
		return sizeof(struct channel_new_cert);
	case CHANNEL_CONNECT_FAILED:
		return sizeof(struct channel_connect_failed);
	case CHANNEL_RENEWAL:
		return sizeof(struct channel_renewal);
	case CHANNEL_START:
		return sizeof(struct channel_start);
	default:
		return sizeof(struct channel_bare);
	}
}

static enum channel_from
sender(enum channel_type t)
{
	return t < CHANNEL_STATE ? CHANNEL_FROM_NET : CHANNEL_FROM_DOOR;
}

/* A good packet of type T, as its sender makes it (zeroed, then filled); returns its size. */
static size_t
make(union channel_msg *m, enum channel_type t)
{
	size_t len = type_size(t);

	memset(m, 0, sizeof(*m));
	m->hdr.type = t;
	m->hdr.len = (uint32_t)len;
	switch (t) {
	case CHANNEL_COMMAND:
		m->cmd.topic = CHANNEL_TOPIC_CMD;
		m->cmd.len = 5;
		memcpy(m->cmd.payload, "{...}", 5);
		strcpy(m->cmd.door, "main");
		break;
	case CHANNEL_STATE:
		m->state.door = 1;
		strcpy(m->state.state, "closed");
		break;
	case CHANNEL_EVENT:
		m->event.len = 13;
		memcpy(m->event.json, "{\"event\":\"x\"}", 13);
		m->event.dropped = 3;
		break;
	case CHANNEL_KEYS:
		m->keys.len = 11;
		memcpy(m->keys.json, "{\"keys\":[]}", 11);
		break;
	case CHANNEL_NEW_KEY:
		m->new_key.trigger = CHANNEL_TRIGGER_ADMIN;
		m->new_key.len = 4;
		memcpy(m->new_key.pem, "-key", 4);
		break;
	case CHANNEL_NEW_CERT:
		m->new_cert.len = 5;
		memcpy(m->new_cert.pem, "-cert", 5);
		strcpy(m->new_cert.serial, "1A2B");
		strcpy(m->new_cert.not_after, "2026-12-24T08:00:00Z");
		break;
	case CHANNEL_CONNECT_FAILED:
		strcpy(m->failed.why, "TLS with localhost:8883 failed");
		break;
	case CHANNEL_RENEWAL:
		m->renewal.op = CHANNEL_RENEWAL_INSTALLED;
		break;
	case CHANNEL_START:
		strcpy(m->start.version, "0.1.0");
		m->start.config_size = sizeof(struct config);
		m->start.flags = CHANNEL_START_DROP | CHANNEL_START_TRIAL;
		m->start.cfg.ndoors = 2;
		break;
	default:
		break;
	}
	return len;
}

/* A refused packet: type 0 and a phrase, one line, that the caller logs after "sent ". */
static void
assert_refused(const union channel_msg *m, size_t len, enum channel_from from,
               const struct channel_limits *lim, const char *why_part)
{
	const char *why = "not set";

	assert_int_equal(channel_check(m, len, from, lim, &why), CHANNEL_NONE);
	assert_non_null(why);
	assert_true(strncmp(why, "a ", 2) == 0);
	assert_null(strchr(why, '\n'));
	if (strstr(why, why_part) == NULL)
		fail_msg("refused as \"%s\", expected \"%s\"", why, why_part);
}

static void
assert_accepted(const union channel_msg *m, size_t len, enum channel_from from,
                const struct channel_limits *lim, enum channel_type t)
{
	const char *why = "not set";
	enum channel_type got = channel_check(m, len, from, lim, &why);

	if (got != t)
		fail_msg("type %u (%zu bytes): got %d, want %d: %s", (unsigned)m->hdr.type, len,
		         got, t, why != NULL ? why : "(no reason)");
	assert_null(why);
}

/* ---- types and directions ----------------------------------------------------------------- */

static void
test_channel_check_EveryTypeFromItsSender(void **state)
{
	(void)state;
	for (size_t i = 0; i < COUNT(all_types); i++) {
		size_t len = make(&msg, all_types[i]);

		assert_accepted(&msg, len, sender(all_types[i]), &two_doors, all_types[i]);
	}
}

static void
test_channel_check_EveryTypeFromTheWrongSenderRefused(void **state)
{
	(void)state;
	for (size_t i = 0; i < COUNT(net_types); i++) {
		size_t len = make(&msg, net_types[i]);

		assert_refused(&msg, len, CHANNEL_FROM_DOOR, &two_doors, "unknown type");
	}
	for (size_t i = 0; i < COUNT(door_types); i++) {
		size_t len = make(&msg, door_types[i]);

		assert_refused(&msg, len, CHANNEL_FROM_NET, &two_doors, "unknown type");
	}
}

static void
test_channel_check_UnknownTypesRefused(void **state)
{
	static const uint32_t unknown[] = {CHANNEL_NONE,      CHANNEL_CONNECT_FAILED + 1,
	                                   CHANNEL_STATE - 1, CHANNEL_START + 1,
	                                   0x80000000U,       UINT32_MAX};

	(void)state;
	for (size_t i = 0; i < COUNT(unknown); i++) {
		make(&msg, CHANNEL_CONNECTED);
		msg.hdr.type = unknown[i];
		assert_refused(&msg, sizeof(struct channel_bare), CHANNEL_FROM_NET, &two_doors,
		               "unknown type");
		assert_refused(&msg, sizeof(struct channel_bare), CHANNEL_FROM_DOOR, &two_doors,
		               "unknown type");
	}
}

/* ---- sizes -------------------------------------------------------------------------------- */

/* One byte less and one byte more than the type's size, with a header that agrees: only the
 * type's own size check can refuse it. */
static void
test_channel_check_EverySizeOffByOneRefused(void **state)
{
	(void)state;
	for (size_t i = 0; i < COUNT(all_types); i++) {
		size_t len = make(&msg, all_types[i]);

		msg.hdr.len = (uint32_t)(len - 1);
		assert_refused(&msg, len - 1, sender(all_types[i]), &two_doors, "a ");
		msg.hdr.len = (uint32_t)(len + 1);
		assert_refused(&msg, len + 1, sender(all_types[i]), &two_doors, "a ");
	}
	/* The bare ones say which type had the wrong size. */
	make(&msg, CHANNEL_CONNECTED);
	msg.hdr.len = sizeof(struct channel_bare) + 1;
	assert_refused(&msg, msg.hdr.len, CHANNEL_FROM_NET, &two_doors,
	               "a CONNECTED message of a wrong size");
	make(&msg, CHANNEL_RUNNING);
	msg.hdr.len = sizeof(struct channel_bare) + 4;
	assert_refused(&msg, msg.hdr.len, CHANNEL_FROM_NET, &two_doors,
	               "a RUNNING message of a wrong size");
	make(&msg, CHANNEL_GOODBYE);
	msg.hdr.len = sizeof(struct channel_command);
	assert_refused(&msg, msg.hdr.len, CHANNEL_FROM_DOOR, &two_doors,
	               "a GOODBYE message of a wrong size");
	make(&msg, CHANNEL_COMMAND);
	msg.hdr.len = sizeof(struct channel_state);
	assert_refused(&msg, msg.hdr.len, CHANNEL_FROM_NET, &two_doors,
	               "a malformed COMMAND message");
	make(&msg, CHANNEL_STATE);
	msg.hdr.len = sizeof(struct channel_bare);
	assert_refused(&msg, msg.hdr.len, CHANNEL_FROM_DOOR, &two_doors,
	               "a malformed STATE message");
	make(&msg, CHANNEL_EVENT);
	msg.hdr.len = sizeof(struct channel_state);
	assert_refused(&msg, msg.hdr.len, CHANNEL_FROM_DOOR, &two_doors,
	               "a malformed EVENT message");
	make(&msg, CHANNEL_KEYS);
	msg.hdr.len = sizeof(struct channel_event);
	assert_refused(&msg, msg.hdr.len, CHANNEL_FROM_DOOR, &two_doors,
	               "a malformed KEYS message");
}

/* Fewer bytes than a header: refused before the header (which did not arrive) is read. */
static void
test_channel_check_ShorterThanAHeaderRefused(void **state)
{
	(void)state;
	for (size_t len = 0; len < sizeof(struct channel_hdr); len++) {
		make(&msg, CHANNEL_CONNECTED);
		msg.hdr.len = (uint32_t)len;
		assert_refused(&msg, len, CHANNEL_FROM_NET, &two_doors, "does not match");
		assert_refused(&msg, len, CHANNEL_FROM_DOOR, &two_doors, "does not match");
	}
}

/* recv() with MSG_TRUNC gives the size as sent: more than the buffer holds is refused, even
 * when the header claims that size too. */
static void
test_channel_check_LongerThanMsgMaxRefused(void **state)
{
	static const size_t sizes[] = {CHANNEL_MSG_MAX + 1, CHANNEL_MSG_MAX + 8, 65536, SIZE_MAX};

	(void)state;
	for (size_t i = 0; i < COUNT(sizes); i++) {
		for (size_t t = 0; t < COUNT(all_types); t++) {
			make(&msg, all_types[t]);
			msg.hdr.len = (uint32_t)sizes[i];
			assert_refused(&msg, sizes[i], sender(all_types[t]), &two_doors,
			               "does not match");
		}
	}
}

static void
test_channel_check_HeaderLenMismatchRefused(void **state)
{
	(void)state;
	for (size_t i = 0; i < COUNT(all_types); i++) {
		size_t len = make(&msg, all_types[i]);

		msg.hdr.len = (uint32_t)(len + 1);
		assert_refused(&msg, len, sender(all_types[i]), &two_doors, "does not match");
		msg.hdr.len = (uint32_t)(len - 1);
		assert_refused(&msg, len, sender(all_types[i]), &two_doors, "does not match");
		msg.hdr.len = 0;
		assert_refused(&msg, len, sender(all_types[i]), &two_doors, "does not match");
		msg.hdr.len = UINT32_MAX;
		assert_refused(&msg, len, sender(all_types[i]), &two_doors, "does not match");
	}
}

/* ---- COMMAND fields ----------------------------------------------------------------------- */

static void
test_channel_check_CommandRetained(void **state)
{
	size_t len;

	(void)state;
	len = make(&msg, CHANNEL_COMMAND);
	msg.cmd.retained = 1;
	assert_accepted(&msg, len, CHANNEL_FROM_NET, &two_doors, CHANNEL_COMMAND);
	msg.cmd.retained = 2;
	assert_refused(&msg, len, CHANNEL_FROM_NET, &two_doors, "a malformed COMMAND message");
	msg.cmd.retained = 0xff;
	assert_refused(&msg, len, CHANNEL_FROM_NET, &two_doors, "a malformed COMMAND message");
}

static void
test_channel_check_CommandPayloadLen(void **state)
{
	size_t len;

	(void)state;
	len = make(&msg, CHANNEL_COMMAND);
	msg.cmd.len = 0;
	assert_accepted(&msg, len, CHANNEL_FROM_NET, &two_doors, CHANNEL_COMMAND);
	/* The longest: a payload cut to one byte over what the verifier takes. */
	msg.cmd.len = CHANNEL_PAYLOAD_MAX;
	assert_accepted(&msg, len, CHANNEL_FROM_NET, &two_doors, CHANNEL_COMMAND);
	msg.cmd.len = CHANNEL_PAYLOAD_MAX + 1;
	assert_refused(&msg, len, CHANNEL_FROM_NET, &two_doors, "a malformed COMMAND message");
	msg.cmd.len = UINT16_MAX;
	assert_refused(&msg, len, CHANNEL_FROM_NET, &two_doors, "a malformed COMMAND message");
}

static void
test_channel_check_CommandDoorNeedsNul(void **state)
{
	size_t len;

	(void)state;
	len = make(&msg, CHANNEL_COMMAND);
	msg.cmd.door[0] = '\0'; /* an empty door: the verifier's unknown_door, not ours */
	assert_accepted(&msg, len, CHANNEL_FROM_NET, &two_doors, CHANNEL_COMMAND);
	/* The longest a door segment can come: every byte but the last. */
	memset(msg.cmd.door, 'd', sizeof(msg.cmd.door) - 1);
	msg.cmd.door[sizeof(msg.cmd.door) - 1] = '\0';
	assert_accepted(&msg, len, CHANNEL_FROM_NET, &two_doors, CHANNEL_COMMAND);
	/* No NUL anywhere in it: printing it would run into the payload. */
	memset(msg.cmd.door, 'd', sizeof(msg.cmd.door));
	assert_refused(&msg, len, CHANNEL_FROM_NET, &two_doors, "a malformed COMMAND message");
	/* A NUL in the payload right after it does not count. */
	msg.cmd.payload[0] = '\0';
	assert_refused(&msg, len, CHANNEL_FROM_NET, &two_doors, "a malformed COMMAND message");
}

static void
test_channel_check_CommandTopic(void **state)
{
	const struct channel_limits ha = {.ndoors = 2, .ha_unsigned = true};
	size_t len;

	(void)state;
	len = make(&msg, CHANNEL_COMMAND);
	msg.cmd.topic = CHANNEL_TOPIC_CMD;
	assert_accepted(&msg, len, CHANNEL_FROM_NET, &two_doors, CHANNEL_COMMAND);
	assert_accepted(&msg, len, CHANNEL_FROM_NET, &ha, CHANNEL_COMMAND);
	/* ha_cmd only when the door half subscribed the network half to it. */
	msg.cmd.topic = CHANNEL_TOPIC_HA_CMD;
	assert_accepted(&msg, len, CHANNEL_FROM_NET, &ha, CHANNEL_COMMAND);
	assert_refused(&msg, len, CHANNEL_FROM_NET, &two_doors, "a malformed COMMAND message");
	for (unsigned int topic = CHANNEL_TOPIC_ENROLL + 1; topic <= 0xff; topic++) {
		msg.cmd.topic = (uint8_t)topic;
		assert_refused(&msg, len, CHANNEL_FROM_NET, &ha, "a malformed COMMAND message");
		assert_refused(&msg, len, CHANNEL_FROM_NET, &two_doors,
		               "a malformed COMMAND message");
	}
}

/* P/D/admin and P/D/enroll: always heard (every network half subscribes to both), and their
 * topics have no door segment, so a door is a network half inventing one. */
static void
test_channel_check_CommandAdminAndEnrollTopics(void **state)
{
	const struct channel_limits ha = {.ndoors = 2, .ha_unsigned = true};
	const uint8_t topics[] = {CHANNEL_TOPIC_ADMIN, CHANNEL_TOPIC_ENROLL};
	size_t len;

	(void)state;
	for (size_t i = 0; i < COUNT(topics); i++) {
		len = make(&msg, CHANNEL_COMMAND);
		msg.cmd.topic = topics[i];
		msg.cmd.door[0] = '\0';
		assert_accepted(&msg, len, CHANNEL_FROM_NET, &two_doors, CHANNEL_COMMAND);
		assert_accepted(&msg, len, CHANNEL_FROM_NET, &ha, CHANNEL_COMMAND);
		/* The largest payload: an enrollment request cut to one byte over its limit. */
		msg.cmd.len = CHANNEL_PAYLOAD_MAX;
		assert_accepted(&msg, len, CHANNEL_FROM_NET, &two_doors, CHANNEL_COMMAND);
		msg.cmd.len = CHANNEL_PAYLOAD_MAX + 1;
		assert_refused(&msg, len, CHANNEL_FROM_NET, &two_doors,
		               "a malformed COMMAND message");
		msg.cmd.len = 5;
		strcpy(msg.cmd.door, "main");
		assert_refused(&msg, len, CHANNEL_FROM_NET, &two_doors,
		               "a malformed COMMAND message");
		assert_refused(&msg, len, CHANNEL_FROM_NET, &ha, "a malformed COMMAND message");
	}
	/* Room for every verifier's limit and one byte more, so that too_large still shows. */
	assert_true(CHANNEL_PAYLOAD_MAX > CMD_ENROLL_MAX_PAYLOAD);
	assert_true(CHANNEL_PAYLOAD_MAX > CMD_ADMIN_MAX_PAYLOAD);
	assert_true(CHANNEL_PAYLOAD_MAX > CMD_MAX_PAYLOAD);
	assert_true(sizeof(msg.cmd.payload) == CHANNEL_PAYLOAD_MAX);
}

/* ---- STATE, EVENT and KEYS fields --------------------------------------------------------- */

static void
test_channel_check_StateDoorIndex(void **state)
{
	const struct channel_limits none = {.ndoors = 0};
	size_t len;

	(void)state;
	len = make(&msg, CHANNEL_STATE);
	msg.state.door = 0;
	assert_accepted(&msg, len, CHANNEL_FROM_DOOR, &two_doors, CHANNEL_STATE);
	msg.state.door = 1;
	assert_accepted(&msg, len, CHANNEL_FROM_DOOR, &two_doors, CHANNEL_STATE);
	msg.state.door = 2; /* == ndoors: one past the network half's array */
	assert_refused(&msg, len, CHANNEL_FROM_DOOR, &two_doors, "a malformed STATE message");
	msg.state.door = UINT32_MAX;
	assert_refused(&msg, len, CHANNEL_FROM_DOOR, &two_doors, "a malformed STATE message");
	msg.state.door = 0;
	assert_refused(&msg, len, CHANNEL_FROM_DOOR, &none, "a malformed STATE message");
}

static void
test_channel_check_StateStringNeedsNul(void **state)
{
	size_t len;

	(void)state;
	len = make(&msg, CHANNEL_STATE);
	memset(msg.state.state, 's', sizeof(msg.state.state) - 1);
	msg.state.state[sizeof(msg.state.state) - 1] = '\0';
	assert_accepted(&msg, len, CHANNEL_FROM_DOOR, &two_doors, CHANNEL_STATE);
	msg.state.state[0] = '\0';
	assert_accepted(&msg, len, CHANNEL_FROM_DOOR, &two_doors, CHANNEL_STATE);
	/* Published with strlen(): without a NUL it would read past the packet's end. */
	memset(msg.state.state, 's', sizeof(msg.state.state));
	assert_refused(&msg, len, CHANNEL_FROM_DOOR, &two_doors, "a malformed STATE message");
}

static void
test_channel_check_EventLen(void **state)
{
	size_t len;

	(void)state;
	len = make(&msg, CHANNEL_EVENT);
	msg.event.len = 0; /* only the count of dropped events */
	assert_accepted(&msg, len, CHANNEL_FROM_DOOR, &two_doors, CHANNEL_EVENT);
	/* json is bytes with a length, not a string: no NUL needed, the last byte may be used. */
	memset(msg.event.json, 'j', sizeof(msg.event.json));
	msg.event.len = EVENT_MAX - 1;
	assert_accepted(&msg, len, CHANNEL_FROM_DOOR, &two_doors, CHANNEL_EVENT);
	msg.event.len = EVENT_MAX;
	assert_refused(&msg, len, CHANNEL_FROM_DOOR, &two_doors, "a malformed EVENT message");
	msg.event.len = UINT32_MAX;
	assert_refused(&msg, len, CHANNEL_FROM_DOOR, &two_doors, "a malformed EVENT message");
	/* dropped is a count the network half adds up: any value is one. */
	msg.event.len = 1;
	msg.event.dropped = UINT32_MAX;
	assert_accepted(&msg, len, CHANNEL_FROM_DOOR, &two_doors, CHANNEL_EVENT);
}

static void
test_channel_check_KeysLen(void **state)
{
	size_t len;

	(void)state;
	len = make(&msg, CHANNEL_KEYS);
	msg.keys.len = 0;
	assert_accepted(&msg, len, CHANNEL_FROM_DOOR, &two_doors, CHANNEL_KEYS);
	/* Bytes with a length: the last byte may be used, none is read past len. */
	memset(msg.keys.json, 'k', sizeof(msg.keys.json));
	msg.keys.len = CHANNEL_KEYS_MAX - 1;
	assert_accepted(&msg, len, CHANNEL_FROM_DOOR, &two_doors, CHANNEL_KEYS);
	msg.keys.len = CHANNEL_KEYS_MAX;
	assert_refused(&msg, len, CHANNEL_FROM_DOOR, &two_doors, "a malformed KEYS message");
	msg.keys.len = UINT32_MAX;
	assert_refused(&msg, len, CHANNEL_FROM_DOOR, &two_doors, "a malformed KEYS message");
	/* Only the door half has a keyring to list. */
	msg.keys.len = 1;
	assert_refused(&msg, len, CHANNEL_FROM_NET, &two_doors, "unknown type");
}

/* ---- the renewal's messages --------------------------------------------------------------- */

/* PEM text with a length: 1 to CHANNEL_PEM_MAX - 1 bytes, none of them a NUL (the door half
 * writes them to a file as they are). */
static void
test_channel_check_NewKeyPem(void **state)
{
	size_t len;

	(void)state;
	len = make(&msg, CHANNEL_NEW_KEY);
	memset(msg.new_key.pem, 'k', sizeof(msg.new_key.pem));
	msg.new_key.len = CHANNEL_PEM_MAX - 1;
	assert_accepted(&msg, len, CHANNEL_FROM_NET, &two_doors, CHANNEL_NEW_KEY);
	msg.new_key.len = CHANNEL_PEM_MAX;
	assert_refused(&msg, len, CHANNEL_FROM_NET, &two_doors, "a malformed NEW_KEY message");
	msg.new_key.len = 0;
	assert_refused(&msg, len, CHANNEL_FROM_NET, &two_doors, "a malformed NEW_KEY message");
	msg.new_key.len = 10;
	msg.new_key.pem[9] = '\0';
	assert_refused(&msg, len, CHANNEL_FROM_NET, &two_doors, "a malformed NEW_KEY message");
	/* A NUL after the length is none of its bytes. */
	msg.new_key.len = 9;
	assert_accepted(&msg, len, CHANNEL_FROM_NET, &two_doors, CHANNEL_NEW_KEY);
	msg.new_key.trigger = CHANNEL_TRIGGER_EXPIRY;
	assert_accepted(&msg, len, CHANNEL_FROM_NET, &two_doors, CHANNEL_NEW_KEY);
	msg.new_key.trigger = CHANNEL_TRIGGER_ADMIN + 1;
	assert_refused(&msg, len, CHANNEL_FROM_NET, &two_doors, "a malformed NEW_KEY message");
	/* Only the network half makes keys. */
	make(&msg, CHANNEL_NEW_KEY);
	assert_refused(&msg, len, CHANNEL_FROM_DOOR, &two_doors, "unknown type");
}

static void
test_channel_check_NewCertFields(void **state)
{
	size_t len;

	(void)state;
	len = make(&msg, CHANNEL_NEW_CERT);
	msg.new_cert.len = CHANNEL_PEM_MAX;
	assert_refused(&msg, len, CHANNEL_FROM_NET, &two_doors, "a malformed NEW_CERT message");
	msg.new_cert.len = 0;
	assert_refused(&msg, len, CHANNEL_FROM_NET, &two_doors, "a malformed NEW_CERT message");
	len = make(&msg, CHANNEL_NEW_CERT);
	memset(msg.new_cert.serial, 'F', sizeof(msg.new_cert.serial));
	assert_refused(&msg, len, CHANNEL_FROM_NET, &two_doors, "a malformed NEW_CERT message");
	len = make(&msg, CHANNEL_NEW_CERT);
	memset(msg.new_cert.not_after, '2', sizeof(msg.new_cert.not_after));
	assert_refused(&msg, len, CHANNEL_FROM_NET, &two_doors, "a malformed NEW_CERT message");
	len = make(&msg, CHANNEL_NEW_CERT);
	msg.new_cert.pem[2] = '\0';
	assert_refused(&msg, len, CHANNEL_FROM_NET, &two_doors, "a malformed NEW_CERT message");
}

static void
test_channel_check_ConnectFailedNeedsNul(void **state)
{
	size_t len;

	(void)state;
	len = make(&msg, CHANNEL_CONNECT_FAILED);
	memset(msg.failed.why, 'w', sizeof(msg.failed.why) - 1);
	assert_accepted(&msg, len, CHANNEL_FROM_NET, &two_doors, CHANNEL_CONNECT_FAILED);
	memset(msg.failed.why, 'w', sizeof(msg.failed.why));
	assert_refused(&msg, len, CHANNEL_FROM_NET, &two_doors,
	               "a malformed CONNECT_FAILED message");
}

static void
test_channel_check_RenewalOp(void **state)
{
	size_t len;

	(void)state;
	len = make(&msg, CHANNEL_RENEWAL);
	for (uint32_t op = 0; op < CHANNEL_RENEWAL_OP_COUNT; op++) {
		msg.renewal.op = op;
		assert_accepted(&msg, len, CHANNEL_FROM_DOOR, &two_doors, CHANNEL_RENEWAL);
	}
	msg.renewal.op = CHANNEL_RENEWAL_OP_COUNT;
	assert_refused(&msg, len, CHANNEL_FROM_DOOR, &two_doors, "a malformed RENEWAL message");
	msg.renewal.op = UINT32_MAX;
	assert_refused(&msg, len, CHANNEL_FROM_DOOR, &two_doors, "a malformed RENEWAL message");
	/* Only the door half says what became of a renewal. */
	msg.renewal.op = CHANNEL_RENEWAL_START;
	assert_refused(&msg, len, CHANNEL_FROM_NET, &two_doors, "unknown type");
}

/* CHANNEL_START: only from the door half, of this build's layout, its strings terminated. */
static void
test_channel_check_StartFields(void **state)
{
	size_t len;

	(void)state;
	len = make(&msg, CHANNEL_START);
	assert_accepted(&msg, len, CHANNEL_FROM_DOOR, &two_doors, CHANNEL_START);
	assert_refused(&msg, len, CHANNEL_FROM_NET, &two_doors, "unknown type");
	msg.start.config_size = sizeof(struct config) - 1;
	assert_refused(&msg, len, CHANNEL_FROM_DOOR, &two_doors, "a malformed START message");
	make(&msg, CHANNEL_START);
	memset(msg.start.version, 'x', sizeof(msg.start.version));
	assert_refused(&msg, len, CHANNEL_FROM_DOOR, &two_doors, "a malformed START message");
	make(&msg, CHANNEL_START);
	msg.start.flags = CHANNEL_START_FLAGS + 1;
	assert_refused(&msg, len, CHANNEL_FROM_DOOR, &two_doors, "a malformed START message");
	make(&msg, CHANNEL_START);
	msg.start.cfg.ndoors = CONFIG_MAX_DOORS + 1;
	assert_refused(&msg, len, CHANNEL_FROM_DOOR, &two_doors, "a malformed START message");
	/* The brokers index an array too. */
	make(&msg, CHANNEL_START);
	msg.start.cfg.nbrokers = CONFIG_MAX_BROKERS;
	assert_accepted(&msg, len, CHANNEL_FROM_DOOR, &two_doors, CHANNEL_START);
	msg.start.cfg.nbrokers = CONFIG_MAX_BROKERS + 1;
	assert_refused(&msg, len, CHANNEL_FROM_DOOR, &two_doors, "a malformed START message");
}

/* ---- what every verdict promises ---------------------------------------------------------- */

/* An accepted packet is exactly its type's size and from its type's sender, whatever the
 * limits; the same packet in any other size, or from the other half, is refused; and the
 * judgement neither writes the packet nor depends on anything but its arguments. */
static void
test_channel_check_AcceptedMeansExactSizeAndSender(void **state)
{
	static union channel_msg copy;
	const struct channel_limits lims[] = {
	    {.ndoors = 2, .ha_unsigned = false},
	    {.ndoors = 2, .ha_unsigned = true},
	    {.ndoors = UINT32_MAX, .ha_unsigned = true},
	};

	(void)state;
	for (size_t t = 0; t < COUNT(all_types); t++) {
		for (size_t l = 0; l < COUNT(lims); l++) {
			size_t want = make(&msg, all_types[t]);

			memcpy(&copy, &msg, sizeof(msg));
			for (size_t len = 0; len <= CHANNEL_MSG_MAX + 1; len++) {
				const char *why = "not set";
				enum channel_type got;

				msg.hdr.len = (uint32_t)len;
				got =
				    channel_check(&msg, len, sender(all_types[t]), &lims[l], &why);
				if (len == want) {
					assert_int_equal(got, all_types[t]);
					assert_null(why);
				} else {
					assert_int_equal(got, CHANNEL_NONE);
					assert_non_null(why);
				}
				got = channel_check(&msg, len,
				                    sender(all_types[t]) == CHANNEL_FROM_NET
				                        ? CHANNEL_FROM_DOOR
				                        : CHANNEL_FROM_NET,
				                    &lims[l], &why);
				assert_int_equal(got, CHANNEL_NONE);
				assert_non_null(why);
			}
			msg.hdr.len = (uint32_t)want;
			assert_memory_equal(&msg, &copy, sizeof(msg));
		}
	}
}

/* ---- over a real socketpair --------------------------------------------------------------- */

struct pair {
	int fd[2];
};

static int
pair_setup(void **state)
{
	static struct pair p;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, p.fd) != 0 ||
	    !channel_buffers(p.fd[0]) || !channel_buffers(p.fd[1]))
		return -1;
	*state = &p;
	return 0;
}

static int
pair_teardown(void **state)
{
	struct pair *p = *state;

	if (p->fd[0] >= 0)
		close(p->fd[0]);
	if (p->fd[1] >= 0)
		close(p->fd[1]);
	return 0;
}

/* Every type, sent by one end and received by the other, arrives whole and is accepted. */
static void
test_channel_recv_RoundTripEveryType(void **state)
{
	static union channel_msg sent;
	struct pair *p = *state;

	for (size_t i = 0; i < COUNT(all_types); i++) {
		size_t len = make(&sent, all_types[i]);
		ssize_t r;

		assert_true(channel_send(p->fd[0], &sent, len));
		memset(&msg, 0xee, sizeof(msg));
		r = channel_recv(p->fd[1], &msg);
		assert_int_equal(r, (ssize_t)len);
		assert_accepted(&msg, (size_t)r, sender(all_types[i]), &two_doors, all_types[i]);
		assert_memory_equal(&msg, &sent, len);
		/* channel_recv() zeroes the rest: nothing of an earlier packet shows through. */
		for (size_t b = len; b < sizeof(msg); b++)
			assert_int_equal(((const unsigned char *)&msg)[b], 0);
	}
	/* Nothing more waiting: EAGAIN, not a block. */
	errno = 0;
	assert_int_equal(channel_recv(p->fd[1], &msg), -1);
	assert_int_equal(errno, EAGAIN);
}

/* One byte more than the largest layout is seen as too long, not cut to a size that fits; so
 * is a much longer one. */
static void
test_channel_recv_TooLongSeenAsTooLong(void **state)
{
	static union {
		union channel_msg m;
		unsigned char raw[CHANNEL_MSG_MAX + 4096];
	} big;
	struct pair *p = *state;
	const size_t sizes[] = {CHANNEL_MSG_MAX + 1, sizeof(big)};

	for (size_t i = 0; i < COUNT(sizes); i++) {
		ssize_t r;

		make(&big.m, CHANNEL_EVENT);
		/* A header that claims the event's size, as a forged one would. */
		assert_true(channel_send(p->fd[0], &big, sizes[i]));
		r = channel_recv(p->fd[1], &msg);
		assert_int_equal(r, (ssize_t)sizes[i]);
		assert_refused(&msg, (size_t)r, CHANNEL_FROM_DOOR, &two_doors, "does not match");
		/* And the header agreeing with the size changes nothing. */
		msg.hdr.len = (uint32_t)r;
		assert_refused(&msg, (size_t)r, CHANNEL_FROM_DOOR, &two_doors, "does not match");
	}
	/* The exact size still goes through after them. */
	make(&big.m, CHANNEL_EVENT);
	assert_true(channel_send(p->fd[0], &big, sizeof(struct channel_event)));
	assert_int_equal(channel_recv(p->fd[1], &msg), (ssize_t)sizeof(struct channel_event));
	assert_accepted(&msg, sizeof(struct channel_event), CHANNEL_FROM_DOOR, &two_doors,
	                CHANNEL_EVENT);
}

/*
 * channel_buffers(): the send buffer holds the largest packet with room to spare, and the
 * largest packet goes whole, also with a smaller one already queued before it (a key list sent
 * behind an event, as the door half does).
 */
static void
test_channel_buffers_LargestPacketFits(void **state)
{
	static union channel_msg sent;
	struct pair *p = *state;
	int size = 0;
	socklen_t n = sizeof(size);

	assert_int_equal(getsockopt(p->fd[0], SOL_SOCKET, SO_SNDBUF, &size, &n), 0);
	assert_true((unsigned int)size >= CHANNEL_SOCKBUF);
	assert_true(channel_buffers(p->fd[0])); /* again: nothing to raise, still true */
	assert_true(channel_send(p->fd[0], &sent, make(&sent, CHANNEL_EVENT)));
	for (int i = 0; i < 2; i++)
		assert_true(channel_send(p->fd[0], &sent, make(&sent, CHANNEL_KEYS)));
	assert_int_equal(channel_recv(p->fd[1], &msg), (ssize_t)sizeof(struct channel_event));
	for (int i = 0; i < 2; i++) {
		assert_int_equal(channel_recv(p->fd[1], &msg),
		                 (ssize_t)sizeof(struct channel_keys));
		assert_accepted(&msg, sizeof(struct channel_keys), CHANNEL_FROM_DOOR, &two_doors,
		                CHANNEL_KEYS);
	}
}

/* A packet shorter than a header is one packet too, and refused; a closed peer reads as 0. */
static void
test_channel_recv_ShortPacketAndClosedPeer(void **state)
{
	struct pair *p = *state;
	const unsigned char three[3] = {CHANNEL_CONNECTED, 0, 0};

	assert_true(channel_send(p->fd[0], three, sizeof(three)));
	assert_int_equal(channel_recv(p->fd[1], &msg), 3);
	assert_refused(&msg, 3, CHANNEL_FROM_NET, &two_doors, "does not match");
	close(p->fd[0]);
	p->fd[0] = -1;
	assert_int_equal(channel_recv(p->fd[1], &msg), 0);
	/* Sending to a closed peer fails without SIGPIPE. */
	make(&msg, CHANNEL_GOODBYE);
	assert_false(channel_send(p->fd[1], &msg, sizeof(struct channel_bare)));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_channel_check_EveryTypeFromItsSender),
	    cmocka_unit_test(test_channel_check_EveryTypeFromTheWrongSenderRefused),
	    cmocka_unit_test(test_channel_check_UnknownTypesRefused),
	    cmocka_unit_test(test_channel_check_EverySizeOffByOneRefused),
	    cmocka_unit_test(test_channel_check_ShorterThanAHeaderRefused),
	    cmocka_unit_test(test_channel_check_LongerThanMsgMaxRefused),
	    cmocka_unit_test(test_channel_check_HeaderLenMismatchRefused),
	    cmocka_unit_test(test_channel_check_CommandRetained),
	    cmocka_unit_test(test_channel_check_CommandPayloadLen),
	    cmocka_unit_test(test_channel_check_CommandDoorNeedsNul),
	    cmocka_unit_test(test_channel_check_CommandTopic),
	    cmocka_unit_test(test_channel_check_CommandAdminAndEnrollTopics),
	    cmocka_unit_test(test_channel_check_StateDoorIndex),
	    cmocka_unit_test(test_channel_check_StateStringNeedsNul),
	    cmocka_unit_test(test_channel_check_EventLen),
	    cmocka_unit_test(test_channel_check_KeysLen),
	    cmocka_unit_test(test_channel_check_NewKeyPem),
	    cmocka_unit_test(test_channel_check_NewCertFields),
	    cmocka_unit_test(test_channel_check_ConnectFailedNeedsNul),
	    cmocka_unit_test(test_channel_check_RenewalOp),
	    cmocka_unit_test(test_channel_check_StartFields),
	    cmocka_unit_test(test_channel_check_AcceptedMeansExactSizeAndSender),
	    cmocka_unit_test_setup_teardown(test_channel_recv_RoundTripEveryType, pair_setup,
	                                    pair_teardown),
	    cmocka_unit_test_setup_teardown(test_channel_recv_TooLongSeenAsTooLong, pair_setup,
	                                    pair_teardown),
	    cmocka_unit_test_setup_teardown(test_channel_buffers_LargestPacketFits, pair_setup,
	                                    pair_teardown),
	    cmocka_unit_test_setup_teardown(test_channel_recv_ShortPacketAndClosedPeer, pair_setup,
	                                    pair_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
