/*
 * names: the one rule for each kind of name that garaged, garagectl and the broker's ACL must
 * agree on: the device id, a door's name, a key id, a topic prefix and a certificate's CN.
 *
 * A name that one end accepts and the other refuses is a device that cannot be reached, or an
 * ACL line that names nobody; so each rule is written once, here, and config.c, garagectl and
 * broker-config all ask it. It only answers yes or no (and, for a topic prefix, why not): the
 * caller words the message, since only it knows where the name came from. It never allocates,
 * prints or touches anything outside the string it is given.
 */
#ifndef GARAGED_NAMES_H
#define GARAGED_NAMES_H

#include <stdbool.h>

#define NAMES_ID_MAX     32 /* device id and door names */
#define NAMES_KID_MAX    64 /* key ids */
#define NAMES_PREFIX_MAX 64 /* topic prefixes */
#define NAMES_CN_MAX     64 /* RFC 5280 ub-common-name */

/*
 * A device id: [a-z0-9_-]{1,32}. It is a topic level and part of every signed text, so it
 * holds nothing MQTT or the signed text's line structure could read as syntax.
 */
bool names_device_id_valid(const char *s);

/* A door's name, the NAME of [door.NAME]: the same characters as a device id, for the same
 * reasons. */
bool names_door_valid(const char *s);

/* A key id as authorized_keys and the signed command carry it: [A-Za-z0-9._@-]{1,64}. */
bool names_kid_valid(const char *s);

/* Why a topic prefix is refused; NAMES_PREFIX_OK when it is not. */
enum names_prefix_error {
	NAMES_PREFIX_OK = 0,
	NAMES_PREFIX_EMPTY,
	NAMES_PREFIX_TOO_LONG,    /* more than NAMES_PREFIX_MAX bytes */
	NAMES_PREFIX_WILDCARD,    /* '+' or '#' */
	NAMES_PREFIX_EMPTY_LEVEL, /* '/' at either end, or "//" */
	NAMES_PREFIX_SPACE,       /* a space or a control character */
};

/*
 * A topic prefix (topic_prefix, Home Assistant's prefix): the first levels of every topic, so
 * no wildcards, no empty levels, no spaces or control characters; at most 64 bytes. When
 * several things are wrong the first in the enum's order is the answer.
 */
enum names_prefix_error names_topic_prefix_check(const char *s);
bool names_topic_prefix_valid(const char *s);

/*
 * A certificate CN that is an MQTT identity an ACL can name: 1 to 64 printable ASCII
 * characters, no spaces (a certificate name with one is a typo more often than not), no MQTT
 * wildcards (CVE-2017-7650 is why Mosquitto's own plugins refuse them) and no '/'.
 */
bool names_cn_valid(const char *s);

#endif
