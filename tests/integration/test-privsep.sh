#!/bin/bash
# Privilege separation (SPEC "Security model" 8): garaged is two processes. The door half (the
# process started) holds the relay and no network socket; its child, the network half, runs as
# [device] user (nobody) when started as root or as the systemd unit starts it (a user with ambient
# CAP_SETUID/CAP_SETGID: GARAGED_AS_UNIT), with no capability, no_new_privs and a seccomp filter;
# under the unit the door half keeps those two capabilities permitted only. Killing
# the network half never moves the relay and garaged recovers; a forged message on the channel
# (test builds: GARAGED_TEST_INJECT) is refused: a bad size or type kills the network half, a
# well-formed command with a bad signature is refused by the verifier as from the broker.
source "$(dirname "$0")/../../scripts/testbed.sh"
make_pki
start_broker
keypair mallory
keypair alice
write_conf
echo "ed25519 $PUB_B64 alice" >"$T/authorized_keys"
now() { date +%s; }
child_of() { pgrep -P "$1" | head -1; }

watch
start_garaged
await '^garage/garage/availability online$' 15 || fail "garaged did not come up"
await '^garage/garage/main/state closed$' 5 || fail "no state from the door half"

# field PID NAME: NAME's value in /proc/PID/status (for Uid: all four ids, real to file system).
field() { awk -v f="$2:" '$1 == f {$1 = ""; print substr($0, 2)}' "/proc/$1/status"; }
# halves NET: what each half holds. The network half NET holds no capability, whoever started
# garaged, with no_new_privs and its filter; it is nobody whenever garaged could change user (as
# root, or under the unit). Under the unit (GARAGED_AS_UNIT, as deploy/garaged.service runs it:
# its user with ambient CAP_SETUID and CAP_SETGID, where a uid change keeps capabilities) the door
# half keeps those two permitted at most, to start the next network half, never effective or
# ambient; started as root it stays root.
halves() {
	local net=$1 c nobody door prm
	for c in CapEff CapPrm CapAmb; do
		[ "$(field "$net" $c)" = 0000000000000000 ] ||
			fail "the network half (pid $net) has $c $(field "$net" $c), want 0"
	done
	[ "$(field "$net" NoNewPrivs)" = 1 ] || fail "the network half lacks no_new_privs"
	[ "$(field "$net" Seccomp)" = 2 ] || fail "the network half has no seccomp filter"
	if [ "$(id -u)" = 0 ]; then
		nobody=$(id -u nobody)
		[ "$(field "$net" Uid)" = "$nobody $nobody $nobody $nobody" ] ||
			fail "the network half runs as uids $(field "$net" Uid), want nobody's ($nobody)"
	fi
	if [ -n "${GARAGED_AS_UNIT:-}" ]; then
		door=$(id -u "$UNIT_USER")
		[ "$(field "$GARAGED_PID" Uid)" = "$door $door $door $door" ] ||
			fail "the door half runs as uids $(field "$GARAGED_PID" Uid), want $UNIT_USER's ($door)"
		for c in CapEff CapAmb; do
			[ "$(field "$GARAGED_PID" $c)" = 0000000000000000 ] ||
				fail "the door half has $c $(field "$GARAGED_PID" $c), want 0 (CAP_SETUID/CAP_SETGID permitted only)"
		done
		prm=$(field "$GARAGED_PID" CapPrm)
		(((0x$prm & ~0xc0) == 0)) || fail "the door half has CapPrm $prm, more than CAP_SETUID/CAP_SETGID (c0)"
	elif [ "$(id -u)" = 0 ]; then
		[ "$(field "$GARAGED_PID" Uid | cut -d" " -f1)" = 0 ] || fail "the door half is not root"
	fi
}

CHILD=$(net_half) || fail "no network half under pid $GARAGED_PID"
halves "$CHILD"
pass "the network half (pid $CHILD) runs as $(field "$CHILD" Uid | cut -d" " -f1) with CapEff, CapPrm and CapAmb 0, NoNewPrivs 1, Seccomp 2; the door half as $(field "$GARAGED_PID" Uid | cut -d" " -f1), CapEff $(field "$GARAGED_PID" CapEff), CapPrm $(field "$GARAGED_PID" CapPrm)"

# The door half holds no Internet socket: its sockets are the channel (unix) and nothing else.
if ss -tanp | grep -q "pid=$GARAGED_PID,"; then fail "the door half holds a TCP socket: $(ss -tanp | grep "pid=$GARAGED_PID,")"; fi
if ss -uanp | grep -q "pid=$GARAGED_PID,"; then fail "the door half holds a UDP socket"; fi
ss -tanp | grep -q "pid=$CHILD," || fail "the network half holds no TCP socket (the broker?)"
for ino in $(ls -l /proc/"$GARAGED_PID"/fd | grep -o 'socket:\[[0-9]*\]' | tr -dc '0-9\n'); do
	grep -Eq " $ino( |$)" /proc/net/unix || fail "the door half holds socket $ino, which is not a unix socket"
done
pass "the door half holds no TCP or UDP socket, only the unix channel"

# A valid command goes through both halves.
pub garage/garage/main/cmd "$(sign alice garage main open "$(now)" "$(nonce)" alice)"
await '"result":"accepted"' 5 || fail "a valid command was not accepted"
await 'relay on' 5 "$T/sim.log" || fail "no relay edge for a valid command"
await '^garage/garage/main/state open$' 5 || fail "the door did not open"
pass "a valid signed command crosses the channel and moves the door"

# Killing the network half moves nothing, and garaged recovers with a new one.
edges=$(relay_edges)
online=$(count '^garage/garage/availability online$')
kill -9 "$CHILD"
for _ in $(seq 50); do n=$(child_of "$GARAGED_PID"); [ -n "$n" ] && [ "$n" != "$CHILD" ] && break; sleep 0.1; done
[ -n "$n" ] && [ "$n" != "$CHILD" ] || fail "no new network half after kill -9"
kill -0 "$GARAGED_PID" || fail "the door half died with the network half"
grep -q 'killed by signal 9' "$T/garaged.log" || fail "the network half's death was not logged"
for _ in $(seq 100); do [ "$(count '^garage/garage/availability online$')" -gt "$online" ] && break; sleep 0.1; done
[ "$(count '^garage/garage/availability online$')" -gt "$online" ] || fail "not online again after the restart"
[ "$(relay_edges)" = "$edges" ] || fail "the relay moved when the network half died"
pub garage/garage/main/cmd "$(sign alice garage main close "$(now)" "$(nonce)" alice)"
for _ in $(seq 50); do [ "$(relay_edges)" -gt "$edges" ] && break; sleep 0.1; done
[ "$(relay_edges)" -gt "$edges" ] || fail "a valid command did not work after the restart"
halves "$n"
pass "kill -9 of the network half: no relay edge, a new one (pid $n, as unprivileged as the first), online again, commands work"

stop_garaged
[ "$GARAGED_RC" = 0 ] || fail "exit code $GARAGED_RC after SIGTERM"

# The forged channel messages need the test hook, built into the sanitizer (test) build only.
if ! ldd "$GARAGED" | grep -q libasan; then
	echo "SKIP (in part): $GARAGED is a release build, without GARAGED_TEST_INJECT"
	exit 0
fi

# inject FILE: a garaged whose network half sends FILE's bytes as one message after connecting.
inject() {
	: >"$T/garaged.log"
	GARAGED_TEST_INJECT=$1 start_garaged
	await 'test hook: injecting' 15 "$T/garaged.log" || fail "the test hook did not inject $1"
}
stop() { stop_garaged; }

# A message whose size is not its type's: refused, the network half killed and restarted.
edges=$(relay_edges)
python3 -c 'import struct,sys; sys.stdout.buffer.write(struct.pack("<II", 2, 8))' >"$T/short.bin"
inject "$T/short.bin"
await 'refused; killing it' 5 "$T/garaged.log" || fail "a COMMAND of 8 bytes was not refused"
await 'restarting it' 5 "$T/garaged.log" || fail "the network half was not restarted"
[ "$(relay_edges)" = "$edges" ] || fail "the relay moved for a short message"
stop
pass "a message of a wrong size is refused: the network half killed and restarted, no relay edge"

# An unknown type of a plausible size.
python3 -c 'import struct,sys; sys.stdout.buffer.write(struct.pack("<II", 99, 560) + bytes(552))' >"$T/type.bin"
inject "$T/type.bin"
await 'unknown type.*refused; killing it' 5 "$T/garaged.log" || fail "an unknown type was not refused"
[ "$(relay_edges)" = "$edges" ] || fail "the relay moved for an unknown type"
stop
pass "a message of an unknown type is refused, no relay edge"

# Well-formed COMMAND messages (struct channel_command: 2096 bytes) with payloads the verifier refuses:
# the door half judges them itself, as if they came from the broker.
forge() { # forge PAYLOAD OUT
	python3 - "$1" "$2" <<'PY'
import struct, sys
p = sys.argv[1].encode()
m = struct.pack("<IIBBH34s2049s", 2, 2096, 0, 0, len(p), b"main", p) + b"\0"
assert len(m) == 2096
open(sys.argv[2], "wb").write(m)
PY
}
: >"$T/watch.log"
# Stamped a second ahead: garaged restarts for each injection, and after a restart a command
# stamped at or before the newest one it accepted (the close above, maybe this very second) is
# stale before its signature is looked at (docs/security.md, Restarts).
forge "$(sign mallory garage main open "$(($(now) + 2))" "$(nonce)" alice)" "$T/forged.bin"
inject "$T/forged.bin"
await '"reason":"bad_signature"' 5 "$T/garaged.log" || fail "a forged COMMAND was not refused as bad_signature"
grep -q 'refused; killing it' "$T/garaged.log" && fail "a well-formed COMMAND killed the network half"
stop
forge '{"v":1,"door":"main","action":"open"}' "$T/unsigned.bin"
inject "$T/unsigned.bin"
await '"reason":"(malformed|bad_signature)"' 5 "$T/garaged.log" || fail "an unsigned COMMAND was not refused"
stop
[ "$(relay_edges)" = "$edges" ] || fail "the relay moved for a forged COMMAND"
pass "well-formed COMMAND messages with forged or unsigned payloads are refused by the verifier, no relay edge"
