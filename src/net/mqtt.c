/*
 * mqtt: see mqtt.h. libmosquitto drives the protocol and TLS; this file drives libmosquitto
 * from the daemon's poll loop through its "network loop for use in other event loops" calls
 * (mosquitto_socket, mosquitto_loop_read/write/misc, mosquitto_want_write), so that garaged
 * stays single-threaded and sleeps until something happens.
 *
 * TLS is tls.c's context, handed over whole (MOSQ_OPT_SSL_CTX without libmosquitto's defaults),
 * so that the pins are checked inside the handshake; when an attempt fails, tls.c says which
 * check failed and this file logs that as the attempt's one warning line.
 */
#include "mqtt.h"

#include <arpa/inet.h>
#include <errno.h>
#include <mosquitto.h>
#include <net/if.h>
#include <netdb.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "stage.h"
#include "timer.h"
#include "mdns.h"
#include "mqtt_session.h"
#include "tls.h"

/* A connection that lived this long was a good one: the next failure starts the backoff over. */
#define MQTT_LIVED_MS 30000U
/* libmosquitto counts keepalive in whole seconds; look a little after it is due. */
#define MQTT_KEEPALIVE_SLACK 200U
/* Packets read in one go while TLS still holds decrypted bytes that poll() cannot see. */
#define MQTT_READ_BURST 64
/* A probe of a preferred broker that has not finished its TLS handshake by then failed. */
#define MQTT_PROBE_TIMEOUT_MS 5000U
/* The probe interval doubles with each failback that did not hold, this many times at most. */
#define MQTT_PROBE_DOUBLINGS 4U

enum mqtt_state {
	MQTT_IDLE,       /* not started, or waiting for reconnect_at */
	MQTT_CONNECTING, /* TCP/TLS/CONNECT in progress */
	MQTT_CONNECTED,  /* CONNACK accepted */
};

struct mqtt {
	struct mosquitto *mosq;
	struct tls *tls;
	const struct config *cfg;
	struct mqtt_callbacks cb;
	void *arg;
	enum mqtt_state state;
	unsigned attempt;      /* failures in a row, for the backoff */
	uint64_t reconnect_at; /* when state is MQTT_IDLE after a failure; 0 = not scheduled */
	uint64_t last_io;      /* last read, write or publish: keepalive counts from here */
	uint64_t attempt_end; /* an attempt in progress ends by then, whatever it reads or writes */
	uint64_t connected_at;
	int goodbye_mid; /* the message id of the final "offline", while waiting for it */
	bool goodbye_acked;
	bool attempt_reported; /* this attempt's failure has had its warning line */
	bool sha1_told;        /* the SHA-256 to pin instead of a matching SHA-1 pin was logged */
	/* The message ids of our publishes the broker has not acknowledged yet. libmosquitto keeps
	 * each until its PUBACK, across reconnects too (it sends them again), and has no cap of
	 * its own: this is the cap. */
	int inflight[MQTT_INFLIGHT_MAX];
	unsigned ninflight;

	/* The brokers, the most preferred first ([mqtt] host, repeated), and the one of the
	 * current attempt or session. Failure moves to the next, round the list. */
	struct config_broker brokers[CONFIG_MAX_BROKERS];
	size_t nbrokers, cur;
	/*
	 * Failback: while in a session with a lesser broker, every failback_s +-25% a probe (a TCP
	 * connect and a TLS handshake under the same policy: CA, that broker's name, pins) goes
	 * to each better broker in turn; the session moves only to one that passed. A failback
	 * whose session then ends within MQTT_LIVED_MS doubles the interval (failbacks).
	 */
	uint64_t probe_at;                /* the next round of probes; 0: none scheduled */
	uint64_t probe_deadline;          /* of the probe in progress */
	size_t probe_target;              /* the broker it probes */
	int probe_fd;                     /* -1: no probe in progress */
	struct mdns_lookup *probe_lookup; /* a *.local name's lookup before the connect */
	SSL *probe_ssl;
	bool probe_tcp;     /* its TCP connect is done: the handshake is under way */
	short probe_events; /* what the handshake waits for */
	unsigned failbacks; /* failbacks in a row that did not hold */
	bool failed_back;   /* this attempt or session came from a probe that passed */
};

/* The broker of the current attempt or session. */
static const struct config_broker *
here(const struct mqtt *m)
{
	return &m->brokers[m->cur];
}

static void schedule_probe(struct mqtt *m, uint64_t now);
static void probe_stop(struct mqtt *m);

/* libmosquitto's warnings and our failed publishes can come once a message from a hostile
 * broker: each goes through a limit (log.h). */
static struct log_limit mqtt_log_limit = LOG_LIMIT_INIT("mqtt: warnings from libmosquitto");
static struct log_limit publish_limit = LOG_LIMIT_INIT("mqtt: publishes refused");

static void
on_log(struct mosquitto *mosq, void *obj, int level, const char *str)
{
	(void)mosq;
	(void)obj;
	/* OpenSSL's raw error lines are for debugging: attempt_failed() says which check
	 * failed, in one line. */
	if (strncmp(str, "OpenSSL Error", strlen("OpenSSL Error")) == 0)
		log_debug("mqtt: %s", str);
	else if (level & (MOSQ_LOG_ERR | MOSQ_LOG_WARNING))
		log_warnx_limited(&mqtt_log_limit, "mqtt: %s", str);
	else
		log_debug("mqtt: %s", str);
}

/*
 * Whether a failed attempt says something about this side's certificate: the broker refused
 * it, or hung up right after the handshake; not a broker that could not be reached, nor one
 * whose own certificate this side refused (mqtt_callbacks.failed).
 */
static bool
about_our_certificate(const struct mqtt *m, const char *why)
{
	if (why == NULL)
		return tls_handshake_done(m->tls);
	switch (tls_refused_check(m->tls)) {
	case TLS_CHECK_CLIENT:
	case TLS_CHECK_OTHER:
		return true;
	default:
		return false;
	}
}

/*
 * The one warning line of a failed attempt: for TLS, the check that failed and what was
 * wrong (tls_explain_failure); otherwise FALLBACK. The daemon hears it too (failed()).
 */
static void
attempt_failed(struct mqtt *m, const char *fallback)
{
	const char *why, *ssl;
	char line[2048];

	if (m->attempt_reported)
		return;
	m->attempt_reported = true;
	/* A broker that refuses our certificate sends an alert saying why, then hangs up. */
	tls_read_alert(m->tls, mosquitto_ssl_get(m->mosq));
	why = tls_explain_failure(m->tls);
	ssl = tls_ssl_error(m->tls);
	if (why == NULL && tls_handshake_done(m->tls))
		snprintf(line, sizeof(line),
		         "cannot connect to %s:%u: %s, right after the TLS handshake; does the "
		         "broker accept the client certificate %s?",
		         here(m)->host, here(m)->port, fallback, m->cfg->certfile);
	else if (why == NULL)
		snprintf(line, sizeof(line), "cannot connect to %s:%u: %s", here(m)->host,
		         here(m)->port, fallback);
	else
		snprintf(line, sizeof(line), "TLS with %s:%u failed%s%s%s: %s", here(m)->host,
		         here(m)->port, ssl != NULL ? " (" : "", ssl != NULL ? ssl : "",
		         ssl != NULL ? ")" : "", why);
	log_warnx("%s", line);
	if (m->cb.failed != NULL)
		m->cb.failed(m->arg, line, about_our_certificate(m, why));
}

static void
on_connect(struct mosquitto *mosq, void *obj, int rc)
{
	struct mqtt *m = obj;
	const struct config_pin *pin;

	(void)mosq;
	if (rc != 0) {
		/* The broker answered but said no: a certificate it does not accept as a user, an
		 * ACL, a bad password. libmosquitto closes the socket; we retry with backoff. */
		char line[CONFIG_HOST_MAX + 128];

		snprintf(line, sizeof(line), "broker %s:%u refused the connection: %s",
		         here(m)->host, here(m)->port, mosquitto_connack_string(rc));
		log_warnx("%s", line);
		m->attempt_reported = true;
		if (m->cb.failed != NULL)
			m->cb.failed(m->arg, line, true);
		return;
	}
	m->state = MQTT_CONNECTED;
	m->connected_at = timer_now_ms();
	log_info("connected to %s:%u over TLS", here(m)->host, here(m)->port);
	/* On a lesser broker: look for a better one now and then. */
	probe_stop(m);
	m->probe_at = 0;
	if (m->cur > 0)
		schedule_probe(m, m->connected_at);
	pin = tls_matched_pin(m->tls);
	if (pin != NULL && pin->kind == CONFIG_PIN_CERT_SHA1 && !m->sha1_told) {
		m->sha1_told = true;
		log_info("%s:%d: the broker's certificate matched this SHA-1 pin; pin = %s is its "
		         "SHA-256 form",
		         m->cfg->file, pin->line, tls_peer_fingerprint(m->tls));
	}
	m->cb.connected(m->arg);
}

static void
on_disconnect(struct mosquitto *mosq, void *obj, int rc)
{
	struct mqtt *m = obj;
	int saved = errno;

	(void)mosq;
	if (m->state == MQTT_CONNECTING && rc != 0)
		attempt_failed(m, rc == MOSQ_ERR_ERRNO && saved != 0 ? strerror(saved)
		                                                     : mosquitto_strerror(rc));
	/* libmosquitto 2.0 has no text for its own keepalive error. */
	if (m->state == MQTT_CONNECTED && rc == MOSQ_ERR_KEEPALIVE)
		log_warnx("lost the connection to %s:%u: no answer within the keepalive of %u s",
		          here(m)->host, here(m)->port, m->cfg->keepalive);
	else if (m->state == MQTT_CONNECTED && rc != 0)
		log_warnx("lost the connection to %s:%u: %s", here(m)->host, here(m)->port,
		          mosquitto_strerror(rc));
	if (m->state == MQTT_CONNECTED && timer_now_ms() - m->connected_at >= MQTT_LIVED_MS) {
		m->attempt = 0;
		/* A failback that held: the probes go back to their plain interval. */
		m->failbacks = 0;
		m->failed_back = false;
	}
	m->state = MQTT_IDLE;
	probe_stop(m);
	m->probe_at = 0;
}

static void
on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *msg)
{
	struct mqtt *m = obj;

	(void)mosq;
	if (msg->payloadlen < 0)
		return;
	m->cb.message(m->arg, msg->topic, msg->payload, (size_t)msg->payloadlen, msg->retain);
}

static void
on_publish(struct mosquitto *mosq, void *obj, int mid)
{
	struct mqtt *m = obj;
	unsigned i;

	(void)mosq;
	if (m->goodbye_mid != 0 && mid == m->goodbye_mid)
		m->goodbye_acked = true;
	for (i = 0; i < m->ninflight; i++) {
		if (m->inflight[i] == mid) {
			m->inflight[i] = m->inflight[--m->ninflight];
			break;
		}
	}
}

/* At start: when the device certificate runs out, so that nobody learns it from an outage. */
static void
log_cert_expiry(const struct mqtt *m)
{
	const char *file = m->cfg->certfile, *when = tls_client_cert_not_after(m->tls);
	int days = mqtt_cert_days_left(m);

	if (tls_client_cert_expires_in(m->tls) < 0)
		log_warnx("client certificate %s expired on %s; the broker will refuse it: issue a "
		          "new one",
		          file, when);
	else if (days < MQTT_CERT_WARN_DAYS)
		log_warnx("client certificate %s expires on %s (in %d day%s); issue a new one "
		          "before then",
		          file, when, days, days == 1 ? "" : "s");
	else
		log_info("client certificate %s expires on %s (in %d days)", file, when, days);
}

#ifdef GARAGED_STAGES
/* A record read and decrypted (TLS 1.3 reports its inner content type then; TLS 1.2 only its
 * header, before decryption). */
static void
on_tls_record(int write_p, int version, int content_type, const void *buf, size_t len, SSL *ssl,
              void *arg)
{
	(void)version, (void)buf, (void)len, (void)ssl, (void)arg;
	if (!write_p &&
	    (content_type == SSL3_RT_INNER_CONTENT_TYPE || content_type == SSL3_RT_HEADER))
		stage_mark(STAGE_TLS_DECRYPTED);
}
#endif

struct mqtt *
mqtt_new(const struct config *cfg, const char *will_topic, const struct mqtt_callbacks *cb,
         void *arg, char *err, size_t errlen)
{
	struct mqtt_session_opts opts;
	struct mqtt *m;
	char client_id[64];
	size_t i;

	m = calloc(1, sizeof(*m));
	if (m == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	m->cfg = cfg;
	m->cb = *cb;
	m->arg = arg;
	m->probe_fd = -1;
	/* config.c always gives at least one; a struct config filled by hand has host and port. */
	m->nbrokers = cfg->nbrokers > 0 ? cfg->nbrokers : 1;
	if (cfg->nbrokers > 0) {
		memcpy(m->brokers, cfg->brokers, cfg->nbrokers * sizeof(cfg->brokers[0]));
	} else {
		snprintf(m->brokers[0].host, sizeof(m->brokers[0].host), "%s", cfg->host);
		m->brokers[0].port = cfg->port;
	}

	/* The broker maps the certificate's CN to the user name and, with
	 * use_username_as_clientid, to the client id; this one only matters without that. */
	snprintf(client_id, sizeof(client_id), "garaged-%s", cfg->device_id);
	/* 3.1.1, not 5: libmosquitto 2.0 sends CONNECT properties (MQTT 5's Maximum Packet Size)
	 * only from its blocking connect, never from the asynchronous one this loop drives; the
	 * broker's max_packet_size bounds what it takes instead (docs/security.md, "Oversized
	 * packets"). */
	opts.client_id = client_id;
	opts.protocol = MQTT_PROTOCOL_V311;
	opts.will_topic = will_topic;
	opts.obj = m;
	m->mosq = mqtt_session_new(cfg, &opts, &m->tls, err, errlen);
	if (m->mosq == NULL) {
		free(m);
		return NULL;
	}
	/* Read-ahead: a record comes in one read(2) rather than a header's and a body's, and what
	 * it reads beyond a record waits in OpenSSL, which mqtt_io() drains (SSL_has_pending()
	 * sees it; garagectl's libmosquitto loop would not, so tls.c leaves it off there). */
	SSL_CTX_set_read_ahead((SSL_CTX *)tls_ssl_ctx(m->tls), 1);
#ifdef GARAGED_STAGES
	SSL_CTX_set_msg_callback((SSL_CTX *)tls_ssl_ctx(m->tls), on_tls_record);
#endif
	mosquitto_log_callback_set(m->mosq, on_log);
	mosquitto_connect_callback_set(m->mosq, on_connect);
	mosquitto_disconnect_callback_set(m->mosq, on_disconnect);
	mosquitto_message_callback_set(m->mosq, on_message);
	mosquitto_publish_callback_set(m->mosq, on_publish);
	for (i = 0; i < cfg->npins; i++)
		if (cfg->pins[i].kind == CONFIG_PIN_CERT_SHA1)
			log_warnx("%s:%d: this pin is a SHA-1 fingerprint, and SHA-1 is weak; pin "
			          "the broker's certificate with sha256: or spki-sha256: instead",
			          cfg->file, cfg->pins[i].line);
	log_cert_expiry(m);
	return m;
}

void
mqtt_free(struct mqtt *m)
{
	if (m == NULL)
		return;
	probe_stop(m);
	/* libmosquitto holds a reference to the TLS context and calls into it until here. */
	mosquitto_destroy(m->mosq);
	tls_free(m->tls);
	free(m);
	mosquitto_lib_cleanup();
}

/*
 * Reconnect backoff ([mqtt] reconnect_min_ms, reconnect_max_s): the cap doubles from the floor
 * with every failure in a row up to reconnect_max_s, and the delay is drawn uniformly between the
 * floor and the cap (full jitter), so that a fleet does not reconnect in step.
 */
static uint32_t
backoff_ms(const struct mqtt *m)
{
	uint32_t min = m->cfg->reconnect_min_ms, max = m->cfg->reconnect_max_s * 1000U;
	uint32_t cap = min, r = 0;
	unsigned attempt = m->attempt;

	/* config.c guarantees min <= max; a struct filled by hand still must not divide by 0. */
	if (max < min)
		max = min;
	while (attempt-- > 0 && cap < max)
		cap = cap > max / 2 ? max : cap * 2;
	if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
		r = (uint32_t)timer_now_ms();
	return min + r % (cap - min + 1);
}

/* The broker the next attempt goes to: TLS then checks its name. */
static void
select_broker(struct mqtt *m, size_t i)
{
	char err[CONFIG_ERROR_MAX];

	m->cur = i;
	if (tls_set_broker(m->tls, here(m)->host, here(m)->port, err, sizeof(err)) != 0)
		log_warnx("%s", err);
}

/*
 * After a failed attempt or a lost session: the next broker of the list (round it, so that the
 * most preferred is tried again after the least), after the backoff, which grows with every
 * failure in a row whichever broker it was with.
 */
static void
schedule_reconnect(struct mqtt *m, uint64_t now)
{
	uint32_t delay = backoff_ms(m);

	if (m->failed_back) {
		/* The broker a probe found did not keep us: probe less often. */
		m->failed_back = false;
		if (m->failbacks < MQTT_PROBE_DOUBLINGS)
			m->failbacks++;
	}
	if (m->nbrokers > 1)
		select_broker(m, (m->cur + 1) % m->nbrokers);
	if (m->attempt < 16)
		m->attempt++;
	m->state = MQTT_IDLE;
	m->reconnect_at = now + delay;
	log_info("connecting to %s:%u again in %.1f s", here(m)->host, here(m)->port,
	         (double)delay / 1000.0);
}

/* After every call into libmosquitto: a closed socket means the attempt or session is over. */
static void
settle(struct mqtt *m, uint64_t now)
{
	if (mosquitto_socket(m->mosq) < 0 && m->reconnect_at == 0)
		schedule_reconnect(m, now);
}

static void
start_attempt(struct mqtt *m, uint64_t now)
{
	char addr[MQTT_SESSION_ADDR_MAX], mdns_err[512];
	char why[160];
	const char *host = here(m)->host;
	int rc;

	m->reconnect_at = 0;
	m->state = MQTT_CONNECTING;
	m->last_io = now;
	m->attempt_reported = false;
	tls_handshake_begin(m->tls);
	/* SPEC: *.local names resolve by multicast DNS. This blocks the poll loop for up to
	 * MDNS_TIMEOUT_MS, only while there is no broker connection anyway; a signal waits in the
	 * signalfd meanwhile. */
	if (mqtt_session_host_address(host, addr, sizeof(addr), mdns_err, sizeof(mdns_err)) != 0) {
		log_warnx("%s", mdns_err);
		schedule_reconnect(m, timer_now_ms());
		return;
	}
	if (mdns_name_is_local(host)) {
		log_info("mDNS: %s is at %s", host, addr);
		now = m->last_io = timer_now_ms();
	}
	/* A fixed end: the keepalive below counts from the last I/O, which a busy attempt (one
	 * woken again and again without progress) would keep putting off. */
	m->attempt_end = now + (uint64_t)m->cfg->keepalive * 1000U;
	/* connect_async every time, with this broker's address: reconnect_async would reuse the
	 * last one. The broker's certificate is still checked against the configured name
	 * (tls.c); for a *.local name libmosquitto's SNI carries the address, which Mosquitto
	 * does not look at. */
	rc = mosquitto_connect_async(m->mosq, addr, here(m)->port, m->cfg->keepalive);
	if (rc == MOSQ_ERR_EAI) {
		/* libmosquitto leaves getaddrinfo()'s code in errno. */
		snprintf(why, sizeof(why), "cannot resolve the host name: %s", gai_strerror(errno));
		attempt_failed(m, why);
	} else if (rc != MOSQ_ERR_SUCCESS) {
		attempt_failed(m, rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
	}
	settle(m, now);
}

void
mqtt_start(struct mqtt *m, uint64_t now_ms)
{
	size_t i;

	for (i = 1; i < m->nbrokers; i++)
		log_info("broker %zu of %zu if the ones before fail: %s:%u", i + 1, m->nbrokers,
		         m->brokers[i].host, m->brokers[i].port);
	log_info("connecting to %s:%u (TLS, client certificate %s)", here(m)->host, here(m)->port,
	         m->cfg->certfile);
	start_attempt(m, now_ms);
}

int
mqtt_fd(const struct mqtt *m)
{
	/* A failed attempt's socket stays open inside libmosquitto until the next attempt closes
	 * it; polling it meanwhile would wake us for nothing, over and over. */
	if (m->reconnect_at != 0)
		return -1;
	return mosquitto_socket(m->mosq);
}

bool
mqtt_want_write(const struct mqtt *m)
{
	return mosquitto_want_write(m->mosq);
}

/*
 * Back-pressure: in a session, nothing more is read while something waits to be written. Every
 * packet read can make libmosquitto queue one to write (a PUBACK, and an event of ours for each
 * command), so a broker that stops reading would otherwise grow that queue without bound; this
 * way it fills its own socket instead, and a broker that never reads again is left to the
 * keepalive. During the TLS handshake the socket is always read: the handshake needs it.
 */
bool
mqtt_want_read(const struct mqtt *m)
{
	return m->state != MQTT_CONNECTED || !mosquitto_want_write(m->mosq);
}

/*
 * Whether TLS holds a whole record of application data that a read would return without the
 * socket: SSL_has_pending() alone is also true for the start of a record whose end has not come
 * (read-ahead takes every byte the socket has), and reading again for that would spin until it
 * comes, or forever if a hostile broker never sends it. SSL_peek() decrypts a whole record and
 * leaves it for libmosquitto's read; on a part of one it finds the socket empty (non-blocking)
 * and says so. Only after the handshake, which is libmosquitto's to drive.
 */
static bool
tls_record_waiting(const struct mqtt *m)
{
	SSL *ssl = mosquitto_ssl_get(m->mosq);
	char c;
	int r;

	if (ssl == NULL || !SSL_is_init_finished(ssl) || !SSL_has_pending(ssl))
		return false;
	r = SSL_peek(ssl, &c, 1);
	if (r <= 0)
		ERR_clear_error();
	return r > 0;
}

bool
mqtt_read_pending(const struct mqtt *m)
{
	return mqtt_fd(m) >= 0 && mqtt_want_read(m) && tls_record_waiting(m);
}

/*
 * The socket of an attempt in progress hung up or failed: the TCP connect was refused or the
 * peer went away mid-handshake. libmosquitto 2.0 would keep retrying its TLS write on such a
 * socket (a busy loop), so the attempt ends here and the next one starts after the backoff.
 */
static void
attempt_ended(struct mqtt *m, uint64_t now)
{
	int err = 0, fd = mosquitto_socket(m->mosq);
	socklen_t len = sizeof(err);

	if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err == 0)
		err = ECONNRESET;
	attempt_failed(m, strerror(err));
	schedule_reconnect(m, now);
}

static void
report(struct mqtt *m, const char *what, int rc)
{
	char why[160];

	if (rc == MOSQ_ERR_SUCCESS || rc == MOSQ_ERR_NO_CONN)
		return;
	snprintf(why, sizeof(why), "failed while %s: %s", what,
	         rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
	if (m->state == MQTT_CONNECTING)
		attempt_failed(m, why);
	else
		log_debug("%s", why);
}

void
mqtt_io(struct mqtt *m, short revents, uint64_t now_ms)
{
	int rc = MOSQ_ERR_SUCCESS, i;

	m->last_io = now_ms;
	if (m->state == MQTT_CONNECTING && (revents & (POLLHUP | POLLERR))) {
		attempt_ended(m, now_ms);
		return;
	}
	/*
	 * libmosquitto 2.0 goes on with its TLS handshake only in mosquitto_loop_read (while
	 * want_connect), yet asks for POLLOUT when the handshake's first write found the TCP
	 * connect still in progress: always so on a real network, and on loopback when the
	 * broker's listen queue is full (bench/fleet.sh, a fleet's cold start). Writable during an
	 * attempt is therefore a cue to read too. Without it the ClientHello is never sent, every
	 * wake-up is POLLOUT again (a busy loop), and each wake-up puts off the keepalive that
	 * would end the attempt: the broker's own timeout ends it, 90 s later for Mosquitto.
	 */
	if (m->state == MQTT_CONNECTING && (revents & POLLOUT))
		revents |= POLLIN;
	if (revents & (POLLIN | POLLHUP | POLLERR)) {
		rc = mosquitto_loop_read(m->mosq, 1);
		/* TLS may have decrypted more than one packet; poll() cannot see those bytes. */
		for (i = 0; rc == MOSQ_ERR_SUCCESS && i < MQTT_READ_BURST; i++) {
			if (!tls_record_waiting(m))
				break;
			rc = mosquitto_loop_read(m->mosq, 1);
		}
		report(m, "reading", rc);
	}
	if (rc == MOSQ_ERR_SUCCESS && mosquitto_socket(m->mosq) >= 0 &&
	    (revents & POLLOUT || mosquitto_want_write(m->mosq))) {
		rc = mosquitto_loop_write(m->mosq, 1);
		report(m, "writing", rc);
	}
	settle(m, now_ms);
}

static uint64_t
session_deadline(const struct mqtt *m)
{
	uint64_t d;

	if (m->reconnect_at != 0)
		return m->reconnect_at;
	if (mosquitto_socket(m->mosq) < 0)
		return UINT64_MAX;
	d = m->last_io + (uint64_t)m->cfg->keepalive * 1000U + MQTT_KEEPALIVE_SLACK;
	if (m->state == MQTT_CONNECTING && m->attempt_end < d)
		d = m->attempt_end;
	return d;
}

uint64_t
mqtt_next_deadline(const struct mqtt *m)
{
	uint64_t d = session_deadline(m);

	if (m->probe_at != 0 && m->probe_at < d)
		d = m->probe_at;
	if (m->probe_fd >= 0 && m->probe_deadline < d)
		d = m->probe_deadline;
	if (m->probe_lookup != NULL && mdns_lookup_deadline(m->probe_lookup) < d)
		d = mdns_lookup_deadline(m->probe_lookup);
	return d;
}

static void probe_tick(struct mqtt *m, uint64_t now);

void
mqtt_tick(struct mqtt *m, uint64_t now_ms)
{
	int rc;

	probe_tick(m, now_ms);
	if (m->reconnect_at != 0) {
		if (now_ms >= m->reconnect_at)
			start_attempt(m, now_ms);
		return;
	}
	if (m->state == MQTT_CONNECTING && mosquitto_socket(m->mosq) >= 0 &&
	    now_ms >= m->attempt_end) {
		attempt_failed(m, "no session within the keepalive");
		schedule_reconnect(m, now_ms);
		return;
	}
	if (mosquitto_socket(m->mosq) >= 0 &&
	    now_ms >= m->last_io + (uint64_t)m->cfg->keepalive * 1000U) {
		/* Sends PINGREQ when due, and closes a connection whose PINGRESP never came (or a
		 * connection attempt that has taken a whole keepalive period). */
		m->last_io = now_ms;
		rc = mosquitto_loop_misc(m->mosq);
		if (rc == MOSQ_ERR_SUCCESS && mosquitto_want_write(m->mosq))
			rc = mosquitto_loop_write(m->mosq, 1);
		report(m, "keepalive", rc);
		if (mosquitto_socket(m->mosq) < 0 && m->state != MQTT_IDLE) {
			log_warnx("no answer from %s:%u within the keepalive of %u s",
			          here(m)->host, here(m)->port, m->cfg->keepalive);
			m->state = MQTT_IDLE;
		}
	}
	settle(m, now_ms);
}

bool
mqtt_connected(const struct mqtt *m)
{
	return m->state == MQTT_CONNECTED;
}

int
mqtt_cert_days_left(const struct mqtt *m)
{
	int64_t s = tls_client_cert_expires_in(m->tls);

	/* Whole days: a certificate with 23 hours left has 0 days, one expired an hour ago -1. */
	return (int)(s >= 0 ? s / 86400 : -((-s + 86399) / 86400));
}

void *
mqtt_ssl_ctx(const struct mqtt *m)
{
	return tls_ssl_ctx(m->tls);
}

unsigned
mqtt_inflight(const struct mqtt *m)
{
	return m->ninflight;
}

int
mqtt_publish(struct mqtt *m, const char *topic, const void *payload, size_t len, bool retain)
{
	int rc, mid = 0;

	if (m->state != MQTT_CONNECTED || m->ninflight >= MQTT_INFLIGHT_MAX)
		return 1;
	rc = mosquitto_publish(m->mosq, &mid, topic, (int)len, payload, 1, retain);
	if (rc != MOSQ_ERR_SUCCESS) {
		log_warnx_limited(&publish_limit, "publish to %s: %s", topic,
		                  mosquitto_strerror(rc));
		return -1;
	}
	m->inflight[m->ninflight++] = mid;
	m->last_io = timer_now_ms();
	return 0;
}

int
mqtt_subscribe(struct mqtt *m, const char *topic)
{
	int rc;

	/*
	 * QoS 0 on the way in: a command is at most once by design. One that misses the device is
	 * not worth redelivering later (the sender sees no answer and says so, and a late one would
	 * be stale anyway), and there is no acknowledgement to write before the relay can move.
	 */
	rc = mosquitto_subscribe(m->mosq, NULL, topic, 0);
	if (rc != MOSQ_ERR_SUCCESS) {
		log_warnx("subscribe to %s: %s", topic, mosquitto_strerror(rc));
		return -1;
	}
	log_debug("subscribed to %s", topic);
	return 0;
}

/* Runs the socket alone until done() or the deadline; the daemon's loop has stopped. */
static void
drain(struct mqtt *m, bool (*done)(const struct mqtt *), uint64_t deadline)
{
	struct pollfd pfd;
	uint64_t now;

	while (!done(m) && (now = timer_now_ms()) < deadline) {
		pfd.fd = mosquitto_socket(m->mosq);
		if (pfd.fd < 0)
			return;
		pfd.events = POLLIN | (mosquitto_want_write(m->mosq) ? POLLOUT : 0);
		pfd.revents = 0;
		/* A record TLS has read ahead is not on the socket any more: read it first. */
		if (tls_record_waiting(m))
			pfd.revents = POLLIN;
		else if (poll(&pfd, 1, (int)(deadline - now)) < 0 && errno != EINTR)
			return;
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR))
			mosquitto_loop_read(m->mosq, 1);
		if (mosquitto_socket(m->mosq) >= 0 && mosquitto_want_write(m->mosq))
			mosquitto_loop_write(m->mosq, 1);
	}
}

static bool
goodbye_is_acked(const struct mqtt *m)
{
	return m->goodbye_acked;
}

static bool
flushed(const struct mqtt *m)
{
	return !mosquitto_want_write(m->mosq);
}

void
mqtt_goodbye(struct mqtt *m, const char *topic, const char *payload, unsigned timeout_ms)
{
	uint64_t deadline = timer_now_ms() + timeout_ms;
	int mid = 0;

	if (m->state != MQTT_CONNECTED)
		return;
	if (mosquitto_publish(m->mosq, &mid, topic, (int)strlen(payload), payload, 1, true) ==
	    MOSQ_ERR_SUCCESS) {
		m->goodbye_mid = mid;
		drain(m, goodbye_is_acked, deadline);
		if (!m->goodbye_acked)
			log_warnx("the broker did not acknowledge '%s' on %s in time", payload,
			          topic);
	}
	/* A clean DISCONNECT tells the broker not to send the will. */
	m->state = MQTT_IDLE;
	mosquitto_disconnect(m->mosq);
	drain(m, flushed, deadline + 500U);
}

/*
 * Failback. While in a session with a lesser broker, a probe goes to each better one in turn
 * (the most preferred first): a non-blocking TCP connect and a TLS handshake with the session's
 * own context, so under the same policy (CA, that broker's name, pins, and this side's
 * certificate). Nothing of MQTT is sent: the broker sees a client that says hello and goes.
 * Only a probe that passed moves the session, and only then is the lesser broker left (a clean
 * DISCONNECT: no will there, since the device is not offline, only elsewhere). A broker that
 * is down costs one refused connect per interval, never a session that drops for nothing.
 */

/* failback_s, doubled for each failback in a row that did not hold, +-25% (jitter). */
static void
schedule_probe(struct mqtt *m, uint64_t now)
{
	uint64_t interval = (uint64_t)m->cfg->failback_s * 1000U << m->failbacks;
	uint32_t r = 0;

	if (interval == 0)
		interval = 1000U;
	if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
		r = (uint32_t)now;
	m->probe_target = 0;
	m->probe_at = now + interval * 3U / 4U + r % (interval / 2U + 1U);
	log_debug("failback: probing %s:%u in %.1f s", m->brokers[0].host, m->brokers[0].port,
	          (double)(m->probe_at - now) / 1000.0);
}

static void
probe_stop(struct mqtt *m)
{
	mdns_lookup_free(m->probe_lookup);
	m->probe_lookup = NULL;
	SSL_free(m->probe_ssl);
	m->probe_ssl = NULL;
	if (m->probe_fd >= 0)
		close(m->probe_fd);
	m->probe_fd = -1;
	m->probe_tcp = false;
}

static void probe_start(struct mqtt *m, uint64_t now);

/* The probe of probe_target failed: the next better broker now, or the next round later. */
static void
probe_failed(struct mqtt *m, uint64_t now, const char *why)
{
	const struct config_broker *b = &m->brokers[m->probe_target];

	log_debug("failback: %s:%u is not back: %s", b->host, b->port, why);
	probe_stop(m);
	if (m->probe_target + 1 < m->cur) {
		m->probe_target++;
		probe_start(m, now);
		return;
	}
	schedule_probe(m, now);
}

/* A non-blocking TCP connect to probe_target at ADDR (its name, or the address mDNS gave). */
static void
probe_connect(struct mqtt *m, const char *addr, uint64_t now)
{
	const struct config_broker *b = &m->brokers[m->probe_target];
	struct addrinfo hints, *res = NULL, *ai;
	char port[8];
	int fd = -1, rc, e = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof(port), "%u", b->port);
	rc = getaddrinfo(addr, port, &hints, &res);
	if (rc != 0) {
		probe_failed(m, now, gai_strerror(rc));
		return;
	}
	for (ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		            ai->ai_protocol);
		if (fd < 0) {
			e = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
			e = errno;
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	if (fd < 0) {
		probe_failed(m, now, strerror(e != 0 ? e : ECONNREFUSED));
		return;
	}
	m->probe_fd = fd;
	m->probe_tcp = false;
	m->probe_events = POLLOUT;
	m->probe_deadline = now + MQTT_PROBE_TIMEOUT_MS;
	m->probe_ssl = tls_probe_ssl(m->tls, b->host);
	if (m->probe_ssl == NULL || SSL_set_fd(m->probe_ssl, fd) != 1)
		probe_failed(m, now, "cannot set up TLS");
}

/*
 * A probe of probe_target: its name resolved as a session's would be, but never by waiting: a
 * *.local name's multicast DNS lookup runs beside the session (mqtt_probe_io), since a broker
 * whose host is down never answers it and the loop would hold every command for its 2 s
 * (test-failback-lookup.sh). A DNS name goes to getaddrinfo(), which may block on a resolver
 * that does not answer (docs/brokers.md).
 */
static void
probe_start(struct mqtt *m, uint64_t now)
{
	const struct config_broker *b = &m->brokers[m->probe_target];
	char err[512];

	m->probe_at = 0;
	log_debug("failback: trying %s:%u", b->host, b->port);
	if (!mdns_name_is_local(b->host)) {
		probe_connect(m, b->host, now);
		return;
	}
	m->probe_lookup = mdns_lookup_start(b->host, MDNS_TIMEOUT_MS, now, err, sizeof(err));
	if (m->probe_lookup == NULL)
		probe_failed(m, now, err);
}

/* The lookup's answer, its next try, or its end; then the connect to what it found. */
static void
probe_lookup_step(struct mqtt *m, const struct pollfd pfd[2], uint64_t now)
{
	char addr[MQTT_SESSION_ADDR_MAX], err[512];
	int rc;

	rc = mdns_lookup_step(m->probe_lookup, pfd, now, addr, sizeof(addr), err, sizeof(err));
	if (rc == 0)
		return;
	mdns_lookup_free(m->probe_lookup);
	m->probe_lookup = NULL;
	if (rc < 0)
		probe_failed(m, now, err);
	else
		probe_connect(m, addr, now);
}

/* A probe passed: leave the lesser broker cleanly and connect to the better one now. */
static void
fail_back(struct mqtt *m, size_t to, uint64_t now)
{
	log_info("failback: %s:%u answers again; leaving %s:%u for it", m->brokers[to].host,
	         m->brokers[to].port, here(m)->host, here(m)->port);
	/* IDLE first: the DISCONNECT's on_disconnect is no lost connection. */
	m->state = MQTT_IDLE;
	mosquitto_disconnect(m->mosq);
	drain(m, flushed, now + 1000U);
	m->failed_back = true;
	select_broker(m, to);
	start_attempt(m, timer_now_ms());
}

void
mqtt_probe_pollfds(const struct mqtt *m, struct pollfd pfd[2])
{
	if (m->probe_lookup != NULL) {
		mdns_lookup_pollfds(m->probe_lookup, pfd);
		return;
	}
	pfd[0] =
	    (struct pollfd){.fd = m->probe_fd, .events = m->probe_fd >= 0 ? m->probe_events : 0};
	pfd[1] = (struct pollfd){.fd = -1};
}

void
mqtt_probe_io(struct mqtt *m, const struct pollfd pfd[2], uint64_t now_ms)
{
	short revents = pfd[0].revents;
	int err = 0, rc;
	socklen_t len = sizeof(err);

	if (m->probe_lookup != NULL) {
		if (pfd[0].revents != 0 || pfd[1].revents != 0)
			probe_lookup_step(m, pfd, now_ms);
		return;
	}
	if (m->probe_fd < 0 || revents == 0)
		return;
	if (!m->probe_tcp) {
		if (getsockopt(m->probe_fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
			err = errno;
		if (err == 0 && (revents & (POLLERR | POLLHUP)))
			err = ECONNRESET;
		if (err != 0) {
			probe_failed(m, now_ms, strerror(err));
			return;
		}
		m->probe_tcp = true;
		/* What the probe's verification records replaces the last attempt's. */
		tls_handshake_begin(m->tls);
	}
	ERR_clear_error();
	rc = SSL_connect(m->probe_ssl);
	if (rc == 1) {
		size_t to = m->probe_target;

		/* close_notify, so that the broker logs a polite goodbye; its answer is not
		 * awaited. */
		(void)SSL_shutdown(m->probe_ssl);
		probe_stop(m);
		fail_back(m, to, now_ms);
		return;
	}
	switch (SSL_get_error(m->probe_ssl, rc)) {
	case SSL_ERROR_WANT_READ:
		m->probe_events = POLLIN;
		break;
	case SSL_ERROR_WANT_WRITE:
		m->probe_events = POLLOUT;
		break;
	default: {
		const char *why = tls_explain_failure(m->tls);

		probe_failed(m, now_ms, why != NULL ? why : "the TLS handshake failed");
		break;
	}
	}
}

static void
probe_tick(struct mqtt *m, uint64_t now)
{
	if (m->state != MQTT_CONNECTED)
		return;
	if (m->probe_lookup != NULL && now >= mdns_lookup_deadline(m->probe_lookup))
		probe_lookup_step(m, NULL, now);
	else if (m->probe_fd >= 0 && now >= m->probe_deadline)
		probe_failed(m, now, "no TLS handshake within 5 s");
	else if (m->probe_fd < 0 && m->probe_lookup == NULL && m->probe_at != 0 &&
	         now >= m->probe_at)
		probe_start(m, now);
}

const struct config_broker *
mqtt_broker(const struct mqtt *m, size_t *index, size_t *count)
{
	if (index != NULL)
		*index = m->cur;
	if (count != NULL)
		*count = m->nbrokers;
	return here(m);
}
