/*
 * mqtt_session: see mqtt_session.h.
 */
#include "mqtt_session.h"

#include <errno.h>
#include <mosquitto.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#include "mdns.h"
#include "tls.h"

/*
 * The broker password: the first line of password_file (whose mode config.c checks), so that
 * it is never in garaged.conf or on a command line where others could read it.
 */
int
mqtt_session_read_password(const struct config *cfg, char *buf, size_t size, char *err,
                           size_t errlen)
{
	FILE *f;
	size_t n;

	if (cfg->username[0] == '\0') {
		snprintf(err, errlen,
		         "%s: password_file is set but username is empty; add username = ... to "
		         "[mqtt]",
		         cfg->file);
		return -1;
	}
	f = fopen(cfg->password_file, "re");
	if (f == NULL) {
		snprintf(err, errlen, "password_file %s: %s", cfg->password_file, strerror(errno));
		return -1;
	}
	if (fgets(buf, (int)size, f) == NULL)
		buf[0] = '\0';
	fclose(f);
	n = strcspn(buf, "\r\n");
	if (buf[n] == '\0' && n + 1 == size) {
		OPENSSL_cleanse(buf, size);
		snprintf(err, errlen, "the first line of password_file %s is longer than %zu bytes",
		         cfg->password_file, size - 2);
		return -1;
	}
	buf[n] = '\0';
	if (n == 0) {
		snprintf(err, errlen,
		         "password_file %s is empty; put the broker password on its first line",
		         cfg->password_file);
		return -1;
	}
	return 0;
}

/* The user name and, from password_file, the password; both optional (SPEC "Security"). */
static int
set_credentials(struct mosquitto *mosq, const struct config *cfg, char *err, size_t errlen)
{
	/* +2: the newline, and the byte that shows a longer line (mqtt_session_read_password). */
	char password[MQTT_SESSION_PASSWORD_MAX + 2];
	int rc = MOSQ_ERR_SUCCESS;

	if (cfg->password_file[0] != '\0') {
		if (mqtt_session_read_password(cfg, password, sizeof(password), err, errlen) != 0)
			return -1;
		/* libmosquitto keeps its own copy for every reconnection. */
		rc = mosquitto_username_pw_set(mosq, cfg->username, password);
		OPENSSL_cleanse(password, sizeof(password));
	} else if (cfg->username[0] != '\0') {
		rc = mosquitto_username_pw_set(mosq, cfg->username, NULL);
	}
	if (rc != MOSQ_ERR_SUCCESS) {
		snprintf(err, errlen, "MQTT user name %s: %s", cfg->username,
		         mosquitto_strerror(rc));
		return -1;
	}
	return 0;
}

struct mosquitto *
mqtt_session_new(const struct config *cfg, const struct mqtt_session_opts *opts, struct tls **tls,
                 char *err, size_t errlen)
{
	struct mosquitto *mosq;
	int rc;

	*tls = NULL;
	mosquitto_lib_init();
	mosq = mosquitto_new(opts->client_id, true, opts->obj);
	if (mosq == NULL) {
		snprintf(err, errlen, "cannot create an MQTT client: %s", strerror(errno));
		mosquitto_lib_cleanup();
		return NULL;
	}
	mosquitto_int_option(mosq, MOSQ_OPT_PROTOCOL_VERSION, opts->protocol);
	/* A command is a few hundred bytes that must reach the relay now: no Nagle delay. */
	mosquitto_int_option(mosq, MOSQ_OPT_TCP_NODELAY, 1);

	*tls = tls_new(cfg, err, errlen);
	if (*tls == NULL)
		goto fail;
	/* Never mosquitto_tls_set(): with it, libmosquitto would build a context of its own
	 * around ours. Without its defaults it uses this one exactly as given, so that the pins
	 * are checked inside the handshake. */
	rc = mosquitto_void_option(mosq, MOSQ_OPT_SSL_CTX, tls_ssl_ctx(*tls));
	if (rc == MOSQ_ERR_SUCCESS)
		rc = mosquitto_int_option(mosq, MOSQ_OPT_SSL_CTX_WITH_DEFAULTS, 0);
	if (rc == MOSQ_ERR_SUCCESS && opts->will_topic != NULL)
		rc = mosquitto_will_set(mosq, opts->will_topic, (int)strlen("offline"), "offline",
		                        1, true);
	if (rc != MOSQ_ERR_SUCCESS) {
		snprintf(err, errlen, "MQTT client set-up: %s", mosquitto_strerror(rc));
		goto fail;
	}
	if (set_credentials(mosq, cfg, err, errlen) != 0)
		goto fail;
	return mosq;

fail:
	/* libmosquitto holds a reference to the TLS context until it is destroyed. */
	mosquitto_destroy(mosq);
	tls_free(*tls);
	*tls = NULL;
	mosquitto_lib_cleanup();
	return NULL;
}

int
mqtt_session_host_address(const char *host, char *addr, size_t addrlen, char *err, size_t errlen)
{
	if (!mdns_name_is_local(host)) {
		if ((size_t)snprintf(addr, addrlen, "%s", host) >= addrlen) {
			snprintf(err, errlen, "host %s is too long", host);
			return -1;
		}
		return 0;
	}
	/* SPEC: *.local names resolve by multicast DNS. */
	return mdns_resolve(host, MDNS_TIMEOUT_MS, addr, addrlen, err, errlen);
}

int
mqtt_session_address(const struct config *cfg, char *addr, size_t addrlen, char *err, size_t errlen)
{
	return mqtt_session_host_address(cfg->host, addr, addrlen, err, errlen);
}
