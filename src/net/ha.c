/*
 * ha: see ha.h. The payload is built with cJSON (once per connect, never per command), in
 * Home Assistant's full key names rather than the abbreviations, so that an owner reading the
 * retained config on the broker understands it.
 */
#include "ha.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

size_t
ha_discovery_topic(char *buf, size_t len, const struct config *cfg, const struct config_door *door)
{
	/* The device id is Home Assistant's node id level, so that the broker's ACL can give each
	 * device its own subtree (HA/cover/ID/#) and no device can replace another's discovery.
	 * unique_id and object_id stay what they were under the old HA/cover/ID_DOOR/config, so
	 * Home Assistant keeps the entity and its id. */
	int n =
	    snprintf(buf, len, "%s/cover/%s/%s/config", cfg->ha_prefix, cfg->device_id, door->name);

	return n > 0 && (size_t)n < len ? (size_t)n : 0;
}

static bool
add_topic(cJSON *o, const char *key, const struct config *cfg, const char *door, const char *leaf)
{
	char topic[CONFIG_PREFIX_MAX + 2 * CONFIG_NAME_MAX + 32];

	if (door != NULL)
		snprintf(topic, sizeof(topic), "%s/%s/%s/%s", cfg->topic_prefix, cfg->device_id,
		         door, leaf);
	else
		snprintf(topic, sizeof(topic), "%s/%s/%s", cfg->topic_prefix, cfg->device_id, leaf);
	return cJSON_AddStringToObject(o, key, topic) != NULL;
}

static cJSON *
device_block(const struct config *cfg, const struct config_door *door)
{
	char id[CONFIG_NAME_MAX + 16], name[CONFIG_NAME_MAX + 16];
	cJSON *dev = cJSON_CreateObject(), *ids;

	if (dev == NULL)
		return NULL;
	snprintf(id, sizeof(id), "garaged_%s", cfg->device_id);
	snprintf(name, sizeof(name), "garaged %s", cfg->device_id);
	ids = cJSON_AddArrayToObject(dev, "identifiers");
	if (ids == NULL || !cJSON_AddItemToArray(ids, cJSON_CreateString(id)) ||
	    cJSON_AddStringToObject(dev, "name", name) == NULL ||
	    cJSON_AddStringToObject(dev, "manufacturer", "garaged") == NULL ||
	    cJSON_AddStringToObject(dev, "model",
	                            door->backend == CONFIG_BACKEND_SIM
	                                ? "garaged (simulated door)"
	                                : "garaged (libgpiod)") == NULL ||
	    cJSON_AddStringToObject(dev, "sw_version", GARAGED_VERSION) == NULL) {
		cJSON_Delete(dev);
		return NULL;
	}
	return dev;
}

size_t
ha_discovery_payload(char *buf, size_t len, const struct config *cfg,
                     const struct config_door *door)
{
	char uid[2 * CONFIG_NAME_MAX + 16], oid[2 * CONFIG_NAME_MAX + 4];
	cJSON *o = cJSON_CreateObject(), *dev;
	bool ok;

	if (o == NULL)
		return 0;
	snprintf(uid, sizeof(uid), "garaged_%s_%s", cfg->device_id, door->name);
	snprintf(oid, sizeof(oid), "%s_%s", cfg->device_id, door->name);
	dev = device_block(cfg, door);
	ok = dev != NULL && cJSON_AddItemToObject(o, "device", dev);
	if (!ok)
		cJSON_Delete(dev);
	ok = ok && cJSON_AddStringToObject(o, "name", door->name) != NULL &&
	     cJSON_AddStringToObject(o, "unique_id", uid) != NULL &&
	     cJSON_AddStringToObject(o, "object_id", oid) != NULL &&
	     cJSON_AddStringToObject(o, "device_class", "garage") != NULL &&
	     add_topic(o, "state_topic", cfg, door->name, "state") &&
	     cJSON_AddStringToObject(o, "state_open", "open") != NULL &&
	     cJSON_AddStringToObject(o, "state_opening", "opening") != NULL &&
	     cJSON_AddStringToObject(o, "state_closed", "closed") != NULL &&
	     cJSON_AddStringToObject(o, "state_closing", "closing") != NULL &&
	     cJSON_AddStringToObject(o, "state_stopped", "stopped") != NULL &&
	     /* "unknown" is ours; Home Assistant's word for it is the payload "None". */
	     cJSON_AddStringToObject(o, "value_template",
	                             "{{ 'None' if value == 'unknown' else value }}") != NULL &&
	     add_topic(o, "availability_topic", cfg, NULL, "availability") &&
	     cJSON_AddStringToObject(o, "payload_available", "online") != NULL &&
	     cJSON_AddStringToObject(o, "payload_not_available", "offline") != NULL &&
	     cJSON_AddNumberToObject(o, "qos", 1) != NULL;
	/* Without unsigned commands allowed there is no command topic at all: Home Assistant then
	 * shows the door read-only, and nothing it sends could reach the relay. */
	if (ok && cfg->ha_commands == CONFIG_HA_COMMANDS_UNSIGNED)
		ok = add_topic(o, "command_topic", cfg, door->name, "ha_cmd") &&
		     cJSON_AddStringToObject(o, "payload_open", "OPEN") != NULL &&
		     cJSON_AddStringToObject(o, "payload_close", "CLOSE") != NULL &&
		     cJSON_AddStringToObject(o, "payload_stop", "STOP") != NULL &&
		     cJSON_AddFalseToObject(o, "optimistic") != NULL;
	if (ok && len > 0 && len <= (size_t)INT32_MAX)
		ok = cJSON_PrintPreallocated(o, buf, (int)len, false) != 0;
	else
		ok = false;
	cJSON_Delete(o);
	return ok ? strlen(buf) : 0;
}
