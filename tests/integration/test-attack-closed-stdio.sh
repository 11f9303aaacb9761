#!/bin/bash
# Attack (exec review, descriptor hygiene): garaged started with standard input, output and error
# closed (a supervisor or script that closes them, `garaged -f >&- 2>&-`). Descriptors 0 to 2 are
# then the first files garaged opens: in the door half the signalfd, the network half's program
# and a backend's descriptor, and whatever file is open at that moment when a line is logged
# (a key list or state file being written would get log lines inside it). In the network half,
# after exec, the first sockets it makes: its log lines (stderr, -f) go into its TLS connection
# to the broker, which breaks every session, so the device never comes online. Daemons make sure
# 0 to 2 are open (/dev/null) before anything else.
#
# Expected: garaged comes online, and its descriptors 0 to 2 are /dev/null in both halves.
# Observed on main: never online; door half fd 2 a timerfd, network half fd 2 a socket.
source "$(dirname "$0")/../../scripts/testbed.sh"
make_pki
start_broker
write_conf
unit_files
"${AS_UNIT[@]}" "$GARAGED" -c "$T/garaged.conf" -f -v <&- >&- 2>&- &
GARAGED_PID=$!
PIDS+=("$GARAGED_PID")
NET=$(net_half) || fail "no network half"
stdio() { local p=$1 f; for f in 0 1 2; do printf '%s ' "$(readlink "/proc/$p/fd/$f")"; done; }
online 10 || fail "garaged started with stdio closed never came online (door half 0-2: $(stdio "$GARAGED_PID"); network half: $(stdio "$(net_half)"))"
for p in "$GARAGED_PID" "$NET"; do
	[ "$(stdio "$p")" = "/dev/null /dev/null /dev/null " ] || fail "pid $p's descriptors 0 to 2: $(stdio "$p")"
done
pass "garaged started with stdio closed: online, 0 to 2 are /dev/null in both halves"
