#!/bin/bash
# Two brokers (issue 19): garaged given both, in order of preference, is online on the first;
# with the first killed it is online on the second within 15 s (an event names the broker, and
# its availability and state are retained there); while the first stays down it stays where it
# is (the probes of the first fail; no reconnects); with the first back it returns there within
# two probe intervals and publishes its retained state again. A bad host line names FILE:LINE.
# Each broker is checked against its own host line: the first is named by its address
# (127.0.0.1, in its certificate), the second by a name (localhost), and the second's
# certificate names only localhost.
source "$(dirname "$0")/../../scripts/testbed.sh"
make_pki
issue ca localhost server localhost-only "DNS:localhost"
start_broker
PORT_A=$PORT
A=127.0.0.1
start_broker2 localhost-only
PORT_B=$PORT2
FAILBACK=3

# The configuration first: a host line garaged cannot use is refused at its line.
HOSTS="localhost:$PORT_A localhost:$PORT_B localhost:notaport" write_conf
expect_exit 1 run_garaged -c "$T/garaged.conf" --check-config
grep -q "garaged.conf:$(line_of '^host = localhost:notaport' "$T/garaged.conf"): host must be NAME or NAME:PORT" "$T/err" "$T/out" ||
	fail "a bad host line is not named at its FILE:LINE: $(cat "$T/err" "$T/out")"
HOSTS="a:1 b:2 c:3 d:4 e:5" write_conf
expect_exit 1 run_garaged -c "$T/garaged.conf" --check-config
grep -q "garaged.conf:$(line_of '^host = e:5' "$T/garaged.conf"): more than 4 hosts" "$T/err" "$T/out" ||
	fail "a fifth host is not refused at its line: $(cat "$T/err" "$T/out")"
pass "a bad host line and a fifth host are refused at FILE:LINE"

HOSTS="$A:$PORT_A localhost:$PORT_B" MQTT_EXTRA="failback_s = $FAILBACK" write_conf
keypair owner
echo "ed25519 $PUB_B64 owner" >"$T/authorized_keys"
run_garaged -c "$T/garaged.conf" --check-config >"$T/cc.out" 2>&1 || fail "--check-config refuses two hosts: $(cat "$T/cc.out")"
start_garaged
await "event .*\"type\":\"broker\",\"host\":\"$A\",\"port\":$PORT_A,\"preference\":1,\"of\":2" 15 "$T/garaged.log" ||
	fail "no broker event for the first broker"
PORT=$PORT_A online 10 || fail "not online on the first broker"
pass "online on the preferred broker, and the event says which"

# garagectl takes the same list (below); an owner's `status --watch`, started now on the first
# broker, must follow the device to the second.
write_ctl_conf "$T/ctl.conf" "$T/owner.ed.key" owner
sed -i "s/^host = localhost\$/host = $A:$PORT_A\nhost = localhost:$PORT_B/" "$T/ctl.conf"
"$GARAGECTL" -c "$T/ctl.conf" status --watch >"$T/watch.out" 2>"$T/watch.err" &
WATCH_PID=$!
PIDS+=("$WATCH_PID")
await 'main: closed' 10 "$T/watch.out" || fail "status --watch showed no state: $(cat "$T/watch.out" "$T/watch.err")"

# The first broker dies (SIGKILL: no goodbye to anyone).
PORT=$PORT_B watch
kill -KILL "$BROKER_PID"
wait "$BROKER_PID" 2>/dev/null
t0=$SECONDS
await "^garage/garage/events .*\"type\":\"broker\",\"host\":\"localhost\",\"port\":$PORT_B,\"preference\":2" 15 ||
	fail "no broker event on the second broker within 15 s of killing the first"
echo "online on the second broker $((SECONDS - t0)) s after the first was killed"
await '^garage/garage/availability online$' 5 || fail "no 'online' on the second broker"
[ "$(PORT=$PORT_B sub garage/garage/availability 1 3)" = online ] || fail "availability is not retained on the second broker"
[ "$(PORT=$PORT_B sub garage/garage/main/state 1 3)" = closed ] || fail "the door's state is not retained on the second broker"
pass "on the second broker within 15 s: event, availability and state retained there"

# The first broker's will, late: a bridge would bring it here after garaged said "online"
# (docs/brokers.md). garaged, connected, says "online" again.
PORT=$PORT_B AS=garage.local pub garage/garage/availability offline -r || fail "cannot publish the stale will"
await_count '^garage/garage/availability online$' 2 5 || fail "garaged did not correct a stale 'offline' on its availability"
[ "$(PORT=$PORT_B sub garage/garage/availability 1 3)" = online ] || fail "availability is not 'online' again"
pass "a stale 'offline' (a late will) is corrected to 'online' while connected"

# garagectl takes the same list: the first broker is down, so its one-shot connection goes to
# the second, and stderr says so.
expect_exit 0 timeout 20 "$GARAGECTL" -c "$T/ctl.conf" status
grep -q "main.*closed" "$T/out" || fail "garagectl status on the second broker: $(cat "$T/out")"
grep -q "cannot connect to $A:$PORT_A" "$T/err" || fail "garagectl does not say the first broker failed: $(cat "$T/err")"
grep -q "trying broker 2 of 2, localhost:$PORT_B" "$T/err" || fail "garagectl does not say it tries the second: $(cat "$T/err")"
pass "garagectl status with the same list: the first broker down, the answer from the second"

# The watch lost the first broker and went on with the second: a command there shows.
PORT=$PORT_B pub garage/garage/main/cmd "$(sign owner garage main open "$(date +%s)" "$(nonce)" owner)"
await 'main: open' 15 "$T/watch.out" ||
	fail "status --watch did not follow the device to the second broker: $(tail -3 "$T/watch.err")"
grep -q "trying broker 2 of 2, localhost:$PORT_B" "$T/watch.err" || fail "the watch does not say it tries the second: $(cat "$T/watch.err")"
# Closed again, as the rest of this test expects it: the watch shows that too.
sleep 1.2 # min_pulse_interval_ms (1000) after the open's press, which "open" may not outlast
n=$(nonce)
PORT=$PORT_B pub garage/garage/main/cmd "$(sign owner garage main close "$(date +%s)" "$n" owner)"
await "\"nonce\":\"$n\",\"result\":\"accepted\"" 10 "$T/garaged.log" ||
	fail "the close on the second broker was not accepted: $(grep "$n" "$T/garaged.log")"
await_count 'main: closed' 2 15 "$T/watch.out" ||
	fail "status --watch did not show the door closed again: $(cat "$T/watch.out"; tail -3 "$T/watch.err")"
kill -0 "$WATCH_PID" 2>/dev/null || fail "status --watch ended"
pass "status --watch follows the device from the lost broker to the second"

# No flapping: the first stays down for four probe intervals; garaged probes it (and fails)
# but never leaves the second, nor connects anew.
connects=$(count 'connected to [a-z0-9.]+:[0-9]+ over TLS' "$T/garaged.log")
probes=$(count "failback: $A:$PORT_A is not back" "$T/garaged.log")
sleep $((4 * FAILBACK))
[ "$(count 'connected to [a-z0-9.]+:[0-9]+ over TLS' "$T/garaged.log")" = "$connects" ] ||
	fail "garaged connected again while the first broker was down: $(grep 'connected to' "$T/garaged.log" | tail -3)"
n=$(count "failback: $A:$PORT_A is not back" "$T/garaged.log")
[ "$n" -ge $((probes + 2)) ] || fail "only $((n - probes)) probes of the first broker in $((4 * FAILBACK)) s"
# Bounded: failback_s +-25% apart, so at most 4 * FAILBACK / (0.75 * FAILBACK) + 1 of them.
[ "$n" -le $((probes + 6)) ] || fail "$((n - probes)) probes of the first broker in $((4 * FAILBACK)) s: more than the interval allows"
pass "no reconnect in $((4 * FAILBACK)) s with the first broker down; $((n - probes)) probes of it"

# The first broker comes back (empty: no persistence): garaged returns and publishes again.
on_a="event .*\"type\":\"broker\",\"host\":\"$A\",\"port\":$PORT_A,\"preference\":1"
n=$(count "$on_a" "$T/garaged.log")
PORT=$PORT_A run_broker
t0=$SECONDS
# failback_s +-25%, twice (a probe may have failed just before the broker listened), and 5 s.
await_count "$on_a" $((n + 1)) $((2 * FAILBACK + 5)) "$T/garaged.log" ||
	fail "garaged did not return to the first broker within $((2 * FAILBACK + 5)) s"
echo "back on the first broker $((SECONDS - t0)) s after it came back"
PORT=$PORT_A online 5 || fail "not online on the first broker after the failback"
[ "$(PORT=$PORT_A sub garage/garage/main/state 1 3)" = closed ] || fail "the state was not published again on the first broker"
grep -q "failback: $A:$PORT_A answers again" "$T/garaged.log" || fail "the failback was not said in the log"
kill -0 "$GARAGED_PID" || fail "garaged died"
net_half >/dev/null || fail "no network half"
grep -q 'SIGSYS\|killed by signal' "$T/garaged.log" && fail "a network half was killed: $(grep -m1 'SIGSYS\|killed by signal' "$T/garaged.log")"
pass "back on the first broker, availability and state published there again"

# A controller on the first broker opens the door.
PORT=$PORT_A watch
ts=$(date +%s)
PORT=$PORT_A pub garage/garage/main/cmd "$(sign owner garage main open "$ts" "$(nonce)" owner)"
await '^garage/garage/events .*"type":"command".*"result":"accepted"' 10 || fail "a command on the first broker was not accepted after the failback"
pass "a signed command on the first broker opens the door after the failback"
