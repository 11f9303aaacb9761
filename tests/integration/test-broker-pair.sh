#!/bin/bash
# Two Mosquitto brokers bridged as garagectl broker-config --peer writes them (issue 19): the
# secondary dials the primary on mutual TLS as the bridge's own certificate, which the
# primary's ACL lets carry the product's topics. A controller on either broker opens the door;
# with the primary killed garaged is online on the secondary within 15 s and a controller
# there opens the door; with the primary back, the retained state is right on both brokers.
source "$(dirname "$0")/../../scripts/testbed.sh"
P=$T/pki
"$GARAGECTL" pki init --dir "$P" >/dev/null || fail "pki init"
# garaged under the unit (integration-caps-*) reads its certificate here: the CA key stays 0600.
chmod 755 "$P"
"$GARAGECTL" pki issue --dir "$P" --server localhost --ip 127.0.0.1 >/dev/null || fail "pki issue --server"
# watch.local watches: broker-config's brokers make the CN the client id, so a watcher with
# ctl.local's certificate would be knocked off by every publish as ctl.local.
export WATCH_AS=watch.local
for c in garage.local ctl.local ha.local watch.local bridge; do
	"$GARAGECTL" pki issue --dir "$P" --client "$c" >/dev/null || fail "pki issue --client $c"
done
PA=$(free_port)
PB=$(free_port)
# Each broker has a directory of its own (its configuration, ACL and persistence), as on two
# machines: the secondary's is a copy of the PKI's public half and its own pair.
mkdir -p "$T/b"
cp "$P"/ca.crt "$P"/localhost.crt "$P"/localhost.key "$P"/bridge.crt "$P"/bridge.key "$T/b/"
ids=(--device garage:garage.local --controller ctl.local --controller watch.local --homeassistant ha.local)
expect_exit 2 "$GARAGECTL" broker-config --dir "$T/b" --server localhost --port "$PB" "${ids[@]}" --peer 'localhost:0'
grep -q -- '--peer' "$T/err" || fail "a bad --peer is not named: $(cat "$T/err")"
expect_exit 2 "$GARAGECTL" broker-config --dir "$P" --server localhost --port "$PA" "${ids[@]}" --bridge ctl.local
grep -q 'also a controller' "$T/err" || fail "a bridge with a controller's CN is not refused: $(cat "$T/err")"
expect_exit 1 "$GARAGECTL" broker-config --dir "$T/b" --server localhost --port "$PB" "${ids[@]}" --peer "localhost:$PA" --bridge nobridge
grep -q 'pki issue --dir .* --client nobridge' "$T/err" || fail "a missing bridge certificate is not named: $(cat "$T/err")"
expect_exit 0 "$GARAGECTL" broker-config --dir "$P" --server localhost --port "$PA" "${ids[@]}" --bridge bridge
expect_exit 0 "$GARAGECTL" broker-config --dir "$T/b" --server localhost --port "$PB" "${ids[@]}" --peer "localhost:$PA"
grep -q '^connection ' "$P/mosquitto.conf" && fail "the primary has a bridge too: two bridges would loop"
grep -qx "address localhost:$PA" "$T/b/mosquitto.conf" || fail "the secondary's bridge does not dial the primary"
grep -A3 '^user bridge$' "$P/acl" | grep -qx 'topic readwrite garage/#' || fail "the primary's ACL does not let the bridge in: $(cat "$P/acl")"
grep -A4 '^user bridge$' "$P/acl" | grep -q 'homeassistant/#' && fail "the bridge may carry all of Home Assistant's topics"
# With --mosquitto-dir (Debian's layout), the bridge's pair is copied beside the broker's.
mkdir -p "$T/md/conf.d"
echo "include_dir $T/md/conf.d" >"$T/md/mosquitto.conf"
expect_exit 0 "$GARAGECTL" broker-config --dir "$T/b" --server localhost --port "$PB" "${ids[@]}" --peer "localhost:$PA" --mosquitto-dir "$T/md"
grep -qx "bridge_certfile $T/md/garaged/bridge.crt" "$T/md/conf.d/garaged.conf" || fail "the drop-in's bridge does not use the copy of its certificate"
for f in bridge.crt bridge.key; do
	[ -f "$T/md/garaged/$f" ] || fail "--mosquitto-dir did not copy the bridge's $f"
done
[ "$(stat -c %a "$T/md/garaged/bridge.key")" = 640 ] || [ "$(stat -c %a "$T/md/garaged/bridge.key")" = 600 ] ||
	fail "the bridge's key copy is mode $(stat -c %a "$T/md/garaged/bridge.key")"
pass "broker-config --peer writes one bridge on mutual TLS, --bridge the ACL for it"

PORT=$PA BROKER_RUN=$T/a.run.conf broker_from_config "$P/mosquitto.conf"
PA_PID=$BROKER_PID
PORT=$PB BROKER_RUN=$T/b.run.conf broker_from_config "$T/b/mosquitto.conf"
PB_PID=$BROKER_PID
bridged() { # bridged: the primary's retained availability shows on the secondary within 15 s
	for _ in $(seq 30); do
		[ "$(PORT=$PB sub garage/garage/availability 1 1)" = "$1" ] && return 0
		sleep 0.5
	done
	return 1
}
PORT=$PA AS=garage.local pub garage/garage/availability bridged -r || fail "cannot publish on the primary"
bridged bridged || fail "a retained message on the primary did not reach the secondary over the bridge: $(tail -5 "$T/mosquitto.log")"
pass "the bridge carries a retained message from the primary to the secondary"

keypair owner
HOSTS="localhost:$PA localhost:$PB" MQTT_EXTRA="failback_s = 3" PORT=$PA write_conf
echo "ed25519 $PUB_B64 owner" >"$T/authorized_keys"
start_garaged
PORT=$PA online 15 || fail "garaged is not online on the primary"
bridged online || fail "garaged's 'online' did not reach the secondary"
garaged_subscribed 15 || fail "garaged did not subscribe"

# bridge_up: until a message published on the primary reaches a subscriber on the secondary
# (bounded: 20 s); the bridge redials every 1 to 5 s (restart_timeout 1 5).
bridge_up() {
	local tag
	for _ in $(seq 10); do
		tag=b$RANDOM$RANDOM
		PORT=$PB sub_bg "$T/bridge.rx" garage/bridgecheck/cert 1 2 watch.local
		PORT=$PA pub garage/bridgecheck/cert "$tag" >/dev/null 2>&1
		await " $tag\$" 2 "$T/bridge.rx" && return 0
	done
	return 1
}

# cmd ON ACTION WANT: a signed command published on broker port ON, until the state topic read
# on that broker says WANT (bounded: 15 s).
cmd() {
	PORT=$1 watch
	PORT=$1 pub garage/garage/main/cmd "$(sign owner garage main "$2" "$(date +%s)" "$(nonce)" owner)" ||
		fail "cannot publish $2 on port $1"
	await '^garage/garage/events .*"type":"command".*"result":"accepted"' 10 ||
		fail "$2 sent on port $1 was not accepted: $(grep '"type":"command"' "$T/watch.log" | tail -1)"
	await "^garage/garage/main/state $3\$" 15 || fail "the door did not become $3 after $2 on port $1"
}
cmd "$PB" open open
cmd "$PA" close closed
pass "a controller on either broker opens and closes the door"

kill -KILL "$PA_PID"
wait "$PA_PID" 2>/dev/null
PORT=$PB watch
await "^garage/garage/events .*\"type\":\"broker\",\"host\":\"localhost\",\"port\":$PB" 15 ||
	fail "garaged was not online on the secondary within 15 s of killing the primary"
cmd "$PB" open open
pass "primary killed: garaged on the secondary within 15 s, and a controller there opens the door"

# The primary comes back (with what its persistence had, possibly stale); garaged returns to
# it and publishes again, and the bridge carries that to the secondary.
on_a="event .*\"type\":\"broker\",\"host\":\"localhost\",\"port\":$PA"
n=$(count "$on_a" "$T/garaged.log")
PORT=$PA run_broker "$T/a.run.conf"
await_count "$on_a" $((n + 1)) 15 "$T/garaged.log" ||
	fail "garaged did not return to the primary within 15 s"
bridge_up || fail "the secondary's bridge did not come back to the primary within 20 s"
for b in "$PA" "$PB"; do
	for _ in $(seq 30); do
		[ "$(PORT=$b sub garage/garage/main/state 1 1)" = open ] &&
			[ "$(PORT=$b sub garage/garage/availability 1 1)" = online ] && continue 2
		sleep 0.5
	done
	fail "retained state on port $b: $(PORT=$b sub garage/garage/main/state 1 1), $(PORT=$b sub garage/garage/availability 1 1); want open, online"
done
cmd "$PB" close closed
[ "$(PORT=$PA sub garage/garage/main/state 1 3)" = closed ] || fail "the primary's retained state is not closed"
pass "primary back: garaged on it again, retained state right on both brokers"

# The secondary dies and comes back: its bridge subscribes on the primary again and gets the
# retained state from it (garaged stays on the primary and publishes nothing new).
kill -KILL "$PB_PID"
wait "$PB_PID" 2>/dev/null
PORT=$PB run_broker "$T/b.run.conf"
for _ in $(seq 30); do
	[ "$(PORT=$PB sub garage/garage/main/state 1 1)" = closed ] &&
		[ "$(PORT=$PB sub garage/garage/availability 1 1)" = online ] && break
	sleep 0.5
done
[ "$(PORT=$PB sub garage/garage/main/state 1 1)" = closed ] || fail "the restarted secondary did not get the retained state over its bridge"
pass "secondary restarted: its bridge brings it the retained state from the primary"
