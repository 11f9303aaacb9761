/*
 * fuzz-pki: certificate and key loading, through tls_new() (src/common/tls.c), the one place
 * garaged reads cafile, certfile and keyfile.
 *
 * tls_new() takes paths, so each input is written to three files in a private temporary
 * directory first: the input is the CA file, the certificate file and the key file, in that
 * order, separated by the line "==8<==" (a part that is missing is an empty file). The seed
 * corpus holds matching triples in PEM and in DER, so that mutations reach the checks that
 * come after a file parsed (a chain after the certificate, the key against the certificate).
 * Whatever the bytes, tls_new() must return a context or NULL with one line of reason, and
 * leak nothing.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "fuzz.h"
#include "tls.h"

#define SEPARATOR "\n==8<==\n"

static const char *const file_names[3] = {"ca.crt", "client.crt", "client.key"};

static char dir[CONFIG_PATH_MAX];
static struct config cfg;

static void
remove_files(void)
{
	unlink(cfg.cafile);
	unlink(cfg.certfile);
	unlink(cfg.keyfile);
	rmdir(dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");
	char *paths[3] = {cfg.cafile, cfg.certfile, cfg.keyfile};

	(void)argc;
	(void)argv;
	snprintf(dir, sizeof(dir), "%s/garaged-fuzz-pki.XXXXXX",
	         tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL) {
		perror("fuzz-pki: mkdtemp");
		abort();
	}
	for (size_t i = 0; i < 3; i++)
		snprintf(paths[i], CONFIG_PATH_MAX, "%s/%s", dir, file_names[i]);
	atexit(remove_files);

	/* What tls_new() reads besides the files: a broker name and the default minimum. */
	strcpy(cfg.device_id, "garage");
	strcpy(cfg.host, "mqtt.local");
	cfg.port = 8883;
	strcpy(cfg.tls_version, "tlsv1.2");
	return 0;
}

static void
write_file(const char *path, const uint8_t *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	FUZZ_CHECK(f != NULL);
	FUZZ_CHECK(fwrite(data, 1, len, f) == len);
	FUZZ_CHECK(fclose(f) == 0);
}

/* The first occurrence of the separator in data[0..size), or NULL. */
static const uint8_t *
find_separator(const uint8_t *data, size_t size)
{
	size_t n = sizeof(SEPARATOR) - 1;

	for (size_t i = 0; i + n <= size; i++)
		if (memcmp(data + i, SEPARATOR, n) == 0)
			return data + i;
	return NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *paths[3] = {cfg.cafile, cfg.certfile, cfg.keyfile};
	const uint8_t *p = data, *end = data + size;
	char err[1024];
	struct tls *t;

	for (size_t i = 0; i < 3; i++) {
		const uint8_t *sep = i < 2 ? find_separator(p, (size_t)(end - p)) : NULL;
		const uint8_t *stop = sep != NULL ? sep : end;

		write_file(paths[i], p, (size_t)(stop - p));
		p = sep != NULL ? sep + sizeof(SEPARATOR) - 1 : end;
	}

	memset(err, 'x', sizeof(err));
	err[sizeof(err) - 1] = '\0';
	t = tls_new(&cfg, err, sizeof(err));
	if (t == NULL) {
		size_t n = strnlen(err, sizeof(err));

		FUZZ_CHECK(n > 0 && n < sizeof(err) - 1 && err[0] != 'x');
		FUZZ_CHECK(memchr(err, '\n', n) == NULL);
		return 0;
	}
	FUZZ_CHECK(tls_ssl_ctx(t) != NULL);
	FUZZ_CHECK(tls_last_refusal(t) == NULL);
	FUZZ_CHECK(tls_refused_check(t) == TLS_CHECK_NONE);
	FUZZ_CHECK(tls_matched_pin(t) == NULL);
	(void)tls_client_cert_expires_in(t);
	FUZZ_CHECK(tls_client_cert_not_after(t) != NULL);
	tls_free(t);
	return 0;
}
