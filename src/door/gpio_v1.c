/*
 * gpio_line_v1: gpio_line.h over libgpiod 1.x (1.6 is what Debian 12 ships). With
 * gpio_line_v2.c it is the only code that includes <gpiod.h>; CMake builds one of the two.
 *
 * In 1.x a line object belongs to its chip and is requested in place, so a gpio_line here is
 * only a small handle around it. Nothing here logs or formats messages; errno carries libgpiod's
 * reason back to backend_gpiod.c.
 */
#include <errno.h>
#include <gpiod.h>
#include <stdlib.h>
#include <time.h>

#include "gpio.h"

/* Events read per gpiod_line_event_read_multiple() call, and per gpio_read_events() call. */
#define GPIO_EVENT_BATCH 16
#define GPIO_EVENTS_MAX  64

struct gpio_chip {
	struct gpiod_chip *chip;
};

struct gpio_line {
	struct gpiod_line *line;
	bool edges; /* requested for edge events, so it has an event descriptor */
};

struct gpio_chip *
gpio_chip_open(const char *name)
{
	struct gpio_chip *c;
	int saved;

	c = malloc(sizeof(*c));
	if (c == NULL)
		return NULL;
	/*
	 * gpiod_chip_open_lookup() takes a name, a number, a label or a /dev/ path; any other
	 * absolute path (a udev symlink elsewhere) is opened as the path it is. The lookup can
	 * fail without setting errno when nothing matches, hence the ENOENT default.
	 */
	errno = 0;
	if (name[0] == '/')
		c->chip = gpiod_chip_open(name);
	else
		c->chip = gpiod_chip_open_lookup(name);
	if (c->chip == NULL) {
		saved = errno != 0 ? errno : ENOENT;
		free(c);
		errno = saved;
		return NULL;
	}
	return c;
}

unsigned int
gpio_chip_num_lines(const struct gpio_chip *chip)
{
	return gpiod_chip_num_lines(chip->chip);
}

void
gpio_chip_close(struct gpio_chip *chip)
{
	if (chip == NULL)
		return;
	gpiod_chip_close(chip->chip);
	free(chip);
}

/* Wraps line OFFSET of CHIP in a handle, before it is requested. */
static struct gpio_line *
line_new(struct gpio_chip *chip, unsigned int offset)
{
	struct gpio_line *l;

	l = calloc(1, sizeof(*l));
	if (l == NULL)
		return NULL;
	l->line = gpiod_chip_get_line(chip->chip, offset);
	if (l->line == NULL) {
		int saved = errno;

		free(l);
		errno = saved;
		return NULL;
	}
	return l;
}

/* Frees a handle whose request failed, keeping the request's errno. */
static struct gpio_line *
line_fail(struct gpio_line *l)
{
	int saved = errno;

	free(l);
	errno = saved;
	return NULL;
}

struct gpio_line *
gpio_request_output(struct gpio_chip *chip, unsigned int offset, const char *consumer,
                    bool active_low, int initial)
{
	int flags = active_low ? GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW : 0;
	struct gpio_line *l = line_new(chip, offset);

	if (l == NULL)
		return NULL;
	/* The default value goes into the request itself, so the pin never shows another. */
	if (gpiod_line_request_output_flags(l->line, consumer, flags, initial) != 0)
		return line_fail(l);
	return l;
}

struct gpio_line *
gpio_request_edges(struct gpio_chip *chip, unsigned int offset, const char *consumer,
                   bool active_low)
{
	int flags = active_low ? GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW : 0;
	struct gpio_line *l = line_new(chip, offset);

	if (l == NULL)
		return NULL;
	if (gpiod_line_request_both_edges_events_flags(l->line, consumer, flags) != 0)
		return line_fail(l);
	l->edges = true;
	return l;
}

int
gpio_line_fd(const struct gpio_line *line)
{
	return line->edges ? gpiod_line_event_get_fd(line->line) : -1;
}

int
gpio_get(struct gpio_line *line)
{
	return gpiod_line_get_value(line->line);
}

int
gpio_set(struct gpio_line *line, int value)
{
	return gpiod_line_set_value(line->line, value);
}

/*
 * The event descriptor blocks on read, so each read is preceded by a zero-timeout wait: a read
 * only ever happens when the kernel has an event queued, and the daemon never stalls here.
 */
int
gpio_read_events(struct gpio_line *line)
{
	struct gpiod_line_event events[GPIO_EVENT_BATCH];
	const struct timespec now = {0, 0};
	int total = 0;
	int n;

	if (!line->edges) {
		errno = EINVAL;
		return -1;
	}
	while (total < GPIO_EVENTS_MAX) {
		n = gpiod_line_event_wait(line->line, &now);
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		n = gpiod_line_event_read_multiple(line->line, events, GPIO_EVENT_BATCH);
		if (n < 0)
			return -1;
		total += n;
	}
	return total;
}

void
gpio_release(struct gpio_line *line)
{
	if (line == NULL)
		return;
	gpiod_line_release(line->line);
	free(line);
}
