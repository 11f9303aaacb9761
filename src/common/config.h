/*
 * config: garaged.conf, read with inih into a struct config.
 *
 * It owns the meaning and validation of every key of SPEC "garaged.conf": defaults, ranges,
 * required keys, and the first error as "FILE:LINE: message" that says what to do. It reads
 * the configuration file and checks that the files named in it exist and are safe (a private
 * key readable by group or others is refused); it never opens a network connection, never
 * touches a GPIO line and never exits the process. garagectl reads ctl.conf's [mqtt] through it
 * too (config_load_mqtt()), so both ends share one meaning of every [mqtt] key.
 */
#ifndef GARAGED_CONFIG_H
#define GARAGED_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIG_MAX_DOORS  8
#define CONFIG_MAX_PINS   8
#define CONFIG_NAME_MAX   32 /* device id and door names: [a-z0-9_-]{1,32} */
#define CONFIG_PATH_MAX   256
#define CONFIG_HOST_MAX   254
#define CONFIG_PREFIX_MAX 64
#define CONFIG_ERROR_MAX  512
#define CONFIG_USER_MAX   32 /* [device] user */

enum config_backend {
	CONFIG_BACKEND_SIM = 0,
	CONFIG_BACKEND_GPIOD,
};

enum config_ha_commands {
	CONFIG_HA_COMMANDS_OFF = 0,
	CONFIG_HA_COMMANDS_UNSIGNED,
};

/*
 * A broker certificate pin, decoded. The text forms accepted (hex, colons optional, any case):
 *   sha256:<32 bytes>       SHA-256 of the certificate (DER)
 *   spki-sha256:<32 bytes>  SHA-256 of the SubjectPublicKeyInfo (DER)
 *   <20 bytes>              SHA-1 of the certificate, colon form "DA:39:A3:..." or space form
 *                           "DA 39 A3 ..." as `openssl x509 -fingerprint` and ESP8266 libraries
 *                           print it; accepted with a warning that SHA-1 is weak
 */
enum config_pin_kind {
	CONFIG_PIN_CERT_SHA256 = 0,
	CONFIG_PIN_SPKI_SHA256,
	CONFIG_PIN_CERT_SHA1,
};

struct config_pin {
	enum config_pin_kind kind;
	unsigned char digest[32];
	size_t len; /* 32, or 20 for SHA-1 */
	int line;   /* where it was set, for warnings */
};

struct config_door {
	char name[CONFIG_NAME_MAX + 1];
	int line; /* of its [door.NAME] header, for messages */
	enum config_backend backend;
	char chip[CONFIG_PATH_MAX]; /* gpiod: "gpiochip0" or a path */
	int relay_line;             /* -1 when not set */
	int closed_line;            /* -1 when not set */
	int open_line;              /* -1 when not set (no open sensor) */
	bool active_low;
	uint32_t relay_pulse_ms;        /* default 500 */
	uint32_t min_pulse_interval_ms; /* default 1000 */
	uint32_t travel_time_s;         /* default 15 */
	uint32_t auto_close_s;          /* default 0 = off */
	uint32_t auto_close_warning_s;  /* default 10: the auto_close event this long before */
	uint32_t sim_travel_ms;         /* default 3000 */
	bool sim_start_open;            /* default false (closed) */
	char sim_log[CONFIG_PATH_MAX];  /* empty = no log */
};

struct config {
	char file[CONFIG_PATH_MAX]; /* the path read, for messages */

	/* [device] */
	char device_id[CONFIG_NAME_MAX + 1];
	/* The user the network half runs as when garaged starts as root; default "nobody". */
	char user[CONFIG_USER_MAX + 1];
	/* Where the door half keeps what it must not forget across a restart (state.c); default
	 * /var/lib/garaged, the unit's StateDirectory=. */
	char state_dir[CONFIG_PATH_MAX];

	/* [mqtt] */
	char host[CONFIG_HOST_MAX + 1];
	uint16_t port; /* default 8883 */
	char cafile[CONFIG_PATH_MAX];
	char certfile[CONFIG_PATH_MAX];
	char keyfile[CONFIG_PATH_MAX];
	struct config_pin pins[CONFIG_MAX_PINS]; /* "pin", repeatable, in file order */
	size_t npins;
	char tls_version[16]; /* "tlsv1.2" (default) or "tlsv1.3" */
	char username[128];
	char password_file[CONFIG_PATH_MAX];
	uint16_t keepalive;        /* default 30, 5..3600 */
	uint32_t reconnect_min_ms; /* default 500, 100..60000: the first retry's delay */
	uint32_t reconnect_max_s;  /* default 60, 1..3600, >= reconnect_min_ms: the backoff's cap */
	char topic_prefix[CONFIG_PREFIX_MAX + 1]; /* default "garage" */

	/* [security] */
	char authorized_keys[CONFIG_PATH_MAX];
	uint32_t clock_skew; /* default 30 */

	/* [homeassistant] */
	bool ha_discovery;                     /* default true */
	char ha_prefix[CONFIG_PREFIX_MAX + 1]; /* default "homeassistant" */
	enum config_ha_commands ha_commands;   /* default off */

	/* [door.NAME] in file order */
	struct config_door doors[CONFIG_MAX_DOORS];
	size_t ndoors;
};

/*
 * Reads and validates PATH into *cfg. Returns 0, or -1 with the first error in err as
 * "PATH:LINE: message" (errors in file order: a bad value at its line first, then required
 * keys missing from the whole file, then files named in it that are missing or unsafe).
 */
int config_load(struct config *cfg, const char *path, char *err, size_t errlen);

/*
 * The same over a configuration held in memory; NAME is used in messages. File checks
 * (existence, key file modes) are made only when check_files is true, so that unit tests
 * and fuzzers can exercise the parser alone.
 */
int config_parse_buffer(struct config *cfg, const char *name, const char *text, size_t len,
                        bool check_files, char *err, size_t errlen);

/*
 * A section of the caller's own, for files that share garaged.conf's [mqtt] (garagectl's
 * ctl.conf and its [signing]). config.c reads it like its own sections: unknown and repeated
 * keys are reported at their line; set() gives each value its meaning.
 */
#define CONFIG_SECTION_KEYS_MAX 13 /* as many keys as [mqtt] has */

struct config_section {
	const char *name;        /* "signing" for [signing] */
	const char *const *keys; /* at most CONFIG_SECTION_KEYS_MAX */
	size_t nkeys;
	/* Takes keys[key] = value. Returns 0, or -1 with what to change in msg (no FILE:LINE). */
	int (*set)(void *arg, size_t key, const char *value, char *msg, size_t msglen);
	void *arg;
};

/*
 * Reads PATH as a file of two sections: [mqtt], with exactly the keys, defaults, checks and
 * messages of garaged.conf (host, cafile, certfile and keyfile required; the files named
 * checked as config_load() checks them), and OWN. Any other section is an error. The fields
 * of *cfg outside [mqtt] keep their defaults. Returns 0, or -1 with "PATH:LINE: message".
 */
int config_load_mqtt(struct config *cfg, const char *path, const struct config_section *own,
                     char *err, size_t errlen);

/*
 * The broker password: the first line of cfg->password_file (whose mode config.c checks), so
 * that it is never in a configuration file or on a command line. Refuses a password_file
 * without a username, an empty first line and one longer than size - 2. Returns 0, or -1 with
 * the reason in err. garagectl reads its ctl.conf's [mqtt] the same way.
 */
int config_read_password(const struct config *cfg, char *buf, size_t size, char *err,
                         size_t errlen);

#endif
