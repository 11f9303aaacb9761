/*
 * Unit tests of the daemon's door driver (src/door/driver.c) with a fake clock: press timing
 * and sequences, the pulse-interval rate limit, the travel timeout and its hook, auto-close
 * (warning first, only after a normal opening, never after a stop or a reversal, retried when
 * rate limited), and the relay released on close. The door is a gpiod door on the fake line
 * API (fake_gpio.c), so the test plays the reed switches by hand and reads the relay pin.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "driver.h"
#include "fake_gpio.h"

#define CHIP   "gpiochip0"
#define RELAY  17
#define CLOSED 27
#define OPEN   22

/* What the hooks saw. */
static struct {
	unsigned changes, timeouts, warnings, auto_closed;
	enum door_state last_to, timeout_was;
	unsigned warn_seconds, auto_presses;
	enum cmd_reason auto_reason;
} seen;

static void
on_changed(void *arg, struct driver *gd, struct door_change c)
{
	(void)arg;
	(void)gd;
	seen.changes++;
	seen.last_to = c.to;
}

static void
on_timeout(void *arg, struct driver *gd, enum door_state was)
{
	(void)arg;
	(void)gd;
	seen.timeouts++;
	seen.timeout_was = was;
}

static void
on_warning(void *arg, struct driver *gd, unsigned seconds_left)
{
	(void)arg;
	(void)gd;
	seen.warnings++;
	seen.warn_seconds = seconds_left;
}

static void
on_auto_closed(void *arg, struct driver *gd, enum cmd_reason r, unsigned presses)
{
	(void)arg;
	(void)gd;
	seen.auto_closed++;
	seen.auto_reason = r;
	seen.auto_presses = presses;
}

static const struct driver_hooks hooks = {on_changed, on_timeout, on_warning, on_auto_closed};

static struct config_door conf;
static struct driver gd;
static uint64_t now;

/* A two-switch gpiod door, closed, with the timings of a real opener. */
static int
setup(void **state)
{
	char err[256];

	(void)state;
	memset(&seen, 0, sizeof(seen));
	fake_gpio_reset();
	fake_gpio_add_chip(CHIP, 32);
	fake_gpio_set_level(CHIP, CLOSED, 1);
	memset(&conf, 0, sizeof(conf));
	strcpy(conf.name, "main");
	conf.backend = CONFIG_BACKEND_GPIOD;
	strcpy(conf.chip, CHIP);
	conf.relay_line = RELAY;
	conf.closed_line = CLOSED;
	conf.open_line = OPEN;
	conf.relay_pulse_ms = 500;
	conf.min_pulse_interval_ms = 1000;
	conf.travel_time_s = 15;
	conf.auto_close_s = 0;
	conf.auto_close_warning_s = 10;
	now = 1000000;
	if (driver_open(&gd, &conf, &hooks, NULL, now, err, sizeof(err)) != 0)
		fail_msg("driver_open: %s", err);
	assert_int_equal(gd.door.state, DOOR_CLOSED);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	driver_close(&gd);
	assert_int_equal(fake_gpio_requested(), 0);
	return 0;
}

/* Moves the fake clock to T and runs what fell due, as the poll loop would. */
static void
advance_to(uint64_t t)
{
	uint64_t d;

	while ((d = driver_deadline(&gd)) <= t) {
		now = d;
		driver_tick(&gd, now);
	}
	now = t;
	driver_tick(&gd, now);
}

/* A reed switch changes: the level, then the backend's read as after its fd woke us. */
static void
sensor(unsigned line, int level)
{
	fake_gpio_set_level(CHIP, line, level);
	driver_sensors(&gd, now);
	advance_to(now + 60); /* past the debounce */
}

static int
relay(void)
{
	return fake_gpio_level(CHIP, RELAY);
}

/* The door opens as a real one would after a press: leaves closed, reaches open. */
static void
open_door(void)
{
	unsigned presses;

	assert_int_equal(driver_act(&gd, DOOR_GOAL_OPEN, now, &presses), CMD_OK);
	assert_int_equal(presses, 1);
	sensor(CLOSED, 0);
	assert_int_equal(gd.door.state, DOOR_OPENING);
	advance_to(now + 5000);
	sensor(OPEN, 1);
	assert_int_equal(gd.door.state, DOOR_OPEN);
}

static void
test_doors_PressHoldsForPulseThenReleases(void **state)
{
	unsigned presses;

	(void)state;
	assert_int_equal(driver_act(&gd, DOOR_GOAL_TOGGLE, now, &presses), CMD_OK);
	assert_int_equal(relay(), 1);
	assert_int_equal(driver_deadline(&gd), now + 500);
	advance_to(now + 499);
	assert_int_equal(relay(), 1);
	advance_to(now + 1);
	assert_int_equal(relay(), 0);
}

static void
test_doors_RateLimitedWithinInterval(void **state)
{
	unsigned presses;
	uint64_t t0 = now;

	(void)state;
	assert_int_equal(driver_act(&gd, DOOR_GOAL_TOGGLE, now, &presses), CMD_OK);
	advance_to(t0 + 999);
	assert_int_equal(driver_act(&gd, DOOR_GOAL_TOGGLE, now, &presses), CMD_RATE_LIMITED);
	/* A command that needs no press is never rate limited. */
	assert_int_equal(driver_act(&gd, DOOR_GOAL_CLOSE, now, &presses), CMD_OK);
	assert_int_equal(presses, 0);
	advance_to(t0 + 1000);
	assert_int_equal(driver_act(&gd, DOOR_GOAL_TOGGLE, now, &presses), CMD_OK);
	assert_int_equal(presses, 1);
}

/* Close on an opening door: two presses, spaced by the interval, each one a full pulse. */
static void
test_doors_TwoPressSequence(void **state)
{
	unsigned presses;
	uint64_t t0;

	(void)state;
	open_door();
	sensor(OPEN, 0);
	assert_int_equal(gd.door.state, DOOR_CLOSING);
	advance_to(now + 2000);
	/* Now make it open again (opening) so that close needs stop + reverse. */
	gd.door.state = DOOR_OPENING;
	gd.door.dir = DOOR_DIR_UP;
	gd.door.move_start_ms = now;
	t0 = now;
	assert_int_equal(driver_act(&gd, DOOR_GOAL_CLOSE, now, &presses), CMD_OK);
	assert_int_equal(presses, 2);
	assert_int_equal(gd.door.state, DOOR_STOPPED);
	assert_int_equal(relay(), 1);
	advance_to(t0 + 500);
	assert_int_equal(relay(), 0);
	/* A new command while the sequence runs is refused. */
	assert_int_equal(driver_act(&gd, DOOR_GOAL_TOGGLE, now, &presses), CMD_RATE_LIMITED);
	advance_to(t0 + 999);
	assert_int_equal(relay(), 0);
	advance_to(t0 + 1000);
	assert_int_equal(relay(), 1);
	assert_int_equal(gd.door.state, DOOR_CLOSING);
	advance_to(t0 + 1500);
	assert_int_equal(relay(), 0);
	assert_int_equal(gd.presses_left, 0);
}

static void
test_doors_TravelTimeoutStopsAndTells(void **state)
{
	unsigned presses;

	(void)state;
	assert_int_equal(driver_act(&gd, DOOR_GOAL_OPEN, now, &presses), CMD_OK);
	sensor(CLOSED, 0);
	assert_int_equal(gd.door.state, DOOR_OPENING);
	advance_to(now + 14000);
	assert_int_equal(seen.timeouts, 0);
	advance_to(now + 1000);
	assert_int_equal(gd.door.state, DOOR_STOPPED);
	assert_int_equal(seen.timeouts, 1);
	assert_int_equal(seen.timeout_was, DOOR_OPENING);
}

static void
test_doors_AutoCloseWarnsThenCloses(void **state)
{
	uint64_t opened;

	(void)state;
	conf.auto_close_s = 60;
	open_door();
	/* Armed when the open switch was believed (after its debounce), not when we looked. */
	assert_true(gd.auto_close_at != 0);
	opened = gd.auto_close_at - 60000;
	assert_true(opened <= now);
	advance_to(opened + 49999);
	assert_int_equal(seen.warnings, 0);
	advance_to(opened + 50000);
	assert_int_equal(seen.warnings, 1);
	assert_int_equal(seen.warn_seconds, 10);
	assert_int_equal(relay(), 0);
	advance_to(opened + 59999);
	assert_int_equal(seen.auto_closed, 0);
	advance_to(opened + 60000);
	assert_int_equal(seen.auto_closed, 1);
	assert_int_equal(seen.auto_reason, CMD_OK);
	assert_int_equal(seen.auto_presses, 1);
	assert_int_equal(relay(), 1);
	/* Once: the timer does not fire again while the door is closing. */
	advance_to(now + 120000);
	assert_int_equal(seen.auto_closed, 1);
}

/* A door that stopped on its way is left alone, however long it stands. */
static void
test_doors_AutoCloseNeverAfterStop(void **state)
{
	unsigned presses;

	(void)state;
	conf.auto_close_s = 60;
	assert_int_equal(driver_act(&gd, DOOR_GOAL_OPEN, now, &presses), CMD_OK);
	sensor(CLOSED, 0);
	advance_to(now + 2000);
	assert_int_equal(driver_act(&gd, DOOR_GOAL_STOP, now, &presses), CMD_OK);
	assert_int_equal(gd.door.state, DOOR_STOPPED);
	advance_to(now + 600000);
	assert_int_equal(seen.warnings, 0);
	assert_int_equal(seen.auto_closed, 0);
}

/* Closing, then back to open without a command: the opener reversed (an obstruction). */
static void
test_doors_AutoCloseNeverAfterReversal(void **state)
{
	(void)state;
	conf.auto_close_s = 60;
	open_door();
	advance_to(now + 60000); /* auto-close presses */
	assert_int_equal(seen.auto_closed, 1);
	sensor(OPEN, 0);
	assert_int_equal(gd.door.state, DOOR_CLOSING);
	advance_to(now + 3000);
	sensor(OPEN, 1); /* back up: something was in the way */
	assert_int_equal(gd.door.state, DOOR_OPEN);
	advance_to(now + 600000);
	assert_int_equal(seen.auto_closed, 1);
}

/* An auto-close that falls inside the pulse interval waits for it instead of giving up. */
static void
test_doors_AutoCloseRetriesWhenRateLimited(void **state)
{
	unsigned presses;

	(void)state;
	conf.auto_close_s = 1;
	conf.auto_close_warning_s = 0;
	conf.min_pulse_interval_ms = 5000;
	assert_int_equal(driver_act(&gd, DOOR_GOAL_OPEN, now, &presses), CMD_OK);
	sensor(CLOSED, 0);
	advance_to(now + 200);
	sensor(OPEN, 1);
	advance_to(now + 1000);
	assert_int_equal(seen.auto_closed, 1);
	assert_int_equal(seen.auto_reason, CMD_RATE_LIMITED);
	assert_int_equal(relay(), 0);
	advance_to(now + 5000);
	assert_int_equal(seen.auto_closed, 2);
	assert_int_equal(seen.auto_reason, CMD_OK);
	assert_int_equal(relay(), 1);
}

/* A door found open at start is armed: after a restart an open door still closes itself. */
static void
test_doors_AutoCloseArmedWhenOpenAtStart(void **state)
{
	char err[256];

	(void)state;
	driver_close(&gd);
	fake_gpio_set_level(CHIP, CLOSED, 0);
	fake_gpio_set_level(CHIP, OPEN, 1);
	conf.auto_close_s = 30;
	assert_int_equal(driver_open(&gd, &conf, &hooks, NULL, now, err, sizeof(err)), 0);
	assert_int_equal(gd.door.state, DOOR_OPEN);
	advance_to(now + 30000);
	assert_int_equal(seen.auto_closed, 1);
}

static void
test_doors_CloseReleasesRelay(void **state)
{
	unsigned presses;

	(void)state;
	assert_int_equal(driver_act(&gd, DOOR_GOAL_TOGGLE, now, &presses), CMD_OK);
	assert_int_equal(relay(), 1);
	driver_close(&gd);
	assert_int_equal(relay(), 0);
	assert_non_null(strstr(fake_gpio_record(), "set 17 0"));
	/* teardown closes again: harmless. */
}

int
main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_doors_PressHoldsForPulseThenReleases),
	    T(test_doors_RateLimitedWithinInterval),
	    T(test_doors_TwoPressSequence),
	    T(test_doors_TravelTimeoutStopsAndTells),
	    T(test_doors_AutoCloseWarnsThenCloses),
	    T(test_doors_AutoCloseNeverAfterStop),
	    T(test_doors_AutoCloseNeverAfterReversal),
	    T(test_doors_AutoCloseRetriesWhenRateLimited),
	    T(test_doors_AutoCloseArmedWhenOpenAtStart),
	    T(test_doors_CloseReleasesRelay),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
