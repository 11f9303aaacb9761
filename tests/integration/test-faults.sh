#!/bin/bash
# Faults between garaged and a real broker (SPEC: network and broker errors are never fatal; a
# reconnect republishes state, never re-announces it as a transition):
#  1. the broker killed and restarted on the same port, with persistence off and on, while the
#     door moves: garaged reconnects, the retained availability and state are right afterwards
#     (with persistence, the broker's stale "opening" is replaced), and no transition is invented;
#  2. a blackholed path (a proxy that stops forwarding without closing): garaged notices within
#     about two keepalives, and comes back online once the path forwards again;
#  3. a broker that is down costs no CPU: attempts back off (few of them, spacing grows);
#  4. a host name that does not resolve is logged, retried with backoff, never fatal;
#  5. the broker restarted with another certificate from the right CA: garaged connects again;
#     one that is not yet valid is refused with a line that says so.
# (Forged CA, other host name, expired, TLS 1.1 and revoked client certificates: test-tls.sh,
# test-pins.sh and test-pki.sh.)
source "$(dirname "$0")/../../scripts/testbed.sh"
make_pki
keypair alice
echo "ed25519 $PUB_B64 alice" >"$T/authorized_keys.src"

# connections PORT N: until garaged's log says it connected to PORT N times (bounded: 30 s).
connections() { await_count "connected to localhost:$1 over TLS" "$2" 30 "$T/garaged.log"; }
fresh_garaged() { # a new log, a new config, garaged started
	write_conf
	cp "$T/authorized_keys.src" "$T/authorized_keys"
	: >"$T/garaged.log"
	: >"$T/sim.log"
	start_garaged
}

# --- 1. broker restart, persistence off and on ------------------------------------------------
restart_case() { # restart_case on|off
	local persist=$1 line
	start_broker
	if [ "$persist" = on ]; then
		stop_broker
		mkdir -p "$T/data"
		sed -i "s|^persistence false$|persistence true\npersistence_location $T/data/|" "$T/mosquitto.conf"
		grep -q '^persistence true$' "$T/mosquitto.conf" || fail "persistence not switched on"
		run_broker
	fi
	SIM_TRAVEL_MS=6000 fresh_garaged
	watch
	await '^garage/garage/main/state closed$' 10 || fail "garaged did not come up (persistence $persist)"
	pub garage/garage/main/cmd "$(sign alice garage main open "$(date +%s)" "$(nonce)" alice)"
	await '^garage/garage/main/state opening$' 10 || fail "the door did not start opening"
	# Killed while the door moves: it reaches "open" while the broker is away.
	stop_broker
	if [ "$persist" = on ]; then
		[ -s "$T/data/mosquitto.db" ] || fail "Mosquitto saved no persistence file"
	fi
	await '"to":"open"' 15 "$T/garaged.log" || fail "the door did not reach open during the outage"
	line=$(grep -nE 'lost the connection|no answer from' "$T/garaged.log" | head -1 | cut -d: -f1)
	[ -n "$line" ] || fail "the lost connection is not logged"
	[ "$line" -lt "$(grep -n '"to":"open"' "$T/garaged.log" | head -1 | cut -d: -f1)" ] ||
		fail "the door reached open before the broker went away: the case tests nothing"
	run_broker
	watch
	connections "$PORT" 2 || fail "garaged did not reconnect within 30 s (persistence $persist)"
	[ "$(sub garage/garage/availability 1 5)" = online ] || fail "availability not online after the restart"
	[ "$(sub garage/garage/main/state 1 5)" = open ] ||
		fail "retained state is not 'open' after the restart (persistence $persist): $(sub garage/garage/main/state 1 2)"
	sleep 1 # time for a transition the reconnect must not invent
	# No state event after the reconnect: not in garaged's log, not on the broker.
	line=$(grep -n "connected to localhost:$PORT over TLS" "$T/garaged.log" | sed -n 2p | cut -d: -f1)
	tail -n +"$line" "$T/garaged.log" | grep -q '"type":"state"' &&
		fail "a reconnect invented a transition: $(tail -n +"$line" "$T/garaged.log" | grep '"type":"state"')"
	[ "$(count '"type":"state"')" = 0 ] || fail "a state event was published after the reconnect"
	[ "$(relay_edges)" = 1 ] || fail "the relay moved $(relay_edges) times, want 1"
	kill -0 "$GARAGED_PID" 2>/dev/null || fail "garaged died"
	stop_garaged
	stop_broker
	pass "broker restart (persistence $persist): reconnected, availability and state right, no invented transition"
}
restart_case off
restart_case on
sed -i "/^persistence_location/d; s|^persistence true$|persistence false|" "$T/mosquitto.conf"

# --- 2. a blackholed path ---------------------------------------------------------------------
# A TCP proxy that, while the file $T/blackhole exists, stops forwarding in both directions
# without closing anything: the bytes wait in the kernel, as on a dead path.
cat >"$T/proxy.py" <<'PY'
import os, selectors, socket, sys, time
listen_port, target_port, flag, portfile = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", listen_port))
srv.listen(8)
open(portfile + ".tmp", "w").write(str(srv.getsockname()[1]))
os.rename(portfile + ".tmp", portfile)
sel = selectors.DefaultSelector()
sel.register(srv, selectors.EVENT_READ)
peer = {}
def close(s):
    for x in (s, peer.get(s)):
        if x is not None and x in peer:
            sel.unregister(x)
            x.close()
            del peer[x]
while True:
    if os.path.exists(flag):
        # Blackholed: nothing is accepted, read or written; connections stay open.
        time.sleep(0.1)
        continue
    for key, _ in sel.select(timeout=0.1):
        s = key.fileobj
        if s is srv:
            c, _ = srv.accept()
            b = socket.create_connection(("127.0.0.1", target_port))
            peer[c], peer[b] = b, c
            sel.register(c, selectors.EVENT_READ)
            sel.register(b, selectors.EVENT_READ)
            continue
        if s not in peer:
            continue
        try:
            data = s.recv(65536)
        except OSError:
            data = b""
        if not data:
            close(s)
            continue
        peer[s].sendall(data)
PY
start_broker
BROKER_PORT=$PORT
python3 "$T/proxy.py" 0 "$BROKER_PORT" "$T/blackhole" "$T/proxy.port" &
PROXY_PID=$!
PIDS+=("$PROXY_PID")
await . 5 "$T/proxy.port" || fail "the proxy did not start"
PROXY_PORT=$(cat "$T/proxy.port")
PORT=$PROXY_PORT KEEPALIVE=5 fresh_garaged
watch
await '^garage/garage/availability online$' 10 || fail "garaged did not come online through the proxy"
connections "$PROXY_PORT" 1 || fail "garaged's log does not say it connected through the proxy"
touch "$T/blackhole"
# 30 s: the bound is generous, two keepalives are 10 s.
await 'lost the connection|no answer from' 30 "$T/garaged.log" || fail "garaged did not notice the blackholed connection within 30 s"
kill -0 "$GARAGED_PID" 2>/dev/null || fail "garaged died on a blackholed connection"
pass "a blackholed connection is noticed: $(grep -Eo '(lost the connection|no answer from).*' "$T/garaged.log" | head -1)"
: >"$T/watch.log"
rm -f "$T/blackhole"
connections "$PROXY_PORT" 2 || fail "garaged did not come back online within 30 s of the path forwarding again"
await '^garage/garage/availability online$' 10 || fail "no 'online' after the path came back"
[ "$(sub garage/garage/main/state 1 5)" = closed ] || fail "state not republished after the path came back"
pass "once the path forwards again garaged reconnects and is online"
stop_garaged
kill "$PROXY_PID"; wait "$PROXY_PID" 2>/dev/null
PORT=$BROKER_PORT

# --- 3. a broker that is down costs no CPU ------------------------------------------------------
# Both halves are measured: the network half is the one that retries, the door half the one that
# would spin on a channel gone wrong. A network half restarted on the way would hide its CPU.
stop_broker
PORT=$(free_port) fresh_garaged
NET=$(net_half) || fail "no network half"
sleep 1 # past the start's own work: the baseline is the idle, retrying garaged
hz=$(getconf CLK_TCK)
door0=$(cpu_ticks "$GARAGED_PID")
net0=$(cpu_ticks "$NET")
sleep 10 # the measurement
door1=$(cpu_ticks "$GARAGED_PID")
net1=$(cpu_ticks "$NET")
[ -n "$door1" ] || fail "garaged exited with the broker down"
[ -n "$net1" ] && [ "$(net_half)" = "$NET" ] || fail "the network half (pid $NET) died with the broker down"
door=$((door1 - door0))
net=$((net1 - net0))
attempts=$(grep -c 'again in' "$T/garaged.log")
delays=$(grep -Eo 'again in [0-9.]+ s' "$T/garaged.log" | grep -Eo '[0-9.]+' | tr '\n' ' ')
echo "  cpu in 10 s, in ticks of 1/$hz s: door half $door, network half $net; $attempts attempts, delays: $delays"
# Generous: one second of CPU in ten would be a loop, an idle half uses a few ticks at most.
[ "$net" -lt "$hz" ] || fail "the network half used $net ticks (1/$hz s) of CPU in 10 s with the broker down"
[ "$door" -lt "$hz" ] || fail "the door half used $door ticks (1/$hz s) of CPU in 10 s with the broker down"
[ "$attempts" -gt 1 ] || fail "garaged did not retry ($attempts attempts in 11 s)"
[ "$attempts" -le 12 ] || fail "garaged made $attempts attempts in 11 s: no backoff"
# With full jitter the spacing is random, but its cap doubles: some delay exceeds 2 x 500 ms.
echo "$delays" | tr ' ' '\n' | awk 'BEGIN { big = 0 } $1 > 1.0 { big = 1 } END { exit !big }' ||
	fail "the delays never grew beyond 1 s: $delays"
stop_garaged
pass "a broker that is down costs no CPU (door half $door/$hz s, network half $net/$hz s in 10 s), $attempts attempts backing off"

# --- 4. a host name that does not resolve -----------------------------------------------------
HOST=nonexistent.invalid fresh_garaged
await_count 'again in' 3 15 "$T/garaged.log" || fail "garaged did not retry a name that does not resolve 3 times in 15 s"
kill -0 "$GARAGED_PID" 2>/dev/null || fail "garaged exited on a name that does not resolve"
grep -Eq 'warning: cannot connect to nonexistent\.invalid:[0-9]+: cannot resolve the host name: .+' "$T/garaged.log" ||
	fail "the failed lookup is not logged clearly: $(grep warning "$T/garaged.log" | head -2)"
stop_garaged
pass "a name that does not resolve is logged and retried: $(grep -E 'warning: .*nonexistent\.invalid' "$T/garaged.log" | head -1 | sed 's/^.*warning: //')"

# --- 5. the broker's certificate replaced ---------------------------------------------------------
start_broker
fresh_garaged
connections "$PORT" 1 || fail "garaged did not come online"
stop_broker
issue ca localhost server localhost2 "DNS:localhost,IP:127.0.0.1"
cmp -s "$T/pki/localhost.crt" "$T/pki/localhost2.crt" && fail "the new certificate is the old one"
sed -i "s|$T/pki/localhost\.|$T/pki/localhost2.|" "$T/mosquitto.conf"
grep -q localhost2.crt "$T/mosquitto.conf" || fail "the broker's certificate was not replaced"
run_broker
connections "$PORT" 2 || fail "garaged did not reconnect to a broker with a new certificate from the right CA"
[ "$(sub garage/garage/availability 1 5)" = online ] || fail "not online after the certificate change"
pass "the broker restarted with another certificate from the right CA: garaged connects"

# A certificate that becomes valid tomorrow: openssl ca sets the start date.
mkdir -p "$T/pki/ca.db"
: >"$T/pki/ca.db/index.txt"
cat >"$T/pki/ca.cnf" <<CNF
[ca]
default_ca = test
[test]
database = $T/pki/ca.db/index.txt
new_certs_dir = $T/pki/ca.db
serial = $T/pki/ca.db/serial
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[any]
commonName = supplied
[ext]
basicConstraints = CA:FALSE
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1
CNF
echo 1000 >"$T/pki/ca.db/serial"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
	-keyout "$T/pki/future.key" -out "$T/pki/future.csr" 2>/dev/null || fail "future csr"
openssl ca -batch -config "$T/pki/ca.cnf" -extensions ext -cert "$T/pki/ca.crt" \
	-keyfile "$T/pki/ca.key" -in "$T/pki/future.csr" -out "$T/pki/future.crt" \
	-startdate "$(date -u -d tomorrow +%Y%m%d%H%M%SZ)" \
	-enddate "$(date -u -d '+10 days' +%Y%m%d%H%M%SZ)" >/dev/null 2>&1 || fail "future certificate"
chmod 600 "$T/pki/future.key"
stop_garaged
stop_broker
sed -i "s|$T/pki/localhost2\.|$T/pki/future.|" "$T/mosquitto.conf"
run_broker
fresh_garaged
await 'expiry check failed' 10 "$T/garaged.log" || fail "no failed expiry check within 10 s: $(grep warning "$T/garaged.log" | head -2)"
grep -Eq "warning: TLS with localhost:$PORT failed .*expiry check failed: the broker's certificate is not valid before [0-9-]+ [0-9:]+ UTC; is this clock right\?" \
	"$T/garaged.log" || fail "a not yet valid broker certificate is not refused as such: $(grep warning "$T/garaged.log" | head -2)"
sleep 1 # time for a connection that must not happen
[ "$(grep -c "connected to localhost:$PORT over TLS" "$T/garaged.log")" = 0 ] || fail "garaged connected to a not yet valid certificate"
kill -0 "$GARAGED_PID" 2>/dev/null || fail "garaged exited on a not yet valid certificate"
pass "a broker certificate that is not yet valid is refused, named, and retried"
