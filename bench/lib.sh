# shellcheck shell=bash
# The benches' shared helpers, sourced by bench/run.sh and bench/fleet.sh after
# scripts/testbed.sh (whose $T, $PORT, cpu_ticks and PIDS they use). RESULTS is the file the
# figures go to, one `name value unit` line each.

say() { echo "bench: $*" >&2; }
result() { echo "$1 $2 $3" | tee -a "$RESULTS"; }
# need_tool COMMAND PACKAGE: installs the Debian PACKAGE when COMMAND is missing, as
# scripts/bootstrap installs things (the benches' own tools are no part of its list).
need_tool() {
	command -v "$1" >/dev/null && return 0
	local sudo=
	[ "$(id -u)" -ne 0 ] && sudo=sudo
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$2" \
		>/dev/null || { echo "bench: cannot install $2"; exit 1; }
}
mq() { # mq CLIENT-STEM: the TLS options of a client certificate of the testbed PKI
	echo -h localhost -p "$PORT" --cafile "$T/pki/ca.crt" --cert "$T/pki/$1.crt" --key "$T/pki/$1.key"
}
# pct TICKS0 TICKS1 T0 T1: the share of one core those ticks are over that wall time
pct() { awk -v a="$1" -v b="$2" -v s="$(awk -v x="$3" -v y="$4" 'BEGIN { print y - x }')" \
	-v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.0f%%", (b - a) * 100 / hz / s }'; }
vmhwm() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
pss() { awk '/^Pss:/ { print $2 }' "/proc/$1/smaps_rollup" 2>/dev/null; }
stop_pid() { # SIGTERM, then wait (bounded) for the process to go
	kill "$1" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	wait "$1" 2>/dev/null
}
lines() { local n; n=$(wc -l <"$1" 2>/dev/null); echo "${n:-0}"; }
# await_lines FILE N SECONDS: until FILE has at least N lines (bounded).
await_lines() {
	for _ in $(seq $(($3 * 20))); do [ "$(lines "$1")" -ge "$2" ] && return 0; sleep 0.05; done
	return 1
}
