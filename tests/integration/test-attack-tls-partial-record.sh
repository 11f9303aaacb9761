#!/bin/bash
# Attack (TLS read-ahead review): a hostile broker sends the start of a TLS record and never its
# end. With read-ahead (mqtt.c), those bytes leave the socket for OpenSSL's buffer, and
# SSL_has_pending() is true for them although no read can finish until the rest comes. A loop
# that reads again whenever SSL_has_pending() (mqtt_io()'s burst, goodbye's drain(), and a main
# loop that must not sleep on a whole record read ahead: test-attack-readahead-stall.sh) would
# spin on them at full CPU, and the keepalive would never end it (each read counts as traffic).
# The network half must sleep instead: under 0.5 s of CPU in 3 s.
#
# The hostile broker: a small Python TLS server with the testbed's certificate that requires
# garaged's client certificate, accepts the session (CONNACK, SUBACK), sends one PUBLISH on the
# command topic, then, on the raw socket, a TLS application-data record header announcing 64
# bytes and 10 of them, and nothing more.
source "$(dirname "$0")/../../scripts/testbed.sh"
make_pki
PORT=$(free_port)
cat >"$T/partial.py" <<'PY'
import os, sys
from hostile_broker import accept, say, session, wait_for
t, port = sys.argv[1], int(sys.argv[2])
c = accept(t, port)
session(c)
topic = b"garage/garage/main/cmd"
c.sendall(b"\x30" + bytes([2 + len(topic) + 1]) + len(topic).to_bytes(2, "big") + topic + b"x")
# Under the TLS layer: a record's header and a part of its body.
os.write(c.fileno(), b"\x17\x03\x03\x00\x40" + b"\x00" * 10)
say("partial")
wait_for(f"{t}/end", 300)  # silent, the socket open, until the test is done
PY
PYTHONPATH="$(dirname "$0")" python3 "$T/partial.py" "$T" "$PORT" >"$T/partial.log" 2>&1 &
PIDS+=("$!")
for _ in $(seq 50); do ss -ltn | grep -q "127.0.0.1:$PORT " && break; sleep 0.1; done
ss -ltn | grep -q "127.0.0.1:$PORT " || fail "the hostile broker did not listen: $(cat "$T/partial.log")"

write_conf
start_garaged
await '^partial$' 20 "$T/partial.log" || fail "the hostile broker did not get to its partial record: $(tail -2 "$T/partial.log")"
NET=$(net_half) || fail "no network half"
await "received PUBLISH .*'garage/garage/main/cmd'" 5 "$T/garaged.log" || fail "garaged did not read the PUBLISH before the partial record"
sleep 0.5
c0=$(cpu_ticks "$NET")
sleep 3
c1=$(cpu_ticks "$NET")
touch "$T/end"
[ -n "$c0" ] && [ -n "$c1" ] || fail "the network half (pid $NET) is gone"
hz=$(getconf CLK_TCK)
[ $((c1 - c0)) -lt $((hz / 2)) ] || fail "the network half used $((c1 - c0)) ticks ($hz a second) in 3 s on a partial TLS record"
kill -0 "$GARAGED_PID" || fail "garaged is gone"
pass "a partial TLS record: the network half sleeps ($((c1 - c0)) ticks in 3 s)"
