/*
 * mdns: see mdns.h. A one-shot multicast DNS query (RFC 6762 section 5.1) and a strict parser of
 * the answers.
 *
 * Why by hand: Debian has no library that does a one-shot mDNS lookup without a daemon.
 * libavahi-client talks to a running avahi-daemon over D-Bus, which a sandboxed garaged must
 * not need (and many boards do not run); nss-mdns goes through the same daemon; c-ares
 * (libc-ares-dev) is a unicast DNS resolver and does not speak mDNS. A one-shot query is small:
 * one message out, answers in, no probing, announcing, caching or listening on port 5353.
 *
 * The query goes out from an ephemeral port, so responders answer it as a "legacy unicast"
 * query (RFC 6762 section 6.7): a unicast reply to our port, from port 5353, repeating our
 * message id. The unicast-response bit (section 5.4) is set as well, which asks the same of a
 * responder that looks at the bit rather than at the port. Replies are accepted only from port
 * 5353, from an address on one of our links (section 11), with our id, our name, class IN.
 */
#define _DEFAULT_SOURCE /* getifaddrs, IFF_*, struct ip_mreqn */
#include "mdns.h"
#include "timer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MDNS_PORT      5353
#define MDNS_HEADER    12
#define MDNS_NAME_MAX  255 /* a name in wire form, length bytes and the root label included */
#define MDNS_LABEL_MAX 63
#define MDNS_TYPE_A    1
#define MDNS_TYPE_AAAA 28
#define MDNS_CLASS_IN  1
/* The top bit of a question's class asks for a unicast reply; of a record's, flushes caches. */
#define MDNS_CLASS_TOP 0x8000U
/* Compression pointers followed in one name. Pointers must go strictly backwards anyway (see
 * read_name), so a loop is impossible; this bounds the work of a long chain. */
#define MDNS_JUMPS_MAX 16
/* Interfaces and addresses considered; a board has a handful. */
#define MDNS_LINKS_MAX 16

/* When each try is sent, in ms from the start; the whole lookup is bounded by its timeout. */
static const unsigned mdns_try_at_ms[] = {0, 250, 750};

static char
ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

bool
mdns_name_is_local(const char *name)
{
	static const char suffix[] = ".local";
	size_t n = strlen(name), s = sizeof(suffix) - 1, i;

	if (n > 0 && name[n - 1] == '.')
		n--;
	if (n <= s)
		return false;
	for (i = 0; i < s; i++)
		if (ascii_lower(name[n - s + i]) != suffix[i])
			return false;
	return true;
}

/* NAME ("a.b.local", one trailing dot allowed) in wire form, lower case. Returns its length or
 * 0 when it is no valid name. */
static size_t
encode_name(const char *name, uint8_t *out, size_t outlen)
{
	size_t n = 0, label;
	const char *p = name;

	if (outlen > MDNS_NAME_MAX)
		outlen = MDNS_NAME_MAX;
	while (*p != '\0') {
		for (label = 0; p[label] != '\0' && p[label] != '.'; label++)
			if ((unsigned char)p[label] <= ' ' || (unsigned char)p[label] >= 0x7f)
				return 0;
		if (label == 0 || label > MDNS_LABEL_MAX || n + 1 + label + 1 > outlen)
			return 0;
		out[n++] = (uint8_t)label;
		for (size_t i = 0; i < label; i++)
			out[n++] = (uint8_t)ascii_lower(p[i]);
		p += label;
		if (*p == '.')
			p++;
	}
	if (n == 0)
		return 0;
	out[n++] = 0;
	return n;
}

static void
put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static unsigned
get16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

size_t
mdns_build_query(const char *name, uint16_t id, uint8_t *buf, size_t buflen)
{
	size_t n;

	/* Header, the name once, then A's type and class, a pointer back to the name, AAAA's. */
	if (buflen < MDNS_HEADER + 4 + 2 + 4)
		return 0;
	n = encode_name(name, buf + MDNS_HEADER, buflen - MDNS_HEADER - 4 - 2 - 4);
	if (n == 0)
		return 0;
	memset(buf, 0, MDNS_HEADER);
	put16(buf, id);
	put16(buf + 4, 2); /* two questions, no records: flags all zero for a standard query */
	n += MDNS_HEADER;
	put16(buf + n, MDNS_TYPE_A);
	put16(buf + n + 2, MDNS_CLASS_IN | MDNS_CLASS_TOP);
	n += 4;
	put16(buf + n, 0xC000U | MDNS_HEADER);
	put16(buf + n + 2, MDNS_TYPE_AAAA);
	put16(buf + n + 4, MDNS_CLASS_IN | MDNS_CLASS_TOP);
	return n + 6;
}

/*
 * Reads the name at *off in msg into wire (uncompressed, lower case) and moves *off past it.
 * Returns 0, or -1 for a malformed name: one running past the end, longer than 255 bytes, with
 * an extended label type, or with a compression pointer that does not go strictly backwards
 * from where the current run of labels began. That last rule, which every real encoder meets
 * (a pointer names something already written), makes each jump land earlier than the one
 * before, so no chain of pointers can loop.
 */
static int
read_name(const uint8_t *msg, size_t len, size_t *off, uint8_t *wire, size_t *wirelen)
{
	size_t pos = *off, run = *off, n = 0, after = 0, target;
	unsigned jumps = 0;
	uint8_t c;

	for (;;) {
		if (pos >= len)
			return -1;
		c = msg[pos];
		if ((c & 0xC0) == 0xC0) {
			if (pos + 1 >= len)
				return -1;
			target = (size_t)(c & 0x3F) << 8 | msg[pos + 1];
			if (jumps == 0)
				after = pos + 2;
			if (target >= run || ++jumps > MDNS_JUMPS_MAX)
				return -1;
			pos = run = target;
			continue;
		}
		if ((c & 0xC0) != 0 || pos + 1 + c > len || n + 1 + c > MDNS_NAME_MAX)
			return -1;
		wire[n++] = c;
		if (c == 0)
			break;
		for (size_t i = 0; i < c; i++)
			wire[n++] = (uint8_t)ascii_lower((char)msg[pos + 1 + i]);
		pos += 1 + (size_t)c;
	}
	*off = jumps > 0 ? after : pos + 1;
	*wirelen = n;
	return 0;
}

int
mdns_parse_response(const uint8_t *msg, size_t len, uint16_t id, const char *name,
                    struct mdns_addr *out)
{
	uint8_t want[MDNS_NAME_MAX], got[MDNS_NAME_MAX];
	size_t wantlen, gotlen, off = MDNS_HEADER, i;
	unsigned flags, qd, an, ns, ar, type, rclass, rdlen;
	uint32_t ttl;
	bool have4 = false, have6 = false;
	struct mdns_addr a4, a6;

	memset(&a4, 0, sizeof(a4));
	memset(&a6, 0, sizeof(a6));
	if (len < MDNS_HEADER)
		return -1;
	flags = get16(msg + 2);
	qd = get16(msg + 4);
	an = get16(msg + 6);
	ns = get16(msg + 8);
	ar = get16(msg + 10);
	/* Not an answer to us: another id, a query, another opcode; RFC 6762 section 18.11 says to
	 * ignore a non-zero response code. None of these is malformed. */
	if (get16(msg) != id || (flags & 0x8000U) == 0 || (flags >> 11 & 0xFU) != 0 ||
	    (flags & 0xFU) != 0)
		return 0;
	wantlen = encode_name(name, want, sizeof(want));
	if (wantlen == 0)
		return -1;

	for (i = 0; i < qd; i++) {
		if (read_name(msg, len, &off, got, &gotlen) != 0 || off + 4 > len)
			return -1;
		off += 4;
	}
	for (i = 0; i < (size_t)an + ns + ar; i++) {
		if (read_name(msg, len, &off, got, &gotlen) != 0 || off + 10 > len)
			return -1;
		type = get16(msg + off);
		rclass = get16(msg + off + 2) & ~MDNS_CLASS_TOP;
		ttl = (uint32_t)get16(msg + off + 4) << 16 | get16(msg + off + 6);
		rdlen = get16(msg + off + 8);
		off += 10;
		if (off + rdlen > len)
			return -1;
		/* Answers and additional records only: the authority section is for probing. A
		 * record with TTL 0 is a goodbye: that address is going away. */
		if (i >= an && i < (size_t)an + ns)
			type = 0;
		if (rclass != MDNS_CLASS_IN || ttl == 0 || gotlen != wantlen ||
		    memcmp(got, want, wantlen) != 0)
			type = 0;
		if (type == MDNS_TYPE_A) {
			if (rdlen != 4)
				return -1;
			if (!have4) {
				a4.family = AF_INET;
				memcpy(a4.addr, msg + off, 4);
				have4 = true;
			}
		} else if (type == MDNS_TYPE_AAAA) {
			if (rdlen != 16)
				return -1;
			if (!have6) {
				a6.family = AF_INET6;
				memcpy(a6.addr, msg + off, 16);
				have6 = true;
			}
		}
		off += rdlen;
	}
	if (off != len)
		return -1;
	/* IPv4 first: it needs no interface scope, and a broker at home has one. */
	if (have4)
		*out = a4;
	else if (have6)
		*out = a6;
	return have4 || have6;
}

/* The links we send on and accept replies from: each interface address that can multicast. */
struct mdns_link {
	int family;
	unsigned ifindex;
	uint8_t addr[16], mask[16];
};

static size_t
find_links(struct mdns_link *links, size_t max)
{
	struct ifaddrs *ifa, *i;
	size_t n = 0;

	if (getifaddrs(&ifa) != 0)
		return 0;
	for (i = ifa; i != NULL && n < max; i = i->ifa_next) {
		struct mdns_link *l = &links[n];

		if (i->ifa_addr == NULL || i->ifa_netmask == NULL ||
		    (i->ifa_flags & (IFF_UP | IFF_MULTICAST | IFF_LOOPBACK)) !=
		        (IFF_UP | IFF_MULTICAST))
			continue;
		memset(l, 0, sizeof(*l));
		l->family = i->ifa_addr->sa_family;
		l->ifindex = if_nametoindex(i->ifa_name);
		if (l->family == AF_INET) {
			memcpy(l->addr, &((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr, 4);
			memcpy(l->mask, &((struct sockaddr_in *)(void *)i->ifa_netmask)->sin_addr,
			       4);
		} else if (l->family == AF_INET6) {
			memcpy(l->addr, &((struct sockaddr_in6 *)(void *)i->ifa_addr)->sin6_addr,
			       16);
			memcpy(l->mask, &((struct sockaddr_in6 *)(void *)i->ifa_netmask)->sin6_addr,
			       16);
		} else {
			continue;
		}
		if (l->ifindex != 0)
			n++;
	}
	freeifaddrs(ifa);
	return n;
}

/* RFC 6762 section 11: a unicast reply must come from our own link (or IPv6 link-local). */
static bool
on_link(const struct mdns_link *links, size_t n, int family, const uint8_t *from)
{
	size_t i, j, len = family == AF_INET ? 4 : 16;

	if (family == AF_INET6 && from[0] == 0xfe && (from[1] & 0xc0) == 0x80)
		return true;
	for (i = 0; i < n; i++) {
		if (links[i].family != family)
			continue;
		for (j = 0; j < len; j++)
			if ((from[j] & links[i].mask[j]) != (links[i].addr[j] & links[i].mask[j]))
				break;
		if (j == len)
			return true;
	}
	return false;
}

/* One try: the query out of every link, each family on its own socket. */
static void
send_query(int fd4, int fd6, const struct mdns_link *links, size_t n, const uint8_t *q, size_t qlen)
{
	struct sockaddr_in to4 = {.sin_family = AF_INET, .sin_port = htons(MDNS_PORT)};
	struct sockaddr_in6 to6 = {.sin6_family = AF_INET6, .sin6_port = htons(MDNS_PORT)};
	struct ip_mreqn mr;
	unsigned last6 = 0;
	size_t i;
	int idx;

	inet_pton(AF_INET, "224.0.0.251", &to4.sin_addr);
	inet_pton(AF_INET6, "ff02::fb", &to6.sin6_addr);
	for (i = 0; i < n; i++) {
		/* A failed send on one link (no route, interface going down) is that link's
		 * problem; the others still get the query. */
		if (links[i].family == AF_INET && fd4 >= 0) {
			memset(&mr, 0, sizeof(mr));
			mr.imr_ifindex = (int)links[i].ifindex;
			if (setsockopt(fd4, IPPROTO_IP, IP_MULTICAST_IF, &mr, sizeof(mr)) == 0)
				(void)sendto(fd4, q, qlen, 0, (struct sockaddr *)&to4, sizeof(to4));
		} else if (links[i].family == AF_INET6 && fd6 >= 0 && links[i].ifindex != last6) {
			/* Once per interface, however many IPv6 addresses it has. */
			last6 = links[i].ifindex;
			idx = (int)links[i].ifindex;
			to6.sin6_scope_id = links[i].ifindex;
			if (setsockopt(fd6, IPPROTO_IPV6, IPV6_MULTICAST_IF, &idx, sizeof(idx)) ==
			    0)
				(void)sendto(fd6, q, qlen, 0, (struct sockaddr *)&to6, sizeof(to6));
		}
	}
}

/*
 * One datagram from fd: 1 with addr written when it answers the query, 0 otherwise. A link-local
 * IPv6 address gets the interface it was heard on; heard over IPv4, it has none we could name,
 * and is passed over.
 */
static int
receive_answer(int fd, const struct mdns_link *links, size_t n, uint16_t id, const char *name,
               char *addr, size_t addrlen)
{
	uint8_t msg[MDNS_MSG_MAX];
	struct sockaddr_storage from;
	socklen_t fromlen = sizeof(from);
	struct mdns_addr a;
	char text[INET6_ADDRSTRLEN], ifname[IF_NAMESIZE];
	unsigned scope = 0;
	const uint8_t *src;
	ssize_t got;
	int family;

	got = recvfrom(fd, msg, sizeof(msg), MSG_DONTWAIT, (struct sockaddr *)&from, &fromlen);
	if (got < 0)
		return 0;
	if (from.ss_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)(const void *)&from;

		if (ntohs(s->sin_port) != MDNS_PORT)
			return 0;
		src = (const uint8_t *)&s->sin_addr;
	} else if (from.ss_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)(const void *)&from;

		if (ntohs(s->sin6_port) != MDNS_PORT)
			return 0;
		src = (const uint8_t *)&s->sin6_addr;
		scope = s->sin6_scope_id;
	} else {
		return 0;
	}
	family = from.ss_family;
	if (!on_link(links, n, family, src) ||
	    mdns_parse_response(msg, (size_t)got, id, name, &a) != 1)
		return 0;
	if (inet_ntop(a.family, a.addr, text, sizeof(text)) == NULL)
		return 0;
	if (a.family == AF_INET6 && a.addr[0] == 0xfe && (a.addr[1] & 0xc0) == 0x80) {
		if (scope == 0 || if_indextoname(scope, ifname) == NULL)
			return 0;
		if ((size_t)snprintf(addr, addrlen, "%s%%%s", text, ifname) >= addrlen)
			return 0;
		return 1;
	}
	return (size_t)snprintf(addr, addrlen, "%s", text) < addrlen;
}

static int
open_socket(int family)
{
	int fd, hops = 255, v6only = 1;
	unsigned char ttl = 255;

	fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	/* RFC 6762 section 11: mDNS packets go out with TTL/hop limit 255. Unbound: the kernel
	 * picks an ephemeral port on the first send, which makes this a one-shot query. */
	if ((family == AF_INET &&
	     setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof(ttl)) != 0) ||
	    (family == AF_INET6 &&
	     (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only)) != 0 ||
	      setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof(hops)) != 0))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* One lookup under way: its sockets, its query, and when it sends again or gives up. */
struct mdns_lookup {
	int fd[2]; /* IPv4, IPv6 (-1: none) */
	struct mdns_link links[MDNS_LINKS_MAX];
	size_t nlinks, tries;
	uint8_t query[MDNS_HEADER + MDNS_NAME_MAX + 10];
	size_t qlen;
	uint16_t id;
	char name[MDNS_NAME_MAX + 1];
	unsigned timeout_ms;
	uint64_t start;
};

#define MDNS_TRIES (sizeof(mdns_try_at_ms) / sizeof(mdns_try_at_ms[0]))

struct mdns_lookup *
mdns_lookup_start(const char *name, unsigned timeout_ms, uint64_t now_ms, char *err, size_t errlen)
{
	struct mdns_lookup *l;

	if (!mdns_name_is_local(name) || strlen(name) >= sizeof(l->name)) {
		snprintf(err, errlen, "mDNS: %s is not a valid .local name", name);
		return NULL;
	}
	l = calloc(1, sizeof(*l));
	if (l == NULL) {
		snprintf(err, errlen, "mDNS: %s", strerror(errno));
		return NULL;
	}
	l->fd[0] = l->fd[1] = -1;
	l->start = now_ms;
	l->timeout_ms = timeout_ms;
	snprintf(l->name, sizeof(l->name), "%s", name);
	/* The id ties a reply to this query; a random one keeps a stale reply out. */
	if (getrandom(&l->id, sizeof(l->id), 0) != (ssize_t)sizeof(l->id))
		l->id = (uint16_t)now_ms;
	l->qlen = mdns_build_query(name, l->id, l->query, sizeof(l->query));
	if (l->qlen == 0) {
		snprintf(err, errlen, "mDNS: %s is not a valid .local name", name);
		goto fail;
	}
	l->nlinks = find_links(l->links, MDNS_LINKS_MAX);
	if (l->nlinks == 0) {
		snprintf(err, errlen, "mDNS: no network interface is up that can multicast");
		goto fail;
	}
	l->fd[0] = open_socket(AF_INET);
	l->fd[1] = open_socket(AF_INET6); /* absent without IPv6: that is fine */
	if (l->fd[0] < 0 && l->fd[1] < 0) {
		snprintf(err, errlen, "mDNS: socket: %s", strerror(errno));
		goto fail;
	}
	send_query(l->fd[0], l->fd[1], l->links, l->nlinks, l->query, l->qlen);
	l->tries = 1;
	return l;

fail:
	mdns_lookup_free(l);
	return NULL;
}

void
mdns_lookup_pollfds(const struct mdns_lookup *l, struct pollfd pfd[2])
{
	size_t i;

	for (i = 0; i < 2; i++)
		pfd[i] = (struct pollfd){.fd = l->fd[i], .events = POLLIN};
}

uint64_t
mdns_lookup_deadline(const struct mdns_lookup *l)
{
	uint64_t end = l->start + l->timeout_ms;

	if (l->tries < MDNS_TRIES && l->start + mdns_try_at_ms[l->tries] < end)
		return l->start + mdns_try_at_ms[l->tries];
	return end;
}

int
mdns_lookup_step(struct mdns_lookup *l, const struct pollfd pfd[2], uint64_t now_ms, char *addr,
                 size_t addrlen, char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < 2; i++)
		if (pfd != NULL && pfd[i].fd >= 0 && pfd[i].fd == l->fd[i] &&
		    (pfd[i].revents & POLLIN) &&
		    receive_answer(l->fd[i], l->links, l->nlinks, l->id, l->name, addr, addrlen))
			return 1;
	if (now_ms >= l->start + l->timeout_ms) {
		snprintf(err, errlen,
		         "mDNS: no answer for %s within %.3g s; is the broker announcing it "
		         "(avahi-daemon)?",
		         l->name, (double)l->timeout_ms / 1000.0);
		return -1;
	}
	while (l->tries < MDNS_TRIES && now_ms >= l->start + mdns_try_at_ms[l->tries]) {
		send_query(l->fd[0], l->fd[1], l->links, l->nlinks, l->query, l->qlen);
		l->tries++;
	}
	return 0;
}

void
mdns_lookup_free(struct mdns_lookup *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < 2; i++)
		if (l->fd[i] >= 0)
			close(l->fd[i]);
	free(l);
}

int
mdns_resolve(const char *name, unsigned timeout_ms, char *addr, size_t addrlen, char *err,
             size_t errlen)
{
	struct mdns_lookup *l;
	struct pollfd pfd[2];
	uint64_t now = timer_now_ms(), until;
	int rc;

	l = mdns_lookup_start(name, timeout_ms, now, err, errlen);
	if (l == NULL)
		return -1;
	do {
		mdns_lookup_pollfds(l, pfd);
		until = mdns_lookup_deadline(l);
		/* Negative descriptors are skipped by poll(). An interrupted poll just loops. */
		if (poll(pfd, 2, until > now ? (int)(until - now) : 0) <= 0)
			pfd[0].revents = pfd[1].revents = 0;
		now = timer_now_ms();
		rc = mdns_lookup_step(l, pfd, now, addr, addrlen, err, errlen);
	} while (rc == 0);
	mdns_lookup_free(l);
	return rc == 1 ? 0 : -1;
}
