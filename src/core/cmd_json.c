/*
 * cmd_json: the signed messages' strict JSON reader and shared fields (see cmd_json.h for what
 * it owns).
 *
 * Every byte that reaches it is hostile until a signature says otherwise, so the reader is
 * deliberately narrower than JSON: one flat object, no bytes before the '{' or after the '}'.
 * jsmn finds the tokens; the bytes between them are then checked here one by one, because jsmn
 * 1.1.0 alone accepts some non-JSON with token counts that look right ({,"a":"b"}, {"a":"b",},
 * {"a":"b",,"c":"d"}, {"a"::"b"}).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base64.h"
#include "cmd_json.h"
#include "cmd_names.h"

/*
 * jsmn is header-only and included here and nowhere else; static keeps its symbols out of the
 * library's namespace. The build defines JSMN_STRICT (bare words are not values), but the
 * checks below do not rely on it: every byte between tokens is checked again.
 */
#define JSMN_STATIC
#include <jsmn.h>

_Static_assert(CMD_JSON_TOKENS >= 15, "a valid signed message has 15 JSON tokens");

/* The longest base64url texts a valid nonce and signature can have. */
#define NONCE_TEXT_MAX ((CMD_NONCE_MAX * 4U + 2U) / 3U)
#define SIG_TEXT_MAX   ((CMD_SIG_LEN * 4U + 2U) / 3U)
_Static_assert(NONCE_TEXT_MAX == CMD_NONCE_TEXT_MAX, "CMD_NONCE_TEXT_MAX is the longest text");

static bool
is_json_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static size_t
skip_json_ws(const char *js, size_t len, size_t pos)
{
	while (pos < len && is_json_ws(js[pos]))
		pos++;
	return pos;
}

/* Where a token's bytes begin and end in the text: a string token excludes its quotes. */
static size_t
tok_begin(const jsmntok_t *t)
{
	return (size_t)t->start - (t->type == JSMN_STRING ? 1U : 0U);
}

static size_t
tok_after(const jsmntok_t *t)
{
	return (size_t)t->end + (t->type == JSMN_STRING ? 1U : 0U);
}

/*
 * The bytes of a list value from its '[' on: every item a string without a backslash, and
 * between them nothing but JSON whitespace and one ',' each. items[0 .. n) are its item tokens.
 * Returns the position after its ']', or 0 when the list is not such a list.
 */
static size_t
json_list(const char *js, size_t len, const jsmntok_t *list, const jsmntok_t *items, size_t n)
{
	size_t pos = (size_t)list->start + 1;

	for (size_t j = 0; j < n; j++) {
		const jsmntok_t *it = &items[j];

		if (it->type != JSMN_STRING || it->size != 0 || it->start < 1 ||
		    it->end < it->start ||
		    memchr(js + it->start, '\\', (size_t)(it->end - it->start)) != NULL)
			return 0;
		pos = skip_json_ws(js, len, pos);
		if (pos != tok_begin(it))
			return 0;
		pos = skip_json_ws(js, len, tok_after(it));
		if (j + 1 < n) {
			if (pos >= len || js[pos] != ',')
				return 0;
			pos++;
		}
	}
	pos = skip_json_ws(js, len, pos);
	if (pos + 1 != (size_t)list->end || js[pos] != ']')
		return 0;
	return pos + 1;
}

/*
 * True iff js[0..len) is exactly one JSON object whose values are all strings or primitives
 * (or, with LISTS, lists of strings without a backslash): '{' first, '}' last, and between the
 * tokens nothing but JSON whitespace and the one ':' or ',' that belongs there. jsmn stops at a
 * NUL byte, so an embedded NUL never gets this far. On success pairs[i] is the index in tok[]
 * of the i-th key (its value follows it, a list's items follow the list), for i < *npairs.
 */
static bool
json_flat_object(const char *js, size_t len, jsmntok_t *tok, size_t ntok, bool lists, size_t *pairs,
                 size_t npairs_max, size_t *npairs)
{
	jsmn_parser p;
	size_t n, t, pos;
	int r;

	if (len < 2 || js[0] != '{' || js[len - 1] != '}')
		return false;
	jsmn_init(&p);
	r = jsmn_parse(&p, js, len, tok, (unsigned int)ntok);
	if (r < 1 || tok[0].type != JSMN_OBJECT || tok[0].start != 0 || tok[0].end != (int)len ||
	    tok[0].size < 0 || (size_t)tok[0].size > npairs_max)
		return false;
	n = (size_t)tok[0].size;

	pos = 1;
	t = 1;
	for (size_t i = 0; i < n; i++) {
		const jsmntok_t *k, *val;

		if (t + 1 >= (size_t)r)
			return false;
		k = &tok[t];
		val = &tok[t + 1];
		if (k->type != JSMN_STRING || k->size != 1 || k->start < 1 || k->end < k->start)
			return false;
		else if (val->start < 1 || val->end < val->start)
			return false;
		else if (val->type == JSMN_ARRAY) {
			if (!lists || val->size < 0 || (size_t)val->size > (size_t)r - t - 2)
				return false;
		} else if ((val->type != JSMN_STRING && val->type != JSMN_PRIMITIVE) ||
		           val->size != 0) {
			return false;
		}

		pos = skip_json_ws(js, len, pos);
		if (pos != tok_begin(k))
			return false;
		pos = skip_json_ws(js, len, tok_after(k));
		if (pos >= len || js[pos] != ':')
			return false;
		pos = skip_json_ws(js, len, pos + 1);
		if (pos != tok_begin(val))
			return false;
		if (val->type == JSMN_ARRAY) {
			pos = json_list(js, len, val, &tok[t + 2], (size_t)val->size);
			if (pos == 0)
				return false;
			pos = skip_json_ws(js, len, pos);
		} else {
			pos = skip_json_ws(js, len, tok_after(val));
		}
		if (i + 1 < n) {
			if (pos >= len || js[pos] != ',')
				return false;
			pos++;
		}
		pairs[i] = t;
		t += 2 + (val->type == JSMN_ARRAY ? (size_t)val->size : 0);
	}
	pos = skip_json_ws(js, len, pos);
	if (pos != len - 1 || t != (size_t)r)
		return false;
	*npairs = n;
	return true;
}

/* cmd__json_fields() and cmd__json_fields_lists() in the caller's tokens. */
static int
json_fields(const char *js, size_t len, const char *const *names, size_t nnames,
            struct cmd__field *fields, jsmntok_t *tok, size_t ntok, bool lists)
{
	/* A key takes two tokens at least: no object that fits tok[] has more pairs. */
	size_t pairs[CMD_INVITE_JSON_TOKENS > CMD_JSON_TOKENS ? CMD_INVITE_JSON_TOKENS / 2
	                                                      : CMD_JSON_TOKENS / 2];
	size_t npairs = 0;
	int r = 0;

	memset(fields, 0, nnames * sizeof(fields[0]));
	if (js == NULL || !json_flat_object(js, len, tok, ntok, lists, pairs,
	                                    sizeof(pairs) / sizeof(pairs[0]), &npairs))
		return -1;
	for (size_t i = 0; i < npairs; i++) {
		const jsmntok_t *k = &tok[pairs[i]];
		const jsmntok_t *val = &tok[pairs[i] + 1];
		size_t klen = (size_t)(k->end - k->start);
		size_t which;

		for (which = 0; which < nnames; which++) {
			if (strlen(names[which]) == klen &&
			    memcmp(names[which], js + k->start, klen) == 0)
				break;
		}
		if (which == nnames) {
			r = 1; /* a key that is not ours, however it is spelt */
			continue;
		}
		fields[which].count++;
		fields[which].s = js + val->start;
		fields[which].n = (size_t)(val->end - val->start);
		fields[which].is_string = val->type == JSMN_STRING;
		fields[which].is_list = val->type == JSMN_ARRAY;
	}
	return r;
}

int
cmd__json_fields(const char *js, size_t len, const char *const *names, size_t nnames,
                 struct cmd__field *fields)
{
	jsmntok_t tok[CMD_JSON_TOKENS];

	return json_fields(js, len, names, nnames, fields, tok, CMD_JSON_TOKENS, false);
}

int
cmd__json_fields_lists(const char *js, size_t len, const char *const *names, size_t nnames,
                       struct cmd__field *fields)
{
	jsmntok_t tok[CMD_INVITE_JSON_TOKENS];

	return json_fields(js, len, names, nnames, fields, tok, CMD_INVITE_JSON_TOKENS, true);
}

const struct cmd__field *
cmd__field_get(const struct cmd__field *f, bool want_string)
{
	if (f == NULL || f->count != 1 || f->is_list || f->is_string != want_string)
		return NULL;
	return f;
}

const struct cmd__field *
cmd__field_get_list(const struct cmd__field *f)
{
	if (f == NULL || f->count != 1 || !f->is_list)
		return NULL;
	return f;
}

bool
cmd__list_next(const struct cmd__field *f, size_t *pos, const char **s, size_t *n)
{
	size_t i = *pos, start;

	/* The reader checked the list's bytes: '[', strings without a backslash, ',' and ']'. */
	if (i == 0)
		i = 1; /* past the '[' */
	while (i < f->n && is_json_ws(f->s[i]))
		i++;
	if (i < f->n && f->s[i] == ',')
		i++;
	while (i < f->n && is_json_ws(f->s[i]))
		i++;
	if (i >= f->n || f->s[i] != '"') {
		*pos = f->n;
		return false;
	}
	start = ++i;
	while (i < f->n && f->s[i] != '"')
		i++;
	if (i >= f->n) {
		*pos = f->n;
		return false;
	}
	*s = f->s + start;
	*n = i - start;
	*pos = i + 1;
	return true;
}

bool
cmd__read_v(const struct cmd__field *f)
{
	f = cmd__field_get(f, false);
	return f != NULL && f->n == 1 && f->s[0] == '1';
}

bool
cmd__read_ts(const struct cmd__field *f, int64_t *ts)
{
	int64_t t = 0;

	f = cmd__field_get(f, false);
	if (f == NULL || f->n < 1 || f->n > 12 || (f->n > 1 && f->s[0] == '0'))
		return false;
	for (size_t i = 0; i < f->n; i++) {
		if (f->s[i] < '0' || f->s[i] > '9')
			return false;
		t = t * 10 + (f->s[i] - '0');
	}
	*ts = t;
	return true;
}

bool
cmd__read_nonce(const struct cmd__field *f, uint8_t nonce[CMD_NONCE_MAX], size_t *len,
                char text[CMD_NONCE_TEXT_MAX + 1])
{
	int r;

	f = cmd__field_get(f, true);
	/* Checking the length first keeps the decoder's output within nonce[]. */
	if (f == NULL || f->n > NONCE_TEXT_MAX)
		return false;
	r = base64_decode(BASE64_URL_UNPADDED, f->s, f->n, nonce, CMD_NONCE_MAX);
	if (r < (int)CMD_NONCE_MIN || r > (int)CMD_NONCE_MAX)
		return false;
	*len = (size_t)r;
	memcpy(text, f->s, f->n);
	text[f->n] = '\0';
	return true;
}

bool
cmd__read_kid(const struct cmd__field *f, char kid[CMD_KID_MAX + 1])
{
	const struct cmd__field *x = cmd__field_get(f, true);

	if (x == NULL || !cmd_kid_valid(x->s, x->n))
		return false;
	cmd_name_copy(kid, x->s, x->n);
	return true;
}

bool
cmd__read_sig(const struct cmd__field *f, uint8_t sig[CMD_SIG_LEN])
{
	f = cmd__field_get(f, true);
	return f != NULL && f->n == SIG_TEXT_MAX &&
	       base64_decode(BASE64_URL_UNPADDED, f->s, f->n, sig, CMD_SIG_LEN) == (int)CMD_SIG_LEN;
}

size_t
cmd__bounded_len(const char *s, size_t cap)
{
	/* A loop, not memchr: nothing past the NUL of a short string may be read. */
	for (size_t i = 0; i < cap; i++) {
		if (s[i] == '\0')
			return i;
	}
	return SIZE_MAX;
}
