/*
 * events: the audit trail's JSON objects (SPEC "Events"), formatted into a caller's buffer
 * with no allocation. Every accepted or rejected command and every state transition becomes one
 * object on P/D/events and the same text in the log.
 */
#ifndef GARAGED_EVENTS_H
#define GARAGED_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include "cmd.h"
#include "cmd_admin.h"
#include "cmd_enroll.h"
#include "door.h"

#define EVENT_MAX 1024

/*
 * A command's verdict: "accepted" when reason is CMD_OK, else "rejected" with the reason.
 * ACTOR names who acted when no key did ("homeassistant" for its unsigned commands,
 * "auto_close" for the timer); NULL for a signed command, whose kid says who.
 */
size_t event_command(char *buf, size_t len, int64_t ts, const struct cmd *c, const char *actor,
                     enum cmd_reason reason, unsigned presses);

/*
 * An admin message's verdict (type "keys"): "accepted" when reason is CMD_OK, else "rejected"
 * with the reason; A as far as it was understood: the op, the signer (kid), the key added or
 * removed (target) and the nonce, each only when the message got that far. MESSAGE (NULL or ""
 * for none) says more when there is something to say: why an added line was malformed.
 */
size_t event_keys(char *buf, size_t len, int64_t ts, const struct cmd_admin *a,
                  enum cmd_reason reason, const char *message);

/*
 * An enrollment request's verdict (docs/reference.md "Invitations"): "accepted" when reason is
 * CMD_OK (the key was added), else "rejected" with the reason, a word of the core's (from
 * cmd_enroll_check()), the door half's (enroll_apply()) or the key writer's. The invitation's id,
 * the new key's kid, the inviter's kid and the request's nonce are there when E got far enough
 * to have them; the invitee's client waits for the event with its request's nonce (garagectl)
 * or its invitation's id.
 */
size_t event_enroll(char *buf, size_t len, int64_t ts, const struct cmd_enroll *e,
                    enum cmd_reason reason);

/*
 * A step of a certificate renewal (type "renewal", docs/certificates.md): STEP is "requested",
 * "accepted", "refused", "installed", "reverted" or "failed"; TRIGGER ("expiry", "admin"), SERIAL
 * and NOT_AFTER (of the certificate it is about), REASON (a word of renew.h's or the door
 * half's) and MESSAGE are each left out when NULL or "".
 */
size_t event_renewal(char *buf, size_t len, int64_t ts, const char *step, const char *trigger,
                     const char *serial, const char *not_after, const char *reason,
                     const char *message);

/*
 * The broker garaged is now connected to (type "broker"), at every connect: HOST and PORT as
 * [mqtt] host names it, PREFERENCE its place in that list (1: the most preferred) of COUNT,
 * MESSAGE what it means (left out when NULL or "").
 */
size_t event_broker(char *buf, size_t len, int64_t ts, const char *host, unsigned port,
                    unsigned preference, unsigned count, const char *message);

/* A door's state transition. */
size_t event_state(char *buf, size_t len, int64_t ts, const char *door, enum door_state from,
                   enum door_state to);

/* A free-form event of TYPE about DOOR (may be NULL) with a message. */
size_t event_note(char *buf, size_t len, int64_t ts, const char *type, const char *door,
                  const char *message);

#endif
