#!/bin/bash
# The libgpiod backend against the kernel's GPIO character device: garaged with backend = gpiod
# on a gpio-sim chip made through configfs, its closed and open lines pulled through the sim's
# sysfs "pull" attributes, must publish the states the switches say and keep the relay line
# released. First, without any kernel support: a missing chip is fatal at start (exit 1, one
# line naming the chip). Kernels without gpio-sim (no configfs, no module) skip the rest: the
# backend's logic is covered there by tests/unit/test-gpiod.c against a fake line API.
source "$(dirname "$0")/../../scripts/testbed.sh"

# gpiod_conf CHIP [lines...]: the testbed's configuration with [door.main] on CHIP's lines
# 0 (relay), 1 (closed switch) and 2 (open switch); the sim keys would be refused for gpiod.
gpiod_conf() {
	local chip=$1
	shift
	write_conf
	sed -i '/^\[door\.main\]$/,$d' "$T/garaged.conf"
	printf '%s\n' "[door.main]" "backend = gpiod" "chip = $chip" "relay_line = 0" \
		"closed_line = 1" "open_line = 2" "relay_pulse_ms = 200" "$@" >>"$T/garaged.conf"
}

make_pki

# A missing chip: fatal before any network, at once, naming the chip. No broker is needed.
PORT=$(free_port)
gpiod_conf gpiochip-missing
run_garaged -c "$T/garaged.conf" --check-config >"$T/cc.out" 2>&1 ||
	fail "--check-config refuses a valid gpiod config: $(cat "$T/cc.out")"
start=$(date +%s%N)
run_garaged -c "$T/garaged.conf" -f >"$T/missing.out" 2>&1
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
[ "$rc" = 124 ] && fail "garaged kept running with a missing gpio chip"
[ "$rc" = 1 ] || fail "garaged exited $rc for a missing gpio chip, want 1: $(cat "$T/missing.out")"
grep -q "gpio chip 'gpiochip-missing'" "$T/missing.out" ||
	fail "the error does not name the chip: $(cat "$T/missing.out")"
[ "$ms" -lt 5000 ] || fail "garaged took $ms ms to give up on a missing chip (no retrying)"
pass "a missing gpio chip is fatal at start (exit 1): $(tail -1 "$T/missing.out")"

# gpio-sim lives in configfs; mount it and load the module where this machine allows it.
CFS=/sys/kernel/config
if [ ! -d "$CFS/gpio-sim" ]; then
	if [ -d "$CFS" ] && ! mountpoint -q "$CFS"; then
		mount -t configfs none "$CFS" 2>/dev/null
	fi
	command -v modprobe >/dev/null && modprobe gpio-sim 2>/dev/null
fi
[ -d "$CFS/gpio-sim" ] ||
	skip "gpio-sim is not available on this kernel (no configfs gpio-sim; modprobe gpio-sim needs the module); the libgpiod backend is covered by tests/unit/test-gpiod.c against a fake line API"

# One simulated chip with 4 lines, torn down when the test ends (after garaged let go).
SIM=$CFS/gpio-sim/garaged-test-$$
sim_cleanup() {
	[ -n "${GARAGED_PID:-}" ] && kill "$GARAGED_PID" 2>/dev/null && wait "$GARAGED_PID" 2>/dev/null
	if [ -d "$SIM" ]; then
		echo 0 >"$SIM/live" 2>/dev/null
		rmdir "$SIM/bank0" "$SIM" 2>/dev/null
	fi
}
# testbed.sh's cleanup reads the exit status from $?, so it is handed on through a subshell.
trap 'rc=$?; sim_cleanup; (exit $rc); cleanup' EXIT
mkdir "$SIM" "$SIM/bank0" || fail "cannot create a gpio-sim chip in $SIM"
echo 4 >"$SIM/bank0/num_lines" || fail "gpio-sim: num_lines"
echo 1 >"$SIM/live" || fail "gpio-sim: cannot make the chip live"
CHIP=$(cat "$SIM/bank0/chip_name")
LINES=/sys/devices/platform/$(cat "$SIM/dev_name")/$CHIP
if [ -z "$CHIP" ] || [ ! -d "$LINES" ]; then fail "gpio-sim chip '$CHIP' has no sysfs lines at $LINES"; fi
pull() { echo "pull-$2" >"$LINES/sim_gpio$1/pull" || fail "gpio-sim: pull line $1 $2"; }
relay() { cat "$LINES/sim_gpio0/value"; }
pass "gpio-sim chip $CHIP with 4 lines"
# GARAGED_AS_UNIT: the chip goes to the service user's group, as README's udev rule gives a
# board's chips to the group gpio.
if [ -n "${GARAGED_AS_UNIT:-}" ]; then
	chgrp "$UNIT_USER" "/dev/$CHIP" && chmod 0660 "/dev/$CHIP" || fail "cannot give /dev/$CHIP to $UNIT_USER"
fi

start_broker
gpiod_conf "$CHIP"
pull 1 up # closed switch active (active_low = false: active is high)
pull 2 down
watch
start_garaged
await '^garage/garage/main/state closed$' 10 || fail "the closed switch did not read as closed"
[ "$(relay)" = 0 ] || fail "the relay line is $(relay) after start, want 0 (released)"
pass "at start the sensors decide: closed; the relay is released"

# A switch moved by hand (or by the wall button): garaged follows.
: >"$T/watch.log"
pull 1 down
await '^garage/garage/main/state (opening|open|stopped|unknown)$' 5 ||
	fail "no state change when the closed switch let go: $(cat "$T/watch.log")"
pull 2 up
await '^garage/garage/main/state open$' 5 || fail "the open switch did not read as open"
: >"$T/watch.log"
pull 2 down
pull 1 up
await '^garage/garage/main/state closed$' 10 || fail "the closed switch again did not read closed"
pass "the published state follows the pulled lines"

stop_garaged
GARAGED_PID=
[ "$GARAGED_RC" = 0 ] || fail "garaged exited $GARAGED_RC on SIGTERM, want 0"
[ "$(relay)" = 0 ] || fail "the relay line is $(relay) after exit, want 0 (released)"
pass "SIGTERM: exit 0 with the relay released"
