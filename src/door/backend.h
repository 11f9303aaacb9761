/*
 * backend: the hardware of one door as the daemon sees it: a relay to energise and one or two
 * reed switches to read. Two implementations: backend_sim.c (a simulated single-button opener
 * with travel time, for tests and the demo) and backend_gpiod.c (libgpiod, for real boards).
 *
 * Both look the same from the poll loop: a file descriptor that becomes readable when a sensor
 * may have changed, and a call that reads the levels. The daemon never learns which one it
 * drives; it keeps the door state machine (src/core/door.h) and the relay pulse timing itself.
 */
#ifndef GARAGED_BACKEND_H
#define GARAGED_BACKEND_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

struct backend;

struct backend_levels {
	bool closed; /* the closed-position reed switch is active */
	bool open;   /* the open-position reed switch is active (false when there is none) */
};

/*
 * Opens the backend described by DOOR with the relay released. Returns NULL with a one-line
 * reason in err (naming the missing chip or line, or the file that cannot be written).
 */
struct backend *backend_open(const struct config_door *door, char *err, size_t errlen);

/*
 * Whether the door has an open-position switch: a gpiod door when open_line is set; the
 * simulated door always (it models a fully equipped door, so that travel timeouts and
 * obstructions show as on real hardware with both switches).
 */
bool backend_has_open_sensor(const struct backend *b);

/* Releases the relay (never left energised) and frees everything. NULL is fine. */
void backend_close(struct backend *b);

/* Energises (on) or releases (off) the relay. Returns 0, or -1 with errno set. */
int backend_relay(struct backend *b, bool on);

/* Reads both sensors now. Returns 0, or -1 with errno set. */
int backend_read(struct backend *b, struct backend_levels *out);

/*
 * The descriptor to poll for POLLIN: readable when a sensor may have changed. After it is
 * readable, call backend_dispatch() and then backend_read().
 */
int backend_fd(const struct backend *b);

/* Drains the descriptor (edge events, timer expirations). Returns 0, or -1 with errno set. */
int backend_dispatch(struct backend *b);

#endif
