/*
 * ctl_command: garagectl's MQTT session with the broker, as the owner sees it.
 *
 * It owns one short-lived libmosquitto client (mutual TLS with host name verification and
 * the [mqtt] pins, MQTT 5, clean session, a random client id); the exchange of one signed
 * message with the device: publishing it and waiting for the event that answers it (a
 * command, then with open --wait its door's state; an admin message for keys add and keys
 * remove; an enrollment request for enroll); and reading the retained state of a device (status,
 * status --watch) and its key list (keys list); and the certificate renewals' part: the
 * pending requests of every device, a certificate sent and the device's answer (pki
 * sign-requests). It prints what the owner should see and returns garagectl's exit status. It never
 * signs anything and never reads a configuration.
 */
#ifndef GARAGECTL_COMMAND_H
#define GARAGECTL_COMMAND_H

#include <stdbool.h>

#include "cmd.h"
#include "config.h"
#include "ctl_keys.h"
#include "ctl_util.h"

/*
 * One signed message for the device and the event that answers it: a command (P/D/N/cmd, a
 * "command" event), an admin message (P/D/admin, "keys") or an enrollment request (P/D/enroll,
 * "enroll"). The answer is the device's event of that type with the message's nonce.
 */
struct ctl_exchange {
	const char *device;
	const char *leaf;             /* published on P/D/LEAF: "main/cmd", "admin", "enroll" */
	const char *acl_leaf;         /* what the ACL must let us write, P/D/ACL_LEAF; NULL: leaf */
	const struct ctl_signed *msg; /* published with QoS 1, never retained */
	const char *what;             /* in messages: "the command", "the enrollment request" */
	const char *refused;          /* in a refusal: "the command", "to add key bob" */
	const char *answer_type;      /* the answer's event type: "command", "keys", "enroll" */
	/* What the owner can do about a refusal's reason, or NULL; NULL for commands' and admin
	 * messages' own hints. */
	const char *(*hint)(const char *reason);
};

/*
 * Publishes X's message on P/D/LEAF and waits up to 10 s for the device's answer. Returns
 * CTL_EXIT_OK when the event says "accepted" (the caller says what was done), CTL_EXIT_FAILED
 * with one line printed otherwise: the device's reason with a hint, the broker's refusal, or
 * the missing answer.
 */
int ctl_exchange(const struct config *mqtt, const struct ctl_exchange *x);

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
 * The exchange of REQ's signed command (P/D/N/cmd, its "command" event), then with wait the
 * door's state. Returns CTL_EXIT_OK when accepted (and, with wait, when the door reached the
 * state the action leads to), CTL_EXIT_FAILED otherwise.
 */
int ctl_command_send(const struct config *mqtt, const struct ctl_request *req);

/*
 * Prints the retained availability of DEVICE and the state of each of its doors. With
 * WATCH, then prints every change until SIGINT or SIGTERM. Returns CTL_EXIT_FAILED when the
 * broker knows nothing about the device (and not WATCH), else CTL_EXIT_OK.
 */
int ctl_status(const struct config *mqtt, const char *device, bool watch);

/*
 * Prints the retained key list of DEVICE (P/D/keys), one line a key: kid, actions, doors,
 * validity, days and hours, admin. Returns CTL_EXIT_FAILED when the broker holds none.
 */
int ctl_keys_list(const struct config *mqtt, const char *device);

/* A request heard on P/D/csr (retained): the device D and the payload, as it came (cut one byte
 * over RENEW_REQUEST_MAX, enough for the parser to refuse it). */
struct ctl_csr {
	char device[CONFIG_NAME_MAX + 1];
	char *payload; /* NUL-terminated */
	size_t len;
};

/* At most this many devices' requests are read in one run. */
#define CTL_CSR_MAX 64

struct ctl_renewals;

/*
 * pki sign-requests' session: connects with ctl.conf's [mqtt], subscribes to every device's
 * P/+/csr and P/+/events, and reads the retained requests. Returns the session, with the
 * requests in *list (*n of them; the caller gives them back to ctl_renewals_close()), or NULL
 * with the reason printed.
 */
struct ctl_renewals *ctl_renewals_open(const struct config *mqtt, struct ctl_csr **list, size_t *n);

enum ctl_renewal_answer {
	CTL_RENEWAL_ACCEPTED,  /* the device's renewal event: accepted, installing it */
	CTL_RENEWAL_REFUSED,   /* refused or failed: reason and detail say why */
	CTL_RENEWAL_NO_ANSWER, /* nothing within 10 s, or the broker refused the publish (detail) */
};

/*
 * Publishes the certificate PEM on P/DEVICE/cert (QoS 1, not retained) and waits up to 10 s for
 * DEVICE's renewal event about SERIAL.
 */
enum ctl_renewal_answer ctl_renewals_send(struct ctl_renewals *r, const char *device,
                                          const char *pem, size_t len, const char *serial,
                                          char *reason, size_t reasonlen, char *detail,
                                          size_t detaillen);

/* Ends the session (R may be NULL) and frees the requests LIST[0..N). */
void ctl_renewals_close(struct ctl_renewals *r, struct ctl_csr *list, size_t n);

#endif
