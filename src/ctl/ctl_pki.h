/*
 * ctl_pki: garagectl's private certificate authority (garagectl pki), with OpenSSL's library;
 * it never runs the openssl command.
 *
 * It owns the PKI directory and what is in it: the CA (ca.crt, ca.key), the broker's and the
 * clients' certificates (NAME.crt, NAME.key), the list of revoked certificates (revoked) and
 * the CRL signed from it (crl.pem); the certificate profiles (a CA that can sign only end
 * certificates, server certificates with SAN, client certificates whose CN is the MQTT
 * identity); fingerprints and the pin lines garaged.conf takes; PEM to DER; and how files are
 * written: private keys 0600, never over an existing file unless --force, then replaced
 * atomically, like every other file it writes. It never talks to the network.
 */
#ifndef GARAGECTL_PKI_H
#define GARAGECTL_PKI_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <openssl/types.h>

#include "names.h"

/* A certificate's CN is at most 64 characters (RFC 5280 ub-common-name). */
#define CTL_PKI_NAME_MAX NAMES_CN_MAX

/*
 * Runs `garagectl pki ...`: argv[0] is the word after "pki" (init, issue, fingerprint, der,
 * revoke; sign-requests, which reads ctl.conf, is garagectl.c's to start: ctl_renew.h). Prints what
 * was done on stdout and each error as one line on stderr. Returns garagectl's exit status
 * (CTL_EXIT_*).
 */
int ctl_pki_main(int argc, char *argv[]);

/*
 * NAME as a certificate's CN and the stem of its files in the PKI directory: a CN that
 * names_cn_valid() accepts, and of those only 1 to 64 characters of A-Z, a-z, 0-9 and '._-'
 * starting with a letter or digit, or an IP address literal; never "ca", the CA's own stem.
 */
bool ctl_pki_name_valid(const char *name);

/*
 * The CA of a PKI directory, opened to sign renewals (garagectl pki sign-requests, ctl_renew.c):
 * NULL with what to do in err when it cannot sign (ca_load's refusals).
 */
struct ctl_pki_ca;
struct renew_request;

struct ctl_pki_ca *ctl_pki_ca_open(const char *dir, char *err, size_t errlen);
void ctl_pki_ca_close(struct ctl_pki_ca *ca);

/*
 * Whether the CA may sign REQ (renew_request_parse() read it): DIR/CN.crt, the CA's record of
 * the identity, is there and was issued by it; the certificate that signed the request was
 * issued by it, has not expired and is not in DIR/revoked, and neither is DIR/CN.crt. Returns 0,
 * or -1 with why.
 */
int ctl_pki_renewal_check(struct ctl_pki_ca *ca, const struct renew_request *req, char *why,
                          size_t whylen);

/*
 * Whether REQ was answered before: its key is the one DIR/CN.crt certifies (the device did not
 * get that answer, or the request is a copy kept and put back): 1 with that certificate in
 * *again (X509_free), to send again, since signing it anew would push the certificate the device
 * uses out of DIR's records and out of reach of pki revoke NAME. Its key is the one of
 * DIR/CN.crt.previous (an older request put back): -1 with why. 0 when it is a new key.
 */
int ctl_pki_renewal_answered(struct ctl_pki_ca *ca, const struct renew_request *req, X509 **again,
                             char *why, size_t whylen);

/*
 * Signs REQ's key for its CN as pki issue signs a client certificate (DAYS from now, never past
 * the CA), and records it: DIR/CN.crt is the new certificate, DIR/CN.crt.previous the one that
 * signed the request, and DIR/CN.key, when it is that one's key, becomes DIR/CN.key.previous.
 * Returns the certificate (X509_free), or NULL with err.
 */
X509 *ctl_pki_renewal_sign(struct ctl_pki_ca *ca, const struct renew_request *req, int days,
                           char *err, size_t errlen);

/* pki issue's default validity, which sign-requests shares. */
#define CTL_PKI_DAYS_DEFAULT 365
#define CTL_PKI_DAYS_MAX     36500

#endif
