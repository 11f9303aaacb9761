/*
 * Unit tests of garagectl's invitations without a broker (src/ctl/ctl_invite.c): durations and
 * times of its options, the new key's limits through the core's key line parser (ctl_keys.c's,
 * which keys add shares), the line that
 * carries an invitation and its secret (with and without a link), and the QR code: the
 * terminal's drawing and the PNG are decoded back to the modules libqrencode made.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>
#include <sodium.h>

#include "base64.h"
#include "ctl_invite.h"

#define NOW INT64_C(1795547700)

static void
test_ctl_invite_Durations(void **state)
{
	static const struct {
		const char *s;
		int64_t want; /* -1: refused */
	} cases[] = {
	    {"1s", 1},
	    {"90s", 90},
	    {"30m", 1800},
	    {"24h", 86400},
	    {"7d", 604800},
	    {"30d", 2592000},
	    {"31d", -1},
	    {"0s", -1},
	    {"01h", -1},
	    {"h", -1},
	    {"24", -1},
	    {"24hours", -1},
	    {"-1h", -1},
	    {"1.5h", -1},
	    {"", -1},
	    {"24H", -1},
	    {" 24h", -1},
	    {"2592001s", -1},
	    {"1000000000000s", -1},
	};
	uint64_t out;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		out = 0;
		if (cases[i].want < 0) {
			if (ctl_duration_parse(cases[i].s, CTL_INVITE_EXPIRES_MAX_S, &out) != -1)
				fail_msg("'%s' accepted", cases[i].s);
		} else {
			assert_int_equal(
			    ctl_duration_parse(cases[i].s, CTL_INVITE_EXPIRES_MAX_S, &out), 0);
			assert_int_equal(out, (uint64_t)cases[i].want);
		}
	}
	assert_int_equal(ctl_duration_parse(NULL, 10, &out), -1);
}

static void
test_ctl_invite_Times(void **state)
{
	int64_t t = 0;

	(void)state;
	assert_int_equal(ctl_time_parse("2026-12-31T23:59:59Z", NOW, &t), 0);
	assert_int_equal(t, INT64_C(1798761599));
	assert_int_equal(ctl_time_parse("30d", NOW, &t), 0);
	assert_int_equal(t, NOW + 30 * 86400);
	assert_int_equal(ctl_time_parse("2026-12-31", NOW, &t), -1);
	assert_int_equal(ctl_time_parse("2026-12-31T23:59:59", NOW, &t), -1);
	assert_int_equal(ctl_time_parse("soon", NOW, &t), -1);
	assert_int_equal(ctl_time_parse(NULL, NOW, &t), -1);
}

static void
test_ctl_invite_KeyLimits(void **state)
{
	struct ctl_key_opts o;
	struct cmd_key k;
	char err[512];

	(void)state;
	memset(&o, 0, sizeof(o));
	o.time_option = "--key-";
	o.kid = "dog-walker";
	assert_int_equal(ctl_key_from_options(&o, NOW, &k, err, sizeof(err)), 0);
	assert_string_equal(k.kid, "dog-walker");
	assert_true(k.all_doors);
	assert_int_equal(k.actions, 0xfU);
	assert_false(k.admin);

	o.actions = "open,close";
	o.doors = "main";
	o.days = "mon,tue,wed,thu,fri";
	o.hours = "07:00-10:00";
	o.not_before = "2026-12-01T00:00:00Z";
	o.not_after = "31d";
	assert_int_equal(ctl_key_from_options(&o, NOW, &k, err, sizeof(err)), 0);
	assert_int_equal(k.actions, 0x3U);
	assert_false(k.all_doors);
	assert_string_equal(k.doors[0], "main");
	assert_int_equal(k.days, 0x3eU);
	assert_true(k.has_hours);
	assert_int_equal(k.not_before, INT64_C(1796083200));
	assert_int_equal(k.not_after, NOW + 31 * 86400);
	for (size_t i = 0; i < sizeof(k.pub); i++)
		assert_int_equal(k.pub[i], 0);
	/* "all" doors is no doors= at all. */
	o.doors = "all";
	assert_int_equal(ctl_key_from_options(&o, NOW, &k, err, sizeof(err)), 0);
	assert_true(k.all_doors);

	/* Each refusal says which option and how to write it. */
	o.actions = "open,shut";
	assert_int_equal(ctl_key_from_options(&o, NOW, &k, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unknown action \"shut\""));
	o.actions = "open, close";
	assert_int_equal(ctl_key_from_options(&o, NOW, &k, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "--actions takes one list without spaces"));
	o.actions = NULL;
	o.not_after = "2026-11-30T00:00:00Z"; /* before not_before */
	assert_int_equal(ctl_key_from_options(&o, NOW, &k, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "never be valid"));
	o.not_after = "tomorrow";
	assert_int_equal(ctl_key_from_options(&o, NOW, &k, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "--key-not-after takes a UTC time"));
	o.not_after = NULL;
	o.hours = "7-10";
	assert_int_equal(ctl_key_from_options(&o, NOW, &k, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "hours="));
	o.hours = NULL;
	o.kid = "dog walker";
	assert_int_equal(ctl_key_from_options(&o, NOW, &k, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "--kid"));

	/* keys add's: a public key, admin, and its own names for the time options. */
	o.kid = "dog-walker";
	o.time_option = NULL;
	o.pub = "Kay64UG8yvCyLhqU000LxzYeUm0L/hLIl5S8kyKWbdc=";
	o.admin = true;
	assert_int_equal(ctl_key_from_options(&o, NOW, &k, err, sizeof(err)), 0);
	assert_true(k.admin);
	assert_int_equal(k.pub[0], 41);
	o.not_after = "soon";
	assert_int_equal(ctl_key_from_options(&o, NOW, &k, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "--not-after takes a UTC time"));
	o.not_after = NULL;
	o.pub = "Kay64UG8yvCyLhqU000LxzYeUm0L/hLIl5S8kyKWbdc";
	assert_int_equal(ctl_key_from_options(&o, NOW, &k, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "the new key is not one authorized_keys takes"));
}

/*
 * Each option's value is judged on its own before a line is built: a value with a blank (or
 * any control character) or an item that is not the option's would otherwise pass as options
 * of its own on the joined line ("eve admin" as a kid makes an admin key).
 */
static void
test_ctl_invite_EachOptionCheckedOnItsOwn(void **state)
{
	static const struct {
		int field; /* 0 kid, 1 actions, 2 doors, 3 days, 4 hours, 5 not_before, 6 not_after,
		            * 7 pub */
		const char *value, *want;
	} bad[] = {
	    {0, "eve admin", "--kid"},
	    {0, "eve\tadmin", "--kid"},
	    {1, "open admin", "--actions takes one list without spaces"},
	    {1, "open,admin", "unknown action \"admin\" in --actions"},
	    {1, "open,", "unknown action \"\" in --actions"},
	    {2, "main admin", "--doors takes one list without spaces"},
	    {2, "main\vadmin", "--doors takes one list without spaces"},
	    {2, "main,Side", "unknown door \"Side\" in --doors"},
	    {2, "main,,side", "unknown door \"\" in --doors"},
	    {2, "main,admin=1", "unknown door \"admin=1\" in --doors"},
	    {3, "mon admin", "--days takes one list without spaces"},
	    {3, "mon,admin", "unknown day \"admin\" in --days"},
	    {4, "07:00-10:00 admin", "--hours takes one list without spaces"},
	    {4, "07:00-10:00,admin", "--hours takes one span"},
	    {5, "2026-12-01T00:00:00Z admin", "--not-before takes a UTC time"},
	    {6, "2030-01-01T00:00:00Z admin", "--not-after takes a UTC time"},
	    {6, "30d\nadmin", "--not-after takes a UTC time"},
	    {7, "Kay64UG8yvCyLhqU000LxzYeUm0L/hLIl5S8kyKWbdc= admin", "--pub"},
	    {7, "Kay64UG8yvCyLhqU000LxzYeUm0L/hLIl5S8kyKWbdc=\x7f", "--pub"},
	};
	struct ctl_key_opts o;
	struct cmd_key k;
	char err[512];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char **field[8] = {&o.kid,   &o.actions,    &o.doors,     &o.days,
		                         &o.hours, &o.not_before, &o.not_after, &o.pub};

		memset(&o, 0, sizeof(o));
		o.kid = "eve";
		*field[bad[i].field] = bad[i].value;
		err[0] = '\0';
		if (ctl_key_from_options(&o, NOW, &k, err, sizeof(err)) != -1 ||
		    strstr(err, bad[i].want) == NULL)
			fail_msg("value '%s': want -1 and \"%s\", got \"%s\"", bad[i].value,
			         bad[i].want, err);
	}
	/* Each good form on its own, and none makes an admin key. */
	memset(&o, 0, sizeof(o));
	o.kid = "eve@home.2";
	o.actions = "toggle";
	o.doors = "main,side_2,back-door";
	o.days = "sat,sun";
	o.hours = "22:00-06:00";
	o.not_before = "1d";
	o.not_after = "2030-01-01T00:00:00Z";
	assert_int_equal(ctl_key_from_options(&o, NOW, &k, err, sizeof(err)), 0);
	assert_false(k.admin);
	assert_int_equal(k.ndoors, 3);
}

/* An invitation with a real one-time key from SEED; its sig is not the point here. */
static struct cmd_invite
invitation(uint8_t seed[32])
{
	struct cmd_invite inv;
	uint8_t sk[64];
	struct ctl_key_opts o;
	char err[256];

	memset(&inv, 0, sizeof(inv));
	memset(&o, 0, sizeof(o));
	o.kid = "bob";
	o.actions = "open";
	assert_int_equal(ctl_key_from_options(&o, NOW, &inv.key, err, sizeof(err)), 0);
	strcpy(inv.device, "garage");
	strcpy(inv.id, "Z2FyYWdlZC1pbnZpdGUwMQ");
	strcpy(inv.by, "alice-phone");
	inv.expires = NOW + 86400;
	randombytes_buf(seed, 32);
	crypto_sign_seed_keypair(inv.ik, sk, seed);
	memset(inv.sig, 0x5a, sizeof(inv.sig));
	return inv;
}

static void
test_ctl_invite_LineRoundTrip(void **state)
{
	uint8_t seed[32], back_seed[32], other[32];
	char line[CTL_INVITE_LINE_MAX], b64[CTL_INVITE_B64_MAX + 1], json[CMD_INVITE_MAX];
	char padded[CTL_INVITE_LINE_MAX + 16], seed64[64], err[512];
	struct cmd_invite inv = invitation(seed), back;
	size_t n;

	(void)state;
	n = ctl_invite_line(&inv, seed, NULL, line, sizeof(line));
	assert_true(n > 0);
	assert_int_equal(n, strlen(line));
	/* <b64url JSON>.<b64url seed>, nothing else. */
	assert_int_equal(strspn(line, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	                              "0123456789-_."),
	                 n);
	assert_int_equal(strlen(strchr(line, '.') + 1), 43);
	base64_encode(BASE64_URL_UNPADDED, seed, 32, seed64, sizeof(seed64));
	assert_string_equal(strchr(line, '.') + 1, seed64);
	assert_int_equal(ctl_invite_line_parse(line, &back, b64, back_seed, err, sizeof(err)), 0);
	assert_memory_equal(&back, &inv, sizeof(inv));
	assert_memory_equal(back_seed, seed, 32);
	n = cmd_invite_json(&inv, json, sizeof(json));
	assert_int_equal(strlen(b64), (n * 4 + 2) / 3);
	assert_memory_equal(b64, line, strlen(b64));

	/* Around it: whitespace, a newline, as pasted or piped. */
	snprintf(padded, sizeof(padded), " \t%s\r\n", line);
	assert_int_equal(ctl_invite_line_parse(padded, &back, b64, back_seed, err, sizeof(err)), 0);

	/* With a link, the invitation and its secret are in the fragment, after the '#'. */
	n = ctl_invite_line(&inv, seed, "https://garage.example/enroll?x=1", line, sizeof(line));
	assert_true(n > 0);
	assert_int_equal(strncmp(line, "https://garage.example/enroll?x=1#", 34), 0);
	assert_null(strchr(line + 34, '#'));
	assert_int_equal(ctl_invite_line_parse(line, &back, b64, back_seed, err, sizeof(err)), 0);
	assert_memory_equal(back_seed, seed, 32);

	/* Each way a line can be wrong says what to give instead. */
	n = ctl_invite_line(&inv, seed, NULL, line, sizeof(line));
	randombytes_buf(other, sizeof(other));
	base64_encode(BASE64_URL_UNPADDED, other, 32, seed64, sizeof(seed64));
	memcpy(strchr(line, '.') + 1, seed64, 43);
	assert_int_equal(ctl_invite_line_parse(line, &back, b64, back_seed, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not this invitation's secret"));
	assert_non_null(strstr(err, "whole line"));
	n = ctl_invite_line(&inv, seed, NULL, line, sizeof(line));
	line[n - 1] = '\0'; /* a character short */
	assert_int_equal(ctl_invite_line_parse(line, &back, b64, back_seed, err, sizeof(err)), -1);
	line[n - 44] = '\0'; /* no secret at all */
	assert_int_equal(ctl_invite_line_parse(line, &back, b64, back_seed, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "INVITATION.SECRET"));
	n = ctl_invite_line(&inv, seed, NULL, line, sizeof(line));
	line[5] = line[5] == 'A' ? 'B' : 'A'; /* the invitation damaged */
	assert_int_equal(ctl_invite_line_parse(line, &back, b64, back_seed, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not an invitation"));
	assert_int_equal(ctl_invite_line_parse("a.b.c", &back, b64, back_seed, err, sizeof(err)),
	                 -1);
	assert_int_equal(ctl_invite_line_parse("", &back, b64, back_seed, err, sizeof(err)), -1);
	assert_int_equal(ctl_invite_line_parse(NULL, &back, b64, back_seed, err, sizeof(err)), -1);
	/* A line that cannot be written: no invitation, or too small a buffer. */
	assert_int_equal(ctl_invite_line(&inv, seed, NULL, line, 10), 0);
	inv.key.actions = 0;
	assert_int_equal(ctl_invite_line(&inv, seed, NULL, line, sizeof(line)), 0);
}

/* The drawing read back: a line of half blocks is two rows of modules. */
static void
test_ctl_invite_QrDrawing(void **state)
{
	static const char *const glyph[4] = {" ", "\xe2\x96\x80", "\xe2\x96\x84", "\xe2\x96\x88"};
	QRcode *qr = ctl_qr_encode("https://garage.example/enroll#eyJ2IjoxfQ.c2VjcmV0");
	char *text = NULL, *p;
	size_t len = 0;
	FILE *out;
	int size, rows = 0;

	(void)state;
	assert_non_null(qr);
	size = qr->width + 4;
	out = open_memstream(&text, &len);
	assert_non_null(out);
	ctl_qr_draw(out, qr);
	fclose(out);
	p = text;
	for (int y = 0; y < size; y += 2, rows++) {
		assert_int_equal(strncmp(p, "\033[30;47m", 8), 0);
		p += 8;
		for (int x = 0; x < size; x++) {
			int mx = x - 2, my = y - 2, want = 0, g;

			if (mx >= 0 && mx < qr->width && my >= 0 && my < qr->width)
				want |= qr->data[my * qr->width + mx] & 1;
			if (mx >= 0 && mx < qr->width && my + 1 >= 0 && my + 1 < qr->width)
				want |= (qr->data[(my + 1) * qr->width + mx] & 1) << 1;
			for (g = 0; g < 4; g++)
				if (strncmp(p, glyph[g], strlen(glyph[g])) == 0)
					break;
			if (g != want)
				fail_msg("module pair (%d, %d): glyph %d, want %d", x, y, g, want);
			p += strlen(glyph[g]);
		}
		assert_int_equal(strncmp(p, "\033[0m\n", 5), 0);
		p += 5;
	}
	assert_int_equal(*p, '\0');
	assert_int_equal(rows, (size + 1) / 2);
	free(text);
	QRcode_free(qr);
}

/* The PNG read back with libpng: 8 pixels a module, a quiet zone of 4, black on white. */
static void
test_ctl_invite_QrPng(void **state)
{
	QRcode *qr = ctl_qr_encode("garaged invitation");
	unsigned char *png = NULL, *pixels;
	png_image image;
	size_t len = 0;
	int size;

	(void)state;
	assert_non_null(qr);
	assert_int_equal(ctl_qr_png(qr, &png, &len), 0);
	assert_true(len > 8);
	assert_memory_equal(png, "\x89PNG\r\n\x1a\n", 8);
	memset(&image, 0, sizeof(image));
	image.version = PNG_IMAGE_VERSION;
	assert_true(png_image_begin_read_from_memory(&image, png, len) != 0);
	size = (qr->width + 8) * 8;
	assert_int_equal(image.width, size);
	assert_int_equal(image.height, size);
	image.format = PNG_FORMAT_GRAY;
	pixels = malloc(PNG_IMAGE_SIZE(image));
	assert_non_null(pixels);
	assert_true(png_image_finish_read(&image, NULL, pixels, 0, NULL) != 0);
	for (int y = 0; y < qr->width + 8; y++) {
		for (int x = 0; x < qr->width + 8; x++) {
			int mx = x - 4, my = y - 4;
			bool dark = mx >= 0 && my >= 0 && mx < qr->width && my < qr->width &&
			            (qr->data[my * qr->width + mx] & 1);
			/* Every pixel of the module, its corners included. */
			for (int py = 0; py < 8; py += 7)
				for (int px = 0; px < 8; px += 7)
					assert_int_equal(pixels[(y * 8 + py) * size + x * 8 + px],
					                 dark ? 0 : 255);
		}
	}
	free(pixels);
	free(png);
	QRcode_free(qr);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ctl_invite_Durations),
	    cmocka_unit_test(test_ctl_invite_Times),
	    cmocka_unit_test(test_ctl_invite_KeyLimits),
	    cmocka_unit_test(test_ctl_invite_EachOptionCheckedOnItsOwn),
	    cmocka_unit_test(test_ctl_invite_LineRoundTrip),
	    cmocka_unit_test(test_ctl_invite_QrDrawing),
	    cmocka_unit_test(test_ctl_invite_QrPng),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
