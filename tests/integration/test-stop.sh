#!/bin/bash
# SIGTERM and SIGINT: garaged publishes a retained 'offline', leaves the relay released and exits
# 0. The signal comes in the middle of a relay pulse (a signed command, a 10 s pulse): the relay
# must be released at once, an edge in sim_log long before the pulse would have ended by itself.
# A garaged that dies without a goodbye is announced 'offline' by the broker (the last will).
source "$(dirname "$0")/../../scripts/testbed.sh"
PULSE_MS=10000 # the longest relay_pulse_ms garaged accepts
make_pki
start_broker
keypair alice
RELAY_PULSE_MS=$PULSE_MS write_conf
echo "ed25519 $PUB_B64 alice" >"$T/authorized_keys"
# edge_ms N on|off: the time in ms of the Nth such relay edge (sim_log's are in ns, real time).
edge_ms() { grep " relay $2\$" "$T/sim.log" | sed -n "$1p" | cut -d' ' -f1 | sed 's/......$//'; }
for sig in TERM INT; do
	: >"$T/watch.log"
	: >"$T/sim.log"
	# A first start each time: a restart refuses commands stamped in the second of the last one.
	rm -rf "$T/state"
	watch
	start_garaged
	await '^garage/garage/main/state closed$' 10 || fail "no state 'closed' after the start"
	# The second time round that 'closed' is the first run's, retained: wait for the subscription.
	garaged_subscribed || fail "garaged did not subscribe within 10 s of its start"
	pub garage/garage/main/cmd "$(sign alice garage main open "$(date +%s)" "$(nonce)" alice)" ||
		fail "cannot publish the command"
	await 'relay on' 10 "$T/sim.log" || fail "no relay edge for the command within 10 s"
	sleep 0.5 # into the pulse: a release at the signal is then well apart from the press
	sent=$(date +%s%3N)
	stop_garaged "$sig"
	[ "$GARAGED_RC" = 0 ] || fail "exit code $GARAGED_RC after SIG$sig, want 0"
	[ "$(relay_edges)" = 1 ] || fail "the relay was energised $(relay_edges) times, want 1"
	[ "$(tail -1 "$T/sim.log" | cut -d' ' -f2-)" = "relay off" ] ||
		fail "SIG$sig in the middle of a pulse left the relay energised: $(tr '\n' ';' <"$T/sim.log")"
	on=$(edge_ms 1 on)
	off=$(edge_ms 1 off)
	# The release came from the signal, not from the pulse's end: after the signal, and with most
	# of the pulse still to go (generous: a third of it).
	[ "$off" -ge "$((sent - 1000))" ] && [ $((off - on)) -lt $((PULSE_MS * 2 / 3)) ] ||
		fail "the relay was released $((off - on)) ms into a $PULSE_MS ms pulse, $((off - sent)) ms after SIG$sig"
	await '^garage/garage/availability offline$' 5 || fail "no 'offline' published after SIG$sig"
	[ "$(sub garage/garage/availability 1 3)" = offline ] || fail "'offline' is not retained after SIG$sig"
	pass "SIG$sig mid-pulse: relay released $((off - on)) ms into a $PULSE_MS ms pulse, retained offline, exit 0"
done

# The last will: killed without a chance to say goodbye, the broker says it for us.
: >"$T/watch.log"
start_garaged
await '^garage/garage/availability online$' 10 || fail "no 'online' after restart"
kill -KILL "$GARAGED_PID"; wait "$GARAGED_PID" 2>/dev/null
await '^garage/garage/availability offline$' 5 || fail "no will 'offline' after SIGKILL"
pass "SIGKILL: the broker publishes the last will 'offline'"
