#!/bin/bash
# garaged under systemd's Type=notify, seen from systemd's side: a datagram socket in
# NOTIFY_SOCKET, as systemd gives the service, records what garaged tells it.
# - READY=1 comes once the network half runs (its user, its filter), never before;
# - a network half that can never start makes garaged exit 1 without READY=1, so that systemd
#   counts a failed start instead of a healthy service that stays offline (issue 12: under the
#   unit the network half could not drop its capabilities, and the outage was invisible);
# - a network half that dies again and again soon after its start ends garaged too (exit 1),
#   after RESTART_GIVE_UP (5) deaths in a row;
# - SIGTERM says STOPPING=1.
source "$(dirname "$0")/../../scripts/testbed.sh"

# notify_listen: a socket at $T/notify, each datagram appended to $T/notify.log as one line.
notify_listen() {
	rm -f "$T/notify" "$T/notify.log"
	: >"$T/notify.log"
	python3 -u -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o666)  # garaged may run as another user (GARAGED_AS_UNIT)
with open(sys.argv[2], "a") as log:
    while True:
        log.write(s.recv(4096).decode().replace("\n", "|") + "\n")
        log.flush()
' "$T/notify" "$T/notify.log" &
	PIDS+=("$!")
	for _ in $(seq 50); do [ -S "$T/notify" ] && return 0; sleep 0.1; done
	fail "the notify listener did not bind $T/notify"
}

child_of() { pgrep -P "$1" | head -1; }

make_pki
start_broker
write_conf
notify_listen

# 1. READY=1 once the network half runs, and after the log says it dropped everything.
export NOTIFY_SOCKET=$T/notify
start_garaged
await 'READY=1' 15 "$T/notify.log" || fail "no READY=1 within 15 s: $(cat "$T/notify.log")"
grep -q 'net info: pid [0-9]*: user [0-9]*, no capabilities, no_new_privs, seccomp filter on' \
	"$T/garaged.log" || fail "READY=1 came, but the network half never said it was sandboxed"
[ "$(grep -c 'READY=1' "$T/notify.log")" = 1 ] || fail "READY=1 more than once: $(cat "$T/notify.log")"
pass "READY=1 once the network half runs sandboxed: $(grep -m1 READY "$T/notify.log")"

# 2. SIGTERM: STOPPING=1, exit 0.
stop_garaged
[ "$GARAGED_RC" = 0 ] || fail "garaged exited $GARAGED_RC on SIGTERM, want 0"
grep -q 'STOPPING=1' "$T/notify.log" || fail "no STOPPING=1 at SIGTERM: $(cat "$T/notify.log")"
pass "SIGTERM: STOPPING=1 and exit 0"

# 3. A network half that never starts (the test build's hook makes it exit right after its
# sandbox is on): garaged exits 1 at once, names the cause, never says READY=1.
: >"$T/notify.log"
: >"$T/garaged.log"
GARAGED_TEST_NETHALF_EXIT=1 start_garaged
for _ in $(seq 100); do kill -0 "$GARAGED_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$GARAGED_PID" 2>/dev/null && fail "garaged keeps running with a network half that cannot start"
wait "$GARAGED_PID"
rc=$?
[ "$rc" = 1 ] || fail "garaged exited $rc when its network half cannot start, want 1"
grep -q 'the network half exited with 1 before it was running' "$T/garaged.log" ||
	fail "the log does not say why: $(tail -3 "$T/garaged.log")"
grep -q 'READY=1' "$T/notify.log" && fail "READY=1 though the network half never ran"
pass "a network half that cannot start: exit 1, no READY=1 ($(grep -o 'the network half exited.*' "$T/garaged.log" | head -1))"

# 4. A network half that keeps dying soon after its start: four restarts with backoff
# (1, 2, 4, 8 s), and at the fifth death garaged gives up with exit 1.
: >"$T/notify.log"
: >"$T/garaged.log"
start_garaged
await 'READY=1' 15 "$T/notify.log" || fail "no READY=1 within 15 s: $(cat "$T/notify.log")"
killed=0
prev=
for round in 1 2 3 4 5; do
	half=
	for _ in $(seq 200); do
		half=$(child_of "$GARAGED_PID")
		[ -n "$half" ] && [ "$half" != "$prev" ] && break
		half=
		sleep 0.1
	done
	[ -n "$half" ] || fail "round $round: no new network half within 20 s: $(tail -3 "$T/garaged.log")"
	# Wait until it is running (CHANNEL_RUNNING sent), so that each death counts as one after start.
	await "net info: pid $half: user" 10 "$T/garaged.log" || fail "round $round: network half $half never ran"
	kill -KILL "$half"
	killed=$((killed + 1))
	prev=$half
done
for _ in $(seq 100); do kill -0 "$GARAGED_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$GARAGED_PID" 2>/dev/null && fail "garaged still runs after its network half died $killed times in a row"
wait "$GARAGED_PID"
rc=$?
[ "$rc" = 1 ] || fail "garaged exited $rc after $killed quick deaths of its network half, want 1"
grep -q 'the network half was killed by signal 9, 5 times in a row within 60 s of its start' \
	"$T/garaged.log" || fail "the log does not say why: $(tail -3 "$T/garaged.log")"
[ "$(grep -c 'restarting it in' "$T/garaged.log")" = 4 ] ||
	fail "want 4 restarts before giving up: $(grep 'restarting it in' "$T/garaged.log")"
grep -q 'STATUS=the network half was killed by signal 9; restarting it in' "$T/notify.log" ||
	fail "systemd was not told about the restarts: $(cat "$T/notify.log")"
pass "5 quick deaths of the network half in a row: 4 restarts, then exit 1 (STATUS said so)"
