#!/bin/bash
# Attack (notify.c review): the door half tells the service manager with a blocking sendto(2),
# and at SIGTERM it does so (STOPPING=1) before it releases the relays. A service manager whose
# datagram queue is full (PID 1 busy, or flooded: the network half may send to any Unix datagram
# socket, and /run/systemd/notify is one) keeps the door half in sendto() with a relay
# energised, past relay_pulse_ms, for as long as the queue stays full. main() says "The relays
# first: nothing the network half does can delay their release"; docs/security.md D9.
#
# The service manager here: a datagram socket at NOTIFY_SOCKET that reads READY=1 and then stops
# reading, its queue filled to the brim. A valid open with relay_pulse_ms = 3000, SIGTERM while
# the relay is on.
#
# Expected: the relay released at once (within 1 s) and garaged gone soon after. Observed on
# main: no release until the test ends it; garaged stuck in sendto().
source "$(dirname "$0")/../../scripts/testbed.sh"
make_pki
start_broker
keypair alice
RELAY_PULSE_MS=3000 write_conf
printf 'ed25519 %s alice\n' "$PUB_B64" >"$T/authorized_keys"
: >"$T/notify.log"
python3 -u -c '
import os, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o666)  # garaged may run as another user (GARAGED_AS_UNIT)
s.settimeout(0.1)
with open(sys.argv[2], "a") as log:
    for _ in range(300):  # until READY=1 (bounded)
        try:
            m = s.recv(4096).decode()
        except socket.timeout:
            continue
        log.write(m.replace("\n", "|") + "\n")
        log.flush()
        if "READY=1" in m:
            break
    # Busy from here on: the queue fills and stays full.
    f = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    n = 0
    while n < 100000:
        try:
            f.sendto(b"x", socket.MSG_DONTWAIT, sys.argv[1])
            n += 1
        except BlockingIOError:
            break
    log.write("full after %d\n" % n)
    log.flush()
    for _ in range(600):  # open, unread, until the test is done (bounded)
        if os.path.exists(sys.argv[3]):
            break
        time.sleep(0.1)
' "$T/notify" "$T/notify.log" "$T/end" &
PIDS+=("$!")
for _ in $(seq 50); do [ -S "$T/notify" ] && break; sleep 0.1; done
[ -S "$T/notify" ] || fail "the notify listener did not bind $T/notify"

NOTIFY_SOCKET=$T/notify start_garaged
await '^full after [0-9]+$' 15 "$T/notify.log" || fail "no READY=1, or the queue did not fill: $(cat "$T/notify.log")"
garaged_subscribed || fail "garaged did not subscribe"
pub garage/garage/main/cmd "$(sign alice garage main open "$(date +%s)" "$(nonce)" alice)"
await 'relay on' 5 "$T/sim.log" || fail "the valid open did not energise the relay"
kill -TERM "$GARAGED_PID"
ok=0
await 'relay off' 1 "$T/sim.log" && ok=1
touch "$T/end"
[ "$ok" = 1 ] || fail "SIGTERM with the service manager's queue full: the relay (on for relay_pulse_ms = 3000) was not released within 1 s"
stop_garaged TERM 10
pass "SIGTERM with the service manager's queue full: the relay released at once, garaged exited $GARAGED_RC"
