#!/bin/bash
# Attack (issue 15 review): an admin message replayed after garaged died between writing
# authorized_keys and saving the message's nonce is applied a second time: a key the owner
# revoked in between comes back.
#
# handle_admin() renames the new authorized_keys into place, publishes the key list and the
# event, and only then saves the nonce to state_dir (save_state()). A door half that dies in
# between (power cut, OOM kill, watchdog) restarts without that nonce. An admin message stamped
# ahead of the restart (a controller whose clock runs up to clock_skew ahead, the case
# docs/security.md "Restarts" covers for commands) is then judged new again. For a command the
# docs accept the loss of "that one command's nonce" for the relay's latency; an admin message
# has no relay to wait for, and docs/reference.md promises "The nonce of every message whose
# signature verified is saved to state_dir right away", D14 "replay an admin message ...
# kept across restarts". Whoever captured the message (any controller reads P/D/admin) replays
# it once the owner has removed the key it added.
#
# Expected per the docs: replay, the revoked key stays revoked. Observed: accepted, re-added.
source "$(dirname "$0")/../../scripts/testbed.sh"
if ! ldd "$GARAGED" | grep -q libasan; then
	skip "$GARAGED is a release build, without GARAGED_TEST_KEYFILE_PAUSE"
fi
make_pki
start_broker
keypairs alice mallory
write_conf
keys_in_state
printf 'ed25519 %s alice admin\n' "$PUB_alice" >"$KEYS"
chmod 600 "$KEYS"
now() { date +%s; }
listening() { await_count 'mqtt: Client .* received SUBACK' $((SUBACKS + 3)) 10 "$T/garaged.log"; }
mark() { KN=$(count '"type":"keys"'); }
keys_event() {
	await_count '"type":"keys"' $((KN + 1)) 5 || fail "no keys event"
	grep '"type":"keys"' "$T/watch.log" | sed -n "$((KN + 1))p"
}

watch
# The door half stops right after the rename (test builds' hook) and is killed there.
GARAGED_TEST_KEYFILE_PAUSE=renamed start_garaged
listening || fail "garaged did not subscribe"
M=$(sign_admin alice garage add "ed25519 $PUB_mallory mallory" $(($(now) + 20)) "$(nonce)" alice)
pub garage/garage/admin "$M"
await "test hook: pausing 30 s with authorized_keys renamed" 10 "$T/garaged.log" ||
	fail "the door half did not stop after the rename: $(tail -3 "$T/garaged.log")"
stop_garaged KILL 2>/dev/null
grep -q " mallory$" "$KEYS" || fail "the add was not in place when the door half died"
start_garaged
listening || fail "garaged did not subscribe after the restart"

# The owner removes mallory again.
mark
pub garage/garage/admin "$(sign_admin alice garage remove mallory "$(now)" "$(nonce)" alice)"
keys_event | grep -q '"result":"accepted"' || fail "the owner's remove: $(keys_event)"
# The captured add, replayed within its time window.
mark
pub garage/garage/admin "$M"
ev=$(keys_event)
echo "$ev" | grep -q '"reason":"replay"' ||
	fail "an admin message applied before a crash is applied again after it, re-adding the key the owner removed: $ev"
grep -q " mallory$" "$KEYS" && fail "mallory is back in authorized_keys"
pass "an admin message's nonce is kept before its change can outlive a crash"
