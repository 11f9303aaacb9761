#!/bin/bash
# Invitations (issue 15): garagectl invite prints one line, INVITATION.SECRET, whose invitation
# is the JSON of docs/reference.md signed by the owner's key (openssl verifies it) and whose
# secret is the seed of the invitation's one-time key; --url puts both after a '#' only; -o
# writes a valid PNG only the owner can read; on a terminal the QR code is drawn. garagectl
# enroll makes the invitee's key, publishes a request on P/D/enroll whose fields and two
# signatures openssl checks, and exits with the device's answer.
#
# End to end against garaged: the enrolled key has exactly the invited permissions and opens the
# door; the same invitation is refused the second time (invitation_used), also after a restart;
# an invitation with a wrong secret (bad_proof), one that grants more than its inviter's key
# (over_permissive), one from a key that is not admin (not_admin) and an expired one
# (invitation_expired) are refused, authorized_keys left as it was; a crash of the door half
# between the record of the invitation and the key leaves it used and no key.
source "$(dirname "$0")/../../scripts/testbed.sh"
[ -x "$GARAGECTL" ] || fail "no garagectl at $GARAGECTL (build first)"
command -v python3 >/dev/null || skip "python3 is needed to read the invitation and the request"

make_pki
start_broker

# The owner's key, an admin on the device, in the authorized_keys garaged manages: in its state
# directory, as docs/setup.md installs it. ctl.conf as the owner's and as the invitee's.
"$GARAGECTL" keygen --id owner -o "$T/owner.key" >"$T/owner.line" 2>/dev/null || fail "keygen"
KEYS=$T/state/authorized_keys
mkdir -p -m 0700 "$T/state"
echo "$(cat "$T/owner.line") admin" >"$KEYS"
chmod 600 "$KEYS"
owner_pub=$(cut -d' ' -f2 "$T/owner.line")
write_ctl_conf "$T/ctl.conf" "$T/owner.key" owner
# The invitee has no [signing] yet: only the broker connection (its own certificate; the
# testbed has one controller certificate, which stands in for it).
write_ctl_conf "$T/invitee.conf"
INVITE=("$GARAGECTL" -c "$T/ctl.conf" invite)
ENROLL=("$GARAGECTL" -c "$T/invitee.conf" enroll)

# --- usage ---------------------------------------------------------------------------------
expect_exit 2 "${INVITE[@]}"
one_line
grep -q -- '--kid NAME' "$T/err" || fail "invite without --kid: $(cat "$T/err")"
expect_exit 2 "${INVITE[@]}" --kid 'no good'
expect_exit 2 "${INVITE[@]}" --kid bob --expires 0h
expect_exit 2 "${INVITE[@]}" --kid bob --expires 31d
grep -q -- '--expires takes' "$T/err" || fail "--expires 31d: $(cat "$T/err")"
expect_exit 2 "${INVITE[@]}" --kid bob --actions 'open, close'
expect_exit 2 "${INVITE[@]}" --kid bob --actions shut
grep -q 'unknown action "shut"' "$T/err" || fail "--actions shut: $(cat "$T/err")"
expect_exit 2 "${INVITE[@]}" --kid bob --key-not-after 2020-01-01T00:00:00Z
expect_exit 2 "${INVITE[@]}" --kid bob --url 'https://x.example/#frag'
expect_exit 2 "${INVITE[@]}" --kid bob --bogus
sed '/^kid/d' "$T/ctl.conf" >"$T/nokid.conf"
expect_exit 2 "$GARAGECTL" -c "$T/nokid.conf" invite --kid bob
grep -q 'which key id' "$T/err" || fail "invite without [signing] kid: $(cat "$T/err")"
expect_exit 2 "${ENROLL[@]}"
grep -q 'enroll needs the INVITATION' "$T/err" || fail "enroll without an invitation: $(cat "$T/err")"
expect_exit 2 "${ENROLL[@]}" 'not-an-invitation'
one_line
expect_exit 2 "${ENROLL[@]}" a.b c.d
[ -s "$T/out" ] && fail "usage errors printed on standard output: $(cat "$T/out")"
pass "usage errors exit 2 with one line"

# --- invite --------------------------------------------------------------------------------
T_MADE=$(date +%s)
expect_exit 0 "${INVITE[@]}" --kid bob --actions open,close --doors main --expires 2h \
	--key-not-after 2099-12-31T23:59:59Z
cp "$T/out" "$T/inv1"
[ "$(wc -l <"$T/inv1")" = 1 ] || fail "invite printed $(wc -l <"$T/inv1") lines on standard output, want 1"
LINE1=$(cat "$T/inv1")
[[ $LINE1 =~ ^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$ ]] || fail "the line is not INVITATION.SECRET: $LINE1"
grep -q 'enrols one key until' "$T/err" || fail "invite says nothing of what it made: $(cat "$T/err")"
grep -q $'\e\[30;47m' "$T/err" && fail "a QR code was drawn although standard error is no terminal"

# check_invitation LINE KID ACTIONS DOORS EXPIRES_S NOT_AFTER: the invitation's fields, and
# openssl's word on its signature by the owner and on the seed being the one-time key's.
check_invitation() {
	python3 - "$1" "$2" "$3" "$4" "$5" "$6" "$T_MADE" "$T" "$owner_pub" <<'PY' || fail "the invitation is not docs/reference.md's: $1"
import base64, json, sys
line, kid, actions, doors, life, not_after, made, tmp, owner = sys.argv[1:]
d = lambda s: base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
inv_b64, seed_b64 = line.split("#")[-1].split(".")
raw = d(inv_b64)
assert base64.urlsafe_b64encode(raw).rstrip(b"=").decode() == inv_b64, "not canonical"
inv = json.loads(raw)
want = ["v", "device", "id", "kid", "actions", "doors"] + (["not_after"] if not_after else []) + \
       ["expires", "ik", "by", "sig"]
assert list(inv) == want, list(inv)
assert inv["v"] == 1 and inv["device"] == "garage" and inv["kid"] == kid and inv["by"] == "owner", inv
assert inv["actions"] == actions.split(","), inv["actions"]
assert inv["doors"] == ("all" if doors == "all" else doors.split(",")), inv["doors"]
assert not not_after or inv["not_after"] == not_after, inv
assert abs(inv["expires"] - int(made) - int(life)) <= 5, inv["expires"]
assert len(d(inv["id"])) == 16 and len(inv["id"]) == 22, inv["id"]
assert len(d(inv["ik"])) == 32 and len(inv["ik"]) == 43, inv["ik"]
assert len(d(inv["sig"])) == 64 and len(inv["sig"]) == 86, inv["sig"]
seed = d(seed_b64)
assert len(seed) == 32 and len(seed_b64) == 43
# The signed text of docs/reference.md, built here from the fields.
acts = [a for a in ("open", "close", "stop", "toggle") if a in inv["actions"]]
opts = []
if len(acts) != 4: opts.append("actions=" + ",".join(acts))
if inv["doors"] != "all": opts.append("doors=" + ",".join(inv["doors"]))
if "not_after" in inv: opts.append("not_after=" + inv["not_after"])
text = "garaged-invite-v1\n%s\n%s\n%s\n%s\n%d\n%s\n%s" % (inv["device"], inv["id"], inv["kid"],
        " ".join(opts), inv["expires"], inv["ik"], inv["by"])
open(tmp + "/inv.msg", "wb").write(text.encode())
open(tmp + "/inv.sig", "wb").write(d(inv["sig"]))
spki = bytes.fromhex("302a300506032b6570032100")
open(tmp + "/owner.der", "wb").write(spki + base64.b64decode(owner))
open(tmp + "/ik.der", "wb").write(spki + d(inv["ik"]))
open(tmp + "/seed.der", "wb").write(bytes.fromhex("302e020100300506032b657004220420") + seed)
PY
	openssl pkeyutl -verify -rawin -pubin -keyform DER -inkey "$T/owner.der" -sigfile "$T/inv.sig" \
		-in "$T/inv.msg" >/dev/null 2>&1 || fail "openssl does not verify the invitation's signature by the owner"
	cmp -s <(openssl pkey -inform DER -in "$T/seed.der" -pubout -outform DER 2>/dev/null) "$T/ik.der" ||
		fail "the secret is not the seed of the invitation's one-time key"
}
check_invitation "$LINE1" bob open,close main 7200 2099-12-31T23:59:59Z
pass "invite: one line INVITATION.SECRET; the invitation's fields, its signature by the owner (openssl), the seed of ik"

# Two invitations never share an id or a secret.
expect_exit 0 "${INVITE[@]}" --kid bob
[ "$(cat "$T/out")" != "$LINE1" ] || fail "two invitations are the same"
[ "$(cut -d. -f2 "$T/out")" != "$(cut -d. -f2 "$T/inv1")" ] || fail "two invitations share a secret"
check_invitation "$(cat "$T/out")" bob open,close,stop,toggle all 86400 ""

# --url: the invitation and its secret in the fragment only; -o: a PNG, 0600.
expect_exit 0 "${INVITE[@]}" --kid carol --url 'https://garage.example/enroll?v=1' -o "$T/inv.png" --expires 30m
URL=$(cat "$T/out")
[[ $URL == 'https://garage.example/enroll?v=1#'* ]] || fail "--url: $URL"
frag=${URL#*#}
[[ $frag =~ ^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$ ]] || fail "the fragment is not INVITATION.SECRET: $frag"
[[ ${URL%%#*} == *"${frag#*.}"* ]] && fail "the secret is before the '#'"
[ "$(grep -o '#' <<<"$URL" | wc -l)" = 1 ] || fail "--url: more than one '#': $URL"
check_invitation "$URL" carol open,close,stop,toggle all 1800 ""
[ "$(stat -c %a "$T/inv.png")" = 600 ] || fail "the PNG has mode $(stat -c %a "$T/inv.png"), want 600"
python3 - "$T/inv.png" <<'PY' || fail "-o did not write a valid PNG"
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", data[:8]
pos, chunks, idat = 8, [], b""
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    crc, = struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])
    assert zlib.crc32(kind + body) == crc, kind
    chunks.append(kind)
    if kind == b"IHDR":
        w, h, depth, color = struct.unpack(">IIBB", body[:10])
    if kind == b"IDAT":
        idat += body
    pos += 12 + n
assert chunks[0] == b"IHDR" and chunks[-1] == b"IEND", chunks
assert w == h and w % 8 == 0 and w >= (21 + 8) * 8 and depth == 8 and color == 0, (w, h, depth, color)
assert len(zlib.decompress(idat)) == h * (1 + w)
PY
if command -v file >/dev/null; then
	file "$T/inv.png" | grep -q 'PNG image data' || fail "file(1) says: $(file "$T/inv.png")"
fi
pass "--url puts the invitation and its secret after the '#' only; -o writes a valid PNG, mode 0600"

# On a terminal the QR code is drawn, on standard error, black on white in half blocks.
if command -v script >/dev/null; then
	script -qec "$(printf '%q ' "${INVITE[@]}") --kid dave >$T/tty.out" "$T/tty.log" >/dev/null 2>&1 </dev/null ||
		fail "invite on a terminal failed: $(tail -2 "$T/tty.log")"
	grep -q $'\e\[30;47m' "$T/tty.log" || fail "no QR code on the terminal"
	[ "$(grep -c $'\e\[30;47m' "$T/tty.log")" -ge 11 ] || fail "the QR code is too short"
	grep -q '▀\|▄\|█' "$T/tty.log" || fail "the QR code has no half blocks"
	[ "$(wc -l <"$T/tty.out")" = 1 ] || fail "with a terminal, standard output has more than the line"
	pass "on a terminal the QR code is drawn on standard error; standard output keeps the line alone"
fi

# --- enroll: the request -------------------------------------------------------------------
write_conf
sed -i "s|^authorized_keys = .*|authorized_keys = $KEYS|" "$T/garaged.conf"
watch
start_garaged
online || fail "garaged did not come online"
garaged_subscribed || fail "garaged did not subscribe"

sub_bg "$T/req" garage/garage/enroll 1 30
T_SENT=$(date +%s)
"${ENROLL[@]}" "$LINE1" --key "$T/bob.key" >"$T/enroll.out" 2>"$T/enroll.err"
ENROLL_RC=$?
wait "$SUB_PID"
[ -f "$T/bob.key" ] || fail "enroll did not make the key $T/bob.key: $(cat "$T/enroll.err")"
[ "$(stat -c %a "$T/bob.key")" = 600 ] || fail "enroll made the key with mode $(stat -c %a "$T/bob.key")"
grep -q "made a new key for bob in $T/bob.key" "$T/enroll.err" || fail "enroll does not say it made a key: $(cat "$T/enroll.err")"
req=$(grep '^garage/garage/enroll ' "$T/req") || fail "nothing published on garage/garage/enroll: $(cat "$T/enroll.err")"
bob_pub=$(openssl pkey -in "$T/bob.key" -pubout -outform DER 2>/dev/null | tail -c 32 | base64 -w0)
python3 - "${req#* }" "$LINE1" "$bob_pub" "$T_SENT" "$T" <<'PY' || fail "the request is not docs/reference.md's: ${req#* }"
import base64, json, sys
raw, line, pub, sent, tmp = sys.argv[1:]
d = lambda s: base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
assert len(raw.encode()) <= 2048, len(raw)
r = json.loads(raw)
assert list(r) == ["v", "inv", "pub", "ts", "nonce", "proof", "sig"], list(r)
inv_b64, seed_b64 = line.split(".")
assert r["v"] == 1 and r["inv"] == inv_b64, "the invitation is not the line's"
assert seed_b64 not in raw, "the secret is in the request"
assert r["pub"] == pub and len(base64.b64decode(r["pub"])) == 32, r["pub"]
assert isinstance(r["ts"], int) and abs(r["ts"] - int(sent)) <= 5, r["ts"]
assert 8 <= len(d(r["nonce"])) <= 32 and "=" not in r["nonce"], r["nonce"]
assert len(d(r["proof"])) == 64 and len(d(r["sig"])) == 64
inv = json.loads(d(r["inv"]))
text = "garaged-enroll-v1\ngarage\n%s\n%s\n%s\n%d\n%s" % (inv["id"], inv["kid"], r["pub"], r["ts"], r["nonce"])
open(tmp + "/req.msg", "wb").write(text.encode())
open(tmp + "/req.proof", "wb").write(d(r["proof"]))
open(tmp + "/req.sig", "wb").write(d(r["sig"]))
open(tmp + "/inv.id", "w").write(inv["id"])
PY
check_invitation "$LINE1" bob open,close main 7200 2099-12-31T23:59:59Z # its ik.der again
openssl pkeyutl -verify -rawin -pubin -keyform DER -inkey "$T/ik.der" -sigfile "$T/req.proof" \
	-in "$T/req.msg" >/dev/null 2>&1 || fail "openssl does not verify the proof with the invitation's one-time key"
openssl pkey -in "$T/bob.key" -pubout -out "$T/bob.pub" 2>/dev/null
openssl pkeyutl -verify -rawin -pubin -inkey "$T/bob.pub" -sigfile "$T/req.sig" -in "$T/req.msg" \
	>/dev/null 2>&1 || fail "openssl does not verify the request's signature with the new key"
[ -z "$(sub garage/garage/enroll 1 1)" ] || fail "the request was published retained"
pass "enroll: makes the key (0600), publishes the request: fields, sizes, the proof by ik and the signature by the new key (openssl)"

# --- enroll: the device's answer -----------------------------------------------------------
# enroll_event N REASON-RE: the Nth enroll event (from 1) has this result or reason.
enroll_event() {
	await_count '"type":"enroll"' "$1" 10 || fail "no enroll event number $1: $(grep enroll "$T/watch.log")"
	grep '"type":"enroll"' "$T/watch.log" | sed -n "$1p" | grep -Eq "$2" ||
		fail "enroll event $1 is not $2: $(grep '"type":"enroll"' "$T/watch.log" | sed -n "$1p")"
}
# refused LINE KEY REASON: enroll with LINE as KEY's file exits 1 saying REASON, the file unchanged.
refused() {
	cp "$KEYS" "$T/keys.before"
	expect_exit 1 "${ENROLL[@]}" "$1" --key "$T/$2"
	grep -q "the device refused the enrollment: $3" "$T/err" || fail "want $3: $(cat "$T/err")"
	[ "$(grep -vc '^garagectl: made a new key for ' "$T/err")" = 1 ] || fail "more than the refusal: $(cat "$T/err")"
	[ -s "$T/out" ] && fail "a refused enroll printed on standard output: $(cat "$T/out")"
	cmp -s "$T/keys.before" "$KEYS" || fail "$3: authorized_keys changed: $(diff "$T/keys.before" "$KEYS")"
}
# conf_for KID: a ctl.conf signing as KID with $T/KID.key.
conf_for() { write_ctl_conf "$T/$1.conf" "$T/$1.key" "$1"; }

id=$(cat "$T/inv.id")
[ "$ENROLL_RC" = 0 ] || fail "enroll exited $ENROLL_RC: $(cat "$T/enroll.err")"
grep -qx 'enrolled: key bob on device garage' "$T/enroll.out" || fail "enroll printed: $(cat "$T/enroll.out")"
grep -q "kid = bob" "$T/enroll.err" || fail "enroll does not say how to use the key: $(cat "$T/enroll.err")"
enroll_event 1 "\"invitation\":\"$id\",\"kid\":\"bob\",\"by\":\"owner\",\"nonce\":\"[A-Za-z0-9_-]+\",\"result\":\"accepted\""
grep -qxF "ed25519 $bob_pub bob actions=open,close doors=main not_after=2099-12-31T23:59:59Z" \
	"$KEYS" || fail "authorized_keys has not the invited key: $(cat "$KEYS")"
[ "$(grep -c . "$KEYS")" = 2 ] || fail "authorized_keys: $(cat "$KEYS")"
[ "$(stat -c %a "$KEYS")" = 600 ] || fail "authorized_keys has mode $(stat -c %a "$KEYS") after the enrollment"
grep -q "used $id " "$T/state/invitations" || fail "state_dir/invitations: $(cat "$T/state/invitations")"
await '^garage/garage/keys \{"keys":\[.*"kid":"bob"' 5 || fail "the key list does not show bob"
expect_exit 0 "$GARAGECTL" -c "$T/ctl.conf" keys list
grep -Eq '^bob +open,close +main +until 2099-12-31T23:59:59Z +any time +-$' "$T/out" || fail "keys list: $(cat "$T/out")"
# The new key opens the main door, and nothing else.
conf_for bob
expect_exit 0 "$GARAGECTL" -c "$T/bob.conf" open --wait 10
grep -qx 'door main: open accepted' "$T/out" || fail "bob's open: $(cat "$T/out")"
expect_exit 1 "$GARAGECTL" -c "$T/bob.conf" toggle
grep -q 'refused the command: forbidden' "$T/err" || fail "bob may toggle: $(cat "$T/err")"
pass "an invitation enrols the key with exactly the invited permissions (the line, the list); it opens the door"

# The same invitation again, and after a restart: used.
refused "$LINE1" bob2.key invitation_used
grep -q 'an invitation enrols one key only once' "$T/err" || fail "no hint: $(cat "$T/err")"
enroll_event 2 '"reason":"invitation_used"'
stop_garaged
start_garaged
online && garaged_subscribed || fail "garaged did not come back"
grep -q '1 used invitation(s) remembered' "$T/garaged.log" || fail "garaged does not say it remembers the used invitation"
refused "$LINE1" bob3.key invitation_used
enroll_event 3 '"reason":"invitation_used"'
pass "the same invitation is refused the second time (invitation_used), after a garaged restart too"

# A wrong secret, sent as a client that skips garagectl's own check would.
expect_exit 0 "${INVITE[@]}" --kid erin
line2=$(cat "$T/out")
cp "$KEYS" "$T/keys.before"
python3 - "$line2" "$T" <<'PY' >"$T/forged" || fail "cannot forge the request"
import base64, json, os, sys, time
line, tmp = sys.argv[1:]
b = lambda x: base64.urlsafe_b64encode(x).rstrip(b"=").decode()
print(json.dumps({"v": 1, "inv": line.split(".")[0], "pub": base64.b64encode(os.urandom(32)).decode(),
                  "ts": int(time.time()), "nonce": b(os.urandom(12)), "proof": b(os.urandom(64)),
                  "sig": b(os.urandom(64))}, separators=(",", ":")))
PY
pub garage/garage/enroll "$(cat "$T/forged")" || fail "cannot publish the forged request"
enroll_event 4 '"kid":"erin".*"reason":"bad_proof"'
cmp -s "$T/keys.before" "$KEYS" || fail "a wrong secret changed authorized_keys"
# garagectl itself refuses a line whose secret is not the invitation's, before it sends anything.
expect_exit 2 "${ENROLL[@]}" "${line2%.*}.${LINE1#*.}" --key "$T/erin.key"
grep -q "not this invitation's secret" "$T/err" || fail "a swapped secret: $(cat "$T/err")"
pass "an invitation with a wrong secret is refused (bad_proof); garagectl does not send one"

# An admin key limited to opening the main door may invite no more than that.
"$GARAGECTL" keygen --id lim -o "$T/lim.key" >"$T/lim.line" 2>/dev/null || fail "keygen lim"
expect_exit 0 "$GARAGECTL" -c "$T/ctl.conf" keys add --kid lim --pub "$(cut -d' ' -f2 "$T/lim.line")" \
	--actions open --doors main --admin
conf_for lim
expect_exit 0 "$GARAGECTL" -c "$T/lim.conf" invite --kid greedy --actions open,close --doors main
refused "$(cat "$T/out")" greedy.key over_permissive
enroll_event 5 '"kid":"greedy","by":"lim".*"reason":"over_permissive"'
expect_exit 0 "$GARAGECTL" -c "$T/lim.conf" invite --kid modest --actions open --doors main
expect_exit 0 "${ENROLL[@]}" "$(cat "$T/out")" --key "$T/modest.key"
enroll_event 6 '"kid":"modest","by":"lim".*"result":"accepted"'
grep -q ' modest actions=open doors=main$' "$KEYS" || fail "modest: $(cat "$KEYS")"
pass "an invitation that grants more than its inviter's key is refused (over_permissive); within it, it enrols"

# A key that is not admin signs an invitation: garagectl makes it, the device refuses it.
expect_exit 0 "$GARAGECTL" -c "$T/bob.conf" invite --kid mallory --actions open --doors main
refused "$(cat "$T/out")" mallory.key not_admin
grep -q 'its inviter may no longer invite' "$T/err" || fail "no hint: $(cat "$T/err")"
enroll_event 7 '"kid":"mallory","by":"bob".*"reason":"not_admin"'
pass "an invitation from a key that is not admin is refused (not_admin)"

# A crash of the door half after the invitation was recorded and before the key was written
# (test builds stop there on GARAGED_TEST_KEYFILE_PAUSE): the invitation stays used, no key.
expect_exit 0 "${INVITE[@]}" --kid gina
line2=$(cat "$T/out")
cp "$KEYS" "$T/keys.before"
used=$(grep -c '^used ' "$T/state/invitations")
stop_garaged
GARAGED_TEST_KEYFILE_PAUSE=written start_garaged
online && garaged_subscribed || fail "garaged did not come back"
"${ENROLL[@]}" "$line2" --key "$T/gina.key" >/dev/null 2>&1 &
ENROLL_PID=$!
await "test hook: pausing 30 s with authorized_keys written" 10 "$T/garaged.log" ||
	fail "the door half did not stop before the key was written: $(tail -3 "$T/garaged.log")"
stop_garaged KILL
kill "$ENROLL_PID" 2>/dev/null
wait "$ENROLL_PID" 2>/dev/null
cmp -s "$T/keys.before" "$KEYS" || fail "a crash before the key: authorized_keys changed: $(diff "$T/keys.before" "$KEYS")"
[ "$(grep -c '^used ' "$T/state/invitations")" = $((used + 1)) ] ||
	fail "a crash before the key: the invitation is not recorded: $(cat "$T/state/invitations")"
start_garaged
online && garaged_subscribed || fail "garaged did not come back"
refused "$line2" gina2.key invitation_used
enroll_event 8 '"kid":"gina".*"reason":"invitation_used"'
pass "a crash between the record and the key leaves the invitation used and no key, also after the restart"

# An expired one: made for a minute, used when the device's clock is two minutes on.
expect_exit 0 "${INVITE[@]}" --kid frank --expires 1m
line2=$(cat "$T/out")
stop_garaged
GARAGED_TEST_CLOCK_OFFSET=120 start_garaged
online && garaged_subscribed || fail "garaged did not come back"
refused "$line2" frank.key invitation_expired
enroll_event 9 '"kid":"frank".*"reason":"invitation_expired"'
pass "an expired invitation is refused (invitation_expired)"

# A file of used invitations garaged did not write: --check-config says where, and garaged does
# not start, since it could not tell a used invitation from a new one.
stop_garaged
cp "$T/state/invitations" "$T/invitations.good"
echo 'used not-an-id' >>"$T/state/invitations"
n=$(grep -c . "$T/state/invitations")
run_garaged -c "$T/garaged.conf" --check-config >"$T/out" 2>&1 && fail "--check-config passes a damaged invitations file"
grep -q "^$T/state/invitations:$n: " "$T/out" || fail "--check-config: $(cat "$T/out")"
: >"$T/garaged.log"
run_garaged -c "$T/garaged.conf" -f >>"$T/garaged.log" 2>&1 && fail "garaged started with a damaged invitations file"
grep -q "invitations:$n: .*garaged does not start without knowing which invitations were used" "$T/garaged.log" ||
	fail "garaged's refusal: $(tail -3 "$T/garaged.log")"
cp "$T/invitations.good" "$T/state/invitations"
run_garaged -c "$T/garaged.conf" --check-config >"$T/out" 2>&1 || fail "--check-config: $(cat "$T/out")"
pass "a damaged invitations file: --check-config names its line, and garaged does not start"
