#!/bin/bash
# A broker that stops reading (docs/security.md "Floods"): a hostile broker, a small Python TLS
# server with the testbed's certificate that requires garaged's client certificate, accepts the
# session (CONNACK, SUBACK), then sends small PUBLISHes on the command topic, some QoS 1 (each
# would want a PUBACK), and never reads from the socket again nor acknowledges anything. Every
# one of them is refused by garaged, and every refusal is an event for P/D/events that cannot go
# out. The network half's outgoing queue is bounded: its VmRSS grows by less than 30 MB (the
# unbounded queue took it up by 200 MB and more in 20 s), garaged stays up, and once it is cut
# off it stops reading instead of queueing.
source "$(dirname "$0")/../../scripts/testbed.sh"
PUBLISHES=1000000 # at most, and for at most FLOOD_S seconds
FLOOD_S=20
GROWTH_MAX_KB=30720

make_pki
PORT=$(free_port)
cat >"$T/stall.py" <<'PY'
import os, select, ssl, sys, time
from hostile_broker import accept, remlen, say, session, wait_for
t, port, count, secs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
c = accept(t, port)
session(c)
say("subscribed")
wait_for(f"{t}/go", 200)  # the test takes its baseline, then says go
# From here on nothing is read. One in four PUBLISHes is QoS 1 and would want a PUBACK.
topic = b"garage/garage/main/cmd"
def publish(i):
    if i % 4:
        return b"\x30" + remlen(2 + len(topic) + 1) + len(topic).to_bytes(2, "big") + topic + b"x"
    mid = (i % 65535 + 1).to_bytes(2, "big")
    return b"\x32" + remlen(2 + len(topic) + 2 + 1) + len(topic).to_bytes(2, "big") + topic + mid + b"x"
c.setblocking(False)
sent, end, buf = 0, time.monotonic() + secs, b""
while time.monotonic() < end and (sent < count or buf):
    if not buf:
        k = min(500, count - sent)
        buf = b"".join(publish(sent + i) for i in range(k))
        sent += k
    _, w, _ = select.select([], [c], [], 0.2)
    if not w:
        continue
    try:
        n = c.send(buf[:16384])
        buf = buf[n:]
    except (ssl.SSLWantWriteError, ssl.SSLWantReadError, BlockingIOError):
        pass
say(f"sent {sent} publishes (the last {len(buf)} bytes unsent)")
say("done")
wait_for(f"{t}/end", 600)  # connected and silent until the test is done
PY
PYTHONPATH="$(dirname "$0")" python3 "$T/stall.py" "$T" "$PORT" "$PUBLISHES" "$FLOOD_S" >"$T/stall.log" 2>&1 &
STALL_PID=$!
PIDS+=("$STALL_PID")
for _ in $(seq 50); do ss -ltn | grep -q "127.0.0.1:$PORT " && break; sleep 0.1; done
ss -ltn | grep -q "127.0.0.1:$PORT " || fail "the hostile broker did not listen: $(cat "$T/stall.log")"

write_conf
# Under ASan, freed memory waits in a quarantine (256 MB by default), which would read as growth.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=4
start_garaged
await '^subscribed$' 20 "$T/stall.log" || fail "garaged did not subscribe at the hostile broker: $(tail -2 "$T/stall.log")"
NET=$(net_half) || fail "no network half"
sleep 0.5 # past the subscription's own work: the baseline is the session at rest
rss0=$(rss_kb "$NET")
touch "$T/go"
peak=$rss0
for _ in $(seq $(((FLOOD_S + 15) * 10))); do
	r=$(rss_kb "$NET")
	[ -n "$r" ] || fail "the network half (pid $NET) is gone during the flood"
	[ "$r" -gt "$peak" ] && peak=$r
	grep -q '^done$' "$T/stall.log" && break
	sleep 0.1
done
grep -q '^done$' "$T/stall.log" || fail "the hostile broker did not finish within $((FLOOD_S + 15)) s"
sleep 1 # what is still in flight arrives: the last of its growth
r=$(rss_kb "$NET")
[ -n "$r" ] && [ "$r" -gt "$peak" ] && peak=$r
refused=$(grep -c '"reason":"malformed"' "$T/garaged.log")
echo "  $(grep '^sent' "$T/stall.log"); garaged refused $refused; network half VmRSS $rss0 kB before, peak $peak kB"
[ "$refused" -ge 1000 ] || fail "garaged refused only $refused of the hostile broker's publishes: the test did not load it"
kill -0 "$GARAGED_PID" 2>/dev/null || fail "garaged died"
[ "$(net_half)" = "$NET" ] || fail "the network half was restarted (was $NET)"
[ $((peak - rss0)) -lt $GROWTH_MAX_KB ] ||
	fail "the network half grew by $((peak - rss0)) kB (limit $GROWTH_MAX_KB kB) against a broker that stopped reading"
pass "a broker that stops reading: the network half grew by $((peak - rss0)) kB (< $GROWTH_MAX_KB), garaged up"
touch "$T/end"
