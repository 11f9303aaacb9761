/*
 * ctl_renew: garagectl pki sign-requests, the owner's side of a certificate renewal
 * (docs/certificates.md): the requests devices left on P/+/csr, each judged by its proof
 * (renew.h) and against the CA's records (ctl_pki), signed on the owner's word or --yes,
 * recorded, and sent on P/D/cert, with the device's answer.
 *
 * It owns that order, the question asked on the terminal and what is printed. It never sees a
 * device's private key: a request carries only the new public key.
 */
#ifndef GARAGECTL_RENEW_H
#define GARAGECTL_RENEW_H

#include <stdbool.h>

#include "config.h"

/*
 * Signs the pending requests with DIR's CA for DAYS (as pki issue), asking before each one
 * unless YES. Returns CTL_EXIT_OK when every request was signed and accepted (or there were
 * none), CTL_EXIT_FAILED when one was refused, not answered or could not be signed.
 */
int ctl_renew_sign_requests(const struct config *mqtt, const char *dir, bool yes, int days);

#endif
