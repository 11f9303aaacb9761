/*
 * renew: see renew.h. OpenSSL parses, signs and verifies; this file decides what a request and
 * an answer must look like and in which order they are judged, so that a refusal always names
 * the first thing that is wrong.
 *
 * Both messages are outside bytes (a broker, or whoever got its ACL to let them through, may put
 * anything on those topics): they are read strictly, as printable text of PEM blocks with
 * nothing else but white space, within a size bound, before OpenSSL sees a byte of them.
 */
#include "renew.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define RSA_BITS_MIN 2048
#define RSA_BITS_MAX 8192
/* A signature of the proof: an RSA 8192 one is 1024 bytes. */
#define PROOF_MAX 1024

static const char *const reason_names[RENEW_REASON_COUNT] = {
    [RENEW_OK] = "ok",
    [RENEW_TOO_LARGE] = "too_large",
    [RENEW_MALFORMED] = "malformed",
    [RENEW_NOTHING_PENDING] = "nothing_pending",
    [RENEW_WRONG_CA] = "wrong_ca",
    [RENEW_NOT_CLIENT] = "not_client",
    [RENEW_WRONG_KEY] = "wrong_key",
    [RENEW_WRONG_NAME] = "wrong_name",
    [RENEW_EXPIRED] = "expired",
    [RENEW_NOT_YET_VALID] = "not_yet_valid",
    [RENEW_BAD_SIGNATURE] = "bad_signature",
    [RENEW_WEAK_KEY] = "weak_key",
};

const char *
renew_reason_name(enum renew_reason r)
{
	return (unsigned)r < RENEW_REASON_COUNT ? reason_names[r] : "unknown";
}

/* EdDSA signs the message itself; every other key signs its SHA-256. */
static const EVP_MD *
sign_md(EVP_PKEY *key)
{
	int id = EVP_PKEY_get_base_id(key);

	return id == EVP_PKEY_ED25519 || id == EVP_PKEY_ED448 ? NULL : EVP_sha256();
}

const char *
renew_date(const ASN1_TIME *t, char *buf, size_t size)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1 ||
	    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, size, "%s", "");
	return buf;
}

void
renew_cert_info(X509 *x, struct renew_cert_info *info)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	char *hex = bn != NULL ? BN_bn2hex(bn) : NULL;

	memset(info, 0, sizeof(*info));
	if (hex != NULL && strlen(hex) < sizeof(info->serial))
		memcpy(info->serial, hex, strlen(hex) + 1);
	OPENSSL_free(hex);
	BN_free(bn);
	renew_date(X509_get0_notAfter(x), info->not_after, sizeof(info->not_after));
}

int
renew_cn(X509_NAME *name, char *buf, size_t size)
{
	int idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
	const ASN1_STRING *s;
	int n;

	buf[0] = '\0';
	if (idx < 0 || X509_NAME_get_index_by_NID(name, NID_commonName, idx) >= 0)
		return -1;
	s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
	n = ASN1_STRING_length(s);
	if (n < 1 || (size_t)n >= size || n > NAMES_CN_MAX ||
	    memchr(ASN1_STRING_get0_data(s), '\0', (size_t)n) != NULL)
		return -1;
	memcpy(buf, ASN1_STRING_get0_data(s), (size_t)n);
	buf[n] = '\0';
	if (!names_cn_valid(buf)) {
		buf[0] = '\0';
		return -1;
	}
	return 0;
}

bool
renew_key_acceptable(EVP_PKEY *key, char *what, size_t whatlen)
{
	static const char *const curves[] = {"prime256v1", "secp384r1", "secp521r1",
	                                     "P-256",      "P-384",     "P-521"};
	char group[64] = "";
	int id = EVP_PKEY_get_base_id(key), bits = EVP_PKEY_get_bits(key);
	size_t i;

	if (id == EVP_PKEY_EC)
		(void)EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group,
		                                     sizeof(group), NULL);
	snprintf(what, whatlen, "%s %d-bit%s%s",
	         EVP_PKEY_get0_type_name(key) != NULL ? EVP_PKEY_get0_type_name(key) : "unknown",
	         bits, group[0] != '\0' ? " " : "", group);
	switch (id) {
	case EVP_PKEY_RSA:
		return bits >= RSA_BITS_MIN && bits <= RSA_BITS_MAX;
	case EVP_PKEY_EC:
		for (i = 0; i < sizeof(curves) / sizeof(curves[0]); i++)
			if (strcmp(group, curves[i]) == 0)
				return true;
		return false;
	case EVP_PKEY_ED25519:
	case EVP_PKEY_ED448:
		return true;
	default:
		return false;
	}
}

EVP_PKEY *
renew_new_key(EVP_PKEY *current, char *err, size_t errlen)
{
	char group[64];
	EVP_PKEY *key = NULL;
	int bits;

	switch (EVP_PKEY_get_base_id(current)) {
	case EVP_PKEY_EC:
		if (EVP_PKEY_get_utf8_string_param(current, OSSL_PKEY_PARAM_GROUP_NAME, group,
		                                   sizeof(group), NULL) != 1) {
			snprintf(err, errlen, "the current EC key names no curve");
			return NULL;
		}
		key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", group);
		break;
	case EVP_PKEY_ED25519:
		key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		break;
	case EVP_PKEY_ED448:
		key = EVP_PKEY_Q_keygen(NULL, NULL, "ED448");
		break;
	case EVP_PKEY_RSA:
		bits = EVP_PKEY_get_bits(current);
		key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA",
		                        (size_t)(bits < RSA_BITS_MIN   ? RSA_BITS_MIN
		                                 : bits > RSA_BITS_MAX ? RSA_BITS_MAX
		                                                       : bits));
		break;
	default:
		snprintf(err, errlen, "the current key is a %s key, of a kind garaged cannot renew",
		         EVP_PKEY_get0_type_name(current) != NULL ? EVP_PKEY_get0_type_name(current)
		                                                  : "unknown");
		return NULL;
	}
	if (key == NULL) {
		unsigned long e = ERR_peek_last_error();

		snprintf(err, errlen, "cannot make a key: %s",
		         e != 0 && ERR_reason_error_string(e) != NULL ? ERR_reason_error_string(e)
		                                                      : "no reason given");
		ERR_clear_error();
	}
	return key;
}

/* The whole of a memory BIO's contents, copied into *out (malloc'd, NUL-terminated). */
static int
bio_copy(BIO *bio, char **out, size_t *outlen)
{
	char *data;
	long n = BIO_get_mem_data(bio, &data);

	if (n <= 0 || (*out = malloc((size_t)n + 1)) == NULL)
		return -1;
	memcpy(*out, data, (size_t)n);
	(*out)[n] = '\0';
	*outlen = (size_t)n;
	return 0;
}

int
renew_request_make(EVP_PKEY *newkey, X509 *current, EVP_PKEY *current_key, char **out,
                   size_t *outlen, char *err, size_t errlen)
{
	char cn[NAMES_CN_MAX + 1];
	X509_REQ *req = X509_REQ_new();
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char *der = NULL, *sig = NULL;
	size_t siglen = 0;
	BIO *bio = NULL;
	int derlen = 0, ret = -1;

	*out = NULL;
	if (renew_cn(X509_get_subject_name(current), cn, sizeof(cn)) != 0) {
		snprintf(err, errlen, "the current certificate has no single usable CN");
		goto out;
	}
	if (req == NULL || md == NULL || X509_REQ_set_version(req, X509_REQ_VERSION_1) != 1 ||
	    X509_NAME_add_entry_by_NID(X509_REQ_get_subject_name(req), NID_commonName,
	                               MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0) != 1 ||
	    X509_REQ_set_pubkey(req, newkey) != 1 ||
	    X509_REQ_sign(req, newkey, sign_md(newkey)) <= 0 ||
	    (derlen = i2d_X509_REQ(req, &der)) <= 0 ||
	    EVP_DigestSignInit(md, NULL, sign_md(current_key), NULL, current_key) != 1 ||
	    EVP_DigestSign(md, NULL, &siglen, der, (size_t)derlen) != 1 ||
	    (sig = OPENSSL_malloc(siglen)) == NULL ||
	    EVP_DigestSign(md, sig, &siglen, der, (size_t)derlen) != 1 ||
	    (bio = BIO_new(BIO_s_mem())) == NULL || PEM_write_bio_X509_REQ(bio, req) != 1 ||
	    PEM_write_bio_X509(bio, current) != 1 ||
	    PEM_write_bio(bio, RENEW_PROOF_LABEL, "", sig, (long)siglen) <= 0 ||
	    bio_copy(bio, out, outlen) != 0) {
		snprintf(err, errlen, "cannot make the certificate request");
		ERR_clear_error();
		goto out;
	}
	ret = 0;
out:
	BIO_free(bio);
	OPENSSL_free(sig);
	OPENSSL_free(der);
	EVP_MD_CTX_free(md);
	X509_REQ_free(req);
	return ret;
}

/* Printable ASCII, tabs and line ends only: PEM text and nothing a terminal would act on. */
static bool
is_text(const unsigned char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!((p[i] >= 0x20 && p[i] < 0x7f) || p[i] == '\n' || p[i] == '\r' ||
		      p[i] == '\t'))
			return false;
	return true;
}

/* What is left in the memory BIO starts, after white space, with want (NULL: is empty). */
static bool
next_is(BIO *bio, const char *want)
{
	char *data;
	long n = BIO_get_mem_data(bio, &data), i = 0;

	while (i < n && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n'))
		i++;
	if (want == NULL)
		return i == n;
	return n - i >= (long)strlen(want) && memcmp(data + i, want, strlen(want)) == 0;
}

/*
 * The next PEM block of BIO, which must be labelled LABEL, have no headers and be followed by
 * another block (more) or by nothing but white space. Its bytes into *data (OPENSSL_free).
 */
static bool
read_block(BIO *bio, const char *label, bool more, unsigned char **data, long *len)
{
	char *name = NULL, *header = NULL;
	bool ok;

	*data = NULL;
	ok = next_is(bio, "-----BEGIN ") && PEM_read_bio(bio, &name, &header, data, len) == 1 &&
	     strcmp(name, label) == 0 && header[0] == '\0' && *len > 0 &&
	     next_is(bio, more ? "-----BEGIN " : NULL);
	OPENSSL_free(name);
	OPENSSL_free(header);
	if (!ok) {
		OPENSSL_free(*data);
		*data = NULL;
	}
	ERR_clear_error();
	return ok;
}

void
renew_request_free(struct renew_request *r)
{
	X509_REQ_free(r->req);
	X509_free(r->current);
	memset(r, 0, sizeof(*r));
}

static enum renew_reason
refuse(enum renew_reason r, char *msg, size_t msglen, const char *why)
{
	snprintf(msg, msglen, "%s", why);
	ERR_clear_error();
	return r;
}

enum renew_reason
renew_request_parse(const void *buf, size_t len, struct renew_request *out, char *msg,
                    size_t msglen)
{
	unsigned char *blocks[3] = {NULL, NULL, NULL};
	long lens[3] = {0, 0, 0};
	const unsigned char *p;
	char cn[NAMES_CN_MAX + 1], what[64];
	EVP_MD_CTX *md = NULL;
	enum renew_reason r = RENEW_MALFORMED;
	BIO *bio = NULL;
	EVP_PKEY *key;

	memset(out, 0, sizeof(*out));
	msg[0] = '\0';
	if (len > RENEW_REQUEST_MAX)
		return refuse(RENEW_TOO_LARGE, msg, msglen,
		              "the request is larger than 12288 bytes");
	if (len == 0 || !is_text(buf, len))
		return refuse(RENEW_MALFORMED, msg, msglen, "the request is not PEM text");
	bio = BIO_new_mem_buf(buf, (int)len);
	if (bio == NULL || !read_block(bio, "CERTIFICATE REQUEST", true, &blocks[0], &lens[0]) ||
	    !read_block(bio, "CERTIFICATE", true, &blocks[1], &lens[1]) ||
	    !read_block(bio, RENEW_PROOF_LABEL, false, &blocks[2], &lens[2])) {
		refuse(r, msg, msglen,
		       "not a certificate request, a certificate and a " RENEW_PROOF_LABEL
		       " in PEM, in that order, and nothing else");
		goto out;
	}
	p = blocks[0];
	out->req = d2i_X509_REQ(NULL, &p, lens[0]);
	if (out->req == NULL || p != blocks[0] + lens[0]) {
		refuse(r, msg, msglen, "the certificate request does not parse");
		goto out;
	}
	p = blocks[1];
	out->current = d2i_X509(NULL, &p, lens[1]);
	if (out->current == NULL || p != blocks[1] + lens[1]) {
		refuse(r, msg, msglen, "the certificate does not parse");
		goto out;
	}
	if (lens[2] > PROOF_MAX) {
		refuse(r, msg, msglen, "the signature is longer than any key makes");
		goto out;
	}
	if (renew_cn(X509_REQ_get_subject_name(out->req), out->cn, sizeof(out->cn)) != 0 ||
	    renew_cn(X509_get_subject_name(out->current), cn, sizeof(cn)) != 0) {
		refuse(r, msg, msglen,
		       "the request or the certificate has not exactly one CN of 1 to 64 printable "
		       "characters without spaces, '/', '+' or '#'");
		goto out;
	}
	if (strcmp(out->cn, cn) != 0) {
		r = refuse(RENEW_WRONG_NAME, msg, msglen,
		           "the request asks for another CN than its certificate's");
		goto out;
	}
	key = X509_REQ_get0_pubkey(out->req);
	if (key == NULL || X509_REQ_verify(out->req, key) != 1) {
		r = refuse(RENEW_BAD_SIGNATURE, msg, msglen,
		           "the request's own signature does not verify with its key");
		goto out;
	}
	/* The proof: the holder of the current certificate's key signed these very bytes. */
	md = EVP_MD_CTX_new();
	if (md == NULL || X509_get0_pubkey(out->current) == NULL ||
	    EVP_DigestVerifyInit(md, NULL, sign_md(X509_get0_pubkey(out->current)), NULL,
	                         X509_get0_pubkey(out->current)) != 1 ||
	    EVP_DigestVerify(md, blocks[2], (size_t)lens[2], blocks[0], (size_t)lens[0]) != 1) {
		r = refuse(RENEW_BAD_SIGNATURE, msg, msglen,
		           "the " RENEW_PROOF_LABEL " does not verify with the certificate's key");
		goto out;
	}
	if (!renew_key_acceptable(key, what, sizeof(what))) {
		snprintf(msg, msglen,
		         "the new key is %s; the CA certifies RSA of 2048 to 8192 bits, EC on "
		         "P-256, P-384 or P-521, Ed25519 and Ed448",
		         what);
		r = RENEW_WEAK_KEY;
		goto out;
	}
	renew_cert_info(out->current, &out->info);
	r = RENEW_OK;
out:
	ERR_clear_error();
	EVP_MD_CTX_free(md);
	BIO_free(bio);
	for (size_t i = 0; i < 3; i++)
		OPENSSL_free(blocks[i]);
	if (r != RENEW_OK)
		renew_request_free(out);
	return r;
}

enum renew_reason
renew_chain_check(X509_STORE *store, X509 *x, char *msg, size_t msglen)
{
	X509_STORE_CTX *sctx = X509_STORE_CTX_new();
	enum renew_reason r = RENEW_WRONG_CA;
	int err;

	if (sctx == NULL || X509_STORE_CTX_init(sctx, store, x, NULL) != 1) {
		X509_STORE_CTX_free(sctx);
		return refuse(r, msg, msglen, "the certificate cannot be checked (out of memory?)");
	}
	/* The dates come last, as their own reasons. */
	X509_STORE_CTX_set_flags(sctx, X509_V_FLAG_NO_CHECK_TIME);
	X509_STORE_CTX_set_purpose(sctx, X509_PURPOSE_SSL_CLIENT);
	if (X509_verify_cert(sctx) == 1) {
		r = RENEW_OK;
	} else {
		err = X509_STORE_CTX_get_error(sctx);
		if (err == X509_V_ERR_INVALID_PURPOSE) {
			r = RENEW_NOT_CLIENT;
			snprintf(msg, msglen, "the certificate is not for client authentication");
		} else {
			snprintf(msg, msglen,
			         "the certificate is not signed by the CA in cafile: %s",
			         X509_verify_cert_error_string(err));
		}
	}
	X509_STORE_CTX_free(sctx);
	ERR_clear_error();
	return r;
}

enum renew_reason
renew_cert_check(const void *buf, size_t len, X509_STORE *store, EVP_PKEY *pending, const char *cn,
                 int64_t now, X509 **out, struct renew_cert_info *info, char *msg, size_t msglen)
{
	char got[NAMES_CN_MAX + 1];
	unsigned char *der = NULL;
	const unsigned char *p;
	enum renew_reason r;
	time_t t = (time_t)now;
	BIO *bio = NULL;
	X509 *x = NULL;
	long n = 0;

	*out = NULL;
	memset(info, 0, sizeof(*info));
	msg[0] = '\0';
	if (len > RENEW_CERT_MAX)
		return refuse(RENEW_TOO_LARGE, msg, msglen,
		              "the certificate is larger than 8192 bytes");
	if (len == 0 || !is_text(buf, len) || (bio = BIO_new_mem_buf(buf, (int)len)) == NULL ||
	    !read_block(bio, "CERTIFICATE", false, &der, &n)) {
		BIO_free(bio);
		return refuse(RENEW_MALFORMED, msg, msglen,
		              "not one PEM certificate and nothing else");
	}
	BIO_free(bio);
	p = der;
	x = d2i_X509(NULL, &p, n);
	if (x == NULL || p != der + n) {
		OPENSSL_free(der);
		X509_free(x);
		return refuse(RENEW_MALFORMED, msg, msglen, "the certificate does not parse");
	}
	OPENSSL_free(der);
	renew_cert_info(x, info);
	if (pending == NULL) {
		r = refuse(RENEW_NOTHING_PENDING, msg, msglen,
		           "no renewal is pending: the device asked for no certificate");
	} else if ((r = renew_chain_check(store, x, msg, msglen)) != RENEW_OK) {
		/* msg says which */
	} else if (X509_get0_pubkey(x) == NULL || EVP_PKEY_eq(X509_get0_pubkey(x), pending) != 1) {
		r = refuse(RENEW_WRONG_KEY, msg, msglen,
		           "the certificate is not for the key the device asked with");
	} else if (renew_cn(X509_get_subject_name(x), got, sizeof(got)) != 0 ||
	           strcmp(got, cn) != 0) {
		snprintf(msg, msglen, "the certificate is for CN %s, not the device's %s",
		         got[0] != '\0' ? got : "(none usable)", cn);
		r = RENEW_WRONG_NAME;
	} else if (X509_cmp_time(X509_get0_notBefore(x), &t) >= 0) {
		r = refuse(RENEW_NOT_YET_VALID, msg, msglen,
		           "the certificate is not valid yet; is the device's clock right?");
	} else if (X509_cmp_time(X509_get0_notAfter(x), &t) <= 0) {
		r = refuse(RENEW_EXPIRED, msg, msglen, "the certificate has expired");
	} else {
		r = RENEW_OK;
	}
	ERR_clear_error();
	if (r == RENEW_OK)
		*out = x;
	else
		X509_free(x);
	return r;
}

int
renew_cert_pem(X509 *x, char **out, size_t *outlen)
{
	BIO *bio = BIO_new(BIO_s_mem());
	int r = -1;

	*out = NULL;
	if (bio != NULL && PEM_write_bio_X509(bio, x) == 1 && bio_copy(bio, out, outlen) == 0)
		r = 0;
	BIO_free(bio);
	return r;
}

int
renew_key_pem(EVP_PKEY *key, char **out, size_t *outlen)
{
	BIO *bio = BIO_new(BIO_s_secmem());
	char *data;
	long n;
	int r = -1;

	*out = NULL;
	if (bio != NULL &&
	    PEM_write_bio_PKCS8PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) == 1 &&
	    (n = BIO_get_mem_data(bio, &data)) > 0 &&
	    (*out = OPENSSL_secure_malloc((size_t)n + 1)) != NULL) {
		memcpy(*out, data, (size_t)n);
		(*out)[n] = '\0';
		*outlen = (size_t)n;
		r = 0;
	}
	BIO_free(bio); /* a secure-memory BIO: cleared when freed */
	ERR_clear_error();
	return r;
}

void
renew_secret_free(char *p, size_t len)
{
	if (p != NULL)
		OPENSSL_secure_clear_free(p, len + 1);
}
