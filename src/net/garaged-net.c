/*
 * garaged-net: the network half's program (nethalf.c). The door half (src/door/garaged.c)
 * forks and executes it, as OpenBSD's daemons do their unprivileged parts: a fresh address
 * space with its own ASLR for the process that parses network input, no copy of the door
 * half's memory, and only the libraries the network half calls (no libgpiod, no libsodium).
 *
 * Its one argument is the channel, descriptor 3; its first packet is CHANNEL_START, which
 * carries the configuration. Run by hand, it says what it is and exits.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "channel.h"
#include "log.h"
#include "nethalf.h"

/* The door half sends CHANNEL_START right after the fork; the exec takes milliseconds. */
#define START_TIMEOUT_MS 10000

#define CHANNEL_FD 3

/* Whether descriptor 3 is a SOCK_SEQPACKET socket, as the door half leaves it. */
static bool
have_channel(void)
{
	int type = 0;
	socklen_t len = sizeof(type);

	return getsockopt(CHANNEL_FD, SOL_SOCKET, SO_TYPE, &type, &len) == 0 &&
	       type == SOCK_SEQPACKET;
}

/* The first packet: CHANNEL_START of this build, within START_TIMEOUT_MS. Exits otherwise. */
static void
receive_start(union channel_msg *m)
{
	const struct channel_limits lim = {.ndoors = CONFIG_MAX_DOORS};
	struct pollfd pfd = {.fd = CHANNEL_FD, .events = POLLIN};
	const char *why;
	ssize_t r;
	int rc;

	do
		rc = poll(&pfd, 1, START_TIMEOUT_MS);
	while (rc < 0 && errno == EINTR);
	if (rc < 0)
		log_fatal("waiting for the door half's START");
	if (rc == 0) {
		log_warnx("no START from the door half in %d ms", START_TIMEOUT_MS);
		_exit(1);
	}
	r = channel_recv(CHANNEL_FD, m);
	if (r <= 0) {
		log_warnx("the door half closed the channel before START");
		_exit(1);
	}
	if (channel_check(m, (size_t)r, CHANNEL_FROM_DOOR, &lim, &why) != CHANNEL_START) {
		log_warnx("the door half's first packet: %s", why != NULL ? why : "not START");
		_exit(CHANNEL_EXIT_FATAL);
	}
	if (strcmp(m->start.version, GARAGED_VERSION) != 0) {
		log_warnx(
		    "garaged %s started garaged-net %s: reinstall garaged, the two come as one",
		    m->start.version, GARAGED_VERSION);
		_exit(CHANNEL_EXIT_FATAL);
	}
}

int
main(int argc, char *argv[])
{
	/* static: nethalf_main() keeps a pointer into it for as long as it runs. */
	static union channel_msg m;
	uint32_t flags;

	(void)argv;
	/* stderr until START says how garaged logs. */
	log_init("garaged", true, false);
	log_set_process("net");
	if (argc != 1 || !have_channel()) {
		fprintf(stderr, "garaged-net is garaged's network half; garaged(8) starts it, with "
		                "its channel as descriptor 3\n");
		return 64;
	}
	receive_start(&m);
	flags = m.start.flags;
	log_init("garaged", (flags & CHANNEL_START_FOREGROUND) != 0,
	         (flags & CHANNEL_START_VERBOSE) != 0);
	/* The door half's death ends this one too: execve() keeps the parent-death signal the
	 * door half's child set after the fork; nethalf_main() sets it again where its change of
	 * user clears it. */
	nethalf_main(&m.start.cfg, CHANNEL_FD, (flags & CHANNEL_START_DROP) != 0,
	             (uid_t)m.start.uid, (gid_t)m.start.gid, (flags & CHANNEL_START_TRIAL) != 0);
}
