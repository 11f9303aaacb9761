/*
 * Unit tests of the one-shot multicast DNS query (src/common/mdns.c): the exact bytes of the
 * query, and the parser of the answers against good replies (plain and compressed names, any
 * case, A, AAAA, both, the additional section) and every way a reply is refused: another id,
 * name, class or section, a goodbye, a query, an error code, every truncation, pointer loops
 * and forward pointers, bad label types, over-long names, wrong record lengths, trailing bytes.
 * Nothing here touches the network: tests/integration/test-mdns.sh does that, in namespaces.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

#include "mdns.h"

#define ID 0x1234

/* ---- a reply, written byte by byte ------------------------------------------------------- */

struct msg {
	uint8_t b[1024];
	size_t n;
};

static void
put8(struct msg *m, unsigned v)
{
	assert_true(m->n < sizeof(m->b));
	m->b[m->n++] = (uint8_t)v;
}

static void
put16(struct msg *m, unsigned v)
{
	put8(m, v >> 8);
	put8(m, v & 0xff);
}

/* A name in wire form, "mqtt.local" -> 4mqtt5local0, without the root label when open. */
static void
put_labels(struct msg *m, const char *name, bool open)
{
	const char *dot;
	size_t l;

	while (*name != '\0') {
		dot = strchr(name, '.');
		l = dot != NULL ? (size_t)(dot - name) : strlen(name);
		put8(m, (unsigned)l);
		for (size_t i = 0; i < l; i++)
			put8(m, (unsigned char)name[i]);
		name += l + (dot != NULL);
	}
	if (!open)
		put8(m, 0);
}

static void
header(struct msg *m, unsigned id, unsigned flags, unsigned qd, unsigned an, unsigned ns,
       unsigned ar)
{
	m->n = 0;
	put16(m, id);
	put16(m, flags);
	put16(m, qd);
	put16(m, an);
	put16(m, ns);
	put16(m, ar);
}

/* Type, class, TTL and the record data after a name already written. */
static void
rr(struct msg *m, unsigned type, unsigned rclass, uint32_t ttl, const void *data, size_t len)
{
	put16(m, type);
	put16(m, rclass);
	put16(m, ttl >> 16);
	put16(m, ttl & 0xffff);
	put16(m, (unsigned)len);
	for (size_t i = 0; i < len; i++)
		put8(m, ((const uint8_t *)data)[i]);
}

static const uint8_t ip4[4] = {10, 213, 0, 1};
static const uint8_t ip4b[4] = {10, 213, 0, 2};
static uint8_t ip6[16];

/* What avahi sends back to a legacy unicast query: the question, then one A answer whose name
 * points back at it (offset 12), cache-flush bit set, TTL 10. */
static void
good_reply(struct msg *m)
{
	header(m, ID, 0x8400, 1, 1, 0, 0);
	put_labels(m, "mqtt.local", false);
	put16(m, 1);
	put16(m, 1);
	put16(m, 0xC00C);
	rr(m, 1, 0x8001, 10, ip4, 4);
}

static int
parse(const struct msg *m, struct mdns_addr *a)
{
	memset(a, 0xee, sizeof(*a));
	return mdns_parse_response(m->b, m->n, ID, "mqtt.local", a);
}

static void
assert_v4(const struct mdns_addr *a, const uint8_t want[4])
{
	assert_int_equal(a->family, AF_INET);
	assert_memory_equal(a->addr, want, 4);
}

/* ---- names -------------------------------------------------------------------------------- */

static void
test_mdns_name_is_local(void **state)
{
	(void)state;
	assert_true(mdns_name_is_local("mqtt.local"));
	assert_true(mdns_name_is_local("MQTT.LoCaL"));
	assert_true(mdns_name_is_local("broker.home.local"));
	assert_true(mdns_name_is_local("mqtt.local."));
	assert_false(mdns_name_is_local("local"));
	assert_false(mdns_name_is_local(".local"));
	assert_false(mdns_name_is_local("mqtt.localhost"));
	assert_false(mdns_name_is_local("mqttlocal"));
	assert_false(mdns_name_is_local("mqtt.lan"));
	assert_false(mdns_name_is_local("10.0.0.1"));
	assert_false(mdns_name_is_local(""));
}

/* ---- the query ----------------------------------------------------------------------------- */

static void
test_mdns_build_query_bytes(void **state)
{
	static const uint8_t want[] = {
	    0x12, 0x34, 0,    0,   0,    2, 0,   0,   0,   0,   0,   0, /* id, flags, 2 questions */
	    4,    'm',  'q',  't', 't',  5, 'l', 'o', 'c', 'a', 'l', 0, /* mqtt.local */
	    0,    1,    0x80, 1,            /* A, IN + unicast response */
	    0xC0, 12,   0,    28,  0x80, 1, /* same name: AAAA, IN + QU */
	};
	uint8_t buf[512];
	size_t n;

	(void)state;
	n = mdns_build_query("MQTT.local", ID, buf, sizeof(buf));
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	/* A trailing dot names the same thing. */
	assert_int_equal(mdns_build_query("mqtt.local.", ID, buf, sizeof(buf)), sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	/* Exactly enough room, and one byte less. */
	assert_int_equal(mdns_build_query("mqtt.local", ID, buf, sizeof(want)), sizeof(want));
	assert_int_equal(mdns_build_query("mqtt.local", ID, buf, sizeof(want) - 1), 0);
	assert_int_equal(mdns_build_query("mqtt.local", ID, buf, 3), 0);
}

static void
test_mdns_build_query_bad_names(void **state)
{
	char label64[80], long_name[300];
	uint8_t buf[600];
	size_t i;

	(void)state;
	assert_int_equal(mdns_build_query("", ID, buf, sizeof(buf)), 0);
	assert_int_equal(mdns_build_query(".", ID, buf, sizeof(buf)), 0);
	assert_int_equal(mdns_build_query("a..local", ID, buf, sizeof(buf)), 0);
	assert_int_equal(mdns_build_query(".local", ID, buf, sizeof(buf)), 0);
	assert_int_equal(mdns_build_query("a b.local", ID, buf, sizeof(buf)), 0);
	assert_int_equal(mdns_build_query("a\x7f.local", ID, buf, sizeof(buf)), 0);

	/* A label of 63 is the most there can be. */
	memset(label64, 'a', 63);
	strcpy(label64 + 63, ".local");
	assert_int_not_equal(mdns_build_query(label64, ID, buf, sizeof(buf)), 0);
	memset(label64, 'a', 64);
	strcpy(label64 + 64, ".local");
	assert_int_equal(mdns_build_query(label64, ID, buf, sizeof(buf)), 0);

	/* 255 bytes in wire form at most: 41 labels "abcdef" (7 bytes each) is 287. */
	long_name[0] = '\0';
	for (i = 0; i < 41; i++)
		strcat(long_name, "abcdef.");
	strcat(long_name, "local");
	assert_int_equal(mdns_build_query(long_name, ID, buf, sizeof(buf)), 0);
}

/* Our own query, heard back (multicast loops to us), is no answer. */
static void
test_mdns_parse_own_query(void **state)
{
	uint8_t buf[512];
	struct mdns_addr a;
	size_t n;

	(void)state;
	n = mdns_build_query("mqtt.local", ID, buf, sizeof(buf));
	assert_int_equal(mdns_parse_response(buf, n, ID, "mqtt.local", &a), 0);
}

/* ---- good answers -------------------------------------------------------------------------- */

static void
test_mdns_parse_compressed_answer(void **state)
{
	struct msg m;
	struct mdns_addr a;

	(void)state;
	good_reply(&m);
	assert_int_equal(parse(&m, &a), 1);
	assert_v4(&a, ip4);
}

static void
test_mdns_parse_plain_name_any_case(void **state)
{
	struct msg m;
	struct mdns_addr a;

	(void)state;
	header(&m, ID, 0x8400, 0, 1, 0, 0);
	put_labels(&m, "MqTt.LOCAL", false);
	rr(&m, 1, 1, 120, ip4, 4);
	assert_int_equal(parse(&m, &a), 1);
	assert_v4(&a, ip4);
	/* Asked in upper case, answered in lower case. */
	assert_int_equal(mdns_parse_response(m.b, m.n, ID, "MQTT.local", &a), 1);
}

/* A name made of labels and then a pointer to the tail of another name. */
static void
test_mdns_parse_partly_compressed(void **state)
{
	struct msg m;
	struct mdns_addr a;

	(void)state;
	header(&m, ID, 0x8400, 1, 1, 0, 0);
	put_labels(&m, "other.local", false); /* "local" is at offset 12 + 6 = 18 */
	put16(&m, 1);
	put16(&m, 1);
	put_labels(&m, "mqtt", true);
	put16(&m, 0xC000 | 18);
	rr(&m, 1, 1, 10, ip4, 4);
	assert_int_equal(parse(&m, &a), 1);
	assert_v4(&a, ip4);
}

/* Pointers to pointers, each earlier than the last: allowed. */
static void
test_mdns_parse_pointer_chain(void **state)
{
	struct msg m;
	struct mdns_addr a;

	(void)state;
	header(&m, ID, 0x8400, 0, 3, 0, 0);
	put_labels(&m, "mqtt.local", false); /* offset 12 */
	rr(&m, 16, 1, 10, "\x01x", 2);       /* TXT, ignored */
	put16(&m, 0xC00C);                   /* offset 12 + 12 + 12 = 36 */
	rr(&m, 16, 1, 10, "\x01y", 2);
	put16(&m, 0xC000 | 36);
	rr(&m, 1, 1, 10, ip4, 4);
	assert_int_equal(parse(&m, &a), 1);
	assert_v4(&a, ip4);
}

static void
test_mdns_parse_aaaa_only(void **state)
{
	struct msg m;
	struct mdns_addr a;

	(void)state;
	header(&m, ID, 0x8400, 0, 1, 0, 0);
	put_labels(&m, "mqtt.local", false);
	rr(&m, 28, 0x8001, 10, ip6, 16);
	assert_int_equal(parse(&m, &a), 1);
	assert_int_equal(a.family, AF_INET6);
	assert_memory_equal(a.addr, ip6, 16);
}

/* Both: IPv4 wins whatever the order; of two A records, the first. */
static void
test_mdns_parse_prefers_first_a(void **state)
{
	struct msg m;
	struct mdns_addr a;

	(void)state;
	header(&m, ID, 0x8400, 0, 3, 0, 0);
	put_labels(&m, "mqtt.local", false);
	rr(&m, 28, 1, 10, ip6, 16);
	put16(&m, 0xC00C);
	rr(&m, 1, 1, 10, ip4, 4);
	put16(&m, 0xC00C);
	rr(&m, 1, 1, 10, ip4b, 4);
	assert_int_equal(parse(&m, &a), 1);
	assert_v4(&a, ip4);
}

/* Asked for both, a responder may put the other family in the additional section. */
static void
test_mdns_parse_additional_section(void **state)
{
	struct msg m;
	struct mdns_addr a;

	(void)state;
	header(&m, ID, 0x8400, 0, 1, 0, 1);
	put_labels(&m, "other.local", false);
	rr(&m, 1, 1, 10, ip4b, 4);
	put_labels(&m, "mqtt.local", false);
	rr(&m, 1, 1, 10, ip4, 4);
	assert_int_equal(parse(&m, &a), 1);
	assert_v4(&a, ip4);
}

/* ---- well-formed, but no answer for us ----------------------------------------------------- */

static void
test_mdns_parse_no_answer(void **state)
{
	struct msg m;
	struct mdns_addr a;

	(void)state;
	header(&m, ID, 0x8400, 1, 0, 0, 0);
	put_labels(&m, "mqtt.local", false);
	put16(&m, 1);
	put16(&m, 1);
	assert_int_equal(parse(&m, &a), 0);
	header(&m, ID, 0x8400, 0, 0, 0, 0);
	assert_int_equal(parse(&m, &a), 0);
}

static void
test_mdns_parse_wrong_name(void **state)
{
	static const char *const others[] = {"other.local", "mqtt.local.local", "mqtt",
	                                     "local",       "mqtt2.local",      "xmqtt.local"};
	struct msg m;
	struct mdns_addr a;

	(void)state;
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		header(&m, ID, 0x8400, 0, 1, 0, 0);
		put_labels(&m, others[i], false);
		rr(&m, 1, 1, 10, ip4, 4);
		assert_int_equal(parse(&m, &a), 0);
	}
	/* "mqtt.local" as one label with a dot in it is not the name either. */
	header(&m, ID, 0x8400, 0, 1, 0, 0);
	put8(&m, 10);
	for (const char *p = "mqtt.local"; *p != '\0'; p++)
		put8(&m, (unsigned char)*p);
	put8(&m, 0);
	rr(&m, 1, 1, 10, ip4, 4);
	assert_int_equal(parse(&m, &a), 0);
}

static void
test_mdns_parse_not_ours(void **state)
{
	struct msg m;
	struct mdns_addr a;

	(void)state;
	good_reply(&m);
	assert_int_equal(mdns_parse_response(m.b, m.n, ID + 1, "mqtt.local", &a), 0);
	m.b[2] = 0x00; /* a query, not a response */
	assert_int_equal(parse(&m, &a), 0);
	m.b[2] = 0x84 | 0x28; /* opcode 5 (update) */
	assert_int_equal(parse(&m, &a), 0);
	m.b[2] = 0x84;
	m.b[3] = 0x03; /* NXDOMAIN: RFC 6762 says to ignore any non-zero rcode */
	assert_int_equal(parse(&m, &a), 0);
}

static void
test_mdns_parse_ignored_records(void **state)
{
	struct msg m;
	struct mdns_addr a;

	(void)state;
	/* Class CHAOS; a goodbye (TTL 0); the authority section (a probe's proposal); types
	 * other than A and AAAA; all for our name. */
	header(&m, ID, 0x8400, 0, 4, 1, 0);
	put_labels(&m, "mqtt.local", false);
	rr(&m, 1, 3, 10, ip4, 4);
	put16(&m, 0xC00C);
	rr(&m, 1, 1, 0, ip4, 4);
	put16(&m, 0xC00C);
	rr(&m, 16, 1, 10, "\x05hello", 6);
	put16(&m, 0xC00C);
	rr(&m, 12, 1, 10, "\xC0\x0C", 2);
	put16(&m, 0xC00C);
	rr(&m, 1, 1, 10, ip4, 4);
	assert_int_equal(parse(&m, &a), 0);
}

/* ---- malformed ------------------------------------------------------------------------------ */

static void
test_mdns_parse_truncated(void **state)
{
	struct msg m;
	struct mdns_addr a;

	(void)state;
	good_reply(&m);
	/* Every shorter prefix: the header is cut, or the counts promise more than there is. */
	for (size_t n = 0; n < m.n; n++)
		assert_int_equal(mdns_parse_response(m.b, n, ID, "mqtt.local", &a), -1);
	/* The same for a reply whose answer is in AAAA form. */
	header(&m, ID, 0x8400, 0, 1, 0, 0);
	put_labels(&m, "mqtt.local", false);
	rr(&m, 28, 1, 10, ip6, 16);
	for (size_t n = 0; n < m.n; n++)
		assert_int_equal(mdns_parse_response(m.b, n, ID, "mqtt.local", &a), -1);
	assert_int_equal(parse(&m, &a), 1);
}

static void
test_mdns_parse_trailing_bytes(void **state)
{
	struct msg m;
	struct mdns_addr a;

	(void)state;
	good_reply(&m);
	put8(&m, 0);
	assert_int_equal(parse(&m, &a), -1);
}

static void
test_mdns_parse_pointer_loops(void **state)
{
	struct msg m;
	struct mdns_addr a;

	(void)state;
	/* A pointer to itself. */
	header(&m, ID, 0x8400, 0, 1, 0, 0);
	put16(&m, 0xC00C);
	rr(&m, 1, 1, 10, ip4, 4);
	assert_int_equal(parse(&m, &a), -1);

	/* A label and then a pointer back to that label: backwards, but a loop. */
	header(&m, ID, 0x8400, 0, 1, 0, 0);
	put_labels(&m, "mqtt", true);
	put16(&m, 0xC00C);
	rr(&m, 1, 1, 10, ip4, 4);
	assert_int_equal(parse(&m, &a), -1);

	/* Two names pointing at each other: the first points forward. */
	header(&m, ID, 0x8400, 0, 2, 0, 0);
	put16(&m, 0xC000 | 26); /* forward, to the second name */
	rr(&m, 16, 1, 10, "\x01x", 2);
	put16(&m, 0xC00C);
	rr(&m, 1, 1, 10, ip4, 4);
	assert_int_equal(parse(&m, &a), -1);

	/* A pointer past the end. */
	header(&m, ID, 0x8400, 0, 1, 0, 0);
	put16(&m, 0xFFFF);
	rr(&m, 1, 1, 10, ip4, 4);
	assert_int_equal(parse(&m, &a), -1);

	/* A pointer cut in half at the end of the message. */
	header(&m, ID, 0x8400, 0, 1, 0, 0);
	put8(&m, 0xC0);
	assert_int_equal(parse(&m, &a), -1);
}

/* More jumps than a name can need, each one backwards. */
static void
test_mdns_parse_pointer_chain_too_long(void **state)
{
	struct msg m;
	struct mdns_addr a;
	size_t prev, i;

	(void)state;
	header(&m, ID, 0x8400, 0, 40, 0, 0);
	prev = m.n;
	put_labels(&m, "mqtt.local", false);
	rr(&m, 16, 1, 10, "\x01x", 2);
	for (i = 1; i < 40; i++) {
		size_t here = m.n;

		put16(&m, 0xC000 | (unsigned)prev);
		rr(&m, 16, 1, 10, "\x01x", 2);
		prev = here;
	}
	/* The 21st name already chains 20 pointers. */
	assert_int_equal(parse(&m, &a), -1);
}

static void
test_mdns_parse_bad_labels(void **state)
{
	struct msg m;
	struct mdns_addr a;
	size_t i;

	(void)state;
	/* Extended (0x40) and reserved (0x80) label types. */
	for (i = 0; i < 2; i++) {
		header(&m, ID, 0x8400, 0, 1, 0, 0);
		put8(&m, i == 0 ? 0x41 : 0x81);
		put8(&m, 'x');
		put8(&m, 0);
		rr(&m, 1, 1, 10, ip4, 4);
		assert_int_equal(parse(&m, &a), -1);
	}
	/* A label running past the end. */
	header(&m, ID, 0x8400, 0, 1, 0, 0);
	put8(&m, 63);
	put8(&m, 'x');
	assert_int_equal(parse(&m, &a), -1);

	/* Over 255 bytes in wire form: five labels of 63 bytes. */
	header(&m, ID, 0x8400, 0, 1, 0, 0);
	for (i = 0; i < 5; i++) {
		put8(&m, 63);
		for (size_t j = 0; j < 63; j++)
			put8(&m, 'a');
	}
	put8(&m, 0);
	rr(&m, 1, 1, 10, ip4, 4);
	assert_int_equal(parse(&m, &a), -1);
}

static void
test_mdns_parse_bad_rdata(void **state)
{
	static const uint8_t five[5] = {10, 213, 0, 1, 0};
	struct msg m;
	struct mdns_addr a;

	(void)state;
	header(&m, ID, 0x8400, 0, 1, 0, 0);
	put_labels(&m, "mqtt.local", false);
	rr(&m, 1, 1, 10, five, 5);
	assert_int_equal(parse(&m, &a), -1);
	header(&m, ID, 0x8400, 0, 1, 0, 0);
	put_labels(&m, "mqtt.local", false);
	rr(&m, 28, 1, 10, ip4, 4);
	assert_int_equal(parse(&m, &a), -1);
	/* An rdlength past the end. */
	header(&m, ID, 0x8400, 0, 1, 0, 0);
	put_labels(&m, "mqtt.local", false);
	rr(&m, 1, 1, 10, ip4, 4);
	m.b[m.n - 5] = 8;
	assert_int_equal(parse(&m, &a), -1);
	/* A record header cut short. */
	header(&m, ID, 0x8400, 0, 1, 0, 0);
	put_labels(&m, "mqtt.local", false);
	put16(&m, 1);
	put16(&m, 1);
	assert_int_equal(parse(&m, &a), -1);
}

static void
test_mdns_resolve_refuses_names(void **state)
{
	char addr[64], err[160];

	(void)state;
	assert_int_equal(mdns_resolve("mqtt.lan", 100, addr, sizeof(addr), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a valid .local name"));
	assert_int_equal(mdns_resolve("a..local", 100, addr, sizeof(addr), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a valid .local name"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mdns_name_is_local),
	    cmocka_unit_test(test_mdns_build_query_bytes),
	    cmocka_unit_test(test_mdns_build_query_bad_names),
	    cmocka_unit_test(test_mdns_parse_own_query),
	    cmocka_unit_test(test_mdns_parse_compressed_answer),
	    cmocka_unit_test(test_mdns_parse_plain_name_any_case),
	    cmocka_unit_test(test_mdns_parse_partly_compressed),
	    cmocka_unit_test(test_mdns_parse_pointer_chain),
	    cmocka_unit_test(test_mdns_parse_aaaa_only),
	    cmocka_unit_test(test_mdns_parse_prefers_first_a),
	    cmocka_unit_test(test_mdns_parse_additional_section),
	    cmocka_unit_test(test_mdns_parse_no_answer),
	    cmocka_unit_test(test_mdns_parse_wrong_name),
	    cmocka_unit_test(test_mdns_parse_not_ours),
	    cmocka_unit_test(test_mdns_parse_ignored_records),
	    cmocka_unit_test(test_mdns_parse_truncated),
	    cmocka_unit_test(test_mdns_parse_trailing_bytes),
	    cmocka_unit_test(test_mdns_parse_pointer_loops),
	    cmocka_unit_test(test_mdns_parse_pointer_chain_too_long),
	    cmocka_unit_test(test_mdns_parse_bad_labels),
	    cmocka_unit_test(test_mdns_parse_bad_rdata),
	    cmocka_unit_test(test_mdns_resolve_refuses_names),
	};

	inet_pton(AF_INET6, "fd00:213::1", ip6);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
