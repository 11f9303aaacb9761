#!/bin/bash
# --check-config, and a bad configuration at start: one line FILE:LINE: message, exit 1, no retry.
source "$(dirname "$0")/../../scripts/testbed.sh"
make_pki
PORT=1
write_conf
run_garaged -c "$T/garaged.conf" --check-config >"$T/out" 2>&1 || fail "a valid config is refused: $(cat "$T/out")"
pass "a valid config passes"

# expect WHAT LINE MESSAGE: --check-config and a plain start both refuse $T/bad.conf with one
# line, bad.conf:LINE: and MESSAGE (an extended regex) after it. LINE is computed from the file
# (line_of), never written down, so a line added to the base configuration changes nothing here.
expect() {
	local out rc want="^$T/bad.conf:$2: .*$3"
	out=$(run_garaged -c "$T/bad.conf" --check-config 2>&1); rc=$?
	[ $rc -eq 1 ] || fail "$1: --check-config exit $rc, want 1"
	[ "$(echo "$out" | wc -l)" = 1 ] || fail "$1: more than one line: $out"
	echo "$out" | grep -Eq "$want" || fail "$1: said '$out', want $T/bad.conf:$2: ...$3"
	out=$(run_garaged -c "$T/bad.conf" -f 2>&1); rc=$?
	[ $rc -eq 1 ] || fail "$1: a plain start exited $rc, want 1"
	echo "$out" | grep -Eq "$want" || fail "$1: a plain start said '$out', want $T/bad.conf:$2: ...$3"
	pass "$1 -> $out"
}
printf '[device]\nid = garage\n[mqtt]\nport = notanumber\n' >"$T/bad.conf"
expect "a bad port" "$(line_of '^port = ' "$T/bad.conf")" "notanumber"
sed 's/^port = .*/port = 70000/' "$T/garaged.conf" >"$T/bad.conf"
expect "a port out of range" "$(line_of '^port = ' "$T/bad.conf")" "port.*70000"
sed 's/^keepalive/keepalvie/' "$T/garaged.conf" >"$T/bad.conf"
expect "a misspelt key" "$(line_of '^keepalvie' "$T/bad.conf")" "keepalvie"
# A key that is missing is reported at its section's header.
grep -v '^cafile' "$T/garaged.conf" >"$T/bad.conf"
expect "a missing cafile" "$(line_of '^\[mqtt\]' "$T/bad.conf")" "cafile"
sed "s|^cafile = .*|cafile = $T/nope.crt|" "$T/garaged.conf" >"$T/bad.conf"
expect "a cafile that does not exist" "$(line_of '^cafile = ' "$T/bad.conf")" "nope\.crt"
chmod 644 "$T/pki/garage.local.key"; cp "$T/garaged.conf" "$T/bad.conf"
expect "a private key readable by others" "$(line_of '^keyfile = ' "$T/bad.conf")" "(readable|mode)"
chmod 600 "$T/pki/garage.local.key"
out=$(run_garaged -c "$T/missing.conf" --check-config 2>&1) && fail "a missing config file passes"
echo "$out" | grep -q "missing.conf" || fail "a missing config file is not named: $out"
pass "a missing config file is refused and named"
