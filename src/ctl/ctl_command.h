/*
 * ctl_command: garagectl's MQTT session with the broker, as the owner sees it.
 *
 * It owns one short-lived libmosquitto client (mutual TLS with host name verification and
 * the [mqtt] pins, MQTT 5, clean session, a random client id); sending one signed command
 * and following it through the device's events and door state (open --wait); and reading the
 * retained state of a device (status, status --watch). It prints what the owner should see and
 * returns garagectl's exit status. It never signs anything and never reads a configuration.
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

#endif
