/*
 * backend_gpiod: one door wired to a board's GPIO lines, through libgpiod 1.6 (Debian 12).
 *
 * It owns the chip handle, the relay output line, the closed and optional open reed switch
 * inputs with their edge events, and one epoll descriptor that gathers the switches' event
 * descriptors, so the daemon polls a single descriptor per door whichever switches exist. Every
 * call that depends on the libgpiod version lives in this file and nowhere else.
 *
 * It never interprets edges (the daemon re-reads the levels and its door machine debounces
 * them), never times the relay pulse, never retries and never logs: errors go back through err
 * and errno. It never leaves the relay energised when it lets go of the lines.
 */
#include <errno.h>
#include <gpiod.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "backend.h"
#include "backend_impl.h"

#define GPIO_CONSUMER "garaged"

/* Events read per switch per dispatch: enough for a bouncing reed switch, bounded all the same. */
#define GPIO_EVENTS_MAX 16

enum {
	GPIO_CLOSED = 0,
	GPIO_OPEN,
	GPIO_NSENSORS,
};

static const char *const gpio_sensor_role[GPIO_NSENSORS] = {"closed sensor", "open sensor"};

struct gpio {
	struct backend base; /* first: backend.c holds a pointer to it */
	struct gpiod_chip *chip;
	struct gpiod_line *relay;                 /* requested as output, or NULL */
	struct gpiod_line *sensor[GPIO_NSENSORS]; /* requested for both edges, or NULL */
	int epfd;
};

/* Releases whatever has been requested so far, relay first and at its released level. */
static void
gpio_free(struct gpio *g)
{
	if (g->relay != NULL) {
		(void)gpiod_line_set_value(g->relay, 0);
		gpiod_line_release(g->relay);
	}
	for (int i = 0; i < GPIO_NSENSORS; i++) {
		if (g->sensor[i] != NULL)
			gpiod_line_release(g->sensor[i]);
	}
	if (g->epfd >= 0)
		close(g->epfd);
	if (g->chip != NULL)
		gpiod_chip_close(g->chip);
	free(g);
}

static struct gpiod_line *
gpio_line(struct gpio *g, const struct config_door *door, int offset, char *err, size_t errlen)
{
	struct gpiod_line *line;
	int saved;

	/* Checked here so that the message names the chip and the line the user wrote. */
	if (offset < 0 || (unsigned int)offset >= gpiod_chip_num_lines(g->chip)) {
		snprintf(err, errlen, "gpio chip '%s' has no line %d", door->chip, offset);
		errno = ENOENT;
		return NULL;
	}
	line = gpiod_chip_get_line(g->chip, (unsigned int)offset);
	if (line == NULL) {
		saved = errno;
		snprintf(err, errlen, "gpio chip '%s' line %d: %s", door->chip, offset,
		         strerror(saved));
		errno = saved;
	}
	return line;
}

static void
gpio_request_failed(const struct config_door *door, int offset, const char *role, char *err,
                    size_t errlen)
{
	int saved = errno;

	snprintf(err, errlen, "gpio chip '%s' line %d (%s): %s", door->chip, offset, role,
	         strerror(saved));
	errno = saved;
}

static struct backend *
gpio_open(const struct config_door *door, char *err, size_t errlen)
{
	const int offsets[GPIO_NSENSORS] = {door->closed_line, door->open_line};
	int flags = door->active_low ? GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW : 0;
	struct gpiod_line *line;
	struct epoll_event ev;
	struct gpio *g;
	int saved;

	if (door->relay_line < 0 || door->closed_line < 0) {
		snprintf(err, errlen, "backend gpiod needs relay_line and closed_line");
		errno = EINVAL;
		return NULL;
	}
	g = calloc(1, sizeof(*g));
	if (g == NULL) {
		snprintf(err, errlen, "gpio chip '%s': %s", door->chip, strerror(errno));
		return NULL;
	}
	g->epfd = -1;

	/*
	 * gpiod_chip_open_lookup() takes a name, a number, a label or a /dev/ path; any other
	 * absolute path (a udev symlink elsewhere) is opened as the path it is.
	 */
	errno = 0;
	if (door->chip[0] == '/')
		g->chip = gpiod_chip_open(door->chip);
	else
		g->chip = gpiod_chip_open_lookup(door->chip);
	if (g->chip == NULL) {
		saved = errno != 0 ? errno : ENOENT;
		snprintf(err, errlen, "gpio chip '%s': %s", door->chip, strerror(saved));
		goto fail;
	}

	/* The relay is requested at its released level so that opening never presses the button. */
	line = gpio_line(g, door, door->relay_line, err, errlen);
	if (line == NULL) {
		saved = errno;
		goto fail;
	}
	if (gpiod_line_request_output_flags(line, GPIO_CONSUMER, flags, 0) != 0) {
		saved = errno;
		gpio_request_failed(door, door->relay_line, "relay", err, errlen);
		goto fail;
	}
	g->relay = line;

	g->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (g->epfd < 0) {
		saved = errno;
		snprintf(err, errlen, "gpio chip '%s': epoll: %s", door->chip, strerror(saved));
		goto fail;
	}
	for (int i = 0; i < GPIO_NSENSORS; i++) {
		if (offsets[i] < 0)
			continue; /* only the open switch is optional; checked above */
		line = gpio_line(g, door, offsets[i], err, errlen);
		if (line == NULL) {
			saved = errno;
			goto fail;
		}
		if (gpiod_line_request_both_edges_events_flags(line, GPIO_CONSUMER, flags) != 0) {
			saved = errno;
			gpio_request_failed(door, offsets[i], gpio_sensor_role[i], err, errlen);
			goto fail;
		}
		g->sensor[i] = line;
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN;
		ev.data.u32 = (uint32_t)i;
		if (epoll_ctl(g->epfd, EPOLL_CTL_ADD, gpiod_line_event_get_fd(line), &ev) != 0) {
			saved = errno;
			gpio_request_failed(door, offsets[i], gpio_sensor_role[i], err, errlen);
			goto fail;
		}
	}
	g->base.has_open_sensor = door->open_line >= 0;
	return &g->base;

fail:
	gpio_free(g);
	errno = saved;
	return NULL;
}

static void
gpio_close(struct backend *b)
{
	gpio_free((struct gpio *)b);
}

static int
gpio_relay(struct backend *b, bool on)
{
	struct gpio *g = (struct gpio *)b;

	return gpiod_line_set_value(g->relay, on ? 1 : 0) == 0 ? 0 : -1;
}

static int
gpio_read(struct backend *b, struct backend_levels *out)
{
	struct gpio *g = (struct gpio *)b;
	int v[GPIO_NSENSORS] = {0, 0};

	for (int i = 0; i < GPIO_NSENSORS; i++) {
		if (g->sensor[i] == NULL)
			continue;
		v[i] = gpiod_line_get_value(g->sensor[i]);
		if (v[i] < 0)
			return -1;
	}
	out->closed = v[GPIO_CLOSED] == 1;
	out->open = v[GPIO_OPEN] == 1;
	return 0;
}

static int
gpio_fd(const struct backend *b)
{
	return ((const struct gpio *)b)->epfd;
}

/*
 * Reads away the edge events of the switches that have some, without blocking: the events
 * themselves are not needed, because the daemon reads the levels next. One read per switch
 * is bounded; if more remain, the epoll descriptor stays readable and the daemon comes back.
 */
static int
gpio_dispatch(struct backend *b)
{
	struct gpio *g = (struct gpio *)b;
	struct gpiod_line_event events[GPIO_EVENTS_MAX];
	struct epoll_event ready[GPIO_NSENSORS];
	int n;

	do {
		n = epoll_wait(g->epfd, ready, GPIO_NSENSORS, 0);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	for (int i = 0; i < n; i++) {
		uint32_t which = ready[i].data.u32;

		if (which >= GPIO_NSENSORS || g->sensor[which] == NULL)
			continue;
		if (gpiod_line_event_read_multiple(g->sensor[which], events, GPIO_EVENTS_MAX) < 0)
			return -1;
	}
	return 0;
}

const struct backend_ops backend__gpiod_ops = {
    .open = gpio_open,
    .close = gpio_close,
    .relay = gpio_relay,
    .read = gpio_read,
    .fd = gpio_fd,
    .dispatch = gpio_dispatch,
};
