/*
 * mdns: the address of a "*.local" broker name, by one-shot multicast DNS (RFC 6762 section
 * 5.1), for garaged.conf's `host = mqtt.local`.
 *
 * It owns one query: the message (A and AAAA, unicast-response bit set), sending it to
 * 224.0.0.251:5353 and ff02::fb on every multicast-capable interface a few times, and the strict
 * parsing of the answers, which are outside bytes from anyone on the link. It never listens on
 * port 5353, never caches, never answers anyone, and never trusts what it learns: the address
 * is only where to connect; the TLS check of the broker's certificate against the configured
 * name (tls.c) is what proves that the broker is the broker.
 */
#ifndef GARAGED_MDNS_H
#define GARAGED_MDNS_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The whole-lookup bound garaged uses, and the largest message a responder may send us. */
#define MDNS_TIMEOUT_MS 2000U
#define MDNS_MSG_MAX    9000U

/* True for a name that resolves by multicast DNS: it ends in ".local" (any case). */
bool mdns_name_is_local(const char *name);

/* An address learnt from an answer: family is AF_INET (4 bytes of addr) or AF_INET6 (16). */
struct mdns_addr {
	int family;
	uint8_t addr[16];
};

/*
 * Writes the query for NAME (A and AAAA, both with the unicast-response bit) with message id
 * ID into buf. Returns its length, or 0 when NAME is not a valid name or buf is too small.
 */
size_t mdns_build_query(const char *name, uint16_t id, uint8_t *buf, size_t buflen);

/*
 * Reads a response to the query with id ID for NAME. Returns 1 with *out set to the name's
 * address (an A record if there is one, else an AAAA record), 0 for a well-formed message that
 * holds no usable answer (another id, another name, a query, an error code, a goodbye record),
 * or -1 for a malformed message. Every length and pointer is checked against len.
 */
int mdns_parse_response(const uint8_t *msg, size_t len, uint16_t id, const char *name,
                        struct mdns_addr *out);

/*
 * The same lookup without blocking, for a loop that must go on meanwhile (the failback probe,
 * mqtt.c): mdns_lookup_start() sends the first query (NULL with a reason in err when it cannot:
 * not a .local name, no interface that can multicast, no socket); poll the two descriptors
 * mdns_lookup_pollfds() gives (-1 for none) until mdns_lookup_deadline(), then
 * mdns_lookup_step(), which reads what came, sends the next try when it is due, and returns 1
 * with addr written (as mdns_resolve's), 0 while it waits, or -1 with the reason in err once
 * timeout_ms have passed. mdns_lookup_free() ends it at any point (NULL: nothing).
 */
struct mdns_lookup;
struct mdns_lookup *mdns_lookup_start(const char *name, unsigned timeout_ms, uint64_t now_ms,
                                      char *err, size_t errlen);
void mdns_lookup_pollfds(const struct mdns_lookup *l, struct pollfd pfd[2]);
uint64_t mdns_lookup_deadline(const struct mdns_lookup *l);
int mdns_lookup_step(struct mdns_lookup *l, const struct pollfd pfd[2], uint64_t now_ms, char *addr,
                     size_t addrlen, char *err, size_t errlen);
void mdns_lookup_free(struct mdns_lookup *l);

/*
 * Resolves NAME, a ".local" name, to a numeric address string in addr (with "%ifname" for an
 * IPv6 link-local address), as getaddrinfo and libmosquitto take it. Blocks for at most
 * timeout_ms (the lookup above, waited for). Returns 0, or -1 with a one-line reason in err ("mDNS:
 * no answer for NAME within 2 s; is the broker announcing it (avahi-daemon)?").
 */
int mdns_resolve(const char *name, unsigned timeout_ms, char *addr, size_t addrlen, char *err,
                 size_t errlen);

#endif
