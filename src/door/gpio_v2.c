/*
 * gpio_line_v2: gpio_line.h over libgpiod 2.x. With gpio_line_v1.c it is the only code that
 * includes <gpiod.h>; CMake builds this one when pkg-config reports libgpiod 2.0 or later.
 *
 * In 2.x lines are no longer objects of the chip: a request is made from a settings object, a
 * line config and a request config, and the request owns the descriptor. A gpio_line here is
 * one request of one line, plus an edge event buffer for an input. Chips are opened by path
 * only in 2.x, so a name is looked up under /dev here (1.x's lookup by label is not offered).
 * Nothing here logs or formats messages; errno carries libgpiod's reason back.
 */
#include <errno.h>
#include <gpiod.h>
#include <stdio.h>
#include <stdlib.h>

#include "gpio.h"

/* Events read per gpiod_line_request_read_edge_events() call, and per gpio_read_events() call. */
#define GPIO_EVENT_BATCH 16
#define GPIO_EVENTS_MAX  64

struct gpio_chip {
	struct gpiod_chip *chip;
	unsigned int nlines;
};

struct gpio_line {
	struct gpiod_line_request *req;
	unsigned int offset;
	struct gpiod_edge_event_buffer *events; /* edge-requested lines only, else NULL */
};

/* "/dev/gpiochip0" for "gpiochip0", and for "0" as 1.x's lookup accepted; paths as they are. */
static int
chip_path(const char *name, char *buf, size_t len)
{
	const char *p = name;
	int n;

	while (*p >= '0' && *p <= '9')
		p++;
	if (name[0] == '/')
		n = snprintf(buf, len, "%s", name);
	else if (p != name && *p == '\0')
		n = snprintf(buf, len, "/dev/gpiochip%s", name);
	else
		n = snprintf(buf, len, "/dev/%s", name);
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

struct gpio_chip *
gpio_chip_open(const char *name)
{
	struct gpiod_chip_info *info;
	struct gpio_chip *c;
	char path[512];
	int saved;

	if (chip_path(name, path, sizeof(path)) != 0)
		return NULL;
	c = malloc(sizeof(*c));
	if (c == NULL)
		return NULL;
	c->chip = gpiod_chip_open(path);
	if (c->chip == NULL) {
		saved = errno;
		free(c);
		errno = saved;
		return NULL;
	}
	/* The line count is asked for once: 2.x only gives it through a chip info snapshot. */
	info = gpiod_chip_get_info(c->chip);
	if (info == NULL) {
		saved = errno;
		gpiod_chip_close(c->chip);
		free(c);
		errno = saved;
		return NULL;
	}
	c->nlines = (unsigned int)gpiod_chip_info_get_num_lines(info);
	gpiod_chip_info_free(info);
	return c;
}

unsigned int
gpio_chip_num_lines(const struct gpio_chip *chip)
{
	return chip->nlines;
}

void
gpio_chip_close(struct gpio_chip *chip)
{
	if (chip == NULL)
		return;
	gpiod_chip_close(chip->chip);
	free(chip);
}

/*
 * Requests OFFSET alone with SETTINGS, which the caller owns and frees. Returns the handle, or
 * NULL with errno set; either way the temporary config objects are freed.
 */
static struct gpio_line *
line_request(struct gpio_chip *chip, unsigned int offset, const char *consumer,
             struct gpiod_line_settings *settings)
{
	struct gpiod_request_config *rc;
	struct gpiod_line_config *lc;
	struct gpio_line *l;
	int saved = 0;

	l = calloc(1, sizeof(*l));
	if (l == NULL)
		return NULL;
	l->offset = offset;
	rc = gpiod_request_config_new();
	lc = gpiod_line_config_new();
	if (rc == NULL || lc == NULL) {
		saved = errno;
	} else {
		gpiod_request_config_set_consumer(rc, consumer);
		if (gpiod_line_config_add_line_settings(lc, &offset, 1, settings) != 0)
			saved = errno;
		else if ((l->req = gpiod_chip_request_lines(chip->chip, rc, lc)) == NULL)
			saved = errno;
	}
	if (lc != NULL)
		gpiod_line_config_free(lc);
	if (rc != NULL)
		gpiod_request_config_free(rc);
	if (l->req == NULL) {
		free(l);
		errno = saved != 0 ? saved : EIO;
		return NULL;
	}
	return l;
}

struct gpio_line *
gpio_request_output(struct gpio_chip *chip, unsigned int offset, const char *consumer,
                    bool active_low, int initial)
{
	struct gpiod_line_settings *s;
	struct gpio_line *l = NULL;
	int saved;

	s = gpiod_line_settings_new();
	if (s == NULL)
		return NULL;
	/* The output value goes into the request itself, so the pin never shows another. */
	if (gpiod_line_settings_set_direction(s, GPIOD_LINE_DIRECTION_OUTPUT) == 0 &&
	    gpiod_line_settings_set_output_value(s, initial ? GPIOD_LINE_VALUE_ACTIVE
	                                                    : GPIOD_LINE_VALUE_INACTIVE) == 0) {
		gpiod_line_settings_set_active_low(s, active_low);
		l = line_request(chip, offset, consumer, s);
	}
	saved = errno;
	gpiod_line_settings_free(s);
	errno = saved;
	return l;
}

struct gpio_line *
gpio_request_edges(struct gpio_chip *chip, unsigned int offset, const char *consumer,
                   bool active_low)
{
	struct gpiod_edge_event_buffer *buf;
	struct gpiod_line_settings *s;
	struct gpio_line *l = NULL;
	int saved;

	buf = gpiod_edge_event_buffer_new(GPIO_EVENT_BATCH);
	if (buf == NULL)
		return NULL;
	s = gpiod_line_settings_new();
	if (s != NULL) {
		if (gpiod_line_settings_set_direction(s, GPIOD_LINE_DIRECTION_INPUT) == 0 &&
		    gpiod_line_settings_set_edge_detection(s, GPIOD_LINE_EDGE_BOTH) == 0) {
			gpiod_line_settings_set_active_low(s, active_low);
			l = line_request(chip, offset, consumer, s);
		}
		saved = errno;
		gpiod_line_settings_free(s);
		errno = saved;
	}
	if (l == NULL) {
		saved = errno;
		gpiod_edge_event_buffer_free(buf);
		errno = saved;
		return NULL;
	}
	l->events = buf;
	return l;
}

int
gpio_line_fd(const struct gpio_line *line)
{
	return line->events != NULL ? gpiod_line_request_get_fd(line->req) : -1;
}

int
gpio_get(struct gpio_line *line)
{
	enum gpiod_line_value v = gpiod_line_request_get_value(line->req, line->offset);

	if (v == GPIOD_LINE_VALUE_ERROR)
		return -1;
	return v == GPIOD_LINE_VALUE_ACTIVE ? 1 : 0;
}

int
gpio_set(struct gpio_line *line, int value)
{
	return gpiod_line_request_set_value(
	    line->req, line->offset, value ? GPIOD_LINE_VALUE_ACTIVE : GPIOD_LINE_VALUE_INACTIVE);
}

/*
 * gpiod_line_request_read_edge_events() blocks when nothing is queued, so each read is preceded
 * by a zero-timeout wait: a read only happens when the kernel has an event for us.
 */
int
gpio_read_events(struct gpio_line *line)
{
	int total = 0;
	int n;

	if (line->events == NULL) {
		errno = EINVAL;
		return -1;
	}
	while (total < GPIO_EVENTS_MAX) {
		n = gpiod_line_request_wait_edge_events(line->req, 0);
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		n = gpiod_line_request_read_edge_events(line->req, line->events, GPIO_EVENT_BATCH);
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
	gpiod_line_request_release(line->req);
	if (line->events != NULL)
		gpiod_edge_event_buffer_free(line->events);
	free(line);
}
