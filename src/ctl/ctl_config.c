/*
 * ctl_config: see ctl_config.h. [mqtt] goes through the daemon's parser (config_load_mqtt());
 * this file gives [signing] its meaning, as a table of keys that parser reads with it.
 */
#include "ctl_config.h"

#include <errno.h>
#include <pwd.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
ctl_config_default_path(char *buf, size_t size, char *err, size_t errlen)
{
	const char *env = getenv("GARAGECTL_CONF");
	const char *home = getenv("HOME");
	struct passwd *pw;

	if (env != NULL && *env != '\0') {
		if ((size_t)snprintf(buf, size, "%s", env) >= size) {
			snprintf(err, errlen, "$GARAGECTL_CONF is too long; use a shorter path");
			return -1;
		}
		return 0;
	}
	/* HOME first, as every tool does; the password database when it is not set (cron). */
	if (home == NULL || *home == '\0') {
		pw = getpwuid(getuid());
		home = pw != NULL ? pw->pw_dir : NULL;
	}
	if (home == NULL || *home == '\0') {
		snprintf(err, errlen, "no home directory to find ctl.conf in; give -c FILE");
		return -1;
	}
	if ((size_t)snprintf(buf, size, "%s/.config/garagectl/ctl.conf", home) >= size) {
		snprintf(err, errlen, "the home directory's path is too long; give -c FILE");
		return -1;
	}
	return 0;
}

/* key: a path, never empty (a flag may give it instead, but an empty line is a mistake). */
static int
parse_key(const struct config_key *k, const struct config_value *v)
{
	if (*v->text == '\0') {
		snprintf(v->msg, v->msglen,
		         "%s is empty; set it to the private key file that garagectl keygen wrote",
		         k->name);
		return -1;
	}
	return config_parse_string(k, v);
}

static int
parse_kid(const struct config_key *k, const struct config_value *v)
{
	if (!names_kid_valid(v->text))
		return config_bad_value(
		    k, v,
		    "1 to 64 characters of A-Z, a-z, 0-9 and '._@-' (the key id "
		    "of the authorized_keys line)");
	return config_parse_string(k, v);
}

static int
parse_device(const struct config_key *k, const struct config_value *v)
{
	if (!names_device_id_valid(v->text))
		return config_bad_value(
		    k, v,
		    "1 to 32 characters of a-z, 0-9, '_' and '-' (the id in the "
		    "device's garaged.conf [device])");
	return config_parse_string(k, v);
}

#define SIGNING(f) offsetof(struct ctl_config, f), sizeof(((struct ctl_config *)0)->f)

/*
 * [signing], with the columns of garaged.conf's table (config.h): section, name, type, range,
 * default, what to write when missing, flags, field, what it is for. None is required here:
 * --key, --kid and --device may give them instead.
 */
static const struct config_key signing_keys[] = {
    {"signing", "key", parse_key, 0, 0, NULL, NULL, 0, SIGNING(key),
     "the Ed25519 private key file garagectl keygen wrote"},
    {"signing", "kid", parse_kid, 0, 0, NULL, NULL, 0, SIGNING(kid),
     "its key id, as in the device's authorized_keys"},
    {"signing", "device", parse_device, 0, 0, NULL, NULL, 0, SIGNING(device),
     "the device to talk to"},
};

int
ctl_config_load(struct ctl_config *cfg, const char *path, char *err, size_t errlen)
{
	const struct config_section signing = {
	    .name = "signing",
	    .keys = signing_keys,
	    .nkeys = sizeof(signing_keys) / sizeof(signing_keys[0]),
	    .base = cfg,
	};

	memset(cfg, 0, sizeof(*cfg));
	return config_load_mqtt(&cfg->mqtt, path, &signing, err, errlen);
}
