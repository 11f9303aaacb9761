#!/bin/bash
# Signed commands end to end against a real broker: only a fresh, unseen command signed by an
# authorized key, bound to this device and door and allowed for that key, moves the door; every
# other message is refused with SPEC's reason in an event and no relay edge, and garaged stays up.
source "$(dirname "$0")/../../scripts/testbed.sh"
make_pki
start_broker
keypair alice; ALICE=$PUB_B64
keypair bob; BOB=$PUB_B64
keypair mallory
write_conf "min_pulse_interval_ms = 300" "" "[door.side]" "backend = sim" "sim_travel_ms = 1500" \
	"relay_pulse_ms = 100" "min_pulse_interval_ms = 300" "sim_log = $T/side.log"
printf '# owners\ned25519 %s alice\ned25519 %s bob actions=close,stop doors=main\n' "$ALICE" "$BOB" >"$T/authorized_keys"
watch
now() { date +%s; }
cmd() { sign "${4:-alice}" garage "${2:-main}" "$1" "${3:-$(now)}" "$(nonce)" "${4:-alice}"; }

# A retained command waiting on the broker arrives with the retain flag when garaged subscribes.
pub garage/garage/main/cmd "$(cmd open)" -r
T0=$(date +%s)
start_garaged
await '^garage/garage/main/state closed$' 10 || fail "garaged did not come up"
await '"reason":"retained"' 5 || fail "a retained command was not refused as 'retained'"
# Clear it. Refused as malformed (an empty payload), after the retained one: by then that one
# has had every chance to move the relay.
pub_await '"reason":"malformed"' 5 "$T/watch.log" garage/garage/main/cmd "" -r ||
	fail "clearing the retained command: no 'malformed' event for the empty payload"
[ "$(relay_edges)" = 0 ] || fail "the relay moved for a retained command"
pass "a retained command is refused at subscription and moves nothing"

# expect_event REASON PAYLOAD [TOPIC]: the payload is refused with REASON and no relay edge.
expect_reject() {
	local reason=$1 payload=$2 topic=${3:-garage/garage/main/cmd} c0 e0 e1
	c0=$(count "\"reason\":\"$reason\"")
	e0=$(( $(relay_edges) + $(relay_edges "$T/side.log") ))
	pub "$topic" "$payload"
	await_count "\"reason\":\"$reason\"" $((c0 + 1)) 5 || fail "no '$reason' event for: ${payload:0:100}"
	sleep 0.3 # time for a relay edge that should not come
	e1=$(( $(relay_edges) + $(relay_edges "$T/side.log") ))
	[ "$e0" = "$e1" ] || fail "the relay moved for a '$reason' command: ${payload:0:100}"
	kill -0 "$GARAGED_PID" 2>/dev/null || fail "garaged died on: ${payload:0:100}"
}

# A valid open.
C=$(cmd open)
pub garage/garage/main/cmd "$C"
await '"result":"accepted"' 5 || fail "a valid signed open was not accepted"
grep -q '"type":"command","door":"main","action":"open","kid":"alice".*"result":"accepted","presses":1' "$T/watch.log" \
	|| fail "the accepted event lacks door, action, kid or presses: $(grep accepted "$T/watch.log")"
CN=$(echo "$C" | sed 's/.*"nonce":"\([^"]*\)".*/\1/')
grep -q "\"nonce\":\"$CN\",\"result\":\"accepted\"" "$T/watch.log" || fail "the accepted event does not carry the command's nonce $CN"
await '^garage/garage/main/state opening$' 3 || fail "no 'opening'"
await '^garage/garage/main/state open$' 5 || fail "no 'open'"
await '"type":"state","door":"main","from":"opening","to":"open"' 3 || fail "no state event opening -> open"
[ "$(relay_edges)" = 1 ] || fail "want exactly 1 relay press, sim_log has $(relay_edges)"
grep -Eq '^[0-9]{19} relay off$' "$T/sim.log" || fail "the relay was not released: $(cat "$T/sim.log")"
pass "a valid open: accepted, 1 press, opening -> open, state events"

# The hostile table: each refused with its reason, no relay edge, garaged still up.
N=$(nonce)
expect_reject replay "$C"
expect_reject bad_signature "$(echo "$C" | sed 's/"action":"open"/"action":"close"/; s/"nonce":"[^"]*"/"nonce":"'"$N"'"/')"
expect_reject bad_signature "$(sign alice otherdevice main close "$(now)" "$(nonce)" alice)"
expect_reject bad_signature "$(sign mallory garage main close "$(now)" "$(nonce)" alice)"
expect_reject unknown_key "$(sign mallory garage main close "$(now)" "$(nonce)" mallory)"
expect_reject forbidden "$(cmd open main "" bob)"
expect_reject forbidden "$(cmd close side "" bob)" garage/garage/side/cmd
expect_reject stale "$(cmd close main $(( $(now) - 300 )))"
expect_reject future "$(cmd close main $(( $(now) + 300 )))"
expect_reject stale "$(cmd close main $(( T0 - 5 )))"   # within clock_skew, but before the start
expect_reject unknown_door "$(cmd open ghost)" garage/garage/ghost/cmd
expect_reject malformed "$(cmd open side)"   # signed for side, sent on main's topic
expect_reject malformed "OPEN"
expect_reject malformed '[]'
expect_reject malformed "$(cmd close | sed 's/}$/,"extra":1}/')"
expect_reject malformed "$(cmd close | sed 's/^{/{"v":1,/')"
expect_reject malformed "$(cmd close | sed 's/"v":1/"v":"1"/')"
expect_reject malformed "$(cmd close | sed 's/"v":1/"v":2/')"
expect_reject malformed "$(cmd close | sed 's/"ts":\([0-9]*\)/"ts":"\1"/')"
expect_reject malformed "$(cmd close | sed 's/"ts":\([0-9]*\)/"ts":\1.0/')"
expect_reject malformed "$(cmd close | sed 's/"kid":"alice"/"kid":"al\\u0069ce"/')"
expect_reject malformed "$(cmd close) "
expect_reject malformed "$(cmd close | sed 's/"nonce":"[^"]*"/"nonce":"c2hvcnQ"/')"
expect_reject too_large "{\"v\":1,\"door\":\"main\",\"pad\":\"$(head -c 700 /dev/zero | tr '\0' a)\"}"
pass "25 hostile commands refused with the right reason, no relay edge, garaged up"

# A close when already closing or closed presses nothing; the door ends closed.
nc=$(count '"door":"main","from":"closing","to":"closed"')
pub garage/garage/main/cmd "$(cmd close main "" bob)"
await_count '"door":"main","from":"closing","to":"closed"' $((nc + 1)) 8 || fail "bob's close did not close the door"
n=$(relay_edges)
pub garage/garage/main/cmd "$(cmd close)"
await '"action":"close","kid":"alice".*"presses":0' 5 || fail "a close on a closed door is not accepted with 0 presses"
[ "$(relay_edges)" = "$n" ] || fail "a close on a closed door pressed the relay"
pass "close on a closed door: accepted, no press"

# A door moving the wrong way takes two presses (stop, reverse); stop stops a moving one.
pub garage/garage/side/cmd "$(cmd open side)"
await '^garage/garage/side/state opening$' 3 || fail "side did not start opening"
sleep 0.4 # on its way, and past side's min_pulse_interval_ms (300) for the next press
pub garage/garage/side/cmd "$(cmd close side)"
await '"door":"side","action":"close".*"presses":2' 5 || fail "close on an opening door is not 2 presses"
await '^garage/garage/side/state closing$' 5 || fail "side did not turn round"
await '"door":"side","from":"closing","to":"closed"' 5 || fail "side did not end closed"
[ "$(relay_edges "$T/side.log")" = 3 ] || fail "want 3 presses on side, got $(relay_edges "$T/side.log")"
pass "close while opening: two presses (stop, reverse), ends closed"

# Rate limit: a press within min_pulse_interval_ms of the last is refused.
opened=$(count '"door":"side","from":"opening","to":"open"')
pub garage/garage/side/cmd "$(cmd toggle side)"; pub garage/garage/side/cmd "$(cmd toggle side)"
await '"reason":"rate_limited"' 5 || fail "two presses within min_pulse_interval_ms: no rate_limited"
pass "rate_limited within min_pulse_interval_ms"

# SIGHUP: revoke alice; a bad file keeps the keys loaded before. First the side door comes to
# rest from the toggle above: a press of its own would read as one for a refused command.
await_count '"door":"side","from":"opening","to":"open"' $((opened + 1)) 5 || fail "side did not open on the toggle"
printf 'ed25519 %s bob\n' "$BOB" >"$T/authorized_keys"
n=$(count 'authorized key\(s\) from' "$T/garaged.log")
kill -HUP "$GARAGED_PID"
await_count 'authorized key\(s\) from' $((n + 1)) 5 "$T/garaged.log" || fail "SIGHUP did not reload authorized_keys within 5 s"
expect_reject unknown_key "$(cmd toggle)"
printf 'ed25519 notbase64 carol\n' >"$T/authorized_keys"
kill -HUP "$GARAGED_PID"
await "authorized_keys:1: .*keeping the 1 key" 5 "$T/garaged.log" || fail "a bad authorized_keys on reload is not reported with FILE:LINE"
c0=$(count '"kid":"bob",.*"result":"accepted"')
pub garage/garage/main/cmd "$(cmd toggle main "" bob)"
await_count '"kid":"bob",.*"result":"accepted"' $((c0 + 1)) 5 || fail "bob's key was lost with the bad reload"
pass "SIGHUP revokes a key; a bad file on reload keeps the old keys"
