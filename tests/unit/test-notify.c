/*
 * Unit tests for notify.c: the datagram systemd's sd_notify(3) protocol expects, on a socket
 * named by a path and by an abstract name, and nothing at all without NOTIFY_SOCKET.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "notify.h"

/* A datagram socket bound to NAME ('@' first: abstract); the caller closes it. */
static int
listen_at(const char *name)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	size_t n = strlen(name);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memcpy(sun.sun_path, name, n);
	if (name[0] == '@')
		sun.sun_path[0] = '\0';
	assert_int_equal(
	    bind(fd, (struct sockaddr *)&sun,
	         (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (name[0] == '/'))),
	    0);
	return fd;
}

static void
expect_datagram(int fd, const char *want)
{
	char buf[600];
	ssize_t r = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	assert_true(r >= 0);
	buf[r] = '\0';
	assert_string_equal(buf, want);
}

static void
test_notify_PathSocket(void **state)
{
	char path[] = "/tmp/garaged-notify-XXXXXX";
	char sock[64];
	int fd;

	(void)state;
	assert_non_null(mkdtemp(path));
	snprintf(sock, sizeof(sock), "%s/notify", path);
	fd = listen_at(sock);
	setenv("NOTIFY_SOCKET", sock, 1);
	notify("READY=1\nSTATUS=running; network half pid %ld", 42L);
	expect_datagram(fd, "READY=1\nSTATUS=running; network half pid 42");
	close(fd);
	unlink(sock);
	rmdir(path);
}

static void
test_notify_AbstractSocket(void **state)
{
	char name[64];
	int fd;

	(void)state;
	snprintf(name, sizeof(name), "@garaged-notify-test-%ld", (long)getpid());
	fd = listen_at(name);
	setenv("NOTIFY_SOCKET", name, 1);
	notify("STOPPING=1");
	expect_datagram(fd, "STOPPING=1");
	close(fd);
}

/* No NOTIFY_SOCKET, or one that is neither form: nothing is sent and nothing fails. */
static void
test_notify_NoSocketIsQuiet(void **state)
{
	char name[64];
	char buf[16];
	int fd;

	(void)state;
	snprintf(name, sizeof(name), "@garaged-notify-quiet-%ld", (long)getpid());
	fd = listen_at(name);
	unsetenv("NOTIFY_SOCKET");
	notify("READY=1");
	setenv("NOTIFY_SOCKET", name + 1, 1); /* relative: not a form systemd uses */
	notify("READY=1");
	assert_true(recv(fd, buf, sizeof(buf), MSG_DONTWAIT) < 0);
	close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_notify_PathSocket),
	    cmocka_unit_test(test_notify_AbstractSocket),
	    cmocka_unit_test(test_notify_NoSocketIsQuiet),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
