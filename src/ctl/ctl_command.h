/*
 * ctl_command: garagectl's MQTT session with the broker, as the owner sees it.
 *
 * It owns one short-lived libmosquitto client (mutual TLS with host name verification and
 * the [mqtt] pins, MQTT 5, clean session, a random client id); sending one signed command
 * and following it through the device's events and door state (open --wait), or one signed
 * admin message and its keys event (keys add, keys remove); and reading the retained state of
 * a device (status, status --watch) and its key list (keys list). It prints what the owner should
 * see and returns garagectl's exit status. It never signs anything and never reads a configuration.
 */
#ifndef GARAGECTL_COMMAND_H
#define GARAGECTL_COMMAND_H

#include <stdbool.h>

#include "cmd.h"
#include "config.h"
#include "ctl_keys.h"
#include "ctl_util.h"

struct ctl_request {
	const char *device;
	const char *door;
	const char *kid;
	enum cmd_action action;
	const struct ctl_signed *cmd;
	bool wait;       /* follow the door's state after acceptance */
	unsigned wait_s; /* for at most this long */
};

/*
 * Publishes REQ's signed command on P/D/N/cmd and waits for the device's answer: the event
 * that carries its nonce. Returns CTL_EXIT_OK when accepted (and, with wait, when the door
 * reached the state the action leads to), CTL_EXIT_FAILED otherwise.
 */
int ctl_command_send(const struct config *mqtt, const struct ctl_request *req);

/*
 * Prints the retained availability of DEVICE and the state of each of its doors. With
 * WATCH, then prints every change until SIGINT or SIGTERM. Returns CTL_EXIT_FAILED when the
 * broker knows nothing about the device (and not WATCH), else CTL_EXIT_OK.
 */
int ctl_status(const struct config *mqtt, const char *device, bool watch);

struct ctl_admin_request {
	const char *device;
	enum cmd_admin_op op;
	const char *target; /* the kid added or removed, for what is printed */
	const struct ctl_signed_admin *msg;
};

/*
 * Publishes REQ's signed admin message on P/D/admin and waits for the device's keys event that
 * carries its nonce. Returns CTL_EXIT_OK when accepted, CTL_EXIT_FAILED otherwise (the reason
 * printed, with a hint).
 */
int ctl_admin_send(const struct config *mqtt, const struct ctl_admin_request *req);

/*
 * Prints the retained key list of DEVICE (P/D/keys), one line a key: kid, actions, doors,
 * validity, days and hours, admin. Returns CTL_EXIT_FAILED when the broker holds none.
 */
int ctl_keys_list(const struct config *mqtt, const char *device);

#endif
