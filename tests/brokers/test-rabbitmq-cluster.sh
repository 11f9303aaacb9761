#!/bin/bash
# garaged and garagectl, unchanged, on RabbitMQ's MQTT plugin (Debian's rabbitmq-server): a
# two-node cluster on loopback (tests/brokers/rabbitmq-cluster.sh), certificate login (the CN is
# the user name), each identity with the permissions of broker-config's Mosquitto ACL. What
# docs/brokers.md ("RabbitMQ") says holds and does not hold is checked here: retained messages
# are kept per node and handed only to exact-topic subscriptions, MQTT 5 is refused (garagectl
# falls back to 3.1.1), QoS 2 becomes 1, the last will crosses nodes, a publish the permissions
# refuse ends the session. Then: commands and state across nodes (garaged on one node, the
# controller on the other, and the reverse; state through P/D/refresh); one node killed, then
# the other: garaged, given both nodes, moves to the living one and comes back.
# Not in make check (the cluster takes a while): make check-brokers.
source "$(dirname "$0")/../../scripts/testbed.sh"
source "$(dirname "$0")/rabbitmq-cluster.sh"
[ -x "$GARAGECTL" ] || fail "no garagectl at $GARAGECTL (build first)"
rabbit_install

make_pki
t0=$SECONDS
rabbit_cluster
rabbit_users
echo "cluster of two nodes up in $((SECONDS - t0)) s (MQTT over TLS: a on $RMQ_MQTT_a, b on $RMQ_MQTT_b)"

keypair alice
echo "ed25519 $PUB_B64 alice" >"$T/authorized_keys.alice"
# on NODE: the testbed's MQTT helpers (sub, pub, sub_bg, watch, write_ctl_conf) use $PORT.
on() { PORT=$(eval echo "\$RMQ_MQTT_$1"); }
# ctl NODE ARGS...: garagectl as ctl.local with alice's key, on node NODE, bounded.
ctl() {
	local n=$1
	shift
	on "$n"
	[ -f "$T/ctl-$n.conf" ] || write_ctl_conf "$T/ctl-$n.conf" "$T/alice.ed.key" alice
	timeout 60 "$GARAGECTL" -c "$T/ctl-$n.conf" "$@"
}
# other NODE: the other node of the two.
other() { if [ "$1" = a ]; then echo b; else echo a; fi; }
# garaged_on NODE: (re)starts garaged with both nodes as its brokers, NODE first (its preferred),
# until it has subscribed; it probes NODE every 3 s while on the other one.
garaged_on() {
	local o
	o=$(other "$1")
	[ -n "${GARAGED_PID:-}" ] && kill -0 "$GARAGED_PID" 2>/dev/null && stop_garaged
	on "$o"
	HOSTS="localhost:$(eval echo "\$RMQ_MQTT_$1") localhost:$PORT" MQTT_EXTRA="failback_s = 3" write_conf
	on "$1"
	sed -i 's/^keepalive = .*/keepalive = 5\nreconnect_max_s = 2/' "$T/garaged.conf"
	cp "$T/authorized_keys.alice" "$T/authorized_keys"
	start_garaged
	garaged_subscribed 20 || fail "garaged did not subscribe on rabbit-$1 within 20 s"
	GARAGED_NODE=$1
}

# garaged_is_on NODE SECONDS: until garaged's latest broker event names node NODE (bounded).
garaged_is_on() {
	local port end=$((SECONDS + $2))
	port=$(eval echo "\$RMQ_MQTT_$1")
	until grep '"type":"broker"' "$T/garaged.log" 2>/dev/null | tail -1 | grep -q "\"port\":$port,"; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.2
	done
}

# mq NODE STEM TOOL ARGS...: a mosquitto client as STEM on node NODE, bounded.
mq() {
	local n=$1 stem=$2 tool=$3
	shift 3
	on "$n"
	timeout 20 "$tool" -h localhost -p "$PORT" --cafile "$T/pki/ca.crt" --cert "$T/pki/$stem.crt" \
		--key "$T/pki/$stem.key" "$@"
}
# garaged_online NODE SECONDS: until garagectl status on node NODE shows garaged online with its
# door (which only garaged's answer to P/D/refresh brings there: a retained "online" may be an
# old one), at most SECONDS.
garaged_online() {
	local end=$((SECONDS + $2))
	until ctl "$1" status >"$T/status.out" 2>&1 && grep -qx 'device garage: online' "$T/status.out" &&
		grep -q '^  main: ' "$T/status.out"; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.5
	done
}

# --- what the plugin does with MQTT itself ----------------------------------------------------
mq a ctl.local mosquitto_sub -V mqttv5 -t garage/garage/availability -C 1 -W 3 -d >"$T/v5.out" 2>&1
grep -q 'received CONNACK' "$T/v5.out" && fail "RabbitMQ accepted an MQTT 5 session: $(head -3 "$T/v5.out")"
mq a ctl.local mosquitto_sub -V mqttv311 -t 'garage/garage/+/state' -q 2 -C 1 -W 2 -d >"$T/qos.out" 2>&1
grep -q '^Subscribed (mid: 1): 1$' "$T/qos.out" || fail "a QoS 2 subscription was not granted QoS 1: $(grep Subscribed "$T/qos.out")"
pass "MQTT 3.1.1 only (a version 5 CONNECT gets no CONNACK); QoS 2 is granted as 1"

# --- garaged on node a, the controller on node b ----------------------------------------------
garaged_on a
sleep 1
[ "$(mq a ctl.local mosquitto_sub -t garage/garage/main/state -C 1 -W 3)" = closed ] ||
	fail "node a does not hand the retained state to an exact subscription on it"
[ -z "$(mq a ctl.local mosquitto_sub -t 'garage/garage/+/state' -C 1 -W 2 2>/dev/null)" ] ||
	fail "node a hands a retained state to a wildcard subscription: docs/brokers.md says it does not"
[ -z "$(mq b ctl.local mosquitto_sub -t garage/garage/main/state -C 1 -W 2 2>/dev/null)" ] ||
	fail "node b has node a's retained state: docs/brokers.md says it has not"
pass "retained messages: per node, and only to a subscription to the exact topic"

t=$SECONDS
ctl b status >"$T/out" 2>"$T/err" || fail "garagectl status on node b: $(cat "$T/err")"
grep -qx 'device garage: online' "$T/out" && grep -qx '  main: closed' "$T/out" ||
	fail "garagectl status on node b shows: $(cat "$T/out")"
pass "garagectl status on node b, garaged on node a: online, closed (through P/D/refresh, $((SECONDS - t)) s)"
grep -q 'refresh' "$T/garaged.log" || true
ctl b open --wait 10 >"$T/out" 2>"$T/err" || fail "garagectl open --wait on node b: $(cat "$T/err")"
grep -qx 'main: open' "$T/out" || fail "open --wait on node b did not follow the door to open: $(cat "$T/out")"
[ "$(relay_edges)" = 1 ] || fail "the relay moved $(relay_edges) times for one command"
ctl b keys list >"$T/out" 2>"$T/err" || fail "garagectl keys list on node b: $(cat "$T/err")"
grep -q '^alice ' "$T/out" || fail "keys list on node b: $(cat "$T/out")"
ctl a status >"$T/out" 2>"$T/err" && grep -qx '  main: open' "$T/out" ||
	fail "garagectl status on node a: $(cat "$T/out" "$T/err")"
pass "a command from node b moves the door on node a's garaged; state and keys on both nodes"

# --- what the permissions and the will do across nodes ---------------------------------------
mq a ctl.local mosquitto_pub -t garage/garage/main/state -m forged -r -q 1 -d >"$T/pub.out" 2>&1
grep -q 'received PUBACK' "$T/pub.out" && fail "RabbitMQ acknowledged a state the controller may not write"
[ "$(mq a ctl.local mosquitto_sub -t garage/garage/main/state -C 1 -W 3)" = open ] ||
	fail "a forged retained state replaced the device's"
on b
sub_bg "$T/avail.rx" garage/garage/availability 1 30
kill -KILL "$GARAGED_PID"
wait "$GARAGED_PID" 2>/dev/null
await '^garage/garage/availability offline$' 10 "$T/avail.rx" ||
	fail "garaged died on node a and no last will reached node b: $(tr '\n' ';' <"$T/avail.rx")"
pass "a publish the permissions refuse ends the session unacknowledged; the last will crosses nodes"

# --- the reverse: garaged on node b, the controller on node a ---------------------------------
garaged_on b

# Identities: a certificate of another CA is refused; but the client id is not tied to the
# certificate, so a controller that takes garaged's id ends garaged's session, on any node.
issue rogue-ca ctl.local client rogue-ctl
mq a rogue-ctl mosquitto_sub -t garage/garage/availability -C 1 -W 3 -d >"$T/rogue.out" 2>&1
grep -q 'received CONNACK' "$T/rogue.out" && fail "node a accepted a certificate of another CA"
lost=$(count 'cannot connect|connection lost|lost the connection|disconnected' "$T/garaged.log")
subs=$(count 'mqtt: Client .* received SUBACK' "$T/garaged.log")
mq a ctl.local mosquitto_sub -i garaged-garage -t garage/garage/availability -W 2 >/dev/null 2>&1
[ "$(count 'cannot connect|connection lost|lost the connection|disconnected' "$T/garaged.log")" -gt "$lost" ] ||
	fail "a controller with garaged's client id on node a did not end garaged's session on node b: docs/brokers.md says it does"
# The two took turns (mosquitto_sub connects again too) until it gave up: garaged is back after
# its backoff (reconnect_max_s = 2).
await_count 'mqtt: Client .* received SUBACK' $((subs + 1)) 20 "$T/garaged.log" &&
	garaged_online a 15 || fail "garaged did not come back after its session was taken over"
pass "another CA's certificate is refused; garaged's client id is anyone's to take, across nodes"

ctl a close --wait 10 >"$T/out" 2>"$T/err" || fail "garagectl close --wait on node a: $(cat "$T/err")"
grep -qx 'main: closed' "$T/out" || fail "close --wait on node a did not follow the door: $(cat "$T/out")"
garaged_online a 5 && grep -qx '  main: closed' "$T/status.out" ||
	fail "garagectl status on node a: $(cat "$T/status.out")"
pass "garaged on node b, the controller on node a: close, and the state"

# The takeover may have moved garaged to node a (its next broker); it comes back to b, its first.
garaged_is_on b 20 || fail "garaged did not come back to node b, its preferred broker"

# --- one node killed --------------------------------------------------------------------------
# The controller's node: garaged on node b keeps its session; a controller on b goes on.
lost=$(count 'cannot connect|connection lost|lost the connection' "$T/garaged.log")
t=$SECONDS
rabbit_kill a
ctl b open --wait 10 >"$T/out" 2>"$T/err" || fail "open --wait on node b with node a dead: $(cat "$T/err")"
grep -qx 'main: open' "$T/out" || fail "open --wait on node b with node a dead: $(cat "$T/out")"
[ "$(count 'cannot connect|connection lost|lost the connection' "$T/garaged.log")" = "$lost" ] ||
	fail "garaged on node b lost its session when node a died"
pass "node a killed: garaged on node b and a controller there go on ($((SECONDS - t)) s)"
t=$SECONDS
rabbit_start a
rabbit_wait a
rmqctl a -q cluster_status --formatter json >"$T/cs.json" 2>&1
grep -q 'rabbit-b@localhost' "$T/cs.json" || fail "node a did not rejoin the cluster: $(head -c 300 "$T/cs.json")"
garaged_online a 10 || fail "the controller on the restarted node a: $(cat "$T/status.out")"
pass "node a restarted and rejoined: the controller on it sees the device online ($((SECONDS - t)) s)"

# garaged's node: garaged has both nodes (garaged_on), so it moves to node a, online there
# within 15 s of the kill (a node that dies publishes no will: docs/brokers.md), and returns to
# node b, its preferred, once b is back (a probe every 3 s).
t=$SECONDS
rabbit_kill b
garaged_is_on a 15 || fail "garaged was not on node a within 15 s of killing node b: $(grep -E 'broker|lost|cannot' "$T/garaged.log" | tail -3)"
garaged_online a 15 || fail "the controller on node a does not see garaged online: $(cat "$T/status.out")"
moved=$((SECONDS - t))
ctl a open --wait 10 >"$T/out" 2>"$T/err" || fail "open --wait on node a with node b dead: $(cat "$T/err")"
grep -qx 'main: open' "$T/out" || fail "open --wait on node a with node b dead: $(cat "$T/out")"
pass "node b (garaged's) killed: garaged online through node a in $moved s, commands there"
t=$SECONDS
rabbit_start b
rabbit_wait b
garaged_is_on b 30 || fail "garaged did not return to node b within 30 s of its restart"
back=$((SECONDS - t))
ctl a close --wait 10 >"$T/out" 2>"$T/err" || fail "close --wait on node a after node b came back: $(cat "$T/err")"
garaged_online a 5 && grep -qx '  main: closed' "$T/status.out" || fail "status on node a: $(cat "$T/status.out")"
pass "node b restarted: garaged back on it ($back s), commands from node a"

echo "total $SECONDS s"
