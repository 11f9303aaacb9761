#!/bin/bash
# Door behaviour people rely on, and Home Assistant: discovery (retained, under the device's own
# node id, through the product's ACL, republished on Home Assistant's birth message), its plain commands only when enabled, the travel timeout, auto-close
# (announced first, never after a stop), several doors side by side, and a broker restart that
# republishes the truth without inventing transitions.
source "$(dirname "$0")/../../scripts/testbed.sh"
make_pki
start_broker
keypair alice
now() { date +%s; }
cmd() { AS=ctl.local pub "garage/garage/${2:-main}/cmd" "$(sign alice garage "${2:-main}" "$1" "$(now)" "$(nonce)" alice)"; }
start() { # start [extra [door.main] lines]: a fresh garaged
	[ -n "${GARAGED_PID:-}" ] && stop_garaged
	write_conf "$@"
	printf 'ed25519 %s alice\n' "$PUB_B64" >"$T/authorized_keys"
	: >"$T/watch.log"
	start_garaged
	await '^garage/garage/main/state ' 10 || fail "garaged did not come up"
}
watch

# 1. Discovery, commands off: retained, a garage cover, read-only.
start
await '^homeassistant/cover/garage/main/config ' 5 || fail "no discovery published"
disc=$(sub homeassistant/cover/garage/main/config 1 3)
echo "$disc" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["device_class"] == "garage", d
assert d["unique_id"] == "garaged_garage_main", d
assert d["object_id"] == "garage_main", d
assert d["state_topic"] == "garage/garage/main/state", d
assert d["availability_topic"] == "garage/garage/availability", d
assert "command_topic" not in d, "command_topic while commands = off"
assert d["device"]["identifiers"] and d["device"]["sw_version"], d
' || fail "discovery payload (commands = off): $disc"
grep -q '^homeassistant/cover/garage_main/' "$T/watch.log" && fail "discovery still published on the old topic (no node id level)"
n=$(count '^homeassistant/cover/garage/main/config ')
AS=ha.local pub homeassistant/status online
await_count '^homeassistant/cover/garage/main/config ' $((n + 1)) 5 || fail "discovery not republished on homeassistant/status online"
AS=ha.local pub garage/garage/main/ha_cmd OPEN
sleep 1.5 # time for the door to move and an event to come, which must not happen
[ "$(sub garage/garage/main/state 1 3)" = closed ] || fail "an unsigned HA command moved the door with commands = off"
grep -q '"actor":"homeassistant"' "$T/watch.log" && fail "garaged heard ha_cmd with commands = off"
pass "discovery retained on homeassistant/cover/garage/main/config and republished on HA's birth; ha_cmd not even heard with commands = off"

# 2. commands = unsigned: a command topic, and HA's plain words move the door.
start "" "[homeassistant]" "commands = unsigned"
await '^homeassistant/cover/garage/main/config .*"command_topic":"garage/garage/main/ha_cmd"' 5 \
	|| fail "discovery lacks the ha_cmd command topic with commands = unsigned"
AS=ha.local pub garage/garage/main/ha_cmd OPEN
await '"action":"open","actor":"homeassistant","result":"accepted"' 5 || fail "HA's OPEN not accepted"
await '^garage/garage/main/state open$' 5 || fail "HA's OPEN did not open the door"
AS=ha.local pub garage/garage/main/ha_cmd open
await '"actor":"homeassistant","result":"rejected","reason":"malformed"' 5 || fail "a lower-case 'open' is not refused as malformed"
AS=ha.local pub garage/garage/ghost/ha_cmd CLOSE
await '"actor":"homeassistant","result":"rejected","reason":"unknown_door"' 5 || fail "ha_cmd for an unknown door is not refused"
pass "commands = unsigned: command topic announced, OPEN accepted with actor homeassistant, bad words refused"

# 3. Travel timeout: a door that never reaches an end is stopped, with an event saying why.
SIM_TRAVEL_MS=20000 start "travel_time_s = 2"
cmd open
await '^garage/garage/main/state opening$' 3 || fail "no opening"
await '^garage/garage/main/state stopped$' 6 || fail "no 'stopped' after travel_time_s"
await '"type":"travel_timeout","door":"main"' 3 || fail "no travel_timeout event"
pass "travel timeout: stopped, with a travel_timeout event"

# 4. Auto-close: announced, then closed, with auto_close as the actor; never after a stop.
SIM_TRAVEL_MS=2000 start "auto_close_s = 3" "auto_close_warning_s = 2" "min_pulse_interval_ms = 300"
cmd open
await '^garage/garage/main/state open$' 5 || fail "no open"
await '"type":"auto_close","door":"main"' 5 || fail "no auto_close warning event"
await '"action":"close","actor":"auto_close","result":"accepted"' 5 || fail "auto-close did not press"
await '"door":"main","from":"closing","to":"closed"' 6 || fail "auto-close did not end closed"
warn_line=$(grep -n '"type":"auto_close"' "$T/watch.log" | head -1 | cut -d: -f1)
close_line=$(grep -n '"actor":"auto_close"' "$T/watch.log" | head -1 | cut -d: -f1)
[ "$warn_line" -lt "$close_line" ] || fail "the auto_close warning came after the close"
: >"$T/watch.log"
cmd open
await '^garage/garage/main/state opening$' 3 || fail "no opening (2)"
sleep 0.5 # on its way, and past min_pulse_interval_ms (300) for the stop's press
cmd stop
await '^garage/garage/main/state stopped$' 3 || fail "stop did not stop the door"
sleep 4.5 # past auto_close_s (3) and its warning: time for an auto-close that must not come
grep -q '"actor":"auto_close"' "$T/watch.log" && fail "auto-close closed a door that was stopped on its way"
pass "auto-close: warned, then closed; a stopped door is left alone"

# 5. Two doors, each with its own topics and timers.
start "" "[door.side]" "backend = sim" "sim_travel_ms = 800" "relay_pulse_ms = 100" "sim_log = $T/side.log"
await '^garage/garage/side/state closed$' 5 || fail "door side has no state"
await '^homeassistant/cover/garage/side/config ' 5 || fail "door side has no discovery"
main_edges=$(relay_edges)
cmd open side
await '^garage/garage/side/state open$' 5 || fail "side did not open"
[ "$(sub garage/garage/main/state 1 3)" = closed ] || fail "opening side moved main"
[ "$(relay_edges)" = "$main_edges" ] || fail "main's relay moved"
[ "$(relay_edges "$T/side.log")" = 1 ] || fail "side's relay pressed $(relay_edges "$T/side.log") times, want 1"
pass "two doors side by side"

# 6. Broker restart: garaged reconnects and republishes, and no transition is invented.
states=$(count '"type":"state"')
# garaged.log holds every start's connection above: what counts is one more than now.
conns=$(count "connected to localhost:$PORT over TLS" "$T/garaged.log")
losses=$(count 'lost the connection|no answer from' "$T/garaged.log")
stop_broker
# garaged has seen the broker go before it comes back: a reconnect, not a connection that held.
await_count 'lost the connection|no answer from' $((losses + 1)) 10 "$T/garaged.log" ||
	fail "garaged did not notice the broker stop within 10 s"
start_broker localhost "$PORT"
WATCH_APPEND=1 watch
await_count "connected to localhost:$PORT over TLS" $((conns + 1)) 15 "$T/garaged.log" ||
	fail "garaged did not reconnect within 15 s"
[ "$(sub garage/garage/availability 1 3)" = online ] || fail "not online after the broker restart"
[ "$(sub garage/garage/side/state 1 3)" = open ] || fail "side's state not republished after the broker restart"
[ "$(count '"type":"state"')" = "$states" ] || fail "a reconnect invented a transition"
pass "broker restart: reconnected, state republished, no invented transition"
