#!/bin/bash
# garaged connects when its TCP connect does not complete at once: on any real network connect()
# is still in progress when libmosquitto starts the TLS handshake, and on loopback so when the
# broker's listen queue is full (a fleet's cold start, bench/fleet.sh). Here a front for the
# broker holds its listen queue full for FRONT_DELAY seconds (a connection of its own in the one
# place listen(0) leaves), so garaged's SYN is dropped and retried, then it relays bytes both
# ways. garaged must be online soon after, and its network half must sleep meanwhile: before the
# fix it woke on POLLOUT over and over (a core's worth of CPU) and never sent its ClientHello.
source "$(dirname "$0")/../../scripts/testbed.sh"
make_pki
start_broker
FRONT_DELAY=2
FRONT=$(free_port)
cat >"$T/front.py" <<'PY'
import socket, sys, threading, time
port, up, delay = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(0)
filler = socket.create_connection(("127.0.0.1", port))
print("full", flush=True)
time.sleep(delay)
s.accept()[0].close()  # the filler, first in the queue
def pump(a, b):
    try:
        while (d := a.recv(65536)):
            b.sendall(d)
    except OSError:
        pass
    for x in (a, b):
        try:
            x.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
s.settimeout(1)
end = time.time() + 60
while time.time() < end:
    try:
        c = s.accept()[0]
    except OSError:
        continue
    u = socket.create_connection(("127.0.0.1", up))
    threading.Thread(target=pump, args=(c, u), daemon=True).start()
    threading.Thread(target=pump, args=(u, c), daemon=True).start()
PY
python3 "$T/front.py" "$FRONT" "$PORT" "$FRONT_DELAY" >"$T/front.log" 2>&1 &
PIDS+=("$!")
await '^full$' 5 "$T/front.log" || fail "the front did not fill its listen queue: $(cat "$T/front.log")"

write_conf
sed -i "s/^port = $PORT\$/port = $FRONT/" "$T/garaged.conf"
start_garaged
NET=$(net_half) || fail "no network half"
t0=$SECONDS
c0=$(cpu_ticks "$NET")
online 20 || fail "garaged is not online within 20 s of a connect that took ${FRONT_DELAY} s: $(grep ' net ' "$T/garaged.log" | tail -3)"
c1=$(cpu_ticks "$NET")
[ -n "$c1" ] || fail "the network half is gone"
s=$((SECONDS - t0 + 1))
# A sleeping network half uses a few ticks for the handshake; a busy one, about 100 a second.
[ $((c1 - c0)) -le $((10 + 20 * s)) ] ||
	fail "the network half used $((c1 - c0)) ticks of CPU in about $s s while its connect was in progress (a busy loop)"
pass "online through a connect that was in progress for ${FRONT_DELAY} s, without a busy loop ($((c1 - c0)) ticks in about $s s)"
