#!/bin/bash
# `host = mqtt.local` resolves by multicast DNS (SPEC garaged.conf), for real: two network
# namespaces made for this run and joined by a veth pair, a real avahi-daemon in namespace A
# announcing mqtt.local with its own configuration and its own /run, Mosquitto listening on A's
# address with a certificate for mqtt.local, and garaged in namespace B given only the name.
# garaged must come online; given a name nobody announces, it must say so in one clear line per
# attempt, back off and retry, stay up, and still stop promptly on SIGTERM.
#
# GARAGED_WRAPPER (testbed.sh) goes in front of garaged here too.
#
# Nothing leaves the namespaces: both ends of the veth live in them from the moment they are
# made, neither has a route anywhere else, and the namespaces are deleted at exit.
source "$(dirname "$0")/../../scripts/testbed.sh"

[ "$(id -u)" = 0 ] || skip "needs root for network namespaces"
command -v avahi-daemon >/dev/null || skip "avahi-daemon is not installed (run scripts/bootstrap)"
command -v ip >/dev/null || skip "ip (iproute2) is not installed"
command -v unshare >/dev/null || skip "unshare (util-linux) is not installed"

NS_A=garaged-mdns-a-$$ NS_B=garaged-mdns-b-$$
VETH_A=gmdA$$ VETH_B=gmdB$$
NET=10.213.$(($$ % 250 + 1))
ADDR_A=$NET.1 ADDR_B=$NET.2
NS_MADE=()

# Processes first (they may hold the namespaces), then the namespaces; the veth pair goes with
# them. Then the testbed's own clean-up, with this script's exit status.
net_cleanup() {
	local rc=$? p ns
	stop_pids
	# Anything still inside a namespace of this run was started by it.
	for ns in "${NS_MADE[@]}"; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
		ip netns del "$ns" 2>/dev/null
	done
	(exit $rc)
	cleanup
}
trap net_cleanup EXIT

ip netns add "$NS_A" 2>/dev/null || skip "ip netns add is not permitted here"
NS_MADE+=("$NS_A")
ip netns add "$NS_B" 2>/dev/null || skip "ip netns add is not permitted here"
NS_MADE+=("$NS_B")
ip -n "$NS_A" link add "$VETH_A" type veth peer name "$VETH_B" netns "$NS_B" ||
	skip "cannot create a veth pair inside a namespace"
for side in "$NS_A $VETH_A $ADDR_A" "$NS_B $VETH_B $ADDR_B"; do
	set -- $side
	ip -n "$1" link set lo up || fail "lo up in $1"
	ip -n "$1" addr add "$3/24" dev "$2" || fail "address on $2"
	ip -n "$1" link set "$2" multicast on up || fail "$2 up"
	ip -n "$1" route add 224.0.0.0/4 dev "$2" || fail "multicast route on $2"
done
# Arrays, not functions: a backgrounded function runs in a subshell, and $! would name the
# subshell instead of the process (ip netns exec execs the command in its own place).
IN_A=(ip netns exec "$NS_A")
IN_B=(ip netns exec "$NS_B")
if command -v ping >/dev/null; then
	"${IN_B[@]}" ping -c 1 -W 2 "$ADDR_A" >/dev/null 2>&1 || fail "the veth pair does not carry traffic"
fi

# avahi-daemon in A, announcing its host name mqtt.local on the veth only. Its pid file and
# socket go to a tmpfs of a private mount namespace, so that it cannot clash with a system avahi.
cat >"$T/avahi.conf" <<CONF
[server]
host-name=mqtt
domain-name=local
use-ipv4=yes
use-ipv6=no
allow-interfaces=$VETH_A
enable-dbus=no
ratelimit-interval-usec=1000000
ratelimit-burst=1000

[wide-area]
enable-wide-area=no

[publish]
publish-addresses=yes
publish-hinfo=no
publish-workstation=no
publish-domain=no

[reflector]
enable-reflector=no
CONF
# shellcheck disable=SC2016
"${IN_A[@]}" unshare -m sh -c '
	if [ -d /run/avahi-daemon ]; then
		mount -t tmpfs -o mode=0755 tmpfs /run/avahi-daemon || exit 1
	else
		mount -t tmpfs -o mode=0755 tmpfs /run && mkdir /run/avahi-daemon || exit 1
	fi
	exec avahi-daemon -f "$1" --no-drop-root --no-chroot --no-rlimits --no-proc-title' \
	sh "$T/avahi.conf" >"$T/avahi.log" 2>&1 &
AVAHI_PID=$!
PIDS+=("$AVAHI_PID")
await 'Server startup complete' 10 "$T/avahi.log" ||
	skip "avahi-daemon cannot run here: $(tail -3 "$T/avahi.log" | tr '\n' ' ')"
grep -q 'Host name is mqtt.local' "$T/avahi.log" || fail "avahi took another name: $(grep 'Host name' "$T/avahi.log")"
pass "avahi-daemon announces mqtt.local in its namespace"

# Mosquitto in A on the veth address, with a certificate for mqtt.local (and the address, so
# that the test's own client can check it too).
make_pki
issue ca mqtt.local server mqtt-local "DNS:mqtt.local,IP:$ADDR_A"
PORT=8883
cat >"$T/acl" <<ACL
user garage.local
topic read garage/garage/+/cmd
topic write garage/garage/availability
topic write garage/garage/+/state
topic write garage/garage/events
topic readwrite homeassistant/#
user ctl.local
topic read garage/#
ACL
cat >"$T/mosquitto.conf" <<CONF
per_listener_settings false
allow_anonymous false
persistence false
user root
listener $PORT $ADDR_A
cafile $T/pki/ca.crt
certfile $T/pki/mqtt-local.crt
keyfile $T/pki/mqtt-local.key
require_certificate true
use_identity_as_username true
acl_file $T/acl
CONF
start_broker_in_a() {
	"${IN_A[@]}" mosquitto -c "$T/mosquitto.conf" >>"$T/mosquitto.log" 2>&1 &
	BROKER_PID=$!
	PIDS+=("$BROKER_PID")
	for _ in $(seq 50); do "${IN_A[@]}" ss -ltn | grep -q "$ADDR_A:$PORT " && return 0; sleep 0.1; done
	fail "mosquitto did not listen: $(tail -2 "$T/mosquitto.log")"
}
start_broker_in_a

# start_in_b LOG: garaged in B, as start_garaged starts it (GARAGED_AS_UNIT too), logging to LOG.
start_in_b() {
	unit_files
	"${IN_B[@]}" "${AS_UNIT[@]}" ${GARAGED_WRAPPER:-} "$GARAGED" -c "$T/garaged.conf" -f -v >>"$1" 2>&1 &
	GARAGED_PID=$!
	PIDS+=("$GARAGED_PID")
}

# garaged in B, given only the name.
HOST=mqtt.local write_conf
start_in_b "$T/garaged.log"
online=$("${IN_A[@]}" mosquitto_sub -h "$ADDR_A" -p "$PORT" --cafile "$T/pki/ca.crt" \
	--cert "$T/pki/ctl.local.crt" --key "$T/pki/ctl.local.key" \
	-t garage/garage/availability -C 1 -W 15 2>&1)
[ "$online" = online ] || fail "garaged did not come online through mqtt.local (got: $online)"
grep -q "mDNS: mqtt.local is at $ADDR_A" "$T/garaged.log" || fail "no 'mDNS: mqtt.local is at $ADDR_A' line"
"${IN_B[@]}" ss -tnH state established | grep -q "$ADDR_A:$PORT" || fail "garaged is not connected to $ADDR_A:$PORT"
pass "garaged resolves mqtt.local by mDNS and comes online (TLS checked against mqtt.local)"

# garagectl takes the same [mqtt] keys, with the same meaning: it finds mqtt.local the same way.
cat >"$T/ctl.conf" <<CONF
[mqtt]
host = mqtt.local
port = $PORT
cafile = $T/pki/ca.crt
certfile = $T/pki/ctl.local.crt
keyfile = $T/pki/ctl.local.key
topic_prefix = garage
CONF
"${IN_B[@]}" timeout 20 "$GARAGECTL" -c "$T/ctl.conf" --device garage status >"$T/ctl.out" 2>&1 ||
	fail "garagectl status through mqtt.local failed: $(cat "$T/ctl.out")"
grep -q "device garage: online" "$T/ctl.out" || fail "garagectl status through mqtt.local: $(cat "$T/ctl.out")"
pass "garagectl resolves mqtt.local by mDNS too: $(head -1 "$T/ctl.out")"

# The certificate is still checked against the configured name, not the address: a broker
# certificate for the address alone is refused.
stop_garaged
issue ca other server addr-only "IP:$ADDR_A"
sed -i "s|mqtt-local\.|addr-only.|" "$T/mosquitto.conf"
kill "$BROKER_PID"; wait "$BROKER_PID" 2>/dev/null
start_broker_in_a
start_in_b "$T/garaged-addr.log"
await 'TLS with mqtt.local:8883 failed' 15 "$T/garaged-addr.log" ||
	fail "a certificate for the address only was not refused: $(tail -3 "$T/garaged-addr.log")"
pass "the broker's certificate is still checked against mqtt.local, not the address"
stop_garaged

# A name nobody announces: one clear line per attempt, the normal backoff, garaged stays up.
HOST=nothing.local write_conf
start_in_b "$T/garaged-nothing.log"
line='mDNS: no answer for nothing.local within 2 s; is the broker announcing it \(avahi-daemon\)\?'
for _ in $(seq 150); do
	[ "$(count "$line" "$T/garaged-nothing.log")" -ge 3 ] && break
	sleep 0.1
done
n=$(count "$line" "$T/garaged-nothing.log")
[ "$n" -ge 3 ] || fail "want 3 'no answer' lines within 15 s, got $n: $(tail -3 "$T/garaged-nothing.log")"
[ "$(count 'connecting to nothing.local:8883 again in' "$T/garaged-nothing.log")" -ge 3 ] ||
	fail "no backoff lines: $(tail -3 "$T/garaged-nothing.log")"
kill -0 "$GARAGED_PID" || fail "garaged died"
pass "nothing.local: '$(grep -m1 -o 'mDNS: no answer.*' "$T/garaged-nothing.log")', $n attempts with backoff, still running"

# SIGTERM while a lookup may be running: the lookup ends within its 2 s, then garaged exits 0.
kill -TERM "$GARAGED_PID"
for _ in $(seq 50); do kill -0 "$GARAGED_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$GARAGED_PID" 2>/dev/null && fail "garaged still running 5 s after SIGTERM"
wait "$GARAGED_PID"
rc=$?
[ "$rc" = 0 ] || fail "garaged exited with $rc after SIGTERM"
pass "SIGTERM during mDNS retries: garaged exits 0 within 5 s"
