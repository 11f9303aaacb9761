/*
 * door: the state machine of one garage door.
 *
 * It owns the answer to "what is the door doing?" and nothing else. It is driven by three
 * kinds of input, all passed in by the caller: relay pulses the daemon has made, raw reed
 * switch levels, and the time (milliseconds on a monotonic clock). It never reads a clock,
 * never touches a pin, never allocates and never logs, so the same code runs on a Linux
 * board and on a microcontroller, and unit tests drive it with a fake clock.
 *
 * Sensors bounce. A raw level is only believed once it has held for the debounce time;
 * until then it is pending, and door_next_deadline() says when to look again.
 *
 * With a closed sensor only, "open" is inferred: a door that left the closed position and
 * did not come back within travel_time is taken to be open. With an open sensor too, such a
 * door is "stopped" (an obstruction or a stalled opener), and so is any door still moving when
 * its travel time runs out on the way down.
 */
#ifndef GARAGED_CORE_DOOR_H
#define GARAGED_CORE_DOOR_H

#include <stdbool.h>
#include <stdint.h>

#include "core_config.h"

enum door_state {
	DOOR_UNKNOWN = 0,
	DOOR_CLOSED,
	DOOR_OPENING,
	DOOR_OPEN,
	DOOR_CLOSING,
	DOOR_STOPPED,
};

/* The direction the door last moved in; a single-button opener reverses it after a stop. */
enum door_dir {
	DOOR_DIR_NONE = 0,
	DOOR_DIR_UP,
	DOOR_DIR_DOWN,
};

enum door_sensor {
	DOOR_SENSOR_CLOSED = 0,
	DOOR_SENSOR_OPEN,
};

/* A sentinel for "no deadline": the caller may sleep forever as far as this door goes. */
#define DOOR_NO_DEADLINE UINT64_MAX

struct door_params {
	bool has_open_sensor;
	uint32_t travel_ms;   /* travel_time_s * 1000: end to end, with margin */
	uint32_t debounce_ms; /* how long a raw sensor level must hold; 0 = believe at once */
};

struct door_sensor_input {
	bool raw;            /* the last raw level seen */
	bool stable;         /* the debounced level the state machine acts on */
	bool pending;        /* raw != stable and the debounce time has not passed yet */
	uint64_t changed_ms; /* when raw last changed */
};

struct door {
	struct door_params params;
	enum door_state state;
	enum door_dir dir;      /* last direction of travel, DOOR_DIR_NONE until known */
	uint64_t move_start_ms; /* when the current movement began (OPENING/CLOSING only) */
	struct door_sensor_input sensor[2];
};

/*
 * The result of every input: whether the state changed, and from what. The caller publishes
 * the new state and an event when changed is true, and only then.
 */
struct door_change {
	bool changed;
	enum door_state from;
	enum door_state to;
};

/*
 * Starts the machine from the sensors as they read now. Sensors decide the state at start,
 * never a remembered command: closed sensor -> CLOSED; open sensor -> OPEN; both at once (a
 * wiring fault) -> UNKNOWN; neither -> OPEN with a closed sensor only, UNKNOWN with two.
 * Levels read at start are believed without debounce (there is no earlier level to bounce from).
 */
void door_init(struct door *d, const struct door_params *p, bool closed_active, bool open_active,
               uint64_t now_ms);

/* A raw sensor level as read now (an edge or a re-read; repeating a level is harmless). */
struct door_change door_sensor(struct door *d, enum door_sensor which, bool active,
                               uint64_t now_ms);

/* The daemon energised the relay now: what a single-button opener will do with that press. */
struct door_change door_pulse(struct door *d, uint64_t now_ms);

/* Time passed: settle debounced sensors and apply the travel timeout. Call at the deadline. */
struct door_change door_tick(struct door *d, uint64_t now_ms);

/* The next time door_tick() has something to do, or DOOR_NO_DEADLINE. */
uint64_t door_next_deadline(const struct door *d);

/* What an owner asks of a door; the core's own words, so door.h needs nothing from cmd.h. */
enum door_goal {
	DOOR_GOAL_OPEN = 0,
	DOOR_GOAL_CLOSE,
	DOOR_GOAL_STOP,
	DOOR_GOAL_TOGGLE,
};

/*
 * How many presses of a single-button opener reach GOAL from the door's state now: 0 when it
 * is there or on its way (open on an open or opening door), 1 for a plain press, 2 to turn a
 * door moving the wrong way (stop, then reverse), 3 to turn a door stopped after moving the
 * right way (reverse, stop, reverse). Toggle is always one press; stop presses only a moving
 * door. An UNKNOWN door gets one press for open or close: the owner asked, and one press is
 * what the wall button would do.
 */
unsigned door_presses(const struct door *d, enum door_goal goal);

/* "closed", "opening", ... as on the MQTT state topic. */
const char *door_state_name(enum door_state s);

#endif
