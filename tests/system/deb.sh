#!/bin/bash
# tests/system/deb.sh DISTRO SRC OUT: builds garaged's Debian package from the source tree SRC
# for Debian DISTRO and copies garaged_*.deb to the directory OUT.
#
# On a host of that same release this is README's own `make deb`. For another release (trixie
# on a Debian 12 host) dpkg-buildpackage runs in a build chroot of that release, made with
# debootstrap --variant=buildd and cached in $GARAGED_SYSTEM_CACHE (default
# /var/cache/garaged-system) under a hash of this script; the build dependencies are installed
# from SRC's debian/control (apt-get build-dep) at every build, so a new one needs no new chroot.
set -euo pipefail

DISTRO=$1
SRC=$(cd "$2" && pwd)
OUT=$3
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${GARAGED_SYSTEM_CACHE:-/var/cache/garaged-system}
MIRROR=${GARAGED_SYSTEM_MIRROR:-http://deb.debian.org/debian}
SECURITY=${GARAGED_SYSTEM_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
mkdir -p "$OUT"
rm -f "$OUT"/garaged_*.deb

host=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
if [ "$host" = "$DISTRO" ]; then
	echo "deb: $DISTRO on this $host host: make deb" >&2
	make -C "$SRC" deb BUILD=build >"$OUT/deb.log" 2>&1 || { tail -30 "$OUT/deb.log" >&2; exit 1; }
	cp "$SRC"/build/garaged_*.deb "$OUT/"
	exit 0
fi

KEY=$(sha256sum "$HERE/deb.sh" | cut -c1-16)
CH=$CACHE/build-$DISTRO-$KEY
ROOT=$CH/root
LOG=$OUT/deb.log
: >"$LOG"
APTCACHE=$CACHE/apt-$DISTRO
mkdir -p "$APTCACHE/partial"

source "$HERE/chroot.sh"

if [ ! -f "$CH/done" ]; then
	echo "deb: making the $DISTRO build chroot in $CH" >&2
	for old in "$CACHE"/build-"$DISTRO"-*; do rm -rf "$old"; done
	mkdir -p "$CH"
	debootstrap --variant=buildd --include=debhelper,dpkg-dev,fakeroot --cache-dir="$APTCACHE" \
		"$DISTRO" "$ROOT" "$MIRROR" >>"$LOG" 2>&1 || { tail -20 "$LOG" >&2; exit 1; }
	cat >"$ROOT/etc/apt/sources.list" <<EOF
deb $MIRROR $DISTRO main
deb $MIRROR $DISTRO-updates main
deb $SECURITY $DISTRO-security main
EOF
	printf 'APT::Install-Recommends "false";\n' >"$ROOT/etc/apt/apt.conf.d/90garaged-system"
	in_root apt-get update -q >>"$LOG" 2>&1 || { tail -20 "$LOG" >&2; exit 1; }
	touch "$CH/done"
fi

bind proc "$ROOT/proc" -t proc
bind /dev "$ROOT/dev" --bind
bind "$APTCACHE" "$ROOT/var/cache/apt/archives" --bind
rm -rf "$ROOT/build"
mkdir -p "$ROOT/build/src"
tar -C "$SRC" --exclude=./.git --exclude=./build -cf - . | tar -C "$ROOT/build/src" -xf -
echo "deb: $DISTRO: apt-get build-dep, dpkg-buildpackage in $CH (log: $LOG)" >&2
# The lists are refreshed only when the cached ones no longer have what debian/control asks.
in_root sh -c 'cd /build/src && apt-get build-dep -y -q ./' >>"$LOG" 2>&1 ||
	in_root sh -c 'apt-get update -q && cd /build/src && apt-get build-dep -y -q ./' >>"$LOG" 2>&1 ||
	{ tail -20 "$LOG" >&2; exit 1; }
# The web app's build fetches mqtt.js from the npm registry (CMakeLists.txt, web/): npm in the
# chroot trusts what this host trusts, so that a registry reached through a proxy with its own
# CA (this host's /etc/ssl/certs) works there too.
cp /etc/ssl/certs/ca-certificates.crt "$ROOT/build/host-ca.crt"
in_root env NODE_EXTRA_CA_CERTS=/build/host-ca.crt npm_config_cafile=/build/host-ca.crt \
	sh -c 'cd /build/src && dpkg-buildpackage -us -uc -b' >>"$LOG" 2>&1 ||
	{ tail -30 "$LOG" >&2; exit 1; }
cp "$ROOT"/build/garaged_*.deb "$OUT/"
rm -rf "$ROOT/build"
