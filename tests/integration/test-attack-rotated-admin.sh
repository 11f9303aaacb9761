#!/bin/bash
# Attack (issue 15 review): an admin key the owner has replaced by hand in authorized_keys (a
# stolen phone's key swapped for a new one under the same kid, before SIGHUP) still changes the
# keys, and its change is written with the owner's unfinished edit.
#
# docs/reference.md, the admin message: the change is "judged against authorized_keys as it is
# on the disk now (read again ...: a hand edit not yet reloaded counts, and is kept)", refused
# with unknown_key or not_admin when "the signer's key is no longer in the file, or no longer
# marked admin there". keyfile_change() looks the signer up in the file by kid and checks only
# the word admin: the signature was verified with the public key loaded before, and the key
# in the file under that kid is another one. So the thief's old key, no longer in the file,
# adds an admin key of the thief's own between the owner's edit and the owner's reload.
#
# Expected per the docs: rejected (unknown_key), authorized_keys as the owner left it.
# Observed: accepted; the thief's admin key is appended and in use.
source "$(dirname "$0")/../../scripts/testbed.sh"
make_pki
start_broker
keypairs alice alicenew thief
write_conf
keys_in_state
printf 'ed25519 %s alice admin\n' "$PUB_alice" >"$KEYS"
chmod 600 "$KEYS"
now() { date +%s; }
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

# alice's phone is stolen: the owner gives alice a new key, by hand, in place (owner and mode
# kept), and has not reloaded garaged yet.
printf 'ed25519 %s alice admin\n' "$PUB_alicenew" >"$T/keys.edited"
cat "$T/keys.edited" >"$KEYS"
# The thief signs with the stolen (old) key.
mark
pub garage/garage/admin "$(sign_admin alice garage add "ed25519 $PUB_thief thief admin" "$(now)" "$(nonce)" alice)"
ev=$(keys_event)
echo "$ev" | grep -q '"result":"rejected"' ||
	fail "alice's old key, replaced in authorized_keys by hand, still manages the keys: $ev; authorized_keys now: $(tr '\n' '|' <"$KEYS")"
cmp -s "$T/keys.edited" "$KEYS" || fail "authorized_keys changed: $(diff "$T/keys.edited" "$KEYS")"
pass "the signer's key is judged against the file on the disk, public key included"
