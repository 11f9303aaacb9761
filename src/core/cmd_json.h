/*
 * cmd_json: the strict JSON reader that the signed messages share (the door command, cmd.c, the
 * admin message, cmd_admin.c, and the invitation and enrollment request, cmd_enroll.c), and the
 * decoders of the fields they have in common: v, ts, nonce and sig.
 *
 * Internal to src/core: its names are cmd__*, and nothing outside the core includes this header;
 * the messages' own headers are the API. It owns the rule that a signed message is one flat JSON
 * object, each field's value exactly the bytes that are signed (no escapes are decoded), and the
 * one spelling of each shared field. It never does I/O and never allocates: jsmn's tokens live on
 * its own stack frame, CMD_JSON_TOKENS of them (core_config.h), or CMD_INVITE_JSON_TOKENS for
 * the one message with lists, the invitation.
 */
#ifndef GARAGED_CORE_CMD_JSON_H
#define GARAGED_CORE_CMD_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core_config.h"

/* A field's value as found in the payload; count says how often its key appeared. */
struct cmd__field {
	const char
	    *s; /* a string's bytes without its quotes, a primitive's, or a list's from [ to ] */
	size_t n;
	bool is_string;
	bool is_list;
	unsigned int count;
};

/*
 * Reads js[0..len) as exactly one JSON object whose values are strings or primitives: '{'
 * first, '}' last, nothing but JSON whitespace and the one ':' or ',' that belongs between the
 * tokens. Every key equal to names[i] (i < nnames) fills fields[i]; fields[] is zeroed first.
 * Returns -1 when the text is not such an object (fields[] then says nothing), 1 when it is but
 * some key is none of names (fields[] is still filled, so that a rejection can say what it was
 * about), 0 when every key is one of names.
 */
int cmd__json_fields(const char *js, size_t len, const char *const *names, size_t nnames,
                     struct cmd__field *fields);

/*
 * cmd__json_fields(), where a value may also be a list of strings, each without a backslash
 * (["open","close"]; [] too): the invitation's actions, doors and days. Strings in a list are
 * checked byte by byte as the rest is. Its tokens are CMD_INVITE_JSON_TOKENS.
 */
int cmd__json_fields_lists(const char *js, size_t len, const char *const *names, size_t nnames,
                           struct cmd__field *fields);

/*
 * f when its key appeared exactly once with the JSON type wanted (a string, or a primitive),
 * else NULL; never a list.
 */
const struct cmd__field *cmd__field_get(const struct cmd__field *f, bool want_string);

/* f when its key appeared exactly once with a list as its value, else NULL. */
const struct cmd__field *cmd__field_get_list(const struct cmd__field *f);

/*
 * The next string of list f (as cmd__json_fields_lists() filled it) after *pos, which starts at
 * 0: true with its bytes, without the quotes, in *s and *n, false after the last.
 */
bool cmd__list_next(const struct cmd__field *f, size_t *pos, const char **s, size_t *n);

/*
 * The readers of the shared fields take a field as cmd__json_fields() filled it, and say false
 * unless its key appeared exactly once with the right JSON type and its value is well-formed.
 */

/* v: the number 1, in that one spelling. */
bool cmd__read_v(const struct cmd__field *f);

/* ts: 1 to 12 decimal digits, no sign, fraction, exponent or leading zero: one spelling. */
bool cmd__read_ts(const struct cmd__field *f, int64_t *ts);

/*
 * nonce: CMD_NONCE_MIN to CMD_NONCE_MAX bytes as canonical base64url without padding. Decodes
 * into nonce[] (*len bytes) and copies the text, NUL-terminated, into text[].
 */
bool cmd__read_nonce(const struct cmd__field *f, uint8_t nonce[CMD_NONCE_MAX], size_t *len,
                     char text[CMD_NONCE_TEXT_MAX + 1]);

/* kid (or any key id field): a string of cmd_kid_valid()'s charset, copied NUL-terminated. */
bool cmd__read_kid(const struct cmd__field *f, char kid[CMD_KID_MAX + 1]);

/* sig: the CMD_SIG_LEN bytes of an Ed25519 signature as canonical base64url without padding. */
bool cmd__read_sig(const struct cmd__field *f, uint8_t sig[CMD_SIG_LEN]);

/* The length of a string NUL-terminated within cap bytes, or SIZE_MAX if it is not. */
size_t cmd__bounded_len(const char *s, size_t cap);

#endif
