#!/bin/bash
# A network half taken over, behind a broker that lets any client in (the compromised broker
# that took it over), must not leave the device a renewed pair that strands it once the broker
# is honest again (security.md D15 and "Renewing": "A taken-over network half ... could make the
# door half install a pair that does not work, which the trial undoes").
#
# The device (a 2-day certificate) asks for a renewal; its pending key is in state_dir. Its
# network half, taken over (test builds: GARAGED_TEST_INJECT), hands the door half a NEW_CERT:
# a certificate it made itself for that key (self-signed, CN garage.local, clientAuth), which the
# door half cannot judge (it holds no OpenSSL). The broker (Mosquitto with the real server
# certificate, require_certificate false) lets the trial pair in. Then the broker is honest
# again (broker-config's Mosquitto): garaged must come online, and after a restart too. Before,
# the trial pair was promoted to client.pem, which takes precedence over certfile for good: the
# honest broker refused it at every attempt and nothing ever went back.
source "$(dirname "$0")/../../scripts/testbed.sh"
[ -x "$GARAGECTL" ] || fail "no garagectl at $GARAGECTL (build first)"
# The forged channel message needs the test hook, built into the sanitizer (test) build only.
ldd "$GARAGED" | grep -q libasan || skip "$GARAGED is a release build, without GARAGED_TEST_INJECT"

D=$T/pki
STATE=$T/state
expect_exit 0 "$GARAGECTL" pki init --dir "$D"
expect_exit 0 "$GARAGECTL" pki issue --dir "$D" --server localhost --ip 127.0.0.1
expect_exit 0 "$GARAGECTL" pki issue --dir "$D" --client garage.local --days 2
for c in ctl.local watch.local ha.local; do
	expect_exit 0 "$GARAGECTL" pki issue --dir "$D" --client "$c"
done
PORT=$(free_port)
(cd "$T" && "$GARAGECTL" broker-config --dir pki --server localhost --port "$PORT" \
	--device garage:garage.local --controller ctl.local --homeassistant ha.local) >"$T/out" 2>"$T/err" ||
	fail "broker-config: $(cat "$T/err")"
# run CONF: Mosquitto as root on loopback with CONF, until it listens (testbed.sh).
run() { BROKER_RUN=$T/run.conf broker_from_config "$1"; }
stop_broker() {
	kill "$BROKER_PID" && wait "$BROKER_PID" 2>/dev/null
	for _ in $(seq 50); do ss -ltn | grep -q "127.0.0.1:$PORT " || return 0; sleep 0.1; done
	fail "Mosquitto did not stop"
}
cat >"$T/hostile.conf" <<CONF
listener $PORT
cafile $D/ca.crt
certfile $D/localhost.crt
keyfile $D/localhost.key
require_certificate false
allow_anonymous true
CONF
run "$T/hostile.conf"

mkdir "$T/device" && install -m 0644 "$D/ca.crt" "$D/garage.local.crt" "$T/device/" &&
	install -m 0600 "$D/garage.local.key" "$T/device/" || fail "cannot copy the device's files"
write_conf
sed -i -e "s#^\(cafile\|certfile\|keyfile\) = $D/#\1 = $T/device/#" \
	-e 's/^topic_prefix = garage$/topic_prefix = garage\nreconnect_min_ms = 100\nreconnect_max_s = 1/' "$T/garaged.conf"
[ "$(grep -c "= $T/device/" "$T/garaged.conf")" = 3 ] || fail "garaged.conf does not name the copies"

# --- the device asks: a pending key ---------------------------------------------------------------
start_garaged
await 'renewal: the new key is stored' 20 "$T/garaged.log" || fail "no renewal asked at connect: $(tail -3 "$T/garaged.log")"
stop_garaged
[ -f "$STATE/client.key.pending" ] || fail "no pending key"

# --- the network half taken over: a certificate of its own for the pending key -----------------------
openssl req -x509 -key "$STATE/client.key.pending" -subj /CN=garage.local -days 30 \
	-addext extendedKeyUsage=clientAuth -out "$T/self.pem" 2>/dev/null || fail "cannot make the certificate"
python3 - "$T/self.pem" "$T/newcert.bin" <<'PY' || fail "cannot write the NEW_CERT message"
import struct, sys
pem = open(sys.argv[1], "rb").read()
PEM_MAX = 8192
# struct channel_new_cert: hdr {type, len}, len, serial[44], not_after[24], pem[CHANNEL_PEM_MAX]
size = 8 + 4 + 44 + 24 + PEM_MAX
msg = struct.pack("<III", 5, size, len(pem)) + b"01".ljust(44, b"\0") + \
    b"2030-01-01T00:00:00Z".ljust(24, b"\0") + pem.ljust(PEM_MAX, b"\0")
assert len(msg) == size
open(sys.argv[2], "wb").write(msg)
PY
chmod 644 "$T/newcert.bin"
GARAGED_TEST_INJECT=$T/newcert.bin start_garaged
await 'test hook: injecting' 20 "$T/garaged.log" || fail "the hook did not inject: $(tail -3 "$T/garaged.log")"
# What the door half makes of it: the pair promoted (the broker let it in), or given up.
await 'the renewed pair connected and is|gave up the renewed' 30 "$T/garaged.log" ||
	fail "the injected certificate came to nothing: $(grep renewal "$T/garaged.log" | tail -3)"
pass "a taken-over network half handed the door half a certificate of its own; the broker lets anything in"

# --- the broker honest again, the network half no longer taken over: garaged must connect ------------
stop_garaged
stop_broker
run "$D/mosquitto.conf"
start_garaged
online 20 || fail "garaged does not come online with the honest broker: $(grep -E 'network half started|refused' "$T/garaged.log" | tail -2)"
stop_garaged
start_garaged
online 20 || fail "garaged does not come online after a restart: $(grep 'network half started' "$T/garaged.log" | tail -1)"
[ -e "$STATE/client.pem" ] && ! openssl verify -CAfile "$D/ca.crt" "$STATE/client.pem" >/dev/null 2>&1 &&
	fail "$STATE/client.pem holds a certificate that does not chain to cafile"
pass "the honest broker: garaged online with its own certificate, and after a restart; no foreign pair in state_dir"
