/*
 * topic: see topic.h.
 */
#include "topic.h"

#include <string.h>

bool
topic_door(const char *topic, const char *prefix, const char *device, const char *leaf, char *out,
           size_t outlen)
{
	size_t plen = strlen(prefix), dlen = strlen(device), len;
	const char *seg, *end;

	if (outlen == 0)
		return false;
	out[0] = '\0';
	if (strncmp(topic, prefix, plen) != 0 || topic[plen] != '/' ||
	    strncmp(topic + plen + 1, device, dlen) != 0 || topic[plen + 1 + dlen] != '/')
		return false;
	seg = topic + plen + 1 + dlen + 1;
	end = strchr(seg, '/');
	if (end == NULL || strcmp(end + 1, leaf) != 0)
		return false;
	len = (size_t)(end - seg);
	if (len < outlen) {
		memcpy(out, seg, len);
		out[len] = '\0';
	}
	return true;
}
