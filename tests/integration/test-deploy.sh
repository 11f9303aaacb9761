#!/bin/bash
# Deployment: the systemd unit's hardening score, the man pages (rendered without warnings, and
# naming every configuration key and every option), and `make install` with PREFIX and DESTDIR.
source "$(dirname "$0")/../../scripts/testbed.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD_DIR=$(cd "$(dirname "$GARAGED")/.." && pwd)
UNIT=$ROOT/deploy/garaged.service
skipped=""

# 1. The unit: systemd-analyze's offline security review needs no running systemd.
if command -v systemd-analyze >/dev/null; then
	systemd-analyze security --offline=true "$UNIT" >"$T/analyze.out" 2>&1 ||
		fail "systemd-analyze security failed: $(tail -3 "$T/analyze.out")"
	grep -q "Unknown key\|Unknown section\|ignoring" "$T/analyze.out" &&
		fail "systemd does not understand the unit: $(grep -m3 'Unknown\|ignoring' "$T/analyze.out")"
	score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' "$T/analyze.out")
	[ -n "$score" ] || fail "no 'Overall exposure level' line: $(tail -3 "$T/analyze.out")"
	awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }' ||
		fail "exposure $score is over 2.0: $(grep '✗' "$T/analyze.out" | head -20)"
	# The figure README and docs/setup.md state is the one measured, not a hope.
	for doc in README.md docs/setup.md; do
		documented=$(tr '\n' ' ' <"$ROOT/$doc" | grep -o 'systemd-analyze[ ]*security garaged`* rates it [0-9.]*\|systemd-analyze[ ]*security garaged`* [0-9.]*' |
			grep -o '[0-9]\.[0-9]*$' | head -1)
		[ -n "$documented" ] || fail "$doc states no 'systemd-analyze security garaged' figure"
		[ "$documented" = "$score" ] || fail "$doc says the exposure is $documented; systemd-analyze says $score"
	done
	pass "systemd-analyze security: exposure $score (at most 2.0), as README and docs/setup.md say"
else
	skipped="$skipped systemd-analyze is not installed (package systemd);"
fi
for k in 'Type=notify' 'ExecStart=/usr/sbin/garaged -c /etc/garaged/garaged.conf -f' \
	'ExecReload=/bin/kill -HUP $MAINPID' 'Restart=on-failure' 'RestartSec=5' 'User=garaged' \
	'DeviceAllow=char-gpiochip rw' 'DevicePolicy=closed' 'ProtectSystem=strict' \
	'CapabilityBoundingSet=CAP_SETUID CAP_SETGID' 'NoNewPrivileges=yes' 'SystemCallFilter=@system-service'; do
	grep -qxF "$k" "$UNIT" || fail "the unit has no line '$k'"
done
pass "the unit runs garaged -f as the user garaged, reloads with SIGHUP, restarts on failure"

# 2. make install with PREFIX and DESTDIR, from the build these tests run (GARAGED_BIN).
make -s -C "$ROOT" install BUILD="$BUILD_DIR" PREFIX=/usr DESTDIR="$T/root" >"$T/install.out" 2>&1 ||
	fail "make install failed: $(tail -5 "$T/install.out")"
want() { # want MODE PATH: PATH under DESTDIR exists with MODE
	local mode
	mode=$(stat -c %a "$T/root$2" 2>/dev/null) || fail "make install did not install $2"
	[ "$mode" = "$1" ] || fail "$2 has mode $mode, want $1"
}
want 755 /usr/sbin/garaged
want 755 /usr/bin/garagectl
want 644 /usr/share/man/man8/garaged.8
want 644 /usr/share/man/man5/garaged.conf.5
want 644 /usr/share/man/man1/garagectl.1
want 644 /usr/lib/systemd/system/garaged.service
want 644 /usr/share/doc/garaged/garaged.conf.example
want 644 /usr/lib/systemd/user/garagectl-sign-requests.service
want 644 /usr/lib/systemd/user/garagectl-sign-requests.timer
want 750 /etc/garaged
# The web app, when this build made it (CMake builds it where npm is: scripts/bootstrap).
if [ -f "$BUILD_DIR/web/index.html" ]; then
	for f in index.html app.js sw.js manifest.webmanifest lib/keys.js vendor/mqtt.min.js; do
		want 644 "/usr/share/garaged/web/$f"
	done
else
	skipped="$skipped the web app is not built in $BUILD_DIR (npm was missing);"
fi
[ -d "$T/root/etc/garaged" ] || fail "/etc/garaged is not a directory"
out=$("$T/root/usr/sbin/garaged" --version) || fail "the installed garaged --version failed"
[[ $out == "garaged "[0-9]* ]] || fail "the installed garaged --version said '$out'"
"$T/root/usr/bin/garagectl" --version >/dev/null || fail "the installed garagectl --version failed"
grep -qx 'ExecStart=/usr/sbin/garaged -c /etc/garaged/garaged.conf -f' \
	"$T/root/usr/lib/systemd/system/garaged.service" || fail "the installed unit's ExecStart is wrong"
# The owner's daily signing of renewals (docs/certificates.md): a user unit and its timer.
grep -qx 'ExecStart=/usr/bin/garagectl pki sign-requests --dir ${GARAGECTL_PKI} --yes' \
	"$T/root/usr/lib/systemd/user/garagectl-sign-requests.service" || fail "the sign-requests unit's ExecStart is wrong"
grep -qx 'OnCalendar=daily' "$T/root/usr/lib/systemd/user/garagectl-sign-requests.timer" &&
	grep -qx 'WantedBy=timers.target' "$T/root/usr/lib/systemd/user/garagectl-sign-requests.timer" ||
	fail "the sign-requests timer is not a daily one"
if command -v systemd-analyze >/dev/null; then
	cp "$T/root/usr/lib/systemd/user/garagectl-sign-requests."* "$T/"
	sed -i "s#^ExecStart=/usr/bin/garagectl#ExecStart=$T/root/usr/bin/garagectl#" "$T/garagectl-sign-requests.service"
	# A user manager's runtime directory of its own, and the installed man page for
	# Documentation=, which verify looks up.
	mkdir -m 700 "$T/xdg"
	MANPATH=$T/root/usr/share/man XDG_RUNTIME_DIR=$T/xdg systemd-analyze verify --user \
		"$T/garagectl-sign-requests.timer" "$T/garagectl-sign-requests.service" \
		>"$T/verify.out" 2>&1 || fail "systemd-analyze verify: $(tail -3 "$T/verify.out")"
	grep -qi "unknown\|ignoring" "$T/verify.out" && fail "systemd does not understand the sign-requests units: $(head -3 "$T/verify.out")"
fi
pass "make install PREFIX=/usr DESTDIR=...: binaries, man pages, units, example, /etc/garaged 0750, the web app ($out)"

# Another prefix: the unit names the daemon where it was installed.
make -s -C "$ROOT" install BUILD="$BUILD_DIR" PREFIX=/usr/local DESTDIR="$T/local" >"$T/install.out" 2>&1 ||
	fail "make install PREFIX=/usr/local failed: $(tail -5 "$T/install.out")"
grep -qx 'ExecStart=/usr/local/sbin/garaged -c /etc/garaged/garaged.conf -f' \
	"$T/local/usr/local/lib/systemd/system/garaged.service" ||
	fail "with PREFIX=/usr/local the unit does not start /usr/local/sbin/garaged"
[ -x "$T/local/usr/local/sbin/garaged" ] || fail "PREFIX=/usr/local: no /usr/local/sbin/garaged"
grep -q '^ExecStart=/usr/local/bin/garagectl pki sign-requests' \
	"$T/local/usr/local/lib/systemd/user/garagectl-sign-requests.service" ||
	fail "with PREFIX=/usr/local the sign-requests unit does not run /usr/local/bin/garagectl"
pass "make install PREFIX=/usr/local: the unit starts /usr/local/sbin/garaged"

# The tree's promise (docs/architecture.md): each program links only what it calls. garagectl
# and the network half never load the door half's libgpiod or libsodium; the door half never
# loads OpenSSL or libmosquitto (it never speaks TLS).
# links_none PROGRAM LIB-REGEX WANTED: ldd of PROGRAM shows nothing matching LIB-REGEX and does
# show WANTED (so that an empty or failed ldd cannot pass).
links_none() {
	local libs
	libs=$(ldd "$1") || fail "ldd $1 failed"
	echo "$libs" | grep -Eq "$2" &&
		fail "$1 links $(echo "$libs" | grep -E "$2" | awk '{print $1}' | tr '\n' ' ')"
	echo "$libs" | grep -q "$3" || fail "ldd $1 shows no $3: is this ldd's output? $libs"
	return 0
}
links_none "$T/root/usr/bin/garagectl" 'libgpiod|libsodium' libmosquitto
pass "garagectl loads no libgpiod and no libsodium (ldd)"
[ -x "$T/root/usr/libexec/garaged/garaged-net" ] ||
	fail "make install: no /usr/libexec/garaged/garaged-net (the network half)"
links_none "$T/root/usr/libexec/garaged/garaged-net" 'libgpiod|libsodium' libmosquitto
links_none "$T/root/usr/sbin/garaged" 'libssl|libcrypto|libmosquitto' libgpiod
pass "the network half (/usr/libexec/garaged/garaged-net) loads no libgpiod and no libsodium, the door half no OpenSSL and no libmosquitto (ldd)"
# Run by hand, the network half says what it is and does nothing.
"$T/root/usr/libexec/garaged/garaged-net" >"$T/net.out" 2>&1 && fail "garaged-net run by hand exited 0"
grep -q "garaged's network half" "$T/net.out" || fail "garaged-net run by hand said: $(cat "$T/net.out")"
pass "garaged-net run by hand explains itself and exits"

# 3. The man pages, as installed: no warnings from man or groff, and the content people look for.
MAN=$T/root/usr/share/man
render() { MANWIDTH=80 man --no-hyphenation --no-justification -l "$1" 2>/dev/null; }
for page in man8/garaged.8 man5/garaged.conf.5 man1/garagectl.1; do
	w=$(MANWIDTH=80 man --warnings -l "$MAN/$page" 2>&1 >/dev/null)
	[ -z "$w" ] || fail "man --warnings $page: $w"
	w=$(groff -ww -z -man "$MAN/$page" 2>&1)
	[ -z "$w" ] || fail "groff -ww $page: $w"
	render "$MAN/$page" | head -3 | grep -q '^NAME' || fail "$page does not render a NAME section"
done
pass "man -l and groff -ww render the three pages without a warning"

# Every key of config.c's table is documented as "key = ..." in garaged.conf(5). A row of the
# table starts {"SECTION", "NAME", parse_function, (config.h, struct config_key).
render "$MAN/man5/garaged.conf.5" >"$T/conf.5.txt"
keys=$(python3 - "$ROOT/src/common/config.c" <<'PY'
import re, sys
src = open(sys.argv[1]).read()
for sec, key in re.findall(r'\{\s*"([a-z]+(?:\.NAME)?)"\s*,\s*"([a-z_]+)"\s*,\s*\w+\s*,', src):
    print(sec, key)
PY
)
[ "$(echo "$keys" | wc -l)" -ge 30 ] || fail "found only $(echo "$keys" | wc -l) keys in config.c"
n=0
while read -r section key; do
	grep -Eq "^ +$key = " "$T/conf.5.txt" || fail "garaged.conf(5) does not document $section key '$key'"
	n=$((n + 1))
done <<<"$keys"
for s in '\[device\]' '\[mqtt\]' '\[security\]' '\[homeassistant\]' '\[door.NAME\]' \
	'sha256:' 'spki-sha256:' 'DA 39 A3' 'Default: 8883' 'Default: 500' 'Default: 10' '0 to 86400'; do
	grep -q "$s" "$T/conf.5.txt" || fail "garaged.conf(5) does not mention $s"
done
pass "garaged.conf(5) documents all $n keys of config.c, the pin forms, defaults and ranges"

render "$MAN/man8/garaged.8" >"$T/garaged.8.txt"
for s in '-c FILE' ' -f' ' -v' '--check-config' '--version' SIGHUP authorized_keys SIGTERM SIGINT \
	offline 'EXIT STATUS' /etc/garaged/garaged.conf garaged.service; do
	grep -q -e "$s" "$T/garaged.8.txt" || fail "garaged(8) does not mention '$s'"
done
pass "garaged(8): options, signals, files, exit status"

render "$MAN/man1/garagectl.1" >"$T/garagectl.1.txt"
# Every long option and every command in garagectl's own usage appears in the page.
help=$("$GARAGECTL" --help 2>&1)
for o in $(echo "$help" | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u) -c -o open close stop toggle \
	status keygen renew 'pki init' 'pki issue' 'pki fingerprint' 'pki der' 'pki revoke' \
	'pki sign-requests' garagectl-sign-requests.timer broker-config \
	GARAGECTL_CONF ctl.conf '\[signing\]' 'EXIT STATUS' EXAMPLES; do
	grep -q -e "$o" "$T/garagectl.1.txt" || fail "garagectl(1) does not mention '$o'"
done
for code in 0 1 2; do
	grep -Eq "^ +$code$" "$T/garagectl.1.txt" || fail "garagectl(1) does not explain exit status $code"
done
pass "garagectl(1): every command and option of garagectl --help, ctl.conf, exit status 0/1/2"

# 4. docs/reference.md is the contract, and it is complete: every configuration key of config.c's
# tables (and ctl.conf's [signing]) in the table of its section, every reason word of
# cmd_names.c and every event type and field of event.c in theirs, every command of
# `garagectl --help` under a heading of its own, every option of garagectl's and garaged's
# usage; and no README or doc points outside this repository.
REF=$ROOT/docs/reference.md
[ -f "$REF" ] || fail "there is no docs/reference.md"
help=$("$GARAGECTL" --help 2>&1)
garaged_usage=$("$GARAGED" --help 2>&1)
missing=$(python3 - "$ROOT" "$REF" "$help" "$garaged_usage" <<'PY'
import glob, os, re, sys
root, ref, ctl_help, garaged_usage = sys.argv[1:5]
doc = open(ref).read()
lines = doc.splitlines()
src = {f: open(f).read() for f in glob.glob(os.path.join(root, 'src', '**', '*.c'), recursive=True)}
missing, counts = [], {}

def part(title_has):
    """The text under every heading that contains TITLE_HAS, up to the next heading."""
    out, inside = [], False
    for l in lines:
        if l.startswith('#'):
            inside = title_has in l
        elif inside:
            out.append(l)
    return '\n'.join(out)

def need(what, ok, kind):
    counts[kind] = counts.get(kind, 0) + 1
    if not ok:
        missing.append(what)

# Configuration keys: the rows of config.c's table of keys (wherever it lives) and of
# ctl_config.c's [signing] table, {"SECTION", "NAME", parse_function, ..., each under the
# heading of its section.
conf = [t for f, t in src.items() if os.path.basename(f) in ('config.c', 'ctl_config.c')]
for t in conf:
    for sec, key in re.findall(r'\{\s*"([a-z]+(?:\.NAME)?)"\s*,\s*"([a-z_]+)"\s*,\s*\w+\s*,', t):
        need('key %s of [%s] in the table under a [%s] heading' % (key, sec, sec),
             '| `%s` |' % key in part('[' + sec + ']'), 'keys')
# Reason words: cmd_names.c's names of enum cmd_reason, and renew.c's of enum renew_reason,
# each a row of a reasons' table.
for f, t in src.items():
    for r in re.findall(r'\[CMD_(?!OK\])[A-Z_]+\]\s*=\s*"([a-z_]+)"', t):
        need('reason %s as a table row' % r, '| `%s` |' % r in doc, 'reasons')
    for r in re.findall(r'\[RENEW_(?!OK\])[A-Z_]+\]\s*=\s*"([a-z_]+)"', t):
        need('renewal reason %s as a table row' % r, '| `%s` |' % r in doc, 'renewal reasons')
# The renewal event's steps and the reasons its callers give (renewal_event(...) in the
# door and the network half), each as a word under "Certificate renewal" or Events.
renewal = part('Certificate renewal') + part('Events')
for f, t in src.items():
    for args in re.findall(r'renewal_event\((.*?)\);', t, re.S):
        for w in re.findall(r'"([a-z_]+)"', args):
            need('renewal word %s under Certificate renewal' % w, '`%s`' % w in renewal, 'renewal words')
# Event types (event.c's own, and every event_note() caller's) and fields, under "Events".
events = part('Events')
for f, t in src.items():
    types = re.findall(r'put_field\(&o,\s*"type",\s*"([a-z_]+)"\)', t)
    types += re.findall(r'event_note\([^;]*?"([a-z_]+)"', t, re.S)
    for ty in types:
        need('event type %s as a row under Events' % ty, '| `%s` |' % ty in events, 'event types')
    if os.path.basename(f) == 'event.c':
        for fld in set(re.findall(r'put_(?:field|int)\(&o,\s*"([a-z_]+)"', t)):
            need('event field %s under Events' % fld, '`%s`' % fld in events, 'event fields')
# garagectl's commands, each under a heading, and every option of its usage.
heads = [l for l in lines if l.startswith('#') and 'garagectl' in l]
for l in ctl_help.splitlines():
    m = re.match(r'  ([a-z][a-z|-]*)(?: ([a-z]+))?', l)
    if not m:
        continue
    for c in m.group(1).split('|'):
        if c == 'pki':
            c = 'pki ' + m.group(2)
        need('garagectl %s under a heading of its own' % c,
             any(re.search(r'\b%s\b' % re.escape(c), h) for h in heads), 'commands')
for o in set(re.findall(r'(?<![\w-])(--?[a-z][a-z0-9-]*)', ctl_help + '\n' + garaged_usage)):
    need('option %s' % o, '`' + o in doc, 'options')
if counts.get('keys', 0) < 30 or counts.get('reasons', 0) < 11 or counts.get('commands', 0) < 10 \
        or counts.get('event fields', 0) < 8 or counts.get('renewal reasons', 0) < 10 \
        or counts.get('renewal words', 0) < 6:
    missing.append('too few found in the sources (%s): has their layout changed?' % counts)
print('\n'.join(missing) if missing else 'OK ' + ', '.join('%d %s' % (n, k) for k, n in sorted(counts.items())))
PY
) || fail "checking docs/reference.md failed: $missing"
[[ $missing == OK* ]] || fail "docs/reference.md does not name: $(echo "$missing" | head -5 | paste -sd ';' -)"
outside=$(grep -rln '\.\./shared' "$ROOT/README.md" "$ROOT/docs" "$ROOT/man" "$ROOT/deploy" 2>/dev/null)
[ -z "$outside" ] || fail "these name ../shared, outside the repository: $(echo "$outside" | sed "s|^$ROOT/||" | paste -sd ' ' -)"
grep -q 'docs/reference.md' "$ROOT/README.md" || fail "README does not point at docs/reference.md"
pass "docs/reference.md names ${missing#OK }; no README or doc names ../shared"

[ -z "$skipped" ] || skip "$skipped (everything else passed)"
