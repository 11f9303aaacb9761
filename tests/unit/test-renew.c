/*
 * test-renew: renew.c, the renewal's two messages, against a PKI made here with the OpenSSL API
 * (a CA, another CA with the same name, a device with an EC P-256 key). The request the device
 * makes must read back as what it asked for; every way a request or a certificate can be wrong
 * must be refused with its own reason, the first in the documented order; and the new key must
 * be of the current one's kind.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "renew.h"

#define DAY (24L * 3600L)

static struct {
	EVP_PKEY *ca_key, *other_ca_key, *device_key, *new_key, *stranger_key;
	X509 *ca, *other_ca, *device;
	X509_STORE *store;
	int64_t now;
} pki;

/* ---- making a PKI -------------------------------------------------------------------------- */

static EVP_PKEY *
ec_key(const char *curve)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve);

	assert_non_null(k);
	return k;
}

static void
add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	e = X509V3_EXT_nconf_nid(NULL, &ctx, nid, value);
	assert_non_null(e);
	assert_int_equal(X509_add_ext(x, e, -1), 1);
	X509_EXTENSION_free(e);
}

/*
 * A certificate for KEY named CN, valid FROM to TO seconds from now, signed by ISSUER's
 * ISSUER_KEY (itself when ISSUER is NULL: a CA); EKU for a leaf ("clientAuth", "serverAuth",
 * or NULL for none).
 */
static X509 *
make_cert(EVP_PKEY *key, const char *cn, long from, long to, X509 *issuer, EVP_PKEY *issuer_key,
          const char *eku)
{
	static long serial = 1000;
	X509 *x = X509_new();

	assert_non_null(x);
	assert_int_equal(X509_set_version(x, X509_VERSION_3), 1);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_UTF8,
	                           (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(issuer != NULL ? issuer : x));
	X509_time_adj_ex(X509_getm_notBefore(x), 0, from, NULL);
	X509_time_adj_ex(X509_getm_notAfter(x), 0, to, NULL);
	assert_int_equal(X509_set_pubkey(x, key), 1);
	if (issuer == NULL) {
		add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE");
		add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign");
	} else {
		add_ext(x, issuer, NID_basic_constraints, "critical,CA:FALSE");
		if (eku != NULL)
			add_ext(x, issuer, NID_ext_key_usage, eku);
	}
	assert_true(X509_sign(x, issuer_key, EVP_sha256()) > 0);
	return x;
}

static int
setup_pki(void **state)
{
	(void)state;
	pki.now = (int64_t)time(NULL);
	pki.ca_key = ec_key("P-256");
	pki.other_ca_key = ec_key("P-256");
	pki.device_key = ec_key("P-256");
	pki.new_key = ec_key("P-256");
	pki.stranger_key = ec_key("P-256");
	pki.ca = make_cert(pki.ca_key, "garaged test CA", -DAY, 3650 * DAY, NULL, pki.ca_key, NULL);
	/* Another CA with the very same name: only its key tells them apart. */
	pki.other_ca = make_cert(pki.other_ca_key, "garaged test CA", -DAY, 3650 * DAY, NULL,
	                         pki.other_ca_key, NULL);
	pki.device = make_cert(pki.device_key, "garage.local", -DAY, 2 * DAY, pki.ca, pki.ca_key,
	                       "clientAuth");
	pki.store = X509_STORE_new();
	assert_non_null(pki.store);
	assert_int_equal(X509_STORE_add_cert(pki.store, pki.ca), 1);
	return 0;
}

static int
teardown_pki(void **state)
{
	(void)state;
	X509_STORE_free(pki.store);
	X509_free(pki.device);
	X509_free(pki.other_ca);
	X509_free(pki.ca);
	EVP_PKEY_free(pki.stranger_key);
	EVP_PKEY_free(pki.new_key);
	EVP_PKEY_free(pki.device_key);
	EVP_PKEY_free(pki.other_ca_key);
	EVP_PKEY_free(pki.ca_key);
	return 0;
}

/* X as PEM, into a static buffer; its length in *len. */
static const char *
pem_of(X509 *x, size_t *len)
{
	static char buf[8192];
	char *p;
	size_t n;

	assert_int_equal(renew_cert_pem(x, &p, &n), 0);
	assert_true(n < sizeof(buf));
	memcpy(buf, p, n + 1);
	free(p);
	*len = n;
	return buf;
}

/* ---- the request ----------------------------------------------------------------------------- */

/* The device's request for pki.new_key, into a malloc'd buffer. */
static char *
device_request(size_t *len)
{
	char err[256], *req = NULL;

	assert_int_equal(renew_request_make(pki.new_key, pki.device, pki.device_key, &req, len, err,
	                                    sizeof(err)),
	                 0);
	return req;
}

static void
assert_request_refused(const char *buf, size_t len, enum renew_reason want)
{
	struct renew_request r;
	char msg[RENEW_MSG_MAX];
	enum renew_reason got = renew_request_parse(buf, len, &r, msg, sizeof(msg));

	if (got != want)
		print_error("want %s, got %s (%s)\n", renew_reason_name(want),
		            renew_reason_name(got), msg);
	assert_int_equal(got, want);
	assert_true(msg[0] != '\0');
	assert_null(r.req);
	assert_null(r.current);
}

static void
test_renew_request_RoundTrip(void **state)
{
	struct renew_request r;
	char msg[RENEW_MSG_MAX];
	size_t len;
	char *req = device_request(&len);

	(void)state;
	assert_non_null(strstr(req, "-----BEGIN CERTIFICATE REQUEST-----"));
	assert_non_null(strstr(req, "-----BEGIN " RENEW_PROOF_LABEL "-----"));
	assert_null(strstr(req, "PRIVATE KEY"));
	assert_true(len < RENEW_REQUEST_MAX);
	assert_int_equal(renew_request_parse(req, len, &r, msg, sizeof(msg)), RENEW_OK);
	assert_string_equal(r.cn, "garage.local");
	assert_int_equal(EVP_PKEY_eq(X509_REQ_get0_pubkey(r.req), pki.new_key), 1);
	assert_int_equal(X509_cmp(r.current, pki.device), 0);
	assert_true(strlen(r.info.serial) > 0);
	assert_true(strlen(r.info.not_after) == 20);
	renew_request_free(&r);
	assert_null(r.req);
	free(req);
}

static void
test_renew_request_Malformed(void **state)
{
	size_t len, n;
	char *req = device_request(&len), *buf = malloc(2 * len + 64);
	const char *second, *third;

	(void)state;
	assert_non_null(buf);
	second = strstr(req, "-----BEGIN CERTIFICATE-----");
	third = strstr(req, "-----BEGIN " RENEW_PROOF_LABEL);
	assert_non_null(second);
	assert_non_null(third);

	assert_request_refused("", 0, RENEW_MALFORMED);
	assert_request_refused("hello", 5, RENEW_MALFORMED);
	/* A NUL, or a byte that is no text. */
	memcpy(buf, req, len);
	buf[10] = '\0';
	assert_request_refused(buf, len, RENEW_MALFORMED);
	buf[10] = '\x1b';
	assert_request_refused(buf, len, RENEW_MALFORMED);
	/* The request alone; the request and the certificate, without the proof. */
	assert_request_refused(req, (size_t)(second - req), RENEW_MALFORMED);
	assert_request_refused(req, (size_t)(third - req), RENEW_MALFORMED);
	/* Text before, or after. */
	n = (size_t)snprintf(buf, 2 * len + 64, "hello\n%s", req);
	assert_request_refused(buf, n, RENEW_MALFORMED);
	n = (size_t)snprintf(buf, 2 * len + 64, "%shello\n", req);
	assert_request_refused(buf, n, RENEW_MALFORMED);
	/* White space around it is fine. */
	n = (size_t)snprintf(buf, 2 * len + 64, "\n \n%s\n\n", req);
	{
		struct renew_request r;
		char msg[RENEW_MSG_MAX];

		assert_int_equal(renew_request_parse(buf, n, &r, msg, sizeof(msg)), RENEW_OK);
		renew_request_free(&r);
	}
	/* The blocks in another order: the certificate first. */
	n = (size_t)(third - second);
	memcpy(buf, second, n);
	memcpy(buf + n, req, (size_t)(second - req));
	memcpy(buf + n + (size_t)(second - req), third, len - (size_t)(third - req));
	assert_request_refused(buf, len, RENEW_MALFORMED);
	/* A block whose base64 is cut. */
	memcpy(buf, req, len);
	memmove(buf + 40, buf + 80, len - 80);
	assert_request_refused(buf, len - 40, RENEW_MALFORMED);
	free(buf);
	free(req);
}

static void
test_renew_request_TooLarge(void **state)
{
	char *big = malloc(RENEW_REQUEST_MAX + 1);

	(void)state;
	assert_non_null(big);
	memset(big, ' ', RENEW_REQUEST_MAX + 1);
	assert_request_refused(big, RENEW_REQUEST_MAX + 1, RENEW_TOO_LARGE);
	free(big);
}

/* A request whose proof another key signed: the asker does not hold the certificate's key. */
static void
test_renew_request_ProofByAnotherKey(void **state)
{
	char err[256], *req = NULL;
	size_t len;

	(void)state;
	assert_int_equal(renew_request_make(pki.new_key, pki.device, pki.stranger_key, &req, &len,
	                                    err, sizeof(err)),
	                 0);
	assert_request_refused(req, len, RENEW_BAD_SIGNATURE);
	free(req);
}

/* A request for a CN that its certificate does not carry: a device asking to be another. */
static void
test_renew_request_OtherName(void **state)
{
	X509 *ctl =
	    make_cert(pki.stranger_key, "ctl.local", -DAY, DAY, pki.ca, pki.ca_key, "clientAuth");
	char err[256], *a = NULL, *b = NULL, *mixed;
	const char *cert_a, *cert_b;
	size_t la, lb, n;

	(void)state;
	/* The device's own request, and a controller's, then the device's request block with
	 * the controller's certificate and proof. */
	assert_int_equal(
	    renew_request_make(pki.new_key, pki.device, pki.device_key, &a, &la, err, sizeof(err)),
	    0);
	assert_int_equal(
	    renew_request_make(pki.new_key, ctl, pki.stranger_key, &b, &lb, err, sizeof(err)), 0);
	cert_a = strstr(a, "-----BEGIN CERTIFICATE-----");
	cert_b = strstr(b, "-----BEGIN CERTIFICATE-----");
	mixed = malloc(la + lb);
	assert_non_null(mixed);
	n = (size_t)(cert_a - a);
	memcpy(mixed, a, n);
	memcpy(mixed + n, cert_b, lb - (size_t)(cert_b - b));
	n += lb - (size_t)(cert_b - b);
	assert_request_refused(mixed, n, RENEW_WRONG_NAME);
	free(mixed);
	free(a);
	free(b);
	X509_free(ctl);
}

/* The request's own signature broken: one byte of its DER changed (within the base64). */
static void
test_renew_request_BadOwnSignature(void **state)
{
	EVP_PKEY *other = ec_key("P-256");
	X509_REQ *req = X509_REQ_new();
	char err[256], *good = NULL, *buf;
	const char *rest;
	size_t len, n;
	BIO *bio = BIO_new(BIO_s_mem());
	char *pem;
	long plen;

	(void)state;
	/* A request signed by another key than the one it carries, then the device's
	 * certificate and proof over it: only the request's own signature is wrong. */
	X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req), "CN", MBSTRING_UTF8,
	                           (const unsigned char *)"garage.local", -1, -1, 0);
	X509_REQ_set_pubkey(req, pki.new_key);
	assert_true(X509_REQ_sign(req, other, EVP_sha256()) > 0);
	assert_int_equal(PEM_write_bio_X509_REQ(bio, req), 1);
	plen = BIO_get_mem_data(bio, &pem);
	assert_int_equal(renew_request_make(pki.new_key, pki.device, pki.device_key, &good, &len,
	                                    err, sizeof(err)),
	                 0);
	rest = strstr(good, "-----BEGIN CERTIFICATE-----");
	buf = malloc((size_t)plen + len);
	assert_non_null(buf);
	memcpy(buf, pem, (size_t)plen);
	n = (size_t)plen;
	memcpy(buf + n, rest, len - (size_t)(rest - good));
	n += len - (size_t)(rest - good);
	/* The proof is over the good request's bytes: it fails first if the request's own
	 * signature were checked last. The order says the request's own comes first. */
	assert_request_refused(buf, n, RENEW_BAD_SIGNATURE);
	free(buf);
	free(good);
	BIO_free(bio);
	X509_REQ_free(req);
	EVP_PKEY_free(other);
}

static void
test_renew_request_WeakKey(void **state)
{
	EVP_PKEY *weak = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	char err[256], *req = NULL;
	size_t len;

	(void)state;
	assert_non_null(weak);
	assert_int_equal(
	    renew_request_make(weak, pki.device, pki.device_key, &req, &len, err, sizeof(err)), 0);
	assert_request_refused(req, len, RENEW_WEAK_KEY);
	free(req);
	EVP_PKEY_free(weak);
}

/* ---- the certificate ------------------------------------------------------------------------- */

static void
assert_cert(X509 *x, EVP_PKEY *pending, enum renew_reason want)
{
	struct renew_cert_info info;
	char msg[RENEW_MSG_MAX];
	X509 *out = NULL;
	size_t len;
	const char *pem = pem_of(x, &len);
	enum renew_reason got = renew_cert_check(pem, len, pki.store, pending, "garage.local",
	                                         pki.now, &out, &info, msg, sizeof(msg));

	if (got != want)
		print_error("want %s, got %s (%s)\n", renew_reason_name(want),
		            renew_reason_name(got), msg);
	assert_int_equal(got, want);
	/* Whatever the verdict, a certificate that parsed is named in the event. */
	assert_true(strlen(info.serial) > 0);
	if (want == RENEW_OK) {
		assert_non_null(out);
		assert_int_equal(X509_cmp(out, x), 0);
		X509_free(out);
	} else {
		assert_null(out);
		assert_true(msg[0] != '\0');
	}
}

static void
test_renew_cert_Good(void **state)
{
	X509 *x = make_cert(pki.new_key, "garage.local", -300, 365 * DAY, pki.ca, pki.ca_key,
	                    "clientAuth");

	(void)state;
	assert_cert(x, pki.new_key, RENEW_OK);
	X509_free(x);
}

static void
test_renew_cert_Refusals(void **state)
{
	X509 *good = make_cert(pki.new_key, "garage.local", -300, 365 * DAY, pki.ca, pki.ca_key,
	                       "clientAuth");
	X509 *other_ca = make_cert(pki.new_key, "garage.local", -300, 365 * DAY, pki.other_ca,
	                           pki.other_ca_key, "clientAuth");
	X509 *server = make_cert(pki.new_key, "garage.local", -300, 365 * DAY, pki.ca, pki.ca_key,
	                         "serverAuth");
	X509 *other_key = make_cert(pki.stranger_key, "garage.local", -300, 365 * DAY, pki.ca,
	                            pki.ca_key, "clientAuth");
	X509 *other_name =
	    make_cert(pki.new_key, "side.local", -300, 365 * DAY, pki.ca, pki.ca_key, "clientAuth");
	X509 *expired = make_cert(pki.new_key, "garage.local", -10 * DAY, -DAY, pki.ca, pki.ca_key,
	                          "clientAuth");
	X509 *future = make_cert(pki.new_key, "garage.local", DAY, 365 * DAY, pki.ca, pki.ca_key,
	                         "clientAuth");

	(void)state;
	assert_cert(good, NULL, RENEW_NOTHING_PENDING);
	assert_cert(other_ca, pki.new_key, RENEW_WRONG_CA);
	assert_cert(server, pki.new_key, RENEW_NOT_CLIENT);
	assert_cert(other_key, pki.new_key, RENEW_WRONG_KEY);
	assert_cert(other_name, pki.new_key, RENEW_WRONG_NAME);
	assert_cert(expired, pki.new_key, RENEW_EXPIRED);
	assert_cert(future, pki.new_key, RENEW_NOT_YET_VALID);
	/* The order: another CA's certificate for another key and name is wrong_ca. */
	X509_free(other_name);
	other_name = make_cert(pki.stranger_key, "side.local", -10 * DAY, -DAY, pki.other_ca,
	                       pki.other_ca_key, "clientAuth");
	assert_cert(other_name, pki.new_key, RENEW_WRONG_CA);
	X509_free(other_name);
	X509_free(future);
	X509_free(expired);
	X509_free(other_key);
	X509_free(server);
	X509_free(other_ca);
	X509_free(good);
}

static void
test_renew_cert_Malformed(void **state)
{
	X509 *x = make_cert(pki.new_key, "garage.local", -300, 365 * DAY, pki.ca, pki.ca_key,
	                    "clientAuth");
	struct renew_cert_info info;
	char msg[RENEW_MSG_MAX], buf[2 * 8192];
	const char *pem;
	enum renew_reason r;
	X509 *out = NULL;
	size_t len, n;
	static char big[RENEW_CERT_MAX + 1];

	(void)state;
	pem = pem_of(x, &len);
#define CHECK(b, l)                                                                                \
	renew_cert_check((b), (l), pki.store, pki.new_key, "garage.local", pki.now, &out, &info,   \
	                 msg, sizeof(msg))
	assert_int_equal(CHECK("", 0), RENEW_MALFORMED);
	assert_int_equal(CHECK("junk", 4), RENEW_MALFORMED);
	/* Two certificates; text after; a private key block. */
	n = (size_t)snprintf(buf, sizeof(buf), "%s%s", pem, pem);
	assert_int_equal(CHECK(buf, n), RENEW_MALFORMED);
	n = (size_t)snprintf(buf, sizeof(buf), "%sjunk\n", pem);
	assert_int_equal(CHECK(buf, n), RENEW_MALFORMED);
	n = (size_t)snprintf(buf, sizeof(buf),
	                     "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END "
	                     "PRIVATE KEY-----\n");
	assert_int_equal(CHECK(buf, n), RENEW_MALFORMED);
	/* DER is not what the topic carries. */
	{
		unsigned char *der = NULL;
		int dlen = i2d_X509(x, &der);

		assert_true(dlen > 0);
		assert_int_equal(CHECK(der, (size_t)dlen), RENEW_MALFORMED);
		OPENSSL_free(der);
	}
	memset(big, ' ', sizeof(big));
	assert_int_equal(CHECK(big, sizeof(big)), RENEW_TOO_LARGE);
	/* The good one, with white space around. */
	n = (size_t)snprintf(buf, sizeof(buf), "\r\n%s\n", pem);
	r = CHECK(buf, n);
	assert_int_equal(r, RENEW_OK);
	X509_free(out);
#undef CHECK
	X509_free(x);
}

/* ---- keys ------------------------------------------------------------------------------------ */

static void
assert_same_kind(EVP_PKEY *current)
{
	char err[256], a[64], b[64];
	EVP_PKEY *k = renew_new_key(current, err, sizeof(err));

	assert_non_null(k);
	assert_int_equal(EVP_PKEY_get_base_id(k), EVP_PKEY_get_base_id(current));
	assert_int_equal(EVP_PKEY_get_bits(k), EVP_PKEY_get_bits(current));
	assert_true(renew_key_acceptable(k, a, sizeof(a)));
	(void)renew_key_acceptable(current, b, sizeof(b));
	assert_string_equal(a, b);
	assert_int_not_equal(EVP_PKEY_eq(k, current), 1);
	EVP_PKEY_free(k);
}

static void
test_renew_new_key_SameKind(void **state)
{
	EVP_PKEY *p384 = ec_key("P-384");
	EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);

	(void)state;
	assert_same_kind(pki.device_key);
	assert_same_kind(p384);
	assert_same_kind(ed);
	assert_same_kind(rsa);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(ed);
	EVP_PKEY_free(p384);
}

/* The new key of an Ed25519 device signs its request and proof without a digest. */
static void
test_renew_request_Ed25519(void **state)
{
	EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"), *edn;
	X509 *dev = make_cert(ed, "garage.local", -DAY, DAY, pki.ca, pki.ca_key, "clientAuth");
	struct renew_request r;
	char err[256], msg[RENEW_MSG_MAX], *req = NULL;
	size_t len;

	(void)state;
	edn = renew_new_key(ed, err, sizeof(err));
	assert_non_null(edn);
	assert_int_equal(renew_request_make(edn, dev, ed, &req, &len, err, sizeof(err)), 0);
	assert_int_equal(renew_request_parse(req, len, &r, msg, sizeof(msg)), RENEW_OK);
	assert_int_equal(EVP_PKEY_eq(X509_REQ_get0_pubkey(r.req), edn), 1);
	renew_request_free(&r);
	free(req);
	X509_free(dev);
	EVP_PKEY_free(edn);
	EVP_PKEY_free(ed);
}

static void
test_renew_key_acceptable(void **state)
{
	EVP_PKEY *p224 = ec_key("P-224");
	EVP_PKEY *k256 = ec_key("secp256k1");
	char what[64];

	(void)state;
	assert_true(renew_key_acceptable(pki.device_key, what, sizeof(what)));
	assert_non_null(strstr(what, "EC 256-bit"));
	assert_false(renew_key_acceptable(p224, what, sizeof(what)));
	assert_false(renew_key_acceptable(k256, what, sizeof(what)));
	EVP_PKEY_free(k256);
	EVP_PKEY_free(p224);
}

static void
test_renew_reason_name(void **state)
{
	(void)state;
	assert_string_equal(renew_reason_name(RENEW_OK), "ok");
	assert_string_equal(renew_reason_name(RENEW_WRONG_KEY), "wrong_key");
	assert_string_equal(renew_reason_name(RENEW_REASON_COUNT), "unknown");
	for (int i = 0; i < RENEW_REASON_COUNT; i++)
		for (int j = i + 1; j < RENEW_REASON_COUNT; j++)
			assert_string_not_equal(renew_reason_name((enum renew_reason)i),
			                        renew_reason_name((enum renew_reason)j));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_renew_request_RoundTrip),
	    cmocka_unit_test(test_renew_request_Malformed),
	    cmocka_unit_test(test_renew_request_TooLarge),
	    cmocka_unit_test(test_renew_request_ProofByAnotherKey),
	    cmocka_unit_test(test_renew_request_OtherName),
	    cmocka_unit_test(test_renew_request_BadOwnSignature),
	    cmocka_unit_test(test_renew_request_WeakKey),
	    cmocka_unit_test(test_renew_request_Ed25519),
	    cmocka_unit_test(test_renew_cert_Good),
	    cmocka_unit_test(test_renew_cert_Refusals),
	    cmocka_unit_test(test_renew_cert_Malformed),
	    cmocka_unit_test(test_renew_new_key_SameKind),
	    cmocka_unit_test(test_renew_key_acceptable),
	    cmocka_unit_test(test_renew_reason_name),
	};

	return cmocka_run_group_tests(tests, setup_pki, teardown_pki);
}
