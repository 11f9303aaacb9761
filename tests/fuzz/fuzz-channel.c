/*
 * fuzz-channel: channel_check() (src/common/channel.c), the judge of every packet one half of
 * garaged receives from the other, on arbitrary bytes.
 *
 * The door half runs it on what a network half that may have been taken over sends; the
 * network half on what the door half sends. What they do with an accepted packet is what this
 * checks: the packet is exactly its type's size (so every field the receiver reads arrived),
 * its type is one its sender may send, its strings end with a NUL inside their arrays (door,
 * state, a renewal's serial, date and reason: printed and published with strlen()), its counts
 * are inside their arrays (cmd.len, event.len, keys.len, a renewal's pem len: that many bytes
 * are copied; a key's or certificate's PEM has no NUL among them, since it goes to a file as
 * it is), its door index inside the doors (state.door), its renewal trigger and step known,
 * and a command from P/D/admin or P/D/enroll names no door.
 * Beyond those invariants, the verdict must be that of a model written from channel.h's
 * comments, so that a check that refuses too much is found as well as one that refuses too
 * little; a refusal gives a phrase of one line; and judging neither writes the packet nor
 * depends on anything but its arguments.
 *
 * Input: byte 0 says who sent it (bit 0: the door half) and what the receiver allows (bit 1:
 * ha_cmd commands); bit 2 sets the header's len to the packet's size, so that mutations reach
 * the checks of the fields without first having to find it. Byte 1 is the receiver's number of
 * doors (255: UINT32_MAX). The rest is the packet as recv() with MSG_TRUNC reports it: its
 * size is the rest's size even beyond the receive buffer, of which the first bytes are what
 * the buffer holds, zeroed behind them as channel_recv() zeroes it.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "channel.h"
#include "fuzz.h"

static union channel_msg msg, copy;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static uint32_t
u32_at(size_t off)
{
	uint32_t v;

	memcpy(&v, (const unsigned char *)&msg + off, sizeof(v));
	return v;
}

static bool
has_nul(size_t off, size_t size)
{
	return memchr((const unsigned char *)&msg + off, '\0', size) != NULL;
}

/* PEM text of N bytes at OFF (an array of CHANNEL_PEM_MAX): 1 to CHANNEL_PEM_MAX - 1 of them,
 * none a NUL. */
static bool
pem_ok(size_t off, uint32_t n)
{
	return n >= 1 && n < CHANNEL_PEM_MAX &&
	       memchr((const unsigned char *)&msg + off, '\0', n) == NULL;
}

/*
 * The verdict, from channel.h's words rather than channel.c's code: fields read at their
 * offsets from the bytes received.
 */
static enum channel_type
model(size_t len, enum channel_from from, const struct channel_limits *lim)
{
	uint32_t type;

	if (len < sizeof(struct channel_hdr) || len > CHANNEL_MSG_MAX)
		return CHANNEL_NONE;
	type = u32_at(offsetof(struct channel_hdr, type));
	if (u32_at(offsetof(struct channel_hdr, len)) != len)
		return CHANNEL_NONE;
	if (from == CHANNEL_FROM_NET) {
		switch (type) {
		case CHANNEL_CONNECTED:
		case CHANNEL_RUNNING:
			return len == sizeof(struct channel_bare) ? (enum channel_type)type
			                                          : CHANNEL_NONE;
		case CHANNEL_COMMAND: {
			uint16_t plen;
			uint8_t topic = msg.raw[offsetof(struct channel_command, topic)];
			uint8_t retained = msg.raw[offsetof(struct channel_command, retained)];

			memcpy(&plen, msg.raw + offsetof(struct channel_command, len),
			       sizeof(plen));
			if (len != sizeof(struct channel_command) || retained > 1 ||
			    plen > CHANNEL_PAYLOAD_MAX ||
			    !has_nul(offsetof(struct channel_command, door), sizeof(msg.cmd.door)))
				return CHANNEL_NONE;
			if (topic == CHANNEL_TOPIC_CMD ||
			    (topic == CHANNEL_TOPIC_HA_CMD && lim->ha_unsigned))
				return CHANNEL_COMMAND;
			/* Their topics have no door segment: always heard, never with a door. */
			if ((topic == CHANNEL_TOPIC_ADMIN || topic == CHANNEL_TOPIC_ENROLL) &&
			    msg.raw[offsetof(struct channel_command, door)] == '\0')
				return CHANNEL_COMMAND;
			return CHANNEL_NONE;
		}
		case CHANNEL_NEW_KEY:
			if (len != sizeof(struct channel_new_key) ||
			    u32_at(offsetof(struct channel_new_key, trigger)) >
			        CHANNEL_TRIGGER_ADMIN ||
			    !pem_ok(offsetof(struct channel_new_key, pem),
			            u32_at(offsetof(struct channel_new_key, len))))
				return CHANNEL_NONE;
			return CHANNEL_NEW_KEY;
		case CHANNEL_NEW_CERT:
			if (len != sizeof(struct channel_new_cert) ||
			    !pem_ok(offsetof(struct channel_new_cert, pem),
			            u32_at(offsetof(struct channel_new_cert, len))) ||
			    !has_nul(offsetof(struct channel_new_cert, serial),
			             sizeof(msg.new_cert.serial)) ||
			    !has_nul(offsetof(struct channel_new_cert, not_after),
			             sizeof(msg.new_cert.not_after)))
				return CHANNEL_NONE;
			return CHANNEL_NEW_CERT;
		case CHANNEL_CONNECT_FAILED:
			if (len != sizeof(struct channel_connect_failed) ||
			    !has_nul(offsetof(struct channel_connect_failed, why),
			             sizeof(msg.failed.why)))
				return CHANNEL_NONE;
			return CHANNEL_CONNECT_FAILED;
		default:
			return CHANNEL_NONE;
		}
	}
	switch (type) {
	case CHANNEL_GOODBYE:
		return len == sizeof(struct channel_bare) ? CHANNEL_GOODBYE : CHANNEL_NONE;
	case CHANNEL_STATE:
		if (len != sizeof(struct channel_state) ||
		    u32_at(offsetof(struct channel_state, door)) >= lim->ndoors ||
		    !has_nul(offsetof(struct channel_state, state), sizeof(msg.state.state)))
			return CHANNEL_NONE;
		return CHANNEL_STATE;
	case CHANNEL_EVENT:
		if (len != sizeof(struct channel_event) ||
		    u32_at(offsetof(struct channel_event, len)) >= EVENT_MAX)
			return CHANNEL_NONE;
		return CHANNEL_EVENT;
	case CHANNEL_KEYS:
		if (len != sizeof(struct channel_keys) ||
		    u32_at(offsetof(struct channel_keys, len)) >= CHANNEL_KEYS_MAX)
			return CHANNEL_NONE;
		return CHANNEL_KEYS;
	case CHANNEL_RENEWAL:
		if (len != sizeof(struct channel_renewal) ||
		    u32_at(offsetof(struct channel_renewal, op)) >= CHANNEL_RENEWAL_OP_COUNT)
			return CHANNEL_NONE;
		return CHANNEL_RENEWAL;
	case CHANNEL_START:
		if (len != sizeof(struct channel_start) ||
		    u32_at(offsetof(struct channel_start, config_size)) != sizeof(struct config) ||
		    memchr((const unsigned char *)&msg + offsetof(struct channel_start, version),
		           '\0', sizeof(msg.start.version)) == NULL ||
		    u32_at(offsetof(struct channel_start, flags)) > CHANNEL_START_FLAGS ||
		    msg.start.cfg.ndoors > CONFIG_MAX_DOORS ||
		    msg.start.cfg.nbrokers > CONFIG_MAX_BROKERS)
			return CHANNEL_NONE;
		return CHANNEL_START;
	default:
		return CHANNEL_NONE;
	}
}

/* What a receiver reads of an accepted packet, checked as it reads it. */
static void
check_accepted(enum channel_type t, size_t len, enum channel_from from,
               const struct channel_limits *lim)
{
	FUZZ_CHECK(msg.hdr.type == (uint32_t)t);
	FUZZ_CHECK(msg.hdr.len == len);
	switch (t) {
	case CHANNEL_CONNECTED:
	case CHANNEL_RUNNING:
		FUZZ_CHECK(from == CHANNEL_FROM_NET);
		FUZZ_CHECK(len == sizeof(struct channel_bare));
		break;
	case CHANNEL_COMMAND:
		FUZZ_CHECK(from == CHANNEL_FROM_NET);
		FUZZ_CHECK(len == sizeof(struct channel_command));
		FUZZ_CHECK(msg.cmd.len <= sizeof(msg.cmd.payload));
		FUZZ_CHECK(msg.cmd.retained <= 1);
		FUZZ_CHECK(strnlen(msg.cmd.door, sizeof(msg.cmd.door)) < sizeof(msg.cmd.door));
		FUZZ_CHECK(msg.cmd.topic == CHANNEL_TOPIC_CMD ||
		           (msg.cmd.topic == CHANNEL_TOPIC_HA_CMD && lim->ha_unsigned) ||
		           ((msg.cmd.topic == CHANNEL_TOPIC_ADMIN ||
		             msg.cmd.topic == CHANNEL_TOPIC_ENROLL) &&
		            msg.cmd.door[0] == '\0'));
		break;
	case CHANNEL_STATE:
		FUZZ_CHECK(from == CHANNEL_FROM_DOOR);
		FUZZ_CHECK(len == sizeof(struct channel_state));
		FUZZ_CHECK(msg.state.door < lim->ndoors);
		FUZZ_CHECK(strnlen(msg.state.state, sizeof(msg.state.state)) <
		           sizeof(msg.state.state));
		break;
	case CHANNEL_EVENT:
		FUZZ_CHECK(from == CHANNEL_FROM_DOOR);
		FUZZ_CHECK(len == sizeof(struct channel_event));
		FUZZ_CHECK(msg.event.len < sizeof(msg.event.json));
		break;
	case CHANNEL_GOODBYE:
		FUZZ_CHECK(from == CHANNEL_FROM_DOOR);
		FUZZ_CHECK(len == sizeof(struct channel_bare));
		break;
	case CHANNEL_KEYS:
		FUZZ_CHECK(from == CHANNEL_FROM_DOOR);
		FUZZ_CHECK(len == sizeof(struct channel_keys));
		FUZZ_CHECK(msg.keys.len < sizeof(msg.keys.json));
		break;
	case CHANNEL_NEW_KEY:
		FUZZ_CHECK(from == CHANNEL_FROM_NET);
		FUZZ_CHECK(len == sizeof(struct channel_new_key));
		FUZZ_CHECK(msg.new_key.len >= 1 && msg.new_key.len < sizeof(msg.new_key.pem));
		FUZZ_CHECK(strnlen(msg.new_key.pem, msg.new_key.len) == msg.new_key.len);
		FUZZ_CHECK(msg.new_key.trigger <= CHANNEL_TRIGGER_ADMIN);
		break;
	case CHANNEL_NEW_CERT:
		FUZZ_CHECK(from == CHANNEL_FROM_NET);
		FUZZ_CHECK(len == sizeof(struct channel_new_cert));
		FUZZ_CHECK(msg.new_cert.len >= 1 && msg.new_cert.len < sizeof(msg.new_cert.pem));
		FUZZ_CHECK(strnlen(msg.new_cert.pem, msg.new_cert.len) == msg.new_cert.len);
		FUZZ_CHECK(strnlen(msg.new_cert.serial, sizeof(msg.new_cert.serial)) <
		           sizeof(msg.new_cert.serial));
		FUZZ_CHECK(strnlen(msg.new_cert.not_after, sizeof(msg.new_cert.not_after)) <
		           sizeof(msg.new_cert.not_after));
		break;
	case CHANNEL_CONNECT_FAILED:
		FUZZ_CHECK(from == CHANNEL_FROM_NET);
		FUZZ_CHECK(len == sizeof(struct channel_connect_failed));
		FUZZ_CHECK(strnlen(msg.failed.why, sizeof(msg.failed.why)) <
		           sizeof(msg.failed.why));
		break;
	case CHANNEL_RENEWAL:
		FUZZ_CHECK(from == CHANNEL_FROM_DOOR);
		FUZZ_CHECK(len == sizeof(struct channel_renewal));
		FUZZ_CHECK(msg.renewal.op < CHANNEL_RENEWAL_OP_COUNT);
		break;
	case CHANNEL_START:
		FUZZ_CHECK(from == CHANNEL_FROM_DOOR);
		FUZZ_CHECK(len == sizeof(struct channel_start));
		FUZZ_CHECK(strnlen(msg.start.version, sizeof(msg.start.version)) <
		           sizeof(msg.start.version));
		FUZZ_CHECK(msg.start.cfg.ndoors <= CONFIG_MAX_DOORS);
		FUZZ_CHECK(msg.start.cfg.nbrokers <= CONFIG_MAX_BROKERS);
		break;
	default:
		FUZZ_CHECK(!"channel_check() returned a type that is none of channel.h's");
	}
}

/* A phrase for "the door half sent %s": one line of printable text. */
static void
check_why(const char *why)
{
	FUZZ_CHECK(why != NULL);
	FUZZ_CHECK(why[0] != '\0');
	for (const char *c = why; *c != '\0'; c++)
		FUZZ_CHECK(*c >= 0x20 && *c < 0x7f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum channel_from from, other;
	struct channel_limits lim;
	enum channel_type t;
	const char *why = "not set";
	size_t len;

	if (size < 2)
		return 0;
	from = (data[0] & 1) ? CHANNEL_FROM_DOOR : CHANNEL_FROM_NET;
	other = from == CHANNEL_FROM_NET ? CHANNEL_FROM_DOOR : CHANNEL_FROM_NET;
	lim.ha_unsigned = (data[0] & 2) != 0;
	lim.ndoors = data[1] == 0xff ? UINT32_MAX : data[1];
	len = size - 2;
	memset(&msg, 0, sizeof(msg));
	memcpy(&msg, data + 2, len < sizeof(msg) ? len : sizeof(msg));
	if ((data[0] & 4) && len >= sizeof(struct channel_hdr))
		msg.hdr.len = (uint32_t)len;
	memcpy(&copy, &msg, sizeof(msg));

	t = channel_check(&msg, len, from, &lim, &why);
	FUZZ_CHECK(memcmp(&msg, &copy, sizeof(msg)) == 0);
	FUZZ_CHECK(t == model(len, from, &lim));
	if (t == CHANNEL_NONE) {
		check_why(why);
	} else {
		FUZZ_CHECK(why == NULL);
		check_accepted(t, len, from, &lim);
		/* Each half's types are its own: what one may send, the other may not. */
		FUZZ_CHECK(channel_check(&msg, len, other, &lim, &why) == CHANNEL_NONE);
		check_why(why);
	}
	/* The same bytes, the same verdict: nothing carried over from one packet to the next. */
	FUZZ_CHECK(channel_check(&msg, len, from, &lim, &why) == t);
	FUZZ_CHECK(memcmp(&msg, &copy, sizeof(msg)) == 0);
	return 0;
}
