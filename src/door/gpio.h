/*
 * gpio_line: the few GPIO character-device operations backend_gpiod.c needs, as one small API
 * over whichever libgpiod the system has. libgpiod 2.x replaced the 1.x line API wholesale, so
 * the calls into it live in exactly one file per major version: gpio_line_v1.c (libgpiod 1.6,
 * Debian 12) and gpio_line_v2.c (libgpiod 2.x); CMake builds the one pkg-config reports. The
 * unit tests build tests/unit/fake_gpio.c, an in-memory chip, in their place.
 *
 * An implementation opens chips, requests single lines and moves values and edge events; it
 * never decides what a line is for, never formats a message and never logs. Every value here is
 * logical: a line requested active-low reads 1 and is set with 1 when its pin is low, because
 * the kernel inverts it. Errors are reported as NULL or -1 with errno set.
 */
#ifndef GARAGED_GPIO_LINE_H
#define GARAGED_GPIO_LINE_H

#include <stdbool.h>

struct gpio_chip;
struct gpio_line;

/*
 * Opens a chip by name ("gpiochip0", looked up under /dev) or by path ("/dev/gpiochip0").
 * Returns NULL with errno set (ENOENT when there is no such chip).
 */
struct gpio_chip *gpio_chip_open(const char *name);

/* The number of lines on the chip: valid offsets are 0 to this minus one. */
unsigned int gpio_chip_num_lines(const struct gpio_chip *chip);

/* Closes the chip. Its lines must have been released first. NULL is fine. */
void gpio_chip_close(struct gpio_chip *chip);

/*
 * Requests line OFFSET as an output under CONSUMER's name, driven to INITIAL (0 or 1) from the
 * moment the request takes effect, so that no other level ever appears on the pin. Returns
 * NULL with errno set (EBUSY when someone else holds the line).
 */
struct gpio_line *gpio_request_output(struct gpio_chip *chip, unsigned int offset,
                                      const char *consumer, bool active_low, int initial);

/*
 * Requests line OFFSET as an input that reports both edges: gpio_line_fd() becomes readable
 * when an edge is pending. Returns NULL with errno set (EBUSY as above).
 */
struct gpio_line *gpio_request_edges(struct gpio_chip *chip, unsigned int offset,
                                     const char *consumer, bool active_low);

/*
 * The descriptor of an edge-requested line, for poll or epoll: readable while edge events are
 * pending. It stays owned by the line; never close it. -1 for an output line.
 */
int gpio_line_fd(const struct gpio_line *line);

/* Reads the line's logical value: 0 or 1, or -1 with errno set. */
int gpio_get(struct gpio_line *line);

/* Drives an output line to the logical VALUE (0 or 1). Returns 0, or -1 with errno set. */
int gpio_set(struct gpio_line *line, int value);

/*
 * Reads away the edge events pending on the line without ever blocking, at most a bounded
 * number per call (the descriptor stays readable if more remain). Returns how many were read,
 * 0 when none were pending, or -1 with errno set.
 */
int gpio_read_events(struct gpio_line *line);

/* Gives the line back to the kernel and frees the handle. NULL is fine. */
void gpio_release(struct gpio_line *line);

#endif
