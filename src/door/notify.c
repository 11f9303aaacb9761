/*
 * notify: see notify.h.
 */
#include "notify.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"

void
notify(const char *fmt, ...)
{
	const char *name = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	char msg[512];
	socklen_t len;
	va_list ap;
	size_t n;
	int fd, saved;

	if (name == NULL || name[0] == '\0')
		return;
	n = strlen(name);
	if ((name[0] != '/' && name[0] != '@') || n >= sizeof(sun.sun_path)) {
		log_debug("NOTIFY_SOCKET %s: not a socket path or abstract name", name);
		return;
	}
	memcpy(sun.sun_path, name, n);
	if (name[0] == '@')
		sun.sun_path[0] =
		    '\0'; /* abstract: the name's bytes after the NUL, no terminator */
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (name[0] == '/'));
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Never waits: this process holds the relays, and a service manager whose queue is full
	 * (busy, or flooded by anyone who may send to its socket, the network half included)
	 * would otherwise keep it here with a relay energised. A notification lost that way is
	 * a debug line; a lost READY=1 shows as a failed start, which systemd retries. */
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || sendto(fd, msg, strlen(msg), MSG_NOSIGNAL | MSG_DONTWAIT,
	                     (struct sockaddr *)&sun, len) < 0) {
		saved = errno;
		log_debug("telling the service manager (%s): %s", name, strerror(saved));
	}
	if (fd >= 0)
		close(fd);
}
