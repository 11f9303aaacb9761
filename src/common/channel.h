/*
 * channel: the channel between garaged's two processes (SPEC "Security model" 8).
 *
 * The door half (the process started: GPIO lines, authorized_keys, the verifier, the replay
 * window, the door state machines; no network socket) forks and executes the network half
 * (garaged-net: TLS, MQTT, mDNS; an unprivileged user, no_new_privs, a seccomp filter) and
 * talks to it over one SOCK_SEQPACKET socketpair, the network half's descriptor 3. Every message is
 * one packet of a fixed size: a header and, per type, a fixed layout. The door half checks the
 * exact size and the type of every packet and treats every byte of it as hostile: a command's
 * payload goes to the verifier as raw bytes, as if it had come from the broker itself. A packet of
 * a wrong size or an unknown type is a network half that is not ours any more: it is killed and
 * started again.
 *
 * It owns the message layouts, their framing (one packet, received whole or seen as too long)
 * and channel_check(), the one judge of a received packet that both halves call: the door half
 * (src/door/garaged.c) on what the network half says, the network half (src/net/nethalf.c) on
 * what the door half says.
 */
#ifndef GARAGED_CHANNEL_H
#define GARAGED_CHANNEL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cmd.h"
#include "config.h"
#include "event.h"

enum channel_type {
	CHANNEL_NONE = 0, /* channel_check(): not a packet to act on */
	/* network half -> door half */
	CHANNEL_CONNECTED = 1, /* the broker accepted the session: send the retained states again */
	CHANNEL_COMMAND,       /* a message on P/D/<door>/cmd, P/D/<door>/ha_cmd, P/D/admin or
	                          P/D/enroll (struct channel_command's topic says which) */
	CHANNEL_RUNNING,       /* once, when its privileges are gone and its filter is on */
	CHANNEL_NEW_KEY,       /* a renewal's new private key, for the door half to keep */
	CHANNEL_NEW_CERT,      /* a certificate for it that passed every check: install it */
	CHANNEL_CONNECT_FAILED, /* on trial with a renewed pair: an attempt the broker refused */
	/* door half -> network half */
	CHANNEL_STATE = 16, /* a door's retained state */
	CHANNEL_EVENT,      /* one audit event for P/D/events, or a count of those not sent */
	CHANNEL_GOODBYE,    /* publish retained "offline", disconnect cleanly, exit */
	CHANNEL_KEYS,       /* the public key list for P/D/keys (retained), the latest replacing */
	CHANNEL_RENEWAL,    /* a step of a certificate renewal (struct channel_renewal's op) */
	CHANNEL_START,      /* the first packet, and only then: the configuration to run with */
};

struct channel_hdr {
	uint32_t type; /* enum channel_type */
	uint32_t len;  /* of the whole packet, header included: sizeof the type's struct */
};

/* Which topic a command came on. */
enum channel_topic {
	CHANNEL_TOPIC_CMD = 0,    /* signed commands */
	CHANNEL_TOPIC_HA_CMD = 1, /* Home Assistant's plain words, with commands = unsigned */
	CHANNEL_TOPIC_ADMIN = 2,  /* P/D/admin: signed admin messages (cmd_admin.h); no door */
	CHANNEL_TOPIC_ENROLL = 3, /* P/D/enroll: enrollment requests; no door */
};

/*
 * One message as the broker delivered it, whichever topic it came on. Its payload buffer holds
 * the largest any of them may be (an enrollment request) and one byte more: a longer payload is
 * cut to CHANNEL_PAYLOAD_MAX bytes, which each verifier refuses as too_large like the whole,
 * since each limit is at most CMD_ENROLL_MAX_PAYLOAD.
 */
#define CHANNEL_PAYLOAD_MAX (CMD_ENROLL_MAX_PAYLOAD + 1U)
_Static_assert(CMD_MAX_PAYLOAD <= CMD_ENROLL_MAX_PAYLOAD &&
                   CMD_ADMIN_MAX_PAYLOAD <= CMD_ENROLL_MAX_PAYLOAD,
               "a cut payload must still be over every verifier's limit");

struct channel_command {
	struct channel_hdr hdr;
	uint8_t topic;    /* enum channel_topic */
	uint8_t retained; /* 0 or 1 */
	uint16_t len;     /* bytes of payload used, <= CHANNEL_PAYLOAD_MAX */
	/* The topic's door segment, NUL-terminated; empty when it was too long to be a door, and
	 * always empty for the admin and enroll topics, which name no door. */
	char door[CMD_NAME_MAX + 2];
	uint8_t payload[CHANNEL_PAYLOAD_MAX];
};

struct channel_state {
	struct channel_hdr hdr;
	uint32_t door; /* index into the configuration's doors */
	char state[16];
};

struct channel_event {
	struct channel_hdr hdr;
	uint32_t len; /* of json, < EVENT_MAX; 0: no event, only the count below */
	/* Events the door half could not send before this one (the channel was full): the network
	 * half adds them to its own count of events not published, and reports the sum. */
	uint32_t dropped;
	char json[EVENT_MAX];
};

/*
 * The key list's JSON (P/D/keys), as the door half made it from its keyring. It is published
 * whole in one MQTT packet, so its bound keeps that packet, with the longest topic a
 * configuration allows (a 64-byte prefix, a 32-byte device id), under the 16384 bytes of
 * max_packet_size that garagectl broker-config writes at least (tests/unit/test-keyfile.c,
 * LargestListFitsBrokerLimit); keyfile.h says what happens to a list that would not fit.
 */
#define CHANNEL_KEYS_MAX 16000U

struct channel_keys {
	struct channel_hdr hdr;
	uint32_t len; /* of json, < CHANNEL_KEYS_MAX */
	char json[CHANNEL_KEYS_MAX];
};

/*
 * A certificate renewal (docs/certificates.md) crosses the channel so that the network half,
 * which holds OpenSSL, makes and checks, and the door half, which holds state_dir, keeps: the new
 * private key goes to the door half (it never leaves the device), and so does the certificate
 * that the network half found good for it. PEM text, at most CHANNEL_PEM_MAX - 1 bytes (an RSA
 * key of 8192 bits fits), without a NUL.
 */
#define CHANNEL_PEM_MAX 8192U

/*
 * Where in [device] state_dir the door half keeps a renewal's new key while its certificate is
 * awaited, and where every new network half looks for it (before it drops its privileges).
 */
#define CHANNEL_PENDING_KEY_FILE "client.key.pending"
/* The renewed pair in use there (certstore.h), which each network half judges again. */
#define CHANNEL_RENEWED_PAIR_FILE "client.pem"

enum channel_trigger {
	CHANNEL_TRIGGER_EXPIRY = 0, /* the certificate is within [mqtt] renew_before_days */
	CHANNEL_TRIGGER_ADMIN = 1,  /* an admin key's signed renew */
};

struct channel_new_key {
	struct channel_hdr hdr;
	uint32_t trigger; /* enum channel_trigger */
	uint32_t len;     /* of pem: 1 to CHANNEL_PEM_MAX - 1 */
	char pem[CHANNEL_PEM_MAX];
};

struct channel_new_cert {
	struct channel_hdr hdr;
	uint32_t len;       /* of pem: 1 to CHANNEL_PEM_MAX - 1 */
	char serial[44];    /* upper-case hex, NUL-terminated, for the log and events */
	char not_after[24]; /* "2026-12-24T08:00:00Z", NUL-terminated */
	char pem[CHANNEL_PEM_MAX];
};

/* Why an attempt with a renewed pair on trial failed: the attempt's one warning line. */
#define CHANNEL_WHY_MAX 512U

struct channel_connect_failed {
	struct channel_hdr hdr;
	char why[CHANNEL_WHY_MAX]; /* NUL-terminated */
};

/* What CHANNEL_RENEWAL says. */
enum channel_renewal_op {
	CHANNEL_RENEWAL_START = 0,     /* an admin asked: make a new key and request */
	CHANNEL_RENEWAL_STORED,        /* the new key is in state_dir: publish the request */
	CHANNEL_RENEWAL_LOST,          /* it could not be stored: forget it */
	CHANNEL_RENEWAL_INSTALLED,     /* the certificate is in state_dir: clear P/D/csr, exit 0 */
	CHANNEL_RENEWAL_NOT_INSTALLED, /* it could not be installed: the request stands */
	CHANNEL_RENEWAL_OP_COUNT,
};

struct channel_renewal {
	struct channel_hdr hdr;
	uint32_t op; /* enum channel_renewal_op */
};

/*
 * CHANNEL_START: what a network half just executed needs to know (a fresh program has none of
 * the door half's memory): the configuration the door half read, with the certificate pair it
 * chose for this start, and how to run. VERSION and CONFIG_SIZE refuse a network half of
 * another build; the door half executes the file it opened at its own start, so a package
 * upgraded under a running garaged does not mix the two.
 */
struct channel_start {
	struct channel_hdr hdr;
	char version[32];     /* GARAGED_VERSION, NUL-terminated */
	uint32_t config_size; /* sizeof(struct config) */
	uint32_t flags;       /* CHANNEL_START_* */
	uint32_t uid, gid;    /* the user to become, with CHANNEL_START_DROP */
	struct config cfg;
};
#define CHANNEL_START_DROP       0x1U /* become uid/gid (else: already unprivileged) */
#define CHANNEL_START_TRIAL      0x2U /* cfg's pair is a renewal's first try */
#define CHANNEL_START_FOREGROUND 0x4U /* log to stderr (garaged -f) */
#define CHANNEL_START_VERBOSE    0x8U /* log debug lines (garaged -v) */
#define CHANNEL_START_FLAGS      0xfU

/* A header alone: CHANNEL_CONNECTED, CHANNEL_RUNNING and CHANNEL_GOODBYE. */
struct channel_bare {
	struct channel_hdr hdr;
};

/* The largest packet either side sends: receive buffers are one byte bigger, so that a
 * longer packet is seen as longer (MSG_TRUNC) and refused rather than cut to a fitting size. */
#define CHANNEL_MSG_MAX (sizeof(struct channel_keys))
_Static_assert(sizeof(struct channel_command) <= CHANNEL_MSG_MAX, "CHANNEL_MSG_MAX");
_Static_assert(sizeof(struct channel_state) <= CHANNEL_MSG_MAX, "CHANNEL_MSG_MAX");
_Static_assert(sizeof(struct channel_event) <= CHANNEL_MSG_MAX, "CHANNEL_MSG_MAX");
_Static_assert(sizeof(struct channel_new_key) <= CHANNEL_MSG_MAX, "CHANNEL_MSG_MAX");
_Static_assert(sizeof(struct channel_new_cert) <= CHANNEL_MSG_MAX, "CHANNEL_MSG_MAX");
_Static_assert(sizeof(struct channel_start) <= CHANNEL_MSG_MAX, "CHANNEL_MSG_MAX");

/* Any packet as received: aligned for every layout, one byte longer than the largest. */
union channel_msg {
	struct channel_hdr hdr;
	struct channel_bare bare;
	struct channel_command cmd;
	struct channel_state state;
	struct channel_event event;
	struct channel_keys keys;
	struct channel_new_key new_key;
	struct channel_new_cert new_cert;
	struct channel_connect_failed failed;
	struct channel_renewal renewal;
	struct channel_start start;
	unsigned char raw[CHANNEL_MSG_MAX + 1];
};

/* Who sent a packet: each side may send only its own types. */
enum channel_from {
	CHANNEL_FROM_NET,  /* the network half, judged by the door half */
	CHANNEL_FROM_DOOR, /* the door half, judged by the network half */
};

/* What the receiver's configuration allows, for the fields that depend on it. */
struct channel_limits {
	uint32_t ndoors;  /* a STATE names a door below this */
	bool ha_unsigned; /* a COMMAND may come from the ha_cmd topic */
	/* admin and enroll COMMANDs are always allowed: the network half always subscribes */
};

/*
 * Judges LEN bytes received in M (LEN as recv() with MSG_TRUNC returns it, so possibly more
 * than fit) from FROM: the exact size of its type, a type FROM may send, and every field in
 * range (counts within their arrays, strings NUL-terminated inside theirs). Returns the type,
 * or 0 with *why set to what was wrong (a phrase: "a malformed COMMAND message"). Pure: no
 * I/O, no state; what a packet means in context (RUNNING twice) is the caller's to judge.
 */
enum channel_type channel_check(const union channel_msg *m, size_t len, enum channel_from from,
                                const struct channel_limits *lim, const char **why);

/*
 * Receives one packet without blocking into M (zeroed first). Returns its size as sent (more
 * than CHANNEL_MSG_MAX when it was too long: give that to channel_check), 0 when the other
 * side has closed, or -1 with errno (EAGAIN: nothing waiting).
 */
ssize_t channel_recv(int fd, union channel_msg *m);

/*
 * The send buffer each end of a channel needs, so that a packet of CHANNEL_MSG_MAX bytes always
 * fits in one send (a SOCK_SEQPACKET send larger than the sender's SO_SNDBUF fails with
 * EMSGSIZE rather than waiting for room) with room for smaller ones queued with it.
 * channel_buffers() raises FD's SO_SNDBUF to it when the system's default (net.core.
 * wmem_default, 208 KiB on Linux) is smaller; false (errno set) when the kernel will not.
 */
#define CHANNEL_SOCKBUF (4U * CHANNEL_MSG_MAX)
bool channel_buffers(int fd);

/* Sends one packet without blocking. Returns true when all of it went. */
bool channel_send(int fd, const void *msg, size_t len);

/* The network half's exit code for a fault it cannot retry: a certificate or key TLS cannot
 * load, a user that does not exist. The door half then stops, as garaged did before the split. */
#define CHANNEL_EXIT_FATAL 78

#endif
