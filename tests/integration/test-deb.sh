#!/bin/bash
# `make deb`: a Debian package built with dpkg-buildpackage, checked with dpkg-deb (files,
# Depends, maintainer scripts) and unpacked into a scratch root with dpkg -x (never installed
# on this machine), where the extracted garaged and garagectl run.
# `make check` installs no packaging tools: without them this test is skipped (`make deb`
# installs them).
source "$(dirname "$0")/../../scripts/testbed.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)

command -v dpkg-buildpackage >/dev/null ||
	skip "dpkg-buildpackage is not installed (make deb installs it: apt-get build-dep ./)"
(cd "$ROOT" && dpkg-checkbuilddeps) >"$T/deps.out" 2>&1 ||
	skip "build dependencies missing (make deb installs them): $(cat "$T/deps.out")"

make -C "$ROOT" deb BUILD="$T/deb" >"$T/deb.log" 2>&1 || fail "make deb failed: $(tail -15 "$T/deb.log")"
debs=("$T"/deb/garaged_*.deb)
[ -f "${debs[0]}" ] || fail "make deb made no garaged_*.deb in its build directory"
DEB=${debs[0]}
[[ $(basename "$DEB") == garaged_0.1.0-1_*.deb ]] || fail "unexpected package name $(basename "$DEB")"
pass "make deb built $(basename "$DEB")"

dpkg-deb -c "$DEB" >"$T/contents" || fail "dpkg-deb -c failed"
for f in ./usr/sbin/garaged ./usr/libexec/garaged/garaged-net ./usr/bin/garagectl ./lib/systemd/system/garaged.service \
	./usr/share/man/man8/garaged.8.gz ./usr/share/man/man5/garaged.conf.5.gz \
	./usr/share/man/man1/garagectl.1.gz ./usr/share/doc/garaged/garaged.conf.example \
	./usr/share/doc/garaged/copyright ./etc/garaged/ ./usr/share/garaged/web/index.html \
	./usr/share/garaged/web/app.js ./usr/share/garaged/web/sw.js \
	./usr/share/garaged/web/vendor/mqtt.min.js ./usr/lib/systemd/user/garagectl-sign-requests.service \
	./usr/lib/systemd/user/garagectl-sign-requests.timer; do
	grep -q " $f\$" "$T/contents" || fail "the package has no $f: $(awk '{print $6}' "$T/contents")"
done
grep -E ' \./usr/sbin/garaged$' "$T/contents" | grep -q '^-rwxr-xr-x root/root' ||
	fail "garaged is not 0755 root:root in the package"
pass "contents: binaries, the unit, the sign-requests user units, three man pages, the example, /etc/garaged, the web app"

dpkg-deb -I "$DEB" >"$T/info" || fail "dpkg-deb -I failed"
depends=$(sed -n 's/^ Depends: //p' "$T/info")
for lib in adduser libmosquitto1 libsodium23 libssl3 libgpiod libinih1 libcjson1 libc6; do
	echo "$depends" | grep -q "$lib" || fail "Depends lacks $lib: $depends"
done
grep -q '^ Recommends: .*mosquitto-clients' "$T/info" || fail "no Recommends: mosquitto-clients"
pass "Depends: $depends"

dpkg-deb -e "$DEB" "$T/control" || fail "dpkg-deb -e failed"
for s in postinst prerm postrm; do
	[ -x "$T/control/$s" ] || fail "no executable $s maintainer script"
	sh -n "$T/control/$s" || fail "$s does not parse"
done
grep -q 'adduser --system --group --no-create-home' "$T/control/postinst" ||
	fail "postinst does not create the system user garaged"
grep -q 'adduser garaged gpio' "$T/control/postinst" || fail "postinst does not add garaged to gpio"
grep -q 'dpkg-statoverride --update --add root garaged 0750 /etc/garaged' "$T/control/postinst" ||
	fail "postinst does not make /etc/garaged root:garaged 0750"
grep -q "deb-systemd-helper enable 'garaged.service'" "$T/control/postinst" ||
	fail "postinst does not enable the unit (dh_installsystemd)"
grep -q "deb-systemd-invoke stop 'garaged.service'" "$T/control/prerm" ||
	fail "prerm does not stop the unit"
# The owner enables the daily signing on the machine with the CA; the package enables it for
# nobody (dh_installsystemduser --no-enable: only a timer some user had enabled before, which
# deb-systemd-helper remembers as debian-installed, is enabled again on an upgrade).
grep -q "deb-systemd-helper --user debian-installed 'garagectl-sign-requests.timer'" "$T/control/postinst" ||
	fail "postinst enables garagectl-sign-requests for every user: $(grep -n 'garagectl-sign-requests' "$T/control/postinst")"
pass "maintainer scripts: the user garaged (and gpio), /etc/garaged 0750, the unit enabled"

dpkg -x "$DEB" "$T/x" || fail "dpkg -x failed"
out=$("$T/x/usr/sbin/garaged" --version) || fail "the packaged garaged --version failed"
[ "$out" = "garaged 0.1.0" ] || fail "the packaged garaged --version said '$out'"
"$T/x/usr/bin/garagectl" --version >/dev/null || fail "the packaged garagectl --version failed"
grep -qx 'ExecStart=/usr/sbin/garaged -c /etc/garaged/garaged.conf -f' \
	"$T/x/lib/systemd/system/garaged.service" || fail "the packaged unit's ExecStart is wrong"
zcat "$T/x/usr/share/man/man5/garaged.conf.5.gz" | grep -q 'auto_close_warning_s' ||
	fail "the packaged garaged.conf(5) is not the real page"
pass "dpkg -x into a scratch root: $out runs, the unit starts /usr/sbin/garaged"
