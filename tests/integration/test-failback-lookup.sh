#!/bin/bash
# A failback probe must never stop the device hearing commands (issue 19's several brokers):
# while garaged is in a session with a lesser broker, it probes the preferred one every
# failback_s, and a preferred broker named "*.local" is first looked up by multicast DNS, which
# waits up to 2 s for an answer that, with that broker's host down, never comes. The network
# half is one thread: a lookup that blocks it holds every command that arrives meanwhile.
#
# Expected: a command published while a probe's lookup is under way is obeyed before that
# lookup gives up. Observed before the fix: obeyed only after "is not back: mDNS: no answer".
#
# Nothing leaves this run's own network namespace (unshare -n): an interface that can
# multicast (a veth pair, both ends in it: the query goes out, to nobody) and loopback, where
# the broker listens.
if [ -z "${GARAGED_TEST_NETNS:-}" ]; then
	# Before the testbed makes anything: the namespace's own run makes and removes it all.
	[ "$(id -u)" = 0 ] || { echo "SKIP: needs root for a network namespace"; exit 77; }
	command -v unshare >/dev/null || { echo "SKIP: unshare (util-linux) is not installed"; exit 77; }
	GARAGED_TEST_NETNS=1 exec unshare -n "$0" "$@"
fi
source "$(dirname "$0")/../../scripts/testbed.sh"
ip link set lo up || fail "lo up"
ip link add gflA type veth peer name gflB 2>/dev/null || skip "cannot create a veth pair here"
ip addr add 10.213.250.1/24 dev gflA || fail "an address on the veth"
ip link set gflB up || fail "the veth's far end up"
ip link set gflA multicast on up || fail "the veth up"
ip route add 224.0.0.0/4 dev gflA || fail "a multicast route"

make_pki
start_broker
keypair alice
HOSTS="gone-broker.local:$PORT localhost:$PORT" MQTT_EXTRA="failback_s = 1" write_conf
echo "ed25519 $PUB_B64 alice" >"$T/authorized_keys"
start_garaged
garaged_subscribed || fail "garaged did not subscribe on the second broker"
for round in 1 2 3; do
	n=$(count 'failback: trying gone-broker.local' "$T/garaged.log")
	await_count 'failback: trying gone-broker.local' $((n + 1)) 10 "$T/garaged.log" ||
		fail "round $round: no probe of the first broker within 10 s"
	# The probe started (its line comes before its lookup): a command now.
	nonce_r=$(nonce)
	pub garage/garage/main/cmd "$(sign alice garage main toggle "$(date +%s)" "$nonce_r" alice)"
	await "\"nonce\":\"$nonce_r\",\"result\":\"accepted\"" 10 "$T/garaged.log" ||
		fail "round $round: the command was not accepted"
	# Each probe ends in one "is not back" (nobody answers): this one's is the (n+1)th.
	await_count 'failback: gone-broker.local.* is not back' $((n + 1)) 10 "$T/garaged.log" ||
		fail "round $round: the probe's lookup never gave up"
	at=$(line_of "\"nonce\":\"$nonce_r\",\"result\":\"accepted\"" "$T/garaged.log")
	probe=$(grep -n 'failback: trying gone-broker.local' "$T/garaged.log" | sed -n "$((n + 1))p" | cut -d: -f1)
	gave_up=$(tail -n +"$probe" "$T/garaged.log" | grep -n -m1 'failback: gone-broker.local.* is not back' | cut -d: -f1)
	[ -n "$gave_up" ] || fail "round $round: the probe's lookup did not give up within the round"
	[ "$at" -lt $((probe + gave_up - 1)) ] ||
		fail "round $round: the command was obeyed only after the probe's lookup gave up (log lines $probe, $((probe + gave_up - 1)), $at)"
	sleep 1.2 # the door's pulse and the next toggle's interval
done
pass "commands are obeyed while a failback probe waits for its mDNS answer, three times"
