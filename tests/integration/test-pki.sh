#!/bin/bash
# garagectl pki and broker-config, checked independently with the openssl command and a real
# Mosquitto: the CA and the certificates carry the extensions their purpose needs and verify for
# it; private keys are 0600 and never overwritten (nor written through a link) without --force;
# fingerprints and DER files equal what openssl makes; a revocation yields a CRL the CA signed
# that lists the serial; the generated broker configuration runs and its ACL lets each identity
# do only its part (SPEC "Security model" 4); garaged comes online through it; and a revoked
# client is refused after a restart (and after SIGHUP for a CRL already configured).
source "$(dirname "$0")/../../scripts/testbed.sh"
[ -x "$GARAGECTL" ] || fail "no garagectl at $GARAGECTL (build first)"
command -v mosquitto_pub >/dev/null || fail "mosquitto_pub is not installed (run scripts/bootstrap)"

# The PKI lives where the testbed's sub/write_conf look for it.
D=$T/pki

mode() { stat -c %a "$1"; }
text() { openssl x509 -in "$1" -noout -text 2>/dev/null; }
# valid_for FILE DAYS: the certificate expires between DAYS-1 and DAYS+1 days from now.
valid_for() {
	openssl x509 -in "$1" -noout -checkend $((($2 - 1) * 86400)) >/dev/null &&
		! openssl x509 -in "$1" -noout -checkend $((($2 + 1) * 86400)) >/dev/null
}

# --- usage -----------------------------------------------------------------------------------
expect_exit 2 "$GARAGECTL" pki
one_line
expect_exit 2 "$GARAGECTL" pki frob
expect_exit 2 "$GARAGECTL" pki init
grep -q -- '--dir' "$T/err" || fail "pki init without --dir does not say so: $(cat "$T/err")"
expect_exit 2 "$GARAGECTL" pki init --dir "$T/x" --days 0
expect_exit 2 "$GARAGECTL" pki init --dir "$T/x" --rsa 1024
expect_exit 2 "$GARAGECTL" pki issue --dir "$D"
expect_exit 2 "$GARAGECTL" pki issue --dir "$D" --server a --client b
expect_exit 2 "$GARAGECTL" pki issue --dir "$D" --server 'bad name'
expect_exit 2 "$GARAGECTL" pki issue --dir "$D" --server bad_host
expect_exit 2 "$GARAGECTL" pki issue --dir "$D" --client ca
expect_exit 2 "$GARAGECTL" pki issue --dir "$D" --client ../escape
expect_exit 2 "$GARAGECTL" pki issue --dir "$D" --server h --ip 300.1.1.1
expect_exit 2 "$GARAGECTL" pki fingerprint
expect_exit 2 "$GARAGECTL" pki der "$T/x"
expect_exit 2 "$GARAGECTL" pki revoke --dir "$D"
expect_exit 2 "$GARAGECTL" broker-config
expect_exit 2 "$GARAGECTL" broker-config --dir "$D" --server localhost --controller c
grep -q -- '--device' "$T/err" || fail "broker-config without --device does not say so"
expect_exit 2 "$GARAGECTL" broker-config --dir "$D" --server localhost --device Garage:g --controller c
expect_exit 2 "$GARAGECTL" broker-config --dir "$D" --server localhost --device garage --controller c
expect_exit 2 "$GARAGECTL" broker-config --dir "$D" --server localhost --device g:x --controller 'a b'
expect_exit 2 "$GARAGECTL" broker-config --dir "$D" --server localhost --device g:x --controller 'a/#'
expect_exit 2 "$GARAGECTL" broker-config --dir "$D" --server localhost --device g:x --controller x
grep -q 'twice' "$T/err" || fail "one CN in two roles is not refused as such: $(cat "$T/err")"
expect_exit 2 "$GARAGECTL" broker-config --dir "$D" --server localhost --device g:x --controller c --port 0
expect_exit 2 "$GARAGECTL" broker-config --dir "$D" --server localhost --device g:x --controller c --prefix 'a/+'
# Home Assistant may write all of its prefix: one prefix inside the other would let it write
# every command topic (or every device's discovery). Equal, or one a leading level of the other.
for pair in "garage garage" "garage garage/ha" "home/garage home" "homeassistant homeassistant/x"; do
	read -r p ha <<<"$pair"
	expect_exit 2 "$GARAGECTL" broker-config --dir "$D" --server localhost --device g:x --controller c \
		--prefix "$p" --ha-prefix "$ha"
	one_line
	grep -q 'overlap' "$T/err" || fail "--prefix $p --ha-prefix $ha is not refused as overlapping: $(cat "$T/err")"
done
for n in 0 4095 16383 268435456 16k -1; do
	expect_exit 2 "$GARAGECTL" broker-config --dir "$D" --server localhost --device g:x --controller c --max-packet-size "$n"
done
expect_exit 0 "$GARAGECTL" --help
grep -q 'pki issue' "$T/out" && grep -q 'broker-config' "$T/out" || fail "--help does not show pki and broker-config"
pass "usage errors exit 2 with one line; overlapping --prefix and --ha-prefix refused"

expect_exit 1 "$GARAGECTL" pki issue --dir "$D" --client early.local
one_line
grep -q "garagectl pki init --dir $D" "$T/err" || fail "issue without a CA does not say to run pki init: $(cat "$T/err")"
[ -e "$D/early.local.key" ] && fail "issue without a CA left a key"
pass "issue without a CA says to run pki init, writes nothing"

# --- pki init ------------------------------------------------------------------------------
expect_exit 0 "$GARAGECTL" pki init --dir "$D"
[ "$(mode "$D")" = 700 ] || fail "pki init made $D with mode $(mode "$D")"
[ "$(mode "$D/ca.key")" = 600 ] || fail "ca.key has mode $(mode "$D/ca.key")"
head -1 "$D/ca.key" | grep -qx -- '-----BEGIN PRIVATE KEY-----' || fail "ca.key is not PEM PKCS#8"
grep -q "$D/ca.key" "$T/out" && grep -q "$D/ca.crt" "$T/out" || fail "pki init does not say what it wrote: $(cat "$T/out")"
cp "$D/ca.crt" "$T/ca1.crt"
expect_exit 1 "$GARAGECTL" pki init --dir "$D"
one_line
grep -q -- '--force' "$T/err" || fail "init over a CA does not mention --force"
cmp -s "$D/ca.crt" "$T/ca1.crt" || fail "pki init replaced a CA without --force"
expect_exit 0 "$GARAGECTL" pki init --dir "$D" --force
cmp -s "$D/ca.crt" "$T/ca1.crt" && fail "pki init --force did not make a new CA"
[ "$(mode "$D/ca.key")" = 600 ] || fail "ca.key after --force has mode $(mode "$D/ca.key")"
text "$D/ca.crt" >"$T/ca.txt"
grep -A1 'Basic Constraints: critical' "$T/ca.txt" | grep -q 'CA:TRUE, pathlen:0' || fail "CA lacks critical CA:TRUE, pathlen:0"
grep -A1 'Key Usage: critical' "$T/ca.txt" | grep -qx ' *Certificate Sign, CRL Sign' || fail "CA key usage is not critical keyCertSign,cRLSign"
grep -q 'Subject Key Identifier' "$T/ca.txt" || fail "CA lacks a subject key identifier"
grep -q 'Subject: CN = garaged CA' "$T/ca.txt" || fail "CA subject is not CN = garaged CA"
grep -q 'NIST CURVE: P-256' "$T/ca.txt" || fail "CA key is not ECDSA P-256"
valid_for "$D/ca.crt" 3650 || fail "CA is not valid for 3650 days"
openssl verify -CAfile "$D/ca.crt" "$D/ca.crt" >/dev/null 2>&1 || fail "the CA does not verify as its own root"
serial=$(openssl x509 -in "$D/ca.crt" -noout -serial | cut -d= -f2)
[ ${#serial} -ge 25 ] || fail "CA serial $serial is not a random 128-bit number"
expect_exit 0 "$GARAGECTL" pki init --dir "$T/other" --cn 'Other CA' --days 100
openssl x509 -in "$T/other/ca.crt" -noout -subject | grep -q 'CN = Other CA' || fail "--cn is not the CA subject"
valid_for "$T/other/ca.crt" 100 || fail "--days 100 is not honoured"
pass "pki init: CA:TRUE pathlen:0, keyCertSign+cRLSign, SKI, P-256, 3650 days, 0600 key; replaced only with --force"

# --- pki issue -----------------------------------------------------------------------------
expect_exit 0 "$GARAGECTL" pki issue --dir "$D" --server localhost --ip 127.0.0.1 --ip ::1
grep -q "$D/localhost.key" "$T/out" || fail "issue does not say what it wrote: $(cat "$T/out")"
fp=$(openssl x509 -in "$D/localhost.crt" -noout -fingerprint -sha256 | cut -d= -f2)
grep -q "$fp" "$T/out" || fail "issue does not print the SHA-256 fingerprint $fp"
for c in garage.local side.local ctl.local ha.local stranger.local lost.local late.local; do
	expect_exit 0 "$GARAGECTL" pki issue --dir "$D" --client "$c"
done
for f in localhost garage.local ctl.local; do
	[ "$(mode "$D/$f.key")" = 600 ] || fail "$f.key has mode $(mode "$D/$f.key")"
	head -1 "$D/$f.key" | grep -qx -- '-----BEGIN PRIVATE KEY-----' || fail "$f.key is not PEM PKCS#8"
done
openssl verify -CAfile "$D/ca.crt" -purpose sslserver "$D/localhost.crt" >/dev/null 2>&1 || fail "server cert does not verify for sslserver"
openssl verify -CAfile "$D/ca.crt" -purpose sslclient "$D/localhost.crt" >/dev/null 2>&1 && fail "server cert verifies for sslclient too"
openssl verify -CAfile "$D/ca.crt" -purpose sslclient "$D/garage.local.crt" >/dev/null 2>&1 || fail "client cert does not verify for sslclient"
openssl verify -CAfile "$D/ca.crt" -purpose sslserver "$D/garage.local.crt" >/dev/null 2>&1 && fail "client cert verifies for sslserver too"
openssl verify -CAfile "$T/other/ca.crt" "$D/garage.local.crt" >/dev/null 2>&1 && fail "a cert verifies under another CA"
text "$D/localhost.crt" >"$T/srv.txt"
grep -q 'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1' "$T/srv.txt" || fail "server SAN: $(grep -A1 'Alternative Name' "$T/srv.txt")"
grep -q 'Subject: CN = localhost' "$T/srv.txt" || fail "server CN is not localhost"
grep -A1 'Basic Constraints' "$T/srv.txt" | grep -q 'CA:FALSE' || fail "server cert lacks CA:FALSE"
grep -A1 'Key Usage: critical' "$T/srv.txt" | grep -qx ' *Digital Signature' || fail "server key usage is not critical digitalSignature"
grep -A1 'Extended Key Usage' "$T/srv.txt" | grep -qx ' *TLS Web Server Authentication' || fail "server EKU is not serverAuth alone"
ski=$(grep -A1 'Subject Key Identifier' "$T/ca.txt" | tail -1 | tr -d ' ')
grep -A1 'Authority Key Identifier' "$T/srv.txt" | grep -q "$ski" || fail "server AKID is not the CA's SKI $ski"
valid_for "$D/localhost.crt" 365 || fail "server cert is not valid for 365 days"
text "$D/garage.local.crt" >"$T/cli.txt"
openssl x509 -in "$D/garage.local.crt" -noout -subject | grep -q 'CN *= *garage.local' || fail "client CN is not garage.local"
grep -A1 'Extended Key Usage' "$T/cli.txt" | grep -qx ' *TLS Web Client Authentication' || fail "client EKU is not clientAuth alone"
s1=$(openssl x509 -in "$D/ctl.local.crt" -noout -serial); s2=$(openssl x509 -in "$D/ha.local.crt" -noout -serial)
[ "$s1" != "$s2" ] || fail "two certificates share serial $s1"
expect_exit 0 "$GARAGECTL" pki issue --dir "$D" --server 192.0.2.7 --days 30
openssl x509 -in "$D/192.0.2.7.crt" -noout -ext subjectAltName | grep -q 'IP Address:192.0.2.7' || fail "an IP server name is not SAN IP"
openssl x509 -in "$D/192.0.2.7.crt" -noout -ext subjectAltName | grep -q 'DNS:' && fail "an IP server name got a DNS SAN"
valid_for "$D/192.0.2.7.crt" 30 || fail "issue --days 30 is not honoured"
expect_exit 0 "$GARAGECTL" pki issue --dir "$T/other" --client long.local --days 1000
valid_for "$T/other/long.local.crt" 100 || fail "a certificate outlives its CA"
grep -q 'when the CA expires' "$T/out" || fail "issue does not say the validity was cut to the CA's"
pass "pki issue: serverAuth with SAN DNS/IP, clientAuth with CN, CA:FALSE, AKID, 365 days, 0600 keys"

cp "$D/garage.local.key" "$T/g.key.orig"
expect_exit 1 "$GARAGECTL" pki issue --dir "$D" --client garage.local
one_line
grep -q 'already exists' "$T/err" && grep -q -- '--force' "$T/err" || fail "refusing to overwrite does not say why: $(cat "$T/err")"
cmp -s "$D/garage.local.key" "$T/g.key.orig" || fail "pki issue changed an existing key without --force"
chmod 644 "$D/garage.local.key"
expect_exit 0 "$GARAGECTL" pki issue --dir "$D" --client garage.local --force
cmp -s "$D/garage.local.key" "$T/g.key.orig" && fail "pki issue --force kept the old key"
[ "$(mode "$D/garage.local.key")" = 600 ] || fail "key replaced with --force has mode $(mode "$D/garage.local.key")"
openssl verify -CAfile "$D/ca.crt" -purpose sslclient "$D/garage.local.crt" >/dev/null 2>&1 || fail "the reissued cert does not verify"
[ "$(openssl x509 -in "$D/garage.local.crt" -noout -pubkey)" = "$(openssl pkey -in "$D/garage.local.key" -pubout)" ] || fail "reissued cert and key do not match"
echo precious >"$T/victim"
ln -s "$T/victim" "$D/planted.key"
expect_exit 1 "$GARAGECTL" pki issue --dir "$D" --client planted
[ "$(cat "$T/victim")" = precious ] || fail "pki issue wrote through a symbolic link"
expect_exit 0 "$GARAGECTL" pki issue --dir "$D" --client planted --force
[ "$(cat "$T/victim")" = precious ] && [ -f "$D/planted.key" ] && [ ! -L "$D/planted.key" ] || fail "--force wrote through the link instead of replacing it"
ls "$D" | grep -q 'XXXX\|\.key\.' && fail "temporary files left in $D: $(ls "$D")"
pass "pki issue never overwrites a key (nor through a link) without --force; --force replaces it, 0600"

# --- RSA -------------------------------------------------------------------------------------
expect_exit 0 "$GARAGECTL" pki init --dir "$T/rsa" --rsa 2048
text "$T/rsa/ca.crt" | grep -q 'Public-Key: (2048 bit)' || fail "--rsa 2048 CA is not RSA 2048"
text "$T/rsa/ca.crt" | grep -q 'sha256WithRSAEncryption' || fail "RSA CA is not signed with SHA-256"
expect_exit 0 "$GARAGECTL" pki issue --dir "$T/rsa" --server localhost
text "$T/rsa/localhost.crt" >"$T/rsasrv.txt"
grep -q 'Public-Key: (2048 bit)' "$T/rsasrv.txt" && grep -q rsaEncryption "$T/rsasrv.txt" || fail "leaf of an RSA CA is not RSA 2048"
grep -A1 'Key Usage: critical' "$T/rsasrv.txt" | grep -qx ' *Digital Signature, Key Encipherment' || fail "RSA leaf lacks keyEncipherment"
openssl verify -CAfile "$T/rsa/ca.crt" -purpose sslserver "$T/rsa/localhost.crt" >/dev/null 2>&1 || fail "RSA server cert does not verify"
expect_exit 0 "$GARAGECTL" pki issue --dir "$D" --client old.device --rsa 2048
text "$D/old.device.crt" | grep -q 'Public-Key: (2048 bit)' || fail "issue --rsa under an EC CA is not RSA"
openssl verify -CAfile "$D/ca.crt" -purpose sslclient "$D/old.device.crt" >/dev/null 2>&1 || fail "RSA client under EC CA does not verify"
pass "RSA: --rsa 2048 CA and leaves (keyEncipherment), RSA leaf under an EC CA"

# --- fingerprint -----------------------------------------------------------------------------
expect_exit 0 "$GARAGECTL" pki fingerprint "$D/localhost.crt" --sha1
sha256=$(openssl x509 -in "$D/localhost.crt" -noout -fingerprint -sha256 | cut -d= -f2)
sha1=$(openssl x509 -in "$D/localhost.crt" -noout -fingerprint -sha1 | cut -d= -f2)
spki=$(openssl x509 -in "$D/localhost.crt" -pubkey -noout | openssl pkey -pubin -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1)
grep -qx "sha256 $sha256" "$T/out" || fail "sha256 line is not $sha256: $(cat "$T/out")"
grep -qx "pin = sha256:$sha256" "$T/out" || fail "no 'pin = sha256:' line"
got=$(sed -n 's/^spki-sha256 //p' "$T/out" | tr -d : | tr A-F a-f)
[ "$got" = "$spki" ] || fail "spki-sha256 $got is not the DER SubjectPublicKeyInfo's $spki"
grep -qx "pin = spki-sha256:$(sed -n 's/^spki-sha256 //p' "$T/out")" "$T/out" || fail "no 'pin = spki-sha256:' line"
grep -q "$sha1" "$T/out" || fail "no SHA-1 colon form $sha1"
grep -q "${sha1//:/ }" "$T/out" || fail "no SHA-1 space form"
expect_exit 0 "$GARAGECTL" pki fingerprint "$D/localhost.crt"
grep -q "$sha1" "$T/out" && fail "SHA-1 printed without --sha1"
openssl x509 -in "$D/localhost.crt" -outform der -out "$T/srv.der"
expect_exit 0 "$GARAGECTL" pki fingerprint "$T/srv.der"
grep -qx "sha256 $sha256" "$T/out" || fail "fingerprint of a DER certificate differs"
expect_exit 1 "$GARAGECTL" pki fingerprint "$D/localhost.key"
one_line
pass "pki fingerprint: sha256, spki-sha256 and SHA-1 (colon, space) equal openssl's; pin lines; PEM and DER"

# --- der ---------------------------------------------------------------------------------------
expect_exit 0 "$GARAGECTL" pki der "$D/garage.local.crt" -o "$T/g.der"
openssl x509 -in "$D/garage.local.crt" -outform der | cmp -s - "$T/g.der" || fail "DER certificate differs from openssl's"
expect_exit 0 "$GARAGECTL" pki der "$D/garage.local.key" -o "$T/g.key.der"
[ "$(mode "$T/g.key.der")" = 600 ] || fail "DER key has mode $(mode "$T/g.key.der")"
[ "$(openssl pkey -inform der -in "$T/g.key.der" -pubout 2>/dev/null)" = "$(openssl pkey -in "$D/garage.local.key" -pubout)" ] || fail "DER key is not the PEM key"
openssl pkcs8 -inform der -nocrypt -in "$T/g.key.der" -out /dev/null 2>/dev/null || fail "DER key is not PKCS#8"
cp "$T/g.key.der" "$T/gk.orig"
expect_exit 1 "$GARAGECTL" pki der "$D/ctl.local.key" -o "$T/g.key.der"
cmp -s "$T/g.key.der" "$T/gk.orig" || fail "pki der overwrote a key without --force"
expect_exit 0 "$GARAGECTL" pki der "$D/ctl.local.key" -o "$T/g.key.der" --force
[ "$(openssl pkey -inform der -in "$T/g.key.der" -pubout 2>/dev/null)" = "$(openssl pkey -in "$D/ctl.local.key" -pubout)" ] || fail "der --force did not replace the key"
openssl ecparam -genkey -name prime256v1 -noout -out "$T/trad.key" 2>/dev/null
expect_exit 0 "$GARAGECTL" pki der "$T/trad.key" -o "$T/trad.der"
openssl pkey -inform der -in "$T/trad.der" -noout 2>/dev/null || fail "a traditional EC PEM key does not convert"
openssl pkey -in "$T/trad.key" -aes256 -passout pass:secret -out "$T/enc.key" 2>/dev/null
expect_exit 1 timeout 5 "$GARAGECTL" pki der "$T/enc.key" -o "$T/enc.der"
grep -q encrypted "$T/err" || fail "an encrypted key is not refused as such: $(cat "$T/err")"
pass "pki der: DER certificate equal to openssl's, PKCS#8 DER key 0600, no overwrite without --force"

# --- revoke -----------------------------------------------------------------------------------
expect_exit 1 "$GARAGECTL" pki revoke --dir "$D" nobody.local
one_line
cp "$T/other/long.local.crt" "$D/foreign.crt"
expect_exit 1 "$GARAGECTL" pki revoke --dir "$D" foreign
grep -q 'not issued by' "$T/err" || fail "revoking another CA's certificate: $(cat "$T/err")"
rm "$D/foreign.crt"
[ -e "$D/crl.pem" ] && fail "a failed revoke wrote a CRL"
pass "revoking a missing or foreign certificate fails and writes nothing"

# --- broker-config and a real Mosquitto --------------------------------------------------------
bc() { # bc [extra options]: broker-config for the identities of this test, from a relative --dir
	(cd "$T" && "$GARAGECTL" broker-config --dir pki --server localhost --port "$PORT" \
		--device garage:garage.local --device side:side.local --controller ctl.local \
		--controller lost.local --controller late.local --homeassistant ha.local "$@") \
		>"$T/out" 2>"$T/err" || fail "broker-config: $(cat "$T/err")"
}
PORT=$(free_port)
rm -f "$D/localhost.key"
(cd "$T" && "$GARAGECTL" broker-config --dir pki --server localhost --device garage:garage.local --controller ctl.local) >"$T/out" 2>"$T/err"
[ $? = 1 ] || fail "broker-config without the server key did not fail"
grep -q "garagectl pki issue --dir pki --server localhost" "$T/err" || fail "missing server key does not say which pki issue to run: $(cat "$T/err")"
expect_exit 0 "$GARAGECTL" pki issue --dir "$D" --server localhost --ip 127.0.0.1 --force
# DIR/data planted as a link to a directory of someone else's: refused, never followed (run as
# root, a chown through it would give Mosquitto's user the target).
mkdir -m 700 "$T/victim-dir"
ln -s "$T/victim-dir" "$D/data"
(cd "$T" && "$GARAGECTL" broker-config --dir pki --server localhost --port "$PORT" \
	--device garage:garage.local --controller ctl.local) >"$T/out" 2>"$T/err"
rc=$?
[ "$(stat -c %U:%G "$T/victim-dir")" = "$(id -un):$(id -gn)" ] ||
	fail "broker-config changed the owner of a symbolic link's target: $(stat -c %U:%G "$T/victim-dir")"
[ "$rc" = 1 ] || fail "broker-config with DIR/data a symbolic link exited $rc, want 1"
one_line
grep -q "$(realpath "$D")/data is a symbolic link" "$T/err" || fail "a linked data directory is not named as such: $(cat "$T/err")"
[ -e "$D/mosquitto.conf" ] && fail "broker-config wrote a configuration after refusing the data directory"
rm "$D/data"
pass "broker-config refuses a symbolic link at DIR/data and never follows it"
bc
abs=$(realpath "$D")
conf=$D/mosquitto.conf
for l in "per_listener_settings false" "allow_anonymous false" "persistence true" \
	"persistence_location $abs/data/" "listener $PORT" "cafile $abs/ca.crt" \
	"certfile $abs/localhost.crt" "keyfile $abs/localhost.key" "require_certificate true" \
	"use_identity_as_username true" "use_username_as_clientid true" "tls_version tlsv1.2" \
	"max_packet_size 16384" "acl_file $abs/acl"; do
	grep -qx "$l" "$conf" || fail "mosquitto.conf lacks '$l'"
done
grep -q '^user[[:space:]]' "$conf" && fail "mosquitto.conf has a user line"
grep -q '^crlfile' "$conf" && fail "mosquitto.conf names a CRL that does not exist"
grep -q '^# .*garagectl broker-config' "$conf" || fail "mosquitto.conf does not say how it was made"
grep -E '^(cafile|certfile|keyfile|acl_file|persistence_location|crlfile) ' "$conf" | grep -v " /" && fail "a path in mosquitto.conf is not absolute"
[ -d "$D/data" ] || fail "no persistence directory $D/data"
if getent passwd mosquitto >/dev/null; then
	[ "$(stat -c %U "$D/data")" = mosquitto ] || fail "the persistence directory is not the mosquitto user's"
	grep -q "chgrp mosquitto" "$T/out" || fail "broker-config does not say the mosquitto user must read the key"
fi
[ "$(mode "$D/localhost.key")" = 600 ] || fail "broker-config changed the key's mode"
grep -A8 '^user garage.local$' "$D/acl" | grep -qx 'topic read garage/garage/+/cmd' || fail "acl: $(cat "$D/acl")"
grep -A14 '^user garage.local$' "$D/acl" | grep -qx 'topic write homeassistant/cover/garage/#' || fail "acl lacks garage's own discovery subtree"
grep -A14 '^user side.local$' "$D/acl" | grep -qx 'topic write homeassistant/cover/side/#' || fail "acl lacks side's own discovery subtree"
grep -q 'cover/+' "$D/acl" && fail "acl still lets devices write every discovery topic: $(grep 'cover/+' "$D/acl")"
bc --max-packet-size 32768
grep -qx 'max_packet_size 32768' "$conf" || fail "--max-packet-size 32768 is not max_packet_size 32768"
grep -q -- '--max-packet-size 32768' "$conf" || fail "the header does not repeat --max-packet-size"
bc
pass "broker-config: absolute paths, TLS with CN as user and client id, no user line, no crlfile yet"

broker() { # (re)starts Mosquitto as the acceptance check runs it: as root, on loopback
	{ echo "user root"; sed -e '/^user[[:space:]]/d' \
		-e 's/^listener[[:space:]]\+\([0-9]\+\)\([[:space:]].*\)\?$/listener \1 127.0.0.1/' "$conf"; } >"$T/run.conf"
	mosquitto -c "$T/run.conf" >>"$T/mosquitto.log" 2>&1 &
	BROKER_PID=$!
	PIDS+=("$BROKER_PID")
	local i
	for i in $(seq 50); do ss -ltn | grep -q "127.0.0.1:$PORT " && return 0; sleep 0.1; done
	fail "Mosquitto refused the generated config: $(tail -3 "$T/mosquitto.log")"
}

broker
allowed ctl.local garage/garage/main/cmd garage.local
allowed lost.local garage/garage/main/cmd garage.local
allowed ha.local garage/garage/main/ha_cmd garage.local
allowed garage.local garage/garage/main/state ctl.local
allowed garage.local garage/garage/events ha.local
allowed garage.local garage/garage/availability ha.local
allowed garage.local homeassistant/cover/garage/main/config ha.local
allowed side.local homeassistant/cover/side/main/config ha.local
allowed ha.local homeassistant/status garage.local
allowed side.local garage/side/main/state ctl.local
allowed ctl.local garage/garage/admin garage.local
allowed ctl.local garage/garage/enroll garage.local
allowed garage.local garage/garage/keys ctl.local
pass "the generated ACL lets each identity do its part"
denied garage.local garage/garage/main/cmd ctl.local        # a device commands itself
denied ctl.local garage/garage/main/state ha.local          # only the device writes its state
denied side.local garage/garage/main/state ctl.local        # nor another device
denied side.local garage/garage/main/cmd ctl.local
denied ha.local garage/garage/main/cmd garage.local         # HA sends no signed-command topic
denied ctl.local garage/garage/main/ha_cmd garage.local
denied garage.local garage/side/main/cmd side.local         # a device cannot command another
denied stranger.local garage/garage/main/cmd garage.local   # an unlisted certificate: nothing
denied garage.local garage/garage/main/state stranger.local
denied garage.local garage/garage/admin ctl.local           # a device manages no keys
denied ha.local garage/garage/admin garage.local            # nor does Home Assistant
denied ha.local garage/garage/enroll garage.local
denied ctl.local garage/garage/admin side.local             # a device hears only its own
denied ctl.local garage/garage/keys ha.local                # only the device writes its key list
denied side.local garage/garage/keys ctl.local              # nor another device
mpub stranger.local garage/x y || fail "a certificate of the CA outside the ACL cannot even connect"
pass "the generated ACL refuses everything else; an unlisted certificate connects but can do nothing"

# Issue 13, 6: one device forged another door's discovery (state topic of its own, payload_close
# OPEN), on the topic the door's discovery had (homeassistant/cover/garage_main/config) and on
# the one it has now. Each device writes only its own node id's subtree.
denied side.local homeassistant/cover/garage_main/config ha.local
denied side.local homeassistant/cover/garage/main/config ha.local
denied side.local homeassistant/cover/garage/x/config ha.local
denied garage.local homeassistant/cover/side/main/config ha.local
denied garage.local homeassistant/light/garage/main/config ha.local
forged='{"name":"main","unique_id":"garaged_garage_main","state_topic":"garage/side/main/state","command_topic":"garage/garage/main/ha_cmd","payload_close":"OPEN"}'
mosquitto_pub -h localhost -p "$PORT" --cafile "$D/ca.crt" --cert "$D/side.local.crt" --key "$D/side.local.key" \
	-t homeassistant/cover/garage/main/config -m "$forged" -r -q 1 2>/dev/null
[ -z "$(sub homeassistant/cover/garage/main/config 1 2 ha.local)" ] || fail "side.local left a retained discovery for garage's door"
pass "a device writes only its own discovery subtree: side.local cannot write garage's (live or retained), nor any other"
# docs/setup.md, "Upgrading": the retained config on the old topic is cleared with Home
# Assistant's certificate, since the device may no longer write there.
mosquitto_pub -h localhost -p "$PORT" --cafile "$D/ca.crt" --cert "$D/ha.local.crt" --key "$D/ha.local.key" \
	-t homeassistant/cover/garage_main/config -m old-config -r -q 1 || fail "cannot leave an old retained config"
for who in garage.local ha.local; do
	mosquitto_pub -h localhost -p "$PORT" --cafile "$D/ca.crt" --cert "$D/$who.crt" --key "$D/$who.key" \
		-r -n -t homeassistant/cover/garage_main/config -q 1 || fail "mosquitto_pub -r -n as $who"
	left=$(sub homeassistant/cover/garage_main/config 1 1 ctl.local)
	[ "$who" = garage.local ] && [ "$left" != old-config ] && fail "the device cleared the old discovery: the ACL lets it write there"
	[ "$who" = ha.local ] && [ -n "$left" ] && fail "Home Assistant's certificate did not clear the old discovery: $left"
done
pass "the old retained discovery is cleared with Home Assistant's certificate (the device cannot), as docs/setup.md says"

expect_exit 0 "$GARAGECTL" pki init --dir "$T/rogue"
expect_exit 0 "$GARAGECTL" pki issue --dir "$T/rogue" --client garage.local
mpub garage.local garage/garage/availability online "$T/rogue" && fail "the broker accepts a client cert from another CA"
pass "the generated broker refuses a client certificate from another CA"

# garaged through the generated configuration, with its own copies of the device's three files
# as README's install steps give them to the board: pki init keeps the CA's folder to its owner
# (0700), and under the unit (GARAGED_AS_UNIT) garaged is another user.
mkdir "$T/device" && install -m 0644 "$D/ca.crt" "$D/garage.local.crt" "$T/device/" &&
	install -m 0600 "$D/garage.local.key" "$T/device/" || fail "cannot copy the device's files"
write_conf
sed -i "s#^\(cafile\|certfile\|keyfile\) = $D/#\1 = $T/device/#" "$T/garaged.conf"
[ "$(grep -c "= $T/device/" "$T/garaged.conf")" = 3 ] || fail "garaged.conf does not name the copies: $(cat "$T/garaged.conf")"
run_garaged -c "$T/garaged.conf" --check-config >"$T/cc.out" 2>&1 || fail "garaged refuses its conf: $(cat "$T/cc.out")"
start_garaged
online 10 || fail "garaged did not come online through the generated broker config"
[ "$(sub garage/garage/main/state 1 3)" = closed ] || fail "garaged's door state did not get through the ACL"
disc=$(sub homeassistant/cover/garage/main/config 1 3 ha.local)
[ -n "$disc" ] || fail "garaged's discovery did not get through the ACL"
pass "garaged's discovery gets through the generated ACL ($(printf %s "$disc" | wc -c) bytes, under max_packet_size)"

# Issue 13, 4: an oversized publish is refused by the broker as soon as it sees the length, and
# garaged never sees it. One over garaged's 512-byte limit but under the broker's reaches it and
# is refused there (too_large): that is what would show, were the big one to get through.
sub_bg "$T/events.rx" garage/garage/events 1000 300 ha.local
EVSUB=$SUB_PID
mpub ctl.local garage/garage/main/cmd "$(head -c 600 /dev/zero | tr '\0' x)" || fail "a 600-byte command did not get through the broker"
await '"reason":"too_large"' 5 "$T/events.rx" || fail "garaged did not refuse a 600-byte command as too_large"
grep -c '"reason":"too_large"' "$T/events.rx" >"$T/too_large.before"
head -c 1048576 /dev/zero | tr '\0' x >"$T/big"
mosquitto_pub -h localhost -p "$PORT" --cafile "$D/ca.crt" --cert "$D/ctl.local.crt" --key "$D/ctl.local.key" \
	-t garage/garage/main/cmd -f "$T/big" -q 1 >"$T/big.out" 2>&1 && fail "the broker took a 1 MB publish: $(cat "$T/big.out")"
sleep 2 # time for a refusal that must not come: garaged never sees the 1 MB publish
[ "$(grep -c '"reason":"too_large"' "$T/events.rx")" = "$(cat "$T/too_large.before")" ] ||
	fail "garaged saw the 1 MB publish: $(tail -1 "$T/events.rx")"
[ "$(grep -c 'too_large' "$T/garaged.log")" = 1 ] || fail "garaged's log shows more than the 600-byte command: $(grep too_large "$T/garaged.log")"
grep -q 'Client ctl.local disconnected due to oversize packet' "$T/mosquitto.log" || fail "Mosquitto does not say it closed ctl.local for an oversize packet"
kill -0 "$GARAGED_PID" 2>/dev/null || fail "garaged died"
[ "$(sub garage/garage/availability 1 3)" = online ] || fail "garaged is not online after the 1 MB publish"
# One certificate is one client: ha.local is needed below, by flows().
kill "$EVSUB"; wait "$EVSUB" 2>/dev/null
pass "a 1 MB publish is refused by the broker (connection closed: $(tail -1 "$T/big.out")), garaged never sees it"
stop_garaged
[ "$(sub garage/garage/availability 1 3)" = offline ] || fail "garaged's offline did not get through the ACL"
pass "garaged comes online through the generated broker config, publishes state and offline"

# --- revocation ---------------------------------------------------------------------------------
lost_serial=$(openssl x509 -in "$D/lost.local.crt" -noout -serial | cut -d= -f2)
expect_exit 0 "$GARAGECTL" pki revoke --dir "$D" lost.local
grep -q "garagectl broker-config" "$T/out" && grep -qi restart "$T/out" || fail "revoke does not say to rerun broker-config and restart Mosquitto: $(cat "$T/out")"
openssl crl -in "$D/crl.pem" -CAfile "$D/ca.crt" -noout 2>&1 | grep -q 'verify OK' || fail "the CRL does not verify with the CA"
openssl crl -in "$D/crl.pem" -noout -text >"$T/crl.txt"
grep -q "Serial Number: $lost_serial" "$T/crl.txt" || fail "the CRL does not list $lost_serial"
grep -q 'Version 2' "$T/crl.txt" || fail "the CRL is not version 2"
grep -A1 'CRL Number' "$T/crl.txt" | tail -1 | grep -qx ' *1' || fail "the first CRL is not number 1"
next=$(date -d "$(openssl crl -in "$D/crl.pem" -noout -nextupdate | cut -d= -f2)" +%s)
ca_end=$(date -d "$(openssl x509 -in "$D/ca.crt" -noout -enddate | cut -d= -f2)" +%s)
[ "$next" = "$ca_end" ] || fail "nextUpdate $next is not the CA's end $ca_end (the default CRL lives as long as the CA)"
grep -q "^$lost_serial [0-9]\{14\}Z lost.local$" "$D/revoked" || fail "revoked list: $(cat "$D/revoked")"
openssl verify -crl_check -CRLfile "$D/crl.pem" -CAfile "$D/ca.crt" "$D/lost.local.crt" >/dev/null 2>&1 && fail "openssl still accepts the revoked certificate"
openssl verify -crl_check -CRLfile "$D/crl.pem" -CAfile "$D/ca.crt" "$D/ctl.local.crt" >/dev/null 2>&1 || fail "the CRL revokes more than lost.local"
expect_exit 0 "$GARAGECTL" pki revoke --dir "$D" lost.local
[ "$(grep -c lost.local "$D/revoked")" = 1 ] || fail "revoking twice lists the certificate twice"
openssl crl -in "$D/crl.pem" -noout -text | grep -A1 'CRL Number' | tail -1 | grep -qx ' *2' || fail "re-signing did not raise the CRL number"
pass "pki revoke: a v2 CRL the CA signed, numbered, next update at the CA's end, listing the serial"

bc
grep -qx "crlfile $abs/crl.pem" "$conf" || fail "broker-config after revoke does not name the CRL"
stop_broker
[ -f "$D/data/mosquitto.db" ] || fail "Mosquitto saved nothing in the persistence directory"
broker
mpub lost.local garage/garage/main/cmd x && fail "the revoked certificate still connects after a restart"
allowed ctl.local garage/garage/main/cmd garage.local
start_garaged
online 20 || fail "garaged did not come online again after the restart"
allowed late.local garage/garage/main/cmd ha.local
pass "after revoke, broker-config and a restart the revoked client is refused, the others work"

# With the CRL already configured, SIGHUP re-reads it for new connections (what revoke says).
expect_exit 0 "$GARAGECTL" pki revoke --dir "$D" late.local
grep -q SIGHUP "$T/out" || fail "revoke does not explain SIGHUP once the CRL is configured: $(cat "$T/out")"
reloads=$(count ': Reloading config\.$' "$T/mosquitto.log")
kill -HUP "$BROKER_PID"
# Mosquitto reloads (the CRL too) in one go after this line, before it takes a new connection.
await_count ': Reloading config\.$' $((reloads + 1)) 10 "$T/mosquitto.log" || fail "Mosquitto did not log a reload within 10 s of SIGHUP"
mpub late.local garage/garage/x y && fail "a certificate revoked before SIGHUP still connects"
mpub ctl.local garage/garage/x y || fail "after SIGHUP the controller cannot connect"
pass "once crlfile is configured, SIGHUP applies a new revocation to new connections"

# The CRL's life: never past the CA's; near its end broker-config warns (an out-of-date CRL
# makes Mosquitto refuse every client); a damaged revoked list is reported at its line.
expect_exit 0 "$GARAGECTL" pki revoke --dir "$T/other" long.local --crl-days 365
[ "$(openssl crl -in "$T/other/crl.pem" -noout -nextupdate | cut -d= -f2)" = \
	"$(openssl x509 -in "$T/other/ca.crt" -noout -enddate | cut -d= -f2)" ] || fail "the CRL outlives its CA"
expect_exit 0 "$GARAGECTL" pki revoke --dir "$D" late.local --crl-days 1
bc
grep -q 'warning: .*crl.pem' "$T/err" || fail "broker-config does not warn of a CRL about to go out of date"
n=$(($(wc -l <"$D/revoked") + 1))
echo "XYZ not-a-time someone" >>"$D/revoked"
cp "$D/crl.pem" "$T/crl.before"
expect_exit 1 "$GARAGECTL" pki revoke --dir "$D" stranger.local
one_line
grep -q "$D/revoked:$n:" "$T/err" || fail "a damaged revoked list is not reported at its line: $(cat "$T/err")"
cmp -s "$D/crl.pem" "$T/crl.before" || fail "a failed revoke rewrote the CRL"
pass "the CRL never outlives the CA; broker-config warns before it goes out of date; bad list lines are named"
