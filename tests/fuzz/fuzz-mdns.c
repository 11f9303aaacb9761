/*
 * fuzz-mdns: the parser of multicast DNS answers (src/common/mdns.c), which reads datagrams from
 * anyone on the link, and the query builder, which takes the configured host name.
 *
 * The input is a reply to the query for "mqtt.local" with the input's own message id, so that
 * the parser goes past the header. The verdict must be one of the three, an address must be of
 * one of the two families, and a message that parses must parse the same way again (nothing is
 * kept between calls). The input is copied to a buffer of its exact size so that
 * AddressSanitizer sees a read one byte past the end. The same bytes, cut at the first NUL, are
 * also a host name: the query built for it, heard back, is never an answer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fuzz.h"
#include "mdns.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *msg = malloc(size + 1), q[600];
	struct mdns_addr a, again;
	uint16_t id = size >= 2 ? (uint16_t)(data[0] << 8 | data[1]) : 0;
	char name[300];
	size_t n, qlen;
	int r;

	FUZZ_CHECK(msg != NULL);
	memcpy(msg, data, size);
	r = mdns_parse_response(msg, size, id, "mqtt.local", &a);
	FUZZ_CHECK(r >= -1 && r <= 1);
	if (r == 1) {
		FUZZ_CHECK(a.family == AF_INET || a.family == AF_INET6);
		FUZZ_CHECK(mdns_parse_response(msg, size, id, "MQTT.LOCAL", &again) == 1);
		FUZZ_CHECK(memcmp(&a, &again, sizeof(a)) == 0);
	}
	free(msg);

	n = strnlen((const char *)data, size < sizeof(name) - 1 ? size : sizeof(name) - 1);
	memcpy(name, data, n);
	name[n] = '\0';
	(void)mdns_name_is_local(name);
	qlen = mdns_build_query(name, id, q, sizeof(q));
	FUZZ_CHECK(qlen <= sizeof(q));
	if (qlen > 0)
		FUZZ_CHECK(mdns_parse_response(q, qlen, id, name, &a) == 0);
	return 0;
}
