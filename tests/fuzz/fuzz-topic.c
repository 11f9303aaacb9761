/*
 * fuzz-topic: topic_door() (src/net/topic.c), the network half's reading of a topic name the
 * broker delivered, on arbitrary topics, prefixes, devices, leaves and output sizes.
 *
 * The network half forwards a command to the door half only when topic_door() says yes, with
 * the door it wrote. So: a topic it accepts really is PREFIX/DEVICE/<seg>/LEAF with a segment
 * of no '/' (checked from the end of the topic, not the way topic.c looks from the start), and
 * one it refuses is not; OUT is NUL-terminated within OUTLEN, holds no '/', and is the segment
 * when it fits, else empty; a refusal leaves it empty; OUTLEN 0 writes nothing. Every string
 * and OUT are heap blocks of their exact size, so that AddressSanitizer sees a read or write
 * one byte past any of them.
 *
 * Input: byte 0 is OUTLEN (0 to 255); the rest is TOPIC, PREFIX, DEVICE and LEAF separated by
 * NUL bytes. A part that is missing is "garage", "gw1" or "cmd", so that a plain topic is an
 * input too.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "topic.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

/* The next part of data[*pos..size) up to a NUL, as a heap string of its exact size. */
static char *
next_part(const uint8_t *data, size_t size, size_t *pos, const char *missing)
{
	const uint8_t *start = data + *pos, *nul;
	size_t len;
	char *s;

	if (*pos > size || (*pos == size && missing != NULL)) {
		len = strlen(missing);
		s = malloc(len + 1);
		FUZZ_CHECK(s != NULL);
		memcpy(s, missing, len + 1);
		*pos = size + 1;
		return s;
	}
	nul = memchr(start, '\0', size - *pos);
	len = nul != NULL ? (size_t)(nul - start) : size - *pos;
	s = malloc(len + 1);
	FUZZ_CHECK(s != NULL);
	memcpy(s, start, len);
	s[len] = '\0';
	*pos += len + 1;
	return s;
}

static bool
starts_with(const char *s, const char *head, size_t *off)
{
	size_t n = strlen(head);

	if (strncmp(s + *off, head, n) != 0)
		return false;
	*off += n;
	return true;
}

/*
 * Whether TOPIC is PREFIX "/" DEVICE "/" SEG "/" LEAF with no '/' in SEG; *seg and *seglen
 * say where SEG is. LEAF is matched from the topic's end, and SEG is what is in between.
 */
static bool
model(const char *topic, const char *prefix, const char *device, const char *leaf, const char **seg,
      size_t *seglen)
{
	size_t off = 0, tlen = strlen(topic), llen = strlen(leaf);

	if (!starts_with(topic, prefix, &off) || !starts_with(topic, "/", &off) ||
	    !starts_with(topic, device, &off) || !starts_with(topic, "/", &off))
		return false;
	/* "/" LEAF at the end, after off. */
	if (tlen < off + llen + 1 || strcmp(topic + tlen - llen, leaf) != 0 ||
	    topic[tlen - llen - 1] != '/')
		return false;
	*seg = topic + off;
	*seglen = tlen - llen - 1 - off;
	return memchr(*seg, '/', *seglen) == NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *topic, *prefix, *device, *leaf, *out;
	const char *seg = NULL;
	size_t pos = 1, outlen, seglen = 0;
	bool got, want;

	if (size < 1)
		return 0;
	outlen = data[0];
	topic = next_part(data, size, &pos, NULL);
	prefix = next_part(data, size, &pos, "garage");
	device = next_part(data, size, &pos, "gw1");
	leaf = next_part(data, size, &pos, "cmd");
	/* malloc(0) too: AddressSanitizer reports any byte written there. */
	out = malloc(outlen);
	FUZZ_CHECK(outlen == 0 || out != NULL);
	if (outlen > 0)
		memset(out, 'x', outlen);

	got = topic_door(topic, prefix, device, leaf, out, outlen);
	want = model(topic, prefix, device, leaf, &seg, &seglen);
	if (outlen == 0) {
		FUZZ_CHECK(!got);
	} else {
		const char *nul = memchr(out, '\0', outlen);

		FUZZ_CHECK(got == want);
		FUZZ_CHECK(nul != NULL);
		FUZZ_CHECK(memchr(out, '/', (size_t)(nul - out)) == NULL);
		if (!got)
			FUZZ_CHECK(out[0] == '\0');
		else if (seglen < outlen)
			FUZZ_CHECK(strlen(out) == seglen && memcmp(out, seg, seglen) == 0);
		else
			FUZZ_CHECK(out[0] == '\0');
	}
	free(out);
	free(leaf);
	free(device);
	free(prefix);
	free(topic);
	return 0;
}
