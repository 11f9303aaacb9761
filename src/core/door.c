/*
 * door: the state machine of one garage door (see door.h for what it owns).
 *
 * Every input first brings the machine up to date with the time it is given: debounced sensor
 * levels whose hold time has passed and travel timeouts that have run out are applied in the
 * order they fell due. So the answer does not depend on whether the caller called door_tick()
 * exactly at the deadline or a little later, or only got round to it when the next edge or
 * pulse arrived.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "door.h"

/* A monotonic millisecond clock never gets near the top, but a deadline must never wrap. */
static uint64_t
add_ms(uint64_t t, uint32_t ms)
{
	if (t > UINT64_MAX - ms)
		return UINT64_MAX;
	return t + ms;
}

static bool
is_moving(const struct door *d)
{
	return d->state == DOOR_OPENING || d->state == DOOR_CLOSING;
}

static bool
sensor_present(const struct door *d, enum door_sensor which)
{
	if (which == DOOR_SENSOR_CLOSED)
		return true;
	else if (which == DOOR_SENSOR_OPEN)
		return d->params.has_open_sensor;
	else
		return false;
}

static uint64_t
debounce_deadline(const struct door *d, const struct door_sensor_input *s)
{
	return add_ms(s->changed_ms, d->params.debounce_ms);
}

static uint64_t
travel_deadline(const struct door *d)
{
	return add_ms(d->move_start_ms, d->params.travel_ms);
}

static void
start_moving(struct door *d, enum door_state state, enum door_dir dir, uint64_t start_ms)
{
	d->state = state;
	d->dir = dir;
	d->move_start_ms = start_ms;
}

/*
 * A sensor level has just been believed; decide what it says about the door. The state follows
 * the believed levels of both sensors, so a release that leaves the other sensor active puts the
 * door where that sensor says it is, rather than in motion. Reaching an end position records
 * the direction the door must have travelled to get there, even when the wall button moved it
 * and we never saw it start.
 */
static void
apply_edge(struct door *d, enum door_sensor which, uint64_t changed_ms)
{
	bool closed = d->sensor[DOOR_SENSOR_CLOSED].stable;
	bool open = d->params.has_open_sensor && d->sensor[DOOR_SENSOR_OPEN].stable;

	if (closed && open) {
		/* Both end positions at once cannot be true: a wiring fault. */
		d->state = DOOR_UNKNOWN;
	} else if (closed) {
		d->state = DOOR_CLOSED;
		d->dir = DOOR_DIR_DOWN;
	} else if (open) {
		d->state = DOOR_OPEN;
		d->dir = DOOR_DIR_UP;
	} else if (which == DOOR_SENSOR_CLOSED) {
		/* The movement began when the switch let go, not when we finished doubting it. */
		start_moving(d, DOOR_OPENING, DOOR_DIR_UP, changed_ms);
	} else {
		start_moving(d, DOOR_CLOSING, DOOR_DIR_DOWN, changed_ms);
	}
}

static void
settle(struct door *d, enum door_sensor which)
{
	struct door_sensor_input *s = &d->sensor[which];

	s->stable = s->raw;
	s->pending = false;
	apply_edge(d, which, s->changed_ms);
}

/*
 * A door still moving when its travel time runs out did not reach the end position it was
 * heading for. Only an opening door without an open sensor is assumed to have arrived, since
 * nothing could have told us that it did.
 */
static void
time_out(struct door *d)
{
	if (d->state == DOOR_OPENING && !d->params.has_open_sensor) {
		d->state = DOOR_OPEN;
		d->dir = DOOR_DIR_UP;
	} else {
		d->state = DOOR_STOPPED;
	}
}

/*
 * Applies everything due at or before now, earliest first. On a tie a settling sensor goes
 * before the travel timeout: its level began to hold earlier, so the door reached the end
 * position in time. Each step clears a pending level or ends a movement, and only a settling
 * level starts one, so the loop runs a handful of times at most.
 */
static void
advance(struct door *d, uint64_t now_ms)
{
	for (;;) {
		int first = -1;
		uint64_t due = DOOR_NO_DEADLINE;

		for (int i = 0; i < 2; i++) {
			const struct door_sensor_input *s = &d->sensor[i];

			if (s->pending && debounce_deadline(d, s) < due) {
				first = i;
				due = debounce_deadline(d, s);
			}
		}
		if (first >= 0 && due <= now_ms && (!is_moving(d) || due <= travel_deadline(d))) {
			settle(d, (enum door_sensor)first);
		} else if (is_moving(d) && travel_deadline(d) <= now_ms) {
			time_out(d);
		} else {
			break;
		}
	}
}

static struct door_change
change_from(const struct door *d, enum door_state from)
{
	struct door_change c = {from != d->state, from, d->state};

	return c;
}

void
door_init(struct door *d, const struct door_params *p, bool closed_active, bool open_active,
          uint64_t now_ms)
{
	memset(d, 0, sizeof(*d));
	d->params = *p;
	/* No travel has been seen yet, so a stop cannot be reversed from knowledge. */
	d->dir = DOOR_DIR_NONE;

	/* A level for a sensor the door does not have is noise from an unwired input. */
	if (!p->has_open_sensor)
		open_active = false;

	d->sensor[DOOR_SENSOR_CLOSED].raw = closed_active;
	d->sensor[DOOR_SENSOR_CLOSED].stable = closed_active;
	d->sensor[DOOR_SENSOR_CLOSED].changed_ms = now_ms;
	d->sensor[DOOR_SENSOR_OPEN].raw = open_active;
	d->sensor[DOOR_SENSOR_OPEN].stable = open_active;
	d->sensor[DOOR_SENSOR_OPEN].changed_ms = now_ms;

	if (closed_active && open_active)
		d->state = DOOR_UNKNOWN;
	else if (closed_active)
		d->state = DOOR_CLOSED;
	else if (open_active)
		d->state = DOOR_OPEN;
	else if (!p->has_open_sensor)
		d->state = DOOR_OPEN;
	else
		d->state = DOOR_UNKNOWN;
}

struct door_change
door_sensor(struct door *d, enum door_sensor which, bool active, uint64_t now_ms)
{
	enum door_state from = d->state;
	struct door_sensor_input *s;

	if (!sensor_present(d, which))
		return change_from(d, from);

	/* A level that held long enough before this edge was real, even if nobody ticked. */
	advance(d, now_ms);

	s = &d->sensor[which];
	if (active != s->raw) {
		s->raw = active;
		s->changed_ms = now_ms;
		/* Back to the believed level before confirmation: a bounce, forget it. */
		s->pending = active != s->stable;
		if (s->pending && d->params.debounce_ms == 0)
			settle(d, which);
	}

	advance(d, now_ms);
	return change_from(d, from);
}

struct door_change
door_pulse(struct door *d, uint64_t now_ms)
{
	enum door_state from = d->state;

	/* The press acts on the door as it is now, after anything that fell due before it. */
	advance(d, now_ms);
	switch (d->state) {
	case DOOR_OPEN:
		/* With an open sensor, its release says CLOSING when the door leaves. */
		if (!d->params.has_open_sensor)
			start_moving(d, DOOR_CLOSING, DOOR_DIR_DOWN, now_ms);
		break;
	case DOOR_OPENING:
	case DOOR_CLOSING:
		/* A single-button opener stops on a press while moving and remembers the way. */
		d->state = DOOR_STOPPED;
		break;
	case DOOR_STOPPED:
		/* With no known direction, up is the safer guess: it closes on nobody. */
		if (d->dir == DOOR_DIR_UP)
			start_moving(d, DOOR_CLOSING, DOOR_DIR_DOWN, now_ms);
		else
			start_moving(d, DOOR_OPENING, DOOR_DIR_UP, now_ms);
		break;
	case DOOR_CLOSED:
		/* The closed sensor letting go will say OPENING, at the moment the door leaves. */
	case DOOR_UNKNOWN:
	default:
		break;
	}

	advance(d, now_ms);
	return change_from(d, from);
}

struct door_change
door_tick(struct door *d, uint64_t now_ms)
{
	enum door_state from = d->state;

	advance(d, now_ms);
	return change_from(d, from);
}

uint64_t
door_next_deadline(const struct door *d)
{
	uint64_t next = DOOR_NO_DEADLINE;

	for (int i = 0; i < 2; i++) {
		const struct door_sensor_input *s = &d->sensor[i];

		if (s->pending && debounce_deadline(d, s) < next)
			next = debounce_deadline(d, s);
	}
	if (is_moving(d) && travel_deadline(d) < next)
		next = travel_deadline(d);
	return next;
}

const char *
door_state_name(enum door_state s)
{
	switch (s) {
	case DOOR_CLOSED:
		return "closed";
	case DOOR_OPENING:
		return "opening";
	case DOOR_OPEN:
		return "open";
	case DOOR_CLOSING:
		return "closing";
	case DOOR_STOPPED:
		return "stopped";
	case DOOR_UNKNOWN:
	default:
		return "unknown";
	}
}

/* The presses to reach END (OPEN going up, CLOSED going down); see door_presses(). */
static unsigned
presses_towards(const struct door *d, enum door_state end, enum door_state towards,
                enum door_state away, bool up)
{
	bool next_up;

	if (d->state == end || d->state == towards)
		return 0;
	if (d->state == away)
		return 2;
	if (d->state == DOOR_STOPPED) {
		/* The next press goes the other way from the last one (up when unknown, as
		 * door_pulse() assumes): right at once, or reverse, stop and reverse again. */
		next_up = d->dir != DOOR_DIR_UP;
		return next_up == up ? 1 : 3;
	}
	return 1;
}

unsigned
door_presses(const struct door *d, enum door_goal goal)
{
	switch (goal) {
	case DOOR_GOAL_OPEN:
		return presses_towards(d, DOOR_OPEN, DOOR_OPENING, DOOR_CLOSING, true);
	case DOOR_GOAL_CLOSE:
		return presses_towards(d, DOOR_CLOSED, DOOR_CLOSING, DOOR_OPENING, false);
	case DOOR_GOAL_STOP:
		return is_moving(d) ? 1 : 0;
	case DOOR_GOAL_TOGGLE:
		return 1;
	default:
		return 0;
	}
}
