#!/bin/bash
# P/D/refresh: a controller asks the device to publish its retained topics again, for a broker
# that does not hand a subscriber the retained messages it holds (RabbitMQ: per node, and only to
# a subscription to the exact topic; docs/brokers.md). garaged publishes its availability, each
# door's state and its key list again, retained, from what its network half holds; ignores a
# retained request (it would be answered at every connect); answers at most once a second, the
# requests in between together. broker-config's ACL lets controllers write it and only the
# device read its own. Against Mosquitto, where garagectl never needs it (its
# retained messages come with the subscription), so this tests the device's side; the
# RabbitMQ cluster test (make check-brokers) the two together.
source "$(dirname "$0")/../../scripts/testbed.sh"
make_pki
start_broker

# The ACL, before garaged runs (the device's certificate is its client id there).
allowed ctl.local garage/garage/refresh garage.local
denied ha.local garage/garage/refresh garage.local
pass "the ACL: a controller may ask the device for its state, Home Assistant may not"

write_conf
start_garaged
garaged_subscribed || fail "garaged did not subscribe"
watch
states() { count '^garage/garage/main/state closed$'; }
avail() { count '^garage/garage/availability online$'; }
keys() { count '^garage/garage/keys '; }
s0=$(states) a0=$(avail) k0=$(keys)
pub garage/garage/refresh ''
await_count '^garage/garage/main/state closed$' $((s0 + 1)) 5 || fail "no state after a refresh request"
await_count '^garage/garage/availability online$' $((a0 + 1)) 5 || fail "no availability after a refresh request"
await_count '^garage/garage/keys ' $((k0 + 1)) 5 || fail "no key list after a refresh request"
pass "a refresh request: availability, state and key list published again"

# A retained request the broker keeps reaches garaged at its next connect, flagged retained: it
# is not answered (the connect publishes everything anyway).
pub garage/garage/refresh 'kept' -r
stop_garaged
start_garaged
garaged_subscribed || fail "garaged did not subscribe again"
await 'ignored a retained refresh request' 5 "$T/garaged.log" || fail "garaged answered a retained refresh request"
pub garage/garage/refresh '' -r
pass "a retained refresh request is ignored"

# Five at once: answered once now and once a second later, never five times.
sleep 1.2
s0=$(states)
for i in 1 2 3 4 5; do pub garage/garage/refresh ''; done
await_count '^garage/garage/main/state closed$' $((s0 + 2)) 5 || fail "five requests: not answered twice ($(($(states) - s0)))"
sleep 1.5
[ "$(states)" = $((s0 + 2)) ] || fail "five requests in a burst were answered $(($(states) - s0)) times, want 2"
pass "requests in a burst: answered now and once a second later"
