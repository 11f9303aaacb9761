/*
 * test-sim: the simulated door backend, driven through backend.h with real (short) times, as
 * the daemon drives it: press the relay, poll the backend's descriptor, dispatch, read.
 *
 * These tests run on busy machines under sanitizers, so they only ever assert order, eventual
 * values within generous bounded waits, and lower bounds on time (the simulated door can be
 * late, never early). They never assert that something happened faster than some figure.
 * Every test checks at its end that it left no descriptor open.
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
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"

/* A generous bound on any wait: a sanitized build on a loaded machine can be very late. */
#define SLACK 5

static char tmpdir[] = "/tmp/test-sim-XXXXXX";

static int64_t
now_ns(clockid_t id)
{
	struct timespec ts;

	assert_int_equal(clock_gettime(id, &ts), 0);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
sleep_ms(int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void
door_sim(struct config_door *d, uint32_t travel_ms, bool start_open, int open_line, const char *log)
{
	memset(d, 0, sizeof(*d));
	strcpy(d->name, "main");
	d->backend = CONFIG_BACKEND_SIM;
	strcpy(d->chip, "gpiochip0");
	d->relay_line = 17;
	d->closed_line = 27;
	d->open_line = open_line;
	d->relay_pulse_ms = 500;
	d->min_pulse_interval_ms = 1000;
	d->travel_time_s = 15;
	d->sim_travel_ms = travel_ms;
	d->sim_start_open = start_open;
	if (log != NULL) {
		int n = snprintf(d->sim_log, sizeof(d->sim_log), "%s", log);

		assert_true(n > 0 && (size_t)n < sizeof(d->sim_log));
	}
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

static void
log_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", tmpdir, name);
}

/* Waits, as the daemon's poll loop would, for the next sensor edge; then dispatches. */
static void
wait_edge(struct backend *b, int timeout_ms)
{
	if (!readable(b, timeout_ms))
		fail_msg("no sensor edge within %d ms", timeout_ms);
	assert_int_equal(backend_dispatch(b), 0);
}

static void
press(struct backend *b)
{
	assert_int_equal(backend_relay(b, true), 0);
	assert_int_equal(backend_relay(b, false), 0);
}

static size_t
read_log(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
	return n;
}

static int
group_setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
group_teardown(void **state)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	char path[512];

	(void)state;
	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", tmpdir, e->d_name);
		unlink(path);
	}
	closedir(d);
	return rmdir(tmpdir);
}

static int fds_before;

static int
fd_setup(void **state)
{
	(void)state;
	fds_before = count_fds();
	return 0;
}

static int
fd_teardown(void **state)
{
	(void)state;
	assert_int_equal(count_fds(), fds_before);
	return 0;
}

static void
test_sim_StartsClosed(void **state)
{
	char path[512];
	char buf[256];
	struct config_door d;
	struct backend *b;

	(void)state;
	log_path(path, sizeof(path), "starts-closed.log");
	for (int open_line = -1; open_line <= 22; open_line += 23) {
		door_sim(&d, 300, false, open_line, path);
		b = open_ok(&d);
		assert_levels(b, true, false);
		/* Idle: no edge is pending and dispatching with none pending is harmless. */
		assert_false(readable(b, 0));
		assert_int_equal(backend_dispatch(b), 0);
		/* The relay starts released: releasing it again is not an edge. */
		assert_int_equal(backend_relay(b, false), 0);
		backend_close(b);
	}
	assert_int_equal(read_log(path, buf, sizeof(buf)), 0);
	backend_close(NULL);
}

static void
test_sim_StartsOpen(void **state)
{
	struct config_door d;
	struct backend *b;

	(void)state;
	door_sim(&d, 300, true, 22, NULL);
	b = open_ok(&d);
	assert_levels(b, false, true);
	assert_false(readable(b, 0));
	backend_close(b);

	/* The simulated door has both switches whatever open_line says. */
	door_sim(&d, 300, true, -1, NULL);
	b = open_ok(&d);
	assert_true(backend_has_open_sensor(b));
	assert_levels(b, false, true);
	backend_close(b);
}

static void
test_sim_PressOpens(void **state)
{
	const int travel = 300;
	struct config_door d;
	struct backend *b;
	int64_t t0;

	(void)state;
	door_sim(&d, travel, false, 22, NULL);
	b = open_ok(&d);

	t0 = now_ns(CLOCK_MONOTONIC);
	assert_int_equal(backend_relay(b, true), 0);
	wait_edge(b, SLACK * travel);
	assert_levels(b, false, false); /* left the closed switch */
	assert_int_equal(backend_relay(b, false), 0);
	assert_levels(b, false, false); /* moving: no switch */

	wait_edge(b, SLACK * travel);
	assert_true(now_ns(CLOCK_MONOTONIC) - t0 >= (int64_t)travel * 1000000);
	assert_levels(b, false, true);

	/* Idle at open: nothing more will change, so the descriptor stays quiet. */
	assert_false(readable(b, travel));
	assert_levels(b, false, true);
	backend_close(b);
}

static void
test_sim_PressWhileMovingStops(void **state)
{
	const int travel = 400;
	struct config_door d;
	struct backend *b;

	(void)state;
	door_sim(&d, travel, false, 22, NULL);
	b = open_ok(&d);

	press(b);
	wait_edge(b, SLACK * travel);
	assert_levels(b, false, false);
	sleep_ms(travel / 8);
	press(b); /* stop */

	/* Stopped midway: no end switch ever arrives. */
	assert_false(readable(b, 2 * travel));
	assert_levels(b, false, false);

	/* The next press reverses: it went up last, so now it comes down and closes. */
	press(b);
	wait_edge(b, SLACK * travel);
	assert_levels(b, true, false);
	assert_false(readable(b, travel));
	assert_levels(b, true, false);
	backend_close(b);
}

static void
test_sim_StopGoingDownThenPressGoesUp(void **state)
{
	const int travel = 400;
	struct config_door d;
	struct backend *b;

	(void)state;
	door_sim(&d, travel, true, 22, NULL);
	b = open_ok(&d);

	press(b);
	wait_edge(b, SLACK * travel);
	assert_levels(b, false, false); /* left the open switch */
	sleep_ms(travel / 8);
	press(b); /* stop */
	assert_false(readable(b, 2 * travel));
	assert_levels(b, false, false);

	press(b);
	wait_edge(b, SLACK * travel);
	assert_levels(b, false, true);
	backend_close(b);
}

/*
 * An edge the daemon has not dispatched yet must survive a press that re-plans the timer: the
 * switch changed, so the descriptor has to stay readable until it is dispatched.
 */
static void
test_sim_UndispatchedEdgeSurvivesPress(void **state)
{
	const int travel = 400;
	struct config_door d;
	struct backend *b;

	(void)state;
	door_sim(&d, travel, false, 22, NULL);
	b = open_ok(&d);

	press(b);
	sleep_ms(travel / 8); /* the closed switch has let go; nobody dispatched that */
	press(b);             /* stop */
	wait_edge(b, SLACK * travel);
	assert_levels(b, false, false);
	assert_false(readable(b, 2 * travel));
	backend_close(b);
}

/*
 * A switch releases only after the door has moved 2% of travel. With a long travel the two
 * presses below nearly always fall inside that distance; when the machine is too slow for
 * that, the test has nothing to say and asserts nothing about the switch.
 */
static void
test_sim_StopNearClosedKeepsClosedSwitch(void **state)
{
	const int travel = 60000;
	const int64_t release_ns = (int64_t)travel * 1000000 * 2 / 100;
	struct config_door d;
	struct backend *b;
	int64_t t0, t1;

	(void)state;
	door_sim(&d, travel, false, -1, NULL);
	b = open_ok(&d);

	t0 = now_ns(CLOCK_MONOTONIC);
	press(b);
	press(b); /* stop */
	t1 = now_ns(CLOCK_MONOTONIC);
	if (t1 - t0 < release_ns) {
		assert_levels(b, true, false);
		assert_false(readable(b, 200));
		assert_levels(b, true, false);
	}
	backend_close(b);
}

static void
test_sim_RepeatedLevelIsNotAnEdge(void **state)
{
	const int travel = 300;
	struct config_door d;
	struct backend *b;

	(void)state;
	door_sim(&d, travel, false, 22, NULL);
	b = open_ok(&d);

	/* A second "on" is no second press: a second press would stop the door at once. */
	assert_int_equal(backend_relay(b, true), 0);
	assert_int_equal(backend_relay(b, true), 0);
	wait_edge(b, SLACK * travel);
	assert_levels(b, false, false);
	assert_int_equal(backend_relay(b, false), 0);
	assert_int_equal(backend_relay(b, false), 0);
	wait_edge(b, SLACK * travel);
	assert_levels(b, false, true);
	backend_close(b);
}

/* Checks one "<unix time ns> relay on|off\n" line and returns where the next one starts. */
static const char *
check_line(const char *p, const char *what, int64_t after, int64_t before, int64_t *ts)
{
	char *end;
	long long v;
	size_t wl = strlen(what);

	assert_true(*p >= '1' && *p <= '9');
	errno = 0;
	v = strtoll(p, &end, 10);
	assert_int_equal(errno, 0);
	assert_true(v >= after && v <= before);
	assert_true(v >= *ts);
	*ts = v;
	assert_memory_equal(end, " relay ", 7);
	end += 7;
	assert_memory_equal(end, what, wl);
	end += wl;
	assert_int_equal(*end, '\n');
	return end + 1;
}

static void
test_sim_LogOneLinePerEdge(void **state)
{
	char path[512];
	char buf[1024];
	struct config_door d;
	struct backend *b;
	const char *p;
	int64_t before, after, ts = 0;

	(void)state;
	log_path(path, sizeof(path), "edges.log");
	door_sim(&d, 300, false, -1, path);
	before = now_ns(CLOCK_REALTIME);
	b = open_ok(&d);
	assert_int_equal(backend_relay(b, false), 0);
	assert_int_equal(backend_relay(b, true), 0);
	assert_int_equal(backend_relay(b, true), 0);
	assert_int_equal(backend_relay(b, false), 0);
	assert_int_equal(backend_relay(b, false), 0);
	assert_int_equal(backend_relay(b, true), 0);
	assert_int_equal(backend_relay(b, false), 0);
	backend_close(b); /* relay already off: no line */
	after = now_ns(CLOCK_REALTIME);

	read_log(path, buf, sizeof(buf));
	p = buf;
	p = check_line(p, "on", before, after, &ts);
	p = check_line(p, "off", before, after, &ts);
	p = check_line(p, "on", before, after, &ts);
	p = check_line(p, "off", before, after, &ts);
	assert_string_equal(p, "");
}

static void
test_sim_CloseReleasesRelay(void **state)
{
	char path[512];
	char buf[1024];
	struct config_door d;
	struct backend *b;
	const char *p;
	int64_t before, after, ts = 0;

	(void)state;
	log_path(path, sizeof(path), "close.log");
	door_sim(&d, 300, false, -1, path);
	before = now_ns(CLOCK_REALTIME);
	b = open_ok(&d);
	assert_int_equal(backend_relay(b, true), 0);
	backend_close(b);

	/* A second backend appends to the same log, and starts with the relay released. */
	b = open_ok(&d);
	backend_close(b);
	after = now_ns(CLOCK_REALTIME);

	read_log(path, buf, sizeof(buf));
	p = buf;
	p = check_line(p, "on", before, after, &ts);
	p = check_line(p, "off", before, after, &ts);
	assert_string_equal(p, "");
}

static void
test_sim_LogUnwritable(void **state)
{
	char path[512];
	char want[600];
	char err[700] = "";
	struct config_door d;

	(void)state;
	log_path(path, sizeof(path), "no-such-dir/sim.log");
	door_sim(&d, 300, false, -1, path);
	assert_null(backend_open(&d, err, sizeof(err)));
	assert_int_equal(errno, ENOENT);
	snprintf(want, sizeof(want), "sim_log '%s': No such file or directory", path);
	assert_string_equal(err, want);
}

static void
test_sim_ZeroTravelRefused(void **state)
{
	char err[256] = "";
	struct config_door d;

	(void)state;
	door_sim(&d, 0, false, -1, NULL);
	assert_null(backend_open(&d, err, sizeof(err)));
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(err, "sim_travel_ms"));
}

static void
test_sim_GpiodMissingChip(void **state)
{
	char err[256] = "";
	struct config_door d;

	(void)state;
	door_sim(&d, 300, false, 22, NULL);
	d.backend = CONFIG_BACKEND_GPIOD;
	strcpy(d.chip, "gpiochip-missing");
	assert_null(backend_open(&d, err, sizeof(err)));
	assert_int_equal(errno, ENOENT);
	assert_string_equal(err, "gpio chip 'gpiochip-missing': No such file or directory");
}

static void
test_sim_GpiodNeedsLines(void **state)
{
	char err[256] = "";
	struct config_door d;

	(void)state;
	door_sim(&d, 300, false, -1, NULL);
	d.backend = CONFIG_BACKEND_GPIOD;
	d.relay_line = -1;
	assert_null(backend_open(&d, err, sizeof(err)));
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(err, "relay_line"));
}

#define T(f) cmocka_unit_test_setup_teardown(f, fd_setup, fd_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_sim_StartsClosed),
	    T(test_sim_StartsOpen),
	    T(test_sim_PressOpens),
	    T(test_sim_PressWhileMovingStops),
	    T(test_sim_StopGoingDownThenPressGoesUp),
	    T(test_sim_UndispatchedEdgeSurvivesPress),
	    T(test_sim_StopNearClosedKeepsClosedSwitch),
	    T(test_sim_RepeatedLevelIsNotAnEdge),
	    T(test_sim_LogOneLinePerEdge),
	    T(test_sim_CloseReleasesRelay),
	    T(test_sim_LogUnwritable),
	    T(test_sim_ZeroTravelRefused),
	    T(test_sim_GpiodMissingChip),
	    T(test_sim_GpiodNeedsLines),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
