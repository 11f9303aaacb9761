#!/bin/bash
# Attack (P/D/refresh review): a refresh request that arrives while the network half says
# goodbye makes it publish "online" after its "offline", and the broker keeps "online" as the
# retained availability of a device that has stopped.
#
# At SIGTERM the network half publishes a retained "offline" and reads the broker's socket
# (mqtt.c drain()) until it is acknowledged. Every message read there goes through on_message,
# and a refresh request (nethalf.c refresh()) calls flush_out(), which publishes availability
# "online", retained, when no answer went out in the last second. A clean DISCONNECT follows, so
# no will corrects it: Home Assistant and garagectl see the device online until it comes back.
# Any controller may write P/D/refresh (the ACL); garagectl itself sends one when it needs a
# state. docs/security.md: "A broker that goes away and comes back gets the retained
# availability and state republished"; garaged(8): SIGTERM publishes "offline".
#
# The window is the broker's round trip for that PUBACK (milliseconds on loopback, more on a
# real network); the test holds it open deterministically: the network half is stopped
# (SIGSTOP) while the broker queues, in its socket, more messages than one wake-up of the main
# loop reads (MQTT_READ_BURST) and then one refresh request; garaged gets SIGTERM and the network
# half SIGCONT, so the goodbye comes first and the refresh is read in drain().
#
# Expected: nothing published after "offline", which stays the retained availability. Observed on
# main: "online" published after it, and (about half the runs) kept by the broker.
source "$(dirname "$0")/../../scripts/testbed.sh"
make_pki
start_broker
write_conf
start_garaged
online || fail "garaged did not come up"
garaged_subscribed || fail "garaged did not subscribe"
NET=$(net_half) || fail "no network half"
# No refresh was answered in the last second: the one below is answered at once.
sleep 1.2

kill -STOP "$NET" || fail "cannot stop the network half"
# 300 messages ahead of the refresh, each a PUBLISH the network half reads and forwards (a
# malformed command the door half would refuse; after GOODBYE it forwards nothing).
seq 300 | sed 's/.*/junk/' | mosquitto_pub -h localhost -p "$PORT" --cafile "$T/pki/ca.crt" \
	--cert "$T/pki/ctl.local.crt" --key "$T/pki/ctl.local.key" -t garage/garage/main/cmd -q 1 -l ||
	fail "cannot publish the junk"
pub garage/garage/refresh '' || fail "cannot publish the refresh request"
# The broker has written them to the network half's socket (loopback: at once).
sleep 0.5
kill -TERM "$GARAGED_PID"
sleep 0.2
kill -CONT "$NET"
stop_garaged TERM 10
[ "$GARAGED_RC" = 0 ] || fail "garaged exited with $GARAGED_RC"
grep -q 'network half.*did not say goodbye' "$T/garaged.log" && fail "the network half was killed, not the case tested"
# What the network half sent after its "offline": the log has every PUBLISH (-v). Whether the
# broker then keeps the late "online" depends on whether garaged's DISCONNECT reaches it before
# the socket's close (unread PUBACKs make the close a reset, and the broker then sends the will,
# "offline"), so the log is the exact witness and the retained value the consequence.
after=$(sed -n "/PUBLISH .*'garage\/garage\/availability', ... (7 bytes)/,\$p" "$T/garaged.log" |
	grep -c "PUBLISH .*'garage/garage/availability', ... (6 bytes)")
[ "$after" = 0 ] || fail "the network half published availability 'online' after its 'offline' ($after times)"
a=$(sub garage/garage/availability 1 2)
[ "$a" = offline ] || fail "garaged stopped, yet the broker holds availability '$a' (a refresh answered after 'offline')"
pass "a refresh request during the goodbye leaves 'offline' retained"
