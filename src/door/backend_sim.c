/*
 * backend_sim: a simulated single-button garage door opener that the daemon cannot tell from a
 * wired one. It owns the physical model of one door (position, motion, last direction, the two
 * reed switches), a timerfd that stands in for the sensors' edge interrupts, and the optional
 * sim_log, which plays the part of the relay's wire: one line per relay edge.
 *
 * It never sleeps, never runs a thread and never ticks: the position is computed from
 * CLOCK_MONOTONIC whenever it is asked for, and the timer is armed only for the next moment a
 * sensor level will change, so an idle simulated door costs no wake-ups. It never logs (errors
 * go back through err and errno) and never touches a GPIO line.
 *
 * The model:
 *   - The position runs from 0 (closed) to travel (open), in nanoseconds of travel, so that the
 *     ends are exact integers; travel is sim_travel_ms. The door starts idle at sim_start.
 *   - The opener acts on the relay's rising edge as on a wall button press: idle at closed ->
 *     up; idle at open -> down; moving -> stop where it is; idle midway -> the reverse of the
 *     last direction. The falling edge does nothing to the door.
 *   - A reed switch becomes active only when the door reaches its end and releases once the door
 *     has moved 2% of travel away from that end, as a real switch does when its magnet leaves.
 *     Between the two, the switch keeps the level it had (so a door stopped at 1% on the way up
 *     still reads closed, and one stopped at 1% on the way down does not).
 *   - The door always has both switches, whatever open_line says: it models a fully equipped
 *     door, so that the daemon sees end positions, travel timeouts and obstructions as it would
 *     on hardware with both (the gpio keys of a sim door are accepted and ignored).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "backend_impl.h"

/* How far, in hundredths of travel, the door moves before an end switch lets go. */
#define SIM_RELEASE_PERCENT 2

enum sim_motion {
	SIM_IDLE = 0,
	SIM_UP,
	SIM_DOWN,
};

/*
 * Motion is described as segments: from t0 the door moves (or stands) from pos0 in motion, and
 * the switches read closed0/open0 at t0. A press starts a new segment; reaching an end ends the
 * motion without one, which sim_at() works out from the clock.
 */
struct sim {
	struct backend base; /* first: backend.c holds a pointer to it */
	int64_t travel;      /* ns from closed to open */
	int64_t release;     /* ns of travel after which an end switch releases */
	bool relay;          /* the relay is energised */
	int tfd;             /* the timerfd, CLOCK_MONOTONIC */
	int logfd;           /* sim_log, or -1 */
	int64_t armed;       /* the absolute expiry the timer is set to, 0 when disarmed */

	enum sim_motion motion;
	enum sim_motion last_dir; /* SIM_UP or SIM_DOWN */
	int64_t t0;
	int64_t pos0;
	bool closed0;
	bool open0; /* tracked even without an open switch; masked in sim_read() */
};

/* The door at one moment. */
struct sim_state {
	int64_t pos;
	enum sim_motion motion;
	bool closed;
	bool open;
};

static int64_t
sim_clock(clockid_t id)
{
	struct timespec ts;

	/* Cannot fail for these clocks on Linux; a zero time would only skew the model. */
	if (clock_gettime(id, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
sim_at(const struct sim *s, int64_t now, struct sim_state *st)
{
	int64_t dt = now > s->t0 ? now - s->t0 : 0;

	st->pos = s->pos0;
	st->motion = s->motion;
	st->closed = s->closed0;
	st->open = s->open0;
	if (s->motion == SIM_UP) {
		st->pos = s->pos0 + dt;
		if (st->pos >= s->travel) {
			st->pos = s->travel;
			st->motion = SIM_IDLE;
		}
		st->closed = s->closed0 && st->pos < s->release;
		st->open = s->open0 || st->pos == s->travel;
	} else if (s->motion == SIM_DOWN) {
		st->pos = s->pos0 - dt;
		if (st->pos <= 0) {
			st->pos = 0;
			st->motion = SIM_IDLE;
		}
		st->closed = s->closed0 || st->pos == 0;
		st->open = s->open0 && st->pos > s->travel - s->release;
	}
}

/* The first moment after AFTER at which a switch the daemon can see changes level, or 0. */
static int64_t
sim_next_change(const struct sim *s, int64_t after)
{
	int64_t t[2];
	int64_t best = 0;
	int n = 0;

	if (s->motion == SIM_UP) {
		if (s->closed0 && s->pos0 < s->release)
			t[n++] = s->t0 + (s->release - s->pos0);
		if (!s->open0)
			t[n++] = s->t0 + (s->travel - s->pos0);
	} else if (s->motion == SIM_DOWN) {
		if (s->open0 && s->pos0 > s->travel - s->release)
			t[n++] = s->t0 + (s->pos0 - (s->travel - s->release));
		if (!s->closed0)
			t[n++] = s->t0 + s->pos0;
	}
	for (int i = 0; i < n; i++) {
		if (t[i] > after && (best == 0 || t[i] < best))
			best = t[i];
	}
	return best;
}

/*
 * Sets the timer for the next change after NOW, or disarms it. A timer that has already
 * expired and not been dispatched is left alone: it is readable, and re-arming it would
 * swallow an edge the daemon has not yet seen. backend_dispatch() re-arms it.
 */
static int
sim_arm(struct sim *s, int64_t now)
{
	struct itimerspec its;
	int64_t when;

	if (s->armed != 0 && s->armed <= now)
		return 0;
	when = sim_next_change(s, now);
	memset(&its, 0, sizeof(its));
	if (when != 0) {
		its.it_value.tv_sec = (time_t)(when / 1000000000);
		its.it_value.tv_nsec = (long)(when % 1000000000);
	}
	if (timerfd_settime(s->tfd, TFD_TIMER_ABSTIME, &its, NULL) != 0)
		return -1;
	s->armed = when;
	return 0;
}

/* What the opener does with a button press at NOW. */
static void
sim_press(struct sim *s, int64_t now)
{
	struct sim_state st;
	enum sim_motion next;

	sim_at(s, now, &st);
	if (st.motion != SIM_IDLE)
		next = SIM_IDLE;
	else if (st.pos == 0)
		next = SIM_UP;
	else if (st.pos == s->travel)
		next = SIM_DOWN;
	else
		next = s->last_dir == SIM_UP ? SIM_DOWN : SIM_UP;
	if (next != SIM_IDLE)
		s->last_dir = next;
	s->motion = next;
	s->t0 = now;
	s->pos0 = st.pos;
	s->closed0 = st.closed;
	s->open0 = st.open;
}

/*
 * One line per edge, written whole by one write(2) on an O_APPEND descriptor, so a reader
 * polling the file never sees half a line. The time is taken here, at the edge.
 */
static int
sim_log_edge(struct sim *s, bool on)
{
	char line[64];
	ssize_t w;
	int n;

	if (s->logfd < 0)
		return 0;
	n = snprintf(line, sizeof(line), "%lld relay %s\n", (long long)sim_clock(CLOCK_REALTIME),
	             on ? "on" : "off");
	do {
		w = write(s->logfd, line, (size_t)n);
	} while (w < 0 && errno == EINTR);
	if (w < 0)
		return -1;
	if (w != n) {
		errno = EIO;
		return -1;
	}
	return 0;
}

static struct backend *
sim_open(const struct config_door *door, char *err, size_t errlen)
{
	struct sim *s;
	int saved;

	if (door->sim_travel_ms == 0) {
		snprintf(err, errlen, "sim_travel_ms must be at least 1");
		errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		snprintf(err, errlen, "simulated door: %s", strerror(errno));
		return NULL;
	}
	s->tfd = -1;
	s->logfd = -1;
	s->travel = (int64_t)door->sim_travel_ms * 1000000;
	s->release = s->travel * SIM_RELEASE_PERCENT / 100;
	s->base.has_open_sensor = true;

	s->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (s->tfd < 0) {
		saved = errno;
		snprintf(err, errlen, "simulated door: timerfd: %s", strerror(saved));
		goto fail;
	}
	if (door->sim_log[0] != '\0') {
		s->logfd = open(door->sim_log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
		if (s->logfd < 0) {
			saved = errno;
			snprintf(err, errlen, "sim_log '%s': %s", door->sim_log, strerror(saved));
			goto fail;
		}
	}

	/* Idle at one end, as if it had just arrived there; the relay starts released. */
	s->motion = SIM_IDLE;
	s->t0 = sim_clock(CLOCK_MONOTONIC);
	if (door->sim_start_open) {
		s->pos0 = s->travel;
		s->open0 = true;
		s->last_dir = SIM_UP;
	} else {
		s->pos0 = 0;
		s->closed0 = true;
		s->last_dir = SIM_DOWN;
	}
	return &s->base;

fail:
	if (s->tfd >= 0)
		close(s->tfd);
	free(s);
	errno = saved;
	return NULL;
}

static int
sim_relay(struct backend *b, bool on)
{
	struct sim *s = (struct sim *)b;
	int64_t now;

	/* Only edges exist on a wire: the same level again is not an edge. */
	if (on == s->relay)
		return 0;
	/* Logged before it takes effect: when the line cannot be written, the edge did not happen.
	 */
	now = sim_clock(CLOCK_MONOTONIC);
	if (sim_log_edge(s, on) != 0)
		return -1;
	s->relay = on;
	if (!on)
		return 0;
	sim_press(s, now);
	return sim_arm(s, now);
}

static void
sim_close(struct backend *b)
{
	struct sim *s = (struct sim *)b;

	/* Never leave the relay energised; a failed log line cannot be reported from here. */
	if (s->relay)
		(void)sim_relay(b, false);
	close(s->tfd);
	if (s->logfd >= 0)
		close(s->logfd);
	free(s);
}

static int
sim_read(struct backend *b, struct backend_levels *out)
{
	const struct sim *s = (const struct sim *)b;
	struct sim_state st;

	sim_at(s, sim_clock(CLOCK_MONOTONIC), &st);
	out->closed = st.closed;
	out->open = st.open;
	return 0;
}

static int
sim_fd(const struct backend *b)
{
	return ((const struct sim *)b)->tfd;
}

static int
sim_dispatch(struct backend *b)
{
	struct sim *s = (struct sim *)b;
	uint64_t expirations;

	/* Nothing to read is fine: the daemon may dispatch without the timer having fired. */
	if (read(s->tfd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
		return -1;
	s->armed = 0;
	return sim_arm(s, sim_clock(CLOCK_MONOTONIC));
}

const struct backend_ops backend__sim_ops = {
    .open = sim_open,
    .close = sim_close,
    .relay = sim_relay,
    .read = sim_read,
    .fd = sim_fd,
    .dispatch = sim_dispatch,
};
