/*
 * garaged: the daemon. It owns the process (arguments, signals, the poll loop) and ties the
 * parts together: the configuration (config.c), the doors (doors.c: hardware, state machine,
 * relay timing), the command verifier (src/core/cmd.c, with keys from authkeys.c), the audit
 * trail (events.c) and the broker connection (mqtt.c).
 *
 * A message from the broker is raw bytes with a retained flag until the core's verifier says
 * otherwise; only a verified command reaches a door (handle_command()).
 *
 * One thread, one poll(2) over: the broker socket, a timerfd armed for the earliest deadline
 * of anything (relay release, sensor debounce, travel timeout, keepalive, reconnect), a
 * signalfd, and one descriptor per door backend. Nothing wakes it but those.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "authkeys.h"
#include "cmd.h"
#include "config.h"
#include "door.h"
#include "doors.h"
#include "events.h"
#include "ha.h"
#include "log.h"
#include "mqtt.h"
#include "sig_sodium.h"

#define TOPIC_MAX       (CONFIG_PREFIX_MAX + CONFIG_NAME_MAX * 2 + 32)
#define GOODBYE_TIMEOUT 2000U

struct garage_door {
	struct gdoor gd;
	char state_topic[TOPIC_MAX];
};

struct garaged {
	struct config cfg;
	struct garage_door doors[CONFIG_MAX_DOORS];
	size_t ndoors;
	struct mqtt *mqtt;
	char availability_topic[TOPIC_MAX];
	char events_topic[TOPIC_MAX];
	char cmd_filter[TOPIC_MAX];    /* P/D/+/cmd: unknown doors are heard, and refused aloud */
	char ha_cmd_filter[TOPIC_MAX]; /* P/D/+/ha_cmd, only with commands = unsigned */
	char ha_status_topic[TOPIC_MAX];
	struct cmd_keyring keys;
	struct cmd_verifier verifier;
	int sfd;
	int tfd;
	uint64_t armed; /* the deadline the timerfd is set to, UINT64_MAX when disarmed */
	bool stop;
};

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000U + (uint64_t)ts.tv_nsec / 1000000U;
}

static void
usage(void)
{
	fprintf(stderr, "usage: garaged -c FILE [-f] [-v]\n"
	                "       garaged -c FILE --check-config\n"
	                "       garaged --version\n");
	exit(1);
}

static void
publish_state(struct garaged *g, struct garage_door *d)
{
	const char *s = door_state_name(d->gd.door.state);

	mqtt_publish(g->mqtt, d->state_topic, s, strlen(s), true);
}

/* One audit event: on P/D/events when connected, and always as one log line. */
static void
publish_event(struct garaged *g, const char *json, size_t len)
{
	if (len == 0) {
		log_warnx("an event did not fit in %u bytes", EVENT_MAX);
		return;
	}
	log_info("event %s", json);
	mqtt_publish(g->mqtt, g->events_topic, json, len, false);
}

static int64_t
unix_now(void)
{
	return (int64_t)time(NULL);
}

/* A door changed state: the retained state topic and a state event. */
static void
door_changed(void *arg, struct gdoor *gd, struct door_change c)
{
	struct garaged *g = arg;
	struct garage_door *d = (struct garage_door *)gd; /* gd is the first member */
	char ev[EVENT_MAX];

	publish_state(g, d);
	publish_event(g, ev, event_state(ev, sizeof(ev), unix_now(), gd->conf->name, c.from, c.to));
}

static void
door_travel_timeout(void *arg, struct gdoor *gd, enum door_state was)
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
door_auto_close_warning(void *arg, struct gdoor *gd, unsigned seconds_left)
{
	char ev[EVENT_MAX], msg[96];

	snprintf(msg, sizeof(msg), "closing automatically in %u s (auto_close_s = %u)",
	         seconds_left, gd->conf->auto_close_s);
	publish_event(arg, ev,
	              event_note(ev, sizeof(ev), unix_now(), "auto_close", gd->conf->name, msg));
}

static void
door_auto_closed(void *arg, struct gdoor *gd, enum cmd_reason r, unsigned presses)
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

static const struct gdoor_hooks door_hooks = {
    .changed = door_changed,
    .travel_timeout = door_travel_timeout,
    .auto_close_warning = door_auto_close_warning,
    .auto_closed = door_auto_closed,
};

/* Retained discovery for every door, at each connect and whenever Home Assistant restarts. */
static void
publish_discovery(struct garaged *g)
{
	char topic[TOPIC_MAX + CONFIG_PREFIX_MAX], payload[HA_DISCOVERY_MAX];
	size_t i, n;

	if (!g->cfg.ha_discovery)
		return;
	for (i = 0; i < g->ndoors; i++) {
		const struct config_door *door = g->doors[i].gd.conf;

		n = ha_discovery_payload(payload, sizeof(payload), &g->cfg, door);
		if (ha_discovery_topic(topic, sizeof(topic), &g->cfg, door) == 0 || n == 0) {
			log_warnx("door %s: the Home Assistant discovery does not fit", door->name);
			continue;
		}
		mqtt_publish(g->mqtt, topic, payload, n, true);
	}
}

/*
 * A device certificate close to its end is the one failure an owner can see coming: say so on
 * the audit trail at every connect, while there is still a connection to say it on.
 */
static void
publish_cert_warning(struct garaged *g)
{
	char ev[EVENT_MAX], msg[CONFIG_PATH_MAX + 256];
	int days = mqtt_cert_days_left(g->mqtt);

	if (days >= MQTT_CERT_WARN_DAYS)
		return;
	snprintf(msg, sizeof(msg),
	         "the device certificate %s expires in %d day(s); issue a new one (garagectl pki "
	         "issue --client ... --force) and restart garaged",
	         g->cfg.certfile, days);
	publish_event(g, ev, event_note(ev, sizeof(ev), unix_now(), "certificate", NULL, msg));
}

static void
on_connected(void *arg)
{
	struct garaged *g = arg;
	size_t i;

	/* After every (re)connect: the retained truth again, never a transition. */
	mqtt_publish(g->mqtt, g->availability_topic, "online", strlen("online"), true);
	for (i = 0; i < g->ndoors; i++)
		publish_state(g, &g->doors[i]);
	publish_discovery(g);
	publish_cert_warning(g);
	mqtt_subscribe(g->mqtt, g->cmd_filter);
	if (g->cfg.ha_commands == CONFIG_HA_COMMANDS_UNSIGNED)
		mqtt_subscribe(g->mqtt, g->ha_cmd_filter);
	if (g->cfg.ha_discovery)
		mqtt_subscribe(g->mqtt, g->ha_status_topic);
}

/*
 * The door segment of "P/D/<door>/<leaf>" into out; false when the topic has another shape.
 * A segment too long to be a door comes out empty (the verifier then says unknown_door).
 */
static bool
topic_door(const struct garaged *g, const char *topic, const char *leaf, char *out, size_t outlen)
{
	size_t plen = strlen(g->cfg.topic_prefix), dlen = strlen(g->cfg.device_id), n;
	const char *seg, *end;

	out[0] = '\0';
	if (strncmp(topic, g->cfg.topic_prefix, plen) != 0 || topic[plen] != '/' ||
	    strncmp(topic + plen + 1, g->cfg.device_id, dlen) != 0 || topic[plen + 1 + dlen] != '/')
		return false;
	seg = topic + plen + 1 + dlen + 1;
	end = strchr(seg, '/');
	if (end == NULL || end[1] == '\0' || strcmp(end + 1, leaf) != 0)
		return false;
	n = (size_t)(end - seg);
	if (n < outlen) {
		memcpy(out, seg, n);
		out[n] = '\0';
	}
	return true;
}

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
 * The only way from a signed command to a relay: the core verifies the raw payload (retained
 * flag, shape, key, permission, time, replay, signature), then the door applies its own rule
 * (the pulse interval). Every outcome is one audit event.
 */
static void
handle_command(struct garaged *g, const char *door, const void *payload, size_t len, bool retained)
{
	char ev[EVENT_MAX];
	struct cmd c;
	enum cmd_reason r;
	unsigned presses = 0;

	r = cmd_check(&g->verifier, door, payload, len, retained, unix_now(), &c);
	if (r == CMD_OK)
		r = gdoor_act(&g->doors[c.door_index].gd, goal_of(c.action), now_ms(), &presses);
	publish_event(g, ev, event_command(ev, sizeof(ev), unix_now(), &c, NULL, r, presses));
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
		snprintf(c.door, sizeof(c.door), "%s", door);
	if (retained)
		r = CMD_RETAINED;
	else if (d == g->ndoors)
		r = CMD_UNKNOWN_DOOR;
	else if (c.has_action)
		r = gdoor_act(&g->doors[d].gd, goal_of(c.action), now_ms(), &presses);
	publish_event(g, ev,
	              event_command(ev, sizeof(ev), unix_now(), &c, "homeassistant", r, presses));
}

static void
on_message(void *arg, const char *topic, const void *payload, size_t len, bool retained)
{
	struct garaged *g = arg;
	char door[CMD_NAME_MAX + 2];

	if (topic_door(g, topic, "cmd", door, sizeof(door)))
		handle_command(g, door, payload, len, retained);
	else if (g->cfg.ha_commands == CONFIG_HA_COMMANDS_UNSIGNED &&
	         topic_door(g, topic, "ha_cmd", door, sizeof(door)))
		handle_ha_command(g, door, payload, len, retained);
	else if (strcmp(topic, g->ha_status_topic) == 0 && len == strlen("online") &&
	         memcmp(payload, "online", len) == 0)
		/* Home Assistant (re)started and announced itself: tell it about us again. */
		publish_discovery(g);
	else
		log_debug("ignored a %zu-byte message on %s", len, topic);
}

static void
open_doors(struct garaged *g)
{
	char err[CONFIG_ERROR_MAX];
	size_t i;
	uint64_t now = now_ms();

	for (i = 0; i < g->cfg.ndoors; i++) {
		struct garage_door *d = &g->doors[i];
		const struct config_door *conf = &g->cfg.doors[i];

		if (gdoor_open(&d->gd, conf, &door_hooks, g, now, err, sizeof(err)) != 0)
			log_fatalx("door %s: %s", conf->name, err);
		g->ndoors++;
		log_info("door %s (%s): %s", conf->name,
		         conf->backend == CONFIG_BACKEND_SIM ? "simulated" : "gpiod",
		         door_state_name(d->gd.door.state));
		snprintf(d->state_topic, sizeof(d->state_topic), "%s/%s/%s/state",
		         g->cfg.topic_prefix, g->cfg.device_id, conf->name);
	}
}

static void
close_doors(struct garaged *g)
{
	size_t i;

	/* gdoor_close() releases the relay: never leave it energised. */
	for (i = 0; i < g->ndoors; i++)
		gdoor_close(&g->doors[i].gd);
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
	/* Commands stamped before this second are stale: nothing recorded before a restart
	 * can be replayed after it, though the replay window itself was lost. */
	v->start_time = (int64_t)time(NULL);
	v->latest = v->start_time;
	v->keys = &g->keys;
	v->verify = sig_sodium_verify;
}

static uint64_t
next_deadline(const struct garaged *g)
{
	uint64_t d = mqtt_next_deadline(g->mqtt), t;
	size_t i;

	for (i = 0; i < g->ndoors; i++) {
		t = gdoor_deadline(&g->doors[i].gd);
		if (t < d)
			d = t;
	}
	return d;
}

/* Arms the timerfd for the earliest deadline, only when it moved (a syscall saved per loop). */
static void
arm_timer(struct garaged *g, uint64_t deadline)
{
	struct itimerspec its;

	if (deadline == g->armed)
		return;
	memset(&its, 0, sizeof(its));
	if (deadline != UINT64_MAX) {
		/* Zero would disarm: an overdue deadline fires at the earliest representable time.
		 */
		its.it_value.tv_sec = (time_t)(deadline / 1000U);
		its.it_value.tv_nsec = (long)(deadline % 1000U) * 1000000L;
		if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
			its.it_value.tv_nsec = 1;
	}
	if (timerfd_settime(g->tfd, TFD_TIMER_ABSTIME, &its, NULL) != 0)
		log_fatalx("timerfd_settime: %s", strerror(errno));
	g->armed = deadline;
}

static void
handle_signals(struct garaged *g)
{
	struct signalfd_siginfo si;

	while (read(g->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGINT:
			log_info("signal %d: going offline", (int)si.ssi_signo);
			g->stop = true;
			break;
		case SIGHUP:
			log_info("SIGHUP: reloading %s", g->cfg.authorized_keys);
			load_keys(g, false);
			break;
		default:
			break;
		}
	}
}

static void
run(struct garaged *g)
{
	struct pollfd pfd[3 + CONFIG_MAX_DOORS];
	uint64_t buf, now;
	size_t i, n;
	int mfd;

	mqtt_start(g->mqtt, now_ms());
	while (!g->stop) {
		arm_timer(g, next_deadline(g));
		n = 0;
		pfd[n++] = (struct pollfd){.fd = g->sfd, .events = POLLIN};
		pfd[n++] = (struct pollfd){.fd = g->tfd, .events = POLLIN};
		mfd = mqtt_fd(g->mqtt);
		pfd[n++] = (struct pollfd){
		    .fd = mfd,
		    .events =
		        (short)(POLLIN | (mfd >= 0 && mqtt_want_write(g->mqtt) ? POLLOUT : 0))};
		for (i = 0; i < g->ndoors; i++)
			pfd[n++] = (struct pollfd){.fd = backend_fd(g->doors[i].gd.backend),
			                           .events = POLLIN};
		if (poll(pfd, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_fatalx("poll: %s", strerror(errno));
		}
		now = now_ms();
		if (pfd[0].revents & POLLIN)
			handle_signals(g);
		if (pfd[1].revents & POLLIN) {
			if (read(g->tfd, &buf, sizeof(buf)) < 0 && errno != EAGAIN)
				log_warn("timerfd");
			g->armed = UINT64_MAX;
		}
		if (mfd >= 0 && pfd[2].revents)
			mqtt_io(g->mqtt, pfd[2].revents, now);
		for (i = 0; i < g->ndoors; i++)
			if (pfd[3 + i].revents & POLLIN)
				gdoor_sensors(&g->doors[i].gd, now);
		for (i = 0; i < g->ndoors; i++)
			gdoor_tick(&g->doors[i].gd, now);
		mqtt_tick(g->mqtt, now);
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
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
		return -1;
	/* A broker that goes away mid-write must not kill the daemon. */
	signal(SIGPIPE, SIG_IGN);
	g->sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (g->sfd < 0)
		return -1;
	g->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (g->tfd < 0)
		return -1;
	g->armed = UINT64_MAX;
	return 0;
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
	const struct mqtt_callbacks cb = {.connected = on_connected, .message = on_message};
	char err[CONFIG_ERROR_MAX];
	const char *conffile = NULL;
	bool foreground = false, verbose = false, check = false;
	int ch;

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
	if (check) {
		printf("%s: configuration OK\n", conffile);
		return 0;
	}

	log_init("garaged", foreground, verbose);
	if (!foreground && daemon(0, 0) != 0) {
		fprintf(stderr, "garaged: daemon: %s\n", strerror(errno));
		return 1;
	}
	if (setup_fds(&g) != 0)
		log_fatalx("signal and timer descriptors: %s", strerror(errno));
	log_info("garaged %s starting: device %s, %zu door(s)", GARAGED_VERSION, g.cfg.device_id,
	         g.cfg.ndoors);

	if (sig_sodium_init() != 0)
		log_fatalx("libsodium failed to initialise");
	load_keys(&g, true);
	setup_verifier(&g);
	open_doors(&g);
	snprintf(g.availability_topic, sizeof(g.availability_topic), "%s/%s/availability",
	         g.cfg.topic_prefix, g.cfg.device_id);
	snprintf(g.events_topic, sizeof(g.events_topic), "%s/%s/events", g.cfg.topic_prefix,
	         g.cfg.device_id);
	snprintf(g.cmd_filter, sizeof(g.cmd_filter), "%s/%s/+/cmd", g.cfg.topic_prefix,
	         g.cfg.device_id);
	snprintf(g.ha_cmd_filter, sizeof(g.ha_cmd_filter), "%s/%s/+/ha_cmd", g.cfg.topic_prefix,
	         g.cfg.device_id);
	snprintf(g.ha_status_topic, sizeof(g.ha_status_topic), "%s/status", g.cfg.ha_prefix);
	g.mqtt = mqtt_new(&g.cfg, g.availability_topic, &cb, &g, err, sizeof(err));
	if (g.mqtt == NULL) {
		close_doors(&g);
		log_fatalx("%s", err);
	}

	run(&g);

	close_doors(&g);
	mqtt_goodbye(g.mqtt, g.availability_topic, "offline", GOODBYE_TIMEOUT);
	mqtt_free(g.mqtt);
	log_info("stopped");
	return 0;
}
