/*
 * events: see events.h. Values that came from the network were charset-checked by the core
 * before they get here, but the writer escapes every string anyway: an audit trail must stay
 * valid JSON whatever a bug upstream lets through.
 */
#include "event.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

struct out {
	char *buf;
	size_t len;
	size_t pos;
	bool overflow;
};

static void
put(struct out *o, const char *s, size_t n)
{
	if (o->overflow || o->pos + n >= o->len) {
		o->overflow = true;
		return;
	}
	memcpy(o->buf + o->pos, s, n);
	o->pos += n;
	o->buf[o->pos] = '\0';
}

static void
put_str(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

/* ,"key":"value" with JSON escaping of the value (the first field has no comma). */
static void
put_field(struct out *o, const char *key, const char *value)
{
	char esc[8];
	const unsigned char *p;

	put_str(o, o->pos > 1 ? ",\"" : "\"");
	put_str(o, key);
	put_str(o, "\":\"");
	for (p = (const unsigned char *)value; *p != '\0'; p++) {
		if (*p < 0x20 || *p >= 0x7f || *p == '"' || *p == '\\') {
			snprintf(esc, sizeof(esc), "\\u%04x", *p);
			put_str(o, esc);
		} else {
			put(o, (const char *)p, 1);
		}
	}
	put_str(o, "\"");
}

static void
put_int(struct out *o, const char *key, int64_t v)
{
	char num[48];

	snprintf(num, sizeof(num), "%s\"%s\":%" PRId64, o->pos > 1 ? "," : "", key, v);
	put_str(o, num);
}

static size_t
finish(struct out *o)
{
	put_str(o, "}");
	if (o->overflow) {
		if (o->len > 0)
			o->buf[0] = '\0';
		return 0;
	}
	return o->pos;
}

/* "result":"accepted", or "result":"rejected","reason":WORD. */
static void
put_result(struct out *o, enum cmd_reason reason)
{
	if (reason == CMD_OK) {
		put_field(o, "result", "accepted");
	} else {
		put_field(o, "result", "rejected");
		put_field(o, "reason", cmd_reason_name(reason));
	}
}

size_t
event_command(char *buf, size_t len, int64_t ts, const struct cmd *c, const char *actor,
              enum cmd_reason reason, unsigned presses)
{
	struct out o = {buf, len, 0, false};

	put_str(&o, "{");
	put_int(&o, "ts", ts);
	put_field(&o, "type", "command");
	if (c->door[0] != '\0')
		put_field(&o, "door", c->door);
	if (c->has_action)
		put_field(&o, "action", cmd_action_name(c->action));
	if (actor != NULL)
		put_field(&o, "actor", actor);
	if (c->kid[0] != '\0')
		put_field(&o, "kid", c->kid);
	if (c->nonce[0] != '\0')
		put_field(&o, "nonce", c->nonce);
	put_result(&o, reason);
	if (reason == CMD_OK)
		put_int(&o, "presses", (int64_t)presses);
	return finish(&o);
}

size_t
event_keys(char *buf, size_t len, int64_t ts, const struct cmd_admin *a, enum cmd_reason reason,
           const char *message)
{
	struct out o = {buf, len, 0, false};

	put_str(&o, "{");
	put_int(&o, "ts", ts);
	put_field(&o, "type", "keys");
	if (a->has_op)
		put_field(&o, "op", cmd_admin_op_name(a->op));
	if (a->kid[0] != '\0')
		put_field(&o, "kid", a->kid);
	if (a->target[0] != '\0')
		put_field(&o, "target", a->target);
	if (a->nonce[0] != '\0')
		put_field(&o, "nonce", a->nonce);
	put_result(&o, reason);
	if (message != NULL && message[0] != '\0')
		put_field(&o, "message", message);
	return finish(&o);
}

size_t
event_enroll(char *buf, size_t len, int64_t ts, const struct cmd_enroll *e, enum cmd_reason reason)
{
	struct out o = {buf, len, 0, false};

	put_str(&o, "{");
	put_int(&o, "ts", ts);
	put_field(&o, "type", "enroll");
	if (e->inv.id[0] != '\0')
		put_field(&o, "invitation", e->inv.id);
	if (e->inv.key.kid[0] != '\0')
		put_field(&o, "kid", e->inv.key.kid);
	if (e->inv.by[0] != '\0')
		put_field(&o, "by", e->inv.by);
	if (e->nonce[0] != '\0')
		put_field(&o, "nonce", e->nonce);
	put_result(&o, reason);
	return finish(&o);
}

/* Whether an optional field has a value. */
static bool
given(const char *s)
{
	return s != NULL && s[0] != '\0';
}

size_t
event_renewal(char *buf, size_t len, int64_t ts, const char *step, const char *trigger,
              const char *serial, const char *not_after, const char *reason, const char *message)
{
	struct out o = {buf, len, 0, false};

	put_str(&o, "{");
	put_int(&o, "ts", ts);
	put_field(&o, "type", "renewal");
	put_field(&o, "step", step);
	if (given(trigger))
		put_field(&o, "trigger", trigger);
	if (given(serial))
		put_field(&o, "serial", serial);
	if (given(not_after))
		put_field(&o, "not_after", not_after);
	if (given(reason))
		put_field(&o, "reason", reason);
	if (given(message))
		put_field(&o, "message", message);
	return finish(&o);
}

size_t
event_broker(char *buf, size_t len, int64_t ts, const char *host, unsigned port,
             unsigned preference, unsigned count, const char *message)
{
	struct out o = {buf, len, 0, false};

	put_str(&o, "{");
	put_int(&o, "ts", ts);
	put_field(&o, "type", "broker");
	put_field(&o, "host", host);
	put_int(&o, "port", port);
	put_int(&o, "preference", preference);
	put_int(&o, "of", count);
	if (given(message))
		put_field(&o, "message", message);
	return finish(&o);
}

size_t
event_state(char *buf, size_t len, int64_t ts, const char *door, enum door_state from,
            enum door_state to)
{
	struct out o = {buf, len, 0, false};

	put_str(&o, "{");
	put_int(&o, "ts", ts);
	put_field(&o, "type", "state");
	put_field(&o, "door", door);
	put_field(&o, "from", door_state_name(from));
	put_field(&o, "to", door_state_name(to));
	return finish(&o);
}

size_t
event_note(char *buf, size_t len, int64_t ts, const char *type, const char *door,
           const char *message)
{
	struct out o = {buf, len, 0, false};

	put_str(&o, "{");
	put_int(&o, "ts", ts);
	put_field(&o, "type", type);
	if (door != NULL)
		put_field(&o, "door", door);
	put_field(&o, "message", message);
	return finish(&o);
}
