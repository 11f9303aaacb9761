/*
 * channel: see channel.h. The checks are written once, here, so that the door half's judgement
 * of a network half that may no longer be ours and the network half's of the door half are the
 * same code, unit-tested and fuzzed as one pure function (tests/unit/test-channel.c,
 * tests/fuzz/fuzz-channel.c).
 */
#include "channel.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

static bool
nul_inside(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

/* PEM text of LEN bytes in P (a buffer of CHANNEL_PEM_MAX): 1 to CHANNEL_PEM_MAX - 1 bytes, no
 * NUL among them. What the text says is for the receiver to judge. */
static bool
pem_valid(const char *p, uint32_t len)
{
	return len > 0 && len < CHANNEL_PEM_MAX && memchr(p, '\0', len) == NULL;
}

/* A COMMAND's topic kind, and its door segment as that topic can have one. */
static bool
topic_allowed(const struct channel_command *c, const struct channel_limits *lim)
{
	switch (c->topic) {
	case CHANNEL_TOPIC_CMD:
		return true;
	case CHANNEL_TOPIC_HA_CMD:
		return lim->ha_unsigned;
	case CHANNEL_TOPIC_ADMIN:
	case CHANNEL_TOPIC_ENROLL:
		/* P/D/admin and P/D/enroll have no door segment to pass on. */
		return c->door[0] == '\0';
	default:
		return false;
	}
}

static enum channel_type
from_net(const union channel_msg *m, size_t len, const struct channel_limits *lim, const char **why)
{
	const struct channel_command *c = &m->cmd;

	switch (m->hdr.type) {
	case CHANNEL_CONNECTED:
		if (len != sizeof(struct channel_bare)) {
			*why = "a CONNECTED message of a wrong size";
			return CHANNEL_NONE;
		}
		return CHANNEL_CONNECTED;
	case CHANNEL_RUNNING:
		if (len != sizeof(struct channel_bare)) {
			*why = "a RUNNING message of a wrong size";
			return CHANNEL_NONE;
		}
		return CHANNEL_RUNNING;
	case CHANNEL_COMMAND:
		if (len != sizeof(*c) || c->retained > 1 || c->len > CHANNEL_PAYLOAD_MAX ||
		    !nul_inside(c->door, sizeof(c->door)) || !topic_allowed(c, lim)) {
			*why = "a malformed COMMAND message";
			return CHANNEL_NONE;
		}
		return CHANNEL_COMMAND;
	case CHANNEL_NEW_KEY:
		if (len != sizeof(m->new_key) || m->new_key.trigger > CHANNEL_TRIGGER_ADMIN ||
		    !pem_valid(m->new_key.pem, m->new_key.len)) {
			*why = "a malformed NEW_KEY message";
			return CHANNEL_NONE;
		}
		return CHANNEL_NEW_KEY;
	case CHANNEL_NEW_CERT:
		if (len != sizeof(m->new_cert) || !pem_valid(m->new_cert.pem, m->new_cert.len) ||
		    !nul_inside(m->new_cert.serial, sizeof(m->new_cert.serial)) ||
		    !nul_inside(m->new_cert.not_after, sizeof(m->new_cert.not_after))) {
			*why = "a malformed NEW_CERT message";
			return CHANNEL_NONE;
		}
		return CHANNEL_NEW_CERT;
	case CHANNEL_CONNECT_FAILED:
		if (len != sizeof(m->failed) || !nul_inside(m->failed.why, sizeof(m->failed.why))) {
			*why = "a malformed CONNECT_FAILED message";
			return CHANNEL_NONE;
		}
		return CHANNEL_CONNECT_FAILED;
	default:
		*why = "a message of an unknown type";
		return CHANNEL_NONE;
	}
}

static enum channel_type
from_door(const union channel_msg *m, size_t len, const struct channel_limits *lim,
          const char **why)
{
	switch (m->hdr.type) {
	case CHANNEL_STATE:
		if (len != sizeof(m->state) || m->state.door >= lim->ndoors ||
		    !nul_inside(m->state.state, sizeof(m->state.state))) {
			*why = "a malformed STATE message";
			return CHANNEL_NONE;
		}
		return CHANNEL_STATE;
	case CHANNEL_EVENT:
		if (len != sizeof(m->event) || m->event.len >= EVENT_MAX) {
			*why = "a malformed EVENT message";
			return CHANNEL_NONE;
		}
		return CHANNEL_EVENT;
	case CHANNEL_GOODBYE:
		if (len != sizeof(struct channel_bare)) {
			*why = "a GOODBYE message of a wrong size";
			return CHANNEL_NONE;
		}
		return CHANNEL_GOODBYE;
	case CHANNEL_KEYS:
		if (len != sizeof(m->keys) || m->keys.len >= CHANNEL_KEYS_MAX) {
			*why = "a malformed KEYS message";
			return CHANNEL_NONE;
		}
		return CHANNEL_KEYS;
	case CHANNEL_RENEWAL:
		if (len != sizeof(m->renewal) || m->renewal.op >= CHANNEL_RENEWAL_OP_COUNT) {
			*why = "a malformed RENEWAL message";
			return CHANNEL_NONE;
		}
		return CHANNEL_RENEWAL;
	case CHANNEL_START:
		/* The version is the caller's to compare: here, only that it is a string. */
		if (len != sizeof(m->start) || m->start.config_size != sizeof(struct config) ||
		    !nul_inside(m->start.version, sizeof(m->start.version)) ||
		    (m->start.flags & ~CHANNEL_START_FLAGS) != 0 ||
		    m->start.cfg.ndoors > CONFIG_MAX_DOORS ||
		    m->start.cfg.nbrokers > CONFIG_MAX_BROKERS) {
			*why = "a malformed START message (a network half of another build?)";
			return CHANNEL_NONE;
		}
		return CHANNEL_START;
	default:
		*why = "a message of an unknown type";
		return CHANNEL_NONE;
	}
}

enum channel_type
channel_check(const union channel_msg *m, size_t len, enum channel_from from,
              const struct channel_limits *lim, const char **why)
{
	*why = NULL;
	/* The header's length must be what arrived: a packet cut short, or longer than any
	 * layout (MSG_TRUNC reports its whole size), is refused before its type is read. */
	if (len < sizeof(m->hdr) || len > CHANNEL_MSG_MAX || m->hdr.len != len) {
		*why = "a message whose size does not match its header";
		return CHANNEL_NONE;
	}
	return from == CHANNEL_FROM_NET ? from_net(m, len, lim, why) : from_door(m, len, lim, why);
}

ssize_t
channel_recv(int fd, union channel_msg *m)
{
	memset(m, 0, sizeof(*m));
	return recv(fd, m, sizeof(*m), MSG_DONTWAIT | MSG_TRUNC);
}

bool
channel_buffers(int fd)
{
	int size = 0;
	socklen_t n = sizeof(size);

	if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, &n) != 0)
		return false;
	if ((unsigned int)size >= CHANNEL_SOCKBUF)
		return true;
	/* Capped at net.core.wmem_max; Linux reports twice what it was asked for. */
	size = (int)CHANNEL_SOCKBUF;
	n = sizeof(size);
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size)) != 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, &n) != 0)
		return false;
	if ((unsigned int)size < CHANNEL_SOCKBUF) {
		errno = ENOBUFS;
		return false;
	}
	return true;
}

bool
channel_send(int fd, const void *msg, size_t len)
{
	return send(fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t)len;
}
