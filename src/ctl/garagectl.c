/*
 * garagectl: the owner's tool (SPEC "garagectl"). This file owns the command line: the
 * subcommands, their options, the usage text, which configuration is read, how flags override
 * it, and the exit status (0 success, 1 refused or failed, 2 usage or configuration error).
 * The work is done by ctl_config (ctl.conf), ctl_keys (keys and signing), ctl_command (the
 * MQTT session) and ctl_invite (invitations and enrollment); pki and broker-config, which read no
 * ctl.conf, are handed their words whole (ctl_pki, ctl_broker), except pki sign-requests, which
 * reads ctl.conf's [mqtt] (ctl_renew). This file never talks to the
 * network or touches key material itself.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "cmd.h"
#include "cmd_admin.h"
#include "ctl_broker.h"
#include "ctl_command.h"
#include "ctl_config.h"
#include "ctl_invite.h"
#include "ctl_keys.h"
#include "ctl_pki.h"
#include "ctl_renew.h"
#include "names.h"

#define WAIT_DEFAULT_S 60
#define WAIT_MAX_S     3600

static const char usage_text[] =
    "usage: garagectl [-c ctl.conf] [--device ID] [--kid KID] [--key FILE] COMMAND [options]\n"
    "\n"
    "commands:\n"
    "  open|close|stop|toggle [--door N] [--wait [SECONDS]]\n"
    "          send a signed command to door N (default: main); with --wait, follow the\n"
    "          door until it gets where the command leads (default 60 s)\n"
    "  status [--watch]\n"
    "          show the device's availability and each door's state; with --watch, keep\n"
    "          showing every change until interrupted\n"
    "  keys list\n"
    "          the device's keys as it publishes them: kid, actions, doors, validity,\n"
    "          days and hours, admin\n"
    "  keys add --kid K --pub BASE64 [--actions LIST] [--doors LIST] [--not-before T]\n"
    "          [--not-after T] [--days LIST] [--hours HH:MM-HH:MM] [--admin]\n"
    "          add a key to the device's authorized_keys, signed with an admin key; T is\n"
    "          UTC, 2026-12-31T23:59:59Z, or a time from now (30d); here --kid names the\n"
    "          new key (the signer's --kid goes before keys)\n"
    "  keys remove KID\n"
    "          remove a key from the device's authorized_keys, signed with an admin key\n"
    "  renew\n"
    "          ask the device to renew its TLS certificate now, signed with an admin key:\n"
    "          it makes a new key and publishes a request for pki sign-requests\n"
    "  keygen --id KID [-o FILE] [--force]\n"
    "          make an Ed25519 signing key: the private key goes to FILE (default KID.key,\n"
    "          mode 0600, never overwritten without --force); the line for the device's\n"
    "          authorized_keys goes to standard output\n"
    "  invite --kid NAME [--actions LIST] [--doors LIST] [--days LIST] [--hours HH:MM-HH:MM]\n"
    "         [--key-not-before T] [--key-not-after T] [--expires 24h] [--url BASE]\n"
    "         [--web-login FILE] [-o FILE.png]\n"
    "          invite someone to enrol a key named NAME with these limits (never more than\n"
    "          your own: the device refuses more), signed with your [signing] key, an\n"
    "          admin's; prints one line, INVITATION.SECRET (BASE#... with --url), and draws\n"
    "          it as a QR code on the terminal (-o: as a PNG, mode 0600); it enrols once,\n"
    "          until --expires (1m to 30d). T is a UTC time or a time from now (30d).\n"
    "          --web-login: broker-config --web's web-login file, appended to the link for\n"
    "          the web app\n"
    "  enroll INVITATION [--key FILE]\n"
    "          enrol with an invitation (the line, or the link it is in): makes an Ed25519\n"
    "          key in FILE if there is none (default [signing] key, else NAME.key), sends\n"
    "          the request to the invitation's device and waits for its answer; needs\n"
    "          [mqtt] only\n"
    "  pki init --dir DIR [--days 3650] [--rsa BITS] [--cn NAME] [--force]\n"
    "          make a private CA in DIR (ca.crt, ca.key): ECDSA P-256, or RSA with --rsa\n"
    "          (2048 or more) for old clients\n"
    "  pki issue --dir DIR --server NAME [--ip ADDR]... [--days 365] [--rsa BITS] [--force]\n"
    "  pki issue --dir DIR --client NAME [--days 365] [--rsa BITS] [--force]\n"
    "          a certificate signed by DIR's CA: for the broker (SAN NAME and each --ip) or\n"
    "          for a client whose MQTT identity is NAME; DIR/NAME.crt and DIR/NAME.key\n"
    "  pki fingerprint FILE [--sha1]\n"
    "          the certificate's SHA-256 and SPKI SHA-256 and the pin lines for garaged.conf;\n"
    "          with --sha1 also SHA-1, colon- and space-separated (ESP8266 libraries)\n"
    "  pki der FILE -o OUT [--force]\n"
    "          a PEM certificate or private key as DER (a key OUT is 0600, never overwritten\n"
    "          without --force)\n"
    "  pki revoke --dir DIR NAME [--previous] [--crl-days 3650]\n"
    "          revoke DIR/NAME.crt (with --previous, the one a renewal replaced): recorded\n"
    "          in DIR/revoked, and DIR/crl.pem signed again\n"
    "  pki sign-requests --dir DIR [--yes] [--days 365]\n"
    "          sign the certificate requests devices publish on P/+/csr to renew\n"
    "          themselves (ctl.conf's [mqtt]; asks before each unless --yes), record each,\n"
    "          and send it to the device on P/D/cert\n"
    "  broker-config --dir DIR --server NAME --device ID:CN... --controller CN...\n"
    "          [--homeassistant CN...] [--port 8883] [--prefix garage]\n"
    "          [--ha-prefix homeassistant] [--max-packet-size 16384] [--mosquitto-dir MDIR]\n"
    "          [--web PORT [--web-mqtt-port 9001] [--web-user web] [--web-root DIR]]\n"
    "          [--peer HOST[:PORT]] [--bridge NAME]\n"
    "          write DIR/mosquitto.conf and DIR/acl: a mutual-TLS listener with DIR's\n"
    "          certificates, and an ACL in which each identity may do only its part; with\n"
    "          --mosquitto-dir (as root; /etc/mosquitto on Debian), a drop-in\n"
    "          MDIR/conf.d/garaged.conf and copies of the files it names in MDIR/garaged/;\n"
    "          with --web, the phone controller's way in: a WebSockets listener on\n"
    "          127.0.0.1 with its own login and ACL, and an nginx site (HTTPS on PORT);\n"
    "          with --peer, a bridge to the other broker of a pair (mutual TLS as the\n"
    "          client certificate DIR/NAME.crt, --bridge NAME, default bridge) for the\n"
    "          product's topics; with --bridge alone, the ACL that lets that bridge in\n"
    "\n"
    "  Private keys are written 0600 and never overwritten without --force.\n"
    "\n"
    "options:\n"
    "  -c FILE        the configuration ([mqtt] as in garaged.conf, and [signing] with key,\n"
    "                 kid and device); default $GARAGECTL_CONF, else\n"
    "                 ~/.config/garagectl/ctl.conf\n"
    "  --device ID    --kid KID    --key FILE    instead of [signing]'s device, kid and key\n"
    "  --version      --help\n"
    "\n"
    "exit status: 0 success, 1 refused or failed, 2 usage or configuration error\n";

struct options {
	const char *conf;
	const char *device;
	const char *kid;
	const char *key;
};

/* The options that may come before or after the command. Returns as ctl_option(). */
static int
global_option(int argc, char *argv[], int *i, struct options *o)
{
	static const char *const names[] = {"-c", "--device", "--kid", "--key"};
	const char **fields[] = {&o->conf, &o->device, &o->kid, &o->key};
	size_t k;
	int r;

	for (k = 0; k < sizeof(names) / sizeof(names[0]); k++)
		if ((r = ctl_option(argc, argv, i, names[k], fields[k])) != 0)
			return r;
	return 0;
}

/* A whole number of seconds for --wait. */
static bool
parse_seconds(const char *s, unsigned *out)
{
	unsigned long n;
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	n = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || n < 1 || n > WAIT_MAX_S)
		return false;
	*out = (unsigned)n;
	return true;
}

/*
 * ctl.conf, with the flags laid over it; the device it names (or --device) is required when
 * NEED_DEVICE. Returns 0, or the exit status (message printed).
 */
static int
load_config(const struct options *o, struct ctl_config *cfg, bool need_device)
{
	char path[CONFIG_PATH_MAX], err[CONFIG_ERROR_MAX + CONFIG_PATH_MAX];

	if (o->conf != NULL) {
		snprintf(path, sizeof(path), "%s", o->conf);
	} else {
		if (ctl_config_default_path(path, sizeof(path), err, sizeof(err)) != 0) {
			fprintf(stderr, "garagectl: %s\n", err);
			return CTL_EXIT_USAGE;
		}
		if (access(path, F_OK) != 0 && errno == ENOENT) {
			fprintf(
			    stderr,
			    "garagectl: no configuration at %s; create it ([mqtt] as in "
			    "garaged.conf, [signing] with key, kid and device) or give -c FILE\n",
			    path);
			return CTL_EXIT_USAGE;
		}
	}
	if (ctl_config_load(cfg, path, err, sizeof(err)) != 0) {
		/* FILE:LINE: message, as garaged prints it. */
		fprintf(stderr, "%s\n", err);
		return CTL_EXIT_USAGE;
	}
	if (o->device != NULL) {
		if (!names_device_id_valid(o->device))
			return ctl_usage_error(
			    "--device must be 1 to 32 characters of a-z, 0-9, '_' "
			    "and '-', not '%s'",
			    o->device);
		snprintf(cfg->device, sizeof(cfg->device), "%s", o->device);
	}
	if (o->kid != NULL) {
		if (!names_kid_valid(o->kid))
			return ctl_usage_error(
			    "--kid must be 1 to 64 characters of A-Z, a-z, 0-9 and "
			    "'._@-', not '%s'",
			    o->kid);
		snprintf(cfg->kid, sizeof(cfg->kid), "%s", o->kid);
	}
	if (o->key != NULL) {
		if (*o->key == '\0' || strlen(o->key) >= sizeof(cfg->key))
			return ctl_usage_error("--key needs the path of a key file, not '%s'",
			                       o->key);
		snprintf(cfg->key, sizeof(cfg->key), "%s", o->key);
	}
	if (cfg->device[0] == '\0' && need_device) {
		fprintf(stderr,
		        "garagectl: which device? set device = ID in [signing] of %s, or give "
		        "--device ID\n",
		        path);
		return CTL_EXIT_USAGE;
	}
	return 0;
}

/*
 * ctl.conf with the flags, and the signing key of [signing] (or --kid and --key). Returns 0
 * with the key in *key (the caller frees it), or the exit status (message printed).
 */
static int
load_signer(const struct options *o, struct ctl_config *cfg, EVP_PKEY **key)
{
	char err[512];
	int r;

	if ((r = load_config(o, cfg, true)) != 0)
		return r;
	if (cfg->kid[0] == '\0') {
		fprintf(stderr,
		        "garagectl: which key id? set kid = KID in [signing] of %s, or give --kid "
		        "KID before the command\n",
		        cfg->mqtt.file);
		return CTL_EXIT_USAGE;
	}
	if (cfg->key[0] == '\0') {
		fprintf(stderr,
		        "garagectl: which signing key? set key = FILE in [signing] of %s, or give "
		        "--key FILE (garagectl keygen makes one)\n",
		        cfg->mqtt.file);
		return CTL_EXIT_USAGE;
	}
	*key = ctl_key_load(cfg->key, err, sizeof(err));
	if (*key == NULL) {
		fprintf(stderr, "garagectl: %s\n", err);
		return CTL_EXIT_USAGE;
	}
	return 0;
}

static int
run_action(int argc, char *argv[], int i, struct options *o, enum cmd_action action)
{
	struct ctl_config cfg;
	struct ctl_signed cmd;
	struct ctl_request req;
	const char *door = "main";
	bool wait = false;
	unsigned wait_s = WAIT_DEFAULT_S;
	char err[512];
	EVP_PKEY *key = NULL;
	int r;

	for (; i < argc; i++) {
		if ((r = global_option(argc, argv, &i, o)) < 0 ||
		    (r == 0 && (r = ctl_option(argc, argv, &i, "--door", &door)) < 0))
			return CTL_EXIT_USAGE;
		if (r > 0)
			continue;
		if (strcmp(argv[i], "--wait") == 0) {
			wait = true;
			/* The seconds are optional: a number right after --wait is them. */
			if (i + 1 < argc && argv[i + 1][0] >= '0' && argv[i + 1][0] <= '9' &&
			    !parse_seconds(argv[++i], &wait_s))
				return ctl_usage_error("--wait takes 1 to 3600 seconds, not '%s'",
				                       argv[i]);
		} else if (strncmp(argv[i], "--wait=", 7) == 0) {
			wait = true;
			if (!parse_seconds(argv[i] + 7, &wait_s))
				return ctl_usage_error("--wait takes 1 to 3600 seconds, not '%s'",
				                       argv[i] + 7);
		} else {
			return ctl_usage_error("unknown option or argument '%s'", argv[i]);
		}
	}
	if (!names_door_valid(door))
		return ctl_usage_error(
		    "--door must be a door name (1 to 32 characters of a-z, 0-9, '_' "
		    "and '-'), not '%s'",
		    door);
	if ((r = load_signer(o, &cfg, &key)) != 0)
		return r;
	r = ctl_sign_command(key, cfg.device, door, action, cfg.kid, &cmd, err, sizeof(err));
	EVP_PKEY_free(key);
	if (r != 0) {
		fprintf(stderr, "garagectl: %s\n", err);
		return CTL_EXIT_FAILED;
	}
	req = (struct ctl_request){
	    .device = cfg.device,
	    .door = door,
	    .kid = cfg.kid,
	    .action = action,
	    .cmd = &cmd,
	    .wait = wait,
	    .wait_s = wait_s,
	};
	return ctl_command_send(&cfg.mqtt, &req);
}

static int
run_invite(int argc, char *argv[], int i, struct options *o)
{
	static const char *const names[] = {"--actions", "--doors",          "--days",
	                                    "--hours",   "--key-not-before", "--key-not-after",
	                                    "--url",     "--web-login"};
	struct ctl_invite_opts io = {.key.time_option = "--key-",
	                             .expires_s = CTL_INVITE_EXPIRES_DEFAULT_S};
	const char **fields[] = {&io.key.actions, &io.key.doors,      &io.key.days,
	                         &io.key.hours,   &io.key.not_before, &io.key.not_after,
	                         &io.url,         &io.web_login};
	const char *expires = NULL;
	struct ctl_config cfg;
	EVP_PKEY *key = NULL;
	int r = 0;

	for (; i < argc; i++) {
		/* After the command, --kid is the new key's: the signer's is [signing]'s. */
		if ((r = ctl_option(argc, argv, &i, "--kid", &io.key.kid)) != 0 ||
		    (r = ctl_option(argc, argv, &i, "--expires", &expires)) != 0 ||
		    (r = ctl_option(argc, argv, &i, "-o", &io.png)) != 0 ||
		    (r = ctl_option(argc, argv, &i, "--output", &io.png)) != 0) {
			if (r < 0)
				return CTL_EXIT_USAGE;
			continue;
		}
		for (size_t k = 0; k < sizeof(names) / sizeof(names[0]) && r == 0; k++)
			r = ctl_option(argc, argv, &i, names[k], fields[k]);
		if (r == 0)
			r = global_option(argc, argv, &i, o);
		if (r < 0)
			return CTL_EXIT_USAGE;
		if (r == 0)
			return ctl_usage_error("unknown option or argument '%s'", argv[i]);
	}
	if (io.key.kid == NULL)
		return ctl_usage_error("%s",
		                       "invite needs --kid NAME, the id the new key will have");
	if (expires != NULL &&
	    ctl_duration_parse(expires, CTL_INVITE_EXPIRES_MAX_S, &io.expires_s) != 0)
		return ctl_usage_error("--expires takes a time from now, 1m to 30d, such as 24h or "
		                       "7d, not '%s'",
		                       expires);
	if (io.png != NULL && (*io.png == '\0' || strlen(io.png) >= CONFIG_PATH_MAX))
		return ctl_usage_error("-o needs the path of the PNG to write, not '%s'", io.png);
	if ((r = load_signer(o, &cfg, &key)) != 0)
		return r;
	r = ctl_invite(&cfg, key, &io);
	EVP_PKEY_free(key);
	return r;
}

static int
run_enroll(int argc, char *argv[], int i, struct options *o)
{
	struct cmd_invite inv;
	struct ctl_config cfg;
	const char *text = NULL;
	char b64[CTL_INVITE_B64_MAX + 1], err[512];
	uint8_t seed[32];
	int r;

	for (; i < argc; i++) {
		if ((r = global_option(argc, argv, &i, o)) < 0)
			return CTL_EXIT_USAGE;
		if (r > 0)
			continue;
		if (argv[i][0] == '-' || text != NULL)
			return ctl_usage_error("unknown option or argument '%s'", argv[i]);
		text = argv[i];
	}
	if (text == NULL)
		return ctl_usage_error("%s",
		                       "enroll needs the INVITATION, the line garagectl invite "
		                       "printed (or the link it is in)");
	/* The invitation names the device and the kid: flags may only agree with it. */
	if (ctl_invite_line_parse(text, &inv, b64, seed, err, sizeof(err)) != 0)
		return ctl_usage_error("%s", err);
	memset(seed, 0, sizeof(seed));
	if (o->device != NULL && strcmp(o->device, inv.device) != 0)
		return ctl_usage_error("the invitation is for device %s, not --device %s",
		                       inv.device, o->device);
	if (o->kid != NULL && strcmp(o->kid, inv.key.kid) != 0)
		return ctl_usage_error("the invitation is for a key named %s, not --kid %s",
		                       inv.key.kid, o->kid);
	/* An invitee may have no [signing] yet: only [mqtt] is needed (and its certificate). */
	if ((r = load_config(o, &cfg, false)) != 0)
		return r;
	return ctl_enroll(&cfg, text, o->key);
}

static int
run_status(int argc, char *argv[], int i, struct options *o)
{
	struct ctl_config cfg;
	bool watch = false;
	int r;

	for (; i < argc; i++) {
		if ((r = global_option(argc, argv, &i, o)) < 0)
			return CTL_EXIT_USAGE;
		if (r > 0)
			continue;
		if (strcmp(argv[i], "--watch") == 0)
			watch = true;
		else
			return ctl_usage_error("unknown option or argument '%s'", argv[i]);
	}
	if ((r = load_config(o, &cfg, true)) != 0)
		return r;
	return ctl_status(&cfg.mqtt, cfg.device, watch);
}

/* Signs the admin message OP with ARG (naming TARGET) and sends it; the exit status. */
static int
send_admin(struct options *o, enum cmd_admin_op op, const char *arg, const char *target)
{
	static struct ctl_config cfg;
	struct ctl_signed msg;
	struct ctl_exchange x;
	EVP_PKEY *key = NULL;
	char err[512], refused[CMD_KID_MAX + 32];
	int r;

	if ((r = load_signer(o, &cfg, &key)) != 0)
		return r;
	r = ctl_sign_admin(key, cfg.device, op, arg, cfg.kid, &msg, err, sizeof(err));
	EVP_PKEY_free(key);
	if (r != 0) {
		fprintf(stderr, "garagectl: %s\n", err);
		return CTL_EXIT_FAILED;
	}
	if (op == CMD_ADMIN_RENEW)
		snprintf(refused, sizeof(refused), "to renew its certificate");
	else
		snprintf(refused, sizeof(refused), "to %s key %s", cmd_admin_op_name(op), target);
	x = (struct ctl_exchange){
	    .device = cfg.device,
	    .leaf = "admin",
	    .msg = &msg,
	    .what = "the admin message",
	    .refused = refused,
	    .answer_type = "keys",
	};
	r = ctl_exchange(&cfg.mqtt, &x);
	if (r == CTL_EXIT_OK && op == CMD_ADMIN_RENEW)
		printf("device %s: renewing its certificate: it publishes a request on %s/%s/csr "
		       "for garagectl pki sign-requests\n",
		       cfg.device, cfg.mqtt.topic_prefix, cfg.device);
	else if (r == CTL_EXIT_OK)
		printf("key %s: %s\n", target, op == CMD_ADMIN_ADD ? "added" : "removed");
	fflush(stdout);
	return r;
}

/*
 * keys add: the options make an authorized_keys line, which the core's own parser judges here
 * (a usage error says what is wrong before anything is sent) and which goes out in its
 * canonical form, the one the device writes. --kid is the new key's here; the global -c,
 * --device and --key may still come after the command.
 */
static int
run_keys_add(int argc, char *argv[], int i, struct options *o)
{
	static const char *const names[] = {"--actions",   "--doors", "--not-before",
	                                    "--not-after", "--days",  "--hours"};
	struct ctl_key_opts ko = {.time_option = "--"};
	const char **values[] = {&ko.actions,   &ko.doors, &ko.not_before,
	                         &ko.not_after, &ko.days,  &ko.hours};
	char canon[CMD_KEYS_LINE_MAX + 1], err[512];
	struct cmd_key k;
	size_t j;
	int r;

	for (; i < argc; i++) {
		if ((r = ctl_option(argc, argv, &i, "-c", &o->conf)) < 0 ||
		    (r == 0 && (r = ctl_option(argc, argv, &i, "--device", &o->device)) < 0) ||
		    (r == 0 && (r = ctl_option(argc, argv, &i, "--key", &o->key)) < 0) ||
		    (r == 0 && (r = ctl_option(argc, argv, &i, "--kid", &ko.kid)) < 0) ||
		    (r == 0 && (r = ctl_option(argc, argv, &i, "--pub", &ko.pub)) < 0))
			return CTL_EXIT_USAGE;
		for (j = 0; r == 0 && j < sizeof(names) / sizeof(names[0]); j++)
			if ((r = ctl_option(argc, argv, &i, names[j], values[j])) < 0)
				return CTL_EXIT_USAGE;
		if (r > 0)
			continue;
		if (strcmp(argv[i], "--admin") == 0)
			ko.admin = true;
		else
			return ctl_usage_error("unknown option or argument '%s'", argv[i]);
	}
	if (ko.kid == NULL || ko.pub == NULL)
		return ctl_usage_error("%s",
		                       "keys add needs --kid K (the new key's id) and --pub "
		                       "BASE64 (its public key, as garagectl keygen prints it)");
	if (ctl_key_from_options(&ko, (int64_t)time(NULL), &k, err, sizeof(err)) != 0)
		return ctl_usage_error("%s", err);
	if (cmd_key_format(&k, canon, sizeof(canon)) == 0)
		return ctl_usage_error("%s", "the key has no authorized_keys line");
	return send_admin(o, CMD_ADMIN_ADD, canon, k.kid);
}

static int
run_keys(int argc, char *argv[], int i, struct options *o)
{
	struct ctl_config cfg;
	const char *sub, *kid = NULL;
	int r;

	if (i >= argc)
		return ctl_usage_error("%s", "keys needs list, add or remove");
	sub = argv[i++];
	if (strcmp(sub, "add") == 0)
		return run_keys_add(argc, argv, i, o);
	if (strcmp(sub, "list") != 0 && strcmp(sub, "remove") != 0)
		return ctl_usage_error("keys takes list, add or remove, not '%s'", sub);
	for (; i < argc; i++) {
		if ((r = global_option(argc, argv, &i, o)) < 0)
			return CTL_EXIT_USAGE;
		if (r > 0)
			continue;
		if (strcmp(sub, "remove") == 0 && kid == NULL && argv[i][0] != '-')
			kid = argv[i];
		else
			return ctl_usage_error("unknown option or argument '%s'", argv[i]);
	}
	if (strcmp(sub, "list") == 0) {
		if ((r = load_config(o, &cfg, true)) != 0)
			return r;
		return ctl_keys_list(&cfg.mqtt, cfg.device);
	}
	if (kid == NULL)
		return ctl_usage_error("%s", "keys remove needs the KID of the key to remove");
	if (!names_kid_valid(kid))
		return ctl_usage_error(
		    "a key id is 1 to 64 characters of A-Z, a-z, 0-9 and '._@-', not '%s'", kid);
	return send_admin(o, CMD_ADMIN_REMOVE, kid, kid);
}

/* renew: the admin message that asks the device for a new certificate (docs/certificates.md). */
static int
run_renew(int argc, char *argv[], int i, struct options *o)
{
	int r;

	for (; i < argc; i++) {
		if ((r = global_option(argc, argv, &i, o)) < 0)
			return CTL_EXIT_USAGE;
		if (r == 0)
			return ctl_usage_error("unknown option or argument '%s'", argv[i]);
	}
	return send_admin(o, CMD_ADMIN_RENEW, "", "");
}

/*
 * pki sign-requests: the one pki command that talks to the broker, so it reads ctl.conf's
 * [mqtt] (no [signing]: it signs with the CA, for every device).
 */
static int
run_sign_requests(int argc, char *argv[], int i, struct options *o)
{
	struct ctl_config cfg;
	const char *dir = NULL, *v;
	int days = CTL_PKI_DAYS_DEFAULT, r;
	bool yes = false;
	char *end;
	long n;

	for (; i < argc; i++) {
		if ((r = global_option(argc, argv, &i, o)) < 0 ||
		    (r == 0 && (r = ctl_option(argc, argv, &i, "--dir", &dir)) < 0))
			return CTL_EXIT_USAGE;
		if (r > 0)
			continue;
		if ((r = ctl_option(argc, argv, &i, "--days", &v)) < 0)
			return CTL_EXIT_USAGE;
		if (r > 0) {
			n = (*v >= '0' && *v <= '9') ? strtol(v, &end, 10) : 0;
			if (n < 1 || n > CTL_PKI_DAYS_MAX || *end != '\0')
				return ctl_usage_error("--days takes 1 to %d, not '%s'",
				                       CTL_PKI_DAYS_MAX, v);
			days = (int)n;
			continue;
		}
		if (strcmp(argv[i], "--yes") == 0)
			yes = true;
		else
			return ctl_usage_error("pki sign-requests: unknown option or argument '%s'",
			                       argv[i]);
	}
	if (dir == NULL || *dir == '\0')
		return ctl_usage_error(
		    "pki sign-requests needs --dir DIR, the directory of the CA");
	if (!yes && isatty(STDIN_FILENO) != 1)
		return ctl_usage_error("pki sign-requests asks before it signs: run it on a "
		                       "terminal, or give --yes (as its systemd timer does)");
	if ((r = load_config(o, &cfg, false)) != 0)
		return r;
	return ctl_renew_sign_requests(&cfg.mqtt, dir, yes, days);
}

static int
run_keygen(int argc, char *argv[], int i)
{
	const char *kid = NULL, *out = NULL;
	char path[CONFIG_PATH_MAX], line[CTL_KEY_LINE_MAX], err[512];
	bool force = false;
	int r;

	for (; i < argc; i++) {
		if ((r = ctl_option(argc, argv, &i, "--id", &kid)) < 0 ||
		    (r == 0 && (r = ctl_option(argc, argv, &i, "-o", &out)) < 0) ||
		    (r == 0 && (r = ctl_option(argc, argv, &i, "--output", &out)) < 0))
			return CTL_EXIT_USAGE;
		if (r > 0)
			continue;
		if (strcmp(argv[i], "--force") == 0)
			force = true;
		else
			return ctl_usage_error("unknown option or argument '%s'", argv[i]);
	}
	if (kid == NULL)
		return ctl_usage_error("%s",
		                       "keygen needs --id KID, the key's name in authorized_keys");
	if (!names_kid_valid(kid))
		return ctl_usage_error(
		    "--id must be 1 to 64 characters of A-Z, a-z, 0-9 and '._@-', "
		    "not '%s'",
		    kid);
	if (out == NULL)
		snprintf(path, sizeof(path), "%s.key", kid);
	else if (*out == '\0' || strlen(out) >= sizeof(path))
		return ctl_usage_error("-o needs the path of the key file to write, not '%s'", out);
	else
		snprintf(path, sizeof(path), "%s", out);

	if (ctl_keygen(kid, path, force, line, sizeof(line), err, sizeof(err)) != 0) {
		fprintf(stderr, "garagectl: %s\n", err);
		return CTL_EXIT_FAILED;
	}
	printf("%s\n", line);
	fflush(stdout);
	fprintf(stderr,
	        "garagectl: wrote the private key to %s (mode 0600); add the line above to the "
	        "device's authorized_keys and send garaged SIGHUP\n",
	        path);
	return CTL_EXIT_OK;
}

int
main(int argc, char *argv[])
{
	struct options o = {0};
	enum cmd_action action;
	const char *cmd;
	int i, r;

	/* A broker that closes the connection must show as an error, not kill the process. */
	signal(SIGPIPE, SIG_IGN);

	for (i = 1; i < argc; i++) {
		if ((r = global_option(argc, argv, &i, &o)) < 0)
			return CTL_EXIT_USAGE;
		if (r > 0)
			continue;
		if (strcmp(argv[i], "--version") == 0) {
			printf("garagectl %s\n", GARAGED_VERSION);
			return CTL_EXIT_OK;
		}
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(usage_text, stdout);
			return CTL_EXIT_OK;
		}
		if (argv[i][0] == '-')
			return ctl_usage_error("unknown option '%s'", argv[i]);
		break;
	}
	if (i >= argc) {
		fputs(usage_text, stderr);
		return CTL_EXIT_USAGE;
	}
	cmd = argv[i++];
	if (cmd_action_parse(cmd, strlen(cmd), &action))
		return run_action(argc, argv, i, &o, action);
	if (strcmp(cmd, "status") == 0)
		return run_status(argc, argv, i, &o);
	if (strcmp(cmd, "keygen") == 0)
		return run_keygen(argc, argv, i);
	if (strcmp(cmd, "keys") == 0)
		return run_keys(argc, argv, i, &o);
	if (strcmp(cmd, "invite") == 0)
		return run_invite(argc, argv, i, &o);
	if (strcmp(cmd, "enroll") == 0)
		return run_enroll(argc, argv, i, &o);
	if (strcmp(cmd, "renew") == 0)
		return run_renew(argc, argv, i, &o);
	if (strcmp(cmd, "pki") == 0 && i < argc && strcmp(argv[i], "sign-requests") == 0)
		return run_sign_requests(argc, argv, i + 1, &o);
	if (strcmp(cmd, "pki") == 0)
		return ctl_pki_main(argc - i, argv + i);
	if (strcmp(cmd, "broker-config") == 0)
		return ctl_broker_main(argc - i, argv + i);
	return ctl_usage_error("unknown command '%s'", cmd);
}
