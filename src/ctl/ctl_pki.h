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

#include "names.h"

/* A certificate's CN is at most 64 characters (RFC 5280 ub-common-name). */
#define CTL_PKI_NAME_MAX NAMES_CN_MAX

/*
 * Runs `garagectl pki ...`: argv[0] is the word after "pki" (init, issue, fingerprint, der,
 * revoke). Prints what was done on stdout and each error as one line on stderr. Returns
 * garagectl's exit status (CTL_EXIT_*).
 */
int ctl_pki_main(int argc, char *argv[]);

/*
 * NAME as a certificate's CN and the stem of its files in the PKI directory: a CN that
 * names_cn_valid() accepts, and of those only 1 to 64 characters of A-Z, a-z, 0-9 and '._-'
 * starting with a letter or digit, or an IP address literal; never "ca", the CA's own stem.
 */
bool ctl_pki_name_valid(const char *name);

#endif
