/*
 * renew: the two messages of a certificate renewal (docs/certificates.md), the device's and the
 * owner's, written once for both ends so that what the device makes is what garagectl reads.
 *
 * The request (P/D/csr, retained, made by the network half): three PEM blocks, in this order,
 * and nothing but white space around them:
 *
 *   -----BEGIN CERTIFICATE REQUEST-----      a PKCS#10 request for the same CN as the device's
 *   -----BEGIN CERTIFICATE-----              certificate now, signed by the new key; that
 *   -----BEGIN GARAGED RENEWAL SIGNATURE-----  certificate; and its key's signature over the
 *                                            request's DER
 *
 * The last two prove that whoever asks holds the identity it asks for: the broker's ACL says
 * which client wrote the topic, but garagectl cannot see that, and a request's CN alone could
 * name any identity of the CA (a controller's, another device's).
 *
 * The answer (P/D/cert, published by garagectl pki sign-requests): one PEM certificate, which
 * renew_cert_check() accepts only if it chains to the device's CA for client authentication,
 * carries the pending key, names the device's own CN and is valid now.
 *
 * It owns those formats, their limits and their checks, and the key the device makes (the same
 * kind as its current one). It never does I/O beyond memory and never logs: the network half
 * and garagectl say what the reasons mean. Every function takes its time from its caller.
 */
#ifndef GARAGED_RENEW_H
#define GARAGED_RENEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/types.h>
#include <openssl/x509.h>

#include "names.h"

/* P/D/csr's payload at most: a request, a certificate and a signature of RSA 8192 fit. */
#define RENEW_REQUEST_MAX 12288U
/* P/D/cert's payload at most: one certificate, with room for an RSA 8192 key. */
#define RENEW_CERT_MAX 8192U
/* The proof's PEM label. */
#define RENEW_PROOF_LABEL "GARAGED RENEWAL SIGNATURE"
/* A serial number in hex (20 octets at most, RFC 5280) and a NUL. */
#define RENEW_SERIAL_MAX 41U
/* "2026-12-24T08:00:00Z" and a NUL. */
#define RENEW_DATE_MAX 21U
/* What a refusal says besides its reason word. */
#define RENEW_MSG_MAX 256U

/* Why a request or a certificate is refused; renew_reason_name() gives the word. */
enum renew_reason {
	RENEW_OK = 0,
	RENEW_TOO_LARGE,       /* over RENEW_REQUEST_MAX or RENEW_CERT_MAX */
	RENEW_MALFORMED,       /* not the PEM blocks above, or a block that does not parse */
	RENEW_NOTHING_PENDING, /* a certificate when the device asked for none */
	RENEW_WRONG_CA,        /* it does not chain to the device's CA */
	RENEW_NOT_CLIENT,      /* it is not for client authentication (extended key usage) */
	RENEW_WRONG_KEY,       /* its key is not the pending one */
	RENEW_WRONG_NAME,      /* its CN is not the device's own (a request: not its proof's) */
	RENEW_EXPIRED,         /* notAfter has passed */
	RENEW_NOT_YET_VALID,   /* notBefore has not come */
	RENEW_BAD_SIGNATURE,   /* a request's own signature, or its proof, does not verify */
	RENEW_WEAK_KEY,        /* a request's key is below renew_key_acceptable()'s minimum */
	RENEW_REASON_COUNT,
};

const char *renew_reason_name(enum renew_reason r); /* "wrong_key"; "ok" for RENEW_OK */

/* What an accepted (or at least parsed) certificate is, for events and the log. */
struct renew_cert_info {
	char serial[RENEW_SERIAL_MAX];  /* upper-case hex, as pki revoke records it; "" unknown */
	char not_after[RENEW_DATE_MAX]; /* "" when unknown */
};

/* The serial and notAfter of X into *info. */
void renew_cert_info(X509 *x, struct renew_cert_info *info);

/* notAfter of X as "2026-12-24T08:00:00Z", into buf (RENEW_DATE_MAX). */
const char *renew_date(const ASN1_TIME *t, char *buf, size_t size);

/*
 * The certificate's CN into buf (NAMES_CN_MAX + 1 bytes): 0, or -1 when it has no CN, more
 * than one, or one that names_cn_valid() refuses.
 */
int renew_cn(X509_NAME *name, char *buf, size_t size);

/*
 * A new private key of the kind of CURRENT: EC on its curve, Ed25519 or Ed448, or RSA of its
 * size (at least 2048 bits). NULL with a reason in err for any other kind.
 */
EVP_PKEY *renew_new_key(EVP_PKEY *current, char *err, size_t errlen);

/*
 * The request for NEWKEY, as the device publishes it: a PKCS#10 request with the CN of CURRENT
 * (and nothing else), signed by NEWKEY; CURRENT; and CURRENT_KEY's signature over the request's
 * DER. Into *out (malloc'd, NUL-terminated, the caller frees it) and *outlen. Returns 0, or -1
 * with a reason in err.
 */
int renew_request_make(EVP_PKEY *newkey, X509 *current, EVP_PKEY *current_key, char **out,
                       size_t *outlen, char *err, size_t errlen);

/* A request as renew_request_parse() read it: the caller frees it with renew_request_free(). */
struct renew_request {
	X509_REQ *req;               /* its public key is the one to certify */
	X509 *current;               /* the certificate whose key signed the proof */
	char cn[NAMES_CN_MAX + 1];   /* the CN both carry */
	struct renew_cert_info info; /* current's serial and notAfter */
};

/*
 * Reads a request from BUF[0..LEN) (outside bytes: anything at all) and checks what it can
 * check alone: the three blocks in order and nothing else (too_large, malformed), one valid CN
 * in each (malformed), the same one (wrong_name), the request's own signature and the proof
 * with CURRENT's key (bad_signature), and the new key (weak_key). Whether CURRENT is the CA's,
 * unrevoked and still valid is the CA's to check. Returns RENEW_OK with *out filled, or the
 * reason with *out empty and a sentence in msg.
 */
enum renew_reason renew_request_parse(const void *buf, size_t len, struct renew_request *out,
                                      char *msg, size_t msglen);
void renew_request_free(struct renew_request *r);

/*
 * Whether KEY is one the CA certifies: RSA of at least 2048 bits, EC on P-256, P-384 or P-521,
 * Ed25519 or Ed448. WHAT gets "EC P-256", "RSA 2048-bit", ... either way.
 */
bool renew_key_acceptable(EVP_PKEY *key, char *what, size_t whatlen);

/*
 * Judges a certificate from P/D/cert (BUF[0..LEN), outside bytes) at NOW (Unix seconds) for a
 * device whose CA store is STORE, whose CN is CN and whose pending key is PENDING (NULL when
 * none is). In this order: too_large, malformed (not exactly one PEM certificate and white
 * space), nothing_pending, wrong_ca, not_client, wrong_key, wrong_name, not_yet_valid, expired.
 * Returns RENEW_OK with the certificate in *out (the caller frees it), or the reason with a
 * sentence in msg; *info is filled whenever the certificate parsed.
 */
enum renew_reason renew_cert_check(const void *buf, size_t len, X509_STORE *store,
                                   EVP_PKEY *pending, const char *cn, int64_t now, X509 **out,
                                   struct renew_cert_info *info, char *msg, size_t msglen);

/*
 * Whether X chains to STORE's CA for client authentication, its dates aside: RENEW_OK, or
 * RENEW_WRONG_CA or RENEW_NOT_CLIENT with a sentence in msg (renew_cert_check()'s first checks).
 */
enum renew_reason renew_chain_check(X509_STORE *store, X509 *x, char *msg, size_t msglen);

/* X as PEM into *out (malloc'd, NUL-terminated) and *outlen: 0, or -1. */
int renew_cert_pem(X509 *x, char **out, size_t *outlen);

/* KEY as unencrypted PKCS#8 PEM in secure memory (*out; free with renew_secret_free()). */
int renew_key_pem(EVP_PKEY *key, char **out, size_t *outlen);
void renew_secret_free(char *p, size_t len);

#endif
