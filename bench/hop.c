/*
 * hop: the floor under garaged's channel, measured the way the stages are (make bench): one
 * way across a SOCK_SEQPACKET socketpair between two processes that sleep in poll(2) between
 * packets, as the two halves do. The sender stamps CLOCK_REALTIME just before send(), the
 * receiver just after its recv(); it sends its stamp back, and the median and the 99th
 * percentile of the differences are printed.
 *
 * hop [PAUSE_MS SAMPLES [NAME]]: PAUSE_MS between packets (default 2: the receiver has only
 * just gone to sleep; with 100, as between a door's commands, the CPUs have gone idle too, and a
 * wake-up costs what it costs a command), SAMPLES of them (default 2000), printed as NAME
 * (default channel_hop).
 */
#define _GNU_SOURCE
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WARMUP      20
#define SAMPLES_MAX 10000

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* The receiver: wakes from poll for each packet, answers with the time it had it. */
static _Noreturn void
receiver(int fd, int samples)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	char buf[2100];
	int64_t t;

	for (int i = 0; i < WARMUP + samples; i++) {
		if (poll(&pfd, 1, 10000) != 1 || recv(fd, buf, sizeof(buf), 0) <= 0)
			_exit(1);
		t = now_ns();
		if (send(fd, &t, sizeof(t), 0) != (ssize_t)sizeof(t))
			_exit(1);
	}
	_exit(0);
}

int
main(int argc, char *argv[])
{
	static int64_t d[SAMPLES_MAX];
	/* A command packet's size (struct channel_command): about 2 KiB. */
	static char packet[2084];
	long pause_ms = argc > 1 ? strtol(argv[1], NULL, 10) : 2;
	int samples = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 2000;
	const char *name = argc > 3 ? argv[3] : "channel_hop";
	struct pollfd pfd;
	struct timespec pause;
	int sv[2], status;
	int64_t t0, t1;
	pid_t pid;

	if (pause_ms < 1 || pause_ms > 1000 || samples < 10 || samples > SAMPLES_MAX) {
		fprintf(stderr, "usage: hop [PAUSE_MS (1-1000) SAMPLES (10-%d) [NAME]]\n",
		        SAMPLES_MAX);
		return 2;
	}
	pause = (struct timespec){pause_ms / 1000, (pause_ms % 1000) * 1000000L};

	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) != 0)
		return perror("socketpair"), 1;
	pid = fork();
	if (pid < 0)
		return perror("fork"), 1;
	if (pid == 0) {
		close(sv[0]);
		receiver(sv[1], samples);
	}
	close(sv[1]);
	pfd = (struct pollfd){.fd = sv[0], .events = POLLIN};
	for (int i = 0; i < WARMUP + samples; i++) {
		nanosleep(&pause, NULL);
		t0 = now_ns();
		if (send(sv[0], packet, sizeof(packet), 0) != (ssize_t)sizeof(packet) ||
		    poll(&pfd, 1, 10000) != 1 || recv(sv[0], &t1, sizeof(t1), 0) != sizeof(t1)) {
			fprintf(stderr, "hop: the receiver stopped answering\n");
			return 1;
		}
		if (i >= WARMUP)
			d[i - WARMUP] = t1 - t0;
	}
	waitpid(pid, &status, 0);
	qsort(d, (size_t)samples, sizeof(d[0]), cmp_i64);
	printf("%s_p50_us %.1f us\n", name, (double)d[samples / 2] / 1000.0);
	printf("%s_p99_us %.1f us\n", name, (double)d[samples * 99 / 100] / 1000.0);
	return 0;
}
