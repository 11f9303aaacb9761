#!/bin/bash
# garagectl, the owner's tool, against a real Mosquitto and garaged: usage and configuration
# errors exit 2 with one line that says what to do (FILE:LINE for ctl.conf); keygen writes an
# Ed25519 key that only the owner can read, in the format openssl reads, never over an existing
# one, and prints its authorized_keys line; status shows the retained state and fails when the
# broker knows nothing; open publishes a command whose signature openssl verifies; and, once
# garaged answers commands, open --wait follows the door to open and a refusal exits 1.
source "$(dirname "$0")/../../scripts/testbed.sh"
[ -x "$GARAGECTL" ] || fail "no garagectl at $GARAGECTL (build first)"
command -v python3 >/dev/null || skip "python3 is needed to read the captured command"

# expect_exit CODE CMD...: runs CMD with stdout in $T/out and stderr in $T/err.
expect_exit() {
	local want=$1 rc
	shift
	"$@" >"$T/out" 2>"$T/err"
	rc=$?
	[ "$rc" = "$want" ] || fail "$(printf '%q ' "$@")exited $rc, want $want: $(head -2 "$T/err")"
}
# one_line: the error is one line on stderr.
one_line() { [ "$(wc -l <"$T/err")" = 1 ] || fail "want one line on stderr, got: $(cat "$T/err")"; }

# --- usage ---------------------------------------------------------------------------------
expect_exit 0 "$GARAGECTL" --version
grep -Eq '^garagectl [0-9]' "$T/out" || fail "--version printed: $(cat "$T/out")"
expect_exit 0 "$GARAGECTL" --help
grep -q 'keygen --id KID' "$T/out" || fail "--help does not show keygen"
expect_exit 2 "$GARAGECTL"
expect_exit 2 "$GARAGECTL" frobnicate
one_line
expect_exit 2 "$GARAGECTL" --frob status
expect_exit 2 "$GARAGECTL" keygen
grep -q -- '--id' "$T/err" || fail "keygen without --id does not say what is missing"
expect_exit 2 "$GARAGECTL" keygen --id 'not a kid'
expect_exit 2 "$GARAGECTL" open --door 'Main Door'
expect_exit 2 "$GARAGECTL" open --wait 0
expect_exit 2 "$GARAGECTL" status --bogus
expect_exit 2 "$GARAGECTL" -c
expect_exit 2 "$GARAGECTL" pki
expect_exit 2 "$GARAGECTL" broker-config
pass "usage errors exit 2 with one line"

# --- keygen --------------------------------------------------------------------------------
expect_exit 0 "$GARAGECTL" keygen --id alice -o "$T/alice.key"
cp "$T/out" "$T/alice.line"
[ "$(stat -c %a "$T/alice.key")" = 600 ] || fail "keygen wrote mode $(stat -c %a "$T/alice.key")"
grep -Eq '^ed25519 [A-Za-z0-9+/]{43}= alice$' "$T/alice.line" || fail "keygen printed: $(cat "$T/alice.line")"
[ "$(wc -l <"$T/alice.line")" = 1 ] || fail "keygen printed more than the authorized_keys line"
grep -q "$T/alice.key" "$T/err" || fail "keygen does not say where the key went: $(cat "$T/err")"
head -1 "$T/alice.key" | grep -qx -- '-----BEGIN PRIVATE KEY-----' || fail "not PEM PKCS#8: $(head -1 "$T/alice.key")"
pub=$(openssl pkey -in "$T/alice.key" -pubout -outform DER 2>/dev/null | tail -c 32 | base64 -w0)
[ "$(cut -d' ' -f2 "$T/alice.line")" = "$pub" ] || fail "printed public key $(cut -d' ' -f2 "$T/alice.line") is not the key's $pub"
openssl pkey -in "$T/alice.key" -noout -text 2>/dev/null | grep -q 'ED25519' || fail "openssl does not read an ED25519 key"
pass "keygen: mode 0600, PKCS#8 PEM that openssl reads, the matching authorized_keys line"

cp "$T/alice.key" "$T/alice.key.orig"
expect_exit 1 "$GARAGECTL" keygen --id alice -o "$T/alice.key"
one_line
grep -q 'already exists' "$T/err" || fail "refusing to overwrite does not say why: $(cat "$T/err")"
grep -q -- '--force' "$T/err" || fail "refusing to overwrite does not mention --force"
cmp -s "$T/alice.key" "$T/alice.key.orig" || fail "keygen changed an existing key"
[ -s "$T/out" ] && fail "keygen printed a line for a key it did not write"
expect_exit 0 "$GARAGECTL" keygen --id alice -o "$T/alice2.key" --force
chmod 644 "$T/alice2.key"
expect_exit 0 "$GARAGECTL" keygen --id alice -o "$T/alice2.key" --force
[ "$(stat -c %a "$T/alice2.key")" = 600 ] || fail "keygen --force left mode $(stat -c %a "$T/alice2.key")"
ln -s "$T/alice.key" "$T/link.key"
expect_exit 1 "$GARAGECTL" keygen --id alice -o "$T/link.key"
cmp -s "$T/alice.key" "$T/alice.key.orig" || fail "keygen wrote through a symbolic link"
mkdir "$T/kd"
(cd "$T/kd" && "$GARAGECTL" keygen --id bob.b@home >/dev/null 2>"$T/err") || fail "keygen without -o: $(cat "$T/err")"
[ -f "$T/kd/bob.b@home.key" ] || fail "keygen without -o did not write ./KID.key"
grep -q 'bob.b@home.key' "$T/err" || fail "keygen without -o does not say where: $(cat "$T/err")"
pass "keygen never overwrites a key without --force, nor through a link; default ./KID.key"

# --- ctl.conf errors -----------------------------------------------------------------------
make_pki
start_broker
# ctl_conf FILE [extra lines]: a valid ctl.conf for the controller ctl.local and alice's key.
ctl_conf() {
	local f=$1 l
	shift
	write_ctl_conf "$f" "$T/alice.key" alice
	for l in "$@"; do echo "$l" >>"$f"; done
}
ctl_conf "$T/ctl.conf"
# bad_conf LINE MESSAGE-RE SED-EXPR: the edited ctl.conf is refused at LINE, exit 2.
bad_conf() {
	sed "$3" "$T/ctl.conf" >"$T/bad.conf"
	expect_exit 2 "$GARAGECTL" -c "$T/bad.conf" status
	one_line
	grep -Eq "^$T/bad.conf:$1: $2" "$T/err" || fail "want $T/bad.conf:$1: $2, got: $(cat "$T/err")"
}
bad_conf 3 'port must be a number from 1 to 65535' 's/^port = .*/port = 99999/'
bad_conf 2 'host must be' 's/^host = .*/host = bad host/'
bad_conf 8 'tls_version' '8i tls_version = tlsv1.1'
bad_conf 11 'kid must be' 's/^kid = .*/kid = not ok/'
bad_conf 12 'device must be' 's/^device = .*/device = Garage/'
bad_conf 13 "unknown section \\[door.main\\]; the sections are \\[mqtt\\] and \\[signing\\]" '$a [door.main]'
bad_conf 11 "unknown key 'kidd' in \\[signing\\]" 's/^kid =/kidd =/'
bad_conf 1 "\\[mqtt\\] has no 'cafile'" '/^cafile/d'
bad_conf 4 "cafile $T/pki/nope.crt: No such file" "s#^cafile = .*#cafile = $T/pki/nope.crt#"
chmod 644 "$T/pki/ctl.local.key"
bad_conf 6 'keyfile .* run chmod 600' 's/^$//'
chmod 600 "$T/pki/ctl.local.key"
expect_exit 2 env -u GARAGECTL_CONF HOME="$T/nohome" "$GARAGECTL" status
grep -q "$T/nohome/.config/garagectl/ctl.conf" "$T/err" || fail "no default config: $(cat "$T/err")"
grep -q -- '-c FILE' "$T/err" || fail "no default config does not mention -c"
mkdir -p "$T/home/.config/garagectl"
sed 's/^port = .*/port = 0/' "$T/ctl.conf" >"$T/home/.config/garagectl/ctl.conf"
expect_exit 2 env -u GARAGECTL_CONF HOME="$T/home" "$GARAGECTL" status
grep -q "^$T/home/.config/garagectl/ctl.conf:3:" "$T/err" || fail "~/.config/garagectl/ctl.conf not read: $(cat "$T/err")"
sed 's/^port = .*/port = x/' "$T/ctl.conf" >"$T/env.conf"
expect_exit 2 env GARAGECTL_CONF="$T/env.conf" HOME="$T/home" "$GARAGECTL" status
grep -q "^$T/env.conf:3:" "$T/err" || fail "\$GARAGECTL_CONF not read: $(cat "$T/err")"
cp "$T/alice.key" "$T/open.key"
chmod 640 "$T/open.key"
expect_exit 2 "$GARAGECTL" -c "$T/ctl.conf" --key "$T/open.key" open
one_line
grep -q "chmod 600 $T/open.key" "$T/err" || fail "a key readable by others is not refused with the chmod hint: $(cat "$T/err")"
grep -v '^kid' "$T/ctl.conf" >"$T/nokid.conf"
expect_exit 2 "$GARAGECTL" -c "$T/nokid.conf" open
grep -q -- '--kid' "$T/err" || fail "a missing kid does not say what to do: $(cat "$T/err")"
expect_exit 2 "$GARAGECTL" -c "$T/ctl.conf" --device 'Bad' status
pass "ctl.conf errors: FILE:LINE and exit 2, default paths, unsafe key files refused"

# --- before garaged ever ran ---------------------------------------------------------------
expect_exit 1 "$GARAGECTL" -c "$T/ctl.conf" status
one_line
grep -q 'no retained state for device garage' "$T/err" || fail "status with nothing known: $(cat "$T/err")"
pass "status exits 1 when the broker knows nothing about the device"

# open publishes a signed command; nothing answers, so it gives up after 10 s. Two at once:
# alice's key from keygen, and one made by openssl genpkey with --key/--kid/--door overriding.
keypair dave
chmod 600 "$T/dave.ed.key"
sub_bg "$T/cmds" 'garage/garage/+/cmd' 2 20
SUB=$SUB_PID
T_SENT=$(date +%s)
"$GARAGECTL" -c "$T/ctl.conf" open >"$T/open1.out" 2>"$T/open1.err" &
O1=$!
"$GARAGECTL" -c "$T/ctl.conf" --key "$T/dave.ed.key" --kid dave close --door side \
	>"$T/open2.out" 2>"$T/open2.err" &
O2=$!
wait "$O1"; rc1=$?
wait "$O2"; rc2=$?
wait "$SUB"
[ "$rc1" = 1 ] && [ "$rc2" = 1 ] || fail "open with no garaged exited $rc1 and $rc2, want 1"
grep -q 'no answer from device garage within 10 s; is garaged running and connected? (availability: unknown)' \
	"$T/open1.err" || fail "no answer: $(cat "$T/open1.err")"
[ "$(grep -c '^garage/' "$T/cmds")" = 2 ] || fail "captured $(grep -c '^garage/' "$T/cmds") commands, want 2"
# check_cmd TOPIC KEYFILE DOOR ACTION KID: the captured command is SPEC's, and openssl verifies it.
check_cmd() {
	local line json
	line=$(grep "^garage/garage/$3/cmd " "$T/cmds") || fail "nothing captured on garage/garage/$3/cmd"
	json=${line#* }
	python3 - "$json" "$3" "$4" "$5" "$T_SENT" "$T" <<'PY' || fail "the command on $3 is not SPEC's: $json"
import base64, json, sys
raw, door, action, kid, sent, tmp = sys.argv[1:]
c = json.loads(raw)
assert list(c) == ["v", "door", "action", "ts", "nonce", "kid", "sig"], list(c)
assert c["v"] == 1 and c["door"] == door and c["action"] == action and c["kid"] == kid, c
assert isinstance(c["ts"], int) and abs(c["ts"] - int(sent)) <= 5, c["ts"]
for f in ("nonce", "sig"):
    assert "=" not in c[f] and "+" not in c[f] and "/" not in c[f], (f, c[f])
nonce = base64.urlsafe_b64decode(c["nonce"] + "=" * (-len(c["nonce"]) % 4))
assert 8 <= len(nonce) <= 32, len(nonce)
sig = base64.urlsafe_b64decode(c["sig"] + "=" * (-len(c["sig"]) % 4))
assert len(sig) == 64, len(sig)
assert len(raw.encode()) <= 512
text = "garaged-cmd-v1\ngarage\n%s\n%s\n%d\n%s\n%s" % (door, action, c["ts"], c["nonce"], kid)
open(tmp + "/msg", "wb").write(text.encode())
open(tmp + "/sig", "wb").write(sig)
PY
	openssl pkey -in "$2" -pubout -out "$T/pub.pem" 2>/dev/null || fail "pubkey of $2"
	openssl pkeyutl -verify -rawin -pubin -inkey "$T/pub.pem" -sigfile "$T/sig" -in "$T/msg" \
		>/dev/null 2>&1 || fail "openssl does not verify the signature of the command on $3"
}
check_cmd garage/garage/main/cmd "$T/alice.key" main open alice
check_cmd garage/garage/side/cmd "$T/dave.ed.key" side close dave
[ -z "$(sub 'garage/garage/+/cmd' 1 1)" ] || fail "the command was published retained"
pass "open publishes SPEC's signed command (keygen's and openssl's keys), openssl verifies it"

# --- with garaged --------------------------------------------------------------------------
# travel_time_s: with no open switch, the door reads open when its travel time has passed.
write_conf "travel_time_s = 2" "" "[door.side]" "backend = sim" "sim_log = $T/side.log"
cp "$T/alice.line" "$T/authorized_keys"
watch
start_garaged
await '^garage/garage/main/state closed$' 10 || fail "garaged did not come up"
await '^garage/garage/side/state closed$' 5 || fail "garaged did not publish side"
expect_exit 0 timeout 10 "$GARAGECTL" -c "$T/ctl.conf" status
printf 'device garage: online\n  main: closed\n  side: closed\n' | cmp -s - "$T/out" ||
	fail "status printed: $(cat "$T/out")"
pass "status prints the device online and each door's state, sorted"

# TLS: the broker's certificate must chain to cafile, and match a pin when [mqtt] has pins.
sed "s#^cafile = .*#cafile = $T/pki/rogue-ca.crt#" "$T/ctl.conf" >"$T/rogue.conf"
expect_exit 1 "$GARAGECTL" -c "$T/rogue.conf" status
one_line
grep -q 'certificate verify failed' "$T/err" || fail "a broker outside cafile's CA: $(cat "$T/err")"
cert256=$(openssl x509 -in "$T/pki/localhost.crt" -outform DER | sha256sum | cut -c1-64)
spki256=$(openssl x509 -in "$T/pki/localhost.crt" -pubkey -noout | openssl pkey -pubin -outform DER | sha256sum | cut -c1-64)
ctl_conf "$T/pin.conf"
sed -i "s/^topic_prefix.*/&\npin = sha256:$(printf '11%.0s' $(seq 32))/" "$T/pin.conf"
sub_bg "$T/pincmd" 'garage/garage/+/cmd' 1 3
SUB=$SUB_PID
expect_exit 1 "$GARAGECTL" -c "$T/pin.conf" open
one_line
grep -qi "matches no pin.*sha256:${cert256:0:2}:${cert256:2:2}" "$T/err" || fail "a pin mismatch: $(cat "$T/err")"
wait "$SUB"
grep -q '^garage/' "$T/pincmd" && fail "a command was published to a broker that matches no pin: $(grep '^garage/' "$T/pincmd")"
sed -i "s/^pin = .*/pin = sha256:$cert256/" "$T/pin.conf"
expect_exit 0 "$GARAGECTL" -c "$T/pin.conf" status
sed -i "s/^pin = .*/pin = spki-sha256:$spki256/" "$T/pin.conf"
expect_exit 0 "$GARAGECTL" -c "$T/pin.conf" status
pass "TLS: a broker outside cafile's CA and a pin mismatch fail (nothing published); sha256 and spki-sha256 pins hold"

timeout 30 "$GARAGECTL" -c "$T/ctl.conf" open --wait 20 >"$T/wait.out" 2>"$T/wait.err"
rc=$?
[ "$rc" = 0 ] || fail "open --wait 20 exited $rc: $(tail -1 "$T/wait.err")"
[ "$(sub garage/garage/main/state 1 3)" = open ] || fail "after open --wait the state is $(sub garage/garage/main/state 1 3)"
tail -1 "$T/wait.out" | grep -qx 'main: open' || fail "open --wait did not print the final state: $(cat "$T/wait.out")"
grep -qx 'main: opening' "$T/wait.out" || fail "open --wait did not show the door opening: $(cat "$T/wait.out")"
pass "open --wait follows the door to open"

expect_exit 0 timeout 15 "$GARAGECTL" -c "$T/ctl.conf" open --wait 5
tail -1 "$T/out" | grep -qx 'main: open' || fail "open --wait on an open door: $(cat "$T/out")"
expect_exit 0 timeout 30 "$GARAGECTL" -c "$T/ctl.conf" toggle --wait 20
[ "$(sub garage/garage/main/state 1 3)" = closed ] || fail "toggle from open did not close the door"
expect_exit 0 timeout 15 "$GARAGECTL" -c "$T/ctl.conf" close
grep -q 'accepted' "$T/out" || fail "close without --wait: $(cat "$T/out")"
pass "open --wait on an open door returns at once, toggle --wait closes, close returns on acceptance"

expect_exit 1 timeout 15 "$GARAGECTL" -c "$T/ctl.conf" --key "$T/dave.ed.key" --kid dave open
one_line
grep -q 'the device refused the command: unknown_key' "$T/err" || fail "refusal: $(cat "$T/err")"
expect_exit 1 timeout 15 "$GARAGECTL" -c "$T/ctl.conf" open --door nosuchdoor
grep -q 'the device refused the command: unknown_door' "$T/err" || fail "unknown door: $(cat "$T/err")"
pass "a refused command exits 1 with the device's reason"

# status --watch prints changes until SIGTERM, then exits 0.
"$GARAGECTL" -c "$T/ctl.conf" status --watch >"$T/watchctl.out" 2>&1 &
W=$!
# Its session stands once it printed the retained state.
await '^device garage: online$' 10 "$T/watchctl.out" || fail "status --watch printed no state within 10 s: $(cat "$T/watchctl.out")"
expect_exit 0 timeout 30 "$GARAGECTL" -c "$T/ctl.conf" open --wait 20
await ' main: open$' 5 "$T/watchctl.out" || fail "status --watch did not show the door open: $(cat "$T/watchctl.out")"
grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} main: opening$' "$T/watchctl.out" || fail "status --watch lines: $(cat "$T/watchctl.out")"
kill -TERM "$W"
wait "$W"
rc=$?
[ "$rc" = 0 ] || fail "status --watch exited $rc on SIGTERM"
pass "status --watch prints each change with a time stamp and exits 0 on SIGTERM"
