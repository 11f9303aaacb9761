#!/bin/bash
# garaged under valgrind memcheck, through a short life: connect, a valid signed command, hostile
# ones (malformed, too large, bad signature, replay, retained), SIGHUP, SIGTERM. Valgrind must
# report no error and no definitely lost byte, and garaged must exit 0. The sanitizer build
# cannot run under valgrind: this test runs the release binaries (`make`, build/bin), from
# GARAGED_RELEASE_BIN, and skips when they are not there.
RELEASE=${GARAGED_RELEASE_BIN:-$PWD/build/bin}
if [ ! -x "$RELEASE/garaged" ]; then
	echo "SKIP: no release garaged at $RELEASE/garaged (run make first)"
	exit 77
fi
if ! command -v valgrind >/dev/null; then
	echo "SKIP: valgrind is not installed (run scripts/bootstrap)"
	exit 77
fi
if ldd "$RELEASE/garaged" | grep -q 'libasan'; then
	echo "SKIP: $RELEASE/garaged is a sanitizer build, which cannot run under valgrind"
	exit 77
fi
GARAGED_BIN=$RELEASE
source "$(dirname "$0")/../../scripts/testbed.sh"
GARAGED_WRAPPER="valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --log-file=$T/valgrind.%p"

make_pki
start_broker
keypair mallory
keypair alice
write_conf
echo "ed25519 $PUB_B64 alice" >"$T/authorized_keys"
watch
# A retained command waits on the broker: it arrives with the retain flag at subscription.
pub garage/garage/main/cmd "$(sign alice garage main open "$(date +%s)" "$(nonce)" alice)" -r
start_garaged
# Valgrind runs garaged some fifty times slower: generous bounds.
await '^garage/garage/main/state closed$' 60 || fail "garaged under valgrind did not come up"

now() { date +%s; }
good=$(sign alice garage main open "$(now)" "$(nonce)" alice)
pub garage/garage/main/cmd "$good"
await '"result":"accepted"' 30 || fail "the valid command was not accepted"
await 'relay on' 30 "$T/sim.log" || fail "no relay edge for the valid command"

# expect REASON PAYLOAD [pub args]: an event with that reason within 30 s.
expect() {
	local reason=$1 payload=$2 n
	shift 2
	n=$(count "\"reason\":\"$reason\"")
	pub garage/garage/main/cmd "$payload" "$@"
	for _ in $(seq 300); do [ "$(count "\"reason\":\"$reason\"")" -gt "$n" ] && break; sleep 0.1; done
	[ "$(count "\"reason\":\"$reason\"")" -gt "$n" ] || fail "no '$reason' event under valgrind"
}
expect malformed '{"v":1,"door":"main"'
expect too_large "$(head -c 600 /dev/zero | tr '\0' x)"
# Signed by another key under alice's kid.
expect bad_signature "$(sign mallory garage main close "$(now)" "$(nonce)" alice)"
expect replay "$good"
await '"reason":"retained"' 30 || fail "the retained command was not refused as retained"
pub garage/garage/main/cmd "" -r # clear it (refused as malformed)
kill -HUP "$GARAGED_PID"
for _ in $(seq 300); do grep -qi 'authorized_keys' "$T/garaged.log" && grep -qiE 'reload|re-read' "$T/garaged.log" && break; sleep 0.1; done
grep -qiE 'reload|re-read' "$T/garaged.log" || fail "SIGHUP was not logged as a reload"
[ "$(relay_edges)" = 1 ] || fail "the relay moved $(relay_edges) times, want 1"
kill -0 "$GARAGED_PID" 2>/dev/null || fail "garaged died under valgrind"
pass "under valgrind: a valid command obeyed, hostile ones refused, SIGHUP reloaded"

kill -TERM "$GARAGED_PID"
rc=
for _ in $(seq 600); do kill -0 "$GARAGED_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$GARAGED_PID" 2>/dev/null && fail "garaged under valgrind did not exit within 60 s of SIGTERM"
wait "$GARAGED_PID"
rc=$?
# The door half's log (valgrind keeps garaged's pid); the network half, forked, has its own.
log=$T/valgrind.$GARAGED_PID
[ -f "$log" ] || log=
[ -n "$log" ] || fail "valgrind wrote no log"
grep -q 'Memcheck, a memory error detector' "$log" && grep -q "Command: $GARAGED " "$log" ||
	fail "garaged did not run under valgrind memcheck: $(head -3 "$log")"
[ "$rc" = 0 ] || { sed 's/^/  valgrind: /' "$log" | tail -40; fail "exit code $rc under valgrind, want 0 (99: valgrind found errors)"; }
grep -q 'ERROR SUMMARY: 0 errors' "$log" || { grep -A3 -E 'Invalid|uninitialised|ERROR SUMMARY' "$log" | head -30; fail "valgrind reports errors"; }
grep -qE 'definitely lost: 0 bytes|All heap blocks were freed' "$log" ||
	{ grep -A2 'LEAK SUMMARY' "$log"; fail "valgrind reports definitely lost bytes"; }
pass "valgrind: 0 errors, no byte definitely lost, exit 0 after SIGTERM ($(grep -Eo 'in use at exit: .*' "$log"))"
