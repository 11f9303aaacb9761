/*
 * fuzz-csr: renew_request_parse() (src/common/renew.c), garagectl pki sign-requests' reader of
 * a device's request on P/D/csr (a certificate request, the device's certificate and that
 * certificate's key's signature over the request), on arbitrary bytes. The seed corpus holds
 * good requests of an EC P-256 and an Ed25519 device and one whose proof another key signed,
 * made by renew_request_make().
 *
 * Whatever the bytes: a reason of renew.h's; on ok a request and a certificate that carry one
 * and the same valid CN, a request whose own signature verifies, and a key the CA certifies;
 * on a refusal nothing kept and one line of printable text; nothing leaked.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <openssl/x509.h>

#include "fuzz.h"
#include "names.h"
#include "renew.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct renew_request req;
	char msg[RENEW_MSG_MAX], cn[NAMES_CN_MAX + 1], what[64];
	enum renew_reason r = renew_request_parse(data, size, &req, msg, sizeof(msg));

	FUZZ_CHECK((unsigned)r < RENEW_REASON_COUNT);
	if (r != RENEW_OK) {
		FUZZ_CHECK(req.req == NULL && req.current == NULL);
		FUZZ_CHECK(msg[0] != '\0');
		for (const char *c = msg; *c != '\0'; c++)
			FUZZ_CHECK(*c >= 0x20 && *c < 0x7f);
		return 0;
	}
	FUZZ_CHECK(req.req != NULL && req.current != NULL);
	FUZZ_CHECK(names_cn_valid(req.cn));
	FUZZ_CHECK(renew_cn(X509_get_subject_name(req.current), cn, sizeof(cn)) == 0);
	FUZZ_CHECK(strcmp(cn, req.cn) == 0);
	FUZZ_CHECK(X509_REQ_verify(req.req, X509_REQ_get0_pubkey(req.req)) == 1);
	FUZZ_CHECK(renew_key_acceptable(X509_REQ_get0_pubkey(req.req), what, sizeof(what)));
	renew_request_free(&req);
	FUZZ_CHECK(req.req == NULL && req.current == NULL);
	return 0;
}
