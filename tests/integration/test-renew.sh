#!/bin/bash
# Certificates that renew themselves (issue 17), end to end against a real Mosquitto configured
# by garagectl broker-config, with a PKI made by garagectl pki: the device's certificate
# expires in 2 days, so garaged asks at connect (a new key in state_dir, a request retained on
# P/D/csr); garagectl pki sign-requests --yes signs it, records it and sends it on P/D/cert;
# garaged installs it and connects with the new serial. The old certificate is then revoked
# (pki revoke --previous, the CRL on the broker) and garaged still connects, after a restart
# too. Refused with an event, nothing changed: a certificate with nothing pending, for another
# key, for another CN, from another CA (same name), expired. A certificate the broker refuses
# (revoked before it is installed) leads back to the pair before it, with the reason. A client
# subscribed to '#' (an ACL line of its own) hears every message of the run, and none holds
# private key material. The ACL lets the device write P/D/csr and read P/D/cert, and only
# controllers write P/+/cert.
source "$(dirname "$0")/../../scripts/testbed.sh"
[ -x "$GARAGECTL" ] || fail "no garagectl at $GARAGECTL (build first)"
command -v mosquitto_pub >/dev/null || fail "mosquitto_pub is not installed (run scripts/bootstrap)"

D=$T/pki
STATE=$T/state
serial_of() { openssl x509 -in "$1" -noout -serial | cut -d= -f2; }
ctl() { "$GARAGECTL" -c "$T/ctl.conf" "$@"; }
utc() { date -u -d "$1" +%Y%m%d%H%M%SZ; }

# --- the PKI, with garagectl pki: the device's certificate expires in 2 days ---------------------
expect_exit 0 "$GARAGECTL" pki init --dir "$D"
expect_exit 0 "$GARAGECTL" pki issue --dir "$D" --server localhost --ip 127.0.0.1
expect_exit 0 "$GARAGECTL" pki issue --dir "$D" --client garage.local --days 2
# ctl.local signs (ctl.conf); watch.local and ha.local are the testbed's watcher and its probe;
# spy.local reads '#'. One certificate is one client: each of them connects once at a time.
for c in ctl.local watch.local ha.local spy.local; do
	expect_exit 0 "$GARAGECTL" pki issue --dir "$D" --client "$c"
done
openssl x509 -in "$D/garage.local.crt" -noout -checkend $((2 * 86400 + 600)) >/dev/null &&
	fail "the device's certificate outlives 2 days"
openssl x509 -in "$D/garage.local.crt" -noout -checkend $((86400)) >/dev/null ||
	fail "the device's certificate does not live a day"
OLD_SERIAL=$(serial_of "$D/garage.local.crt")

# --- the broker, as broker-config makes it, on loopback; spy.local may read everything ----------
PORT=$(free_port)
bc() {
	(cd "$T" && "$GARAGECTL" broker-config --dir pki --server localhost --port "$PORT" \
		--device garage:garage.local --controller ctl.local --homeassistant ha.local \
		--homeassistant watch.local) >"$T/out" 2>"$T/err" || fail "broker-config: $(cat "$T/err")"
	printf '\n# the test'"'"'s witness of every message\nuser spy.local\ntopic read #\n' >>"$D/acl"
}
broker() { # (re)starts Mosquitto as test-pki runs it: as root, on loopback
	{ echo "user root"; sed -e '/^user[[:space:]]/d' \
		-e 's/^listener[[:space:]]\+\([0-9]\+\)\([[:space:]].*\)\?$/listener \1 127.0.0.1/' "$D/mosquitto.conf"; } >"$T/run.conf"
	mosquitto -c "$T/run.conf" >>"$T/mosquitto.log" 2>&1 &
	BROKER_PID=$!
	PIDS+=("$BROKER_PID")
	local i
	for i in $(seq 50); do ss -ltn | grep -q "127.0.0.1:$PORT " && return 0; sleep 0.1; done
	fail "Mosquitto refused the generated config: $(tail -3 "$T/mosquitto.log")"
}
bc
grep -A14 '^user garage.local$' "$D/acl" | grep -qx 'topic write garage/garage/csr' || fail "acl: the device may not write its request"
grep -A14 '^user garage.local$' "$D/acl" | grep -qx 'topic read garage/garage/cert' || fail "acl: the device may not read its certificate"
grep -A8 '^user ctl.local$' "$D/acl" | grep -qx 'topic write garage/+/cert' || fail "acl: a controller may not write certificates"
broker
allowed garage.local garage/garage/csr ctl.local
allowed ctl.local garage/garage/cert garage.local
denied garage.local garage/garage/cert ctl.local  # a device sends itself no certificate
denied ha.local garage/garage/cert garage.local   # nor does Home Assistant
denied ctl.local garage/garage/csr ha.local       # a controller asks for nobody
denied ha.local garage/garage/csr ctl.local
pass "the ACL: the device writes P/D/csr and reads P/D/cert; only controllers write P/+/cert"

# --- the device: its three files as README's install steps give them, an admin key ---------------
mkdir "$T/device" && install -m 0644 "$D/ca.crt" "$D/garage.local.crt" "$T/device/" &&
	install -m 0600 "$D/garage.local.key" "$T/device/" || fail "cannot copy the device's files"
write_conf
sed -i -e "s#^\(cafile\|certfile\|keyfile\) = $D/#\1 = $T/device/#" \
	-e 's/^topic_prefix = garage$/topic_prefix = garage\nreconnect_min_ms = 100\nreconnect_max_s = 1/' "$T/garaged.conf"
[ "$(grep -c "= $T/device/" "$T/garaged.conf")" = 3 ] || fail "garaged.conf does not name the copies"
keypair alice
chmod 600 "$T/alice.ed.key"
echo "ed25519 $PUB_B64 alice admin" >"$T/authorized_keys"
write_ctl_conf "$T/ctl.conf" "$T/alice.ed.key" alice
# The state_dir's files (certstore.h), their names and sums: what a refusal must leave as it was.
state_sum() { (cd "$STATE" && for f in client.*; do [ -e "$f" ] && stat -c '%n %a %U %s' "$f" && sha256sum "$f"; done) 2>/dev/null; }
owner=root
[ -n "${GARAGED_AS_UNIT:-}" ] && owner=$UNIT_USER

# resumed: after a broker restart, until the watcher and the witness, which connect again by
# themselves after a second or so, hear a probe again (bounded: 10 s).
resumed() {
	local tag=probe-$RANDOM$RANDOM
	for _ in $(seq 50); do
		AS=ha.local pub homeassistant/testbed/watch "$tag" >/dev/null 2>&1
		grep -qx "homeassistant/testbed/watch $tag" "$T/watch.log" &&
			grep -qx "homeassistant/testbed/watch $tag" "$T/spy.log" && return 0
		sleep 0.2
	done
	fail "the watcher or the witness did not come back after the broker restarted"
}

# Every message of the run, whoever may read it: what the private key check reads at the end.
sub_bg "$T/spy.log" '#' 100000 290 spy.local
WATCH_AS=watch.local watch

# --- the device asks ------------------------------------------------------------------------------
start_garaged
online 20 || fail "garaged did not come online with its 2-day certificate"
await '"type":"renewal","step":"requested","trigger":"expiry"' 20 ||
	fail "no renewal requested at connect: $(grep -E 'renewal|certificate' "$T/garaged.log" | tail -3)"
[ -f "$STATE/client.key.pending" ] || fail "no pending key in $STATE"
[ "$(stat -c '%a %U' "$STATE/client.key.pending")" = "600 $owner" ] ||
	fail "the pending key is $(stat -c '%a %U' "$STATE/client.key.pending"), want 600 $owner"
cp "$STATE/client.key.pending" "$T/pending1.key"
grep '"type":"certificate"' "$T/watch.log" | grep -q 'garaged asks for a new one' ||
	fail "the certificate event does not say a renewal is asked for: $(grep '"type":"certificate"' "$T/watch.log")"
sub garage/garage/csr 1 5 >"$T/csr1" || fail "no retained request on garage/garage/csr"
sed -n '/BEGIN CERTIFICATE REQUEST/,/END CERTIFICATE REQUEST/p' "$T/csr1" >"$T/req1.csr"
sed -n '/BEGIN CERTIFICATE-----/,/END CERTIFICATE-----/p' "$T/csr1" >"$T/proof1.crt"
grep -q -- '-----BEGIN GARAGED RENEWAL SIGNATURE-----' "$T/csr1" || fail "the request has no proof"
openssl req -in "$T/req1.csr" -noout -verify 2>&1 | grep -q 'verify OK' || fail "the request's signature does not verify"
openssl req -in "$T/req1.csr" -noout -subject | grep -q 'CN *= *garage.local$' || fail "the request is not for garage.local"
[ "$(openssl req -in "$T/req1.csr" -noout -pubkey)" = "$(openssl pkey -in "$T/pending1.key" -pubout)" ] ||
	fail "the request is not for the pending key"
[ "$(serial_of "$T/proof1.crt")" = "$OLD_SERIAL" ] || fail "the request is not proved by the device's certificate"
pass "renewal due (2 days left): a new key in state_dir (600, $owner), its request retained on P/D/csr, the old pair in use"

# --- the owner signs --------------------------------------------------------------------------------
expect_exit 2 ctl pki sign-requests --dir "$D"
grep -q -- '--yes' "$T/err" || fail "sign-requests without a terminal does not say --yes: $(cat "$T/err")"
expect_exit 0 ctl pki sign-requests --dir "$D" --yes
grep -q "^device garage: a request for garage.local (a new EC 256-bit prime256v1 key), proved by its certificate serial $OLD_SERIAL" "$T/out" ||
	fail "sign-requests does not describe the request: $(cat "$T/out")"
grep -q '^device garage: accepted it' "$T/out" || fail "sign-requests did not see the device accept: $(cat "$T/out" "$T/err")"
NEW_SERIAL=$(serial_of "$D/garage.local.crt")
[ "$NEW_SERIAL" != "$OLD_SERIAL" ] || fail "DIR/garage.local.crt is still the old certificate"
[ "$(serial_of "$D/garage.local.crt.previous")" = "$OLD_SERIAL" ] || fail "the old certificate is not kept as garage.local.crt.previous"
[ -f "$D/garage.local.key.previous" ] && [ ! -e "$D/garage.local.key" ] ||
	fail "the old key is not moved to garage.local.key.previous"
[ "$(openssl x509 -in "$D/garage.local.crt" -noout -pubkey)" = "$(openssl pkey -in "$T/pending1.key" -pubout)" ] ||
	fail "the new certificate is not for the device's new key"
openssl x509 -in "$D/garage.local.crt" -noout -text | grep -q 'TLS Web Client Authentication' || fail "the new certificate is not for client authentication"
openssl x509 -in "$D/garage.local.crt" -noout -checkend $((364 * 86400)) >/dev/null || fail "the new certificate does not live pki issue's 365 days"
pass "pki sign-requests --yes: checked, signed ($NEW_SERIAL, 365 days, clientAuth), recorded (the old one as .previous), sent"

# --- the device installs ------------------------------------------------------------------------------
await "\"step\":\"accepted\",\"serial\":\"$NEW_SERIAL\"" 10 || fail "no accepted event for $NEW_SERIAL"
await "\"step\":\"installed\",\"serial\":\"$NEW_SERIAL\"" 20 ||
	fail "garaged did not connect with $NEW_SERIAL: $(grep renewal "$T/garaged.log" | tail -3)"
online 10 || fail "garaged is not online after the renewal"
[ "$(serial_of "$STATE/client.pem")" = "$NEW_SERIAL" ] || fail "$STATE/client.pem is not the new certificate"
[ "$(stat -c '%a %U' "$STATE/client.pem")" = "600 $owner" ] || fail "client.pem is $(stat -c '%a %U' "$STATE/client.pem")"
[ "$(openssl pkey -in "$STATE/client.pem" -pubout)" = "$(openssl pkey -in "$T/pending1.key" -pubout)" ] ||
	fail "client.pem does not hold the key the device made"
for f in client.pem.trial client.key.pending client.pem.previous; do
	[ -e "$STATE/$f" ] && fail "$STATE/$f is left after the first renewal"
done
[ -z "$(sub garage/garage/csr 1 2)" ] || fail "the request is still retained after the renewal"
grep -q "the renewed pair connected and is $STATE/client.pem now" "$T/garaged.log" || fail "the log does not say the renewed pair is in use"
cmp -s "$T/device/garage.local.crt" "$D/garage.local.crt.previous" || fail "garaged changed its configured certfile"
pass "installed: garaged reconnected with serial $NEW_SERIAL ($STATE/client.pem), the request cleared, certfile untouched"

# --- the old certificate revoked: garaged still connects, after a restart too ---------------------
expect_exit 0 "$GARAGECTL" pki revoke --dir "$D" garage.local --previous
grep -q "revoked garage.local's previous certificate (serial $OLD_SERIAL)" "$T/out" || fail "revoke --previous said: $(cat "$T/out")"
openssl crl -in "$D/crl.pem" -noout -text | grep -q "Serial Number: $OLD_SERIAL" || fail "the CRL does not list the old certificate"
bc
grep -qx "crlfile $(realpath "$D")/crl.pem" "$D/mosquitto.conf" || fail "broker-config does not name the CRL"
stop_broker
broker
resumed
mpub garage.local garage/garage/x y "$T/device" && fail "the broker still takes the old, revoked certificate"
online 20 || fail "garaged did not connect again after the broker restarted with the CRL"
stop_garaged
run_garaged -c "$T/garaged.conf" --check-config >"$T/cc.out" 2>&1 || fail "--check-config: $(cat "$T/cc.out")"
grep -q "client certificate: the renewed pair $STATE/client.pem; it takes precedence over certfile and keyfile" "$T/cc.out" ||
	fail "--check-config does not say the renewed pair is in use: $(cat "$T/cc.out")"
start_garaged
online 20 || fail "garaged did not come online after a restart with the renewed pair"
grep -q "network half started: pid [0-9]*, with the renewed pair $STATE/client.pem$" "$T/garaged.log" ||
	fail "the restarted garaged does not use the renewed pair: $(grep 'network half started' "$T/garaged.log" | tail -1)"
pass "the old certificate revoked (CRL on the broker): garaged connects, and after a restart; --check-config names client.pem"

# --- refusals: an event each, and nothing changed ----------------------------------------------------
# ca_sign CA-DIR CSR OUT START END [SUBJECT]: a client certificate signed with openssl ca.
ca_sign() {
	local db
	db=$(mktemp -d "$T/ca.XXXXXX")
	: >"$db/index.txt"
	echo 1000 >"$db/serial"
	cat >"$db/cnf" <<CNF
[ca]
default_ca = test
[test]
database = $db/index.txt
new_certs_dir = $db
serial = $db/serial
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[any]
commonName = supplied
[ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
CNF
	openssl ca -batch -notext -config "$db/cnf" -extensions ext -cert "$1/ca.crt" -keyfile "$1/ca.key" \
		-in "$2" -out "$3" -startdate "$4" -enddate "$5" ${6:+-subj "$6"} >"$db/log" 2>&1 ||
		fail "openssl ca for $3: $(tail -2 "$db/log")"
}
# refused REASON FILE: FILE on P/D/cert is refused with REASON, and state_dir is as it was.
refused() {
	local n before
	before=$(state_sum)
	n=$(count '"step":"refused"')
	pub garage/garage/cert "$(cat "$2")" || fail "cannot publish $2"
	await_count '"step":"refused"' $((n + 1)) 10 || fail "no refusal of $2"
	grep '"step":"refused"' "$T/watch.log" | sed -n "$((n + 1))p" | grep -q "\"reason\":\"$1\"" ||
		fail "$2 is not refused as $1: $(grep '"step":"refused"' "$T/watch.log" | sed -n "$((n + 1))p")"
	[ "$(state_sum)" = "$before" ] || fail "the refusal of $2 changed state_dir"
}
now_minus() { utc "-$1 days"; }
refused nothing_pending "$D/garage.local.crt"
pass "a certificate with nothing pending is refused (nothing_pending), nothing changed"

# An admin's renew asks again, whatever the certificate's end.
expect_exit 0 ctl renew
grep -q '^device garage: renewing its certificate' "$T/out" || fail "garagectl renew said: $(cat "$T/out")"
await '"type":"renewal","step":"requested","trigger":"admin"' 10 || fail "no renewal requested by the admin's renew"
grep -q '"type":"keys","op":"renew","kid":"alice",.*"result":"accepted"' "$T/watch.log" || fail "no accepted keys event for the renew"
[ -f "$STATE/client.key.pending" ] || fail "no pending key after the admin's renew"
cp "$STATE/client.key.pending" "$T/pending2.key"
for _ in $(seq 50); do
	sub garage/garage/csr 1 2 >"$T/csr2"
	sed -n '/BEGIN CERTIFICATE REQUEST/,/END CERTIFICATE REQUEST/p' "$T/csr2" >"$T/req2.csr"
	[ "$(openssl req -in "$T/req2.csr" -noout -pubkey 2>/dev/null)" = "$(openssl pkey -in "$T/pending2.key" -pubout)" ] && break
	sleep 0.1
done
[ "$(openssl req -in "$T/req2.csr" -noout -pubkey)" = "$(openssl pkey -in "$T/pending2.key" -pubout)" ] ||
	fail "the retained request is not for the admin's renewal's key"
sed -n '/BEGIN CERTIFICATE-----/,/END CERTIFICATE-----/p' "$T/csr2" >"$T/proof2.crt"
[ "$(serial_of "$T/proof2.crt")" = "$NEW_SERIAL" ] || fail "the second request is not proved by the renewed certificate"
pass "garagectl renew (an admin's signed renew): a new pending key and request, proved by $NEW_SERIAL"

openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=garage.local \
	-keyout "$T/other.key" -out "$T/other.csr" 2>/dev/null || fail "another key's request"
ca_sign "$D" "$T/other.csr" "$T/wrong-key.crt" "$(now_minus 1)" "$(utc '+30 days')"
refused wrong_key "$T/wrong-key.crt"
ca_sign "$D" "$T/req2.csr" "$T/wrong-name.crt" "$(now_minus 1)" "$(utc '+30 days')" /CN=side.local
refused wrong_name "$T/wrong-name.crt"
expect_exit 0 "$GARAGECTL" pki init --dir "$T/rogue" # the same CA name, garaged CA, another key
ca_sign "$T/rogue" "$T/req2.csr" "$T/rogue.crt" "$(now_minus 1)" "$(utc '+30 days')"
refused wrong_ca "$T/rogue.crt"
ca_sign "$D" "$T/req2.csr" "$T/expired.crt" "$(now_minus 10)" "$(now_minus 1)"
refused expired "$T/expired.crt"
cmp -s "$STATE/client.key.pending" "$T/pending2.key" || fail "a refusal changed the pending key"
online 5 || fail "garaged is not online after the refusals"
pass "refused with an event and nothing changed: another key, another CN, another CA of the same name, expired"

# --- a certificate the broker refuses: back to the pair before it, with the reason ---------------------
ca_sign "$D" "$T/req2.csr" "$D/doomed.crt" "$(now_minus 1)" "$(utc '+30 days')"
DOOMED=$(serial_of "$D/doomed.crt")
expect_exit 0 "$GARAGECTL" pki revoke --dir "$D" doomed
reloads=$(count ': Reloading config\.$' "$T/mosquitto.log")
kill -HUP "$BROKER_PID"
await_count ': Reloading config\.$' $((reloads + 1)) 10 "$T/mosquitto.log" || fail "Mosquitto did not reload"
pub garage/garage/cert "$(cat "$D/doomed.crt")" || fail "cannot publish the doomed certificate"
await "\"step\":\"accepted\",\"serial\":\"$DOOMED\"" 10 || fail "the device did not accept the (good) certificate $DOOMED"
await '"step":"reverted","reason":"connect_failed"' 60 ||
	fail "garaged did not go back to the pair before: $(grep renewal "$T/garaged.log" | tail -3)"
# Mosquitto's alert (certificate revoked) or, when it hangs up before that can be read, the hint.
grep '"step":"reverted"' "$T/watch.log" |
	grep -Eq 'the broker refused the certificate in [^ ]*client.pem.trial|does the broker accept the client certificate [^ ]*client.pem.trial' ||
	fail "the reverted event does not say why: $(grep '"step":"reverted"' "$T/watch.log")"
grep -q "the broker refused the renewed pair (5 of 5)" "$T/garaged.log" || fail "garaged did not try the new pair 5 times"
online 20 || fail "garaged did not come back online with the pair before"
[ "$(serial_of "$STATE/client.pem")" = "$NEW_SERIAL" ] || fail "the renewed pair in use changed"
[ "$(serial_of "$STATE/client.pem.refused")" = "$DOOMED" ] || fail "the refused pair is not kept as client.pem.refused"
for f in client.pem.trial client.key.pending; do
	[ -e "$STATE/$f" ] && fail "$STATE/$f is left after the revert"
done
pass "a certificate the broker refuses (revoked before it was installed): 5 tries, then back to $NEW_SERIAL, reason connect_failed"

# --- no private key material on the broker, ever -----------------------------------------------------
grep -q '^garage/garage/csr -----BEGIN CERTIFICATE REQUEST-----' "$T/spy.log" || fail "the witness saw no request: is it listening?"
grep -q '^garage/garage/cert -----BEGIN CERTIFICATE-----' "$T/spy.log" || fail "the witness saw no certificate"
python3 - "$T/spy.log" "$T/watch.log" "$T/pending1.key" "$T/pending2.key" "$STATE/client.pem" \
	"$STATE/client.pem.refused" <<'PY' || fail "private key material was published"
import base64, re, subprocess, sys
logs = b"".join(open(f, "rb").read() for f in sys.argv[1:3])
low = logs.lower()
bad = []
if b"PRIVATE KEY" in logs:
    bad.append("a PRIVATE KEY block")
for path in sys.argv[3:]:
    text = open(path).read()
    body = re.search(r"-----BEGIN PRIVATE KEY-----\n(.*?)-----END PRIVATE KEY-----", text, re.S).group(1)
    der = base64.b64decode(body)
    if der in logs:
        bad.append(path + "'s DER")
    for line in body.split():
        if len(line) >= 16 and line.encode() in logs:
            bad.append(path + "'s base64 " + line)
    out = subprocess.run(["openssl", "pkey", "-noout", "-text"], input=text.encode(),
                         capture_output=True, check=True).stdout.decode()
    priv = bytes.fromhex(re.sub(r"[\s:]", "", re.search(r"priv:\n((?:\s+[0-9a-f:]+\n)+)", out).group(1)))
    if priv in logs or priv.hex().encode() in low or base64.b64encode(priv) in logs:
        bad.append(path + "'s private scalar")
if bad:
    print("\n".join(bad))
    sys.exit(1)
PY
grep -q 'outside its seccomp filter' "$T/garaged.log" && fail "a network half was killed by its seccomp filter: $(grep -m1 'outside its seccomp' "$T/garaged.log")"
pass "every message of the run (a '#' subscription): no PRIVATE KEY, no key's DER, base64 or scalar; no SIGSYS"
