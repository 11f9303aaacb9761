/*
 * mqtt: garaged's one outbound connection to the broker, over mutually authenticated TLS.
 *
 * It owns the libmosquitto handle: its TLS context (built by tls.c: CA, client certificate,
 * host name check, minimum protocol version, pins), the user name and password, the last will
 * ("offline" on the availability topic), connecting and reconnecting with backoff, and keepalive;
 * with several brokers ([mqtt] host repeated) which one: the next on failure, and back to a
 * preferred one once a probe shows it answers again (failback).
 * It does no polling of its own: the daemon's poll loop asks for the socket, what to wait for and
 * the next deadline, and calls back in. It never interprets a payload; messages go to the daemon's
 * callback as raw bytes.
 */
#ifndef GARAGED_MQTT_H
#define GARAGED_MQTT_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

struct mqtt;

struct mqtt_callbacks {
	/* The broker accepted the session: publish state and subscribe now. */
	void (*connected)(void *arg);
	/* A message on a subscribed topic; payload is not NUL-terminated. */
	void (*message)(void *arg, const char *topic, const void *payload, size_t len,
	                bool retained);
	/* An attempt failed, with its one warning line (already logged). OURS: the broker
	 * refused this side's certificate or the session, rather than being out of reach or
	 * failing this side's checks of its own certificate. May be NULL. */
	void (*failed)(void *arg, const char *why, bool ours);
};

/*
 * Creates the client from the configuration (no network traffic yet). Returns NULL with a
 * one-line reason in err (a certificate or key that TLS cannot load, for instance).
 */
struct mqtt *mqtt_new(const struct config *cfg, const char *will_topic,
                      const struct mqtt_callbacks *cb, void *arg, char *err, size_t errlen);

/* Ends the session cleanly if there is one (no will sent) and frees everything. */
void mqtt_free(struct mqtt *m);

/* Starts the first connection attempt now. Failures are retried, never fatal. */
void mqtt_start(struct mqtt *m, uint64_t now_ms);

/* The socket to poll (-1 while disconnected), and whether to poll it for POLLIN and POLLOUT.
 * In a session it is not read while something waits to be written (back-pressure): what one
 * read can make it queue is bounded, whatever the broker sends. */
int mqtt_fd(const struct mqtt *m);
bool mqtt_want_read(const struct mqtt *m);
bool mqtt_want_write(const struct mqtt *m);
/* Whether the socket is to be read and TLS already holds bytes read from it (read-ahead, or
 * records past what mqtt_io() took in one go), which poll() cannot see: then the loop must not
 * sleep, and calls mqtt_io() with POLLIN. */
bool mqtt_read_pending(const struct mqtt *m);

/* The socket is ready (revents from poll). */
void mqtt_io(struct mqtt *m, short revents, uint64_t now_ms);

/* The next time mqtt_tick() has work (keepalive, reconnect), in monotonic milliseconds. */
uint64_t mqtt_next_deadline(const struct mqtt *m);
void mqtt_tick(struct mqtt *m, uint64_t now_ms);

bool mqtt_connected(const struct mqtt *m);

/*
 * The broker of the current attempt or session, one of [mqtt] host's; with INDEX its place in
 * the list (0: the most preferred), with COUNT how many there are (each may be NULL).
 */
const struct config_broker *mqtt_broker(const struct mqtt *m, size_t *index, size_t *count);

/*
 * The failback probe: while in a session with a lesser broker, a TCP connect and TLS handshake
 * with a better one every [mqtt] failback_s +-25% (its deadlines are in mqtt_next_deadline()),
 * after a *.local name's mDNS lookup. The two descriptors to poll for it and what for (fd -1:
 * none now); mqtt_probe_io() with them when either is ready. A probe that passes moves the
 * session to that broker (connected() again there).
 */
void mqtt_probe_pollfds(const struct mqtt *m, struct pollfd pfd[2]);
void mqtt_probe_io(struct mqtt *m, const struct pollfd pfd[2], uint64_t now_ms);

/*
 * The TLS context (an SSL_CTX *): the client certificate and key in use, and the CA store, for
 * the renewal (renew.h) to read. Owned by the struct mqtt.
 */
void *mqtt_ssl_ctx(const struct mqtt *m);

/* Fewer days than this left on the client certificate is worth a warning (and an event). */
#define MQTT_CERT_WARN_DAYS 30

/*
 * Whole days until the client certificate (certfile) expires, counted now; negative once it
 * has expired. mqtt_new() logs the date at start and warns under MQTT_CERT_WARN_DAYS.
 */
int mqtt_cert_days_left(const struct mqtt *m);

/*
 * At most this many of our publishes wait for the broker's acknowledgement; libmosquitto holds
 * each until then (and sends it again after a reconnect), so this bounds what it holds.
 */
#define MQTT_INFLIGHT_MAX 32U

/* Our publishes not acknowledged yet. */
unsigned mqtt_inflight(const struct mqtt *m);

/*
 * Publishes with QoS 1. Returns 0; 1 when it cannot now (not connected, or MQTT_INFLIGHT_MAX
 * unacknowledged: try again later); -1 when libmosquitto refused the message (logged).
 */
int mqtt_publish(struct mqtt *m, const char *topic, const void *payload, size_t len, bool retain);
int mqtt_subscribe(struct mqtt *m, const char *topic);

/*
 * The clean goodbye: publishes PAYLOAD retained on TOPIC (QoS 1), waits up to timeout_ms for
 * the broker's acknowledgement, then disconnects so that the broker drops the will.
 */
void mqtt_goodbye(struct mqtt *m, const char *topic, const char *payload, unsigned timeout_ms);

#endif
