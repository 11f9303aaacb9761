/*
 * nethalf: garaged's network half (privsep.h). It owns the broker connection (mqtt.c) and
 * everything that needs no privilege: availability and the last will, Home Assistant
 * discovery, the certificate-expiry event. It passes every message heard on a command topic,
 * P/D/admin and P/D/enroll to the door half as raw bytes, and publishes the states, events
 * and key list the door half sends.
 *
 * What it publishes goes through one bounded queue (flush_out()): the retained topics
 * (availability, each door's state, the key list and discovery) are marked due and published
 * with their latest value, never dropped; events wait in a ring of OUT_EVENTS, and one that does
 * not fit is counted and said later in an "events_dropped" event. What libmosquitto holds is capped
 * by the messages the broker has not acknowledged (MQTT_INFLIGHT_MAX), and the broker is not read
 * while something waits to be written: a broker that stops reading cannot grow this process.
 *
 * It makes and checks the certificate renewal's cryptography (renew.h, docs/certificates.md):
 * when the certificate is within [mqtt] renew_before_days of its end (at every connect, and once
 * a day), or when the door half passes on an admin's renew, it makes a new key of the same kind,
 * hands it to the door half to keep in state_dir (the key never leaves the device), and publishes
 * the request on P/D/csr, retained, once the door half has it. A certificate on P/D/cert is
 * judged by renew_cert_check(); a good one goes to the door half, which installs it and starts
 * the next network half with it; anything else is refused in an event and changes nothing.
 *
 * It loads its certificate and key (mqtt_new), then gives up all it can: the user becomes
 * [device] user when started as root, no_new_privs is set, and a seccomp filter allows only
 * the system calls of libmosquitto, OpenSSL, the mDNS lookup, getaddrinfo and logging. It
 * never sees a GPIO line, the authorized keys' file or the verifier's decision before the
 * event, and it cannot move a door: only the door half's verifier can.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <poll.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "caps.h"
#include "ha.h"
#include "log.h"
#include "stage.h"
#include "timer.h"
#include "mqtt.h"
#include "channel.h"
#include "nethalf.h"
#include "topic.h"
#include "renew.h"

#define TOPIC_MAX       (CONFIG_PREFIX_MAX + CONFIG_NAME_MAX * 2 + 32)
#define GOODBYE_TIMEOUT 2000U
/* Events waiting for the broker; of the MQTT_INFLIGHT_MAX unacknowledged publishes, events may
 * hold OUT_EVENTS_INFLIGHT, so that a state never waits behind a window full of events. */
#define OUT_EVENTS          64U
#define OUT_EVENTS_INFLIGHT 16U
/* At most one "events_dropped" event this often while events are being dropped. */
#define DROPPED_EVERY_MS 10000U
/* At most one answer to P/D/refresh this often: the request is a few bytes from any controller,
 * the answer every retained topic of the device again. */
#define REFRESH_EVERY_MS 1000U
/* How often the certificate's end is looked at again while connected. */
#define RENEW_CHECK_MS (24U * 3600U * 1000U)

_Static_assert(RENEW_SERIAL_MAX <= sizeof(((struct channel_new_cert *)0)->serial), "serial");
_Static_assert(RENEW_DATE_MAX <= sizeof(((struct channel_new_cert *)0)->not_after), "date");

struct out_event {
	uint32_t len;
	char json[EVENT_MAX];
};

struct nethalf {
	const struct config *cfg;
	struct mqtt *mqtt;
	int chan;
	char availability_topic[TOPIC_MAX];
	char events_topic[TOPIC_MAX];
	char cmd_filter[TOPIC_MAX];
	char ha_cmd_filter[TOPIC_MAX];
	char ha_status_topic[TOPIC_MAX];
	char admin_topic[TOPIC_MAX];
	char enroll_topic[TOPIC_MAX];
	char keys_topic[TOPIC_MAX];
	char csr_topic[TOPIC_MAX];
	char cert_topic[TOPIC_MAX];
	char refresh_topic[TOPIC_MAX];
	char state_topics[CONFIG_MAX_DOORS][TOPIC_MAX];
	bool goodbye;
	/* When the last P/D/refresh was answered (0: never), and when the next one is due
	 * (UINT64_MAX: none asked for). */
	uint64_t refreshed_at, refresh_at;
	/* The outgoing queue (flush_out): retained topics due, with their latest value ... */
	bool availability_due;
	bool state_due[CONFIG_MAX_DOORS];
	char state[CONFIG_MAX_DOORS][sizeof(((struct channel_state *)0)->state)];
	bool discovery_due[CONFIG_MAX_DOORS];
	/* The latest key list from the door half (keys_have: one came), published at every
	 * connect and when a new one comes ... */
	bool keys_have, keys_due;
	uint32_t keys_len;
	char keys[CHANNEL_KEYS_MAX];
	/* ... and the events, a ring; the ones that did not fit since the last report, and when
	 * that was. */
	struct out_event events[OUT_EVENTS];
	size_t ev_head, ev_count;
	uint64_t ev_dropped;
	uint64_t dropped_told_at;
	/* The renewal. This half's certificate's CN, which a new one must carry; whether its pair
	 * is a renewal on trial (until the first connect with it); the key the request on P/D/csr
	 * is for, once the door half has stored it, and that request; a new key (and its request)
	 * sent to the door half and not confirmed yet; what P/D/csr is due to get (the request,
	 * or an empty retained message that clears it); whether a certificate went to the door
	 * half, whose answer is awaited; when the certificate's end is looked at again; whether the
	 * door half installed one (then P/D/csr is cleared and this half exits). */
	char cn[NAMES_CN_MAX + 1];
	bool trial;
	EVP_PKEY *pending;
	char *request;
	size_t request_len;
	EVP_PKEY *making;
	char *making_request;
	size_t making_request_len;
	bool request_due, clear_due;
	bool installing;
	uint64_t renew_check_at;
	bool restart;
};

static struct log_limit dropped_limit = LOG_LIMIT_INIT("events dropped");
static struct log_limit offline_limit = LOG_LIMIT_INIT("'offline' said for us while connected");

static void handle_channel(struct nethalf *n);

/*
 * To the door half. A full channel is back-pressure, not loss: the network half waits for
 * room (and stops reading the broker meanwhile, so a flood queues there), reading what the
 * door half sends in the meantime so that the two never wait on each other.
 */
static void
send_msg(struct nethalf *n, const void *msg, size_t len)
{
	struct pollfd pfd = {.fd = n->chan, .events = POLLIN | POLLOUT};

	while (!n->goodbye) {
		if (channel_send(n->chan, msg, len))
			return;
		if (errno != EAGAIN && errno != EINTR) {
			log_warn("sending to the door half");
			return;
		}
		if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
			log_fatal("poll");
		if (pfd.revents & (POLLIN | POLLHUP))
			handle_channel(n);
	}
}

/* Home Assistant's discovery for every door, due again (at connect, and at its birth message:
 * however often that comes, one publish per door is due at a time). */
static void
publish_discovery(struct nethalf *n)
{
	size_t i;

	if (!n->cfg->ha_discovery)
		return;
	for (i = 0; i < n->cfg->ndoors; i++)
		n->discovery_due[i] = true;
}

/* One door's discovery: 0 published (or cannot be: said), 1 no room now. */
static int
discovery_one(struct nethalf *n, size_t i)
{
	char topic[TOPIC_MAX + CONFIG_PREFIX_MAX], payload[HA_DISCOVERY_MAX];
	const struct config_door *door = &n->cfg->doors[i];
	size_t len;

	len = ha_discovery_payload(payload, sizeof(payload), n->cfg, door);
	if (ha_discovery_topic(topic, sizeof(topic), n->cfg, door) == 0 || len == 0) {
		log_warnx("door %s: the Home Assistant discovery does not fit", door->name);
		return 0;
	}
	return mqtt_publish(n->mqtt, topic, payload, len, true) == 1 ? 1 : 0;
}

/*
 * An event for P/D/events, queued. Not connected, it is not kept (as ever: the door half's log
 * has it); a full queue counts it, and the count is published later (flush_out).
 */
static void
queue_event(struct nethalf *n, const char *json, size_t len)
{
	struct out_event *e;

	if (!mqtt_connected(n->mqtt) || len >= EVENT_MAX)
		return;
	if (n->ev_count == OUT_EVENTS) {
		if (n->ev_dropped++ == 0)
			log_warnx_limited(&dropped_limit,
			                  "the broker takes events slower than they come: "
			                  "dropping and counting them (states are never dropped)");
		return;
	}
	e = &n->events[(n->ev_head + n->ev_count++) % OUT_EVENTS];
	e->len = (uint32_t)len;
	memcpy(e->json, json, len);
}

/* How many events were dropped, as an event, once the queue has room again. */
static void
queue_dropped_event(struct nethalf *n, uint64_t now)
{
	char ev[EVENT_MAX], msg[256];
	size_t len;

	if (n->ev_dropped == 0 || n->ev_count > OUT_EVENTS / 2 ||
	    (n->dropped_told_at != 0 && now < n->dropped_told_at + DROPPED_EVERY_MS))
		return;
	snprintf(msg, sizeof(msg),
	         "%llu events were not published: they came faster than they could go out "
	         "(the device's log has every one)",
	         (unsigned long long)n->ev_dropped);
	len = event_note(ev, sizeof(ev), (int64_t)time(NULL), "events_dropped", NULL, msg);
	if (len == 0)
		return;
	log_info("event %s", ev);
	n->ev_dropped = 0;
	n->dropped_told_at = now;
	queue_event(n, ev, len);
}

/*
 * Everything due, in order of importance, while the broker has room for it: availability,
 * each door's latest state, the key list, discovery, then the events in the order they came
 * (so a keys event follows the list it changed).
 */
static void
flush_out(struct nethalf *n)
{
	struct out_event *e;
	size_t i;

	if (!mqtt_connected(n->mqtt))
		return;
	/* A refresh asked for (refresh()): every retained topic again, from what this half holds.
	 */
	if (timer_now_ms() >= n->refresh_at) {
		n->refreshed_at = timer_now_ms();
		n->refresh_at = UINT64_MAX;
		n->availability_due = true;
		for (i = 0; i < n->cfg->ndoors; i++)
			if (n->state[i][0] != '\0')
				n->state_due[i] = true;
		n->keys_due = n->keys_have;
	}
	/* First, and whatever the broker's room: it only takes a place in the queue. */
	queue_dropped_event(n, timer_now_ms());
	if (n->availability_due &&
	    mqtt_publish(n->mqtt, n->availability_topic, "online", strlen("online"), true) == 1)
		return;
	n->availability_due = false;
	for (i = 0; i < n->cfg->ndoors; i++) {
		if (n->state_due[i] && mqtt_publish(n->mqtt, n->state_topics[i], n->state[i],
		                                    strlen(n->state[i]), true) == 1)
			return;
		n->state_due[i] = false;
	}
	if (n->keys_due && mqtt_publish(n->mqtt, n->keys_topic, n->keys, n->keys_len, true) == 1)
		return;
	n->keys_due = false;
	/* The renewal's request, retained (an empty message clears one: first, when both). */
	if (n->clear_due && mqtt_publish(n->mqtt, n->csr_topic, "", 0, true) == 1)
		return;
	n->clear_due = false;
	if (n->request_due && n->request != NULL &&
	    mqtt_publish(n->mqtt, n->csr_topic, n->request, n->request_len, true) == 1)
		return;
	n->request_due = false;
	for (i = 0; i < n->cfg->ndoors; i++) {
		if (n->discovery_due[i] && discovery_one(n, i) == 1)
			return;
		n->discovery_due[i] = false;
	}
	while (n->ev_count > 0 && mqtt_inflight(n->mqtt) < OUT_EVENTS_INFLIGHT) {
		e = &n->events[n->ev_head];
		if (mqtt_publish(n->mqtt, n->events_topic, e->json, e->len, false) == 1)
			return;
		n->ev_head = (n->ev_head + 1) % OUT_EVENTS;
		n->ev_count--;
	}
}

/*
 * When flush_out() has something to do that no message will bring: a refresh held back, a
 * dropped count to say. Not while it waits for the broker (disconnected, or for the count the
 * queue too full to take it): an acknowledgement or a new session brings flush_out() then.
 */
static uint64_t
out_deadline(const struct nethalf *n)
{
	uint64_t d = n->refresh_at;

	if (!mqtt_connected(n->mqtt))
		return UINT64_MAX;
	if (n->ev_dropped != 0 && n->dropped_told_at != 0 && n->ev_count <= OUT_EVENTS / 2 &&
	    n->dropped_told_at + DROPPED_EVERY_MS < d)
		d = n->dropped_told_at + DROPPED_EVERY_MS;
	return d;
}

/* A device certificate close to its end: said on the audit trail at every connect. */
static void
publish_cert_warning(struct nethalf *n)
{
	char ev[EVENT_MAX], msg[2 * CONFIG_PATH_MAX + 256];
	int days = mqtt_cert_days_left(n->mqtt);
	size_t len;

	if (days >= MQTT_CERT_WARN_DAYS)
		return;
	if (n->cfg->renew_before_days > 0 && (uint32_t)days < n->cfg->renew_before_days)
		snprintf(msg, sizeof(msg),
		         "the device certificate %s expires in %d day(s); garaged asks for a new "
		         "one on %s (renew_before_days = %u): garagectl pki sign-requests signs it",
		         n->cfg->certfile, days, n->csr_topic, n->cfg->renew_before_days);
	else
		snprintf(
		    msg, sizeof(msg),
		    "the device certificate %s expires in %d day(s); ask for a renewal (garagectl "
		    "renew, then garagectl pki sign-requests), or issue a new one (garagectl pki "
		    "issue --client ... --force) and restart garaged",
		    n->cfg->certfile, days);
	len = event_note(ev, sizeof(ev), (int64_t)time(NULL), "certificate", NULL, msg);
	if (len == 0)
		return;
	log_info("event %s", ev);
	queue_event(n, ev, len);
}

/* One renewal event (event_renewal()), in the log and on P/D/events. */
static void
renewal_event(struct nethalf *n, const char *step, const char *trigger,
              const struct renew_cert_info *info, const char *reason, const char *message)
{
	char ev[EVENT_MAX];
	size_t len;

	len = event_renewal(ev, sizeof(ev), (int64_t)time(NULL), step, trigger,
	                    info != NULL ? info->serial : NULL,
	                    info != NULL ? info->not_after : NULL, reason, message);
	if (len == 0)
		return;
	log_info("event %s", ev);
	queue_event(n, ev, len);
}

static SSL_CTX *
ssl_ctx(const struct nethalf *n)
{
	return mqtt_ssl_ctx(n->mqtt);
}

static void
forget_making(struct nethalf *n)
{
	EVP_PKEY_free(n->making);
	free(n->making_request);
	n->making = NULL;
	n->making_request = NULL;
	n->making_request_len = 0;
}

/*
 * A renewal asked for (TRIGGER): a new key of the current one's kind and its request, the key
 * to the door half. The request goes out once the door half says it has the key
 * (CHANNEL_RENEWAL_STORED): a certificate for a key the device lost would be worth nothing.
 */
static void
renewal_start(struct nethalf *n, enum channel_trigger trigger)
{
	static struct channel_new_key m; /* 8 KiB: off the stack */
	const char *word = trigger == CHANNEL_TRIGGER_ADMIN ? "admin" : "expiry";
	char err[256], *pem = NULL;
	size_t pemlen = 0;
	EVP_PKEY *key;

	if (n->making != NULL || n->installing) {
		log_info("renewal (%s): one is already under way", word);
		return;
	}
	key = renew_new_key(SSL_CTX_get0_privatekey(ssl_ctx(n)), err, sizeof(err));
	if (key != NULL &&
	    renew_request_make(key, SSL_CTX_get0_certificate(ssl_ctx(n)),
	                       SSL_CTX_get0_privatekey(ssl_ctx(n)), &n->making_request,
	                       &n->making_request_len, err, sizeof(err)) != 0) {
		EVP_PKEY_free(key);
		key = NULL;
	}
	if (key != NULL && (renew_key_pem(key, &pem, &pemlen) != 0 || pemlen >= CHANNEL_PEM_MAX)) {
		snprintf(err, sizeof(err),
		         "cannot pass on the new key: its PEM is not %u bytes or "
		         "less",
		         CHANNEL_PEM_MAX - 1);
		renew_secret_free(pem, pemlen);
		forget_making(n);
		EVP_PKEY_free(key);
		key = NULL;
	}
	if (key == NULL) {
		log_warnx("renewal (%s): %s", word, err);
		renewal_event(n, "failed", word, NULL, "keygen_failed", err);
		return;
	}
	n->making = key;
	memset(&m, 0, sizeof(m));
	m.hdr.type = CHANNEL_NEW_KEY;
	m.hdr.len = sizeof(m);
	m.trigger = (uint32_t)trigger;
	m.len = (uint32_t)pemlen;
	memcpy(m.pem, pem, pemlen);
	renew_secret_free(pem, pemlen);
	log_info("renewal (%s): made a new key; the door half keeps it", word);
	send_msg(n, &m, sizeof(m));
	OPENSSL_cleanse(&m, sizeof(m));
}

/* At every connect and once a day: is the certificate within renew_before_days of its end? */
static void
renewal_due(struct nethalf *n)
{
	int days = mqtt_cert_days_left(n->mqtt);

	n->renew_check_at = timer_now_ms() + RENEW_CHECK_MS;
	if (n->cfg->renew_before_days == 0 || n->trial || n->pending != NULL || n->making != NULL ||
	    n->installing || days >= (int)n->cfg->renew_before_days)
		return;
	log_info("the certificate expires in %d day(s), within renew_before_days = %u: asking for "
	         "a new one",
	         days, n->cfg->renew_before_days);
	renewal_start(n, CHANNEL_TRIGGER_EXPIRY);
}

/*
 * The door half's answer to a new key (STORED or LOST) or to a certificate (INSTALLED or
 * NOT_INSTALLED), or an admin's renew (START).
 */
static void
renewal_step(struct nethalf *n, enum channel_renewal_op op)
{
	switch (op) {
	case CHANNEL_RENEWAL_START:
		renewal_start(n, CHANNEL_TRIGGER_ADMIN);
		break;
	case CHANNEL_RENEWAL_STORED:
		if (n->making == NULL)
			break;
		EVP_PKEY_free(n->pending);
		free(n->request);
		n->pending = n->making;
		n->request = n->making_request;
		n->request_len = n->making_request_len;
		n->making = NULL;
		n->making_request = NULL;
		n->request_due = true;
		log_info("renewal: the new key is stored; its request goes to %s", n->csr_topic);
		break;
	case CHANNEL_RENEWAL_LOST:
		forget_making(n);
		break;
	case CHANNEL_RENEWAL_INSTALLED:
		/* The next network half connects with the new pair; this one clears the request
		 * on its way out. */
		n->restart = true;
		n->goodbye = true;
		break;
	case CHANNEL_RENEWAL_NOT_INSTALLED:
	default:
		n->installing = false;
		break;
	}
}

/*
 * A message on P/D/cert: judged whole here, where OpenSSL is; a good certificate goes to the
 * door half as PEM made again from what was parsed, never the bytes as they came.
 */
static void
renewal_certificate(struct nethalf *n, const void *payload, size_t len)
{
	static struct channel_new_cert m; /* 8 KiB: off the stack */
	struct renew_cert_info info;
	char msg[RENEW_MSG_MAX], *pem = NULL;
	enum renew_reason r;
	size_t pemlen = 0;
	X509 *x = NULL;

	r = renew_cert_check(payload, len, SSL_CTX_get_cert_store(ssl_ctx(n)),
	                     n->installing ? NULL : n->pending, n->cn, (int64_t)time(NULL), &x,
	                     &info, msg, sizeof(msg));
	if (r == RENEW_OK && (renew_cert_pem(x, &pem, &pemlen) != 0 || pemlen >= CHANNEL_PEM_MAX)) {
		r = RENEW_TOO_LARGE;
		snprintf(msg, sizeof(msg), "the certificate's PEM is larger than %u bytes",
		         CHANNEL_PEM_MAX - 1);
	}
	X509_free(x);
	if (r != RENEW_OK) {
		log_warnx("renewal: refused a certificate on %s (%s): %s", n->cert_topic,
		          renew_reason_name(r), msg);
		renewal_event(n, "refused", NULL, &info, renew_reason_name(r), msg);
		free(pem);
		return;
	}
	memset(&m, 0, sizeof(m));
	m.hdr.type = CHANNEL_NEW_CERT;
	m.hdr.len = sizeof(m);
	m.len = (uint32_t)pemlen;
	memcpy(m.serial, info.serial, sizeof(info.serial));
	memcpy(m.not_after, info.not_after, sizeof(info.not_after));
	memcpy(m.pem, pem, pemlen);
	free(pem);
	n->installing = true;
	log_info(
	    "renewal: certificate serial %s, valid until %s, passed every check: installing it",
	    info.serial, info.not_after);
	renewal_event(n, "accepted", NULL, &info, NULL,
	              "installing it: garaged connects with the new pair next");
	send_msg(n, &m, sizeof(m));
}

/* The pending key is never encrypted (the door half wrote it): never ask a terminal for a
 * passphrase, whatever the file says. */
static int
no_passphrase(char *buf, int size, int rwflag, void *arg)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)arg;
	return -1;
}

/*
 * Before the privileges go: the key of a renewal asked for before this half started (the door
 * half keeps it in state_dir, readable by its own user only), and its request, to publish
 * again at every connect until it is answered.
 */
static void
renewal_load(struct nethalf *n)
{
	char path[CONFIG_PATH_MAX + sizeof(CHANNEL_PENDING_KEY_FILE) + 1], err[256];
	static char buf[CHANNEL_PEM_MAX];
	struct stat st;
	ssize_t len = -1;
	BIO *bio;
	int fd;

	if (renew_cn(X509_get_subject_name(SSL_CTX_get0_certificate(ssl_ctx(n))), n->cn,
	             sizeof(n->cn)) != 0)
		log_warnx("the certificate %s has no single usable CN: a renewed one could not be "
		          "checked, so none will be accepted",
		          n->cfg->certfile);
	/*
	 * A renewed pair from state_dir is judged again, by this half before it reads a byte from
	 * the network: the half that passed it to the door half may have been taken over, and a
	 * broker that lets anything in would have it promoted. One that does not chain to cafile
	 * for client authentication is not used (exit 78: the door half gives it up once the pair
	 * before it starts).
	 */
	snprintf(path, sizeof(path), "%s/%s", n->cfg->state_dir, CHANNEL_RENEWED_PAIR_FILE);
	if ((n->trial || strcmp(n->cfg->certfile, path) == 0) &&
	    renew_chain_check(SSL_CTX_get_cert_store(ssl_ctx(n)),
	                      SSL_CTX_get0_certificate(ssl_ctx(n)), err, sizeof(err)) != RENEW_OK) {
		log_warnx("the renewed pair %s is not used: %s", n->cfg->certfile, err);
		_exit(CHANNEL_EXIT_FATAL);
	}
	if (n->trial)
		return;
	snprintf(path, sizeof(path), "%s/%s", n->cfg->state_dir, CHANNEL_PENDING_KEY_FILE);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
	    st.st_size < (off_t)sizeof(buf))
		len = read(fd, buf, sizeof(buf));
	close(fd);
	bio = len > 0 ? BIO_new_mem_buf(buf, (int)len) : NULL;
	if (bio != NULL)
		n->pending = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	BIO_free(bio);
	OPENSSL_cleanse(buf, sizeof(buf));
	if (n->pending != NULL &&
	    renew_request_make(n->pending, SSL_CTX_get0_certificate(ssl_ctx(n)),
	                       SSL_CTX_get0_privatekey(ssl_ctx(n)), &n->request, &n->request_len,
	                       err, sizeof(err)) != 0) {
		EVP_PKEY_free(n->pending);
		n->pending = NULL;
	}
	if (n->pending == NULL) {
		log_warnx("%s is not a key a request can be made for: ignored (the next renewal "
		          "replaces it)",
		          path);
		return;
	}
	log_info("renewal: a request is pending (%s); it goes to %s again at connect", path,
	         n->csr_topic);
}

/* An attempt failed: on trial with a renewed pair, the door half counts the broker's no's. */
static void
on_failed(void *arg, const char *why, bool ours)
{
	struct nethalf *n = arg;
	static struct channel_connect_failed m;

	if (!n->trial || !ours)
		return;
	memset(&m, 0, sizeof(m));
	m.hdr.type = CHANNEL_CONNECT_FAILED;
	m.hdr.len = sizeof(m);
	snprintf(m.why, sizeof(m.why), "%s", why);
	send_msg(n, &m, sizeof(m));
}

/* Which broker this session is with: on the audit trail at every connect. */
static void
publish_broker(struct nethalf *n)
{
	char ev[EVENT_MAX], msg[CONFIG_HOST_MAX + 160];
	size_t i, count, len;
	const struct config_broker *b = mqtt_broker(n->mqtt, &i, &count);

	if (count == 1)
		snprintf(msg, sizeof(msg), "connected to the broker");
	else if (i == 0)
		snprintf(msg, sizeof(msg), "connected to the preferred broker");
	else
		snprintf(msg, sizeof(msg),
		         "connected to broker %zu of %zu; a better one is probed every %u s", i + 1,
		         count, (unsigned)n->cfg->failback_s);
	len = event_broker(ev, sizeof(ev), (int64_t)time(NULL), b->host, b->port, (unsigned)i + 1,
	                   (unsigned)count, msg);
	if (len == 0)
		return;
	log_info("event %s", ev);
	queue_event(n, ev, len);
}

static void
on_connected(void *arg)
{
	struct nethalf *n = arg;
	const struct channel_bare m = {.hdr = {CHANNEL_CONNECTED, sizeof(m)}};

	n->availability_due = true;
	/* The key list it has (the door half sends it when this half starts and on a change). */
	n->keys_due = n->keys_have;
	/* The door half answers with every door's retained state. */
	send_msg(n, &m, sizeof(m));
	publish_discovery(n);
	publish_broker(n);
	publish_cert_warning(n);
	if (n->trial) {
		/* The renewed pair works: the door half keeps it (CONNECTED, above); the request
		 * it answered is cleared, should the last half not have done it. */
		struct renew_cert_info info;
		char msg[CONFIG_PATH_MAX + 96];

		n->trial = false;
		n->clear_due = true;
		renew_cert_info(SSL_CTX_get0_certificate(ssl_ctx(n)), &info);
		snprintf(msg, sizeof(msg), "connected with the renewed certificate %s",
		         n->cfg->certfile);
		renewal_event(n, "installed", NULL, &info, NULL, msg);
	}
	n->request_due = n->pending != NULL;
	renewal_due(n);
	flush_out(n);
	/* The commands first: tests and the log count that subscription as "listening". */
	mqtt_subscribe(n->mqtt, n->cmd_filter);
	mqtt_subscribe(n->mqtt, n->admin_topic);
	mqtt_subscribe(n->mqtt, n->enroll_topic);
	mqtt_subscribe(n->mqtt, n->cert_topic);
	mqtt_subscribe(n->mqtt, n->refresh_topic);
	if (n->cfg->ha_commands == CONFIG_HA_COMMANDS_UNSIGNED)
		mqtt_subscribe(n->mqtt, n->ha_cmd_filter);
	if (n->cfg->ha_discovery)
		mqtt_subscribe(n->mqtt, n->ha_status_topic);
	/* Our own availability: with two bridged brokers, the one garaged left may publish its
	 * will late, and the bridge brings that "offline" here (on_message()). Only with several
	 * brokers: a broker whose ACL refuses it may end the session for it (RabbitMQ does). */
	if (n->cfg->nbrokers > 1)
		mqtt_subscribe(n->mqtt, n->availability_topic);
}

static void
forward_command(struct nethalf *n, enum channel_topic kind, const char *door, const void *payload,
                size_t len, bool retained)
{
	struct channel_command m;

	memset(&m, 0, sizeof(m));
	m.hdr.type = CHANNEL_COMMAND;
	m.hdr.len = sizeof(m);
	m.topic = (uint8_t)kind;
	m.retained = retained ? 1 : 0;
	m.len = (uint16_t)(len < CHANNEL_PAYLOAD_MAX ? len : CHANNEL_PAYLOAD_MAX);
	snprintf(m.door, sizeof(m.door), "%s", door);
	if (m.len > 0) /* an empty message comes with a NULL payload */
		memcpy(m.payload, payload, m.len);
	/* Before the send: the door half may run, and press, before this process runs again. */
	stage_mark(STAGE_CHANNEL_SENT);
	send_msg(n, &m, sizeof(m));
}

/*
 * A controller asks for the device's retained topics (P/D/refresh): availability, each door's
 * state and the key list are published again, retained, from what this half holds (flush_out).
 * For brokers that do not hand a subscriber every retained message: RabbitMQ keeps one on the
 * node it came through and delivers it only to a subscription to its exact topic
 * (docs/brokers.md). Nothing here is new information, so the request needs no signature. It is
 * not retained (one that were would be answered at every connect), nor answered once the device
 * says goodbye, and answered at most once per REFRESH_EVERY_MS: requests closer than that are
 * answered together, when the time comes.
 */
static void
refresh(struct nethalf *n, bool retained)
{
	uint64_t now = timer_now_ms();

	if (retained) {
		log_debug("ignored a retained refresh request");
		return;
	}
	/* Saying goodbye: mqtt_goodbye() reads the socket until "offline" is acknowledged, and an
	 * answer now would publish "online" after it, which the broker would keep (a clean
	 * DISCONNECT sends no will) for a device that has stopped. */
	if (n->goodbye) {
		log_debug("ignored a refresh request: going offline");
		return;
	}
	if (n->refresh_at == UINT64_MAX)
		n->refresh_at = n->refreshed_at != 0 && now - n->refreshed_at < REFRESH_EVERY_MS
		                    ? n->refreshed_at + REFRESH_EVERY_MS
		                    : now;
	flush_out(n);
}

static void
on_message(void *arg, const char *topic, const void *payload, size_t len, bool retained)
{
	struct nethalf *n = arg;
	char door[CMD_NAME_MAX + 2];

	stage_mark(STAGE_ON_MESSAGE);
	if (topic_door(topic, n->cfg->topic_prefix, n->cfg->device_id, "cmd", door, sizeof(door))) {
		forward_command(n, CHANNEL_TOPIC_CMD, door, payload, len, retained);
		stage_end();
	} else if (strcmp(topic, n->admin_topic) == 0)
		forward_command(n, CHANNEL_TOPIC_ADMIN, "", payload, len, retained);
	else if (strcmp(topic, n->enroll_topic) == 0)
		forward_command(n, CHANNEL_TOPIC_ENROLL, "", payload, len, retained);
	else if (strcmp(topic, n->cert_topic) == 0)
		renewal_certificate(n, payload, len);
	else if (strcmp(topic, n->refresh_topic) == 0)
		refresh(n, retained);
	else if (n->cfg->ha_commands == CONFIG_HA_COMMANDS_UNSIGNED &&
	         topic_door(topic, n->cfg->topic_prefix, n->cfg->device_id, "ha_cmd", door,
	                    sizeof(door)))
		forward_command(n, CHANNEL_TOPIC_HA_CMD, door, payload, len, retained);
	else if (strcmp(topic, n->availability_topic) == 0 && len == strlen("offline") &&
	         memcmp(payload, "offline", len) == 0 && !n->goodbye) {
		/* Not ours (we are connected and not leaving): the will of a session on a broker we
		 * left, published when that broker noticed, which may be after we said "online"
		 * here. The truth is said again; a retained "online" ends it. */
		log_warnx_limited(&offline_limit,
		                  "%s says 'offline' while this device is connected (the will of "
		                  "an earlier session, through a bridge?): 'online' again",
		                  topic);
		n->availability_due = true;
	} else if (strcmp(topic, n->ha_status_topic) == 0 && len == strlen("online") &&
	           memcmp(payload, "online", len) == 0)
		/* Home Assistant (re)started and announced itself: tell it about us again. */
		publish_discovery(n);
	else
		log_debug("ignored a %zu-byte message on %s", len, topic);
}

/* One packet from the door half. It is trusted (it is our parent), but checked all the same:
 * a mismatch is a bug, and a bug here must not publish garbage. */
static void
handle_channel(struct nethalf *n)
{
	union channel_msg m;
	const struct channel_limits lim = {.ndoors = (uint32_t)n->cfg->ndoors};
	const char *why;
	ssize_t r;

again:
	r = channel_recv(n->chan, &m);
	if (r < 0) {
		if (errno != EAGAIN && errno != EINTR)
			log_fatal("the channel");
		/* All read: out with what it made due. */
		flush_out(n);
		return;
	}
	if (r == 0) {
		/* The door half is gone: the device is offline. */
		log_warnx("the door half has gone; going offline");
		n->goodbye = true;
		return;
	}
	switch (channel_check(&m, (size_t)r, CHANNEL_FROM_DOOR, &lim, &why)) {
	case CHANNEL_STATE:
		/* The latest wins: one that has not gone out yet is replaced. */
		memcpy(n->state[m.state.door], m.state.state, sizeof(n->state[0]));
		n->state_due[m.state.door] = true;
		break;
	case CHANNEL_EVENT:
		n->ev_dropped += m.event.dropped;
		if (m.event.len > 0)
			queue_event(n, m.event.json, m.event.len);
		break;
	case CHANNEL_GOODBYE:
		n->goodbye = true;
		break;
	case CHANNEL_KEYS:
		/* The latest wins, as for a state. */
		memcpy(n->keys, m.keys.json, m.keys.len);
		n->keys_len = m.keys.len;
		n->keys_have = true;
		n->keys_due = true;
		break;
	case CHANNEL_RENEWAL:
		renewal_step(n, (enum channel_renewal_op)m.renewal.op);
		break;
	case CHANNEL_START:
		log_fatalx("the door half sent START again");
	default:
		log_fatalx("the door half sent %s (%zd bytes, type %u)", why, r, m.hdr.type);
	}
	if (!n->goodbye)
		goto again; /* everything queued: the door half's sends never block */
}

#ifdef GARAGED_TEST_HOOKS
/*
 * Test builds only: GARAGED_TEST_INJECT=FILE sends FILE's bytes as one channel message after
 * each connect, so that the tests can play a network half that is no longer ours.
 */
static void
test_inject(struct nethalf *n, const char *path)
{
	static unsigned char buf[CHANNEL_MSG_MAX]; /* the largest message: a NEW_CERT too */
	ssize_t len;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		log_warn("GARAGED_TEST_INJECT %s", path);
		return;
	}
	len = read(fd, buf, sizeof(buf));
	close(fd);
	if (len < 0)
		return;
	log_warnx("test hook: injecting %zd bytes from %s into the channel", len, path);
	send_msg(n, buf, (size_t)len);
}

/*
 * Test builds only: GARAGED_TEST_SYSCALL=WHAT makes, once the filter is on, a call that a
 * network half taken over might try, so that the tests see what the filter does with it:
 * "unix-stream" (refused with EACCES, and the half goes on), "packet", "netlink-audit" and
 * "ioctl" (each kills it with SIGSYS).
 */
static void
test_syscall(const char *what)
{
	int fd = -1;

	if (strcmp(what, "unix-stream") == 0)
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
	else if (strcmp(what, "packet") == 0)
		fd = socket(AF_PACKET, SOCK_RAW, 0);
	else if (strcmp(what, "netlink-audit") == 0)
		fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_AUDIT);
	else if (strcmp(what, "ioctl") == 0)
		fd = ioctl(STDERR_FILENO, TIOCSTI, "x");
	log_warnx("test hook: %s: %d (%s)", what, fd, fd < 0 ? strerror(errno) : "allowed");
	if (fd >= 0 && strcmp(what, "ioctl") != 0)
		close(fd);
}
#endif

/* The system calls the network half may make, checked at run time by the kernel. */
static const char *const allowed_syscalls[] = {
    /* memory, time, identity, exit */
    "brk",
    "mmap",
    "munmap",
    "mremap",
    "mprotect",
    "madvise",
    "futex",
    "clock_gettime",
    "clock_nanosleep",
    "nanosleep",
    "gettimeofday",
    "time",
    "getpid",
    "gettid",
    "getppid",
    "getuid",
    "geteuid",
    "getgid",
    "getegid",
    "getrandom",
    "exit",
    "exit_group",
    "rt_sigreturn",
    "rt_sigprocmask",
    "restart_syscall",
    "sysinfo",
    "uname",
    "sched_getaffinity",
    "sched_yield",
    /* descriptors: the channel, the broker socket, /etc files */
    "read",
    "write",
    "readv",
    "writev",
    "pread64",
    "close",
    "fstat",
    "newfstatat",
    "fstatat64",
    "stat",
    "lstat",
    "statx",
    "lseek",
    "_llseek",
    "fcntl",
    "fcntl64",
    "poll",
    "ppoll",
    "select",
    "pselect6",
    "faccessat",
    "faccessat2",
    "access",
    /* sockets: TCP to the broker (and a failback probe of a better one), UDP for mDNS and DNS,
     * netlink for getifaddrs, the log; socket(), connect() and ioctl() only with the arguments of
     * add_socket_rules() */
    "bind",
    "getsockopt",
    "setsockopt",
    "getsockname",
    "getpeername",
    "sendto",
    "recvfrom",
    "sendmsg",
    "recvmsg",
    "sendmmsg",
    "recvmmsg",
    "shutdown",
#ifdef GARAGED_SANITIZE
    /* AddressSanitizer and UBSan at a report: an alternate signal stack, /proc/self/maps,
     * the dumpable flag; never in a release build. */
    "sigaltstack",
    "prctl",
    "readlink",
    "readlinkat",
    "getdents64",
    "rt_sigaction",
    "tgkill",
    "sched_getaffinity",
#endif
};

/* Files may be opened for reading only (getaddrinfo reads /etc/hosts, resolv.conf, ...). */
static int
add_open_rules(scmp_filter_ctx ctx)
{
	int rc;

	rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
	                      SCMP_A2(SCMP_CMP_MASKED_EQ, O_ACCMODE | O_CREAT | O_TRUNC, O_RDONLY));
	if (rc == 0 && seccomp_syscall_resolve_name("open") >= 0)
		rc = seccomp_rule_add(
		    ctx, SCMP_ACT_ALLOW, seccomp_syscall_resolve_name("open"), 1,
		    SCMP_A1(SCMP_CMP_MASKED_EQ, O_ACCMODE | O_CREAT | O_TRUNC, O_RDONLY));
	return rc;
}

/*
 * socket(), connect() and ioctl(), narrowed to what TLS, MQTT, DNS, mDNS and the log use:
 * - socket(): TCP or UDP over IPv4 or IPv6, a NETLINK_ROUTE socket (getifaddrs, for the mDNS
 *   interfaces), a Unix datagram socket (syslog when not in the foreground). A Unix stream
 *   socket fails with EACCES rather than killing: glibc's resolver tries nscd's and does
 *   without it. No raw or packet socket, no other family.
 * - connect(): the address is behind a pointer, which seccomp cannot read; its length can be
 *   checked: an IPv4, IPv6 or Unix socket address (the families socket() allows).
 * - ioctl(): the few requests a socket or stdio makes (bytes waiting, non-blocking mode, an
 *   interface's index or name, "is this a terminal").
 */
static int
add_socket_rules(scmp_filter_ctx ctx)
{
	static const struct {
		int domain, type;
	} sockets[] = {
	    {AF_INET, SOCK_STREAM}, {AF_INET, SOCK_DGRAM}, {AF_INET6, SOCK_STREAM},
	    {AF_INET6, SOCK_DGRAM}, {AF_UNIX, SOCK_DGRAM},
	};
	static const scmp_datum_t addrlens[] = {
	    sizeof(struct sockaddr_in), sizeof(struct sockaddr_in6), sizeof(struct sockaddr_un)};
	static const unsigned long ioctls[] = {FIONREAD, FIONBIO, SIOCGIFINDEX, SIOCGIFNAME,
	                                       TCGETS};
	/* SOCK_CLOEXEC and SOCK_NONBLOCK ride in the type argument: compare the type alone. */
	const scmp_datum_t type_mask = 0xf;
	size_t i;
	int rc = 0;

	for (i = 0; rc == 0 && i < sizeof(sockets) / sizeof(sockets[0]); i++)
		rc = seccomp_rule_add(
		    ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 2,
		    SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)sockets[i].domain),
		    SCMP_A1(SCMP_CMP_MASKED_EQ, type_mask, (scmp_datum_t)sockets[i].type));
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 3,
		                      SCMP_A0(SCMP_CMP_EQ, AF_NETLINK),
		                      SCMP_A1(SCMP_CMP_MASKED_EQ, type_mask, SOCK_RAW),
		                      SCMP_A2(SCMP_CMP_EQ, NETLINK_ROUTE));
	for (i = 0; rc == 0 && i < sizeof(addrlens) / sizeof(addrlens[0]); i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(connect), 1,
		                      SCMP_A2(SCMP_CMP_EQ, addrlens[i]));
	for (i = 0; rc == 0 && i < sizeof(ioctls) / sizeof(ioctls[0]); i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
		                      SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)ioctls[i]));
	/* glibc's resolver asks nscd first, over a Unix stream socket: refused, it does without.
	 * Every other socket(), connect() or ioctl() kills, like any call outside the filter. */
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(socket), 2,
		                      SCMP_A0(SCMP_CMP_EQ, AF_UNIX),
		                      SCMP_A1(SCMP_CMP_MASKED_EQ, type_mask, SOCK_STREAM));
	return rc;
}

/*
 * The filter's default is to kill the process: a network half that tries anything else is
 * compromised or broken, and the door half sees SIGSYS, says so in the log and starts a new
 * one. Sanitizer builds allow the few calls their reports need instead of weakening that.
 */
static bool
sandbox(void)
{
	scmp_filter_ctx ctx;
	size_t i;
	int nr, rc = 0;

	/* no_new_privs is already set, for the first filter (refuse_wakeup_pair()). */
#ifdef RUNNING_ON_VALGRIND
	/* Valgrind cannot run a seccomp filter (it refuses the system call): the memory checks
	 * of test-valgrind run without it. Nobody runs the device under valgrind. */
	if (RUNNING_ON_VALGRIND) {
		log_warnx("under valgrind, which cannot run seccomp: no filter");
		return false;
	}
#endif
	ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (ctx == NULL)
		log_fatalx("seccomp_init failed");
	for (i = 0; rc == 0 && i < sizeof(allowed_syscalls) / sizeof(allowed_syscalls[0]); i++) {
		nr = seccomp_syscall_resolve_name(allowed_syscalls[i]);
		if (nr == __NR_SCMP_ERROR)
			continue; /* not a system call on this architecture */
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
	}
	if (rc == 0)
		rc = add_open_rules(ctx);
	if (rc == 0)
		rc = add_socket_rules(ctx);
	if (rc == 0)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc != 0)
		log_fatalx("the seccomp filter: %s", strerror(-rc));
	return true;
}

/*
 * libmosquitto 2.0 makes a Unix socketpair in mosquitto_new() only to wake its own threaded
 * loop (mosquitto_loop_start), which garaged never runs, and then writes a byte into it for
 * every packet it queues: a system call more per keepalive while the door idles and one more
 * before every command's PUBACK, on the way to the relay, for bytes nobody reads. Refused that
 * socketpair, it goes without (mosquitto.c: "outgoing publish commands may be delayed", true
 * of the threaded loop only). A filter of its own, before the client is made; the sandbox's
 * comes later, after the secrets are read and the user changed (test-idle-wakeups.sh).
 */
static void
refuse_wakeup_pair(void)
{
	scmp_filter_ctx ctx;
	int rc;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		log_fatal("PR_SET_NO_NEW_PRIVS");
#ifdef RUNNING_ON_VALGRIND
	if (RUNNING_ON_VALGRIND)
		return; /* valgrind refuses seccomp filters: see sandbox() */
#endif
	ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (ctx == NULL)
		log_fatalx("seccomp_init failed");
	rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(socketpair), 0);
	if (rc == 0)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc != 0)
		log_fatalx("the socketpair filter: %s", strerror(-rc));
}

static void
drop_privileges(const struct config *cfg, bool drop, uid_t uid, gid_t gid)
{
	char err[CONFIG_ERROR_MAX];

	/* Not root, the change of user needs CAP_SETUID and CAP_SETGID effective (the door
	 * half keeps them permitted only), and it does not clear them: that is done below. */
	if (drop && geteuid() != 0 && caps_raise_setuid(err, sizeof(err)) != 0) {
		log_warnx("%s", err);
		_exit(CHANNEL_EXIT_FATAL);
	}
	if (drop && (setgroups(1, &gid) != 0 || setresgid(gid, gid, gid) != 0 ||
	             setresuid(uid, uid, uid) != 0)) {
		log_warn("becoming user %s", cfg->user);
		_exit(CHANNEL_EXIT_FATAL);
	}
	if (caps_drop_all(err, sizeof(err)) != 0) {
		log_warnx("%s", err);
		_exit(CHANNEL_EXIT_FATAL);
	}
	/* Root and every capability must be gone for good: a way back would undo the whole
	 * separation. */
	if (!caps_none_left())
		log_fatalx("capabilities are left after dropping them");
	if (drop && setresuid(0, 0, 0) == 0)
		log_fatalx("could become root again after dropping to %s", cfg->user);
}

_Noreturn void
nethalf_main(const struct config *cfg, int channel, bool drop, uid_t uid, gid_t gid, bool trial)
{
	static struct nethalf n;
	const struct mqtt_callbacks cb = {
	    .connected = on_connected, .message = on_message, .failed = on_failed};
	const struct channel_bare running = {.hdr = {CHANNEL_RUNNING, sizeof(running)}};
	pid_t parent;
	bool filtered, pending;
	char err[CONFIG_ERROR_MAX];
	struct pollfd pfd[4];
	uint64_t deadline;
	size_t i;
	int mfd;
#ifdef GARAGED_TEST_HOOKS
	const char *inject = getenv("GARAGED_TEST_INJECT");
	bool was_connected = false;
#endif

	/* From here on every line says it comes from this process. */
	log_set_process("net");
	parent = getppid();
	n.cfg = cfg;
	n.chan = channel;
	n.trial = trial;
	n.renew_check_at = UINT64_MAX;
	n.refresh_at = UINT64_MAX;
	snprintf(n.availability_topic, sizeof(n.availability_topic), "%s/%s/availability",
	         cfg->topic_prefix, cfg->device_id);
	snprintf(n.events_topic, sizeof(n.events_topic), "%s/%s/events", cfg->topic_prefix,
	         cfg->device_id);
	snprintf(n.cmd_filter, sizeof(n.cmd_filter), "%s/%s/+/cmd", cfg->topic_prefix,
	         cfg->device_id);
	snprintf(n.ha_cmd_filter, sizeof(n.ha_cmd_filter), "%s/%s/+/ha_cmd", cfg->topic_prefix,
	         cfg->device_id);
	snprintf(n.ha_status_topic, sizeof(n.ha_status_topic), "%s/status", cfg->ha_prefix);
	snprintf(n.admin_topic, sizeof(n.admin_topic), "%s/%s/admin", cfg->topic_prefix,
	         cfg->device_id);
	snprintf(n.enroll_topic, sizeof(n.enroll_topic), "%s/%s/enroll", cfg->topic_prefix,
	         cfg->device_id);
	snprintf(n.keys_topic, sizeof(n.keys_topic), "%s/%s/keys", cfg->topic_prefix,
	         cfg->device_id);
	snprintf(n.csr_topic, sizeof(n.csr_topic), "%s/%s/csr", cfg->topic_prefix, cfg->device_id);
	snprintf(n.cert_topic, sizeof(n.cert_topic), "%s/%s/cert", cfg->topic_prefix,
	         cfg->device_id);
	snprintf(n.refresh_topic, sizeof(n.refresh_topic), "%s/%s/refresh", cfg->topic_prefix,
	         cfg->device_id);
	for (i = 0; i < cfg->ndoors; i++)
		snprintf(n.state_topics[i], sizeof(n.state_topics[i]), "%s/%s/%s/state",
		         cfg->topic_prefix, cfg->device_id, cfg->doors[i].name);

	refuse_wakeup_pair();
	/* The secrets are loaded while they can still be read ... */
	n.mqtt = mqtt_new(cfg, n.availability_topic, &cb, &n, err, sizeof(err));
	if (n.mqtt == NULL) {
		log_warnx("%s", err);
		_exit(CHANNEL_EXIT_FATAL);
	}
	if (trial)
		log_info("the renewed pair %s is on trial: its first connection decides",
		         cfg->certfile);
	renewal_load(&n);
	/* ... and then every privilege goes, before the first byte from the network. */
	drop_privileges(cfg, drop, uid, gid);
	/* A change of user clears the parent-death signal: set it again, and then make sure the
	 * door half did not go in between (test-attack-orphan.sh). */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
		_exit(1);
	filtered = sandbox();
	log_info("pid %ld: user %u, no capabilities, no_new_privs, %s", (long)getpid(),
	         (unsigned)getuid(), filtered ? "seccomp filter on" : "NO seccomp filter");
#ifdef GARAGED_TEST_HOOKS
	/* A network half that can never start, for the test that garaged then fails visibly. */
	if (getenv("GARAGED_TEST_NETHALF_EXIT") != NULL)
		_exit(1);
	if (getenv("GARAGED_TEST_SYSCALL") != NULL)
		test_syscall(getenv("GARAGED_TEST_SYSCALL"));
#endif
	send_msg(&n, &running, sizeof(running));

	mqtt_start(n.mqtt, timer_now_ms());
	(void)fcntl(n.chan, F_SETFL, O_NONBLOCK);
	while (!n.goodbye) {
		deadline = mqtt_next_deadline(n.mqtt);
		if (out_deadline(&n) < deadline)
			deadline = out_deadline(&n);
		if (mqtt_connected(n.mqtt) && n.renew_check_at < deadline)
			deadline = n.renew_check_at;
		if (log_limit_deadline() < deadline)
			deadline = log_limit_deadline();
		pfd[0] = (struct pollfd){.fd = n.chan, .events = POLLIN};
		/* Records TLS read ahead of what the last mqtt_io() took: no sleep until they are
		 * read, since no new byte on the socket may ever come to wake us for them. */
		pending = mqtt_read_pending(n.mqtt);
		if (pending)
			deadline = 0;
		mfd = mqtt_fd(n.mqtt);
		pfd[1] = (struct pollfd){
		    .fd = mfd,
		    .events = (short)((mfd >= 0 && mqtt_want_read(n.mqtt) ? POLLIN : 0) |
		                      (mfd >= 0 && mqtt_want_write(n.mqtt) ? POLLOUT : 0))};
		/* The failback probe's socket or its lookup's two, while there are (mqtt.h). */
		mqtt_probe_pollfds(n.mqtt, &pfd[2]);
		if (timer_poll(pfd, 4, deadline) < 0) {
			if (errno == EINTR)
				continue;
			log_fatal("ppoll");
		}
		if (pfd[0].revents)
			handle_channel(&n);
		if (pending)
			pfd[1].revents |= POLLIN;
		if (mfd >= 0 && pfd[1].revents) {
			if (pfd[1].revents & POLLIN)
				stage_mark(STAGE_NET_READABLE);
			mqtt_io(n.mqtt, pfd[1].revents, timer_now_ms());
		}
		if (pfd[2].revents || pfd[3].revents)
			mqtt_probe_io(n.mqtt, &pfd[2], timer_now_ms());
		mqtt_tick(n.mqtt, timer_now_ms());
		if (mqtt_connected(n.mqtt) && timer_now_ms() >= n.renew_check_at)
			renewal_due(&n);
		/* Acknowledgements read above make room; a due count may be said. */
		flush_out(&n);
		log_limit_tick();
#ifdef GARAGED_TEST_HOOKS
		if (inject != NULL && mqtt_connected(n.mqtt) && !was_connected)
			test_inject(&n, inject);
		was_connected = mqtt_connected(n.mqtt);
#endif
	}
	/* The last states first: they go out before "offline", in order. */
	flush_out(&n);
	if (n.restart)
		/* Not "offline": the next network half connects at once, with the new pair. */
		mqtt_goodbye(n.mqtt, n.csr_topic, "", GOODBYE_TIMEOUT);
	else
		mqtt_goodbye(n.mqtt, n.availability_topic, "offline", GOODBYE_TIMEOUT);
	forget_making(&n);
	EVP_PKEY_free(n.pending);
	free(n.request);
	mqtt_free(n.mqtt);
	stage_dump("net");
	/* _exit, as on every other way out of this process: what it had is given back above. */
	_exit(0);
}
