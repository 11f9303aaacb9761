#!/bin/bash
# The published state under a flood (docs/security.md "Floods"): forged commands (an unknown key:
# the cheapest refusal, so that the door half answers each as fast as it can and the channel to
# the network half is as full as a flood can make it) pour in through the real broker while valid toggles move the simulated door again and again. However busy the
# channel between the two halves gets, the door's latest state always gets out: after the flood
# and the door's last move, the retained state on the broker is the door's real state (the last
# state event in garaged's log, and the simulator's last relay edge agrees), without waiting for
# a reconnect. And the log is not flooded in turn: a message that could not go out is counted
# and summarised, never one warning line each.
source "$(dirname "$0")/../../scripts/testbed.sh"
FORGED=108000 # three publishers of 36,000 each, for about 12 s
PUBLISHERS=3
RATE=3000 # per publisher and second
TOGGLES=20
WARN_MAX=40 # warning lines of garaged's over the whole flood; one per dropped message was thousands

make_pki
# The broker's own per-client queue is not under test here (test-flood.sh): lift it, so that
# every valid toggle reaches garaged and the door moves during the flood.
start_broker
stop_broker
echo "max_queued_messages 0" >>"$T/mosquitto.conf"
run_broker

keypair alice
RELAY_PULSE_MS=50 SIM_TRAVEL_MS=200 write_conf "min_pulse_interval_ms = 0"
sed -i 's|^authorized_keys = .*|&\nclock_skew = 300|' "$T/garaged.conf"
echo "ed25519 $PUB_B64 alice" >"$T/authorized_keys"
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=4
start_garaged
online 15 || fail "garaged did not come online within 15 s"
[ "$(sub garage/garage/main/state 1 5)" = closed ] || fail "garaged did not publish its state 'closed'"

forgeries "$FORGED" "$PUBLISHERS" toggle mallory
warnings() { local n; n=$(grep -c ' warning: ' "$T/garaged.log"); echo "${n:-0}"; }
refused() { local n; n=$(grep -c '"reason":"unknown_key"' "$T/garaged.log"); echo "${n:-0}"; }
states() { local n; n=$(grep -c '"type":"state"' "$T/garaged.log"); echo "${n:-0}"; }
w0=$(warnings)
s0=$(states)
# The retained state as the broker has it, each time it changes. (A backgrounded `sub`, a shell
# function, was a subshell: ending its pid left mosquitto_sub running for its 600 s.)
sub_bg "$T/states.log" garage/garage/main/state 100000 600
await '^garage/garage/main/state closed$' 10 "$T/states.log" || fail "the state subscriber got no retained state within 10 s"
# The states published, in order, without the subscriber's debug lines.
publishes() { sed -n 's|^garage/garage/main/state ||p' "$T/states.log"; }

flood_pids=()
for i in $(seq 0 $((PUBLISHERS - 1))); do
	python3 "$(dirname "$0")/../../bench/pace.py" "$RATE" "$T/forged.$i" | mosquitto_pub -h localhost \
		-p "$PORT" --cafile "$T/pki/ca.crt" --cert "$T/pki/ctl.local.crt" --key "$T/pki/ctl.local.key" \
		-t garage/garage/main/cmd -q 0 -l &
	flood_pids+=("$!")
	PIDS+=("$!")
done
sleep 1 # the flood under way before the first toggle
# Toggles during the flood, each after the door came to rest from the last: closed, opening, open,
# closing, closed, ... While the flood goes on, the broker must get the door's resting state each
# time: it may skip a passing state (states are coalesced, the latest wins), never the last one.
last_state() { grep '"type":"state"' "$T/garaged.log" | tail -1 | sed 's/.*"to":"\([a-z]*\)".*/\1/'; }
published() { publishes | tail -1; }
moved=0
for i in $(seq "$TOGGLES"); do
	kill -0 "${flood_pids[0]}" 2>/dev/null || break
	pub garage/garage/main/cmd "$(sign alice garage main toggle "$(date +%s)" "$(nonce)" alice)" ||
		fail "cannot publish toggle $i"
	for _ in $(seq 200); do [ "$(states)" -ge $((s0 + 2 * i)) ] && break; sleep 0.1; done
	[ "$(states)" -ge $((s0 + 2 * i)) ] || fail "toggle $i did not move the door to its end within 20 s"
	real=$(last_state)
	for _ in $(seq 50); do [ "$(published)" = "$real" ] && break; sleep 0.1; done
	[ "$(published)" = "$real" ] ||
		fail "toggle $i: the door is $real, the broker holds '$(published)' ($(publishes | wc -l) states published for $(states) changes)"
	moved=$i
done
[ "$moved" -ge 3 ] || fail "only $moved toggles were made before the flood ended: the door hardly moved during it"
pass "during the flood, the broker had the door's state after each of $moved moves"
for p in "${flood_pids[@]}"; do
	for _ in $(seq 300); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$p" 2>/dev/null && fail "a publisher of the flood did not finish within 30 s"
done
await_count '"reason":"unknown_key"' "$FORGED" 60 "$T/garaged.log" ||
	fail "$(refused) of $FORGED forged commands refused within 60 s"
[ "$(refused)" = "$FORGED" ] || fail "$(refused) of $FORGED forged commands refused"
# The door's last move: the last toggle's travel is over when its state events stop coming.
rest=
for _ in $(seq 100); do s=$(states); sleep 1; [ "$(states)" = "$s" ] && rest=1 && break; done
[ -n "$rest" ] || fail "state events kept coming for 100 s after the flood"
real=$(grep '"type":"state"' "$T/garaged.log" | tail -1 | sed 's/.*"to":"\([a-z]*\)".*/\1/')
case $real in open | closed) ;; *) fail "the door did not come to rest: last state $real" ;; esac
# The simulator agrees: an odd number of presses leaves the door open.
[ $(( $(relay_edges) % 2 )) = $([ "$real" = open ] && echo 1 || echo 0) ] ||
	fail "garaged says $real after $(relay_edges) presses of the simulated relay"
echo "  $moved toggles during the flood, $(states) state changes, $(publishes | wc -l) states published, the door is $real"
retained=
for _ in $(seq 10); do
	retained=$(sub garage/garage/main/state 1 2)
	[ "$retained" = "$real" ] && break
	sleep 0.5
done
[ "$retained" = "$real" ] ||
	fail "the broker holds state '$retained' for the door, which is $real ($(publishes | wc -l) states published for $(states) changes)"
pass "after the flood the retained state is the door's real state ($real)"

w=$(( $(warnings) - w0 ))
echo "  $w warning lines in garaged's log during the flood"
grep ' warning: ' "$T/garaged.log" | sed 's/^[^ ]* //' | sort | uniq -c | sort -rn | head -5 | sed 's/^/    /'
[ "$w" -le $WARN_MAX ] || fail "$w warning lines in the flood (at most $WARN_MAX): one per dropped message?"
# Events that could not go out are counted: each warning that says so is followed by an
# "events_dropped" event with the count, sent once there is room again.
if grep -q 'dropping and counting\|events are counted and dropped' "$T/garaged.log"; then
	await '"type":"events_dropped"' 15 "$T/garaged.log" || fail "events were dropped and their count never reported"
	echo "  $(grep -c '"type":"events_dropped"' "$T/garaged.log") events_dropped events, counting $(grep -o '"message":"[0-9]* events' "$T/garaged.log" | grep -o '[0-9]*' | awk "{ s += \$1 } END { print s + 0 }") events"
fi
kill -0 "$GARAGED_PID" 2>/dev/null || fail "garaged died in the flood"
pass "the log summarises instead of warning once per dropped message ($w warning lines)"
