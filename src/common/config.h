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

#include "names.h"

#define CONFIG_MAX_DOORS   8
#define CONFIG_MAX_PINS    8
#define CONFIG_NAME_MAX    NAMES_ID_MAX /* device id and door names: names.h */
#define CONFIG_PATH_MAX    256
#define CONFIG_HOST_MAX    254
#define CONFIG_PREFIX_MAX  NAMES_PREFIX_MAX
#define CONFIG_ERROR_MAX   512
#define CONFIG_USER_MAX    32 /* [device] user */
#define CONFIG_MAX_BROKERS 4  /* [mqtt] host, repeatable: the brokers in order of preference */

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

/*
 * A broker of [mqtt] host = NAME[:PORT] (or [IPv6]:PORT): its name, checked against its
 * certificate, and its port, [mqtt] port when the line gave none.
 */
struct config_broker {
	char host[CONFIG_HOST_MAX + 1];
	uint16_t port;
	bool port_given; /* the line had :PORT */
	int line;        /* where it was set, for messages */
};

struct config_pin {
	enum config_pin_kind kind;
	unsigned char digest[32];
	size_t len; /* 32, or 20 for SHA-1 */
	int line;   /* where it was set, for warnings */
};

/*
 * The fields the keys fill. What each key means, its default and its range are in config.c's
 * table of keys (config_keys()), not here: a default written in two places drifts.
 */
struct config_door {
	char name[CONFIG_NAME_MAX + 1];
	int line; /* of its [door.NAME] header, for messages */
	enum config_backend backend;
	char chip[CONFIG_PATH_MAX];
	int relay_line;  /* -1: none */
	int closed_line; /* -1: none */
	int open_line;   /* -1: none (no open sensor) */
	bool active_low;
	uint32_t relay_pulse_ms;
	uint32_t min_pulse_interval_ms;
	uint32_t travel_time_s;
	uint32_t auto_close_s; /* 0: off */
	uint32_t auto_close_warning_s;
	uint32_t sim_travel_ms;
	bool sim_start_open;
	char sim_log[CONFIG_PATH_MAX]; /* empty: no log */
};

struct config {
	char file[CONFIG_PATH_MAX]; /* the path read, for messages */

	/* [device] */
	char device_id[CONFIG_NAME_MAX + 1];
	char user[CONFIG_USER_MAX + 1];
	char state_dir[CONFIG_PATH_MAX];

	/* [mqtt] */
	/* Every "host" line in file order, the most preferred first; at least one once loaded.
	 * host and port are the first one's, for code that talks to one broker only. */
	struct config_broker brokers[CONFIG_MAX_BROKERS];
	size_t nbrokers;
	char host[CONFIG_HOST_MAX + 1];
	uint16_t port; /* [mqtt] port, then, once loaded, the first broker's */
	char cafile[CONFIG_PATH_MAX];
	char certfile[CONFIG_PATH_MAX];
	char keyfile[CONFIG_PATH_MAX];
	struct config_pin pins[CONFIG_MAX_PINS]; /* "pin", repeatable, in file order */
	size_t npins;
	char tls_version[16]; /* "tlsv1.2" or "tlsv1.3" */
	char username[128];
	char password_file[CONFIG_PATH_MAX];
	uint16_t keepalive;
	uint32_t reconnect_min_ms; /* the first retry's delay */
	uint32_t reconnect_max_s;  /* the backoff's cap, >= reconnect_min_ms */
	uint32_t failback_s;       /* with several brokers: how often a preferred one is probed */
	char topic_prefix[CONFIG_PREFIX_MAX + 1];
	uint32_t renew_before_days; /* 0: never renew by itself */

	/* [security] */
	char authorized_keys[CONFIG_PATH_MAX];
	uint32_t clock_skew;

	/* [homeassistant] */
	bool ha_discovery;
	char ha_prefix[CONFIG_PREFIX_MAX + 1];
	enum config_ha_commands ha_commands;

	/* [door.NAME] in file order */
	struct config_door doors[CONFIG_MAX_DOORS];
	size_t ndoors;
};

/*
 * A key of a configuration file, one row of a table that drives parsing, defaults, the
 * messages of --check-config and the documentation's checks (tests/unit/test-config.c).
 * garaged.conf's table is config_keys(); garagectl's [signing] has one of its own.
 */
struct config_key;

/* One value being read, as a key's parse function gets it. */
struct config_value {
	const char *text; /* as written, without the spaces around it */
	int line;         /* of the file, for fields that remember where they were set */
	void *base;       /* the struct the key's offset is into */
	char *msg;        /* on error: what to change, without FILE:LINE */
	size_t msglen;
};

/*
 * A key's type: reads v->text into the key's field at (char *)v->base + key->offset. Returns
 * 0, or -1 with the message in v->msg.
 */
typedef int config_parse_fn(const struct config_key *key, const struct config_value *v);

#define CONFIG_KEY_REQUIRED   0x01U /* missing: an error at its section's header */
#define CONFIG_KEY_REPEATABLE 0x02U /* may be given more than once (host, pin) */
#define CONFIG_KEY_GPIOD      0x04U /* [door.NAME]: required with backend = gpiod */
#define CONFIG_KEY_SIM_ONLY   0x08U /* [door.NAME]: an error with backend = gpiod */
/* A file garaged reads: checked by config_load() to exist, and to be as guarded as it says. */
#define CONFIG_KEY_FILE         0x10U /* readable by anyone (certificates) */
#define CONFIG_KEY_FILE_GUARDED 0x20U /* only root or garaged's user may have put it there */
#define CONFIG_KEY_FILE_PRIVATE 0x40U /* guarded, and nobody else may read it (keys) */

struct config_key {
	const char *section;    /* "mqtt", "door.NAME", "signing" */
	const char *name;       /* "port" */
	config_parse_fn *parse; /* its type */
	long min, max;          /* a number's range (min < max); 0 and 0 for other types */
	const char *def;        /* the default, as it would be written; NULL: none (empty, 0) */
	const char *example;    /* what to write when it is missing, "host = mqtt.local"; or NULL */
	unsigned flags;         /* CONFIG_KEY_* */
	size_t offset, size;    /* its field in the section's struct */
	const char *doc;        /* what it is for, in one line */
};

/* garaged.conf's keys, [device], [mqtt], [security], [homeassistant], [door.NAME] in order. */
const struct config_key *config_keys(size_t *n);

/* The key NAME of SECTION ("door.NAME" for doors), or NULL. */
const struct config_key *config_key_find(const char *section, const char *name);

/*
 * Types other tables may use: a string of at most key->size - 1 characters without control
 * characters; and the message every refused value gets, "KEY must be WHAT, not 'VALUE'",
 * which always returns -1.
 */
int config_parse_string(const struct config_key *key, const struct config_value *v);

/*
 * One broker as [mqtt] host takes it: NAME, NAME:PORT, an IPv4 address with or without :PORT,
 * an IPv6 address bare or in brackets, [IPv6]:PORT. Without a port, out->port is 0 and
 * port_given false (config.c then puts [mqtt] port there). Returns 0, or -1 with what is wrong
 * in msg ("must be ..."), without FILE:LINE. garagectl's --peer reads its argument with it too.
 */
int config_broker_parse(const char *text, struct config_broker *out, char *msg, size_t msglen);
int config_bad_value(const struct config_key *key, const struct config_value *v, const char *what);

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
 * ctl.conf and its [signing]). config.c reads it like its own sections, from the caller's
 * table: unknown and repeated keys are reported at their line, each value is read by its key's
 * parse function into base, and a value with a control character is refused before that. Its
 * keys' only flag may be CONFIG_KEY_REPEATABLE: a caller checks what is required itself.
 */
#define CONFIG_SECTION_KEYS_MAX 16

struct config_section {
	const char *name;              /* "signing" for [signing]; every key's section */
	const struct config_key *keys; /* at most CONFIG_SECTION_KEYS_MAX */
	size_t nkeys;
	void *base; /* the struct the keys' offsets are into */
};

/*
 * Reads PATH as a file of two sections: [mqtt], with exactly the keys, defaults, checks and
 * messages of garaged.conf (host, cafile, certfile and keyfile required; the files named
 * checked as config_load() checks them), and OWN. Any other section is an error. The fields
 * of *cfg outside [mqtt] keep their defaults. Returns 0, or -1 with "PATH:LINE: message".
 */
int config_load_mqtt(struct config *cfg, const char *path, const struct config_section *own,
                     char *err, size_t errlen);

#endif
