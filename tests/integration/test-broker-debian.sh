#!/bin/bash
# The broker as docs/setup.md section 2 sets it up on Debian 12: garagectl broker-config
# --mosquitto-dir on a copy of the layout Debian's mosquitto package makes (its own
# /etc/mosquitto/mosquitto.conf, with only the paths moved into the scratch folder), run by the
# real Mosquitto as root so that it drops to the mosquitto user as under systemd. The PKI sits in
# a 0700 home directory, as Debian 12's adduser makes them, so the broker must live on the copies.
# Checked: clear refusals (no such directory, no conf.d, not writable without root); a drop-in
# that repeats nothing of the main file, copies with the right owners and modes and never a
# client or CA key; Mosquitto starts with it, listens on every address and keeps its persistence;
# the ACL holds for each identity; garaged and garagectl (MQTT 5) work through it, and a command
# the ACL refuses is refused at once; two garagectl with one certificate: the first one stops
# and says why; after pki revoke, running broker-config again refreshes the CRL's copy, and a
# restart (or SIGHUP, once the CRL is configured) shuts the revoked client out.
source "$(dirname "$0")/../../scripts/testbed.sh"
[ -x "$GARAGECTL" ] || fail "no garagectl at $GARAGECTL (build first)"
command -v mosquitto_pub >/dev/null || fail "mosquitto_pub is not installed (run scripts/bootstrap)"
[ "$(id -u)" = 0 ] || skip "needs root: Mosquitto started as root drops to its own user, as under systemd"
getent passwd mosquitto >/dev/null && getent group mosquitto >/dev/null ||
	skip "no mosquitto user and group (Debian's mosquitto package makes them)"
command -v setpriv >/dev/null || skip "setpriv is needed to run garagectl as another user"

perms() { stat -c '%U:%G %a' "$1"; }

# --- Debian's own mosquitto.conf, its paths moved under $ROOT --------------------------------
stock=/etc/mosquitto/mosquitto.conf
sum=$(dpkg-query -W -f='${Conffiles}\n' mosquitto 2>/dev/null | awk '$1 == "/etc/mosquitto/mosquitto.conf" { print $2 }')
[ -n "$sum" ] || skip "mosquitto is not installed from Debian's package"
if [ "$(md5sum <"$stock" 2>/dev/null | cut -d' ' -f1)" != "$sum" ]; then
	# Changed on this machine: the package's own copy, from apt's cache.
	deb=$(ls /var/cache/apt/archives/mosquitto_*.deb 2>/dev/null | head -1)
	[ -n "$deb" ] || skip "$stock differs from the package's and no mosquitto .deb is in apt's cache"
	dpkg-deb --fsys-tarfile "$deb" | tar -xO ./etc/mosquitto/mosquitto.conf >"$T/stock.conf" 2>/dev/null
	stock=$T/stock.conf
	[ "$(md5sum <"$stock" | cut -d' ' -f1)" = "$sum" ] || skip "cannot find Debian's own mosquitto.conf"
fi
ROOT=$T/root
MD=$ROOT/etc/mosquitto
mkdir -p "$MD/conf.d" "$ROOT/var/lib/mosquitto" "$ROOT/var/log/mosquitto" "$ROOT/run/mosquitto"
sed -e "s#^pid_file /run/mosquitto/#pid_file $ROOT/run/mosquitto/#" \
	-e "s#^persistence_location /var/lib/mosquitto/#persistence_location $ROOT/var/lib/mosquitto/#" \
	-e "s#^log_dest file /var/log/mosquitto/#log_dest file $ROOT/var/log/mosquitto/#" \
	-e "s#^include_dir /etc/mosquitto/conf.d\$#include_dir $MD/conf.d#" "$stock" >"$MD/mosquitto.conf"
[ "$(grep -c " $ROOT/" "$MD/mosquitto.conf")" = 4 ] ||
	fail "Debian's mosquitto.conf is not what this test knows (pid_file, persistence_location, log_dest file, include_dir): $(cat "$stock")"
grep -qx 'persistence true' "$MD/mosquitto.conf" || fail "Debian's mosquitto.conf no longer sets persistence true"
# What the package (/var/lib/mosquitto) and the unit's ExecStartPre (the others) make.
chown mosquitto "$ROOT/var/lib/mosquitto" "$ROOT/var/log/mosquitto" "$ROOT/run/mosquitto"
MAIN_SUM=$(md5sum <"$MD/mosquitto.conf")

# --- the PKI in a home directory only its owner can enter --------------------------------------
mkdir -p "$T/home/alice"
chmod 700 "$T/home/alice"
P=$T/home/alice/garaged-pki
"$GARAGECTL" pki init --dir "$P" >/dev/null || fail "pki init"
"$GARAGECTL" pki issue --dir "$P" --server localhost --ip 127.0.0.1 >/dev/null || fail "pki issue --server"
CLIENTS="garage.local ctl.local ha.local lost.local late.local"
mkdir -p "$T/pki"
cp "$P/ca.crt" "$T/pki/"
for c in $CLIENTS; do
	"$GARAGECTL" pki issue --dir "$P" --client "$c" >/dev/null || fail "pki issue --client $c"
	cp "$P/$c.crt" "$P/$c.key" "$T/pki/" # what each client gets, where the testbed looks
done
PORT=$(free_port)
bc() { # bc CMD-PREFIX...: broker-config for this test's identities into $MD
	"$@" "$GARAGECTL" broker-config --dir "$P" --server localhost --port "$PORT" \
		--device garage:garage.local --controller ctl.local --controller lost.local \
		--controller late.local --homeassistant ha.local --mosquitto-dir "$MD"
}

# --- refusals ------------------------------------------------------------------------------------
expect_exit 2 "$GARAGECTL" broker-config --dir "$P" --server localhost --device garage:garage.local \
	--controller ctl.local --mosquitto-dir ''
expect_exit 1 "$GARAGECTL" broker-config --dir "$P" --server localhost --device garage:garage.local \
	--controller ctl.local --mosquitto-dir "$T/nowhere"
one_line
grep -q 'apt install mosquitto' "$T/err" || fail "a missing --mosquitto-dir does not say what it should be: $(cat "$T/err")"
mkdir "$T/not-mosquitto"
expect_exit 1 "$GARAGECTL" broker-config --dir "$P" --server localhost --device garage:garage.local \
	--controller ctl.local --mosquitto-dir "$T/not-mosquitto"
one_line
grep -q 'conf.d' "$T/err" || fail "a directory without conf.d: $(cat "$T/err")"
[ -z "$(ls "$T/not-mosquitto")" ] || fail "broker-config wrote into a directory it refused"
# Not root: a PKI the user may read, Mosquitto's directory root's.
mkdir -m 755 "$T/pki-pub"
cp "$P/ca.crt" "$P/localhost.crt" "$P/localhost.key" "$T/pki-pub/"
expect_exit 1 setpriv --reuid=nobody --regid=nogroup --clear-groups "$GARAGECTL" broker-config \
	--dir "$T/pki-pub" --server localhost --device garage:garage.local --controller ctl.local \
	--mosquitto-dir "$MD"
one_line
grep -q "cannot write to $MD/conf.d: Permission denied; .*run this with sudo" "$T/err" ||
	fail "a --mosquitto-dir this user cannot write: $(cat "$T/err")"
[ "$(ls -A "$MD/conf.d")" = "" ] && [ ! -e "$MD/garaged" ] || fail "a refused broker-config wrote into $MD"
pass "--mosquitto-dir refuses a missing directory, one without conf.d, and one it cannot write (run with sudo), writing nothing"

# --- the drop-in and the copies ------------------------------------------------------------------
expect_exit 0 bc
D=$MD/conf.d/garaged.conf
[ "$(perms "$D")" = "root:root 644" ] || fail "the drop-in is $(perms "$D")"
grep -E '^[[:space:]]*(pid_file|persistence|persistence_location|log_dest|include_dir|user|autosave_interval)[[:space:]]' "$D" &&
	fail "the drop-in repeats what Debian's main file sets (Mosquitto refuses a second persistence_location)"
for l in "listener $PORT" "cafile $MD/garaged/ca.crt" "certfile $MD/garaged/localhost.crt" \
	"keyfile $MD/garaged/localhost.key" "acl_file $MD/garaged/acl" "require_certificate true" \
	"use_identity_as_username true" "use_username_as_clientid true" "allow_anonymous false" \
	"max_packet_size 16384"; do
	grep -qx "$l" "$D" || fail "the drop-in lacks '$l': $(cat "$D")"
done
grep -q '^crlfile' "$D" && fail "the drop-in names a CRL that does not exist"
grep -q -- "--mosquitto-dir $MD" "$D" || fail "the drop-in does not say how to make it again"
grep -E '^(cafile|certfile|keyfile|acl_file|crlfile) ' "$D" | grep -v " $MD/garaged/" &&
	fail "the drop-in names a file outside $MD/garaged"
[ "$(ls "$MD/garaged" | tr '\n' ' ')" = "acl ca.crt localhost.crt localhost.key " ] ||
	fail "$MD/garaged holds: $(ls "$MD/garaged")"
[ "$(find "$ROOT" -name '*.key')" = "$MD/garaged/localhost.key" ] || fail "keys in $ROOT: $(find "$ROOT" -name '*.key')"
[ "$(perms "$MD/garaged")" = "root:root 755" ] || fail "$MD/garaged is $(perms "$MD/garaged")"
[ "$(perms "$MD/garaged/localhost.key")" = "root:mosquitto 640" ] || fail "the key copy is $(perms "$MD/garaged/localhost.key")"
for f in ca.crt localhost.crt acl; do
	[ "$(perms "$MD/garaged/$f")" = "root:root 644" ] || fail "$f is $(perms "$MD/garaged/$f")"
done
for f in ca.crt localhost.crt localhost.key; do
	cmp -s "$P/$f" "$MD/garaged/$f" || fail "$MD/garaged/$f is not a copy of $P/$f"
done
grep -A3 '^user garage.local$' "$MD/garaged/acl" | grep -qx 'topic read garage/garage/+/cmd' || fail "acl: $(cat "$MD/garaged/acl")"
[ -e "$P/mosquitto.conf" ] || [ -e "$P/acl" ] || [ -e "$P/data" ] && fail "--mosquitto-dir wrote into the PKI directory: $(ls "$P")"
[ "$(md5sum <"$MD/mosquitto.conf")" = "$MAIN_SUM" ] || fail "broker-config changed Debian's main file"
grep -q 'systemctl restart mosquitto' "$T/out" && grep -q "ss -ltn 'sport = :$PORT'" "$T/out" ||
	fail "broker-config does not say how to apply and check it: $(cat "$T/out")"
pass "the drop-in repeats nothing of Debian's main file and names only copies: key root:mosquitto 0640, the rest 0644, no other key"

# --- Mosquitto as Debian runs it ----------------------------------------------------------------
broker() { # starts Mosquitto on Debian's main file, as the unit does (as root; it drops to mosquitto)
	mosquitto -c "$MD/mosquitto.conf" >>"$T/mosquitto.out" 2>&1 &
	BROKER_PID=$!
	PIDS+=("$BROKER_PID")
	local i
	for i in $(seq 50); do ss -ltn "sport = :$PORT" | grep -q "0.0.0.0:$PORT " && return 0; sleep 0.1; done
	fail "Mosquitto did not start on the drop-in: $(tail -3 "$ROOT/var/log/mosquitto/mosquitto.log" "$T/mosquitto.out" 2>/dev/null)"
}
broker
[ "$(ps -o user= -p "$BROKER_PID")" = mosquitto ] || fail "Mosquitto runs as $(ps -o user= -p "$BROKER_PID"), not mosquitto"
cat "$ROOT/var/log/mosquitto/mosquitto.log" "$T/mosquitto.out" | grep -q "Loading config file $D" || fail "Mosquitto did not read the drop-in"
pass "Mosquitto starts on Debian's main file and the drop-in, drops to the mosquitto user, listens on every address"

allowed ctl.local garage/garage/main/cmd garage.local
allowed garage.local garage/garage/main/state ctl.local
allowed ha.local garage/garage/main/ha_cmd garage.local
allowed garage.local homeassistant/cover/garage/main/config ha.local
denied garage.local homeassistant/cover/other/main/config ha.local
denied garage.local homeassistant/cover/garage_main/config ha.local
denied garage.local garage/garage/main/cmd ctl.local
denied ctl.local garage/garage/main/state ha.local
denied ha.local garage/garage/main/cmd garage.local
allowed ctl.local garage/garage/admin garage.local
allowed garage.local garage/garage/keys ctl.local
denied ha.local garage/garage/admin garage.local
head -c 65536 /dev/zero | tr '\0' x >"$T/big"
mosquitto_pub -h localhost -p "$PORT" --cafile "$T/pki/ca.crt" --cert "$T/pki/ctl.local.crt" --key "$T/pki/ctl.local.key" \
	-t garage/garage/main/cmd -f "$T/big" -q 1 >/dev/null 2>&1 && fail "the drop-in's broker took a 64 KB publish"
grep -q 'Client ctl.local disconnected due to oversize packet' "$ROOT/var/log/mosquitto/mosquitto.log" ||
	fail "Mosquitto did not close ctl.local for an oversize packet: $(tail -2 "$ROOT/var/log/mosquitto/mosquitto.log")"
pass "through the Debian broker the ACL lets the device and the controller do their part (the device its own discovery only), and nothing else; max_packet_size holds"

# --- garaged and garagectl through it -----------------------------------------------------------
"$GARAGECTL" keygen --id alice -o "$T/alice.key" >"$T/authorized_keys" 2>/dev/null || fail "keygen"
ctl_conf() { # ctl_conf FILE CLIENT-STEM
	cat >"$1" <<CONF
[mqtt]
host = localhost
port = $PORT
cafile = $T/pki/ca.crt
certfile = $T/pki/$2.crt
keyfile = $T/pki/$2.key

[signing]
key = $T/alice.key
kid = alice
device = garage
CONF
}
ctl_conf "$T/ctl.conf" ctl.local
ctl_conf "$T/ha.conf" ha.local
write_conf
start_garaged
online || fail "garaged did not come online through the Debian broker within 10 s: $(grep warning "$T/garaged.log" | tail -2)"
expect_exit 0 timeout 10 "$GARAGECTL" -c "$T/ctl.conf" status
grep -qx 'device garage: online' "$T/out" || fail "garagectl status through the Debian broker: $(cat "$T/out" "$T/err")"
expect_exit 0 timeout 30 "$GARAGECTL" -c "$T/ctl.conf" open --wait 20
tail -1 "$T/out" | grep -qx 'main: open' || fail "open --wait through the Debian broker: $(cat "$T/out")"
grep -q "as ctl.local (p5," "$ROOT/var/log/mosquitto/mosquitto.log" || fail "garagectl did not connect with MQTT 5"
start=$(date +%s%N)
expect_exit 1 timeout 10 "$GARAGECTL" -c "$T/ha.conf" close
one_line
grep -q "the broker refused the command: Not authorized; its ACL must let the certificate $T/pki/ha.local.crt (ha.local) write garage/garage/+/cmd" "$T/err" ||
	fail "a command the ACL refuses: $(cat "$T/err")"
[ $((($(date +%s%N) - start) / 1000000)) -lt 5000 ] || fail "a command the ACL refuses took more than 5 s to fail"
pass "garaged and garagectl (MQTT 5: status, open --wait) work through it; a command the ACL refuses fails at once, saying so"

# --- one certificate, two garagectl -------------------------------------------------------------
"$GARAGECTL" -c "$T/ctl.conf" status --watch >"$T/w1.out" 2>"$T/w1.err" &
W1=$!
PIDS+=("$W1")
# The first one's session stands (it printed the retained state) before the second one starts.
await '^device garage: online$' 10 "$T/w1.out" || fail "the first status --watch printed no state within 10 s: $(cat "$T/w1.err")"
"$GARAGECTL" -c "$T/ctl.conf" status --watch >"$T/w2.out" 2>"$T/w2.err" &
W2=$!
PIDS+=("$W2")
for _ in $(seq 200); do kill -0 "$W1" 2>/dev/null || break; sleep 0.1; done
kill -0 "$W1" 2>/dev/null && fail "the first status --watch still runs 20 s after a second one took its certificate: $(cat "$T/w1.err")"
wait "$W1"
rc=$?
[ "$rc" = 1 ] || fail "the first status --watch exited $rc, want 1"
tail -1 "$T/w1.err" | grep -qx 'garagectl: the broker ended this session .*another client .* the same certificate (ctl.local): one certificate is one client; issue each controller its own with garagectl pki issue --client NAME' ||
	fail "the first status --watch does not say why it stopped: $(cat "$T/w1.err")"
await '^device garage: online$' 10 "$T/w2.out" || fail "the second status --watch printed no state within 10 s: $(cat "$T/w2.err")"
# Time for the second one to be knocked off in turn, which it must not be.
sleep 3
kill -0 "$W2" 2>/dev/null || fail "the second status --watch stopped too: $(cat "$T/w2.err")"
kill -TERM "$W2"
wait "$W2"
[ $? = 0 ] || fail "the second status --watch did not exit 0 on SIGTERM: $(cat "$T/w2.err")"
pass "two garagectl with one certificate: the first one stops, exit 1, saying one certificate is one client; the second goes on"

# --- revocation: run broker-config again, then restart (or SIGHUP) -------------------------------
expect_exit 0 "$GARAGECTL" pki revoke --dir "$P" lost.local
grep -q -- '--mosquitto-dir' "$T/out" || fail "pki revoke does not say to run broker-config --mosquitto-dir again: $(cat "$T/out")"
mpub lost.local garage/x y || fail "lost.local is refused before broker-config copied the CRL"
expect_exit 0 bc
cmp -s "$P/crl.pem" "$MD/garaged/crl.pem" || fail "broker-config did not copy the CRL"
[ "$(perms "$MD/garaged/crl.pem")" = "root:root 644" ] || fail "the CRL copy is $(perms "$MD/garaged/crl.pem")"
grep -qx "crlfile $MD/garaged/crl.pem" "$D" || fail "the drop-in does not name the CRL's copy"
stop_broker
[ "$(stat -c %U "$ROOT/var/lib/mosquitto/mosquitto.db" 2>/dev/null)" = mosquitto ] ||
	fail "Mosquitto kept no persistence in Debian's persistence_location"
broker
mpub lost.local garage/x y && fail "the revoked certificate still connects after broker-config and a restart"
mpub ctl.local garage/garage/main/cmd x || fail "after the restart the controller cannot connect"
online || fail "garaged did not come online again within 10 s of the restart"
[ "$(sub garage/garage/main/state 1 2)" = open ] || fail "the retained state did not survive the restart"
pass "after pki revoke, broker-config again copies the CRL, and after a restart the revoked client is refused; state persists"

cp "$MD/garaged/crl.pem" "$T/crl.before"
expect_exit 0 "$GARAGECTL" pki revoke --dir "$P" late.local
mpub late.local garage/x y || fail "late.local is refused before broker-config copied the CRL"
expect_exit 0 bc
cmp -s "$P/crl.pem" "$MD/garaged/crl.pem" && ! cmp -s "$T/crl.before" "$MD/garaged/crl.pem" ||
	fail "running broker-config again did not refresh the CRL's copy"
reloads=$(count ': Reloading config\.$' "$ROOT/var/log/mosquitto/mosquitto.log")
kill -HUP "$BROKER_PID"
# Mosquitto reloads (the CRL too) in one go after this line, before it takes a new connection.
await_count ': Reloading config\.$' $((reloads + 1)) 10 "$ROOT/var/log/mosquitto/mosquitto.log" || fail "Mosquitto did not log a reload within 10 s of SIGHUP"
mpub late.local garage/x y && fail "a certificate revoked before SIGHUP still connects"
mpub ctl.local garage/x y || fail "after SIGHUP the controller cannot connect (can the mosquitto user read the copies?)"
grep -E 'Unable to|Error: |Error when' "$ROOT/var/log/mosquitto/mosquitto.log" && fail "Mosquitto logged an error (beyond refusing the revoked certificates; \"Error when reloading\": the mosquitto user cannot read the key)"
pass "once the CRL is configured, broker-config again and SIGHUP (systemctl reload) shut a newly revoked client out"

# --- the phone controller's listener: --web on Debian's layout ----------------------------------
# per_listener_settings true in a drop-in of Debian's main file; the certificate listener keeps
# its ACL; the browsers' login and ACL are readable by the mosquitto user after it drops root.
WSPORT=$(free_port)
HTTPS=$(free_port)
expect_exit 0 "$GARAGECTL" broker-config --dir "$P" --server localhost --port "$PORT" \
	--device garage:garage.local --controller ctl.local --controller lost.local \
	--controller late.local --homeassistant ha.local --mosquitto-dir "$MD" \
	--web "$HTTPS" --web-mqtt-port "$WSPORT" --web-user phone
for l in 'per_listener_settings true' "listener $WSPORT 127.0.0.1" 'protocol websockets' \
	"password_file $MD/garaged/web-passwd" "acl_file $MD/garaged/web-acl" "acl_file $MD/garaged/acl"; do
	grep -qx "$l" "$D" || fail "the drop-in lacks '$l': $(grep -v '^#' "$D")"
done
grep -E '^[[:space:]]*(pid_file|persistence|persistence_location|log_dest|include_dir|user)[[:space:]]' "$D" &&
	fail "the --web drop-in repeats what Debian's main file sets"
[ "$(perms "$MD/garaged/web-passwd")" = "root:mosquitto 640" ] || fail "web-passwd is $(perms "$MD/garaged/web-passwd")"
[ "$(perms "$MD/garaged/web-login")" = "root:root 600" ] || fail "web-login is $(perms "$MD/garaged/web-login")"
for f in web-acl nginx-garaged.conf; do
	[ "$(perms "$MD/garaged/$f")" = "root:root 644" ] || fail "$f is $(perms "$MD/garaged/$f")"
done
grep -qxF "$(printf '\tssl_certificate_key "%s";' "$MD/garaged/localhost.key")" "$MD/garaged/nginx-garaged.conf" ||
	fail "the nginx site does not name the key's copy: $(grep ssl_ "$MD/garaged/nginx-garaged.conf")"
[ "$(find "$ROOT" -name '*.key')" = "$MD/garaged/localhost.key" ] || fail "keys in $ROOT: $(find "$ROOT" -name '*.key')"
grep -q "  garage: https://localhost:$HTTPS/#\.\." "$T/out" || fail "broker-config --web printed no link: $(cat "$T/out")"
stop_broker
broker
for _ in $(seq 50); do ss -ltn | grep -qE "[:*]$WSPORT " && break; sleep 0.1; done
ss -ltn | grep -qE "[:*]$WSPORT " || fail "Mosquitto does not listen for WebSockets on $WSPORT: $(tail -3 "$ROOT/var/log/mosquitto/mosquitto.log")"
# garaged runs now as garage.local (one certificate, one client): the probes keep to the others.
allowed ctl.local garage/garage/main/cmd ha.local
denied ha.local garage/garage/main/cmd ctl.local
mpub late.local garage/x y && fail "a revoked certificate connects with per_listener_settings true"
online || fail "garaged did not come online again after the --web restart"
# The browsers' login over WebSockets, with mqtt.js as the build fetched it for the web app.
MQTTJS=$(dirname "$GARAGED")/../web-npm/node_modules
if command -v node >/dev/null && [ -d "$MQTTJS/mqtt" ]; then
	WEBPASS=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pass"])' "$MD/garaged/web-login")
	ws() { # ws USER PASS: connects, reads the retained state of door main, tries to write it
		NODE_PATH=$MQTTJS timeout 20 node -e '
			const mqtt = require("mqtt");
			const [url, username, password] = process.argv.slice(1);
			const c = mqtt.connect(url, { username, password, reconnectPeriod: 0, connectTimeout: 5000 });
			c.on("error", (e) => { console.log("error " + e.message); process.exit(1); });
			c.on("connect", () => c.subscribe("garage/garage/+/state", { qos: 1 }, (err, g) => {
				if (err || g[0].qos === 128) { console.log("refused"); process.exit(1); }
			}));
			c.on("message", (t, m) => { console.log(t + " " + m); c.publish("garage/garage/main/state", "stopped", { retain: true, qos: 1 }, () => c.end(false, () => process.exit(0))); });
		' "ws://127.0.0.1:$WSPORT/mqtt" "$@" 2>&1
	}
	out=$(ws phone "$WEBPASS") || fail "the browsers' login over WebSockets: $out"
	[ "$out" = "garage/garage/main/state open" ] || fail "over WebSockets the login read: $out"
	[ "$(sub garage/garage/main/state 1 2)" = open ] || fail "the browsers' login could write a door's state"
	out=$(ws phone wrong-password) && fail "a wrong password logged in over WebSockets: $out"
	grep -E 'Unable to|Error: |Error when' "$ROOT/var/log/mosquitto/mosquitto.log" && fail "Mosquitto logged an error with --web"
	pass "--web on Debian's layout: per_listener_settings true keeps the certificates' ACL and CRL; Mosquitto's user reads the browsers' login (root:mosquitto 0640), which reads state over WebSockets but cannot write it"
else
	pass "--web on Debian's layout: per_listener_settings true keeps the certificates' ACL and CRL (no node or mqtt.js in the build: the WebSockets login is test-web's)"
fi
