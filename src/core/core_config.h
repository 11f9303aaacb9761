/*
 * Compile-time limits and defaults of the portable core, in one place: everything in src/core/
 * sizes its fixed buffers from here, and nothing else in src/core/ defines a size or a default.
 *
 * The first part is the port's to choose: any of it may be overridden with -D on the compiler
 * line (fuzz-replay builds with CMD_REPLAY_SLOTS=8U). The second part is fixed by the signed
 * command's format (SPEC "Signed command", docs/protocol.md): garagectl, garaged and every port
 * must agree on it, so it is not overridable, and a -D of any of it is a redefinition warning
 * (an error under -Werror).
 */
#ifndef GARAGED_CORE_CONFIG_H
#define GARAGED_CORE_CONFIG_H

/* ---- a port's choice ---------------------------------------------------------------------- */

/* How long a reed switch level must hold before the door state machine believes it. */
#ifndef DOOR_DEBOUNCE_MS
#define DOOR_DEBOUNCE_MS (50U)
#endif

/* The longest command payload; a longer one is "too_large" before any parsing. */
#ifndef CMD_MAX_PAYLOAD
#define CMD_MAX_PAYLOAD (512U)
#endif

/*
 * The longest admin message payload (cmd_admin.h); a longer one is "too_large" before any
 * parsing. It bounds the authorized_keys line an "add" carries, and the signed text.
 */
#ifndef CMD_ADMIN_MAX_PAYLOAD
#define CMD_ADMIN_MAX_PAYLOAD (1024U)
#endif

/*
 * The longest enrollment request (cmd_enroll.h) on P/D/enroll; a longer one is "too_large"
 * before any parsing. It carries a whole invitation in base64url (CMD_INVITE_MAX bytes at
 * most), so it is the largest message the core reads; cmd_enroll.c checks that the largest
 * valid request fits.
 */
#ifndef CMD_ENROLL_MAX_PAYLOAD
#define CMD_ENROLL_MAX_PAYLOAD (2048U)
#endif

/* What struct cmd_admin keeps of the reason an added key's line was refused, with its NUL. */
#ifndef CMD_ADMIN_ERROR_MAX
#define CMD_ADMIN_ERROR_MAX (192U)
#endif

/* authorized_keys lines (keys) a keyring holds. */
#ifndef CMD_MAX_KEYS
#define CMD_MAX_KEYS (32U)
#endif

/* The longest authorized_keys line, without its line ending. */
#ifndef CMD_KEYS_LINE_MAX
#define CMD_KEYS_LINE_MAX (1024U)
#endif

/* Doors a verifier knows, and doors one authorized_keys line may list in doors=. */
#ifndef CMD_MAX_DOORS
#define CMD_MAX_DOORS (8U)
#endif

/*
 * Slots of the replay window: the nonces of accepted commands remembered while their commands
 * are inside the time window. One slot always stays empty, so it holds CMD_REPLAY_SLOTS - 1.
 */
#ifndef CMD_REPLAY_SLOTS
#define CMD_REPLAY_SLOTS (1024U)
#endif

/*
 * Live nonces one key may hold in the replay window at once (commands, admin messages and the
 * enrollments it invited alike); one more is refused as rate_limited, for that key alone.
 * Every key's share fits the window together, so that no key, nor all keys but one, can fill
 * it and starve another: one key holder's flood of validly signed messages blocks only itself,
 * and never the owner's revocation of it. One slot always stays empty, hence the - 1.
 */
#ifndef CMD_REPLAY_PER_KEY
#define CMD_REPLAY_PER_KEY ((CMD_REPLAY_SLOTS - 1U) / CMD_MAX_KEYS)
#endif
_Static_assert(CMD_REPLAY_PER_KEY >= 1U, "every key may have at least one command in flight");
_Static_assert(CMD_REPLAY_PER_KEY *CMD_MAX_KEYS <= CMD_REPLAY_SLOTS - 1U,
               "the shares of a full keyring fit the replay window, so no set of keys can "
               "starve another");

/*
 * Bytes of the signer's public key a replay slot keeps, to count each key's share by: a key
 * holder would need about 2^64 key pairs to find one that counts against another key.
 */
#define CMD_REPLAY_TAG_LEN 8U

/*
 * jsmn tokens of one command: a valid one has 15 (the object, seven keys, seven values); the
 * rest of the room lets a bad one be named precisely. At least 15.
 */
#ifndef CMD_JSON_TOKENS
#define CMD_JSON_TOKENS (32U)
#endif

/*
 * jsmn tokens of one invitation (cmd_enroll.h): the object, 14 keys and values, and the items
 * of its lists (4 actions, 8 doors, 7 days): 48 for the largest valid one. The rest of the room
 * lets a bad one be read far enough to name it. At least 48.
 */
#ifndef CMD_INVITE_JSON_TOKENS
#define CMD_INVITE_JSON_TOKENS (56U)
#endif

/* ---- fixed by the signed command's format ------------------------------------------------- */

#define CMD_NAME_MAX       32U /* device id, door: [a-z0-9_-]{1,32} */
#define CMD_KID_MAX        64U /* key id: [A-Za-z0-9._@-]{1,64} */
#define CMD_NONCE_MIN      8U  /* nonce bytes, decoded from base64url */
#define CMD_NONCE_MAX      32U
#define CMD_NONCE_TEXT_MAX 43U /* base64url without padding of CMD_NONCE_MAX bytes */
#define CMD_SIG_LEN        64U /* an Ed25519 signature */
#define CMD_PUBKEY_LEN     32U /* an Ed25519 public key */
/* "garaged-cmd-v1\n" + 6 fields and separators: the largest text a command signs. */
#define CMD_SIGNED_TEXT_MAX 256U
/*
 * The largest text an admin message signs, with its NUL: always shorter than its payload, whose
 * JSON names and signature (145 bytes) outweigh the signed text's header and device id (54).
 */
#define CMD_ADMIN_SIGNED_TEXT_MAX CMD_ADMIN_MAX_PAYLOAD
/* not_before= and not_after= on an authorized_keys line: "2026-12-24T18:00:00Z" and a NUL. */
#define CMD_UTC_TEXT_MAX 21U
/*
 * An invitation (cmd_enroll.h): its id is CMD_INVITE_ID_LEN random bytes, written as
 * base64url without padding; its JSON, and the text its inviter signs, are at most
 * CMD_INVITE_MAX bytes (cmd_enroll.c checks that the largest valid ones fit).
 */
#define CMD_INVITE_ID_LEN      16U
#define CMD_INVITE_ID_TEXT_MAX 22U
#define CMD_INVITE_MAX         1024U
/* "garaged-enroll-v1\n" and its six lines, with a NUL: the text an enrollment request signs. */
#define CMD_ENROLL_SIGNED_TEXT_MAX 256U
/* cmd_key_json() of any key fits in this, with its NUL (cmd_keys.c checks it at compile time). */
#define CMD_KEY_JSON_MAX 1024U

#endif
