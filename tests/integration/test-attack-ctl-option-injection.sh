#!/bin/bash
# Attack (issue 15 review): garagectl keys add builds the authorized_keys line by pasting its
# option values together with spaces, so a value with a space in it adds options of its own:
# `--kid "eve admin"` (or `--doors "main admin"`, `--hours "07:00-10:00 admin"`, ...) makes an
# admin key without --admin. The line still parses, so the device's parser, which garagectl
# runs first "to say what is wrong before anything is sent", finds nothing wrong; garagectl
# then says only "key eve: added".
#
# A kid is `[A-Za-z0-9._@-]{1,64}` (docs/reference.md); --doors takes a list of door names.
# Whoever gets a name or a list into an owner's command line (a name sent with a key "add me
# as ...", a script or front end that passes user input to garagectl) gets an admin key, which
# may manage every other key.
#
# Expected: a usage error (exit 2) naming the bad value, nothing sent, authorized_keys
# unchanged. Observed: exit 0, an admin key added.
source "$(dirname "$0")/../../scripts/testbed.sh"
[ -x "$GARAGECTL" ] || fail "no garagectl at $GARAGECTL (build first)"
make_pki
start_broker
keypairs alice eve
write_conf
keys_in_state
printf 'ed25519 %s alice admin\n' "$PUB_alice" >"$KEYS"
chmod 600 "$KEYS"
cat >"$T/ctl.conf" <<CONF
[mqtt]
host = localhost
port = $PORT
cafile = $T/pki/ca.crt
certfile = $T/pki/ctl.local.crt
keyfile = $T/pki/ctl.local.key
topic_prefix = garage

[signing]
key = $T/alice.ed.key
kid = alice
device = garage
CONF
watch
start_garaged
online || fail "garaged did not come up"
await_count 'mqtt: Client .* received SUBACK' $((SUBACKS + 3)) 10 "$T/garaged.log" ||
	fail "garaged did not subscribe to its command and admin topics"

cp "$KEYS" "$T/keys.before"
for args in "--kid|eve admin" "--kid|eve|--doors|main admin" "--kid|eve|--hours|07:00-10:00 admin" \
	"--kid|eve|--actions|open admin" "--kid|eve|--not-after|2030-01-01T00:00:00Z admin"; do
	IFS='|' read -r -a a <<<"$args"
	"$GARAGECTL" -c "$T/ctl.conf" keys add --pub "$PUB_eve" "${a[@]}" >"$T/out" 2>"$T/err" </dev/null
	rc=$?
	[ "$rc" = 2 ] || fail "garagectl keys add --pub ... $(printf "'%s' " "${a[@]}")exited $rc, want 2 (a value with a space): $(cat "$T/out" "$T/err"); authorized_keys now: $(tr '\n' '|' <"$KEYS")"
	cmp -s "$T/keys.before" "$KEYS" || fail "authorized_keys changed: $(diff "$T/keys.before" "$KEYS")"
done
pass "garagectl keys add refuses option values that would add options of their own"
