/*
 * ha: Home Assistant MQTT discovery (retained config on <prefix>/cover/<device>/<door>/config,
 * the device id as Home Assistant's node id: each device's own subtree, which the ACL confines
 * it to).
 *
 * It owns what Home Assistant is told about each door: a garage-class cover with its state and
 * availability topics and payloads, the device it belongs to, and a command topic only when the
 * owner allowed unsigned commands from Home Assistant ([homeassistant] commands = unsigned).
 * It formats; the daemon publishes.
 */
#ifndef GARAGED_HA_H
#define GARAGED_HA_H

#include <stddef.h>

#include "config.h"

#define HA_DISCOVERY_MAX 2048

/* "<ha_prefix>/cover/<device>/<door>/config" into buf; 0 when it does not fit. */
size_t ha_discovery_topic(char *buf, size_t len, const struct config *cfg,
                          const struct config_door *door);

/* The discovery JSON for DOOR into buf; 0 when it does not fit or cannot be built. */
size_t ha_discovery_payload(char *buf, size_t len, const struct config *cfg,
                            const struct config_door *door);

#endif
