/*
 * garagectl: the owner's tool. This first cut only knows its version; signed commands, keys,
 * the private CA and the broker configuration arrive with their issues (see docs/).
 */
#include <stdio.h>
#include <string.h>

static void
usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: garagectl --version\n"
	    "(open/close/stop/toggle, status, keygen, pki and broker-config are not built yet)\n");
}

int
main(int argc, char *argv[])
{
	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		printf("garagectl %s\n", GARAGED_VERSION);
		return 0;
	}
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return 0;
	}
	usage(stderr);
	return 2;
}
