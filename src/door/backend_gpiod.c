/*
 * backend_gpiod: one door wired to a board's GPIO lines.
 *
 * It owns the meaning of a gpiod door's keys: which line is the relay and which are the closed
 * and optional open reed switches, active_low for all of them, the relay requested at its
 * released level and released again on every way out, and one epoll descriptor that gathers
 * the switches' event descriptors, so the daemon polls a single descriptor per door whichever
 * switches exist. Its errors name the chip, the line and the line's role, as the user wrote
 * them in garaged.conf.
 *
 * It reaches the lines only through gpio_line.h, never libgpiod itself: the libgpiod 1.x/2.x
 * difference lives in gpio_line_v1.c and gpio_line_v2.c, and the unit tests put an in-memory
 * chip in their place. It never interprets edges (the daemon re-reads the levels and its door
 * machine debounces them), never times the relay pulse, never retries and never logs: errors go
 * back through err and errno.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "backend.h"
#include "backend_impl.h"
#include "gpio.h"

/* The name other programs (gpioinfo) see on the lines while garaged holds them. */
#define HW_CONSUMER "garaged"

enum {
	HW_CLOSED = 0,
	HW_OPEN,
	HW_NSENSORS,
};

static const char *const hw_sensor_role[HW_NSENSORS] = {"closed sensor", "open sensor"};

struct hw {
	struct backend base; /* first: backend.c holds a pointer to it */
	struct gpio_chip *chip;
	struct gpio_line *relay;               /* requested as output, or NULL */
	struct gpio_line *sensor[HW_NSENSORS]; /* requested for both edges, or NULL */
	int epfd;
};

/*
 * Lets go of whatever has been requested so far. The relay goes first, driven to its released
 * level before it is given back, because the kernel leaves a released output where it was: an
 * energised relay would stay pressed until something else took the line.
 */
static void
hw_free(struct hw *h)
{
	if (h->relay != NULL) {
		(void)gpio_set(h->relay, 0);
		gpio_release(h->relay);
	}
	for (int i = 0; i < HW_NSENSORS; i++)
		gpio_release(h->sensor[i]);
	if (h->epfd >= 0)
		close(h->epfd);
	gpio_chip_close(h->chip);
	free(h);
}

/*
 * Checks that the chip has line OFFSET before it is requested, so that a line number written
 * for another board gets a message with the chip's size rather than libgpiod's bare EINVAL.
 */
static int
hw_check_line(const struct hw *h, const struct config_door *door, int offset, const char *role,
              char *err, size_t errlen)
{
	unsigned int n = gpio_chip_num_lines(h->chip);

	if (offset >= 0 && (unsigned int)offset < n)
		return 0;
	if (n == 0)
		snprintf(err, errlen,
		         "gpio chip '%s' line %d (%s): no such line; the chip has none", door->chip,
		         offset, role);
	else
		snprintf(err, errlen,
		         "gpio chip '%s' line %d (%s): no such line; the chip has lines 0 to %u",
		         door->chip, offset, role, n - 1);
	errno = ENOENT;
	return -1;
}

static void
hw_line_failed(const struct config_door *door, int offset, const char *role, char *err,
               size_t errlen)
{
	int saved = errno;

	snprintf(err, errlen, "gpio chip '%s' line %d (%s): %s", door->chip, offset, role,
	         strerror(saved));
	errno = saved;
}

static struct backend *
hw_open(const struct config_door *door, char *err, size_t errlen)
{
	const int offsets[HW_NSENSORS] = {door->closed_line, door->open_line};
	struct epoll_event ev;
	struct hw *h;
	int saved;

	if (door->relay_line < 0 || door->closed_line < 0) {
		snprintf(err, errlen, "backend gpiod needs relay_line and closed_line");
		errno = EINVAL;
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (h == NULL) {
		saved = errno;
		snprintf(err, errlen, "gpio chip '%s': %s", door->chip, strerror(saved));
		errno = saved;
		return NULL;
	}
	h->epfd = -1;

	h->chip = gpio_chip_open(door->chip);
	if (h->chip == NULL) {
		saved = errno;
		snprintf(err, errlen, "gpio chip '%s': %s", door->chip, strerror(saved));
		goto fail;
	}

	/* The relay is requested at its released level so that opening never presses the button. */
	if (hw_check_line(h, door, door->relay_line, "relay", err, errlen) != 0) {
		saved = errno;
		goto fail;
	}
	h->relay = gpio_request_output(h->chip, (unsigned int)door->relay_line, HW_CONSUMER,
	                               door->active_low, 0);
	if (h->relay == NULL) {
		saved = errno;
		hw_line_failed(door, door->relay_line, "relay", err, errlen);
		goto fail;
	}

	h->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (h->epfd < 0) {
		saved = errno;
		snprintf(err, errlen, "gpio chip '%s': epoll: %s", door->chip, strerror(saved));
		goto fail;
	}
	for (int i = 0; i < HW_NSENSORS; i++) {
		if (offsets[i] < 0)
			continue; /* only the open switch is optional; checked above */
		if (hw_check_line(h, door, offsets[i], hw_sensor_role[i], err, errlen) != 0) {
			saved = errno;
			goto fail;
		}
		h->sensor[i] = gpio_request_edges(h->chip, (unsigned int)offsets[i], HW_CONSUMER,
		                                  door->active_low);
		if (h->sensor[i] == NULL) {
			saved = errno;
			hw_line_failed(door, offsets[i], hw_sensor_role[i], err, errlen);
			goto fail;
		}
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN;
		ev.data.u32 = (uint32_t)i;
		if (epoll_ctl(h->epfd, EPOLL_CTL_ADD, gpio_line_fd(h->sensor[i]), &ev) != 0) {
			saved = errno;
			hw_line_failed(door, offsets[i], hw_sensor_role[i], err, errlen);
			goto fail;
		}
	}
	h->base.has_open_sensor = door->open_line >= 0;
	return &h->base;

fail:
	hw_free(h);
	errno = saved;
	return NULL;
}

static void
hw_close(struct backend *b)
{
	hw_free((struct hw *)b);
}

static int
hw_relay(struct backend *b, bool on)
{
	struct hw *h = (struct hw *)b;

	return gpio_set(h->relay, on ? 1 : 0) == 0 ? 0 : -1;
}

static int
hw_read(struct backend *b, struct backend_levels *out)
{
	struct hw *h = (struct hw *)b;
	int v[HW_NSENSORS] = {0, 0};

	for (int i = 0; i < HW_NSENSORS; i++) {
		if (h->sensor[i] == NULL)
			continue;
		v[i] = gpio_get(h->sensor[i]);
		if (v[i] < 0)
			return -1;
	}
	out->closed = v[HW_CLOSED] == 1;
	out->open = v[HW_OPEN] == 1;
	return 0;
}

static int
hw_fd(const struct backend *b)
{
	return ((const struct hw *)b)->epfd;
}

/*
 * Reads away the switches' pending edge events without blocking: the events themselves are not
 * needed, because the daemon reads the levels next. Each switch is drained in turn rather than
 * only those epoll reported, which costs one zero-timeout check per switch and cannot miss an
 * edge that arrived in between. If a bouncing switch left more than one call reads, the epoll
 * descriptor stays readable and the daemon comes back.
 */
static int
hw_dispatch(struct backend *b)
{
	struct hw *h = (struct hw *)b;

	for (int i = 0; i < HW_NSENSORS; i++) {
		if (h->sensor[i] != NULL && gpio_read_events(h->sensor[i]) < 0)
			return -1;
	}
	return 0;
}

const struct backend_ops backend__gpiod_ops = {
    .open = hw_open,
    .close = hw_close,
    .relay = hw_relay,
    .read = hw_read,
    .fd = hw_fd,
    .dispatch = hw_dispatch,
};
