/*
 * garaged: the daemon. It owns the process (arguments, signals, the poll loop) and ties the
 * parts together: the configuration (config.c), the door hardware (backend*.c), the door
 * state machines (src/core/door.c) and the broker connection (mqtt.c).
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

#include "backend.h"
#include "config.h"
#include "door.h"
#include "log.h"
#include "mqtt.h"

#define TOPIC_MAX       (CONFIG_PREFIX_MAX + CONFIG_NAME_MAX * 2 + 32)
#define GOODBYE_TIMEOUT 2000U

struct garage_door {
	const struct config_door *conf;
	struct backend *backend;
	struct door door;
	char state_topic[TOPIC_MAX];
	char cmd_topic[TOPIC_MAX];
};

struct garaged {
	struct config cfg;
	struct garage_door doors[CONFIG_MAX_DOORS];
	size_t ndoors;
	struct mqtt *mqtt;
	char availability_topic[TOPIC_MAX];
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
publish_state(struct garaged *g, struct garage_door *gd)
{
	const char *s = door_state_name(gd->door.state);

	mqtt_publish(g->mqtt, gd->state_topic, s, strlen(s), true);
}

/* A door changed state: say so in the log and, when connected, on its retained topic. */
static void
door_changed(struct garaged *g, struct garage_door *gd, struct door_change c)
{
	if (!c.changed)
		return;
	log_info("door %s: %s -> %s", gd->conf->name, door_state_name(c.from),
	         door_state_name(c.to));
	publish_state(g, gd);
}

static void
on_connected(void *arg)
{
	struct garaged *g = arg;
	size_t i;

	/* After every (re)connect: the retained truth again, never a transition. */
	mqtt_publish(g->mqtt, g->availability_topic, "online", strlen("online"), true);
	for (i = 0; i < g->ndoors; i++) {
		publish_state(g, &g->doors[i]);
		mqtt_subscribe(g->mqtt, g->doors[i].cmd_topic);
	}
}

static void
on_message(void *arg, const char *topic, const void *payload, size_t len, bool retained)
{
	(void)arg;
	(void)payload;
	/* Signed commands are verified by a later release; until then nothing acts on them. */
	log_warnx("dropped a %zu-byte %smessage on %s: command verification is not built yet", len,
	          retained ? "retained " : "", topic);
}

static void
read_sensors(struct garaged *g, struct garage_door *gd, uint64_t now)
{
	struct backend_levels lv;

	if (backend_read(gd->backend, &lv) != 0) {
		log_warn("door %s: reading the sensors", gd->conf->name);
		return;
	}
	door_changed(g, gd, door_sensor(&gd->door, DOOR_SENSOR_CLOSED, lv.closed, now));
	door_changed(g, gd, door_sensor(&gd->door, DOOR_SENSOR_OPEN, lv.open, now));
}

static void
open_doors(struct garaged *g)
{
	char err[CONFIG_ERROR_MAX];
	struct backend_levels lv;
	struct door_params p;
	size_t i;
	uint64_t now = now_ms();

	for (i = 0; i < g->cfg.ndoors; i++) {
		struct garage_door *gd = &g->doors[i];

		gd->conf = &g->cfg.doors[i];
		gd->backend = backend_open(gd->conf, err, sizeof(err));
		if (gd->backend == NULL)
			log_fatalx("door %s: %s", gd->conf->name, err);
		g->ndoors++;
		/* The sensors decide the state at start, never a remembered command. */
		if (backend_read(gd->backend, &lv) != 0)
			log_fatalx("door %s: reading the sensors: %s", gd->conf->name,
			           strerror(errno));
		memset(&p, 0, sizeof(p));
		p.has_open_sensor = gd->conf->open_line >= 0;
		p.travel_ms = gd->conf->travel_time_s * 1000U;
		p.debounce_ms = DOOR_DEBOUNCE_MS;
		door_init(&gd->door, &p, lv.closed, lv.open, now);
		log_info("door %s (%s): %s", gd->conf->name,
		         gd->conf->backend == CONFIG_BACKEND_SIM ? "simulated" : "gpiod",
		         door_state_name(gd->door.state));
		snprintf(gd->state_topic, sizeof(gd->state_topic), "%s/%s/%s/state",
		         g->cfg.topic_prefix, g->cfg.device_id, gd->conf->name);
		snprintf(gd->cmd_topic, sizeof(gd->cmd_topic), "%s/%s/%s/cmd", g->cfg.topic_prefix,
		         g->cfg.device_id, gd->conf->name);
	}
}

static void
close_doors(struct garaged *g)
{
	size_t i;

	/* backend_close() releases the relay: never leave it energised. */
	for (i = 0; i < g->ndoors; i++) {
		backend_close(g->doors[i].backend);
		g->doors[i].backend = NULL;
	}
	g->ndoors = 0;
}

static uint64_t
next_deadline(const struct garaged *g)
{
	uint64_t d = mqtt_next_deadline(g->mqtt), t;
	size_t i;

	for (i = 0; i < g->ndoors; i++) {
		t = door_next_deadline(&g->doors[i].door);
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
			log_info("SIGHUP: nothing to reload yet");
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
			pfd[n++] = (struct pollfd){.fd = backend_fd(g->doors[i].backend),
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
		for (i = 0; i < g->ndoors; i++) {
			if (!(pfd[3 + i].revents & POLLIN))
				continue;
			if (backend_dispatch(g->doors[i].backend) != 0)
				log_warn("door %s: backend", g->doors[i].conf->name);
			read_sensors(g, &g->doors[i], now);
		}
		for (i = 0; i < g->ndoors; i++)
			door_changed(g, &g->doors[i], door_tick(&g->doors[i].door, now));
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

	open_doors(&g);
	snprintf(g.availability_topic, sizeof(g.availability_topic), "%s/%s/availability",
	         g.cfg.topic_prefix, g.cfg.device_id);
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
