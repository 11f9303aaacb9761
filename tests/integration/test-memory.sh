#!/bin/bash
# Issue 18: what the door half keeps written in its static memory once it has started, reloaded
# authorized_keys (SIGHUP), obeyed a command and made a key change, is its long-lived state
# only. The buffers a load, a key change, a renewal or a network half's START need for a moment
# are allocated for it and given back (docs/performance.md): a static one, written once, would
# stay resident for the whole run. resident_statics.py lists each of garaged's statics with a
# page of its own written (not only read); any not named below fails the test. The figures
# (PSS, the pages) are make bench's; this is which objects, not how much.
source "$(dirname "$0")/../../scripts/testbed.sh"
[ -r /proc/kpageflags ] || skip "reading which pages were written (/proc/kpageflags) needs root"
[ -z "${GARAGED_WRAPPER:-}" ] || skip "garaged runs under $GARAGED_WRAPPER: its pages are not garaged's own"
# The long-lived state: the daemon (struct garaged: the configuration, the keyring, the replay
# window, the state's nonces), the queue and the key list for the network half, the packet it
# last sent, the verifier's file as the last command saved it, the used invitations' file.
ALLOWED=(g:garaged.c chan_out:garaged.c keys_out:garaged.c m:garaged.c text:state.c text:invites.c)
make_pki
start_broker
keypairs alice bob
write_conf "min_pulse_interval_ms = 0"
# The file garaged manages (docs/setup.md): in its state directory, with an admin key.
keys_in_state
printf '# the owner\ned25519 %s alice admin\n' "$PUB_alice" >"$KEYS"
chmod 600 "$KEYS"
watch
start_garaged
online || fail "garaged did not come up"
# The command topics, P/D/admin and P/D/enroll.
await_count 'mqtt: Client .* received SUBACK' $((SUBACKS + 3)) 10 "$T/garaged.log" ||
	fail "garaged did not subscribe within 10 s"
pub garage/garage/main/cmd "$(sign alice garage main open "$(date +%s)" "$(nonce)" alice)"
await '"kid":"alice".*"result":"accepted"' 10 || fail "alice's command was not accepted"
pub garage/garage/admin "$(sign_admin alice garage add "ed25519 $PUB_bob bob" "$(date +%s)" "$(nonce)" alice)"
await '"type":"keys".*"target":"bob".*"result":"accepted"' 10 || fail "the admin add was not accepted"
grep -q " bob$" "$KEYS" || fail "bob is not in authorized_keys after the add"
n=$(count '2 authorized key\(s\) from' "$T/garaged.log")
kill -HUP "$GARAGED_PID"
await_count '2 authorized key\(s\) from' $((n + 1)) 10 "$T/garaged.log" || fail "no reload at SIGHUP"
python3 "$(dirname "$0")/resident_statics.py" "$GARAGED_PID" "$GARAGED" "${ALLOWED[@]}" >"$T/statics" 2>&1
rc=$?
sed 's/^/  /' "$T/statics"
[ $rc = 77 ] && skip "$(tail -1 "$T/statics")"
[ $rc = 0 ] || fail "a static buffer of the door half stays written after the job that needed it (above)"
pass "the door half's written statics are its long-lived state only"
