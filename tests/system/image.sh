#!/bin/bash
# tests/system/image.sh DISTRO DEB: the VM image of the system test for Debian DISTRO (bookworm
# or trixie), made from Debian's packages with debootstrap and cached outside the clone.
#
# The image holds systemd, udev, Mosquitto, sudo, a normal user alice (sudo without a password,
# so that the documented `sudo ...` lines run unattended), a kernel with its initramfs, a gpio-sim
# module where the kernel lacks one, and every runtime dependency that DEB declares, so that
# `apt install ./garaged_*.deb` works offline in the VM. garaged itself is not in it.
#
# The cache directory ($GARAGED_SYSTEM_CACHE, default /var/cache/garaged-system) holds one
# image per distribution, named by a hash of its inputs: this script, packages.txt, the unit
# that runs the test, the gpio-sim sources and patch, and DEB's Depends and Recommends. When
# they change, the image is built again (the three newest are kept). Prints the image's directory
# (rootfs.ext4, vmlinuz, initrd.img, kernel-version) as its last line; the build's log goes
# to that directory's build.log.
set -euo pipefail

DISTRO=$1
DEB=$2
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${GARAGED_SYSTEM_CACHE:-/var/cache/garaged-system}
MIRROR=${GARAGED_SYSTEM_MIRROR:-http://deb.debian.org/debian}
SECURITY=${GARAGED_SYSTEM_SECURITY_MIRROR:-http://deb.debian.org/debian-security}

# The runtime dependencies as package names: the first alternative of each, without versions.
deb_deps() {
	{
		dpkg-deb -f "$DEB" Depends
		dpkg-deb -f "$DEB" Recommends
	} | tr ',' '\n' | sed -e 's/|.*//' -e 's/(.*)//' -e 's/:any//' -e 's/[[:space:]]//g' |
		grep -v '^$' | sort -u
}

DEPS=$(deb_deps)
KEY=$({
	echo "$DISTRO"
	echo "$DEPS"
	cat "$HERE/image.sh" "$HERE/chroot.sh" "$HERE/packages.txt" "$HERE/garaged-system-test.service" \
		"$HERE"/gpio-sim/*
} | sha256sum | cut -c1-16)
IMG=$CACHE/image-$DISTRO-$KEY

if [ -f "$IMG/done" ]; then
	echo "image: $DISTRO cached in $IMG" >&2
	echo "$IMG"
	exit 0
fi

mkdir -p "$CACHE"
TMP=$IMG.tmp
rm -rf "$TMP"
mkdir -p "$TMP"
LOG=$TMP/build.log
ROOT=$TMP/root
APTCACHE=$CACHE/apt-$DISTRO
mkdir -p "$APTCACHE/partial"
echo "image: building $DISTRO in $TMP (log: $LOG)" >&2

source "$HERE/chroot.sh"
step() { echo "image: $*" >&2; echo "== $*" >>"$LOG"; }

step "debootstrap $DISTRO (minbase)"
debootstrap --variant=minbase --cache-dir="$APTCACHE" "$DISTRO" "$ROOT" "$MIRROR" >>"$LOG" 2>&1 ||
	{ tail -20 "$LOG" >&2; exit 1; }

# The suite's updates and security fixes too, as a Debian installation has them.
cat >"$ROOT/etc/apt/sources.list" <<EOF
deb $MIRROR $DISTRO main
deb $MIRROR $DISTRO-updates main
deb $SECURITY $DISTRO-security main
EOF
# No service starts inside the chroot (Mosquitto's postinst would start one on this host).
printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
chmod 0755 "$ROOT/usr/sbin/policy-rc.d"
printf 'APT::Install-Recommends "false";\n' >"$ROOT/etc/apt/apt.conf.d/90garaged-system"
bind proc "$ROOT/proc" -t proc
bind sysfs "$ROOT/sys" -t sysfs
bind /dev "$ROOT/dev" --bind
bind /dev/pts "$ROOT/dev/pts" --bind
bind "$APTCACHE" "$ROOT/var/cache/apt/archives" --bind

# /etc/fstab first: initramfs-tools reads the root file system's type from it.
echo '/dev/vda / ext4 rw,errors=remount-ro 0 1' >"$ROOT/etc/fstab"
echo garage >"$ROOT/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tgarage\n::1\tlocalhost ip6-localhost ip6-loopback\n' \
	>"$ROOT/etc/hosts"

PKGS=$(sed -e 's/#.*//' "$HERE/packages.txt" | tr -s ' \n' ' ')
step "apt-get install: $PKGS ${DEPS//$'\n'/ }"
in_root apt-get update -q >>"$LOG" 2>&1 || { tail -20 "$LOG" >&2; exit 1; }
# shellcheck disable=SC2086 # word splitting wanted: package lists
in_root apt-get install -y -q $PKGS $DEPS >>"$LOG" 2>&1 || { tail -20 "$LOG" >&2; exit 1; }

KVER=$(ls "$ROOT/lib/modules" | sort -V | tail -1)
if [ -z "$KVER" ] || [ ! -f "$ROOT/boot/vmlinuz-$KVER" ] || [ ! -f "$ROOT/boot/initrd.img-$KVER" ]; then
	echo "image: no kernel or initramfs in $ROOT/boot" >&2
	exit 1
fi
CONFIG=$ROOT/boot/config-$KVER
kconf() { sed -n "s/^CONFIG_$1=//p" "$CONFIG"; }
step "kernel $KVER: GPIO_SIM=$(kconf GPIO_SIM) IRQ_SIM=$(kconf IRQ_SIM) CONFIGFS_FS=$(kconf CONFIGFS_FS) GPIO_CDEV=$(kconf GPIO_CDEV)"
[ -n "$(kconf CONFIGFS_FS)" ] || { echo "image: kernel $KVER has no configfs" >&2; exit 1; }
[ "$(kconf GPIO_CDEV)" = y ] || { echo "image: kernel $KVER has no GPIO character device" >&2; exit 1; }

# gpio-sim out of tree when the kernel lacks it: gpio-sim.c (and irq_sim.c, patched, when
# CONFIG_IRQ_SIM is off too) from Debian's linux-source of the same version, built in the
# image against that kernel's own headers, which are removed again afterwards.
if [ -z "$(kconf GPIO_SIM)" ]; then
	series=$(echo "$KVER" | cut -d. -f1,2)
	# The source of the very version the kernel was built from: the host's linux-source-X.Y
	# where it is that version (Debian 12's 6.1 on a Debian 12 host), else the release's own
	# package of that version, fetched once into the cache (trixie's 6.12).
	kpkg=$(in_root dpkg-query -W -f '${Version}' "linux-image-$KVER")
	src=/usr/src/linux-source-$series.tar.xz
	if [ ! -f "$src" ] || [ "$(dpkg-query -W -f '${Version}' "linux-source-$series" 2>/dev/null)" != "$kpkg" ]; then
		src=$CACHE/linux-source-$series-$kpkg.tar.xz
		if [ ! -f "$src" ]; then
			step "gpio-sim: fetching linux-source-$series $kpkg from $DISTRO"
			in_root sh -c "cd /var/cache/apt/archives && rm -f linux-source-${series}_*.deb &&
				{ apt-get download linux-source-$series=$kpkg ||
				  { echo 'no linux-source-$series $kpkg: taking the newest'; apt-get download linux-source-$series; }; }" \
				>>"$LOG" 2>&1 || { tail -20 "$LOG" >&2; exit 1; }
			dpkg-deb --fsys-tarfile "$APTCACHE"/linux-source-"$series"_*.deb |
				tar -xO "./usr/src/linux-source-$series.tar.xz" >"$src.tmp" && mv "$src.tmp" "$src"
			rm -f "$APTCACHE"/linux-source-"$series"_*.deb
		fi
	fi
	step "gpio-sim: building from $src against linux-headers-$KVER"
	before=$(in_root dpkg-query -W -f '${Package}\n' | sort)
	in_root apt-get install -y -q "linux-headers-$KVER" make gcc >>"$LOG" 2>&1 ||
		{ tail -20 "$LOG" >&2; exit 1; }
	W=$TMP/gpio-sim-src
	mkdir -p "$W"
	tar -xJf "$src" -C "$W" --strip-components=1 --wildcards '*/drivers/gpio/gpio-sim.c' \
		'*/drivers/gpio/gpiolib.h' '*/kernel/irq/irq_sim.c'
	(cd "$W" && patch -p1 --no-backup-if-mismatch -s) <"$HERE/gpio-sim/irq_sim-generic_handle_irq.patch"
	B=$ROOT/tmp/gpio-sim
	mkdir -p "$B"
	cp "$HERE/gpio-sim/Kbuild" "$B/"
	cp "$W/drivers/gpio/gpio-sim.c" "$B/gpio-sim-main.c"
	cp "$W/drivers/gpio/gpiolib.h" "$W/kernel/irq/irq_sim.c" "$B/"
	irqsim=y
	[ -z "$(kconf IRQ_SIM)" ] || irqsim=n
	in_root make -C "/usr/src/linux-headers-$KVER" M=/tmp/gpio-sim GARAGED_IRQ_SIM=$irqsim \
		modules >>"$LOG" 2>&1 || { tail -30 "$LOG" >&2; exit 1; }
	install -D -m 0644 "$B/gpio-sim.ko" "$ROOT/lib/modules/$KVER/updates/gpio-sim.ko"
	rm -rf "$B"
	in_root depmod "$KVER"
	after=$(in_root dpkg-query -W -f '${Package}\n' | sort)
	# shellcheck disable=SC2046 # one package name a word
	in_root apt-get purge -y -q $(comm -13 <(echo "$before") <(echo "$after")) >>"$LOG" 2>&1 ||
		{ tail -20 "$LOG" >&2; exit 1; }
fi

step "the user alice, the test unit, the share's mount point"
in_root adduser --disabled-password --gecos 'Alice' alice >>"$LOG" 2>&1
in_root adduser alice sudo >>"$LOG" 2>&1
echo 'alice ALL=(ALL:ALL) NOPASSWD: ALL' >"$ROOT/etc/sudoers.d/alice"
chmod 0440 "$ROOT/etc/sudoers.d/alice"
mkdir -p "$ROOT/mnt/share"
install -m 0644 "$HERE/garaged-system-test.service" "$ROOT/etc/systemd/system/"
in_root systemctl enable garaged-system-test.service >>"$LOG" 2>&1
# Nothing that would wake up during the test and change the machine under it.
in_root systemctl mask apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer \
	fstrim.timer systemd-tmpfiles-clean.timer >>"$LOG" 2>&1 || true
rm -f "$ROOT/usr/sbin/policy-rc.d"

cleanup
mounted=()
cp "$ROOT/boot/vmlinuz-$KVER" "$TMP/vmlinuz"
cp "$ROOT/boot/initrd.img-$KVER" "$TMP/initrd.img"
echo "$KVER" >"$TMP/kernel-version"
echo "$DEPS" >"$TMP/deb-deps"
in_root dpkg-query -W >"$TMP/packages" 2>/dev/null || true
rm -rf "$ROOT/var/lib/apt/lists/partial"
size=$(($(du -sm "$ROOT" | cut -f1) + 768))
step "mkfs.ext4 -d: ${size} MiB"
mkfs.ext4 -q -F -L garaged-root -d "$ROOT" "$TMP/rootfs.ext4" "${size}M" >>"$LOG" 2>&1 ||
	{ tail -20 "$LOG" >&2; exit 1; }
rm -rf "$ROOT"
touch "$TMP/done"

mv "$TMP" "$IMG"
# The three newest images of each distribution are kept (going back and forth between two
# revisions whose packages depend on different libraries rebuilds nothing), and no leftovers.
rm -rf "$CACHE"/image-"$DISTRO"-*.tmp
ls -dt "$CACHE"/image-"$DISTRO"-* | tail -n +4 | xargs -r rm -rf
echo "$IMG"
