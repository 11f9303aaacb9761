/*
 * ctl_broker: see ctl_broker.h. The files are plain text made here; OpenSSL is used only to
 * look at the CRL's date, and ctl_pki writes the files the way it writes its own.
 */
/* realpath() is X/Open, beyond the POSIX level the build asks for. */
#define _XOPEN_SOURCE 700

#include "ctl_broker.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "ctl_command.h"
#include "ctl_config.h"
#include "ctl_pki.h"
#include "ctl_web.h"
#include "names.h"

#define IDENTITIES_MAX 256
#define ERR_MAX        (2 * PATH_MAX)
#define MOSQUITTO_USER "mosquitto"
/* With --mosquitto-dir DIR: the drop-in DIR/conf.d/DROPIN and its files in DIR/FILES_DIR/. */
#define DROPIN    "garaged.conf"
#define FILES_DIR "garaged"
/* Warn when the CRL is this close to its next update: after it, Mosquitto refuses everyone. */
#define CRL_WARN_S (7 * 24 * 3600)
/*
 * max_packet_size: Mosquitto closes a client's connection as soon as the fixed header of a
 * larger packet is read, before it allocates or reads the rest. The largest packet of the
 * product is the device's key list on P/D/keys: at most 16109 bytes with every prefix and name
 * at its longest (its JSON is cut to CHANNEL_KEYS_MAX, test-keyfile.c,
 * LargestListFitsBrokerLimit). Then come a Home Assistant discovery publish (1376 bytes,
 * test-ha.c), an enrollment request (2 KB), an admin message and an event (1 KB each) and a
 * signed command (512 bytes). The default is also the floor: a smaller limit would make the
 * broker close the device's connection at every publish of a long key list.
 */
#define MAX_PACKET_DEFAULT 16384
#define MAX_PACKET_MIN     16384
#define MAX_PACKET_LIMIT   268435455 /* MQTT's own: a four-byte remaining length */

enum role {
	ROLE_DEVICE,
	ROLE_CONTROLLER,
	ROLE_HOMEASSISTANT,
};

struct identity {
	enum role role;
	char id[CONFIG_NAME_MAX + 1]; /* devices only: the garaged device id */
	const char *cn;               /* the certificate's CN, which is the MQTT user name */
};

struct broker {
	const char *dir, *server, *prefix, *ha_prefix;
	int port;
	long max_packet;
	struct identity ids[IDENTITIES_MAX];
	size_t n;
	char abs[PATH_MAX]; /* DIR, resolved */
	bool crl;
	/* --mosquitto-dir: Mosquitto's own directory (/etc/mosquitto on Debian), resolved. */
	const char *mdir;
	char mabs[PATH_MAX];
	/* Where the files the configuration names are: abs, or mabs/FILES_DIR with mdir. */
	char files[PATH_MAX];
	/* --web: the browsers' listener, login and nginx site (ctl_web). */
	bool web_on;
	struct ctl_web web;
	/* --peer HOST[:PORT]: this broker dials the other of a pair with a bridge, as the
	 * client certificate --bridge NAME (DIR/NAME.crt); --bridge alone: the ACL lets that
	 * identity in to carry the product's topics (the other broker's bridge). */
	bool peer_on;
	struct config_broker peer;
	const char *bridge;
};

static const char *const role_names[] = {"device", "controller", "Home Assistant"};

/* The default of garaged.conf's key NAME of SECTION, from config.c's table. */
static const char *
garaged_default(const char *section, const char *name)
{
	const struct config_key *k = config_key_find(section, name);

	assert(k != NULL && k->def != NULL);
	return k->def;
}

/* Whether topic filter INNER/# lies within OUTER/#: equal, or OUTER is a leading level of it. */
static bool
level_within(const char *inner, const char *outer)
{
	size_t n = strlen(outer);

	return strncmp(inner, outer, n) == 0 && (inner[n] == '\0' || inner[n] == '/');
}

static bool
has_control(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/* Adds an identity; a CN may hold one role only, a device id may appear once. */
static int
add_identity(struct broker *b, enum role role, const char *arg)
{
	struct identity *e;
	const char *cn = arg;
	size_t k, idlen = 0;

	if (b->n == IDENTITIES_MAX)
		return ctl_usage_error("at most %d identities", IDENTITIES_MAX);
	e = &b->ids[b->n];
	e->role = role;
	e->id[0] = '\0';
	if (role == ROLE_DEVICE) {
		cn = strchr(arg, ':');
		idlen = cn != NULL ? (size_t)(cn - arg) : 0;
		if (cn == NULL || idlen > CONFIG_NAME_MAX)
			return ctl_usage_error(
			    "--device takes ID:CN (the garaged device id, then the CN "
			    "of its client certificate), not '%s'",
			    arg);
		memcpy(e->id, arg, idlen);
		e->id[idlen] = '\0';
		cn++;
		if (!names_device_id_valid(e->id))
			return ctl_usage_error(
			    "the device id in --device %s must be 1 to 32 characters "
			    "of a-z, 0-9, '_' and '-' (id in [device] of garaged.conf)",
			    arg);
	}
	if (!names_cn_valid(cn))
		return ctl_usage_error(
		    "'%s' is not a certificate CN an ACL can name (1 to 64 printable "
		    "characters, no spaces, '+', '#' or '/')",
		    cn);
	for (k = 0; k < b->n; k++) {
		if (strcmp(b->ids[k].cn, cn) == 0)
			return ctl_usage_error(
			    "%s is given twice (as %s and as %s): one certificate, one "
			    "role, or a device could command itself",
			    cn, role_names[b->ids[k].role], role_names[role]);
		if (role == ROLE_DEVICE && b->ids[k].role == ROLE_DEVICE &&
		    strcmp(b->ids[k].id, e->id) == 0)
			return ctl_usage_error("device id %s is given twice", e->id);
	}
	e->cn = cn;
	b->n++;
	return 0;
}

/* A port number for OPT (1 to 65535) into *out. */
static int
parse_port(const char *opt, const char *arg, int *out)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(arg, &end, 10);
	if (*arg < '0' || *arg > '9' || errno != 0 || *end != '\0' || n < 1 || n > 65535)
		return ctl_usage_error("%s takes 1 to 65535, not '%s'", opt, arg);
	*out = (int)n;
	return 0;
}

/*
 * --web PORT and the options that only mean something with it: the three ports must differ,
 * the web root is an absolute path nginx can take, the login a name Mosquitto's password
 * file and ACL can hold.
 */
static int
parse_web(struct broker *b, const char *web, const char *wport)
{
	struct ctl_web *w = &b->web;

	if (web == NULL) {
		if (wport != NULL || w->root != NULL || w->user != NULL)
			return ctl_usage_error("--web-mqtt-port, --web-root and --web-user go with "
			                       "--web PORT (the web app's HTTPS port)");
		return 0;
	}
	b->web_on = true;
	w->mqtt_port = CTL_WEB_MQTT_PORT_DEFAULT;
	if (parse_port("--web", web, &w->port) != 0 ||
	    (wport != NULL && parse_port("--web-mqtt-port", wport, &w->mqtt_port) != 0))
		return CTL_EXIT_USAGE;
	if (w->port == b->port || w->mqtt_port == b->port || w->mqtt_port == w->port)
		return ctl_usage_error(
		    "--port %d, --web %d and --web-mqtt-port %d must be three different ports "
		    "(MQTT over TLS, nginx's HTTPS, Mosquitto's WebSockets on 127.0.0.1)",
		    b->port, w->port, w->mqtt_port);
	if (w->root == NULL)
		w->root = GARAGED_WEB_ROOT;
	if (w->root[0] != '/' || !ctl_web_path_ok(w->root))
		return ctl_usage_error(
		    "--web-root takes the web app's directory as an absolute path "
		    "without '\"', '\\' or '$' (default %s), not '%s'",
		    GARAGED_WEB_ROOT, w->root);
	if (w->user == NULL)
		w->user = CTL_WEB_USER_DEFAULT;
	if (!names_kid_valid(w->user))
		return ctl_usage_error(
		    "--web-user takes a broker user name of 1 to 64 characters of "
		    "A-Z, a-z, 0-9 and '._@-', not '%s'",
		    w->user);
	return 0;
}

static int
parse_args(int argc, char *argv[], struct broker *b)
{
	static const char *const role_opts[] = {"--device", "--controller", "--homeassistant"};
	const char *v = NULL, *port = NULL, *maxp = NULL, *web = NULL, *wport = NULL, *peer = NULL;
	char why[160];
	char *end;
	long n;
	size_t k;
	int i, r;

	for (i = 0; i < argc; i++) {
		if ((r = ctl_option(argc, argv, &i, "--dir", &b->dir)) < 0 ||
		    (r == 0 && (r = ctl_option(argc, argv, &i, "--server", &b->server)) < 0) ||
		    (r == 0 && (r = ctl_option(argc, argv, &i, "--port", &port)) < 0) ||
		    (r == 0 && (r = ctl_option(argc, argv, &i, "--prefix", &b->prefix)) < 0) ||
		    (r == 0 &&
		     (r = ctl_option(argc, argv, &i, "--ha-prefix", &b->ha_prefix)) < 0) ||
		    (r == 0 && (r = ctl_option(argc, argv, &i, "--mosquitto-dir", &b->mdir)) < 0) ||
		    (r == 0 && (r = ctl_option(argc, argv, &i, "--max-packet-size", &maxp)) < 0) ||
		    (r == 0 && (r = ctl_option(argc, argv, &i, "--web", &web)) < 0) ||
		    (r == 0 && (r = ctl_option(argc, argv, &i, "--web-mqtt-port", &wport)) < 0) ||
		    (r == 0 && (r = ctl_option(argc, argv, &i, "--web-root", &b->web.root)) < 0) ||
		    (r == 0 && (r = ctl_option(argc, argv, &i, "--web-user", &b->web.user)) < 0) ||
		    (r == 0 && (r = ctl_option(argc, argv, &i, "--peer", &peer)) < 0) ||
		    (r == 0 && (r = ctl_option(argc, argv, &i, "--bridge", &b->bridge)) < 0))
			return CTL_EXIT_USAGE;
		for (k = 0; r == 0 && k < sizeof(role_opts) / sizeof(role_opts[0]); k++) {
			if ((r = ctl_option(argc, argv, &i, role_opts[k], &v)) < 0)
				return CTL_EXIT_USAGE;
			if (r > 0 && add_identity(b, (enum role)k, v) != 0)
				return CTL_EXIT_USAGE;
		}
		if (r == 0)
			return ctl_usage_error("broker-config: unknown option or argument '%s'",
			                       argv[i]);
	}
	if (b->dir == NULL || *b->dir == '\0' || b->server == NULL)
		return ctl_usage_error(
		    "broker-config needs --dir DIR (the PKI directory) and --server "
		    "NAME (the broker's certificate, DIR/NAME.crt)");
	if (b->mdir != NULL && *b->mdir == '\0')
		return ctl_usage_error("--mosquitto-dir takes Mosquitto's configuration directory, "
		                       "/etc/mosquitto on Debian");
	if (!ctl_pki_name_valid(b->server))
		return ctl_usage_error(
		    "--server takes the NAME given to pki issue --server, not '%s'", b->server);
	if (port != NULL && parse_port("--port", port, &b->port) != 0)
		return CTL_EXIT_USAGE;
	if (parse_web(b, web, wport) != 0)
		return CTL_EXIT_USAGE;
	if (peer != NULL) {
		/* The same syntax as [mqtt] host: NAME[:PORT], [IPv6]:PORT. */
		if (config_broker_parse(peer, &b->peer, why, sizeof(why)) != 0)
			return ctl_usage_error("--peer %s, not '%s'",
			                       strncmp(why, "is ", 3) == 0 ? why + 3 : why, peer);
		if (strchr(b->peer.host, ':') != NULL)
			return ctl_usage_error(
			    "--peer takes a host name or an IPv4 address: "
			    "Mosquitto's bridge address cannot hold an IPv6 one");
		if (!b->peer.port_given)
			b->peer.port = (uint16_t)atoi(garaged_default("mqtt", "port"));
		b->peer_on = true;
		if (b->bridge == NULL)
			b->bridge = "bridge";
	}
	if (b->bridge != NULL && !ctl_pki_name_valid(b->bridge))
		return ctl_usage_error(
		    "--bridge takes the NAME given to pki issue --client for the bridge, not '%s'",
		    b->bridge);
	/* The bridge is an identity of its own: a CN holds one role only. */
	for (k = 0; b->bridge != NULL && k < b->n; k++)
		if (strcmp(b->ids[k].cn, b->bridge) == 0)
			return ctl_usage_error("--bridge %s is also a %s's CN: give the bridge a "
			                       "certificate of its own (pki issue --client NAME)",
			                       b->bridge, role_names[b->ids[k].role]);
	if (maxp != NULL) {
		errno = 0;
		n = strtol(maxp, &end, 10);
		if (*maxp < '0' || *maxp > '9' || errno != 0 || *end != '\0' ||
		    n < MAX_PACKET_MIN || n > MAX_PACKET_LIMIT)
			return ctl_usage_error(
			    "--max-packet-size takes %d to %d bytes (every message of garaged "
			    "fits in %d), not '%s'",
			    MAX_PACKET_MIN, MAX_PACKET_LIMIT, MAX_PACKET_MIN, maxp);
		b->max_packet = n;
	}
	if (!names_topic_prefix_valid(b->prefix) || !names_topic_prefix_valid(b->ha_prefix))
		return ctl_usage_error(
		    "--prefix and --ha-prefix take topic levels without wildcards, "
		    "spaces or empty levels, not '%s'",
		    names_topic_prefix_valid(b->prefix) ? b->ha_prefix : b->prefix);
	/* Home Assistant may write all of <ha-prefix>/#: with one prefix inside the other, that
	 * would be every command topic of every device (or every device's discovery). */
	if (level_within(b->prefix, b->ha_prefix) || level_within(b->ha_prefix, b->prefix))
		return ctl_usage_error(
		    "--prefix %s and --ha-prefix %s overlap: Home Assistant may write all of "
		    "%s/#, so its topics must not hold the devices' (or the other way round); "
		    "use two separate prefixes, such as garage and homeassistant",
		    b->prefix, b->ha_prefix, b->ha_prefix);
	for (k = 0; k < b->n && b->ids[k].role != ROLE_DEVICE; k++)
		;
	if (k == b->n)
		return ctl_usage_error("broker-config needs at least one --device ID:CN");
	for (k = 0; k < b->n && b->ids[k].role == ROLE_DEVICE; k++)
		;
	if (k == b->n)
		return ctl_usage_error(
		    "broker-config needs a --controller CN (or --homeassistant CN) "
		    "to command the devices");
	for (k = 0; b->web_on && k < b->n; k++)
		if (strcmp(b->ids[k].cn, b->web.user) == 0)
			return ctl_usage_error(
			    "--web-user %s is also a certificate's CN (a %s): give the browsers' "
			    "login a name of its own",
			    b->web.user, role_names[b->ids[k].role]);
	return 0;
}

/* DIR/NAME into out; the resolved DIR fits PATH_MAX, its files nearly always do too. */
static int
file_in(const struct broker *b, const char *name, char *out, size_t size)
{
	if ((size_t)snprintf(out, size, "%s/%s", b->abs, name) >= size)
		return ctl_failed("the path %s/%s is too long; use a shorter --dir", b->abs, name);
	return 0;
}

static bool
exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/*
 * Says when the CRL is past or near its next update: Mosquitto checks every client against
 * it, and OpenSSL fails every check once it is out of date.
 */
static void
check_crl(const char *path, const char *dir)
{
	BIO *bio = BIO_new_file(path, "r");
	X509_CRL *crl = bio != NULL ? PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL) : NULL;
	const ASN1_TIME *next = crl != NULL ? X509_CRL_get0_nextUpdate(crl) : NULL;
	time_t soon = time(NULL) + CRL_WARN_S;

	if (crl == NULL)
		fprintf(stderr,
		        "garagectl: warning: %s is not a PEM CRL; Mosquitto will not start "
		        "with it (run garagectl pki revoke again)\n",
		        path);
	else if (next != NULL && X509_cmp_time(next, &soon) <= 0)
		fprintf(
		    stderr,
		    "garagectl: warning: %s is out of date or will be within a week, and then "
		    "Mosquitto refuses every client; re-sign it with garagectl pki revoke --dir "
		    "%s NAME (any NAME already revoked)\n",
		    path, dir);
	ERR_clear_error();
	X509_CRL_free(crl);
	BIO_free(bio);
}

/* The command line that makes these files again, for the header of each. */
static void
print_command(FILE *f, const struct broker *b)
{
	static const char *const opts[] = {"--device", "--controller", "--homeassistant"};
	size_t k;

	fprintf(f, "#   garagectl broker-config --dir %s --server %s", b->abs, b->server);
	for (k = 0; k < b->n; k++) {
		fprintf(f, " \\\n#     %s ", opts[b->ids[k].role]);
		if (b->ids[k].role == ROLE_DEVICE)
			fprintf(f, "%s:", b->ids[k].id);
		fputs(b->ids[k].cn, f);
	}
	fprintf(f, " \\\n#     --port %d --prefix %s --ha-prefix %s --max-packet-size %ld", b->port,
	        b->prefix, b->ha_prefix, b->max_packet);
	if (b->web_on)
		fprintf(f, " \\\n#     --web %d --web-mqtt-port %d --web-user %s --web-root %s",
		        b->web.port, b->web.mqtt_port, b->web.user, b->web.root);
	if (b->mdir != NULL)
		fprintf(f, " \\\n#     --mosquitto-dir %s", b->mabs);
	if (b->peer_on)
		fprintf(f, " \\\n#     --peer %s:%u", b->peer.host, (unsigned)b->peer.port);
	if (b->bridge != NULL)
		fprintf(f, " --bridge %s", b->bridge);
	fputc('\n', f);
}

static void
print_header(FILE *f, const struct broker *b, const char *what)
{
	char now[32];
	time_t t = time(NULL);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(now, sizeof(now), "%Y-%m-%d %H:%M UTC", &tm) == 0)
		snprintf(now, sizeof(now), "(unknown time)");
	fprintf(f, "# %s for garaged, written by garagectl %s on %s by\n", what, GARAGED_VERSION,
	        now);
	print_command(f, b);
	fprintf(f, "# Run that again rather than edit this file: each run rewrites it.\n");
}

static void
write_acl_text(FILE *f, const struct broker *b)
{
	const char *p = b->prefix, *ha = b->ha_prefix;
	const struct identity *e;
	size_t k;

	print_header(f, b, "Mosquitto ACL");
	fprintf(f,
	        "# Mosquitto allows a user nothing that is not listed here, and users not listed\n"
	        "# nothing at all (SPEC \"Security model\" 4).\n");
	for (k = 0; k < b->n; k++) {
		e = &b->ids[k];
		fputc('\n', f);
		switch (e->role) {
		case ROLE_DEVICE:
			fprintf(f,
			        "# device %s: reads its commands, admin messages, enrollment "
			        "requests and renewed\n# certificate, writes its own state, key "
			        "list and certificate request only; its\n# availability both "
			        "(it says 'online' again over a stale will)\n",
			        e->id);
			fprintf(f, "user %s\n", e->cn);
			fprintf(f, "topic read %s/%s/+/cmd\n", p, e->id);
			fprintf(f, "topic read %s/%s/+/ha_cmd\n", p, e->id);
			fprintf(f, "topic read %s/%s/admin\n", p, e->id);
			fprintf(f, "topic read %s/%s/enroll\n", p, e->id);
			fprintf(f, "topic read %s/%s/cert\n", p, e->id);
			/* A controller's request to publish the retained topics again. */
			fprintf(f, "topic read %s/%s/refresh\n", p, e->id);
			/* Read too: a late will from the other broker of a pair is corrected. */
			fprintf(f, "topic readwrite %s/%s/availability\n", p, e->id);
			fprintf(f, "topic write %s/%s/+/state\n", p, e->id);
			fprintf(f, "topic write %s/%s/events\n", p, e->id);
			fprintf(f, "topic write %s/%s/keys\n", p, e->id);
			fprintf(f, "topic write %s/%s/csr\n", p, e->id);
			fprintf(f,
			        "# Home Assistant discovery under its own node id only "
			        "(HA/cover/DEVICE/DOOR/config):\n# no device can replace another "
			        "device's.\n");
			fprintf(f, "topic write %s/cover/%s/#\n", ha, e->id);
			fprintf(f, "topic read %s/status\n", ha);
			break;
		case ROLE_CONTROLLER:
			fprintf(f,
			        "# controller: sends signed commands, admin messages, "
			        "enrollment requests and renewed\n# certificates (pki "
			        "sign-requests) to every device, reads their state and requests\n");
			fprintf(f, "user %s\n", e->cn);
			fprintf(f, "topic write %s/+/+/cmd\n", p);
			fprintf(f, "topic write %s/+/admin\n", p);
			fprintf(f, "topic write %s/+/enroll\n", p);
			fprintf(f, "topic write %s/+/cert\n", p);
			fprintf(f, "topic write %s/+/refresh\n", p);
			fprintf(f, "topic read %s/#\n", p);
			fprintf(f, "topic read %s/#\n", ha);
			break;
		case ROLE_HOMEASSISTANT:
			fprintf(f, "# Home Assistant: unsigned commands (only where garaged has "
			           "commands = unsigned),\n# discovery and its own status\n");
			fprintf(f, "user %s\n", e->cn);
			fprintf(f, "topic write %s/+/+/ha_cmd\n", p);
			fprintf(f, "topic read %s/#\n", p);
			fprintf(f, "topic readwrite %s/#\n", ha);
			break;
		}
	}
	if (b->bridge == NULL)
		return;
	fprintf(f, "\n# bridge: the other broker of the pair (broker-config --peer), which carries "
	           "every device's\n# topics both ways, and Home Assistant's discovery and status; "
	           "nothing else of Home Assistant's\n");
	fprintf(f, "user %s\n", b->bridge);
	fprintf(f, "topic readwrite %s/#\n", p);
	fprintf(f, "topic readwrite %s/cover/#\n", ha);
	fprintf(f, "topic readwrite %s/status\n", ha);
}

/*
 * --peer: one bridge between the two brokers, dialled from this one, both directions. One, not
 * one on each side: two bridges would hand each message back and forth for ever. Mosquitto's
 * try_private marks the connection as a bridge, so that the other broker neither sends a
 * message back where it came from nor drops the retain flag. Run it on the broker garaged
 * prefers less: when that one restarts, its bridge subscribes on the preferred one and gets
 * the retained states from it; when the preferred one restarts, garaged comes back to it and
 * publishes them again (docs/brokers.md, "Two brokers").
 */
static void
write_bridge_text(FILE *f, const struct broker *b)
{
	const char *d = b->files;

	fprintf(f,
	        "\n# The bridge to the other broker of the pair, on mutual TLS as %s (a client "
	        "certificate of\n# this PKI): the product's topics both ways. The other broker's "
	        "ACL must let %s in\n# (broker-config --bridge %s there), and its certificate "
	        "must name %s.\n",
	        b->bridge, b->bridge, b->bridge, b->peer.host);
	fprintf(f, "connection garaged-peer\n");
	fprintf(f, "address %s:%u\n", b->peer.host, (unsigned)b->peer.port);
	fprintf(f, "bridge_cafile %s/ca.crt\n", d);
	fprintf(f, "bridge_certfile %s/%s.crt\n", d, b->bridge);
	fprintf(f, "bridge_keyfile %s/%s.key\n", d, b->bridge);
	fprintf(f, "bridge_tls_version tlsv1.2\n");
	fprintf(f, "bridge_insecure false\n");
	fprintf(f, "bridge_protocol_version mqttv311\n");
	fprintf(f, "try_private true\n");
	fprintf(f, "cleansession true\n");
	fprintf(f, "notifications false\n");
	fprintf(f, "start_type automatic\n");
	fprintf(f, "restart_timeout 1 5\n");
	fprintf(f, "topic %s/# both 1\n", b->prefix);
	fprintf(f, "topic %s/cover/# both 1\n", b->ha_prefix);
	fprintf(f, "topic %s/status both 1\n", b->ha_prefix);
}

static void
write_conf_text(FILE *f, const struct broker *b)
{
	const char *d = b->files;

	print_header(f, b, "Mosquitto configuration");
	if (b->mdir == NULL) {
		fprintf(
		    f,
		    "# Use it as Mosquitto's main configuration file (mosquitto -c FILE). For "
		    "Debian's\n# /etc/mosquitto, add --mosquitto-dir /etc/mosquitto (as root) "
		    "instead: a drop-in\n# in conf.d with copies of the files Mosquitto reads.\n"
		    "# Mosquitto drops root for its user right after reading this file: that "
		    "user must\n# be able to enter %s, read the files named here and write "
		    "the\n# persistence directory.\n\n",
		    b->abs);
	} else {
		/* Mosquitto 2.0 refuses a second persistence_location (and pid_file, log_dest
		 * file ...): what the main file sets is left to it. */
		fprintf(f,
		        "# A drop-in for Mosquitto's main configuration %s/mosquitto.conf, which "
		        "reads it\n# through include_dir and already sets pid_file, persistence, "
		        "persistence_location\n# and log_dest (Debian's does): Mosquitto refuses "
		        "a second persistence_location,\n# so none of those is here. The files "
		        "named are copies in %s/.\n\n",
		        b->mabs, d);
	}
	if (b->web_on)
		fprintf(
		    f,
		    "# Each listener has its own login and ACL: certificates on the TLS listener, "
		    "a\n# password on the browsers' WebSockets listener. Every setting of that "
		    "kind "
		    "is\n# therefore after its listener line (before the first one it would open a "
		    "default\n# listener on 1883).\n"
		    "per_listener_settings true\n");
	else
		fprintf(f, "per_listener_settings false\nallow_anonymous false\n");
	fprintf(f,
	        "# No packet larger than this, from anyone: Mosquitto closes the connection of a "
	        "client\n# that sends one as soon as it has read its length, before reading the "
	        "rest (message_size_limit\n# would read it whole first). garaged's largest "
	        "message, its key list, is at most 16109 bytes.\n");
	fprintf(f, "max_packet_size %ld\n", b->max_packet);
	if (b->mdir == NULL) {
		fprintf(f, "persistence true\n");
		fprintf(f, "persistence_location %s/data/\n", b->abs);
	}
	fputc('\n', f);
	fprintf(f,
	        "# Mutual TLS on every address. The client certificate's CN is the user name the\n"
	        "# ACL names and the client id, so one certificate is one client and no client "
	        "can\n# knock another off with its id.\n");
	fprintf(f, "listener %d\n", b->port);
	fprintf(f, "cafile %s/ca.crt\n", d);
	fprintf(f, "certfile %s/%s.crt\n", d, b->server);
	fprintf(f, "keyfile %s/%s.key\n", d, b->server);
	fprintf(f, "require_certificate true\n");
	fprintf(f, "use_identity_as_username true\n");
	fprintf(f, "use_username_as_clientid true\n");
	/* Commands are small and urgent: no Nagle delay on the broker's side either. */
	fprintf(f, "set_tcp_nodelay true\n");
	fprintf(f, "tls_version tlsv1.2\n");
	if (b->crl)
		fprintf(f,
		        "# Revoked client certificates (garagectl pki revoke).\n"
		        "crlfile %s/crl.pem\n",
		        d);
	if (!b->web_on) {
		fprintf(f, "\nacl_file %s/acl\n", d);
	} else {
		fprintf(f, "allow_anonymous false\n");
		fprintf(f, "acl_file %s/acl\n", d);
		ctl_web_listener_text(f, &b->web, d);
	}
	if (b->peer_on)
		write_bridge_text(f, b);
}

static void
write_web_acl_text(FILE *f, const struct broker *b)
{
	print_header(f, b, "Mosquitto ACL of the browsers' listener");
	ctl_web_acl_text(f, &b->web, b->prefix);
}

static void
write_nginx_text(FILE *f, const struct broker *b)
{
	print_header(f, b, "nginx site");
	ctl_web_nginx_text(f, &b->web, b->server, b->files);
}

/* Renders TEXT with FN into a memory stream and writes it to PATH (mode 0644). */
static int
write_text(const char *path, const struct broker *b, void (*fn)(FILE *, const struct broker *))
{
	char *text = NULL, err[ERR_MAX];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int r;

	if (f == NULL)
		return ctl_failed("out of memory");
	fn(f, b);
	if (fclose(f) != 0) {
		free(text);
		return ctl_failed("out of memory");
	}
	r = ctl_write_file(path, text, len, 0644, err, sizeof(err));
	free(text);
	if (r != 0)
		return ctl_failed("%s", err);
	return 0;
}

/*
 * DIR/data for persistence; given to the mosquitto user when there is one, since Mosquitto
 * writes there after dropping root. Says what to do when it cannot be given. This may run as
 * root in a directory others can write: a symbolic link at DIR/data is refused, never followed
 * (a chown through it would give Mosquitto's user whatever it points at), and the chown goes
 * to the directory opened, not to the name.
 */
static int
make_data_dir(const struct broker *b, char *note, size_t notelen)
{
	char path[PATH_MAX];
	struct passwd *pw;
	struct stat st;
	int fd;

	note[0] = '\0';
	if (file_in(b, "data", path, sizeof(path)) != 0)
		return -1;
	if (mkdir(path, 0700) != 0 && errno != EEXIST)
		return ctl_failed("cannot create the persistence directory %s: %s", path,
		                  strerror(errno));
	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
		return ctl_failed("%s is a symbolic link; the persistence directory must be a real "
		                  "directory, never followed: remove the link and run this again",
		                  path);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return ctl_failed("cannot open the persistence directory %s: %s", path,
		                  errno == ENOTDIR ? "a file is in the way"
		                  : errno == ELOOP
		                      ? "it is a symbolic link, which is never followed"
		                      : strerror(errno));
	pw = getpwnam(MOSQUITTO_USER);
	if (pw != NULL && fchown(fd, pw->pw_uid, pw->pw_gid) != 0)
		snprintf(note, notelen,
		         "run chown %s %s/ (as root): Mosquitto writes its persistence there as "
		         "the %s user (%s)",
		         MOSQUITTO_USER, path, MOSQUITTO_USER, strerror(errno));
	close(fd);
	return 0;
}

/*
 * --mosquitto-dir: the drop-in Mosquitto's main file reads, and copies of what it names.
 *
 * Debian's Mosquitto drops root for its own user before it reads the ACL (and when SIGHUP
 * makes it read the certificates and the CRL again), and an owner's home directory is 0700 on
 * Debian 12: files in a PKI directory under it cannot be read. The copies live in Mosquitto's
 * directory instead, readable by that user; ca.key and the clients' keys are never copied.
 */

/* Whether MAIN has an include_dir line naming CONFD (both resolved). */
static bool
includes_dir(const char *main_conf, const char *confd)
{
	char err[ERR_MAX], real[PATH_MAX], *line, *save = NULL, *v, *end;
	struct ctl_blob f;
	bool yes = false;

	if (ctl_read_file(main_conf, false, &f, err, sizeof(err)) != 0)
		return false;
	for (line = strtok_r(f.p, "\n", &save); line != NULL && !yes;
	     line = strtok_r(NULL, "\n", &save)) {
		while (*line == ' ' || *line == '\t')
			line++;
		if (strncmp(line, "include_dir", 11) != 0 || (line[11] != ' ' && line[11] != '\t'))
			continue;
		for (v = line + 11; *v == ' ' || *v == '\t'; v++)
			;
		for (end = v + strlen(v); end > v && strchr(" \t\r", end[-1]) != NULL; end--)
			;
		*end = '\0';
		yes = realpath(v, real) != NULL && strcmp(real, confd) == 0;
	}
	ctl_blob_free(&f);
	return yes;
}

/*
 * Checks Mosquitto's directory before anything is written: it exists, has conf.d, and this
 * process may write there. Sets b->mabs and b->files; says in conf and confd where the
 * drop-in goes and what reads it. Warns when the main file does not read conf.d.
 */
static int
dropin_check(struct broker *b, char *confd, char *conf)
{
	char main_conf[PATH_MAX], real[PATH_MAX];
	const char *where;
	struct stat st;

	if (realpath(b->mdir, b->mabs) == NULL)
		return ctl_failed(
		    "%s: %s; give Mosquitto's configuration directory (/etc/mosquitto "
		    "on Debian, once sudo apt install mosquitto has made it)",
		    b->mdir, strerror(errno));
	if (has_control(b->mabs))
		return ctl_failed("%s has control characters in its name, which a Mosquitto "
		                  "configuration line cannot hold",
		                  b->mabs);
	if ((size_t)snprintf(confd, PATH_MAX, "%s/conf.d", b->mabs) >= PATH_MAX ||
	    (size_t)snprintf(conf, PATH_MAX, "%s/conf.d/%s", b->mabs, DROPIN) >= PATH_MAX ||
	    (size_t)snprintf(main_conf, sizeof(main_conf), "%s/mosquitto.conf", b->mabs) >=
	        sizeof(main_conf) ||
	    (size_t)snprintf(b->files, sizeof(b->files), "%s/%s", b->mabs, FILES_DIR) >=
	        sizeof(b->files))
		return ctl_failed("the path %s is too long", b->mabs);
	if (stat(confd, &st) != 0 || !S_ISDIR(st.st_mode))
		return ctl_failed("%s has no conf.d directory; is it Mosquitto's configuration "
		                  "directory (/etc/mosquitto on Debian, made by sudo apt install "
		                  "mosquitto)?",
		                  b->mabs);
	/* Refused before anything is written, rather than half-way through. */
	if (access(confd, W_OK) != 0)
		return ctl_failed("cannot write to %s: %s; Mosquitto's configuration belongs to "
		                  "root: run this with sudo",
		                  confd, strerror(errno));
	/* MDIR/garaged when it is there already, else MDIR, where it is about to be made. */
	where = stat(b->files, &st) == 0 ? b->files : b->mabs;
	if (access(where, W_OK) != 0)
		return ctl_failed("cannot write to %s: %s; Mosquitto's configuration belongs to "
		                  "root: run this with sudo",
		                  where, strerror(errno));
	if (!includes_dir(main_conf, realpath(confd, real) != NULL ? real : confd))
		fprintf(stderr,
		        "garagectl: warning: %s has no line include_dir %s, so Mosquitto will not "
		        "read %s; add that line to it\n",
		        main_conf, confd, conf);
	return 0;
}

/* Copies SRC to b->files/NAME, mode MODE, group GID ((gid_t)-1: unchanged). */
static int
copy_in(const struct broker *b, const char *src, const char *name, bool secret, mode_t mode,
        gid_t gid)
{
	char dst[PATH_MAX], err[ERR_MAX];
	struct ctl_blob f;
	int r;

	if ((size_t)snprintf(dst, sizeof(dst), "%s/%s", b->files, name) >= sizeof(dst))
		return ctl_failed("the path %s/%s is too long", b->files, name);
	if (ctl_read_file(src, secret, &f, err, sizeof(err)) != 0)
		return ctl_failed("cannot read %s", err);
	r = ctl_write_file_group(dst, f.p, f.len, mode, gid, err, sizeof(err));
	ctl_blob_free(&f);
	if (r != 0)
		return ctl_failed("%s", err);
	return 0;
}

/*
 * Makes b->files (0755: Mosquitto's user enters it) and copies the CA, the broker's
 * certificate and key, and the CRL when there is one; a copy of a CRL since removed from the
 * PKI is removed too. The key is root:mosquitto 0640 when this runs as root and that group
 * exists, else 0600 for whoever runs this (a Mosquitto run as that same user reads it).
 */
static int
dropin_copy(const struct broker *b, const char *ca, const char *crt, const char *key,
            const char *crl, char *keynote, size_t notelen)
{
	char name[PATH_MAX], stale[PATH_MAX];
	struct group *gr = getgrnam(MOSQUITTO_USER);
	gid_t gid = (gid_t)-1;
	mode_t keymode = 0600;
	struct stat st;

	if (mkdir(b->files, 0755) != 0 &&
	    !(errno == EEXIST && stat(b->files, &st) == 0 && S_ISDIR(st.st_mode)))
		return ctl_failed("cannot create %s: %s", b->files,
		                  errno == EEXIST ? "a file is in the way" : strerror(errno));
	if (geteuid() == 0 && gr != NULL) {
		gid = gr->gr_gid;
		keymode = 0640;
		snprintf(keynote, notelen, "root:%s 0640", MOSQUITTO_USER);
	} else {
		snprintf(keynote, notelen,
		         "0600: only a Mosquitto that runs as this user reads it");
	}
	if (copy_in(b, ca, "ca.crt", false, 0644, (gid_t)-1) != 0)
		return -1;
	snprintf(name, sizeof(name), "%s.crt", b->server);
	if (copy_in(b, crt, name, false, 0644, (gid_t)-1) != 0)
		return -1;
	snprintf(name, sizeof(name), "%s.key", b->server);
	if (copy_in(b, key, name, true, keymode, gid) != 0)
		return -1;
	if (b->crl)
		return copy_in(b, crl, "crl.pem", false, 0644, (gid_t)-1);
	if ((size_t)snprintf(stale, sizeof(stale), "%s/crl.pem", b->files) >= sizeof(stale))
		return ctl_failed("the path %s/crl.pem is too long", b->files);
	if (unlink(stale) != 0 && errno != ENOENT)
		return ctl_failed("cannot remove the old %s: %s", stale, strerror(errno));
	return 0;
}

/* --peer with --mosquitto-dir: the bridge's certificate and key, as dropin_copy() copies the
 * broker's. */
static int
dropin_copy_pair(const struct broker *b, const char *crt, const char *key)
{
	char name[PATH_MAX];
	struct group *gr = getgrnam(MOSQUITTO_USER);
	bool group = geteuid() == 0 && gr != NULL;

	snprintf(name, sizeof(name), "%s.crt", b->bridge);
	if (copy_in(b, crt, name, false, 0644, (gid_t)-1) != 0)
		return -1;
	snprintf(name, sizeof(name), "%s.key", b->bridge);
	return copy_in(b, key, name, true, group ? 0640 : 0600, group ? gr->gr_gid : (gid_t)-1);
}

/*
 * --web: the browsers' login (its hash readable by Mosquitto's user as the broker's key copy
 * is, when this runs as root), their ACL and the nginx site, all beside the files Mosquitto
 * reads.
 */
static int
write_web(struct broker *b)
{
	char path[PATH_MAX];
	struct group *gr = getgrnam(MOSQUITTO_USER);
	bool group = geteuid() == 0 && gr != NULL;

	if (!ctl_web_path_ok(b->files))
		return ctl_failed("%s has a '\"', '\\' or '$' in its name, which nginx would read "
		                  "as syntax; use another directory",
		                  b->files);
	if (ctl_web_login(&b->web, b->files, b->prefix, group ? 0640 : 0600,
	                  group ? gr->gr_gid : (gid_t)-1) != 0)
		return -1;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", b->files, CTL_WEB_ACL) >= sizeof(path) ||
	    write_text(path, b, write_web_acl_text) != 0)
		return -1;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", b->files, CTL_WEB_NGINX) >=
	        sizeof(path) ||
	    write_text(path, b, write_nginx_text) != 0)
		return -1;
	return 0;
}

/* What --web wrote, the links that open the web app, and what to do next. */
static void
print_web_done(const struct broker *b)
{
	const struct ctl_web *w = &b->web;
	char link[2048];
	size_t k;

	printf("wrote %s/%s (the browsers' login %s: %s), %s/%s (its hash, for Mosquitto) and "
	       "%s/%s (what it may do)\n",
	       b->files, CTL_WEB_LOGIN, w->user,
	       w->new_pass ? "a new random password; mode 0600"
	                   : "its password kept; remove the file and run this again for a new one",
	       b->files, CTL_WEB_PASSWD, b->files, CTL_WEB_ACL);
	printf("wrote %s/%s (nginx: HTTPS with HTTP/2 on port %d, the web app in %s, /mqtt to "
	       "Mosquitto on 127.0.0.1:%d); on Debian: apt install nginx, ln -s %s/%s "
	       "/etc/nginx/sites-enabled/garaged, nginx -t && systemctl reload nginx\n",
	       b->files, CTL_WEB_NGINX, w->port, w->root, w->mqtt_port, b->files, CTL_WEB_NGINX);
	printf("the web app for each device, with the broker login in the link's fragment (a "
	       "phone that opens it still needs its key added: docs/phone.md):\n");
	for (k = 0; k < b->n; k++)
		if (b->ids[k].role == ROLE_DEVICE &&
		    ctl_web_link(w, b->server, b->prefix, b->ids[k].id, link, sizeof(link)) == 0)
			printf("  %s: %s\n", b->ids[k].id, link);
}

/* What was written, and what to do next. */
static void
print_done(const struct broker *b, const char *acl, const char *conf, const char *note,
           const char *keynote)
{
	size_t k, counts[3] = {0};

	for (k = 0; k < b->n; k++)
		counts[b->ids[k].role]++;
	printf("wrote %s (%zu device%s, %zu controller%s, %zu Home Assistant)\n", acl, counts[0],
	       counts[0] == 1 ? "" : "s", counts[1], counts[1] == 1 ? "" : "s", counts[2]);
	if (b->mdir != NULL) {
		printf("copied ca.crt, %s.crt, %s.key (%s)%s from %s to %s/\n", b->server,
		       b->server, keynote, b->crl ? " and crl.pem" : "", b->abs, b->files);
		printf("wrote %s (TLS listener on port %d, every address%s)\n", conf, b->port,
		       b->crl ? "; with the CRL" : "");
		printf("restart Mosquitto to apply it (systemctl restart mosquitto), then check "
		       "that it listens: ss -ltn 'sport = :%d'. Run this again after every change "
		       "in %s (a revocation, a new certificate): Mosquitto reads the copies\n",
		       b->port, b->abs);
		return;
	}
	printf("wrote %s (TLS listener on port %d, every address; persistence in %s/data/%s)\n",
	       conf, b->port, b->abs, b->crl ? "; with the CRL" : "");
	if (note[0] != '\0')
		printf("then %s\n", note);
	if (getpwnam(MOSQUITTO_USER) != NULL)
		printf(
		    "Mosquitto reads these files as the %s user, after dropping root: let it in, "
		    "e.g. chgrp %s %s %s/%s.key && chmod 750 %s && chmod 640 %s/%s.key (the other "
		    "keys stay 0600); or, for Debian's /etc/mosquitto, run this again as root with "
		    "--mosquitto-dir /etc/mosquitto\n",
		    MOSQUITTO_USER, MOSQUITTO_USER, b->abs, b->abs, b->server, b->abs, b->abs,
		    b->server);
	printf("start Mosquitto with it (mosquitto -c %s), or restart it if it already uses this "
	       "file; a changed ACL alone also takes effect on SIGHUP\n",
	       conf);
}

int
ctl_broker_main(int argc, char *argv[])
{
	struct broker *b;
	char ca[PATH_MAX], crt[PATH_MAX], key[PATH_MAX], crl[PATH_MAX], acl[PATH_MAX],
	    conf[PATH_MAX], confd[PATH_MAX], note[PATH_MAX + 128], keynote[128] = "";
	char bcrt[PATH_MAX], bkey[PATH_MAX]; /* --peer: the bridge's pair */
	int ret = CTL_EXIT_FAILED;

	/* Large (256 identities): on the heap. */
	b = calloc(1, sizeof(*b));
	if (b == NULL)
		return ctl_failed("out of memory");
	/* garaged's own defaults: a broker set up with none of these flags serves a device
	 * whose garaged.conf leaves the same keys out. */
	b->port = atoi(garaged_default("mqtt", "port"));
	b->max_packet = MAX_PACKET_DEFAULT;
	b->prefix = garaged_default("mqtt", "topic_prefix");
	b->ha_prefix = garaged_default("homeassistant", "prefix");
	note[0] = '\0';
	if (parse_args(argc, argv, b) != 0) {
		ret = CTL_EXIT_USAGE;
		goto out;
	}
	if (realpath(b->dir, b->abs) == NULL) {
		ctl_failed("%s: %s; give the directory of garagectl pki init", b->dir,
		           strerror(errno));
		goto out;
	}
	/* Every path is written into a line of the configuration. */
	if (has_control(b->abs)) {
		ctl_failed(
		    "%s has control characters in its name, which a Mosquitto configuration line "
		    "cannot hold; use another directory",
		    b->abs);
		goto out;
	}
	memcpy(b->files, b->abs, sizeof(b->files));
	if (file_in(b, "ca.crt", ca, sizeof(ca)) != 0 ||
	    file_in(b, "crl.pem", crl, sizeof(crl)) != 0 ||
	    file_in(b, "acl", acl, sizeof(acl)) != 0 ||
	    file_in(b, "mosquitto.conf", conf, sizeof(conf)) != 0)
		goto out;
	if ((size_t)snprintf(crt, sizeof(crt), "%s/%s.crt", b->abs, b->server) >= sizeof(crt) ||
	    (size_t)snprintf(key, sizeof(key), "%s/%s.key", b->abs, b->server) >= sizeof(key)) {
		ctl_failed("the path %s/%s.crt is too long; use a shorter --dir", b->abs,
		           b->server);
		goto out;
	}
	if (!exists(ca)) {
		ctl_failed("no CA in %s (%s is missing); run garagectl pki init --dir %s first",
		           b->dir, ca, b->dir);
		goto out;
	}
	if (!exists(crt) || !exists(key)) {
		ctl_failed("no broker certificate %s; run garagectl pki issue --dir %s --server %s "
		           "first",
		           exists(crt) ? key : crt, b->dir, b->server);
		goto out;
	}
	if (b->peer_on) {
		if ((size_t)snprintf(bcrt, sizeof(bcrt), "%s/%s.crt", b->abs, b->bridge) >=
		        sizeof(bcrt) ||
		    (size_t)snprintf(bkey, sizeof(bkey), "%s/%s.key", b->abs, b->bridge) >=
		        sizeof(bkey)) {
			ctl_failed("the path %s/%s.crt is too long; use a shorter --dir", b->abs,
			           b->bridge);
			goto out;
		}
		if (!exists(bcrt) || !exists(bkey)) {
			ctl_failed("no bridge certificate %s; run garagectl pki issue --dir %s "
			           "--client %s first",
			           exists(bcrt) ? bkey : bcrt, b->dir, b->bridge);
			goto out;
		}
	}
	b->crl = exists(crl);
	if (b->crl)
		check_crl(crl, b->dir);
	if (b->mdir != NULL) {
		/* Nothing is written in the PKI directory: this runs as root. */
		if (dropin_check(b, confd, conf) != 0 ||
		    dropin_copy(b, ca, crt, key, crl, keynote, sizeof(keynote)) != 0)
			goto out;
		/* The bridge's pair, beside the broker's, and its key guarded as that one is. */
		if (b->peer_on && (dropin_copy_pair(b, bcrt, bkey) != 0))
			goto out;
		if ((size_t)snprintf(acl, sizeof(acl), "%s/acl", b->files) >= sizeof(acl)) {
			ctl_failed("the path %s/acl is too long", b->files);
			goto out;
		}
	} else if (make_data_dir(b, note, sizeof(note)) != 0) {
		goto out;
	}
	/* The ACL first: the configuration names it, and Mosquitto refuses a missing acl_file. */
	if (write_text(acl, b, write_acl_text) != 0 || (b->web_on && write_web(b) != 0) ||
	    write_text(conf, b, write_conf_text) != 0)
		goto out;
	print_done(b, acl, conf, note, keynote);
	if (b->peer_on)
		printf("with a bridge to %s:%u as %s, both ways, for %s/# and Home Assistant's "
		       "%s/cover/# and %s/status; the other broker's configuration needs --bridge "
		       "%s (and no --peer: one bridge per pair)\n",
		       b->peer.host, (unsigned)b->peer.port, b->bridge, b->prefix, b->ha_prefix,
		       b->ha_prefix, b->bridge);
	if (b->web_on)
		print_web_done(b);
	ret = CTL_EXIT_OK;
out:
	free(b);
	return ret;
}
