/*
 * ctl_invite: invitations from the inviter's side and the invitee's (docs/reference.md
 * "Invitations").
 *
 * It owns garagectl invite (the invitation, signed with the admin's key; its one-time Ed25519
 * seed, made with OpenSSL; the one line that carries both; that line as a QR code on the
 * terminal and as a PNG) and garagectl enroll (the invitee's key, made when its file does not
 * exist; the request signed with the seed and with that key; its publication on P/D/enroll and
 * the device's answer). The core writes and reads the invitation and builds the texts that are
 * signed (cmd_enroll.h), so that garagectl signs exactly what the device verifies; libqrencode
 * draws; ctl_command.c talks to the broker. It never decides whether an invitation is good:
 * the device does, and garagectl says what it answered.
 */
#ifndef GARAGECTL_INVITE_H
#define GARAGECTL_INVITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <openssl/types.h>
#include <qrencode.h>

#include "cmd_enroll.h"
#include "ctl_config.h"
#include "ctl_keys.h"

/* An invitation lives 24 hours unless --expires says otherwise, and 30 days at most. */
#define CTL_INVITE_EXPIRES_DEFAULT_S (24U * 3600U)
#define CTL_INVITE_EXPIRES_MAX_S     (30U * 24U * 3600U)
/* --url BASE: at most this long, printable ASCII without spaces or '#'. */
#define CTL_INVITE_URL_MAX 512U
/* The text of an invitation: its JSON in base64url, and its seed's 43 characters. */
#define CTL_INVITE_B64_MAX ((CMD_INVITE_MAX * 4U + 2U) / 3U)
/* --web-login FILE: broker-config --web's connection JSON (docs/reference.md, "The web app's
 * invitation URL"), at most this long, appended in base64url as the link's third part. */
#define CTL_INVITE_LOGIN_MAX     512U
#define CTL_INVITE_LOGIN_B64_MAX ((CTL_INVITE_LOGIN_MAX * 4U + 2U) / 3U)
#define CTL_INVITE_LINE_MAX                                                                        \
	(CTL_INVITE_URL_MAX + 1U + CTL_INVITE_B64_MAX + 1U + 43U + 1U + CTL_INVITE_LOGIN_B64_MAX + \
	 1U)

/* What garagectl invite was asked for; NULL where an option was not given. */
struct ctl_invite_opts {
	struct ctl_key_opts key; /* the new key's kid (required) and limits; never admin */
	uint64_t expires_s;      /* the invitation's life */
	const char *url;         /* --url BASE */
	const char *web_login;   /* --web-login FILE: the web app's broker login, with --url */
	const char *png;         /* -o FILE.png */
};

/*
 * garagectl invite: signs an invitation of O for [signing] device with ADMIN, the [signing] key
 * (an admin's, as kid), prints its line on standard output and draws it as a QR code on standard
 * error when that is a terminal; with o->png, also writes the QR code there (mode 0600: it is
 * the secret). Returns garagectl's exit status, the reason printed.
 */
int ctl_invite(const struct ctl_config *cfg, EVP_PKEY *admin, const struct ctl_invite_opts *o);

/*
 * garagectl enroll: publishes the enrollment request for the invitation line TEXT, signed
 * with the key at KEY_PATH (made, mode 0600, when the file does not exist), on P/D/enroll of
 * the invitation's device and waits for the device's answer. Returns 0 when the key was
 * enrolled, 1 with the device's reason when refused or without an answer, 2 when TEXT is no
 * invitation or the key file is unusable.
 */
int ctl_enroll(const struct ctl_config *cfg, const char *text, const char *key_path);

/* ---- the parts without I/O, for the unit tests too ------------------------------------- */

/*
 * Writes the line of an invitation: [URL "#"] <b64url of its JSON> "." <b64url of SEED>, into
 * buf. Returns its length, or 0 when it does not fit or inv is no invitation.
 */
size_t ctl_invite_line(const struct cmd_invite *inv, const uint8_t seed[32], const char *url,
                       char *buf, size_t buflen);

/*
 * Reads an invitation line as ctl_invite_line() writes it, a URL's part up to its first '#'
 * and whitespace around it ignored: the invitation into *inv (not verified: the device does),
 * its JSON's base64url text into b64 (CTL_INVITE_B64_MAX + 1 bytes), the seed into seed.
 * Checks that the seed is the invitation's one-time key. Returns 0, or -1 with what is wrong.
 */
int ctl_invite_line_parse(const char *text, struct cmd_invite *inv, char *b64, uint8_t seed[32],
                          char *err, size_t errlen);

/* The QR code of TEXT (error correction L), or NULL; freed with QRcode_free(). */
QRcode *ctl_qr_encode(const char *text);

/*
 * Draws QR on OUT in UTF-8 half blocks, two rows of modules a line, dark on light whatever
 * the terminal's colours (ANSI black on white), with a quiet zone of 2 modules.
 */
void ctl_qr_draw(FILE *out, const QRcode *qr);

/*
 * QR as a PNG (8-bit grey, 8 pixels a module, a quiet zone of 4) in a buffer the caller frees
 * with free(). Returns 0 with *png and *len, or -1.
 */
int ctl_qr_png(const QRcode *qr, unsigned char **png, size_t *len);

#endif
