/*
 * config: garaged.conf, read with inih into a struct config.
 *
 * This file owns the meaning of every key of SPEC "garaged.conf (INI)": its default, its range,
 * whether it is required, and the one error message, "FILE:LINE: message", that tells the owner
 * what to change. Errors are reported in file order: a bad value, an unknown key or section or a
 * repeated key at its own line; then, once the whole file was read, required keys that are
 * missing; then, when asked, the files named in the configuration that are missing or unsafe.
 *
 * garagectl's ctl.conf shares the [mqtt] section (config_load_mqtt()): its keys are read by the
 * same code, so the tool and the daemon cannot come to disagree on what a key means.
 *
 * It never prints, never exits, never opens a network connection and never touches a GPIO line:
 * the caller decides what to do with the message.
 */
#include "config.h"

#include <openssl/crypto.h>

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

#include "safepath.h"

/* A configuration file is a page of text; anything larger is a wrong path, not a config. */
#define CONFIG_FILE_MAX (256 * 1024)

/* How much of a bad value an error message quotes. */
#define SHOWN_MAX 60

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

/* The keys of each section, in SPEC order; the enums index these tables. */
enum { DEV_ID, DEV_USER, DEV_STATE_DIR, DEV_NKEYS };
static const char *const device_keys[DEV_NKEYS] = {"id", "user", "state_dir"};

enum {
	MQ_HOST,
	MQ_PORT,
	MQ_CAFILE,
	MQ_CERTFILE,
	MQ_KEYFILE,
	MQ_PIN,
	MQ_TLS_VERSION,
	MQ_USERNAME,
	MQ_PASSWORD_FILE,
	MQ_KEEPALIVE,
	MQ_RECONNECT_MIN_MS,
	MQ_RECONNECT_MAX_S,
	MQ_TOPIC_PREFIX,
	MQ_NKEYS
};
static const char *const mqtt_keys[MQ_NKEYS] = {
    "host",         "port",     "cafile",        "certfile",  "keyfile",          "pin",
    "tls_version",  "username", "password_file", "keepalive", "reconnect_min_ms", "reconnect_max_s",
    "topic_prefix",
};

enum { SK_AUTHORIZED_KEYS, SK_CLOCK_SKEW, SK_NKEYS };
static const char *const security_keys[SK_NKEYS] = {"authorized_keys", "clock_skew"};

enum { HA_DISCOVERY, HA_PREFIX, HA_COMMANDS, HA_NKEYS };
static const char *const ha_keys[HA_NKEYS] = {"discovery", "prefix", "commands"};

enum {
	DK_BACKEND,
	DK_CHIP,
	DK_RELAY_LINE,
	DK_CLOSED_LINE,
	DK_OPEN_LINE,
	DK_ACTIVE_LOW,
	DK_RELAY_PULSE_MS,
	DK_MIN_PULSE_INTERVAL_MS,
	DK_TRAVEL_TIME_S,
	DK_AUTO_CLOSE_S,
	DK_AUTO_CLOSE_WARNING_S,
	DK_SIM_TRAVEL_MS,
	DK_SIM_START,
	DK_SIM_LOG,
	DK_NKEYS
};
static const char *const door_keys[DK_NKEYS] = {
    "backend",       "chip",         "relay_line",           "closed_line",
    "open_line",     "active_low",   "relay_pulse_ms",       "min_pulse_interval_ms",
    "travel_time_s", "auto_close_s", "auto_close_warning_s", "sim_travel_ms",
    "sim_start",     "sim_log",
};

#define MAX_KEYS MQ_NKEYS /* the most keys of [device], [mqtt], [security], [homeassistant] */
_Static_assert(CONFIG_SECTION_KEYS_MAX <= MAX_KEYS, "a caller's section has too many keys");

struct section_def {
	const char *name;
	const char *const *keys;
	size_t nkeys;
};

/* Indexed by enum section_kind; [door.NAME] is matched by its prefix; SEC_OWN is the caller's. */
static const struct section_def sections[] = {
    [SEC_DEVICE] = {"device", device_keys, DEV_NKEYS},
    [SEC_MQTT] = {"mqtt", mqtt_keys, MQ_NKEYS},
    [SEC_SECURITY] = {"security", security_keys, SK_NKEYS},
    [SEC_HA] = {"homeassistant", ha_keys, HA_NKEYS},
    [SEC_DOOR] = {"door.NAME", door_keys, DK_NKEYS},
};

#define ALL_SECTIONS "[device], [mqtt], [security], [homeassistant] and [door.NAME]"

struct parser {
	struct config *cfg;
	const char *name; /* of the file, for messages */

	/* Set for config_load_mqtt(): the file has [mqtt] and this section, nothing else. */
	const struct config_section *own;
	struct section_def own_def;
	char own_sections[CONFIG_NAME_MAX * 2]; /* "[mqtt] and [NAME]", for messages */

	/* The text being read and how far; lineno is the line inih is handling right now. */
	const char *text;
	size_t len;
	size_t pos;
	int lineno;

	enum section_kind sec;
	size_t door; /* index into cfg->doors when sec == SEC_DOOR */

	/* Where each section header and key was seen (0: not seen), for repeats and messages. */
	int header[SEC_DOOR];
	int key_line[SEC_DOOR][MAX_KEYS];
	int door_key_line[CONFIG_MAX_DOORS][DK_NKEYS];

	/* The first error in file order: a later report replaces it only with a smaller line. */
	int err_line;
	bool failed;
	char msg[CONFIG_ERROR_MAX];
};

static void fail(struct parser *p, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static const struct section_def *
section_def(const struct parser *p, enum section_kind k)
{
	return k == SEC_OWN ? &p->own_def : &sections[k];
}

/* The sections this file may have, for messages. */
static const char *
section_list(const struct parser *p)
{
	return p->own != NULL ? p->own_sections : ALL_SECTIONS;
}

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

/* "KEY must be WHAT, not 'VALUE'", the shape of every bad-value message. */
static void
bad_value(struct parser *p, const char *key, const char *what, const char *v)
{
	char shown[SHOWN_MAX + 4];

	/* '#' starts a comment only at the start of a line; a value ending in "# ..." is a
	 * common mistake whose message would otherwise be puzzling. */
	fail(p, p->lineno, "%s must be %s, not '%s'%s", key, what, show(shown, sizeof(shown), v),
	     strstr(v, " #") != NULL ? " (a comment after a value starts with ' ;', not '#')" : "");
}

static bool
has_control(const char *v)
{
	for (; *v != '\0'; v++)
		if ((unsigned char)*v < 0x20 || *v == 0x7f)
			return true;
	return false;
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

static bool
set_number(struct parser *p, const char *key, const char *v, long min, long max, long *out)
{
	char what[64];

	if (parse_long(v, min, max, out))
		return true;
	snprintf(what, sizeof(what), "a number from %ld to %ld", min, max);
	bad_value(p, key, what, v);
	return false;
}

static void
set_u32(struct parser *p, const char *key, const char *v, long min, long max, uint32_t *out)
{
	long n;

	if (set_number(p, key, v, min, max, &n))
		*out = (uint32_t)n;
}

static void
set_u16(struct parser *p, const char *key, const char *v, long min, long max, uint16_t *out)
{
	long n;

	if (set_number(p, key, v, min, max, &n))
		*out = (uint16_t)n;
}

static void
set_gpio_line(struct parser *p, const char *key, const char *v, int *out)
{
	long n;

	if (parse_long(v, -1, 1023, &n))
		*out = (int)n;
	else
		bad_value(p, key, "a GPIO line number from 0 to 1023, or -1 for none", v);
}

static void
set_bool(struct parser *p, const char *key, const char *v, bool *out)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = true;
			return;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = false;
			return;
		}
	}
	bad_value(p, key, "true or false (or yes/no, on/off, 1/0)", v);
}

/*
 * A string into a fixed field. Too long is an error, never a silent cut: a truncated path or
 * host name would point somewhere else.
 */
static bool
set_string(struct parser *p, const char *key, const char *v, char *dst, size_t size)
{
	if (strlen(v) >= size) {
		fail(p, p->lineno, "%s is longer than %zu characters; shorten it", key, size - 1);
		return false;
	}
	if (has_control(v)) {
		fail(p, p->lineno, "%s contains a control character; remove it", key);
		return false;
	}
	memcpy(dst, v, strlen(v) + 1);
	return true;
}

/* A path; EXAMPLE is what a required one could look like, NULL when it may be left empty. */
static void
set_path(struct parser *p, const char *key, const char *v, char *dst, const char *example)
{
	if (*v == '\0' && example != NULL) {
		fail(p, p->lineno, "%s is empty; set it, e.g. %s = %s", key, key, example);
		return;
	}
	set_string(p, key, v, dst, CONFIG_PATH_MAX);
}

static bool
valid_name(const char *v)
{
	size_t n = strlen(v);

	if (n < 1 || n > CONFIG_NAME_MAX)
		return false;
	for (; *v != '\0'; v++)
		if (!((*v >= 'a' && *v <= 'z') || (*v >= '0' && *v <= '9') || *v == '_' ||
		      *v == '-'))
			return false;
	return true;
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

/* topic_prefix and [homeassistant] prefix: the first levels of every topic garaged uses. */
static void
set_topic_prefix(struct parser *p, const char *key, const char *v, char *dst)
{
	if (*v == '\0')
		fail(p, p->lineno, "%s is empty; set it, e.g. %s = %s", key, key,
		     strcmp(key, "prefix") == 0 ? "homeassistant" : "garage");
	else if (strlen(v) > CONFIG_PREFIX_MAX)
		fail(p, p->lineno, "%s is longer than %d characters; shorten it", key,
		     CONFIG_PREFIX_MAX);
	else if (strpbrk(v, "+#") != NULL)
		fail(p, p->lineno, "%s must not contain the MQTT wildcards '+' or '#'; remove them",
		     key);
	else if (v[0] == '/' || v[strlen(v) - 1] == '/' || strstr(v, "//") != NULL)
		fail(p, p->lineno,
		     "%s must not start or end with '/' or contain '//' (empty topic levels); "
		     "remove the extra '/'",
		     key);
	else if (has_control(v) || strpbrk(v, " \t") != NULL)
		fail(p, p->lineno, "%s must not contain spaces or control characters; remove them",
		     key);
	else
		memcpy(dst, v, strlen(v) + 1);
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

static void
add_pin(struct parser *p, const char *v)
{
	struct config *cfg = p->cfg;
	struct config_pin pin = {.line = p->lineno};
	unsigned char scratch[32];
	char shown[SHOWN_MAX + 4];

	if (cfg->npins == CONFIG_MAX_PINS) {
		fail(p, p->lineno, "more than %d pins; remove the ones no longer in use",
		     CONFIG_MAX_PINS);
		return;
	}
	if (strncasecmp(v, "sha256:", 7) == 0 || strncasecmp(v, "spki-sha256:", 12) == 0) {
		bool spki = strncasecmp(v, "spki-sha256:", 12) == 0;
		const char *hex = v + (spki ? 12 : 7);

		if (!decode_sha256(hex, pin.digest)) {
			fail(p, p->lineno,
			     "pin %s needs 32 bytes in hex (64 digits, colons between bytes "
			     "optional), not '%s'",
			     spki ? "spki-sha256:" : "sha256:", show(shown, sizeof(shown), hex));
			return;
		}
		pin.kind = spki ? CONFIG_PIN_SPKI_SHA256 : CONFIG_PIN_CERT_SHA256;
		pin.len = 32;
	} else if (decode_hex(v, ':', pin.digest, 20) || decode_hex(v, ' ', pin.digest, 20)) {
		pin.kind = CONFIG_PIN_CERT_SHA1;
		pin.len = 20;
	} else if (decode_hex(v, ':', scratch, 32)) {
		/* What `openssl x509 -fingerprint -sha256` prints: say which hash it must be. */
		fail(p, p->lineno,
		     "pin '%s' is a bare SHA-256 fingerprint; put sha256: before it if it is the "
		     "certificate's hash, or spki-sha256: if it is its public key's",
		     show(shown, sizeof(shown), v));
		return;
	} else {
		bad_value(p, "pin",
		          "sha256:<64 hex digits>, spki-sha256:<64 hex digits> or a SHA-1 "
		          "fingerprint of 20 bytes as 'DA:39:A3:...' or 'DA 39 A3 ...'",
		          v);
		return;
	}
	cfg->pins[cfg->npins++] = pin;
}

static void
set_tls_version(struct parser *p, const char *v)
{
	if (strcasecmp(v, "tlsv1.2") == 0)
		strcpy(p->cfg->tls_version, "tlsv1.2");
	else if (strcasecmp(v, "tlsv1.3") == 0)
		strcpy(p->cfg->tls_version, "tlsv1.3");
	else if (strcasecmp(v, "tlsv1") == 0 || strcasecmp(v, "tlsv1.0") == 0 ||
	         strcasecmp(v, "tlsv1.1") == 0)
		fail(p, p->lineno,
		     "tls_version %s is refused: TLS 1.2 is the minimum; set tls_version = "
		     "tlsv1.2 (or tlsv1.3)",
		     v);
	else
		bad_value(p, "tls_version", "tlsv1.2 or tlsv1.3", v);
}

static void
set_mqtt(struct parser *p, int key, const char *v)
{
	struct config *cfg = p->cfg;

	switch (key) {
	case MQ_HOST:
		if (*v == '\0')
			fail(p, p->lineno, "host is empty; set it to the broker's name or address");
		else if (strlen(v) > CONFIG_HOST_MAX)
			fail(p, p->lineno, "host is longer than %d characters; shorten it",
			     CONFIG_HOST_MAX);
		else if (v[0] == '[')
			bad_value(p, "host", "an IP address without brackets", v);
		else if (!valid_host(v))
			bad_value(p, "host", "a host name or an IP address", v);
		else
			set_string(p, "host", v, cfg->host, sizeof(cfg->host));
		break;
	case MQ_PORT:
		set_u16(p, "port", v, 1, 65535, &cfg->port);
		break;
	case MQ_CAFILE:
		set_path(p, "cafile", v, cfg->cafile, "/etc/garaged/ca.crt");
		break;
	case MQ_CERTFILE:
		set_path(p, "certfile", v, cfg->certfile, "/etc/garaged/garage.crt");
		break;
	case MQ_KEYFILE:
		set_path(p, "keyfile", v, cfg->keyfile, "/etc/garaged/garage.key");
		break;
	case MQ_PIN:
		add_pin(p, v);
		break;
	case MQ_TLS_VERSION:
		set_tls_version(p, v);
		break;
	case MQ_USERNAME:
		set_string(p, "username", v, cfg->username, sizeof(cfg->username));
		break;
	case MQ_PASSWORD_FILE:
		set_path(p, "password_file", v, cfg->password_file, NULL);
		break;
	case MQ_KEEPALIVE:
		set_u16(p, "keepalive", v, 5, 3600, &cfg->keepalive);
		break;
	case MQ_RECONNECT_MIN_MS:
		set_u32(p, "reconnect_min_ms", v, 100, 60000, &cfg->reconnect_min_ms);
		break;
	case MQ_RECONNECT_MAX_S:
		set_u32(p, "reconnect_max_s", v, 1, 3600, &cfg->reconnect_max_s);
		break;
	case MQ_TOPIC_PREFIX:
		set_topic_prefix(p, "topic_prefix", v, cfg->topic_prefix);
		break;
	default:
		assert(!"unhandled [mqtt] key");
	}
}

static void
set_ha(struct parser *p, int key, const char *v)
{
	struct config *cfg = p->cfg;

	switch (key) {
	case HA_DISCOVERY:
		set_bool(p, "discovery", v, &cfg->ha_discovery);
		break;
	case HA_PREFIX:
		set_topic_prefix(p, "prefix", v, cfg->ha_prefix);
		break;
	case HA_COMMANDS:
		if (strcasecmp(v, "off") == 0)
			cfg->ha_commands = CONFIG_HA_COMMANDS_OFF;
		else if (strcasecmp(v, "unsigned") == 0)
			cfg->ha_commands = CONFIG_HA_COMMANDS_UNSIGNED;
		else
			bad_value(p, "commands", "off or unsigned", v);
		break;
	default:
		assert(!"unhandled [homeassistant] key");
	}
}

static void
set_door(struct parser *p, int key, const char *v)
{
	struct config_door *d = &p->cfg->doors[p->door];

	switch (key) {
	case DK_BACKEND:
		if (strcasecmp(v, "sim") == 0)
			d->backend = CONFIG_BACKEND_SIM;
		else if (strcasecmp(v, "gpiod") == 0)
			d->backend = CONFIG_BACKEND_GPIOD;
		else
			bad_value(p, "backend", "sim or gpiod", v);
		break;
	case DK_CHIP:
		if (*v == '\0')
			fail(p, p->lineno,
			     "chip is empty; set it, e.g. chip = gpiochip0, or remove the line");
		else
			set_string(p, "chip", v, d->chip, sizeof(d->chip));
		break;
	case DK_RELAY_LINE:
		set_gpio_line(p, "relay_line", v, &d->relay_line);
		break;
	case DK_CLOSED_LINE:
		set_gpio_line(p, "closed_line", v, &d->closed_line);
		break;
	case DK_OPEN_LINE:
		set_gpio_line(p, "open_line", v, &d->open_line);
		break;
	case DK_ACTIVE_LOW:
		set_bool(p, "active_low", v, &d->active_low);
		break;
	case DK_RELAY_PULSE_MS:
		set_u32(p, "relay_pulse_ms", v, 50, 10000, &d->relay_pulse_ms);
		break;
	case DK_MIN_PULSE_INTERVAL_MS:
		set_u32(p, "min_pulse_interval_ms", v, 0, 600000, &d->min_pulse_interval_ms);
		break;
	case DK_TRAVEL_TIME_S:
		set_u32(p, "travel_time_s", v, 1, 600, &d->travel_time_s);
		break;
	case DK_AUTO_CLOSE_S:
		set_u32(p, "auto_close_s", v, 0, 86400, &d->auto_close_s);
		break;
	case DK_AUTO_CLOSE_WARNING_S:
		set_u32(p, "auto_close_warning_s", v, 0, 3600, &d->auto_close_warning_s);
		break;
	case DK_SIM_TRAVEL_MS:
		set_u32(p, "sim_travel_ms", v, 100, 600000, &d->sim_travel_ms);
		break;
	case DK_SIM_START:
		if (strcasecmp(v, "closed") == 0)
			d->sim_start_open = false;
		else if (strcasecmp(v, "open") == 0)
			d->sim_start_open = true;
		else
			bad_value(p, "sim_start", "closed or open", v);
		break;
	case DK_SIM_LOG:
		set_path(p, "sim_log", v, d->sim_log, NULL);
		break;
	default:
		assert(!"unhandled door key");
	}
}

static int
find_key(const struct section_def *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->nkeys; i++)
		if (strcmp(s->keys[i], name) == 0)
			return (int)i;
	return -1;
}

static void
unknown_key(struct parser *p, const struct section_def *s, const char *name)
{
	char valid[256] = "";
	char shown[SHOWN_MAX + 4];
	char section[CONFIG_NAME_MAX + 8];
	size_t i;

	for (i = 0; i < s->nkeys; i++) {
		if (i > 0)
			strcat(valid, i + 1 == s->nkeys ? " and " : ", ");
		strcat(valid, s->keys[i]);
	}
	if (p->sec == SEC_DOOR)
		snprintf(section, sizeof(section), "door.%s", p->cfg->doors[p->door].name);
	else
		snprintf(section, sizeof(section), "%s", s->name);
	fail(p, p->lineno, "unknown key '%s' in [%s]; the keys of [%s] are %s",
	     show(shown, sizeof(shown), name), section, section, valid);
}

static void
set_own(struct parser *p, int key, const char *v)
{
	char msg[CONFIG_ERROR_MAX - 64];

	if (has_control(v)) {
		fail(p, p->lineno, "%s contains a control character; remove it", p->own->keys[key]);
		return;
	}
	msg[0] = '\0';
	if (p->own->set(p->own->arg, (size_t)key, v, msg, sizeof(msg)) != 0)
		fail(p, p->lineno, "%s", msg[0] != '\0' ? msg : "bad value");
}

/* inih's handler: one "name = value" of the current section, at line p->lineno. */
static int
on_key(void *user, const char *inih_section, const char *name, const char *value)
{
	struct parser *p = user;
	const struct section_def *s;
	int key, *seen;
	char shown[SHOWN_MAX + 4];

	/* inih cuts section names at 49 characters; the reader keeps the whole one in p->sec. */
	(void)inih_section;

	if (p->sec == SEC_IGNORED)
		return 1;
	if (p->sec == SEC_NONE) {
		fail(p, p->lineno, "'%s' is outside any section; put it under its section (%s)",
		     show(shown, sizeof(shown), name), section_list(p));
		return 1;
	}
	s = section_def(p, p->sec);
	key = find_key(s, name);
	if (key < 0) {
		unknown_key(p, s, name);
		return 1;
	}
	seen = p->sec == SEC_DOOR ? &p->door_key_line[p->door][key] : &p->key_line[p->sec][key];
	/* pin is the one key that may be repeated: several pins let a broker certificate be
	 * rotated without a window in which the device refuses it. */
	if (*seen != 0 && !(p->sec == SEC_MQTT && key == MQ_PIN)) {
		fail(p, p->lineno, "%s is given twice (first at line %d); keep one of them",
		     s->keys[key], *seen);
		return 1;
	}
	if (*seen == 0)
		*seen = p->lineno;

	switch (p->sec) {
	case SEC_DEVICE:
		if (key == DEV_STATE_DIR) {
			set_path(p, "state_dir", value, p->cfg->state_dir, "/var/lib/garaged");
		} else if (key == DEV_USER) {
			if (valid_user(value))
				memcpy(p->cfg->user, value, strlen(value) + 1);
			else
				bad_value(
				    p, "user",
				    "a user name: 1 to 32 characters of a-z, 0-9, '_' and '-', "
				    "starting with a letter or '_'",
				    value);
		} else if (valid_name(value)) {
			memcpy(p->cfg->device_id, value, strlen(value) + 1);
		} else {
			bad_value(p, "id", "1 to 32 characters of a-z, 0-9, '_' and '-'", value);
		}
		break;
	case SEC_MQTT:
		set_mqtt(p, key, value);
		break;
	case SEC_SECURITY:
		if (key == SK_AUTHORIZED_KEYS)
			set_path(p, "authorized_keys", value, p->cfg->authorized_keys,
			         "/etc/garaged/authorized_keys");
		else
			set_u32(p, "clock_skew", value, 1, 3600, &p->cfg->clock_skew);
		break;
	case SEC_HA:
		set_ha(p, key, value);
		break;
	case SEC_DOOR:
		set_door(p, key, value);
		break;
	case SEC_OWN:
		set_own(p, key, value);
		break;
	default:
		assert(!"unhandled section");
	}
	return 1;
}

static void
door_defaults(struct config_door *d)
{
	memset(d, 0, sizeof(*d));
	d->backend = CONFIG_BACKEND_SIM;
	d->relay_line = -1;
	d->closed_line = -1;
	d->open_line = -1;
	d->relay_pulse_ms = 500;
	d->min_pulse_interval_ms = 1000;
	d->travel_time_s = 15;
	d->auto_close_warning_s = 10;
	d->sim_travel_ms = 3000;
}

static void
open_door_section(struct parser *p, const char *name)
{
	struct config *cfg = p->cfg;
	char shown[SHOWN_MAX + 4];
	size_t i;

	p->sec = SEC_IGNORED;
	if (!valid_name(name)) {
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

/* A garaged.conf has every section but SEC_OWN; a file read by config_load_mqtt() two. */
static bool
allowed_section(const struct parser *p, enum section_kind k)
{
	if (p->own != NULL)
		return k == SEC_MQTT || k == SEC_OWN;
	return k != SEC_OWN;
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
			if (allowed_section(p, k) && strcmp(s, section_def(p, k)->name) == 0)
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
	int k;

	if (line[DK_BACKEND] == 0)
		return;
	if (d->backend == CONFIG_BACKEND_GPIOD) {
		for (k = DK_SIM_TRAVEL_MS; k <= DK_SIM_LOG; k++)
			if (line[k] != 0)
				fail(p, line[k],
				     "%s applies only to backend = sim; remove it (this door has "
				     "backend = gpiod)",
				     door_keys[k]);
		if (line[DK_RELAY_LINE] != 0 && d->relay_line < 0)
			fail(p, line[DK_RELAY_LINE],
			     "relay_line = -1 means no line, but backend = gpiod needs one; set it "
			     "to the GPIO line that drives the relay");
		if (line[DK_CLOSED_LINE] != 0 && d->closed_line < 0)
			fail(p, line[DK_CLOSED_LINE],
			     "closed_line = -1 means no line, but backend = gpiod needs one; "
			     "set it to the GPIO line of the closed-position switch");
		/* libgpiod would refuse the second request of a line with a bare EBUSY. */
		if (d->closed_line >= 0 && d->closed_line == d->relay_line)
			fail(p, later(line[DK_CLOSED_LINE], line[DK_RELAY_LINE]),
			     "closed_line and relay_line are both %d; each needs its own GPIO line",
			     d->closed_line);
		if (d->open_line >= 0 && d->open_line == d->relay_line)
			fail(p, later(line[DK_OPEN_LINE], line[DK_RELAY_LINE]),
			     "open_line and relay_line are both %d; each needs its own GPIO line",
			     d->open_line);
		if (d->open_line >= 0 && d->open_line == d->closed_line)
			fail(p, later(line[DK_OPEN_LINE], line[DK_CLOSED_LINE]),
			     "open_line and closed_line are both %d; each needs its own GPIO line",
			     d->open_line);
	}
}

/* The backoff's cap must not be below its floor; either key may come first, or be defaulted. */
static void
check_mqtt_keys(struct parser *p)
{
	const struct config *cfg = p->cfg;
	const int *line = p->key_line[SEC_MQTT];

	if ((uint64_t)cfg->reconnect_max_s * 1000U >= cfg->reconnect_min_ms)
		return;
	fail(p, later(line[MQ_RECONNECT_MIN_MS], line[MQ_RECONNECT_MAX_S]),
	     "reconnect_max_s (%u s) is less than reconnect_min_ms (%u ms); raise reconnect_max_s "
	     "or lower reconnect_min_ms",
	     (unsigned)cfg->reconnect_max_s, (unsigned)cfg->reconnect_min_ms);
}

#define GPIOD_NEEDS "backend = gpiod needs chip, relay_line and closed_line"

struct required {
	enum section_kind sec;
	int key;
	const char *add; /* what to add */
};

static const struct required required_keys[] = {
    {SEC_DEVICE, DEV_ID, "id = garage"},
    {SEC_MQTT, MQ_HOST, "host = mqtt.local"},
    {SEC_MQTT, MQ_CAFILE, "cafile = /path/to/ca.crt"},
    {SEC_MQTT, MQ_CERTFILE, "certfile = /path/to/device.crt"},
    {SEC_MQTT, MQ_KEYFILE, "keyfile = /path/to/device.key"},
    {SEC_SECURITY, SK_AUTHORIZED_KEYS, "authorized_keys = /etc/garaged/authorized_keys"},
};

/* Required keys missing, reported at their section's header, or at the end of the file. */
static void
check_required(struct parser *p)
{
	const struct config *cfg = p->cfg;
	int last = p->lineno > 0 ? p->lineno : 1;
	size_t i;

	for (i = 0; i < sizeof(required_keys) / sizeof(required_keys[0]); i++) {
		const struct required *r = &required_keys[i];
		const char *section = sections[r->sec].name;

		if (!allowed_section(p, r->sec))
			continue;
		if (p->header[r->sec] == 0)
			fail(p, last, "there is no [%s] section; add [%s] with %s", section,
			     section, r->add);
		else if (p->key_line[r->sec][r->key] == 0)
			fail(p, p->header[r->sec], "[%s] has no '%s'; add %s", section,
			     sections[r->sec].keys[r->key], r->add);
	}
	if (cfg->ndoors == 0 && p->own == NULL)
		fail(p, last,
		     "there is no door; add a [door.main] section with backend = sim or gpiod");
	for (i = 0; i < cfg->ndoors; i++) {
		const struct config_door *d = &cfg->doors[i];
		const int *line = p->door_key_line[i];

		if (line[DK_BACKEND] == 0) {
			fail(p, d->line,
			     "[door.%s] has no 'backend'; add backend = sim or backend = gpiod",
			     d->name);
			continue;
		}
		if (d->backend != CONFIG_BACKEND_GPIOD)
			continue;
		if (line[DK_CHIP] == 0)
			fail(p, d->line,
			     "[door.%s] has no 'chip'; add chip = gpiochip0 (" GPIOD_NEEDS ")",
			     d->name);
		if (line[DK_RELAY_LINE] == 0)
			fail(p, d->line,
			     "[door.%s] has no 'relay_line'; add relay_line = N, the GPIO line "
			     "that drives the relay (" GPIOD_NEEDS ")",
			     d->name);
		if (line[DK_CLOSED_LINE] == 0)
			fail(p, d->line,
			     "[door.%s] has no 'closed_line'; add closed_line = N, the GPIO line "
			     "of the closed-position switch (" GPIOD_NEEDS ")",
			     d->name);
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
	const int *mq = p->key_line[SEC_MQTT];
	size_t i;

	check_file(p, "cafile", cfg->cafile, mq[MQ_CAFILE], FILE_PLAIN);
	if (!p->failed)
		check_file(p, "certfile", cfg->certfile, mq[MQ_CERTFILE], FILE_PLAIN);
	if (!p->failed)
		check_file(p, "keyfile", cfg->keyfile, mq[MQ_KEYFILE], FILE_PRIVATE);
	if (!p->failed && cfg->password_file[0] != '\0')
		check_file(p, "password_file", cfg->password_file, mq[MQ_PASSWORD_FILE],
		           FILE_PRIVATE);
	if (!p->failed && p->own == NULL)
		check_file(p, "authorized_keys", cfg->authorized_keys,
		           p->key_line[SEC_SECURITY][SK_AUTHORIZED_KEYS], FILE_GUARDED);
	for (i = 0; i < cfg->ndoors && !p->failed; i++)
		if (cfg->doors[i].sim_log[0] != '\0')
			check_log_dir(p, cfg->doors[i].sim_log, p->door_key_line[i][DK_SIM_LOG]);
}

static void
config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	strcpy(cfg->user, "nobody");
	strcpy(cfg->state_dir, "/var/lib/garaged");
	cfg->port = 8883;
	strcpy(cfg->tls_version, "tlsv1.2");
	cfg->keepalive = 30;
	cfg->reconnect_min_ms = 500;
	cfg->reconnect_max_s = 60;
	strcpy(cfg->topic_prefix, "garage");
	cfg->clock_skew = 30;
	cfg->ha_discovery = true;
	strcpy(cfg->ha_prefix, "homeassistant");
	cfg->ha_commands = CONFIG_HA_COMMANDS_OFF;
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
	       (own->name != NULL && own->nkeys <= CONFIG_SECTION_KEYS_MAX && own->set != NULL));
	config_defaults(cfg);
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
		p.own_def.name = own->name;
		p.own_def.keys = own->keys;
		p.own_def.nkeys = own->nkeys;
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

/*
 * The broker password: the first line of password_file (whose mode config.c checks), so that
 * it is never in garaged.conf or on a command line where others could read it.
 */
int
config_read_password(const struct config *cfg, char *buf, size_t size, char *err, size_t errlen)
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
