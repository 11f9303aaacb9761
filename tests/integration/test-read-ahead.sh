#!/bin/bash
# TLS read-ahead (issue 18) must never strand a command in OpenSSL's buffer. The network half
# reads a burst of at most MQTT_READ_BURST packets per wake-up; with read-ahead, what OpenSSL
# has already taken off the socket beyond that burst is invisible to ppoll. A valid command
# at the end of a burst of forgeries, with nothing after it, must still be obeyed at once, not
# at the next keepalive (60 s here). test-attack-readahead-stall.sh is the sharper check.
source "$(dirname "$0")/../../scripts/testbed.sh"
make_pki
start_broker
keypair alice
KEEPALIVE=60 write_conf
echo "ed25519 $PUB_B64 alice" >"$T/authorized_keys"
start_garaged
garaged_subscribed || fail "garaged did not subscribe"
for round in 1 2 3; do
	# Forgeries (a random signature: refused cheaply) and then one valid command, in one go.
	forgeries 5000 1 open alice
	n=$(nonce)
	{ cat "$T/forged.0"; sign alice garage main open "$(date +%s)" "$n" alice; echo; } >"$T/burst"
	mosquitto_pub -h localhost -p "$PORT" --cafile "$T/pki/ca.crt" --cert "$T/pki/ctl.local.crt" \
		--key "$T/pki/ctl.local.key" -t garage/garage/main/cmd -q 0 -l <"$T/burst" ||
		fail "publishing the burst"
	# The device's log: under a flood the events beyond the outgoing queue are counted, not
	# published, so the broker may never carry this one.
	await "\"nonce\":\"$n\",\"result\":\"accepted\"" 15 "$T/garaged.log" ||
		fail "round $round: the valid command after 5000 forgeries was not accepted within 15 s ($(count '"reason":"bad_signature"' "$T/garaged.log") refusals logged so far)"
	# Closed again for the next round: a signed close, alone, once the door is open.
	await_count '"to":"open"' "$round" 30 "$T/garaged.log" || fail "round $round: the door did not open"
	pub garage/garage/main/cmd "$(sign alice garage main close "$(date +%s)" "$(nonce)" alice)"
	await_count '"to":"closed"' "$round" 30 "$T/garaged.log" || fail "round $round: the door did not close"
done
pass "a valid command at the end of 5000 forgeries is obeyed at once, three times (read-ahead drained)"
