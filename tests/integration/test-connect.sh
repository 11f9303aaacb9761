#!/bin/bash
# garaged connects out to a real Mosquitto over mutual TLS, announces itself online (retained),
# publishes each door's state as its sensors read at start (retained), subscribes to its command
# topics, listens on no port, and a malformed command moves nothing.
source "$(dirname "$0")/../../scripts/testbed.sh"
make_pki
start_broker
write_conf "sim_start = open" "" "[door.side]" "backend = sim" "sim_log = $T/side.log"
run_garaged -c "$T/garaged.conf" --check-config >"$T/cc.out" 2>&1 || fail "--check-config refuses a valid config: $(cat "$T/cc.out")"
watch
start_garaged
await '^garage/garage/availability online$' 10 || fail "no 'online' on the availability topic"
await '^garage/garage/main/state open$' 5 || fail "door main (sim_start = open) is not 'open'"
await '^garage/garage/side/state closed$' 5 || fail "door side (sim_start default) is not 'closed'"
pass "online and both doors' states published"

# Retained: a client that arrives later still learns the truth.
[ "$(sub garage/garage/availability 1 3)" = online ] || fail "availability is not retained"
[ "$(sub garage/garage/main/state 1 3)" = open ] || fail "main's state is not retained"
[ "$(sub garage/garage/side/state 1 3)" = closed ] || fail "side's state is not retained"
pass "availability and states are retained"

# No listening socket of any kind: all traffic is the one outbound connection, which the
# network half (the door half's child) holds.
NET=$(net_half) || fail "no network half"
pids="pid=($GARAGED_PID|$NET),"
ss -lntupH | grep -Eq "$pids" && fail "garaged listens: $(ss -lntupH | grep -E "$pids")"
n=$(ss -tnpH state established | grep -Ec "$pids")
[ "$n" = 1 ] || fail "garaged has $n TCP connections, want exactly 1"
pass "no listening socket, one outbound connection"

# Subscribed: the broker delivers a command, garaged refuses it aloud and moves nothing.
pub garage/garage/main/cmd '{"v":1}'
await '^garage/garage/events .*"reason":"malformed"' 5 || fail "no 'malformed' event for a bad command"
[ -s "$T/sim.log" ] && fail "the relay moved for a malformed command: $(cat "$T/sim.log")"
kill -0 "$GARAGED_PID" || fail "garaged died"
pass "commands are received; a malformed one is refused with an event and moves nothing"
