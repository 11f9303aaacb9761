/*
 * test-tls: tls.c against certificates made here with the OpenSSL API (EC P-256, one CA, a
 * forged CA with the same name, a broker and a device), written as PEM and DER into a scratch
 * folder. tls_new() must load every form and refuse what it cannot use with a clear line; real
 * handshakes with an in-process broker over a socketpair must pass or fail each check (CA,
 * host name, expiry, pins, protocol version) and name the one that failed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "tls.h"

#define DAY       (24L * 3600L)
#define MAX_FILES 32

static struct {
	char dir[64];
	char files[MAX_FILES][128];
	size_t nfiles;
	EVP_PKEY *ca_key, *rogue_key, *server_key, *client_key, *ed_key;
	X509 *ca, *rogue, *server, *rogue_server, *expired, *future, *client, *ed_client;
} pki;

/* ---- making a PKI -------------------------------------------------------------------------- */

static const char *
path(const char *name)
{
	static char buf[4][160];
	static int next;
	char *p = buf[next++ % 4];

	snprintf(p, sizeof(buf[0]), "%s/%s", pki.dir, name);
	return p;
}

static FILE *
create(const char *name)
{
	FILE *f;

	assert_true(pki.nfiles < MAX_FILES);
	snprintf(pki.files[pki.nfiles++], sizeof(pki.files[0]), "%s", path(name));
	f = fopen(path(name), "wb");
	assert_non_null(f);
	return f;
}

static void
write_bytes(const char *name, const void *data, size_t len)
{
	FILE *f = create(name);

	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void
write_cert(const char *name, X509 *x, bool der)
{
	FILE *f = create(name);

	assert_int_equal(der ? i2d_X509_fp(f, x) : PEM_write_X509(f, x), 1);
	fclose(f);
}

/* DER keys in both forms OpenSSL writes: PKCS#8 (`openssl pkey -outform der`) and the
 * algorithm's own (SEC1 for EC). */
enum key_form { KEY_PEM, KEY_PKCS8_DER, KEY_RAW_DER, KEY_ENCRYPTED_PEM };

static void
write_key(const char *name, EVP_PKEY *k, enum key_form form)
{
	FILE *f = create(name);
	char pass[] = "secret";
	int ok = 0;

	switch (form) {
	case KEY_PEM:
		ok = PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
		break;
	case KEY_PKCS8_DER:
		ok = i2d_PKCS8PrivateKey_fp(f, k, NULL, NULL, 0, NULL, NULL);
		break;
	case KEY_RAW_DER:
		ok = i2d_PrivateKey_fp(f, k);
		break;
	case KEY_ENCRYPTED_PEM:
		ok = PEM_write_PKCS8PrivateKey(f, k, EVP_aes_128_cbc(), pass, (int)strlen(pass),
		                               NULL, NULL);
		break;
	}
	assert_int_equal(ok, 1);
	fclose(f);
}

static void
add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	assert_non_null(ext);
	assert_int_equal(X509_add_ext(x, ext, -1), 1);
	X509_EXTENSION_free(ext);
}

/*
 * A certificate named CN for KEY, valid from FROM to TO seconds from now: a CA when ISSUER is
 * NULL (self-signed), else an end entity signed by ISSUER with the extended key usage EKU and,
 * when SAN is given, those subjectAltNames.
 */
static X509 *
make_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, const char *eku,
          const char *san, long from, long to)
{
	static long serial = 1;
	X509 *x = X509_new();
	X509_NAME *name;

	assert_non_null(x);
	assert_int_equal(X509_set_version(x, 2), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), serial++), 1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), from));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), to));
	assert_int_equal(X509_set_pubkey(x, key), 1);
	name = X509_get_subject_name(x);
	assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	                                            (const unsigned char *)cn, -1, -1, 0),
	                 1);
	assert_int_equal(
	    X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer) : name), 1);
	if (issuer == NULL) {
		add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE");
		add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign");
		add_ext(x, x, NID_subject_key_identifier, "hash");
	} else {
		add_ext(x, issuer, NID_basic_constraints, "CA:FALSE");
		add_ext(x, issuer, NID_ext_key_usage, eku);
		if (san != NULL)
			add_ext(x, issuer, NID_subject_alt_name, san);
	}
	assert_true(X509_sign(x, issuer_key != NULL ? issuer_key : key, EVP_sha256()) > 0);
	return x;
}

static EVP_PKEY *
ec_key(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");

	assert_non_null(k);
	return k;
}

static int
setup_pki(void **state)
{
	static const char garbage[] = "this is not a certificate\n";
	static const char fake_pem[] = "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n"
	                               "-----END CERTIFICATE-----\n";
	static const unsigned char binary[] = {0x30, 0x82, 0x7f, 0xff, 0x00, 0x01, 0x02, 0x03};
	const char *san = "DNS:localhost,IP:127.0.0.1";
	unsigned char *der = NULL;
	int n;
	FILE *f;

	(void)state;
	snprintf(pki.dir, sizeof(pki.dir), "/tmp/test-tls.XXXXXX");
	assert_non_null(mkdtemp(pki.dir));

	pki.ca_key = ec_key();
	pki.rogue_key = ec_key();
	pki.server_key = ec_key();
	pki.client_key = ec_key();
	pki.ed_key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	assert_non_null(pki.ed_key);
	/* The forged CA has the real one's name: only the signature tells them apart. */
	pki.ca = make_cert("garaged test CA", pki.ca_key, NULL, NULL, NULL, NULL, -DAY, 30 * DAY);
	pki.rogue =
	    make_cert("garaged test CA", pki.rogue_key, NULL, NULL, NULL, NULL, -DAY, 30 * DAY);
	pki.server = make_cert("localhost", pki.server_key, pki.ca, pki.ca_key, "serverAuth", san,
	                       -DAY, 30 * DAY);
	pki.rogue_server = make_cert("localhost", pki.server_key, pki.rogue, pki.rogue_key,
	                             "serverAuth", san, -DAY, 30 * DAY);
	pki.expired = make_cert("localhost", pki.server_key, pki.ca, pki.ca_key, "serverAuth", san,
	                        -2 * DAY, -DAY);
	pki.future = make_cert("localhost", pki.server_key, pki.ca, pki.ca_key, "serverAuth", san,
	                       DAY, 2 * DAY);
	pki.client = make_cert("garage.local", pki.client_key, pki.ca, pki.ca_key, "clientAuth",
	                       NULL, -DAY, 10 * DAY);
	pki.ed_client = make_cert("ed.local", pki.ed_key, pki.ca, pki.ca_key, "clientAuth", NULL,
	                          -DAY, 10 * DAY);

	write_cert("ca.crt", pki.ca, false);
	write_cert("ca.der", pki.ca, true);
	write_cert("client.crt", pki.client, false);
	write_cert("client.der", pki.client, true);
	write_cert("ed.crt", pki.ed_client, false);
	write_key("client.key", pki.client_key, KEY_PEM);
	write_key("client.key.der", pki.client_key, KEY_PKCS8_DER);
	write_key("client.key.sec1", pki.client_key, KEY_RAW_DER);
	write_key("client.key.enc", pki.client_key, KEY_ENCRYPTED_PEM);
	write_key("server.key", pki.server_key, KEY_PEM);
	write_key("ed.key", pki.ed_key, KEY_PEM);
	write_key("ed.key.der", pki.ed_key, KEY_PKCS8_DER);
	write_bytes("garbage.txt", garbage, strlen(garbage));
	write_bytes("fake.pem", fake_pem, strlen(fake_pem));
	write_bytes("binary.bin", binary, sizeof(binary));
	write_bytes("empty", "", 0);

	/* cafile with several CAs: the forged one first, then the real one, in PEM and DER. */
	f = create("bundle.crt");
	assert_int_equal(PEM_write_X509(f, pki.rogue), 1);
	assert_int_equal(PEM_write_X509(f, pki.ca), 1);
	fclose(f);
	f = create("bundle.der");
	assert_int_equal(i2d_X509_fp(f, pki.rogue), 1);
	assert_int_equal(i2d_X509_fp(f, pki.ca), 1);
	fclose(f);
	/* A DER certificate followed by junk. */
	n = i2d_X509(pki.client, &der);
	assert_true(n > 0);
	f = create("trailing.der");
	assert_int_equal(fwrite(der, 1, (size_t)n, f), (size_t)n);
	assert_int_equal(fwrite("junk", 1, 4, f), 4);
	fclose(f);
	OPENSSL_free(der);
	return 0;
}

static int
teardown_pki(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < pki.nfiles; i++)
		unlink(pki.files[i]);
	rmdir(pki.dir);
	X509_free(pki.ca);
	X509_free(pki.rogue);
	X509_free(pki.server);
	X509_free(pki.rogue_server);
	X509_free(pki.expired);
	X509_free(pki.future);
	X509_free(pki.client);
	X509_free(pki.ed_client);
	EVP_PKEY_free(pki.ca_key);
	EVP_PKEY_free(pki.rogue_key);
	EVP_PKEY_free(pki.server_key);
	EVP_PKEY_free(pki.client_key);
	EVP_PKEY_free(pki.ed_key);
	return 0;
}

/* ---- configurations -------------------------------------------------------------------------- */

static void
conf(struct config *c, const char *cafile, const char *certfile, const char *keyfile)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->file, sizeof(c->file), "test.conf");
	snprintf(c->host, sizeof(c->host), "localhost");
	c->port = 8883;
	snprintf(c->cafile, sizeof(c->cafile), "%s", path(cafile));
	snprintf(c->certfile, sizeof(c->certfile), "%s", path(certfile));
	snprintf(c->keyfile, sizeof(c->keyfile), "%s", path(keyfile));
	snprintf(c->tls_version, sizeof(c->tls_version), "tlsv1.2");
}

static void
add_pin(struct config *c, enum config_pin_kind kind, const unsigned char *digest)
{
	struct config_pin *p = &c->pins[c->npins];

	p->kind = kind;
	p->len = kind == CONFIG_PIN_CERT_SHA1 ? 20 : 32;
	memcpy(p->digest, digest, p->len);
	p->line = 10 + (int)c->npins++;
}

/* Fingerprints of a certificate computed here, independently of tls.c. */
struct fp {
	unsigned char cert256[32], spki256[32], cert1[20], keybits256[32];
};

static void
fingerprints(X509 *x, EVP_PKEY *key, struct fp *fp)
{
	unsigned char *der = NULL;
	unsigned int n = 0;
	int len;

	len = i2d_X509(x, &der);
	assert_true(len > 0);
	assert_int_equal(EVP_Digest(der, (size_t)len, fp->cert256, NULL, EVP_sha256(), NULL), 1);
	assert_int_equal(EVP_Digest(der, (size_t)len, fp->cert1, NULL, EVP_sha1(), NULL), 1);
	OPENSSL_free(der);
	der = NULL;
	len = i2d_PUBKEY(key, &der); /* SubjectPublicKeyInfo, as `openssl pkey -pubout` */
	assert_true(len > 0);
	assert_int_equal(EVP_Digest(der, (size_t)len, fp->spki256, NULL, EVP_sha256(), NULL), 1);
	OPENSSL_free(der);
	assert_int_equal(X509_pubkey_digest(x, EVP_sha256(), fp->keybits256, &n), 1);
}

static const char *
hex(char *buf, size_t size, const unsigned char *d, size_t n)
{
	size_t i;

	buf[0] = '\0';
	for (i = 0; i < n && 3 * i + 3 <= size; i++)
		snprintf(buf + 3 * i, size - 3 * i, "%02X%s", d[i], i + 1 < n ? ":" : "");
	return buf;
}

/* ---- an in-process broker -------------------------------------------------------------------- */

/* A broker with CERT that asks for a client certificate from CLIENT_CA, up to MAX_VERSION. */
static SSL_CTX *
broker(X509 *cert, X509 *client_ca, int max_version)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	assert_non_null(ctx);
	assert_int_equal(SSL_CTX_use_certificate(ctx, cert), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(ctx, pki.server_key), 1);
	assert_int_equal(X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), client_ca), 1);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	if (max_version != 0) {
		/* An old broker: TLS 1.1 needs security level 0 in OpenSSL 3. */
		SSL_CTX_set_security_level(ctx, 0);
		assert_int_equal(SSL_CTX_set_min_proto_version(ctx, 0), 1);
		assert_int_equal(SSL_CTX_set_max_proto_version(ctx, max_version), 1);
	}
	return ctx;
}

static void
nonblocking(int fd)
{
	assert_int_equal(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK), 0);
}

/* Instead of reading, leave it to tls_read_alert() to fetch the broker's verdict. */
static bool read_alert_only;

static bool
fatal(SSL *ssl, int r)
{
	int e = SSL_get_error(ssl, r);

	return e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE;
}

/*
 * One handshake between t's context (the device, asking for SNI) and a broker, both ends in
 * this thread over a socketpair. Returns whether the device got through it. OpenSSL's error
 * queue is emptied at the end, as libmosquitto does: tls.c must have kept what it needs.
 */
static bool
handshake(struct tls *t, const char *sni, SSL_CTX *server)
{
	bool cdone = false, sdone = false, cfail = false, sfail = false;
	SSL *c, *s;
	char byte;
	int sv[2], i, r = 0;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	nonblocking(sv[0]);
	nonblocking(sv[1]);
	c = SSL_new(tls_ssl_ctx(t));
	s = SSL_new(server);
	assert_non_null(c);
	assert_non_null(s);
	assert_int_equal(SSL_set_fd(c, sv[0]), 1);
	assert_int_equal(SSL_set_fd(s, sv[1]), 1);
	assert_int_equal(SSL_set_tlsext_host_name(c, sni), 1);
	SSL_set_connect_state(c);
	SSL_set_accept_state(s);
	ERR_clear_error();
	for (i = 0; i < 1000 && !cfail && !(cdone && (sdone || sfail)); i++) {
		if (!cdone && (r = SSL_do_handshake(c)) == 1)
			cdone = true;
		else if (!cdone && fatal(c, r))
			cfail = true;
		if (!sdone && !sfail && (r = SSL_do_handshake(s)) == 1)
			sdone = true;
		else if (!sdone && !sfail && fatal(s, r))
			sfail = true;
	}
	assert_true(i < 1000);
	/* In TLS 1.3 the broker judges the client certificate after the client is done: its
	 * verdict arrives with the first read. */
	if (cdone && sfail && read_alert_only) {
		tls_read_alert(t, c);
		cfail = tls_explain_failure(t) != NULL;
	} else if (cdone && sfail) {
		r = SSL_read(c, &byte, 1);
		cfail = r <= 0 && fatal(c, r);
	}
	ERR_clear_error();
	SSL_free(c);
	SSL_free(s);
	close(sv[0]);
	close(sv[1]);
	return cdone && !cfail;
}

/* Connects cfg's tls to BROKER; returns the tls for more checks (the caller frees it). */
static struct tls *
connect_to(const struct config *cfg, SSL_CTX *server, bool expect_ok)
{
	char err[512];
	struct tls *t = tls_new(cfg, err, sizeof(err));

	if (t == NULL)
		fail_msg("tls_new: %s", err);
	assert_int_equal(handshake(t, cfg->host, server), expect_ok);
	SSL_CTX_free(server);
	return t;
}

/* Expects the handshake to be refused by CHECK, with every one of the NULL-ended phrases. */
static void
expect_refused(const struct config *cfg, SSL_CTX *server, enum tls_check check, ...)
{
	struct tls *t = connect_to(cfg, server, false);
	const char *why = tls_explain_failure(t), *phrase;
	va_list ap;

	assert_non_null(why);
	if (tls_refused_check(t) != check)
		fail_msg("want check %d, got %d: %s", check, tls_refused_check(t), why);
	assert_string_equal(tls_last_refusal(t), why);
	va_start(ap, check);
	while ((phrase = va_arg(ap, const char *)) != NULL)
		if (strstr(why, phrase) == NULL)
			fail_msg("'%s' not in '%s'", phrase, why);
	va_end(ap);
	tls_free(t);
}

/* ---- tls_new ----------------------------------------------------------------------------- */

static void
expect_new(const char *cafile, const char *certfile, const char *keyfile)
{
	struct config cfg;
	char err[512] = "";
	struct tls *t;

	conf(&cfg, cafile, certfile, keyfile);
	t = tls_new(&cfg, err, sizeof(err));
	if (t == NULL)
		fail_msg("%s %s %s: %s", cafile, certfile, keyfile, err);
	assert_non_null(tls_ssl_ctx(t));
	assert_null(tls_last_refusal(t));
	tls_free(t);
}

static void
expect_new_fails(const char *cafile, const char *certfile, const char *keyfile, const char *a,
                 const char *b)
{
	struct config cfg;
	char err[512] = "";

	conf(&cfg, cafile, certfile, keyfile);
	assert_null(tls_new(&cfg, err, sizeof(err)));
	if (strstr(err, a) == NULL || (b != NULL && strstr(err, b) == NULL))
		fail_msg("want '%s' and '%s' in '%s'", a, b != NULL ? b : "", err);
	assert_int_equal(ERR_peek_error(), 0);
}

static void
test_tls_new_Pem(void **state)
{
	(void)state;
	expect_new("ca.crt", "client.crt", "client.key");
	expect_new("bundle.crt", "client.crt", "client.key");
}

static void
test_tls_new_Der(void **state)
{
	(void)state;
	expect_new("ca.der", "client.der", "client.key.der");
	expect_new("ca.der", "client.der", "client.key.sec1");
	expect_new("bundle.der", "client.crt", "client.key.der");
	expect_new("ca.crt", "client.der", "client.key");
}

static void
test_tls_new_Ed25519(void **state)
{
	(void)state;
	expect_new("ca.crt", "ed.crt", "ed.key");
	expect_new("ca.crt", "ed.crt", "ed.key.der");
}

static void
test_tls_new_WrongKey(void **state)
{
	(void)state;
	expect_new_fails("ca.crt", "client.crt", "server.key", "is not the key of certfile",
	                 path("server.key"));
	expect_new_fails("ca.crt", "client.crt", "ed.key", "is not the key of certfile", NULL);
}

static void
test_tls_new_MissingFile(void **state)
{
	(void)state;
	expect_new_fails("nope.crt", "client.crt", "client.key", "cafile", "No such file");
	expect_new_fails("ca.crt", "nope.crt", "client.key", "certfile", "No such file");
	expect_new_fails("ca.crt", "client.crt", "nope.key", "keyfile", "No such file");
}

static void
test_tls_new_Garbage(void **state)
{
	(void)state;
	expect_new_fails("garbage.txt", "client.crt", "client.key", path("garbage.txt"),
	                 "neither PEM nor DER");
	expect_new_fails("binary.bin", "client.crt", "client.key", "cafile", "neither PEM nor DER");
	expect_new_fails("fake.pem", "client.crt", "client.key", "cafile", "no PEM certificate");
	expect_new_fails("empty", "client.crt", "client.key", "cafile", "is empty");
	expect_new_fails("ca.crt", "garbage.txt", "client.key", "certfile", "no certificate");
	expect_new_fails("ca.crt", "fake.pem", "client.key", "certfile", "no certificate");
	expect_new_fails("ca.crt", "trailing.der", "client.key", "certfile", "bytes after");
	expect_new_fails("ca.crt", "client.crt", "garbage.txt", "keyfile", "no private key");
	expect_new_fails("ca.crt", "client.crt", "binary.bin", "keyfile", "no private key");
	expect_new_fails("ca.crt", "client.crt", "ca.crt", "keyfile", "no private key");
	/* Never a passphrase prompt: a daemon has nobody to ask. */
	expect_new_fails("ca.crt", "client.crt", "client.key.enc", "keyfile", "encrypted");
}

static void
test_tls_client_cert_expires_in(void **state)
{
	struct config cfg;
	char err[512];
	struct tls *t;
	int64_t s;

	(void)state;
	conf(&cfg, "ca.crt", "client.crt", "client.key");
	t = tls_new(&cfg, err, sizeof(err));
	assert_non_null(t);
	s = tls_client_cert_expires_in(t);
	assert_true(s > 10 * DAY - 120 && s <= 10 * DAY);
	assert_non_null(strstr(tls_client_cert_not_after(t), " UTC"));
	tls_free(t);
}

/* ---- handshakes ---------------------------------------------------------------------------- */

static void
test_tls_handshake_NoPins(void **state)
{
	struct config cfg;
	struct tls *t;
	struct fp fp;
	char want[128], h[100];

	(void)state;
	fingerprints(pki.server, pki.server_key, &fp);
	conf(&cfg, "ca.crt", "client.crt", "client.key");
	t = connect_to(&cfg, broker(pki.server, pki.ca, 0), true);
	assert_null(tls_last_refusal(t));
	assert_null(tls_explain_failure(t));
	assert_int_equal(tls_refused_check(t), TLS_CHECK_NONE);
	assert_null(tls_matched_pin(t));
	assert_true(tls_handshake_done(t));
	snprintf(want, sizeof(want), "sha256:%s", hex(h, sizeof(h), fp.cert256, 32));
	assert_string_equal(tls_peer_fingerprint(t), want);
	tls_free(t);
}

static void
expect_pinned(struct config *cfg, size_t matched)
{
	struct tls *t = connect_to(cfg, broker(pki.server, pki.ca, 0), true);

	assert_null(tls_last_refusal(t));
	assert_ptr_equal(tls_matched_pin(t), &cfg->pins[matched]);
	tls_free(t);
}

static void
test_tls_handshake_Pins(void **state)
{
	static const unsigned char wrong[32] = {0x11, 0x22, 0x33};
	struct config cfg;
	struct fp fp;

	(void)state;
	fingerprints(pki.server, pki.server_key, &fp);
	conf(&cfg, "ca.crt", "client.crt", "client.key");
	add_pin(&cfg, CONFIG_PIN_CERT_SHA256, fp.cert256);
	expect_pinned(&cfg, 0);

	conf(&cfg, "ca.crt", "client.crt", "client.key");
	add_pin(&cfg, CONFIG_PIN_SPKI_SHA256, fp.spki256);
	expect_pinned(&cfg, 0);

	conf(&cfg, "ca.crt", "client.crt", "client.key");
	add_pin(&cfg, CONFIG_PIN_CERT_SHA1, fp.cert1);
	expect_pinned(&cfg, 0);
	assert_int_equal(cfg.pins[0].kind, CONFIG_PIN_CERT_SHA1);

	/* Rotation: the old broker certificate's pin and the new one's; one is enough. */
	conf(&cfg, "ca.crt", "client.crt", "client.key");
	add_pin(&cfg, CONFIG_PIN_CERT_SHA256, wrong);
	add_pin(&cfg, CONFIG_PIN_SPKI_SHA256, fp.spki256);
	expect_pinned(&cfg, 1);
}

static void
test_tls_handshake_PinMismatch(void **state)
{
	static const unsigned char wrong[32] = {0xAB, 0xCD, 0xEF};
	struct config cfg;
	struct fp fp;
	char expected[128], seen[128], seen_spki[140], seen1[80], h[100];

	(void)state;
	fingerprints(pki.server, pki.server_key, &fp);
	snprintf(expected, sizeof(expected), "expected sha256:%s", hex(h, sizeof(h), wrong, 32));
	snprintf(seen, sizeof(seen), "seen sha256:%s", hex(h, sizeof(h), fp.cert256, 32));
	snprintf(seen_spki, sizeof(seen_spki), "spki-sha256:%s", hex(h, sizeof(h), fp.spki256, 32));
	snprintf(seen1, sizeof(seen1), "(sha1 %s)", hex(h, sizeof(h), fp.cert1, 20));

	conf(&cfg, "ca.crt", "client.crt", "client.key");
	add_pin(&cfg, CONFIG_PIN_CERT_SHA256, wrong);
	expect_refused(&cfg, broker(pki.server, pki.ca, 0), TLS_CHECK_PIN, "pin check failed",
	               "matches no pin", expected, seen, seen_spki, seen1, NULL);

	/* X509_pubkey_digest() hashes the key bits alone: that is not an SPKI pin. */
	conf(&cfg, "ca.crt", "client.crt", "client.key");
	add_pin(&cfg, CONFIG_PIN_SPKI_SHA256, fp.keybits256);
	add_pin(&cfg, CONFIG_PIN_CERT_SHA1, fp.cert256); /* the first 20 bytes of another hash */
	expect_refused(&cfg, broker(pki.server, pki.ca, 0), TLS_CHECK_PIN,
	               "expected spki-sha256:", ", sha1 ", seen, NULL);
}

static void
test_tls_handshake_HostName(void **state)
{
	struct config cfg;
	struct tls *t;

	(void)state;
	conf(&cfg, "ca.crt", "client.crt", "client.key");
	snprintf(cfg.host, sizeof(cfg.host), "mqtt.example");
	expect_refused(&cfg, broker(pki.server, pki.ca, 0), TLS_CHECK_HOST,
	               "host name check failed", "is for DNS:localhost, IP:127.0.0.1",
	               "not mqtt.example", NULL);
	/* An address must be one the certificate names, as an IP entry. */
	snprintf(cfg.host, sizeof(cfg.host), "127.0.0.2");
	expect_refused(&cfg, broker(pki.server, pki.ca, 0), TLS_CHECK_HOST, "not 127.0.0.2", NULL);
	snprintf(cfg.host, sizeof(cfg.host), "127.0.0.1");
	t = connect_to(&cfg, broker(pki.server, pki.ca, 0), true);
	tls_free(t);
}

static void
test_tls_handshake_WrongCa(void **state)
{
	struct config cfg;

	(void)state;
	conf(&cfg, "ca.crt", "client.crt", "client.key");
	expect_refused(&cfg, broker(pki.rogue_server, pki.ca, 0), TLS_CHECK_CA, "CA check failed",
	               "is not signed by the CA in", path("ca.crt"), "subject CN=localhost",
	               "issuer CN=garaged test CA", NULL);
	/* The other way round, the chain breaks at the CA's certificate: the line still
	 * describes the broker's. */
	write_cert("rogue.crt", pki.rogue, false);
	conf(&cfg, "rogue.crt", "client.crt", "client.key");
	expect_refused(&cfg, broker(pki.server, pki.ca, 0), TLS_CHECK_CA, path("rogue.crt"),
	               "subject CN=localhost, issuer CN=garaged test CA", NULL);
}

static void
test_tls_handshake_Expiry(void **state)
{
	struct config cfg;

	(void)state;
	conf(&cfg, "ca.crt", "client.crt", "client.key");
	expect_refused(&cfg, broker(pki.expired, pki.ca, 0), TLS_CHECK_EXPIRY,
	               "expiry check failed", "the broker's certificate expired on", " UTC", NULL);
	expect_refused(&cfg, broker(pki.future, pki.ca, 0), TLS_CHECK_EXPIRY, "not valid before",
	               NULL);
}

static void
test_tls_handshake_ProtocolVersion(void **state)
{
	struct config cfg;

	(void)state;
	conf(&cfg, "ca.crt", "client.crt", "client.key");
	expect_refused(&cfg, broker(pki.server, pki.ca, TLS1_1_VERSION), TLS_CHECK_PROTOCOL,
	               "protocol version check failed",
	               "the broker offers nothing at or above TLS 1.2", NULL);
	snprintf(cfg.tls_version, sizeof(cfg.tls_version), "tlsv1.3");
	expect_refused(&cfg, broker(pki.server, pki.ca, TLS1_2_VERSION), TLS_CHECK_PROTOCOL,
	               "at or above TLS 1.3", NULL);
}

static void
test_tls_handshake_ClientRefused(void **state)
{
	struct config cfg;

	(void)state;
	conf(&cfg, "ca.crt", "client.crt", "client.key");
	expect_refused(&cfg, broker(pki.server, pki.rogue, 0), TLS_CHECK_CLIENT,
	               "client certificate check failed", path("client.crt"), NULL);
	/* libmosquitto may fail writing CONNECT before it reads: tls_read_alert() reads. */
	read_alert_only = true;
	expect_refused(&cfg, broker(pki.server, pki.rogue, 0), TLS_CHECK_CLIENT,
	               "the broker refused the certificate in", NULL);
	read_alert_only = false;
}

/* A refusal belongs to one attempt: the next handshake, or tls_handshake_begin(), forgets it. */
static void
test_tls_handshake_Cleared(void **state)
{
	struct config cfg;
	char err[512];
	struct tls *t;
	SSL_CTX *good, *rogue;

	(void)state;
	conf(&cfg, "ca.crt", "client.crt", "client.key");
	t = tls_new(&cfg, err, sizeof(err));
	assert_non_null(t);
	good = broker(pki.server, pki.ca, 0);
	rogue = broker(pki.rogue_server, pki.ca, 0);
	assert_false(handshake(t, "localhost", rogue));
	assert_int_equal(tls_refused_check(t), TLS_CHECK_CA);
	assert_true(handshake(t, "localhost", good));
	assert_null(tls_last_refusal(t));
	assert_null(tls_explain_failure(t));
	assert_false(handshake(t, "localhost", rogue));
	assert_non_null(tls_explain_failure(t));
	tls_handshake_begin(t);
	assert_null(tls_last_refusal(t));
	assert_null(tls_explain_failure(t));
	assert_null(tls_ssl_error(t));
	assert_false(tls_handshake_done(t));
	SSL_CTX_free(good);
	SSL_CTX_free(rogue);
	tls_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tls_new_Pem),
	    cmocka_unit_test(test_tls_new_Der),
	    cmocka_unit_test(test_tls_new_Ed25519),
	    cmocka_unit_test(test_tls_new_WrongKey),
	    cmocka_unit_test(test_tls_new_MissingFile),
	    cmocka_unit_test(test_tls_new_Garbage),
	    cmocka_unit_test(test_tls_client_cert_expires_in),
	    cmocka_unit_test(test_tls_handshake_NoPins),
	    cmocka_unit_test(test_tls_handshake_Pins),
	    cmocka_unit_test(test_tls_handshake_PinMismatch),
	    cmocka_unit_test(test_tls_handshake_HostName),
	    cmocka_unit_test(test_tls_handshake_WrongCa),
	    cmocka_unit_test(test_tls_handshake_Expiry),
	    cmocka_unit_test(test_tls_handshake_ProtocolVersion),
	    cmocka_unit_test(test_tls_handshake_ClientRefused),
	    cmocka_unit_test(test_tls_handshake_Cleared),
	};

	return cmocka_run_group_tests(tests, setup_pki, teardown_pki);
}
