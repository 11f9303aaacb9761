/*
 * doors: see doors.h. The relay is only ever energised here, in press(), and every path that
 * energises it also sets the deadline that releases it.
 *
 * Auto-close arms only when the door reached OPEN by opening normally (or was open at start),
 * and disarms on any other state. So a door that stopped on its way, or came back up while
 * closing (the opener reversing from an obstruction), is never closed by the timer: a person
 * has to look at it first.
 */
#include "driver.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "stage.h"

static void
arm_auto_close(struct driver *gd, uint64_t now)
{
	uint64_t total = (uint64_t)gd->conf->auto_close_s * 1000U;
	uint64_t warn = (uint64_t)gd->conf->auto_close_warning_s * 1000U;

	if (total == 0)
		return;
	gd->auto_close_at = now + total;
	gd->auto_warn_at = warn < total ? gd->auto_close_at - warn : now;
	gd->auto_warned = false;
}

static void
report(struct driver *gd, struct door_change c, uint64_t now)
{
	if (!c.changed)
		return;
	if (c.to == DOOR_OPEN && c.from == DOOR_OPENING)
		arm_auto_close(gd, now);
	else if (c.to != DOOR_OPEN)
		gd->auto_close_at = 0;
	gd->hooks->changed(gd->arg, gd, c);
}

/* The gap between the starts of two presses: never closer than the opener can tell apart. */
static uint64_t
press_spacing(const struct driver *gd)
{
	uint64_t gap = gd->conf->min_pulse_interval_ms;

	if (gap < 2U * (uint64_t)gd->conf->relay_pulse_ms)
		gap = 2U * (uint64_t)gd->conf->relay_pulse_ms;
	return gap;
}

static void
release(struct driver *gd)
{
	if (backend_relay(gd->backend, false) != 0)
		log_warn("door %s: releasing the relay", gd->conf->name);
	gd->relay_on = false;
}

static void
press(struct driver *gd, uint64_t now)
{
	if (backend_relay(gd->backend, true) != 0) {
		/* A relay that cannot be driven must not be left half-driven either. */
		log_warn("door %s: energising the relay", gd->conf->name);
		backend_relay(gd->backend, false);
		gd->presses_left = 0;
		return;
	}
	stage_mark(STAGE_RELAY_WRITTEN);
	gd->relay_on = true;
	gd->relay_off_at = now + gd->conf->relay_pulse_ms;
	gd->last_press_at = now;
	gd->presses_left--;
	gd->next_press_at = now + press_spacing(gd);
	report(gd, door_pulse(&gd->door, now), now);
}

int
driver_open(struct driver *gd, const struct config_door *conf, const struct driver_hooks *hooks,
            void *arg, uint64_t now, char *err, size_t errlen)
{
	struct backend_levels lv;
	struct door_params p;

	memset(gd, 0, sizeof(*gd));
	gd->conf = conf;
	gd->hooks = hooks;
	gd->arg = arg;
	gd->backend = backend_open(conf, err, errlen);
	if (gd->backend == NULL)
		return -1;
	/* The sensors decide the state at start, never a remembered command. */
	if (backend_read(gd->backend, &lv) != 0) {
		snprintf(err, errlen, "reading the sensors: %s", strerror(errno));
		backend_close(gd->backend);
		gd->backend = NULL;
		return -1;
	}
	memset(&p, 0, sizeof(p));
	p.has_open_sensor = backend_has_open_sensor(gd->backend);
	p.travel_ms = conf->travel_time_s * 1000U;
	p.debounce_ms = DOOR_DEBOUNCE_MS;
	door_init(&gd->door, &p, lv.closed, lv.open, now);
	if (gd->door.state == DOOR_OPEN)
		arm_auto_close(gd, now);
	return 0;
}

void
driver_close(struct driver *gd)
{
	if (gd->backend == NULL)
		return;
	/* backend_close() releases the relay too; say it here so the order is plain. */
	release(gd);
	backend_close(gd->backend);
	gd->backend = NULL;
}

void
driver_release(struct driver *gd)
{
	if (gd->backend == NULL)
		return;
	gd->presses_left = 0;
	if (gd->relay_on)
		release(gd);
}

enum cmd_reason
driver_act(struct driver *gd, enum door_goal goal, uint64_t now, unsigned *presses)
{
	unsigned n = door_presses(&gd->door, goal);

	*presses = n;
	if (n == 0)
		return CMD_OK;
	if (gd->relay_on || gd->presses_left > 0 ||
	    (gd->last_press_at != 0 && now - gd->last_press_at < gd->conf->min_pulse_interval_ms))
		return CMD_RATE_LIMITED;
	gd->presses_left = n;
	press(gd, now);
	return CMD_OK;
}

void
driver_sensors(struct driver *gd, uint64_t now)
{
	struct backend_levels lv;

	if (backend_dispatch(gd->backend) != 0)
		log_warn("door %s: backend events", gd->conf->name);
	if (backend_read(gd->backend, &lv) != 0) {
		log_warn("door %s: reading the sensors", gd->conf->name);
		return;
	}
	report(gd, door_sensor(&gd->door, DOOR_SENSOR_CLOSED, lv.closed, now), now);
	report(gd, door_sensor(&gd->door, DOOR_SENSOR_OPEN, lv.open, now), now);
}

void
driver_tick(struct driver *gd, uint64_t now)
{
	struct door_change c;
	unsigned presses = 0;
	enum cmd_reason r;

	if (gd->relay_on && now >= gd->relay_off_at)
		release(gd);
	if (!gd->relay_on && gd->presses_left > 0 && now >= gd->next_press_at)
		press(gd, now);
	c = door_tick(&gd->door, now);
	report(gd, c, now);
	/* door_tick() stops a moving door only when its travel time has run out. */
	if (c.changed && c.to == DOOR_STOPPED)
		gd->hooks->travel_timeout(gd->arg, gd, c.from);
	if (gd->auto_close_at != 0 && !gd->auto_warned && now >= gd->auto_warn_at) {
		gd->auto_warned = true;
		gd->hooks->auto_close_warning(gd->arg, gd,
		                              (unsigned)((gd->auto_close_at - now + 999U) / 1000U));
	}
	if (gd->auto_close_at != 0 && now >= gd->auto_close_at) {
		gd->auto_close_at = 0;
		r = driver_act(gd, DOOR_GOAL_CLOSE, now, &presses);
		/* A press too soon after the last one: try again once the interval has passed,
		 * rather than forget that the owner wanted this door closed. */
		if (r == CMD_RATE_LIMITED)
			gd->auto_close_at = now + (gd->conf->min_pulse_interval_ms > 0
			                               ? gd->conf->min_pulse_interval_ms
			                               : gd->conf->relay_pulse_ms);
		gd->hooks->auto_closed(gd->arg, gd, r, presses);
	}
}

uint64_t
driver_deadline(const struct driver *gd)
{
	uint64_t d = door_next_deadline(&gd->door);

	if (gd->relay_on && gd->relay_off_at < d)
		d = gd->relay_off_at;
	else if (!gd->relay_on && gd->presses_left > 0 && gd->next_press_at < d)
		d = gd->next_press_at;
	if (gd->auto_close_at != 0) {
		if (!gd->auto_warned && gd->auto_warn_at < d)
			d = gd->auto_warn_at;
		if (gd->auto_close_at < d)
			d = gd->auto_close_at;
	}
	return d;
}
