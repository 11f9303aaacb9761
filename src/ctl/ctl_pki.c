/*
 * ctl_pki: see ctl_pki.h. OpenSSL makes the keys, signs the certificates and the CRL and does
 * every encoding; this file chooses the profiles, checks what the owner typed, and owns the
 * files of the PKI directory.
 */
#include "ctl_pki.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ctl_command.h"
#include "renew.h"

#define CA_DAYS_DEFAULT   3650
#define LEAF_DAYS_DEFAULT CTL_PKI_DAYS_DEFAULT
/* A CRL past its next update makes Mosquitto refuse every client, the device included: by
 * default it lives as long as the CA (it is clamped to the CA's end), not a month. */
#define CRL_DAYS_DEFAULT 3650
#define DAYS_MAX         CTL_PKI_DAYS_MAX
#define RSA_BITS_MIN     2048
#define RSA_BITS_MAX     8192
/* 128 random bits: RFC 5280 allows 20 octets, CA/B practice asks for at least 64 bits. */
#define SERIAL_BYTES 16
/* Certificates start a little in the past, so that a device whose clock lags accepts them. */
#define BACKDATE_S 300
#define IPS_MAX    16
#define ERR_MAX    (3 * PATH_MAX)
/* The longest serial in the revoked list: 20 octets in hex. */
#define SERIAL_HEX_MAX 40
/* "YYYYMMDDHHMMSSZ", the revocation time in the revoked list. */
#define WHEN_LEN 15

static const char revoked_header[] =
    "# Certificates revoked by this CA, written by garagectl pki revoke; crl.pem is signed\n"
    "# from this list. One a line: serial (hex), revocation time (UTC), name.\n";

/* The CA of a PKI directory, loaded to sign. */
struct ca {
	X509 *cert;
	EVP_PKEY *key;
};

static bool
is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool
is_ip_literal(const char *s)
{
	unsigned char addr[16];

	return inet_pton(AF_INET, s, addr) == 1 || inet_pton(AF_INET6, s, addr) == 1;
}

/* A host name a server certificate can carry: LDH labels of 1 to 63, no trailing dot. */
static bool
hostname_valid(const char *s)
{
	size_t label = 0;
	char prev = '.';

	if (strlen(s) > CTL_PKI_NAME_MAX)
		return false;
	for (; *s != '\0'; prev = *s++) {
		if (*s == '.') {
			if (label == 0 || prev == '-')
				return false;
			label = 0;
		} else if (is_alnum(*s) || (*s == '-' && label > 0)) {
			if (++label > 63)
				return false;
		} else {
			return false;
		}
	}
	return label > 0 && prev != '-';
}

/*
 * A certificate's CN first (names.h), so that every client certificate pki issues can be named
 * in broker-config's ACL; then what a file stem in DIR needs on top of that.
 */
bool
ctl_pki_name_valid(const char *name)
{
	if (!names_cn_valid(name))
		return false;
	if (is_ip_literal(name))
		return true;
	if (!is_alnum(name[0]) || strcmp(name, "ca") == 0)
		return false;
	for (; *name != '\0'; name++)
		if (!is_alnum(*name) && strchr("._-", *name) == NULL)
			return false;
	return true;
}

/*
 * The CA's CN, as --cn takes it: 1 to 64 bytes, no control characters. Not names_cn_valid():
 * it is a display name that no ACL or topic ever holds, so spaces are welcome in it.
 */
static bool
ca_cn_valid(const char *cn)
{
	size_t n = strlen(cn);

	if (n < 1 || n > CTL_PKI_NAME_MAX)
		return false;
	for (; *cn != '\0'; cn++)
		if ((unsigned char)*cn < 0x20 || *cn == 0x7f)
			return false;
	return true;
}

/* A whole number in [min, max], for --days, --rsa and --crl-days. */
static bool
parse_int(const char *s, long min, long max, int *out)
{
	char *end;
	long n;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	n = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || n < min || n > max)
		return false;
	*out = (int)n;
	return true;
}

/*
 * The options init and issue share: --days N, --rsa BITS, --force. Returns 1 when argv[*i] was
 * one of them, 0 when it was not, -1 after reporting a bad value.
 */
static int
key_option(int argc, char *argv[], int *i, int *days, int *rsa, bool *force)
{
	const char *v;
	int r;

	if ((r = ctl_option(argc, argv, i, "--days", &v)) != 0) {
		if (r > 0 && !parse_int(v, 1, DAYS_MAX, days)) {
			ctl_usage_error("--days takes 1 to %d, not '%s'", DAYS_MAX, v);
			return -1;
		}
		return r;
	}
	if ((r = ctl_option(argc, argv, i, "--rsa", &v)) != 0) {
		if (r > 0 && !parse_int(v, RSA_BITS_MIN, RSA_BITS_MAX, rsa)) {
			ctl_usage_error("--rsa takes %d to %d bits, not '%s'", RSA_BITS_MIN,
			                RSA_BITS_MAX, v);
			return -1;
		}
		return r;
	}
	if (strcmp(argv[*i], "--force") == 0) {
		*force = true;
		return 1;
	}
	return 0;
}

/* DIR/NAMESUFFIX into out, without doubling the '/' of a DIR that ends in one. */
static int
path_join(char *out, size_t size, const char *dir, const char *name, const char *suffix, char *err,
          size_t errlen)
{
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (n > INT_MAX ||
	    (size_t)snprintf(out, size, "%.*s/%s%s", (int)n, dir, name, suffix) >= size) {
		snprintf(err, errlen, "the path %s/%s%s is too long; use a shorter --dir", dir,
		         name, suffix);
		return -1;
	}
	return 0;
}

/* The private key as PEM PKCS#8 ("BEGIN PRIVATE KEY", unencrypted), the format openssl
 * genpkey writes, to PATH. */
static int
write_key_pem(const char *path, EVP_PKEY *key, bool force, const char *hint, char *err,
              size_t errlen)
{
	BIO *bio = BIO_new(BIO_s_secmem());
	char why[256], *pem;
	long len;
	int r = -1;

	if (bio == NULL ||
	    PEM_write_bio_PKCS8PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) != 1 ||
	    (len = BIO_get_mem_data(bio, &pem)) <= 0)
		snprintf(err, errlen, "cannot encode the private key%s",
		         ctl_ssl_reason(why, sizeof(why)));
	else
		r = ctl_write_key(path, pem, (size_t)len, force, hint, err, errlen);
	BIO_free(bio); /* a secure-memory BIO: cleared when freed */
	return r;
}

static int
write_cert_pem(const char *path, X509 *x, char *err, size_t errlen)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char why[256], *pem;
	long len;
	int r = -1;

	if (bio == NULL || PEM_write_bio_X509(bio, x) != 1 ||
	    (len = BIO_get_mem_data(bio, &pem)) <= 0)
		snprintf(err, errlen, "cannot encode the certificate%s",
		         ctl_ssl_reason(why, sizeof(why)));
	else
		r = ctl_write_file(path, pem, (size_t)len, 0644, err, errlen);
	BIO_free(bio);
	return r;
}

/* Keys are stored unencrypted (mode 0600 protects them): never stop to ask for a passphrase. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/* A certificate from PATH, PEM or DER. Returns it (X509_free), or NULL with err. */
static X509 *
load_cert(const char *path, char *err, size_t errlen)
{
	struct ctl_blob b;
	X509 *x = NULL;
	BIO *bio;
	char why[256];

	if (ctl_read_file(path, false, &b, err, errlen) != 0)
		return NULL;
	bio = BIO_new_mem_buf(b.p, (int)b.len);
	if (bio != NULL)
		x = PEM_read_bio_X509(bio, NULL, no_passphrase, NULL);
	BIO_free(bio);
	if (x == NULL && strstr(b.p, "-----BEGIN") == NULL) {
		const unsigned char *p = (const unsigned char *)b.p;

		ERR_clear_error();
		x = d2i_X509(NULL, &p, (long)b.len);
	}
	if (x == NULL)
		snprintf(err, errlen, "%s is not a certificate (PEM or DER)%s; give the .crt file",
		         path, ctl_ssl_reason(why, sizeof(why)));
	ctl_blob_free(&b);
	return x;
}

/* A PEM private key from the text in B. Returns it, or NULL with err naming PATH. */
static EVP_PKEY *
parse_key(const struct ctl_blob *b, const char *path, char *err, size_t errlen)
{
	EVP_PKEY *key = NULL;
	BIO *bio;
	char why[256];

	if (strstr(b->p, "ENCRYPTED PRIVATE KEY") != NULL ||
	    strstr(b->p, "Proc-Type: 4,ENCRYPTED")) {
		snprintf(
		    err, errlen,
		    "%s is encrypted; garagectl needs it unencrypted (openssl pkey -in %s -out "
		    "FILE asks for the passphrase once)",
		    path, path);
		return NULL;
	}
	bio = BIO_new_mem_buf(b->p, (int)b->len);
	if (bio != NULL)
		key = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	BIO_free(bio);
	if (key == NULL)
		snprintf(err, errlen, "%s is not a PEM private key%s", path,
		         ctl_ssl_reason(why, sizeof(why)));
	return key;
}

static void
ca_free(struct ca *ca)
{
	X509_free(ca->cert);
	EVP_PKEY_free(ca->key);
	ca->cert = NULL;
	ca->key = NULL;
}

/*
 * Loads DIR's CA to sign with. Returns 0, or -1 with what to do in err: no CA yet, a key that
 * others can read (treated as leaked, as garaged treats its own), a key that is not the
 * certificate's, an expired CA.
 */
static int
ca_load(const char *dir, struct ca *ca, char *err, size_t errlen)
{
	char crt[PATH_MAX], key[PATH_MAX], why[ERR_MAX];
	struct ctl_blob b;

	memset(ca, 0, sizeof(*ca));
	if (path_join(crt, sizeof(crt), dir, "ca", ".crt", err, errlen) != 0 ||
	    path_join(key, sizeof(key), dir, "ca", ".key", err, errlen) != 0)
		return -1;
	if (access(crt, F_OK) != 0 && errno == ENOENT) {
		snprintf(err, errlen,
		         "no CA in %s (%s is missing); run garagectl pki init --dir %s first", dir,
		         crt, dir);
		return -1;
	}
	if ((ca->cert = load_cert(crt, err, errlen)) == NULL)
		return -1;
	if (ctl_read_file(key, true, &b, why, sizeof(why)) != 0) {
		if (errno == ENOENT)
			snprintf(
			    err, errlen,
			    "%s is missing: the CA cannot sign without its key (restore it, or "
			    "run garagectl pki init --dir %s --force for a new CA)",
			    key, dir);
		else
			snprintf(err, errlen, "%s", why);
		goto fail;
	}
	if ((b.mode & (S_IRWXG | S_IRWXO)) != 0) {
		snprintf(err, errlen, "%s is open to group or others (mode %04o); run chmod 600 %s",
		         key, (unsigned)(b.mode & 07777), key);
		ctl_blob_free(&b);
		goto fail;
	}
	ca->key = parse_key(&b, key, err, errlen);
	ctl_blob_free(&b);
	if (ca->key == NULL)
		goto fail;
	if (X509_check_private_key(ca->cert, ca->key) != 1) {
		ERR_clear_error();
		snprintf(err, errlen, "%s is not the key of %s; put the CA's own key back", key,
		         crt);
		goto fail;
	}
	if (X509_check_ca(ca->cert) == 0) {
		snprintf(err, errlen,
		         "%s is not a CA certificate; make one with garagectl pki init", crt);
		goto fail;
	}
	if (X509_cmp_current_time(X509_get0_notAfter(ca->cert)) <= 0) {
		snprintf(err, errlen,
		         "the CA %s has expired; make a new one with garagectl pki init --dir %s "
		         "--force and issue every certificate again",
		         crt, dir);
		goto fail;
	}
	return 0;
fail:
	ca_free(ca);
	return -1;
}

/* A new key: RSA of RSA_BITS when not 0, else EC on CURVE. */
static EVP_PKEY *
make_key(int rsa_bits, const char *curve, char *err, size_t errlen)
{
	EVP_PKEY *key;
	char why[256];

	if (rsa_bits > 0)
		key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)rsa_bits);
	else
		key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve);
	if (key == NULL)
		snprintf(err, errlen, "cannot make a key%s", ctl_ssl_reason(why, sizeof(why)));
	return key;
}

/* EdDSA keys sign the message itself; the others sign its SHA-256. */
static const EVP_MD *
sign_md(EVP_PKEY *key)
{
	int id = EVP_PKEY_get_base_id(key);

	return id == EVP_PKEY_ED25519 || id == EVP_PKEY_ED448 ? NULL : EVP_sha256();
}

static int
set_random_serial(X509 *x)
{
	unsigned char buf[SERIAL_BYTES];
	ASN1_INTEGER *serial = NULL;
	BIGNUM *bn = NULL;
	int ok;

	/* From unsigned bytes: the serial is positive (DER adds a 0 octet when needed). */
	ok = RAND_bytes(buf, sizeof(buf)) == 1 &&
	     (bn = BN_bin2bn(buf, sizeof(buf), NULL)) != NULL &&
	     (!BN_is_zero(bn) || BN_one(bn) == 1) &&
	     (serial = BN_to_ASN1_INTEGER(bn, NULL)) != NULL &&
	     X509_set_serialNumber(x, serial) == 1;
	ASN1_INTEGER_free(serial);
	BN_free(bn);
	return ok ? 0 : -1;
}

/* Adds the extension NID = VALUE (openssl.cnf syntax) to CERT, issued by ISSUER. */
static int
add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509_EXTENSION *ext;
	X509V3_CTX ctx;
	int ok;

	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	ext = X509V3_EXT_nconf_nid(NULL, &ctx, nid, value);
	ok = ext != NULL && X509_add_ext(cert, ext, -1) == 1;
	X509_EXTENSION_free(ext);
	return ok ? 0 : -1;
}

/* A new certificate for KEY named CN: v3, random serial, DAYS from now. Issuer not set. */
static X509 *
new_cert(EVP_PKEY *key, const char *cn, int days)
{
	X509 *x = X509_new();
	X509_NAME *name;

	if (x == NULL)
		return NULL;
	name = X509_get_subject_name(x);
	if (X509_set_version(x, X509_VERSION_3) != 1 || set_random_serial(x) != 0 ||
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1,
	                               0) != 1 ||
	    X509_set_pubkey(x, key) != 1 ||
	    X509_time_adj_ex(X509_getm_notBefore(x), 0, -BACKDATE_S, NULL) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), days, 0, NULL) == NULL) {
		X509_free(x);
		return NULL;
	}
	return x;
}

/* "2036-05-01 12:00 UTC" */
static const char *
time_text(const ASN1_TIME *t, char *buf, size_t size)
{
	struct tm tm;

	if (ASN1_TIME_to_tm(t, &tm) != 1 || strftime(buf, size, "%Y-%m-%d %H:%M UTC", &tm) == 0)
		snprintf(buf, size, "(unknown)");
	return buf;
}

/* "EC 256-bit" */
static const char *
key_text(EVP_PKEY *key, char *buf, size_t size)
{
	snprintf(buf, size, "%s %d-bit", EVP_PKEY_get0_type_name(key), EVP_PKEY_get_bits(key));
	return buf;
}

/* Bytes as uppercase hex pairs with SEP between them, as openssl x509 -fingerprint prints. */
static void
hex_pairs(const unsigned char *d, size_t n, char sep, char *out)
{
	static const char digits[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < n; i++) {
		*out++ = digits[d[i] >> 4];
		*out++ = digits[d[i] & 15];
		if (i + 1 < n)
			*out++ = sep;
	}
	*out = '\0';
}

/* The certificate's SHA-256 in colon form into out (at least 96 bytes). */
static int
cert_sha256(X509 *x, char *out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0;

	if (X509_digest(x, EVP_sha256(), md, &n) != 1 || n != 32)
		return -1;
	hex_pairs(md, n, ':', out);
	return 0;
}

/* Makes DIR (0700) unless it is there. */
static int
ensure_dir(const char *dir, char *err, size_t errlen)
{
	struct stat st;

	if (mkdir(dir, 0700) == 0)
		return 0;
	if (errno == EEXIST && stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	snprintf(err, errlen, "cannot create the directory %s: %s", dir,
	         errno == EEXIST ? "a file is in the way" : strerror(errno));
	return -1;
}

/* --- pki init ------------------------------------------------------------------------- */

static int
pki_init(int argc, char *argv[])
{
	const char *dir = NULL, *cn = "garaged CA";
	char crt[PATH_MAX], key[PATH_MAX], err[ERR_MAX], why[256], fp[100], when[64], kt[64];
	int days = CA_DAYS_DEFAULT, rsa = 0, i, r, ret = CTL_EXIT_FAILED;
	bool force = false;
	EVP_PKEY *k = NULL;
	X509 *x = NULL;

	for (i = 0; i < argc; i++) {
		if ((r = ctl_option(argc, argv, &i, "--dir", &dir)) < 0 ||
		    (r == 0 && (r = ctl_option(argc, argv, &i, "--cn", &cn)) < 0))
			return CTL_EXIT_USAGE;
		if (r > 0)
			continue;
		if ((r = key_option(argc, argv, &i, &days, &rsa, &force)) < 0)
			return CTL_EXIT_USAGE;
		if (r == 0)
			return ctl_usage_error("pki init: unknown option or argument '%s'",
			                       argv[i]);
	}
	if (dir == NULL || *dir == '\0')
		return ctl_usage_error("pki init needs --dir DIR, the directory for the CA");
	if (!ca_cn_valid(cn))
		return ctl_usage_error("--cn takes 1 to 64 characters without control characters");
	if (path_join(crt, sizeof(crt), dir, "ca", ".crt", err, sizeof(err)) != 0 ||
	    path_join(key, sizeof(key), dir, "ca", ".key", err, sizeof(err)) != 0)
		return ctl_usage_error("%s", err);
	/* Either file alone may be the CA (its key kept offline): never replace it silently. */
	if (!force && (access(key, F_OK) == 0 || access(crt, F_OK) == 0))
		return ctl_failed(
		    "%s already has a CA; pki init never replaces one, since every "
		    "certificate it issued would stop verifying (give --force to make a "
		    "new CA anyway)",
		    dir);
	if (ensure_dir(dir, err, sizeof(err)) != 0)
		return ctl_failed("%s", err);
	if ((k = make_key(rsa, "P-256", err, sizeof(err))) == NULL)
		return ctl_failed("%s", err);

	x = new_cert(k, cn, days);
	/* A root that signs end certificates only (pathlen:0), and CRLs. */
	if (x == NULL || X509_set_issuer_name(x, X509_get_subject_name(x)) != 1 ||
	    add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") != 0 ||
	    add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign") != 0 ||
	    add_ext(x, x, NID_subject_key_identifier, "hash") != 0 ||
	    X509_sign(x, k, sign_md(k)) <= 0 || cert_sha256(x, fp) != 0) {
		ctl_failed("cannot make the CA certificate%s", ctl_ssl_reason(why, sizeof(why)));
		goto out;
	}
	if (write_key_pem(key, k, force, "give --force to replace the CA", err, sizeof(err)) != 0) {
		ctl_failed("%s", err);
		goto out;
	}
	if (write_cert_pem(crt, x, err, sizeof(err)) != 0) {
		if (!force)
			unlink(key); /* ours, just made: leave no key without its certificate */
		ctl_failed("%s", err);
		goto out;
	}
	printf("wrote %s (the CA's private key, mode 0600; keep a copy offline)\n", key);
	printf("wrote %s (CA \"%s\", %s, valid until %s)\n", crt, cn, key_text(k, kt, sizeof(kt)),
	       time_text(X509_get0_notAfter(x), when, sizeof(when)));
	printf("sha256 %s\n", fp);
	ret = CTL_EXIT_OK;
out:
	X509_free(x);
	EVP_PKEY_free(k);
	return ret;
}

/* --- pki issue ------------------------------------------------------------------------ */

/* A new key like the CA's (RSA of its size, or EC on its curve), unless --rsa said otherwise. */
static EVP_PKEY *
make_leaf_key(EVP_PKEY *cakey, int rsa, char *err, size_t errlen)
{
	char curve[64];

	if (rsa == 0 && EVP_PKEY_get_base_id(cakey) == EVP_PKEY_RSA) {
		rsa = EVP_PKEY_get_bits(cakey);
		if (rsa < RSA_BITS_MIN)
			rsa = RSA_BITS_MIN;
	}
	if (rsa != 0 || EVP_PKEY_get_base_id(cakey) != EVP_PKEY_EC ||
	    EVP_PKEY_get_utf8_string_param(cakey, OSSL_PKEY_PARAM_GROUP_NAME, curve, sizeof(curve),
	                                   NULL) != 1)
		snprintf(curve, sizeof(curve), "P-256");
	return make_key(rsa, curve, err, errlen);
}

/* The leaf profile: serverAuth or clientAuth, signed by the CA. */
static X509 *
make_leaf(struct ca *ca, EVP_PKEY *k, const char *name, bool server, const char *san, int days,
          bool *clamped)
{
	bool rsa = EVP_PKEY_get_base_id(k) == EVP_PKEY_RSA;
	X509 *x = new_cert(k, name, days);

	if (x == NULL)
		return NULL;
	/* A certificate cannot outlive the CA that vouches for it. */
	*clamped = ASN1_TIME_compare(X509_get0_notAfter(x), X509_get0_notAfter(ca->cert)) > 0;
	if ((*clamped && X509_set1_notAfter(x, X509_get0_notAfter(ca->cert)) != 1) ||
	    X509_set_issuer_name(x, X509_get_subject_name(ca->cert)) != 1 ||
	    add_ext(x, ca->cert, NID_basic_constraints, "critical,CA:FALSE") != 0 ||
	    /* RSA key exchange (TLS 1.2 RSA suites) needs keyEncipherment; ECDSA never does. */
	    add_ext(x, ca->cert, NID_key_usage,
	            rsa ? "critical,digitalSignature,keyEncipherment"
	                : "critical,digitalSignature") != 0 ||
	    add_ext(x, ca->cert, NID_ext_key_usage, server ? "serverAuth" : "clientAuth") != 0 ||
	    add_ext(x, ca->cert, NID_subject_key_identifier, "hash") != 0 ||
	    add_ext(x, ca->cert, NID_authority_key_identifier,
	            X509_get0_subject_key_id(ca->cert) != NULL ? "keyid:always"
	                                                       : "issuer:always") != 0 ||
	    (san[0] != '\0' && add_ext(x, ca->cert, NID_subject_alt_name, san) != 0) ||
	    X509_sign(x, ca->key, sign_md(ca->key)) <= 0) {
		X509_free(x);
		return NULL;
	}
	return x;
}

static int
pki_issue(int argc, char *argv[])
{
	const char *dir = NULL, *server = NULL, *client = NULL, *name, *v, *ips[IPS_MAX];
	char crt[PATH_MAX], key[PATH_MAX], err[ERR_MAX], why[256], fp[100], when[64], kt[64],
	    hint[PATH_MAX + 64], san[IPS_MAX * 48 + CTL_PKI_NAME_MAX + 8];
	int days = LEAF_DAYS_DEFAULT, rsa = 0, i, r, ret = CTL_EXIT_FAILED;
	size_t nips = 0, k;
	bool force = false, clamped = false;
	struct ca ca = {0};
	EVP_PKEY *leafkey = NULL;
	X509 *x = NULL;

	for (i = 0; i < argc; i++) {
		if ((r = ctl_option(argc, argv, &i, "--dir", &dir)) < 0 ||
		    (r == 0 && (r = ctl_option(argc, argv, &i, "--server", &server)) < 0) ||
		    (r == 0 && (r = ctl_option(argc, argv, &i, "--client", &client)) < 0))
			return CTL_EXIT_USAGE;
		if (r > 0)
			continue;
		if ((r = ctl_option(argc, argv, &i, "--ip", &v)) < 0)
			return CTL_EXIT_USAGE;
		if (r > 0) {
			if (!is_ip_literal(v))
				return ctl_usage_error(
				    "--ip takes an IPv4 or IPv6 address, not '%s'", v);
			if (nips == IPS_MAX)
				return ctl_usage_error("at most %d --ip", IPS_MAX);
			ips[nips++] = v;
			continue;
		}
		if ((r = key_option(argc, argv, &i, &days, &rsa, &force)) < 0)
			return CTL_EXIT_USAGE;
		if (r == 0)
			return ctl_usage_error("pki issue: unknown option or argument '%s'",
			                       argv[i]);
	}
	if (dir == NULL || *dir == '\0')
		return ctl_usage_error("pki issue needs --dir DIR, the directory of the CA");
	if ((server == NULL) == (client == NULL))
		return ctl_usage_error(
		    "pki issue needs either --server NAME (the broker's host name) "
		    "or --client NAME (the MQTT identity)");
	name = server != NULL ? server : client;
	if (!ctl_pki_name_valid(name) ||
	    (server != NULL && !is_ip_literal(name) && !hostname_valid(name)))
		return ctl_usage_error(
		    "%s takes %s, not '%s'", server != NULL ? "--server" : "--client",
		    server != NULL ? "the broker's host name (letters, digits, '-' and '.') or IP "
		                     "address"
		                   : "1 to 64 characters of A-Z, a-z, 0-9 and '._-' (not 'ca')",
		    name);
	if (client != NULL && nips > 0)
		return ctl_usage_error("--ip is for --server certificates");
	if (path_join(crt, sizeof(crt), dir, name, ".crt", err, sizeof(err)) != 0 ||
	    path_join(key, sizeof(key), dir, name, ".key", err, sizeof(err)) != 0)
		return ctl_usage_error("%s", err);

	/* The subject alternative names a TLS client checks the host name against. */
	san[0] = '\0';
	if (server != NULL) {
		size_t n = (size_t)snprintf(san, sizeof(san), "%s:%s",
		                            is_ip_literal(name) ? "IP" : "DNS", name);

		for (k = 0; k < nips; k++)
			n += (size_t)snprintf(san + n, sizeof(san) - n, ",IP:%s", ips[k]);
	}
	snprintf(hint, sizeof(hint),
	         "pki issue never overwrites a key (give --force to replace %s's "
	         "key and certificate)",
	         name);
	/* Early, so that the owner is not kept waiting for an RSA key that cannot be written. */
	if (!force && access(key, F_OK) == 0)
		return ctl_failed("%s already exists; %s", key, hint);
	if (ca_load(dir, &ca, err, sizeof(err)) != 0)
		return ctl_failed("%s", err);
	if ((leafkey = make_leaf_key(ca.key, rsa, err, sizeof(err))) == NULL) {
		ctl_failed("%s", err);
		goto out;
	}
	if ((x = make_leaf(&ca, leafkey, name, server != NULL, san, days, &clamped)) == NULL ||
	    cert_sha256(x, fp) != 0) {
		ctl_failed("cannot make the certificate%s", ctl_ssl_reason(why, sizeof(why)));
		goto out;
	}
	if (write_key_pem(key, leafkey, force, hint, err, sizeof(err)) != 0) {
		ctl_failed("%s", err);
		goto out;
	}
	if (write_cert_pem(crt, x, err, sizeof(err)) != 0) {
		if (!force)
			unlink(key);
		ctl_failed("%s", err);
		goto out;
	}
	printf("wrote %s (private key, mode 0600)\n", key);
	printf("wrote %s (%s certificate, CN %s%s%s, %s, valid until %s%s)\n", crt,
	       server != NULL ? "server" : "client", name, san[0] != '\0' ? ", SAN " : "", san,
	       key_text(leafkey, kt, sizeof(kt)),
	       time_text(X509_get0_notAfter(x), when, sizeof(when)),
	       clamped ? ", when the CA expires" : "");
	printf("sha256 %s\n", fp);
	ret = CTL_EXIT_OK;
out:
	X509_free(x);
	EVP_PKEY_free(leafkey);
	ca_free(&ca);
	return ret;
}

/* --- pki fingerprint ------------------------------------------------------------------ */

static int
pki_fingerprint(int argc, char *argv[])
{
	const char *file = NULL;
	unsigned char md[EVP_MAX_MD_SIZE], *spki = NULL;
	char err[ERR_MAX], why[256], cert256[100], spki256[100], sha1c[64], sha1s[64];
	unsigned n = 0;
	bool sha1 = false;
	X509 *x;
	int i, len, ok;

	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--sha1") == 0)
			sha1 = true;
		else if (argv[i][0] == '-' || file != NULL)
			return ctl_usage_error("pki fingerprint: unknown option or argument '%s'",
			                       argv[i]);
		else
			file = argv[i];
	}
	if (file == NULL)
		return ctl_usage_error("pki fingerprint needs FILE, a certificate (PEM or DER)");
	if ((x = load_cert(file, err, sizeof(err))) == NULL)
		return ctl_failed("%s", err);
	/*
	 * The SPKI pin is the hash of the DER SubjectPublicKeyInfo (what HPKP and curl's
	 * --pinnedpubkey hash), not X509_pubkey_digest(), which hashes the bare key bits.
	 */
	len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &spki);
	ok = cert_sha256(x, cert256) == 0 && len > 0 &&
	     EVP_Digest(spki, (size_t)len, md, &n, EVP_sha256(), NULL) == 1 && n == 32;
	if (ok)
		hex_pairs(md, n, ':', spki256);
	ok = ok && X509_digest(x, EVP_sha1(), md, &n) == 1 && n == 20;
	OPENSSL_free(spki);
	X509_free(x);
	if (!ok)
		return ctl_failed("cannot hash %s%s", file, ctl_ssl_reason(why, sizeof(why)));
	hex_pairs(md, n, ':', sha1c);
	hex_pairs(md, n, ' ', sha1s);
	printf("sha256 %s\n", cert256);
	printf("spki-sha256 %s\n", spki256);
	if (sha1) {
		printf("sha1 %s\n", sha1c);
		printf("sha1-spaced %s\n", sha1s);
	}
	/* A pin of the key survives renewing the certificate with the same key; the
	 * certificate's pin does not. */
	printf("# for [mqtt] in garaged.conf (pin may be given more than once, for rotation):\n");
	printf("pin = sha256:%s\n", cert256);
	printf("pin = spki-sha256:%s\n", spki256);
	if (sha1) {
		printf("# SHA-1 is weak: only for clients that take nothing else (ESP8266 "
		       "libraries); garaged warns when it is used\n");
		printf("pin = %s\n", sha1c);
	}
	return CTL_EXIT_OK;
}

/* --- pki der -------------------------------------------------------------------------- */

static int
pki_der(int argc, char *argv[])
{
	const char *file = NULL, *out = NULL;
	char err[ERR_MAX], why[256], hint[64];
	unsigned char *der = NULL;
	bool force = false, is_key;
	struct ctl_blob b;
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	BIO *bio = NULL;
	char *data;
	long len = 0;
	int i, r, ret = CTL_EXIT_FAILED;

	for (i = 0; i < argc; i++) {
		if ((r = ctl_option(argc, argv, &i, "-o", &out)) < 0 ||
		    (r == 0 && (r = ctl_option(argc, argv, &i, "--output", &out)) < 0))
			return CTL_EXIT_USAGE;
		if (r > 0)
			continue;
		if (strcmp(argv[i], "--force") == 0)
			force = true;
		else if (argv[i][0] == '-' || file != NULL)
			return ctl_usage_error("pki der: unknown option or argument '%s'", argv[i]);
		else
			file = argv[i];
	}
	if (file == NULL || out == NULL || *out == '\0')
		return ctl_usage_error(
		    "pki der needs FILE (a PEM certificate or private key) and -o OUT");
	/* Read as a key might be: in the secure heap, cleared when freed. */
	if (ctl_read_file(file, true, &b, err, sizeof(err)) != 0)
		return ctl_failed("%s", err);
	is_key = strstr(b.p, "PRIVATE KEY-----") != NULL;
	if (is_key && strstr(b.p, "-----BEGIN CERTIFICATE-----") != NULL) {
		ctl_failed("%s holds a certificate and a private key; give a file with one of them",
		           file);
		goto out;
	}
	if (is_key) {
		/* PKCS#8, the one DER key form every library reads (openssl pkey, BearSSL). */
		if ((key = parse_key(&b, file, err, sizeof(err))) == NULL) {
			ctl_failed("%s", err);
			goto out;
		}
		bio = BIO_new(BIO_s_secmem());
		if (bio == NULL ||
		    i2d_PKCS8PrivateKey_bio(bio, key, NULL, NULL, 0, NULL, NULL) != 1 ||
		    (len = BIO_get_mem_data(bio, &data)) <= 0) {
			ctl_failed("cannot encode %s as DER%s", file,
			           ctl_ssl_reason(why, sizeof(why)));
			goto out;
		}
		snprintf(hint, sizeof(hint), "give --force to replace it");
		if (ctl_write_key(out, data, (size_t)len, force, hint, err, sizeof(err)) != 0) {
			ctl_failed("%s", err);
			goto out;
		}
		printf("wrote %s (%s private key, PKCS#8 DER, mode 0600)\n", out,
		       EVP_PKEY_get0_type_name(key));
	} else {
		bio = BIO_new_mem_buf(b.p, (int)b.len);
		x = bio != NULL ? PEM_read_bio_X509(bio, NULL, no_passphrase, NULL) : NULL;
		if (x == NULL || (len = i2d_X509(x, &der)) <= 0) {
			ctl_failed("%s is not a PEM certificate or private key%s", file,
			           ctl_ssl_reason(why, sizeof(why)));
			goto out;
		}
		if (ctl_write_file(out, der, (size_t)len, 0644, err, sizeof(err)) != 0) {
			ctl_failed("%s", err);
			goto out;
		}
		printf("wrote %s (certificate, DER)\n", out);
	}
	ret = CTL_EXIT_OK;
out:
	OPENSSL_free(der);
	BIO_free(bio);
	X509_free(x);
	EVP_PKEY_free(key);
	ctl_blob_free(&b);
	return ret;
}

/* --- pki revoke ----------------------------------------------------------------------- */

struct revoked {
	char serial[SERIAL_HEX_MAX + 1];
	char when[WHEN_LEN + 1];
	char name[CTL_PKI_NAME_MAX + 1];
};

static bool
serial_hex_valid(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > SERIAL_HEX_MAX)
		return false;
	for (; *s != '\0'; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'A' && *s <= 'F')))
			return false;
	return true;
}

static bool
when_valid(const char *s)
{
	size_t i;

	if (strlen(s) != WHEN_LEN || s[WHEN_LEN - 1] != 'Z')
		return false;
	for (i = 0; i + 1 < WHEN_LEN; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/*
 * Reads DIR/revoked into a new array (*list, *count). A missing file is an empty list.
 * Returns 0, or -1 with "PATH:LINE: ..." in err.
 */
static int
revoked_read(const char *path, struct revoked **list, size_t *count, char *err, size_t errlen)
{
	struct revoked *l = NULL, *grown;
	char *line, *next, *f[4], *save;
	struct ctl_blob b;
	size_t n = 0, lineno = 0, k;

	*list = NULL;
	*count = 0;
	if (ctl_read_file(path, false, &b, err, errlen) != 0)
		return errno == ENOENT ? 0 : -1;
	for (line = b.p; *line != '\0'; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		else
			next = line + strlen(line);
		lineno++;
		if (line[0] == '#')
			continue;
		save = NULL;
		f[0] = strtok_r(line, " \t\r", &save);
		for (k = 1; k < 4; k++)
			f[k] = strtok_r(NULL, " \t\r", &save);
		if (f[0] == NULL)
			continue; /* a blank line */
		if (f[2] == NULL || f[3] != NULL || !serial_hex_valid(f[0]) || !when_valid(f[1]) ||
		    !ctl_pki_name_valid(f[2])) {
			snprintf(err, errlen,
			         "%s:%zu: not 'SERIAL-HEX YYYYMMDDHHMMSSZ NAME'; fix or remove the "
			         "line",
			         path, lineno);
			goto fail;
		}
		grown = realloc(l, (n + 1) * sizeof(*l));
		if (grown == NULL) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		l = grown;
		snprintf(l[n].serial, sizeof(l[n].serial), "%s", f[0]);
		snprintf(l[n].when, sizeof(l[n].when), "%s", f[1]);
		snprintf(l[n].name, sizeof(l[n].name), "%s", f[2]);
		n++;
	}
	ctl_blob_free(&b);
	*list = l;
	*count = n;
	return 0;
fail:
	free(l);
	ctl_blob_free(&b);
	return -1;
}

static int
revoked_write(const char *path, const struct revoked *l, size_t n, char *err, size_t errlen)
{
	size_t size = sizeof(revoked_header) + n * sizeof(*l), len, k;
	char *text = malloc(size);
	int r;

	if (text == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	len = (size_t)snprintf(text, size, "%s", revoked_header);
	for (k = 0; k < n; k++)
		len += (size_t)snprintf(text + len, size - len, "%s %s %s\n", l[k].serial,
		                        l[k].when, l[k].name);
	r = ctl_write_file(path, text, len, 0644, err, errlen);
	free(text);
	return r;
}

/* The CRL number of the CRL at PATH, 0 when there is none yet; -1 when it is unreadable. */
static int64_t
crl_number(const char *path, char *err, size_t errlen)
{
	ASN1_INTEGER *num = NULL;
	X509_CRL *crl = NULL;
	int64_t v = -1;
	struct ctl_blob b;
	BIO *bio;

	if (ctl_read_file(path, false, &b, err, errlen) != 0)
		return errno == ENOENT ? 0 : -1;
	bio = BIO_new_mem_buf(b.p, (int)b.len);
	if (bio != NULL)
		crl = PEM_read_bio_X509_CRL(bio, NULL, no_passphrase, NULL);
	if (crl != NULL)
		num = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
	if (num == NULL || ASN1_INTEGER_get_int64(&v, num) != 1 || v < 0 || v == INT64_MAX) {
		ERR_clear_error();
		snprintf(err, errlen,
		         "%s is not a CRL with a CRL number; remove it and revoke again", path);
		v = -1;
	}
	ASN1_INTEGER_free(num);
	X509_CRL_free(crl);
	BIO_free(bio);
	ctl_blob_free(&b);
	return v;
}

/* One revoked entry of the CRL. */
static int
crl_add(X509_CRL *crl, const struct revoked *e)
{
	X509_REVOKED *r = X509_REVOKED_new();
	ASN1_INTEGER *serial = NULL;
	ASN1_TIME *when = ASN1_TIME_new();
	BIGNUM *bn = NULL;
	int ok;

	ok = r != NULL && when != NULL && BN_hex2bn(&bn, e->serial) > 0 &&
	     (serial = BN_to_ASN1_INTEGER(bn, NULL)) != NULL &&
	     ASN1_TIME_set_string_X509(when, e->when) == 1 &&
	     X509_REVOKED_set_serialNumber(r, serial) == 1 &&
	     X509_REVOKED_set_revocationDate(r, when) == 1 && X509_CRL_add0_revoked(crl, r) == 1;
	if (!ok)
		X509_REVOKED_free(r);
	ASN1_TIME_free(when);
	ASN1_INTEGER_free(serial);
	BN_free(bn);
	return ok ? 0 : -1;
}

/*
 * The CRL of every entry, version 2, signed by the CA: number NUMBER, lastUpdate now,
 * nextUpdate in DAYS but never after the CA expires. Returns it as PEM (free()), or NULL.
 */
static char *
crl_make(struct ca *ca, const struct revoked *l, size_t n, int64_t number, int days,
         ASN1_TIME **next, size_t *pemlen)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_INTEGER *num = ASN1_INTEGER_new();
	ASN1_TIME *now = X509_time_adj_ex(NULL, 0, 0, NULL);
	X509_EXTENSION *akid = NULL;
	X509V3_CTX ctx;
	BIO *bio = NULL;
	char *pem = NULL, *data;
	long len;
	size_t k;
	bool ok;

	*next = X509_time_adj_ex(NULL, days, 0, NULL);
	ok = crl != NULL && num != NULL && now != NULL && *next != NULL;
	if (ok && ASN1_TIME_compare(*next, X509_get0_notAfter(ca->cert)) > 0)
		ok = ASN1_STRING_copy(*next, X509_get0_notAfter(ca->cert)) == 1;
	ok = ok && X509_CRL_set_version(crl, X509_CRL_VERSION_2) == 1 &&
	     X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca->cert)) == 1 &&
	     X509_CRL_set1_lastUpdate(crl, now) == 1 && X509_CRL_set1_nextUpdate(crl, *next) == 1 &&
	     ASN1_INTEGER_set_int64(num, number) == 1 &&
	     X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0) == 1;
	if (ok && X509_get0_subject_key_id(ca->cert) != NULL) {
		X509V3_set_ctx(&ctx, ca->cert, NULL, NULL, crl, 0);
		akid =
		    X509V3_EXT_nconf_nid(NULL, &ctx, NID_authority_key_identifier, "keyid:always");
		ok = akid != NULL && X509_CRL_add_ext(crl, akid, -1) == 1;
	}
	for (k = 0; ok && k < n; k++)
		ok = crl_add(crl, &l[k]) == 0;
	ok = ok && X509_CRL_sort(crl) == 1 && X509_CRL_sign(crl, ca->key, sign_md(ca->key)) > 0 &&
	     (bio = BIO_new(BIO_s_mem())) != NULL && PEM_write_bio_X509_CRL(bio, crl) == 1 &&
	     (len = BIO_get_mem_data(bio, &data)) > 0 && (pem = malloc((size_t)len)) != NULL;
	if (ok) {
		memcpy(pem, data, (size_t)len);
		*pemlen = (size_t)len;
	}
	BIO_free(bio);
	X509_EXTENSION_free(akid);
	ASN1_TIME_free(now);
	ASN1_INTEGER_free(num);
	X509_CRL_free(crl);
	return pem;
}

/* Whether DIR/mosquitto.conf (broker-config's) already has a crlfile line. */
static bool
crlfile_configured(const char *dir)
{
	char path[PATH_MAX], err[ERR_MAX];
	struct ctl_blob b;
	bool yes;

	if (path_join(path, sizeof(path), dir, "mosquitto", ".conf", err, sizeof(err)) != 0 ||
	    ctl_read_file(path, false, &b, err, sizeof(err)) != 0)
		return false;
	yes = strncmp(b.p, "crlfile ", 8) == 0 || strstr(b.p, "\ncrlfile ") != NULL;
	ctl_blob_free(&b);
	return yes;
}

/*
 * The certificates in OLDER (DIR/NAME.crt.older, keep_older()) that CA signed, added to the
 * revoked list *L (*N entries) as revoked at NOW unless they are in it; *ADDED counts them.
 * 0, or -1 with err.
 */
static int
older_add(const struct ca *ca, const char *older, const char *name, const char *now,
          struct revoked **l, size_t *n, size_t *added, char *err, size_t errlen)
{
	struct revoked *grown;
	struct ctl_blob b;
	BIGNUM *bn;
	char *hex;
	bool found;
	size_t k;
	BIO *bio;
	X509 *x;
	int r = 0;

	*added = 0;
	if (access(older, F_OK) != 0)
		return 0;
	if (ctl_read_file(older, false, &b, err, errlen) != 0)
		return -1;
	bio = BIO_new_mem_buf(b.p, (int)b.len);
	while (r == 0 && bio != NULL &&
	       (x = PEM_read_bio_X509(bio, NULL, no_passphrase, NULL)) != NULL) {
		bn = NULL;
		hex = NULL;
		if (X509_verify(x, ca->key) == 1 && X509_check_issued(ca->cert, x) == X509_V_OK &&
		    (bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL)) != NULL &&
		    (hex = BN_bn2hex(bn)) != NULL && serial_hex_valid(hex)) {
			for (k = 0, found = false; k < *n && !found; k++)
				found = strcmp((*l)[k].serial, hex) == 0;
			if (!found && (grown = realloc(*l, (*n + 1) * sizeof(**l))) == NULL) {
				snprintf(err, errlen, "out of memory");
				r = -1;
			} else if (!found) {
				*l = grown;
				snprintf((*l)[*n].serial, sizeof((*l)[*n].serial), "%s", hex);
				snprintf((*l)[*n].when, sizeof((*l)[*n].when), "%s", now);
				snprintf((*l)[*n].name, sizeof((*l)[*n].name), "%s", name);
				(*n)++;
				(*added)++;
			}
		}
		OPENSSL_free(hex);
		BN_free(bn);
		X509_free(x);
	}
	ERR_clear_error();
	BIO_free(bio);
	ctl_blob_free(&b);
	return r;
}

static int
pki_revoke(int argc, char *argv[])
{
	char older[PATH_MAX];
	size_t extra = 0;
	const char *dir = NULL, *name = NULL, *v;
	char crt[PATH_MAX], list[PATH_MAX], crlpath[PATH_MAX], err[ERR_MAX], why[256], when[64],
	    now[WHEN_LEN + 1];
	int days = CRL_DAYS_DEFAULT, i, r, ret = CTL_EXIT_FAILED;
	struct revoked *l = NULL, *grown;
	ASN1_TIME *next = NULL;
	BIGNUM *bn = NULL;
	char *hex = NULL, *pem = NULL;
	size_t n = 0, k, pemlen = 0;
	bool already = false;
	struct ca ca = {0};
	int64_t number;
	X509 *x = NULL;
	time_t t;
	struct tm tm;
	bool previous = false;

	for (i = 0; i < argc; i++) {
		if ((r = ctl_option(argc, argv, &i, "--dir", &dir)) < 0)
			return CTL_EXIT_USAGE;
		if (r > 0)
			continue;
		if (strcmp(argv[i], "--previous") == 0) {
			previous = true;
			continue;
		}
		if ((r = ctl_option(argc, argv, &i, "--crl-days", &v)) < 0)
			return CTL_EXIT_USAGE;
		if (r > 0 && !parse_int(v, 1, DAYS_MAX, &days))
			return ctl_usage_error("--crl-days takes 1 to %d, not '%s'", DAYS_MAX, v);
		if (r > 0)
			continue;
		if (argv[i][0] == '-' || name != NULL)
			return ctl_usage_error("pki revoke: unknown option or argument '%s'",
			                       argv[i]);
		name = argv[i];
	}
	if (dir == NULL || *dir == '\0' || name == NULL)
		return ctl_usage_error(
		    "pki revoke needs --dir DIR and the NAME of the certificate");
	if (!ctl_pki_name_valid(name))
		return ctl_usage_error(
		    "pki revoke takes the NAME pki issue was given (DIR/NAME.crt), "
		    "not '%s'",
		    name);
	/* --previous: the certificate a renewal replaced (pki sign-requests keeps it). */
	if (path_join(crt, sizeof(crt), dir, name, previous ? ".crt.previous" : ".crt", err,
	              sizeof(err)) != 0 ||
	    path_join(list, sizeof(list), dir, "revoked", "", err, sizeof(err)) != 0 ||
	    path_join(crlpath, sizeof(crlpath), dir, "crl", ".pem", err, sizeof(err)) != 0 ||
	    path_join(older, sizeof(older), dir, name, ".crt.older", err, sizeof(err)) != 0)
		return ctl_usage_error("%s", err);
	if (ca_load(dir, &ca, err, sizeof(err)) != 0)
		return ctl_failed("%s", err);
	if (access(crt, F_OK) != 0 && errno == ENOENT) {
		if (previous)
			ctl_failed("there is no %s to revoke: %s has not renewed its certificate "
			           "(garagectl pki sign-requests keeps the one before)",
			           crt, name);
		else
			ctl_failed("there is no %s to revoke; give the NAME pki issue was given",
			           crt);
		goto out;
	}
	if ((x = load_cert(crt, err, sizeof(err))) == NULL) {
		ctl_failed("%s", err);
		goto out;
	}
	/* Only what this CA signed: a CRL cannot revoke another CA's certificate. */
	if (X509_verify(x, ca.key) != 1 || X509_check_issued(ca.cert, x) != X509_V_OK) {
		ERR_clear_error();
		ctl_failed("%s was not issued by the CA in %s; there is nothing this CA can revoke",
		           crt, dir);
		goto out;
	}
	if ((bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL)) == NULL ||
	    (hex = BN_bn2hex(bn)) == NULL || !serial_hex_valid(hex)) {
		ctl_failed("%s has a serial number garagectl cannot record%s", crt,
		           ctl_ssl_reason(why, sizeof(why)));
		goto out;
	}
	if (revoked_read(list, &l, &n, err, sizeof(err)) != 0 ||
	    (number = crl_number(crlpath, err, sizeof(err))) < 0) {
		ctl_failed("%s", err);
		goto out;
	}
	for (k = 0; k < n; k++)
		already = already || strcmp(l[k].serial, hex) == 0;
	t = time(NULL);
	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(now, sizeof(now), "%Y%m%d%H%M%SZ", &tm) != WHEN_LEN) {
		ctl_failed("cannot read the clock");
		goto out;
	}
	if (!already) {
		grown = realloc(l, (n + 1) * sizeof(*l));
		if (grown == NULL) {
			ctl_failed("out of memory");
			goto out;
		}
		l = grown;
		snprintf(l[n].serial, sizeof(l[n].serial), "%s", hex);
		snprintf(l[n].when, sizeof(l[n].when), "%s", now);
		snprintf(l[n].name, sizeof(l[n].name), "%s", name);
		n++;
	}
	/* Certificates of NAME that renewals took out of its two records while still valid. */
	if (older_add(&ca, older, name, now, &l, &n, &extra, err, sizeof(err)) != 0) {
		ctl_failed("%s", err);
		goto out;
	}
	if ((pem = crl_make(&ca, l, n, number + 1, days, &next, &pemlen)) == NULL) {
		ctl_failed("cannot make the CRL%s", ctl_ssl_reason(why, sizeof(why)));
		goto out;
	}
	/* The list first: it is the record the CRL is made from, and it can be made again. */
	if (((!already || extra > 0) && revoked_write(list, l, n, err, sizeof(err)) != 0) ||
	    ctl_write_file(crlpath, pem, pemlen, 0644, err, sizeof(err)) != 0) {
		ctl_failed("%s", err);
		goto out;
	}
	if (already)
		printf("%s%s (serial %s) was already revoked; re-signed the CRL\n", name,
		       previous ? "'s previous certificate" : "", hex);
	else
		printf("revoked %s%s (serial %s); recorded in %s\n", name,
		       previous ? "'s previous certificate" : "", hex, list);
	if (extra > 0)
		printf("revoked %zu more certificate(s) of %s that a renewal replaced while still "
		       "valid, kept in %s\n",
		       extra, name, older);
	printf("wrote %s (CRL number %lld, %zu revoked, next update %s)\n", crlpath,
	       (long long)(number + 1), n, time_text(next, when, sizeof(when)));
	if (!crlfile_configured(dir))
		printf("next: run garagectl broker-config again (with the same options; with "
		       "--mosquitto-dir as root, which copies the new crl.pem there) so that "
		       "Mosquitto's configuration names the CRL, then restart Mosquitto (systemctl "
		       "restart mosquitto): Mosquitto 2.0 takes a new crlfile line only when it "
		       "starts\n");
	else
		printf(
		    "next: restart Mosquitto (systemctl restart mosquitto); if Mosquitto reads "
		    "broker-config's copies (--mosquitto-dir), run that again first. SIGHUP "
		    "(systemctl reload mosquitto) is enough to refuse %s's new connections, since "
		    "Mosquitto 2.0 re-reads crl.pem then, but a client already connected stays "
		    "connected until Mosquitto restarts\n",
		    name);
	printf("before %s re-sign the CRL (run this again; --crl-days N for a longer life): once "
	       "it is out of date Mosquitto refuses every client certificate\n",
	       when);
	ret = CTL_EXIT_OK;
out:
	free(pem);
	ASN1_TIME_free(next);
	free(l);
	OPENSSL_free(hex);
	BN_free(bn);
	X509_free(x);
	ca_free(&ca);
	return ret;
}

/* --- renewals (garagectl pki sign-requests, ctl_renew.c) ------------------------------ */

struct ctl_pki_ca {
	char dir[PATH_MAX];
	struct ca ca;
};

struct ctl_pki_ca *
ctl_pki_ca_open(const char *dir, char *err, size_t errlen)
{
	struct ctl_pki_ca *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (strlen(dir) >= sizeof(c->dir) || ca_load(dir, &c->ca, err, errlen) != 0) {
		if (strlen(dir) >= sizeof(c->dir))
			snprintf(err, errlen, "the path %s is too long", dir);
		free(c);
		return NULL;
	}
	snprintf(c->dir, sizeof(c->dir), "%s", dir);
	return c;
}

void
ctl_pki_ca_close(struct ctl_pki_ca *c)
{
	if (c == NULL)
		return;
	ca_free(&c->ca);
	free(c);
}

/* Whether X was issued, and signed, by CA. */
static bool
issued_by(const struct ca *ca, X509 *x)
{
	bool ok = X509_check_issued(ca->cert, x) == X509_V_OK &&
	          X509_verify(x, X509_get0_pubkey(ca->cert)) == 1;

	ERR_clear_error();
	return ok;
}

/*
 * Whether X is a client certificate as pki issue --client makes it: its extended key usage
 * names client authentication. sign-requests renews only those: a server certificate's key
 * (the broker's, which the broker holds) must not buy a client certificate for its name.
 */
static bool
is_client(X509 *x)
{
	bool yes = (X509_get_extension_flags(x) & EXFLAG_XKUSAGE) != 0 &&
	           (X509_get_extended_key_usage(x) & XKU_SSL_CLIENT) != 0;

	ERR_clear_error();
	return yes;
}

/* X's serial in the revoked list L[0..N). */
static bool
is_revoked(X509 *x, const struct revoked *l, size_t n)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	char *hex = bn != NULL ? BN_bn2hex(bn) : NULL;
	bool found = false;
	size_t k;

	for (k = 0; hex != NULL && k < n && !found; k++)
		found = strcmp(l[k].serial, hex) == 0;
	OPENSSL_free(hex);
	BN_free(bn);
	return found;
}

int
ctl_pki_renewal_check(struct ctl_pki_ca *c, const struct renew_request *req, char *why,
                      size_t whylen)
{
	char crt[PATH_MAX], list[PATH_MAX], err[ERR_MAX];
	struct revoked *l = NULL;
	size_t n = 0;
	X509 *record = NULL;
	int ret = -1;

	if (path_join(crt, sizeof(crt), c->dir, req->cn, ".crt", why, whylen) != 0 ||
	    path_join(list, sizeof(list), c->dir, "revoked", "", why, whylen) != 0)
		return -1;
	if (!ctl_pki_name_valid(req->cn)) {
		snprintf(why, whylen, "%s is no name pki issue gives", req->cn);
		return -1;
	}
	/* The identity: this CA issued it, by its own record of it. */
	if (access(crt, F_OK) != 0) {
		snprintf(why, whylen,
		         "this CA has no record of %s (%s is missing): issue it with garagectl pki "
		         "issue --client %s",
		         req->cn, crt, req->cn);
		return -1;
	}
	if ((record = load_cert(crt, err, sizeof(err))) == NULL) {
		snprintf(why, whylen, "%s", err);
		return -1;
	}
	if (!issued_by(&c->ca, record)) {
		snprintf(why, whylen, "%s was not issued by the CA in %s", crt, c->dir);
		goto out;
	}
	/* The proof: a certificate of this CA for that identity, still valid, not revoked. */
	if (!issued_by(&c->ca, req->current)) {
		snprintf(
		    why, whylen,
		    "the certificate that signed the request (serial %s) was not issued by the "
		    "CA in %s",
		    req->info.serial, c->dir);
		goto out;
	}
	if (!is_client(record) || !is_client(req->current)) {
		snprintf(why, whylen,
		         "%s is not a client certificate (its extended key usage has no "
		         "clientAuth): sign-requests renews only the certificates of pki issue "
		         "--client",
		         !is_client(record) ? crt : "the certificate that signed the request");
		goto out;
	}
	if (X509_cmp_current_time(X509_get0_notAfter(req->current)) <= 0) {
		snprintf(why, whylen,
		         "the certificate that signed the request (serial %s) has expired; issue "
		         "%s a new one (garagectl pki issue --client %s --force)",
		         req->info.serial, req->cn, req->cn);
		goto out;
	}
	if (revoked_read(list, &l, &n, err, sizeof(err)) != 0) {
		snprintf(why, whylen, "%s", err);
		goto out;
	}
	if (is_revoked(req->current, l, n)) {
		snprintf(why, whylen,
		         "the certificate that signed the request (serial %s) is revoked in %s",
		         req->info.serial, list);
		goto out;
	}
	if (is_revoked(record, l, n)) {
		snprintf(
		    why, whylen,
		    "%s, this CA's latest certificate of %s, is revoked in %s: the identity is "
		    "withdrawn",
		    crt, req->cn, list);
		goto out;
	}
	ret = 0;
out:
	free(l);
	X509_free(record);
	return ret;
}

/* Whether DIR/CN SUFFIX is a certificate of this CA for REQ's key; *out gets it when it is. */
static bool
certifies(struct ctl_pki_ca *c, const struct renew_request *req, const char *suffix, X509 **out)
{
	char path[PATH_MAX], err[ERR_MAX];
	X509 *x;
	bool yes;

	*out = NULL;
	if (path_join(path, sizeof(path), c->dir, req->cn, suffix, err, sizeof(err)) != 0 ||
	    access(path, F_OK) != 0 || (x = load_cert(path, err, sizeof(err))) == NULL) {
		ERR_clear_error();
		return false;
	}
	yes = issued_by(&c->ca, x) && X509_get0_pubkey(x) != NULL &&
	      EVP_PKEY_eq(X509_get0_pubkey(x), X509_REQ_get0_pubkey(req->req)) == 1;
	ERR_clear_error();
	if (yes)
		*out = x;
	else
		X509_free(x);
	return yes;
}

int
ctl_pki_renewal_answered(struct ctl_pki_ca *c, const struct renew_request *req, X509 **again,
                         char *why, size_t whylen)
{
	X509 *old = NULL;

	*again = NULL;
	if (certifies(c, req, ".crt", again)) {
		if (X509_cmp_current_time(X509_get0_notAfter(*again)) > 0)
			return 1;
		X509_free(*again);
		*again = NULL;
		snprintf(
		    why, whylen,
		    "its key was certified before, and that certificate has expired; the device "
		    "asks again with a new key (garagectl renew)");
		return -1;
	}
	if (certifies(c, req, ".crt.previous", &old)) {
		X509_free(old);
		snprintf(why, whylen,
		         "its key is the one of %s.crt.previous: an old request, answered before, "
		         "put back on the topic; nothing signed",
		         req->cn);
		return -1;
	}
	return 0;
}

/* Whether DIR's key file KEY is the private key of X (a file that is not there is not). */
static bool
key_of(const char *key, X509 *x)
{
	char err[ERR_MAX];
	struct ctl_blob b;
	EVP_PKEY *k;
	bool yes;

	if (ctl_read_file(key, true, &b, err, sizeof(err)) != 0)
		return false;
	k = parse_key(&b, key, err, sizeof(err));
	ctl_blob_free(&b);
	yes = k != NULL && X509_check_private_key(x, k) == 1;
	EVP_PKEY_free(k);
	ERR_clear_error();
	return yes;
}

/*
 * DIR/CN.crt.older: every certificate of CN that a renewal took out of CN.crt and
 * CN.crt.previous while it was still valid (a device's request answered with a certificate it
 * never installed, or an old request put back on P/D/csr). pki revoke CN, with or without
 * --previous, revokes them too: nothing this CA signed for a name is out of reach of revoking it.
 * Appends the certificate at PATH unless it is PROOF (which stays, as CN.crt.previous) or has
 * expired. 0, or -1 with err.
 */
static int
keep_older(const char *older, const char *path, X509 *proof, char *err, size_t errlen)
{
	char why[ERR_MAX];
	X509 *x;
	FILE *f;
	int fd, r = 0;

	if (access(path, F_OK) != 0 || (x = load_cert(path, why, sizeof(why))) == NULL)
		return 0; /* none, or not a certificate: nothing this CA can revoke */
	if (X509_cmp(x, proof) != 0 && X509_cmp_current_time(X509_get0_notAfter(x)) > 0) {
		fd = open(older, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
		f = fd >= 0 ? fdopen(fd, "a") : NULL;
		if (f == NULL || PEM_write_X509(f, x) != 1 || fflush(f) != 0 || fsync(fd) != 0) {
			snprintf(err, errlen, "cannot keep %s in %s: %s", path, older,
			         errno != 0 ? strerror(errno) : "cannot encode it");
			r = -1;
		}
		if (f != NULL)
			fclose(f);
		else if (fd >= 0)
			close(fd);
	}
	ERR_clear_error();
	X509_free(x);
	return r;
}

X509 *
ctl_pki_renewal_sign(struct ctl_pki_ca *c, const struct renew_request *req, int days, char *err,
                     size_t errlen)
{
	char older[PATH_MAX];
	char crt[PATH_MAX], key[PATH_MAX], prev_crt[PATH_MAX], prev_key[PATH_MAX], why[256];
	EVP_PKEY *pub = X509_REQ_get0_pubkey(req->req);
	bool clamped = false;
	X509 *x = NULL;

	if (path_join(crt, sizeof(crt), c->dir, req->cn, ".crt", err, errlen) != 0 ||
	    path_join(key, sizeof(key), c->dir, req->cn, ".key", err, errlen) != 0 ||
	    path_join(prev_crt, sizeof(prev_crt), c->dir, req->cn, ".crt.previous", err, errlen) !=
	        0 ||
	    path_join(prev_key, sizeof(prev_key), c->dir, req->cn, ".key.previous", err, errlen) !=
	        0 ||
	    path_join(older, sizeof(older), c->dir, req->cn, ".crt.older", err, errlen) != 0)
		return NULL;
	if (pub == NULL ||
	    (x = make_leaf(&c->ca, pub, req->cn, false, "", days, &clamped)) == NULL) {
		snprintf(err, errlen, "cannot make the certificate%s",
		         ctl_ssl_reason(why, sizeof(why)));
		return NULL;
	}
	/*
	 * The record: DIR/CN.crt is CN's newest certificate, and DIR/CN.crt.previous the one the
	 * device proved itself with, which it keeps using until the new one is installed (pki
	 * revoke --previous revokes it then). The key pki issue once made for that one goes with
	 * it: from now on the device makes its own, and DIR never has them.
	 */
	errno = 0;
	if (keep_older(older, crt, req->current, err, errlen) != 0 ||
	    keep_older(older, prev_crt, req->current, err, errlen) != 0 ||
	    write_cert_pem(prev_crt, req->current, err, errlen) != 0)
		goto fail;
	if (key_of(key, req->current) && rename(key, prev_key) != 0) {
		snprintf(err, errlen, "cannot keep %s as %s: %s", key, prev_key, strerror(errno));
		goto fail;
	}
	if (write_cert_pem(crt, x, err, errlen) != 0)
		goto fail;
	return x;
fail:
	X509_free(x);
	return NULL;
}

int
ctl_pki_main(int argc, char *argv[])
{
	static const struct {
		const char *name;
		int (*run)(int, char *[]);
	} subs[] = {
	    {"init", pki_init}, {"issue", pki_issue},   {"fingerprint", pki_fingerprint},
	    {"der", pki_der},   {"revoke", pki_revoke},
	};
	size_t k;

	if (argc < 1)
		return ctl_usage_error("pki needs a subcommand: init, issue, fingerprint, der, "
		                       "revoke or sign-requests");
	for (k = 0; k < sizeof(subs) / sizeof(subs[0]); k++)
		if (strcmp(argv[0], subs[k].name) == 0)
			return subs[k].run(argc - 1, argv + 1);
	return ctl_usage_error(
	    "unknown pki subcommand '%s' (init, issue, fingerprint, der, revoke or sign-requests)",
	    argv[0]);
}
