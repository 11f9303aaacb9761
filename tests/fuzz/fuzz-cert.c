/*
 * fuzz-cert: renew_cert_check() (src/common/renew.c), the network half's judge of a certificate
 * on P/D/cert, on arbitrary bytes. The input is the message's payload; the device is fixed
 * here: the CA below in its cafile, CN garage.local, the pending key below (its public half is
 * all a check needs), and the time 2027-01-15 (1800000000), so that the seeds' dates keep their
 * meaning. The seed corpus holds a good certificate and one for each refusal (another CA with
 * the same name, serverAuth, another key, another CN, expired, not yet valid), made by the
 * OpenSSL API with this CA and key.
 *
 * Whatever the bytes: a reason of renew.h's, a certificate returned exactly when it is ok, and
 * then one of the CA's for the pending key and the CN; a refusal with one line of printable
 * text; with no key pending, nothing beyond too_large, malformed and nothing_pending; nothing
 * leaked.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "fuzz.h"
#include "renew.h"

#define NOW 1800000000

static const char ca_pem[] = "-----BEGIN CERTIFICATE-----\n"
                             "MIIBRjCB7KADAgECAgEBMAoGCCqGSM49BAMCMBoxGDAWBgNVBAMMD2dhcmFnZWQg\n"
                             "ZnV6eiBDQTAeFw0yNDAxMDEwMDAwMDBaFw00NDAxMDEwMDAwMDBaMBoxGDAWBgNV\n"
                             "BAMMD2dhcmFnZWQgZnV6eiBDQTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABGBR\n"
                             "LXlvGUPryfUZMelcGwft9Efq99ChMifqGiZ9WFRebKyC9AiyUeNmtDfscmLmM0Z4\n"
                             "zYN2RN6h615sfIVkuQyjIzAhMA8GA1UdEwEB/wQFMAMBAf8wDgYDVR0PAQH/BAQD\n"
                             "AgEGMAoGCCqGSM49BAMCA0kAMEYCIQCNZNg265gw/pKU8a0zBhdxyAOu2bHoJt/M\n"
                             "Ip2EvK5Z4QIhAK33HKmrxhI1djV25ivFVkVt7znxfvcsBeYdhExXL83U\n"
                             "-----END CERTIFICATE-----\n";

static const char pending_pem[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEDVRV1kGLUFveYwIEdvfmjtbDm5qb\n"
    "7XY2YP0DhT1w9BrzWdRdXJHoRy9yojEoHSZUBE/qjghslThp5iVxEdaJVg==\n"
    "-----END PUBLIC KEY-----\n";

static X509_STORE *store;
static EVP_PKEY *pending;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	BIO *bio;
	X509 *ca;

	(void)argc;
	(void)argv;
	store = X509_STORE_new();
	bio = BIO_new_mem_buf(ca_pem, -1);
	ca = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	FUZZ_CHECK(store != NULL && ca != NULL && X509_STORE_add_cert(store, ca) == 1);
	X509_free(ca);
	BIO_free(bio);
	bio = BIO_new_mem_buf(pending_pem, -1);
	pending = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	FUZZ_CHECK(pending != NULL);
	BIO_free(bio);
	return 0;
}

static void
check_msg(const char *msg)
{
	FUZZ_CHECK(msg[0] != '\0');
	for (const char *c = msg; *c != '\0'; c++)
		FUZZ_CHECK(*c >= 0x20 && *c < 0x7f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct renew_cert_info info;
	char msg[RENEW_MSG_MAX];
	enum renew_reason r;
	X509 *x = NULL;

	r = renew_cert_check(data, size, store, pending, "garage.local", NOW, &x, &info, msg,
	                     sizeof(msg));
	FUZZ_CHECK((unsigned)r < RENEW_REASON_COUNT);
	FUZZ_CHECK(strnlen(info.serial, sizeof(info.serial)) < sizeof(info.serial));
	FUZZ_CHECK(strnlen(info.not_after, sizeof(info.not_after)) < sizeof(info.not_after));
	if (r == RENEW_OK) {
		char cn[NAMES_CN_MAX + 1];

		FUZZ_CHECK(x != NULL);
		FUZZ_CHECK(EVP_PKEY_eq(X509_get0_pubkey(x), pending) == 1);
		FUZZ_CHECK(renew_cn(X509_get_subject_name(x), cn, sizeof(cn)) == 0);
		FUZZ_CHECK(strcmp(cn, "garage.local") == 0);
		FUZZ_CHECK(info.serial[0] != '\0' && info.not_after[0] != '\0');
		X509_free(x);
	} else {
		FUZZ_CHECK(x == NULL);
		check_msg(msg);
	}
	/* Nothing pending: no certificate gets further than being read. */
	r = renew_cert_check(data, size, store, NULL, "garage.local", NOW, &x, &info, msg,
	                     sizeof(msg));
	FUZZ_CHECK(r == RENEW_TOO_LARGE || r == RENEW_MALFORMED || r == RENEW_NOTHING_PENDING);
	FUZZ_CHECK(x == NULL);
	check_msg(msg);
	return 0;
}
