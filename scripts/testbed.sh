# The testbed, sourced by the integration tests and the demo: a scratch folder, a throwaway PKI
# made with the openssl command, a real Mosquitto on a free loopback port with TLS and an ACL,
# garaged, and MQTT clients. Every process started here is recorded by PID and ended on exit.
# TESTBED_DIR chooses the scratch folder (the demo keeps it under build/); default: a new one in /tmp.
set -u
if [ -n "${TESTBED_DIR:-}" ]; then
	T=$TESTBED_DIR
	rm -rf "$T" && mkdir -p "$T"
else
	T=$(mktemp -d /tmp/garaged-test.XXXXXX)
fi
T=$(cd "$T" && pwd)
chmod 755 "$T"
PIDS=()
GARAGED=${GARAGED_BIN:-$PWD/build/bin}/garaged
GARAGECTL=${GARAGED_BIN:-$PWD/build/bin}/garagectl

# stop_pids: every process this run started, by PID: TERM, up to 2 s, then KILL.
stop_pids() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do
		for _ in $(seq 20); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
}
cleanup() {
	local rc=$?
	stop_pids
	# The test build runs under ASan and UBSan: a report anywhere in garaged's log fails the test.
	if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$T"/garaged*.log 2>/dev/null; then
		echo "FAIL: sanitizer report in garaged's log:"
		grep -hE -A5 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$T"/garaged*.log | head -20
		rc=1
	fi
	if [ -n "${KEEP:-}" ]; then echo "kept $T"; else rm -rf "$T"; fi
	exit $rc
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; [ -f "$T/garaged.log" ] && tail -5 "$T/garaged.log" | sed 's/^/  garaged: /'; exit 1; }
pass() { echo "PASS: $*"; }
skip() { echo "SKIP: $*"; exit 77; }

[ -x "$GARAGED" ] || fail "no garaged at $GARAGED (build first)"

# GARAGED_AS_UNIT=1 (ctest's integration-caps-* entries): garaged runs as deploy/garaged.service
# runs it, as an unprivileged system user (UNIT_USER, made here once) whose only privileges are
# ambient CAP_SETUID and CAP_SETGID, the bounding set cut to those two, and no_new_privs. A uid
# change between two non-root users keeps capabilities that one from root drops, so this mode
# finds what the root runs cannot. The scripts stay root (brokers, namespaces, /proc); only
# garaged changes, through AS_UNIT in front of its command line, after unit_files.
UNIT_USER=garaged-test
AS_UNIT=()
if [ -n "${GARAGED_AS_UNIT:-}" ]; then
	[ "$(id -u)" = 0 ] || skip "GARAGED_AS_UNIT needs root, to start garaged as $UNIT_USER"
	command -v setpriv >/dev/null || fail "setpriv is not installed (package util-linux)"
	# ctest runs the tests in parallel: the user is made under a lock, by the first to get it.
	flock /run/lock/garaged-test-user.lock sh -c "getent passwd $UNIT_USER >/dev/null ||
		useradd --system --user-group --no-create-home --home-dir /nonexistent \
			--shell /usr/sbin/nologin $UNIT_USER" || fail "cannot create the system user $UNIT_USER"
	# shellcheck disable=SC2054 # the commas are setpriv's
	AS_UNIT=(setpriv --reuid="$UNIT_USER" --regid="$UNIT_USER" --init-groups
		--inh-caps=-all,+setuid,+setgid --ambient-caps=-all,+setuid,+setgid
		--bounding-set=-all,+setuid,+setgid --no-new-privs)
	"${AS_UNIT[@]}" test -x "$T" || fail "$UNIT_USER cannot reach $T: a folder on its path is closed to others"
fi
command -v mosquitto >/dev/null || command -v /usr/sbin/mosquitto >/dev/null || fail "mosquitto is not installed (run scripts/bootstrap)"
export PATH=$PATH:/usr/sbin

free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

# start_nginx SITE PORT: Debian's nginx as an unprivileged test instance (its own pid, logs and
# temp files under $T/nginx; the master root, to read the key, one worker nobody) serving the site
# broker-config --web wrote, on 127.0.0.1:PORT only; fails the test when it does not listen.
start_nginx() {
	local site=$1 port=$2
	NG=$T/nginx
	mkdir -p "$NG/tmp"
	chown nobody "$NG/tmp"
	cat >"$NG/nginx.conf" <<CONF
user nobody nogroup;
worker_processes 1;
pid $NG/nginx.pid;
error_log $NG/error.log info;
events { worker_connections 64; }
http {
	include /etc/nginx/mime.types;
	types { application/manifest+json webmanifest; }
	default_type application/octet-stream;
	access_log $NG/access.log;
	client_body_temp_path $NG/tmp/body;
	proxy_temp_path $NG/tmp/proxy;
	fastcgi_temp_path $NG/tmp/fastcgi;
	uwsgi_temp_path $NG/tmp/uwsgi;
	scgi_temp_path $NG/tmp/scgi;
	include $NG/site.conf;
}
CONF
	sed -e "s/^\tlisten $port ssl http2;/\tlisten 127.0.0.1:$port ssl http2;/" -e '/^\tlisten \[::\]/d' \
		"$site" >"$NG/site.conf"
	nginx -t -p "$NG" -c "$NG/nginx.conf" >"$NG/t.out" 2>&1 || fail "nginx -t refuses the site: $(cat "$NG/t.out")"
	nginx -p "$NG" -c "$NG/nginx.conf" -g 'daemon off;' >>"$NG/out.log" 2>&1 &
	PIDS+=("$!")
	for _ in $(seq 50); do ss -ltn | grep -q "127.0.0.1:$port " && break; sleep 0.1; done
	ss -ltn | grep -q "127.0.0.1:$port " || fail "nginx did not listen on $port: $(tail -3 "$NG/error.log" "$NG/out.log")"
}

# issue CA-STEM CN server|client OUT-STEM [SAN] [DAYS]: DAYS defaults to pki issue's 365, well
# outside garaged's renew_before_days (30): only a test that means to renews.
issue() {
	local ca=$1 cn=$2 kind=$3 out=$4 san=${5:-} days=${6:-365} eku=clientAuth
	[ "$kind" = server ] && eku=serverAuth
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$cn" \
		-keyout "$T/pki/$out.key" -out "$T/pki/$out.csr" 2>/dev/null || fail "csr $out"
	{ echo "basicConstraints=CA:FALSE"; echo "extendedKeyUsage=$eku"
	  [ -n "$san" ] && echo "subjectAltName=$san"; } >"$T/pki/$out.ext"
	openssl x509 -req -in "$T/pki/$out.csr" -CA "$T/pki/$ca.crt" -CAkey "$T/pki/$ca.key" \
		-CAcreateserial -days "$days" -extfile "$T/pki/$out.ext" -out "$T/pki/$out.crt" \
		2>/dev/null || fail "issue $out"
	chmod 600 "$T/pki/$out.key"
}

# A CA, a rogue CA with the same subject, the broker's certificate, clients.
make_pki() {
	mkdir -p "$T/pki"
	local ca
	for ca in ca rogue-ca; do
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
			-subj "/CN=garaged test CA" -keyout "$T/pki/$ca.key" -out "$T/pki/$ca.crt" \
			2>/dev/null || fail "$ca"
	done
	issue ca localhost server localhost "DNS:localhost,IP:127.0.0.1"
	issue ca garage.local client garage.local
	issue ca ctl.local client ctl.local
	issue ca ha.local client ha.local
	chmod 600 "$T"/pki/*.key
}

# start_broker [SERVER-STEM] [PORT]: sets PORT and BROKER_PID. The ACL is the product's model
# (garagectl broker-config's): the device writes its own state topics, its key list, its
# certificate request and its own discovery subtree, and reads its commands, admin messages,
# enrollment requests, renewed certificate and Home Assistant's status; the controller the
# reverse.
# One line more than the product's: bench/run.sh times mosquitto_sub on a retained message
# under homeassistant/bench/ with the device's certificate.
start_broker() {
	local stem=${1:-localhost}
	PORT=${2:-$(free_port)}
	cat >"$T/acl" <<ACL
user garage.local
topic read garage/garage/+/cmd
topic read garage/garage/+/ha_cmd
topic read garage/garage/admin
topic read garage/garage/enroll
topic read garage/garage/cert
topic read garage/garage/refresh
topic readwrite garage/garage/availability
topic write garage/garage/+/state
topic write garage/garage/events
topic write garage/garage/keys
topic write garage/garage/csr
topic write homeassistant/cover/garage/#
topic read homeassistant/status
topic readwrite homeassistant/bench/#
user ctl.local
topic write garage/garage/+/cmd
topic write garage/+/admin
topic write garage/+/enroll
topic write garage/+/cert
topic write garage/+/refresh
topic read garage/#
topic read homeassistant/#
user ha.local
topic write garage/garage/+/ha_cmd
topic read garage/#
topic readwrite homeassistant/#
ACL
	cat >"$T/mosquitto.conf" <<CONF
per_listener_settings false
allow_anonymous false
persistence false
user root
listener $PORT 127.0.0.1
cafile $T/pki/ca.crt
certfile $T/pki/$stem.crt
keyfile $T/pki/$stem.key
require_certificate true
use_identity_as_username true
acl_file $T/acl
CONF
	run_broker
}
# run_broker [CONF]: Mosquitto with CONF (default $T/mosquitto.conf: start_broker's, or one a
# test changed since) on $PORT; sets BROKER_PID and returns once the port listens (fails the
# test after 5 s).
run_broker() {
	mosquitto -c "${1:-$T/mosquitto.conf}" >>"$T/mosquitto.log" 2>&1 &
	BROKER_PID=$!
	PIDS+=("$BROKER_PID")
	local i
	for i in $(seq 50); do ss -ltn | grep -q "127.0.0.1:$PORT " && return 0; sleep 0.1; done
	fail "mosquitto did not listen on $PORT: $(tail -2 "$T/mosquitto.log")"
}
stop_broker() { kill "$BROKER_PID" 2>/dev/null; wait "$BROKER_PID" 2>/dev/null; }
# broker_from_config CONF [LINE...]: Mosquitto with a configuration `garagectl broker-config`
# wrote (CONF, its listener on $PORT), run as the testbed runs brokers: as root (a user line of
# CONF's dropped), on 127.0.0.1 only, each LINE appended (a limit the caller sets); written to
# $T/mosquitto.conf (or BROKER_RUN, for a second broker), so that run_broker [that file] starts
# it again after a kill.
broker_from_config() {
	local conf=$1 l
	shift
	{
		echo "user root"
		sed -e '/^user[[:space:]]/d' \
			-e 's/^listener[[:space:]]\+\([0-9]\+\)\([[:space:]].*\)\?$/listener \1 127.0.0.1/' "$conf"
		for l in "$@"; do echo "$l"; done
	} >"${BROKER_RUN:-$T/mosquitto.conf}" || fail "broker_from_config: $conf"
	run_broker "${BROKER_RUN:-$T/mosquitto.conf}"
}
# start_broker2 [SERVER-STEM] [PORT]: a second broker, start_broker's configuration with the
# certificate SERVER-STEM (default: the first's) on another port (default: a free one) in
# $T/mosquitto2.conf; sets PORT2 and BROKER2_PID, leaves PORT and BROKER_PID (the first
# broker's) alone. Clients reach it with PORT=$PORT2 in front of sub, pub, watch, online.
start_broker2() {
	local pid=$BROKER_PID cert=''
	PORT2=${2:-$(free_port)}
	[ -z "${1:-}" ] || cert="s|^certfile .*|certfile $T/pki/$1.crt|; s|^keyfile .*|keyfile $T/pki/$1.key|;"
	sed "${cert}s/^listener $PORT /listener $PORT2 /" "$T/mosquitto.conf" >"$T/mosquitto2.conf"
	PORT=$PORT2 run_broker "$T/mosquitto2.conf"
	BROKER2_PID=$BROKER_PID
	BROKER_PID=$pid
}
# write_conf [extra lines appended to [door.main]]; RELAY_PULSE_MS and SIM_TRAVEL_MS set those keys;
# HOSTS (words) gives a host line each instead of the one host = HOST (default localhost);
# MQTT_EXTRA is a line more in [mqtt]
write_conf() {
	local hosts=${HOST:-localhost} h
	[ -z "${HOSTS:-}" ] || hosts=
	cat >"$T/garaged.conf" <<CONF
[device]
id = garage
state_dir = $T/state

[mqtt]
$(for h in $hosts ${HOSTS:-}; do echo "host = $h"; done)
${MQTT_EXTRA:-}
port = $PORT
cafile = ${CAFILE:-$T/pki/ca.crt}
certfile = $T/pki/garage.local.crt
keyfile = $T/pki/garage.local.key
keepalive = ${KEEPALIVE:-30}
topic_prefix = garage

[security]
authorized_keys = $T/authorized_keys

[door.main]
backend = sim
relay_pulse_ms = ${RELAY_PULSE_MS:-200}
sim_travel_ms = ${SIM_TRAVEL_MS:-1000}
sim_log = $T/sim.log
CONF
	local l
	for l in "$@"; do echo "$l" >>"$T/garaged.conf"; done
	touch "$T/authorized_keys"
}

# unit_files [CONF]: with GARAGED_AS_UNIT, the files CONF (default $T/garaged.conf) names, made
# what README's install steps make them for the service user: the configuration root's and
# readable by the user's group, never by others; authorized_keys the same, unless it is in the
# state_dir, where docs/setup.md puts the one garaged manages itself: that one the user's own;
# the private key and password_file the user's own (their modes left alone: garaged checks
# those); each sim_log (the unit's private /tmp) made and the user's to append to; the
# state_dir the user's, as the unit's StateDirectory= makes it. $T stays root's: the user writes
# nothing else, as under the unit's read-only file system. Without GARAGED_AS_UNIT: nothing.
unit_files() {
	[ -n "${GARAGED_AS_UNIT:-}" ] || return 0
	local conf=${1:-$T/garaged.conf} key val state=
	[ -f "$conf" ] || return 0
	chown root:"$UNIT_USER" "$conf" && chmod g+r,o-rwx "$conf" || fail "unit_files: $conf"
	while IFS='=' read -r key val; do
		# A file that is not there (a test of that very mistake) is garaged's to report.
		[ -e "$val" ] || { [[ $key == @(sim_log|state_dir) ]] && [ -d "$(dirname "$val")" ]; } || continue
		case $key in
		keyfile | password_file) chown "$UNIT_USER:$UNIT_USER" "$val" ;;
		authorized_keys)
			if [ -n "$state" ] && [ "$(dirname "$val")" = "$state" ]; then
				chown "$UNIT_USER:$UNIT_USER" "$val"
			else
				chown root:"$UNIT_USER" "$val" && chmod g+r,o-rwx "$val"
			fi ;;
		sim_log) touch "$val" && chown "$UNIT_USER:$UNIT_USER" "$val" ;;
		# One that cannot be made (a test of that very mistake) is garaged's to report.
		state_dir) state=$val; { mkdir -p -m 0700 "$val" 2>/dev/null && chown "$UNIT_USER:$UNIT_USER" "$val"; } || true ;;
		*) true ;;
		esac || fail "unit_files: $key $val"
	done < <(sed -n 's/^[[:space:]]*\(keyfile\|password_file\|authorized_keys\|sim_log\|state_dir\)[[:space:]]*=[[:space:]]*/\1=/p' "$conf")
}

# GARAGED_WRAPPER (empty by default) goes in front of garaged's command line, e.g. valgrind;
# AS_UNIT before both.
start_garaged() {
	unit_files
	SUBACKS=$(count 'mqtt: Client .* received SUBACK' "$T/garaged.log")
	"${AS_UNIT[@]}" ${GARAGED_WRAPPER:-} "$GARAGED" -c "$T/garaged.conf" -f -v >>"$T/garaged.log" 2>&1 &
	GARAGED_PID=$!
	PIDS+=("$GARAGED_PID")
}
# garaged_subscribed [SECONDS]: until the broker has acknowledged garaged's first subscription
# since start_garaged, its command topics (libmosquitto's "received SUBACK" in garaged's -v log);
# 1 after SECONDS (default 10). Its "online" goes out before it subscribes, and the retained
# state a watcher sees may be an earlier run's: a command sent on either may be lost.
garaged_subscribed() { await_count 'mqtt: Client .* received SUBACK' $((SUBACKS + 1)) "${1:-10}" "$T/garaged.log"; }
# stop_garaged [SIGNAL] [SECONDS]: the signal (default TERM) to garaged, then until it exits
# (default 10 s; the test fails if it does not); GARAGED_RC is its exit status.
stop_garaged() {
	local i
	kill -"${1:-TERM}" "$GARAGED_PID" 2>/dev/null
	for i in $(seq $((${2:-10} * 10))); do kill -0 "$GARAGED_PID" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$GARAGED_PID" 2>/dev/null && fail "garaged (pid $GARAGED_PID) did not exit within ${2:-10} s of SIG${1:-TERM}"
	wait "$GARAGED_PID"
	GARAGED_RC=$?
}
# garaged is two processes (docs/architecture.md): the door half, the process started
# (GARAGED_PID: setpriv and valgrind exec it, the pid stays), and the network half, its child.
# net_half [DOOR-PID]: prints the network half's pid once it runs (bounded: 10 s); 1 if none.
net_half() {
	local i p
	for i in $(seq 100); do
		p=$(pgrep -P "${1:-$GARAGED_PID}" | head -1)
		[ -n "$p" ] && echo "$p" && return 0
		sleep 0.1
	done
	return 1
}
# cpu_ticks PID: the user and system time PID has used, in clock ticks (getconf CLK_TCK); rss_kb
# PID: its resident memory in kB. Empty when PID is gone, which a test must treat as a failure.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
# run_garaged ARGS...: garaged in the foreground as start_garaged runs it (for --check-config and
# starts that must fail), bounded: after 10 s it is ended and the status is timeout's 124.
run_garaged() {
	local a prev='' conf=$T/garaged.conf
	for a in "$@"; do
		[ "$prev" = -c ] && conf=$a
		prev=$a
	done
	unit_files "$conf"
	timeout 10 "${AS_UNIT[@]}" ${GARAGED_WRAPPER:-} "$GARAGED" "$@"
}

# write_ctl_conf FILE [KEYFILE KID]: a garagectl ctl.conf for the testbed's broker ($PORT) as
# ctl.local, and with KEYFILE and KID a [signing] section for device garage.
write_ctl_conf() {
	cat >"$1" <<CONF
[mqtt]
host = localhost
port = $PORT
cafile = $T/pki/ca.crt
certfile = $T/pki/ctl.local.crt
keyfile = $T/pki/ctl.local.key
topic_prefix = garage
CONF
	[ $# -lt 3 ] || printf '\n[signing]\nkey = %s\nkid = %s\ndevice = garage\n' "$2" "$3" >>"$1"
}

# expect_exit CODE CMD...: runs CMD with stdout in $T/out and stderr in $T/err.
expect_exit() {
	local want=$1 rc
	shift
	"$@" >"$T/out" 2>"$T/err" </dev/null
	rc=$?
	[ "$rc" = "$want" ] || fail "$(printf '%q ' "$@")exited $rc, want $want: $(head -2 "$T/err")"
}
one_line() { [ "$(wc -l <"$T/err")" = 1 ] || fail "want one line on stderr, got: $(cat "$T/err")"; }
# forgeries N K ACTION KID: N forged commands for door main, spread over $T/forged.0 .. K-1, one
# a line: unique nonces, this second's timestamp, a well-formed signature of random bytes.
forgeries() {
	python3 - "$T" "$1" "$2" "$(date +%s)" "$3" "$4" <<'PY' || fail "cannot write the forged commands"
import base64, os, sys
t, n, k, ts, action, kid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6]
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
files = [open(f"{t}/forged.{i}", "w") for i in range(k)]
for j in range(n):
    files[j % k].write('{"v":1,"door":"main","action":"%s","ts":%s,"nonce":"%s","kid":"%s","sig":"%s"}\n'
                       % (action, ts, b64(os.urandom(12)), kid, b64(os.urandom(64))))
PY
}

# The broker's ACL, probed from outside with the testbed's PKI ($T/pki) on $PORT.
mpub() { # mpub STEM TOPIC PAYLOAD [certdir]: publish as STEM (QoS 1); its exit status
	mosquitto_pub -h localhost -p "$PORT" --cafile "$T/pki/ca.crt" --cert "${4:-$T/pki}/$1.crt" \
		--key "${4:-$T/pki}/$1.key" -t "$2" -m "$3" -q 1 2>/dev/null
}
# flows WRITER TOPIC READER: whether what WRITER publishes on TOPIC reaches READER (within 2 s
# of the publish, which waits for READER's subscription: see sub_bg). The two are always
# different identities: with use_username_as_clientid one would knock the other off.
flows() {
	local tag=m$RANDOM$RANDOM rc=0
	sub_bg "$T/flow.rx" "$2" 1 15 "$3"
	mpub "$1" "$2" "$tag"
	await " $tag\$" 2 "$T/flow.rx" || rc=1
	kill "$SUB_PID" 2>/dev/null
	wait "$SUB_PID" 2>/dev/null
	return $rc
}
allowed() { flows "$@" || fail "the ACL does not let $1 write $2 for $3 to read"; }
denied() { flows "$@" && fail "the ACL lets $1 write $2 and $3 read it"; return 0; }

# MQTT as the controller (ctl.local) unless another client stem is given.
sub() { # sub TOPIC COUNT WAIT_S [stem]
	mosquitto_sub -h localhost -p "$PORT" --cafile "$T/pki/ca.crt" \
		--cert "$T/pki/${4:-ctl.local}.crt" --key "$T/pki/${4:-ctl.local}.key" \
		-t "$1" -C "$2" -W "$3" 2>/dev/null
}
# online [SECONDS]: until the broker holds "online" as garaged's retained availability (bounded,
# default 10 s); 1 when it did not.
online() {
	local end=$((SECONDS + ${1:-10}))
	until [ "$(sub garage/garage/availability 1 1)" = online ]; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.2
	done
}
# sub_bg FILE TOPIC COUNT WAIT_S [stem]: sub in the background, with each message's topic (-v),
# into FILE (emptied first); SUB_PID. It returns once the broker has acknowledged the
# subscription, which mosquitto_sub -d says ("Subscribed (mid: 1): QOS", 128 for one the ACL
# refuses): a message published before that is lost, and a test would read it as one that was
# never sent or that the ACL stops. The debug lines ("Client ...", "Subscribed ...") stay in
# FILE; a message's line starts with its topic. No acknowledgement within 10 s fails the test.
sub_bg() {
	: >"$1"
	# Line-buffered: the debug lines reach FILE as they happen, not at exit.
	stdbuf -oL mosquitto_sub -h localhost -p "$PORT" --cafile "$T/pki/ca.crt" \
		--cert "$T/pki/${5:-ctl.local}.crt" --key "$T/pki/${5:-ctl.local}.key" \
		-t "$2" -C "$3" -W "$4" -v -d >"$1" 2>/dev/null &
	SUB_PID=$!
	PIDS+=("$SUB_PID")
	await '^Subscribed \(mid: [0-9]+\)' 10 "$1" ||
		fail "sub_bg: no SUBACK for ${5:-ctl.local}'s subscription to $2 within 10 s: $(tr '\n' ';' <"$1")"
}
pub() { # pub TOPIC PAYLOAD [mosquitto_pub args]; as $AS (a client stem), default ctl.local
	local topic=$1 payload=$2 as=${AS:-ctl.local}
	shift 2
	mosquitto_pub -h localhost -p "$PORT" --cafile "$T/pki/ca.crt" --cert "$T/pki/$as.crt" \
		--key "$T/pki/$as.key" -t "$topic" -m "$payload" -q 1 "$@"
}
# watch: every message under garage/# and homeassistant/# with its topic, appended to
# $T/watch.log (emptied first unless WATCH_APPEND is set), as the client WATCH_AS (default ctl.local).
# It returns once the subscription stands, which is when a probe has come through: a message
# published until then (an event, which the broker does not keep) would be missed, and a test
# that expects it would wait in vain or, worse, one that expects nothing would pass. The probe is
# one line "homeassistant/testbed/watch probe-N" in watch.log, published as Home Assistant
# (ha.local may write under homeassistant/, garaged reads none of it); the test fails when none
# came within 10 s.
watch() {
	local tag=probe-$RANDOM$RANDOM
	[ -n "${WATCH_APPEND:-}" ] || : >"$T/watch.log"
	mosquitto_sub -h localhost -p "$PORT" --cafile "$T/pki/ca.crt" --cert "$T/pki/${WATCH_AS:-ctl.local}.crt" \
		--key "$T/pki/${WATCH_AS:-ctl.local}.key" -t 'garage/#' -t 'homeassistant/#' -v >>"$T/watch.log" 2>/dev/null &
	PIDS+=("$!")
	# A probe published before the subscription is lost: again every half second.
	for _ in $(seq 20); do
		AS=ha.local pub homeassistant/testbed/watch "$tag" >/dev/null 2>&1
		for _ in 1 2 3 4 5; do
			grep -qx "homeassistant/testbed/watch $tag" "$T/watch.log" && return 0
			sleep 0.1
		done
	done
	fail "watch: no probe came through to mosquitto_sub as ${WATCH_AS:-ctl.local} within 10 s"
}
# await PATTERN SECONDS [FILE]: until a line matches the extended regex (bounded).
await() {
	local i f=${3:-$T/watch.log}
	for i in $(seq $(($2 * 10))); do grep -Eq "$1" "$f" 2>/dev/null && return 0; sleep 0.1; done
	return 1
}
count() { local n; n=$(grep -Ec "$1" "${2:-$T/watch.log}" 2>/dev/null); echo "${n:-0}"; }
# line_of REGEX FILE: the number of FILE's first line matching the extended REGEX (the test fails
# when none does): a test that expects FILE:LINE computes LINE, so a line added to a
# configuration (write_conf's, or a test's own) cannot break it.
line_of() {
	local n
	n=$(grep -nE -m1 "$1" "$2" | cut -d: -f1)
	[ -n "$n" ] || fail "no line of $2 matches '$1'"
	echo "$n"
}
# await_count PATTERN N SECONDS [FILE]: until at least N lines match (bounded).
await_count() {
	local i
	for i in $(seq $(($3 * 10))); do [ "$(count "$1" "${4:-}")" -ge "$2" ] && return 0; sleep 0.1; done
	return 1
}
# pub_await PATTERN SECONDS FILE TOPIC PAYLOAD [pub args]: publish, then until one more line of
# FILE matches PATTERN than before the publish (bounded); 1 when none came.
pub_await() {
	local pattern=$1 s=$2 f=$3 n
	shift 3
	n=$(count "$pattern" "$f")
	pub "$@" || return 1
	await_count "$pattern" $((n + 1)) "$s" "$f"
}

# Signing keys and commands made with the openssl command, independently of garagectl.
# keypair NAME: $T/NAME.ed.key; sets PUB_B64 (the raw 32-byte public key, standard base64).
keypair() {
	openssl genpkey -algorithm ed25519 -out "$T/$1.ed.key" 2>/dev/null || fail "ed25519 keygen"
	PUB_B64=$(openssl pkey -in "$T/$1.ed.key" -pubout -outform DER 2>/dev/null | tail -c 32 | base64 -w0)
}
# keypairs NAME...: keypair for each, its private key 0600 (garagectl refuses one that others can
# read), its public key in PUB_NAME.
keypairs() {
	local k
	for k in "$@"; do
		keypair "$k"
		chmod 600 "$T/$k.ed.key"
		declare -g "PUB_$k=$PUB_B64"
	done
}
# keys_in_state: after write_conf, garaged.conf's authorized_keys in the state directory (0700)
# instead, where garaged manages it, as docs/setup.md installs it; KEYS is its path.
keys_in_state() {
	KEYS=$T/state/authorized_keys
	mkdir -p -m 0700 "$T/state"
	sed -i "s|^authorized_keys = .*|authorized_keys = $KEYS|" "$T/garaged.conf"
}
nonce() { head -c 12 /dev/urandom | basenc --base64url -w0 | tr -d '='; }
# sign KEYNAME DEVICE DOOR ACTION TS NONCE KID: prints the signed command of SPEC.
sign() {
	local msg=$T/msg.$$ sig
	printf 'garaged-cmd-v1\n%s\n%s\n%s\n%s\n%s\n%s' "$2" "$3" "$4" "$5" "$6" "$7" >"$msg"
	sig=$(openssl pkeyutl -sign -rawin -inkey "$T/$1.ed.key" -in "$msg" 2>/dev/null | basenc --base64url -w0 | tr -d '=')
	printf '{"v":1,"door":"%s","action":"%s","ts":%s,"nonce":"%s","kid":"%s","sig":"%s"}' "$3" "$4" "$5" "$6" "$7" "$sig"
}
# sign_admin KEYNAME DEVICE OP ARG TS NONCE KID: prints the signed admin message
# (docs/reference.md, "The admin message").
sign_admin() {
	local msg=$T/msg.$$ sig
	printf 'garaged-admin-v1\n%s\n%s\n%s\n%s\n%s\n%s' "$2" "$3" "$4" "$5" "$6" "$7" >"$msg"
	sig=$(openssl pkeyutl -sign -rawin -inkey "$T/$1.ed.key" -in "$msg" 2>/dev/null | basenc --base64url -w0 | tr -d '=')
	printf '{"v":1,"op":"%s","arg":"%s","ts":%s,"nonce":"%s","kid":"%s","sig":"%s"}' "$3" "$4" "$5" "$6" "$7" "$sig"
}
# relay_edges [FILE]: how many times the simulated relay was energised.
relay_edges() { local n; n=$(grep -c 'relay on' "${1:-$T/sim.log}" 2>/dev/null); echo "${n:-0}"; }
