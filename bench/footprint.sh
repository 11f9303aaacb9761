#!/bin/sh
# make footprint: the portable core (src/core) cross-compiled for the ESP8266 with Debian's
# gcc-xtensa-lx106 and picolibc, as SPEC "Build and run" says: prints `size -t` of the core's
# object files (the TOTALS row is the figure: text data bss) and fails if the core does not
# compile or calls the heap. Targets (docs/performance.md): text under 32 KiB, data+bss under
# 4 KiB; those are reported, not enforced. Without the cross toolchain, and no way to install
# it, it prints a SKIP line and succeeds.
#
# bench/footprint.sh [OUT-DIR]   (default build/footprint)
set -eu
cd "$(dirname "$0")/.."
OUT=${1:-build/footprint}
CC=xtensa-lx106-elf-gcc
SPECS=/usr/lib/xtensa-lx106-elf/picolibc.specs

if ! command -v $CC >/dev/null 2>&1 || [ ! -f $SPECS ]; then
	SUDO=
	[ "$(id -u)" -ne 0 ] && SUDO=sudo
	echo "footprint: installing gcc-xtensa-lx106 picolibc-xtensa-lx106-elf"
	export DEBIAN_FRONTEND=noninteractive
	if ! { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends \
		gcc-xtensa-lx106 picolibc-xtensa-lx106-elf; } >"${TMPDIR:-/tmp}/footprint-apt.log" 2>&1 \
		|| ! command -v $CC >/dev/null 2>&1 || [ ! -f $SPECS ]; then
		echo "SKIP: footprint: the xtensa-lx106 cross toolchain is not installable here" \
			"(see ${TMPDIR:-/tmp}/footprint-apt.log)"
		exit 0
	fi
fi

# The core's one outside header, jsmn, from a directory that holds it alone: the cross compiler
# must never see the host's /usr/include.
JSMN=/usr/include/jsmn.h
[ -f $JSMN ] || { echo "footprint: $JSMN is missing (scripts/bootstrap installs libjsmn-dev)"; exit 1; }
rm -rf "$OUT" && mkdir -p "$OUT/include"
cp $JSMN "$OUT/include/"

# cmd_json.c defines JSMN_STATIC itself before including jsmn.h, so it is not passed here again.
# Every source of the core, so that a file added to src/core is cross-compiled without a word.
objs=
for src in src/core/*.c; do
	f=$(basename "$src" .c)
	$CC --specs=$SPECS -Os -ffunction-sections -fdata-sections -DJSMN_STRICT \
		-Wall -Wextra -I"$OUT/include" -Isrc/core -c "$src" -o "$OUT/$f.o" \
		|| { echo "footprint: $src does not compile for xtensa-lx106"; exit 1; }
	objs="$objs $OUT/$f.o"
done

# shellcheck disable=SC2086
xtensa-lx106-elf-size -t $objs

# The core never touches the heap (docs/architecture.md): no object may ask for it.
# shellcheck disable=SC2086
heap=$(xtensa-lx106-elf-nm -u -A $objs | awk '$NF ~ /^(malloc|calloc|realloc|free)$/')
if [ -n "$heap" ]; then
	echo "footprint: the portable core calls the heap:"
	echo "$heap"
	exit 1
fi
# shellcheck disable=SC2086
xtensa-lx106-elf-size -t $objs | awk '$NF == "(TOTALS)" {
	printf "footprint: text %d B (target < 32768), data+bss %d B (target < 4096): %s\n",
		$1, $2 + $3, ($1 < 32768 && $2 + $3 < 4096) ? "met" : "MISSED" }'
