/*
 * test-gpiod: the libgpiod door backend, driven through backend.h as the daemon drives it, over
 * the in-memory line API of fake_gpio.c instead of a kernel GPIO chip.
 *
 * What it pins down is what matters on a real door: the relay is requested at its released
 * level and is released again on every way out, before anything else is let go; active_low
 * inverts what the pins see; every error names the chip, the line and the line's role; a
 * failure part-way leaves no line requested; a sensor edge makes the one descriptor readable
 * until it is dispatched. Levels asserted are physical, the voltage a relay module would see.
 * Every test checks at its end that it left no line requested, no chip and no descriptor open.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "backend_assert.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "backend.h"
#include "fake_gpio.h"

#define CHIP "gpiochip0"

/* The door of docs/wiring.md: relay 17, closed 27, open 22 on a Raspberry Pi's 54 lines. */
static void
door_gpiod(struct config_door *d, int open_line, bool active_low)
{
	memset(d, 0, sizeof(*d));
	strcpy(d->name, "main");
	d->backend = CONFIG_BACKEND_GPIOD;
	strcpy(d->chip, CHIP);
	d->relay_line = 17;
	d->closed_line = 27;
	d->open_line = open_line;
	d->active_low = active_low;
	d->relay_pulse_ms = 500;
	d->min_pulse_interval_ms = 1000;
	d->travel_time_s = 15;
}

static struct backend *
open_ok(const struct config_door *d)
{
	char err[256] = "";
	struct backend *b = backend_open(d, err, sizeof(err));

	if (b == NULL)
		fail_msg("backend_open: %s", err);
	return b;
}

/* Opens a door that must fail; checks the message and errno, and that nothing is held. */
static void
open_fails(const struct config_door *d, int want_errno, const char *want)
{
	char err[256] = "";

	errno = 0;
	assert_null(backend_open(d, err, sizeof(err)));
	assert_int_equal(errno, want_errno);
	assert_string_equal(err, want);
	assert_int_equal(fake_gpio_requested(), 0);
	assert_int_equal(fake_gpio_chips_open(), 0);
}

static int fds_before;

static int
setup(void **state)
{
	(void)state;
	fake_gpio_reset();
	fake_gpio_add_chip(CHIP, 54);
	fds_before = count_fds();
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	assert_int_equal(fake_gpio_requested(), 0);
	assert_int_equal(fake_gpio_chips_open(), 0);
	assert_int_equal(count_fds(), fds_before);
	return 0;
}

static void
test_gpiod_OpenRequestsRelayReleased(void **state)
{
	struct config_door d;
	struct backend *b;

	(void)state;
	door_gpiod(&d, 22, false);
	b = open_ok(&d);
	assert_int_equal(fake_gpio_level(CHIP, 17), 0);
	assert_int_equal(fake_gpio_requested(), 3);
	assert_string_equal(fake_gpio_record(), "output 17 0\nedges 27\nedges 22\n");
	backend_close(b);

	/* Active-low: released is the high pin, and it is high from the request on, never low. */
	fake_gpio_record_clear();
	door_gpiod(&d, 22, true);
	b = open_ok(&d);
	assert_int_equal(fake_gpio_level(CHIP, 17), 1);
	assert_string_equal(fake_gpio_record(), "output 17 1\nedges 27\nedges 22\n");
	backend_close(b);
	assert_int_equal(fake_gpio_level(CHIP, 17), 1);
}

static void
test_gpiod_MissingChip(void **state)
{
	struct config_door d;

	(void)state;
	door_gpiod(&d, 22, false);
	strcpy(d.chip, "gpiochip-missing");
	open_fails(&d, ENOENT, "gpio chip 'gpiochip-missing': No such file or directory");
	assert_string_equal(fake_gpio_record(), "");
}

static void
test_gpiod_ChipByPath(void **state)
{
	struct config_door d;
	struct backend *b;

	(void)state;
	door_gpiod(&d, -1, false);
	strcpy(d.chip, "/dev/" CHIP);
	b = open_ok(&d);
	backend_close(b);
}

static void
test_gpiod_LineBeyondChip(void **state)
{
	static const struct {
		int relay, closed, open;
		const char *want;
	} cases[] = {
	    {17, 27, 22,
	     "gpio chip 'small' line 17 (relay): no such line; the chip has lines 0 to 7"},
	    {1, 8, -1,
	     "gpio chip 'small' line 8 (closed sensor): no such line; the chip has lines 0 to 7"},
	    {1, 2, 100,
	     "gpio chip 'small' line 100 (open sensor): no such line; the chip has lines 0 to 7"},
	};
	struct config_door d;

	(void)state;
	fake_gpio_add_chip("small", 8);
	fake_gpio_add_chip("empty", 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		door_gpiod(&d, cases[i].open, false);
		strcpy(d.chip, "small");
		d.relay_line = cases[i].relay;
		d.closed_line = cases[i].closed;
		open_fails(&d, ENOENT, cases[i].want);
		/* Whatever was requested before the bad line went back, the relay released. */
		assert_int_equal(fake_gpio_level("small", 1), 0);
	}
	door_gpiod(&d, -1, false);
	strcpy(d.chip, "empty");
	open_fails(&d, ENOENT,
	           "gpio chip 'empty' line 17 (relay): no such line; the chip has none");
}

static void
test_gpiod_BusyLineNamesRole(void **state)
{
	static const struct {
		unsigned int line;
		const char *want;
	} cases[] = {
	    {17, "gpio chip 'gpiochip0' line 17 (relay): Device or resource busy"},
	    {27, "gpio chip 'gpiochip0' line 27 (closed sensor): Device or resource busy"},
	    {22, "gpio chip 'gpiochip0' line 22 (open sensor): Device or resource busy"},
	};
	struct config_door d;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fake_gpio_reset();
		fake_gpio_add_chip(CHIP, 54);
		fake_gpio_set_busy(CHIP, cases[i].line);
		door_gpiod(&d, 22, false);
		open_fails(&d, EBUSY, cases[i].want);
		assert_null(strstr(fake_gpio_record(), "17 1\n"));
	}
}

/*
 * The last line fails after the relay and the closed switch were taken: both go back, relay
 * first and driven to its released level on the way (the high pin for an active-low module).
 */
static void
test_gpiod_FailurePartwayReleasesAll(void **state)
{
	struct config_door d;

	(void)state;
	fake_gpio_set_busy(CHIP, 22);
	door_gpiod(&d, 22, true);
	open_fails(&d, EBUSY,
	           "gpio chip 'gpiochip0' line 22 (open sensor): Device or resource busy");
	assert_string_equal(fake_gpio_record(),
	                    "output 17 1\nedges 27\nset 17 1\nrelease 17\nrelease 27\n");
	assert_int_equal(fake_gpio_level(CHIP, 17), 1);
}

static void
test_gpiod_NeedsLines(void **state)
{
	struct config_door d;

	(void)state;
	door_gpiod(&d, 22, false);
	d.closed_line = -1;
	open_fails(&d, EINVAL, "backend gpiod needs relay_line and closed_line");
	assert_string_equal(fake_gpio_record(), "");
}

static void
test_gpiod_RelaySetsLine(void **state)
{
	struct config_door d;
	struct backend *b;

	(void)state;
	door_gpiod(&d, 22, false);
	b = open_ok(&d);
	fake_gpio_record_clear();
	assert_int_equal(backend_relay(b, true), 0);
	assert_int_equal(fake_gpio_level(CHIP, 17), 1);
	assert_int_equal(backend_relay(b, false), 0);
	assert_int_equal(fake_gpio_level(CHIP, 17), 0);
	assert_string_equal(fake_gpio_record(), "set 17 1\nset 17 0\n");
	backend_close(b);

	door_gpiod(&d, 22, true);
	b = open_ok(&d);
	fake_gpio_record_clear();
	assert_int_equal(backend_relay(b, true), 0);
	assert_int_equal(fake_gpio_level(CHIP, 17), 0); /* an active-low module energises low */
	assert_int_equal(backend_relay(b, false), 0);
	assert_int_equal(fake_gpio_level(CHIP, 17), 1);
	assert_string_equal(fake_gpio_record(), "set 17 0\nset 17 1\n");
	backend_close(b);
}

static void
test_gpiod_ReadLevels(void **state)
{
	struct config_door d;
	struct backend *b;

	(void)state;
	door_gpiod(&d, 22, false);
	b = open_ok(&d);
	assert_levels(b, false, false);
	fake_gpio_set_level(CHIP, 27, 1);
	assert_levels(b, true, false);
	fake_gpio_set_level(CHIP, 27, 0);
	fake_gpio_set_level(CHIP, 22, 1);
	assert_levels(b, false, true);
	backend_close(b);

	/* A reed switch to ground with a pull-up: closed is the low pin. */
	fake_gpio_set_level(CHIP, 27, 1);
	fake_gpio_set_level(CHIP, 22, 1);
	door_gpiod(&d, 22, true);
	b = open_ok(&d);
	assert_levels(b, false, false);
	fake_gpio_set_level(CHIP, 27, 0);
	assert_levels(b, true, false);
	backend_close(b);
}

static void
test_gpiod_HasOpenSensorFollowsOpenLine(void **state)
{
	struct config_door d;
	struct backend *b;

	(void)state;
	door_gpiod(&d, -1, false);
	b = open_ok(&d);
	assert_false(backend_has_open_sensor(b));
	assert_int_equal(fake_gpio_requested(), 2);
	/* Without an open switch, line 22 is not ours and never reads as open. */
	fake_gpio_set_level(CHIP, 22, 1);
	assert_levels(b, false, false);
	assert_false(readable(b, 0));
	backend_close(b);

	door_gpiod(&d, 22, false);
	b = open_ok(&d);
	assert_true(backend_has_open_sensor(b));
	assert_int_equal(fake_gpio_requested(), 3);
	assert_levels(b, false, true);
	backend_close(b);
}

static void
test_gpiod_EdgeMakesFdReadable(void **state)
{
	struct config_door d;
	struct backend *b;

	(void)state;
	door_gpiod(&d, 22, false);
	b = open_ok(&d);
	assert_false(readable(b, 0));
	assert_int_equal(backend_dispatch(b), 0); /* nothing pending: returns, never blocks */

	fake_gpio_set_level(CHIP, 27, 1);
	assert_true(readable(b, 0));
	assert_int_equal(backend_dispatch(b), 0);
	assert_false(readable(b, 0));
	assert_levels(b, true, false);

	/* A bounce and an edge on each switch at once: one dispatch drains them all. */
	fake_gpio_set_level(CHIP, 27, 0);
	fake_gpio_set_level(CHIP, 27, 1);
	fake_gpio_set_level(CHIP, 27, 0);
	fake_gpio_set_level(CHIP, 22, 1);
	assert_true(readable(b, 0));
	assert_int_equal(backend_dispatch(b), 0);
	assert_false(readable(b, 10));
	assert_levels(b, false, true);

	/* The same level again is no edge. */
	fake_gpio_set_level(CHIP, 22, 1);
	assert_false(readable(b, 0));
	backend_close(b);
}

static void
test_gpiod_CloseReleasesRelayFirst(void **state)
{
	struct config_door d;
	struct backend *b;

	(void)state;
	door_gpiod(&d, 22, false);
	b = open_ok(&d);
	assert_int_equal(backend_relay(b, true), 0);
	fake_gpio_record_clear();
	backend_close(b); /* e.g. SIGTERM in the middle of a pulse */
	assert_string_equal(fake_gpio_record(), "set 17 0\nrelease 17\nrelease 27\nrelease 22\n");
	assert_int_equal(fake_gpio_level(CHIP, 17), 0);
	backend_close(NULL);
}

static void
test_gpiod_IoErrors(void **state)
{
	struct backend_levels lv;
	struct config_door d;
	struct backend *b;

	(void)state;
	door_gpiod(&d, 22, false);
	b = open_ok(&d);
	fake_gpio_fail_io(true);
	errno = 0;
	assert_int_equal(backend_relay(b, true), -1);
	assert_int_equal(errno, EIO);
	errno = 0;
	assert_int_equal(backend_read(b, &lv), -1);
	assert_int_equal(errno, EIO);
	fake_gpio_fail_io(false);
	assert_int_equal(fake_gpio_level(CHIP, 17), 0);
	backend_close(b);
}

/* Two doors on one chip share it; a line already taken by the first names its role. */
static void
test_gpiod_TwoDoorsOneChip(void **state)
{
	char err[256] = "";
	struct config_door d1, d2;
	struct backend *b1, *b2;

	(void)state;
	door_gpiod(&d1, -1, false);
	door_gpiod(&d2, -1, false);
	strcpy(d2.name, "side");
	d2.relay_line = 18;
	b1 = open_ok(&d1);
	errno = 0;
	assert_null(backend_open(&d2, err, sizeof(err)));
	assert_int_equal(errno, EBUSY);
	assert_string_equal(err, "gpio chip 'gpiochip0' line 27 (closed sensor): "
	                         "Device or resource busy");
	assert_int_equal(fake_gpio_requested(), 2); /* the first door's, untouched */
	assert_int_equal(fake_gpio_chips_open(), 1);
	d2.closed_line = 23;
	b2 = open_ok(&d2);
	assert_int_equal(fake_gpio_requested(), 4);
	assert_int_equal(backend_relay(b2, true), 0);
	assert_int_equal(fake_gpio_level(CHIP, 18), 1);
	assert_int_equal(fake_gpio_level(CHIP, 17), 0);
	backend_close(b2);
	backend_close(b1);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_gpiod_OpenRequestsRelayReleased),
	    T(test_gpiod_MissingChip),
	    T(test_gpiod_ChipByPath),
	    T(test_gpiod_LineBeyondChip),
	    T(test_gpiod_BusyLineNamesRole),
	    T(test_gpiod_FailurePartwayReleasesAll),
	    T(test_gpiod_NeedsLines),
	    T(test_gpiod_RelaySetsLine),
	    T(test_gpiod_ReadLevels),
	    T(test_gpiod_HasOpenSensorFollowsOpenLine),
	    T(test_gpiod_EdgeMakesFdReadable),
	    T(test_gpiod_CloseReleasesRelayFirst),
	    T(test_gpiod_IoErrors),
	    T(test_gpiod_TwoDoorsOneChip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
