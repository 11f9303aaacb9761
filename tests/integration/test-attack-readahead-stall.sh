#!/bin/bash
# Attack (TLS read-ahead review): a burst of small messages leaves the last ones, a valid
# command among them, inside OpenSSL's read-ahead buffer, where poll() cannot see them; the
# network half sleeps on them until the socket next becomes readable, at the keepalive.
#
# With SSL_CTX_set_read_ahead() (mqtt.c), one read(2) takes as many TLS records as the buffer
# holds (some 16 KB: hundreds of small PUBLISHes). mqtt_io() reads at most MQTT_READ_BURST of
# them per wake-up; what is left is decrypted only at the next wake-up, and nothing wakes the
# loop for bytes that are no longer on the socket. A message that makes the device publish
# (a command: its event's PUBACK) wakes it again; one it only reads does not, and Home
# Assistant's status is such a message: ha.local may write homeassistant/# (the ACL), and
# garaged ignores any status but "online". So a stolen Home Assistant login (or a broker) holds
# the owner's next command for up to a keepalive (30 s here, a command's whole clock_skew
# window by default), long enough to be refused as stale. docs/security.md (Floods): "A flood
# the device verifies as fast as it comes does not cost valid commands".
#
# The network half is stopped (SIGSTOP) while the broker queues 1000 statuses and then the
# command, so that they arrive as one burst, as they do on a busy or slow device.
#
# Expected: the command's relay edge within 5 s of the network half running again. Observed on
# main: after the keepalive's PINGRESP, 30 s later.
source "$(dirname "$0")/../../scripts/testbed.sh"
make_pki
start_broker
keypair alice
write_conf
printf 'ed25519 %s alice\n' "$PUB_B64" >"$T/authorized_keys"
start_garaged
online || fail "garaged did not come up"
garaged_subscribed || fail "garaged did not subscribe"
NET=$(net_half) || fail "no network half"
# Idle: what the connect published is acknowledged, the next PINGREQ 30 s away.
sleep 1.2
cmd=$(sign alice garage main open "$(date +%s)" "$(nonce)" alice)

kill -STOP "$NET" || fail "cannot stop the network half"
seq 1000 | sed 's/.*/x/' | mosquitto_pub -h localhost -p "$PORT" --cafile "$T/pki/ca.crt" \
	--cert "$T/pki/ha.local.crt" --key "$T/pki/ha.local.key" -t homeassistant/status -q 1 -l ||
	fail "cannot publish Home Assistant's statuses"
pub garage/garage/main/cmd "$cmd" || fail "cannot publish the command"
sleep 0.5
kill -CONT "$NET"
for _ in $(seq 50); do [ "$(relay_edges)" -gt 0 ] && break; sleep 0.1; done
[ "$(relay_edges)" -gt 0 ] || fail "a valid command behind 1000 ignored messages: no relay edge within 5 s ($(grep -c "received PUBLISH (.*'homeassistant/status'" "$T/garaged.log") of 1000 read)"
pass "a valid command behind a burst of ignored messages is obeyed at once"
