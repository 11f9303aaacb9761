/*
 * Unit tests of Home Assistant discovery (src/net/ha.c), checked against Home Assistant's
 * documented MQTT cover schema (https://www.home-assistant.io/integrations/cover.mqtt/ and the
 * shared device block of MQTT discovery): every key we send must be one the schema knows, with
 * the type it documents, and the keys a garage door needs must be there.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <string.h>

#include "ha.h"

/* The MQTT cover options Home Assistant documents, with their JSON types. */
enum kind { STR, NUM, BOOL, OBJ, ARR };
static const struct {
	const char *key;
	enum kind kind;
} cover_schema[] = {
    {"availability", ARR},
    {"availability_mode", STR},
    {"availability_template", STR},
    {"availability_topic", STR},
    {"command_topic", STR},
    {"device", OBJ},
    {"device_class", STR},
    {"enabled_by_default", BOOL},
    {"encoding", STR},
    {"entity_category", STR},
    {"entity_picture", STR},
    {"icon", STR},
    {"json_attributes_template", STR},
    {"json_attributes_topic", STR},
    {"name", STR},
    {"object_id", STR},
    {"optimistic", BOOL},
    {"payload_available", STR},
    {"payload_close", STR},
    {"payload_not_available", STR},
    {"payload_open", STR},
    {"payload_stop", STR},
    {"platform", STR},
    {"position_closed", NUM},
    {"position_open", NUM},
    {"position_template", STR},
    {"position_topic", STR},
    {"qos", NUM},
    {"retain", BOOL},
    {"set_position_template", STR},
    {"set_position_topic", STR},
    {"state_closed", STR},
    {"state_closing", STR},
    {"state_open", STR},
    {"state_opening", STR},
    {"state_stopped", STR},
    {"state_topic", STR},
    {"unique_id", STR},
    {"value_template", STR},
};
static const char *const device_schema[] = {
    "configuration_url", "connections",    "hw_version", "identifiers",
    "manufacturer",      "model",          "model_id",   "name",
    "serial_number",     "suggested_area", "sw_version", "via_device",
};

static struct config cfg;

static int
setup(void **state)
{
	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	strcpy(cfg.device_id, "garage");
	strcpy(cfg.topic_prefix, "garage");
	strcpy(cfg.ha_prefix, "homeassistant");
	cfg.ha_discovery = true;
	cfg.ndoors = 2;
	strcpy(cfg.doors[0].name, "main");
	cfg.doors[0].backend = CONFIG_BACKEND_SIM;
	strcpy(cfg.doors[1].name, "side");
	cfg.doors[1].backend = CONFIG_BACKEND_GPIOD;
	return 0;
}

static bool
has_kind(const cJSON *v, enum kind k)
{
	switch (k) {
	case STR:
		return cJSON_IsString(v);
	case NUM:
		return cJSON_IsNumber(v);
	case BOOL:
		return cJSON_IsBool(v);
	case OBJ:
		return cJSON_IsObject(v);
	case ARR:
		return cJSON_IsArray(v);
	}
	return false;
}

/* Every key is documented and of its documented type; so is every key of the device block. */
static void
assert_schema(const cJSON *o)
{
	const cJSON *item, *dev;
	size_t i;

	cJSON_ArrayForEach(item, o)
	{
		for (i = 0; i < sizeof(cover_schema) / sizeof(cover_schema[0]); i++)
			if (strcmp(item->string, cover_schema[i].key) == 0)
				break;
		if (i == sizeof(cover_schema) / sizeof(cover_schema[0]))
			fail_msg("'%s' is not an MQTT cover option", item->string);
		if (!has_kind(item, cover_schema[i].kind))
			fail_msg("'%s' has the wrong JSON type", item->string);
	}
	dev = cJSON_GetObjectItemCaseSensitive(o, "device");
	assert_non_null(dev);
	cJSON_ArrayForEach(item, dev)
	{
		for (i = 0; i < sizeof(device_schema) / sizeof(device_schema[0]); i++)
			if (strcmp(item->string, device_schema[i]) == 0)
				break;
		if (i == sizeof(device_schema) / sizeof(device_schema[0]))
			fail_msg("'%s' is not a device option", item->string);
	}
	/* The device needs identifiers (a list) for Home Assistant to group its doors. */
	assert_true(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(dev, "identifiers")));
	assert_true(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(dev, "identifiers")) > 0);
}

static const char *
get(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static cJSON *
payload(const struct config_door *door)
{
	char buf[HA_DISCOVERY_MAX];
	size_t n = ha_discovery_payload(buf, sizeof(buf), &cfg, door);
	cJSON *o;

	assert_true(n > 0);
	assert_int_equal(strlen(buf), n);
	o = cJSON_ParseWithLength(buf, n);
	assert_non_null(o);
	assert_schema(o);
	return o;
}

static void
test_ha_Topic(void **state)
{
	char buf[128];

	(void)state;
	/* The device id is the node id level: the ACL gives each device HA/cover/ID/# alone. */
	assert_int_equal(ha_discovery_topic(buf, sizeof(buf), &cfg, &cfg.doors[0]),
	                 strlen("homeassistant/cover/garage/main/config"));
	assert_string_equal(buf, "homeassistant/cover/garage/main/config");
	assert_int_equal(ha_discovery_topic(buf, sizeof(buf), &cfg, &cfg.doors[1]),
	                 strlen("homeassistant/cover/garage/side/config"));
	assert_string_equal(buf, "homeassistant/cover/garage/side/config");
	assert_int_equal(ha_discovery_topic(buf, 10, &cfg, &cfg.doors[0]), 0);
}

/* Home Assistant keeps the entity across the topic's move: unique_id and object_id unchanged. */
static void
test_ha_EntityIdsKeptAcrossTopicChange(void **state)
{
	cJSON *o;

	(void)state;
	o = payload(&cfg.doors[0]);
	assert_string_equal(get(o, "unique_id"), "garaged_garage_main");
	assert_string_equal(get(o, "object_id"), "garage_main");
	cJSON_Delete(o);
}

/*
 * The largest packet garaged ever publishes is a discovery: with every name at its longest and
 * the command topic on, the whole MQTT PUBLISH (fixed header, topic, packet id, payload) must
 * stay far below the floor of garagectl broker-config --max-packet-size (4096 bytes), or the
 * broker would close the device's connection for its own discovery.
 */
static void
test_ha_LargestPacketFitsBrokerLimit(void **state)
{
	char topic[256], buf[HA_DISCOVERY_MAX];
	size_t tn, pn, packet;

	(void)state;
	memset(cfg.ha_prefix, 'h', CONFIG_PREFIX_MAX);
	cfg.ha_prefix[CONFIG_PREFIX_MAX] = '\0';
	memset(cfg.topic_prefix, 't', CONFIG_PREFIX_MAX);
	cfg.topic_prefix[CONFIG_PREFIX_MAX] = '\0';
	memset(cfg.device_id, 'd', CONFIG_NAME_MAX);
	cfg.device_id[CONFIG_NAME_MAX] = '\0';
	memset(cfg.doors[0].name, 'n', CONFIG_NAME_MAX);
	cfg.doors[0].name[CONFIG_NAME_MAX] = '\0';
	cfg.ha_commands = CONFIG_HA_COMMANDS_UNSIGNED;
	tn = ha_discovery_topic(topic, sizeof(topic), &cfg, &cfg.doors[0]);
	pn = ha_discovery_payload(buf, sizeof(buf), &cfg, &cfg.doors[0]);
	assert_true(tn > 0 && pn > 0);
	/* 1 byte of type, at most 4 of remaining length, 2 + topic, 2 of packet id, payload. */
	packet = 1 + 4 + 2 + tn + 2 + pn;
	print_message("largest discovery: topic %zu + payload %zu bytes, packet <= %zu bytes\n", tn,
	              pn, packet);
	assert_true(packet < 2300);
	cfg.ha_commands = CONFIG_HA_COMMANDS_OFF;
}

static void
test_ha_ReadOnlyWhenCommandsOff(void **state)
{
	cJSON *o;

	(void)state;
	cfg.ha_commands = CONFIG_HA_COMMANDS_OFF;
	o = payload(&cfg.doors[0]);
	assert_string_equal(get(o, "device_class"), "garage");
	assert_string_equal(get(o, "unique_id"), "garaged_garage_main");
	assert_string_equal(get(o, "state_topic"), "garage/garage/main/state");
	assert_string_equal(get(o, "availability_topic"), "garage/garage/availability");
	assert_string_equal(get(o, "payload_available"), "online");
	assert_string_equal(get(o, "payload_not_available"), "offline");
	assert_string_equal(get(o, "state_stopped"), "stopped");
	assert_null(cJSON_GetObjectItemCaseSensitive(o, "command_topic"));
	assert_null(cJSON_GetObjectItemCaseSensitive(o, "payload_open"));
	assert_string_equal(get(cJSON_GetObjectItemCaseSensitive(o, "device"), "sw_version"),
	                    GARAGED_VERSION);
	cJSON_Delete(o);
}

static void
test_ha_CommandTopicWhenUnsigned(void **state)
{
	cJSON *o;

	(void)state;
	cfg.ha_commands = CONFIG_HA_COMMANDS_UNSIGNED;
	o = payload(&cfg.doors[1]);
	assert_string_equal(get(o, "command_topic"), "garage/garage/side/ha_cmd");
	assert_string_equal(get(o, "payload_open"), "OPEN");
	assert_string_equal(get(o, "payload_close"), "CLOSE");
	assert_string_equal(get(o, "payload_stop"), "STOP");
	assert_string_equal(get(o, "unique_id"), "garaged_garage_side");
	cJSON_Delete(o);
	cfg.ha_commands = CONFIG_HA_COMMANDS_OFF;
}

/* Two doors of one device are one Home Assistant device with two distinct entities. */
static void
test_ha_DoorsShareDeviceNotEntity(void **state)
{
	cJSON *a, *b;

	(void)state;
	a = payload(&cfg.doors[0]);
	b = payload(&cfg.doors[1]);
	assert_string_not_equal(get(a, "unique_id"), get(b, "unique_id"));
	assert_true(cJSON_Compare(cJSON_GetObjectItemCaseSensitive(
	                              cJSON_GetObjectItemCaseSensitive(a, "device"), "identifiers"),
	                          cJSON_GetObjectItemCaseSensitive(
	                              cJSON_GetObjectItemCaseSensitive(b, "device"), "identifiers"),
	                          true));
	cJSON_Delete(a);
	cJSON_Delete(b);
}

static void
test_ha_TooSmallBuffer(void **state)
{
	char buf[64];

	(void)state;
	assert_int_equal(ha_discovery_payload(buf, sizeof(buf), &cfg, &cfg.doors[0]), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_ha_Topic, setup),
	    cmocka_unit_test_setup(test_ha_ReadOnlyWhenCommandsOff, setup),
	    cmocka_unit_test_setup(test_ha_CommandTopicWhenUnsigned, setup),
	    cmocka_unit_test_setup(test_ha_DoorsShareDeviceNotEntity, setup),
	    cmocka_unit_test_setup(test_ha_TooSmallBuffer, setup),
	    cmocka_unit_test_setup(test_ha_EntityIdsKeptAcrossTopicChange, setup),
	    cmocka_unit_test_setup(test_ha_LargestPacketFitsBrokerLimit, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
