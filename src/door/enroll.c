/*
 * enroll: see enroll.h.
 */
#include "enroll.h"

#include <stdbool.h>
#include <string.h>

enum cmd_reason
enroll_apply(struct invites *iv, const struct cmd_enroll *e, enum cmd_reason core, int64_t now,
             struct cmd_admin *op, char *err, size_t errlen)
{
	/* The core's refusals after all three signatures: the request is genuine. */
	bool genuine = core == CMD_OK || core == CMD_KEY_EXISTS || core == CMD_TOO_MANY_KEYS;

	memset(op, 0, sizeof(*op));
	if (err != NULL && errlen != 0)
		err[0] = '\0';
	if (genuine && invites_used(iv, e->inv.id))
		return CMD_INVITATION_USED;
	else if (core != CMD_OK)
		return core;
	/* On disk before the key exists: a crash in between leaves a used invitation, no key. */
	switch (invites_record(iv, e->inv.id, e->inv.expires, now, err, errlen)) {
	case INVITES_OK:
		break;
	case INVITES_FULL:
		return CMD_TOO_MANY_INVITATIONS;
	case INVITES_ERROR:
	default:
		return CMD_INVITATIONS_WRITE_FAILED;
	}
	cmd_enroll_admin_op(e, op);
	return CMD_OK;
}
