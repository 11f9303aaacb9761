/*
 * invites: the invitations that have enrolled a key (docs/reference.md "Invitations"), so that
 * none enrols twice, also across restarts.
 *
 * The core verifies an enrollment request without storage (cmd_enroll.h); whether its
 * invitation was used before is this module's to say. It keeps the ids of used invitations
 * with their expiry in [device] state_dir, file "invitations", written with state.c's
 * discipline (a temporary file, fsync, rename, fsync of the directory), and records an id
 * before the key it enrols is added: a crash between the two leaves an invitation used and no
 * key, never a key and an invitation that could enrol again. An id is kept until its
 * invitation has expired, when no request can pass the core's expiry check any more; then the
 * next write drops it. At most INVITES_MAX live ids are kept: when they are all live a new
 * enrollment is refused (too_many_invitations) rather than one of them forgotten. It never
 * verifies anything and never touches authorized_keys.
 */
#ifndef GARAGED_INVITES_H
#define GARAGED_INVITES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmd.h"
#include "config.h"

#define INVITES_FILE "invitations"
/* Invitations of which the ids are kept at once; each is a line of about 40 bytes. */
#define INVITES_MAX 64U

struct invites_entry {
	char id[CMD_INVITE_ID_TEXT_MAX + 1];
	int64_t expires;
};

struct invites {
	char dir[CONFIG_PATH_MAX];
	size_t n;
	struct invites_entry used[INVITES_MAX];
};

/* What invites_record() says. */
enum invites_result {
	INVITES_OK = 0,
	INVITES_FULL,  /* INVITES_MAX ids are live: nothing recorded */
	INVITES_ERROR, /* the file could not be written: nothing recorded, err says why */
};

/*
 * Reads DIR's used invitations into *iv, making DIR (0700) when it is missing, as
 * state_load() does; a file that is not there yet is no invitation used. Returns 0, or -1 with
 * "FILE:LINE: message" (or "FILE: message") in err for a file garaged did not write: a line
 * that is not "used ID EXPIRES", an id twice, more than INVITES_MAX ids. *iv is then empty.
 */
int invites_load(struct invites *iv, const char *dir, char *err, size_t errlen);

/* --check-config's part: what invites_load() would say, without making DIR. */
int invites_check(const char *dir, char *err, size_t errlen);

/* Whether the invitation ID (its base64url text) has enrolled a key. */
bool invites_used(const struct invites *iv, const char *id);

/*
 * Records ID, valid up to EXPIRES, as used, on disk first and then in *iv. Ids whose
 * invitations expired before NOW (the verifier's time: cmd_verifier_time()) are dropped from
 * the new file; ID itself must not be used yet (invites_used()). INVITES_OK, INVITES_FULL when
 * INVITES_MAX live ids remain, INVITES_ERROR with the reason in err when the file could not be
 * written; on either of the last two, *iv and the file are as they were.
 */
enum invites_result invites_record(struct invites *iv, const char *id, int64_t expires, int64_t now,
                                   char *err, size_t errlen);

#endif
