/*
 * ctl_command: see ctl_command.h. A command-line tool may block: libmosquitto's own
 * mosquitto_loop() waits on the socket, bounded by the next thing this file has to do (a
 * deadline, or the next redraw of a progress line), so the process sleeps between messages.
 *
 * Everything read from the broker is untrusted: payloads are bounded, events are parsed with
 * cJSON and never trusted to be well-formed, and text shown on the terminal is stripped of
 * control characters.
 *
 * TLS is garaged's own policy (src/common/tls.c): the same context, the same pins checked
 * inside the handshake, so that nothing (not even CONNECT) reaches a broker that fails them,
 * and the same one-line reason naming the check that failed.
 */
#include "ctl_command.h"

#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "ctl_config.h"
#include "mqtt_session.h"
#include "renew.h"
#include "tls.h"

/* How long the broker may take to accept the session (TCP, TLS, CONNACK, SUBACK). */
#define CONNECT_TIMEOUT_MS 10000U
/* How long the device may take to answer a command with its event. */
#define ANSWER_TIMEOUT_MS 10000U
/* status: retained messages come in a burst right after the SUBACK; this much quiet ends it. */
#define STATUS_QUIET_MS 500U
#define STATUS_MAX_MS   3000U
/* The answer to P/D/refresh: the device answers requests at most once a second (nethalf.c). */
#define REFRESH_QUIET_MS 1500U
/* How often a progress line on a terminal is redrawn. */
#define PROGRESS_MS 100U
/* status --watch: the pause before connecting again after the connection was lost. */
#define RECONNECT_MS 2000U
/*
 * status --watch: a session the broker closes within this long of its start, right after it
 * closed the one before, is a fight over one certificate (see ctl_status). Two watchers take
 * turns every RECONNECT_MS or so; a broker restart closes one session, not two in a row.
 */
#define TAKEOVER_WINDOW_MS 10000U

#define MAX_DOORS  32    /* doors of one device shown; garaged drives at most CONFIG_MAX_DOORS */
#define KEYS_MAX   16384 /* the key list (P/D/keys): larger than the device ever publishes */
#define KEYS_SHOWN 64    /* keys listed at most; a device holds 32 */
#define STATE_MAX  16    /* longer than any state SPEC names; longer payloads are cut */
#define TOPIC_MAX  (CONFIG_PREFIX_MAX + 2 * CONFIG_NAME_MAX + 16)
#define EVENT_MAX  2048 /* an event is one small JSON object; larger ones are not read */
#define SHOW_MAX   64   /* how much of a string from the network is shown */
#define ERROR_MAX  1024
#define CTL_CN_MAX 128 /* a certificate's CN as shown; garagectl pki makes at most 64 */

/*
 * The MQTT version of the next session: 5, for the reasons the broker gives (see session_start),
 * until a broker shows that it speaks only 3.1.1 (RabbitMQ 3.x): then 3.1.1 for the rest of the
 * run, --watch's reconnections included.
 */
static int session_protocol = MQTT_PROTOCOL_V5;

/* Set by SIGINT/SIGTERM; the loops look at it after every wait. */
static volatile sig_atomic_t interrupted;

static void
on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

struct door_seen {
	char name[CONFIG_NAME_MAX + 1];
	char state[STATE_MAX + 1];    /* "" = nothing heard yet */
	char retained[STATE_MAX + 1]; /* the state the broker held when we subscribed */
};

enum answer {
	ANSWER_NONE = 0,
	ANSWER_ACCEPTED,
	ANSWER_REJECTED,
};

struct session {
	struct mosquitto *mosq;
	struct tls *tls;
	const struct config *cfg;
	const char *device;

	char t_avail[TOPIC_MAX];
	char t_states[TOPIC_MAX];
	char t_events[TOPIC_MAX];
	char t_keys[TOPIC_MAX]; /* subscribed only by keys list */
	bool want_keys;

	bool connected;
	bool subscribed;
	int protocol;    /* this session's MQTT version (session_protocol when it began) */
	bool v5_refused; /* the broker refused MQTT 5, or closed the connection before a CONNACK */
	bool refresh_sent; /* P/D/refresh was asked for (read_retained) */
	int sub_mid;
	int pub_mid;      /* the command's PUBLISH, whose PUBACK says whether the ACL let it in */
	bool pub_refused; /* ... and it did not: the command never reached the device */
	bool failed;      /* the session cannot go on; error says why */
	/* The broker closed the connection without a reason (MQTT 3.1.1, and Mosquitto before
	 * 2.0.15 under MQTT 5 too): what it does when another client takes the session over. */
	bool closed_by_broker;
	uint64_t connected_at; /* monotonic ms of the last CONNACK that accepted us */
	char error[ERROR_MAX];
	char last_log[256]; /* libmosquitto's last error line: the TLS reason, mostly */

	char availability[STATE_MAX + 1]; /* "" = unknown */
	struct door_seen doors[MAX_DOORS];
	size_t ndoors;
	uint64_t last_msg; /* monotonic ms of the last availability or state message */

	/* What was sent and the device's answer to it; a command's door and kid, for --wait. */
	const struct ctl_exchange *x;
	const struct ctl_request *req;
	char acl_topic[TOPIC_MAX]; /* what the ACL must let us write */
	enum answer answer;
	char reason[SHOW_MAX + 1];
	char detail[EVENT_MAX]; /* the answer's "message", when it has one */

	/* keys list: the retained key list, when one came. */
	bool keys_seen;
	size_t keys_len;
	char keys[KEYS_MAX + 1];

	/* status --watch prints every change as it comes. */
	bool watching;

	/* pki sign-requests: every device's request (P/+/csr, retained) and, for a certificate
	 * sent to cert_device, its renewal event naming cert_serial. */
	bool renewals;
	char t_csr[TOPIC_MAX];
	char t_all_events[TOPIC_MAX];
	struct ctl_csr *csrs;
	size_t ncsrs;
	const char *cert_device;
	const char *cert_serial;
};

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000U + (uint64_t)ts.tv_nsec / 1000000U;
}

/* One line on stderr, "garagectl: ...", after whatever stdout holds. */
static void errline(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
errline(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("garagectl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Bytes from the network, made safe to show: printable ASCII, at most size - 1 of them. */
static void
copy_shown(char *dst, size_t size, const void *src, size_t len)
{
	const unsigned char *s = src;
	size_t i;

	for (i = 0; i < len && i + 1 < size; i++)
		dst[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? (char)s[i] : '?';
	dst[i] = '\0';
}

static bool
moving(const char *state)
{
	return strcmp(state, "opening") == 0 || strcmp(state, "closing") == 0;
}

static const char *
or_unknown(const char *s)
{
	return s[0] != '\0' ? s : "unknown";
}

static struct door_seen *
door_find(struct session *s, const char *name, bool add)
{
	size_t i;

	for (i = 0; i < s->ndoors; i++)
		if (strcmp(s->doors[i].name, name) == 0)
			return &s->doors[i];
	if (!add || s->ndoors == MAX_DOORS)
		return NULL;
	memset(&s->doors[s->ndoors], 0, sizeof(s->doors[0]));
	memcpy(s->doors[s->ndoors].name, name, strlen(name) + 1);
	return &s->doors[s->ndoors++];
}

/* A time stamp for status --watch lines. */
static const char *
stamp(char *buf, size_t size)
{
	time_t t = time(NULL);
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL || strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(buf, size, "%lld", (long long)t);
	return buf;
}

/* status --watch: one line for a change, "TIME [PREFIX]NAME: VALUE". */
static void
watch_line(const char *prefix, const char *name, const char *value)
{
	char when[32];

	printf("%s %s%s: %s\n", stamp(when, sizeof(when)), prefix, name, or_unknown(value));
	fflush(stdout);
}

static void
on_log(struct mosquitto *mosq, void *obj, int level, const char *str)
{
	struct session *s = obj;

	(void)mosq;
	if (level & MOSQ_LOG_ERR)
		snprintf(s->last_log, sizeof(s->last_log), "%s", str);
}

/* What the owner can do about the check the last handshake failed. */
static const char *
tls_hint(const struct session *s, char *buf, size_t size)
{
	const struct config *cfg = s->cfg;

	switch (tls_refused_check(s->tls)) {
	case TLS_CHECK_CA:
		snprintf(buf, size, "check that cafile in %s is the CA of the broker's certificate",
		         cfg->file);
		break;
	case TLS_CHECK_HOST:
		snprintf(buf, size,
		         "check host in %s: it must be a name the broker's certificate "
		         "carries",
		         cfg->file);
		break;
	case TLS_CHECK_EXPIRY:
		snprintf(buf, size,
		         "renew the broker's certificate, or check this computer's clock");
		break;
	case TLS_CHECK_PIN:
		snprintf(
		    buf, size,
		    "if the broker's certificate was replaced on purpose, pin the new one in %s",
		    cfg->file);
		break;
	case TLS_CHECK_PROTOCOL:
		snprintf(buf, size, "configure the broker for TLS %s or later",
		         strcmp(cfg->tls_version, "tlsv1.3") == 0 ? "1.3" : "1.2");
		break;
	case TLS_CHECK_CLIENT:
		snprintf(buf, size,
		         "check that the broker trusts the CA of certfile %s and that the "
		         "certificate has not expired",
		         cfg->certfile);
		break;
	default:
		snprintf(buf, size, "check that port %u on %s is the broker's TLS listener",
		         cfg->port, cfg->host);
		break;
	}
	return buf;
}

/*
 * Did TLS refuse this attempt? If so, the one line to print goes to s->error, and the session
 * has failed: the same broker would be refused the same way again.
 */
static bool
tls_refused(struct session *s)
{
	const char *why = tls_explain_failure(s->tls), *ssl;
	char hint[CONFIG_PATH_MAX + 256];

	if (why == NULL)
		return false;
	ssl = tls_ssl_error(s->tls);
	snprintf(s->error, sizeof(s->error), "cannot connect to %s:%u over TLS%s%s%s: %s; %s",
	         s->cfg->host, s->cfg->port, ssl != NULL ? " (" : "", ssl != NULL ? ssl : "",
	         ssl != NULL ? ")" : "", why, tls_hint(s, hint, sizeof(hint)));
	s->failed = true;
	return true;
}

/* The CN of this side's certificate: the MQTT user name and client id the broker gives us. */
static const char *
own_cn(const struct session *s, char *buf, size_t size)
{
	X509 *x = SSL_CTX_get0_certificate(tls_ssl_ctx(s->tls));
	X509_NAME *name = x != NULL ? X509_get_subject_name(x) : NULL;
	int n = name != NULL ? X509_NAME_get_text_by_NID(name, NID_commonName, buf, (int)size) : -1;
	size_t len;

	/* No CN to name (garagectl pki always gives one): the file, cut to fit. */
	if (n <= 0) {
		len = strnlen(s->cfg->certfile, size - 1);
		memcpy(buf, s->cfg->certfile, len);
		buf[len] = '\0';
	}
	return buf;
}

static void
on_connect(struct mosquitto *mosq, void *obj, int rc, int flags, const mosquitto_property *props)
{
	struct session *s = obj;
	char *topics[4] = {s->t_avail, s->t_states, s->t_events, s->t_keys};
	const struct config_pin *pin;
	int ret, count = s->want_keys ? 4 : 3;

	(void)flags;
	(void)props;
	if (rc != 0) {
		s->v5_refused = s->protocol == MQTT_PROTOCOL_V5 &&
		                (rc == MQTT_RC_UNSUPPORTED_PROTOCOL_VERSION ||
		                 rc == CONNACK_REFUSED_PROTOCOL_VERSION);
		/* MQTT 5 reason codes: mosquitto_connack_string() knows only 3.1.1's. */
		snprintf(s->error, sizeof(s->error),
		         "the broker %s:%u refused the connection: %s; check that it accepts "
		         "the certificate %s%s",
		         s->cfg->host, s->cfg->port, mosquitto_reason_string(rc), s->cfg->certfile,
		         s->cfg->username[0] != '\0' ? " and the user name and password" : "");
		s->failed = true;
		return;
	}
	/* The pins were checked in the handshake; a SHA-1 one that held is still worth a word. */
	pin = tls_matched_pin(s->tls);
	if (pin != NULL && pin->kind == CONFIG_PIN_CERT_SHA1)
		errline("%s:%d: this pin is SHA-1, which is weak; pin %s instead", s->cfg->file,
		        pin->line, tls_peer_fingerprint(s->tls));
	s->connected = true;
	s->connected_at = now_ms();
	s->subscribed = false;
	/* Subscribed before anything is published, so that the answer cannot be missed. */
	if (s->renewals) {
		topics[0] = s->t_csr;
		topics[1] = s->t_all_events;
		count = 2;
	}
	ret = mosquitto_subscribe_multiple(mosq, &s->sub_mid, count, topics, 1, 0, NULL);
	if (ret != MOSQ_ERR_SUCCESS) {
		snprintf(s->error, sizeof(s->error), "cannot subscribe to %s/%s/#: %s",
		         s->cfg->topic_prefix, s->device, mosquitto_strerror(ret));
		s->failed = true;
	}
}

static void
on_subscribe(struct mosquitto *mosq, void *obj, int mid, int count, const int *granted)
{
	struct session *s = obj;
	int i;

	(void)mosq;
	if (mid != s->sub_mid)
		return;
	for (i = 0; i < count; i++) {
		if (granted[i] > 2) {
			snprintf(s->error, sizeof(s->error),
			         "the broker refused the subscription to %s/%s/#; its ACL must let "
			         "the certificate %s read the device's topics",
			         s->cfg->topic_prefix, s->device, s->cfg->certfile);
			s->failed = true;
			return;
		}
	}
	s->subscribed = true;
	s->last_msg = now_ms();
}

/*
 * The broker's PUBACK for the command: under MQTT 5, Mosquitto answers a PUBLISH its ACL
 * refuses with "not authorized" instead of dropping it in silence.
 */
static void
on_publish(struct mosquitto *mosq, void *obj, int mid, int rc, const mosquitto_property *props)
{
	struct session *s = obj;
	char cn[CTL_CN_MAX];

	(void)mosq;
	(void)props;
	if (s->x == NULL || mid != s->pub_mid || rc < MQTT_RC_UNSPECIFIED || s->failed)
		return;
	snprintf(s->error, sizeof(s->error),
	         "the broker refused %s: %s; its ACL must let the certificate %s (%s) write %s, "
	         "as garagectl broker-config does for each --controller",
	         s->x->what, mosquitto_reason_string(rc), s->cfg->certfile,
	         own_cn(s, cn, sizeof(cn)), s->acl_topic);
	s->failed = true;
	s->pub_refused = true;
}

/* The message for a session another client with our certificate took over; LEAD says how we
 * know. */
static void
taken_over(struct session *s, const char *lead)
{
	char cn[CTL_CN_MAX];

	snprintf(s->error, sizeof(s->error),
	         "%s the same certificate (%s): one certificate is one client; issue each "
	         "controller its own with garagectl pki issue --client NAME",
	         lead, own_cn(s, cn, sizeof(cn)));
	s->failed = true;
}

/*
 * rc is libmosquitto's MOSQ_ERR_* when the connection broke, or the reason code of the
 * broker's DISCONNECT (MQTT 5, 0x80 and up) when the broker ended the session and said why.
 */
static void
on_disconnect(struct mosquitto *mosq, void *obj, int rc, const mosquitto_property *props)
{
	struct session *s = obj;
	bool was_connected = s->connected;
	char cn[CTL_CN_MAX];

	(void)mosq;
	(void)props;
	s->connected = false;
	if (!was_connected && !s->failed && tls_refused(s))
		return;
	/* A broker that speaks only MQTT 3.1.1 may close the connection on a version 5 CONNECT
	 * without a word (RabbitMQ 3.x does): TLS went through, no CONNACK came. */
	if (!was_connected && !s->failed && s->protocol == MQTT_PROTOCOL_V5 &&
	    tls_handshake_done(s->tls))
		s->v5_refused = true;
	if (s->failed || s->error[0] != '\0')
		return;
	/* The broker takes the client id from the certificate (use_username_as_clientid): a
	 * second client with this certificate takes the session over, and Mosquitto 2.0.15 and
	 * later say so. Connecting again would only knock that one off in turn. */
	if (rc == MQTT_RC_SESSION_TAKEN_OVER) {
		taken_over(s,
		           "the broker ended this session because another client connected with");
		return;
	}
	if (rc >= MQTT_RC_UNSPECIFIED) {
		snprintf(s->error, sizeof(s->error), "the broker %s:%u ended the session: %s",
		         s->cfg->host, s->cfg->port, mosquitto_reason_string(rc));
		return;
	}
	/* Mosquitto 2.0.11 (Debian 12) takes a session over without a word: it closes the
	 * connection, as on a restart. The likely cause is worth naming. */
	if (rc == MOSQ_ERR_CONN_LOST && was_connected) {
		s->closed_by_broker = true;
		snprintf(s->error, sizeof(s->error),
		         "the broker %s:%u closed the connection; it does that when it restarts, "
		         "or when another client connects with the same certificate (%s): one "
		         "certificate is one client",
		         s->cfg->host, s->cfg->port, own_cn(s, cn, sizeof(cn)));
		return;
	}
	if (rc != 0)
		snprintf(s->error, sizeof(s->error), "lost the connection to %s:%u: %s",
		         s->cfg->host, s->cfg->port,
		         s->last_log[0] != '\0' ? s->last_log : mosquitto_strerror(rc));
}

/* A string member of an event, made safe to show (into buf, SHOW_MAX), or DFLT. */
static const char *
shown_string(char *buf, const cJSON *item, const char *dflt)
{
	if (!cJSON_IsString(item))
		return dflt;
	copy_shown(buf, SHOW_MAX, item->valuestring, strlen(item->valuestring));
	return buf;
}

/* status --watch: one line for a command event. */
static void
print_event(const cJSON *ev)
{
	const cJSON *door = cJSON_GetObjectItemCaseSensitive(ev, "door");
	const cJSON *action = cJSON_GetObjectItemCaseSensitive(ev, "action");
	const cJSON *result = cJSON_GetObjectItemCaseSensitive(ev, "result");
	const cJSON *reason = cJSON_GetObjectItemCaseSensitive(ev, "reason");
	const cJSON *kid = cJSON_GetObjectItemCaseSensitive(ev, "kid");
	char d[SHOW_MAX], a[SHOW_MAX], r[SHOW_MAX], why[SHOW_MAX], k[SHOW_MAX], when[32];

	/* "2025-06-01 12:00:00 main: open accepted (alice)", "... main: rejected replay" */
	printf("%s %s: %s%s%s%s%s%s%s\n", stamp(when, sizeof(when)), shown_string(d, door, "?"),
	       shown_string(a, action, ""), cJSON_IsString(action) ? " " : "",
	       shown_string(r, result, "?"), cJSON_IsString(reason) ? " " : "",
	       shown_string(why, reason, ""), cJSON_IsString(kid) ? " by " : "",
	       shown_string(k, kid, ""));
	fflush(stdout);
}

/* Is this event the answer to the message sent: an event of its type with its nonce? */
static bool
is_our_answer(const struct session *s, const cJSON *ev)
{
	const struct ctl_request *req = s->req;
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(ev, "type");
	const cJSON *nonce = cJSON_GetObjectItemCaseSensitive(ev, "nonce");
	const cJSON *door = cJSON_GetObjectItemCaseSensitive(ev, "door");
	const cJSON *kid = cJSON_GetObjectItemCaseSensitive(ev, "kid");

	if (s->x == NULL || !cJSON_IsString(type) ||
	    strcmp(type->valuestring, s->x->answer_type) != 0)
		return false;
	/* The nonce names one message; every other clue could fit another's. */
	if (nonce != NULL)
		return cJSON_IsString(nonce) && strcmp(nonce->valuestring, s->x->msg->nonce) == 0;
	/* A device whose command events carry no nonce: this door, this key, since we sent. */
	return req != NULL && cJSON_IsString(door) && strcmp(door->valuestring, req->door) == 0 &&
	       cJSON_IsString(kid) && strcmp(kid->valuestring, req->kid) == 0;
}

static void
handle_event(struct session *s, const void *payload, size_t len)
{
	const cJSON *result, *reason;
	cJSON *ev;

	if (len > EVENT_MAX)
		return;
	ev = cJSON_ParseWithLength(payload, len);
	if (!cJSON_IsObject(ev)) {
		cJSON_Delete(ev);
		return;
	}
	if (s->watching) {
		const cJSON *type = cJSON_GetObjectItemCaseSensitive(ev, "type");

		/* State events repeat the state topic, which is printed already. */
		if (cJSON_IsString(type) && strcmp(type->valuestring, "command") == 0)
			print_event(ev);
	}
	if (s->answer == ANSWER_NONE && is_our_answer(s, ev)) {
		const cJSON *message = cJSON_GetObjectItemCaseSensitive(ev, "message");

		result = cJSON_GetObjectItemCaseSensitive(ev, "result");
		reason = cJSON_GetObjectItemCaseSensitive(ev, "reason");
		if (cJSON_IsString(message))
			copy_shown(s->detail, sizeof(s->detail), message->valuestring,
			           strlen(message->valuestring));
		if (cJSON_IsString(result) && strcmp(result->valuestring, "accepted") == 0) {
			s->answer = ANSWER_ACCEPTED;
		} else if (cJSON_IsString(result) && strcmp(result->valuestring, "rejected") == 0) {
			s->answer = ANSWER_REJECTED;
			if (cJSON_IsString(reason))
				copy_shown(s->reason, sizeof(s->reason), reason->valuestring,
				           strlen(reason->valuestring));
			else
				snprintf(s->reason, sizeof(s->reason), "no reason given");
		}
	}
	cJSON_Delete(ev);
}

/* P/D/N/state: the door's name N, when the topic is one. */
static bool
state_topic_door(const struct session *s, const char *topic, char *door, size_t size)
{
	size_t plen = strlen(s->cfg->topic_prefix), dlen = strlen(s->device), n;
	const char *name, *end;

	if (strncmp(topic, s->cfg->topic_prefix, plen) != 0 || topic[plen] != '/' ||
	    strncmp(topic + plen + 1, s->device, dlen) != 0 || topic[plen + 1 + dlen] != '/')
		return false;
	name = topic + plen + 1 + dlen + 1;
	end = strchr(name, '/');
	if (end == NULL || strcmp(end, "/state") != 0)
		return false;
	n = (size_t)(end - name);
	if (n == 0 || n >= size)
		return false;
	memcpy(door, name, n);
	door[n] = '\0';
	return names_door_valid(door);
}

/* P/D/LEAF: the device id D, when the topic is one. */
static bool
topic_device(const struct session *s, const char *topic, const char *leaf, char *device,
             size_t size)
{
	size_t plen = strlen(s->cfg->topic_prefix), n;
	const char *id, *end;

	if (strncmp(topic, s->cfg->topic_prefix, plen) != 0 || topic[plen] != '/')
		return false;
	id = topic + plen + 1;
	end = strchr(id, '/');
	if (end == NULL || strcmp(end + 1, leaf) != 0)
		return false;
	n = (size_t)(end - id);
	if (n == 0 || n >= size)
		return false;
	memcpy(device, id, n);
	device[n] = '\0';
	return names_device_id_valid(device);
}

/* A device's request on P/D/csr: the latest of each device is kept (an empty one: none). */
static void
renewal_request(struct session *s, const char *device, const void *payload, size_t len)
{
	struct ctl_csr *c = NULL, *grown;
	size_t i;

	s->last_msg = now_ms();
	for (i = 0; i < s->ncsrs && c == NULL; i++)
		if (strcmp(s->csrs[i].device, device) == 0)
			c = &s->csrs[i];
	if (c != NULL) {
		free(c->payload);
		c->payload = NULL;
		c->len = 0;
	}
	if (len == 0)
		return;
	if (c == NULL) {
		if (s->ncsrs == CTL_CSR_MAX)
			return;
		grown = realloc(s->csrs, (s->ncsrs + 1) * sizeof(*s->csrs));
		if (grown == NULL)
			return;
		s->csrs = grown;
		c = &s->csrs[s->ncsrs++];
		memset(c, 0, sizeof(*c));
		memcpy(c->device, device, strlen(device) + 1);
	}
	/* One byte over the limit is enough for the parser to say too_large. */
	if (len > RENEW_REQUEST_MAX + 1)
		len = RENEW_REQUEST_MAX + 1;
	c->payload = malloc(len + 1);
	if (c->payload == NULL)
		return;
	memcpy(c->payload, payload, len);
	c->payload[len] = '\0';
	c->len = len;
}

/* The device's renewal event about the certificate sent: accepted, or refused or failed. */
static void
renewal_answer(struct session *s, const void *payload, size_t len)
{
	const cJSON *type, *step, *serial, *reason, *message;
	cJSON *ev;

	if (len > EVENT_MAX || s->answer != ANSWER_NONE)
		return;
	ev = cJSON_ParseWithLength(payload, len);
	type = cJSON_GetObjectItemCaseSensitive(ev, "type");
	step = cJSON_GetObjectItemCaseSensitive(ev, "step");
	serial = cJSON_GetObjectItemCaseSensitive(ev, "serial");
	reason = cJSON_GetObjectItemCaseSensitive(ev, "reason");
	message = cJSON_GetObjectItemCaseSensitive(ev, "message");
	if (cJSON_IsString(type) && strcmp(type->valuestring, "renewal") == 0 &&
	    cJSON_IsString(step) &&
	    (serial == NULL ||
	     (cJSON_IsString(serial) && strcmp(serial->valuestring, s->cert_serial) == 0))) {
		if (strcmp(step->valuestring, "accepted") == 0 && serial != NULL) {
			s->answer = ANSWER_ACCEPTED;
		} else if (strcmp(step->valuestring, "refused") == 0 ||
		           strcmp(step->valuestring, "failed") == 0) {
			s->answer = ANSWER_REJECTED;
			copy_shown(s->reason, sizeof(s->reason),
			           cJSON_IsString(reason) ? reason->valuestring : "no reason given",
			           strlen(cJSON_IsString(reason) ? reason->valuestring
			                                         : "no reason given"));
			if (cJSON_IsString(message))
				copy_shown(s->detail, sizeof(s->detail), message->valuestring,
				           strlen(message->valuestring));
		}
	}
	cJSON_Delete(ev);
}

static void
on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *msg)
{
	struct session *s = obj;
	char name[CONFIG_NAME_MAX + 1], value[STATE_MAX + 1];
	struct door_seen *d;

	(void)mosq;
	if (msg->payloadlen < 0 || msg->topic == NULL)
		return;
	if (s->renewals) {
		if (topic_device(s, msg->topic, "csr", name, sizeof(name)))
			renewal_request(s, name, msg->payload, (size_t)msg->payloadlen);
		else if (s->cert_device != NULL &&
		         topic_device(s, msg->topic, "events", name, sizeof(name)) &&
		         strcmp(name, s->cert_device) == 0)
			renewal_answer(s, msg->payload, (size_t)msg->payloadlen);
		return;
	}
	if (s->want_keys && strcmp(msg->topic, s->t_keys) == 0) {
		/* A list too large is none the device made: it is not read. */
		s->keys_seen = true;
		s->keys_len = (size_t)msg->payloadlen <= KEYS_MAX ? (size_t)msg->payloadlen : 0;
		memcpy(s->keys, msg->payload, s->keys_len);
		s->keys[s->keys_len] = '\0';
		s->last_msg = now_ms();
		return;
	}
	if (strcmp(msg->topic, s->t_events) == 0) {
		handle_event(s, msg->payload, (size_t)msg->payloadlen);
		return;
	}
	copy_shown(value, sizeof(value), msg->payload, (size_t)msg->payloadlen);
	if (strcmp(msg->topic, s->t_avail) == 0) {
		if (s->watching && strcmp(s->availability, value) != 0)
			watch_line("device ", s->device, value);
		memcpy(s->availability, value, sizeof(value));
		s->last_msg = now_ms();
		return;
	}
	if (!state_topic_door(s, msg->topic, name, sizeof(name)))
		return;
	/* An empty retained message is how a state is deleted from the broker. */
	d = door_find(s, name, msg->payloadlen > 0);
	if (d == NULL)
		return;
	if (s->watching && strcmp(d->state, value) != 0)
		watch_line("", name, value);
	memcpy(d->state, value, sizeof(value));
	if (msg->retain)
		memcpy(d->retained, value, sizeof(value));
	s->last_msg = now_ms();
}

static void
session_close(struct session *s)
{
	if (s->mosq != NULL) {
		if (s->connected)
			mosquitto_disconnect(s->mosq);
		mosquitto_destroy(s->mosq);
		s->mosq = NULL;
	}
	/* Only now: libmosquitto held a reference to the context and called into it. */
	tls_free(s->tls);
	s->tls = NULL;
	mosquitto_lib_cleanup();
}

/* The TLS handshake or the session set-up failed: say which check, or the library's reason. */
static void
tls_failed(struct session *s, int rc)
{
	const struct config *cfg = s->cfg;
	const char *why;

	if (tls_refused(s)) {
		errline("%s", s->error);
		return;
	}
	why = s->error[0] != '\0'      ? s->error
	      : s->last_log[0] != '\0' ? s->last_log
	                               : mosquitto_strerror(rc);

	errline("cannot connect to %s:%u over TLS: %s; check that cafile in %s is the CA of the "
	        "broker's certificate, that this certificate names %s, and that the broker "
	        "accepts certfile",
	        cfg->host, cfg->port, why, cfg->file, cfg->host);
}

/*
 * Connects and subscribes to the device's topics (with KEYS, its key list too). Returns 0 once
 * the SUBACK is in, or -1 with the reason printed.
 */
static int session_start(struct session *s, const struct config *cfg, const char *device, bool keys,
                         bool renewals);

static int
session_open(struct session *s, const struct config *cfg, const char *device, bool keys)
{
	return session_start(s, cfg, device, keys, false);
}

static int session_start_one(struct session *s, const struct config *cfg, const char *device,
                             bool keys, bool renewals);

/*
 * The session of session_open(), or with RENEWALS, pki sign-requests' one: every device's
 * P/+/csr and P/+/events instead of one device's topics. With several brokers ([mqtt] host
 * repeated), as garaged does: the first that answers, in order, each under the same TLS policy
 * and checked against its own name; each one that fails says why on its own line first.
 */
static int
session_start(struct session *s, const struct config *cfg, const char *device, bool keys,
              bool renewals)
{
	/* One [mqtt] per broker, its host and port in place of the first's: the session keeps
	 * a pointer to its configuration, and garagectl runs one session at a time. */
	static struct config one[CONFIG_MAX_BROKERS];
	size_t i;

	if (cfg->nbrokers <= 1)
		return session_start_one(s, cfg, device, keys, renewals);
	for (i = 0; i < cfg->nbrokers && !interrupted; i++) {
		one[i] = *cfg;
		memcpy(one[i].host, cfg->brokers[i].host, sizeof(one[i].host));
		one[i].port = cfg->brokers[i].port;
		if (i > 0)
			errline("trying broker %zu of %zu, %s:%u", i + 1, cfg->nbrokers,
			        one[i].host, (unsigned)one[i].port);
		if (session_start_one(s, &one[i], device, keys, renewals) == 0)
			return 0;
	}
	return -1;
}

static int
session_start_one(struct session *s, const struct config *cfg, const char *device, bool keys,
                  bool renewals)
{
	unsigned char rnd[6];
	struct mqtt_session_opts opts;
	char client_id[32], err[ERROR_MAX], addr[MQTT_SESSION_ADDR_MAX], merr[512];
	uint64_t deadline;
	int rc, saved;

	memset(s, 0, sizeof(*s));
	s->cfg = cfg;
	s->device = device;
	s->protocol = session_protocol;
	snprintf(s->t_avail, sizeof(s->t_avail), "%s/%s/availability", cfg->topic_prefix, device);
	snprintf(s->t_states, sizeof(s->t_states), "%s/%s/+/state", cfg->topic_prefix, device);
	snprintf(s->t_events, sizeof(s->t_events), "%s/%s/events", cfg->topic_prefix, device);
	snprintf(s->t_keys, sizeof(s->t_keys), "%s/%s/keys", cfg->topic_prefix, device);
	snprintf(s->t_csr, sizeof(s->t_csr), "%s/+/csr", cfg->topic_prefix);
	snprintf(s->t_all_events, sizeof(s->t_all_events), "%s/+/events", cfg->topic_prefix);
	s->want_keys = keys;
	s->renewals = renewals;

	/* A random client id, so that two garagectl runs never take each other's session on a
	 * broker that keeps it. broker-config's broker replaces it with the certificate's CN
	 * (use_username_as_clientid): there one certificate is one client, see on_disconnect. */
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		memset(rnd, 0, sizeof(rnd));
	snprintf(client_id, sizeof(client_id), "garagectl-%02x%02x%02x%02x%02x%02x", rnd[0], rnd[1],
	         rnd[2], rnd[3], rnd[4], rnd[5]);
	/* MQTT 5, for the reasons the broker gives: why it ended the session (another client
	 * with this certificate) and why it refused a PUBLISH (the ACL); 3.1.1 on a broker that
	 * speaks no 5 (session_protocol). */
	opts.client_id = client_id;
	opts.protocol = s->protocol;
	opts.will_topic = NULL;
	opts.obj = s;
	s->mosq = mqtt_session_new(cfg, &opts, &s->tls, err, sizeof(err));
	if (s->mosq == NULL) {
		errline("%s; check [mqtt] in %s", err, cfg->file);
		return -1;
	}
	mosquitto_log_callback_set(s->mosq, on_log);
	mosquitto_connect_v5_callback_set(s->mosq, on_connect);
	mosquitto_subscribe_callback_set(s->mosq, on_subscribe);
	mosquitto_publish_v5_callback_set(s->mosq, on_publish);
	mosquitto_disconnect_v5_callback_set(s->mosq, on_disconnect);
	mosquitto_message_callback_set(s->mosq, on_message);

	/* The same [mqtt] keys as garaged.conf, the same meaning: a *.local broker is found by
	 * multicast DNS, and TLS still checks the certificate against the configured name. */
	if (mqtt_session_address(cfg, addr, sizeof(addr), merr, sizeof(merr)) != 0) {
		errline("%s", merr);
		session_close(s);
		return -1;
	}
	tls_handshake_begin(s->tls);
	rc = mosquitto_connect(s->mosq, addr, cfg->port, cfg->keepalive);
	saved = errno; /* for MOSQ_ERR_ERRNO, past what comes next */
	if (rc != MOSQ_ERR_SUCCESS && tls_refused(s))
		errline("%s", s->error);
	/* A broker that refuses this certificate in TLS 1.3 says so after our side of the
	 * handshake is done, and often hangs up before its alert can be read. */
	else if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_EAI && tls_handshake_done(s->tls))
		errline(
		    "cannot connect to %s:%u: %s, right after the TLS handshake; check that the "
		    "broker accepts certfile %s (signed by its CA, not expired)",
		    cfg->host, cfg->port,
		    rc == MOSQ_ERR_ERRNO ? strerror(saved) : mosquitto_strerror(rc), cfg->certfile);
	else if (rc == MOSQ_ERR_ERRNO)
		errline("cannot connect to %s:%u: %s; is the broker running, and are host and port "
		        "in %s right?",
		        cfg->host, cfg->port, strerror(saved), cfg->file);
	else if (rc == MOSQ_ERR_EAI)
		errline("cannot find the address of %s; check host in %s", cfg->host, cfg->file);
	else if (rc != MOSQ_ERR_SUCCESS)
		tls_failed(s, rc);
	if (rc != MOSQ_ERR_SUCCESS) {
		session_close(s);
		return -1;
	}
	deadline = now_ms() + CONNECT_TIMEOUT_MS;
	while (!s->subscribed && !s->failed && !interrupted) {
		uint64_t now = now_ms();

		if (now >= deadline) {
			snprintf(s->error, sizeof(s->error),
			         "the broker %s:%u did not accept the session within %u s",
			         cfg->host, cfg->port, CONNECT_TIMEOUT_MS / 1000U);
			break;
		}
		rc = mosquitto_loop(s->mosq, (int)(deadline - now), 1);
		if (rc != MOSQ_ERR_SUCCESS && !s->failed && s->error[0] == '\0')
			snprintf(s->error, sizeof(s->error), "%s",
			         s->last_log[0] != '\0' ? s->last_log : mosquitto_strerror(rc));
		if (rc != MOSQ_ERR_SUCCESS)
			break;
	}
	if (!s->subscribed && s->v5_refused && !interrupted) {
		/* Once more in MQTT 3.1.1, and so on for the rest of the run. A broker that
		 * refused for another reason refuses again and says so then. */
		session_close(s);
		session_protocol = MQTT_PROTOCOL_V311;
		return session_start(s, cfg, device, keys, renewals);
	}
	if (!s->subscribed) {
		if (interrupted)
			errline("interrupted");
		else if (s->failed)
			errline("%s", s->error);
		else
			tls_failed(s, MOSQ_ERR_TLS);
		session_close(s);
		return -1;
	}
	return 0;
}

/*
 * Runs the network until the deadline (monotonic ms), at most max_ms. Returns 0, or -1 when
 * the session is over (the reason is in s->error).
 */
static int
session_pump(struct session *s, uint64_t deadline, unsigned max_ms)
{
	uint64_t now = now_ms();
	uint64_t wait = deadline > now ? deadline - now : 0;
	int rc;

	/* mosquitto_loop() sends PINGREQ only when it returns: wake within the keepalive. */
	if (max_ms > (unsigned)s->cfg->keepalive * 500U)
		max_ms = (unsigned)s->cfg->keepalive * 500U;
	if (wait > max_ms)
		wait = max_ms;
	rc = mosquitto_loop(s->mosq, (int)wait, 1);
	if (rc != MOSQ_ERR_SUCCESS && s->error[0] == '\0')
		snprintf(s->error, sizeof(s->error), "lost the connection to %s:%u: %s",
		         s->cfg->host, s->cfg->port,
		         rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
	return rc == MOSQ_ERR_SUCCESS && !s->failed ? 0 : -1;
}

/* What status needs of the retained burst (its availability and a door), or keys list (the
 * key list). */
static bool
have_status(const struct session *s)
{
	return s->availability[0] != '\0' && s->ndoors > 0;
}

static bool
have_keys(const struct session *s)
{
	return s->keys_seen;
}

/*
 * Asks the device, once a session, to publish its retained topics again (P/D/refresh, empty, not
 * retained): for a broker that did not hand them over on the subscription. RabbitMQ keeps a
 * retained message on the node it came through and hands it only to a subscription to its exact
 * topic (docs/brokers.md). A broker whose ACL refuses P/D/refresh drops the request (Mosquitto)
 * or ends the session (RabbitMQ). Returns whether it was sent now.
 */
static bool
ask_refresh(struct session *s)
{
	char topic[TOPIC_MAX];

	if (s->refresh_sent)
		return false;
	s->refresh_sent = true;
	snprintf(topic, sizeof(topic), "%s/%s/refresh", s->cfg->topic_prefix, s->device);
	return mosquitto_publish(s->mosq, NULL, topic, 0, NULL, 1, false) == MOSQ_ERR_SUCCESS;
}

/*
 * Reads the retained messages that follow the SUBACK in a burst: until ENOUGH holds when UNTIL
 * is set, or until STATUS_QUIET_MS passed without a message (STATUS_MAX_MS at most). When the
 * burst brought less than ENOUGH, asks the device for them (ask_refresh()) and reads its answer
 * the same way. Returns 0, or -1 when the session ended, with the reason in s->error.
 */
static int
read_retained(struct session *s, bool (*enough)(const struct session *), bool until)
{
	uint64_t start, end;

	for (;;) {
		start = now_ms();
		s->last_msg = start;
		while (!interrupted && !(until && enough(s))) {
			end = s->last_msg + (s->refresh_sent ? REFRESH_QUIET_MS : STATUS_QUIET_MS);
			if (end > start + STATUS_MAX_MS)
				end = start + STATUS_MAX_MS;
			if (now_ms() >= end)
				break;
			if (session_pump(s, end, STATUS_MAX_MS) != 0)
				return -1;
		}
		if (interrupted || enough(s) || !ask_refresh(s))
			return 0;
	}
}

static void
install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: the wait in mosquitto_loop() must end when the owner presses ^C. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* Where the action leads, as the state topic says it. */
enum target {
	TARGET_OPEN,   /* "open" */
	TARGET_CLOSED, /* "closed" */
	TARGET_STILL,  /* any state that is not opening or closing */
	TARGET_END,    /* "open" or "closed" */
};

static enum target
target_of(enum cmd_action action, const char *before)
{
	switch (action) {
	case CMD_ACTION_OPEN:
		return TARGET_OPEN;
	case CMD_ACTION_CLOSE:
		return TARGET_CLOSED;
	case CMD_ACTION_STOP:
		return TARGET_STILL;
	default:
		break;
	}
	/* toggle: the other end; a moving door stops; from stopped or unknown, either end. */
	if (strcmp(before, "closed") == 0)
		return TARGET_OPEN;
	if (strcmp(before, "open") == 0)
		return TARGET_CLOSED;
	if (moving(before))
		return TARGET_STILL;
	return TARGET_END;
}

static bool
reached(enum target t, const char *state)
{
	switch (t) {
	case TARGET_OPEN:
		return strcmp(state, "open") == 0;
	case TARGET_CLOSED:
		return strcmp(state, "closed") == 0;
	case TARGET_STILL:
		return state[0] != '\0' && !moving(state);
	case TARGET_END:
		return strcmp(state, "open") == 0 || strcmp(state, "closed") == 0;
	}
	return false;
}

static const char *
target_text(enum target t)
{
	switch (t) {
	case TARGET_OPEN:
		return "reach open";
	case TARGET_CLOSED:
		return "reach closed";
	case TARGET_STILL:
		return "stop";
	case TARGET_END:
		return "reach open or closed";
	}
	return "";
}

/* Why a rejected command or admin message was rejected, and what the owner can do about it. */
static const char *
reason_hint(const char *reason)
{
	static const struct {
		const char *reason, *hint;
	} hints[] = {
	    {"not_admin", "the signing key (kid in ctl.conf, or --kid before the command) is not "
	                  "marked admin: add the word admin to its line in the device's "
	                  "authorized_keys and send garaged SIGHUP"},
	    {"key_exists", "a key with this kid is there already: remove it first, or choose "
	                   "another kid"},
	    {"unknown_target", "no key has this kid: see garagectl keys list"},
	    {"last_admin", "it is the only admin key: add another admin key first"},
	    {"too_many_keys", "the device holds as many keys as it can: remove one first"},
	    {"keys_read_only",
	     "garaged may not write its authorized_keys: keep it where it may, "
	     "/var/lib/garaged/authorized_keys owned by the user garaged runs as (docs/setup.md)"},
	    {"keys_write_failed", "the device could not write authorized_keys: see its log "
	                          "(journalctl -u garaged)"},
	    {"keys_busy", "authorized_keys was being edited on the device while the change was "
	                  "made; nothing is changed: send it again once the edit is done"},
	    {"key_expired", "this key's not_after= has passed on the device"},
	    {"key_not_yet_valid", "this key's not_before= has not come yet on the device"},
	    {"key_off_hours", "this key's days= or hours= do not include the device's local time"},
	    {"unknown_key", "add this key's authorized_keys line on the device and send garaged "
	                    "SIGHUP"},
	    {"forbidden", "the device's authorized_keys line for this key does not allow this "
	                  "action or door"},
	    {"bad_signature", "check that kid and device in ctl.conf match the key and the "
	                      "device's [device] id"},
	    {"stale", "check that this computer's clock and the device's agree"},
	    {"future", "check that this computer's clock and the device's agree"},
	    {"replay", "send the command again"},
	    {"unknown_door", "check --door against the device's [door.NAME] sections"},
	    {"rate_limited", "wait a little and send the command again"},
	};
	size_t i;

	for (i = 0; i < sizeof(hints) / sizeof(hints[0]); i++)
		if (strcmp(reason, hints[i].reason) == 0)
			return hints[i].hint;
	return NULL;
}

/*
 * Sends X on a new session *s and waits up to ANSWER_TIMEOUT_MS for the device's answer: the
 * event of type x->answer_type with the message's nonce. Returns CTL_EXIT_OK when accepted,
 * the session still open (the caller closes it); otherwise CTL_EXIT_FAILED with the one line
 * printed (the refusal with its hint, the broker's word, or the missing answer), and the
 * session closed.
 */
static int
exchange(struct session *s, const struct config *mqtt, const struct ctl_exchange *x,
         const struct ctl_request *req)
{
	char topic[TOPIC_MAX];
	uint64_t deadline;
	const char *hint;
	int rc;

	install_signals();
	if (session_open(s, mqtt, x->device, false) != 0)
		return CTL_EXIT_FAILED;
	s->x = x;
	s->req = req;
	snprintf(topic, sizeof(topic), "%s/%s/%s", mqtt->topic_prefix, x->device, x->leaf);
	snprintf(s->acl_topic, sizeof(s->acl_topic), "%s/%s/%s", mqtt->topic_prefix, x->device,
	         x->acl_leaf != NULL ? x->acl_leaf : x->leaf);
	/* QoS 1 so that the broker has it; never retained: the device refuses retained ones.
	 * Subscribed to the events already (session_open()): the answer cannot be missed. */
	rc = mosquitto_publish(s->mosq, &s->pub_mid, topic, (int)x->msg->len, x->msg->payload, 1,
	                       false);
	if (rc != MOSQ_ERR_SUCCESS) {
		errline("cannot publish %s on %s: %s", x->what, topic, mosquitto_strerror(rc));
		session_close(s);
		return CTL_EXIT_FAILED;
	}
	deadline = now_ms() + ANSWER_TIMEOUT_MS;
	while (s->answer == ANSWER_NONE && !interrupted && now_ms() < deadline)
		if (session_pump(s, deadline, UINT32_MAX) != 0) {
			errline("%s%s%s%s", s->error, s->pub_refused ? "" : "; ",
			        s->pub_refused ? "" : x->what,
			        s->pub_refused ? ""
			                       : " may not have reached the device: check with "
			                         "garagectl status");
			session_close(s);
			return CTL_EXIT_FAILED;
		}
	if (s->answer == ANSWER_ACCEPTED)
		return CTL_EXIT_OK;
	if (interrupted) {
		errline("interrupted before the device answered; check with garagectl status");
	} else if (s->answer == ANSWER_REJECTED) {
		hint = x->hint != NULL ? x->hint(s->reason) : reason_hint(s->reason);
		/* One line: the reason, what the device said about it, what to do. */
		errline("the device refused %s: %s%s%s%s%s%s", x->refused, s->reason,
		        s->detail[0] != '\0' ? " (" : "", s->detail,
		        s->detail[0] != '\0' ? ")" : "", hint != NULL ? "; " : "",
		        hint != NULL ? hint : "");
	} else if (strcmp(s->availability, "online") == 0) {
		errline("no answer from device %s within %u s although it is online; check that "
		        "the broker's ACL lets this client write %s",
		        x->device, ANSWER_TIMEOUT_MS / 1000U, topic);
	} else {
		errline("no answer from device %s within %u s; is garaged running and connected? "
		        "(availability: %s)",
		        x->device, ANSWER_TIMEOUT_MS / 1000U, or_unknown(s->availability));
	}
	session_close(s);
	return CTL_EXIT_FAILED;
}

int
ctl_exchange(const struct config *mqtt, const struct ctl_exchange *x)
{
	struct session s;
	int ret;

	ret = exchange(&s, mqtt, x, NULL);
	if (ret == CTL_EXIT_OK)
		session_close(&s);
	return ret;
}

/* --wait: follows the door's state topic until it shows where the action leads. */
static int
follow_door(struct session *s, const struct ctl_request *req)
{
	struct door_seen *d = door_find(s, req->door, true);
	const char *before;
	enum target target;
	bool tty = isatty(STDOUT_FILENO) == 1;
	char shown[STATE_MAX + 1] = "";
	uint64_t start = now_ms(), deadline = start + (uint64_t)req->wait_s * 1000U;
	int ret = CTL_EXIT_OK;

	if (d == NULL) {
		errline("device %s has more doors than garagectl can follow", req->device);
		return CTL_EXIT_FAILED;
	}
	/* No state from the broker (RabbitMQ, see ask_refresh()): a command that moves nothing
	 * (close on a closed door) would bring none either. */
	if (d->state[0] == '\0')
		ask_refresh(s);
	/* toggle's end depends on the state before the command: the one the broker held when
	 * we subscribed, or failing that the latest one heard. */
	before = d->retained[0] != '\0' ? d->retained : d->state;
	target = target_of(req->action, before);
	for (;;) {
		uint64_t now = now_ms();
		bool done = reached(target, d->state);

		if (tty) {
			printf("\r\033[K%s: %s  %.1f s%s", req->door, or_unknown(d->state),
			       (double)(now - start) / 1000.0, done ? "\n" : "");
			fflush(stdout);
		} else if (strcmp(shown, d->state) != 0) {
			printf("%s: %s\n", req->door, or_unknown(d->state));
			fflush(stdout);
		}
		memcpy(shown, d->state, sizeof(shown));
		if (done)
			break;
		if (interrupted || now >= deadline) {
			if (tty)
				putchar('\n');
			if (interrupted)
				errline("interrupted; door %s is %s", req->door,
				        or_unknown(d->state));
			else
				errline("door %s did not %s within %u s; it is %s%s", req->door,
				        target_text(target), req->wait_s, or_unknown(d->state),
				        strcmp(s->availability, "online") == 0
				            ? ""
				            : " (the device is not online)");
			ret = CTL_EXIT_FAILED;
			break;
		}
		/* On a terminal the elapsed time ticks; otherwise sleep until something happens. */
		if (session_pump(s, deadline, tty ? PROGRESS_MS : UINT32_MAX) != 0) {
			if (tty)
				putchar('\n');
			errline("%s; check the door with garagectl status", s->error);
			ret = CTL_EXIT_FAILED;
			break;
		}
	}
	return ret;
}

int
ctl_command_send(const struct config *mqtt, const struct ctl_request *req)
{
	struct session s;
	char leaf[CONFIG_NAME_MAX + 8];
	struct ctl_exchange x = {
	    .device = req->device,
	    .leaf = leaf,
	    .acl_leaf = "+/cmd",
	    .msg = req->cmd,
	    .what = "the command",
	    .refused = "the command",
	    .answer_type = "command",
	};
	int ret;

	snprintf(leaf, sizeof(leaf), "%s/cmd", req->door);
	ret = exchange(&s, mqtt, &x, req);
	if (ret != CTL_EXIT_OK)
		return ret;
	printf("door %s: %s accepted\n", req->door, cmd_action_name(req->action));
	fflush(stdout);
	if (req->wait)
		ret = follow_door(&s, req);
	session_close(&s);
	return ret;
}

/* Joins the strings of the JSON array A (made safe to show) with ',' into buf. */
static void
join_shown(char *buf, size_t size, const cJSON *a)
{
	const cJSON *item;
	char one[SHOW_MAX + 1];
	size_t n = 0;

	buf[0] = '\0';
	cJSON_ArrayForEach(item, a)
	{
		if (!cJSON_IsString(item))
			continue;
		copy_shown(one, sizeof(one), item->valuestring, strlen(item->valuestring));
		n += (size_t)snprintf(buf + n, n < size ? size - n : 0, "%s%s", n > 0 ? "," : "",
		                      one);
		if (n >= size)
			break;
	}
}

/* One row of keys list, each column text made safe to show. */
struct key_row {
	char kid[SHOW_MAX + 1];
	char actions[SHOW_MAX + 1];
	char doors[300];
	char valid[2 * SHOW_MAX + 16];
	char when[2 * SHOW_MAX + 16];
	char admin[8];
};

/* A string member of K made safe to show into buf (SHOW_MAX), or DFLT when it is none. */
static void
member(char *buf, const cJSON *k, const char *name, const char *dflt)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(k, name);

	if (cJSON_IsString(item))
		copy_shown(buf, SHOW_MAX, item->valuestring, strlen(item->valuestring));
	else
		snprintf(buf, SHOW_MAX, "%s", dflt);
}

static void
key_row(struct key_row *r, const cJSON *k)
{
	const cJSON *actions = cJSON_GetObjectItemCaseSensitive(k, "actions");
	const cJSON *doors = cJSON_GetObjectItemCaseSensitive(k, "doors");
	const cJSON *days = cJSON_GetObjectItemCaseSensitive(k, "days");
	char nb[SHOW_MAX], na[SHOW_MAX], d[SHOW_MAX + 1], h[SHOW_MAX];

	member(r->kid, k, "kid", "?");
	/* All four actions is what a line without actions= means. */
	join_shown(r->actions, sizeof(r->actions), actions);
	if (cJSON_GetArraySize(actions) == CMD_ACTION_COUNT)
		snprintf(r->actions, sizeof(r->actions), "all");
	if (cJSON_IsArray(doors))
		join_shown(r->doors, sizeof(r->doors), doors);
	else
		member(r->doors, k, "doors", "?");
	member(nb, k, "not_before", "");
	member(na, k, "not_after", "");
	if (nb[0] != '\0' && na[0] != '\0')
		snprintf(r->valid, sizeof(r->valid), "%s..%s", nb, na);
	else if (nb[0] != '\0')
		snprintf(r->valid, sizeof(r->valid), "from %s", nb);
	else if (na[0] != '\0')
		snprintf(r->valid, sizeof(r->valid), "until %s", na);
	else
		snprintf(r->valid, sizeof(r->valid), "always");
	join_shown(d, sizeof(d), days);
	member(h, k, "hours", "");
	if (d[0] == '\0' && h[0] == '\0')
		snprintf(r->when, sizeof(r->when), "any time");
	else
		snprintf(r->when, sizeof(r->when), "%s%s%s", d,
		         d[0] != '\0' && h[0] != '\0' ? " " : "", h);
	snprintf(r->admin, sizeof(r->admin), "%s",
	         cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(k, "admin")) ? "admin" : "-");
}

/* Prints the key list JSON of the device, one row a key, in columns. */
static int
print_keys(const struct session *s, const char *device)
{
	static struct key_row rows[KEYS_SHOWN + 1];
	static const struct key_row head = {"KID", "ACTIONS", "DOORS", "VALID", "WHEN", "ADMIN"};
	int w[5] = {0};
	const cJSON *keys, *k;
	size_t n = 0, i, more = 0;
	cJSON *list;

	list = cJSON_ParseWithLength(s->keys, s->keys_len);
	keys = cJSON_GetObjectItemCaseSensitive(list, "keys");
	if (!cJSON_IsArray(keys)) {
		cJSON_Delete(list);
		errline("the key list of device %s on the broker is not one garaged wrote", device);
		return CTL_EXIT_FAILED;
	}
	rows[n++] = head;
	cJSON_ArrayForEach(k, keys)
	{
		if (n == KEYS_SHOWN + 1) {
			more++;
			continue;
		}
		if (cJSON_IsObject(k))
			key_row(&rows[n++], k);
	}
	for (i = 0; i < n; i++) {
		const char *col[5] = {rows[i].kid, rows[i].actions, rows[i].doors, rows[i].valid,
		                      rows[i].when};

		for (size_t c = 0; c < 5; c++)
			if ((int)strlen(col[c]) > w[c])
				w[c] = (int)strlen(col[c]);
	}
	for (i = 0; i < n; i++)
		printf("%-*s  %-*s  %-*s  %-*s  %-*s  %s\n", w[0], rows[i].kid, w[1],
		       rows[i].actions, w[2], rows[i].doors, w[3], rows[i].valid, w[4],
		       rows[i].when, rows[i].admin);
	fflush(stdout);
	if (more > 0)
		errline("%zu more key(s) not shown", more);
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(list, "truncated")))
		errline("device %s holds more keys than its list carries: the list is cut", device);
	cJSON_Delete(list);
	return CTL_EXIT_OK;
}

int
ctl_keys_list(const struct config *mqtt, const char *device)
{
	struct session s;
	int ret;

	install_signals();
	if (session_open(&s, mqtt, device, true) != 0)
		return CTL_EXIT_FAILED;
	/* The retained list follows the SUBACK: until it came, or the burst has passed. */
	if (read_retained(&s, have_keys, true) != 0) {
		errline("%s", s.error);
		session_close(&s);
		return CTL_EXIT_FAILED;
	}
	if (interrupted)
		ret = CTL_EXIT_FAILED;
	else if (!s.keys_seen || s.keys_len == 0) {
		errline("no key list for device %s on the broker; is garaged running with [device] "
		        "id = %s and topic_prefix = %s, and may it write %s/%s/keys (garagectl "
		        "broker-config)?",
		        device, device, mqtt->topic_prefix, mqtt->topic_prefix, device);
		ret = CTL_EXIT_FAILED;
	} else {
		ret = print_keys(&s, device);
	}
	session_close(&s);
	return ret;
}

static int
door_cmp(const void *a, const void *b)
{
	return strcmp(((const struct door_seen *)a)->name, ((const struct door_seen *)b)->name);
}

/* What status --watch had shown when its session was lost, to show only what changed since. */
struct watched {
	char availability[STATE_MAX + 1];
	struct door_seen doors[MAX_DOORS];
	size_t ndoors;
};

/* A new session's retained state, beside what the last one had shown: one line per change. */
static void
watch_changes(struct session *s, const struct watched *was)
{
	size_t i, j;

	if (strcmp(s->availability, was->availability) != 0)
		watch_line("device ", s->device, s->availability);
	for (i = 0; i < s->ndoors; i++) {
		for (j = 0; j < was->ndoors; j++)
			if (strcmp(was->doors[j].name, s->doors[i].name) == 0)
				break;
		if (j == was->ndoors || strcmp(was->doors[j].state, s->doors[i].state) != 0)
			watch_line("", s->doors[i].name, s->doors[i].state);
	}
}

int
ctl_status(const struct config *mqtt, const char *device, bool watch)
{
	struct session s;
	struct watched was;
	uint64_t again;
	bool strike = false; /* the last session ended with closed_by_broker */
	bool open = true;
	size_t i;

	install_signals();
	if (session_open(&s, mqtt, device, false) != 0)
		return CTL_EXIT_FAILED;
	/* The retained messages follow the SUBACK in a burst: read until it has passed. */
	if (read_retained(&s, have_status, false) != 0) {
		errline("%s", s.error);
		session_close(&s);
		return CTL_EXIT_FAILED;
	}
	if (s.availability[0] == '\0' && s.ndoors == 0 && !watch) {
		errline("no retained state for device %s on the broker; is garaged configured with "
		        "[device] id = %s and topic_prefix = %s, and has it ever run?",
		        device, device, mqtt->topic_prefix);
		session_close(&s);
		return CTL_EXIT_FAILED;
	}
	qsort(s.doors, s.ndoors, sizeof(s.doors[0]), door_cmp);
	printf("device %s: %s\n", device, or_unknown(s.availability));
	for (i = 0; i < s.ndoors; i++)
		printf("  %s: %s\n", s.doors[i].name, or_unknown(s.doors[i].state));
	fflush(stdout);

	s.watching = watch;
	while (watch && !interrupted) {
		if (open) {
			bool again_at_once;

			if (session_pump(&s, UINT64_MAX, 60000U) == 0 || interrupted)
				continue;
			/* The broker closed this session soon after it closed the one before: two
			 * clients with one certificate, each connecting again knocks the other
			 * off. This one gives way. */
			again_at_once = s.closed_by_broker && strike &&
			                now_ms() - s.connected_at < TAKEOVER_WINDOW_MS;
			if (again_at_once)
				taken_over(&s, "the broker ended this session again right after it "
				               "began, so another client is using");
			if (s.failed) {
				/* Refused by the broker, a pin that does not match, or a session
				 * taken over: retrying is futile. */
				errline("%s", s.error);
				session_close(&s);
				return CTL_EXIT_FAILED;
			}
			/* The owner asked to watch: a lost connection is retried, not the end. */
			errline("%s; connecting again in %u s", s.error, RECONNECT_MS / 1000U);
			strike = s.closed_by_broker;
			memcpy(was.availability, s.availability, sizeof(was.availability));
			memcpy(was.doors, s.doors, sizeof(was.doors));
			was.ndoors = s.ndoors;
			session_close(&s);
			open = false;
		}
		for (again = now_ms() + RECONNECT_MS; !interrupted && now_ms() < again;) {
			struct timespec tick = {0, PROGRESS_MS * 1000000L};

			nanosleep(&tick, NULL);
		}
		if (interrupted)
			break;
		/* Every broker of the list again, the most preferred first, as at the start: the
		 * one this watch was on may be the one that went down, and the device with it
		 * (docs/brokers.md). Each that fails says why; the next turn tries again. */
		if (session_open(&s, mqtt, device, false) != 0)
			continue;
		if (read_retained(&s, have_status, false) != 0) {
			errline("%s; connecting again in %u s", s.error, RECONNECT_MS / 1000U);
			session_close(&s);
			continue;
		}
		watch_changes(&s, &was);
		s.watching = true;
		open = true;
	}
	if (open)
		session_close(&s);
	return CTL_EXIT_OK;
}

/* --- pki sign-requests (ctl_renew.c) ------------------------------------------------------- */

struct ctl_renewals {
	struct session s;
};

struct ctl_renewals *
ctl_renewals_open(const struct config *mqtt, struct ctl_csr **list, size_t *n)
{
	struct ctl_renewals *r = calloc(1, sizeof(*r));
	struct session *s;
	uint64_t start, end;

	*list = NULL;
	*n = 0;
	if (r == NULL) {
		errline("out of memory");
		return NULL;
	}
	s = &r->s;
	install_signals();
	if (session_start(s, mqtt, "+", false, true) != 0) {
		free(r);
		return NULL;
	}
	/* The retained requests follow the SUBACK in a burst: read until it has passed. */
	start = now_ms();
	while (!interrupted) {
		end = s->last_msg + STATUS_QUIET_MS;
		if (end > start + STATUS_MAX_MS)
			end = start + STATUS_MAX_MS;
		if (now_ms() >= end)
			break;
		if (session_pump(s, end, STATUS_MAX_MS) != 0) {
			errline("%s", s->error);
			ctl_renewals_close(r, s->csrs, s->ncsrs);
			return NULL;
		}
	}
	if (interrupted) {
		errline("interrupted");
		ctl_renewals_close(r, s->csrs, s->ncsrs);
		return NULL;
	}
	/* The list is the caller's now; the session keeps hearing events. */
	*list = s->csrs;
	*n = s->ncsrs;
	s->csrs = NULL;
	s->ncsrs = 0;
	return r;
}

enum ctl_renewal_answer
ctl_renewals_send(struct ctl_renewals *r, const char *device, const char *pem, size_t len,
                  const char *serial, char *reason, size_t reasonlen, char *detail,
                  size_t detaillen)
{
	/* Only for on_publish(), which names what the broker's ACL refused: the answer is a
	 * renewal event, read by renewal_answer(), not an exchange's. */
	static struct ctl_exchange x = {.leaf = "cert", .what = "the certificate"};
	struct session *s = &r->s;
	char topic[TOPIC_MAX];
	uint64_t deadline;
	int rc;

	reason[0] = '\0';
	detail[0] = '\0';
	if (s->failed) {
		snprintf(detail, detaillen, "%s", s->error);
		return CTL_RENEWAL_NO_ANSWER;
	}
	x.device = device;
	snprintf(topic, sizeof(topic), "%s/%s/cert", s->cfg->topic_prefix, device);
	snprintf(s->acl_topic, sizeof(s->acl_topic), "%s/+/cert", s->cfg->topic_prefix);
	s->x = &x;
	s->answer = ANSWER_NONE;
	s->reason[0] = '\0';
	s->detail[0] = '\0';
	s->cert_device = device;
	s->cert_serial = serial;
	/* QoS 1, not retained: the device is online, since it just asked; if it is not, the
	 * request stays on P/D/csr and the next run sends the same certificate again (a request
	 * whose key NAME.crt already certifies is answered, never signed twice: ctl_pki.c). */
	rc = mosquitto_publish(s->mosq, &s->pub_mid, topic, (int)len, pem, 1, false);
	if (rc != MOSQ_ERR_SUCCESS) {
		snprintf(detail, detaillen, "cannot publish on %s: %s", topic,
		         mosquitto_strerror(rc));
		return CTL_RENEWAL_NO_ANSWER;
	}
	deadline = now_ms() + ANSWER_TIMEOUT_MS;
	while (s->answer == ANSWER_NONE && !interrupted && now_ms() < deadline)
		if (session_pump(s, deadline, UINT32_MAX) != 0)
			break;
	s->cert_device = NULL;
	if (s->answer == ANSWER_ACCEPTED)
		return CTL_RENEWAL_ACCEPTED;
	if (s->answer == ANSWER_REJECTED) {
		snprintf(reason, reasonlen, "%s", s->reason);
		snprintf(detail, detaillen, "%s", s->detail);
		return CTL_RENEWAL_REFUSED;
	}
	if (s->error[0] != '\0')
		snprintf(detail, detaillen, "%s", s->error);
	else if (interrupted)
		snprintf(detail, detaillen, "interrupted");
	return CTL_RENEWAL_NO_ANSWER;
}

void
ctl_renewals_close(struct ctl_renewals *r, struct ctl_csr *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(list[i].payload);
	free(list);
	if (r == NULL)
		return;
	session_close(&r->s);
	free(r);
}
