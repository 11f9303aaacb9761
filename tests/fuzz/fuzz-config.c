/*
 * fuzz-config: the garaged.conf parser, config_parse_buffer(), on arbitrary file contents,
 * with check_files false so that nothing outside the buffer is touched.
 *
 * The daemon trusts a struct config that parsed: it sizes arrays by ndoors, builds topics from
 * the prefixes and device id, and hands the lines to libgpiod. So an accepted file must give
 * every field a value in the range SPEC "garaged.conf" states, and a refused one exactly one
 * message, "NAME:LINE: reason", in printable text (it goes to a terminal or syslog) and naming
 * a line the file has.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fuzz.h"

#define NAME "fuzz.conf"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

/* A NUL-terminated string within its buffer, without control bytes; its length. */
static size_t
text_field(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);

	FUZZ_CHECK(n < cap);
	for (size_t i = 0; i < n; i++)
		FUZZ_CHECK((unsigned char)s[i] >= 0x20 && s[i] != 0x7f);
	return n;
}

/* [a-z0-9_-]{1,32}, the device id and door names. */
static void
check_name(const char *s, size_t cap)
{
	size_t n = text_field(s, cap);

	FUZZ_CHECK(n >= 1 && n <= CONFIG_NAME_MAX);
	for (size_t i = 0; i < n; i++)
		FUZZ_CHECK((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		           s[i] == '_' || s[i] == '-');
}

/* A topic prefix: its first levels go into every topic, so no wildcard and no empty level. */
static void
check_prefix(const char *s, size_t cap)
{
	size_t n = text_field(s, cap);

	FUZZ_CHECK(n >= 1 && n <= CONFIG_PREFIX_MAX);
	FUZZ_CHECK(strpbrk(s, "+# \t") == NULL);
	FUZZ_CHECK(s[0] != '/' && s[n - 1] != '/' && strstr(s, "//") == NULL);
}

static void
check_door(const struct config_door *d)
{
	check_name(d->name, sizeof(d->name));
	FUZZ_CHECK(d->line >= 1);
	FUZZ_CHECK(d->backend == CONFIG_BACKEND_SIM || d->backend == CONFIG_BACKEND_GPIOD);
	text_field(d->chip, sizeof(d->chip));
	text_field(d->sim_log, sizeof(d->sim_log));
	FUZZ_CHECK(d->relay_line >= -1 && d->relay_line <= 1023);
	FUZZ_CHECK(d->closed_line >= -1 && d->closed_line <= 1023);
	FUZZ_CHECK(d->open_line >= -1 && d->open_line <= 1023);
	FUZZ_CHECK(d->relay_pulse_ms >= 50 && d->relay_pulse_ms <= 10000);
	FUZZ_CHECK(d->min_pulse_interval_ms <= 600000);
	FUZZ_CHECK(d->travel_time_s >= 1 && d->travel_time_s <= 600);
	FUZZ_CHECK(d->auto_close_s <= 86400);
	FUZZ_CHECK(d->auto_close_warning_s <= 3600);
	FUZZ_CHECK(d->sim_travel_ms >= 100 && d->sim_travel_ms <= 600000);
	if (d->backend == CONFIG_BACKEND_GPIOD) {
		/* What the gpiod backend requests; libgpiod must never see -1 or one line twice. */
		FUZZ_CHECK(d->chip[0] != '\0');
		FUZZ_CHECK(d->relay_line >= 0 && d->closed_line >= 0);
		FUZZ_CHECK(d->relay_line != d->closed_line);
		FUZZ_CHECK(d->open_line < 0 ||
		           (d->open_line != d->relay_line && d->open_line != d->closed_line));
		FUZZ_CHECK(d->sim_log[0] == '\0');
	}
}

static void
check_config(const struct config *c)
{
	FUZZ_CHECK(strcmp(c->file, NAME) == 0);
	check_name(c->device_id, sizeof(c->device_id));
	FUZZ_CHECK(text_field(c->host, sizeof(c->host)) >= 1);
	FUZZ_CHECK(c->port >= 1);
	FUZZ_CHECK(text_field(c->cafile, sizeof(c->cafile)) >= 1);
	FUZZ_CHECK(text_field(c->certfile, sizeof(c->certfile)) >= 1);
	FUZZ_CHECK(text_field(c->keyfile, sizeof(c->keyfile)) >= 1);
	FUZZ_CHECK(c->npins <= CONFIG_MAX_PINS);
	for (size_t i = 0; i < c->npins; i++) {
		const struct config_pin *p = &c->pins[i];

		FUZZ_CHECK(p->line >= 1);
		FUZZ_CHECK(p->kind == CONFIG_PIN_CERT_SHA1
		               ? p->len == 20
		               : p->len == 32 && (p->kind == CONFIG_PIN_CERT_SHA256 ||
		                                  p->kind == CONFIG_PIN_SPKI_SHA256));
	}
	FUZZ_CHECK(strcmp(c->tls_version, "tlsv1.2") == 0 ||
	           strcmp(c->tls_version, "tlsv1.3") == 0);
	text_field(c->username, sizeof(c->username));
	text_field(c->password_file, sizeof(c->password_file));
	FUZZ_CHECK(c->keepalive >= 5 && c->keepalive <= 3600);
	check_prefix(c->topic_prefix, sizeof(c->topic_prefix));
	FUZZ_CHECK(text_field(c->authorized_keys, sizeof(c->authorized_keys)) >= 1);
	FUZZ_CHECK(c->clock_skew >= 1 && c->clock_skew <= 3600);
	check_prefix(c->ha_prefix, sizeof(c->ha_prefix));
	FUZZ_CHECK(c->ha_commands == CONFIG_HA_COMMANDS_OFF ||
	           c->ha_commands == CONFIG_HA_COMMANDS_UNSIGNED);

	FUZZ_CHECK(c->ndoors >= 1 && c->ndoors <= CONFIG_MAX_DOORS);
	for (size_t i = 0; i < c->ndoors; i++) {
		check_door(&c->doors[i]);
		for (size_t j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(c->doors[i].name, c->doors[j].name) != 0);
	}
}

/* The lines the parser can name: each '\n' ends one, and text after the last is one more. */
static long
count_lines(const uint8_t *data, size_t size)
{
	long n = 0;

	for (size_t i = 0; i < size; i++)
		n += data[i] == '\n';
	if (size > 0 && data[size - 1] != '\n')
		n++;
	return n > 0 ? n : 1;
}

/* "fuzz.conf:LINE: reason" with LINE a line of the file, all printable. */
static void
check_message(const char *err, size_t errlen, const uint8_t *data, size_t size)
{
	size_t n = strnlen(err, errlen);
	const char *p;
	char *end;
	long line;

	FUZZ_CHECK(n < errlen);
	for (size_t i = 0; i < n; i++)
		FUZZ_CHECK(err[i] >= 0x20 && err[i] < 0x7f);
	FUZZ_CHECK(strncmp(err, NAME ":", sizeof(NAME)) == 0);
	p = err + sizeof(NAME);
	FUZZ_CHECK(*p >= '1' && *p <= '9');
	line = strtol(p, &end, 10);
	FUZZ_CHECK(end[0] == ':' && end[1] == ' ' && end[2] != '\0');
	FUZZ_CHECK(line >= 1 && line <= count_lines(data, size));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config cfg;
	char err[CONFIG_ERROR_MAX + sizeof(NAME) + 16];

	memset(err, 'x', sizeof(err));
	if (config_parse_buffer(&cfg, NAME, (const char *)data, size, false, err, sizeof(err)) ==
	    0) {
		FUZZ_CHECK(err[0] == '\0');
		check_config(&cfg);
	} else {
		check_message(err, sizeof(err), data, size);
	}
	return 0;
}
