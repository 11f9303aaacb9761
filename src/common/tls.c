/*
 * tls: see tls.h. Everything a connection to the broker trusts is decided here, in one
 * OpenSSL context: libmosquitto is told to use it as given (MOSQ_OPT_SSL_CTX_WITH_DEFAULTS 0),
 * so none of its own settings (its host name check, its CA loading) is left to chance.
 *
 * Verification runs inside the handshake: OpenSSL builds and checks the chain, the host name
 * and the dates (X509_verify_cert), then cert_verify() checks the pins, so that a broker that
 * matches no pin never sees a byte of MQTT. The verify callback and the info callback record
 * what failed as it happens; tls_explain_failure() turns that into one line afterwards.
 *
 * Files are read whole and their format is told by content, not by name: PEM has a
 * "-----BEGIN " line, anything else is tried as DER.
 */
#include "tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* A certificate, chain or key file larger than this is not one: refuse it rather than guess. */
#define TLS_FILE_MAX    (256 * 1024)
#define TLS_REFUSAL_MAX 1536
#define TLS_NAMES_MAX   256
#define TLS_DN_MAX      192
#define TLS_DATE_MAX    32
#define TLS_HEX_MAX     (3 * 32)
#define TLS_FP_MAX      (sizeof("spki-sha256:") + TLS_HEX_MAX)

struct tls {
	SSL_CTX *ctx;
	const struct config *cfg;
	char not_after[TLS_DATE_MAX]; /* of the client certificate */
	/* The broker the context checks now (tls_set_broker()): one of cfg's hosts. */
	char host[CONFIG_HOST_MAX + 1];
	uint16_t port;

	/* What the current connection attempt recorded; see tls_handshake_begin(). */
	enum tls_check check;
	char refusal[TLS_REFUSAL_MAX];
	bool started, done;    /* the handshake started / completed */
	unsigned long ssl_err; /* the first OpenSSL error of the failed handshake */
	int alert;             /* the fatal alert the broker sent, or -1 */
	const struct config_pin *matched;
	char peer_sha256[TLS_FP_MAX];
};

static const char *const check_names[] = {
    [TLS_CHECK_NONE] = "no",
    [TLS_CHECK_CA] = "CA",
    [TLS_CHECK_HOST] = "host name",
    [TLS_CHECK_EXPIRY] = "expiry",
    [TLS_CHECK_PIN] = "pin",
    [TLS_CHECK_CERTIFICATE] = "certificate",
    [TLS_CHECK_PROTOCOL] = "protocol version",
    [TLS_CHECK_CLIENT] = "client certificate",
    [TLS_CHECK_OTHER] = "TLS",
};

/* The SHA-1 and SHA-256 forms a pin may take (config.h). */
struct digests {
	unsigned char cert256[32];
	unsigned char spki256[32];
	unsigned char cert1[20];
};

static void refuse(struct tls *t, enum tls_check check, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records the first failure of the attempt only: later ones are its consequences. */
static void
refuse(struct tls *t, enum tls_check check, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->check != TLS_CHECK_NONE)
		return;
	t->check = check;
	if (check == TLS_CHECK_OTHER)
		n = snprintf(t->refusal, sizeof(t->refusal), "TLS failed: ");
	else
		n = snprintf(t->refusal, sizeof(t->refusal),
		             "%s check failed: ", check_names[check]);
	va_start(ap, fmt);
	vsnprintf(t->refusal + n, sizeof(t->refusal) - (size_t)n, fmt, ap);
	va_end(ap);
}

/* Appends n bytes of a certificate's text, made safe for a log line: printable ASCII. */
static void
append_shown(char *dst, size_t size, const void *src, size_t n)
{
	const unsigned char *s = src;
	size_t len = strlen(dst), i;

	for (i = 0; i < n && len + 1 < size; i++)
		dst[len++] = (s[i] >= 0x20 && s[i] < 0x7f) ? (char)s[i] : '?';
	dst[len] = '\0';
}

static void
append(char *dst, size_t size, const char *s)
{
	append_shown(dst, size, s, strlen(s));
}

/* "AB:CD:..." after prefix. */
static const char *
hex_colons(char *dst, size_t size, const char *prefix, const unsigned char *d, size_t n)
{
	char byte[4];
	size_t i;

	dst[0] = '\0';
	append(dst, size, prefix);
	for (i = 0; i < n; i++) {
		snprintf(byte, sizeof(byte), "%02X%s", d[i], i + 1 < n ? ":" : "");
		append(dst, size, byte);
	}
	return dst;
}

static const char *
asn1_date(const ASN1_TIME *at, char *buf, size_t size)
{
	struct tm tm;

	if (at == NULL || ASN1_TIME_to_tm(at, &tm) != 1 ||
	    strftime(buf, size, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(buf, size, "an unreadable date");
	return buf;
}

/* A distinguished name as RFC 2253 prints it (which escapes control and non-ASCII bytes). */
static const char *
dn(const X509_NAME *name, char *buf, size_t size)
{
	BIO *b = BIO_new(BIO_s_mem());
	char tmp[TLS_DN_MAX];
	int n = 0;

	buf[0] = '\0';
	if (b != NULL && name != NULL && X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253) >= 0)
		n = BIO_read(b, tmp, (int)sizeof(tmp) - 1);
	BIO_free(b);
	if (n > 0)
		append_shown(buf, size, tmp, (size_t)n);
	if (buf[0] == '\0')
		snprintf(buf, size, "(empty)");
	return buf;
}

/* The names a certificate is for: its subjectAltName DNS and IP entries, else its CN. */
static const char *
cert_names(X509 *x, char *buf, size_t size)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	const X509_NAME *subject = X509_get_subject_name(x);
	const X509_NAME_ENTRY *e;
	const ASN1_STRING *s;
	char ip[INET6_ADDRSTRLEN];
	int i, idx;

	buf[0] = '\0';
	for (i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);

		if (g->type == GEN_DNS) {
			s = g->d.dNSName;
			append(buf, size, buf[0] != '\0' ? ", DNS:" : "DNS:");
			append_shown(buf, size, ASN1_STRING_get0_data(s),
			             (size_t)ASN1_STRING_length(s));
		} else if (g->type == GEN_IPADD) {
			s = g->d.iPAddress;
			if (!((ASN1_STRING_length(s) == 4 &&
			       inet_ntop(AF_INET, ASN1_STRING_get0_data(s), ip, sizeof(ip))) ||
			      (ASN1_STRING_length(s) == 16 &&
			       inet_ntop(AF_INET6, ASN1_STRING_get0_data(s), ip, sizeof(ip)))))
				snprintf(ip, sizeof(ip), "?");
			append(buf, size, buf[0] != '\0' ? ", IP:" : "IP:");
			append(buf, size, ip);
		}
	}
	GENERAL_NAMES_free(gens);
	idx = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
	if (buf[0] == '\0' && idx >= 0) {
		e = X509_NAME_get_entry(subject, idx);
		s = X509_NAME_ENTRY_get_data(e);
		append(buf, size, "CN=");
		append_shown(buf, size, ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s));
	}
	if (buf[0] == '\0')
		snprintf(buf, size, "no name at all");
	return buf;
}

static int
peer_digests(X509 *x, struct digests *d)
{
	unsigned char *spki = NULL;
	unsigned int n256 = 0, n1 = 0;
	int len;
	bool ok;

	/* The pin covers the whole SubjectPublicKeyInfo (algorithm and key), as HPKP and
	 * `openssl pkey -pubin -outform DER` do; X509_pubkey_digest() would hash the key bits
	 * alone. */
	len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &spki);
	ok = len > 0 && EVP_Digest(spki, (size_t)len, d->spki256, NULL, EVP_sha256(), NULL) == 1 &&
	     X509_digest(x, EVP_sha256(), d->cert256, &n256) == 1 && n256 == 32 &&
	     X509_digest(x, EVP_sha1(), d->cert1, &n1) == 1 && n1 == 20;
	OPENSSL_free(spki);
	return ok ? 0 : -1;
}

/* The struct tls of the connection a certificate is being verified for. */
static struct tls *
owner_of(X509_STORE_CTX *sctx)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(sctx, SSL_get_ex_data_X509_STORE_CTX_idx());

	return ssl != NULL ? SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)) : NULL;
}

/* Names the check behind an X509_V_ERR_* and says what was wrong, in the owner's terms. */
static void
record_verify_failure(struct tls *t, X509_STORE_CTX *sctx)
{
	int err = X509_STORE_CTX_get_error(sctx), depth = X509_STORE_CTX_get_error_depth(sctx);
	X509 *leaf = X509_STORE_CTX_get0_cert(sctx), *cur = X509_STORE_CTX_get_current_cert(sctx);
	const char *reason = X509_verify_cert_error_string(err);
	char whose[TLS_DN_MAX + 48], subject[TLS_DN_MAX], issuer[TLS_DN_MAX];
	char leaf_subject[TLS_DN_MAX], leaf_issuer[TLS_DN_MAX];
	char when[TLS_DATE_MAX], names[TLS_NAMES_MAX];

	if (cur == NULL)
		cur = leaf;
	if (cur == NULL) {
		refuse(t, TLS_CHECK_CERTIFICATE, "the broker's certificate is refused: %s", reason);
		return;
	}
	dn(X509_get_subject_name(cur), subject, sizeof(subject));
	dn(X509_get_issuer_name(cur), issuer, sizeof(issuer));
	if (depth <= 0)
		snprintf(whose, sizeof(whose), "the broker's certificate");
	else
		snprintf(whose, sizeof(whose), "the certificate %s in the broker's chain", subject);
	/* Where the chain broke is the CA's own certificate at times; the owner knows the
	 * broker's certificate. */
	if (leaf != NULL) {
		dn(X509_get_subject_name(leaf), leaf_subject, sizeof(leaf_subject));
		dn(X509_get_issuer_name(leaf), leaf_issuer, sizeof(leaf_issuer));
	} else {
		snprintf(leaf_subject, sizeof(leaf_subject), "%s", subject);
		snprintf(leaf_issuer, sizeof(leaf_issuer), "%s", issuer);
	}

	switch (err) {
	case X509_V_ERR_HOSTNAME_MISMATCH:
	case X509_V_ERR_IP_ADDRESS_MISMATCH:
		refuse(t, TLS_CHECK_HOST, "the broker's certificate is for %s, not %s",
		       cert_names(leaf != NULL ? leaf : cur, names, sizeof(names)), t->host);
		break;
	case X509_V_ERR_CERT_HAS_EXPIRED:
		refuse(t, TLS_CHECK_EXPIRY, "%s expired on %s", whose,
		       asn1_date(X509_get0_notAfter(cur), when, sizeof(when)));
		break;
	case X509_V_ERR_CERT_NOT_YET_VALID:
		refuse(t, TLS_CHECK_EXPIRY, "%s is not valid before %s; is this clock right?",
		       whose, asn1_date(X509_get0_notBefore(cur), when, sizeof(when)));
		break;
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE:
	case X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY:
	case X509_V_ERR_CERT_SIGNATURE_FAILURE:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_CERT_UNTRUSTED:
	case X509_V_ERR_CERT_REJECTED:
	case X509_V_ERR_AKID_SKID_MISMATCH:
	case X509_V_ERR_AKID_ISSUER_SERIAL_MISMATCH:
		refuse(t, TLS_CHECK_CA,
		       "the broker's certificate is not signed by the CA in %s: %s, subject %s, "
		       "issuer %s",
		       t->cfg->cafile, reason, leaf_subject, leaf_issuer);
		break;
	default:
		refuse(t, TLS_CHECK_CERTIFICATE, "%s (subject %s, issuer %s) is refused: %s", whose,
		       subject, issuer, reason);
		break;
	}
}

/* SSL_CTX_set_verify's callback: OpenSSL's verdict stands; the first failure is recorded. */
static int
verify_cb(int ok, X509_STORE_CTX *sctx)
{
	struct tls *t = owner_of(sctx);

	if (!ok && t != NULL)
		record_verify_failure(t, sctx);
	return ok;
}

/*
 * The whole verification of the broker's chain (SSL_CTX_set_cert_verify_callback): OpenSSL's
 * (CA, host name, dates), then the pins. Several pins may be configured so that a broker
 * certificate can be replaced without locking devices out; one match is enough.
 */
static int
cert_verify(X509_STORE_CTX *sctx, void *arg)
{
	struct tls *t = arg;
	const struct config *cfg = t->cfg;
	char expected[TLS_REFUSAL_MAX / 2], one[TLS_FP_MAX], c256[TLS_FP_MAX], s256[TLS_FP_MAX],
	    c1[TLS_FP_MAX];
	struct digests d;
	X509 *leaf;
	size_t i;
	int ok;

	ok = X509_verify_cert(sctx);
	if (ok <= 0)
		return ok;
	leaf = X509_STORE_CTX_get0_cert(sctx);
	if (leaf == NULL || peer_digests(leaf, &d) != 0) {
		if (cfg->npins == 0)
			return ok;
		X509_STORE_CTX_set_error(sctx, X509_V_ERR_APPLICATION_VERIFICATION);
		refuse(t, TLS_CHECK_PIN,
		       "cannot compute the fingerprints of the broker's certificate");
		return 0;
	}
	hex_colons(t->peer_sha256, sizeof(t->peer_sha256), "sha256:", d.cert256, 32);
	for (i = 0; i < cfg->npins; i++) {
		const struct config_pin *p = &cfg->pins[i];
		const unsigned char *seen = p->kind == CONFIG_PIN_SPKI_SHA256   ? d.spki256
		                            : p->kind == CONFIG_PIN_CERT_SHA256 ? d.cert256
		                                                                : d.cert1;
		size_t n = p->kind == CONFIG_PIN_CERT_SHA1 ? sizeof(d.cert1) : sizeof(d.cert256);

		if (p->len == n && CRYPTO_memcmp(p->digest, seen, n) == 0) {
			t->matched = p;
			return ok;
		}
	}
	if (cfg->npins == 0)
		return ok;

	expected[0] = '\0';
	for (i = 0; i < cfg->npins; i++) {
		const struct config_pin *p = &cfg->pins[i];

		if (i > 0)
			append(expected, sizeof(expected), ", ");
		append(expected, sizeof(expected),
		       hex_colons(one, sizeof(one),
		                  p->kind == CONFIG_PIN_SPKI_SHA256   ? "spki-sha256:"
		                  : p->kind == CONFIG_PIN_CERT_SHA256 ? "sha256:"
		                                                      : "sha1 ",
		                  p->digest, p->len));
	}
	X509_STORE_CTX_set_error(sctx, X509_V_ERR_APPLICATION_VERIFICATION);
	refuse(t, TLS_CHECK_PIN,
	       "the broker's certificate matches no pin: expected %s; seen %s %s (sha1 %s)",
	       expected, hex_colons(c256, sizeof(c256), "sha256:", d.cert256, 32),
	       hex_colons(s256, sizeof(s256), "spki-sha256:", d.spki256, 32),
	       hex_colons(c1, sizeof(c1), "", d.cert1, 20));
	return 0;
}

/*
 * Follows each handshake: a new one starts with a clean slate, and the error and alert of a
 * failed one are kept, because libmosquitto prints and clears OpenSSL's error queue before
 * control comes back to the caller.
 */
static void
info_cb(const SSL *ssl, int where, int ret)
{
	struct tls *t = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));

	if (t == NULL)
		return;
	if (where & SSL_CB_HANDSHAKE_START) {
		tls_handshake_begin(t);
		t->started = true;
	}
	if (where & SSL_CB_HANDSHAKE_DONE)
		t->done = true;
	if ((where & SSL_CB_READ_ALERT) == SSL_CB_READ_ALERT && (ret >> 8) == SSL3_AL_FATAL &&
	    t->alert < 0)
		t->alert = ret & 0xff;
	if ((where & SSL_CB_EXIT) && ret <= 0 && t->ssl_err == 0)
		t->ssl_err = ERR_peek_error();
}

/* Keys are never encrypted here (a daemon has nobody to ask): never prompt on a terminal. */
static int
no_password(char *buf, int size, int rwflag, void *arg)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)arg;
	return -1;
}

/* OpenSSL's reason for the last failure, and a clean error queue for the next operation. */
static const char *
ssl_reason(void)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e != 0 ? ERR_reason_error_string(e) : NULL;

	ERR_clear_error();
	return r != NULL ? r : "no reason given";
}

static bool
contains(const unsigned char *buf, size_t len, const char *what)
{
	size_t i, n = strlen(what);

	for (i = 0; i + n <= len; i++)
		if (memcmp(buf + i, what, n) == 0)
			return true;
	return false;
}

static bool
is_pem(const unsigned char *buf, size_t len)
{
	return contains(buf, len, "-----BEGIN ");
}

static void
free_file(unsigned char *buf, size_t len)
{
	if (buf != NULL)
		OPENSSL_cleanse(buf, len);
	free(buf);
}

/* Reads PATH whole (KEY names it in messages). The buffer is NUL-terminated for searching. */
static int
read_file(const char *key, const char *path, unsigned char **out, size_t *outlen, char *err,
          size_t errlen)
{
	FILE *f = fopen(path, "rbe");
	unsigned char *buf = NULL;
	struct stat st;
	size_t n;

	*out = NULL;
	*outlen = 0;
	if (f == NULL) {
		snprintf(err, errlen, "%s %s: %s", key, path, strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &st) != 0) {
		snprintf(err, errlen, "%s %s: %s", key, path, strerror(errno));
	} else if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s %s is not a regular file", key, path);
	} else if (st.st_size == 0) {
		snprintf(err, errlen, "%s %s is empty", key, path);
	} else if (st.st_size > TLS_FILE_MAX) {
		snprintf(err, errlen, "%s %s is larger than %d KiB; is it the right file?", key,
		         path, TLS_FILE_MAX / 1024);
	} else if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		snprintf(err, errlen, "%s %s: out of memory", key, path);
	} else if ((n = fread(buf, 1, (size_t)st.st_size, f)) != (size_t)st.st_size) {
		snprintf(err, errlen, "%s %s: %s", key, path,
		         ferror(f) ? strerror(errno) : "it changed while being read");
		free_file(buf, (size_t)st.st_size);
		buf = NULL;
	} else {
		buf[n] = '\0';
		*out = buf;
		*outlen = n;
	}
	fclose(f);
	return buf != NULL ? 0 : -1;
}

/* cafile: every certificate in it (PEM, one or more; or DER, one or more back to back). */
static int
load_ca(struct tls *t, char *err, size_t errlen)
{
	const char *path = t->cfg->cafile;
	X509_STORE *store = SSL_CTX_get_cert_store(t->ctx);
	unsigned char *buf;
	const unsigned char *p, *end;
	size_t len, n = 0;
	X509 *x;
	BIO *bio;
	int ret = 0;

	if (read_file("cafile", path, &buf, &len, err, errlen) != 0)
		return -1;
	if (is_pem(buf, len)) {
		bio = BIO_new_mem_buf(buf, (int)len);
		while (ret == 0 && bio != NULL &&
		       (x = PEM_read_bio_X509(bio, NULL, no_password, NULL)) != NULL) {
			if (X509_STORE_add_cert(store, x) != 1) {
				snprintf(err, errlen, "cafile %s: %s", path, ssl_reason());
				ret = -1;
			}
			X509_free(x);
			n++;
		}
		BIO_free(bio);
		/* The end of the file is reported as an error; a broken block too. */
		if (ret == 0 && n == 0)
			snprintf(err, errlen, "cafile %s holds no PEM certificate: %s", path,
			         ssl_reason());
		ERR_clear_error();
	} else {
		p = buf;
		end = buf + len;
		while (ret == 0 && p < end) {
			x = d2i_X509(NULL, &p, end - p);
			if (x == NULL) {
				snprintf(
				    err, errlen,
				    "cafile %s is neither PEM nor DER certificates (at byte %zu: "
				    "%s)",
				    path, (size_t)(p - buf), ssl_reason());
				ret = -1;
			} else if (X509_STORE_add_cert(store, x) != 1) {
				snprintf(err, errlen, "cafile %s: %s", path, ssl_reason());
				ret = -1;
			}
			X509_free(x);
			n++;
		}
	}
	free_file(buf, len);
	return ret == 0 && n > 0 ? 0 : -1;
}

/* certfile: the client certificate, and in PEM any intermediates after it. */
static int
load_cert(struct tls *t, char *err, size_t errlen)
{
	const char *path = t->cfg->certfile;
	unsigned char *buf;
	const unsigned char *p;
	size_t len;
	X509 *x = NULL;
	BIO *bio = NULL;
	int ret = -1;

	if (read_file("certfile", path, &buf, &len, err, errlen) != 0)
		return -1;
	if (is_pem(buf, len)) {
		bio = BIO_new_mem_buf(buf, (int)len);
		x = bio != NULL ? PEM_read_bio_X509(bio, NULL, no_password, NULL) : NULL;
	} else {
		p = buf;
		x = d2i_X509(NULL, &p, (long)len);
		if (x != NULL && p != buf + len) {
			snprintf(err, errlen, "certfile %s has %zu bytes after its DER certificate",
			         path, (size_t)(buf + len - p));
			goto out;
		}
	}
	if (x == NULL) {
		snprintf(err, errlen, "certfile %s holds no certificate (PEM or DER): %s", path,
		         ssl_reason());
		goto out;
	}
	if (SSL_CTX_use_certificate(t->ctx, x) != 1) {
		snprintf(err, errlen, "certfile %s: %s", path, ssl_reason());
		goto out;
	}
	X509_free(x);
	/* As SSL_CTX_use_certificate_chain_file() does: the rest of a PEM file is the chain. */
	while (bio != NULL && (x = PEM_read_bio_X509(bio, NULL, no_password, NULL)) != NULL) {
		if (SSL_CTX_add0_chain_cert(t->ctx, x) != 1) {
			snprintf(err, errlen, "certfile %s: %s", path, ssl_reason());
			goto out;
		}
	}
	x = NULL;
	ERR_clear_error();
	ret = 0;
out:
	X509_free(x);
	BIO_free(bio);
	free_file(buf, len);
	return ret;
}

/* keyfile: the client certificate's private key, any type OpenSSL knows (EC, RSA, Ed25519). */
static int
load_key(struct tls *t, char *err, size_t errlen)
{
	const char *path = t->cfg->keyfile;
	unsigned char *buf;
	const unsigned char *p;
	EVP_PKEY *pkey = NULL;
	size_t len;
	BIO *bio;
	int ret = -1;

	if (read_file("keyfile", path, &buf, &len, err, errlen) != 0)
		return -1;
	if (is_pem(buf, len)) {
		bio = BIO_new_mem_buf(buf, (int)len);
		if (bio != NULL)
			pkey = PEM_read_bio_PrivateKey(bio, NULL, no_password, NULL);
		BIO_free(bio);
		if (pkey == NULL && contains(buf, len, "ENCRYPTED")) {
			ERR_clear_error();
			snprintf(err, errlen,
			         "keyfile %s is encrypted; the key must be stored without a "
			         "passphrase (openssl pkey -in OLD -out NEW)",
			         path);
			goto out;
		}
	} else {
		p = buf;
		pkey = d2i_AutoPrivateKey(NULL, &p, (long)len);
	}
	if (pkey == NULL) {
		snprintf(err, errlen, "keyfile %s holds no private key (PEM or DER): %s", path,
		         ssl_reason());
		goto out;
	}
	if (SSL_CTX_use_PrivateKey(t->ctx, pkey) != 1 || SSL_CTX_check_private_key(t->ctx) != 1) {
		snprintf(err, errlen,
		         "keyfile %s is not the key of certfile %s (%s); give the key the "
		         "certificate was issued for",
		         path, t->cfg->certfile, ssl_reason());
		goto out;
	}
	ret = 0;
out:
	EVP_PKEY_free(pkey);
	free_file(buf, len);
	return ret;
}

/*
 * The broker's certificate must name host in its subject alternative names: a DNS name, or an
 * IP address when host is one. Never its subject's CN: OpenSSL falls back to the CN when a
 * certificate has no DNS name, and RFC 6125 leaves that to old clients; garagectl pki always
 * writes a SAN.
 */
static int
set_param_host(X509_VERIFY_PARAM *param, const char *host)
{
	unsigned char ip[16];

	X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS |
	                                           X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
	/* The other kind is cleared: a name after an address (or the reverse) replaces it. */
	if (inet_pton(AF_INET, host, ip) == 1 || inet_pton(AF_INET6, host, ip) == 1)
		return X509_VERIFY_PARAM_set1_host(param, NULL, 0) == 1 &&
		               X509_VERIFY_PARAM_set1_ip_asc(param, host) == 1
		           ? 0
		           : -1;
	return X509_VERIFY_PARAM_set1_ip(param, NULL, 0) == 1 &&
	               X509_VERIFY_PARAM_set1_host(param, host, 0) == 1
	           ? 0
	           : -1;
}

int
tls_set_broker(struct tls *t, const char *host, uint16_t port, char *err, size_t errlen)
{
	if (strlen(host) >= sizeof(t->host) ||
	    set_param_host(SSL_CTX_get0_param(t->ctx), host) != 0) {
		snprintf(err, errlen, "host %s cannot be checked against certificates: %s", host,
		         ssl_reason());
		return -1;
	}
	memcpy(t->host, host, strlen(host) + 1);
	t->port = port;
	return 0;
}

void *
tls_probe_ssl(struct tls *t, const char *host)
{
	SSL *ssl = SSL_new(t->ctx);

	if (ssl == NULL)
		return NULL;
	/* SSL_set_tlsext_host_name()'s macro casts its argument to void *: the function call
	 * under it takes the name as const (it copies it), which -Wcast-qual needs spelled out. */
	if (set_param_host(SSL_get0_param(ssl), host) != 0 ||
	    SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
	             (void *)(uintptr_t)host) != 1) {
		SSL_free(ssl);
		return NULL;
	}
	return ssl;
}

struct tls *
tls_new(const struct config *cfg, char *err, size_t errlen)
{
	struct tls *t;
	int min = strcmp(cfg->tls_version, "tlsv1.3") == 0 ? TLS1_3_VERSION : TLS1_2_VERSION;

	t = calloc(1, sizeof(*t));
	if (t == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	t->cfg = cfg;
	tls_handshake_begin(t);
	ERR_clear_error();
	t->ctx = SSL_CTX_new(TLS_client_method());
	if (t->ctx == NULL || SSL_CTX_set_min_proto_version(t->ctx, min) != 1) {
		snprintf(err, errlen, "cannot create a TLS context: %s", ssl_reason());
		goto fail;
	}
	/* Compression leaks plaintext lengths (CRIME); a broker never needs renegotiation, and
	 * without it each connection has exactly one handshake to verify. */
	SSL_CTX_set_options(t->ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
	/* A device idles most of its life: give the buffers back between records. */
	SSL_CTX_set_mode(t->ctx, SSL_MODE_RELEASE_BUFFERS);
	/* No read-ahead here: libmosquitto's own loop (garagectl) only looks at SSL_pending() and
	 * would leave read-ahead bytes unseen until more data arrived. The network half, whose
	 * loop drains with SSL_has_pending(), turns it on for itself (src/net/mqtt.c). */
	SSL_CTX_set_app_data(t->ctx, t);
	if (load_ca(t, err, errlen) != 0 || load_cert(t, err, errlen) != 0 ||
	    load_key(t, err, errlen) != 0 ||
	    tls_set_broker(t, cfg->host, cfg->port, err, errlen) != 0)
		goto fail;
	SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, verify_cb);
	SSL_CTX_set_cert_verify_callback(t->ctx, cert_verify, t);
	SSL_CTX_set_info_callback(t->ctx, info_cb);
	asn1_date(X509_get0_notAfter(SSL_CTX_get0_certificate(t->ctx)), t->not_after,
	          sizeof(t->not_after));
	return t;
fail:
	tls_free(t);
	return NULL;
}

void
tls_free(struct tls *t)
{
	if (t == NULL)
		return;
	SSL_CTX_free(t->ctx);
	free(t);
}

void *
tls_ssl_ctx(struct tls *t)
{
	return t->ctx;
}

void
tls_handshake_begin(struct tls *t)
{
	t->check = TLS_CHECK_NONE;
	t->refusal[0] = '\0';
	t->started = false;
	t->done = false;
	t->ssl_err = 0;
	t->alert = -1;
	t->matched = NULL;
	t->peer_sha256[0] = '\0';
}

const char *
tls_last_refusal(const struct tls *t)
{
	return t->check != TLS_CHECK_NONE ? t->refusal : NULL;
}

enum tls_check
tls_refused_check(const struct tls *t)
{
	return t->check;
}

/*
 * The alerts with which a broker says it does not accept this side's certificate. OpenSSL
 * answers a client certificate whose signature does not verify (one from a forged CA with the
 * real one's name) with decrypt_error.
 */
static bool
client_cert_alert(int alert)
{
	switch (alert) {
	case SSL_AD_DECRYPT_ERROR:
	case SSL_AD_BAD_CERTIFICATE:
	case SSL_AD_UNSUPPORTED_CERTIFICATE:
	case SSL_AD_CERTIFICATE_REVOKED:
	case SSL_AD_CERTIFICATE_EXPIRED:
	case SSL_AD_CERTIFICATE_UNKNOWN:
	case SSL_AD_UNKNOWN_CA:
	case SSL_AD_ACCESS_DENIED:
	case SSL_AD_CERTIFICATE_REQUIRED:
		return true;
	default:
		return false;
	}
}

const char *
tls_explain_failure(struct tls *t)
{
	unsigned long e = t->ssl_err;
	const char *min = strcmp(t->cfg->tls_version, "tlsv1.3") == 0 ? "1.3" : "1.2";
	const char *r;
	int reason;

	if (t->check != TLS_CHECK_NONE)
		return t->refusal;
	/* A caller that drives OpenSSL itself still has the queue; only trust it mid-handshake,
	 * where it cannot be left over from something else. */
	if (e == 0 && t->started && !t->done)
		e = ERR_peek_last_error();
	reason = ERR_GET_LIB(e) == ERR_LIB_SSL ? ERR_GET_REASON(e) : 0;

	if (t->alert == SSL_AD_PROTOCOL_VERSION || reason == SSL_R_UNSUPPORTED_PROTOCOL ||
	    reason == SSL_R_NO_PROTOCOLS_AVAILABLE ||
	    reason == SSL_R_TLSV1_ALERT_PROTOCOL_VERSION || reason == SSL_R_VERSION_TOO_LOW) {
		refuse(t, TLS_CHECK_PROTOCOL, "the broker offers nothing at or above TLS %s", min);
	} else if (client_cert_alert(t->alert)) {
		refuse(t, TLS_CHECK_CLIENT, "the broker refused the certificate in %s (alert: %s)",
		       t->cfg->certfile, SSL_alert_desc_string_long(t->alert));
	} else if (t->alert >= 0) {
		refuse(t, TLS_CHECK_OTHER, "the broker ended the handshake with the alert '%s'",
		       SSL_alert_desc_string_long(t->alert));
	} else if (reason == SSL_R_WRONG_VERSION_NUMBER) {
		refuse(t, TLS_CHECK_OTHER,
		       "what answers on port %u does not speak TLS (wrong version number)",
		       (unsigned)t->port);
	} else if (e != 0) {
		r = ERR_reason_error_string(e);
		refuse(t, TLS_CHECK_OTHER, "%s", r != NULL ? r : "unknown OpenSSL error");
	} else {
		return NULL;
	}
	return t->refusal;
}

void
tls_read_alert(struct tls *t, void *ssl)
{
	char byte;

	if (ssl == NULL || t->check != TLS_CHECK_NONE || t->alert >= 0)
		return;
	/* Reads records without taking application data; info_cb() records an alert. */
	(void)SSL_peek(ssl, &byte, 1);
	ERR_clear_error();
}

const char *
tls_ssl_error(const struct tls *t)
{
	if (t->ssl_err != 0)
		return ERR_reason_error_string(t->ssl_err);
	if (t->alert >= 0)
		return SSL_alert_desc_string_long(t->alert);
	return NULL;
}

bool
tls_handshake_done(const struct tls *t)
{
	return t->done;
}

const struct config_pin *
tls_matched_pin(const struct tls *t)
{
	return t->matched;
}

const char *
tls_peer_fingerprint(const struct tls *t)
{
	return t->peer_sha256;
}

int64_t
tls_client_cert_expires_in(const struct tls *t)
{
	const X509 *c = SSL_CTX_get0_certificate(t->ctx);
	int days = 0, secs = 0;

	if (c == NULL || ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(c)) != 1)
		return 0;
	return (int64_t)days * 86400 + secs;
}

const char *
tls_client_cert_not_after(const struct tls *t)
{
	return t->not_after;
}
