#!/bin/bash
# garaged's TLS policy against a real Mosquitto (SPEC "Security model" 2-3): pins in every form
# SPEC names (certificate SHA-256, SPKI SHA-256, the SHA-1 colon and space forms, several for
# rotation), DER files, an IP address as host, and the refusals, each named in one warning line
# per attempt: a pin mismatch (with what was expected and what was seen), an expired broker
# certificate, a broker that offers nothing at or above TLS 1.2. Then the optional user name
# and password_file on top of the client certificate.
source "$(dirname "$0")/../../scripts/testbed.sh"
make_pki
# days 0: notAfter is now, so the certificate has expired by the time it is used.
issue ca localhost server expired-localhost "DNS:localhost,IP:127.0.0.1" 0
openssl x509 -in "$T/pki/ca.crt" -outform der -out "$T/pki/ca.der" || fail "ca.der"
openssl x509 -in "$T/pki/garage.local.crt" -outform der -out "$T/pki/garage.local.der" || fail "der"
openssl pkey -in "$T/pki/garage.local.key" -outform der -out "$T/pki/garage.local.key.der" ||
	fail "key der"
chmod 600 "$T/pki/garage.local.key.der"

crt=$T/pki/localhost.crt
SHA256=$(openssl x509 -in "$crt" -noout -fingerprint -sha256 | cut -d= -f2)
SHA1=$(openssl x509 -in "$crt" -noout -fingerprint -sha1 | cut -d= -f2)
SPKI=$(openssl x509 -in "$crt" -pubkey -noout | openssl pkey -pubin -outform DER |
	openssl dgst -sha256 | sed 's/.*= //')
WRONG=$(echo "$SHA256" | tr '0-9A-F' 'A-F0-9') # every digit changed, same form
[ ${#SHA256} = 95 ] && [ ${#SHA1} = 59 ] && [ ${#SPKI} = 64 ] || fail "fingerprints: $SHA256 $SHA1 $SPKI"

# conf LINE...: a fresh garaged.conf with LINE... added to [mqtt].
conf() {
	write_conf
	local l
	for l in "$@"; do sed -i "/^topic_prefix = /a $l" "$T/garaged.conf"; done
}
# broker [STEM]: a fresh Mosquitto (no retained "online" left from the case before).
broker() {
	[ -n "${BROKER_PID:-}" ] && stop_broker
	start_broker "$@"
}
run() {
	: >"$T/garaged.log"
	start_garaged
}
stop() { stop_garaged; }

# accepted WHAT [mqtt lines]: garaged comes online within 10 s.
accepted() {
	local what=$1
	shift
	broker
	conf "$@"
	run
	online || fail "garaged did not come online with $what: $(grep warning "$T/garaged.log" | tail -2)"
	stop
	pass "online with $what"
}

# twice PATTERN: until two lines of garaged's log match (a retry failed the same way), bounded.
twice() { await_count "$1" 2 15 "$T/garaged.log"; }

# refused WHAT PATTERN: the running garaged logs PATTERN as a TLS failure, attempt after
# attempt, and never gets online.
refused() {
	twice "warning: TLS with localhost:$PORT failed .*$2" ||
		fail "the refusal of $1 does not say '$2' twice: $(grep warning "$T/garaged.log" | tail -2)"
	online 1 && fail "garaged came online with $1"
	grep -q "connected to localhost:$PORT" "$T/garaged.log" && fail "garaged connected with $1"
	kill -0 "$GARAGED_PID" || fail "garaged exited on $1 (network errors are retried)"
	stop
	pass "refused $1: $(grep -Eo "$2" "$T/garaged.log" | head -1)"
}

# --- pins -----------------------------------------------------------------------------------
accepted "the broker's SHA-256 pin" "pin = sha256:$SHA256"
accepted "its SPKI SHA-256 pin (lower case, no colons)" "pin = spki-sha256:$SPKI"
accepted "two pins, the old one wrong (rotation)" "pin = sha256:$WRONG" "pin = sha256:$SHA256"
for form in "$SHA1" "${SHA1//:/ }"; do
	accepted "the SHA-1 pin '$form'" "pin = $form"
	grep -Eq "warning: .*garaged.conf:[0-9]+: this pin is a SHA-1 fingerprint, and SHA-1 is weak" \
		"$T/garaged.log" || fail "no warning that SHA-1 is weak: $(grep -i sha "$T/garaged.log")"
	grep -q "pin = sha256:$SHA256 is its SHA-256 form" "$T/garaged.log" ||
		fail "no SHA-256 pin suggested for the SHA-1 one"
done
pass "SHA-1 pins are accepted with a warning that names the line and the SHA-256 to use"

broker
conf "pin = sha256:$WRONG"
run
refused "a pin that does not match" "pin check failed: the broker's certificate matches no pin"
grep -q "expected sha256:$WRONG; seen sha256:$SHA256 spki-sha256:" "$T/garaged.log" ||
	fail "the pin refusal does not name expected and seen: $(grep 'pin check' "$T/garaged.log" | head -1)"
# One warning line per attempt, and OpenSSL's raw lines only at debug level.
attempts=$(count 'again in' "$T/garaged.log")
warnings=$(count 'warning: (TLS with|cannot connect)' "$T/garaged.log")
[ "$attempts" -ge 1 ] && [ "$warnings" = "$attempts" ] ||
	fail "$warnings warnings for $attempts attempts: $(grep warning "$T/garaged.log")"
grep -q 'warning: .*OpenSSL Error' "$T/garaged.log" && fail "OpenSSL's raw errors logged as warnings"
pass "a pin mismatch names expected and seen, in one warning per attempt"

# --- files and host ---------------------------------------------------------------------------
broker
conf
sed -i -e "s|^cafile = .*|cafile = $T/pki/ca.der|" \
	-e "s|^certfile = .*|certfile = $T/pki/garage.local.der|" \
	-e "s|^keyfile = .*|keyfile = $T/pki/garage.local.key.der|" "$T/garaged.conf"
run
online || fail "garaged did not come online with DER files: $(grep warning "$T/garaged.log" | tail -2)"
stop
pass "online with DER cafile, certfile and keyfile"

HOST=127.0.0.1 accepted "host = 127.0.0.1 (the certificate's IP entry)"

# --- expiry -----------------------------------------------------------------------------------
# notAfter is the second the certificate was made in (days 0): that second is over.
sleep 1
broker expired-localhost
conf
run
refused "an expired broker certificate" "expiry check failed: the broker's certificate expired on [0-9-]+ [0-9:]+ UTC"

# --- protocol version -------------------------------------------------------------------------
# Mosquitto's tls_version is a minimum: a broker stuck at TLS 1.1 is played by openssl s_server.
[ -n "${BROKER_PID:-}" ] && { stop_broker; BROKER_PID=; }
PORT=$(free_port)
openssl s_server -accept "127.0.0.1:$PORT" -cert "$crt" -key "$T/pki/localhost.key" -tls1_1 \
	-cipher 'DEFAULT:@SECLEVEL=0' -www -quiet >"$T/s_server.log" 2>&1 </dev/null &
S_SERVER=$!
PIDS+=("$S_SERVER")
# An OpenSSL that cannot serve TLS 1.1 at all exits (below: skipped); one that runs listens.
listening=
for _ in $(seq 50); do
	ss -ltn | grep -q "127.0.0.1:$PORT " && listening=1 && break
	kill -0 "$S_SERVER" 2>/dev/null || break
	sleep 0.1
done
[ -n "$listening" ] || ! kill -0 "$S_SERVER" 2>/dev/null ||
	fail "openssl s_server runs but did not listen on $PORT within 5 s: $(cat "$T/s_server.log")"
if [ -n "$listening" ] && echo | openssl s_client -connect "127.0.0.1:$PORT" -tls1_1 \
	-cipher 'DEFAULT:@SECLEVEL=0' 2>/dev/null | grep -q 'Protocol *: TLSv1.1'; then
	conf
	run
	refused "a broker that offers only TLS 1.1" \
		"protocol version check failed: the broker offers nothing at or above TLS 1.2"
else
	echo "SKIP: this OpenSSL cannot play a TLS 1.1-only broker; the protocol version refusal is covered by test-tls"
fi

# --- user name and password_file --------------------------------------------------------------
# Mosquitto checks passwords only when the identity does not come from the certificate: the
# testbed's broker configuration, with the user name from CONNECT and a password_file.
broker
stop_broker
# 300 bytes, spaces and punctuation included: both ends read password_file through the same
# code (src/common/mqtt_session.c), which once took 510 bytes in garaged and 254 in garagectl.
PW300=$(python3 -c 'import string; a = string.ascii_letters + string.digits + " !#%&*+,-.:;=?@^_~"; print("".join(a[i % len(a)] for i in range(300)))')
[ ${#PW300} -eq 300 ] || fail "the test's password is ${#PW300} bytes, not 300"
mosquitto_passwd -c -b "$T/passwd" garage.local "$PW300" || fail "mosquitto_passwd"
mosquitto_passwd -b "$T/passwd" ctl.local "$PW300" || fail "mosquitto_passwd"
sed -i -e 's/^use_identity_as_username true/use_identity_as_username false/' \
	-e "\$a password_file $T/passwd" "$T/mosquitto.conf"
run_broker
sub() { # as the controller, now with its password
	mosquitto_sub -h localhost -p "$PORT" --cafile "$T/pki/ca.crt" --cert "$T/pki/ctl.local.crt" \
		--key "$T/pki/ctl.local.key" -u ctl.local -P "$PW300" -t "$1" -C "$2" -W "$3" 2>/dev/null
}
printf '%s\n' "$PW300" >"$T/garage.pw"
chmod 600 "$T/garage.pw"
conf "username = garage.local" "password_file = $T/garage.pw"
run
online || fail "garaged did not come online with username and password_file: $(grep warning "$T/garaged.log" | tail -2)"
# garagectl with the same 300-byte password, through the same [mqtt] keys.
printf '%s\n' "$PW300" >"$T/ctl.pw"
chmod 600 "$T/ctl.pw"
cat >"$T/ctl.conf" <<CONF
[mqtt]
host = localhost
port = $PORT
cafile = $T/pki/ca.crt
certfile = $T/pki/ctl.local.crt
keyfile = $T/pki/ctl.local.key
topic_prefix = garage
username = ctl.local
password_file = $T/ctl.pw

[signing]
device = garage
CONF
timeout 20 "$GARAGECTL" -c "$T/ctl.conf" status >"$T/ctl.out" 2>&1 ||
	fail "garagectl status with a 300-byte password: $(cat "$T/ctl.out")"
grep -qx 'device garage: online' "$T/ctl.out" || fail "garagectl status: $(cat "$T/ctl.out")"
stop
pass "a 300-byte password: garaged online and garagectl status both work"

printf 'wrong\n' >"$T/garage.pw"
run
twice "refused the connection: .*not authori[sz]ed" ||
	fail "a wrong password is not logged as refused: $(grep warning "$T/garaged.log" | tail -2)"
online 1 && fail "garaged came online with a wrong password"
grep -q "connected to localhost:$PORT" "$T/garaged.log" && fail "connected with a wrong password"
stop
pass "a wrong password is refused by the broker; garaged never gets online"

# Set-up errors are fatal at start, with one line that says what to do.
conf "password_file = $T/garage.pw"
run_garaged -c "$T/garaged.conf" -f >"$T/nouser.log" 2>&1 && fail "garaged ran without a username"
grep -q "password_file is set but username is empty; add username = ... to \[mqtt\]" "$T/nouser.log" ||
	fail "no username: $(tail -1 "$T/nouser.log")"
: >"$T/garage.pw"
conf "username = garage.local" "password_file = $T/garage.pw"
run_garaged -c "$T/garaged.conf" -f >"$T/empty.log" 2>&1 && fail "garaged ran with an empty password"
grep -q "password_file $T/garage.pw is empty" "$T/empty.log" || fail "empty password: $(tail -1 "$T/empty.log")"
pass "password_file without username, or empty, is refused at start"
