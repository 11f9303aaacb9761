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

struct gdoor;

/* Called for every state transition of a door, with the transition. */
typedef void (*gdoor_changed_fn)(void *arg, struct gdoor *gd, struct door_change c);

struct gdoor {
	const struct config_door *conf;
	struct backend *backend;
	struct door door;
	gdoor_changed_fn changed;
	void *arg;
	unsigned presses_left;  /* presses still to make in the current sequence */
	uint64_t next_press_at; /* valid while presses_left > 0 */
	uint64_t relay_off_at;  /* valid while relay_on */
	uint64_t last_press_at; /* 0 = never pressed */
	bool relay_on;
};

/* Opens the backend (relay released) and starts the state machine from the sensors. */
int gdoor_open(struct gdoor *gd, const struct config_door *conf, gdoor_changed_fn changed,
               void *arg, uint64_t now, char *err, size_t errlen);
/* Releases the relay and closes the backend. */
void gdoor_close(struct gdoor *gd);

/*
 * Carries out GOAL: plans the presses from the state now and makes the first at once.
 * Returns CMD_OK (with *presses, possibly 0), or CMD_RATE_LIMITED when a press would come
 * sooner than min_pulse_interval_ms after the last, or while a sequence is still running.
 */
enum cmd_reason gdoor_act(struct gdoor *gd, enum door_goal goal, uint64_t now, unsigned *presses);

/* The backend's descriptor became readable: read the sensors. */
void gdoor_sensors(struct gdoor *gd, uint64_t now);
/* Time passed: relay release, the next press of a sequence, debounce and travel timeouts. */
void gdoor_tick(struct gdoor *gd, uint64_t now);
/* The earliest time gdoor_tick() has work, or UINT64_MAX. */
uint64_t gdoor_deadline(const struct gdoor *gd);

#endif
