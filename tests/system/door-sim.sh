#!/bin/bash
# tests/system/door-sim.sh LINES RELAY CLOSED OPEN TRAVEL_MS LOG: a garage door on gpio-sim
# lines, for the system test in the VM. LINES is the chip's sysfs directory
# (/sys/devices/platform/<dev_name>/<chip>); RELAY, CLOSED and OPEN are line offsets.
#
# It behaves like a door behind a single-button opener: it reads the relay line every 20 ms, and
# each press (a rising edge) starts the door (closed -> opening, open -> closing), stops it while
# it moves, and sends a stopped door the other way. The reed switch at the end it leaves lets go
# at once; the one at the other end is made after TRAVEL_MS. Switches are pulled through the
# lines' "pull" attributes (pull-up: the switch is made, with active_low = false). Each press
# and each release is a line in LOG: "<ms since the epoch> press|release [<ms held>] <state>".
set -u
L=$1 RELAY=$2 CLOSED=$3 OPEN=$4 TRAVEL=$5 LOG=$6

pull() { echo "pull-$2" >"$L/sim_gpio$1/pull"; }
now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }
# A sleep without a fork every 20 ms: read(1) with a timeout on a pipe that never has data.
exec {never}< <(exec sleep infinity)

state=closed dir=closing last=0 pressed=0 deadline=0
pull "$CLOSED" up
pull "$OPEN" down
echo "$(now_ms) start $state" >>"$LOG"
while :; do
	read -r v <"$L/sim_gpio$RELAY/value"
	t=${EPOCHREALTIME/./}
	t=$((t / 1000))
	if [ "$v" = 1 ] && [ "$last" = 0 ]; then
		pressed=$t
		case $state in
		closed) pull "$CLOSED" down; state=opening dir=opening deadline=$((t + TRAVEL)) ;;
		open) pull "$OPEN" down; state=closing dir=closing deadline=$((t + TRAVEL)) ;;
		opening | closing) state=stopped ;;
		stopped)
			if [ "$dir" = opening ]; then state=closing dir=closing; else state=opening dir=opening; fi
			deadline=$((t + TRAVEL))
			;;
		esac
		echo "$t press $state" >>"$LOG"
	elif [ "$v" = 0 ] && [ "$last" = 1 ]; then
		echo "$t release $((t - pressed)) $state" >>"$LOG"
	fi
	last=$v
	if { [ "$state" = opening ] || [ "$state" = closing ]; } && [ "$t" -ge "$deadline" ]; then
		if [ "$state" = opening ]; then pull "$OPEN" up; state=open; else pull "$CLOSED" up; state=closed; fi
		echo "$t arrived $state" >>"$LOG"
	fi
	read -r -t 0.02 -u "$never" _
done
