/*
 * privsep: the channel between garaged's two processes (SPEC "Security model" 8).
 *
 * The door half (the process started: GPIO lines, authorized_keys, the verifier, the replay
 * window, the door state machines; no network socket) forks the network half (TLS, MQTT,
 * mDNS; an unprivileged user, no_new_privs, a seccomp filter) and talks to it over one
 * SOCK_SEQPACKET socketpair. Every message is one packet of a fixed size: a header and, per
 * type, a fixed layout. The door half checks the exact size and the type of every packet
 * and treats every byte of it as hostile: a command's payload goes to the verifier as raw
 * bytes, as if it had come from the broker itself. A packet of a wrong size or an unknown
 * type is a network half that is not ours any more: it is killed and started again.
 *
 * It owns the message layouts and nothing else; garaged.c (the door half) and nethalf.c
 * (the network half) send and check them.
 */
#ifndef GARAGED_PRIVSEP_H
#define GARAGED_PRIVSEP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cmd.h"
#include "config.h"
#include "events.h"

enum ps_type {
	/* network half -> door half */
	PS_CONNECTED = 1, /* the broker accepted the session: send the retained states again */
	PS_COMMAND,       /* a message on P/D/<door>/cmd or P/D/<door>/ha_cmd */
	PS_RUNNING,       /* once, when its privileges are gone and its filter is on */
	/* door half -> network half */
	PS_STATE = 16, /* a door's retained state */
	PS_EVENT,      /* one audit event for P/D/events, or a count of those not sent */
	PS_GOODBYE,    /* publish retained "offline", disconnect cleanly, exit */
};

struct ps_hdr {
	uint32_t type; /* enum ps_type */
	uint32_t len;  /* of the whole packet, header included: sizeof the type's struct */
};

/* Which topic a command came on. */
enum ps_topic {
	PS_TOPIC_CMD = 0,    /* signed commands */
	PS_TOPIC_HA_CMD = 1, /* Home Assistant's plain words, with commands = unsigned */
};

/*
 * One command message as the broker delivered it. A payload longer than CMD_MAX_PAYLOAD is
 * cut to CMD_MAX_PAYLOAD + 1 bytes, which the verifier refuses as too_large like the whole.
 */
#define PS_PAYLOAD_MAX (CMD_MAX_PAYLOAD + 1U)

struct ps_command {
	struct ps_hdr hdr;
	uint8_t topic;    /* enum ps_topic */
	uint8_t retained; /* 0 or 1 */
	uint16_t len;     /* bytes of payload used, <= PS_PAYLOAD_MAX */
	/* The topic's door segment, NUL-terminated; empty when it was too long to be a door. */
	char door[CMD_NAME_MAX + 2];
	uint8_t payload[PS_PAYLOAD_MAX];
};

struct ps_state {
	struct ps_hdr hdr;
	uint32_t door; /* index into the configuration's doors */
	char state[16];
};

struct ps_event {
	struct ps_hdr hdr;
	uint32_t len; /* of json, < EVENT_MAX; 0: no event, only the count below */
	/* Events the door half could not send before this one (the channel was full): the network
	 * half adds them to its own count of events not published, and reports the sum. */
	uint32_t dropped;
	char json[EVENT_MAX];
};

/* A header alone: PS_CONNECTED, PS_RUNNING and PS_GOODBYE. */
struct ps_bare {
	struct ps_hdr hdr;
};

/* The largest packet either side sends: receive buffers are one byte bigger, so that a
 * longer packet is seen as longer (MSG_TRUNC) and refused rather than cut to a fitting size. */
#define PS_MSG_MAX (sizeof(struct ps_event))
_Static_assert(sizeof(struct ps_command) <= PS_MSG_MAX, "PS_MSG_MAX");
_Static_assert(sizeof(struct ps_state) <= PS_MSG_MAX, "PS_MSG_MAX");

/* The network half's exit code for a fault it cannot retry: a certificate or key TLS cannot
 * load, a user that does not exist. The door half then stops, as garaged did before the split. */
#define PS_EXIT_FATAL 78

/*
 * The network half: runs in the child forked by the door half, with CHANNEL its end of the
 * socketpair (every other descriptor closed). Never returns.
 */
_Noreturn void nethalf_main(const struct config *cfg, int channel, bool drop, uid_t uid, gid_t gid);

#endif
