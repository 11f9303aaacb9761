#!/bin/bash
# docs/keys.md, command for command, against a real broker and garaged: the first owner key made
# admin by hand, the partner's laptop invited and enrolled, the dog walker's key for weekday
# mornings of one month, a lost phone revoked. Each command run here is first looked up in
# docs/keys.md, line by line, with its placeholders (BASE64, INVITATION) as the doc writes them,
# so that the walk-through cannot drift from what works. The doc's paths are the owner's and the
# partner's homes (HOME is a scratch folder for each) and /var/lib/garaged, which stands for the
# test's state directory; "sudo systemctl reload garaged" is SIGHUP.
source "$(dirname "$0")/../../scripts/testbed.sh"
DOC=$(cd "$(dirname "$0")/../.." && pwd)/docs/keys.md
[ -f "$DOC" ] || fail "no $DOC"
make_pki
start_broker
PATH=$(dirname "$GARAGECTL"):$PATH
KEYS=$T/state/authorized_keys

# in_doc CMD: every line of CMD is a line of docs/keys.md (leading blanks aside).
in_doc() {
	local l
	while IFS= read -r l; do
		grep -qxF -- "$l" <(sed 's/^[[:space:]]*//' "$DOC") || fail "docs/keys.md has no line: $l"
	done <<<"$(sed 's/^[[:space:]]*//' <<<"$1")"
}
# as WHO CMD [PLACEHOLDER=VALUE...]: CMD as docs/keys.md has it, run by bash in WHO's home with
# the placeholders replaced; stdout in $T/out, stderr in $T/err, the exit status returned. With
# NODOC set, CMD is one the doc only names in its text (garagectl stop), and is not looked up.
as() {
	local who=$1 cmd=$2 p
	shift 2
	[ -n "${NODOC:-}" ] || in_doc "$cmd"
	for p in "$@"; do cmd=${cmd//${p%%=*}/${p#*=}}; done
	cmd=${cmd//\/var\/lib\/garaged/$T/state}
	(cd "$T/$who" && HOME=$T/$who bash -c "$cmd") >"$T/out" 2>"$T/err" </dev/null
}
# ok WHO CMD [...]: as, and it must exit 0.
ok() { as "$@" || fail "$2: exit $?: $(cat "$T/err")"; }
# refused WHO CMD REASON [...]: as, and it must exit 1 with the device's REASON.
refused() {
	local who=$1 cmd=$2 reason=$3
	shift 3
	as "$who" "$cmd" "$@" && fail "$cmd: exit 0, want $reason"
	grep -q "refused .*: $reason" "$T/err" || fail "$cmd: want $reason: $(cat "$T/err")"
}
reload() { # sudo systemctl reload garaged
	local n
	in_doc "sudo systemctl reload garaged"
	n=$(count 'authorized key\(s\) from' "$T/garaged.log")
	kill -HUP "$GARAGED_PID"
	await_count 'authorized key\(s\) from' $((n + 1)) 10 "$T/garaged.log" || fail "no reload"
}
# ctl_conf HOME [KEYFILE KID]: HOME's ~/.config/garagectl/ctl.conf, with [signing] if given.
ctl_conf() {
	mkdir -p "$T/$1/.config/garagectl"
	write_ctl_conf "$T/$1/.config/garagectl/ctl.conf" "${@:2}"
}

# The device, with the key list where docs/setup.md puts it, empty.
write_conf "min_pulse_interval_ms = 0"
sed -i "s|^authorized_keys = .*|authorized_keys = $KEYS|" "$T/garaged.conf"
mkdir -p -m 0700 "$T/state"
install -m 0600 /dev/null "$KEYS"
watch
start_garaged
online && garaged_subscribed || fail "garaged did not come up"

# --- 1. The first owner key is admin --------------------------------------------------------
mkdir -p "$T/alice" "$T/bob" "$T/walker"
ok alice "mkdir -p ~/.config/garagectl"
ok alice "garagectl keygen --id alice-laptop -o ~/.config/garagectl/alice-laptop.key"
grep -Eq '^ed25519 [A-Za-z0-9+/]{43}= alice-laptop$' "$T/out" || fail "keygen printed: $(cat "$T/out")"
ALICE_LINE=$(cat "$T/out")
ok alice "echo 'ed25519 BASE64 alice-laptop admin' | sudo tee -a /var/lib/garaged/authorized_keys" \
	"sudo tee=tee" "ed25519 BASE64 alice-laptop=$ALICE_LINE"
reload
ctl_conf alice "$T/alice/.config/garagectl/alice-laptop.key" alice-laptop
ok alice "garagectl keys list"
cp "$T/out" "$T/list1"
grep -Eq '^alice-laptop +all +all +always +any time +admin$' "$T/out" || fail "keys list: $(cat "$T/out")"
ok alice "garagectl open --wait"
pass "1: the first owner key, made admin by hand, is listed as admin and opens the door"

# --- 2. Invite your partner's laptop --------------------------------------------------------
ok alice "garagectl invite --kid bob-laptop --actions open,close --expires 24h"
INVITATION=$(cat "$T/out")
cp "$T/err" "$T/invite.err"
ctl_conf bob
ok bob "mkdir -p ~/.config/garagectl"
ok bob "garagectl enroll 'INVITATION' --key ~/.config/garagectl/bob-laptop.key" "INVITATION=$INVITATION"
grep -qx 'enrolled: key bob-laptop on device garage' "$T/out" || fail "enroll printed: $(cat "$T/out")"
cp "$T/out" "$T/enroll.out" && cp "$T/err" "$T/enroll.err"
ctl_conf bob "$T/bob/.config/garagectl/bob-laptop.key" bob-laptop
ok bob "garagectl close --wait"
NODOC=1 refused bob "garagectl stop" forbidden
refused bob "garagectl enroll 'INVITATION' --key ~/.config/garagectl/bob-laptop.key" invitation_used \
	"INVITATION=$INVITATION"
pass "2: the partner's laptop, invited for open and close, enrolls once and closes the door"

# --- 3. The dog walker, weekday mornings of December ----------------------------------------
ok walker "garagectl keygen --id dog-walker -o dog-walker.key"
WALKER_PUB=$(cut -d' ' -f2 "$T/out")
ok alice "garagectl keys add --kid dog-walker --pub BASE64 --actions open,close --doors main \\
    --days mon,tue,wed,thu,fri --hours 07:00-10:00 \\
    --not-before 2026-12-01T00:00:00Z --not-after 2026-12-31T23:59:59Z" "BASE64=$WALKER_PUB"
grep -qx 'key dog-walker: added' "$T/out" || fail "keys add printed: $(cat "$T/out")"
grep -qxF "ed25519 $WALKER_PUB dog-walker actions=open,close doors=main not_before=2026-12-01T00:00:00Z not_after=2026-12-31T23:59:59Z days=mon,tue,wed,thu,fri hours=07:00-10:00" "$KEYS" ||
	fail "authorized_keys: $(cat "$KEYS")"
ok alice "garagectl keys list"
cp "$T/out" "$T/list3"
grep -Eq '^dog-walker +open,close +main +2026-12-01T00:00:00Z\.\.2026-12-31T23:59:59Z +mon,tue,wed,thu,fri 07:00-10:00 +-$' "$T/out" ||
	fail "keys list: $(cat "$T/out")"
# Now is before its month (or after it, or off its hours): the device says which.
ctl_conf walker "$T/walker/dog-walker.key" dog-walker
NODOC=1 as walker "garagectl open" && fail "the dog walker opened outside the key's month"
grep -Eq 'refused the command: (key_not_yet_valid|key_expired|key_off_hours)' "$T/err" || fail "the dog walker: $(cat "$T/err")"
# The same limits as an invitation: made, not used here.
ok alice "garagectl invite --kid dog-walker-2 --actions open,close --doors main \\
    --days mon,tue,wed,thu,fri --hours 07:00-10:00 \\
    --key-not-before 2026-12-01T00:00:00Z --key-not-after 2026-12-31T23:59:59Z"
pass "3: the dog walker's key, weekday mornings of one month, is added, listed, and refused outside them"

# --- 4. Revoke a lost phone -------------------------------------------------------------------
"$GARAGECTL" keygen --id alice-phone -o "$T/walker/alice-phone.key" >"$T/phone.line" 2>/dev/null || fail "keygen"
ok alice "garagectl keys add --kid alice-phone --pub BASE64" "BASE64=$(cut -d' ' -f2 "$T/phone.line")"
ctl_conf walker "$T/walker/alice-phone.key" alice-phone
NODOC=1 as walker "garagectl open" || fail "the phone's key does not open: $(cat "$T/err")"
ok alice "garagectl keys remove alice-phone"
grep -qx 'key alice-phone: removed' "$T/out" || fail "keys remove printed: $(cat "$T/out")"
cp "$T/out" "$T/remove.out"
NODOC=1 refused walker "garagectl open" unknown_key
NODOC=1 refused alice "garagectl keys remove alice-laptop" last_admin
grep -q ' alice-phone' "$KEYS" && fail "authorized_keys still has the phone: $(cat "$KEYS")"
pass "4: the lost phone's key is removed and refused at once; the last admin key cannot be"
