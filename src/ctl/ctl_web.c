/*
 * ctl_web: see ctl_web.h. The password is made with OpenSSL's random generator and hashed by
 * Mosquitto's own tool, so that the hash is always in the form the broker reads; the login
 * file and the link are JSON written by cJSON.
 */
#include "ctl_web.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cJSON.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "base64.h"
#include "ctl_util.h"

extern char **environ;

#define ERR_MAX (2 * PATH_MAX)
/* 18 random bytes: 144 bits, 24 characters of base64url, nothing to escape anywhere. */
#define PASS_BYTES 18
#define PASS_MIN   8
/* The connection JSON of a link: four short fields and a device id. */
#define LINK_JSON_MAX 512

bool
ctl_web_path_ok(const char *path)
{
	const unsigned char *p = (const unsigned char *)path;

	for (; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f || *p == '"' || *p == '\\' || *p == '$')
			return false;
	return true;
}

/* A password an owner may also have chosen by hand: printable ASCII, no quotes or
 * backslashes (the link's JSON stays plain), PASS_MIN to CTL_WEB_PASS_MAX characters. */
static bool
pass_ok(const char *s)
{
	size_t n = strlen(s), k;

	if (n < PASS_MIN || n > CTL_WEB_PASS_MAX)
		return false;
	for (k = 0; k < n; k++)
		if (s[k] < 0x21 || s[k] > 0x7e || s[k] == '"' || s[k] == '\\')
			return false;
	return true;
}

/*
 * The password of DIR/CTL_WEB_LOGIN into w->pass, and *found set, when the file is there and
 * is the login of w->user. Returns 0 then and when there is no such file or it names another
 * user; non-zero (reported) for a file that is not a login: it is never replaced silently,
 * since a new password locks every phone out.
 */
static int
read_login(struct ctl_web *w, const char *path, bool *found)
{
	char err[ERR_MAX];
	struct ctl_blob f;
	cJSON *j, *user, *pass;
	int r = 0;

	*found = false;
	if (ctl_read_file(path, true, &f, err, sizeof(err)) != 0) {
		if (errno == ENOENT)
			return 0;
		return ctl_failed("cannot read the web login %s", err);
	}
	j = cJSON_ParseWithLength(f.p, f.len);
	user = cJSON_GetObjectItemCaseSensitive(j, "user");
	pass = cJSON_GetObjectItemCaseSensitive(j, "pass");
	if (!cJSON_IsString(user) || !cJSON_IsString(pass) || !pass_ok(pass->valuestring)) {
		r = ctl_failed(
		    "%s is not a web login (a JSON object with user and pass, a password of "
		    "%d to %d printable characters); remove it to make a new password, which "
		    "every phone then needs again",
		    path, PASS_MIN, CTL_WEB_PASS_MAX);
	} else if (strcmp(user->valuestring, w->user) == 0) {
		memcpy(w->pass, pass->valuestring, strlen(pass->valuestring) + 1);
		*found = true;
	}
	/* cJSON's copy of the password is on the ordinary heap: cleared before it goes back. */
	if (cJSON_IsString(pass))
		OPENSSL_cleanse(pass->valuestring, strlen(pass->valuestring));
	cJSON_Delete(j);
	ctl_blob_free(&f);
	return r;
}

static int
new_password(struct ctl_web *w)
{
	uint8_t raw[PASS_BYTES];
	int r = 0;

	if (RAND_bytes(raw, sizeof(raw)) != 1 ||
	    base64_encode(BASE64_URL_UNPADDED, raw, sizeof(raw), w->pass, sizeof(w->pass)) == 0)
		r = ctl_failed("cannot make a random password (OpenSSL's generator failed)");
	OPENSSL_cleanse(raw, sizeof(raw));
	w->new_pass = r == 0;
	return r;
}

/* Writes all of LEN bytes of DATA to a new file PATH, mode 0600. */
static int
write_new(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
	ssize_t n;
	size_t off = 0;

	if (fd < 0)
		return -1;
	while (off < len) {
		n = write(fd, data + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			return -1;
		}
		off += (size_t)n;
	}
	return close(fd);
}

/*
 * Runs mosquitto_passwd -U on PATH (a "user:password" file it rewrites with the hash).
 * Returns 0, or reports why not and returns non-zero.
 */
static int
run_mosquitto_passwd(const char *path)
{
	char *argv[] = {"mosquitto_passwd", "-U", NULL, NULL};
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int r, status;

	argv[2] = (char *)(uintptr_t)path;
	if (posix_spawn_file_actions_init(&fa) != 0)
		return ctl_failed("out of memory");
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	r = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (r != 0)
		return ctl_failed(
		           "cannot run mosquitto_passwd to hash the web login's password: %s; "
		           "it comes with Mosquitto (apt install mosquitto)",
		           strerror(r)),
		       -1;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return ctl_failed("waiting for mosquitto_passwd: %s", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return ctl_failed("mosquitto_passwd -U failed (status %d) while hashing the web "
		                  "login's password",
		                  WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	return 0;
}

/*
 * Mosquitto's password file for w's login, hashed by mosquitto_passwd in a private directory
 * (mkdtemp: 0700, this user's), which is removed again whatever happens: the password in
 * clear never lies anywhere but there and in the 0600 login file.
 */
static int
write_passwd(const struct ctl_web *w, const char *path, mode_t mode, gid_t gid)
{
	char dir[] = "/tmp/garagectl-web-XXXXXX", tmp[sizeof(dir) + 16], *line = NULL, err[ERR_MAX];
	struct ctl_blob f = {0};
	size_t len = strlen(w->user) + 1 + strlen(w->pass) + 2;
	int r = 1;

	if (mkdtemp(dir) == NULL)
		return ctl_failed("cannot make a temporary directory in /tmp: %s", strerror(errno));
	snprintf(tmp, sizeof(tmp), "%s/passwd", dir);
	line = OPENSSL_secure_malloc(len);
	if (line == NULL) {
		ctl_failed("out of memory");
		goto out;
	}
	snprintf(line, len, "%s:%s\n", w->user, w->pass);
	if (write_new(tmp, line, len - 1) != 0) {
		ctl_failed("cannot write %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (run_mosquitto_passwd(tmp) != 0)
		goto out;
	if (ctl_read_file(tmp, false, &f, err, sizeof(err)) != 0) {
		ctl_failed("cannot read mosquitto_passwd's output %s", err);
		goto out;
	}
	/* user:$7$... : the line must be the hash now, never the password in clear. */
	if (strncmp(f.p, w->user, strlen(w->user)) != 0 || f.p[strlen(w->user)] != ':' ||
	    f.p[strlen(w->user) + 1] != '$' || strstr(f.p, w->pass) != NULL) {
		ctl_failed("mosquitto_passwd -U did not hash the web login's password");
		goto out;
	}
	if (ctl_write_file_group(path, f.p, f.len, mode, gid, err, sizeof(err)) != 0) {
		ctl_failed("%s", err);
		goto out;
	}
	r = 0;
out:
	unlink(tmp);
	rmdir(dir);
	ctl_blob_free(&f);
	if (line != NULL)
		OPENSSL_secure_clear_free(line, len);
	return r;
}

/* The connection JSON (docs/reference.md "The web app's invitation URL"); DEVICE may be
 * NULL. The caller frees it with cJSON_free after clearing it (it holds the password). */
static char *
connection_json(const struct ctl_web *w, const char *prefix, const char *device)
{
	cJSON *j = cJSON_CreateObject();
	char *s = NULL;

	if (j != NULL && cJSON_AddNumberToObject(j, "v", 1) != NULL &&
	    cJSON_AddStringToObject(j, "user", w->user) != NULL &&
	    cJSON_AddStringToObject(j, "pass", w->pass) != NULL &&
	    cJSON_AddStringToObject(j, "prefix", prefix) != NULL &&
	    (device == NULL || cJSON_AddStringToObject(j, "device", device) != NULL))
		s = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	return s;
}

static void
free_secret(char *s)
{
	if (s != NULL) {
		OPENSSL_cleanse(s, strlen(s));
		cJSON_free(s);
	}
}

int
ctl_web_login(struct ctl_web *w, const char *dir, const char *prefix, mode_t mode, gid_t gid)
{
	char login[PATH_MAX], passwd[PATH_MAX], err[ERR_MAX], *json;
	bool found;
	int r;

	w->new_pass = false;
	if ((size_t)snprintf(login, sizeof(login), "%s/%s", dir, CTL_WEB_LOGIN) >= sizeof(login) ||
	    (size_t)snprintf(passwd, sizeof(passwd), "%s/%s", dir, CTL_WEB_PASSWD) >=
	        sizeof(passwd))
		return ctl_failed("the path %s is too long", dir);
	if ((r = read_login(w, login, &found)) != 0 || (!found && (r = new_password(w)) != 0))
		return r;
	json = connection_json(w, prefix, NULL);
	if (json == NULL)
		return ctl_failed("out of memory");
	r = ctl_write_file_group(login, json, strlen(json), 0600, (gid_t)-1, err, sizeof(err));
	free_secret(json);
	if (r != 0)
		return ctl_failed("%s", err);
	return write_passwd(w, passwd, mode, gid);
}

void
ctl_web_listener_text(FILE *f, const struct ctl_web *w, const char *dir)
{
	fprintf(f,
	        "\n# Browsers (the web app): MQTT over WebSockets on 127.0.0.1 only. nginx takes "
	        "HTTPS on\n# port %d (%s/%s) and passes /mqtt here; no browser reaches this port "
	        "itself.\n# A browser logs in with the password of %s/%s and may only send "
	        "commands and\n# enrollment requests and read what the devices publish "
	        "(%s/%s); each command is still\n# signed by a key the device knows.\n",
	        w->port, dir, CTL_WEB_NGINX, dir, CTL_WEB_LOGIN, dir, CTL_WEB_ACL);
	fprintf(f, "listener %d 127.0.0.1\n", w->mqtt_port);
	fprintf(f, "protocol websockets\n");
	fprintf(f, "allow_anonymous false\n");
	fprintf(f, "password_file %s/%s\n", dir, CTL_WEB_PASSWD);
	fprintf(f, "acl_file %s/%s\n", dir, CTL_WEB_ACL);
}

void
ctl_web_acl_text(FILE *f, const struct ctl_web *w, const char *prefix)
{
	const char *p = prefix;

	fprintf(
	    f, "# The Mosquitto ACL of the WebSockets listener (per_listener_settings true): only\n"
	       "# the browsers' login, and only what the web app needs. Whoever has its password\n"
	       "# can still open nothing: the devices act only on commands signed by a key they\n"
	       "# know, and never on a state, event or key list from anyone but themselves.\n\n");
	fprintf(f, "user %s\n", w->user);
	fprintf(f, "topic write %s/+/+/cmd\n", p);
	fprintf(f, "topic write %s/+/enroll\n", p);
	fprintf(f, "topic read %s/+/availability\n", p);
	fprintf(f, "topic read %s/+/+/state\n", p);
	fprintf(f, "topic read %s/+/events\n", p);
	fprintf(f, "topic read %s/+/keys\n", p);
}

void
ctl_web_nginx_text(FILE *f, const struct ctl_web *w, const char *server, const char *dir)
{
	fprintf(
	    f,
	    "# An nginx site (include it in nginx's http block; on Debian:\n"
	    "#   ln -s %s/%s /etc/nginx/sites-enabled/garaged\n"
	    "#   nginx -t && systemctl reload nginx\n"
	    "# ): garaged's web app over HTTPS with HTTP/2, on the broker's own certificate,\n"
	    "# and /mqtt passed to Mosquitto's WebSockets listener on 127.0.0.1:%d. nginx reads\n"
	    "# the key as root, before it drops to its workers' user.\n",
	    dir, CTL_WEB_NGINX, w->mqtt_port);
	fprintf(f, "server {\n");
	fprintf(f, "\tlisten %d ssl http2;\n", w->port);
	fprintf(f, "\tlisten [::]:%d ssl http2;\n", w->port);
	fprintf(f, "\tserver_name %s;\n\n", server);
	fprintf(f, "\tssl_certificate \"%s/%s.crt\";\n", dir, server);
	fprintf(f, "\tssl_certificate_key \"%s/%s.key\";\n", dir, server);
	fprintf(f, "\tssl_protocols TLSv1.2 TLSv1.3;\n\n");
	fprintf(f, "\troot \"%s\";\n", w->root);
	fprintf(f, "\tindex index.html;\n");
	fprintf(f, "\tcharset utf-8;\n\n");
	fprintf(
	    f,
	    "\t# Scripts, styles and the MQTT connection from this server only; the page is\n"
	    "\t# never framed. The invitation in the URL's fragment never reaches a server, and\n"
	    "\t# no Referer carries the page's address anywhere. Every file is checked again\n"
	    "\t# on each load (no-cache), so that an upgrade reaches the phones.\n");
	fprintf(f,
	        "\tadd_header Content-Security-Policy \"default-src 'none'; script-src 'self'; "
	        "style-src 'self'; img-src 'self'; manifest-src 'self'; worker-src 'self'; "
	        "connect-src 'self' wss://$host:%d; base-uri 'none'; form-action 'none'; "
	        "frame-ancestors 'none'\" always;\n",
	        w->port);
	fprintf(f, "\tadd_header X-Content-Type-Options nosniff always;\n");
	fprintf(f, "\tadd_header Referrer-Policy no-referrer always;\n");
	fprintf(f, "\tadd_header Cache-Control no-cache always;\n\n");
	fprintf(f, "\tlocation / {\n");
	fprintf(f, "\t\ttry_files $uri $uri/ =404;\n");
	fprintf(f, "\t}\n\n");
	fprintf(f, "\t# MQTT over WebSockets: nginx takes the upgrade and passes the stream on.\n"
	           "\t# The web app pings every 30 s; an idle hour closes it.\n");
	fprintf(f, "\tlocation = /mqtt {\n");
	fprintf(f, "\t\tproxy_pass http://127.0.0.1:%d;\n", w->mqtt_port);
	fprintf(f, "\t\tproxy_http_version 1.1;\n");
	fprintf(f, "\t\tproxy_set_header Upgrade $http_upgrade;\n");
	fprintf(f, "\t\tproxy_set_header Connection \"upgrade\";\n");
	fprintf(f, "\t\tproxy_set_header Host $host;\n");
	fprintf(f, "\t\tproxy_buffering off;\n");
	fprintf(f, "\t\tproxy_read_timeout 1h;\n");
	fprintf(f, "\t\tproxy_send_timeout 1h;\n");
	fprintf(f, "\t}\n");
	fprintf(f, "}\n");
}

int
ctl_web_link(const struct ctl_web *w, const char *server, const char *prefix, const char *device,
             char *out, size_t size)
{
	char *json = connection_json(w, prefix, device), enc[LINK_JSON_MAX * 4 / 3 + 4], port[16];
	const char *open = strchr(server, ':') != NULL ? "[" : "",
	           *close = strchr(server, ':') != NULL ? "]" : "";
	size_t n;
	int r = -1;

	if (json == NULL)
		return -1;
	n = base64_encode(BASE64_URL_UNPADDED, (const uint8_t *)json, strlen(json), enc,
	                  sizeof(enc));
	port[0] = '\0';
	if (w->port != 443)
		snprintf(port, sizeof(port), ":%d", w->port);
	if (n > 0 && (size_t)snprintf(out, size, "https://%s%s%s%s/#..%s", open, server, close,
	                              port, enc) < size)
		r = 0;
	OPENSSL_cleanse(enc, sizeof(enc));
	free_secret(json);
	return r;
}
