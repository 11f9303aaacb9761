#!/bin/bash
# tests/system/run.sh [DISTRO...]: `make check-system`. For each Debian release (default:
# bookworm trixie), builds garaged's package for it (deb.sh), makes or reuses the cached VM image
# (image.sh), boots the image under QEMU with the package, in-vm.sh, door-sim.sh, README.md and
# docs/setup.md on a virtio-9p share, and prints the checks that in-vm.sh recorded, one
# "ok - DISTRO: ..." or "not ok - DISTRO: ..." line each. Exit 0 when every check passed, 1 when
# one failed, 77 (skipped) when QEMU cannot run here at all. docs/testing-system.md says more.
#
# The VM's console goes to build/system/DISTRO/console.log, its journal to journal.txt there.
# Environment: GARAGED_SYSTEM_CACHE (images and build chroots, default /var/cache/garaged-system),
# GARAGED_SYSTEM_OUT (default build/system), GARAGED_SYSTEM_REV (build that git revision instead
# of the work tree) or GARAGED_SYSTEM_SRC (the source tree in that directory),
# GARAGED_SYSTEM_TIMEOUT (seconds one VM may run, default 900), GARAGED_SYSTEM_ACCEL (kvm or
# tcg; default: kvm where a VM starts with it, else tcg).
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
OUTBASE=${GARAGED_SYSTEM_OUT:-$TOP/build/system}
TIMEOUT=${GARAGED_SYSTEM_TIMEOUT:-900}
DISTROS=("$@")
[ ${#DISTROS[@]} -gt 0 ] || DISTROS=(bookworm trixie)
T0=$SECONDS

skip() {
	echo "check-system: skipped: $*"
	exit 77
}
elapsed() { echo "$((SECONDS - $1)) s"; }

if [ "$(id -u)" != 0 ]; then
	echo "not ok - check-system needs root (debootstrap, chroot and mounts for the image)"
	exit 1
fi

# The host's tools, installed with apt-get where missing, as `make check` does for its own.
need=()
for t in qemu-system-x86_64:qemu-system-x86 debootstrap:debootstrap mkfs.ext4:e2fsprogs \
	patch:patch dpkg-deb:dpkg git:git; do
	command -v "${t%%:*}" >/dev/null || need+=("${t#*:}")
done
[ -f /usr/src/linux-source-6.1.tar.xz ] || need+=(linux-source-6.1)
if [ ${#need[@]} -gt 0 ]; then
	echo "check-system: installing ${need[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null 2>&1 ||
		{ apt-get update -q >/dev/null 2>&1 &&
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null 2>&1; }
fi
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is not installed and apt-get could not install qemu-system-x86"
qemu-system-x86_64 --version >/dev/null 2>&1 || skip "qemu-system-x86_64 does not run: $(qemu-system-x86_64 --version 2>&1 | head -1)"
for t in debootstrap mkfs.ext4 patch; do
	command -v "$t" >/dev/null || { echo "not ok - check-system: $t is missing and apt-get could not install it"; exit 1; }
done

# The source: the work tree as it stands (what make deb packs), or GARAGED_SYSTEM_REV.
mkdir -p "$OUTBASE"
SRC=$OUTBASE/src
rm -rf "$SRC"
mkdir -p "$SRC"
if [ -n "${GARAGED_SYSTEM_SRC:-}" ]; then
	echo "check-system: source: $GARAGED_SYSTEM_SRC"
	tar -C "$GARAGED_SYSTEM_SRC" --exclude=./.git --exclude=./build -cf - . | tar -C "$SRC" -xf - || exit 1
elif [ -n "${GARAGED_SYSTEM_REV:-}" ]; then
	echo "check-system: source: git revision $(git -C "$TOP" rev-parse --short "$GARAGED_SYSTEM_REV")"
	git -C "$TOP" archive "$GARAGED_SYSTEM_REV" | tar -x -C "$SRC" || exit 1
else
	echo "check-system: source: the work tree $TOP"
	tar -C "$TOP" --exclude=./.git --exclude=./build -cf - . | tar -C "$SRC" -xf - || exit 1
fi

# KVM only where a VM actually starts with it (on some hosts /dev/kvm is there but vCPU setup
# fails); otherwise TCG, which boots a Debian VM in 20-30 s.
pick_accel() {
	local img=$1 out
	if [ -n "${GARAGED_SYSTEM_ACCEL:-}" ]; then echo "$GARAGED_SYSTEM_ACCEL"; return; fi
	if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
		out=$(timeout 60 qemu-system-x86_64 -accel kvm -cpu host -m 256 -nodefaults -display none \
			-monitor none -serial stdio -no-reboot -kernel "$img/vmlinuz" \
			-append "console=ttyS0 panic=-1 root=/dev/nonexistent" 2>&1)
		if echo "$out" | grep -q 'Linux version'; then echo kvm; return; fi
		echo "check-system: KVM does not start a VM here ($(echo "$out" | grep -v '^$' | head -1)); using TCG" >&2
	fi
	echo tcg
}

# A VM still running when this script ends (interrupted, killed by a time limit) goes with it.
QPID=
trap '[ -z "$QPID" ] || kill "$QPID" 2>/dev/null' EXIT
trap 'exit 130' INT TERM

pass=0 failed=0
result() {
	if [ "$1" = ok ]; then pass=$((pass + 1)); else failed=$((failed + 1)); fi
	echo "$1 - $2"
}

run_distro() {
	local d=$1 D=$OUTBASE/$1 t0=$SECONDS img accel qpid rc deb t
	rm -rf "$D"
	mkdir -p "$D/share/out"
	echo "check-system: $d: building the package"
	t=$SECONDS
	if ! "$HERE/deb.sh" "$d" "$SRC" "$D/deb"; then
		result "not ok" "$d: the package builds ($D/deb/deb.log)"
		return
	fi
	deb=$(ls "$D"/deb/garaged_*.deb)
	result ok "$d: built $(basename "$deb") in $(elapsed "$t"); Depends: $(dpkg-deb -f "$deb" Depends)"
	t=$SECONDS
	if ! img=$("$HERE/image.sh" "$d" "$deb" | tail -1) || [ ! -f "$img/rootfs.ext4" ]; then
		result "not ok" "$d: the VM image builds (see the build.log under ${GARAGED_SYSTEM_CACHE:-/var/cache/garaged-system})"
		return
	fi
	result ok "$d: VM image $(basename "$img") (kernel $(cat "$img/kernel-version")) ready in $(elapsed "$t")"

	cp "$deb" "$HERE/in-vm.sh" "$HERE/door-sim.sh" "$SRC/README.md" "$D/share/"
	cp "$SRC/docs/setup.md" "$D/share/setup.md"
	accel=$(pick_accel "$img")
	echo "check-system: $d: booting under QEMU ($accel), at most $TIMEOUT s; console: $D/console.log"
	t=$SECONDS
	local cpu=max
	[ "$accel" = kvm ] && cpu=host
	qemu-system-x86_64 -accel "$accel" -cpu "$cpu" -smp 2 -m 1024 -nodefaults -display none \
		-monitor none -serial "file:$D/console.log" -no-reboot \
		-kernel "$img/vmlinuz" -initrd "$img/initrd.img" \
		-append "root=/dev/vda rw console=ttyS0 panic=-1 systemd.show_status=1" \
		-drive "file=$img/rootfs.ext4,format=raw,if=virtio,snapshot=on" \
		-virtfs "local,path=$D/share,mount_tag=share,security_model=none,id=share" \
		-nic none >"$D/qemu.log" 2>&1 &
	qpid=$!
	QPID=$qpid
	while kill -0 "$qpid" 2>/dev/null; do
		if [ $((SECONDS - t)) -ge "$TIMEOUT" ]; then
			result "not ok" "$d: the VM finished within $TIMEOUT s (killed; see $D/console.log)"
			kill "$qpid"
			sleep 2
			kill -9 "$qpid" 2>/dev/null
			break
		fi
		sleep 1
	done
	wait "$qpid"
	rc=$?
	QPID=
	[ -f "$D/share/out/journal.txt" ] && cp "$D/share/out/journal.txt" "$D/journal.txt"
	if [ ! -f "$D/share/out/done" ]; then
		result "not ok" "$d: the test ran to its end in the VM (QEMU exit $rc: $(tail -2 "$D/qemu.log" | tr '\n' ' '); console: $D/console.log)"
	else
		result ok "$d: the VM booted, ran the test and powered off in $(elapsed "$t") ($accel)"
	fi
	local line
	while IFS= read -r line; do
		case $line in
		"ok - "*) result ok "$d: ${line#ok - }" ;;
		"not ok - "*) result "not ok" "$d: ${line#not ok - }" ;;
		esac
	done <"$D/share/out/results.txt" 2>/dev/null
	echo "check-system: $d: done in $(elapsed "$t0"); journal: $D/journal.txt"
}

for d in "${DISTROS[@]}"; do
	run_distro "$d"
done
echo "check-system: $(elapsed "$T0") in all"
echo "check-system: $pass passed, $failed failed"
[ "$failed" = 0 ]
