#!/bin/bash
# garaged under valgrind memcheck, through a short life: connect, a valid signed command, hostile
# ones (malformed, too large, bad signature, replay, retained), SIGHUP, SIGTERM. Valgrind must
# report no error and no definitely lost byte in either half, and garaged must exit 0. The
# sanitizer build cannot run under valgrind: this test runs the release binaries (`make`,
# build/bin), from GARAGED_RELEASE_BIN, and skips when they are not there.
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
# Both halves run under valgrind: --trace-children follows the door half's fexecve() of the
# network half (garaged-net), and %p gives it a log of its own. Each half's log is read below:
# the network half's errors and leaks are in its own. No gdbserver: its
# FIFOs in /tmp would outlive a network half that, as nobody, cannot remove them.
GARAGED_WRAPPER="valgrind --vgdb=no --trace-children=yes --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --log-file=$T/valgrind.%p"

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
NET=$(net_half) || fail "no network half under valgrind"

now() { date +%s; }
good=$(sign alice garage main open "$(now)" "$(nonce)" alice)
pub garage/garage/main/cmd "$good"
await '"result":"accepted"' 30 || fail "the valid command was not accepted"
await 'relay on' 30 "$T/sim.log" || fail "no relay edge for the valid command"

# expect REASON PAYLOAD [pub args]: an event with that reason within 30 s.
expect() {
	local reason=$1 payload=$2
	shift 2
	pub_await "\"reason\":\"$reason\"" 30 "$T/watch.log" garage/garage/main/cmd "$payload" "$@" ||
		fail "no '$reason' event under valgrind"
}
expect malformed '{"v":1,"door":"main"'
expect too_large "$(head -c 600 /dev/zero | tr '\0' x)"
# Signed by another key under alice's kid.
expect bad_signature "$(sign mallory garage main close "$(now)" "$(nonce)" alice)"
expect replay "$good"
await '"reason":"retained"' 30 || fail "the retained command was not refused as retained"
pub garage/garage/main/cmd "" -r # clear it (refused as malformed)
kill -HUP "$GARAGED_PID"
await 'SIGHUP: (reload|re-read).*authorized_keys' 30 "$T/garaged.log" || fail "SIGHUP was not logged as a reload within 30 s"
[ "$(relay_edges)" = 1 ] || fail "the relay moved $(relay_edges) times, want 1"
kill -0 "$GARAGED_PID" 2>/dev/null || fail "garaged died under valgrind"
pass "under valgrind: a valid command obeyed, hostile ones refused, SIGHUP reloaded"

# Valgrind runs garaged's exit slowly too, leak check included: a generous bound.
stop_garaged TERM 60
# check_log LOG WHAT PROGRAM: LOG is a whole memcheck run of PROGRAM (its summary included: a half
# killed before its end reports nothing) with no error and no byte definitely lost.
check_log() {
	local log=$1 what=$2 program=$3
	[ -f "$log" ] || fail "valgrind wrote no log for the $what"
	grep -q 'Memcheck, a memory error detector' "$log" && grep -q "Command: $program" "$log" ||
		fail "the $what did not run under valgrind memcheck: $(head -3 "$log")"
	grep -q 'ERROR SUMMARY: ' "$log" ||
		{ sed 's/^/  valgrind: /' "$log" | tail -20; fail "the $what's valgrind log has no summary: it did not run to its end"; }
	# Leaks first: a definite leak is also one of the errors counted in the summary.
	grep -qE 'definitely lost: 0 bytes|All heap blocks were freed' "$log" ||
		{ grep -A8 'definitely lost in' "$log" | head -20; fail "valgrind reports bytes definitely lost in the $what: $(grep -o 'definitely lost: .*' "$log")"; }
	grep -q 'ERROR SUMMARY: 0 errors' "$log" ||
		{ grep -A3 -E 'Invalid|uninitialised|ERROR SUMMARY' "$log" | head -30; fail "valgrind reports errors in the $what"; }
}
# The door half's log (valgrind keeps garaged's pid) and every network half's (its children:
# the one seen running, and any restarted one).
check_log "$T/valgrind.$GARAGED_PID" "door half" "$GARAGED "
check_log "$T/valgrind.$NET" "network half (pid $NET)" ".*/garaged-net"
while read -r log; do
	check_log "$log" "network half (${log##*/})" ".*/garaged-net"
done < <(grep -l "^==[0-9]*== Parent PID: $GARAGED_PID\$" "$T"/valgrind.*)
[ "$GARAGED_RC" = 0 ] || { sed 's/^/  valgrind: /' "$T/valgrind.$GARAGED_PID" | tail -40; fail "exit code $GARAGED_RC under valgrind, want 0 (99: valgrind found errors)"; }
pass "valgrind, both halves: 0 errors, no byte definitely lost, exit 0 after SIGTERM (in use at exit: door half $(grep -Eo 'in use at exit: .*' "$T/valgrind.$GARAGED_PID" | cut -d' ' -f5-), network half $(grep -Eo 'in use at exit: .*' "$T/valgrind.$NET" | cut -d' ' -f5-))"
