/*
 * ctl_web: the browsers' way to the broker, for garagectl broker-config --web.
 *
 * It owns what a phone's web app needs beyond the certificate listener: a Mosquitto listener
 * speaking MQTT over WebSockets on 127.0.0.1 only (no certificate: a browser cannot present a
 * client certificate of its own choosing), its login (one user name and a generated password,
 * kept in a 0600 file that each run reuses, hashed for Mosquitto by Debian's mosquitto_passwd),
 * its ACL (write only command and enrollment topics, read only availability, state, events and
 * key lists), and an nginx site that serves the web app over HTTPS with HTTP/2 on the broker's
 * certificate and passes /mqtt to that listener. The login opens no door: every command is
 * still signed by a key the device knows (docs/phone.md).
 *
 * ctl_broker decides where the files go and writes the text this module renders; this module
 * never starts or signals Mosquitto or nginx and writes only the two login files itself.
 */
#ifndef GARAGED_CTL_WEB_H
#define GARAGED_CTL_WEB_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

/* The login's files, in the directory of the other files Mosquitto reads. */
#define CTL_WEB_ACL    "web-acl"
#define CTL_WEB_PASSWD "web-passwd" /* Mosquitto's password_file: the hash only */
#define CTL_WEB_LOGIN  "web-login"  /* 0600: the login itself, for invitations */
#define CTL_WEB_NGINX  "nginx-garaged.conf"
/* Mosquitto's usual port for WebSockets; here only on 127.0.0.1. */
#define CTL_WEB_MQTT_PORT_DEFAULT 9001
#define CTL_WEB_USER_DEFAULT      "web"
#define CTL_WEB_PASS_MAX          128

struct ctl_web {
	int port;         /* --web: nginx's HTTPS port, on every address */
	int mqtt_port;    /* --web-mqtt-port: Mosquitto's WebSockets listener, 127.0.0.1 */
	const char *root; /* --web-root: the web app's files */
	const char *user; /* --web-user: the browsers' broker login */
	/* Filled by ctl_web_login(): */
	char pass[CTL_WEB_PASS_MAX + 1];
	bool new_pass; /* made by this run rather than read from CTL_WEB_LOGIN */
};

/* A path nginx can take in double quotes: no '"', '\\' or '$' (a variable there), no control
 * characters. */
bool ctl_web_path_ok(const char *path);

/*
 * The login in DIR: reads DIR/CTL_WEB_LOGIN when it is there and names w->user (keeping its
 * password, so that a second run does not lock every phone out), else makes a new random
 * password; then writes DIR/CTL_WEB_LOGIN (mode 0600) and DIR/CTL_WEB_PASSWD (MODE, group GID
 * as ctl_write_file_group takes it) through mosquitto_passwd -U on a private temporary copy.
 * PREFIX goes into the login file, for the web app's links. Returns 0, or reports the error
 * (ctl_failed) and returns non-zero.
 */
int ctl_web_login(struct ctl_web *w, const char *dir, const char *prefix, mode_t mode, gid_t gid);

/* The Mosquitto listener lines for the browsers (per_listener_settings true), files in DIR. */
void ctl_web_listener_text(FILE *f, const struct ctl_web *w, const char *dir);

/* The browsers' ACL, for the topics under PREFIX. */
void ctl_web_acl_text(FILE *f, const struct ctl_web *w, const char *prefix);

/* The nginx site: SERVER's certificate and key in DIR, the web root, /mqtt to the listener. */
void ctl_web_nginx_text(FILE *f, const struct ctl_web *w, const char *server, const char *dir);

/*
 * The link that opens the web app for DEVICE with this login, as docs/reference.md "The web
 * app's invitation URL" defines it without an invitation: https://SERVER[:PORT]/#..<b64url of
 * the connection JSON>. Returns 0, or -1 when it does not fit SIZE.
 */
int ctl_web_link(const struct ctl_web *w, const char *server, const char *prefix,
                 const char *device, char *out, size_t size);

#endif
