/*
 * fake_gpio: an in-memory stand-in for the GPIO character device, implementing
 * src/door/gpio.h for the unit tests, plus the controls below that let a test play the
 * board: add chips, hold lines busy, move an input's level, and see what was done to the lines.
 *
 * Levels here are physical, the voltage on the pin: the fake applies a line's active_low itself,
 * as the kernel does, so a test asserts what a relay module would actually see. Every line
 * operation is recorded in order, one line of text each:
 *   "output OFFSET LEVEL"  requested as an output, driven to LEVEL from the start
 *   "edges OFFSET"         requested as an input with edge events
 *   "set OFFSET LEVEL"     an output driven to LEVEL
 *   "release OFFSET"       given back
 * An edge-requested line has an eventfd that becomes readable when the test moves its level.
 * The fake is single-threaded and keeps its state in static storage; it aborts on misuse.
 */
#ifndef GARAGED_FAKE_GPIO_LINE_H
#define GARAGED_FAKE_GPIO_LINE_H

#include <stdbool.h>

/* Forgets every chip, busy mark, injected failure and the record. Lines must be released. */
void fake_gpio_reset(void);

/* Adds a chip reachable as NAME or "/dev/NAME", with NLINES lines (at most 64), all low. */
void fake_gpio_add_chip(const char *name, unsigned int nlines);

/* Marks a line as held by another consumer: requesting it fails with EBUSY. */
void fake_gpio_set_busy(const char *chip, unsigned int offset);

/* Makes gpio_get() and gpio_set() fail with EIO (true) or work again (false). */
void fake_gpio_fail_io(bool fail);

/*
 * Moves an input's physical LEVEL (0 or 1), as a reed switch closing or opening would. If the
 * level changes and the line is requested for edges, an edge event becomes pending on it.
 */
void fake_gpio_set_level(const char *chip, unsigned int offset, int level);

/* The physical level of a line. */
int fake_gpio_level(const char *chip, unsigned int offset);

/* How many lines are requested now, on all chips; and how many chip handles are open. */
unsigned int fake_gpio_requested(void);
unsigned int fake_gpio_chips_open(void);

/* The record of line operations since the last reset or clear (see above). */
const char *fake_gpio_record(void);
void fake_gpio_record_clear(void);

#endif
