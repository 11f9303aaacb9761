/*
 * ctl_config: garagectl's ctl.conf and the flags that override it.
 *
 * It owns the [signing] section (key, kid, device: a table of keys like garaged.conf's) and
 * where ctl.conf is looked for. The [mqtt] section is read by the daemon's config module, and
 * key ids and device ids are checked by names.h, so that garagectl and garaged give every
 * [mqtt] key and every name the same rule, default and message. It never opens a network
 * connection and never reads a key.
 */
#ifndef GARAGECTL_CONFIG_H
#define GARAGECTL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "cmd.h"
#include "config.h"
#include "names.h"

struct ctl_config {
	struct config mqtt; /* [mqtt] as garaged reads it; the other fields keep their defaults */

	/* [signing]; empty when not set (a flag may still give it) */
	char key[CONFIG_PATH_MAX];
	char kid[NAMES_KID_MAX + 1];
	char device[CONFIG_NAME_MAX + 1];
};

/*
 * The path garagectl reads when -c is not given: $GARAGECTL_CONF, else
 * ~/.config/garagectl/ctl.conf. Returns 0, or -1 with what to do in err.
 */
int ctl_config_default_path(char *buf, size_t size, char *err, size_t errlen);

/* Reads and validates PATH. Returns 0, or -1 with "PATH:LINE: message" in err. */
int ctl_config_load(struct ctl_config *cfg, const char *path, char *err, size_t errlen);

#endif
