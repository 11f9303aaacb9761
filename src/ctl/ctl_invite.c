/*
 * ctl_invite: see ctl_invite.h.
 *
 * The one-time seed is the invitation's secret: it lives in this process only as long as it
 * takes to print it (invite) or to sign with it (enroll), and is wiped afterwards; a PNG of
 * it is written mode 0600. The inviter never learns the invitee's private key and the broker
 * never sees either secret. The invitation's permissions are checked against the inviter's
 * own key by the device alone (over_permissive): garagectl cannot know that key's limits for
 * sure (the file on the device is the truth, and may have changed), so it does not guess.
 */
#include "ctl_invite.h"

#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <png.h>

#include "base64.h"
#include "ctl_command.h"
#include "ctl_keys.h"
#include "ctl_util.h"
#include "names.h"

#define SEED_LEN      32U
#define SEED_TEXT_LEN 43U
/* Quiet zones in modules: the standard's 4 in a PNG; 2 on a terminal, whose rows are scarce. */
#define QR_QUIET_TERMINAL 2
#define QR_QUIET_PNG      4
#define PNG_SCALE         8

/* ---- the parts without I/O ---------------------------------------------------------------- */

size_t
ctl_invite_line(const struct cmd_invite *inv, const uint8_t seed[32], const char *url, char *buf,
                size_t buflen)
{
	char json[CMD_INVITE_MAX], b64[CTL_INVITE_B64_MAX + 1], seed64[SEED_TEXT_LEN + 1];
	size_t n = cmd_invite_json(inv, json, sizeof(json));
	int r;

	if (n == 0 ||
	    base64_encode(BASE64_URL_UNPADDED, (const uint8_t *)json, n, b64, sizeof(b64)) == 0 ||
	    base64_encode(BASE64_URL_UNPADDED, seed, SEED_LEN, seed64, sizeof(seed64)) == 0)
		return 0;
	r = snprintf(buf, buflen, "%s%s%s.%s", url != NULL ? url : "", url != NULL ? "#" : "", b64,
	             seed64);
	OPENSSL_cleanse(seed64, sizeof(seed64));
	if (r < 0 || (size_t)r >= buflen) {
		OPENSSL_cleanse(buf, buflen);
		return 0;
	}
	return (size_t)r;
}

/* Whether SEED is the secret of the public key IK. */
static bool
seed_matches(const uint8_t seed[SEED_LEN], const uint8_t ik[CMD_PUBKEY_LEN])
{
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, SEED_LEN);
	uint8_t pub[CMD_PUBKEY_LEN];
	bool ok = k != NULL && ctl_key_public(k, pub) == 0 && memcmp(pub, ik, sizeof(pub)) == 0;

	EVP_PKEY_free(k);
	return ok;
}

int
ctl_invite_line_parse(const char *text, struct cmd_invite *inv, char *b64, uint8_t seed[32],
                      char *err, size_t errlen)
{
	static const char *const whole =
	    "; give the whole line garagectl invite printed (or the link it is in)";
	char buf[CTL_INVITE_LINE_MAX + 1], json[CMD_INVITE_MAX];
	char *start, *end, *dot;
	size_t len;
	int n;

	memset(inv, 0, sizeof(*inv));
	len = text != NULL ? strlen(text) : 0;
	if (len >= sizeof(buf)) {
		snprintf(err, errlen, "the invitation is longer than any garagectl makes%s", whole);
		return -1;
	}
	memcpy(buf, text != NULL ? text : "", len + 1);
	start = buf;
	while (*start == ' ' || *start == '\t' || *start == '\n' || *start == '\r')
		start++;
	end = start + strlen(start);
	while (end > start &&
	       (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r'))
		*--end = '\0';
	/* A link's fragment: everything after its first '#'. */
	if (strchr(start, '#') != NULL)
		start = strchr(start, '#') + 1;
	dot = strchr(start, '.');
	/* A web app link may carry a third part, the broker's login (INVITATION.SECRET.LOGIN):
	 * it is the browser's, garagectl has its own [mqtt]. */
	if (dot != NULL && strchr(dot + 1, '.') != NULL)
		*strchr(dot + 1, '.') = '\0';
	if (dot == NULL) {
		snprintf(err, errlen, "not an invitation (INVITATION.SECRET)%s", whole);
		OPENSSL_cleanse(buf, sizeof(buf));
		return -1;
	}
	*dot = '\0';
	n = strlen(start) <= CTL_INVITE_B64_MAX
	        ? base64_decode(BASE64_URL_UNPADDED, start, strlen(start), (uint8_t *)json,
	                        sizeof(json))
	        : -1;
	if (n < 0 || !cmd_invite_parse(inv, json, (size_t)n)) {
		snprintf(err, errlen, "the part before the '.' is not an invitation%s", whole);
		OPENSSL_cleanse(buf, sizeof(buf));
		return -1;
	}
	if (strlen(dot + 1) != SEED_TEXT_LEN ||
	    base64_decode(BASE64_URL_UNPADDED, dot + 1, SEED_TEXT_LEN, seed, SEED_LEN) !=
	        (int)SEED_LEN ||
	    !seed_matches(seed, inv->ik)) {
		snprintf(err, errlen, "the part after the '.' is not this invitation's secret%s",
		         whole);
		OPENSSL_cleanse(buf, sizeof(buf));
		OPENSSL_cleanse(seed, SEED_LEN);
		return -1;
	}
	memcpy(b64, start, strlen(start) + 1);
	OPENSSL_cleanse(buf, sizeof(buf));
	return 0;
}

QRcode *
ctl_qr_encode(const char *text)
{
	/* L: the code is read off a screen or a print, not a worn label; it keeps it small. */
	return QRcode_encodeString(text, 0, QR_ECLEVEL_L, QR_MODE_8, 1);
}

/* Module (x, y) of QR, dark or not; outside it is the quiet zone, light. */
static bool
dark(const QRcode *qr, int x, int y)
{
	return x >= 0 && y >= 0 && x < qr->width && y < qr->width &&
	       (qr->data[(size_t)y * (size_t)qr->width + (size_t)x] & 1) != 0;
}

void
ctl_qr_draw(FILE *out, const QRcode *qr)
{
	int q = QR_QUIET_TERMINAL, size = qr->width + 2 * q;

	for (int y = 0; y < size; y += 2) {
		/* Black on white, set on every line: a dark terminal would invert the code. */
		fputs("\033[30;47m", out);
		for (int x = 0; x < size; x++) {
			bool top = dark(qr, x - q, y - q), bottom = dark(qr, x - q, y + 1 - q);

			fputs(top && bottom ? "\xe2\x96\x88" /* U+2588 full block */
			      : top         ? "\xe2\x96\x80" /* U+2580 upper half */
			      : bottom      ? "\xe2\x96\x84" /* U+2584 lower half */
			                    : " ",
			      out);
		}
		fputs("\033[0m\n", out);
	}
	fflush(out);
}

/* libpng writes into this growing buffer. */
struct membuf {
	unsigned char *p;
	size_t len, cap;
};

static void
png_to_memory(png_structp png, png_bytep data, png_size_t n)
{
	struct membuf *m = png_get_io_ptr(png);
	unsigned char *p;

	if (m->len + n > m->cap) {
		size_t cap = m->cap * 2 > m->len + n ? m->cap * 2 : m->len + n + 4096;

		p = realloc(m->p, cap);
		if (p == NULL)
			png_error(png, "out of memory");
		m->p = p;
		m->cap = cap;
	}
	memcpy(m->p + m->len, data, n);
	m->len += n;
}

static void
png_flush_nothing(png_structp png)
{
	(void)png;
}

int
ctl_qr_png(const QRcode *qr, unsigned char **out, size_t *len)
{
	png_uint_32 size = (png_uint_32)(qr->width + 2 * QR_QUIET_PNG) * PNG_SCALE;
	/* Heap, not automatic: a longjmp from libpng leaves automatic objects changed since
	 * setjmp() indeterminate. */
	struct membuf *m = calloc(1, sizeof(*m));
	png_bytep row = malloc(size);
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	png_infop info = png != NULL ? png_create_info_struct(png) : NULL;

	if (m == NULL || row == NULL || png == NULL || info == NULL || setjmp(png_jmpbuf(png))) {
		png_destroy_write_struct(png != NULL ? &png : NULL, info != NULL ? &info : NULL);
		free(row);
		if (m != NULL)
			free(m->p);
		free(m);
		return -1;
	}
	png_set_write_fn(png, m, png_to_memory, png_flush_nothing);
	png_set_IHDR(png, info, size, size, 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
	             PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	for (png_uint_32 y = 0; y < size; y++) {
		int my = (int)(y / PNG_SCALE) - QR_QUIET_PNG;

		for (png_uint_32 x = 0; x < size; x++)
			row[x] = dark(qr, (int)(x / PNG_SCALE) - QR_QUIET_PNG, my) ? 0 : 255;
		png_write_row(png, row);
	}
	png_write_end(png, NULL);
	png_destroy_write_struct(&png, &info);
	free(row);
	*out = m->p;
	*len = m->len;
	free(m);
	return 0;
}

/* ---- garagectl invite --------------------------------------------------------------------- */

/* --url BASE: printable ASCII, no space, no '#' (the invitation follows the one it adds). */
static bool
url_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > CTL_INVITE_URL_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] <= 0x20 || s[i] >= 0x7f || s[i] == '#')
			return false;
	}
	return true;
}

static const char *
local_time(int64_t t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (localtime_r(&tt, &tm) == NULL || strftime(buf, size, "%Y-%m-%d %H:%M %Z", &tm) == 0)
		snprintf(buf, size, "%" PRId64, t);
	return buf;
}

/*
 * broker-config --web's login file (docs/reference.md, "The web app's invitation URL") in
 * base64url into out: the connection the page needs to reach the broker, so that a phone that
 * never opened the web app can enrol from the link alone. 0, or -1 with the reason printed.
 */
static int
web_login_part(const char *path, char out[CTL_INVITE_LOGIN_B64_MAX + 1])
{
	struct ctl_blob b;
	cJSON *j = NULL, *v;
	char err[512];
	size_t len;
	int r = -1;

	if (ctl_read_file(path, true, &b, err, sizeof(err)) != 0) {
		ctl_failed("--web-login: %s", err);
		return -1;
	}
	len = b.len;
	while (len > 0 && (b.p[len - 1] == '\n' || b.p[len - 1] == '\r'))
		len--;
	if (len > CTL_INVITE_LOGIN_MAX || (j = cJSON_ParseWithLength(b.p, len)) == NULL ||
	    !cJSON_IsObject(j) || !cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(j, "v")) ||
	    v->valuedouble != 1 || !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "user")) ||
	    !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "pass")) ||
	    !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "prefix")))
		ctl_failed("--web-login %s is not the login garagectl broker-config --web wrote "
		           "(web-login: one JSON object with v, user, pass and prefix)",
		           path);
	else if (base64_encode(BASE64_URL_UNPADDED, (const uint8_t *)b.p, len, out,
	                       CTL_INVITE_LOGIN_B64_MAX + 1) == 0)
		ctl_failed("--web-login %s: cannot encode it", path);
	else
		r = 0;
	cJSON_Delete(j);
	ctl_blob_free(&b);
	return r;
}

/* The QR code of LINE, written to PATH as a PNG, mode 0600. 0, or -1 with the reason printed. */
static int
write_png(const char *path, const char *line)
{
	QRcode *qr = ctl_qr_encode(line);
	unsigned char *png = NULL;
	size_t len = 0;
	char err[512];
	int r = -1;

	if (qr == NULL)
		ctl_failed("cannot make the QR code: %s", strerror(errno));
	else if (ctl_qr_png(qr, &png, &len) != 0)
		ctl_failed("cannot make the PNG of the QR code");
	else if (ctl_write_file(path, png, len, 0600, err, sizeof(err)) != 0)
		ctl_failed("%s", err);
	else
		r = 0;
	if (png != NULL)
		OPENSSL_cleanse(png, len);
	free(png);
	QRcode_free(qr);
	return r;
}

int
ctl_invite(const struct ctl_config *cfg, EVP_PKEY *admin, const struct ctl_invite_opts *o)
{
	struct cmd_invite inv;
	uint8_t seed[SEED_LEN], id[CMD_INVITE_ID_LEN];
	char text[CMD_INVITE_MAX], line[CTL_INVITE_LINE_MAX], err[512], why[256], until[64];
	EVP_PKEY *one = NULL;
	struct ctl_sig sig;
	size_t n, seedlen = sizeof(seed);
	int64_t now = (int64_t)time(NULL);
	QRcode *qr;
	int ret = CTL_EXIT_FAILED;

	memset(&inv, 0, sizeof(inv));
	if (o->url != NULL && !url_valid(o->url))
		return ctl_usage_error("--url takes a link of at most %u printable characters "
		                       "without spaces or '#', such as https://example.org/enroll",
		                       CTL_INVITE_URL_MAX);
	if (o->web_login != NULL && o->url == NULL)
		return ctl_usage_error("%s", "--web-login goes with --url: it is the web app's "
		                             "login, for the link");
	if (ctl_key_from_options(&o->key, now, &inv.key, err, sizeof(err)) != 0)
		return ctl_usage_error("%s", err);
	if (inv.key.has_not_after && inv.key.not_after < now)
		return ctl_usage_error("%s", "--key-not-after is in the past: the new key would "
		                             "never open anything");
	snprintf(inv.device, sizeof(inv.device), "%s", cfg->device);
	snprintf(inv.by, sizeof(inv.by), "%s", cfg->kid);
	inv.expires = now + (int64_t)o->expires_s;

	/* The id names the invitation for ever (the device remembers it); the seed is its key. */
	one = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (RAND_bytes(id, sizeof(id)) != 1 ||
	    base64_encode(BASE64_URL_UNPADDED, id, sizeof(id), inv.id, sizeof(inv.id)) == 0 ||
	    one == NULL || EVP_PKEY_get_raw_private_key(one, seed, &seedlen) != 1 ||
	    seedlen != SEED_LEN || ctl_key_public(one, inv.ik) != 0) {
		ctl_failed("cannot make the invitation's one-time key%s",
		           ctl_ssl_reason(why, sizeof(why)));
		goto out;
	}
	n = cmd_invite_signed_text(text, sizeof(text), &inv);
	if (n == 0) {
		ctl_failed("internal error: the invitation's signed text does not fit");
		goto out;
	}
	if (ctl_sign_text(admin, text, n, &sig, err, sizeof(err)) != 0) {
		ctl_failed("the invitation: %s", err);
		goto out;
	}
	memcpy(inv.sig, sig.raw, sizeof(inv.sig));
	if (ctl_invite_line(&inv, seed, o->url, line, sizeof(line)) == 0) {
		ctl_failed("internal error: the invitation does not fit its line");
		goto out;
	}
	if (o->web_login != NULL) {
		char login[CTL_INVITE_LOGIN_B64_MAX + 1];
		size_t used = strlen(line);

		if (web_login_part(o->web_login, login) != 0)
			goto out;
		if ((size_t)snprintf(line + used, sizeof(line) - used, ".%s", login) >=
		    sizeof(line) - used) {
			ctl_failed("internal error: the link does not fit");
			goto out;
		}
	}
	if (o->png != NULL && write_png(o->png, line) != 0)
		goto out;

	/* Standard output gets the line alone, to copy or to pipe; the rest is for the eyes. */
	printf("%s\n", line);
	fflush(stdout);
	if (isatty(STDERR_FILENO) == 1 && (qr = ctl_qr_encode(line)) != NULL) {
		ctl_qr_draw(stderr, qr);
		QRcode_free(qr);
	}
	fprintf(stderr,
	        "garagectl: invitation %s for key %s on device %s, by %s: it enrols one key until "
	        "%s%s%s. Whoever has the line%s can use it: hand it over privately; garagectl "
	        "enroll takes it\n",
	        inv.id, inv.key.kid, inv.device, inv.by,
	        local_time(inv.expires, until, sizeof(until)),
	        o->png != NULL ? "; its QR code is in " : "", o->png != NULL ? o->png : "",
	        o->png != NULL ? " or the code" : "");
	ret = CTL_EXIT_OK;
out:
	OPENSSL_cleanse(seed, sizeof(seed));
	OPENSSL_cleanse(line, sizeof(line));
	EVP_PKEY_free(one);
	return ret;
}

/* ---- garagectl enroll --------------------------------------------------------------------- */

/* What the invitee can do about the device's refusal. */
static const char *
enroll_hint(const char *reason)
{
	static const struct {
		const char *reason, *hint;
	} hints[] = {
	    {"not_supported", "this garaged does not enrol keys yet: it needs an update"},
	    {"invitation_used", "an invitation enrols one key only once: ask for a new one"},
	    {"invitation_expired", "ask for a new invitation"},
	    {"over_permissive", "the invitation grants more than its inviter's own key may: ask "
	                        "for one with fewer --actions or --doors, or an earlier "
	                        "--key-not-after"},
	    {"key_exists", "the device has a key of that id already: ask for an invitation with "
	                   "another --kid"},
	    {"too_many_keys", "the device holds as many keys as it can: one must be removed first"},
	    {"wrong_device", "the invitation is for another device"},
	    {"unknown_key", "its inviter's key is no longer on the device: ask for a new one"},
	    {"not_admin", "its inviter may no longer invite: ask an admin for a new one"},
	    {"bad_invitation",
	     "the invitation was not signed by the key it names: ask for a new one"},
	    {"bad_proof", "the secret after the '.' is not the invitation's: copy the whole line"},
	    {"stale", "check that this computer's clock and the device's agree"},
	    {"future", "check that this computer's clock and the device's agree"},
	    {"replay", "run garagectl enroll again"},
	    {"too_many_invitations",
	     "the device remembers as many live invitations as it can: try again later"},
	};

	for (size_t i = 0; i < sizeof(hints) / sizeof(hints[0]); i++)
		if (strcmp(reason, hints[i].reason) == 0)
			return hints[i].hint;
	return NULL;
}

/* The invitee's key at PATH, made first when there is none; NULL with the reason printed. */
static EVP_PKEY *
invitee_key(const char *path, const char *kid, bool *made)
{
	char err[512], line[CTL_KEY_LINE_MAX];
	struct stat st;
	EVP_PKEY *key;

	*made = false;
	if (lstat(path, &st) != 0 && errno == ENOENT) {
		if (ctl_keygen(kid, path, false, line, sizeof(line), err, sizeof(err)) != 0) {
			ctl_failed("%s", err);
			return NULL;
		}
		*made = true;
	}
	key = ctl_key_load(path, err, sizeof(err));
	if (key == NULL)
		fprintf(stderr, "garagectl: %s\n", err);
	return key;
}

int
ctl_enroll(const struct ctl_config *cfg, const char *text, const char *key_path)
{
	struct cmd_invite inv;
	static char b64[CTL_INVITE_B64_MAX + 1];
	static struct ctl_signed req;
	char path[CONFIG_PATH_MAX], err[512];
	uint8_t seed[SEED_LEN];
	EVP_PKEY *key = NULL, *one = NULL;
	struct ctl_exchange x;
	bool made;
	int ret = CTL_EXIT_FAILED;

	if (ctl_invite_line_parse(text, &inv, b64, seed, err, sizeof(err)) != 0)
		return ctl_usage_error("%s", err);
	if (key_path != NULL)
		snprintf(path, sizeof(path), "%s", key_path);
	else if (cfg->key[0] != '\0')
		snprintf(path, sizeof(path), "%s", cfg->key);
	else
		snprintf(path, sizeof(path), "%s.key", inv.key.kid);
	key = invitee_key(path, inv.key.kid, &made);
	if (key == NULL) {
		OPENSSL_cleanse(seed, sizeof(seed));
		return made ? CTL_EXIT_FAILED : CTL_EXIT_USAGE;
	}
	if (made)
		fprintf(stderr, "garagectl: made a new key for %s in %s (mode 0600)\n", inv.key.kid,
		        path);

	/* The proof is made with the seed, the signature with the new key, over one text. */
	one = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, sizeof(seed));
	OPENSSL_cleanse(seed, sizeof(seed));
	if (one == NULL) {
		ctl_failed("cannot use the invitation's secret%s",
		           ctl_ssl_reason(err, sizeof(err)));
		goto out;
	}
	if (ctl_sign_enroll(key, one, &inv, b64, &req, err, sizeof(err)) != 0) {
		ctl_failed("the enrollment request: %s", err);
		goto out;
	}
	x = (struct ctl_exchange){
	    .device = inv.device,
	    .leaf = "enroll",
	    .msg = &req,
	    .what = "the enrollment request",
	    .refused = "the enrollment",
	    .answer_type = "enroll",
	    .hint = enroll_hint,
	};
	ret = ctl_exchange(&cfg->mqtt, &x);
	if (ret == CTL_EXIT_OK) {
		printf("enrolled: key %s on device %s\n", inv.key.kid, inv.device);
		fflush(stdout);
		fprintf(
		    stderr,
		    "garagectl: to use it, set in [signing] of your ctl.conf: key = %s, kid = %s, "
		    "device = %s\n",
		    path, inv.key.kid, inv.device);
	}
out:
	EVP_PKEY_free(one);
	EVP_PKEY_free(key);
	return ret;
}
