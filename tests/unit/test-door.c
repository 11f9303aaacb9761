/*
 * Unit tests of the door state machine (src/core/door.c). The clock is a plain uint64_t that
 * each test advances by hand, so every deadline can be hit to the millisecond.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <string.h>

#include "door.h"

#define TRAVEL_MS   15000U
#define DEBOUNCE_MS 50U

/* The two sensor configurations every transition is tested in. */
static const struct door_params closed_only = {false, TRAVEL_MS, DEBOUNCE_MS};
static const struct door_params two_sensors = {true, TRAVEL_MS, DEBOUNCE_MS};

/* A macro rather than a function, so that a failure names the line of the test. */
#define assert_change(expr, want_changed, want_from, want_to)                                      \
	do {                                                                                       \
		struct door_change c_ = (expr);                                                    \
		assert_int_equal(c_.changed, (want_changed));                                      \
		assert_int_equal(c_.from, (want_from));                                            \
		assert_int_equal(c_.to, (want_to));                                                \
	} while (0)

#define assert_no_change(expr, state) assert_change((expr), false, (state), (state))

/*
 * Feeds a raw level at *now and lets it hold for exactly the debounce time. The level is
 * still pending the millisecond before and believed at the deadline.
 */
static struct door_change
settle_level(struct door *d, enum door_sensor which, bool active, uint64_t *now)
{
	enum door_state before = d->state;

	assert_no_change(door_sensor(d, which, active, *now), before);
	assert_true(d->sensor[which].pending);
	assert_int_equal(door_next_deadline(d), *now + DEBOUNCE_MS);
	*now += DEBOUNCE_MS - 1;
	assert_no_change(door_tick(d, *now), before);
	*now += 1;
	return door_tick(d, *now);
}

/* ---- door_init ---------------------------------------------------------------------------- */

static void
test_door_InitClosedOnlyClosed(void **state)
{
	struct door d;

	(void)state;
	door_init(&d, &closed_only, true, false, 1000);
	assert_int_equal(d.state, DOOR_CLOSED);
	assert_int_equal(d.dir, DOOR_DIR_NONE);
	assert_true(d.sensor[DOOR_SENSOR_CLOSED].raw);
	assert_true(d.sensor[DOOR_SENSOR_CLOSED].stable);
	assert_false(d.sensor[DOOR_SENSOR_CLOSED].pending);
	assert_int_equal(d.sensor[DOOR_SENSOR_CLOSED].changed_ms, 1000);
	assert_int_equal(door_next_deadline(&d), DOOR_NO_DEADLINE);
}

static void
test_door_InitClosedOnlyNeitherIsOpen(void **state)
{
	struct door d;

	(void)state;
	door_init(&d, &closed_only, false, false, 1000);
	assert_int_equal(d.state, DOOR_OPEN);
	assert_false(d.sensor[DOOR_SENSOR_CLOSED].stable);
	assert_false(d.sensor[DOOR_SENSOR_CLOSED].pending);
	assert_int_equal(door_next_deadline(&d), DOOR_NO_DEADLINE);
}

static void
test_door_InitClosedOnlyIgnoresOpenLevel(void **state)
{
	struct door d;

	(void)state;
	/* An unwired open input reading active must not make a closed door look like a fault. */
	door_init(&d, &closed_only, true, true, 1000);
	assert_int_equal(d.state, DOOR_CLOSED);
	assert_false(d.sensor[DOOR_SENSOR_OPEN].stable);

	door_init(&d, &closed_only, false, true, 1000);
	assert_int_equal(d.state, DOOR_OPEN);
	assert_false(d.sensor[DOOR_SENSOR_OPEN].raw);
}

static void
test_door_InitTwoSensorsClosed(void **state)
{
	struct door d;

	(void)state;
	door_init(&d, &two_sensors, true, false, 1000);
	assert_int_equal(d.state, DOOR_CLOSED);
	assert_int_equal(door_next_deadline(&d), DOOR_NO_DEADLINE);
}

static void
test_door_InitTwoSensorsOpen(void **state)
{
	struct door d;

	(void)state;
	door_init(&d, &two_sensors, false, true, 1000);
	assert_int_equal(d.state, DOOR_OPEN);
	assert_true(d.sensor[DOOR_SENSOR_OPEN].stable);
	assert_false(d.sensor[DOOR_SENSOR_OPEN].pending);
	assert_int_equal(door_next_deadline(&d), DOOR_NO_DEADLINE);
}

static void
test_door_InitTwoSensorsBothIsUnknown(void **state)
{
	struct door d;

	(void)state;
	door_init(&d, &two_sensors, true, true, 1000);
	assert_int_equal(d.state, DOOR_UNKNOWN);
	assert_int_equal(door_next_deadline(&d), DOOR_NO_DEADLINE);
}

static void
test_door_InitTwoSensorsNeitherIsUnknown(void **state)
{
	struct door d;

	(void)state;
	door_init(&d, &two_sensors, false, false, 1000);
	assert_int_equal(d.state, DOOR_UNKNOWN);
	assert_int_equal(door_next_deadline(&d), DOOR_NO_DEADLINE);
}

static void
test_door_InitCopiesParams(void **state)
{
	struct door_params p = {true, 2000, 10};
	struct door d;

	(void)state;
	door_init(&d, &p, true, false, 0);
	p.travel_ms = 1;
	p.debounce_ms = 1;
	p.has_open_sensor = false;
	assert_true(d.params.has_open_sensor);
	assert_int_equal(d.params.travel_ms, 2000);
	assert_int_equal(d.params.debounce_ms, 10);
}

static void
test_door_InitLevelsNeedNoDebounce(void **state)
{
	struct door d;

	(void)state;
	/* Even a tick right away finds nothing to settle. */
	door_init(&d, &two_sensors, true, false, 1000);
	assert_no_change(door_tick(&d, 1000), DOOR_CLOSED);
	assert_no_change(door_tick(&d, 1000 + DEBOUNCE_MS), DOOR_CLOSED);
	assert_no_change(door_sensor(&d, DOOR_SENSOR_CLOSED, true, 1001), DOOR_CLOSED);
	assert_false(d.sensor[DOOR_SENSOR_CLOSED].pending);
}

/* ---- door_state_name ---------------------------------------------------------------------- */

static void
test_door_StateNames(void **state)
{
	(void)state;
	assert_string_equal(door_state_name(DOOR_UNKNOWN), "unknown");
	assert_string_equal(door_state_name(DOOR_CLOSED), "closed");
	assert_string_equal(door_state_name(DOOR_OPENING), "opening");
	assert_string_equal(door_state_name(DOOR_OPEN), "open");
	assert_string_equal(door_state_name(DOOR_CLOSING), "closing");
	assert_string_equal(door_state_name(DOOR_STOPPED), "stopped");
}

static void
test_door_StateNameOutOfRangeIsUnknown(void **state)
{
	(void)state;
	assert_string_equal(door_state_name((enum door_state)42), "unknown");
	assert_string_equal(door_state_name((enum door_state) - 1), "unknown");
}

/* ---- debounce ----------------------------------------------------------------------------- */

static void
test_door_DebounceHoldsUntilDeadline(void **state)
{
	struct door d;

	(void)state;
	door_init(&d, &closed_only, true, false, 0);
	assert_no_change(door_sensor(&d, DOOR_SENSOR_CLOSED, false, 1000), DOOR_CLOSED);
	assert_true(d.sensor[DOOR_SENSOR_CLOSED].pending);
	assert_false(d.sensor[DOOR_SENSOR_CLOSED].raw);
	assert_true(d.sensor[DOOR_SENSOR_CLOSED].stable);
	assert_int_equal(door_next_deadline(&d), 1050);

	assert_no_change(door_tick(&d, 1049), DOOR_CLOSED);
	assert_true(d.sensor[DOOR_SENSOR_CLOSED].pending);

	assert_change(door_tick(&d, 1050), true, DOOR_CLOSED, DOOR_OPENING);
	assert_false(d.sensor[DOOR_SENSOR_CLOSED].pending);
	assert_false(d.sensor[DOOR_SENSOR_CLOSED].stable);
	assert_int_equal(d.dir, DOOR_DIR_UP);
	/* The movement began when the switch let go, not when the debounce ended. */
	assert_int_equal(d.move_start_ms, 1000);
}

static void
test_door_DebounceLateTickKeepsRawTime(void **state)
{
	struct door d;

	(void)state;
	door_init(&d, &two_sensors, true, false, 0);
	assert_no_change(door_sensor(&d, DOOR_SENSOR_CLOSED, false, 1000), DOOR_CLOSED);
	assert_change(door_tick(&d, 1400), true, DOOR_CLOSED, DOOR_OPENING);
	assert_int_equal(d.move_start_ms, 1000);
	assert_int_equal(door_next_deadline(&d), 1000 + TRAVEL_MS);
}

static void
test_door_BounceBackIsNoChange(void **state)
{
	struct door d;

	(void)state;
	door_init(&d, &closed_only, true, false, 0);
	assert_no_change(door_sensor(&d, DOOR_SENSOR_CLOSED, false, 1000), DOOR_CLOSED);
	assert_no_change(door_sensor(&d, DOOR_SENSOR_CLOSED, true, 1020), DOOR_CLOSED);
	assert_false(d.sensor[DOOR_SENSOR_CLOSED].pending);
	assert_true(d.sensor[DOOR_SENSOR_CLOSED].raw);
	assert_int_equal(door_next_deadline(&d), DOOR_NO_DEADLINE);
	assert_no_change(door_tick(&d, 1050), DOOR_CLOSED);
	assert_no_change(door_tick(&d, 100000), DOOR_CLOSED);
	assert_int_equal(d.dir, DOOR_DIR_NONE);
}

static void
test_door_BounceBackOnOpenSensorIsNoChange(void **state)
{
	struct door d;

	(void)state;
	door_init(&d, &two_sensors, false, true, 0);
	assert_no_change(door_sensor(&d, DOOR_SENSOR_OPEN, false, 500), DOOR_OPEN);
	assert_no_change(door_sensor(&d, DOOR_SENSOR_OPEN, true, 549), DOOR_OPEN);
	assert_no_change(door_tick(&d, 600), DOOR_OPEN);
	assert_int_equal(door_next_deadline(&d), DOOR_NO_DEADLINE);
}

static void
test_door_ChatterThenSettle(void **state)
{
	struct door d;

	(void)state;
	/* A chattering closed switch as the door leaves: only the last edge starts the clock. */
	door_init(&d, &closed_only, true, false, 0);
	assert_no_change(door_sensor(&d, DOOR_SENSOR_CLOSED, false, 1000), DOOR_CLOSED);
	assert_no_change(door_sensor(&d, DOOR_SENSOR_CLOSED, true, 1010), DOOR_CLOSED);
	assert_no_change(door_sensor(&d, DOOR_SENSOR_CLOSED, false, 1020), DOOR_CLOSED);
	assert_int_equal(door_next_deadline(&d), 1070);
	assert_no_change(door_sensor(&d, DOOR_SENSOR_CLOSED, true, 1035), DOOR_CLOSED);
	assert_int_equal(door_next_deadline(&d), DOOR_NO_DEADLINE);
	assert_no_change(door_sensor(&d, DOOR_SENSOR_CLOSED, false, 1040), DOOR_CLOSED);
	assert_int_equal(door_next_deadline(&d), 1090);
	assert_no_change(door_tick(&d, 1070), DOOR_CLOSED);
	assert_no_change(door_tick(&d, 1089), DOOR_CLOSED);
	assert_change(door_tick(&d, 1090), true, DOOR_CLOSED, DOOR_OPENING);
	assert_int_equal(d.move_start_ms, 1040);
}

static void
test_door_ChatterOnArrivalSettlesClosed(void **state)
{
	struct door d;

	(void)state;
	door_init(&d, &closed_only, false, false, 0);
	assert_change(door_pulse(&d, 100), true, DOOR_OPEN, DOOR_CLOSING);
	assert_no_change(door_sensor(&d, DOOR_SENSOR_CLOSED, true, 9000), DOOR_CLOSING);
	assert_no_change(door_sensor(&d, DOOR_SENSOR_CLOSED, false, 9005), DOOR_CLOSING);
	assert_no_change(door_sensor(&d, DOOR_SENSOR_CLOSED, true, 9012), DOOR_CLOSING);
	assert_no_change(door_tick(&d, 9061), DOOR_CLOSING);
	assert_change(door_tick(&d, 9062), true, DOOR_CLOSING, DOOR_CLOSED);
	assert_int_equal(d.dir, DOOR_DIR_DOWN);
	assert_int_equal(door_next_deadline(&d), DOOR_NO_DEADLINE);
}

static void
test_door_RepeatedLevelIsHarmless(void **state)
{
	struct door d;

	(void)state;
	door_init(&d, &two_sensors, true, false, 0);
	assert_no_change(door_sensor(&d, DOOR_SENSOR_CLOSED, true, 100), DOOR_CLOSED);
	assert_no_change(door_sensor(&d, DOOR_SENSOR_OPEN, false, 100), DOOR_CLOSED);
	assert_int_equal(door_next_deadline(&d), DOOR_NO_DEADLINE);

	/* Re-reading a pending level must not restart its debounce. */
	assert_no_change(door_sensor(&d, DOOR_SENSOR_CLOSED, false, 1000), DOOR_CLOSED);
	assert_no_change(door_sensor(&d, DOOR_SENSOR_CLOSED, false, 1040), DOOR_CLOSED);
	assert_int_equal(d.sensor[DOOR_SENSOR_CLOSED].changed_ms, 1000);
	assert_int_equal(door_next_deadline(&d), 1050);
	assert_change(door_tick(&d, 1050), true, DOOR_CLOSED, DOOR_OPENING);

	/* And once believed, repeating it changes nothing. */
	assert_no_change(door_sensor(&d, DOOR_SENSOR_CLOSED, false, 2000), DOOR_OPENING);
	assert_int_equal(d.move_start_ms, 1000);
}

static void
test_door_DebounceZeroBelievesAtOnce(void **state)
{
	const struct door_params p = {true, TRAVEL_MS, 0};
	struct door d;

	(void)state;
	door_init(&d, &p, true, false, 0);
	assert_change(door_sensor(&d, DOOR_SENSOR_CLOSED, false, 1000), true, DOOR_CLOSED,
	              DOOR_OPENING);
	assert_false(d.sensor[DOOR_SENSOR_CLOSED].pending);
	assert_false(d.sensor[DOOR_SENSOR_CLOSED].stable);
	assert_int_equal(d.move_start_ms, 1000);
	assert_int_equal(d.dir, DOOR_DIR_UP);
	assert_int_equal(door_next_deadline(&d), 1000 + TRAVEL_MS);

	assert_change(door_sensor(&d, DOOR_SENSOR_OPEN, true, 9000), true, DOOR_OPENING, DOOR_OPEN);
	assert_change(door_sensor(&d, DOOR_SENSOR_OPEN, false, 20000), true, DOOR_OPEN,
	              DOOR_CLOSING);
	assert_int_equal(d.move_start_ms, 20000);
	assert_change(door_sensor(&d, DOOR_SENSOR_CLOSED, true, 29000), true, DOOR_CLOSING,
	              DOOR_CLOSED);
	assert_int_equal(door_next_deadline(&d), DOOR_NO_DEADLINE);
}

static void
test_door_OverdueLevelIsBelievedBeforeNextEdge(void **state)
{
	struct door d;

	(void)state;
	/*
	 * The closed switch let go at 1000 and came back at 1100 with no tick in between: it held
	 * for twice the debounce time, so the door did leave; this is no bounce.
	 */
	door_init(&d, &closed_only, true, false, 0);
	assert_no_change(door_sensor(&d, DOOR_SENSOR_CLOSED, false, 1000), DOOR_CLOSED);
	assert_change(door_sensor(&d, DOOR_SENSOR_CLOSED, true, 1100), true, DOOR_CLOSED,
	              DOOR_OPENING);
	assert_int_equal(d.move_start_ms, 1000);
	assert_true(d.sensor[DOOR_SENSOR_CLOSED].pending);
	assert_int_equal(door_next_deadline(&d), 1150);
	assert_change(door_tick(&d, 1150), true, DOOR_OPENING, DOOR_CLOSED);
}

static void
test_door_AbsentOpenSensorIsIgnored(void **state)
{
	struct door d;

	(void)state;
	door_init(&d, &closed_only, true, false, 0);
	assert_no_change(door_sensor(&d, DOOR_SENSOR_OPEN, true, 100), DOOR_CLOSED);
	assert_false(d.sensor[DOOR_SENSOR_OPEN].raw);
	assert_false(d.sensor[DOOR_SENSOR_OPEN].pending);
	assert_int_equal(door_next_deadline(&d), DOOR_NO_DEADLINE);
	assert_no_change(door_tick(&d, 1000), DOOR_CLOSED);

	/* Nor does it end an inferred open or a movement. */
	door_init(&d, &closed_only, false, false, 0);
	assert_no_change(door_sensor(&d, DOOR_SENSOR_OPEN, true, 100), DOOR_OPEN);
	assert_no_change(door_tick(&d, 200), DOOR_OPEN);
	assert_change(door_pulse(&d, 300), true, DOOR_OPEN, DOOR_CLOSING);
	assert_no_change(door_sensor(&d, DOOR_SENSOR_OPEN, false, 400), DOOR_CLOSING);
	assert_no_change(door_sensor(&d, DOOR_SENSOR_OPEN, true, 500), DOOR_CLOSING);
	assert_no_change(door_tick(&d, 600), DOOR_CLOSING);
	assert_int_equal(door_next_deadline(&d), 300 + TRAVEL_MS);
}

static void
test_door_InvalidSensorIsIgnored(void **state)
{
	struct door d;
	struct door before;

	(void)state;
	door_init(&d, &two_sensors, true, false, 0);
	memcpy(&before, &d, sizeof(d));
	assert_no_change(door_sensor(&d, (enum door_sensor)2, false, 100), DOOR_CLOSED);
	assert_no_change(door_sensor(&d, (enum door_sensor) - 1, false, 100), DOOR_CLOSED);
	assert_memory_equal(&before, &d, sizeof(d));
}

/* ---- transitions, closed sensor only ------------------------------------------------------ */

static void
test_door_ClosedOnlyOpensByTime(void **state)
{
	struct door d;
	uint64_t now = 1000;

	(void)state;
	door_init(&d, &closed_only, true, false, 0);
	assert_no_change(door_pulse(&d, now), DOOR_CLOSED);
	now += 300;
	assert_change(settle_level(&d, DOOR_SENSOR_CLOSED, false, &now), true, DOOR_CLOSED,
	              DOOR_OPENING);
	assert_int_equal(d.move_start_ms, 1300);
	assert_int_equal(door_next_deadline(&d), 1300 + TRAVEL_MS);
	assert_no_change(door_tick(&d, 1300 + TRAVEL_MS - 1), DOOR_OPENING);
	assert_change(door_tick(&d, 1300 + TRAVEL_MS), true, DOOR_OPENING, DOOR_OPEN);
	assert_int_equal(d.dir, DOOR_DIR_UP);
	assert_int_equal(door_next_deadline(&d), DOOR_NO_DEADLINE);
}

static void
test_door_ClosedOnlyClosesOnSensor(void **state)
{
	struct door d;
	uint64_t now = 5000;

	(void)state;
	door_init(&d, &closed_only, false, false, 0);
	assert_change(door_pulse(&d, now), true, DOOR_OPEN, DOOR_CLOSING);
	assert_int_equal(d.dir, DOOR_DIR_DOWN);
	assert_int_equal(d.move_start_ms, 5000);
	assert_int_equal(door_next_deadline(&d), 5000 + TRAVEL_MS);
	now = 14000;
	assert_change(settle_level(&d, DOOR_SENSOR_CLOSED, true, &now), true, DOOR_CLOSING,
	              DOOR_CLOSED);
	assert_int_equal(d.dir, DOOR_DIR_DOWN);
	assert_int_equal(door_next_deadline(&d), DOOR_NO_DEADLINE);
}

static void
test_door_ClosedOnlyClosingTimesOutStopped(void **state)
{
	struct door d;

	(void)state;
	door_init(&d, &closed_only, false, false, 0);
	assert_change(door_pulse(&d, 1000), true, DOOR_OPEN, DOOR_CLOSING);
	assert_no_change(door_tick(&d, 1000 + TRAVEL_MS - 1), DOOR_CLOSING);
	assert_change(door_tick(&d, 1000 + TRAVEL_MS), true, DOOR_CLOSING, DOOR_STOPPED);
	assert_int_equal(d.dir, DOOR_DIR_DOWN);
	assert_int_equal(door_next_deadline(&d), DOOR_NO_DEADLINE);
	assert_no_change(door_tick(&d, 1000 + 10 * TRAVEL_MS), DOOR_STOPPED);
}

static void
test_door_ClosedOnlyOpeningBackToClosed(void **state)
{
	struct door d;
	uint64_t now = 0;

	(void)state;
	/* The wall button reversed the door before the travel time ran out. */
	door_init(&d, &closed_only, true, false, 0);
	assert_change(settle_level(&d, DOOR_SENSOR_CLOSED, false, &now), true, DOOR_CLOSED,
	              DOOR_OPENING);
	now = 6000;
	assert_change(settle_level(&d, DOOR_SENSOR_CLOSED, true, &now), true, DOOR_OPENING,
	              DOOR_CLOSED);
	assert_int_equal(d.dir, DOOR_DIR_DOWN);
	assert_no_change(door_tick(&d, TRAVEL_MS + 1), DOOR_CLOSED);
}

static void
test_door_ClosedOnlyWallButtonCloseAndOpen(void **state)
{
	struct door d;
	uint64_t now = 0;

	(void)state;
	/* A door moved only by the wall button is seen through the closed sensor alone. */
	door_init(&d, &closed_only, false, false, 0);
	now = 20000;
	assert_change(settle_level(&d, DOOR_SENSOR_CLOSED, true, &now), true, DOOR_OPEN,
	              DOOR_CLOSED);
	now = 40000;
	assert_change(settle_level(&d, DOOR_SENSOR_CLOSED, false, &now), true, DOOR_CLOSED,
	              DOOR_OPENING);
	assert_change(door_tick(&d, 40000 + TRAVEL_MS), true, DOOR_OPENING, DOOR_OPEN);
}

static void
test_door_ClosedOnlyStoppedToClosedOnSensor(void **state)
{
	struct door d;
	uint64_t now = 0;

	(void)state;
	door_init(&d, &closed_only, false, false, 0);
	assert_change(door_pulse(&d, 0), true, DOOR_OPEN, DOOR_CLOSING);
	assert_change(door_pulse(&d, 3000), true, DOOR_CLOSING, DOOR_STOPPED);
	now = 9000;
	assert_change(settle_level(&d, DOOR_SENSOR_CLOSED, true, &now), true, DOOR_STOPPED,
	              DOOR_CLOSED);
}

/* ---- transitions, two sensors ------------------------------------------------------------- */

static void
test_door_TwoSensorsFullCycle(void **state)
{
	struct door d;
	uint64_t now = 0;

	(void)state;
	door_init(&d, &two_sensors, true, false, 0);
	now = 1000;
	assert_change(settle_level(&d, DOOR_SENSOR_CLOSED, false, &now), true, DOOR_CLOSED,
	              DOOR_OPENING);
	assert_int_equal(d.dir, DOOR_DIR_UP);
	assert_int_equal(d.move_start_ms, 1000);
	now = 12000;
	assert_change(settle_level(&d, DOOR_SENSOR_OPEN, true, &now), true, DOOR_OPENING,
	              DOOR_OPEN);
	assert_int_equal(d.dir, DOOR_DIR_UP);
	assert_int_equal(door_next_deadline(&d), DOOR_NO_DEADLINE);

	assert_no_change(door_pulse(&d, 30000), DOOR_OPEN);
	now = 30200;
	assert_change(settle_level(&d, DOOR_SENSOR_OPEN, false, &now), true, DOOR_OPEN,
	              DOOR_CLOSING);
	assert_int_equal(d.dir, DOOR_DIR_DOWN);
	assert_int_equal(d.move_start_ms, 30200);
	assert_int_equal(door_next_deadline(&d), 30200 + TRAVEL_MS);
	now = 41000;
	assert_change(settle_level(&d, DOOR_SENSOR_CLOSED, true, &now), true, DOOR_CLOSING,
	              DOOR_CLOSED);
	assert_int_equal(door_next_deadline(&d), DOOR_NO_DEADLINE);
}

static void
test_door_TwoSensorsOpeningTimesOutStopped(void **state)
{
	struct door d;
	uint64_t now = 1000;

	(void)state;
	door_init(&d, &two_sensors, true, false, 0);
	assert_change(settle_level(&d, DOOR_SENSOR_CLOSED, false, &now), true, DOOR_CLOSED,
	              DOOR_OPENING);
	assert_no_change(door_tick(&d, 1000 + TRAVEL_MS - 1), DOOR_OPENING);
	assert_change(door_tick(&d, 1000 + TRAVEL_MS), true, DOOR_OPENING, DOOR_STOPPED);
	assert_int_equal(d.dir, DOOR_DIR_UP);
	assert_int_equal(door_next_deadline(&d), DOOR_NO_DEADLINE);

	/* The obstruction clears and the door reaches the top later after all. */
	now = 40000;
	assert_change(settle_level(&d, DOOR_SENSOR_OPEN, true, &now), true, DOOR_STOPPED,
	              DOOR_OPEN);
}

static void
test_door_TwoSensorsClosingTimesOutStopped(void **state)
{
	struct door d;
	uint64_t now = 1000;

	(void)state;
	door_init(&d, &two_sensors, false, true, 0);
	assert_change(settle_level(&d, DOOR_SENSOR_OPEN, false, &now), true, DOOR_OPEN,
	              DOOR_CLOSING);
	assert_int_equal(d.move_start_ms, 1000);
	assert_no_change(door_tick(&d, 1000 + TRAVEL_MS - 1), DOOR_CLOSING);
	assert_change(door_tick(&d, 1000 + TRAVEL_MS), true, DOOR_CLOSING, DOOR_STOPPED);
	assert_int_equal(d.dir, DOOR_DIR_DOWN);
	assert_int_equal(door_next_deadline(&d), DOOR_NO_DEADLINE);
}

static void
test_door_TwoSensorsOpeningBackToClosed(void **state)
{
	struct door d;
	uint64_t now = 0;

	(void)state;
	door_init(&d, &two_sensors, true, false, 0);
	assert_change(settle_level(&d, DOOR_SENSOR_CLOSED, false, &now), true, DOOR_CLOSED,
	              DOOR_OPENING);
	now = 3000;
	assert_change(settle_level(&d, DOOR_SENSOR_CLOSED, true, &now), true, DOOR_OPENING,
	              DOOR_CLOSED);
	assert_int_equal(d.dir, DOOR_DIR_DOWN);
}

static void
test_door_TwoSensorsClosingBackToOpen(void **state)
{
	struct door d;
	uint64_t now = 0;

	(void)state;
	/* The safety beam reversed a closing door: the opener takes it back to the top. */
	door_init(&d, &two_sensors, false, true, 0);
	assert_change(settle_level(&d, DOOR_SENSOR_OPEN, false, &now), true, DOOR_OPEN,
	              DOOR_CLOSING);
	now = 4000;
	assert_change(settle_level(&d, DOOR_SENSOR_OPEN, true, &now), true, DOOR_CLOSING,
	              DOOR_OPEN);
	assert_int_equal(d.dir, DOOR_DIR_UP);
	assert_int_equal(door_next_deadline(&d), DOOR_NO_DEADLINE);
}

static void
test_door_TwoSensorsUnknownFindsPosition(void **state)
{
	struct door d;
	uint64_t now = 0;

	(void)state;
	/* Started half way: the first end position reached tells where the door is. */
	door_init(&d, &two_sensors, false, false, 0);
	assert_change(settle_level(&d, DOOR_SENSOR_CLOSED, true, &now), true, DOOR_UNKNOWN,
	              DOOR_CLOSED);

	door_init(&d, &two_sensors, false, false, 0);
	now = 0;
	assert_change(settle_level(&d, DOOR_SENSOR_OPEN, true, &now), true, DOOR_UNKNOWN,
	              DOOR_OPEN);
	assert_int_equal(d.dir, DOOR_DIR_UP);
}

static void
test_door_BothActiveFromClosedIsUnknown(void **state)
{
	struct door d;
	uint64_t now = 0;

	(void)state;
	door_init(&d, &two_sensors, true, false, 0);
	assert_change(settle_level(&d, DOOR_SENSOR_OPEN, true, &now), true, DOOR_CLOSED,
	              DOOR_UNKNOWN);
	assert_int_equal(door_next_deadline(&d), DOOR_NO_DEADLINE);
	/* The fault clears: the sensor still active says where the door is, not a movement. */
	now = 1000;
	assert_change(settle_level(&d, DOOR_SENSOR_OPEN, false, &now), true, DOOR_UNKNOWN,
	              DOOR_CLOSED);
	assert_int_equal(door_next_deadline(&d), DOOR_NO_DEADLINE);
}

static void
test_door_BothActiveFromOpenIsUnknown(void **state)
{
	struct door d;
	uint64_t now = 0;

	(void)state;
	door_init(&d, &two_sensors, false, true, 0);
	assert_change(settle_level(&d, DOOR_SENSOR_CLOSED, true, &now), true, DOOR_OPEN,
	              DOOR_UNKNOWN);
	now = 1000;
	assert_change(settle_level(&d, DOOR_SENSOR_CLOSED, false, &now), true, DOOR_UNKNOWN,
	              DOOR_OPEN);
	assert_int_equal(door_next_deadline(&d), DOOR_NO_DEADLINE);
}

static void
test_door_BothActiveWhileMovingIsUnknown(void **state)
{
	struct door d;
	uint64_t now = 0;

	(void)state;
	door_init(&d, &two_sensors, true, false, 0);
	assert_change(settle_level(&d, DOOR_SENSOR_CLOSED, false, &now), true, DOOR_CLOSED,
	              DOOR_OPENING);
	/* Both switches go active together: whichever is believed second makes it a fault. */
	now = 5000;
	assert_no_change(door_sensor(&d, DOOR_SENSOR_OPEN, true, now), DOOR_OPENING);
	assert_no_change(door_sensor(&d, DOOR_SENSOR_CLOSED, true, now + 5), DOOR_OPENING);
	assert_change(door_tick(&d, now + 55), true, DOOR_OPENING, DOOR_UNKNOWN);
	assert_int_equal(door_next_deadline(&d), DOOR_NO_DEADLINE);
	/* A door in a wiring fault has no travel timeout. */
	assert_no_change(door_tick(&d, now + 10 * TRAVEL_MS), DOOR_UNKNOWN);
}

static void
test_door_BothActiveAtOnceWithoutDebounce(void **state)
{
	const struct door_params p = {true, TRAVEL_MS, 0};
	struct door d;

	(void)state;
	door_init(&d, &p, true, false, 0);
	assert_change(door_sensor(&d, DOOR_SENSOR_OPEN, true, 10), true, DOOR_CLOSED, DOOR_UNKNOWN);
	assert_no_change(door_pulse(&d, 20), DOOR_UNKNOWN);
}

static void
test_door_ClosedOnlyNeverUnknownFromOpenLevel(void **state)
{
	struct door d;
	uint64_t now = 0;

	(void)state;
	door_init(&d, &closed_only, true, false, 0);
	assert_no_change(door_sensor(&d, DOOR_SENSOR_OPEN, true, 0), DOOR_CLOSED);
	assert_no_change(door_tick(&d, 1000), DOOR_CLOSED);
	now = 2000;
	assert_change(settle_level(&d, DOOR_SENSOR_CLOSED, false, &now), true, DOOR_CLOSED,
	              DOOR_OPENING);
}

/* ---- door_pulse --------------------------------------------------------------------------- */

static void
test_door_PulseClosedWaitsForSensor(void **state)
{
	struct door d;

	(void)state;
	door_init(&d, &closed_only, true, false, 0);
	assert_no_change(door_pulse(&d, 100), DOOR_CLOSED);
	assert_int_equal(door_next_deadline(&d), DOOR_NO_DEADLINE);
	assert_int_equal(d.dir, DOOR_DIR_NONE);

	door_init(&d, &two_sensors, true, false, 0);
	assert_no_change(door_pulse(&d, 100), DOOR_CLOSED);
	assert_int_equal(door_next_deadline(&d), DOOR_NO_DEADLINE);
	/* The opener never moved: no timeout turns this into anything else. */
	assert_no_change(door_tick(&d, 100 + TRAVEL_MS), DOOR_CLOSED);
}

static void
test_door_PulseOpenWithOpenSensorWaitsForSensor(void **state)
{
	struct door d;

	(void)state;
	door_init(&d, &two_sensors, false, true, 0);
	assert_no_change(door_pulse(&d, 100), DOOR_OPEN);
	assert_int_equal(door_next_deadline(&d), DOOR_NO_DEADLINE);
	assert_no_change(door_tick(&d, 100 + TRAVEL_MS), DOOR_OPEN);
}

static void
test_door_PulseOpenClosedOnlyCloses(void **state)
{
	struct door d;

	(void)state;
	door_init(&d, &closed_only, false, false, 0);
	assert_change(door_pulse(&d, 777), true, DOOR_OPEN, DOOR_CLOSING);
	assert_int_equal(d.dir, DOOR_DIR_DOWN);
	assert_int_equal(d.move_start_ms, 777);
	assert_int_equal(door_next_deadline(&d), 777 + TRAVEL_MS);
}

static void
test_door_PulseOpeningStops(void **state)
{
	const struct door_params *configs[] = {&closed_only, &two_sensors};

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct door d;
		uint64_t now = 0;

		door_init(&d, configs[i], true, false, 0);
		assert_change(settle_level(&d, DOOR_SENSOR_CLOSED, false, &now), true, DOOR_CLOSED,
		              DOOR_OPENING);
		assert_change(door_pulse(&d, 2000), true, DOOR_OPENING, DOOR_STOPPED);
		assert_int_equal(d.dir, DOOR_DIR_UP);
		assert_int_equal(door_next_deadline(&d), DOOR_NO_DEADLINE);
		assert_no_change(door_tick(&d, 10 * TRAVEL_MS), DOOR_STOPPED);
	}
}

static void
test_door_PulseClosingStops(void **state)
{
	struct door d;
	uint64_t now = 0;

	(void)state;
	door_init(&d, &closed_only, false, false, 0);
	assert_change(door_pulse(&d, 0), true, DOOR_OPEN, DOOR_CLOSING);
	assert_change(door_pulse(&d, 2000), true, DOOR_CLOSING, DOOR_STOPPED);
	assert_int_equal(d.dir, DOOR_DIR_DOWN);
	assert_int_equal(door_next_deadline(&d), DOOR_NO_DEADLINE);

	door_init(&d, &two_sensors, false, true, 0);
	assert_change(settle_level(&d, DOOR_SENSOR_OPEN, false, &now), true, DOOR_OPEN,
	              DOOR_CLOSING);
	assert_change(door_pulse(&d, 2000), true, DOOR_CLOSING, DOOR_STOPPED);
	assert_int_equal(d.dir, DOOR_DIR_DOWN);
	assert_int_equal(door_next_deadline(&d), DOOR_NO_DEADLINE);
}

static void
test_door_PulseStoppedReversesUpToDown(void **state)
{
	const struct door_params *configs[] = {&closed_only, &two_sensors};

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct door d;
		uint64_t now = 0;

		door_init(&d, configs[i], true, false, 0);
		assert_change(settle_level(&d, DOOR_SENSOR_CLOSED, false, &now), true, DOOR_CLOSED,
		              DOOR_OPENING);
		assert_change(door_pulse(&d, 2000), true, DOOR_OPENING, DOOR_STOPPED);
		assert_change(door_pulse(&d, 5000), true, DOOR_STOPPED, DOOR_CLOSING);
		assert_int_equal(d.dir, DOOR_DIR_DOWN);
		assert_int_equal(d.move_start_ms, 5000);
		assert_int_equal(door_next_deadline(&d), 5000 + TRAVEL_MS);
	}
}

static void
test_door_PulseStoppedReversesDownToUp(void **state)
{
	const struct door_params *configs[] = {&closed_only, &two_sensors};

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct door d;
		uint64_t now = 0;

		door_init(&d, configs[i], false, true, 0);
		if (configs[i]->has_open_sensor)
			assert_change(settle_level(&d, DOOR_SENSOR_OPEN, false, &now), true,
			              DOOR_OPEN, DOOR_CLOSING);
		else
			assert_change(door_pulse(&d, now), true, DOOR_OPEN, DOOR_CLOSING);
		assert_change(door_pulse(&d, 2000), true, DOOR_CLOSING, DOOR_STOPPED);
		assert_change(door_pulse(&d, 5000), true, DOOR_STOPPED, DOOR_OPENING);
		assert_int_equal(d.dir, DOOR_DIR_UP);
		assert_int_equal(d.move_start_ms, 5000);
		assert_int_equal(door_next_deadline(&d), 5000 + TRAVEL_MS);
	}
}

static void
test_door_PulseAfterOpeningTimeoutCloses(void **state)
{
	struct door d;
	uint64_t now = 0;

	(void)state;
	door_init(&d, &two_sensors, true, false, 0);
	assert_change(settle_level(&d, DOOR_SENSOR_CLOSED, false, &now), true, DOOR_CLOSED,
	              DOOR_OPENING);
	assert_change(door_tick(&d, TRAVEL_MS), true, DOOR_OPENING, DOOR_STOPPED);
	assert_change(door_pulse(&d, 20000), true, DOOR_STOPPED, DOOR_CLOSING);
	assert_int_equal(d.dir, DOOR_DIR_DOWN);
	assert_int_equal(d.move_start_ms, 20000);
}

static void
test_door_PulseAfterClosingTimeoutOpens(void **state)
{
	struct door d;

	(void)state;
	door_init(&d, &closed_only, false, false, 0);
	assert_change(door_pulse(&d, 0), true, DOOR_OPEN, DOOR_CLOSING);
	assert_change(door_tick(&d, TRAVEL_MS), true, DOOR_CLOSING, DOOR_STOPPED);
	assert_change(door_pulse(&d, 20000), true, DOOR_STOPPED, DOOR_OPENING);
	assert_int_equal(d.dir, DOOR_DIR_UP);
	assert_change(door_tick(&d, 20000 + TRAVEL_MS), true, DOOR_OPENING, DOOR_OPEN);
}

static void
test_door_PulseStoppedWithoutDirectionOpens(void **state)
{
	struct door d;

	(void)state;
	door_init(&d, &two_sensors, false, false, 0);
	d.state = DOOR_STOPPED;
	d.dir = DOOR_DIR_NONE;
	assert_change(door_pulse(&d, 300), true, DOOR_STOPPED, DOOR_OPENING);
	assert_int_equal(d.dir, DOOR_DIR_UP);
	assert_int_equal(d.move_start_ms, 300);
}

static void
test_door_PulseUnknownNoChange(void **state)
{
	struct door d;

	(void)state;
	door_init(&d, &two_sensors, false, false, 0);
	assert_no_change(door_pulse(&d, 100), DOOR_UNKNOWN);
	assert_int_equal(d.dir, DOOR_DIR_NONE);
	assert_int_equal(door_next_deadline(&d), DOOR_NO_DEADLINE);

	door_init(&d, &two_sensors, true, true, 0);
	assert_no_change(door_pulse(&d, 100), DOOR_UNKNOWN);
	assert_int_equal(door_next_deadline(&d), DOOR_NO_DEADLINE);
}

static void
test_door_PulseSingleButtonCycle(void **state)
{
	struct door d;
	uint64_t now = 0;

	(void)state;
	/* open, close, stop, open, stop, close, closed: the wall button's sequence. */
	door_init(&d, &closed_only, false, false, 0);
	assert_change(door_pulse(&d, 1000), true, DOOR_OPEN, DOOR_CLOSING);
	assert_change(door_pulse(&d, 2000), true, DOOR_CLOSING, DOOR_STOPPED);
	assert_change(door_pulse(&d, 3000), true, DOOR_STOPPED, DOOR_OPENING);
	assert_change(door_pulse(&d, 4000), true, DOOR_OPENING, DOOR_STOPPED);
	assert_change(door_pulse(&d, 5000), true, DOOR_STOPPED, DOOR_CLOSING);
	assert_int_equal(d.move_start_ms, 5000);
	now = 12000;
	assert_change(settle_level(&d, DOOR_SENSOR_CLOSED, true, &now), true, DOOR_CLOSING,
	              DOOR_CLOSED);
	assert_no_change(door_pulse(&d, 20000), DOOR_CLOSED);
}

static void
test_door_PulseAppliesOverdueTimeoutFirst(void **state)
{
	struct door d;

	(void)state;
	/*
	 * Nobody ticked at the travel deadline. By the time of the press the door had been
	 * inferred open for a while, so the press closes it rather than stopping it.
	 */
	door_init(&d, &closed_only, false, false, 0);
	assert_change(door_pulse(&d, 0), true, DOOR_OPEN, DOOR_CLOSING);
	assert_change(door_pulse(&d, 1000), true, DOOR_CLOSING, DOOR_STOPPED);
	assert_change(door_pulse(&d, 2000), true, DOOR_STOPPED, DOOR_OPENING);
	assert_change(door_pulse(&d, 2000 + TRAVEL_MS + 5000), true, DOOR_OPENING, DOOR_CLOSING);
	assert_int_equal(d.dir, DOOR_DIR_DOWN);
	assert_int_equal(d.move_start_ms, 2000 + TRAVEL_MS + 5000);
}

/* ---- door_tick ---------------------------------------------------------------------------- */

static void
test_door_TickNothingDue(void **state)
{
	struct door d;

	(void)state;
	door_init(&d, &closed_only, false, false, 0);
	assert_no_change(door_tick(&d, 0), DOOR_OPEN);
	assert_no_change(door_tick(&d, UINT64_MAX - 1), DOOR_OPEN);
}

static void
test_door_TickDebounceAndTimeoutInOneCall(void **state)
{
	struct door d;

	(void)state;
	door_init(&d, &closed_only, true, false, 0);
	assert_no_change(door_sensor(&d, DOOR_SENSOR_CLOSED, false, 1000), DOOR_CLOSED);
	/* The debounce settled at 1050, the door was inferred open at 16000. */
	assert_change(door_tick(&d, 1000 + TRAVEL_MS + 123), true, DOOR_CLOSED, DOOR_OPEN);
	assert_false(d.sensor[DOOR_SENSOR_CLOSED].pending);
	assert_int_equal(d.dir, DOOR_DIR_UP);
	assert_int_equal(door_next_deadline(&d), DOOR_NO_DEADLINE);
}

static void
test_door_TickTwoDebouncesInOneCall(void **state)
{
	struct door d;

	(void)state;
	/*
	 * Both switches changed within one debounce time (a short door, or a late caller): one
	 * tick settles both in order, OPEN -> CLOSING -> CLOSED, and reports only the ends.
	 */
	door_init(&d, &two_sensors, false, true, 0);
	assert_no_change(door_sensor(&d, DOOR_SENSOR_OPEN, false, 1000), DOOR_OPEN);
	assert_no_change(door_sensor(&d, DOOR_SENSOR_CLOSED, true, 1040), DOOR_OPEN);
	assert_int_equal(door_next_deadline(&d), 1050);
	assert_change(door_tick(&d, 1090), true, DOOR_OPEN, DOOR_CLOSED);
	assert_int_equal(d.dir, DOOR_DIR_DOWN);
	assert_false(d.sensor[DOOR_SENSOR_OPEN].pending);
	assert_false(d.sensor[DOOR_SENSOR_CLOSED].pending);
	assert_int_equal(door_next_deadline(&d), DOOR_NO_DEADLINE);
}

static void
test_door_EndPositionWinsTieWithTimeout(void **state)
{
	struct door d;
	uint64_t now = 0;

	(void)state;
	/* The open switch closed 50 ms before the travel deadline and held to it. */
	door_init(&d, &two_sensors, true, false, 0);
	assert_change(settle_level(&d, DOOR_SENSOR_CLOSED, false, &now), true, DOOR_CLOSED,
	              DOOR_OPENING);
	assert_int_equal(d.move_start_ms, 0);
	assert_no_change(door_sensor(&d, DOOR_SENSOR_OPEN, true, TRAVEL_MS - DEBOUNCE_MS),
	                 DOOR_OPENING);
	assert_int_equal(door_next_deadline(&d), TRAVEL_MS);
	assert_change(door_tick(&d, TRAVEL_MS), true, DOOR_OPENING, DOOR_OPEN);
}

static void
test_door_TimeoutBeforeLateEndPosition(void **state)
{
	struct door d;
	uint64_t now = 0;

	(void)state;
	/* The open switch closed, but too late to be believed by the travel deadline. */
	door_init(&d, &two_sensors, true, false, 0);
	assert_change(settle_level(&d, DOOR_SENSOR_CLOSED, false, &now), true, DOOR_CLOSED,
	              DOOR_OPENING);
	assert_no_change(door_sensor(&d, DOOR_SENSOR_OPEN, true, TRAVEL_MS - 20), DOOR_OPENING);
	assert_int_equal(door_next_deadline(&d), TRAVEL_MS);
	assert_change(door_tick(&d, TRAVEL_MS), true, DOOR_OPENING, DOOR_STOPPED);
	assert_int_equal(door_next_deadline(&d), TRAVEL_MS + 30);
	assert_change(door_tick(&d, TRAVEL_MS + 30), true, DOOR_STOPPED, DOOR_OPEN);
}

/* ---- door_next_deadline ------------------------------------------------------------------- */

static void
test_door_DeadlineNoneAtRest(void **state)
{
	struct door d;

	(void)state;
	door_init(&d, &closed_only, true, false, 0);
	assert_int_equal(door_next_deadline(&d), DOOR_NO_DEADLINE);
	door_init(&d, &closed_only, false, false, 0);
	assert_int_equal(door_next_deadline(&d), DOOR_NO_DEADLINE);
	door_init(&d, &two_sensors, false, false, 0);
	assert_int_equal(door_next_deadline(&d), DOOR_NO_DEADLINE);
	door_init(&d, &closed_only, false, false, 0);
	assert_change(door_pulse(&d, 0), true, DOOR_OPEN, DOOR_CLOSING);
	assert_change(door_pulse(&d, 10), true, DOOR_CLOSING, DOOR_STOPPED);
	assert_int_equal(door_next_deadline(&d), DOOR_NO_DEADLINE);
}

static void
test_door_DeadlineMinOfDebounceAndTravel(void **state)
{
	struct door d;

	(void)state;
	door_init(&d, &two_sensors, false, true, 0);
	assert_no_change(door_sensor(&d, DOOR_SENSOR_OPEN, false, 1000), DOOR_OPEN);
	assert_int_equal(door_next_deadline(&d), 1050);
	assert_change(door_tick(&d, 1050), true, DOOR_OPEN, DOOR_CLOSING);
	assert_int_equal(door_next_deadline(&d), 1000 + TRAVEL_MS);

	/* A bounce on the closed switch half way down comes before the travel deadline. */
	assert_no_change(door_sensor(&d, DOOR_SENSOR_CLOSED, true, 5000), DOOR_CLOSING);
	assert_int_equal(door_next_deadline(&d), 5050);
	assert_no_change(door_sensor(&d, DOOR_SENSOR_CLOSED, false, 5010), DOOR_CLOSING);
	assert_int_equal(door_next_deadline(&d), 1000 + TRAVEL_MS);

	/* One that starts 10 ms before the travel deadline ends after it. */
	assert_no_change(door_sensor(&d, DOOR_SENSOR_CLOSED, true, 1000 + TRAVEL_MS - 10),
	                 DOOR_CLOSING);
	assert_int_equal(door_next_deadline(&d), 1000 + TRAVEL_MS);
}

static void
test_door_DeadlineMinOfTwoDebounces(void **state)
{
	struct door d;

	(void)state;
	door_init(&d, &two_sensors, false, false, 0);
	assert_no_change(door_sensor(&d, DOOR_SENSOR_CLOSED, true, 990), DOOR_UNKNOWN);
	assert_no_change(door_sensor(&d, DOOR_SENSOR_OPEN, true, 1000), DOOR_UNKNOWN);
	assert_int_equal(door_next_deadline(&d), 1040);
	assert_change(door_tick(&d, 1040), true, DOOR_UNKNOWN, DOOR_CLOSED);
	assert_int_equal(door_next_deadline(&d), 1050);
	assert_change(door_tick(&d, 1050), true, DOOR_CLOSED, DOOR_UNKNOWN);
	assert_int_equal(door_next_deadline(&d), DOOR_NO_DEADLINE);
}

static void
test_door_DeadlineDoesNotWrap(void **state)
{
	struct door d;
	const uint64_t start = UINT64_MAX - 100;

	(void)state;
	door_init(&d, &closed_only, false, false, start);
	assert_change(door_pulse(&d, start), true, DOOR_OPEN, DOOR_CLOSING);
	assert_true(door_next_deadline(&d) >= start);
	assert_no_change(door_tick(&d, start + 50), DOOR_CLOSING);
}

/* ---- door_presses ------------------------------------------------------------------------- */

/* A door put into STATE (moving, stopped) with the given last direction, sensors to match. */
static void
door_in(struct door *d, enum door_state state, enum door_dir dir)
{
	door_init(d, &closed_only, false, false, 1000);
	d->state = state;
	d->dir = dir;
	d->move_start_ms = 1000;
}

static void
test_door_PressesTable(void **state)
{
	static const struct {
		enum door_state state;
		enum door_dir dir;
		unsigned open, close, stop, toggle;
	} rows[] = {
	    {DOOR_CLOSED, DOOR_DIR_DOWN, 1, 0, 0, 1},  {DOOR_OPEN, DOOR_DIR_UP, 0, 1, 0, 1},
	    {DOOR_OPENING, DOOR_DIR_UP, 0, 2, 1, 1},   {DOOR_CLOSING, DOOR_DIR_DOWN, 2, 0, 1, 1},
	    {DOOR_STOPPED, DOOR_DIR_DOWN, 1, 3, 0, 1}, {DOOR_STOPPED, DOOR_DIR_UP, 3, 1, 0, 1},
	    {DOOR_STOPPED, DOOR_DIR_NONE, 1, 3, 0, 1}, {DOOR_UNKNOWN, DOOR_DIR_NONE, 1, 1, 0, 1},
	};
	struct door d;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		door_in(&d, rows[i].state, rows[i].dir);
		assert_int_equal(door_presses(&d, DOOR_GOAL_OPEN), rows[i].open);
		assert_int_equal(door_presses(&d, DOOR_GOAL_CLOSE), rows[i].close);
		assert_int_equal(door_presses(&d, DOOR_GOAL_STOP), rows[i].stop);
		assert_int_equal(door_presses(&d, DOOR_GOAL_TOGGLE), rows[i].toggle);
	}
}

/*
 * The counts agree with the machine's own model of a press: from every moving or stopped
 * state, that many door_pulse() calls leave the door moving towards the goal.
 */
static void
test_door_PressesAgreeWithPulse(void **state)
{
	/* Every state a press can meet while the machine predicts the door: moving (with its
	 * own direction) and stopped after either direction or none. */
	static const struct {
		enum door_state state;
		enum door_dir dir;
	} starts[] = {
	    {DOOR_OPENING, DOOR_DIR_UP},   {DOOR_CLOSING, DOOR_DIR_DOWN},
	    {DOOR_STOPPED, DOOR_DIR_UP},   {DOOR_STOPPED, DOOR_DIR_DOWN},
	    {DOOR_STOPPED, DOOR_DIR_NONE},
	};
	struct door d;
	unsigned n, k;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
		door_in(&d, starts[i].state, starts[i].dir);
		n = door_presses(&d, DOOR_GOAL_OPEN);
		for (k = 0; k < n; k++)
			door_pulse(&d, 1000 + k);
		assert_int_equal(d.state, DOOR_OPENING);

		door_in(&d, starts[i].state, starts[i].dir);
		n = door_presses(&d, DOOR_GOAL_CLOSE);
		for (k = 0; k < n; k++)
			door_pulse(&d, 1000 + k);
		assert_int_equal(d.state, DOOR_CLOSING);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_door_InitClosedOnlyClosed),
	    cmocka_unit_test(test_door_InitClosedOnlyNeitherIsOpen),
	    cmocka_unit_test(test_door_InitClosedOnlyIgnoresOpenLevel),
	    cmocka_unit_test(test_door_InitTwoSensorsClosed),
	    cmocka_unit_test(test_door_InitTwoSensorsOpen),
	    cmocka_unit_test(test_door_InitTwoSensorsBothIsUnknown),
	    cmocka_unit_test(test_door_InitTwoSensorsNeitherIsUnknown),
	    cmocka_unit_test(test_door_InitCopiesParams),
	    cmocka_unit_test(test_door_InitLevelsNeedNoDebounce),
	    cmocka_unit_test(test_door_StateNames),
	    cmocka_unit_test(test_door_StateNameOutOfRangeIsUnknown),
	    cmocka_unit_test(test_door_DebounceHoldsUntilDeadline),
	    cmocka_unit_test(test_door_DebounceLateTickKeepsRawTime),
	    cmocka_unit_test(test_door_BounceBackIsNoChange),
	    cmocka_unit_test(test_door_BounceBackOnOpenSensorIsNoChange),
	    cmocka_unit_test(test_door_ChatterThenSettle),
	    cmocka_unit_test(test_door_ChatterOnArrivalSettlesClosed),
	    cmocka_unit_test(test_door_RepeatedLevelIsHarmless),
	    cmocka_unit_test(test_door_DebounceZeroBelievesAtOnce),
	    cmocka_unit_test(test_door_OverdueLevelIsBelievedBeforeNextEdge),
	    cmocka_unit_test(test_door_AbsentOpenSensorIsIgnored),
	    cmocka_unit_test(test_door_InvalidSensorIsIgnored),
	    cmocka_unit_test(test_door_ClosedOnlyOpensByTime),
	    cmocka_unit_test(test_door_ClosedOnlyClosesOnSensor),
	    cmocka_unit_test(test_door_ClosedOnlyClosingTimesOutStopped),
	    cmocka_unit_test(test_door_ClosedOnlyOpeningBackToClosed),
	    cmocka_unit_test(test_door_ClosedOnlyWallButtonCloseAndOpen),
	    cmocka_unit_test(test_door_ClosedOnlyStoppedToClosedOnSensor),
	    cmocka_unit_test(test_door_TwoSensorsFullCycle),
	    cmocka_unit_test(test_door_TwoSensorsOpeningTimesOutStopped),
	    cmocka_unit_test(test_door_TwoSensorsClosingTimesOutStopped),
	    cmocka_unit_test(test_door_TwoSensorsOpeningBackToClosed),
	    cmocka_unit_test(test_door_TwoSensorsClosingBackToOpen),
	    cmocka_unit_test(test_door_TwoSensorsUnknownFindsPosition),
	    cmocka_unit_test(test_door_BothActiveFromClosedIsUnknown),
	    cmocka_unit_test(test_door_BothActiveFromOpenIsUnknown),
	    cmocka_unit_test(test_door_BothActiveWhileMovingIsUnknown),
	    cmocka_unit_test(test_door_BothActiveAtOnceWithoutDebounce),
	    cmocka_unit_test(test_door_ClosedOnlyNeverUnknownFromOpenLevel),
	    cmocka_unit_test(test_door_PulseClosedWaitsForSensor),
	    cmocka_unit_test(test_door_PulseOpenWithOpenSensorWaitsForSensor),
	    cmocka_unit_test(test_door_PulseOpenClosedOnlyCloses),
	    cmocka_unit_test(test_door_PulseOpeningStops),
	    cmocka_unit_test(test_door_PulseClosingStops),
	    cmocka_unit_test(test_door_PulseStoppedReversesUpToDown),
	    cmocka_unit_test(test_door_PulseStoppedReversesDownToUp),
	    cmocka_unit_test(test_door_PulseAfterOpeningTimeoutCloses),
	    cmocka_unit_test(test_door_PulseAfterClosingTimeoutOpens),
	    cmocka_unit_test(test_door_PulseStoppedWithoutDirectionOpens),
	    cmocka_unit_test(test_door_PulseUnknownNoChange),
	    cmocka_unit_test(test_door_PulseSingleButtonCycle),
	    cmocka_unit_test(test_door_PulseAppliesOverdueTimeoutFirst),
	    cmocka_unit_test(test_door_TickNothingDue),
	    cmocka_unit_test(test_door_TickDebounceAndTimeoutInOneCall),
	    cmocka_unit_test(test_door_TickTwoDebouncesInOneCall),
	    cmocka_unit_test(test_door_EndPositionWinsTieWithTimeout),
	    cmocka_unit_test(test_door_TimeoutBeforeLateEndPosition),
	    cmocka_unit_test(test_door_DeadlineNoneAtRest),
	    cmocka_unit_test(test_door_DeadlineMinOfDebounceAndTravel),
	    cmocka_unit_test(test_door_DeadlineMinOfTwoDebounces),
	    cmocka_unit_test(test_door_DeadlineDoesNotWrap),
	    cmocka_unit_test(test_door_PressesTable),
	    cmocka_unit_test(test_door_PressesAgreeWithPulse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
