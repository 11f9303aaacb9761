#!/bin/bash
# Attacks on garagectl pki sign-requests (docs/certificates.md, security.md D15), with a real
# Mosquitto configured by broker-config and a PKI made by garagectl pki. The signer cannot see who
# wrote a request on P/D/csr: the broker can write any, and so can whoever holds a key this CA
# certified and reaches that topic. A request here is made with the openssl command exactly as
# renew.h describes it (a PKCS#10 request, a certificate, that certificate's key's signature over
# the request's DER) and left retained on garage/garage/csr, as a compromised broker would.
#
# 1. The broker's own key (its server certificate, localhost) proves a request for its own name:
#    sign-requests must not make a client certificate for the broker's identity (which outlives
#    any re-keying of the broker), nor replace DIR/localhost.crt and move DIR/localhost.key away,
#    which broker-config copies to Mosquitto.
# 2. The device's own request, replayed after it was answered (the broker keeps a copy and
#    retains it again): sign-requests must not sign the same key again, which moved the
#    certificate the device uses out of DIR's records (garage.local.crt and .crt.previous), so
#    that revoking the device (pki revoke NAME, and --previous) left it valid: a stolen device
#    kept the broker for a year. A request already answered gets the same certificate again.
# 3. The same with a request the device replaced before it was answered (garagectl renew twice;
#    the broker kept the first): its key is in neither record, so it is signed, and the
#    certificate the device installed meanwhile left DIR's two records all the same. Whatever
#    leaves them while still valid is kept in DIR/NAME.crt.older, which pki revoke NAME (and
#    --previous) revokes too.
source "$(dirname "$0")/../../scripts/testbed.sh"
[ -x "$GARAGECTL" ] || fail "no garagectl at $GARAGECTL (build first)"
command -v mosquitto_pub >/dev/null || fail "mosquitto_pub is not installed (run scripts/bootstrap)"

D=$T/pki
serial_of() { openssl x509 -in "$1" -noout -serial | cut -d= -f2; }
ctl() { "$GARAGECTL" -c "$T/ctl.conf" "$@"; }

expect_exit 0 "$GARAGECTL" pki init --dir "$D"
expect_exit 0 "$GARAGECTL" pki issue --dir "$D" --server localhost --ip 127.0.0.1
for c in garage.local ctl.local; do
	expect_exit 0 "$GARAGECTL" pki issue --dir "$D" --client "$c"
done
PORT=$(free_port)
(cd "$T" && "$GARAGECTL" broker-config --dir pki --server localhost --port "$PORT" \
	--device garage:garage.local --controller ctl.local) >"$T/out" 2>"$T/err" ||
	fail "broker-config: $(cat "$T/err")"
broker_from_config "$D/mosquitto.conf"
write_ctl_conf "$T/ctl.conf"

# request NAME PROOF_CRT PROOF_KEY OUT [NEWKEY]: a renewal request for CN=NAME with a new EC key
# (NEWKEY, made when missing), proved by PROOF_KEY, whose certificate is PROOF_CRT.
request() {
	local k=${5:-$T/new.$RANDOM.key}
	[ -f "$k" ] || openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$k" 2>/dev/null ||
		fail "cannot make a key"
	openssl req -new -key "$k" -subj "/CN=$1" -out "$4.csr" 2>/dev/null &&
		openssl req -in "$4.csr" -outform DER -out "$4.der" &&
		openssl dgst -sha256 -sign "$3" -out "$4.sig" "$4.der" || fail "cannot make the request for $1"
	{
		cat "$4.csr"
		openssl x509 -in "$2"
		echo "-----BEGIN GARAGED RENEWAL SIGNATURE-----"
		base64 -w 64 "$4.sig"
		echo "-----END GARAGED RENEWAL SIGNATURE-----"
	} >"$4"
}
# retained FILE: FILE on garage/garage/csr, retained (as the device, which may write it: the
# signer cannot tell who did).
# The device's own copy of its pair: sign-requests moves DIR's key away when it signs.
mkdir "$T/dev" && cp "$D/garage.local.crt" "$D/garage.local.key" "$T/dev/" || fail "cannot copy the device's pair"
retained() {
	mosquitto_pub -h localhost -p "$PORT" --cafile "$D/ca.crt" --cert "$T/dev/garage.local.crt" \
		--key "$T/dev/garage.local.key" -t garage/garage/csr -f "$1" -r -q 1 || fail "cannot publish $1"
}
# cleared: the retained request removed (an empty retained message), as the device does.
cleared() {
	mosquitto_pub -h localhost -p "$PORT" --cafile "$D/ca.crt" --cert "$T/dev/garage.local.crt" \
		--key "$T/dev/garage.local.key" -t garage/garage/csr -n -r -q 1 || fail "cannot clear the request"
}
sums() { (cd "$D" && sha256sum ./*.crt* ./*.key* revoked 2>/dev/null); }

# --- 1. the broker's key asks for its own name ---------------------------------------------------
request localhost "$D/localhost.crt" "$D/localhost.key" "$T/broker.req"
before=$(sums)
BROKER_SERIAL=$(serial_of "$D/localhost.crt")
retained "$T/broker.req"
ctl pki sign-requests --dir "$D" --yes >"$T/out" 2>"$T/err" </dev/null
[ "$(serial_of "$D/localhost.crt")" = "$BROKER_SERIAL" ] ||
	fail "sign-requests replaced the broker's certificate with a client one: $(cat "$T/out")"
[ -f "$D/localhost.key" ] || fail "sign-requests moved the broker's key away"
[ "$(sums)" = "$before" ] || fail "sign-requests changed DIR for the broker's request: $(cat "$T/out")"
grep -q 'signed localhost' "$T/out" && fail "sign-requests signed a certificate for the broker's identity: $(cat "$T/out")"
grep -q 'not a client certificate' "$T/err" || fail "sign-requests does not say why it refused: $(cat "$T/err")"
pass "a request proved by the broker's server certificate is refused; DIR/localhost.crt and .key untouched"
cleared

# --- 2. the device's request answered, then replayed ---------------------------------------------
OLD_SERIAL=$(serial_of "$D/garage.local.crt")
request garage.local "$T/dev/garage.local.crt" "$T/dev/garage.local.key" "$T/device.req" "$T/k1.key"
retained "$T/device.req"
# Nobody answers for the device here: sign-requests signs, records and then waits 10 s in vain.
ctl pki sign-requests --dir "$D" --yes >"$T/out" 2>"$T/err" </dev/null
grep -q "^device garage: signed garage.local's certificate" "$T/out" || fail "the device's request was not signed: $(cat "$T/out" "$T/err")"
SERIAL1=$(serial_of "$D/garage.local.crt")
[ "$SERIAL1" != "$OLD_SERIAL" ] || fail "DIR/garage.local.crt is still the old certificate"
[ "$(openssl x509 -in "$D/garage.local.crt" -noout -pubkey)" = "$(openssl pkey -in "$T/k1.key" -pubout)" ] ||
	fail "the new certificate is not for the requested key"
cp "$D/garage.local.crt" "$T/c1.crt"
# The device installed it and cleared its request; the broker puts the old one back.
cleared
retained "$T/device.req"
ctl pki sign-requests --dir "$D" --yes >"$T/out2" 2>"$T/err2" </dev/null
# The owner hears the device was stolen and revokes it, as security.md says.
expect_exit 0 "$GARAGECTL" pki revoke --dir "$D" garage.local
expect_exit 0 "$GARAGECTL" pki revoke --dir "$D" garage.local --previous
grep -q "^$SERIAL1 " "$D/revoked" || grep -q "$SERIAL1" "$D/revoked" ||
	fail "after pki revoke garage.local (and --previous) the certificate the device uses ($SERIAL1) is not revoked: DIR holds $(serial_of "$D/garage.local.crt") and $(serial_of "$D/garage.local.crt.previous")"
openssl crl -in "$D/crl.pem" -noout -text | grep -q "Serial Number: $SERIAL1" || fail "the CRL does not list $SERIAL1"
grep -q "signed before" "$T/out2" || fail "sign-requests does not say the replayed request was answered before: $(cat "$T/out2" "$T/err2")"
pass "a replayed request answered before: nothing signed again, the records keep $SERIAL1, and revoking the device revokes it"

# --- 3. a request the device replaced, put back after the renewal ----------------------------------
expect_exit 0 "$GARAGECTL" pki issue --dir "$D" --client side.local
mkdir "$T/side" && cp "$D/side.local.crt" "$D/side.local.key" "$T/side/" || fail "cannot copy side.local's pair"
(cd "$T" && "$GARAGECTL" broker-config --dir pki --server localhost --port "$PORT" \
	--device garage:garage.local --device side:side.local --controller ctl.local) >"$T/out" 2>"$T/err" ||
	fail "broker-config: $(cat "$T/err")"
reloads=$(count ': Reloading config\.$' "$T/mosquitto.log")
kill -HUP "$BROKER_PID" || fail "cannot reload Mosquitto"
await_count ': Reloading config\.$' $((reloads + 1)) 10 "$T/mosquitto.log" || fail "Mosquitto did not reload"
# side's first request (k2) is replaced by a second (k3) before the owner signs; the broker keeps k2's.
request side.local "$T/side/side.local.crt" "$T/side/side.local.key" "$T/side2.req" "$T/k2.key"
request side.local "$T/side/side.local.crt" "$T/side/side.local.key" "$T/side3.req" "$T/k3.key"
side_retained() {
	mosquitto_pub -h localhost -p "$PORT" --cafile "$D/ca.crt" --cert "$T/side/side.local.crt" \
		--key "$T/side/side.local.key" -t garage/side/csr -f "$1" -r -q 1 || fail "cannot publish $1"
}
side_retained "$T/side3.req"
ctl pki sign-requests --dir "$D" --yes >"$T/out" 2>"$T/err" </dev/null
grep -q "^device side: signed side.local's certificate" "$T/out" || fail "side's request was not signed: $(cat "$T/out" "$T/err")"
SIDE1=$(serial_of "$D/side.local.crt")
# side installed it; the broker puts back the request it replaced.
side_retained "$T/side2.req"
ctl pki sign-requests --dir "$D" --yes >"$T/out" 2>"$T/err" </dev/null
expect_exit 0 "$GARAGECTL" pki revoke --dir "$D" side.local
expect_exit 0 "$GARAGECTL" pki revoke --dir "$D" side.local --previous
grep -q "$SIDE1" "$D/revoked" ||
	fail "after pki revoke side.local (and --previous) the certificate side uses ($SIDE1) is not revoked"
openssl crl -in "$D/crl.pem" -noout -text | grep -q "Serial Number: $SIDE1" || fail "the CRL does not list $SIDE1"
pass "a replaced request put back: the certificate in use leaves the two records, is kept in side.local.crt.older, and revoked with the name"
