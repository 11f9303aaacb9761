/*
 * ctl_renew: see ctl_renew.h. A request is judged twice, first by what it proves by itself
 * (renew_request_parse: its signature, the signature of the certificate it names, one CN in
 * both), then by the CA's records (ctl_pki_renewal_check: this CA issued that identity and that
 * certificate, and revoked neither). Only then is the owner asked.
 */
#include "ctl_renew.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/x509.h>

#include "ctl_command.h"
#include "ctl_pki.h"
#include "ctl_util.h"
#include "renew.h"

#define ERR_MAX 1024

/* Bytes from the network, made safe to show: printable ASCII. */
static void
shown(char *dst, size_t size, const char *src)
{
	size_t i;

	for (i = 0; src[i] != '\0' && i + 1 < size; i++)
		dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? src[i] : '?';
	dst[i] = '\0';
}

/* The owner's answer to QUESTION on the terminal: true for y or yes. */
static bool
ask(const char *question)
{
	char line[16];

	printf("%s [y/N] ", question);
	fflush(stdout);
	if (fgets(line, sizeof(line), stdin) == NULL)
		return false;
	return strcmp(line, "y\n") == 0 || strcmp(line, "yes\n") == 0 || strcmp(line, "Y\n") == 0;
}

static int
by_device(const void *a, const void *b)
{
	return strcmp(((const struct ctl_csr *)a)->device, ((const struct ctl_csr *)b)->device);
}

/* One request: judged, signed when the owner says so, sent. Returns 0 when it went well. */
static int
one(struct ctl_renewals *r, struct ctl_pki_ca *ca, const struct ctl_csr *c, bool yes, int days)
{
	char msg[RENEW_MSG_MAX], why[ERR_MAX], what[64], reason[80], detail[ERR_MAX], question[160],
	    show[ERR_MAX];
	struct renew_cert_info info;
	struct renew_request req;
	enum renew_reason rr;
	char *pem = NULL;
	size_t pemlen = 0;
	X509 *x = NULL;
	int ret = -1;

	rr = renew_request_parse(c->payload, c->len, &req, msg, sizeof(msg));
	if (rr != RENEW_OK) {
		ctl_failed("device %s: its request is refused (%s): %s", c->device,
		           renew_reason_name(rr), msg);
		return -1;
	}
	if (ctl_pki_renewal_check(ca, &req, why, sizeof(why)) != 0) {
		ctl_failed("device %s: its request for %s is refused: %s", c->device, req.cn, why);
		goto out;
	}
	switch (ctl_pki_renewal_answered(ca, &req, &x, why, sizeof(why))) {
	case 1:
		renew_cert_info(x, &info);
		printf(
		    "device %s: its request for %s was signed before (serial %s, valid until %s); "
		    "sending that certificate again, nothing new signed or recorded\n",
		    c->device, req.cn, info.serial, info.not_after);
		fflush(stdout);
		goto send;
	case -1:
		ctl_failed("device %s: its request for %s is refused: %s", c->device, req.cn, why);
		goto out;
	default:
		break;
	}
	(void)renew_key_acceptable(X509_REQ_get0_pubkey(req.req), what, sizeof(what));
	printf("device %s: a request for %s (a new %s key), proved by its certificate serial %s "
	       "(valid until %s)\n",
	       c->device, req.cn, what, req.info.serial, req.info.not_after);
	fflush(stdout);
	snprintf(question, sizeof(question), "sign a certificate for %s?", req.cn);
	if (!yes && !ask(question)) {
		printf("device %s: not signed; its request stays until it is\n", c->device);
		ret = 0;
		goto out;
	}
	x = ctl_pki_renewal_sign(ca, &req, days, why, sizeof(why));
	if (x == NULL) {
		ctl_failed("device %s: %s", c->device, why);
		goto out;
	}
	renew_cert_info(x, &info);
	printf("device %s: signed %s's certificate serial %s, valid until %s; recorded (the one "
	       "before is kept as %s.crt.previous)\n",
	       c->device, req.cn, info.serial, info.not_after, req.cn);
	fflush(stdout);
send:
	if (renew_cert_pem(x, &pem, &pemlen) != 0) {
		ctl_failed("device %s: cannot encode the certificate", c->device);
		goto out;
	}
	switch (ctl_renewals_send(r, c->device, pem, pemlen, info.serial, reason, sizeof(reason),
	                          detail, sizeof(detail))) {
	case CTL_RENEWAL_ACCEPTED:
		printf("device %s: accepted it; it connects with its new key and certificate now\n",
		       c->device);
		fflush(stdout);
		ret = 0;
		break;
	case CTL_RENEWAL_REFUSED:
		shown(show, sizeof(show), detail);
		ctl_failed("device %s refused the certificate: %s%s%s%s", c->device, reason,
		           show[0] != '\0' ? " (" : "", show, show[0] != '\0' ? ")" : "");
		break;
	case CTL_RENEWAL_NO_ANSWER:
	default:
		shown(show, sizeof(show), detail);
		ctl_failed(
		    "device %s did not answer within 10 s%s%s; if it was offline, its request "
		    "is still there and the next run sends it again",
		    c->device, show[0] != '\0' ? ": " : "", show);
		break;
	}
out:
	free(pem);
	X509_free(x);
	renew_request_free(&req);
	return ret;
}

int
ctl_renew_sign_requests(const struct config *mqtt, const char *dir, bool yes, int days)
{
	char err[ERR_MAX];
	struct ctl_pki_ca *ca;
	struct ctl_renewals *r;
	struct ctl_csr *list = NULL;
	size_t n = 0, i;
	int failed = 0;

	/* The CA first: one that cannot sign is worth knowing before the broker is asked. */
	if ((ca = ctl_pki_ca_open(dir, err, sizeof(err))) == NULL)
		return ctl_failed("%s", err);
	r = ctl_renewals_open(mqtt, &list, &n);
	if (r == NULL) {
		ctl_pki_ca_close(ca);
		return CTL_EXIT_FAILED;
	}
	if (n == 0)
		printf("no certificate requests on %s/+/csr\n", mqtt->topic_prefix);
	qsort(list, n, sizeof(*list), by_device);
	for (i = 0; i < n; i++)
		if (one(r, ca, &list[i], yes, days) != 0)
			failed++;
	fflush(stdout);
	ctl_renewals_close(r, list, n);
	ctl_pki_ca_close(ca);
	return failed == 0 ? CTL_EXIT_OK : CTL_EXIT_FAILED;
}
