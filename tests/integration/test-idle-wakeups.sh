#!/bin/bash
# Idle wake-ups (issue 18, "nothing woken that has nothing to do"): libmosquitto 2.0 makes a
# Unix stream socketpair in mosquitto_new() to wake its own threaded loop (mosquitto_loop_start),
# which garaged never runs, and writes a byte into it for every packet it queues: one system
# call more per keepalive while the device idles, and one more before every command's PUBACK,
# on the way to the relay. Nobody ever reads those bytes.
#
# Expected: the network half holds no Unix stream socket (its only Unix socket is the channel, a
# SOCK_SEQPACKET pair), and garaged is online and obeys a command.
# Observed before the fix: two Unix stream sockets (libmosquitto's pair) in the network half.
source "$(dirname "$0")/../../scripts/testbed.sh"
make_pki
start_broker
keypair alice
write_conf
echo "ed25519 $PUB_B64 alice" >"$T/authorized_keys"
start_garaged
garaged_subscribed || fail "garaged did not subscribe"
NET=$(net_half) || fail "no network half"
# unix_sockets PID TYPE: how many of PID's descriptors are Unix sockets of TYPE (/proc/net/unix's
# hex type: 0001 stream, 0005 seqpacket).
unix_sockets() {
	local inodes
	inodes=$(find "/proc/$1/fd" -lname 'socket:*' -printf '%l\n' | tr -dc '0-9\n')
	awk -v t="$2" 'NR == FNR { want[$1] = 1; next } FNR > 1 && $5 == t && ($7 in want) { n++ } END { print n + 0 }' \
		<(echo "$inodes") /proc/net/unix
}
seq=$(unix_sockets "$NET" 0005)
[ "$seq" = 1 ] || fail "the network half holds $seq Unix seqpacket sockets, expected 1 (the channel)"
stream=$(unix_sockets "$NET" 0001)
[ "$stream" = 0 ] || fail "the network half holds $stream Unix stream sockets (libmosquitto's wake-up pair; expected none)"
n=$(nonce)
pub garage/garage/main/cmd "$(sign alice garage main open "$(date +%s)" "$n" alice)"
await "\"nonce\":\"$n\",\"result\":\"accepted\"" 10 "$T/garaged.log" || fail "a command was not accepted"
pass "the network half holds no Unix socket but its channel, and obeys a command"
