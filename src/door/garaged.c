/*
 * garaged: the daemon's door half and main(). It owns the process (arguments, signals, the
 * poll loop) and the privileged part of the job: the configuration (config.c), the doors
 * (doors.c: hardware, state machine, relay timing), the command verifier (src/core/cmd.c,
 * with keys from authkeys.c) and the audit trail (events.c). It has no network socket and
 * links no TLS library: it forks and executes the network half (garaged-net: nethalf.c,
 * channel.h), which holds the broker connection, runs as an unprivileged user in a seccomp
 * sandbox, and is restarted with backoff when it dies.
 *
 * A message from the network half is hostile bytes: a packet of the wrong size or type kills
 * it, and a command's payload is raw bytes with a retained flag until the core's verifier
 * says otherwise; only a verified command reaches a door (handle_command()), and only a
 * verified admin message or enrollment request changes authorized_keys (handle_admin(),
 * handle_enroll(), keyfile.c).
 *
 * It keeps the certificate renewal's files (certstore.c, docs/certificates.md) and decides
 * which pair each network half uses: the network half makes the new key and checks the new
 * certificate, and the door half makes sure that no pair it installs can strand the device. A
 * renewed pair is on trial until its first connection; the broker refusing it TRIAL_ATTEMPTS
 * times, or a network half that cannot load it, gives it up for the pair before it.
 *
 * One thread, one ppoll(2) over the channel to the network half, a signalfd and one descriptor
 * per door backend, with a timeout at the earliest deadline of anything (relay release, sensor
 * debounce, travel timeout, the network half's restart). Nothing wakes it but those.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "authkeys.h"
#include "caps.h"
#include "certstore.h"
#include "cmd.h"
#include "cmd_replay.h"
#include "config.h"
#include "door.h"
#include "driver.h"
#include "enroll.h"
#include "event.h"
#include "invites.h"
#include "log.h"
#include "notify.h"
#include "timer.h"
#include "channel.h"
#include "keyfile.h"
#include "sig_sodium.h"
#include "stage.h"
#include "state.h"

/* How long the network half gets to say goodbye at SIGTERM before it is killed. */
#define GOODBYE_WAIT_MS 3000U
/* Its restart backoff: 1 s doubling to a minute, back to 1 s after a minute of life. */
#define RESTART_MIN_MS    1000U
#define RESTART_MAX_MS    60000U
#define RESTART_STABLE_MS 60000U
/*
 * A network half that dies this many times in a row, each within RESTART_STABLE_MS of its
 * start, will not run here: garaged exits 1, so that systemd restarts it and, when that does
 * not help either, shows the service as failed instead of as a healthy one that is offline.
 */
#define RESTART_GIVE_UP 5U
/* How many refusals by the broker (or quick deaths) a renewed pair on trial gets. */
#define TRIAL_ATTEMPTS 5U
/* How long a network half told to go for a renewal gets before it is killed. */
#define RENEW_EXIT_WAIT_MS 3000U

struct door_entry {
	struct driver gd;
};

struct garaged {
	struct config cfg;
	struct door_entry doors[CONFIG_MAX_DOORS];
	size_t ndoors;
	struct cmd_keyring keys;
	struct cmd_verifier verifier;
	struct state state;     /* what save_state() writes to [device] state_dir, and reads back */
	struct invites invites; /* the invitations that enrolled a key, kept in state_dir too */
	int sfd;
	bool stop;
	/* The network half: its pid (0 when none), the door half's end of the channel (-1 when
	 * none), when it started, and when the next one starts (UINT64_MAX: none due). */
	pid_t child;
	int chan;
	uint64_t child_started;
	uint64_t restart_at;
	uint64_t backoff_ms;
	/* Whether the current network half said CHANNEL_RUNNING; whether one ever did (systemd has
	 * had READY=1); how many died in a row soon after their start. */
	bool child_running;
	bool child_hostile; /* killed by hostile(): not a failure to start or to run */
	bool ready;
	unsigned quick_deaths;
	/* The network half's program (garaged-net), opened at start (O_PATH), and how this
	 * process logs, which START passes on. */
	int net_exe;
	bool foreground, verbose;
	/* The user the network half becomes; drop is false when garaged cannot change user. */
	bool drop;
	uid_t uid;
	gid_t gid;
	/* The certificate renewal (certstore.h): the pair the next network half uses and, when it
	 * is a renewed one, its file, which START gives as certfile and keyfile; the broker's
	 * refusals of a pair on trial so far and the last one's line; whether the network half was
	 * told to go for a renewal (then it starts again at once, which is no failure) and when
	 * it is killed if it has not gone by then; a pair given up that could not be moved aside,
	 * which is then not used again by this process. */
	enum certstore_pair pair;
	char pair_path[CONFIG_PATH_MAX];
	unsigned trial_refusals;
	char trial_why[CHANNEL_WHY_MAX];
	bool renew_restart;
	uint64_t renew_kill_at;
	bool avoid_trial, avoid_renewed;
	/* A renewed pair whose network half could not start: set aside (avoid_*) but not given up
	 * until a network half starts with the pair before it (running()). A cafile or a
	 * password_file that cannot be read fails every pair, and must not cost the renewed one. */
	bool suspect_trial, suspect_renewed;
	/* A renewal event made while no network half could publish it (a pair given up: the
	 * one that failed is going), sent at the next one's CONNECTED; already logged. */
	char renew_later[EVENT_MAX];
	size_t renew_later_len;
};

/*
 * After a job that needed large buffers for a while (loading authorized_keys or the state,
 * changing a key, a network half's START, a renewal's files): the heap's free pages go back to
 * the system, so that what a rare job used does not stay resident for the rest of the run
 * (free() alone keeps up to 128 KiB at the top of the heap, and every free page below it).
 * Never on the way from a command to a relay, nor for a message whose signature failed: it walks
 * the heap and makes system calls.
 */
static void
give_back_memory(void)
{
	(void)malloc_trim(0);
}

static void
usage(void)
{
	fprintf(stderr, "usage: garaged -c FILE [-f] [-v]\n"
	                "       garaged -c FILE --check-config\n"
	                "       garaged --version\n");
	exit(1);
}

/*
 * What goes to the network half. A full channel is no reason to lose a state: each door's is
 * marked due and sent, as the door is at that moment, as soon as the channel has room (the
 * poll loop waits for POLLOUT meanwhile), so the latest state always gets out and a passing
 * one may be skipped, as on the retained topic itself. Events wait in a short queue; one that
 * does not fit is counted, and the count goes to the network half when there is room again,
 * which reports it with its own in an "events_dropped" event (nethalf.c). Every event is in
 * the log whatever happens to it on the way.
 */
#define CHAN_EVENTS 32U
/* At SIGTERM, how long the last states may wait for room before GOODBYE goes anyway. */
#define CHAN_GOODBYE_WAIT_MS 1000

static struct {
	bool state_due[CONFIG_MAX_DOORS];
	bool keys_due; /* keys_out, after the states and before the events */
	struct channel_event events[CHAN_EVENTS];
	size_t head, count;
	uint64_t dropped;
} chan_out;

/* The latest key list for P/D/keys (publish_keys()): kept whole, a new network half gets it. */
static struct channel_keys keys_out;

static struct log_limit chan_full_limit =
    LOG_LIMIT_INIT("the channel to the network half was full");
static struct log_limit chan_error_limit = LOG_LIMIT_INIT("sending to the network half failed");

/* One packet to the network half: false when the channel has no room now. With no network
 * half (or one that is gone), there is nobody to tell: true, and nothing sent. */
static bool
send_packet(struct garaged *g, const void *msg, size_t len)
{
	if (g->chan < 0)
		return true;
	if (channel_send(g->chan, msg, len))
		return true;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return false;
	/* EPIPE, ECONNRESET: it died, and SIGCHLD brings a new one. */
	log_warnx_limited(&chan_error_limit, "sending to the network half: %s", strerror(errno));
	return true;
}

/* Whether anything waits for room on the channel (the poll loop then asks for POLLOUT). */
static bool
chan_pending(const struct garaged *g)
{
	size_t i;

	if (g->chan < 0)
		return false;
	for (i = 0; i < g->ndoors; i++)
		if (chan_out.state_due[i])
			return true;
	return chan_out.keys_due || chan_out.count > 0 || chan_out.dropped > 0;
}

/* Whatever is due, states first, while the channel takes it. */
static void
chan_flush(struct garaged *g)
{
	static struct channel_event count; /* 1 KiB: off the stack */
	struct channel_state m;
	size_t i;

	/* The door half's limited warnings say their summaries here, at its next message: it
	 * keeps no timer for them. */
	log_limit_tick();

	if (g->chan < 0) {
		/* No network half: the next one asks for every state when it connects. Only the
		 * marks and counts: the events' 32 KiB are not read past count, and a memset would
		 * make all of their pages resident for good. */
		memset(chan_out.state_due, 0, sizeof(chan_out.state_due));
		chan_out.keys_due = false;
		chan_out.head = 0;
		chan_out.count = 0;
		chan_out.dropped = 0;
		return;
	}
	for (i = 0; i < g->ndoors; i++) {
		if (!chan_out.state_due[i])
			continue;
		memset(&m, 0, sizeof(m));
		m.hdr.type = CHANNEL_STATE;
		m.hdr.len = sizeof(m);
		m.door = (uint32_t)i;
		snprintf(m.state, sizeof(m.state), "%s",
		         door_state_name(g->doors[i].gd.door.state));
		if (!send_packet(g, &m, sizeof(m)))
			return;
		chan_out.state_due[i] = false;
	}
	if (chan_out.keys_due) {
		if (!send_packet(g, &keys_out, sizeof(keys_out)))
			return;
		chan_out.keys_due = false;
	}
	while (chan_out.count > 0) {
		if (!send_packet(g, &chan_out.events[chan_out.head], sizeof(struct channel_event)))
			return;
		chan_out.head = (chan_out.head + 1) % CHAN_EVENTS;
		chan_out.count--;
	}
	/* Emptied: the next event goes to the first slot again, so that a channel that always
	 * has room uses one slot, and the pages of the others are never touched. */
	chan_out.head = 0;
	if (chan_out.dropped > 0) {
		memset(&count, 0, sizeof(count));
		count.hdr.type = CHANNEL_EVENT;
		count.hdr.len = sizeof(count);
		count.dropped =
		    chan_out.dropped > UINT32_MAX ? UINT32_MAX : (uint32_t)chan_out.dropped;
		if (send_packet(g, &count, sizeof(count)))
			chan_out.dropped -= count.dropped;
	}
}

/* To the network half, when there is one: an event or a state through the queue above, a
 * GOODBYE after the last states (waiting a little for room, since nothing comes after it). */
static void
send_child(struct garaged *g, const void *msg, size_t len)
{
	const struct channel_hdr *hdr = msg;
	struct pollfd pfd = {.fd = g->chan, .events = POLLOUT};
	uint64_t deadline = timer_now_ms() + CHAN_GOODBYE_WAIT_MS;

	if (hdr->type == CHANNEL_GOODBYE) {
		while (chan_pending(g) && timer_now_ms() < deadline) {
			chan_flush(g);
			if (chan_pending(g) && poll(&pfd, 1, 50) < 0 && errno != EINTR)
				break;
		}
	}
	if (!send_packet(g, msg, len))
		log_warnx("the channel to the network half is full: %s not sent",
		          hdr->type == CHANNEL_GOODBYE ? "GOODBYE" : "a message");
}

static void
publish_state(struct garaged *g, struct door_entry *d)
{
	chan_out.state_due[d - g->doors] = true;
	chan_flush(g);
}

/*
 * The public key list of the keyring as it is now, for P/D/keys: made at once, sent when the
 * channel has room (before any event queued after it), and again to every new network half.
 */
static void
publish_keys(struct garaged *g)
{
	size_t len, was = keys_out.len;
	bool complete;

	/* The packet is all zeros past the list, as if cleared whole: only what the last list
	 * used is cleared, so that only the list's own pages of the 16 KiB are ever touched. */
	keys_out.hdr.type = CHANNEL_KEYS;
	keys_out.hdr.len = sizeof(keys_out);
	len = keyfile_list_json(&g->keys, keys_out.json, sizeof(keys_out.json), &complete);
	if (was > len)
		memset(keys_out.json + len, 0, was - len);
	keys_out.len = (uint32_t)len;
	if (!complete)
		log_warnx("the key list of %zu keys is longer than P/D/keys carries (%u bytes): it "
		          "is published cut, with \"truncated\":true; shorten kids or doors= lists",
		          g->keys.nkeys, CHANNEL_KEYS_MAX);
	chan_out.keys_due = true;
	chan_flush(g);
}

/* An event for the network half, when there is one (publish_event() logs it first). */
static void
queue_event(struct garaged *g, const char *json, size_t len)
{
	struct channel_event *m;

	if (g->chan < 0)
		return;
	if (chan_out.count == CHAN_EVENTS) {
		if (chan_out.dropped++ == 0)
			log_warnx_limited(
			    &chan_full_limit,
			    "the channel to the network half is full: events are counted "
			    "and dropped until it has room (states wait for it)");
		return;
	}
	m = &chan_out.events[(chan_out.head + chan_out.count++) % CHAN_EVENTS];
	memset(m, 0, sizeof(*m));
	m->hdr.type = CHANNEL_EVENT;
	m->hdr.len = sizeof(*m);
	m->len = (uint32_t)len;
	memcpy(m->json, json, len);
	chan_flush(g);
}

/* One audit event: on P/D/events when connected, and always as one log line. */
static void
publish_event(struct garaged *g, const char *json, size_t len)
{
	if (len == 0 || len >= EVENT_MAX) {
		log_warnx("an event did not fit in %u bytes", EVENT_MAX);
		return;
	}
	log_info("event %s", json);
	queue_event(g, json, len);
}

static int64_t
unix_now(void)
{
#ifdef GARAGED_TEST_HOOKS
	/* The tests' clock set back or ahead (seconds), as on a board without a real-time clock. */
	const char *offset = getenv("GARAGED_TEST_CLOCK_OFFSET");

	if (offset != NULL)
		return (int64_t)time(NULL) + strtoll(offset, NULL, 10);
#endif
	return (int64_t)time(NULL);
}

/*
 * The time a command (an admin message, an enrollment) is judged at, with the local calendar
 * that authorized_keys' days= and hours= mean: the device's time zone (TZ, else
 * /etc/localtime). The time is the verifier's (cmd_verifier_now(): the clock, but never behind
 * the latest time seen), and the calendar is that time's, so that a clock set back moves
 * neither the time window, nor not_before=/not_after=, nor a key's schedule. tzset() each time,
 * since a command is rare and a zone changed on a running device should count from the next
 * one; but only when a key has a schedule: tzset() looks at /etc/localtime (a system call on
 * the way to the relay, make bench's stages), and without a schedule no key asks. When the
 * local time cannot be told, or is not asked, the calendar is out of range, which no schedule
 * contains: scheduled keys are refused (key_off_hours) and the others do not care.
 */
static struct cmd_now
command_now(const struct garaged *g)
{
	struct cmd_now now = {
	    .unix_time = cmd_verifier_now(&g->verifier, unix_now()), .wday = 7, .minute = 24 * 60};
	time_t t = (time_t)now.unix_time;
	struct tm tm;

	if (!cmd_keyring_scheduled(&g->keys))
		return now;
	tzset();
	if (localtime_r(&t, &tm) != NULL) {
		now.wday = (uint8_t)tm.tm_wday;
		now.minute = (uint16_t)(tm.tm_hour * 60 + tm.tm_min);
	}
	return now;
}

/* A door changed state: the retained state topic and a state event. */
static void
door_changed(void *arg, struct driver *gd, struct door_change c)
{
	struct garaged *g = arg;
	struct door_entry *d = (struct door_entry *)gd; /* gd is the first member */
	char ev[EVENT_MAX];

	publish_state(g, d);
	publish_event(g, ev, event_state(ev, sizeof(ev), unix_now(), gd->conf->name, c.from, c.to));
}

static void
door_travel_timeout(void *arg, struct driver *gd, enum door_state was)
{
	char ev[EVENT_MAX], msg[128];

	snprintf(msg, sizeof(msg),
	         "no end position within travel_time_s = %u while %s: an obstruction or a "
	         "stalled opener; the door is stopped",
	         gd->conf->travel_time_s, door_state_name(was));
	publish_event(
	    arg, ev, event_note(ev, sizeof(ev), unix_now(), "travel_timeout", gd->conf->name, msg));
}

static void
door_auto_close_warning(void *arg, struct driver *gd, unsigned seconds_left)
{
	char ev[EVENT_MAX], msg[96];

	snprintf(msg, sizeof(msg), "closing automatically in %u s (auto_close_s = %u)",
	         seconds_left, gd->conf->auto_close_s);
	publish_event(arg, ev,
	              event_note(ev, sizeof(ev), unix_now(), "auto_close", gd->conf->name, msg));
}

static void
door_auto_closed(void *arg, struct driver *gd, enum cmd_reason r, unsigned presses)
{
	char ev[EVENT_MAX];
	struct cmd c;

	memset(&c, 0, sizeof(c));
	snprintf(c.door, sizeof(c.door), "%s", gd->conf->name);
	c.action = CMD_ACTION_CLOSE;
	c.has_action = true;
	publish_event(arg, ev,
	              event_command(ev, sizeof(ev), unix_now(), &c, "auto_close", r, presses));
}

static const struct driver_hooks door_hooks = {
    .changed = door_changed,
    .travel_timeout = door_travel_timeout,
    .auto_close_warning = door_auto_close_warning,
    .auto_closed = door_auto_closed,
};

static enum door_goal
goal_of(enum cmd_action a)
{
	switch (a) {
	case CMD_ACTION_OPEN:
		return DOOR_GOAL_OPEN;
	case CMD_ACTION_CLOSE:
		return DOOR_GOAL_CLOSE;
	case CMD_ACTION_STOP:
		return DOOR_GOAL_STOP;
	case CMD_ACTION_TOGGLE:
	default:
		return DOOR_GOAL_TOGGLE;
	}
}

/*
 * A state that cannot be written is said loudly, and the command is still obeyed: the owner
 * keeps a working door, and what is lost is only the guard against a replay after a restart
 * (docs/security.md "Restarts").
 */
static int
save_state(struct garaged *g)
{
	const struct cmd_verifier *v = &g->verifier;
	/* What is older than this is stale after a restart whatever its nonce. */
	int64_t oldest = v->latest - (int64_t)v->clock_skew;
	char err[CONFIG_ERROR_MAX];
	size_t i;

	g->state.latest = v->latest;
	g->state.nnonces = 0;
	for (i = 0; i < CMD_REPLAY_SLOTS; i++) {
		const struct cmd_replay_slot *r = &v->replay[i];
		struct state_nonce *n = &g->state.nonces[g->state.nnonces];

		if (r->len == 0 || r->ts < oldest)
			continue;
		n->ts = r->ts;
		n->len = r->len;
		memcpy(n->bytes, r->nonce, r->len);
		g->state.nnonces++;
	}
	if (state_save(g->cfg.state_dir, &g->state, err, sizeof(err)) != 0) {
		log_warnx("%s: the state is not saved; after a restart, a command accepted now "
		          "could be accepted again",
		          err);
		return -1;
	}
	return 0;
}

/*
 * The only way from a signed command to a relay: the core verifies the raw payload (retained
 * flag, shape, key, permission, the key's validity and schedule, time, replay, signature),
 * then the door applies its own rule (the pulse interval). Every outcome is one audit event.
 */
static void
handle_command(struct garaged *g, const char *door, const void *payload, size_t len, bool retained)
{
	char ev[EVENT_MAX];
	struct cmd c;
	enum cmd_reason r;
	unsigned presses = 0;
	bool accepted;

	r = cmd_check(&g->verifier, door, payload, len, retained, command_now(g), &c);
	stage_mark(STAGE_VERIFIED);
	accepted = r == CMD_OK;
	if (accepted) {
		r = driver_act(&g->doors[c.door_index].gd, goal_of(c.action), timer_now_ms(),
		               &presses);
		stage_end();
	} else {
		stage_forget();
	}
	publish_event(g, ev, event_command(ev, sizeof(ev), unix_now(), &c, NULL, r, presses));
	/*
	 * The nonce reaches the disk right after the press, before the next message is read:
	 * the write and its fsyncs cost about a millisecond, which the relay need not wait for
	 * (make bench). What this leaves is a crash of this process within that millisecond.
	 */
	if (accepted)
		(void)save_state(g);
}

#ifdef GARAGED_TEST_HOOKS
/*
 * Test builds only: GARAGED_TEST_KEYFILE_PAUSE=STAGE stops the door half for 30 s at that
 * stage of an authorized_keys change ("written", "synced", "renamed": atomicfile.h), so that
 * a test can kill -9 it there and see which file is left. Once per change (ARG: whether it
 * has paused): a change made again from a file edited meanwhile does not pause again.
 */
static void
test_keyfile_pause(enum atomicfile_stage stage, void *arg)
{
	const char *want = getenv("GARAGED_TEST_KEYFILE_PAUSE");
	bool *paused = arg;

	if (want == NULL || strcmp(want, atomicfile_stage_name(stage)) != 0 || *paused)
		return;
	*paused = true;
	log_warnx("test hook: pausing 30 s with authorized_keys %s", want);
	sleep(30);
}
#endif

/*
 * Makes OP, a change of the keys that SIGNER asked for (an admin's message, or the inviter of
 * an enrollment), to authorized_keys as it is now (keyfile.c); only once the new file is in
 * place does the keyring the verifier uses become the new one, and P/D/keys follows. Returns
 * CMD_OK, or why the file was left as it was; MSG gets keyfile_change()'s line for the log.
 */
static enum cmd_reason
change_keys(struct garaged *g, const char *signer, const struct cmd_admin *op, char *msg,
            size_t msglen)
{
	struct cmd_keyring *ring; /* 13 KiB: not on the stack, nor kept after the change */
	const struct keyfile_hooks *hooks = NULL;
	const struct cmd_key *k;
	enum cmd_reason r;
#ifdef GARAGED_TEST_HOOKS
	static bool paused;
	static const struct keyfile_hooks test_hooks = {.pause = test_keyfile_pause,
	                                                .arg = &paused};

	paused = false;
	hooks = &test_hooks;
#endif

	/* The key the verifier checked the signature with: the file must still hold this one. */
	k = cmd_keyring_find(&g->keys, signer, strlen(signer));
	ring = malloc(sizeof(*ring));
	if (k == NULL) {
		snprintf(msg, msglen, "%s is not among the loaded keys", signer);
		r = CMD_UNKNOWN_KEY;
	} else if (ring == NULL) {
		snprintf(msg, msglen, "out of memory for the new keyring");
		r = CMD_KEYS_WRITE_FAILED;
	} else {
		r = keyfile_change(g->cfg.authorized_keys, k,
		                   cmd_verifier_time(&g->verifier, command_now(g)), op, hooks, ring,
		                   msg, msglen);
	}
	if (r == CMD_OK)
		authkeys_set_ring(&g->keys, ring);
	free(ring);
	/* The file's buffers and the ring are back in the heap, whatever came of the change: back
	 * to the system with them (a forged message never gets this far). */
	give_back_memory();
	if (r != CMD_OK) {
		log_warnx("%s %s by %s refused (%s): %s", cmd_admin_op_name(op->op), op->target,
		          signer, cmd_reason_name(r), msg);
		return r;
	}
	log_info("%s: %s %s by %s; %zu authorized key(s) now", g->cfg.authorized_keys,
	         op->op == CMD_ADMIN_ADD ? "added" : "removed", op->target, signer, g->keys.nkeys);
	if (msg[0] != '\0')
		log_warnx("%s", msg);
	publish_keys(g);
	return CMD_OK;
}

/*
 * An admin's renew: no key changes. The signer must still be that admin key in the file, as
 * change_keys() asks; then the network half makes the new key and its request (the renewal
 * events follow, docs/certificates.md).
 */
static enum cmd_reason
ask_renewal(struct garaged *g, const char *signer, char *msg, size_t msglen)
{
	const struct channel_renewal m = {.hdr = {CHANNEL_RENEWAL, sizeof(m)},
	                                  .op = CHANNEL_RENEWAL_START};
	const struct cmd_key *k = cmd_keyring_find(&g->keys, signer, strlen(signer));
	enum cmd_reason r;

	if (k == NULL) {
		snprintf(msg, msglen, "%s is not among the loaded keys", signer);
		r = CMD_UNKNOWN_KEY;
	} else {
		r = keyfile_signer_check(g->cfg.authorized_keys, k,
		                         cmd_verifier_time(&g->verifier, command_now(g)), msg,
		                         msglen);
		give_back_memory();
	}
	if (r != CMD_OK) {
		log_warnx("renew by %s refused (%s): %s", signer, cmd_reason_name(r), msg);
		return r;
	}
	log_info("renew by %s: the network half makes a new key and request", signer);
	send_child(g, &m, sizeof(m));
	return CMD_OK;
}

/*
 * An admin message from P/D/admin. The core verifies it as it verifies a command (retained
 * flag, shape, the signer's key and admin role, its validity, time, replay, signature); then
 * change_keys() makes the change. Every outcome is one "keys" event. A verified message's
 * nonce reaches state_dir BEFORE the file changes: a crash in between leaves the message spent
 * and nothing changed, never a change that a replay after the restart could make again (a
 * command saves its nonce after the press for the relay's latency; a key change has none).
 */
static void
handle_admin(struct garaged *g, const void *payload, size_t len, bool retained)
{
	char ev[EVENT_MAX], msg[2048] = "";
	const char *detail = NULL;
	struct cmd_admin a;
	enum cmd_reason r;
	bool verified;

	r = cmd_admin_check(&g->verifier, payload, len, retained, command_now(g), &a);
	verified = r == CMD_OK;
	if (verified) {
		(void)save_state(g);
		r = a.op == CMD_ADMIN_RENEW ? ask_renewal(g, a.kid, msg, sizeof(msg))
		                            : change_keys(g, a.kid, &a, msg, sizeof(msg));
	}
	/* What the owner can act on goes with the refusal: why a line or a key is refused. */
	if (r == CMD_MALFORMED && a.error[0] != '\0')
		detail = a.error;
	else if (verified && (r == CMD_MALFORMED || r == CMD_TOO_MANY_KEYS))
		detail = msg;
	publish_event(g, ev, event_keys(ev, sizeof(ev), unix_now(), &a, r, detail));
}

/*
 * An enrollment request from P/D/enroll (docs/reference.md "Invitations"). The core verifies
 * it (cmd_enroll_check(): the invitation's signature by a key that is admin now, its device,
 * expiry and permissions, time, replay, the proof by its one-time key, the new key's own
 * signature); enroll_apply() refuses an invitation that enrolled before and records this one
 * as used in state_dir; then the request's nonce (in the replay window once its signatures
 * verified) is saved there too; only then does change_keys() add the key as an add by the
 * inviter. A crash anywhere in between leaves the invitation used, the request spent and no
 * key, never a key and an invitation or a request that could enrol again. Every outcome is one
 * "enroll" event.
 */
static void
handle_enroll(struct garaged *g, const void *payload, size_t len, bool retained)
{
	char ev[EVENT_MAX], msg[2048] = "";
	struct cmd_now now = command_now(g);
	struct cmd_enroll e;
	struct cmd_admin op;
	enum cmd_reason r;
	bool verified;

	r = cmd_enroll_check(&g->verifier, payload, len, retained, now, &e);
	/* The core's refusals after all three signatures: the request is genuine. */
	verified = r == CMD_OK || r == CMD_KEY_EXISTS || r == CMD_TOO_MANY_KEYS;
	r = enroll_apply(&g->invites, &e, r, cmd_verifier_time(&g->verifier, now).unix_time, &op,
	                 msg, sizeof(msg));
	if (r == CMD_INVITATIONS_WRITE_FAILED)
		log_warnx("%s", msg);
	if (verified)
		(void)save_state(g);
	if (r == CMD_OK)
		r = change_keys(g, e.inv.by, &op, msg, sizeof(msg));
	if (r == CMD_OK)
		log_info("invitation %s by %s enrolled key %s", e.inv.id, e.inv.by, e.inv.key.kid);
	publish_event(g, ev, event_enroll(ev, sizeof(ev), unix_now(), &e, r));
}

/*
 * Home Assistant's plain OPEN/CLOSE/STOP, heard only when the owner chose commands = unsigned
 * (they trust the broker's ACL for it). Still never retained, and still one event each, with
 * "homeassistant" as the actor.
 */
static void
handle_ha_command(struct garaged *g, const char *door, const void *payload, size_t len,
                  bool retained)
{
	static const char *const words[] = {"OPEN", "CLOSE", "STOP"};
	static const enum cmd_action actions[] = {CMD_ACTION_OPEN, CMD_ACTION_CLOSE,
	                                          CMD_ACTION_STOP};
	char ev[EVENT_MAX];
	struct cmd c;
	enum cmd_reason r = CMD_MALFORMED;
	unsigned presses = 0;
	size_t i, d;

	memset(&c, 0, sizeof(c));
	for (d = 0; d < g->ndoors; d++)
		if (strcmp(g->doors[d].gd.conf->name, door) == 0)
			break;
	for (i = 0; i < 3; i++) {
		if (len == strlen(words[i]) && memcmp(payload, words[i], len) == 0) {
			c.action = actions[i];
			c.has_action = true;
			break;
		}
	}
	if (d < g->ndoors)
		snprintf(c.door, sizeof(c.door), "%.*s", (int)CMD_NAME_MAX, door);
	if (retained)
		r = CMD_RETAINED;
	else if (d == g->ndoors)
		r = CMD_UNKNOWN_DOOR;
	else if (c.has_action)
		r = driver_act(&g->doors[d].gd, goal_of(c.action), timer_now_ms(), &presses);
	publish_event(g, ev,
	              event_command(ev, sizeof(ev), unix_now(), &c, "homeassistant", r, presses));
}

/*
 * The network half broke the protocol: it is not ours any more. Its channel is closed at once
 * (nothing more from it is read) and it is killed; SIGCHLD brings the restart.
 */
static void
hostile(struct garaged *g, const char *why, long n)
{
	log_warnx("the network half sent %s (%ld): refused; killing it", why, n);
	g->child_hostile = true;
	if (g->chan >= 0) {
		close(g->chan);
		g->chan = -1;
	}
	if (g->child > 0)
		kill(g->child, SIGKILL);
}

/*
 * The network half is up: without capabilities, as its user, in its filter. The first time,
 * garaged has started, and systemd (Type=notify) hears it.
 */
static void renewal_give_up(struct garaged *g, enum certstore_pair was, const char *reason,
                            const char *why);

static void
running(struct garaged *g)
{
	const char *why = "the network half could not start with it, and starts with the pair "
	                  "before it";

	/* The pair before a suspect one starts: the fault was that pair's. */
	if (g->suspect_trial)
		renewal_give_up(g, CERTSTORE_ON_TRIAL, "load_failed", why);
	if (g->suspect_renewed)
		renewal_give_up(g, CERTSTORE_RENEWED, "load_failed", why);
	g->suspect_trial = g->suspect_renewed = false;
	g->child_running = true;
	if (!g->ready)
		log_info("ready: the network half (pid %ld) runs as uid %u", (long)g->child,
		         (unsigned)(g->drop ? g->uid : getuid()));
	notify("%sSTATUS=running; network half pid %ld", g->ready ? "" : "READY=1\n",
	       (long)g->child);
	g->ready = true;
	/* A new network half knows no key list: it publishes this one at every connect. */
	publish_keys(g);
}

/* One renewal event (event_renewal()). */
static void
renewal_event(struct garaged *g, const char *step, const char *trigger, const char *serial,
              const char *not_after, const char *reason, const char *message)
{
	char ev[EVENT_MAX];

	publish_event(g, ev,
	              event_renewal(ev, sizeof(ev), unix_now(), step, trigger, serial, not_after,
	                            reason, message));
}

/* A renewal step for the network half. */
static void
renewal_tell(struct garaged *g, enum channel_renewal_op op)
{
	const struct channel_renewal m = {.hdr = {CHANNEL_RENEWAL, sizeof(m)}, .op = (uint32_t)op};

	send_child(g, &m, sizeof(m));
}

/*
 * The network half made a renewal's new key: it is kept in state_dir (it never leaves the
 * device), and only then may the request for it go out.
 */
static void
renewal_keep_key(struct garaged *g, const struct channel_new_key *k)
{
	const char *trigger = k->trigger == CHANNEL_TRIGGER_ADMIN ? "admin" : "expiry";
	char err[CONFIG_ERROR_MAX], msg[CONFIG_PATH_MAX + 256];

	if (certstore_keep_key(g->cfg.state_dir, k->pem, k->len, err, sizeof(err)) != 0) {
		log_warnx("renewal: cannot keep the new key: %s", err);
		renewal_event(g, "failed", trigger, NULL, NULL, "write_failed", err);
		renewal_tell(g, CHANNEL_RENEWAL_LOST);
		return;
	}
	snprintf(msg, sizeof(msg),
	         "a new key is in %s/%s and its request goes to %s/%s/csr; the current "
	         "certificate stays in use until a new one is installed",
	         g->cfg.state_dir, CERTSTORE_PENDING, g->cfg.topic_prefix, g->cfg.device_id);
	log_info("renewal (%s): %s", trigger, msg);
	renewal_event(g, "requested", trigger, NULL, NULL, NULL, msg);
	renewal_tell(g, CHANNEL_RENEWAL_STORED);
}

/* S made safe for a line of a file and the log: letters, digits, ':', '-' and nothing else. */
static void
plain_word(char *out, size_t size, const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < size; i++)
		out[i] = ((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'Z') ||
		          (s[i] >= 'a' && s[i] <= 'z') || s[i] == ':' || s[i] == '-')
		             ? s[i]
		             : '?';
	out[i] = '\0';
}

/*
 * The network half found a certificate good for the pending key: it goes with the key into
 * state_dir as the pair on trial, and the network half is told to go; the next one connects
 * with the new pair.
 */
static void
renewal_install(struct garaged *g, const struct channel_new_cert *c)
{
	char serial[sizeof(c->serial)], until[sizeof(c->not_after)];
	char comment[160], err[CONFIG_ERROR_MAX];
	const char *reason = "write_failed";
	int r = -1;

	plain_word(serial, sizeof(serial), c->serial);
	plain_word(until, sizeof(until), c->not_after);
	if (g->pair == CERTSTORE_ON_TRIAL) {
		reason = "busy";
		snprintf(err, sizeof(err), "a renewed certificate is on trial already");
	} else {
		snprintf(comment, sizeof(comment),
		         "garaged's renewed client certificate (serial %s, valid until %s) and its "
		         "key",
		         serial, until);
		r = certstore_install(g->cfg.state_dir, c->pem, c->len, comment, err, sizeof(err));
		if (r == 1) {
			reason = "nothing_pending";
			snprintf(err, sizeof(err), "no key is pending in %s", g->cfg.state_dir);
		}
	}
	if (r != 0) {
		log_warnx("renewal: certificate serial %s not installed: %s", serial, err);
		renewal_event(g, "failed", NULL, serial, until, reason, err);
		renewal_tell(g, CHANNEL_RENEWAL_NOT_INSTALLED);
		return;
	}
	log_info("renewal: certificate serial %s (valid until %s) and its key are %s/%s; the "
	         "network half starts again with them",
	         serial, until, g->cfg.state_dir, CERTSTORE_TRIAL);
	renewal_tell(g, CHANNEL_RENEWAL_INSTALLED);
	g->renew_restart = true;
	g->renew_kill_at = timer_now_ms() + RENEW_EXIT_WAIT_MS;
}

/*
 * Gives up the renewed pair WAS (REASON: connect_failed, load_failed; WHY: what happened) for
 * the one before it: the renewed pair before it, or certfile and keyfile. The next network half
 * uses that; the caller sees that one starts.
 */
static void
renewal_give_up(struct garaged *g, enum certstore_pair was, const char *reason, const char *why)
{
	char err[CONFIG_ERROR_MAX], msg[CHANNEL_WHY_MAX + CONFIG_PATH_MAX + 256];

	if (was == CERTSTORE_CONFIGURED)
		return;
	if (certstore_give_up(g->cfg.state_dir, was, err, sizeof(err)) != 0) {
		/* Not moved aside: this process will not use it again anyway. */
		log_warnx("renewal: %s", err);
		if (was == CERTSTORE_ON_TRIAL)
			g->avoid_trial = true;
		else
			g->avoid_renewed = true;
	} else if (was == CERTSTORE_ON_TRIAL) {
		g->avoid_trial = false; /* a later renewal's trial pair is tried */
	} else {
		g->avoid_renewed = false; /* the renewed pair before it, if any, is this name now */
	}
	snprintf(msg, sizeof(msg),
	         "gave up the %s pair %s/%s: %s; garaged goes back to the pair before it, and "
	         "keeps the one given up as %s/%s",
	         was == CERTSTORE_ON_TRIAL ? "renewed" : "renewed (in use)", g->cfg.state_dir,
	         was == CERTSTORE_ON_TRIAL ? CERTSTORE_TRIAL : CERTSTORE_PAIR, why,
	         g->cfg.state_dir, CERTSTORE_REFUSED);
	log_warnx("renewal: %s", msg);
	/* The network half that could publish it is the one that failed: the next one does,
	 * once it is connected with the pair before. */
	g->renew_later_len = event_renewal(g->renew_later, sizeof(g->renew_later), unix_now(),
	                                   "reverted", NULL, NULL, NULL, reason, msg);
	if (g->renew_later_len > 0)
		log_info("event %s", g->renew_later);
	if (g->pair == was)
		g->pair = CERTSTORE_CONFIGURED;
	g->trial_refusals = 0;
	g->quick_deaths = 0;
}

/*
 * The network half must go now (a renewal): its channel closed, which it takes as the door
 * half's goodbye, and SIGKILL, which a door half that is not root cannot send to one that
 * became another user; SIGCHLD brings the next one (reap_child(), renew_restart).
 */
static void
let_go(struct garaged *g)
{
	if (g->chan >= 0) {
		close(g->chan);
		g->chan = -1;
	}
	if (g->child > 0)
		(void)kill(g->child, SIGKILL);
}

/* The broker refused the pair on trial (WHY: the attempt's line): after TRIAL_ATTEMPTS, it goes. */
static void
renewal_refused(struct garaged *g, const char *why)
{
	if (g->pair != CERTSTORE_ON_TRIAL || g->renew_restart)
		return;
	g->trial_refusals++;
	snprintf(g->trial_why, sizeof(g->trial_why), "%s", why);
	log_warnx("renewal: the broker refused the renewed pair (%u of %u): %s", g->trial_refusals,
	          TRIAL_ATTEMPTS, why);
	if (g->trial_refusals < TRIAL_ATTEMPTS)
		return;
	renewal_give_up(g, CERTSTORE_ON_TRIAL, "connect_failed", g->trial_why);
	/* Its network half goes now; the next one starts at once with the pair before. */
	g->renew_restart = true;
	g->renew_kill_at = UINT64_MAX;
	let_go(g);
}

/* The pair on trial connected: it is the renewed pair now, and the one before it is kept. */
static void
renewal_promote(struct garaged *g)
{
	char err[CONFIG_ERROR_MAX];

	if (certstore_promote(g->cfg.state_dir, err, sizeof(err)) != 0) {
		log_warnx("renewal: the renewed pair connected but is not kept yet (%s); the next "
		          "start tries it again",
		          err);
		renewal_event(g, "failed", NULL, NULL, NULL, "write_failed", err);
		return;
	}
	g->pair = CERTSTORE_RENEWED;
	g->trial_refusals = 0;
	log_info("renewal: the renewed pair connected and is %s/%s now; the pair before it is "
	         "kept",
	         g->cfg.state_dir, CERTSTORE_PAIR);
}

/* One packet from the network half: channel_check() judges it, as if it came from a stranger. */
static void
handle_channel(struct garaged *g)
{
	static union channel_msg m;
	const struct channel_limits lim = {
	    .ndoors = (uint32_t)g->ndoors,
	    .ha_unsigned = g->cfg.ha_commands == CONFIG_HA_COMMANDS_UNSIGNED,
	};
	const char *why;
	ssize_t r;
	size_t i;

	r = channel_recv(g->chan, &m);
	stage_mark(STAGE_DOOR_RECEIVED);
	/* ECONNRESET is a death too: a SOCK_SEQPACKET peer that dies with packets it never read
	 * resets the channel instead of closing it (a network half killed just after its start,
	 * before it read the states sent to it; test-notify.sh's fourth death). */
	if (r < 0 && errno != ECONNRESET) {
		if (errno != EAGAIN && errno != EINTR)
			hostile(g, "a channel error", (long)errno);
		return;
	}
	if (r <= 0) {
		/* It died: SIGCHLD tells how, and brings the restart. */
		close(g->chan);
		g->chan = -1;
		return;
	}
	switch (channel_check(&m, (size_t)r, CHANNEL_FROM_NET, &lim, &why)) {
	case CHANNEL_CONNECTED:
		if (g->pair == CERTSTORE_ON_TRIAL && !g->renew_restart)
			renewal_promote(g);
		/* After every (re)connect: the retained truth again, never a transition. */
		for (i = 0; i < g->ndoors; i++)
			publish_state(g, &g->doors[i]);
		if (g->renew_later_len > 0) {
			queue_event(g, g->renew_later, g->renew_later_len);
			g->renew_later_len = 0;
		}
		break;
	case CHANNEL_NEW_KEY:
		renewal_keep_key(g, &m.new_key);
		break;
	case CHANNEL_NEW_CERT:
		renewal_install(g, &m.new_cert);
		give_back_memory();
		break;
	case CHANNEL_CONNECT_FAILED:
		renewal_refused(g, m.failed.why);
		break;
	case CHANNEL_RUNNING:
		if (g->child_running) {
			hostile(g, "a RUNNING message twice", (long)r);
			return;
		}
		running(g);
		break;
	case CHANNEL_COMMAND:
		switch (m.cmd.topic) {
		case CHANNEL_TOPIC_CMD:
			handle_command(g, m.cmd.door, m.cmd.payload, m.cmd.len,
			               m.cmd.retained != 0);
			break;
		case CHANNEL_TOPIC_HA_CMD:
			handle_ha_command(g, m.cmd.door, m.cmd.payload, m.cmd.len,
			                  m.cmd.retained != 0);
			break;
		case CHANNEL_TOPIC_ADMIN:
			handle_admin(g, m.cmd.payload, m.cmd.len, m.cmd.retained != 0);
			break;
		default: /* CHANNEL_TOPIC_ENROLL: channel_check() let no other through */
			handle_enroll(g, m.cmd.payload, m.cmd.len, m.cmd.retained != 0);
			break;
		}
		break;
	default:
		/* The size, or the type when the size was right. */
		hostile(g, why, m.hdr.len == (size_t)r ? (long)m.hdr.type : (long)r);
		break;
	}
}

static void
open_doors(struct garaged *g)
{
	char err[CONFIG_ERROR_MAX];
	size_t i;
	uint64_t now = timer_now_ms();

	for (i = 0; i < g->cfg.ndoors; i++) {
		struct door_entry *d = &g->doors[i];
		const struct config_door *conf = &g->cfg.doors[i];

		if (driver_open(&d->gd, conf, &door_hooks, g, now, err, sizeof(err)) != 0)
			log_fatalx("door %s: %s", conf->name, err);
		g->ndoors++;
		log_info("door %s (%s): %s", conf->name,
		         conf->backend == CONFIG_BACKEND_SIM ? "simulated" : "gpiod",
		         door_state_name(d->gd.door.state));
	}
}

static void
close_doors(struct garaged *g)
{
	size_t i;

	/* driver_close() releases the relay: never leave it energised. */
	for (i = 0; i < g->ndoors; i++)
		driver_close(&g->doors[i].gd);
	g->ndoors = 0;
}

static void
load_keys(struct garaged *g, bool at_start)
{
	char err[CONFIG_ERROR_MAX];

	if (authkeys_load(g->cfg.authorized_keys, &g->keys, err, sizeof(err)) != 0) {
		if (at_start)
			log_fatalx("%s", err);
		log_warnx("%s; keeping the %zu key(s) loaded before", err, g->keys.nkeys);
		return;
	}
	log_info("%zu authorized key(s) from %s", g->keys.nkeys, g->cfg.authorized_keys);
	publish_keys(g);
}

static void
setup_verifier(struct garaged *g)
{
	struct cmd_verifier *v = &g->verifier;
	size_t i;

	memset(v, 0, sizeof(*v));
	snprintf(v->device_id, sizeof(v->device_id), "%s", g->cfg.device_id);
	for (i = 0; i < g->cfg.ndoors && i < CMD_MAX_DOORS; i++)
		snprintf(v->doors[i], sizeof(v->doors[i]), "%s", g->cfg.doors[i].name);
	v->ndoors = i;
	v->clock_skew = g->cfg.clock_skew;
	v->keys = &g->keys;
	v->verify = sig_sodium_verify;
}

/*
 * The verifier after a restart, from what [device] state_dir remembers: the nonces of the
 * commands accepted before that are still inside the time window, so that each is a replay as
 * it was, and the latest time seen, so that a clock behind it is not trusted.
 */
static void
resume_verifier(struct garaged *g)
{
	char err[CONFIG_ERROR_MAX];
	int64_t now = unix_now();
	bool found;
	size_t i;

	if (state_load(g->cfg.state_dir, &g->state, &found, err, sizeof(err)) != 0)
		log_fatalx("%s", err);
	if (!found)
		log_info("%s/%s: none yet (a first start, or the state was lost): commands stamped "
		         "before now are stale",
		         g->cfg.state_dir, STATE_FILE);
	else if (now < g->state.latest)
		log_warnx(
		    "the clock is %lld s behind the latest time seen before this start: "
		    "commands are judged by that time until the clock catches up; is the time "
		    "set (NTP, a real-time clock)?",
		    (long long)(g->state.latest - now));
	cmd_verifier_start(&g->verifier, now, g->state.latest);
	for (i = 0; i < g->state.nnonces; i++)
		if (!cmd_verifier_remember(&g->verifier, g->state.nonces[i].bytes,
		                           g->state.nonces[i].len, g->state.nonces[i].ts))
			log_fatalx(
			    "%s/%s: more nonces than the replay window holds; remove the file "
			    "to start afresh (see docs/security.md, Restarts)",
			    g->cfg.state_dir, STATE_FILE);
	if (save_state(g) != 0)
		log_fatalx("%s: garaged cannot remember what it accepts; make it writable",
		           g->cfg.state_dir);
}

/*
 * The invitations that enrolled a key before this start, from [device] state_dir: without
 * them a used invitation could enrol again, so a file garaged cannot read is fatal, as the
 * state is.
 */
static void
load_invites(struct garaged *g)
{
	char err[CONFIG_ERROR_MAX];

	if (invites_load(&g->invites, g->cfg.state_dir, err, sizeof(err)) != 0)
		log_fatalx("%s; garaged does not start without knowing which invitations were used",
		           err);
	if (g->invites.n > 0)
		log_info("%zu used invitation(s) remembered from %s/%s", g->invites.n,
		         g->cfg.state_dir, INVITES_FILE);
}

static uint64_t
next_deadline(const struct garaged *g)
{
	uint64_t d = g->restart_at, t;
	size_t i;

	if (g->renew_restart && g->child > 0 && g->renew_kill_at < d)
		d = g->renew_kill_at;
	for (i = 0; i < g->ndoors; i++) {
		t = driver_deadline(&g->doors[i].gd);
		if (t < d)
			d = t;
	}
	return d;
}

/*
 * The user the network half becomes. Only root, or a process given CAP_SETUID and
 * CAP_SETGID, can change user; garaged started otherwise keeps its user for both halves, and
 * says so.
 */
static void
choose_user(struct garaged *g)
{
	char err[CONFIG_ERROR_MAX];
	struct passwd *pw;

	if (geteuid() != 0 && !caps_can_setuid()) {
		log_info("running as uid %u, not root: the network half keeps this user "
		         "([device] user = %s applies only as root or with CAP_SETUID/CAP_SETGID)",
		         (unsigned)geteuid(), g->cfg.user);
		return;
	}
	pw = getpwnam(g->cfg.user);
	if (pw == NULL)
		log_fatalx("%s: [device] user %s does not exist; create it or name another",
		           g->cfg.file, g->cfg.user);
	if (pw->pw_uid == 0)
		log_fatalx("%s: [device] user %s is root; name an unprivileged user", g->cfg.file,
		           g->cfg.user);
	g->drop = true;
	g->uid = pw->pw_uid;
	g->gid = pw->pw_gid;
	/* Not root: CAP_SETUID and CAP_SETGID stay permitted for the next network half, and
	 * nothing stays effective here. */
	if (geteuid() != 0 && caps_door_keep_setuid(err, sizeof(err)) != 0)
		log_fatalx("%s", err);
}

/*
 * The pair the next network half uses (certstore_choose()): into g->pair, and the renewed
 * pair's file into g->pair_path (send_start() names it as certfile and keyfile). A pair this
 * process gave up but could not move aside is not taken again. PATH gets a line saying which, for
 * the log.
 */
static void
choose_pair(struct garaged *g, char *what, size_t whatlen)
{
	char path[CERTSTORE_PATH_MAX], warn[CERTSTORE_PATH_MAX + 128];
	enum certstore_pair p = certstore_choose(g->cfg.state_dir, path, warn, sizeof(warn));

	if (warn[0] != '\0')
		log_warnx("%s", warn);
	if ((p == CERTSTORE_ON_TRIAL && g->avoid_trial) ||
	    (p == CERTSTORE_RENEWED && g->avoid_renewed))
		p = CERTSTORE_CONFIGURED;
	if (p != CERTSTORE_CONFIGURED && strlen(path) >= sizeof(g->pair_path)) {
		log_warnx("%s: the path is longer than a certificate path may be (%zu); using "
		          "certfile and keyfile",
		          path, sizeof(g->pair_path) - 1);
		p = CERTSTORE_CONFIGURED;
	}
	g->pair = p;
	if (p == CERTSTORE_CONFIGURED) {
		g->pair_path[0] = '\0';
		snprintf(what, whatlen, "certfile %s", g->cfg.certfile);
		return;
	}
	/* Its length was checked above. */
	memcpy(g->pair_path, path, strlen(path) + 1);
	snprintf(what, whatlen, "the renewed pair %s%s", path,
	         p == CERTSTORE_ON_TRIAL ? ", on trial" : "");
	/* The key a trial pair holds is no longer pending (a crash between the two steps). */
	if (p == CERTSTORE_ON_TRIAL)
		certstore_drop_pending(g->cfg.state_dir);
}

/*
 * Where the network half's program is: NET_HALF_PATH from this executable's folder, which holds
 * both where `make install` and the package put them (/usr/sbin/garaged and
 * /usr/libexec/garaged/garaged-net) and in the build tree (bin/ and libexec/garaged/).
 */
#define NET_HALF_PATH "../libexec/garaged/garaged-net"

/*
 * Opens the network half's program once, at start: every network half of this run is executed
 * from this descriptor, so that a package upgraded while garaged runs cannot pair this door half
 * with another build's network half (the new one starts with the restart the upgrade does).
 * Returns the descriptor, or -1 with ERR saying what is missing.
 */
static int
open_net_half(char *path, size_t pathlen, char *err, size_t errlen)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	struct stat st;
	char *slash;
	int fd;

	if (n < 0 || (slash = memrchr(self, '/', (size_t)n)) == NULL) {
		snprintf(err, errlen,
		         "/proc/self/exe: %s: garaged finds its network half next to it",
		         n < 0 ? strerror(errno) : "not a path");
		return -1;
	}
	*slash = '\0';
	if ((size_t)snprintf(path, pathlen, "%s/%s", self, NET_HALF_PATH) >= pathlen) {
		snprintf(err, errlen,
		         "the path to the network half, %s beside garaged, is too long",
		         NET_HALF_PATH);
		return -1;
	}
	fd = open(path, O_PATH | O_CLOEXEC);
	if (fd >= 0 && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & 0111) == 0)) {
		close(fd);
		fd = -1;
		errno = EACCES;
	}
	if (fd < 0)
		snprintf(err, errlen,
		         "%s: %s: garaged's network half is installed with it (reinstall garaged)",
		         path, strerror(errno));
	return fd;
}

/*
 * The child of spawn_child(): the channel as descriptor 3 and nothing else but stdio, the
 * privileges the network half needs to change user, then the network half's program. Never
 * returns.
 */
static _Noreturn void
exec_net_half(const struct garaged *g, int chan, pid_t parent)
{
	static char *const argv[] = {"garaged-net", NULL};
	extern char **environ;
	char err[CONFIG_ERROR_MAX];
	int exe = g->net_exe;

	/* The door half's death ends this one too, even if the parent is already gone. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
		_exit(1);
	/* The program's descriptor out of the way of descriptor 3, then the channel there
	 * without close-on-exec, and everything else closed when the program starts. */
	if (exe <= 3 && (exe = fcntl(exe, F_DUPFD_CLOEXEC, 4)) < 0)
		_exit(1);
	if ((chan == 3 ? fcntl(3, F_SETFD, 0) : dup2(chan, 3)) < 0)
		_exit(1);
	/* Failing closed: on a kernel without it (before 5.11) nothing else would be closed. */
	if (close_range(4, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
		log_warn("marking the descriptors above 3 close-on-exec (close_range, Linux 5.11)");
		_exit(CHANNEL_EXIT_FATAL);
	}
	/* The service manager hears the door half only (notify.c). */
	unsetenv("NOTIFY_SOCKET");
	/* Not root: execve() keeps only ambient capabilities of a non-root process. */
	if (g->drop && geteuid() != 0 && caps_pass_setuid(err, sizeof(err)) != 0) {
		log_warnx("%s", err);
		_exit(CHANNEL_EXIT_FATAL);
	}
	fexecve(exe, argv, environ);
	log_warn("executing the network half");
	_exit(CHANNEL_EXIT_FATAL);
}

/*
 * What a network half just executed is told first (channel.h): the configuration, with the
 * renewed pair's file as certfile and keyfile when choose_pair() took one.
 */
static bool
send_start(const struct garaged *g, int chan)
{
	/* 9 KiB for one send: on the heap, which spawn_child() gives back, not kept. */
	struct channel_start *m = calloc(1, sizeof(*m));
	bool sent;

	if (m == NULL)
		return false;
	m->hdr = (struct channel_hdr){CHANNEL_START, sizeof(*m)};
	snprintf(m->version, sizeof(m->version), "%s", GARAGED_VERSION);
	m->config_size = sizeof(m->cfg);
	m->flags = (g->drop ? CHANNEL_START_DROP : 0) |
	           (g->pair == CERTSTORE_ON_TRIAL ? CHANNEL_START_TRIAL : 0) |
	           (g->foreground ? CHANNEL_START_FOREGROUND : 0) |
	           (g->verbose ? CHANNEL_START_VERBOSE : 0);
	m->uid = (uint32_t)g->uid;
	m->gid = (uint32_t)g->gid;
	m->cfg = g->cfg;
	if (g->pair != CERTSTORE_CONFIGURED) {
		/* One file is both; choose_pair() checked that it fits. */
		memcpy(m->cfg.certfile, g->pair_path, strlen(g->pair_path) + 1);
		memcpy(m->cfg.keyfile, g->pair_path, strlen(g->pair_path) + 1);
	}
	sent = channel_send(chan, m, sizeof(*m));
	free(m);
	return sent;
}

/*
 * Forks and executes the network half (garaged-net), and sends it its START. The child keeps
 * only stdio and its end of the channel: no GPIO line, no signalfd of ours, nothing
 * else that was opened before, and none of this process's memory.
 */
static void
spawn_child(struct garaged *g, uint64_t now)
{
	char what[CERTSTORE_PATH_MAX + 64];
	int sv[2];
	pid_t parent = getpid(), pid;

	g->restart_at = UINT64_MAX;
	choose_pair(g, what, sizeof(what));
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
		log_warn("socketpair for the network half");
		g->restart_at = now + g->backoff_ms;
		return;
	}
	/* Room for the largest packet (a key list) in one send, on either side. */
	if (!channel_buffers(sv[0]) || !channel_buffers(sv[1]))
		log_warn("raising the channel's send buffer to %zu bytes (net.core.wmem_max?): the "
		         "largest messages may not get through",
		         (size_t)CHANNEL_SOCKBUF);
	pid = fork();
	if (pid < 0) {
		log_warn("fork for the network half");
		close(sv[0]);
		close(sv[1]);
		g->restart_at = now + g->backoff_ms;
		return;
	}
	if (pid == 0)
		exec_net_half(g, sv[1], parent);
	close(sv[1]);
	g->chan = sv[0];
	g->child = pid;
	g->child_started = now;
	g->child_running = false;
	g->child_hostile = false;
	/* Queued in the channel until the new program reads it; a child that cannot take it
	 * exits, and its death is handled as any other. */
	if (!send_start(g, g->chan))
		log_warn("sending START to the network half");
	log_info("network half started: pid %ld, with %s", (long)pid, what);
	/* The first one at start-up: after authorized_keys, the state and the user were read. */
	give_back_memory();
}

/* Every relay released and every press sequence ended: no command comes while it is gone. */
static void
release_doors(struct garaged *g)
{
	size_t i;

	for (i = 0; i < g->ndoors; i++)
		driver_release(&g->doors[i].gd);
}

static void
describe_exit(char *buf, size_t len, int status)
{
	if (WIFSIGNALED(status))
		snprintf(buf, len, "was killed by signal %d%s", WTERMSIG(status),
		         WTERMSIG(status) == SIGSYS ? " (a system call outside its seccomp filter)"
		                                    : "");
	else
		snprintf(buf, len, "exited with %d", WEXITSTATUS(status));
}

/*
 * Whether to stop trying after a network half died (HOW: describe_exit(); STABLE: it had lived
 * RESTART_STABLE_MS): one that never got running before garaged was ready (it cannot start
 * here at all), or RESTART_GIVE_UP quick deaths in a row. garaged then exits
 * 1 with the relays released, and systemd's Restart= and start limit take over: the failure
 * shows in `systemctl status`, not only in the log.
 */
static void
gave_up_on_child(struct garaged *g, const char *how, bool stable)
{
	if (stable)
		g->quick_deaths = 0;
	g->quick_deaths++;
	if (g->ready && g->quick_deaths < RESTART_GIVE_UP)
		return;
	close_doors(g);
	if (!g->ready)
		log_fatalx("the network half %s before it was running (see above); garaged cannot "
		           "go online and stops (exit 1)",
		           how);
	log_fatalx("the network half %s, %u times in a row within %u s of its start; garaged "
	           "stops (exit 1) rather than stay offline",
	           how, g->quick_deaths, RESTART_STABLE_MS / 1000);
}

static void
reap_child(struct garaged *g, uint64_t now)
{
	char how[96];
	bool stable;
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid != g->child)
			continue;
		g->child = 0;
		if (g->chan >= 0) {
			close(g->chan);
			g->chan = -1;
		}
		release_doors(g);
		if (g->stop)
			continue;
		if (g->renew_restart) {
			/* Told to go for a renewal: the next one starts at once, with the pair
			 * certstore_choose() gives now. */
			g->renew_restart = false;
			g->renew_kill_at = UINT64_MAX;
			g->restart_at = now;
			continue;
		}
		if (WIFEXITED(status) && WEXITSTATUS(status) == CHANNEL_EXIT_FATAL &&
		    g->pair != CERTSTORE_CONFIGURED) {
			/* A renewed pair it could not start with: the one before it, rather than
			 * stopping; the renewed one is given up only once that one starts
			 * (running()), since what failed may be no pair's (cafile). */
			log_warnx("renewal: the network half could not start with the renewed pair "
			          "%s; trying the pair before it, which decides whether this one "
			          "is at fault",
			          g->pair_path);
			if (g->pair == CERTSTORE_ON_TRIAL)
				g->suspect_trial = g->avoid_trial = true;
			else
				g->suspect_renewed = g->avoid_renewed = true;
			g->restart_at = now;
			continue;
		}
		if (WIFEXITED(status) && WEXITSTATUS(status) == CHANNEL_EXIT_FATAL) {
			/* A certificate or key that cannot be loaded: fatal, as before the split.
			 */
			close_doors(g);
			log_fatalx(
			    "the network half cannot start (see above)%s",
			    g->suspect_trial || g->suspect_renewed
			        ? ", with the renewed pair or the one before it: the renewed "
			          "pair stays in state_dir, for the next start"
			        : "");
		}
		if (g->child_hostile && g->ready) {
			/*
			 * Killed by us for breaking the protocol: it started fine, and what took
			 * it over came from the network and will come again. Neither a longer
			 * backoff nor giving up would help; both would keep the device offline
			 * for whoever can send that, so a new one starts at the shortest delay.
			 */
			g->restart_at = now + RESTART_MIN_MS;
			log_warnx(
			    "the network half (pid %ld) was killed for breaking the protocol; "
			    "relays released, restarting it in %u ms",
			    (long)pid, RESTART_MIN_MS);
			continue;
		}
		stable = now - g->child_started >= RESTART_STABLE_MS;
		describe_exit(how, sizeof(how), status);
		if (g->pair == CERTSTORE_ON_TRIAL && !stable) {
			/* A pair on trial whose network halves keep dying goes before garaged
			 * would give up on them. */
			char why[128];

			snprintf(why, sizeof(why), "the network half %s", how);
			renewal_refused(g, why);
			if (g->renew_restart) {
				g->renew_restart = false;
				g->restart_at = now;
				continue;
			}
		}
		gave_up_on_child(g, how, stable);
		if (stable)
			g->backoff_ms = RESTART_MIN_MS;
		log_warnx(
		    "the network half (pid %ld) %s; relays released, restarting it in %llu ms",
		    (long)pid, how, (unsigned long long)g->backoff_ms);
		notify("STATUS=the network half %s; restarting it in %llu ms", how,
		       (unsigned long long)g->backoff_ms);
		g->restart_at = now + g->backoff_ms;
		g->backoff_ms =
		    g->backoff_ms * 2 > RESTART_MAX_MS ? RESTART_MAX_MS : g->backoff_ms * 2;
	}
}

static void
handle_signals(struct garaged *g, uint64_t now)
{
	struct signalfd_siginfo si;

	while (read(g->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGINT:
			/* STOPPING=1 once the relays are released (main()). */
			log_info("signal %d: going offline", (int)si.ssi_signo);
			g->stop = true;
			break;
		case SIGHUP:
			log_info("SIGHUP: reloading %s", g->cfg.authorized_keys);
			load_keys(g, false);
			give_back_memory();
			break;
		case SIGCHLD:
			reap_child(g, now);
			break;
		default:
			break;
		}
	}
}

static void
run(struct garaged *g)
{
	struct pollfd pfd[2 + CONFIG_MAX_DOORS];
	uint64_t now;
	size_t i, n;

	spawn_child(g, timer_now_ms());
	while (!g->stop) {
		n = 0;
		pfd[n++] = (struct pollfd){.fd = g->sfd, .events = POLLIN};
		/* -1: ignored. POLLOUT while a state or an event waits for room (chan_flush). */
		pfd[n++] = (struct pollfd){
		    .fd = g->chan, .events = (short)(POLLIN | (chan_pending(g) ? POLLOUT : 0))};
		for (i = 0; i < g->ndoors; i++)
			pfd[n++] = (struct pollfd){.fd = backend_fd(g->doors[i].gd.backend),
			                           .events = POLLIN};
		if (timer_poll(pfd, (nfds_t)n, next_deadline(g)) < 0) {
			if (errno == EINTR)
				continue;
			log_fatal("ppoll");
		}
		now = timer_now_ms();
		if (g->chan >= 0 && (pfd[1].revents & ~POLLOUT)) {
			stage_mark(STAGE_DOOR_READABLE);
			handle_channel(g);
		}
		if (g->chan >= 0 && (pfd[1].revents & POLLOUT))
			chan_flush(g);
		if (pfd[0].revents & POLLIN)
			handle_signals(g, now);
		for (i = 0; i < g->ndoors; i++)
			if (pfd[2 + i].revents & POLLIN)
				driver_sensors(&g->doors[i].gd, now);
		for (i = 0; i < g->ndoors; i++)
			driver_tick(&g->doors[i].gd, now);
		if (g->renew_restart && g->child > 0 && now >= g->renew_kill_at) {
			log_warnx(
			    "the network half did not go within %u ms of the renewal: killing it",
			    RENEW_EXIT_WAIT_MS);
			g->renew_kill_at = UINT64_MAX;
			let_go(g);
		}
		if (!g->stop && g->child == 0 && now >= g->restart_at)
			spawn_child(g, now);
	}
}

/*
 * SIGTERM: the relays are already released; the network half publishes a retained "offline"
 * and disconnects cleanly, and gets GOODBYE_WAIT_MS for it before it is killed.
 */
static void
stop_child(struct garaged *g)
{
	const struct channel_bare m = {.hdr = {CHANNEL_GOODBYE, sizeof(m)}};
	uint64_t deadline = timer_now_ms() + GOODBYE_WAIT_MS;
	int status;

	if (g->child <= 0)
		return;
	send_child(g, &m, sizeof(m));
	while (waitpid(g->child, &status, WNOHANG) == 0) {
		if (timer_now_ms() >= deadline) {
			log_warnx("the network half did not say goodbye within %u ms: killing it",
			          GOODBYE_WAIT_MS);
			kill(g->child, SIGKILL);
			waitpid(g->child, &status, 0);
			break;
		}
		usleep(20000);
	}
	g->child = 0;
	if (g->chan >= 0) {
		close(g->chan);
		g->chan = -1;
	}
}

static int
setup_fds(struct garaged *g)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
		return -1;
	/* A broker that goes away mid-write must not kill the daemon. */
	signal(SIGPIPE, SIG_IGN);
	g->sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (g->sfd < 0)
		return -1;
	g->chan = -1;
	g->restart_at = UINT64_MAX;
	g->backoff_ms = RESTART_MIN_MS;
	g->renew_kill_at = UINT64_MAX;
	return 0;
}

/*
 * --check-config: every check a start makes before it goes online, without starting: the
 * configuration (config_load, done), the network half's program, authorized_keys as it will be
 * loaded, the state and the used invitations.
 */
static int
check_config(struct garaged *g, const char *conffile)
{
	char err[CONFIG_ERROR_MAX], path[CERTSTORE_PATH_MAX], warn[CERTSTORE_PATH_MAX + 128];
	enum certstore_pair pair;
	bool missing;
	int fd;

	fd = open_net_half(path, sizeof(path), err, sizeof(err));
	if (fd < 0) {
		fprintf(stderr, "garaged: %s\n", err);
		return 1;
	}
	close(fd);
	if (sig_sodium_init() != 0) {
		fprintf(stderr, "garaged: libsodium failed to initialise\n");
		return 1;
	}
	if (authkeys_load(g->cfg.authorized_keys, &g->keys, err, sizeof(err)) != 0 ||
	    state_check(g->cfg.state_dir, &missing, err, sizeof(err)) != 0 ||
	    invites_check(g->cfg.state_dir, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (missing)
		printf("%s: state_dir %s does not exist yet; garaged makes it at start (systemd's "
		       "StateDirectory= does under the unit)\n",
		       conffile, g->cfg.state_dir);
	/* Which client certificate a start would use (docs/certificates.md). */
	pair = certstore_choose(g->cfg.state_dir, path, warn, sizeof(warn));
	if (warn[0] != '\0')
		printf("%s: %s\n", conffile, warn);
	if (pair == CERTSTORE_CONFIGURED)
		printf("%s: client certificate: certfile %s and keyfile %s\n", conffile,
		       g->cfg.certfile, g->cfg.keyfile);
	else
		printf("%s: client certificate: the renewed pair %s%s; it takes precedence over "
		       "certfile and keyfile\n",
		       conffile, path,
		       pair == CERTSTORE_ON_TRIAL ? " (on trial: its first connection decides)"
		                                  : "");
	printf("%s: configuration OK\n", conffile);
	return 0;
}

/*
 * Descriptors 0 to 2 open before anything else: started with them closed, the first files this
 * process opens would be them, and its log lines would land in whatever holds descriptor 2 then
 * (a key list being written), as would the network half's, which inherits 0 to 2, in its TLS
 * connection. /dev/null is there under the unit too (DevicePolicy=closed allows it).
 */
static void
open_stdio(void)
{
	int fd;

	while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= 2)
		;
	if (fd > 2)
		close(fd);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
	    {"check-config", no_argument, NULL, 'C'},
	    {"version", no_argument, NULL, 'V'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	static struct garaged g;
	char err[CONFIG_ERROR_MAX], path[PATH_MAX];
	const char *conffile = NULL;
	bool foreground = false, verbose = false, check = false;
	int ch;

	open_stdio();
	while ((ch = getopt_long(argc, argv, "c:fvh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			conffile = optarg;
			break;
		case 'f':
			foreground = true;
			break;
		case 'v':
			verbose = true;
			break;
		case 'C':
			check = true;
			break;
		case 'V':
			printf("garaged %s\n", GARAGED_VERSION);
			return 0;
		default:
			usage();
		}
	}
	if (optind != argc || conffile == NULL)
		usage();

	if (config_load(&g.cfg, conffile, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (check)
		return check_config(&g, conffile);

	log_init("garaged", foreground, verbose);
	log_set_process("door");
	if (!foreground && daemon(0, 0) != 0) {
		fprintf(stderr, "garaged: daemon: %s\n", strerror(errno));
		return 1;
	}
	if (setup_fds(&g) != 0)
		log_fatal("signal and timer descriptors");
	g.foreground = foreground;
	g.verbose = verbose;
	g.net_exe = open_net_half(path, sizeof(path), err, sizeof(err));
	if (g.net_exe < 0)
		log_fatalx("%s", err);
	log_info("garaged %s starting: device %s, %zu door(s)", GARAGED_VERSION, g.cfg.device_id,
	         g.cfg.ndoors);

	if (sig_sodium_init() != 0)
		log_fatalx("libsodium failed to initialise");
	load_keys(&g, true);
	setup_verifier(&g);
	resume_verifier(&g);
	load_invites(&g);
	open_doors(&g);
	choose_user(&g);

	run(&g);

	/* The relays first: nothing the network half does can delay their release. */
	close_doors(&g);
	notify("STOPPING=1\nSTATUS=going offline");
	(void)save_state(&g);
	stop_child(&g);
	stage_dump("door");
	log_info("stopped");
	return 0;
}
