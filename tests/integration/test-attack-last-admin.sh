#!/bin/bash
# Attack (issue 15 review): the last usable admin key removes itself, because an expired admin
# key still counts as an admin.
#
# cmd_keyring_apply() refuses `remove` of "the only key marked admin" (last_admin), counting
# every line with the word admin, whether or not that key can still sign. An admin key whose
# not_after= has passed is refused for every admin message (key_expired) and always will be,
# yet it lets the last admin that works remove itself. Afterwards no key can manage the keys
# from afar, which is what last_admin exists to prevent (issue 15: "a request that would leave
# no admin key: refused"; docs/reference.md: "without one, keys could only be managed on the
# device again"). A thief holding an admin key, or an owner's slip, gets there in one message.
#
# Expected per the docs: last_admin, authorized_keys unchanged, alice still manages the keys.
# Observed: accepted; the file is left with the expired admin only.
source "$(dirname "$0")/../../scripts/testbed.sh"
make_pki
start_broker
keypairs alice oldadmin carol
write_conf
keys_in_state
printf 'ed25519 %s alice admin\ned25519 %s oldadmin not_after=2020-01-01T00:00:00Z admin\n' \
	"$PUB_alice" "$PUB_oldadmin" >"$KEYS"
chmod 600 "$KEYS"
now() { date +%s; }
admin() { sign_admin "$3" garage "$1" "$2" "$(now)" "$(nonce)" "$3"; }
mark() { KN=$(count '"type":"keys"'); }
keys_event() {
	await_count '"type":"keys"' $((KN + 1)) 5 || fail "no keys event"
	grep '"type":"keys"' "$T/watch.log" | sed -n "$((KN + 1))p"
}

watch
start_garaged
online || fail "garaged did not come up"
await_count 'mqtt: Client .* received SUBACK' $((SUBACKS + 3)) 10 "$T/garaged.log" ||
	fail "garaged did not subscribe to its command and admin topics"

# The expired admin can do nothing (as documented)...
mark
pub garage/garage/admin "$(admin add "ed25519 $PUB_carol carol" oldadmin)"
keys_event | grep -q '"reason":"key_expired"' || fail "the expired admin's add: $(keys_event)"

# ...but it lets the only working admin remove itself.
cp "$KEYS" "$T/keys.before"
mark
pub garage/garage/admin "$(admin remove alice alice)"
ev=$(keys_event)
echo "$ev" | grep -q '"reason":"last_admin"' ||
	fail "the last admin that can still sign removed itself (the other admin key expired in 2020): $ev; authorized_keys now: $(tr '\n' '|' <"$KEYS")"
cmp -s "$T/keys.before" "$KEYS" || fail "authorized_keys changed: $(diff "$T/keys.before" "$KEYS")"
mark
pub garage/garage/admin "$(admin add "ed25519 $PUB_carol carol" alice)"
keys_event | grep -q '"result":"accepted"' || fail "alice can no longer manage the keys: $(keys_event)"
pass "an expired admin key does not count towards last_admin: the last usable admin cannot remove itself"
