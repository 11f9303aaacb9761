/*
 * ctl_keys: see ctl_keys.h. OpenSSL does the cryptography and the PEM encoding; the core does
 * the signed text and base64, so that garagectl signs exactly the bytes garaged verifies.
 */
#include "ctl_keys.h"
#include "ctl_util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "base64.h"
#include "names.h"

/* A PEM Ed25519 key is about 120 bytes; anything much larger is not one. */
#define KEY_FILE_MAX 16384
/* Nonce bytes: within SPEC's 8 to 32, enough that two commands never share one. */
#define NONCE_BYTES 16
/* A public key in standard base64: 44 characters and a NUL. */
#define PUB_TEXT_MAX 45
/* A validity given as a duration: a hundred years at most. */
#define TIME_DURATION_MAX (UINT64_C(100) * 366U * 24U * 3600U)
/* 32 zero bytes, for the key line an invitation's limits are parsed from. */
#define ZERO_PUB "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

int
ctl_key_public(EVP_PKEY *key, uint8_t pub[CMD_PUBKEY_LEN])
{
	size_t n = CMD_PUBKEY_LEN;

	return EVP_PKEY_get_raw_public_key(key, pub, &n) == 1 && n == CMD_PUBKEY_LEN ? 0 : -1;
}

/*
 * KEY's public key as authorized_keys writes it (standard base64, padded) into pub64. Returns
 * 0, or -1 with the reason in err.
 */
static int
public_text(EVP_PKEY *key, char pub64[PUB_TEXT_MAX], char *err, size_t errlen)
{
	uint8_t pub[CMD_PUBKEY_LEN];
	char why[256];

	if (ctl_key_public(key, pub) != 0 ||
	    base64_encode(BASE64_STANDARD_PADDED, pub, sizeof(pub), pub64, PUB_TEXT_MAX) == 0) {
		snprintf(err, errlen, "cannot read the new public key%s",
		         ctl_ssl_reason(why, sizeof(why)));
		return -1;
	}
	return 0;
}

int
ctl_keygen(const char *kid, const char *path, bool force, char *line, size_t linelen, char *err,
           size_t errlen)
{
	EVP_PKEY *key;
	BIO *bio = NULL;
	char pub64[PUB_TEXT_MAX], why[256];
	char *pem;
	long pemlen;
	int ret = -1;

	key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (key == NULL) {
		snprintf(err, errlen, "cannot make an Ed25519 key%s",
		         ctl_ssl_reason(why, sizeof(why)));
		return -1;
	}
	if (public_text(key, pub64, err, errlen) != 0)
		goto out;
	if ((size_t)snprintf(line, linelen, "ed25519 %s %s", pub64, kid) >= linelen) {
		snprintf(err, errlen, "internal error: the authorized_keys line is too long");
		goto out;
	}
	/* PKCS#8 "BEGIN PRIVATE KEY", unencrypted: what openssl genpkey writes. */
	bio = BIO_new(BIO_s_secmem());
	if (bio == NULL || PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) != 1 ||
	    (pemlen = BIO_get_mem_data(bio, &pem)) <= 0) {
		snprintf(err, errlen, "cannot encode the private key%s",
		         ctl_ssl_reason(why, sizeof(why)));
		goto out;
	}
	ret = ctl_write_key(path, pem, (size_t)pemlen, force,
	                    "keygen never overwrites a key (give --force to replace it, or -o with "
	                    "another file)",
	                    err, errlen);
out:
	BIO_free(bio); /* a secure-memory BIO: cleared when freed */
	EVP_PKEY_free(key);
	return ret;
}

EVP_PKEY *
ctl_key_load(const char *path, char *err, size_t errlen)
{
	struct stat st;
	EVP_PKEY *key = NULL;
	BIO *bio = NULL;
	char *buf = NULL, why[256];
	ssize_t n;
	size_t len = 0;
	int fd, e;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		e = errno;
		snprintf(err, errlen, "signing key %s: %s; %s", path, strerror(e),
		         e == ENOENT ? "fix key = in [signing] (or --key), or make one with "
		                       "garagectl keygen"
		                     : "make it readable by you");
		return NULL;
	}
	if (fstat(fd, &st) != 0) {
		snprintf(err, errlen, "signing key %s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "signing key %s is not a regular file; give the key file",
		         path);
		goto out;
	}
	/* Checked before reading: a key others can read must be treated as already leaked. */
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		snprintf(err, errlen,
		         "signing key %s is open to group or others (mode %04o); run chmod 600 %s",
		         path, (unsigned)(st.st_mode & 07777), path);
		goto out;
	}
	buf = OPENSSL_secure_malloc(KEY_FILE_MAX);
	if (buf == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	while (len < KEY_FILE_MAX && (n = read(fd, buf + len, KEY_FILE_MAX - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "signing key %s: %s", path, strerror(errno));
			goto out;
		}
		len += (size_t)n;
	}
	if (len == KEY_FILE_MAX) {
		snprintf(err, errlen, "signing key %s is too large to be a key; give the key file",
		         path);
		goto out;
	}
	bio = BIO_new_mem_buf(buf, (int)len);
	if (bio != NULL)
		key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	if (key == NULL) {
		snprintf(err, errlen,
		         "signing key %s is not a PEM private key%s; give the file that garagectl "
		         "keygen (or openssl genpkey -algorithm ed25519) wrote",
		         path, ctl_ssl_reason(why, sizeof(why)));
	} else if (EVP_PKEY_get_id(key) != EVP_PKEY_ED25519) {
		snprintf(err, errlen,
		         "signing key %s is a %s key, not Ed25519; make one with garagectl keygen",
		         path, EVP_PKEY_get0_type_name(key));
		EVP_PKEY_free(key);
		key = NULL;
	}
out:
	BIO_free(bio);
	if (buf != NULL)
		OPENSSL_secure_clear_free(buf, KEY_FILE_MAX);
	close(fd);
	return key;
}

int
ctl_sign_text(EVP_PKEY *key, const char *text, size_t len, struct ctl_sig *sig, char *err,
              size_t errlen)
{
	size_t siglen = sizeof(sig->raw);
	char why[256];
	EVP_MD_CTX *md;
	int ok;

	/* Ed25519 hashes the message itself: no digest is named (NULL), one shot. */
	md = EVP_MD_CTX_new();
	ok = md != NULL && EVP_DigestSignInit(md, NULL, NULL, NULL, key) == 1 &&
	     EVP_DigestSign(md, sig->raw, &siglen, (const unsigned char *)text, len) == 1 &&
	     siglen == sizeof(sig->raw);
	EVP_MD_CTX_free(md);
	if (!ok || base64_encode(BASE64_URL_UNPADDED, sig->raw, siglen, sig->text,
	                         sizeof(sig->text)) == 0) {
		snprintf(err, errlen, "cannot sign%s", ctl_ssl_reason(why, sizeof(why)));
		return -1;
	}
	return 0;
}

/*
 * What every signed message starts with: *out empty, a fresh random nonce (base64url) and
 * the time now. Returns 0, or -1 with the reason in err.
 */
static int
signed_begin(struct ctl_signed *out, char *err, size_t errlen)
{
	uint8_t nonce[NONCE_BYTES];
	char why[256];

	memset(out, 0, sizeof(*out));
	if (RAND_bytes(nonce, sizeof(nonce)) != 1 ||
	    base64_encode(BASE64_URL_UNPADDED, nonce, sizeof(nonce), out->nonce,
	                  sizeof(out->nonce)) == 0) {
		snprintf(err, errlen, "cannot make a nonce%s", ctl_ssl_reason(why, sizeof(why)));
		return -1;
	}
	out->ts = (int64_t)time(NULL);
	return 0;
}

int
ctl_sign_command(EVP_PKEY *key, const char *device, const char *door, enum cmd_action action,
                 const char *kid, struct ctl_signed *out, char *err, size_t errlen)
{
	char text[CMD_SIGNED_TEXT_MAX];
	struct ctl_sig sig;
	size_t textlen;
	int n;

	if (signed_begin(out, err, errlen) != 0)
		return -1;
	textlen =
	    cmd_signed_text(text, sizeof(text), device, door, action, out->ts, out->nonce, kid);
	if (textlen == 0) {
		snprintf(err, errlen, "internal error: the signed text does not fit");
		return -1;
	}
	if (ctl_sign_text(key, text, textlen, &sig, err, errlen) != 0)
		return -1;
	/*
	 * Written with snprintf rather than a JSON library: every field is from a charset that
	 * needs no escaping (validated names and key id, base64url, digits), and the field order
	 * is the one SPEC shows.
	 */
	n = snprintf(out->payload, sizeof(out->payload),
	             "{\"v\":1,\"door\":\"%s\",\"action\":\"%s\",\"ts\":%" PRId64
	             ",\"nonce\":\"%s\",\"kid\":\"%s\",\"sig\":\"%s\"}",
	             door, cmd_action_name(action), out->ts, out->nonce, kid, sig.text);
	if (n < 0 || (size_t)n > CMD_MAX_PAYLOAD) {
		snprintf(err, errlen, "internal error: the command is larger than %u bytes",
		         CMD_MAX_PAYLOAD);
		return -1;
	}
	out->len = (size_t)n;
	return 0;
}

int
ctl_sign_admin(EVP_PKEY *key, const char *device, enum cmd_admin_op op, const char *arg,
               const char *kid, struct ctl_signed *out, char *err, size_t errlen)
{
	char text[CMD_ADMIN_SIGNED_TEXT_MAX];
	struct ctl_sig sig;
	size_t textlen;
	int n;

	if (signed_begin(out, err, errlen) != 0)
		return -1;
	textlen =
	    cmd_admin_signed_text(text, sizeof(text), device, op, arg, out->ts, out->nonce, kid);
	if (textlen == 0) {
		snprintf(err, errlen, "the admin message would be larger than %u bytes",
		         CMD_ADMIN_MAX_PAYLOAD);
		return -1;
	}
	if (ctl_sign_text(key, text, textlen, &sig, err, errlen) != 0)
		return -1;
	/* As a command's: the arg is a key line or a kid, printable ASCII without '"' or '\\'
	 * (the caller checked it with the core's parser), so nothing needs escaping. */
	n = snprintf(out->payload, sizeof(out->payload),
	             "{\"v\":1,\"op\":\"%s\",\"arg\":\"%s\",\"ts\":%" PRId64
	             ",\"nonce\":\"%s\",\"kid\":\"%s\",\"sig\":\"%s\"}",
	             cmd_admin_op_name(op), arg, out->ts, out->nonce, kid, sig.text);
	if (n < 0 || (size_t)n > CMD_ADMIN_MAX_PAYLOAD) {
		snprintf(err, errlen, "the admin message would be larger than %u bytes",
		         CMD_ADMIN_MAX_PAYLOAD);
		return -1;
	}
	out->len = (size_t)n;
	return 0;
}

int
ctl_sign_enroll(EVP_PKEY *key, EVP_PKEY *one, const struct cmd_invite *inv, const char *inv_b64,
                struct ctl_signed *out, char *err, size_t errlen)
{
	char text[CMD_ENROLL_SIGNED_TEXT_MAX], pub64[PUB_TEXT_MAX];
	struct ctl_sig proof, sig;
	size_t textlen;
	int n;

	if (signed_begin(out, err, errlen) != 0)
		return -1;
	if (public_text(key, pub64, err, errlen) != 0)
		return -1;
	textlen = cmd_enroll_signed_text(text, sizeof(text), inv->device, inv->id, inv->key.kid,
	                                 pub64, out->ts, out->nonce);
	if (textlen == 0) {
		snprintf(err, errlen, "internal error: the signed text does not fit");
		return -1;
	}
	/* One text, two signatures: the proof with the seed, the possession with the new key. */
	if (ctl_sign_text(one, text, textlen, &proof, err, errlen) != 0 ||
	    ctl_sign_text(key, text, textlen, &sig, err, errlen) != 0)
		return -1;
	/* Every field is from a charset that needs no escaping, as for a command. */
	n = snprintf(out->payload, sizeof(out->payload),
	             "{\"v\":1,\"inv\":\"%s\",\"pub\":\"%s\",\"ts\":%" PRId64
	             ",\"nonce\":\"%s\",\"proof\":\"%s\",\"sig\":\"%s\"}",
	             inv_b64, pub64, out->ts, out->nonce, proof.text, sig.text);
	if (n < 0 || (size_t)n > CMD_ENROLL_MAX_PAYLOAD) {
		snprintf(err, errlen, "internal error: the request is larger than %u bytes",
		         CMD_ENROLL_MAX_PAYLOAD);
		return -1;
	}
	out->len = (size_t)n;
	return 0;
}

int
ctl_duration_parse(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t n = 0, unit;
	size_t i;

	if (s == NULL || s[0] < '1' || s[0] > '9')
		return -1;
	for (i = 0; s[i] >= '0' && s[i] <= '9'; i++) {
		if (i == 12)
			return -1;
		n = n * 10U + (uint64_t)(s[i] - '0');
	}
	switch (s[i]) {
	case 's':
		unit = 1;
		break;
	case 'm':
		unit = 60;
		break;
	case 'h':
		unit = 3600;
		break;
	case 'd':
		unit = 86400;
		break;
	default:
		return -1;
	}
	if (s[i + 1] != '\0' || n > max / unit)
		return -1;
	*out = n * unit;
	return 0;
}

int
ctl_time_parse(const char *s, int64_t now, int64_t *out)
{
	uint64_t d;

	if (s == NULL)
		return -1;
	if (cmd_utc_parse(s, strlen(s), out))
		return 0;
	if (ctl_duration_parse(s, TIME_DURATION_MAX, &d) != 0)
		return -1;
	*out = now + (int64_t)d;
	return 0;
}

/*
 * An option's value that stays one word on the key line: not empty, and only printable ASCII
 * other than the space (no blank, newline or control character of any kind), so that it can
 * never end one option and start another.
 */
static bool
one_word(const char *s)
{
	if (s == NULL || *s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

static bool
door_item(const char *s, size_t n)
{
	return cmd_name_valid(s, n);
}

static bool
action_item(const char *s, size_t n)
{
	return cmd_action_parse(s, n, NULL);
}

static bool
day_item(const char *s, size_t n)
{
	unsigned int wday;

	return cmd_day_parse(s, n, &wday);
}

/*
 * Whether S is a comma-separated list of at least one item that ITEM takes; when not, the
 * first item it does not take (perhaps empty) is *bad[0..*badlen).
 */
static bool
list_valid(const char *s, bool (*item)(const char *, size_t), const char **bad, size_t *badlen)
{
	const char *comma;
	size_t n;

	for (;;) {
		comma = strchr(s, ',');
		n = comma != NULL ? (size_t)(comma - s) : strlen(s);
		if (!item(s, n)) {
			*bad = s;
			*badlen = n;
			return false;
		}
		if (comma == NULL)
			return true;
		s = comma + 1;
	}
}

/*
 * Each list option's value on its own, before any line is built from them (a value is never
 * trusted to the parse of the whole line, where it could pass as options of its own). Returns
 * 0, or -1 with what is wrong, naming the option, in err.
 */
static int
check_lists(const char *const values[4], char *err, size_t errlen)
{
	static const char *const option[4] = {"actions", "doors", "days", "hours"};
	static const char *const example[4] = {"open,close", "main,side", "mon,tue,wed",
	                                       "07:00-10:00"};
	static const char *const noun[3] = {"action", "door", "day"};
	static const char *const hint[3] = {
	    "use open, close, stop or toggle",
	    "a door is named by 1 to 32 of a-z, 0-9, '_' and '-' (or give all)",
	    "use mon, tue, wed, thu, fri, sat or sun"};
	bool (*const item[3])(const char *, size_t) = {action_item, door_item, day_item};
	uint16_t from, to;
	const char *bad;
	size_t badlen;

	for (size_t i = 0; i < 4; i++) {
		if (values[i] == NULL)
			continue;
		if (!one_word(values[i])) {
			snprintf(err, errlen, "--%s takes one list without spaces, such as %s",
			         option[i], example[i]);
			return -1;
		}
		if (i == 1 && strcmp(values[i], "all") == 0)
			continue;
		if (i == 3) {
			if (!cmd_hours_parse(values[i], strlen(values[i]), &from, &to)) {
				snprintf(
				    err, errlen,
				    "--hours takes one span of local time as hours= does, such "
				    "as 07:00-10:00 (from and to differ), not \"%s\"",
				    values[i]);
				return -1;
			}
			continue;
		}
		if (!list_valid(values[i], item[i], &bad, &badlen)) {
			snprintf(err, errlen, "unknown %s \"%.*s\" in --%s: %s", noun[i],
			         (int)badlen, bad, option[i], hint[i]);
			return -1;
		}
	}
	return 0;
}

int
ctl_key_from_options(const struct ctl_key_opts *o, int64_t now, struct cmd_key *key, char *err,
                     size_t errlen)
{
	static const char *const list_option[4] = {"actions", "doors", "days", "hours"};
	static const char *const when_option[2] = {"not-before", "not-after"};
	static const char *const when_word[2] = {"not_before", "not_after"};
	const char *values[4] = {o->actions, o->doors, o->days, o->hours};
	const char *when[2] = {o->not_before, o->not_after};
	const char *prefix = o->time_option != NULL ? o->time_option : "--";
	char line[CMD_KEYS_LINE_MAX + 1], why[256], utc[CMD_UTC_TEXT_MAX];
	size_t len;
	int64_t t;

	if (o->kid == NULL || !names_kid_valid(o->kid)) {
		snprintf(err, errlen,
		         "--kid must be the new key's id: 1 to 64 characters of A-Z, a-z, 0-9 and "
		         "'._@-'");
		return -1;
	}
	if (o->pub != NULL && !one_word(o->pub)) {
		snprintf(err, errlen, "--pub takes the public key as garagectl keygen prints it");
		return -1;
	}
	if (check_lists(values, err, errlen) != 0)
		return -1;
	for (size_t i = 0; i < 2; i++) {
		if (when[i] != NULL && !one_word(when[i])) {
			snprintf(err, errlen,
			         "%s%s takes a UTC time such as 2026-12-31T23:59:59Z, or a time "
			         "from now such as 30d, without spaces",
			         prefix, when_option[i]);
			return -1;
		}
	}
	/* An invitation's key has no public key yet: 32 zero bytes stand in for it. */
	len = (size_t)snprintf(line, sizeof(line), "ed25519 %s %s",
	                       o->pub != NULL ? o->pub : ZERO_PUB, o->kid);
	for (size_t i = 0; i < 4 && len < sizeof(line); i++) {
		if (values[i] == NULL || (i == 1 && strcmp(values[i], "all") == 0))
			continue;
		len += (size_t)snprintf(line + len, sizeof(line) - len, " %s=%s", list_option[i],
		                        values[i]);
	}
	for (size_t i = 0; i < 2 && len < sizeof(line); i++) {
		if (when[i] == NULL)
			continue;
		if (ctl_time_parse(when[i], now, &t) != 0 ||
		    cmd_utc_format(t, utc, sizeof(utc)) == 0) {
			snprintf(err, errlen,
			         "%s%s takes a UTC time such as 2026-12-31T23:59:59Z, or a time "
			         "from now "
			         "such as 30d, not '%s'",
			         prefix, when_option[i], when[i]);
			return -1;
		}
		len +=
		    (size_t)snprintf(line + len, sizeof(line) - len, " %s=%s", when_word[i], utc);
	}
	if (o->admin && len < sizeof(line))
		len += (size_t)snprintf(line + len, sizeof(line) - len, " admin");
	if (len >= sizeof(line)) {
		snprintf(err, errlen, "the new key's line would be longer than %u bytes",
		         CMD_KEYS_LINE_MAX);
		return -1;
	}
	if (cmd_key_parse(key, line, len, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "the new key is not one authorized_keys takes: %s", why);
		return -1;
	}
	if (o->pub == NULL)
		memset(key->pub, 0, sizeof(key->pub));
	return 0;
}
