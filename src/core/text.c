/*
 * text: bounded text building (see text.h for what it owns).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "text.h"

void
text_init(struct text *t, char *buf, size_t cap)
{
	t->buf = buf;
	t->cap = buf != NULL ? cap : 0;
	t->len = 0;
	t->full = false;
	if (t->cap != 0)
		t->buf[0] = '\0';
}

void
text_putn(struct text *t, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (t->len + 1 >= t->cap) {
			t->full = true;
			return;
		}
		t->buf[t->len++] = s[i];
		t->buf[t->len] = '\0';
	}
}

void
text_puts(struct text *t, const char *s)
{
	text_putn(t, s, strlen(s));
}

void
text_put_u64(struct text *t, uint64_t v)
{
	char digits[20];
	size_t n = 0;

	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	while (n > 0)
		text_putn(t, &digits[--n], 1);
}

void
text_put_i64(struct text *t, int64_t v)
{
	if (v < 0) {
		text_putn(t, "-", 1);
		/* Negating INT64_MIN overflows; going through unsigned arithmetic does not. */
		text_put_u64(t, (uint64_t)0 - (uint64_t)v);
	} else {
		text_put_u64(t, (uint64_t)v);
	}
}

void
text_put_quoted(struct text *t, const char *s, size_t n)
{
	size_t shown = n > 40 ? 40 : n;

	text_putn(t, "\"", 1);
	for (size_t i = 0; i < shown; i++) {
		char c = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';

		text_putn(t, &c, 1);
	}
	if (shown < n)
		text_puts(t, "...");
	text_putn(t, "\"", 1);
}
