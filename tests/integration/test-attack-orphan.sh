#!/bin/bash
# A network half whose door half is killed outright (SIGKILL: no goodbye) must go at once:
# PR_SET_PDEATHSIG, which the door half's child sets, is cleared by the network half's own
# change of user (setresuid), so the network half sets it again after dropping privileges.
# Without that it lived on until it noticed the closed channel (1.4 to 1.8 s in the review);
# one taken over would not go at all. Only as root: the kernel sends a parent-death signal with
# kill(2)'s permission check, as from the dying parent, so a door half running as the unit's user
# (GARAGED_AS_UNIT) may not signal the network half's "nobody" at all; under the unit, systemd
# ends the whole control group when its main process dies.
source "$(dirname "$0")/../../scripts/testbed.sh"
[ -z "${GARAGED_AS_UNIT:-}" ] ||
	skip "as the unit's user the door half may not signal the network half's user: the kernel checks a parent-death signal like kill(2); systemd's control group covers it under the unit"
make_pki
start_broker
write_conf
start_garaged
garaged_subscribed || fail "garaged did not subscribe"
NET=$(net_half) || fail "no network half"
grep -q "user $(id -u nobody)," "$T/garaged.log" ||
	skip "the network half did not change user here (not root and no CAP_SETUID): nothing clears its parent-death signal"
# Stopped first, so that it cannot notice the closed channel by itself: only the kernel's
# parent-death signal (SIGKILL, which a stopped process also receives) can end it.
kill -STOP "$NET"
kill -9 "$GARAGED_PID"
for _ in $(seq 20); do
	[ -d "/proc/$NET" ] && [ "$(awk '{print $3}' "/proc/$NET/stat" 2>/dev/null)" != Z ] || break
	sleep 0.1
done
if [ -d "/proc/$NET" ] && [ "$(awk '{print $3}' "/proc/$NET/stat" 2>/dev/null)" != Z ]; then
	kill -9 "$NET" 2>/dev/null
	fail "the network half (pid $NET) outlived its door half by 2 s: no parent-death signal after its change of user"
fi
pass "the network half went with its door half (parent-death signal set again after the change of user)"
