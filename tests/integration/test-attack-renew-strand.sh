#!/bin/bash
# A renewed pair in use must not be thrown away for a failure that is not its own (security.md
# D15: renewal "cannot strand" the device). The device renews itself (test-renew's steps, real
# Mosquitto, garagectl pki), the owner revokes the old certificate as certificates.md says, and
# then the device's cafile is missing for a moment (a CA rotation's edit of it, as
# certificates.md's "The CA" asks, gone wrong; any start failure of the network half that is not
# the pair's would do): the network half cannot start, with the renewed pair or with any pair.
# Once cafile is back, garaged must come online again with the renewed pair. Before, the door
# half took any fatal start of the network half for "cannot load the renewed pair", moved
# client.pem to client.pem.refused and went back to certfile, revoked: the device stayed offline
# for good, its working key set aside where nothing would take it again.
source "$(dirname "$0")/../../scripts/testbed.sh"
[ -x "$GARAGECTL" ] || fail "no garagectl at $GARAGECTL (build first)"
command -v mosquitto_pub >/dev/null || fail "mosquitto_pub is not installed (run scripts/bootstrap)"

D=$T/pki
STATE=$T/state
serial_of() { openssl x509 -in "$1" -noout -serial | cut -d= -f2; }
ctl() { "$GARAGECTL" -c "$T/ctl.conf" "$@"; }

expect_exit 0 "$GARAGECTL" pki init --dir "$D"
expect_exit 0 "$GARAGECTL" pki issue --dir "$D" --server localhost --ip 127.0.0.1
expect_exit 0 "$GARAGECTL" pki issue --dir "$D" --client garage.local --days 2
for c in ctl.local watch.local ha.local; do
	expect_exit 0 "$GARAGECTL" pki issue --dir "$D" --client "$c"
done
OLD_SERIAL=$(serial_of "$D/garage.local.crt")
PORT=$(free_port)
bc() {
	(cd "$T" && "$GARAGECTL" broker-config --dir pki --server localhost --port "$PORT" \
		--device garage:garage.local --controller ctl.local --homeassistant ha.local \
		--homeassistant watch.local) >"$T/out" 2>"$T/err" || fail "broker-config: $(cat "$T/err")"
}
broker() { broker_from_config "$D/mosquitto.conf"; }
bc
broker

mkdir "$T/device" && install -m 0644 "$D/ca.crt" "$D/garage.local.crt" "$T/device/" &&
	install -m 0600 "$D/garage.local.key" "$T/device/" || fail "cannot copy the device's files"
write_conf
sed -i -e "s#^\(cafile\|certfile\|keyfile\) = $D/#\1 = $T/device/#" \
	-e 's/^topic_prefix = garage$/topic_prefix = garage\nreconnect_min_ms = 100\nreconnect_max_s = 1/' "$T/garaged.conf"
[ "$(grep -c "= $T/device/" "$T/garaged.conf")" = 3 ] || fail "garaged.conf does not name the copies"
write_ctl_conf "$T/ctl.conf"
WATCH_AS=watch.local watch

# --- renewed, installed, the old certificate revoked on the broker --------------------------------
start_garaged
online 20 || fail "garaged did not come online with its 2-day certificate"
await '"type":"renewal","step":"requested","trigger":"expiry"' 20 || fail "no renewal requested at connect"
expect_exit 0 ctl pki sign-requests --dir "$D" --yes
NEW_SERIAL=$(serial_of "$D/garage.local.crt")
await "\"step\":\"installed\",\"serial\":\"$NEW_SERIAL\"" 20 || fail "garaged did not connect with $NEW_SERIAL"
expect_exit 0 "$GARAGECTL" pki revoke --dir "$D" garage.local --previous
bc
kill "$BROKER_PID" && wait "$BROKER_PID" 2>/dev/null
broker
online 20 || fail "garaged did not connect again after the broker restarted with the CRL"
mpub garage.local garage/garage/x y "$T/device" && fail "the broker still takes the old, revoked certificate"
[ "$(serial_of "$STATE/client.pem")" = "$NEW_SERIAL" ] || fail "client.pem is not $NEW_SERIAL"
pass "renewed to $NEW_SERIAL ($STATE/client.pem), the old $OLD_SERIAL revoked on the broker"

# --- cafile gone for a moment: no network half can start ---------------------------------------------
mv "$T/device/ca.crt" "$T/ca.crt.away" || fail "cannot move cafile away"
NET=$(net_half) || fail "no network half"
kill -9 "$NET"
for _ in $(seq 100); do kill -0 "$GARAGED_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$GARAGED_PID" 2>/dev/null && fail "garaged still runs without a cafile: $(tail -3 "$T/garaged.log")"
wait "$GARAGED_PID"
[ -f "$STATE/client.pem" ] && [ "$(serial_of "$STATE/client.pem")" = "$NEW_SERIAL" ] ||
	fail "a network half that could not start for want of cafile threw away the renewed pair: $(ls "$STATE" | tr '\n' ' '); $(grep -m1 'gave up' "$T/garaged.log")"
pass "no cafile: garaged stops (no network half can start), the renewed pair stays $STATE/client.pem"

# --- cafile back: the renewed pair again ---------------------------------------------------------------
mv "$T/ca.crt.away" "$T/device/ca.crt" || fail "cannot put cafile back"
start_garaged
online 20 || fail "garaged did not come back online with cafile back: $(grep 'network half started' "$T/garaged.log" | tail -1)"
grep 'network half started' "$T/garaged.log" | tail -1 | grep -q "with the renewed pair $STATE/client.pem$" ||
	fail "garaged does not use the renewed pair: $(grep 'network half started' "$T/garaged.log" | tail -1)"
pass "cafile back: online again with the renewed pair $NEW_SERIAL"

# --- a renewed pair that really cannot be loaded is still given up --------------------------------------
stop_garaged
cp "$STATE/client.pem" "$T/good.pem"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/stranger.key" 2>/dev/null || fail "cannot make a key"
# In place, so that its owner and mode stay garaged's: its certificate, and a key not its own.
{ openssl x509 -in "$T/good.pem"; cat "$T/stranger.key"; } >"$STATE/client.pem" || fail "cannot break client.pem"
start_garaged
await 'gave up the renewed \(in use\) pair [^ ]*/client.pem: the network half could not start with it' 20 "$T/garaged.log" ||
	fail "a renewed pair with the wrong key was not given up: $(grep -E 'renewal|network half' "$T/garaged.log" | tail -3)"
kill -0 "$GARAGED_PID" 2>/dev/null || fail "garaged stopped instead of going back to certfile"
[ ! -e "$STATE/client.pem" ] && [ -f "$STATE/client.pem.refused" ] || fail "the broken pair is not client.pem.refused: $(ls "$STATE" | tr '\n' ' ')"
grep 'network half started' "$T/garaged.log" | tail -1 | grep -q "with certfile $T/device/garage.local.crt$" ||
	fail "garaged does not go back to certfile: $(grep 'network half started' "$T/garaged.log" | tail -1)"
pass "a renewed pair whose key is not its certificate's is still given up (load_failed), for certfile"
