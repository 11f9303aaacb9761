/*
 * Unit tests of config: every key parsed and defaulted, each way a garaged.conf can be wrong
 * reported as "FILE:LINE: message" at the right line, in file order; and the table of keys
 * (config_keys()) held to itself, to the parser's ranges and defaults, and to what the example
 * file, garaged.conf(5) and docs/reference.md say of each key.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

#define BIG 16384

/* Sixteen characters, to build long values. */
#define X16 "xxxxxxxxxxxxxxxx"

/* A minimal valid configuration; the tests below edit it by line number. */
static const char base[] = "[device]\n"                                       /* 1 */
                           "id = garage\n"                                    /* 2 */
                           "[mqtt]\n"                                         /* 3 */
                           "port = 8883\n"                                    /* 4 */
                           "host = mqtt.local\n"                              /* 5 */
                           "cafile = /etc/garaged/ca.crt\n"                   /* 6 */
                           "certfile = /etc/garaged/garage.crt\n"             /* 7 */
                           "keyfile = /etc/garaged/garage.key\n"              /* 8 */
                           "[security]\n"                                     /* 9 */
                           "authorized_keys = /etc/garaged/authorized_keys\n" /* 10 */
                           "[door.main]\n"                                    /* 11 */
                           "backend = sim\n";                                 /* 12 */

/* What the SHA-256 pins below decode to: 00 11 ... ff, twice. */
static const unsigned char digest32[32] = {
    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
};
/* What the SHA-1 pins below decode to (the SHA-1 of nothing, DA:39:A3:...). */
static const unsigned char sha1_empty[20] = {0xda, 0x39, 0xa3, 0xee, 0x5e, 0x6b, 0x4b,
                                             0x0d, 0x32, 0x55, 0xbf, 0xef, 0x95, 0x60,
                                             0x18, 0x90, 0xaf, 0xd8, 0x07, 0x09};

/*
 * TEXT with COUNT lines from line FIRST (1-based) replaced by REPL (whole lines, each ending in
 * a newline, or ""). COUNT 0 inserts REPL before line FIRST.
 */
static const char *
splice(char *out, size_t size, const char *text, int first, int count, const char *repl)
{
	const char *a = text, *b;
	int i;

	for (i = 1; i < first; i++) {
		a = strchr(a, '\n');
		assert_non_null(a);
		a++;
	}
	b = a;
	for (i = 0; i < count; i++) {
		b = strchr(b, '\n');
		assert_non_null(b);
		b++;
	}
	assert_true((size_t)snprintf(out, size, "%.*s%s%s", (int)(a - text), text, repl, b) < size);
	return out;
}

static const char *
append(char *out, size_t size, const char *text, const char *more)
{
	assert_true((size_t)snprintf(out, size, "%s%s", text, more) < size);
	return out;
}

static int
parse(struct config *cfg, const char *text, char *err)
{
	return config_parse_buffer(cfg, "t.conf", text, strlen(text), false, err, CONFIG_ERROR_MAX);
}

static void
expect_ok(struct config *cfg, const char *text)
{
	char err[CONFIG_ERROR_MAX] = "";
	int r = parse(cfg, text, err);

	if (r != 0)
		print_error("config:\n%s\nunexpected error: %s\n", text, err);
	assert_int_equal(r, 0);
	assert_string_equal(err, "");
}

/* The parse fails, the message starts with PREFIX ("t.conf:LINE: ") and contains WORD. */
static void
expect_error(const char *text, const char *prefix, const char *word)
{
	struct config cfg;
	char err[CONFIG_ERROR_MAX] = "";
	int r = parse(&cfg, text, err);

	if (r != -1 || strncmp(err, prefix, strlen(prefix)) != 0 || strstr(err, word) == NULL)
		print_error("config:\n%s\ngot: %s\nwanted: %s...%s\n", text, err, prefix, word);
	assert_int_equal(r, -1);
	assert_memory_equal(err, prefix, strlen(prefix));
	assert_non_null(strstr(err, word));
}

/*
 * Every key of SECTION that has a default holds it in BASE (a struct config, or a struct
 * config_door for "door.NAME"), except the keys named in SET: the default's text, read by the
 * key's own type into a zeroed struct, gives the same bytes.
 */
static void
expect_defaults(const char *section, const void *got, const char *set)
{
	static struct config scratch_cfg;
	static struct config_door scratch_door;
	bool door = strcmp(section, "door.NAME") == 0;
	void *scratch = door ? (void *)&scratch_door : (void *)&scratch_cfg;
	char msg[CONFIG_ERROR_MAX], word[64], skip[256];
	const struct config_key *k;
	size_t n, i, checked = 0;

	snprintf(skip, sizeof(skip), " %s ", set);
	k = config_keys(&n);
	for (i = 0; i < n; i++) {
		struct config_value v = {k[i].def, 0, scratch, msg, sizeof(msg)};

		snprintf(word, sizeof(word), " %s ", k[i].name);
		if (k[i].def == NULL || strcmp(k[i].section, section) != 0 ||
		    strstr(skip, word) != NULL)
			continue;
		memset(&scratch_cfg, 0, sizeof(scratch_cfg));
		memset(&scratch_door, 0, sizeof(scratch_door));
		assert_int_equal(k[i].parse(&k[i], &v), 0);
		if (memcmp((const char *)got + k[i].offset, (const char *)scratch + k[i].offset,
		           k[i].size) != 0)
			print_error("%s is not its default %s\n", k[i].name, k[i].def);
		assert_memory_equal((const char *)got + k[i].offset,
		                    (const char *)scratch + k[i].offset, k[i].size);
		checked++;
	}
	assert_true(checked > 0);
}

static void
test_config_FullValid(void **state)
{
	static const char text[] =
	    "; every key\n"
	    "[device]\n"
	    "id = barn_2-x\n"
	    "[mqtt]\n"
	    "host = broker.example.net\n"
	    "port = 1883\n"
	    "cafile = /c/ca.pem\n"
	    "certfile = /c/dev.pem\n"
	    "keyfile = /c/dev.key\n"
	    "pin = sha256:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:"
	    "77:88:99:aa:bb:cc:dd:ee:ff\n" /* 10 */
	    "pin = spki-sha256:00112233445566778899aAbBcCdDeEfF00112233445566778899AABBCCDDEEFF\n"
	    "pin = DA:39:A3:EE:5E:6B:4B:0D:32:55:BF:EF:95:60:18:90:AF:D8:07:09\n"
	    "pin = da 39 a3 ee 5e 6b 4b 0d 32 55 bf ef 95 60 18 90 af d8 07 09\n"
	    "tls_version = tlsv1.3\n"
	    "username = garage-user\n"
	    "password_file = /c/pw\n"
	    "keepalive = 60\n"
	    "topic_prefix = home/garage\n"
	    "[security]\n"
	    "authorized_keys = /c/ak\n" /* 20 */
	    "clock_skew = 10\n"
	    "[homeassistant]\n"
	    "discovery = no\n"
	    "prefix = ha/disc\n"
	    "commands = unsigned\n"
	    "[door.main]\n" /* 26 */
	    "backend = sim\n"
	    "chip = gpiochip1\n"
	    "relay_line = 5\n"
	    "closed_line = 6\n"
	    "open_line = 7\n"
	    "active_low = yes\n"
	    "relay_pulse_ms = 250\n"
	    "min_pulse_interval_ms = 0\n"
	    "travel_time_s = 20\n"
	    "auto_close_s = 600\n"
	    "sim_travel_ms = 30000\n" /* slower than travel_time_s on purpose: allowed */
	    "sim_start = open\n"
	    "sim_log = /tmp/sim.log\n"
	    "[door.side]\n" /* 40 */
	    "backend = gpiod\n"
	    "chip = /dev/gpiochip0\n"
	    "relay_line = 0\n"
	    "closed_line = 1023\n";
	struct config cfg;
	const struct config_door *d;

	(void)state;
	expect_ok(&cfg, text);
	assert_string_equal(cfg.file, "t.conf");
	assert_string_equal(cfg.device_id, "barn_2-x");
	assert_string_equal(cfg.host, "broker.example.net");
	assert_int_equal(cfg.port, 1883);
	assert_string_equal(cfg.cafile, "/c/ca.pem");
	assert_string_equal(cfg.certfile, "/c/dev.pem");
	assert_string_equal(cfg.keyfile, "/c/dev.key");
	assert_int_equal(cfg.npins, 4);
	assert_int_equal(cfg.pins[0].kind, CONFIG_PIN_CERT_SHA256);
	assert_int_equal(cfg.pins[0].len, 32);
	assert_int_equal(cfg.pins[0].line, 10);
	assert_memory_equal(cfg.pins[0].digest, digest32, 32);
	assert_int_equal(cfg.pins[1].kind, CONFIG_PIN_SPKI_SHA256);
	assert_int_equal(cfg.pins[1].len, 32);
	assert_int_equal(cfg.pins[1].line, 11);
	assert_memory_equal(cfg.pins[1].digest, digest32, 32);
	assert_int_equal(cfg.pins[2].kind, CONFIG_PIN_CERT_SHA1);
	assert_int_equal(cfg.pins[2].len, 20);
	assert_memory_equal(cfg.pins[2].digest, sha1_empty, 20);
	assert_int_equal(cfg.pins[3].kind, CONFIG_PIN_CERT_SHA1);
	assert_int_equal(cfg.pins[3].len, 20);
	assert_int_equal(cfg.pins[3].line, 13);
	assert_memory_equal(cfg.pins[3].digest, sha1_empty, 20);
	assert_string_equal(cfg.tls_version, "tlsv1.3");
	assert_string_equal(cfg.username, "garage-user");
	assert_string_equal(cfg.password_file, "/c/pw");
	assert_int_equal(cfg.keepalive, 60);
	assert_string_equal(cfg.topic_prefix, "home/garage");
	assert_string_equal(cfg.authorized_keys, "/c/ak");
	assert_int_equal(cfg.clock_skew, 10);
	assert_false(cfg.ha_discovery);
	assert_string_equal(cfg.ha_prefix, "ha/disc");
	assert_int_equal(cfg.ha_commands, CONFIG_HA_COMMANDS_UNSIGNED);

	assert_int_equal(cfg.ndoors, 2);
	d = &cfg.doors[0];
	assert_string_equal(d->name, "main");
	assert_int_equal(d->line, 26);
	assert_int_equal(d->backend, CONFIG_BACKEND_SIM);
	/* A sim door keeps the gpiod keys, so a board's config can be dry-run by flipping backend.
	 */
	assert_string_equal(d->chip, "gpiochip1");
	assert_int_equal(d->relay_line, 5);
	assert_int_equal(d->closed_line, 6);
	assert_int_equal(d->open_line, 7);
	assert_true(d->active_low);
	assert_int_equal(d->relay_pulse_ms, 250);
	assert_int_equal(d->min_pulse_interval_ms, 0);
	assert_int_equal(d->travel_time_s, 20);
	assert_int_equal(d->auto_close_s, 600);
	assert_int_equal(d->sim_travel_ms, 30000);
	assert_true(d->sim_start_open);
	assert_string_equal(d->sim_log, "/tmp/sim.log");

	/* The second door takes every default but the keys it sets. */
	d = &cfg.doors[1];
	assert_string_equal(d->name, "side");
	assert_int_equal(d->line, 40);
	assert_int_equal(d->backend, CONFIG_BACKEND_GPIOD);
	assert_string_equal(d->chip, "/dev/gpiochip0");
	assert_int_equal(d->relay_line, 0);
	assert_int_equal(d->closed_line, 1023);
	expect_defaults("door.NAME", d, "relay_line closed_line");
	assert_string_equal(d->sim_log, "");
}

static void
test_config_Defaults(void **state)
{
	char buf[BIG];
	struct config cfg;
	const struct config_door *d = &cfg.doors[0];

	(void)state;
	/* base without its port line: every optional key left out. */
	expect_ok(&cfg, splice(buf, sizeof(buf), base, 4, 1, ""));
	assert_string_equal(cfg.device_id, "garage");
	assert_string_equal(cfg.host, "mqtt.local");
	expect_defaults("device", &cfg, "");
	expect_defaults("mqtt", &cfg, "");
	expect_defaults("security", &cfg, "");
	expect_defaults("homeassistant", &cfg, "");
	/* Keys without a default are empty, or none. */
	assert_int_equal(cfg.npins, 0);
	assert_string_equal(cfg.username, "");
	assert_string_equal(cfg.password_file, "");
	assert_int_equal(cfg.ndoors, 1);
	assert_string_equal(d->name, "main");
	assert_int_equal(d->line, 10);
	assert_int_equal(d->backend, CONFIG_BACKEND_SIM);
	assert_string_equal(d->chip, "");
	expect_defaults("door.NAME", d, "");
	assert_string_equal(d->sim_log, "");
	/* What the defaults must be is the documentation's to say: test_config_KeysDocumented
	 * holds the table to it. Here: the defaults are applied, and not all zero. */
	assert_int_not_equal(cfg.port, 0);
	assert_int_not_equal(d->relay_pulse_ms, 0);
	assert_int_equal(d->relay_line, -1);
}

/* Optional keys left empty are unset, as in SPEC's "username =". */
static void
test_config_EmptyOptional(void **state)
{
	char buf[BIG];
	struct config cfg;

	(void)state;
	expect_ok(&cfg, splice(buf, sizeof(buf), base, 6, 0, "username =\npassword_file =\n"));
	assert_string_equal(cfg.username, "");
	assert_string_equal(cfg.password_file, "");
	expect_ok(&cfg, append(buf, sizeof(buf), base, "sim_log =\nopen_line = -1\n"));
	assert_string_equal(cfg.doors[0].sim_log, "");
	assert_int_equal(cfg.doors[0].open_line, -1);
}

static void
test_config_BadPort(void **state)
{
	static const char *const bad[] = {
	    "notanumber", "0",    "65536", "-1",  "+1",
	    "1x",         "0x10", "",      "1 2", "99999999999999999999999",
	};
	char buf[BIG], line[64], err[CONFIG_ERROR_MAX];
	struct config cfg;
	size_t i;

	(void)state;
	/* The exact message once; the others by their line and key. */
	assert_int_equal(
	    parse(&cfg, splice(buf, sizeof(buf), base, 4, 1, "port = notanumber\n"), err), -1);
	assert_string_equal(err,
	                    "t.conf:4: port must be a number from 1 to 65535, not 'notanumber'");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(line, sizeof(line), "port = %s\n", bad[i]);
		expect_error(splice(buf, sizeof(buf), base, 4, 1, line),
		             "t.conf:4: ", "port must be a number from 1 to 65535");
	}
	expect_ok(&cfg, splice(buf, sizeof(buf), base, 4, 1, "port = 65535\n"));
	assert_int_equal(cfg.port, 65535);
	expect_ok(&cfg, splice(buf, sizeof(buf), base, 4, 1, "port = 1\n"));
	assert_int_equal(cfg.port, 1);
}

/*
 * Values that are no number of the key's range at all; every number's bounds are
 * test_config_Ranges', from the table.
 */
static void
test_config_BadNumbers(void **state)
{
	static const struct {
		int at;
		const char *line;
		const char *word;
	} bad[] = {
	    {6, "reconnect_min_ms = -1\n", "reconnect_min_ms must be a number from"},
	    {13, "min_pulse_interval_ms = -1\n", "min_pulse_interval_ms must be a number from"},
	    {13, "travel_time_s = 1e3\n", "travel_time_s must be a number from"},
	    {13, "closed_line = -2\n", "closed_line must be a GPIO line number"},
	    {13, "open_line = -\n", "open_line must be a GPIO line number"},
	    {13, "open_line = 1.5\n", "open_line"},
	    {13, "travel_time_s = 15 # seconds\n", "a comment after a value starts with ' ;'"},
	};
	char buf[BIG], prefix[32];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(prefix, sizeof(prefix), "t.conf:%d: ", bad[i].at);
		expect_error(splice(buf, sizeof(buf), base, bad[i].at, 0, bad[i].line), prefix,
		             bad[i].word);
	}
}

/*
 * base with LINE added to SECTION of the table ("door.NAME": base's [door.main]): in place of
 * the key's line if base has one, else right after its header, or in a section of its own at
 * the end. *at is the line LINE lands on.
 */
static const char *
with_key(char *out, size_t size, const char *section, const char *line, int *at)
{
	char header[64];
	const char *h, *c;
	int n = 1;

	const char *eq = strstr(line, " = ");
	char key[64];

	/* A key base has (port) is replaced where it is. */
	assert_non_null(eq);
	snprintf(key, sizeof(key), "\n%.*s = ", (int)(eq - line), line);
	if ((h = strstr(base, key)) != NULL) {
		for (c = base; c <= h; c++)
			n += *c == '\n';
		*at = n;
		return splice(out, size, base, n, 1, line);
	}
	snprintf(header, sizeof(header), "[%s]\n",
	         strcmp(section, "door.NAME") == 0 ? "door.main" : section);
	h = strstr(base, header);
	for (c = base; *c != '\0' && (h == NULL || c < h); c++)
		n += *c == '\n';
	*at = n + 1;
	if (h == NULL) {
		assert_true((size_t)snprintf(out, size, "%s%s%s", base, header, line) < size);
		return out;
	}
	return splice(out, size, base, n + 1, 0, line);
}

/* The number in KEY's field of cfg (its first door's, for a door key). */
static long
number_in(const struct config *cfg, const struct config_key *k)
{
	const char *at =
	    strcmp(k->section, "door.NAME") == 0 ? (const char *)&cfg->doors[0] : (const char *)cfg;
	uint16_t u16;
	int32_t i32;

	if (k->size == sizeof(u16)) {
		memcpy(&u16, at + k->offset, sizeof(u16));
		return u16;
	}
	assert_int_equal(k->size, sizeof(i32));
	memcpy(&i32, at + k->offset, sizeof(i32));
	return i32;
}

/*
 * Every number of the table, at its bounds: both are taken and land in the field; one past
 * either is refused at its line, with the range in the message. One below 0 is -1, which the
 * GPIO line keys take as "none".
 */
static void
test_config_Ranges(void **state)
{
	const struct config_key *k;
	char buf[BIG], line[96], prefix[96], range[96];
	struct config cfg;
	size_t n, i, ranged = 0;
	int at, j;

	(void)state;
	k = config_keys(&n);
	for (i = 0; i < n; i++) {
		const long good[2] = {k[i].min, k[i].max}, bad[2] = {k[i].min - 1, k[i].max + 1};
		bool gpio = strstr(k[i].name, "_line") != NULL;

		if (k[i].max <= k[i].min)
			continue;
		ranged++;
		for (j = 0; j < 2; j++) {
			snprintf(line, sizeof(line), "%s = %ld\n", k[i].name, good[j]);
			expect_ok(&cfg, with_key(buf, sizeof(buf), k[i].section, line, &at));
			assert_int_equal(number_in(&cfg, &k[i]), good[j]);
		}
		for (j = 0; j < 2; j++) {
			snprintf(line, sizeof(line), "%s = %ld\n", k[i].name, bad[j]);
			with_key(buf, sizeof(buf), k[i].section, line, &at);
			if (gpio && bad[j] == -1) {
				expect_ok(&cfg, buf);
				assert_int_equal(number_in(&cfg, &k[i]), -1);
				continue;
			}
			snprintf(prefix, sizeof(prefix), "t.conf:%d: %s must be a %s", at,
			         k[i].name, gpio ? "GPIO line number" : "number");
			snprintf(range, sizeof(range), " from %ld to %ld%s, not '%ld'", k[i].min,
			         k[i].max, gpio ? ", or -1 for none" : "", bad[j]);
			expect_error(buf, prefix, range);
		}
	}
	/* port, keepalive, the reconnect pair, clock_skew, three lines and six door timings. */
	assert_true(ranged >= 14);
}

/*
 * The reconnect backoff: its bounds are accepted, and a cap below the floor is refused at the
 * later of the two keys, whichever comes first, or at the one given when the other is defaulted.
 */
static void
test_config_ReconnectBackoff(void **state)
{
	char buf[BIG];
	struct config cfg;

	(void)state;
	expect_ok(&cfg, splice(buf, sizeof(buf), base, 6, 0,
	                       "reconnect_min_ms = 100\nreconnect_max_s = 3600\n"));
	assert_int_equal(cfg.reconnect_min_ms, 100);
	assert_int_equal(cfg.reconnect_max_s, 3600);
	expect_ok(&cfg, splice(buf, sizeof(buf), base, 6, 0,
	                       "reconnect_min_ms = 60000\nreconnect_max_s = 60\n"));
	assert_int_equal(cfg.reconnect_min_ms, 60000);
	assert_int_equal(cfg.reconnect_max_s, 60);
	/* One second as the cap with the default floor of 500 ms. */
	expect_ok(&cfg, splice(buf, sizeof(buf), base, 6, 0, "reconnect_max_s = 1\n"));
	assert_int_equal(cfg.reconnect_min_ms, 500);
	assert_int_equal(cfg.reconnect_max_s, 1);

	expect_error(
	    splice(buf, sizeof(buf), base, 6, 0, "reconnect_min_ms = 2000\nreconnect_max_s = 1\n"),
	    "t.conf:7: ", "reconnect_max_s (1 s) is less than reconnect_min_ms (2000 ms)");
	expect_error(
	    splice(buf, sizeof(buf), base, 6, 0, "reconnect_max_s = 1\nreconnect_min_ms = 2000\n"),
	    "t.conf:7: ", "reconnect_max_s (1 s) is less than reconnect_min_ms (2000 ms)");
	/* The largest floor with a small cap. */
	expect_error(splice(buf, sizeof(buf), base, 6, 0,
	                    "reconnect_max_s = 2\n"
	                    "reconnect_min_ms = 60000\n"),
	             "t.conf:7: ", "reconnect_max_s (2 s) is less than reconnect_min_ms");
}

static void
test_config_BadStrings(void **state)
{
	/* Each line replaces line AT of base (a key base has) or is inserted before it. */
	static const struct {
		int at;
		bool replace;
		const char *line;
		const char *word;
	} bad[] = {
	    {5, false, "tls_version = tlsv1.1\n", "TLS 1.2 is the minimum"},
	    {5, false, "tls_version = tlsv1\n", "TLS 1.2 is the minimum"},
	    {5, false, "tls_version = ssl3\n", "tls_version must be tlsv1.2 or tlsv1.3"},
	    {5, true, "host = \n", "host is empty"},
	    {5, true, "host = my host\n", "host must be a host name or an IP address"},
	    {5, true, "host = -bad.example\n", "host must be"},
	    {5, true, "host = a..b\n", "host must be"},
	    {5, true, "host = 300.1.2.3\n", "host must be"},
	    {5, true, "host = [::1\n", "must be [IPv6 address]"},
	    {5, true, "host = [10.0.0.1]:8883\n", "IPv6 address between its brackets"},
	    {5, true, "host = fe80::1::2\n", "host must be"},
	    {6, false, "topic_prefix = \n", "topic_prefix is empty"},
	    {6, false, "topic_prefix = a/+\n", "wildcards"},
	    {6, false, "topic_prefix = a#\n", "wildcards"},
	    {6, false, "topic_prefix = /garage\n", "'/'"},
	    {6, false, "topic_prefix = garage/\n", "'/'"},
	    {6, false, "topic_prefix = a//b\n", "'//'"},
	    {6, false, "topic_prefix = my garage\n", "spaces"},
	    {6, false,
	     "topic_prefix = aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
	     "longer than 64"},
	    {6, false, "username = " X16 X16 X16 X16 X16 X16 X16 X16 "u\n",
	     "username is longer than 127"},
	    {6, false, "username = a\tb\n", "control character"},
	    {6, true, "cafile = \n", "cafile is empty"},
	    {10, true, "authorized_keys = \n", "authorized_keys is empty"},
	    {12, true, "backend = gpio\n", "backend must be sim or gpiod, not 'gpio'"},
	    {13, false, "sim_start = half\n", "sim_start must be closed or open"},
	    {13, false, "chip = \n", "chip is empty"},
	    {14, false, "[homeassistant]\ncommands = signed\n", "commands must be off or unsigned"},
	    {14, false, "[homeassistant]\nprefix = ha/#\n", "prefix must not contain"},
	};
	char buf[BIG], prefix[32];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(prefix, sizeof(prefix), "t.conf:%d: ", bad[i].at);
		expect_error(splice(buf, sizeof(buf), base, bad[i].at > 12 ? 13 : bad[i].at,
		                    bad[i].replace ? 1 : 0, bad[i].line),
		             prefix, bad[i].word);
	}
}

static void
test_config_GoodStrings(void **state)
{
	static const char *const hosts[] = {
	    "10.0.0.1", "::1", "fe80::1%eth0", "broker", "Mqtt-1.home.arpa.", "my_broker.local",
	};
	char buf[BIG], line[128];
	struct config cfg;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		snprintf(line, sizeof(line), "host = %s\n", hosts[i]);
		expect_ok(&cfg, splice(buf, sizeof(buf), base, 5, 1, line));
		assert_string_equal(cfg.host, hosts[i]);
	}
	expect_ok(&cfg, splice(buf, sizeof(buf), base, 6, 0, "tls_version = TLSv1.2\n"));
	assert_string_equal(cfg.tls_version, "tlsv1.2");
	expect_ok(&cfg, append(buf, sizeof(buf), base,
	                       "sim_start = OPEN\n[homeassistant]\ncommands = Off\n"));
	assert_true(cfg.doors[0].sim_start_open);
	assert_int_equal(cfg.ha_commands, CONFIG_HA_COMMANDS_OFF);
	/* ';' after a space starts a comment; without the space it is part of the value. */
	expect_ok(&cfg, splice(buf, sizeof(buf), base, 4, 1, "port = 1883 ; plain MQTT\n"));
	assert_int_equal(cfg.port, 1883);
	expect_ok(&cfg, splice(buf, sizeof(buf), base, 6, 0, "username = a;b\n"));
	assert_string_equal(cfg.username, "a;b");
}

static void
test_config_UnknownKey(void **state)
{
	char buf[BIG], err[CONFIG_ERROR_MAX];
	struct config cfg;

	(void)state;
	assert_int_equal(parse(&cfg, splice(buf, sizeof(buf), base, 4, 1, "prot = 8883\n"), err),
	                 -1);
	assert_string_equal(err, "t.conf:4: unknown key 'prot' in [mqtt]; the keys of [mqtt] are "
	                         "host, port, cafile, certfile, keyfile, pin, tls_version, "
	                         "username, password_file, keepalive, reconnect_min_ms, "
	                         "reconnect_max_s, failback_s, topic_prefix and renew_before_days");
	expect_error(append(buf, sizeof(buf), base, "relay = 5\n"),
	             "t.conf:13: unknown key 'relay' in [door.main]", "relay_line");
	expect_error(splice(buf, sizeof(buf), base, 10, 0, "skew = 5\n"),
	             "t.conf:10: unknown key 'skew' in [security]", "clock_skew");
	/* Keys are case-sensitive, as SPEC writes them. */
	expect_error(splice(buf, sizeof(buf), base, 2, 1, "ID = garage\n"),
	             "t.conf:2: ", "unknown key 'ID' in [device]");
	expect_error(splice(buf, sizeof(buf), base, 1, 0, "id = garage\n"),
	             "t.conf:1: ", "outside any section");
}

static void
test_config_UnknownSection(void **state)
{
	char buf[BIG];

	(void)state;
	/* Reported at its header, before the keys of [mqtt] it made missing. */
	expect_error(splice(buf, sizeof(buf), base, 3, 1, "[mqqt]\n"),
	             "t.conf:3: unknown section [mqqt]", "[mqtt]");
	expect_error(append(buf, sizeof(buf), base, "[Device]\n"),
	             "t.conf:13: ", "unknown section [Device]");
	expect_error(append(buf, sizeof(buf), base, "[extra]\n"),
	             "t.conf:13: ", "unknown section [extra]");
	expect_error(splice(buf, sizeof(buf), base, 9, 1, "[security] authorized_keys = x\n"),
	             "t.conf:9: ", "unexpected text after [security]");
}

/* host, repeated: the brokers in order, each with its own port or [mqtt] port. */
static void
test_config_Hosts(void **state)
{
	static const struct {
		const char *text, *host;
		unsigned port; /* 0: [mqtt] port */
	} good[] = {
	    {"broker.example", "broker.example", 0},
	    {"broker.example:1883", "broker.example", 1883},
	    {"10.0.0.1:65535", "10.0.0.1", 65535},
	    {"10.0.0.1", "10.0.0.1", 0},
	    {"::1", "::1", 0},
	    {"[::1]", "::1", 0},
	    {"[::1]:8884", "::1", 8884},
	    {"[fe80::1%eth0]:1", "fe80::1%eth0", 1},
	};
	static const struct {
		const char *text, *word;
	} bad[] = {
	    {"broker:0", "host must be NAME or NAME:PORT"},
	    {"broker:65536", "host must be NAME or NAME:PORT"},
	    {"broker:", "host must be NAME or NAME:PORT"},
	    {"broker:+5", "host must be NAME or NAME:PORT"},
	    {":8883", "host must be NAME or NAME:PORT"},
	    {"bad host:8883", "host must be a host name or an IP address"},
	    {"[::1]:", "host must be [IPv6 address]"},
	    {"[::1]8883", "host must be [IPv6 address]"},
	    {"[]:8883", "host must be [IPv6 address]"},
	    {"[broker]:8883", "IPv6 address between its brackets"},
	};
	char buf[BIG], line[128];
	struct config cfg;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(line, sizeof(line), "host = %s\n", good[i].text);
		expect_ok(&cfg, splice(buf, sizeof(buf), base, 5, 1, line));
		assert_int_equal(cfg.nbrokers, 1);
		assert_string_equal(cfg.brokers[0].host, good[i].host);
		assert_string_equal(cfg.host, good[i].host);
		assert_int_equal(cfg.brokers[0].port, good[i].port != 0 ? good[i].port : 8883);
		assert_int_equal(cfg.brokers[0].line, 5);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(line, sizeof(line), "host = %s\n", bad[i].text);
		expect_error(splice(buf, sizeof(buf), base, 5, 1, line), "t.conf:5: ", bad[i].word);
	}
	/* Several, in file order; a line without a port takes [mqtt] port wherever it is. */
	expect_ok(&cfg, splice(buf, sizeof(buf), base, 4, 2,
	                       "host = a.example\nhost = b.example:1884\nport = 8884\n"
	                       "host = [::1]\n"));
	assert_int_equal(cfg.nbrokers, 3);
	assert_string_equal(cfg.brokers[0].host, "a.example");
	assert_int_equal(cfg.brokers[0].port, 8884);
	assert_string_equal(cfg.brokers[1].host, "b.example");
	assert_int_equal(cfg.brokers[1].port, 1884);
	assert_int_equal(cfg.brokers[1].line, 5);
	assert_string_equal(cfg.brokers[2].host, "::1");
	assert_int_equal(cfg.brokers[2].port, 8884);
	assert_string_equal(cfg.host, "a.example");
	assert_int_equal(cfg.port, 8884);
	/* At most CONFIG_MAX_BROKERS, the one beyond named at its line. */
	expect_error(splice(buf, sizeof(buf), base, 5, 1,
	                    "host = a\nhost = b\nhost = c\nhost = d\nhost = e\n"),
	             "t.conf:9: ", "more than 4 hosts");
	/* The same broker twice: at the second line, whichever way its port was given. */
	expect_error(splice(buf, sizeof(buf), base, 5, 1, "host = a\nhost = a:8883\n"),
	             "t.conf:6: ", "host a port 8883 is given twice (first at line 5)");
	/* The same name on another port is another broker. */
	expect_ok(&cfg, splice(buf, sizeof(buf), base, 5, 1, "host = a\nhost = a:8884\n"));
	assert_int_equal(cfg.nbrokers, 2);
	/* failback_s: its default, and its range. */
	assert_int_equal(cfg.failback_s, 60);
	expect_error(splice(buf, sizeof(buf), base, 6, 0, "failback_s = 0\n"),
	             "t.conf:6: ", "failback_s must be a number from 1 to 86400");
}

static void
test_config_DuplicateKey(void **state)
{
	char buf[BIG], err[CONFIG_ERROR_MAX];
	struct config cfg;

	(void)state;
	assert_int_equal(parse(&cfg, splice(buf, sizeof(buf), base, 6, 0, "port = 1883\n"), err),
	                 -1);
	assert_string_equal(err,
	                    "t.conf:6: port is given twice (first at line 4); keep one of them");
	expect_error(append(buf, sizeof(buf), base, "backend = gpiod\n"),
	             "t.conf:13: ", "backend is given twice (first at line 12)");
	/* Repeated sections are refused too: their keys would be a merge nobody wrote. */
	expect_error(append(buf, sizeof(buf), base, "[mqtt]\n"),
	             "t.conf:13: ", "[mqtt] appears twice (first at line 3)");
	expect_error(append(buf, sizeof(buf), base, "[door.main]\nbackend = sim\n"),
	             "t.conf:13: ", "[door.main] appears twice (first at line 11)");
	/* pin is the repeatable key. */
	expect_ok(&cfg,
	          splice(buf, sizeof(buf), base, 6, 0,
	                 "pin = DA:39:A3:EE:5E:6B:4B:0D:32:55:BF:EF:95:60:18:90:AF:D8:07:09\n"
	                 "pin = DA:39:A3:EE:5E:6B:4B:0D:32:55:BF:EF:95:60:18:90:AF:D8:07:09\n"));
	assert_int_equal(cfg.npins, 2);
}

static void
test_config_MissingRequired(void **state)
{
	static const struct {
		int line; /* deleted from base */
		const char *message;
	} missing[] = {
	    {2, "t.conf:1: [device] has no 'id'; add id = garage"},
	    {5, "t.conf:3: [mqtt] has no 'host'; add host = mqtt.local"},
	    {6, "t.conf:3: [mqtt] has no 'cafile'; add cafile = /path/to/ca.crt"},
	    {7, "t.conf:3: [mqtt] has no 'certfile'; add certfile = /path/to/device.crt"},
	    {8, "t.conf:3: [mqtt] has no 'keyfile'; add keyfile = /path/to/device.key"},
	    {10, "t.conf:9: [security] has no 'authorized_keys'; add authorized_keys = "
	         "/etc/garaged/authorized_keys"},
	    {12, "t.conf:11: [door.main] has no 'backend'; add backend = sim or backend = gpiod"},
	};
	char buf[BIG], err[CONFIG_ERROR_MAX];
	struct config cfg;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(missing) / sizeof(missing[0]); i++) {
		assert_int_equal(
		    parse(&cfg, splice(buf, sizeof(buf), base, missing[i].line, 1, ""), err), -1);
		assert_string_equal(err, missing[i].message);
	}
	/* A missing section: at the last line of the file (10 once two lines are gone). */
	expect_error(splice(buf, sizeof(buf), base, 9, 2, ""), "t.conf:10: ",
	             "there is no [security] section; add [security] with authorized_keys");
	expect_error(splice(buf, sizeof(buf), base, 1, 2, ""),
	             "t.conf:10: ", "there is no [device] section; add [device] with id");
	expect_error(splice(buf, sizeof(buf), base, 3, 6, ""),
	             "t.conf:6: ", "there is no [mqtt] section; add [mqtt] with host");
	/* Two missing: the one whose section comes first in the file. */
	splice(buf, sizeof(buf), base, 6, 1, "");
	expect_error(splice(buf + BIG / 2, BIG / 2, buf, 2, 1, ""), "t.conf:1: ", "'id'");
	/* An empty file names the first thing to add. */
	expect_error("", "t.conf:1: ", "there is no [device] section");
}

static void
test_config_NoDoor(void **state)
{
	char buf[BIG];

	(void)state;
	expect_error(splice(buf, sizeof(buf), base, 11, 2, ""), "t.conf:10: ",
	             "there is no door; add a [door.main] section with backend = sim or gpiod");
}

static void
test_config_BadDoorName(void **state)
{
	static const char *const bad[] = {
	    "[door.Main]\n", "[door.]\n",          "[door.a b]\n",
	    "[door.x/y]\n",  "[door.main.left]\n", "[door.abcdefghijklmnopqrstuvwxyz_-01234]\n",
	};
	char buf[BIG];
	struct config cfg;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_error(splice(buf, sizeof(buf), base, 11, 1, bad[i]), "t.conf:11: door name",
		             "a-z, 0-9, '_' and '-'");
	expect_ok(&cfg, splice(buf, sizeof(buf), base, 11, 1,
	                       "[door.abcdefghijklmnopqrstuvwxyz_-0123]\n"));
	assert_string_equal(cfg.doors[0].name, "abcdefghijklmnopqrstuvwxyz_-0123");
}

static void
test_config_BadDeviceId(void **state)
{
	static const char *const bad[] = {
	    "Garage", "", "a.b", "a b", "gar/age", "abcdefghijklmnopqrstuvwxyz_-01234",
	};
	char buf[BIG], line[128];
	struct config cfg;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(line, sizeof(line), "id = %s\n", bad[i]);
		expect_error(splice(buf, sizeof(buf), base, 2, 1, line), "t.conf:2: id must be",
		             "1 to 32 characters of a-z, 0-9, '_' and '-'");
	}
	expect_ok(&cfg,
	          splice(buf, sizeof(buf), base, 2, 1, "id = abcdefghijklmnopqrstuvwxyz_-0123\n"));
	assert_string_equal(cfg.device_id, "abcdefghijklmnopqrstuvwxyz_-0123");
}

static void
test_config_Bools(void **state)
{
	static const struct {
		const char *text;
		bool value;
	} good[] = {
	    {"true", true},   {"TRUE", true},   {"yes", true}, {"On", true},   {"1", true},
	    {"false", false}, {"False", false}, {"no", false}, {"OFF", false}, {"0", false},
	};
	static const char *const bad[] = {"maybe", "2", "", "y", "enabled", "tru"};
	char buf[BIG], line[64];
	struct config cfg;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(line, sizeof(line), "active_low = %s\n", good[i].text);
		expect_ok(&cfg, append(buf, sizeof(buf), base, line));
		assert_int_equal(cfg.doors[0].active_low, good[i].value);
		snprintf(line, sizeof(line), "[homeassistant]\ndiscovery = %s\n", good[i].text);
		expect_ok(&cfg, append(buf, sizeof(buf), base, line));
		assert_int_equal(cfg.ha_discovery, good[i].value);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(line, sizeof(line), "[homeassistant]\ndiscovery = %s\n", bad[i]);
		expect_error(append(buf, sizeof(buf), base, line),
		             "t.conf:14: ", "discovery must be true or false");
		snprintf(line, sizeof(line), "active_low = %s\n", bad[i]);
		expect_error(append(buf, sizeof(buf), base, line),
		             "t.conf:13: ", "active_low must be true or false");
	}
}

#define GPIOD_DOOR                                                                                 \
	"[door.main]\n"     /* 11 */                                                               \
	"backend = gpiod\n" /* 12 */                                                               \
	"chip = gpiochip0\n"                                                                       \
	"relay_line = 17\n"                                                                        \
	"closed_line = 27\n" /* 15 */

static void
test_config_GpiodMissingLines(void **state)
{
	static const struct {
		int line;
		const char *word;
	} missing[] = {
	    {13, "[door.main] has no 'chip'; add chip = gpiochip0"},
	    {14, "[door.main] has no 'relay_line'; add relay_line = N"},
	    {15, "[door.main] has no 'closed_line'; add closed_line = N"},
	};
	char gpiod[BIG], buf[BIG];
	struct config cfg;
	size_t i;

	(void)state;
	splice(gpiod, sizeof(gpiod), base, 11, 2, GPIOD_DOOR);
	expect_ok(&cfg, gpiod);
	assert_int_equal(cfg.doors[0].backend, CONFIG_BACKEND_GPIOD);
	assert_int_equal(cfg.doors[0].relay_line, 17);
	assert_int_equal(cfg.doors[0].closed_line, 27);
	for (i = 0; i < sizeof(missing) / sizeof(missing[0]); i++)
		expect_error(splice(buf, sizeof(buf), gpiod, missing[i].line, 1, ""),
		             "t.conf:11: ", missing[i].word);
	/* -1 is "no line": fine for open_line, not for the two gpiod needs. */
	expect_error(splice(buf, sizeof(buf), gpiod, 14, 1, "relay_line = -1\n"),
	             "t.conf:14: ", "relay_line = -1 means no line");
	expect_error(splice(buf, sizeof(buf), gpiod, 15, 1, "closed_line = -1\n"),
	             "t.conf:15: ", "closed_line = -1 means no line");
	expect_error(append(buf, sizeof(buf), gpiod, "open_line = 17\n"),
	             "t.conf:16: ", "open_line and relay_line are both 17");
	expect_error(splice(buf, sizeof(buf), gpiod, 15, 1, "closed_line = 17\n"),
	             "t.conf:15: ", "closed_line and relay_line are both 17");
	/* At the later of the two lines, whichever key comes first. */
	expect_error(splice(buf, sizeof(buf), base, 11, 2,
	                    "[door.main]\nbackend = gpiod\nchip = gpiochip0\nclosed_line = 5\n"
	                    "relay_line = 5\n"),
	             "t.conf:15: ", "closed_line and relay_line are both 5");
	expect_ok(&cfg, append(buf, sizeof(buf), gpiod, "open_line = -1\n"));
	assert_int_equal(cfg.doors[0].open_line, -1);
	/* The same keys on a sim door are optional. */
	expect_ok(&cfg, base);
}

static void
test_config_SimKeysWithGpiod(void **state)
{
	static const char *const sim[] = {
	    "sim_travel_ms = 3000\n",
	    "sim_start = open\n",
	    "sim_log = /tmp/x.log\n",
	};
	char gpiod[BIG], buf[BIG], word[64];
	size_t i;

	(void)state;
	splice(gpiod, sizeof(gpiod), base, 11, 2, GPIOD_DOOR);
	for (i = 0; i < sizeof(sim) / sizeof(sim[0]); i++) {
		snprintf(word, sizeof(word), "%.*s applies only to backend = sim; remove it",
		         (int)strcspn(sim[i], " "), sim[i]);
		expect_error(append(buf, sizeof(buf), gpiod, sim[i]), "t.conf:16: ", word);
		/* Before the backend line too: the check waits for the whole section. */
		expect_error(splice(buf, sizeof(buf), gpiod, 12, 0, sim[i]), "t.conf:12: ", word);
	}
}

static void
test_config_GoodPins(void **state)
{
	static const struct {
		const char *text;
		enum config_pin_kind kind;
		size_t len;
	} good[] = {
	    {"sha256:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:"
	     "AA:BB:CC:DD:EE:FF",
	     CONFIG_PIN_CERT_SHA256, 32},
	    {"sha256:00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF",
	     CONFIG_PIN_CERT_SHA256, 32},
	    {"SHA256:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
	     CONFIG_PIN_CERT_SHA256, 32},
	    {"spki-sha256:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:"
	     "88:99:aa:bb:cc:dd:ee:ff",
	     CONFIG_PIN_SPKI_SHA256, 32},
	    {"spki-sha256:00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff",
	     CONFIG_PIN_SPKI_SHA256, 32},
	    {"DA:39:A3:EE:5E:6B:4B:0D:32:55:BF:EF:95:60:18:90:AF:D8:07:09", CONFIG_PIN_CERT_SHA1,
	     20},
	    {"da:39:a3:ee:5e:6b:4b:0d:32:55:bf:ef:95:60:18:90:af:d8:07:09", CONFIG_PIN_CERT_SHA1,
	     20},
	    {"DA 39 A3 EE 5E 6B 4B 0D 32 55 BF EF 95 60 18 90 AF D8 07 09", CONFIG_PIN_CERT_SHA1,
	     20},
	};
	char buf[BIG], line[160];
	struct config cfg;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(line, sizeof(line), "pin = %s\n", good[i].text);
		expect_ok(&cfg, splice(buf, sizeof(buf), base, 6, 0, line));
		assert_int_equal(cfg.npins, 1);
		assert_int_equal(cfg.pins[0].kind, good[i].kind);
		assert_int_equal(cfg.pins[0].len, good[i].len);
		assert_int_equal(cfg.pins[0].line, 6);
		assert_memory_equal(cfg.pins[0].digest, good[i].len == 32 ? digest32 : sha1_empty,
		                    good[i].len);
	}
}

static void
test_config_BadPins(void **state)
{
	static const struct {
		const char *text;
		const char *word;
	} bad[] = {
	    /* 31 and 33 bytes */
	    {"sha256:00112233445566778899aabbccddeeff00112233445566778899aabbccddee",
	     "sha256: needs 32 bytes"},
	    {"sha256:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00",
	     "sha256: needs 32 bytes"},
	    {"sha256:zz112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
	     "sha256: needs 32 bytes"},
	    {"sha256:00 11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff 00 11 22 33 44 55 66 77 88 99 "
	     "aa bb cc dd ee ff",
	     "sha256: needs 32 bytes"},
	    {"sha256:0:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99:"
	     "aa:bb:cc:dd:ee:ff0",
	     "sha256: needs 32 bytes"},
	    {"spki-sha256:", "spki-sha256: needs 32 bytes"},
	    {"sha1:DA:39:A3:EE:5E:6B:4B:0D:32:55:BF:EF:95:60:18:90:AF:D8:07:09",
	     "pin must be sha256:<64 hex digits>, spki-sha256:<64 hex digits> or a SHA-1"},
	    {"DA39A3EE5E6B4B0D3255BFEF95601890AFD80709", "pin must be sha256:"},
	    {"DA:39:A3:EE:5E:6B:4B:0D:32:55:BF:EF:95:60:18:90:AF:D8:07", "pin must be sha256:"},
	    {"DA:39:A3:EE:5E:6B:4B:0D:32:55:BF:EF:95:60:18:90:AF:D8:07:09:00", "pin must be"},
	    {"DA:39:A3:EE:5E:6B:4B:0D:32:55 BF:EF:95:60:18:90:AF:D8:07:09", "pin must be"},
	    {"DA::39:A3:EE:5E:6B:4B:0D:32:55:BF:EF:95:60:18:90:AF:D8:07:09", "pin must be"},
	    {"DA:39:A3:EE:5E:6B:4B:0D:32:55:BF:EF:95:60:18:90:AF:D8:07:0G", "pin must be"},
	    {"00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:"
	     "CC:DD:EE:FF",
	     "is a bare SHA-256 fingerprint; put sha256: before it"},
	    {"", "pin must be"},
	};
	char buf[BIG], line[200];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(line, sizeof(line), "pin = %s\n", bad[i].text);
		expect_error(splice(buf, sizeof(buf), base, 6, 0, line), "t.conf:6: ", bad[i].word);
	}
}

static void
test_config_TooManyPins(void **state)
{
	char pins[BIG] = "", buf[BIG];
	struct config cfg;
	int i;

	(void)state;
	for (i = 0; i < CONFIG_MAX_PINS; i++)
		strcat(pins, "pin = DA 39 A3 EE 5E 6B 4B 0D 32 55 BF EF 95 60 18 90 AF D8 07 09\n");
	expect_ok(&cfg, splice(buf, sizeof(buf), base, 6, 0, pins));
	assert_int_equal(cfg.npins, CONFIG_MAX_PINS);
	assert_int_equal(cfg.pins[CONFIG_MAX_PINS - 1].line, 6 + CONFIG_MAX_PINS - 1);
	strcat(pins, "pin = DA 39 A3 EE 5E 6B 4B 0D 32 55 BF EF 95 60 18 90 AF D8 07 09\n");
	expect_error(splice(buf, sizeof(buf), base, 6, 0, pins), "t.conf:14: ", "more than 8 pins");
}

static void
test_config_TooManyDoors(void **state)
{
	char doors[BIG] = "", buf[BIG], section[64];
	struct config cfg;
	int i;

	(void)state;
	for (i = 1; i < CONFIG_MAX_DOORS; i++) {
		snprintf(section, sizeof(section), "[door.d%d]\nbackend = sim\n", i);
		strcat(doors, section);
	}
	expect_ok(&cfg, append(buf, sizeof(buf), base, doors));
	assert_int_equal(cfg.ndoors, CONFIG_MAX_DOORS);
	assert_string_equal(cfg.doors[CONFIG_MAX_DOORS - 1].name, "d7");
	strcat(doors, "[door.d8]\nbackend = sim\n");
	/* base has 12 lines, then 7 doors of 2 lines: the ninth header is line 27. */
	expect_error(append(buf, sizeof(buf), base, doors),
	             "t.conf:27: ", "[door.d8] is one door too many: garaged drives at most 8");
}

static void
test_config_LineTooLong(void **state)
{
	char buf[BIG], line[1024];
	struct config cfg;

	(void)state;
	/* 199 characters are fine, and kept whole: "sim_log = /" and 188 more. */
	snprintf(line, sizeof(line), "sim_log = /%0188d\n", 0);
	assert_int_equal(strlen(line), 200);
	expect_ok(&cfg, append(buf, sizeof(buf), base, line));
	assert_int_equal(strlen(cfg.doors[0].sim_log), 189);
	/* A CRLF line ending is not one of the 199. */
	snprintf(line, sizeof(line), "sim_log = /%0188d\r\n", 0);
	expect_ok(&cfg, append(buf, sizeof(buf), base, line));
	assert_int_equal(strlen(cfg.doors[0].sim_log), 189);
	/* 200 are not, even in a comment; the error is not about the path inih would cut. */
	snprintf(line, sizeof(line), "sim_log = /%0189d\n", 0);
	expect_error(append(buf, sizeof(buf), base, line),
	             "t.conf:13: ", "line too long (at most 199 characters)");
	snprintf(line, sizeof(line), "#%0199d\n", 0);
	expect_error(splice(buf, sizeof(buf), base, 3, 0, line), "t.conf:3: ", "line too long");
	/* The lines after a long one keep their numbers. */
	snprintf(line, sizeof(line), "#%0198d\n#%0500d\n", 0, 0);
	expect_error(splice(buf, sizeof(buf), base, 1, 0, line), "t.conf:2: ", "line too long");
	snprintf(line, sizeof(line), "#%0198d\n", 0);
	splice(buf, sizeof(buf), base, 1, 0, line);
	expect_error(splice(buf + BIG / 2, BIG / 2, buf, 5, 1, "port = x\n"),
	             "t.conf:5: ", "port must be");
}

static void
test_config_SyntaxError(void **state)
{
	char buf[BIG], err[CONFIG_ERROR_MAX];
	struct config cfg;

	(void)state;
	assert_int_equal(parse(&cfg, splice(buf, sizeof(buf), base, 4, 1, "port 8883\n"), err), -1);
	assert_string_equal(err, "t.conf:4: syntax error: expected [section] or key = value");
	expect_error(splice(buf, sizeof(buf), base, 3, 1, "[mqtt\n"), "t.conf:3: ", "syntax error");
	expect_error(splice(buf, sizeof(buf), base, 3, 1, "[mqtt ; comment]\n"),
	             "t.conf:3: ", "syntax error");
	/* A bad value before it is reported first, a bad value after it second. */
	splice(buf, sizeof(buf), base, 4, 1, "port 8883\n");
	expect_error(splice(buf + BIG / 2, BIG / 2, buf, 2, 1, "id = X\n"),
	             "t.conf:2: ", "id must be");
	expect_error(splice(buf + BIG / 2, BIG / 2, buf, 5, 1, "host = a b\n"),
	             "t.conf:4: ", "syntax error");
}

static void
test_config_LayoutTolerated(void **state)
{
	static const char text[] = "\xef\xbb\xbf[device]\r\n"
	                           "  id = garage ; indented, with a comment\r\n"
	                           "[mqtt]\r\n"
	                           "\thost = mqtt.local\r\n"
	                           "    port = 8884\r\n"
	                           "cafile = /c/ca.crt\r\n"
	                           "certfile = /c/d.crt\r\n"
	                           "keyfile = /c/d.key\r\n"
	                           "\r\n"
	                           "# a comment\r\n"
	                           "[security]\r\n"
	                           "authorized_keys = /c/ak\r\n"
	                           "[door.main]\r\n"
	                           "backend = sim";
	static const char nul[] = "[device]\nid = ga\0rage\n";
	static const char nul_error[] = "t.conf:2: line contains a NUL byte";
	char err[CONFIG_ERROR_MAX];
	struct config cfg;

	(void)state;
	/* A BOM, CRLF, indented keys (which inih alone would take for continuation lines) and
	 * no newline at the end. */
	expect_ok(&cfg, text);
	assert_string_equal(cfg.device_id, "garage");
	assert_string_equal(cfg.user, "nobody");
	assert_string_equal(cfg.host, "mqtt.local");
	assert_int_equal(cfg.port, 8884);
	assert_string_equal(cfg.authorized_keys, "/c/ak");
	assert_int_equal(cfg.doors[0].line, 13);
	/* A NUL byte inside a line is refused, not read as the end of the line. */
	assert_int_equal(
	    config_parse_buffer(&cfg, "t.conf", nul, sizeof(nul) - 1, false, err, sizeof(err)), -1);
	assert_memory_equal(err, nul_error, strlen(nul_error));
}

static void
test_config_ErrorOrdering(void **state)
{
	char buf[BIG], buf2[BIG];

	(void)state;
	/* A bad value on the last line beats a key missing from the top of the file. */
	splice(buf, sizeof(buf), base, 6, 1, "");
	expect_error(splice(buf2, sizeof(buf2), buf, 11, 1, "backend = bogus\n"),
	             "t.conf:11: ", "backend must be sim or gpiod");
	/* Of two bad values, the first in the file. */
	splice(buf, sizeof(buf), base, 4, 1, "port = x\n");
	expect_error(splice(buf2, sizeof(buf2), buf, 2, 1, "id = X\n"), "t.conf:2: ", "id must be");
	/* A sim_* key on a gpiod door is a bad value at its line, so ordered with the others:
	 * after an earlier bad value, before a later one. */
	splice(buf, sizeof(buf), base, 11, 2, GPIOD_DOOR "sim_start = open\n" /* 16 */);
	expect_error(splice(buf2, sizeof(buf2), buf, 15, 1, "closed_line = x\n"),
	             "t.conf:15: ", "closed_line must be");
	expect_error(append(buf2, sizeof(buf2), buf, "travel_time_s = x\n"),
	             "t.conf:16: ", "sim_start applies only");
	/* Of two missing keys, the one in the earlier section, then in key order. */
	splice(buf, sizeof(buf), base, 10, 1, "");
	expect_error(splice(buf2, sizeof(buf2), buf, 8, 1, ""), "t.conf:3: ", "'keyfile'");
	splice(buf, sizeof(buf), base, 7, 2, "");
	expect_error(buf, "t.conf:3: ", "'certfile'");
}

/* Files for the checks made with check_files, in a directory of their own. */
struct fixture {
	char dir[64];
};

static void
write_file(const char *dir, const char *name, mode_t mode)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "x\n", 2), 2);
	/* fchmod, not the mode of open(): the umask must not decide what is tested. */
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

static int
setup_dir(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	strcpy(f->dir, "/tmp/test-config-XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	write_file(f->dir, "ca.crt", 0644);
	write_file(f->dir, "d.crt", 0644);
	write_file(f->dir, "d.key", 0600);
	write_file(f->dir, "ak", 0644);
	write_file(f->dir, "pw", 0600);
	*state = f;
	return 0;
}

static int
teardown_dir(void **state)
{
	struct fixture *f = *state;
	struct dirent *e;
	char path[512];
	DIR *d = opendir(f->dir);

	/* One level deep is all the tests create. */
	while (d != NULL && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", f->dir, e->d_name);
		if (unlink(path) != 0)
			rmdir(path);
	}
	if (d != NULL)
		closedir(d);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* base with its paths in DIR, a password_file and a sim_log (lines 9 and 15). */
static const char *
files_config(char *out, size_t size, const char *dir)
{
	assert_true((size_t)snprintf(out, size,
	                             "[device]\n"
	                             "id = garage\n"
	                             "[mqtt]\n"
	                             "port = 8883\n"
	                             "host = mqtt.local\n"
	                             "cafile = %s/ca.crt\n"
	                             "certfile = %s/d.crt\n"
	                             "keyfile = %s/d.key\n"
	                             "password_file = %s/pw\n"
	                             "[security]\n"
	                             "authorized_keys = %s/ak\n"
	                             "[door.main]\n"
	                             "backend = sim\n"
	                             "sim_start = closed\n"
	                             "sim_log = %s/sim.log\n",
	                             dir, dir, dir, dir, dir, dir) < size);
	return out;
}

static int
parse_files(struct config *cfg, const char *text, char *err)
{
	return config_parse_buffer(cfg, "t.conf", text, strlen(text), true, err, CONFIG_ERROR_MAX);
}

static void
test_config_FileChecks(void **state)
{
	struct fixture *f = *state;
	char text[BIG], buf[BIG], path[256], want[BIG], err[CONFIG_ERROR_MAX];
	struct config cfg;

	files_config(text, sizeof(text), f->dir);
	assert_int_equal(parse_files(&cfg, text, err), 0);

	/* The private key: 0644 refused, 0620 refused, 0600 and 0400 accepted. */
	snprintf(path, sizeof(path), "%s/d.key", f->dir);
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(parse_files(&cfg, text, err), -1);
	snprintf(
	    want, sizeof(want),
	    "t.conf:8: keyfile %s is readable by group or others (mode 0644); run chmod 600 %s",
	    path, path);
	assert_string_equal(err, want);
	assert_int_equal(chmod(path, 0620), 0);
	assert_int_equal(parse_files(&cfg, text, err), -1);
	assert_memory_equal(err, "t.conf:8: keyfile", 17);
	assert_non_null(strstr(err, "is writable by group or others (mode 0620)"));
	assert_int_equal(chmod(path, 0400), 0);
	assert_int_equal(parse_files(&cfg, text, err), 0);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(parse_files(&cfg, text, err), 0);

	/* The password file likewise. */
	snprintf(path, sizeof(path), "%s/pw", f->dir);
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(parse_files(&cfg, text, err), -1);
	assert_memory_equal(err, "t.conf:9: password_file", 23);
	assert_non_null(strstr(err, "run chmod 600"));
	assert_int_equal(chmod(path, 0600), 0);

	/* A file that is not there. */
	snprintf(path, sizeof(path), "%s/ca.crt", f->dir);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(parse_files(&cfg, text, err), -1);
	snprintf(want, sizeof(want), "t.conf:6: cafile %s: No such file or directory", path);
	assert_memory_equal(err, want, strlen(want));
	/* Without check_files the same configuration is fine. */
	assert_int_equal(parse(&cfg, text, err), 0);
	/* A directory where the file should be. */
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(parse_files(&cfg, text, err), -1);
	assert_memory_equal(err, "t.conf:6: cafile", 16);
	assert_non_null(strstr(err, "is not a regular file"));
	assert_int_equal(rmdir(path), 0);
	write_file(f->dir, "ca.crt", 0644);

	/* Files are checked in key order: certfile before authorized_keys. */
	snprintf(path, sizeof(path), "%s/ak", f->dir);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(parse_files(&cfg, text, err), -1);
	assert_memory_equal(err, "t.conf:11: authorized_keys", 26);
	snprintf(path, sizeof(path), "%s/d.crt", f->dir);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(parse_files(&cfg, text, err), -1);
	assert_memory_equal(err, "t.conf:7: certfile", 18);
	write_file(f->dir, "d.crt", 0644);
	write_file(f->dir, "ak", 0644);
	assert_int_equal(parse_files(&cfg, text, err), 0);

	/* Key order, not file order: with [security] first, cafile is still named first. */
	snprintf(path, sizeof(path), "%s/ak", f->dir);
	assert_int_equal(unlink(path), 0);
	snprintf(path, sizeof(path), "%s/ca.crt", f->dir);
	assert_int_equal(unlink(path), 0);
	splice(want, sizeof(want), text, 10, 2, "");
	assert_int_equal(parse_files(&cfg,
	                             splice(buf, sizeof(buf), want, 1, 0,
	                                    "[security]\nauthorized_keys = /nonexistent/ak\n"),
	                             err),
	                 -1);
	assert_memory_equal(err, "t.conf:8: cafile", 16);
	write_file(f->dir, "ca.crt", 0644);
	write_file(f->dir, "ak", 0644);

	/* A missing key is reported before any file. */
	assert_int_equal(parse_files(&cfg, splice(want, sizeof(want), text, 2, 1, ""), err), -1);
	assert_memory_equal(err, "t.conf:1: [device] has no 'id'", 30);
}

static void
test_config_SimLogDirectory(void **state)
{
	struct fixture *f = *state;
	char text[BIG], buf[BIG], line[256], err[CONFIG_ERROR_MAX];
	struct config cfg;

	files_config(text, sizeof(text), f->dir);
	snprintf(line, sizeof(line), "sim_log = %s/nodir/sim.log\n", f->dir);
	assert_int_equal(parse_files(&cfg, splice(buf, sizeof(buf), text, 15, 1, line), err), -1);
	assert_memory_equal(err, "t.conf:15: sim_log", 18);
	assert_non_null(strstr(err, "nodir: No such file or directory"));
	snprintf(line, sizeof(line), "sim_log = %s/d.crt/sim.log\n", f->dir);
	assert_int_equal(parse_files(&cfg, splice(buf, sizeof(buf), text, 15, 1, line), err), -1);
	assert_non_null(strstr(err, "is not a directory"));
	/* The log itself need not exist yet: the simulator creates it. */
	assert_int_equal(parse_files(&cfg, text, err), 0);
	assert_int_equal(access(cfg.doors[0].sim_log, F_OK), -1);
}

static void
test_config_Load(void **state)
{
	struct fixture *f = *state;
	char text[BIG], path[256], want[512], err[CONFIG_ERROR_MAX];
	struct config cfg;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/garaged.conf", f->dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(files_config(text, sizeof(text), f->dir), fp);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(config_load(&cfg, path, err, sizeof(err)), 0);
	assert_string_equal(cfg.file, path);
	assert_string_equal(cfg.device_id, "garage");

	/* config_load checks the files. */
	snprintf(want, sizeof(want), "%s/d.key", f->dir);
	assert_int_equal(chmod(want, 0644), 0);
	assert_int_equal(config_load(&cfg, path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:8: keyfile", path);
	assert_memory_equal(err, want, strlen(want));

	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(splice(want, sizeof(want), base, 4, 1, "port = notanumber\n"), fp);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(config_load(&cfg, path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:4: port must be a number", path);
	assert_memory_equal(err, want, strlen(want));

	snprintf(path, sizeof(path), "%s/absent.conf", f->dir);
	assert_int_equal(config_load(&cfg, path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	assert_memory_equal(err, want, strlen(want));
	/* A directory given as the configuration file. */
	assert_int_equal(config_load(&cfg, f->dir, err, sizeof(err)), -1);
	assert_memory_equal(err, f->dir, strlen(f->dir));
	/* A short err buffer is cut, never overrun. */
	assert_int_equal(config_load(&cfg, path, err, 8), -1);
	assert_int_equal(strlen(err), 7);
}

/* A file of the source tree (REL from its top), found from this file's path (CMake compiles it
 * by full path). The caller frees it. */
static char *
read_source(const char *rel)
{
	char path[1024];
	const char *slash = strstr(__FILE__, "tests/unit/test-config.c");
	char *text;
	size_t n;
	FILE *fp;

	assert_non_null(slash);
	snprintf(path, sizeof(path), "%.*s%s", (int)(slash - __FILE__), __FILE__, rel);
	fp = fopen(path, "r");
	if (fp == NULL)
		print_error("cannot open %s\n", path);
	assert_non_null(fp);
	/* docs/reference.md is the largest, at over 64 KiB. */
	text = calloc(1, 16 * BIG);
	assert_non_null(text);
	n = fread(text, 1, 16 * BIG - 1, fp);
	fclose(fp);
	assert_true(n > 0 && n < 16 * BIG - 1);
	return text;
}

/* The lines from the one starting with START to just before the next one starting with any of
 * ENDS (or the end), into out; NULL when no line starts with START. Searched from FROM on. */
static char *
lines_from(char *out, size_t size, const char *from, const char *start, const char *const *ends,
           size_t nends)
{
	const char *a = from, *b;
	size_t i;

	while (a != NULL && strncmp(a, start, strlen(start)) != 0)
		a = (a = strchr(a, '\n')) != NULL ? a + 1 : NULL;
	if (a == NULL)
		return NULL;
	for (b = strchr(a, '\n'); b != NULL; b = strchr(b + 1, '\n'))
		for (i = 0; i < nends; i++)
			if (strncmp(b + 1, ends[i], strlen(ends[i])) == 0)
				goto found;
	b = a + strlen(a);
found:
	assert_true((size_t)(b - a) < size);
	memcpy(out, a, (size_t)(b - a));
	out[b - a] = '\0';
	return out;
}

/* Markup (scdoc's '*' and '_', escapes) out, and every run of white space one space. */
static char *
plain(char *s)
{
	char *r = s, *w = s;

	for (; *r != '\0'; r++) {
		if (*r == '*' || *r == '_' || *r == '\\')
			continue;
		if (isspace((unsigned char)*r)) {
			if (w > s && w[-1] != ' ')
				*w++ = ' ';
			continue;
		}
		*w++ = *r;
	}
	*w = '\0';
	return s;
}

/* TEXT holds "Default: DEF" with DEF a whole word (30 is not 300). */
static bool
says_default(const char *text, const char *def)
{
	char want[128];
	const char *at;

	snprintf(want, sizeof(want), "Default: %s", def);
	for (at = strstr(text, want); at != NULL; at = strstr(at + 1, want))
		if (!isalnum((unsigned char)at[strlen(want)]))
			return true;
	return false;
}

/* TEXT holds "MIN to MAX", when KEY has a range. */
static bool
says_range(const char *text, const struct config_key *k)
{
	char want[64];

	if (k->max <= k->min)
		return true;
	snprintf(want, sizeof(want), "%ld to %ld", k->min, k->max);
	return strstr(text, want) != NULL;
}

static void
report(bool ok, const char *where, const struct config_key *k, const char *what, const char *text)
{
	if (!ok)
		print_error("%s: [%s] %s: %s\n--- it says:\n%s\n---\n", where, k->section, k->name,
		            what, text != NULL ? text : "(nothing)");
	assert_true(ok);
}

/*
 * The table is what the documentation says: every key of it is in deploy/garaged.conf.example
 * (set or commented out, its comment stating its range and default), in garaged.conf(5) (a
 * paragraph under its section with both) and in docs/reference.md (a row of its section's table
 * with the range, and the default in the last column). Remove a key's line from any of them, or
 * change a default or range in one place only, and this fails.
 */
static void
test_config_KeysDocumented(void **state)
{
	static const char *const key_ends[] = {"*", "#"}; /* the next key, or a heading */
	static const char *const heading[] = {"#"};
	static const char *const next_line[] = {""};
	char *example = read_source("deploy/garaged.conf.example");
	char *man = read_source("man/garaged.conf.5.scd");
	char *ref = read_source("docs/reference.md");
	char *block = malloc(BIG), *sect = malloc(BIG), *part = malloc(BIG), *row = malloc(BIG);
	char want[128];
	const char *at, *line, *cell;
	const struct config_key *k;
	size_t n, i;

	(void)state;
	assert_non_null(block);
	assert_non_null(sect);
	assert_non_null(part);
	assert_non_null(row);
	k = config_keys(&n);
	for (i = 0; i < n; i++) {
		/* The example: the key's line, set or commented out, and the comment above it up to
		 * the previous key's line. */
		snprintf(want, sizeof(want), "\n%s = ", k[i].name);
		at = strstr(example, want);
		if (at == NULL) {
			snprintf(want, sizeof(want), "\n#%s = ", k[i].name);
			at = strstr(example, want);
		}
		report(at != NULL, "garaged.conf.example", &k[i], "no line for it", NULL);
		for (line = at + 1; line > example && line[-1] == '\n';) {
			const char *prev = line - 1;

			while (prev > example && prev[-1] != '\n')
				prev--;
			if (prev[0] != '#' || isalpha((unsigned char)prev[1]))
				break; /* not a comment, or a key commented out */
			line = prev;
		}
		at = strchr(at + 1, '\n');
		assert_true((size_t)(at - line) < BIG);
		memcpy(block, line, (size_t)(at - line));
		block[at - line] = '\0';
		plain(block);
		report(says_range(block, &k[i]), "garaged.conf.example", &k[i], "no range", block);
		report(k[i].def == NULL || says_default(block, k[i].def), "garaged.conf.example",
		       &k[i], "no 'Default: ...'", block);

		/* garaged.conf(5): "*KEY* = ..." under "# [SECTION]", up to the next key or
		 * heading. */
		snprintf(want, sizeof(want), "# [%s]", k[i].section);
		report(lines_from(sect, BIG, man, want, heading, 1) != NULL, "garaged.conf(5)",
		       &k[i], "no heading for its section", NULL);
		snprintf(want, sizeof(want), "*%s* =", k[i].name);
		report(lines_from(part, BIG, sect, want, key_ends, 2) != NULL, "garaged.conf(5)",
		       &k[i], "no paragraph under its section's heading", sect);
		plain(part);
		report(says_range(part, &k[i]), "garaged.conf(5)", &k[i], "no range", part);
		report(k[i].def == NULL || says_default(part, k[i].def), "garaged.conf(5)", &k[i],
		       "no 'Default: ...'", part);

		/* docs/reference.md: "| `KEY` | ... | DEFAULT |" under "### [SECTION]". */
		snprintf(want, sizeof(want), "### [%s]", k[i].section);
		report(lines_from(sect, BIG, ref, want, heading, 1) != NULL, "docs/reference.md",
		       &k[i], "no heading for its section", NULL);
		snprintf(want, sizeof(want), "| `%s` |", k[i].name);
		report(lines_from(row, BIG, sect, want, next_line, 1) != NULL, "docs/reference.md",
		       &k[i], "no row in its section's table", sect);
		report(says_range(row, &k[i]), "docs/reference.md", &k[i], "no range", row);
		cell = strrchr(row, '|');
		while (cell > row && cell[-1] != '|')
			cell--;
		snprintf(want, sizeof(want), "`%s`", k[i].def != NULL ? k[i].def : "");
		report(k[i].def == NULL || strstr(cell, want) != NULL, "docs/reference.md", &k[i],
		       "no default in the last column", row);
	}
	free(row);
	free(part);
	free(sect);
	free(block);
	free(ref);
	free(man);
	free(example);
}

/* The table itself: each row of a kind the parser and the documentation can rely on. */
static void
test_config_Table(void **state)
{
	static struct config scratch;
	static struct config_door scratch_door;
	char msg[CONFIG_ERROR_MAX], want[64];
	const struct config_key *k;
	size_t n, i, j;

	(void)state;
	k = config_keys(&n);
	assert_true(n >= 30);
	for (i = 0; i < n; i++) {
		bool door = strcmp(k[i].section, "door.NAME") == 0;
		struct config_value v = {
		    k[i].def, 0, door ? (void *)&scratch_door : (void *)&scratch, msg, sizeof(msg)};

		assert_non_null(k[i].parse);
		assert_true(k[i].doc != NULL && k[i].doc[0] != '\0' &&
		            strchr(k[i].doc, '\n') == NULL);
		assert_true(k[i].size > 0);
		assert_true(k[i].offset + k[i].size <=
		            (door ? sizeof(struct config_door) : sizeof(struct config)));
		assert_ptr_equal(config_key_find(k[i].section, k[i].name), &k[i]);
		for (j = 0; j < i; j++)
			assert_false(strcmp(k[i].section, k[j].section) == 0 &&
			             strcmp(k[i].name, k[j].name) == 0);
		/* A range is a range, or there is none. */
		assert_true(k[i].min < k[i].max || (k[i].min == 0 && k[i].max == 0));
		/* A required key has no default (it would never be missing) and says what to add;
		 * so does a key gpiod requires. */
		if (k[i].flags & (CONFIG_KEY_REQUIRED | CONFIG_KEY_GPIOD)) {
			snprintf(want, sizeof(want), "%s = ", k[i].name);
			assert_non_null(k[i].example);
			assert_memory_equal(k[i].example, want, strlen(want));
		}
		if (k[i].flags & CONFIG_KEY_REQUIRED)
			assert_null(k[i].def);
		/* Door keys are about one door; sim-only and gpiod-only keys are door keys. */
		if (k[i].flags & (CONFIG_KEY_GPIOD | CONFIG_KEY_SIM_ONLY))
			assert_true(door);
		/* The default is read by the key's own type, and lies in its range. */
		if (k[i].def != NULL) {
			if (k[i].parse(&k[i], &v) != 0)
				print_error("default %s: %s\n", k[i].def, msg);
			assert_int_equal(k[i].parse(&k[i], &v), 0);
			if (k[i].min < k[i].max)
				assert_true(
				    (atol(k[i].def) >= k[i].min && atol(k[i].def) <= k[i].max) ||
				    strcmp(k[i].def, "-1") == 0);
		}
	}
	assert_null(config_key_find("mqtt", "prot"));
	assert_null(config_key_find("door.main", "backend"));
}

static void
test_config_Example(void **state)
{
	struct fixture *f = *state;
	char *example = read_source("deploy/garaged.conf.example"), *text = calloc(1, BIG), *p, *q;
	char err[CONFIG_ERROR_MAX];
	struct config cfg;

	assert_non_null(text);
	/* Every key is in it, with its default and range: test_config_KeysDocumented. */
	expect_ok(&cfg, example);
	assert_string_equal(cfg.device_id, "garage");
	assert_int_equal(cfg.ndoors, 1);
	assert_int_equal(cfg.doors[0].backend, CONFIG_BACKEND_GPIOD);
	assert_string_equal(cfg.doors[0].chip, "gpiochip0");
	assert_int_equal(cfg.doors[0].relay_line, 17);
	assert_int_equal(cfg.doors[0].closed_line, 27);
	assert_int_equal(cfg.doors[0].open_line, 22);

	/* With its files in place it passes the file checks too: /etc/garaged/ and
	 * /var/lib/garaged/ (authorized_keys) moved to dir. */
	for (p = example, q = text; *p != '\0';) {
		if (strncmp(p, "/etc/garaged/", 13) == 0) {
			q += sprintf(q, "%s/", f->dir);
			p += 13;
		} else if (strncmp(p, "/var/lib/garaged/", 17) == 0) {
			q += sprintf(q, "%s/", f->dir);
			p += 17;
		} else {
			*q++ = *p++;
		}
		assert_true(q < text + BIG - 64);
	}
	write_file(f->dir, "garage.crt", 0644);
	write_file(f->dir, "garage.key", 0600);
	write_file(f->dir, "authorized_keys", 0644);
	if (parse_files(&cfg, text, err) != 0)
		print_error("%s\n", err);
	assert_int_equal(parse_files(&cfg, text, err), 0);
	/* And the dry run its comment promises: backend = sim with the gpiod keys left in. */
	p = strstr(text, "backend = gpiod");
	assert_non_null(p);
	memcpy(p, "backend = sim  ", 15);
	expect_ok(&cfg, text);
	assert_int_equal(cfg.doors[0].backend, CONFIG_BACKEND_SIM);
	free(text);
	free(example);
}

/* [device] user: the network half's user; a name useradd(8) would accept, nothing else. */
static void
test_config_User(void **state)
{
	char buf[BIG];
	struct config cfg;

	(void)state;
	expect_ok(&cfg, splice(buf, sizeof(buf), base, 3, 0, "user = garaged-net\n"));
	assert_string_equal(cfg.user, "garaged-net");
	expect_ok(&cfg, splice(buf, sizeof(buf), base, 3, 0, "user = _gd0\n"));
	assert_string_equal(cfg.user, "_gd0");
	expect_error(splice(buf, sizeof(buf), base, 3, 0, "user = Root\n"), "t.conf:3: ", "user");
	expect_error(splice(buf, sizeof(buf), base, 3, 0, "user = -x\n"), "t.conf:3: ", "user");
	expect_error(splice(buf, sizeof(buf), base, 3, 0, "user = 0day\n"), "t.conf:3: ", "user");
	expect_error(splice(buf, sizeof(buf), base, 3, 0, "user = a b\n"), "t.conf:3: ", "user");
	expect_error(splice(buf, sizeof(buf), base, 3, 0, "user = ../x\n"), "t.conf:3: ", "user");
	expect_error(
	    splice(buf, sizeof(buf), base, 3, 0, "user = abcdefghijklmnopqrstuvwxyz0123456\n"),
	    "t.conf:3: ", "user");
	expect_error(splice(buf, sizeof(buf), base, 3, 0, "user = a\nuser = b\n"),
	             "t.conf:4: ", "twice");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_config_FullValid),
	    cmocka_unit_test(test_config_Defaults),
	    cmocka_unit_test(test_config_User),
	    cmocka_unit_test(test_config_EmptyOptional),
	    cmocka_unit_test(test_config_BadPort),
	    cmocka_unit_test(test_config_BadNumbers),
	    cmocka_unit_test(test_config_Ranges),
	    cmocka_unit_test(test_config_ReconnectBackoff),
	    cmocka_unit_test(test_config_BadStrings),
	    cmocka_unit_test(test_config_GoodStrings),
	    cmocka_unit_test(test_config_UnknownKey),
	    cmocka_unit_test(test_config_UnknownSection),
	    cmocka_unit_test(test_config_Hosts),
	    cmocka_unit_test(test_config_DuplicateKey),
	    cmocka_unit_test(test_config_MissingRequired),
	    cmocka_unit_test(test_config_NoDoor),
	    cmocka_unit_test(test_config_BadDoorName),
	    cmocka_unit_test(test_config_BadDeviceId),
	    cmocka_unit_test(test_config_Bools),
	    cmocka_unit_test(test_config_GpiodMissingLines),
	    cmocka_unit_test(test_config_SimKeysWithGpiod),
	    cmocka_unit_test(test_config_GoodPins),
	    cmocka_unit_test(test_config_BadPins),
	    cmocka_unit_test(test_config_TooManyPins),
	    cmocka_unit_test(test_config_TooManyDoors),
	    cmocka_unit_test(test_config_LineTooLong),
	    cmocka_unit_test(test_config_SyntaxError),
	    cmocka_unit_test(test_config_LayoutTolerated),
	    cmocka_unit_test(test_config_ErrorOrdering),
	    cmocka_unit_test_setup_teardown(test_config_FileChecks, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_config_SimLogDirectory, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_config_Load, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_config_Example, setup_dir, teardown_dir),
	    cmocka_unit_test(test_config_KeysDocumented),
	    cmocka_unit_test(test_config_Table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
