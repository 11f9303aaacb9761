#!/bin/bash
# --check-config, and a bad configuration at start: one line FILE:LINE: message, exit 1, no retry.
source "$(dirname "$0")/../../scripts/testbed.sh"
make_pki
PORT=1
write_conf
run_garaged -c "$T/garaged.conf" --check-config >"$T/out" 2>&1 || fail "a valid config is refused: $(cat "$T/out")"
pass "a valid config passes"

expect() { # expect WHAT FILE:LINE-PATTERN: --check-config and a plain start both refuse
	local out rc
	out=$(run_garaged -c "$T/bad.conf" --check-config 2>&1); rc=$?
	[ $rc -eq 1 ] || fail "$1: --check-config exit $rc, want 1"
	[ "$(echo "$out" | wc -l)" = 1 ] || fail "$1: more than one line: $out"
	echo "$out" | grep -Eq "^$T/bad.conf:$2" || fail "$1: said '$out', want $T/bad.conf:$2"
	out=$(run_garaged -c "$T/bad.conf" -f 2>&1); rc=$?
	[ $rc -eq 1 ] || fail "$1: a plain start exited $rc, want 1"
	echo "$out" | grep -Eq "^$T/bad.conf:$2" || fail "$1: a plain start said '$out'"
	pass "$1 -> $out"
}
printf '[device]\nid = garage\n[mqtt]\nport = notanumber\n' >"$T/bad.conf"
expect "a bad port" "4: "
sed 's/^port = .*/port = 70000/' "$T/garaged.conf" >"$T/bad.conf"
expect "a port out of range" "[0-9]+: .*port"
sed 's/^keepalive/keepalvie/' "$T/garaged.conf" >"$T/bad.conf"
expect "a misspelt key" "[0-9]+: .*keepalvie"
grep -v '^cafile' "$T/garaged.conf" >"$T/bad.conf"
expect "a missing cafile" "[0-9]+: .*cafile"
sed "s|^cafile = .*|cafile = $T/nope.crt|" "$T/garaged.conf" >"$T/bad.conf"
expect "a cafile that does not exist" "[0-9]+: .*nope.crt"
chmod 644 "$T/pki/garage.local.key"; cp "$T/garaged.conf" "$T/bad.conf"
expect "a private key readable by others" "[0-9]+: .*(readable|mode)"
chmod 600 "$T/pki/garage.local.key"
out=$(run_garaged -c "$T/missing.conf" --check-config 2>&1) && fail "a missing config file passes"
echo "$out" | grep -q "missing.conf" || fail "a missing config file is not named: $out"
pass "a missing config file is refused and named"
