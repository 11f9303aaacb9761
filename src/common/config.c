/*
 * config: garaged.conf, read with inih into a struct config.
 *
 * This file owns the meaning of every key of SPEC "garaged.conf (INI)", in one table (keys[]
 * below): its section, its type (the function that reads it), its range, its default, what to
 * write when it is missing, and a line saying what it is for. The table drives the parser, the
 * defaults and the error messages, "FILE:LINE: message", that tell the owner what to change;
 * tests/unit/test-config.c checks the example file, the man page and docs/reference.md against
 * it. Errors are reported in file order: a bad value, an unknown key or section or a repeated
 * key at its own line; then, once the whole file was read, required keys that are missing;
 * then, when asked, the files named in the configuration that are missing or unsafe.
 *
 * garagectl's ctl.conf shares the [mqtt] section (config_load_mqtt()): its keys are read by the
 * same code, so the tool and the daemon cannot come to disagree on what a key means.
 *
 * It never prints, never exits, never opens a network connection and never touches a GPIO line:
 * the caller decides what to do with the message.
 */
#include "config.h"

#include <arpa/inet.h>
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "names.h"
#include "safepath.h"

/* A configuration file is a page of text; anything larger is a wrong path, not a config. */
#define CONFIG_FILE_MAX (256 * 1024)

/* How much of a bad value an error message quotes. */
#define SHOWN_MAX 60

/* The section of every [door.NAME] key in the table. */
#define DOOR_SECTION "door.NAME"

/*
 * Copies a value into buf for quoting in a message. The value comes from a file an attacker may
 * have written, and the message goes to a terminal or syslog: control bytes become '?', and a
 * long value is cut short with "...".
 */
static const char *
show(char *buf, size_t size, const char *v)
{
	size_t i, n = 0;
	size_t max = size - 4 < SHOWN_MAX ? size - 4 : SHOWN_MAX;

	for (i = 0; v[i] != '\0' && n < max; i++)
		buf[n++] = (v[i] >= 0x20 && v[i] < 0x7f) ? v[i] : '?';
	if (v[i] != '\0') {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
	return buf;
}

static bool
has_control(const char *v)
{
	for (; *v != '\0'; v++)
		if ((unsigned char)*v < 0x20 || *v == 0x7f)
			return true;
	return false;
}

/* Where a key's value goes. */
static void *
field(const struct config_key *k, const struct config_value *v)
{
	return (char *)v->base + k->offset;
}

/* A message into v->msg; always -1, for the parse functions' returns. */
static int refuse(const struct config_value *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
refuse(const struct config_value *v, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v->msg, v->msglen, fmt, ap);
	va_end(ap);
	return -1;
}

/* "KEY must be WHAT, not 'VALUE'", the shape of every bad-value message. */
int
config_bad_value(const struct config_key *k, const struct config_value *v, const char *what)
{
	char shown[SHOWN_MAX + 4];

	/* '#' starts a comment only at the start of a line; a value ending in "# ..." is a
	 * common mistake whose message would otherwise be puzzling. */
	return refuse(
	    v, "%s must be %s, not '%s'%s", k->name, what, show(shown, sizeof(shown), v->text),
	    strstr(v->text, " #") != NULL ? " (a comment after a value starts with ' ;', not '#')"
	                                  : "");
}

/*
 * A string into a fixed field. Too long is an error, never a silent cut: a truncated path or
 * host name would point somewhere else.
 */
int
config_parse_string(const struct config_key *k, const struct config_value *v)
{
	size_t n = strlen(v->text);

	if (n >= k->size)
		return refuse(v, "%s is longer than %zu characters; shorten it", k->name,
		              k->size - 1);
	if (has_control(v->text))
		return refuse(v, "%s contains a control character; remove it", k->name);
	memcpy(field(k, v), v->text, n + 1);
	return 0;
}

/*
 * A path. Left empty it means "none", except for a key that must name a file (a required one,
 * or one with a default), where an empty value is a mistake.
 */
static int
parse_path(const struct config_key *k, const struct config_value *v)
{
	if (*v->text != '\0' || (k->example == NULL && k->def == NULL))
		return config_parse_string(k, v);
	if (k->example != NULL)
		return refuse(v, "%s is empty; set it, e.g. %s", k->name, k->example);
	return refuse(v, "%s is empty; set it, e.g. %s = %s", k->name, k->name, k->def);
}

/*
 * Integers are read strictly: an optional '-' only where the range allows -1, then digits and
 * nothing else, so "+5", " 5", "5s" and "0x10" are refused instead of half-understood.
 */
static bool
parse_long(const char *v, long min, long max, long *out)
{
	const char *s = v;
	char *end;
	long n;

	if (*s == '-' && min < 0)
		s++;
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || *end != '\0' || n < min || n > max)
		return false;
	*out = n;
	return true;
}

/* A number from min to max, into a uint16_t or a uint32_t. */
static int
parse_number(const struct config_key *k, const struct config_value *v)
{
	char what[64];
	long n;

	if (!parse_long(v->text, k->min, k->max, &n)) {
		snprintf(what, sizeof(what), "a number from %ld to %ld", k->min, k->max);
		return config_bad_value(k, v, what);
	}
	if (k->size == sizeof(uint16_t)) {
		*(uint16_t *)field(k, v) = (uint16_t)n;
	} else {
		assert(k->size == sizeof(uint32_t));
		*(uint32_t *)field(k, v) = (uint32_t)n;
	}
	return 0;
}

/* A GPIO line from min to max, or -1 for none, into an int. */
static int
parse_gpio_line(const struct config_key *k, const struct config_value *v)
{
	char what[80];
	long n;

	assert(k->size == sizeof(int));
	if (!parse_long(v->text, -1, k->max, &n) || (n < k->min && n != -1)) {
		snprintf(what, sizeof(what), "a GPIO line number from %ld to %ld, or -1 for none",
		         k->min, k->max);
		return config_bad_value(k, v, what);
	}
	*(int *)field(k, v) = (int)n;
	return 0;
}

/* The index of v in words[n], in any case, or -1. */
static int
word_index(const char *v, const char *const *words, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcasecmp(v, words[i]) == 0)
			return (int)i;
	return -1;
}

/* One of the words (an enum's values, in the enum's order), or "KEY must be A or B". */
static int
parse_word(const struct config_key *k, const struct config_value *v, const char *const *words,
           size_t n)
{
	char what[128] = "";
	int i = word_index(v->text, words, n);
	size_t j;

	if (i >= 0)
		return i;
	for (j = 0; j < n; j++) {
		if (j > 0)
			strcat(what, j + 1 == n ? " or " : ", ");
		strcat(what, words[j]);
	}
	return config_bad_value(k, v, what);
}

static int
parse_bool(const struct config_key *k, const struct config_value *v)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};
	size_t n = sizeof(yes) / sizeof(yes[0]);

	assert(k->size == sizeof(bool));
	if (word_index(v->text, yes, n) >= 0)
		*(bool *)field(k, v) = true;
	else if (word_index(v->text, no, n) >= 0)
		*(bool *)field(k, v) = false;
	else
		return config_bad_value(k, v, "true or false (or yes/no, on/off, 1/0)");
	return 0;
}

static int
parse_backend(const struct config_key *k, const struct config_value *v)
{
	static const char *const words[] = {
	    [CONFIG_BACKEND_SIM] = "sim",
	    [CONFIG_BACKEND_GPIOD] = "gpiod",
	};
	int i = parse_word(k, v, words, sizeof(words) / sizeof(words[0]));

	if (i < 0)
		return -1;
	*(enum config_backend *)field(k, v) = (enum config_backend)i;
	return 0;
}

static int
parse_ha_commands(const struct config_key *k, const struct config_value *v)
{
	static const char *const words[] = {
	    [CONFIG_HA_COMMANDS_OFF] = "off",
	    [CONFIG_HA_COMMANDS_UNSIGNED] = "unsigned",
	};
	int i = parse_word(k, v, words, sizeof(words) / sizeof(words[0]));

	if (i < 0)
		return -1;
	*(enum config_ha_commands *)field(k, v) = (enum config_ha_commands)i;
	return 0;
}

/* sim_start: the simulated door's position at start, into a bool that is true for open. */
static int
parse_sim_start(const struct config_key *k, const struct config_value *v)
{
	static const char *const words[] = {"closed", "open"};
	int i = parse_word(k, v, words, 2);

	if (i < 0)
		return -1;
	*(bool *)field(k, v) = i == 1;
	return 0;
}

static int
parse_tls_version(const struct config_key *k, const struct config_value *v)
{
	static const char *const words[] = {"tlsv1.2", "tlsv1.3"};
	static const char *const old[] = {"tlsv1", "tlsv1.0", "tlsv1.1"};
	int i;

	if (word_index(v->text, old, sizeof(old) / sizeof(old[0])) >= 0)
		return refuse(v,
		              "%s %s is refused: TLS 1.2 is the minimum; set %s = tlsv1.2 (or "
		              "tlsv1.3)",
		              k->name, v->text, k->name);
	if ((i = parse_word(k, v, words, 2)) < 0)
		return -1;
	assert(k->size > strlen(words[i]));
	memcpy(field(k, v), words[i], strlen(words[i]) + 1);
	return 0;
}

static int
parse_device_id(const struct config_key *k, const struct config_value *v)
{
	if (!names_device_id_valid(v->text))
		return config_bad_value(k, v, "1 to 32 characters of a-z, 0-9, '_' and '-'");
	return config_parse_string(k, v);
}

/*
 * A user name as useradd(8) accepts it by default ([a-z_][a-z0-9_-]*, a trailing '$' for
 * machine accounts left out): a name with anything else is a typo, found here rather than by
 * getpwnam() at start.
 */
static bool
valid_user(const char *v)
{
	size_t n = strlen(v);

	if (n < 1 || n > CONFIG_USER_MAX || !((*v >= 'a' && *v <= 'z') || *v == '_'))
		return false;
	for (; *v != '\0'; v++)
		if (!((*v >= 'a' && *v <= 'z') || (*v >= '0' && *v <= '9') || *v == '_' ||
		      *v == '-'))
			return false;
	return true;
}

static int
parse_user(const struct config_key *k, const struct config_value *v)
{
	if (!valid_user(v->text))
		return config_bad_value(k, v,
		                        "a user name: 1 to 32 characters of a-z, 0-9, '_' and '-', "
		                        "starting with a letter or '_'");
	return config_parse_string(k, v);
}

static bool
valid_ip_literal(const char *v)
{
	unsigned char addr[16];
	char buf[CONFIG_HOST_MAX + 1];
	const char *zone = strchr(v, '%');

	if (strchr(v, ':') == NULL)
		return inet_pton(AF_INET, v, addr) == 1;
	/* A link-local address may carry its interface, "fe80::1%eth0", as getaddrinfo takes it. */
	if (zone != NULL) {
		size_t n = (size_t)(zone - v);

		if (n >= sizeof(buf) || zone[1] == '\0' || strlen(zone + 1) > 15)
			return false;
		memcpy(buf, v, n);
		buf[n] = '\0';
		for (const char *z = zone + 1; *z != '\0'; z++)
			if (!isalnum((unsigned char)*z) && *z != '_' && *z != '-' && *z != '.')
				return false;
		v = buf;
	}
	return inet_pton(AF_INET6, v, addr) == 1;
}

/* RFC 1123 labels, plus '_' which some home networks use; a trailing dot is allowed. */
static bool
valid_host(const char *v)
{
	const char *s = v;
	bool numeric = true;

	for (s = v; *s != '\0'; s++)
		if (!isdigit((unsigned char)*s) && *s != '.')
			numeric = false;
	if (numeric || strchr(v, ':') != NULL)
		return valid_ip_literal(v);

	s = v;
	while (*s != '\0') {
		size_t n = 0;

		while (s[n] != '\0' && s[n] != '.') {
			if (!isalnum((unsigned char)s[n]) && s[n] != '-' && s[n] != '_')
				return false;
			n++;
		}
		if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
			return false;
		s += n;
		if (*s == '.')
			s++;
	}
	return true;
}

/* A port after ':' in a host line: 1 to 65535, digits only. */
static bool
parse_port_text(const char *t, uint16_t *out)
{
	long n;

	if (!parse_long(t, 1, 65535, &n))
		return false;
	*out = (uint16_t)n;
	return true;
}

int
config_broker_parse(const char *text, struct config_broker *out, char *msg, size_t msglen)
{
	const char *colon = strrchr(text, ':'), *end;
	char host[CONFIG_HOST_MAX + 1];
	size_t n;

	memset(out, 0, sizeof(*out));
	if (*text == '\0') {
		snprintf(msg, msglen, "is empty; set it to the broker's name or address");
		return -1;
	}
	if (strlen(text) > CONFIG_HOST_MAX + sizeof(":65535") + 1) {
		snprintf(msg, msglen, "is longer than %d characters; shorten it", CONFIG_HOST_MAX);
		return -1;
	}
	if (text[0] == '[') {
		/* [IPv6] or [IPv6]:PORT: the brackets are what lets an address that is all colons
		 * carry a port. */
		end = strchr(text, ']');
		n = end != NULL ? (size_t)(end - text - 1) : 0;
		if (end == NULL || n == 0 || n > CONFIG_HOST_MAX ||
		    (end[1] != '\0' && (end[1] != ':' || !parse_port_text(end + 2, &out->port)))) {
			snprintf(msg, msglen, "must be [IPv6 address] or [IPv6 address]:PORT");
			return -1;
		}
		memcpy(host, text + 1, n);
		host[n] = '\0';
		if (strchr(host, ':') == NULL || !valid_ip_literal(host)) {
			snprintf(msg, msglen, "must have an IPv6 address between its brackets");
			return -1;
		}
		out->port_given = end[1] != '\0';
	} else if (colon != NULL && strchr(text, ':') == colon) {
		/* One colon: NAME:PORT or IPv4:PORT. */
		n = (size_t)(colon - text);
		if (n == 0 || n > CONFIG_HOST_MAX || !parse_port_text(colon + 1, &out->port)) {
			snprintf(msg, msglen,
			         "must be NAME or NAME:PORT with PORT from 1 to 65535 (an IPv6 "
			         "address with a port goes in brackets: [::1]:8883)");
			return -1;
		}
		memcpy(host, text, n);
		host[n] = '\0';
		out->port_given = true;
	} else {
		/* No colon (a name), or several (a bare IPv6 address, which has no port). */
		if (strlen(text) > CONFIG_HOST_MAX) {
			snprintf(msg, msglen, "is longer than %d characters; shorten it",
			         CONFIG_HOST_MAX);
			return -1;
		}
		memcpy(host, text, strlen(text) + 1);
	}
	if (!valid_host(host)) {
		snprintf(msg, msglen,
		         "must be a host name or an IP address, optionally with :PORT");
		return -1;
	}
	memcpy(out->host, host, strlen(host) + 1);
	return 0;
}

/*
 * host: one more broker, in order of preference (the key's base is the whole struct config).
 * Its port, when the line has none, is [mqtt] port, which may come later in the file: it is
 * filled in once the whole file was read (check_mqtt_keys()).
 */
static int
parse_host(const struct config_key *k, const struct config_value *v)
{
	struct config *cfg = v->base;
	struct config_broker b;
	char shown[SHOWN_MAX + 4], why[160];

	if (has_control(v->text))
		return refuse(v, "%s contains a control character; remove it", k->name);
	if (config_broker_parse(v->text, &b, why, sizeof(why)) != 0) {
		if (*v->text == '\0' || strncmp(why, "is ", 3) == 0)
			return refuse(v, "%s %s", k->name, why);
		return refuse(v, "%s %s, not '%s'", k->name, why,
		              show(shown, sizeof(shown), v->text));
	}
	if (cfg->nbrokers == CONFIG_MAX_BROKERS)
		return refuse(v,
		              "more than %d hosts; garaged fails over between at most %d brokers: "
		              "remove this one",
		              CONFIG_MAX_BROKERS, CONFIG_MAX_BROKERS);
	b.line = v->line;
	cfg->brokers[cfg->nbrokers++] = b;
	return 0;
}

/* topic_prefix and [homeassistant] prefix: the first levels of every topic garaged uses. */
static int
parse_topic_prefix(const struct config_key *k, const struct config_value *v)
{
	switch (names_topic_prefix_check(v->text)) {
	case NAMES_PREFIX_OK:
		return config_parse_string(k, v);
	case NAMES_PREFIX_EMPTY:
		return refuse(v, "%s is empty; set it, e.g. %s = %s", k->name, k->name, k->def);
	case NAMES_PREFIX_TOO_LONG:
		return refuse(v, "%s is longer than %d characters; shorten it", k->name,
		              NAMES_PREFIX_MAX);
	case NAMES_PREFIX_WILDCARD:
		return refuse(v, "%s must not contain the MQTT wildcards '+' or '#'; remove them",
		              k->name);
	case NAMES_PREFIX_EMPTY_LEVEL:
		return refuse(v,
		              "%s must not start or end with '/' or contain '//' (empty topic "
		              "levels); remove the extra '/'",
		              k->name);
	case NAMES_PREFIX_SPACE:
		return refuse(v, "%s must not contain spaces or control characters; remove them",
		              k->name);
	}
	assert(!"unhandled topic prefix error");
	return -1;
}

static int
parse_chip(const struct config_key *k, const struct config_value *v)
{
	if (*v->text == '\0')
		return refuse(v, "%s is empty; set it, e.g. %s, or remove the line", k->name,
		              k->example);
	return config_parse_string(k, v);
}

static int
hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Exactly WANT bytes of hex: pairs with SEP between each two (':' or ' '), or with nothing
 * between them when SEP is '\0'.
 */
static bool
decode_hex(const char *s, char sep, unsigned char *out, size_t want)
{
	size_t i;

	for (i = 0; i < want; i++) {
		int hi, lo;

		if (i > 0 && sep != '\0' && *s++ != sep)
			return false;
		hi = hex_digit((unsigned char)s[0]);
		lo = hi < 0 ? -1 : hex_digit((unsigned char)s[1]);
		if (hi < 0 || lo < 0)
			return false;
		out[i] = (unsigned char)(hi << 4 | lo);
		s += 2;
	}
	return *s == '\0';
}

static bool
decode_sha256(const char *s, unsigned char *out)
{
	return decode_hex(s, strchr(s, ':') != NULL ? ':' : '\0', out, 32);
}

/* A pin is added to cfg->pins (the key's base is the whole struct config), with its line. */
static int
parse_pin(const struct config_key *k, const struct config_value *v)
{
	struct config *cfg = v->base;
	struct config_pin pin = {.line = v->line};
	unsigned char scratch[32];
	char shown[SHOWN_MAX + 4];
	const char *t = v->text;

	if (cfg->npins == CONFIG_MAX_PINS)
		return refuse(v, "more than %d pins; remove the ones no longer in use",
		              CONFIG_MAX_PINS);
	if (strncasecmp(t, "sha256:", 7) == 0 || strncasecmp(t, "spki-sha256:", 12) == 0) {
		bool spki = strncasecmp(t, "spki-sha256:", 12) == 0;
		const char *hex = t + (spki ? 12 : 7);

		if (!decode_sha256(hex, pin.digest))
			return refuse(
			    v,
			    "%s %s needs 32 bytes in hex (64 digits, colons between bytes "
			    "optional), not '%s'",
			    k->name,
			    spki ? "spki-sha256:" : "sha256:", show(shown, sizeof(shown), hex));
		pin.kind = spki ? CONFIG_PIN_SPKI_SHA256 : CONFIG_PIN_CERT_SHA256;
		pin.len = 32;
	} else if (decode_hex(t, ':', pin.digest, 20) || decode_hex(t, ' ', pin.digest, 20)) {
		pin.kind = CONFIG_PIN_CERT_SHA1;
		pin.len = 20;
	} else if (decode_hex(t, ':', scratch, 32)) {
		/* What `openssl x509 -fingerprint -sha256` prints: say which hash it must be. */
		return refuse(
		    v,
		    "%s '%s' is a bare SHA-256 fingerprint; put sha256: before it if it is "
		    "the certificate's hash, or spki-sha256: if it is its public key's",
		    k->name, show(shown, sizeof(shown), t));
	} else {
		return config_bad_value(k, v,
		                        "sha256:<64 hex digits>, spki-sha256:<64 hex digits> or a "
		                        "SHA-1 fingerprint of 20 bytes as 'DA:39:A3:...' or "
		                        "'DA 39 A3 ...'");
	}
	cfg->pins[cfg->npins++] = pin;
	return 0;
}

/* The table's rows, by name, for the checks that involve more than one key. */
enum key {
	K_ID,
	K_USER,
	K_STATE_DIR,
	K_HOST,
	K_PORT,
	K_CAFILE,
	K_CERTFILE,
	K_KEYFILE,
	K_PIN,
	K_TLS_VERSION,
	K_USERNAME,
	K_PASSWORD_FILE,
	K_KEEPALIVE,
	K_RECONNECT_MIN_MS,
	K_RECONNECT_MAX_S,
	K_FAILBACK_S,
	K_TOPIC_PREFIX,
	K_RENEW_BEFORE_DAYS,
	K_AUTHORIZED_KEYS,
	K_CLOCK_SKEW,
	K_DISCOVERY,
	K_HA_PREFIX,
	K_COMMANDS,
	K_BACKEND,
	K_CHIP,
	K_RELAY_LINE,
	K_CLOSED_LINE,
	K_OPEN_LINE,
	K_ACTIVE_LOW,
	K_RELAY_PULSE_MS,
	K_MIN_PULSE_INTERVAL_MS,
	K_TRAVEL_TIME_S,
	K_AUTO_CLOSE_S,
	K_AUTO_CLOSE_WARNING_S,
	K_SIM_TRAVEL_MS,
	K_SIM_START,
	K_SIM_LOG,
	K_NKEYS
};

/* A key's field: in struct config, or in the struct config_door of its [door.NAME]. */
#define CFG(f)  offsetof(struct config, f), sizeof(((struct config *)0)->f)
#define DOOR(f) offsetof(struct config_door, f), sizeof(((struct config_door *)0)->f)

#define REQUIRED CONFIG_KEY_REQUIRED
#define GPIOD    CONFIG_KEY_GPIOD
#define SIM_ONLY CONFIG_KEY_SIM_ONLY

/*
 * Every key of garaged.conf, in SPEC order within each section (the order of the messages that
 * list a section's keys, and of the documentation). Columns: section, name, type, range (min,
 * max: numbers only), default (as it would be written; NULL: none), what to write when it is
 * missing, flags, field, what it is for.
 */
static const struct config_key keys[K_NKEYS] = {
    [K_ID] = {"device", "id", parse_device_id, 0, 0, NULL, "id = garage", REQUIRED, CFG(device_id),
              "this device's name, in its topics and in every signed command"},
    [K_USER] = {"device", "user", parse_user, 0, 0, "nobody", NULL, 0, CFG(user),
                "the user the network half runs as when garaged starts as root"},
    [K_STATE_DIR] = {"device", "state_dir", parse_path, 0, 0, "/var/lib/garaged", NULL, 0,
                     CFG(state_dir), "where the replay window survives a restart"},

    [K_HOST] = {"mqtt", "host", parse_host, 0, 0, NULL, "host = mqtt.local",
                REQUIRED | CONFIG_KEY_REPEATABLE, CFG(brokers),
                "a broker's host name or IP address, optionally :PORT; repeated: in order of "
                "preference"},
    [K_PORT] = {"mqtt", "port", parse_number, 1, 65535, "8883", NULL, 0, CFG(port),
                "the brokers' port where host gives none; 8883 is MQTT over TLS"},
    [K_CAFILE] = {"mqtt", "cafile", parse_path, 0, 0, NULL, "cafile = /path/to/ca.crt",
                  REQUIRED | CONFIG_KEY_FILE, CFG(cafile),
                  "the CA that signed the broker's certificate"},
    [K_CERTFILE] = {"mqtt", "certfile", parse_path, 0, 0, NULL, "certfile = /path/to/device.crt",
                    REQUIRED | CONFIG_KEY_FILE, CFG(certfile),
                    "this client's certificate, whose CN is its MQTT identity"},
    [K_KEYFILE] = {"mqtt", "keyfile", parse_path, 0, 0, NULL, "keyfile = /path/to/device.key",
                   REQUIRED | CONFIG_KEY_FILE_PRIVATE, CFG(keyfile),
                   "the certificate's private key"},
    [K_PIN] = {"mqtt", "pin", parse_pin, 0, 0, NULL, NULL, CONFIG_KEY_REPEATABLE, CFG(pins),
               "a fingerprint the broker's certificate must match, on top of the CA"},
    [K_TLS_VERSION] = {"mqtt", "tls_version", parse_tls_version, 0, 0, "tlsv1.2", NULL, 0,
                       CFG(tls_version), "the oldest TLS version accepted"},
    [K_USERNAME] = {"mqtt", "username", config_parse_string, 0, 0, NULL, NULL, 0, CFG(username),
                    "a broker user name, on top of the certificate"},
    [K_PASSWORD_FILE] = {"mqtt", "password_file", parse_path, 0, 0, NULL, NULL,
                         CONFIG_KEY_FILE_PRIVATE, CFG(password_file),
                         "a file whose first line is the broker password"},
    [K_KEEPALIVE] = {"mqtt", "keepalive", parse_number, 5, 3600, "30", NULL, 0, CFG(keepalive),
                     "seconds between MQTT keepalives"},
    [K_RECONNECT_MIN_MS] = {"mqtt", "reconnect_min_ms", parse_number, 100, 60000, "500", NULL, 0,
                            CFG(reconnect_min_ms), "the first reconnect's delay, in ms"},
    [K_RECONNECT_MAX_S] = {"mqtt", "reconnect_max_s", parse_number, 1, 3600, "60", NULL, 0,
                           CFG(reconnect_max_s), "the reconnect backoff's cap, in seconds"},
    [K_FAILBACK_S] = {"mqtt", "failback_s", parse_number, 1, 86400, "60", NULL, 0, CFG(failback_s),
                      "on a less preferred broker: seconds (+-25%) between probes of a better one"},
    [K_TOPIC_PREFIX] = {"mqtt", "topic_prefix", parse_topic_prefix, 0, 0, "garage", NULL, 0,
                        CFG(topic_prefix), "the first level(s) of every topic"},
    [K_RENEW_BEFORE_DAYS] =
        {"mqtt", "renew_before_days", parse_number, 0, 365, "30", NULL, 0, CFG(renew_before_days),
         "days before certfile expires that garaged asks for a new one; 0: never"},

    [K_AUTHORIZED_KEYS] = {"security", "authorized_keys", parse_path, 0, 0, NULL,
                           "authorized_keys = /etc/garaged/authorized_keys",
                           REQUIRED | CONFIG_KEY_FILE_GUARDED, CFG(authorized_keys),
                           "the public keys allowed to sign commands"},
    [K_CLOCK_SKEW] = {"security", "clock_skew", parse_number, 1, 3600, "30", NULL, 0,
                      CFG(clock_skew), "seconds a command's time may differ from the device's"},

    [K_DISCOVERY] = {"homeassistant", "discovery", parse_bool, 0, 0, "true", NULL, 0,
                     CFG(ha_discovery), "whether to publish Home Assistant's MQTT discovery"},
    [K_HA_PREFIX] = {"homeassistant", "prefix", parse_topic_prefix, 0, 0, "homeassistant", NULL, 0,
                     CFG(ha_prefix), "Home Assistant's discovery prefix"},
    [K_COMMANDS] = {"homeassistant", "commands", parse_ha_commands, 0, 0, "off", NULL, 0,
                    CFG(ha_commands), "whether Home Assistant may send unsigned commands"},

    [K_BACKEND] = {"door.NAME", "backend", parse_backend, 0, 0, NULL,
                   "backend = sim or backend = gpiod", REQUIRED, DOOR(backend),
                   "the door's hardware: GPIO lines, or a simulated door"},
    [K_CHIP] = {"door.NAME", "chip", parse_chip, 0, 0, NULL, "chip = gpiochip0", GPIOD, DOOR(chip),
                "the GPIO chip, a name or a path"},
    [K_RELAY_LINE] = {"door.NAME", "relay_line", parse_gpio_line, 0, 1023, "-1",
                      "relay_line = N, the GPIO line that drives the relay", GPIOD,
                      DOOR(relay_line), "the GPIO line that drives the relay"},
    [K_CLOSED_LINE] = {"door.NAME", "closed_line", parse_gpio_line, 0, 1023, "-1",
                       "closed_line = N, the GPIO line of the closed-position switch", GPIOD,
                       DOOR(closed_line), "the GPIO line of the closed-position switch"},
    [K_OPEN_LINE] = {"door.NAME", "open_line", parse_gpio_line, 0, 1023, "-1", NULL, 0,
                     DOOR(open_line), "the GPIO line of the open-position switch, if any"},
    [K_ACTIVE_LOW] = {"door.NAME", "active_low", parse_bool, 0, 0, "false", NULL, 0,
                      DOOR(active_low), "whether every line of the door is inverted"},
    [K_RELAY_PULSE_MS] = {"door.NAME", "relay_pulse_ms", parse_number, 50, 10000, "500", NULL, 0,
                          DOOR(relay_pulse_ms), "how long a press holds the relay, in ms"},
    [K_MIN_PULSE_INTERVAL_MS] = {"door.NAME", "min_pulse_interval_ms", parse_number, 0, 600000,
                                 "1000", NULL, 0, DOOR(min_pulse_interval_ms),
                                 "the least time between two presses, in ms"},
    [K_TRAVEL_TIME_S] = {"door.NAME", "travel_time_s", parse_number, 1, 600, "15", NULL, 0,
                         DOOR(travel_time_s), "seconds the door takes end to end"},
    [K_AUTO_CLOSE_S] = {"door.NAME", "auto_close_s", parse_number, 0, 86400, "0", NULL, 0,
                        DOOR(auto_close_s), "close the door after it stood open this long; 0: off"},
    [K_AUTO_CLOSE_WARNING_S] = {"door.NAME", "auto_close_warning_s", parse_number, 0, 3600, "10",
                                NULL, 0, DOOR(auto_close_warning_s),
                                "seconds the auto_close event comes before the close"},
    [K_SIM_TRAVEL_MS] = {"door.NAME", "sim_travel_ms", parse_number, 100, 600000, "3000", NULL,
                         SIM_ONLY, DOOR(sim_travel_ms),
                         "how long the simulated door takes end to end, in ms"},
    [K_SIM_START] = {"door.NAME", "sim_start", parse_sim_start, 0, 0, "closed", NULL, SIM_ONLY,
                     DOOR(sim_start_open), "the simulated door's position at start"},
    [K_SIM_LOG] = {"door.NAME", "sim_log", parse_path, 0, 0, NULL, NULL, SIM_ONLY, DOOR(sim_log),
                   "a file that gets a line per relay edge of the simulated door"},
};

const struct config_key *
config_keys(size_t *n)
{
	*n = K_NKEYS;
	return keys;
}

const struct config_key *
config_key_find(const char *section, const char *name)
{
	size_t i;

	for (i = 0; i < K_NKEYS; i++)
		if (strcmp(keys[i].section, section) == 0 && strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

/*
 * Reads TEXT into base with k's parse function. The defaults go through here too, so that a
 * default is read exactly as the same text in the file would be.
 */
static int
set_key(const struct config_key *k, const char *text, int line, void *base, char *msg,
        size_t msglen)
{
	const struct config_value v = {
	    .text = text, .line = line, .base = base, .msg = msg, .msglen = msglen};

	msg[0] = '\0';
	return k->parse(k, &v);
}

/* The defaults of TAB's keys of SECTION into base. */
static void
set_defaults(const struct config_key *tab, size_t n, const char *section, void *base)
{
	char msg[CONFIG_ERROR_MAX];
	size_t i;
	int r;

	for (i = 0; i < n; i++) {
		if (tab[i].def == NULL || strcmp(tab[i].section, section) != 0)
			continue;
		r = set_key(&tab[i], tab[i].def, 0, base, msg, sizeof(msg));
		/* A table's own default is never refused: test-config reads each one. */
		assert(r == 0);
		(void)r;
	}
}

enum section_kind {
	SEC_NONE = 0, /* before the first [section] */
	SEC_DEVICE,
	SEC_MQTT,
	SEC_SECURITY,
	SEC_HA,
	SEC_OWN, /* the caller's own section, in a file read by config_load_mqtt() */
	SEC_DOOR,
	SEC_IGNORED, /* a section already reported as wrong: its keys are not looked at */
};

/* The table's section of each kind; [door.NAME] is matched by its prefix, SEC_OWN is the
 * caller's. */
static const char *const sections[] = {
    [SEC_DEVICE] = "device",    [SEC_MQTT] = "mqtt",       [SEC_SECURITY] = "security",
    [SEC_HA] = "homeassistant", [SEC_DOOR] = DOOR_SECTION,
};

#define ALL_SECTIONS "[device], [mqtt], [security], [homeassistant] and [door.NAME]"

struct parser {
	struct config *cfg;
	const char *name; /* of the file, for messages */

	/* Set for config_load_mqtt(): the file has [mqtt] and this section, nothing else. */
	const struct config_section *own;
	char own_sections[CONFIG_NAME_MAX * 2]; /* "[mqtt] and [NAME]", for messages */

	/* The text being read and how far; lineno is the line inih is handling right now. */
	const char *text;
	size_t len;
	size_t pos;
	int lineno;

	enum section_kind sec;
	size_t door; /* index into cfg->doors when sec == SEC_DOOR */

	/* Where each section header and key was seen (0: not seen), for repeats and messages:
	 * keys by their index in keys[], or in own->keys for SEC_OWN. */
	int header[SEC_DOOR];
	int key_line[K_NKEYS];
	int door_key_line[CONFIG_MAX_DOORS][K_NKEYS];
	int own_key_line[CONFIG_SECTION_KEYS_MAX];

	/* The first error in file order: a later report replaces it only with a smaller line. */
	int err_line;
	bool failed;
	char msg[CONFIG_ERROR_MAX];
};

static void fail(struct parser *p, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
fail(struct parser *p, int line, const char *fmt, ...)
{
	va_list ap;

	if (p->failed && line >= p->err_line)
		return;
	va_start(ap, fmt);
	vsnprintf(p->msg, sizeof(p->msg), fmt, ap);
	va_end(ap);
	p->failed = true;
	p->err_line = line;
}

static const char *
section_name(const struct parser *p, enum section_kind k)
{
	return k == SEC_OWN ? p->own->name : sections[k];
}

/* The sections this file may have, for messages. */
static const char *
section_list(const struct parser *p)
{
	return p->own != NULL ? p->own_sections : ALL_SECTIONS;
}

/* A garaged.conf has every section but SEC_OWN; a file read by config_load_mqtt() two. */
static bool
allowed_section(const struct parser *p, enum section_kind k)
{
	if (p->own != NULL)
		return k == SEC_MQTT || k == SEC_OWN;
	return k != SEC_OWN;
}

/* The table of section k's keys, and the lines they were seen at. */
struct section_keys {
	const char *name;
	const struct config_key *tab;
	size_t n;
	int *line;  /* indexed like tab */
	void *base; /* where the values go */
};

static struct section_keys
section_keys(struct parser *p, enum section_kind k)
{
	struct section_keys s = {section_name(p, k), keys, K_NKEYS, p->key_line, p->cfg};

	if (k == SEC_OWN) {
		s.tab = p->own->keys;
		s.n = p->own->nkeys;
		s.line = p->own_key_line;
		s.base = p->own->base;
	} else if (k == SEC_DOOR) {
		s.line = p->door_key_line[p->door];
		s.base = &p->cfg->doors[p->door];
	}
	return s;
}

static int
find_key(const struct section_keys *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->tab[i].section, s->name) == 0 && strcmp(s->tab[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* "A, B and C" into buf: the names of TAB's keys of SECTION that have all of FLAGS. */
static void
key_list(char *buf, size_t size, const struct config_key *tab, size_t n, const char *section,
         unsigned flags)
{
	size_t i, left = 0, done = 0;

	for (i = 0; i < n; i++)
		if (strcmp(tab[i].section, section) == 0 && (tab[i].flags & flags) == flags)
			left++;
	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		if (strcmp(tab[i].section, section) != 0 || (tab[i].flags & flags) != flags)
			continue;
		if (done > 0)
			strncat(buf, done + 1 == left ? " and " : ", ", size - strlen(buf) - 1);
		strncat(buf, tab[i].name, size - strlen(buf) - 1);
		done++;
	}
}

static void
unknown_key(struct parser *p, const struct section_keys *s, const char *name)
{
	char valid[256];
	char shown[SHOWN_MAX + 4];
	char section[CONFIG_NAME_MAX + 8];

	key_list(valid, sizeof(valid), s->tab, s->n, s->name, 0);
	if (p->sec == SEC_DOOR)
		snprintf(section, sizeof(section), "door.%s", p->cfg->doors[p->door].name);
	else
		snprintf(section, sizeof(section), "%s", s->name);
	fail(p, p->lineno, "unknown key '%s' in [%s]; the keys of [%s] are %s",
	     show(shown, sizeof(shown), name), section, section, valid);
}

/* inih's handler: one "name = value" of the current section, at line p->lineno. */
static int
on_key(void *user, const char *inih_section, const char *name, const char *value)
{
	struct parser *p = user;
	struct section_keys s;
	const struct config_key *k;
	char shown[SHOWN_MAX + 4];
	char msg[CONFIG_ERROR_MAX - 64];
	int key;

	/* inih cuts section names at 49 characters; the reader keeps the whole one in p->sec. */
	(void)inih_section;

	if (p->sec == SEC_IGNORED)
		return 1;
	if (p->sec == SEC_NONE) {
		fail(p, p->lineno, "'%s' is outside any section; put it under its section (%s)",
		     show(shown, sizeof(shown), name), section_list(p));
		return 1;
	}
	s = section_keys(p, p->sec);
	key = find_key(&s, name);
	if (key < 0) {
		unknown_key(p, &s, name);
		return 1;
	}
	k = &s.tab[key];
	/* host and pin may be repeated: several brokers to fail over between, and several pins
	 * let a broker certificate be rotated without a window in which the device refuses it. */
	if (s.line[key] != 0 && !(k->flags & CONFIG_KEY_REPEATABLE)) {
		fail(p, p->lineno, "%s is given twice (first at line %d); keep one of them",
		     k->name, s.line[key]);
		return 1;
	}
	if (s.line[key] == 0)
		s.line[key] = p->lineno;
	/* A caller's parse function sees printable text only. */
	if (p->sec == SEC_OWN && has_control(value)) {
		fail(p, p->lineno, "%s contains a control character; remove it", k->name);
		return 1;
	}
	if (set_key(k, value, p->lineno, s.base, msg, sizeof(msg)) != 0)
		fail(p, p->lineno, "%s", msg[0] != '\0' ? msg : "bad value");
	return 1;
}

static void
door_defaults(struct config_door *d)
{
	memset(d, 0, sizeof(*d));
	set_defaults(keys, K_NKEYS, DOOR_SECTION, d);
}

static void
open_door_section(struct parser *p, const char *name)
{
	struct config *cfg = p->cfg;
	char shown[SHOWN_MAX + 4];
	size_t i;

	p->sec = SEC_IGNORED;
	if (!names_door_valid(name)) {
		fail(p, p->lineno,
		     "door name '%s' must be 1 to 32 characters of a-z, 0-9, '_' and '-'; rename "
		     "the section, e.g. [door.main]",
		     show(shown, sizeof(shown), name));
		return;
	}
	for (i = 0; i < cfg->ndoors; i++) {
		if (strcmp(cfg->doors[i].name, name) == 0) {
			fail(p, p->lineno,
			     "[door.%s] appears twice (first at line %d); "
			     "give each door its own name",
			     name, cfg->doors[i].line);
			return;
		}
	}
	if (cfg->ndoors == CONFIG_MAX_DOORS) {
		fail(p, p->lineno,
		     "[door.%s] is one door too many: garaged drives at most %d; "
		     "remove it",
		     name, CONFIG_MAX_DOORS);
		return;
	}
	p->door = cfg->ndoors++;
	door_defaults(&cfg->doors[p->door]);
	memcpy(cfg->doors[p->door].name, name, strlen(name) + 1);
	cfg->doors[p->door].line = p->lineno;
	p->sec = SEC_DOOR;
}

/*
 * Called by the reader for a "[section]" line, just before inih sees it: Debian's inih does not
 * call the handler on a section header, and a section without keys (or an unknown one) must
 * still be known.
 */
static void
open_section(struct parser *p, char *line)
{
	char *s = line + 1, *end = s;
	bool was_space = false;
	char shown[SHOWN_MAX + 4];
	enum section_kind k;

	/* The same scan as inih's: ']' ends the name, a ';' after a space starts a comment. */
	while (*end != '\0' && *end != ']' && !(was_space && *end == ';')) {
		was_space = isspace((unsigned char)*end);
		end++;
	}
	if (*end != ']') {
		/* inih reports the syntax error at this line; keys after it belong nowhere. */
		p->sec = SEC_IGNORED;
		return;
	}
	*end = '\0';
	for (const char *rest = end + 1; *rest != '\0'; rest++) {
		if (*rest == ';' || *rest == '#')
			break;
		if (!isspace((unsigned char)*rest)) {
			fail(p, p->lineno,
			     "unexpected text after [%s]; put keys on lines of their own",
			     show(shown, sizeof(shown), s));
			break;
		}
	}

	if (strncmp(s, "door.", 5) == 0 && p->own == NULL) {
		open_door_section(p, s + 5);
	} else {
		for (k = SEC_DEVICE; k < SEC_DOOR; k++)
			if (allowed_section(p, k) && strcmp(s, section_name(p, k)) == 0)
				break;
		if (k == SEC_DOOR) {
			fail(p, p->lineno, "unknown section [%s]; the sections are %s",
			     show(shown, sizeof(shown), s), section_list(p));
			p->sec = SEC_IGNORED;
		} else if (p->header[k] != 0) {
			fail(p, p->lineno, "[%s] appears twice (first at line %d); merge the two",
			     s, p->header[k]);
			p->sec = SEC_IGNORED;
		} else {
			p->header[k] = p->lineno;
			p->sec = k;
		}
	}
	*end = ']';
}

/*
 * inih's reader: hands over one physical line per call, so that inih's count and ours are the
 * line numbers of the file, and the handler runs while p->lineno is the line it handles.
 */
static char *
read_line(char *str, int num, void *stream)
{
	struct parser *p = stream;
	const char *s, *nl;
	size_t n, left;

	if (p->pos >= p->len || num < 2)
		return NULL;
	s = p->text + p->pos;
	left = p->len - p->pos;
	nl = memchr(s, '\n', left);
	n = nl != NULL ? (size_t)(nl - s) : left;
	p->pos += nl != NULL ? n + 1 : n;
	p->lineno++;
	str[0] = '\0';

	if (n > 0 && s[n - 1] == '\r')
		n--;
	if (p->lineno == 1 && n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) {
		s += 3;
		n -= 3;
	}
	/* A longer line would be split by inih and the rest read as a line of its own. */
	if (n > (size_t)num - 1) {
		fail(p, p->lineno, "line too long (at most %d characters); shorten it", num - 1);
		return str;
	}
	if (memchr(s, '\0', n) != NULL) {
		fail(p, p->lineno, "line contains a NUL byte; the configuration must be text");
		return str;
	}
	/* inih reads an indented line as the continuation of the previous value; an owner who
	 * indents keys means keys, so the indentation goes. */
	while (n > 0 && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	memcpy(str, s, n);
	str[n] = '\0';
	if (str[0] == '[')
		open_section(p, str);
	return str;
}

static int
later(int a, int b)
{
	return a > b ? a : b;
}

/* Checks that need the whole door section: its backend may come after the keys it governs. */
static void
check_door_keys(struct parser *p, size_t i)
{
	const struct config_door *d = &p->cfg->doors[i];
	const int *line = p->door_key_line[i];
	size_t k;

	if (line[K_BACKEND] == 0 || d->backend != CONFIG_BACKEND_GPIOD)
		return;
	for (k = 0; k < K_NKEYS; k++)
		if ((keys[k].flags & CONFIG_KEY_SIM_ONLY) && line[k] != 0)
			fail(p, line[k],
			     "%s applies only to backend = sim; remove it (this door has "
			     "backend = gpiod)",
			     keys[k].name);
	if (line[K_RELAY_LINE] != 0 && d->relay_line < 0)
		fail(p, line[K_RELAY_LINE],
		     "relay_line = -1 means no line, but backend = gpiod needs one; set it "
		     "to the GPIO line that drives the relay");
	if (line[K_CLOSED_LINE] != 0 && d->closed_line < 0)
		fail(p, line[K_CLOSED_LINE],
		     "closed_line = -1 means no line, but backend = gpiod needs one; "
		     "set it to the GPIO line of the closed-position switch");
	/* libgpiod would refuse the second request of a line with a bare EBUSY. */
	if (d->closed_line >= 0 && d->closed_line == d->relay_line)
		fail(p, later(line[K_CLOSED_LINE], line[K_RELAY_LINE]),
		     "closed_line and relay_line are both %d; each needs its own GPIO line",
		     d->closed_line);
	if (d->open_line >= 0 && d->open_line == d->relay_line)
		fail(p, later(line[K_OPEN_LINE], line[K_RELAY_LINE]),
		     "open_line and relay_line are both %d; each needs its own GPIO line",
		     d->open_line);
	if (d->open_line >= 0 && d->open_line == d->closed_line)
		fail(p, later(line[K_OPEN_LINE], line[K_CLOSED_LINE]),
		     "open_line and closed_line are both %d; each needs its own GPIO line",
		     d->open_line);
}

/*
 * The backoff's cap must not be below its floor; either key may come first, or be defaulted.
 * Each host without a port gets [mqtt] port (read by now, wherever it was), and the same
 * broker twice is a mistake at the second line.
 */
static void
check_mqtt_keys(struct parser *p)
{
	struct config *cfg = p->cfg;
	size_t i, j;

	for (i = 0; i < cfg->nbrokers; i++) {
		struct config_broker *b = &cfg->brokers[i];

		if (!b->port_given)
			b->port = cfg->port;
		for (j = 0; j < i; j++)
			if (strcmp(cfg->brokers[j].host, b->host) == 0 &&
			    cfg->brokers[j].port == b->port)
				fail(p, b->line,
				     "host %s port %u is given twice (first at line %d); keep one "
				     "of them",
				     b->host, (unsigned)b->port, cfg->brokers[j].line);
	}
	if (cfg->nbrokers > 0) {
		memcpy(cfg->host, cfg->brokers[0].host, sizeof(cfg->host));
		cfg->port = cfg->brokers[0].port;
	}
	if ((uint64_t)cfg->reconnect_max_s * 1000U >= cfg->reconnect_min_ms)
		return;
	fail(p, later(p->key_line[K_RECONNECT_MIN_MS], p->key_line[K_RECONNECT_MAX_S]),
	     "reconnect_max_s (%u s) is less than reconnect_min_ms (%u ms); raise reconnect_max_s "
	     "or lower reconnect_min_ms",
	     (unsigned)cfg->reconnect_max_s, (unsigned)cfg->reconnect_min_ms);
}

static enum section_kind
section_of(const struct config_key *k)
{
	enum section_kind s;

	for (s = SEC_DEVICE; s <= SEC_DOOR; s++)
		if (sections[s] != NULL && strcmp(sections[s], k->section) == 0)
			return s;
	assert(!"a key of no section");
	return SEC_NONE;
}

/* Required keys missing, reported at their section's header, or at the end of the file. */
static void
check_required(struct parser *p)
{
	const struct config *cfg = p->cfg;
	int last = p->lineno > 0 ? p->lineno : 1;
	char list[96], gpiod_needs[128];
	size_t i, k;

	for (k = 0; k < K_NKEYS; k++) {
		enum section_kind s = section_of(&keys[k]);

		if (!(keys[k].flags & CONFIG_KEY_REQUIRED) || s == SEC_DOOR ||
		    !allowed_section(p, s))
			continue;
		if (p->header[s] == 0)
			fail(p, last, "there is no [%s] section; add [%s] with %s", sections[s],
			     sections[s], keys[k].example);
		else if (p->key_line[k] == 0)
			fail(p, p->header[s], "[%s] has no '%s'; add %s", sections[s], keys[k].name,
			     keys[k].example);
	}
	if (p->own != NULL)
		return;
	if (cfg->ndoors == 0)
		fail(p, last,
		     "there is no door; add a [door.main] section with backend = sim or gpiod");
	key_list(list, sizeof(list), keys, K_NKEYS, DOOR_SECTION, CONFIG_KEY_GPIOD);
	snprintf(gpiod_needs, sizeof(gpiod_needs), " (backend = gpiod needs %s)", list);
	for (i = 0; i < cfg->ndoors; i++) {
		const struct config_door *d = &cfg->doors[i];
		const int *line = p->door_key_line[i];

		for (k = 0; k < K_NKEYS; k++) {
			bool gpiod = keys[k].flags & CONFIG_KEY_GPIOD;

			if (strcmp(keys[k].section, DOOR_SECTION) != 0 || line[k] != 0 ||
			    !((keys[k].flags & CONFIG_KEY_REQUIRED) ||
			      (gpiod && line[K_BACKEND] != 0 &&
			       d->backend == CONFIG_BACKEND_GPIOD)))
				continue;
			fail(p, d->line, "[door.%s] has no '%s'; add %s%s", d->name, keys[k].name,
			     keys[k].example, gpiod ? gpiod_needs : "");
		}
	}
}

/* How closely a file garaged reads is guarded. */
enum file_guard {
	FILE_PLAIN,   /* certificates: anyone may read them */
	FILE_GUARDED, /* authorized_keys: only root or garaged's user may have put it there */
	FILE_PRIVATE, /* keys and passwords: GUARDED, and nobody else may read it either */
};

/*
 * A file garaged will read after start: it must be a readable regular file now, so that a typo
 * is reported by --check-config and not as a TLS failure later. A GUARDED or PRIVATE file is
 * not reached through a symbolic link, is not writable by group or others, and it and every
 * directory above it belong to root or to garaged's user (safepath.c); a PRIVATE one is also
 * closed to reading by group and others.
 */
static void
check_file(struct parser *p, const char *key, const char *path, int line, enum file_guard guard)
{
	bool private = guard == FILE_PRIVATE;
	char msg[CONFIG_ERROR_MAX / 2];
	struct stat st;
	int fd;

	/* O_NONBLOCK: a FIFO put in place of a file must not hang the check. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK |
	                    (guard == FILE_PLAIN ? 0 : O_NOFOLLOW));
	if (fd < 0 && errno == ELOOP) {
		fail(p, line, "%s %s is a symbolic link; point %s at the file itself", key, path,
		     key);
		return;
	}
	if (fd < 0) {
		int e = errno;

		fail(p, line, "%s %s: %s; %s", key, path, strerror(e),
		     e == ENOENT ? "fix the path or create the file"
		                 : "make it readable by the user garaged runs as");
		return;
	}
	if (fstat(fd, &st) != 0) {
		fail(p, line, "%s %s: %s; check the file", key, path, strerror(errno));
	} else if (!S_ISREG(st.st_mode)) {
		fail(p, line, "%s %s is not a regular file; point %s at the file itself", key, path,
		     key);
	} else if (private && (st.st_mode & (S_IRGRP | S_IROTH)) != 0) {
		fail(p, line, "%s %s is readable by group or others (mode %04o); run chmod 600 %s",
		     key, path, (unsigned)(st.st_mode & 07777), path);
	} else if (guard != FILE_PLAIN && (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		fail(p, line, "%s %s is writable by group or others (mode %04o); run chmod %s %s",
		     key, path, (unsigned)(st.st_mode & 07777), private ? "600" : "go-w", path);
	} else if (guard != FILE_PLAIN && safepath_check(path, &st, msg, sizeof(msg)) != 0) {
		fail(p, line, "%s %s", key, msg);
	}
	close(fd);
}

/* The simulator creates its log at start; the directory it goes in must already be there. */
static void
check_log_dir(struct parser *p, const char *path, int line)
{
	char dir[CONFIG_PATH_MAX + 2];
	struct stat st;

	safepath_dirname(path, dir);
	if (stat(dir, &st) != 0)
		fail(p, line, "sim_log %s: directory %s: %s; create it or change sim_log", path,
		     dir, strerror(errno));
	else if (!S_ISDIR(st.st_mode))
		fail(p, line, "sim_log %s: %s is not a directory; change sim_log", path, dir);
}

/* In key order, and only the first problem: a file check has no place in file order. */
static void
check_files(struct parser *p)
{
	const struct config *cfg = p->cfg;
	size_t i, k;

	for (k = 0; k < K_NKEYS && !p->failed; k++) {
		unsigned f = keys[k].flags;
		const char *path = (const char *)cfg + keys[k].offset;

		if (!(f & (CONFIG_KEY_FILE | CONFIG_KEY_FILE_GUARDED | CONFIG_KEY_FILE_PRIVATE)) ||
		    !allowed_section(p, section_of(&keys[k])) || path[0] == '\0')
			continue;
		assert(section_of(&keys[k]) != SEC_DOOR);
		check_file(p, keys[k].name, path, p->key_line[k],
		           (f & CONFIG_KEY_FILE_PRIVATE)   ? FILE_PRIVATE
		           : (f & CONFIG_KEY_FILE_GUARDED) ? FILE_GUARDED
		                                           : FILE_PLAIN);
	}
	for (i = 0; i < cfg->ndoors && !p->failed; i++)
		if (cfg->doors[i].sim_log[0] != '\0')
			check_log_dir(p, cfg->doors[i].sim_log, p->door_key_line[i][K_SIM_LOG]);
}

/* Every key of garaged.conf but the doors' at its default. */
static void
config_defaults(struct config *cfg)
{
	size_t s;

	memset(cfg, 0, sizeof(*cfg));
	for (s = SEC_DEVICE; s < SEC_DOOR; s++)
		if (sections[s] != NULL)
			set_defaults(keys, K_NKEYS, sections[s], cfg);
}

/* config_parse_buffer(), and with OWN the two-section file of config_load_mqtt(). */
static int
parse(struct config *cfg, const char *name, const char *text, size_t len, bool check_files_too,
      const struct config_section *own, char *err, size_t errlen)
{
	struct parser p;
	int syntax;

	assert(cfg != NULL && name != NULL && (text != NULL || len == 0));
	assert(own == NULL ||
	       (own->name != NULL && own->nkeys <= CONFIG_SECTION_KEYS_MAX && own->base != NULL));
	/* A caller's keys are all of its section; being required, or naming a file to check,
	 * is garaged.conf's alone (check_required(), check_files()). */
	for (size_t i = 0; own != NULL && i < own->nkeys; i++)
		assert(strcmp(own->keys[i].section, own->name) == 0 &&
		       (own->keys[i].flags & ~CONFIG_KEY_REPEATABLE) == 0);
	config_defaults(cfg);
	if (own != NULL)
		set_defaults(own->keys, own->nkeys, own->name, own->base);
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (strlen(name) >= sizeof(cfg->file)) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen,
			         "%s: the path is longer than %zu characters; use a shorter one",
			         name, sizeof(cfg->file) - 1);
		return -1;
	}
	memcpy(cfg->file, name, strlen(name) + 1);

	memset(&p, 0, sizeof(p));
	p.cfg = cfg;
	p.name = name;
	p.text = text != NULL ? text : "";
	p.len = len;
	if (own != NULL) {
		p.own = own;
		snprintf(p.own_sections, sizeof(p.own_sections), "[mqtt] and [%s]", own->name);
	}

	syntax = ini_parse_stream(read_line, &p, on_key, &p);
	if (syntax > 0)
		fail(&p, syntax, "syntax error: expected [section] or key = value");
	else if (syntax < 0)
		fail(&p, p.lineno > 0 ? p.lineno : 1, "cannot parse (inih error %d)", syntax);
	for (size_t i = 0; i < cfg->ndoors; i++)
		check_door_keys(&p, i);
	check_mqtt_keys(&p);
	if (!p.failed)
		check_required(&p);
	if (!p.failed && check_files_too)
		check_files(&p);

	if (!p.failed)
		return 0;
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s:%d: %s", name, p.err_line, p.msg);
	return -1;
}

int
config_parse_buffer(struct config *cfg, const char *name, const char *text, size_t len,
                    bool check_files_too, char *err, size_t errlen)
{
	return parse(cfg, name, text, len, check_files_too, NULL, err, errlen);
}

static int
load(struct config *cfg, const char *path, const struct config_section *own, char *err,
     size_t errlen)
{
	FILE *f;
	char *text;
	size_t len;
	int ret, e;
	bool bad;

	assert(cfg != NULL && path != NULL);
	config_defaults(cfg);
	f = fopen(path, "r");
	if (f == NULL) {
		e = errno;
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s: %s; check the path of the configuration file",
			         path, strerror(e));
		return -1;
	}
	text = malloc(CONFIG_FILE_MAX + 1);
	if (text == NULL) {
		fclose(f);
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	errno = 0;
	len = fread(text, 1, CONFIG_FILE_MAX + 1, f);
	e = errno;
	bad = ferror(f) != 0;
	fclose(f);
	if (bad || len > CONFIG_FILE_MAX) {
		if (err != NULL && errlen > 0) {
			if (bad)
				snprintf(err, errlen,
				         "%s: %s; give the path of the configuration file", path,
				         e != 0 ? strerror(e) : "read error");
			else
				snprintf(err, errlen,
				         "%s: larger than %d bytes; "
				         "give the path of the configuration file",
				         path, CONFIG_FILE_MAX);
		}
		free(text);
		return -1;
	}
	ret = parse(cfg, path, text, len, true, own, err, errlen);
	free(text);
	return ret;
}

int
config_load(struct config *cfg, const char *path, char *err, size_t errlen)
{
	return load(cfg, path, NULL, err, errlen);
}

int
config_load_mqtt(struct config *cfg, const char *path, const struct config_section *own, char *err,
                 size_t errlen)
{
	assert(own != NULL);
	return load(cfg, path, own, err, errlen);
}
