/*
 * enroll: the door half's part of an enrollment (docs/reference.md "Invitations"), between the
 * core's verdict on a request (cmd_enroll_check()) and the writer of authorized_keys.
 *
 * It owns one rule: an invitation enrols once. Given the core's verdict on a request, it
 * refuses a genuine request whose invitation's id is recorded as used (invitation_used), and
 * for one the core accepted records the id (invites.h) before anything else changes and hands
 * back the keyring change to make. It never verifies
 * a signature (the core has), never writes authorized_keys and never publishes an event: the
 * caller adds the key as an admin's add (cmd_keyring_apply(), then the file) and reports the
 * outcome with event_enroll().
 */
#ifndef GARAGED_ENROLL_H
#define GARAGED_ENROLL_H

#include <stddef.h>
#include <stdint.h>

#include "cmd_admin.h"
#include "cmd_enroll.h"
#include "invites.h"

/*
 * The door half's verdict on E, which cmd_enroll_check() judged CORE at the device's time NOW
 * (the verifier's, cmd_verifier_time()); the caller passes every request's verdict here. A
 * request whose signatures all verified but whose invitation has enrolled before is
 * CMD_INVITATION_USED, even when the core found its kid taken (the key it enrolled) or the
 * ring full: that is what happened. Any other refusal of the core is CORE. A request the
 * core accepted is recorded (invites.h) and gives CMD_OK with *op the add to make
 * (cmd_enroll_admin_op()); or CMD_TOO_MANY_INVITATIONS, or CMD_INVITATIONS_WRITE_FAILED with
 * the reason in err for the log, and then nothing was recorded. *op is zero unless CMD_OK. An
 * invitation recorded here whose key the caller then fails to add stays used: the owner
 * invites again.
 */
enum cmd_reason enroll_apply(struct invites *iv, const struct cmd_enroll *e, enum cmd_reason core,
                             int64_t now, struct cmd_admin *op, char *err, size_t errlen);

#endif
