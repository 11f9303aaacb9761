#!/bin/bash
# A command the device accepted is never accepted again, across restarts too (issue 13, points
# 1 and 2): the replay window is in memory, so garaged keeps its live part (the nonces of
# accepted commands still inside the time window) and the latest time seen in [device]
# state_dir (state.c), and starts from them.
# 1. A toggle accepted, garaged restarted with its clock 10 s behind (a board without a
#    real-time clock): the capture is refused as a replay; the clock is not trusted until it
#    catches up (a warning says so), yet a fresh command is obeyed.
# 2. A toggle stamped 20 s in the future (a phone whose clock runs ahead), accepted, garaged
#    restarted within the skew, the same bytes again: refused as a replay, no second press; a
#    fresh command of the same second is obeyed.
# 3. A state file that garaged did not write, and a state_dir it cannot write: exit 1 at
#    start, naming the file and what to do.
source "$(dirname "$0")/../../scripts/testbed.sh"
make_pki
start_broker
keypair alice
SIM_TRAVEL_MS=300 write_conf "min_pulse_interval_ms = 0"
echo "ed25519 $PUB_B64 alice" >"$T/authorized_keys"
now() { date +%s; }
toggle() { sign alice garage main toggle "$1" "$(nonce)" alice; }

# restart [CLOCK_OFFSET_S]: SIGTERM, exit 0, start again (the test build's clock moved by the
# offset), and wait until it is online and subscribed.
restart() {
	stop_garaged
	[ "$GARAGED_RC" = 0 ] || fail "garaged exited $GARAGED_RC on SIGTERM"
	: >"$T/watch.log"
	GARAGED_TEST_CLOCK_OFFSET=${1:-0} start_garaged
	await '^garage/garage/availability online$' 10 || fail "garaged did not come back online"
	garaged_subscribed || fail "garaged did not subscribe within 10 s of its restart"
}

# send COMMAND: publishes it; RESTS is how many times the door had come to rest before (REST:
# a state event in garaged's log; a restart republishes the state, it makes no event).
REST='"type":"state","door":"main","from":"[a-z]+","to":"(open|closed)"'
send() {
	RESTS=$(count "$REST" "$T/garaged.log")
	pub garage/garage/main/cmd "$1"
}
# expect REASON NONCE: an event for that nonce with that result or reason, within 5 s.
expect() {
	await "\"nonce\":\"$2\",\"result\":(\"$1\"|\"rejected\",\"reason\":\"$1\")" 5 ||
		fail "no '$1' for nonce $2: $(grep "$2" "$T/watch.log")"
	# A door still moving refuses the next press as rate_limited: let it arrive.
	[ "$1" != accepted ] || await_count "$REST" $((RESTS + 1)) 5 "$T/garaged.log" ||
		fail "the door did not come to rest within 5 s of the command with nonce $2"
}
nonce_of() { echo "$1" | sed 's/.*"nonce":"\([^"]*\)".*/\1/'; }

watch
start_garaged
await '^garage/garage/availability online$' 10 || fail "garaged did not come online"
garaged_subscribed || fail "garaged did not subscribe within 10 s"

# 1. Accepted, then a restart with the clock 10 s behind (a board without a real-time clock):
# the capture is refused, and a fresh command is judged by the latest time seen, not by the
# clock set back.
C=$(toggle "$(now)")
send "$C"
expect accepted "$(nonce_of "$C")"
[ -f "$T/state/verifier" ] || fail "no state file in state_dir after an accepted command"
restart -10
grep -Eq 'the clock is ([89]|1[0-2]) s behind the latest time seen' "$T/garaged.log" ||
	fail "no warning that the clock is behind: $(grep -i clock "$T/garaged.log" | tail -2)"
pub garage/garage/main/cmd "$C"
expect replay "$(nonce_of "$C")"
sleep 0.3 # time for a relay edge that should not come
[ "$(relay_edges)" = 1 ] || fail "want 1 relay press, sim_log has $(relay_edges)"
pass "with the clock set back 10 s, a command accepted before the restart is refused"
F=$(toggle $(($(now) + 2)))
send "$F"
expect accepted "$(nonce_of "$F")"
pass "a fresh command is judged by the latest time seen, not by the clock set back: accepted"

# 2. Stamped 20 s in the future, accepted, replayed after a restart: a replay. Another command,
# stamped now, is obeyed: only the nonces accepted are remembered.
C=$(toggle $(($(now) + 20)))
send "$C"
expect accepted "$(nonce_of "$C")"
restart
pub garage/garage/main/cmd "$C"
expect replay "$(nonce_of "$C")"
F=$(toggle "$(now)")
send "$F"
expect accepted "$(nonce_of "$F")"
[ "$(relay_edges)" = 4 ] || fail "want 4 relay presses, sim_log has $(relay_edges)"
grep -q "^nonce [0-9]* $(nonce_of "$C")\$" "$T/state/verifier" ||
	fail "the state file does not hold the accepted nonce: $(cat "$T/state/verifier")"
pass "a future-stamped command, accepted, is a replay after a restart; a fresh one of the same second is obeyed"

# 3. A state garaged did not write, a state_dir it cannot write: exit 1, naming what to do.
stop_garaged
printf 'latest 1\nnonce 5 x\n' >"$T/state/verifier"
out=$(run_garaged -c "$T/garaged.conf" -f 2>&1)
rc=$?
[ "$rc" = 1 ] || fail "garaged exited $rc with a state file it did not write, want 1"
echo "$out" | grep -q "$T/state/verifier:2: not a line garaged wrote.*remove the file to start afresh" ||
	fail "the message does not name FILE:LINE and what to do: $out"
pass "a state file garaged did not write: exit 1 ($(echo "$out" | grep -o 'verifier:2: [^;]*'))"
sed -i "s|^state_dir = .*|state_dir = /proc/garaged-state|" "$T/garaged.conf"
out=$(run_garaged -c "$T/garaged.conf" -f 2>&1)
rc=$?
[ "$rc" = 1 ] || fail "garaged exited $rc with a state_dir it cannot make, want 1"
echo "$out" | grep -q "state_dir /proc/garaged-state: cannot create it" ||
	fail "the message does not name state_dir: $out"
pass "a state_dir that cannot be made: exit 1 ($(echo "$out" | grep -o 'state_dir /proc[^;]*'))"
