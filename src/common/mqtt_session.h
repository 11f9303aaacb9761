/*
 * mqtt_session: the one set-up of a libmosquitto client for [mqtt], shared by garaged's network
 * half (src/net/mqtt.c) and garagectl (src/ctl/ctl_command.c), so that both ends read the same
 * keys the same way: the TLS context of tls.c handed over whole, the user name and the
 * password from password_file, the broker's address (a *.local name by multicast DNS).
 *
 * What differs between the two is an option: the protocol version (garaged 3.1.1, garagectl 5),
 * the client id, the last will. Connecting, the loop and the callbacks stay with each caller.
 */
#ifndef GARAGED_MQTT_SESSION_H
#define GARAGED_MQTT_SESSION_H

#include <stddef.h>

#include "config.h"

struct mosquitto;
struct tls;

/* The longest password (the first line of password_file) either end sends. MQTT allows 65535
 * bytes; Mosquitto's password files hold hashes, so any length the owner picks works there. */
#define MQTT_SESSION_PASSWORD_MAX 1024

/* Room for the broker's address: an IPv6 literal with a %interface scope, or the host name. */
#define MQTT_SESSION_ADDR_MAX CONFIG_HOST_MAX

struct mqtt_session_opts {
	const char *client_id;
	int protocol;           /* MQTT_PROTOCOL_V311 or MQTT_PROTOCOL_V5 (mosquitto.h) */
	const char *will_topic; /* retained "offline" when the session ends unannounced; or NULL */
	void *obj;              /* handed to every libmosquitto callback */
};

/*
 * Creates the client for CFG's broker (no network traffic yet): OPTS, TCP_NODELAY, the TLS
 * context (into *tls, freed by the caller with tls_free() after mosquitto_destroy()), the
 * credentials. Calls mosquitto_lib_init(): once done, the caller calls mosquitto_destroy(),
 * tls_free() and mosquitto_lib_cleanup(). Returns NULL, with nothing left to clean up and one
 * line in err that says what to fix.
 */
struct mosquitto *mqtt_session_new(const struct config *cfg, const struct mqtt_session_opts *opts,
                                   struct tls **tls, char *err, size_t errlen);

/*
 * Where to connect: CFG's host, or for a *.local name the address multicast DNS finds (which
 * blocks up to MDNS_TIMEOUT_MS). TLS still checks the certificate against the configured name.
 * Returns 0, or -1 with the reason in err.
 */
int mqtt_session_address(const struct config *cfg, char *addr, size_t addrlen, char *err,
                         size_t errlen);

/* The same for HOST, one of cfg->brokers (a session fails over between them). */
int mqtt_session_host_address(const char *host, char *addr, size_t addrlen, char *err,
                              size_t errlen);

/*
 * The broker password: the first line of cfg->password_file (whose mode config.c checks), so
 * that it is never in a configuration file or on a command line. Refuses a password_file
 * without a username, an empty first line and one longer than size - 2. Returns 0, or -1 with
 * the reason in err. garagectl reads its ctl.conf's [mqtt] the same way.
 */
int mqtt_session_read_password(const struct config *cfg, char *buf, size_t size, char *err,
                               size_t errlen);

#endif
