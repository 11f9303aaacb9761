/*
 * fake_gpio: src/door/gpio.h over in-memory chips, for tests/unit/test-gpiod.c;
 * see fake_gpio.h for what a test can do with it. It models what backend_gpiod.c relies
 * on from the kernel: a line has one owner at a time, an output starts at the level it was
 * requested with, active_low inverts values between the caller and the pin, and an edge
 * request gets a descriptor that is readable while edge events are pending. It never checks
 * the order of calls; the tests do, from the record.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "fake_gpio.h"
#include "gpio.h"

#define FAKE_CHIPS      4
#define FAKE_LINES      64
#define FAKE_RECORD_MAX 4096

struct fake_line {
	int level; /* physical */
	bool busy; /* held by another consumer */
	struct gpio_line *owner;
};

struct fake_chip {
	char name[32];
	unsigned int nlines;
	struct fake_line line[FAKE_LINES];
};

struct gpio_chip {
	struct fake_chip *fc;
};

struct gpio_line {
	struct fake_chip *fc;
	unsigned int offset;
	bool active_low;
	bool output;
	int efd; /* edge lines: an eventfd counting pending edges; else -1 */
};

static struct fake_chip chips[FAKE_CHIPS];
static size_t nchips;
static unsigned int chips_open;
static bool fail_io;
static char record[FAKE_RECORD_MAX];
static size_t record_len;

static void
die(const char *what)
{
	fprintf(stderr, "fake_gpio: %s\n", what);
	abort();
}

static void
note(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(record + record_len, sizeof(record) - record_len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(record) - record_len)
		die("record full");
	record_len += (size_t)n;
}

static struct fake_chip *
find_chip(const char *name)
{
	if (strncmp(name, "/dev/", 5) == 0)
		name += 5;
	for (size_t i = 0; i < nchips; i++) {
		if (strcmp(chips[i].name, name) == 0)
			return &chips[i];
	}
	return NULL;
}

static struct fake_line *
find_line(const char *chip, unsigned int offset)
{
	struct fake_chip *fc = find_chip(chip);

	if (fc == NULL || offset >= fc->nlines)
		die("no such chip or line");
	return &fc->line[offset];
}

void
fake_gpio_reset(void)
{
	if (fake_gpio_requested() != 0 || chips_open != 0)
		die("reset with lines or chips still held");
	memset(chips, 0, sizeof(chips));
	nchips = 0;
	fail_io = false;
	fake_gpio_record_clear();
}

void
fake_gpio_add_chip(const char *name, unsigned int nlines)
{
	struct fake_chip *fc;

	if (nchips == FAKE_CHIPS || nlines > FAKE_LINES || strlen(name) >= sizeof(fc->name))
		die("too many chips or lines");
	fc = &chips[nchips++];
	memset(fc, 0, sizeof(*fc));
	strcpy(fc->name, name);
	fc->nlines = nlines;
}

void
fake_gpio_set_busy(const char *chip, unsigned int offset)
{
	find_line(chip, offset)->busy = true;
}

void
fake_gpio_fail_io(bool fail)
{
	fail_io = fail;
}

void
fake_gpio_set_level(const char *chip, unsigned int offset, int level)
{
	struct fake_line *l = find_line(chip, offset);
	uint64_t one = 1;

	if (l->level == level)
		return;
	l->level = level;
	if (l->owner != NULL && l->owner->efd >= 0 &&
	    write(l->owner->efd, &one, sizeof(one)) != (ssize_t)sizeof(one))
		die("eventfd write");
}

int
fake_gpio_level(const char *chip, unsigned int offset)
{
	return find_line(chip, offset)->level;
}

unsigned int
fake_gpio_requested(void)
{
	unsigned int n = 0;

	for (size_t i = 0; i < nchips; i++) {
		for (unsigned int j = 0; j < chips[i].nlines; j++)
			n += chips[i].line[j].owner != NULL;
	}
	return n;
}

unsigned int
fake_gpio_chips_open(void)
{
	return chips_open;
}

const char *
fake_gpio_record(void)
{
	return record;
}

void
fake_gpio_record_clear(void)
{
	record[0] = '\0';
	record_len = 0;
}

/* gpio_line.h */

struct gpio_chip *
gpio_chip_open(const char *name)
{
	struct fake_chip *fc = find_chip(name);
	struct gpio_chip *c;

	if (fc == NULL) {
		errno = ENOENT;
		return NULL;
	}
	c = malloc(sizeof(*c));
	if (c == NULL)
		return NULL;
	c->fc = fc;
	chips_open++;
	return c;
}

unsigned int
gpio_chip_num_lines(const struct gpio_chip *chip)
{
	return chip->fc->nlines;
}

void
gpio_chip_close(struct gpio_chip *chip)
{
	if (chip == NULL)
		return;
	chips_open--;
	free(chip);
}

static struct gpio_line *
request(struct gpio_chip *chip, unsigned int offset, bool active_low, bool output)
{
	struct fake_line *fl;
	struct gpio_line *l;

	if (offset >= chip->fc->nlines) {
		errno = EINVAL;
		return NULL;
	}
	fl = &chip->fc->line[offset];
	if (fl->busy || fl->owner != NULL) {
		errno = EBUSY;
		return NULL;
	}
	l = calloc(1, sizeof(*l));
	if (l == NULL)
		return NULL;
	l->fc = chip->fc;
	l->offset = offset;
	l->active_low = active_low;
	l->output = output;
	l->efd = -1;
	if (!output) {
		l->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (l->efd < 0) {
			free(l);
			return NULL;
		}
	}
	fl->owner = l;
	return l;
}

struct gpio_line *
gpio_request_output(struct gpio_chip *chip, unsigned int offset, const char *consumer,
                    bool active_low, int initial)
{
	struct gpio_line *l;

	(void)consumer;
	l = request(chip, offset, active_low, true);
	if (l == NULL)
		return NULL;
	l->fc->line[offset].level = (initial != 0) != active_low;
	note("output %u %d\n", offset, l->fc->line[offset].level);
	return l;
}

struct gpio_line *
gpio_request_edges(struct gpio_chip *chip, unsigned int offset, const char *consumer,
                   bool active_low)
{
	struct gpio_line *l;

	(void)consumer;
	l = request(chip, offset, active_low, false);
	if (l != NULL)
		note("edges %u\n", offset);
	return l;
}

int
gpio_line_fd(const struct gpio_line *line)
{
	return line->efd;
}

int
gpio_get(struct gpio_line *line)
{
	if (fail_io) {
		errno = EIO;
		return -1;
	}
	return (line->fc->line[line->offset].level != 0) != line->active_low;
}

int
gpio_set(struct gpio_line *line, int value)
{
	if (!line->output)
		die("gpio_set on an input");
	if (fail_io) {
		errno = EIO;
		return -1;
	}
	line->fc->line[line->offset].level = (value != 0) != line->active_low;
	note("set %u %d\n", line->offset, line->fc->line[line->offset].level);
	return 0;
}

int
gpio_read_events(struct gpio_line *line)
{
	uint64_t n;

	if (line->efd < 0) {
		errno = EINVAL;
		return -1;
	}
	/* One read takes the whole count and leaves the eventfd unreadable, as a drain should. */
	if (read(line->efd, &n, sizeof(n)) != (ssize_t)sizeof(n))
		return errno == EAGAIN ? 0 : -1;
	return n > 64 ? 64 : (int)n;
}

void
gpio_release(struct gpio_line *line)
{
	if (line == NULL)
		return;
	if (line->fc->line[line->offset].owner != line)
		die("release of a line not held");
	line->fc->line[line->offset].owner = NULL;
	if (line->efd >= 0)
		close(line->efd);
	note("release %u\n", line->offset);
	free(line);
}
