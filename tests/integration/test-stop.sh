#!/bin/bash
# SIGTERM and SIGINT: garaged publishes a retained 'offline', leaves the relay released and exits
# 0. A garaged that dies without a goodbye is announced 'offline' by the broker (the last will).
source "$(dirname "$0")/../../scripts/testbed.sh"
make_pki
start_broker
write_conf
for sig in TERM INT; do
	: >"$T/watch.log"
	watch
	start_garaged
	await '^garage/garage/availability online$' 10 || fail "no 'online'"
	kill -"$sig" "$GARAGED_PID"
	wait "$GARAGED_PID"; rc=$?
	[ $rc -eq 0 ] || fail "exit code $rc after SIG$sig, want 0"
	await '^garage/garage/availability offline$' 5 || fail "no 'offline' published after SIG$sig"
	[ "$(sub garage/garage/availability 1 3)" = offline ] || fail "'offline' is not retained after SIG$sig"
	grep -q 'relay on' "$T/sim.log" 2>/dev/null && fail "the relay was energised"
	pass "SIG$sig: retained offline, exit 0, relay never energised"
done

# The last will: killed without a chance to say goodbye, the broker says it for us.
: >"$T/watch.log"
start_garaged
await '^garage/garage/availability online$' 10 || fail "no 'online' after restart"
kill -KILL "$GARAGED_PID"; wait "$GARAGED_PID" 2>/dev/null
await '^garage/garage/availability offline$' 5 || fail "no will 'offline' after SIGKILL"
pass "SIGKILL: the broker publishes the last will 'offline'"
