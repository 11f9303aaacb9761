/*
 * tls: the TLS policy of every connection to the broker, garaged's and garagectl's alike.
 *
 * It owns the OpenSSL context handed to libmosquitto (MOSQ_OPT_SSL_CTX, without libmosquitto's
 * defaults): the CA, the client certificate and key (PEM or DER), the minimum protocol version,
 * the host name check, and the pins, checked inside OpenSSL's verification so that a mismatch
 * fails the handshake itself. Every refusal is one log line naming the check that failed (CA,
 * host name, expiry, pin, protocol version) and, for a pin, what was expected and what was seen.
 *
 * It never opens a socket, never logs and never calls libmosquitto: the caller connects, and
 * asks this module why a connection attempt failed. One struct tls serves one connection at a
 * time, to the broker of tls_set_broker(); a probe of another (tls_probe_ssl()) only while that
 * connection is established.
 */
#ifndef GARAGED_TLS_H
#define GARAGED_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

struct tls;

/* The check a refused handshake failed. */
enum tls_check {
	TLS_CHECK_NONE = 0,
	TLS_CHECK_CA,          /* the broker's chain does not lead to the CA in cafile */
	TLS_CHECK_HOST,        /* the broker's certificate does not name [mqtt] host */
	TLS_CHECK_EXPIRY,      /* a certificate of the chain has expired or is not valid yet */
	TLS_CHECK_PIN,         /* the chain is good but the certificate matches none of the pins */
	TLS_CHECK_CERTIFICATE, /* any other fault of the broker's chain (purpose, extensions) */
	TLS_CHECK_PROTOCOL,    /* the broker offers no protocol version at or above tls_version */
	TLS_CHECK_CLIENT,      /* the broker refused this side's certificate */
	TLS_CHECK_OTHER,       /* any other TLS failure, with OpenSSL's reason */
};

/*
 * Builds the context for cfg (host, cafile, certfile, keyfile, pins, tls_version). Returns NULL
 * with one line in err when a file cannot be loaded or the key does not match the certificate.
 * cfg is not copied: it must outlive the struct tls.
 */
struct tls *tls_new(const struct config *cfg, char *err, size_t errlen);
void tls_free(struct tls *t);

/*
 * The broker the next connection is to (one of cfg's hosts; tls_new() starts with cfg->host):
 * its certificate must name HOST, and messages name HOST:PORT. Every SSL made from the context
 * after this call checks HOST. Returns 0, or -1 with one line in err.
 */
int tls_set_broker(struct tls *t, const char *host, uint16_t port, char *err, size_t errlen);

/*
 * An SSL * (to SSL_free()) from the context that checks HOST instead of the current broker,
 * with HOST as SNI: mqtt.c's probe of a preferred broker, made while the session with the
 * current one is long past its handshake (what its verification records replaces the last
 * attempt's, which nothing reads while connected). NULL when OpenSSL cannot make one.
 */
void *tls_probe_ssl(struct tls *t, const char *host);

/*
 * The SSL_CTX * to pass as MOSQ_OPT_SSL_CTX (with MOSQ_OPT_SSL_CTX_WITH_DEFAULTS 0). The struct
 * tls keeps its own reference; libmosquitto takes another.
 */
void *tls_ssl_ctx(struct tls *t);

/*
 * Forgets what the last attempt recorded. Call it before each connection attempt: an attempt
 * that fails before its handshake starts (connection refused) must not be explained by the
 * previous attempt's refusal. Each handshake also starts with a clean slate by itself.
 */
void tls_handshake_begin(struct tls *t);

/*
 * The reason the last handshake was refused, or NULL when none was: "CA", "host name",
 * "expiry", "pin", ... and one line of detail. Cleared by each new handshake.
 */
const char *tls_last_refusal(const struct tls *t);

/* Which check the last handshake failed; TLS_CHECK_NONE when none was recorded. */
enum tls_check tls_refused_check(const struct tls *t);

/*
 * After a failed connection attempt: why TLS failed, as "<check> check failed: <detail>", or
 * NULL when nothing on the TLS side failed (the TCP connection was refused, for instance). A
 * refusal from verification comes first; otherwise the OpenSSL error and the alert of the
 * failed handshake (recorded as they happened: libmosquitto empties OpenSSL's error queue
 * before the caller gets control) are explained: a protocol version mismatch, the broker
 * refusing the client certificate, or OpenSSL's reason.
 */
const char *tls_explain_failure(struct tls *t);

/*
 * After a failed attempt whose SSL object (libmosquitto's mosquitto_ssl_get()) is still there:
 * reads what the broker sent before it hung up. A broker that refuses the client certificate
 * says so in an alert that arrives after this side's handshake is done (TLS 1.3), often while
 * this side is still writing CONNECT; without this, tls_explain_failure() never sees it.
 */
void tls_read_alert(struct tls *t, void *ssl);

/* OpenSSL's own reason for the failed handshake ("certificate verify failed"), or NULL. */
const char *tls_ssl_error(const struct tls *t);

/*
 * Whether this side completed the last attempt's handshake. When an attempt then fails with
 * no reason tls_explain_failure() can give (the broker hung up before its alert could be
 * read), the likely cause is the broker refusing the client certificate: worth a hint.
 */
bool tls_handshake_done(const struct tls *t);

/*
 * After a handshake that succeeded: the pin that matched the broker's certificate (NULL when
 * there are no pins), and the certificate's SHA-256 as a pin ("sha256:AB:CD:..."), so that a
 * SHA-1 pin can be replaced.
 */
const struct config_pin *tls_matched_pin(const struct tls *t);
const char *tls_peer_fingerprint(const struct tls *t);

/* Seconds until the client certificate expires (negative when it has), for warnings. */
int64_t tls_client_cert_expires_in(const struct tls *t);

/* The client certificate's notAfter, "2026-12-24 08:00:00 UTC". */
const char *tls_client_cert_not_after(const struct tls *t);

#endif
