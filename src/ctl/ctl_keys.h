/*
 * ctl_keys: the owner's Ed25519 signing keys, with OpenSSL.
 *
 * It owns making a key pair (garagectl keygen), the private key file (PEM PKCS#8, the format
 * `openssl genpkey -algorithm ed25519` writes, created 0600 and never overwritten unless
 * asked), the authorized_keys line that goes with it, loading a private key (refused when
 * group or others may read it), every signature garagectl makes (ctl_sign_text()), and turning
 * a command, an admin message or an enrollment request into its signed payload (SPEC "Signed
 * command", docs/reference.md "The admin message", "Invitations") with the core's
 * cmd_signed_text(), cmd_admin_signed_text() and cmd_enroll_signed_text(). It never talks to
 * the network. It also owns reading a new key's limits from the options of keys add and
 * invite (ctl_key_from_options()).
 */
#ifndef GARAGECTL_KEYS_H
#define GARAGECTL_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/types.h>

#include "cmd.h"
#include "cmd_admin.h"
#include "cmd_enroll.h"

/* "ed25519 " + 44 characters of base64 + " " + a key id + NUL */
#define CTL_KEY_LINE_MAX (8 + 44 + 1 + CMD_KID_MAX + 1)

/*
 * Makes a key pair for KID and writes the private key to PATH, mode 0600. An existing PATH is
 * an error unless FORCE, which replaces it atomically. On success the authorized_keys line
 * "ed25519 <base64 public key> KID" is in line. Returns 0, or -1 with what to do in err.
 */
int ctl_keygen(const char *kid, const char *path, bool force, char *line, size_t linelen, char *err,
               size_t errlen);

/*
 * Loads an Ed25519 private key from PATH (PEM). Returns the key, which the caller frees with
 * EVP_PKEY_free(), or NULL with what to do in err (a key file readable by group or others is
 * refused before it is read).
 */
EVP_PKEY *ctl_key_load(const char *path, char *err, size_t errlen);

/* KEY's raw 32-byte public key into pub. Returns 0, or -1 when KEY is no Ed25519 key. */
int ctl_key_public(EVP_PKEY *key, uint8_t pub[CMD_PUBKEY_LEN]);

/* A signature: its bytes, and its base64url text (without padding), as messages carry it. */
struct ctl_sig {
	uint8_t raw[CMD_SIG_LEN];
	char text[CMD_SIG_LEN * 2];
};

/*
 * The Ed25519 signature by KEY of text[0..len) (no pre-hash, as the device verifies) into
 * *sig. Every signature garagectl makes is made here. Returns 0, or -1 with the reason in err.
 */
int ctl_sign_text(EVP_PKEY *key, const char *text, size_t len, struct ctl_sig *sig, char *err,
                  size_t errlen);

/* The largest signed message: an enrollment request's (a command's and an admin's are less). */
#define CTL_SIGNED_MAX CMD_ENROLL_MAX_PAYLOAD

/*
 * A signed message ready to publish (a command on P/D/N/cmd, an admin message on P/D/admin, an
 * enrollment request on P/D/enroll), and its nonce, which names it in the device's events.
 */
struct ctl_signed {
	char payload[CTL_SIGNED_MAX + 1];
	size_t len;
	char nonce[CMD_NONCE_TEXT_MAX + 1];
	int64_t ts;
};

/*
 * Signs ACTION on DOOR of DEVICE as KID with KEY, now, with a fresh random nonce, into *out.
 * Returns 0, or -1 with the reason in err.
 */
int ctl_sign_command(EVP_PKEY *key, const char *device, const char *door, enum cmd_action action,
                     const char *kid, struct ctl_signed *out, char *err, size_t errlen);

/*
 * Signs the admin message OP with ARG (an add's canonical authorized_keys line, a remove's
 * kid) for DEVICE as KID with KEY, now, with a fresh random nonce, into *out. Returns 0, or -1
 * with the reason in err (a message over CMD_ADMIN_MAX_PAYLOAD bytes).
 */
int ctl_sign_admin(EVP_PKEY *key, const char *device, enum cmd_admin_op op, const char *arg,
                   const char *kid, struct ctl_signed *out, char *err, size_t errlen);

/*
 * The enrollment request for the invitation INV, whose JSON's base64url text is INV_B64: KEY's
 * public key, now, a fresh random nonce, signed over one text with ONE (the invitation's
 * one-time key: the proof) and with KEY (the new key: its possession), into *out. Returns 0,
 * or -1 with the reason in err.
 */
int ctl_sign_enroll(EVP_PKEY *key, EVP_PKEY *one, const struct cmd_invite *inv, const char *inv_b64,
                    struct ctl_signed *out, char *err, size_t errlen);

/*
 * A duration: a whole number and a unit, s, m, h or d ("90s", "30m", "24h", "7d"), from 1 s to
 * MAX seconds. Returns 0 with the seconds in *out, or -1.
 */
int ctl_duration_parse(const char *s, uint64_t max, uint64_t *out);

/*
 * A point in time for a key's validity options: a UTC time as authorized_keys writes it
 * ("2026-12-31T23:59:59Z"), or a duration from NOW (up to 100 years). 0 with *out, or -1.
 */
int ctl_time_parse(const char *s, int64_t now, int64_t *out);

/* A new key's id and limits as garagectl's options give them; NULL where one was not given. */
struct ctl_key_opts {
	const char *kid;
	const char *pub; /* standard base64 (keys add); NULL for an invitation's key: zero */
	const char *actions, *doors, *days, *hours; /* lists as in authorized_keys; doors "all" */
	const char *not_before, *not_after;         /* UTC, or a time from now (ctl_time_parse()) */
	bool admin;
	const char *time_option; /* the time options' names in messages: "--" (the default: keys
	                          * add's --not-after) or "--key-" (invite's --key-not-after) */
};

/*
 * The key of O, through the core's key line parser, so that each limit means what it means in
 * authorized_keys (keys add and invite alike), into *key; NOW is for durations. Returns 0, or
 * -1 with what is wrong, naming the option, in err.
 */
int ctl_key_from_options(const struct ctl_key_opts *o, int64_t now, struct cmd_key *key, char *err,
                         size_t errlen);

#endif
