/*
 * doors: one garage door as the daemon drives it: its backend (relay and reed switches), its
 * state machine (src/core/door.h) and the timing of relay presses. It owns the rules that keep
 * an opener safe to drive: a press lasts relay_pulse_ms, presses are at least
 * min_pulse_interval_ms apart (a command that would press sooner is rate_limited), a
 * multi-press sequence (stop, then reverse) runs to its end on the timer, and the relay is
 * released on every way out.
 */
#ifndef GARAGED_DOORS_H
#define GARAGED_DOORS_H

#include <stdbool.h>
#include <stdint.h>

#include "backend.h"
#include "cmd.h"
#include "config.h"
#include "door.h"

struct driver;

/* What a door tells the daemon; each hook gets the arg given to driver_open(). */
struct driver_hooks {
	/* Every state transition. */
	void (*changed)(void *arg, struct driver *gd, struct door_change c);
	/* The travel time ran out with no end position: the door is now stopped. */
	void (*travel_timeout)(void *arg, struct driver *gd, enum door_state was);
	/* auto_close_warning_s before an automatic close. */
	void (*auto_close_warning)(void *arg, struct driver *gd, unsigned seconds_left);
	/* The automatic close was attempted: CMD_OK with its presses, or why not. */
	void (*auto_closed)(void *arg, struct driver *gd, enum cmd_reason r, unsigned presses);
};

struct driver {
	const struct config_door *conf;
	struct backend *backend;
	struct door door;
	const struct driver_hooks *hooks;
	void *arg;
	unsigned presses_left;  /* presses still to make in the current sequence */
	uint64_t next_press_at; /* valid while presses_left > 0 */
	uint64_t relay_off_at;  /* valid while relay_on */
	uint64_t last_press_at; /* 0 = never pressed */
	bool relay_on;
	uint64_t auto_close_at; /* 0 = not armed */
	uint64_t auto_warn_at;  /* valid while auto_close_at != 0 and !auto_warned */
	bool auto_warned;
};

/*
 * Opens the backend (relay released) and starts the state machine from the sensors. A door
 * that is open at start is armed for auto_close_s like one that has just opened.
 */
int driver_open(struct driver *gd, const struct config_door *conf, const struct driver_hooks *hooks,
                void *arg, uint64_t now, char *err, size_t errlen);
/* Releases the relay and closes the backend. */
void driver_close(struct driver *gd);
/*
 * Releases the relay now and drops the rest of a press sequence: the network half died, and
 * the door must not go on moving on a command whose sender is gone.
 */
void driver_release(struct driver *gd);

/*
 * Carries out GOAL: plans the presses from the state now and makes the first at once.
 * Returns CMD_OK (with *presses, possibly 0), or CMD_RATE_LIMITED when a press would come
 * sooner than min_pulse_interval_ms after the last, or while a sequence is still running.
 */
enum cmd_reason driver_act(struct driver *gd, enum door_goal goal, uint64_t now, unsigned *presses);

/* The backend's descriptor became readable: read the sensors. */
void driver_sensors(struct driver *gd, uint64_t now);
/* Time passed: relay release, the next press of a sequence, debounce and travel timeouts. */
void driver_tick(struct driver *gd, uint64_t now);
/* The earliest time driver_tick() has work, or UINT64_MAX. */
uint64_t driver_deadline(const struct driver *gd);

#endif
