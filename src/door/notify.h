/*
 * notify: the service manager's readiness protocol (sd_notify(3)), spoken directly: one
 * datagram of "KEY=value" lines to the AF_UNIX socket named by $NOTIFY_SOCKET (a path, or an
 * abstract name written with a leading '@'). systemd documents it as a stable interface to
 * implement without libsystemd; doing so keeps libsystemd and the six libraries it loads
 * (libgcrypt, liblzma, libzstd, liblz4, libgpg-error, libcap) out of the door half, which is
 * smaller for it (make bench's pss_kb) and has less code beside the relay.
 */
#ifndef GARAGED_NOTIFY_H
#define GARAGED_NOTIFY_H

/*
 * Sends the state lines FMT... to the service manager. Nothing when garaged was not started by
 * one (no NOTIFY_SOCKET); a failure is not an error of garaged's: it is logged once at debug.
 */
void notify(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
