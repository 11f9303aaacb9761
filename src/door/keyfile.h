/*
 * keyfile: authorized_keys as the door half changes it for a verified admin message, and the
 * public key list it publishes on P/D/keys.
 *
 * It owns the change of the file: reading it as it is now (authkeys.c's checks), the keyring
 * the change makes (the core's cmd_keyring_apply()), the new text, which keeps every byte of
 * the old one but the key's own line (the owner's comments and layout survive), the proof that
 * the new text parses to exactly that keyring, and its atomic replacement (atomicfile.h) with
 * the old file's mode and owner. It never verifies a message (the core did), never swaps the
 * daemon's keyring (garaged.c does, with the one it returns) and never publishes.
 */
#ifndef GARAGED_KEYFILE_H
#define GARAGED_KEYFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "atomicfile.h"
#include "cmd_admin.h"

/*
 * The text of authorized_keys after OP, from the old TEXT[0..LEN) whose keyring is RING (the
 * change as cmd_keyring_apply() accepted it against RING). add: TEXT, a line ending when its
 * last line has none, then the key's canonical line (cmd_key_format()) and "\n". remove: TEXT
 * without the target key's line (by its line number in RING), that line's ending included.
 * renew: TEXT. Every other byte is TEXT's. Writes it, and a NUL, into OUT and its length into
 * *OUTLEN_USED. Returns 0, or -1 when it does not fit in OUTLEN bytes, the target is not in
 * RING at a line of TEXT, the added key has no canonical line, or OP is none of the three.
 */
int keyfile_edit(const char *text, size_t len, const struct cmd_keyring *ring,
                 const struct cmd_admin *op, char *out, size_t outlen, size_t *outlen_used);

/*
 * The public key list for P/D/keys: {"keys":[<cmd_key_json() of each key>,...]} in the ring's
 * order. When not every key fits in LEN bytes (with the NUL), the list holds those that do,
 * in order, and ends ,"truncated":true}; *complete (when not NULL) says which. Returns the
 * length, or 0 when not even an empty list fits.
 */
size_t keyfile_list_json(const struct cmd_keyring *ring, char *buf, size_t len, bool *complete);

/* How many times keyfile_change() makes a change to a file that changes under it. */
#define KEYFILE_TRIES 3U

/* The test builds' hook: called between atomicfile.h's steps (NULL: none). */
struct keyfile_hooks {
	void (*pause)(enum atomicfile_stage stage, void *arg);
	void *arg;
};

/*
 * Makes the change OP, which cmd_admin_check() accepted from the key SIGNER (the loaded key
 * that verified the signature), to the file PATH as it is now; NOW is the verifier's time
 * (cmd_verifier_time()). Returns CMD_OK with the new file's keyring (line numbers of the new
 * text) in *out_ring; or the reason it is refused, and then PATH is as it was:
 * - the file as it is now: unreadable or unsafe (keys_write_failed); the signer gone from it,
 *   or its kid there with another public key (unknown_key), no longer admin (not_admin), or
 *   not valid at NOW (cmd_key_valid_at()'s reasons), so that a hand edit not yet reloaded
 *   cannot be undone remotely by a key it took away or replaced;
 * - the change: only add and remove are one (not_supported otherwise); cmd_keyring_apply()'s
 *   reasons; an added key that is no usable Ed25519 point (malformed), or that would make a key
 *   list larger than P/D/keys can carry (too_many_keys);
 * - the file changed on the disk between its reading and the rename (atomicfile.h's expect): the
 *   whole change is made again from the new content, at most KEYFILE_TRIES times in all, then
 *   refused (keys_busy);
 * - the write: a file or directory garaged may not write (EACCES, EPERM, EROFS: keys_read_only);
 *   any other failure, a text over AUTHKEYS_MAX_SIZE, or a new text that does not parse to the
 *   keyring the change makes (keys_write_failed).
 * MSG gets one line for the log whatever the result: what was done, or why not; on CMD_OK it
 * is empty unless something is worth a warning (the directory could not be flushed).
 */
enum cmd_reason keyfile_change(const char *path, const struct cmd_key *signer, struct cmd_now now,
                               const struct cmd_admin *op, const struct keyfile_hooks *hooks,
                               struct cmd_keyring *out_ring, char *msg, size_t msglen);

/*
 * For an admin message that changes no key (renew): SIGNER (the key that verified it, as
 * loaded) must still be that admin key, valid at NOW, in PATH as it is now, read with every
 * check of a load, as for keyfile_change(). Returns CMD_OK, or keys_write_failed,
 * unknown_key, not_admin or the key's validity reason with MSG saying why.
 */
enum cmd_reason keyfile_signer_check(const char *path, const struct cmd_key *signer,
                                     struct cmd_now now, char *msg, size_t msglen);

#endif
