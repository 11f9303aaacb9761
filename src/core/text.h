/*
 * text: bounded text building for the core's messages and the signed text, without printf.
 *
 * It owns one thing: appending to a caller's fixed buffer without ever writing past it. A put
 * that does not fit sets full and the text stays NUL-terminated at what did fit, which is
 * snprintf's truncation without snprintf: snprintf would pull the whole of printf into a
 * microcontroller image for a few messages. It never allocates and never does I/O.
 */
#ifndef GARAGED_CORE_TEXT_H
#define GARAGED_CORE_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct text {
	char *buf;
	size_t cap;
	size_t len;
	bool full; /* a put did not fit: the text is cut */
};

/* Starts an empty text in buf[0..cap); with buf NULL or cap 0 every put only sets full. */
void text_init(struct text *t, char *buf, size_t cap);
void text_putn(struct text *t, const char *s, size_t n);
void text_puts(struct text *t, const char *s);
void text_put_u64(struct text *t, uint64_t v);
void text_put_i64(struct text *t, int64_t v);

/*
 * Quotes a word taken from the input for an error message: at most 40 bytes, anything that
 * is not printable ASCII shown as '?', so a message never carries control bytes into a log.
 */
void text_put_quoted(struct text *t, const char *s, size_t n);

#endif
