#!/bin/bash
# make bench-fleet [N=200]: N garaged (simulated doors, each with its own device id, certificate,
# state_dir and configuration) on one Mosquitto with mutual TLS, set up the way an owner would:
# `garagectl pki` issues every certificate, `garagectl broker-config` writes the broker's
# configuration and ACL. Figures, one `name value unit` line each, beside the broker's own costs:
# a cold start, the reconnect storm after the broker is killed and restarted, command latency
# to random doors while the fleet idles, memory per device. The storm is drawn as a PNG. It
# measures; only something broken fails it. docs/performance.md, "A fleet", explains the figures.
#
# bench/fleet.sh [BUILD-DIR] [N]   (default build and 200; needs BUILD/bin/garaged and garagectl)
# Writes BUILD/bench-fleet/results and BUILD/bench-fleet/online.png. FLEET_DOWN_S (10): seconds
# the broker stays down; FLEET_COMMANDS (300): commands for the latency; KEEP=1 keeps the testbed.
set -u
cd "$(dirname "$0")/.." || exit 1
BUILD=$(cd "${1:-build}" && pwd)
N=${2:-200}
export GARAGED_BIN=$BUILD/bin
OUT=$BUILD/bench-fleet
mkdir -p "$OUT"
# broker-config takes at most 256 identities (ctl_broker.c, IDENTITIES_MAX): N doors and the two
# controllers below.
if ! [[ $N =~ ^[0-9]+$ ]] || [ "$N" -lt 1 ] || [ "$N" -gt 254 ]; then
	echo "bench-fleet: N must be 1 to 254 (garagectl broker-config takes 256 identities), not '$N'"
	exit 2
fi

export TESTBED_DIR=${TESTBED_DIR:-$OUT/testbed}
# shellcheck source=scripts/testbed.sh
. scripts/testbed.sh
# shellcheck source=bench/lib.sh
. bench/lib.sh
# The testbed's EXIT trap ends every process in PIDS: make an interrupt take that way too.
trap 'exit 130' INT TERM HUP
need_tool gnuplot gnuplot-nox

DOWN_S=${FLEET_DOWN_S:-10}
N_CMD=${FLEET_COMMANDS:-300}
KEEPALIVE=30 # garaged's default
RESULTS=$OUT/results
HZ=$(getconf CLK_TCK)
: >"$RESULTS"

# listen_overflows: the kernel's count of connections a full listen queue dropped (all sockets).
listen_overflows() {
	awk '$1 == "TcpExt:" { if (!h) { split($0, k); h = 1 } else { split($0, v)
		for (i in k) if (k[i] == "ListenOverflows") print v[i] } }' /proc/net/netstat
}
# connects: connections the fleet's garaged logged so far, all devices together.
connects() { cat "${LOGS[@]}" 2>/dev/null | grep -c ' connected to '; }
# await_connects COUNT SECONDS [CPU-FILE]: until the fleet logged COUNT connections in all
# (bounded); with CPU-FILE, "unix-time ticks" of the broker's CPU appended every 0.1 s meanwhile.
await_connects() {
	local end=$((SECONDS + $2))
	while [ "$SECONDS" -lt "$end" ]; do
		[ -n "${3:-}" ] && echo "$EPOCHREALTIME $(cpu_ticks "$BROKER_PID")" >>"$3"
		[ "$(connects)" -ge "$1" ] && return 0
		sleep 0.1
	done
	return 1
}
# retained_online: devices whose retained availability at the broker is "online", as a
# controller sees it.
retained_online() { sub 'garage/+/availability' "$N" 10 | grep -cx online; }
alive() { local p k=0; for p in "$@"; do kill -0 "$p" 2>/dev/null && k=$((k + 1)); done; echo "$k"; }
since() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
# busy: the five busiest processes over the next second (top's second sample), user and command.
busy() { top -b -n 2 -d 1 -w 200 -c | awk '/^top -/ { k++ } k == 2 && /^ *[0-9]+ / { n++; if (n <= 5) print }' |
	awk '{ $1 = ""; $3 = $4 = $5 = $6 = $7 = $8 = $11 = ""; print }' | tr -s ' ' | cut -c1-100 | sed 's/^/bench:  /' >&2; }

say "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), Linux $(uname -r), $(mosquitto -h | head -1)"
say "load average $(cut -d' ' -f1-3 /proc/loadavg); the busiest processes over a second (user, %CPU, %MEM, command):"
busy
say "testbed in $T; $N devices"

# --- limits: each device is two processes and one connection to the broker.
need_fd=$((N + 64))
if [ "$(ulimit -Sn)" != unlimited ] && [ "$(ulimit -Sn)" -lt "$need_fd" ]; then
	ulimit -Sn "$need_fd" 2>/dev/null || fail "the broker needs $need_fd file descriptors; ulimit -Hn is $(ulimit -Hn)"
fi
procs=$(find /proc -maxdepth 1 -name '[0-9]*' 2>/dev/null | wc -l)
[ $((procs + 2 * N + 64)) -le "$(cat /proc/sys/kernel/pid_max)" ] ||
	fail "$procs processes and 2 x $N more do not fit kernel.pid_max $(cat /proc/sys/kernel/pid_max)"
[ $((procs + 2 * N + 64)) -le "$(cat /proc/sys/kernel/threads-max)" ] ||
	fail "$procs processes and 2 x $N more do not fit kernel.threads-max"
avail=$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)
# Both halves' peak RSS is 12.6 MB (docs/performance.md); shared pages make the real cost less.
[ "$avail" -ge $((N * 13 * 1024 + 256 * 1024)) ] || fail "MemAvailable ${avail} kB is short of $N devices at 13 MB each"
say "limits: ulimit -n $(ulimit -Sn) (need $need_fd), $procs processes + $((2 * N)) of pid_max $(cat /proc/sys/kernel/pid_max), MemAvailable $((avail / 1024)) MB, somaxconn $(cat /proc/sys/net/core/somaxconn)"

# --- the owner's PKI and broker configuration: garagectl, one certificate per device.
say "pki: garagectl pki init, the broker's certificate, two controllers' and $N devices'"
t0=$EPOCHREALTIME
"$GARAGECTL" pki init --dir "$T/pki" >/dev/null || fail "garagectl pki init"
"$GARAGECTL" pki issue --dir "$T/pki" --server localhost --ip 127.0.0.1 >/dev/null || fail "pki issue --server"
# Two controllers: the broker takes the CN as client id, so a publisher with the subscriber's
# certificate would knock it off.
"$GARAGECTL" pki issue --dir "$T/pki" --client ctl.local >/dev/null || fail "pki issue ctl.local"
"$GARAGECTL" pki issue --dir "$T/pki" --client watch.local >/dev/null || fail "pki issue watch.local"
t1=$EPOCHREALTIME
DEVS=()
for i in $(seq "$N"); do
	"$GARAGECTL" pki issue --dir "$T/pki" --client "door$i.local" >/dev/null || fail "pki issue door$i.local"
	DEVS+=(--device "door$i:door$i.local")
done
result pki_issue_ms_per_device "$(awk -v a="$t1" -v b="$EPOCHREALTIME" -v n="$N" 'BEGIN { printf "%.1f", (b - a) * 1000 / n }')" ms
PORT=$(free_port)
"$GARAGECTL" broker-config --dir "$T/pki" --server localhost --port "$PORT" "${DEVS[@]}" \
	--controller ctl.local --controller watch.local >"$T/broker-config.out" 2>&1 ||
	fail "garagectl broker-config: $(tail -3 "$T/broker-config.out")"
say "pki and broker-config: $(since "$t0" "$EPOCHREALTIME") s in all"
max_conn=$(awk '$1 == "max_connections" { print $2 }' "$T/pki/mosquitto.conf")
max_ka=$(awk '$1 == "max_keepalive" { print $2 }' "$T/pki/mosquitto.conf")
[ -z "$max_conn" ] || [ "$max_conn" -lt 0 ] || [ "$max_conn" -ge $((N + 2)) ] || fail "broker-config's max_connections $max_conn is below $((N + 2))"
[ -z "$max_ka" ] || [ "$max_ka" -ge "$KEEPALIVE" ] || fail "broker-config's max_keepalive $max_ka is below garaged's keepalive $KEEPALIVE"
say "broker: max_connections ${max_conn:-unset (no limit)}, max_keepalive ${max_ka:-unset (65535)}, garaged's keepalive $KEEPALIVE s"

# --- N configurations from the testbed's, each its own id, certificate, state_dir and relay.
keypair bench
echo "ed25519 $PUB_B64 bench actions=open,close,stop,toggle doors=main" >"$T/authorized_keys"
# Every command presses (toggle, no minimum interval); pre-signed commands stay fresh for the
# whole run (clock_skew at its maximum), as in bench/run.sh.
RELAY_PULSE_MS=50 SIM_TRAVEL_MS=1000 KEEPALIVE=$KEEPALIVE write_conf "min_pulse_interval_ms = 0"
sed -i 's/^\[security\]$/[security]\nclock_skew = 3600/' "$T/garaged.conf"
LOGS=()
for i in $(seq "$N"); do
	mkdir -p "$T/door$i"
	sed -e "s#^id = garage\$#id = door$i#" -e "s#/garage\\.local\\.#/door$i.local.#g" \
		-e "s#^state_dir = .*#state_dir = $T/door$i/state#" -e "s#^sim_log = .*#sim_log = $T/door$i/sim.log#" \
		"$T/garaged.conf" >"$T/door$i/garaged.conf"
	LOGS+=("$T/door$i/garaged.log")
done
"$GARAGED" -c "$T/door1/garaged.conf" --check-config >/dev/null || fail "the fleet's configuration"
grep -q '^certfile = .*/door1\.local\.crt$' "$T/door1/garaged.conf" || fail "door1's configuration names another certificate"

broker_from_config "$T/pki/mosquitto.conf"
sleep 0.5
broker_rss0=$(rss_kb "$BROKER_PID")
# ss shows a listening socket's backlog as its Send-Q: the connections the kernel holds for the
# broker to accept; more at once are dropped and retried by TCP (listen queue overflows below).
say "broker: listen backlog $(ss -ltnH "sport = :$PORT" | awk '{ print $3 }')"

# --- cold start: the broker up, then every garaged at once.
say "cold start: $N garaged started at once"
lo0=$(listen_overflows)
c0=$EPOCHREALTIME
bt0=$(cpu_ticks "$BROKER_PID")
DOORS=()
for i in $(seq "$N"); do
	"$GARAGED" -c "$T/door$i/garaged.conf" -f >>"$T/door$i/garaged.log" 2>&1 &
	DOORS+=("$!")
	PIDS+=("$!")
done
say "cold start: $N processes started in $(since "$c0" "$EPOCHREALTIME") s"
await_connects "$N" $((60 + N / 2)) || fail "only $(connects) of $N devices connected after a cold start"
bt1=$(cpu_ticks "$BROKER_PID")
c1=$EPOCHREALTIME
read -r n all p50 retried < <(python3 bench/fleet.py online "$c0" "${LOGS[@]}")
result cold_start_all_online_s "$all" s
result cold_start_devices_retried "$retried" "of_$N"
result cold_start_broker_cpu_ms_per_device "$(awk -v a="$bt0" -v b="$bt1" -v hz="$HZ" -v n="$N" 'BEGIN { printf "%.1f", (b - a) * 1000 / hz / n }')" ms
say "cold start: $n devices online, half of them after $p50 s; broker CPU $(pct "$bt0" "$bt1" "$c0" "$c1") of one core meanwhile; listen queue overflows $(($(listen_overflows) - lo0))"
say "cold start: the broker holds $(retained_online) of $N retained 'online' (a controller's view)"

# Every network half joins PIDS: each of the 2N processes is ended by PID on any way out.
NETS=()
for p in "${DOORS[@]}"; do
	q=$(net_half "$p") || fail "garaged $p has no network half"
	NETS+=("$q")
	PIDS+=("$q")
done

# --- memory: PSS of both halves, idle and connected (PSS shares each shared page among the
# processes that map it: what one more device costs, the fleet's total divided).
sleep 5
pss_all=() pss_door=() pss_net=()
for k in "${!DOORS[@]}"; do
	d=$(pss "${DOORS[$k]}")
	q=$(pss "${NETS[$k]}")
	[ -n "$d" ] && [ -n "$q" ] || fail "garaged ${DOORS[$k]} is gone"
	pss_door+=("$d") pss_net+=("$q") pss_all+=($((d + q)))
done
result pss_per_device_kb "$(python3 bench/stats.py median "${pss_all[@]}")" kB
say "memory: PSS median door half $(python3 bench/stats.py median "${pss_door[@]}") kB + network half $(python3 bench/stats.py median "${pss_net[@]}") kB; RSS of one device $(($(rss_kb "${DOORS[0]}") + $(rss_kb "${NETS[0]}"))) kB"
broker_rss=$(rss_kb "$BROKER_PID")
result broker_rss_kb "$broker_rss" kB
result broker_rss_kb_per_device "$(awk -v a="$broker_rss0" -v b="$broker_rss" -v n="$N" 'BEGIN { printf "%.1f", (b - a) / n }')" kB
say "broker: RSS $broker_rss0 kB before the fleet; PSS $(pss "$BROKER_PID") kB, $(find "/proc/$BROKER_PID/fd" -mindepth 1 | wc -l) file descriptors with it"

# --- latency: signed toggles to random doors, one at a time, while the fleet idles. As in
# bench/run.sh: relay edge (the door's sim_log) - arrival at a plain subscriber of the command
# topics, by bench/stats.py; the doors' relay logs merged in time order, each command 0.1 s
# after the last one's publish, so the edges follow the commands in order.
VERIFY=$BUILD/bench/verify
if [ -x "$VERIFY" ]; then "$VERIFY" | tee -a "$RESULTS"; fi
say "latency: signing $N_CMD toggles for random doors"
now=$(date +%s)
: >"$T/lat.nonces"
: >"$T/lat.cmds"
prev=0
for _ in $(seq "$N_CMD"); do
	# A door other than the last one (its relay may still be energised).
	if [ "$N" -gt 1 ] && [ "$prev" -gt 0 ]; then
		k=$(((prev + RANDOM % (N - 1)) % N + 1))
	else
		k=$((RANDOM % N + 1))
	fi
	prev=$k
	n=$(nonce)
	echo "$n" >>"$T/lat.nonces"
	printf '%s\t%s\n' "$k" "$(sign bench "door$k" main toggle "$now" "$n" bench)" >>"$T/lat.cmds"
done
# shellcheck disable=SC2046
mosquitto_sub $(mq watch.local) -t 'garage/+/main/cmd' -F '%U %p' >"$T/arrivals" 2>/dev/null &
PIDS+=("$!")
sleep 1
say "latency: $N_CMD commands, each its own mosquitto_pub as ctl.local"
while IFS=$'\t' read -r k cmd; do
	# shellcheck disable=SC2046
	timeout 10 mosquitto_pub $(mq ctl.local) -t "garage/door$k/main/cmd" -m "$cmd" -q 1 || fail "publishing a command to door$k"
	sleep 0.1
done <"$T/lat.cmds"
for _ in $(seq 100); do
	[ "$(cat "$T"/door*/sim.log | grep -c ' relay on$')" -ge "$N_CMD" ] && break
	sleep 0.1
done
cat "$T"/door*/sim.log | grep ' relay on$' | sort -n >"$T/sim-all.log"
read -r l50 l99 n miss < <(python3 bench/stats.py latency "$T/arrivals" "$T/lat.nonces" "$T/sim-all.log" 0 us)
result fleet_latency_overhead_p50_us "$l50" us
result fleet_latency_overhead_p99_us "$l99" us
say "latency: $n commands measured, $miss unmatched, $(lines "$T/sim-all.log") relay edges"

# --- the reconnect storm: the broker killed (as a crash: no will, no saved state) and started
# again DOWN_S later; the devices' backoff (full jitter, reconnect_min_ms to a doubling cap)
# spreads their return. The broker's CPU is sampled every 0.1 s from its restart.
say "storm: the broker killed (SIGKILL), started again after ${DOWN_S} s"
before=$(connects)
lo0=$(listen_overflows)
t_kill=$EPOCHREALTIME
kill -KILL "$BROKER_PID"
wait "$BROKER_PID" 2>/dev/null
sleep "$DOWN_S"
: >"$T/cpu.tsv"
# The storm's clock starts with the broker's process: it listens within milliseconds, and
# run_broker sees that only at its next look (every 0.1 s), after the first devices are back.
t_listen=$EPOCHREALTIME
run_broker
echo "$EPOCHREALTIME $(cpu_ticks "$BROKER_PID")" >>"$T/cpu.tsv"
await_connects $((before + N)) $((120 + N / 2)) "$T/cpu.tsv" ||
	say "storm: only $(($(connects) - before)) of $N devices back after $((120 + N / 2)) s"
# Two seconds more, for the picture's tail.
for _ in $(seq 20); do echo "$EPOCHREALTIME $(cpu_ticks "$BROKER_PID")" >>"$T/cpu.tsv"; sleep 0.1; done
t_end=$EPOCHREALTIME
read -r n all half since_kill peak cpu_ms cpu_avg cpu_peak retries < <(python3 bench/fleet.py storm \
	"$t_kill" "$t_listen" "$t_end" "$T/cpu.tsv" "$HZ" "$OUT" "${LOGS[@]}")
result storm_all_back_s "$all" s
result storm_half_back_s "$half" s
result storm_all_back_since_kill_s "$since_kill" s
result storm_peak_connects_per_s "$peak" /s
result storm_broker_cpu_ms_per_device "$cpu_ms" ms
result storm_broker_cpu_avg_pct "$cpu_avg" %
result storm_broker_cpu_peak_pct "$cpu_peak" %
say "storm: $n of $N devices back; $retries retries scheduled from the kill until each was back; listen queue overflows $(($(listen_overflows) - lo0))"
say "storm: the broker holds $(retained_online) of $N retained 'online' (a controller's view)"
say "storm: $(alive "${DOORS[@]}") of $N door halves and $(alive "${NETS[@]}") network halves alive"
say "broker log: $(grep -c 'New client connected' "$T/mosquitto.log") connections, $(grep -ciE 'error|warning' "$T/mosquitto.log") error or warning lines"

gnuplot -e "dir='$OUT'; n=$N; restart=$(since "$t_kill" "$t_listen"); down=$DOWN_S" bench/online.gp ||
	fail "gnuplot could not draw $OUT/online.png"
say "load average $(cut -d' ' -f1-3 /proc/loadavg) at the end; the busiest processes (user, %CPU, %MEM, command):"
busy
say "figures in $RESULTS, the storm in $OUT/online.png"
