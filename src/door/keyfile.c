/*
 * keyfile: see keyfile.h. The file's old and new text (64 KiB each) and the keyrings are too
 * large for the stack; they are allocated for one change and freed after it, not kept in
 * static storage, whose pages would stay resident for the rest of the run after the first
 * change (a change is rare; garaged.c gives the heap back after one).
 */
#include "keyfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "authkeys.h"
#include "channel.h"
#include "sig_sodium.h"

#define LIST_HEAD      "{\"keys\":["
#define LIST_END       "]}"
#define LIST_TRUNCATED "],\"truncated\":true}"

/* Where line number LINE (from 1) of TEXT starts, and where the next one does; false if none. */
static bool
find_line(const char *text, size_t len, uint32_t line, size_t *start, size_t *end)
{
	size_t pos = 0;
	const char *nl;

	for (uint32_t n = 1; n < line; n++) {
		nl = memchr(text + pos, '\n', len - pos);
		if (nl == NULL)
			return false;
		pos = (size_t)(nl - text) + 1;
	}
	if (pos >= len)
		return false;
	*start = pos;
	nl = memchr(text + pos, '\n', len - pos);
	*end = nl != NULL ? (size_t)(nl - text) + 1 : len;
	return true;
}

int
keyfile_edit(const char *text, size_t len, const struct cmd_keyring *ring,
             const struct cmd_admin *op, char *out, size_t outlen, size_t *outlen_used)
{
	char line[CMD_KEYS_LINE_MAX + 1];
	const struct cmd_key *k;
	size_t n, start, end, sep;

	if (op == NULL || !op->has_op)
		return -1;
	switch (op->op) {
	case CMD_ADMIN_ADD:
		n = cmd_key_format(&op->key, line, sizeof(line));
		sep = len > 0 && text[len - 1] != '\n';
		if (n == 0 || len + sep + n + 2 > outlen)
			return -1;
		memcpy(out, text, len);
		if (sep)
			out[len] = '\n';
		memcpy(out + len + sep, line, n);
		out[len + sep + n] = '\n';
		*outlen_used = len + sep + n + 1;
		break;
	case CMD_ADMIN_REMOVE:
		k = cmd_keyring_find(ring, op->target, strnlen(op->target, sizeof(op->target)));
		if (k == NULL || k->line == 0 || !find_line(text, len, k->line, &start, &end) ||
		    len - (end - start) + 1 > outlen)
			return -1;
		memcpy(out, text, start);
		memcpy(out + start, text + end, len - end);
		*outlen_used = len - (end - start);
		break;
	case CMD_ADMIN_RENEW:
		if (len + 1 > outlen)
			return -1;
		memcpy(out, text, len);
		*outlen_used = len;
		break;
	default:
		return -1;
	}
	out[*outlen_used] = '\0';
	return 0;
}

size_t
keyfile_list_json(const struct cmd_keyring *ring, char *buf, size_t len, bool *complete)
{
	char item[CMD_KEY_JSON_MAX];
	size_t pos, n, i, nkeys = ring != NULL ? ring->nkeys : 0;
	bool all = true;

	if (complete != NULL)
		*complete = false;
	if (len < sizeof(LIST_HEAD) - 1 + sizeof(LIST_TRUNCATED))
		return 0;
	memcpy(buf, LIST_HEAD, sizeof(LIST_HEAD) - 1);
	pos = sizeof(LIST_HEAD) - 1;
	for (i = 0; i < nkeys && i < CMD_MAX_KEYS; i++) {
		/* Room for what must follow: the end of the list, or the longer end of a list cut
		 * at the next key, should that one not fit. */
		size_t tail = (i + 1 == nkeys ? sizeof(LIST_END) : sizeof(LIST_TRUNCATED)) - 1;

		n = cmd_key_json(&ring->keys[i], item, sizeof(item));
		if (n == 0 || pos + (i > 0) + n + tail + 1 > len) {
			all = false;
			break;
		}
		if (i > 0)
			buf[pos++] = ',';
		memcpy(buf + pos, item, n);
		pos += n;
	}
	if (all) {
		memcpy(buf + pos, LIST_END, sizeof(LIST_END));
		pos += sizeof(LIST_END) - 1;
	} else {
		memcpy(buf + pos, LIST_TRUNCATED, sizeof(LIST_TRUNCATED));
		pos += sizeof(LIST_TRUNCATED) - 1;
	}
	if (complete != NULL)
		*complete = all;
	return pos;
}

/* Two keys are the same key when their canonical lines are: the line says all a key is. */
static bool
same_ring(const struct cmd_keyring *a, const struct cmd_keyring *b)
{
	char la[CMD_KEYS_LINE_MAX + 1], lb[CMD_KEYS_LINE_MAX + 1];
	size_t na, nb;

	if (a->nkeys != b->nkeys)
		return false;
	for (size_t i = 0; i < a->nkeys; i++) {
		na = cmd_key_format(&a->keys[i], la, sizeof(la));
		nb = cmd_key_format(&b->keys[i], lb, sizeof(lb));
		if (na == 0 || na != nb || memcmp(la, lb, na) != 0)
			return false;
	}
	return true;
}

/*
 * SIGNER (the key that verified the message, as loaded) as the file F has it now: the same kid
 * with the same public key, still admin, valid at NOW. A key replaced by hand under the same
 * kid, and not reloaded yet, is another key: its old holder is no longer in the file.
 */
static enum cmd_reason
signer_in_file(const char *path, const struct authkeys_file *f, const struct cmd_key *signer,
               struct cmd_now now, char *msg, size_t msglen)
{
	const struct cmd_key *k;
	enum cmd_reason r;

	k = cmd_keyring_find(&f->ring, signer->kid, strnlen(signer->kid, sizeof(signer->kid)));
	if (k == NULL || memcmp(k->pub, signer->pub, sizeof(k->pub)) != 0) {
		snprintf(msg, msglen, "%s: %s is %s there now (edited since it was loaded?)", path,
		         signer->kid, k == NULL ? "not" : "another public key");
		return CMD_UNKNOWN_KEY;
	}
	if (!k->admin) {
		snprintf(msg, msglen,
		         "%s: %s is not an admin key there now (edited since it was "
		         "loaded?)",
		         path, signer->kid);
		return CMD_NOT_ADMIN;
	}
	r = cmd_key_valid_at(k, now);
	if (r != CMD_OK)
		snprintf(msg, msglen,
		         "%s: %s is not valid now there (%s; edited since it was "
		         "loaded?)",
		         path, signer->kid, cmd_reason_name(r));
	return r;
}

enum cmd_reason
keyfile_signer_check(const char *path, const struct cmd_key *signer, struct cmd_now now, char *msg,
                     size_t msglen)
{
	struct authkeys_file *f;
	enum cmd_reason r;
	char err[1024];

	msg[0] = '\0';
	f = malloc(sizeof(*f));
	if (f == NULL) {
		snprintf(msg, msglen, "%s: out of memory to read it", path);
		return CMD_KEYS_WRITE_FAILED;
	}
	if (authkeys_read(path, f, err, sizeof(err)) != 0) {
		snprintf(msg, msglen, "%s", err);
		r = CMD_KEYS_WRITE_FAILED;
	} else {
		r = signer_in_file(path, f, signer, now, msg, msglen);
	}
	free(f);
	return r;
}

/* What one change works in (190 KiB), allocated by keyfile_change() for its attempts. */
struct change_work {
	struct authkeys_file f;
	struct cmd_keyring want, got;
	char text[AUTHKEYS_MAX_SIZE + 1], list[CHANNEL_KEYS_MAX];
};

/*
 * One attempt at keyfile_change(): CMD_KEYS_BUSY when the file changed between its reading and
 * the rename (atomicfile.h's expect), and then nothing was changed.
 */
static enum cmd_reason
change_once(struct change_work *w, const char *path, const struct cmd_key *signer,
            struct cmd_now now, const struct cmd_admin *op, const struct keyfile_hooks *hooks,
            struct cmd_keyring *out_ring, char *msg, size_t msglen)
{
	struct authkeys_file *f = &w->f;
	struct cmd_keyring *want = &w->want, *got = &w->got;
	char *text = w->text, *list = w->list;
	struct atomicfile_opts opts;
	char err[1024], perr[256] = "";
	enum cmd_reason r;
	bool complete;
	size_t len;
	int rc, e;

	msg[0] = '\0';
	/* The file as it is now: a hand edit since the last reload counts, and is kept. */
	if (authkeys_read(path, f, err, sizeof(err)) != 0) {
		snprintf(msg, msglen, "%s", err);
		return CMD_KEYS_WRITE_FAILED;
	}
	r = signer_in_file(path, f, signer, now, msg, msglen);
	if (r != CMD_OK)
		return r;
	r = cmd_keyring_apply(&f->ring, op, want);
	if (r != CMD_OK) {
		snprintf(msg, msglen, "%s %s: %s", cmd_admin_op_name(op->op), op->target,
		         cmd_reason_name(r));
		return r;
	}
	if (op->op == CMD_ADMIN_ADD) {
		/* authorized_keys takes no key that garaged would refuse to load at the next start.
		 */
		if (!sig_sodium_pubkey_valid(op->key.pub)) {
			snprintf(
			    msg, msglen,
			    "add %s: its key is not a usable Ed25519 public key (a small-order "
			    "or non-canonical point)",
			    op->target);
			return CMD_MALFORMED;
		}
		(void)keyfile_list_json(want, list, sizeof(w->list), &complete);
		if (!complete) {
			snprintf(msg, msglen,
			         "add %s: the key list would be over %u bytes, more than P/D/keys "
			         "carries",
			         op->target, CHANNEL_KEYS_MAX);
			return CMD_TOO_MANY_KEYS;
		}
	}
	if (keyfile_edit(f->text, f->len, &f->ring, op, text, sizeof(w->text), &len) != 0 ||
	    len > AUTHKEYS_MAX_SIZE) {
		snprintf(msg, msglen, "%s: the new text would be over %u bytes", path,
		         AUTHKEYS_MAX_SIZE);
		return CMD_KEYS_WRITE_FAILED;
	}
	/* What is written is what was meant: the new text read back is the keyring the change
	 * makes, key for key, before the file is touched. */
	if (cmd_keys_parse(got, text, len, perr, sizeof(perr)) != 0 || !same_ring(got, want)) {
		snprintf(msg, msglen, "%s: the new text does not read back as the change (%s)",
		         path, perr[0] != '\0' ? perr : "other keys");
		return CMD_KEYS_WRITE_FAILED;
	}
	memset(&opts, 0, sizeof(opts));
	opts.mode = f->st.st_mode & 07777;
	opts.set_owner = true;
	opts.uid = f->st.st_uid;
	opts.gid = f->st.st_gid;
	opts.expect = &f->st;
	if (hooks != NULL) {
		opts.pause = hooks->pause;
		opts.arg = hooks->arg;
	}
	rc = atomicfile_replace(path, text, len, &opts, err, sizeof(err));
	if (rc < 0) {
		e = errno;
		if (e == ESTALE) {
			snprintf(msg, msglen, "%s", err);
			return CMD_KEYS_BUSY;
		}
		if (e == EACCES || e == EPERM || e == EROFS) {
			snprintf(
			    msg, msglen,
			    "%s; garaged may not replace %s with its mode and owner: a file it "
			    "manages must be its own, in a directory it may write (authorized_keys "
			    "= /var/lib/garaged/authorized_keys, docs/setup.md)",
			    err, path);
			return CMD_KEYS_READ_ONLY;
		}
		snprintf(msg, msglen, "%s", err);
		return CMD_KEYS_WRITE_FAILED;
	}
	if (rc > 0)
		snprintf(msg, msglen, "%s; the change is made, but a power cut soon could undo it",
		         err);
	*out_ring = *got;
	return CMD_OK;
}

enum cmd_reason
keyfile_change(const char *path, const struct cmd_key *signer, struct cmd_now now,
               const struct cmd_admin *op, const struct keyfile_hooks *hooks,
               struct cmd_keyring *out_ring, char *msg, size_t msglen)
{
	enum cmd_reason r = CMD_KEYS_BUSY;
	struct change_work *w;

	msg[0] = '\0';
	if (!op->has_op || (op->op != CMD_ADMIN_ADD && op->op != CMD_ADMIN_REMOVE)) {
		snprintf(msg, msglen, "%s changes no key", cmd_admin_op_name(op->op));
		return CMD_NOT_SUPPORTED;
	}
	w = malloc(sizeof(*w));
	if (w == NULL) {
		snprintf(msg, msglen, "%s: out of memory to change it", path);
		return CMD_KEYS_WRITE_FAILED;
	}
	/*
	 * A file that changed under the change (the owner's hand edit, or its replacement) is
	 * read again and the change judged and made anew from it, so that the edit is kept, not
	 * undone by the rename. A file that keeps changing is left to whoever changes it.
	 */
	for (unsigned int i = 0; i < KEYFILE_TRIES && r == CMD_KEYS_BUSY; i++)
		r = change_once(w, path, signer, now, op, hooks, out_ring, msg, msglen);
	free(w);
	if (r == CMD_KEYS_BUSY)
		snprintf(msg, msglen,
		         "%s changed each of the %u times the change was made; nothing is changed "
		         "(send it again once the file is left alone)",
		         path, KEYFILE_TRIES);
	return r;
}
