/*
 * Unit tests of the limits on repeated warnings (src/common/log.c), with a fake clock: at most
 * LOG_LIMIT_BURST lines a window, the rest counted and said as one summary line when the window
 * is over, by the next line or by log_limit_tick(); nothing said when nothing was held.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"

static uint64_t fake_now;

static uint64_t
fake_clock(void)
{
	return fake_now;
}

/* stderr into a temporary file, read back by captured(). */
static FILE *capture;
static int saved_stderr = -1;

static int
setup(void **state)
{
	(void)state;
	fake_now = 1000000;
	log_init("test-log", true, false);
	log_set_clock(fake_clock);
	capture = tmpfile();
	assert_non_null(capture);
	fflush(stderr);
	saved_stderr = dup(STDERR_FILENO);
	assert_true(saved_stderr >= 0);
	assert_true(dup2(fileno(capture), STDERR_FILENO) >= 0);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	fflush(stderr);
	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	fclose(capture);
	log_set_clock(NULL);
	return 0;
}

/* Everything written since the last call, as one string (the caller frees it). */
static char *
captured(void)
{
	static long from;
	long end;
	char *buf;

	fflush(stderr);
	end = lseek(fileno(capture), 0, SEEK_END);
	buf = calloc(1, (size_t)(end - from) + 1);
	assert_non_null(buf);
	assert_int_equal(pread(fileno(capture), buf, (size_t)(end - from), from), end - from);
	from = end;
	return buf;
}

/* Every limit a test left holding lines says its summary, so that the next test starts clean. */
static void
drain(void)
{
	fake_now = UINT64_MAX / 2;
	log_limit_tick();
	free(captured());
	fake_now = 1000000;
	assert_int_equal(log_limit_deadline(), UINT64_MAX);
}

static size_t
count(const char *text, const char *what)
{
	size_t n = 0;

	for (; (text = strstr(text, what)) != NULL; text += strlen(what))
		n++;
	return n;
}

static void
test_LimitPass_BurstThenHeld(void **state)
{
	static struct log_limit l = LOG_LIMIT_INIT("x");
	uint32_t summary = 99;
	unsigned i;

	(void)state;
	for (i = 0; i < LOG_LIMIT_BURST; i++) {
		assert_true(log_limit_pass(&l, 5000 + i, &summary));
		assert_int_equal(summary, 0);
	}
	for (i = 0; i < 1000; i++)
		assert_false(log_limit_pass(&l, 6000 + i, &summary));
	/* Just before the window is over: still held. */
	assert_false(log_limit_pass(&l, 5000 + LOG_LIMIT_WINDOW_MS - 1, &summary));
	assert_int_equal(summary, 0);
	/* The first line after it: the summary of the 1,001 held, and a new window. */
	assert_true(log_limit_pass(&l, 5000 + LOG_LIMIT_WINDOW_MS, &summary));
	assert_int_equal(summary, 1001);
	for (i = 1; i < LOG_LIMIT_BURST; i++)
		assert_true(log_limit_pass(&l, 5000 + LOG_LIMIT_WINDOW_MS, &summary));
	assert_false(log_limit_pass(&l, 5000 + LOG_LIMIT_WINDOW_MS, &summary));
	assert_int_equal(summary, 0);
	drain();
}

static void
test_LimitPass_QuietWindowHasNoSummary(void **state)
{
	static struct log_limit l = LOG_LIMIT_INIT("x");
	uint32_t summary;

	(void)state;
	assert_true(log_limit_pass(&l, 0, &summary));
	assert_true(log_limit_pass(&l, 10, &summary));
	assert_true(log_limit_pass(&l, 10 * LOG_LIMIT_WINDOW_MS, &summary));
	assert_int_equal(summary, 0);
	assert_int_equal(log_limit_deadline(), UINT64_MAX);
}

static void
test_LimitPass_SitesAreIndependent(void **state)
{
	static struct log_limit a = LOG_LIMIT_INIT("a"), b = LOG_LIMIT_INIT("b");
	uint32_t summary;
	unsigned i;

	(void)state;
	for (i = 0; i < 100; i++)
		(void)log_limit_pass(&a, 100, &summary);
	assert_true(log_limit_pass(&b, 100, &summary));
	assert_int_equal(summary, 0);
	assert_true(log_limit_pass(&a, 100 + LOG_LIMIT_WINDOW_MS, &summary));
	assert_int_equal(summary, 100 - LOG_LIMIT_BURST);
	drain();
}

/* A flood of one warning: LOG_LIMIT_BURST lines, then one summary when the minute is over,
 * said by the tick even though the warning never comes again. */
static void
test_WarnxLimited_FloodIsSummarisedByTick(void **state)
{
	static struct log_limit l = LOG_LIMIT_INIT("the channel is full");
	char *out;
	unsigned i;

	(void)state;
	drain();
	for (i = 0; i < 100000; i++) {
		log_warnx_limited(&l, "the channel is full: message %u dropped", i);
		if (i % 1000 == 0)
			fake_now++;
	}
	out = captured();
	assert_int_equal(count(out, "\n"), LOG_LIMIT_BURST);
	assert_int_equal(count(out, "message 0 dropped"), 1);
	assert_int_equal(count(out, "more in the last"), 0);
	free(out);

	assert_int_equal(log_limit_deadline(), 1000000 + LOG_LIMIT_WINDOW_MS);
	fake_now = 1000000 + LOG_LIMIT_WINDOW_MS - 1;
	log_limit_tick();
	out = captured();
	assert_string_equal(out, "");
	free(out);

	fake_now = 1000000 + LOG_LIMIT_WINDOW_MS;
	log_limit_tick();
	out = captured();
	assert_int_equal(count(out, "\n"), 1);
	assert_non_null(
	    strstr(out, "warning: the channel is full: 99995 more in the last minute\n"));
	free(out);
	assert_int_equal(log_limit_deadline(), UINT64_MAX);

	/* Said once: later ticks say nothing, and the next line starts a new window. */
	fake_now += 5 * LOG_LIMIT_WINDOW_MS;
	log_limit_tick();
	log_warnx_limited(&l, "the channel is full: again");
	out = captured();
	assert_int_equal(count(out, "\n"), 1);
	assert_non_null(strstr(out, "the channel is full: again"));
	free(out);
	drain();
}

/* Without a tick, the next line says the summary first, with the time it covers. */
static void
test_WarnxLimited_NextLineSaysSummary(void **state)
{
	static struct log_limit l = LOG_LIMIT_INIT("publish");
	char *out;
	unsigned i;

	(void)state;
	drain();
	for (i = 0; i < LOG_LIMIT_BURST + 7; i++)
		log_warnx_limited(&l, "publish %u failed", i);
	fake_now += 3 * LOG_LIMIT_WINDOW_MS;
	log_warnx_limited(&l, "publish late failed");
	out = captured();
	assert_int_equal(count(out, "\n"), LOG_LIMIT_BURST + 2);
	assert_non_null(strstr(out, "warning: publish: 7 more in the last 3 minutes\n"));
	assert_true(strstr(out, "more in the last") < strstr(out, "publish late failed"));
	free(out);
	drain();
}

/* Every line names the process that wrote it, once it is set; log_warn() appends errno's text. */
static void
test_SetProcess_EveryLineIsTagged(void **state)
{
	char *out;

	(void)state;
	drain();
	log_set_process("net");
	log_info("connected");
	errno = ENOENT;
	log_warn("opening %s", "x");
	log_set_process(NULL);
	log_info("untagged");
	out = captured();
	assert_non_null(strstr(out, "Z net info: connected\n"));
	assert_non_null(strstr(out, "Z net warning: opening x: No such file or directory\n"));
	assert_non_null(strstr(out, "Z info: untagged\n"));
	free(out);
}

/* log_fatal() says errno's text and ends the process with 1. */
static void
test_Fatal_SaysErrnoAndExits(void **state)
{
	int status;
	pid_t pid;
	char *out;

	(void)state;
	drain();
	fflush(stderr);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		log_set_process("door");
		errno = EACCES;
		log_fatal("the channel");
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1);
	out = captured();
	assert_non_null(strstr(out, "Z door error: the channel: Permission denied\n"));
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_LimitPass_BurstThenHeld),
	    cmocka_unit_test(test_LimitPass_QuietWindowHasNoSummary),
	    cmocka_unit_test(test_LimitPass_SitesAreIndependent),
	    cmocka_unit_test(test_WarnxLimited_FloodIsSummarisedByTick),
	    cmocka_unit_test(test_WarnxLimited_NextLineSaysSummary),
	    cmocka_unit_test(test_SetProcess_EveryLineIsTagged),
	    cmocka_unit_test(test_Fatal_SaysErrnoAndExits),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
