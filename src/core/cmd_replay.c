/*
 * cmd_replay: the time window and the replay window (see cmd_replay.h for what it owns).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* cmd.h for struct cmd_verifier, whose window fields are this file's to keep. */
#include "cmd.h"
#include "cmd_replay.h"

#define NOT_FOUND SIZE_MAX

static int64_t
sat_sub(int64_t a, uint32_t b)
{
	return a < INT64_MIN + (int64_t)b ? INT64_MIN : a - (int64_t)b;
}

static int64_t
sat_add(int64_t a, uint32_t b)
{
	return a > INT64_MAX - (int64_t)b ? INT64_MAX : a + (int64_t)b;
}

/*
 * The window is an open-addressing hash table with linear probing, keyed by the decoded nonce.
 * A nonce is only ever inserted after its signature verified, so only key holders choose what
 * goes in; FNV-1a is enough to spread random nonces. An entry whose command could no longer
 * pass the time check is dead. Dead entries are removed whenever a lookup walks over them, and
 * all at once when the table is nearly full, by shifting the rest of their cluster back: no
 * tombstones, and every live entry stays reachable from its home slot without crossing an
 * empty one. One slot always stays empty, so that every probe ends within one lap and a
 * removal never chases its own hole round the table: the window holds CMD_REPLAY_SLOTS - 1
 * live nonces. The verifier must start zeroed (every slot empty).
 */
static size_t
replay_home(const uint8_t *nonce, size_t len)
{
	uint32_t h = 2166136261U;

	for (size_t i = 0; i < len; i++) {
		h ^= nonce[i];
		h *= 16777619U;
	}
	return (size_t)h % CMD_REPLAY_SLOTS;
}

/* Empties slot hole and moves later entries of its cluster back so lookups still find them. */
static void
replay_remove(struct cmd_replay_slot *r, size_t hole)
{
	size_t j = hole;

	r[hole].len = 0;
	/* Entries only move into holes behind j, so j reaches the table's empty slot in a lap. */
	for (;;) {
		size_t home;
		bool stays;

		j = (j + 1) % CMD_REPLAY_SLOTS;
		if (r[j].len == 0)
			return;
		home = replay_home(r[j].nonce, r[j].len);
		/* The entry may not move back past its home: it stays if home is in (hole, j]. */
		if (hole <= j)
			stays = hole < home && home <= j;
		else
			stays = hole < home || home <= j;
		if (stays)
			continue;
		r[hole] = r[j];
		r[j].len = 0;
		hole = j;
	}
}

/*
 * True iff the nonce is live in the window. Otherwise *slot is where it would go: the empty
 * slot that ends its probe sequence. Dead entries met on the way are removed.
 */
static bool
replay_seen(struct cmd_replay_slot *r, const uint8_t *nonce, size_t len, int64_t oldest,
            size_t *slot)
{
	size_t i = replay_home(nonce, len);
	size_t steps = 0;

	*slot = NOT_FOUND;
	/* Each pass advances (a lap at most) or removes an entry (each one at most once). */
	while (steps < CMD_REPLAY_SLOTS) {
		if (r[i].len == 0) {
			*slot = i;
			return false;
		} else if (r[i].ts < oldest) {
			replay_remove(r, i);
			continue;
		} else if (r[i].len == len && memcmp(r[i].nonce, nonce, len) == 0) {
			return true;
		}
		i = (i + 1) % CMD_REPLAY_SLOTS;
		steps++;
	}
	return false;
}

static size_t
replay_empty_slots(const struct cmd_replay_slot *r)
{
	size_t n = 0;

	for (size_t i = 0; i < CMD_REPLAY_SLOTS; i++)
		n += r[i].len == 0;
	return n;
}

/*
 * Removes every dead entry. A removal only moves entries from ahead of i back to i or into
 * slots it had already emptied, so one pass, re-examining i after each removal, misses none.
 */
static void
replay_purge(struct cmd_replay_slot *r, int64_t oldest)
{
	for (size_t i = 0; i < CMD_REPLAY_SLOTS; i++) {
		while (r[i].len != 0 && r[i].ts < oldest)
			replay_remove(r, i);
	}
}

/* Live nonces in the share of the key whose public key starts with TAG. */
static size_t
replay_share(const struct cmd_replay_slot *r, const uint8_t *tag, int64_t oldest)
{
	size_t n = 0;

	for (size_t i = 0; i < CMD_REPLAY_SLOTS; i++)
		n += r[i].len != 0 && r[i].tagged && r[i].ts >= oldest &&
		     memcmp(r[i].tag, tag, CMD_REPLAY_TAG_LEN) == 0;
	return n;
}

/*
 * Remembers a nonce at the slot replay_seen() found for it, in the share of SIGNER (a public
 * key, or NULL for none), provided the share has room and another slot stays empty; if none
 * would, the dead entries are purged first. False when SIGNER's live nonces fill its share or
 * the live ones fill the window. The scans this costs are paid only for commands with a valid
 * signature.
 */
static bool
replay_insert(struct cmd_replay_slot *r, const uint8_t *nonce, size_t len, int64_t ts,
              int64_t oldest, size_t slot, const uint8_t *signer)
{
	if (signer != NULL && replay_share(r, signer, oldest) >= CMD_REPLAY_PER_KEY)
		return false;
	if (slot == NOT_FOUND || replay_empty_slots(r) < 2) {
		replay_purge(r, oldest);
		/* The purge moved entries about, so the nonce's place must be found again. */
		if (replay_seen(r, nonce, len, oldest, &slot) || slot == NOT_FOUND ||
		    replay_empty_slots(r) < 2)
			return false;
	}
	memcpy(r[slot].nonce, nonce, len);
	r[slot].len = (uint8_t)len;
	r[slot].ts = ts;
	r[slot].tagged = signer != NULL;
	if (signer != NULL)
		memcpy(r[slot].tag, signer, CMD_REPLAY_TAG_LEN);
	else
		memset(r[slot].tag, 0, CMD_REPLAY_TAG_LEN);
	return true;
}

void
cmd_verifier_start(struct cmd_verifier *v, int64_t now, int64_t latest)
{
	memset(v->replay, 0, sizeof(v->replay));
	v->start_time = now;
	v->latest = now > latest ? now : latest;
}

bool
cmd_verifier_remember(struct cmd_verifier *v, const uint8_t *nonce, size_t len, int64_t ts)
{
	int64_t oldest = sat_sub(v->latest, v->clock_skew);
	size_t slot;

	if (len < CMD_NONCE_MIN || len > CMD_NONCE_MAX)
		return false;
	/* Older than the window: stale whatever the nonce, nothing to remember. */
	if (ts < oldest)
		return true;
	if (replay_seen(v->replay, nonce, len, oldest, &slot))
		return true;
	return replay_insert(v->replay, nonce, len, ts, oldest, slot, NULL);
}

int64_t
cmd_verifier_now(const struct cmd_verifier *v, int64_t now)
{
	return now < v->latest ? v->latest : now;
}

struct cmd_now
cmd_verifier_time(const struct cmd_verifier *v, struct cmd_now now)
{
	if (now.unix_time < v->latest) {
		now.unix_time = v->latest;
		/* A calendar of the clock set back is not the judged time's: no schedule holds. */
		now.wday = 7;
		now.minute = 24 * 60;
	}
	return now;
}

enum cmd_reason
cmd_replay_check(struct cmd_verifier *v, int64_t ts, const uint8_t *nonce, size_t len, int64_t now,
                 struct cmd_replay_ticket *t)
{
	int64_t oldest;

	if (nonce == NULL || len < CMD_NONCE_MIN || len > CMD_NONCE_MAX)
		return CMD_MALFORMED;

	/*
	 * A clock stepped back must not reopen the window: a nonce forgotten because its command
	 * had left the window could otherwise be replayed once the clock shows that time again.
	 * So time is the latest seen; after a step back, commands are refused as stale until the
	 * clock catches up (or the daemon restarts, which starts a new window from its start).
	 */
	if (now < v->latest)
		now = v->latest;
	else
		v->latest = now;

	/* Whole seconds at both ends: the boundaries themselves are inside the window. */
	oldest = sat_sub(now, v->clock_skew);
	if (ts < v->start_time || ts < oldest)
		return CMD_STALE;
	else if (ts > sat_add(now, v->clock_skew))
		return CMD_FUTURE;

	/* Anything older than this can never pass the time check again, so it may be forgotten. */
	if (oldest < v->start_time)
		oldest = v->start_time;
	t->nonce = nonce;
	t->len = len;
	t->ts = ts;
	t->oldest = oldest;
	if (replay_seen(v->replay, nonce, len, oldest, &t->slot))
		return CMD_REPLAY;
	return CMD_OK;
}

bool
cmd_replay_commit(struct cmd_verifier *v, const struct cmd_replay_ticket *t, const uint8_t *signer)
{
	return replay_insert(v->replay, t->nonce, t->len, t->ts, t->oldest, t->slot, signer);
}
