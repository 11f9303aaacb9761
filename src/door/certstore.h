/*
 * certstore: the device's renewed TLS pairs in [device] state_dir (docs/certificates.md), as
 * the door half keeps them.
 *
 * A pair is one file: the certificate and then its private key, in PEM, mode 0600, owned by the
 * user garaged runs as; the network half reads it as both certfile and keyfile, before it drops
 * its privileges. One file, so that a crash can never leave a certificate beside the wrong key:
 * each is written whole through atomicfile.h and moved by rename(2) alone.
 *
 *   client.key.pending   a renewal's new key, while its certificate is awaited
 *   client.pem.trial     a certificate for it and that key: its first connection decides
 *   client.pem           the renewed pair in use; it takes precedence over certfile/keyfile
 *   client.pem.previous  the renewed pair before it, kept
 *   client.pem.refused   the last pair that was given up, for the owner to look at
 *
 * It owns those names, which pair the next network half uses, and each step from one state to
 * the next; it never parses a certificate or a key (the network half, which holds OpenSSL, has
 * checked what it is given) and never decides when to take a step (garaged.c does).
 */
#ifndef GARAGED_CERTSTORE_H
#define GARAGED_CERTSTORE_H

#include <stdbool.h>
#include <stddef.h>

#include "channel.h"

#define CERTSTORE_PENDING  CHANNEL_PENDING_KEY_FILE
#define CERTSTORE_TRIAL    "client.pem.trial"
#define CERTSTORE_PAIR     CHANNEL_RENEWED_PAIR_FILE
#define CERTSTORE_PREVIOUS "client.pem.previous"
#define CERTSTORE_REFUSED  "client.pem.refused"

/* Which pair a network half uses. */
enum certstore_pair {
	CERTSTORE_CONFIGURED = 0, /* [mqtt] certfile and keyfile */
	CERTSTORE_RENEWED,        /* DIR/client.pem */
	CERTSTORE_ON_TRIAL,       /* DIR/client.pem.trial */
};

/*
 * The pair the next network half uses: the one on trial, else the renewed one, else the
 * configured one; PATH (of at least CERTSTORE_PATH_MAX bytes) gets the file of the first two.
 * A file there that garaged did not write as it writes them (not a regular file, a link, not
 * owned by this user, or open to group or others) is passed over, and WARN says so (else it is
 * empty). Nothing is changed.
 */
#define CERTSTORE_PATH_MAX 320
enum certstore_pair certstore_choose(const char *dir, char *path, char *warn, size_t warnlen);

/* Whether DIR holds a pending key. */
bool certstore_pending(const char *dir);

/* Keeps a renewal's new key (PEM, LEN bytes) as DIR's pending key, replacing any. 0, or -1. */
int certstore_keep_key(const char *dir, const char *pem, size_t len, char *err, size_t errlen);

/*
 * Installs CERT (PEM, LEN bytes) with the pending key as the pair on trial (COMMENT, one line
 * without a line end, goes first, for whoever reads the file), then removes the pending key,
 * which the trial pair now holds. Returns 0; 1 when no key is pending; -1 on any other failure
 * (err), and then nothing changed.
 */
int certstore_install(const char *dir, const char *cert, size_t len, const char *comment, char *err,
                      size_t errlen);

/* A trial pair makes a pending key moot (a crash between the two steps above): removes it. */
void certstore_drop_pending(const char *dir);

/* The pair on trial connected: it becomes the renewed pair, the renewed pair before it the
 * previous one. 0, or -1 (err) with the files as they were or as a restart will finish. */
int certstore_promote(const char *dir, char *err, size_t errlen);

/*
 * Gives WHICH up: the pair on trial, or the renewed pair (which the previous one then takes
 * the place of, when there is one). It becomes DIR's refused pair. 0, or -1 (err).
 */
int certstore_give_up(const char *dir, enum certstore_pair which, char *err, size_t errlen);

#endif
