/*
 * ctl_config: see ctl_config.h. [mqtt] goes through the daemon's parser (config_load_mqtt());
 * this file gives [signing] its meaning, one key at a time, as that parser's callback.
 */
#include "ctl_config.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { SG_KEY, SG_KID, SG_DEVICE, SG_NKEYS };
static const char *const signing_keys[SG_NKEYS] = {"key", "kid", "device"};

bool
ctl_kid_valid(const char *kid)
{
	size_t n = strlen(kid);

	if (n < 1 || n > CMD_KID_MAX)
		return false;
	for (; *kid != '\0'; kid++)
		if (!((*kid >= 'A' && *kid <= 'Z') || (*kid >= 'a' && *kid <= 'z') ||
		      (*kid >= '0' && *kid <= '9') || strchr("._@-", *kid) != NULL))
			return false;
	return true;
}

bool
ctl_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n < 1 || n > CONFIG_NAME_MAX)
		return false;
	for (; *name != '\0'; name++)
		if (!((*name >= 'a' && *name <= 'z') || (*name >= '0' && *name <= '9') ||
		      *name == '_' || *name == '-'))
			return false;
	return true;
}

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

/* config_load_mqtt()'s callback for [signing]: one key, at the line the parser is on. */
static int
set_signing(void *arg, size_t key, const char *v, char *msg, size_t msglen)
{
	struct ctl_config *cfg = arg;

	switch (key) {
	case SG_KEY:
		if (*v == '\0') {
			snprintf(msg, msglen,
			         "key is empty; set it to the private key file that garagectl "
			         "keygen wrote");
			return -1;
		}
		if (strlen(v) >= sizeof(cfg->key)) {
			snprintf(msg, msglen, "key is longer than %zu characters; shorten it",
			         sizeof(cfg->key) - 1);
			return -1;
		}
		memcpy(cfg->key, v, strlen(v) + 1);
		return 0;
	case SG_KID:
		if (!ctl_kid_valid(v)) {
			snprintf(msg, msglen,
			         "kid must be 1 to 64 characters of A-Z, a-z, 0-9 and '._@-' (the "
			         "key id of the authorized_keys line), not '%.60s'",
			         v);
			return -1;
		}
		memcpy(cfg->kid, v, strlen(v) + 1);
		return 0;
	case SG_DEVICE:
		if (!ctl_name_valid(v)) {
			snprintf(
			    msg, msglen,
			    "device must be 1 to 32 characters of a-z, 0-9, '_' and '-' (the id "
			    "in the device's garaged.conf [device]), not '%.60s'",
			    v);
			return -1;
		}
		memcpy(cfg->device, v, strlen(v) + 1);
		return 0;
	default:
		snprintf(msg, msglen, "internal error: unhandled [signing] key");
		return -1;
	}
}

int
ctl_config_load(struct ctl_config *cfg, const char *path, char *err, size_t errlen)
{
	const struct config_section signing = {
	    .name = "signing",
	    .keys = signing_keys,
	    .nkeys = SG_NKEYS,
	    .set = set_signing,
	    .arg = cfg,
	};

	memset(cfg, 0, sizeof(*cfg));
	return config_load_mqtt(&cfg->mqtt, path, &signing, err, errlen);
}
