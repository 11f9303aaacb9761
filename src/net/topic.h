/*
 * topic: reading a received topic name, the first bytes of a message the network half takes
 * from the broker. Pure (no I/O, no state), so that it is unit-tested and fuzzed on its own
 * (tests/unit/test-topic.c, tests/fuzz/fuzz-topic.c).
 */
#ifndef GARAGED_TOPIC_H
#define GARAGED_TOPIC_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Whether TOPIC is "PREFIX/DEVICE/<door>/LEAF" with a door segment of no '/'. If so, the door
 * segment goes into OUT (OUTLEN bytes, NUL-terminated); an empty segment, or one that does not
 * fit, comes out empty, which the verifier refuses as unknown_door (a command to no door is
 * still an event in the audit trail). OUT is empty when false.
 */
bool topic_door(const char *topic, const char *prefix, const char *device, const char *leaf,
                char *out, size_t outlen);

#endif
