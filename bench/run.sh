#!/bin/bash
# make bench: the performance figures of SPEC "Performance", measured against a local Mosquitto
# with mTLS (scripts/testbed.sh), one `name value unit` line each, then a table beside each
# figure's reference and target. It measures and reports; a missed target never fails it, only
# something broken does. docs/performance.md explains the figures and the gaps.
#
# bench/run.sh [BUILD-DIR]   (default build; needs BUILD/bin/garaged and BUILD/bench/verify)
set -u
cd "$(dirname "$0")/.."
BUILD=$(cd "${1:-build}" && pwd)
export GARAGED_BIN=$BUILD/bin
VERIFY=$BUILD/bench/verify
HOP=$BUILD/bench/hop
# The stages build (src/common/stage.h): the same sources, each half stamping every command.
STAGES_BIN=$BUILD/stages/bin
for f in "$VERIFY" "$HOP" "$STAGES_BIN/garaged"; do
	[ -x "$f" ] || { echo "bench: no $f (run make bench)"; exit 1; }
done

# The testbed's scratch folder under the build directory, out of reach of anything that
# tidies /tmp while the bench runs; KEEP=1 keeps it afterwards.
export TESTBED_DIR=${TESTBED_DIR:-$BUILD/bench/testbed}
# shellcheck source=scripts/testbed.sh
. scripts/testbed.sh
# shellcheck source=bench/lib.sh
. bench/lib.sh
# strace counts the idle daemon's system calls.
need_tool strace strace

N_LAT=${BENCH_COMMANDS:-500}    # commands for the latency figures (SPEC: at least 500)
N_STAGES=${BENCH_STAGES:-100}   # commands through the stages build
N_ALONE=${BENCH_ALONE:-150}     # commands for each end-to-end figure (garaged, mosquitto_sub alone)
N_PAIR=50                       # commands with two plain subscribers (the broker's fan-out)
N_FLOOD_VALID=50                # valid commands during the flood
FLOODERS=5                      # mosquitto_pub -l processes, each at 1/FLOODERS of the rate
FLOOD_RATES=${BENCH_FLOOD_RATES:-5000 10000 20000} # forged commands a second, all flooders
                                # together: SPEC's 5,000, then more, to show where the limit is
FLOOD_S=8                       # seconds of flood
IDLE_S=${BENCH_IDLE_S:-66}      # seconds strace counts the idle daemon
CONNECT_RUNS=5
CMD_TOPIC=garage/garage/main/cmd
RESULTS=$T/results

# garaged is two processes since privilege separation: the door half and its network half.
net_half() { pgrep -P "$GARAGED_PID" | head -1; }
# await_edges N SECONDS: until the simulated relay was energised N times (bounded).
await_edges() {
	local i
	for i in $(seq $(($2 * 20))); do [ "$(relay_edges)" -ge "$1" ] && return 0; sleep 0.05; done
	return 1
}

# make_forgeries RATE: FLOOD_S seconds of them at RATE, in FLOODERS files. Well-formed, the known
# kid, fresh, and a signature that costs a full verification to refuse: a random R and a
# canonical S (below the group order L). A random S would be refused at once by libsodium's
# canonical-S check, 15 times in 16, and flatter garaged.
make_forgeries() {
	python3 - "$T" "$now" "$FLOODERS" $(($1 * FLOOD_S / FLOODERS)) <<'PY'
import base64, os, sys
t, now, files, per = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
L = 2**252 + 27742317777372353535851937790883648493
sig = lambda: os.urandom(32) + (int.from_bytes(os.urandom(64), "little") % L).to_bytes(32, "little")
for k in range(files):
    with open(f"{t}/forged.{k}", "w") as f:
        for _ in range(per):
            f.write('{"v":1,"door":"main","action":"toggle","ts":%s,"nonce":"%s","kid":"bench0","sig":"%s"}\n'
                    % (now, b64(os.urandom(12)), b64(sig())))
PY
}

say "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), Linux $(uname -r)"
say "testbed in $T"
make_pki
start_broker
# Every valid command of the run stays fresh, and so its nonce live, for the whole run
# (clock_skew 3600 below), and a key holds at most 31 live nonces (CMD_REPLAY_PER_KEY, the
# flood-revoke fix): the valid commands take turns over enough keys, 30 commands each.
VALID_TOTAL=$((N_LAT + N_ALONE + N_PAIR + N_STAGES + N_FLOOD_VALID * $(echo "$FLOOD_RATES" | wc -w)))
NKEYS=$(((VALID_TOTAL + 29) / 30))
# authorized_keys holds at most 32 keys (CMD_MAX_KEYS): 960 commands in all.
[ "$NKEYS" -le 32 ] || fail "$VALID_TOTAL valid commands need $NKEYS keys, more than authorized_keys holds (32); lower BENCH_COMMANDS, BENCH_ALONE or BENCH_STAGES"
: >"$T/authorized_keys"
for k in $(seq 0 $((NKEYS - 1))); do
	keypair "bench$k"
	echo "ed25519 $PUB_B64 bench$k actions=open,close,stop,toggle doors=main" >>"$T/authorized_keys"
done
SIGNED=0
# sign_next NONCE [TS]: a signed toggle of the main door from the next key in turn.
sign_next() {
	local k=bench$((SIGNED % NKEYS))
	SIGNED=$((SIGNED + 1))
	sign "$k" garage main toggle "${2:-$now}" "$1" "$k"
}
# sign_commands FILE N [TS]: N signed toggles in FILE, a line each (sign_next), their nonces in
# FILE.nonces, in the same order.
sign_commands() {
	local n
	: >"$1"; : >"$1.nonces"
	for _ in $(seq "$2"); do
		n=$(nonce); echo "$n" >>"$1.nonces"
		sign_next "$n" "${3:-${now:-$(date +%s)}}" >>"$1"; echo >>"$1"
	done
	[ "$(lines "$1")" -eq "$2" ] || fail "signing $1"
}
# publish_paced FILE [SENT]: FILE's lines on the command topic, 8 a second (one every 125 ms:
# room for the 50 ms pulse and a late delivery, so that each presses), at QoS 1, as a
# controller publishes them; pace.py stamps each in SENT when given.
publish_paced() {
	# shellcheck disable=SC2046
	python3 bench/pace.py 8 "$1" ${2:+"$2"} | mosquitto_pub $(mq ctl.local) -t "$CMD_TOPIC" -q 1 -l \
		|| fail "publishing $1"
}
# send_paced LABEL FILE [SENT]: publish_paced, then until each of FILE's commands pressed the
# relay (bounded; said when not). SKIP: the relay edges before them, for stats.py.
send_paced() {
	local n
	n=$(lines "$2.nonces")
	SKIP=$(relay_edges)
	publish_paced "$2" "${3:-}"
	await_edges $((SKIP + n)) 10 || say "$1: only $(($(relay_edges) - SKIP)) of $n commands pressed the relay"
	sleep 0.2
}
# Every command presses (toggle, no minimum interval); pre-signed commands stay fresh for the
# whole run (clock_skew at its maximum); keepalive 60 s for the idle figure.
RELAY_PULSE_MS=50 SIM_TRAVEL_MS=1000 KEEPALIVE=60 write_conf "min_pulse_interval_ms = 0"
sed -i 's/^\[security\]$/[security]\nclock_skew = 3600/' "$T/garaged.conf"
"$GARAGED" -c "$T/garaged.conf" --check-config >/dev/null || fail "bench configuration"
: >"$RESULTS"

# --- verify_us: the reference for the latency overhead, on this machine, now.
"$VERIFY" >"$T/verify.out" || fail "bench/verify"
grep '^verify_us ' "$T/verify.out" | tee -a "$RESULTS"
# --- channel_hop: the floor under the channel's hop, two processes asleep in poll (bench/hop.c):
# 2 ms apart (the receiver has only just gone to sleep), then 100 ms apart as a door's commands
# are (the CPUs have gone idle too). verify_idle_us: one verification after 100 ms asleep.
"$HOP" >"$T/hop.out" || fail "bench/hop"
"$HOP" 100 150 channel_hop_idle >>"$T/hop.out" || fail "bench/hop 100"
"$VERIFY" 100 150 >>"$T/hop.out" || fail "bench/verify 100"
grep -E '^(channel_hop_|verify_idle_us)' "$T/hop.out" | tee -a "$RESULTS"

# --- connect_ms: process start to the first state message, as a subscriber that was already
# there sees it. The start time is taken in the forked shell right before exec.
say "connect: $CONNECT_RUNS runs of garaged, $CONNECT_RUNS of mosquitto_sub"
# shellcheck disable=SC2046
mosquitto_sub $(mq ctl.local) -t garage/garage/main/state -F '%U %p' >>"$T/connect.log" 2>/dev/null &
PIDS+=("$!")
sleep 0.5
cms=()
for i in $(seq "$CONNECT_RUNS"); do
	before=$(lines "$T/connect.log")
	( echo "$EPOCHREALTIME" >"$T/t0"; exec "$GARAGED" -c "$T/garaged.conf" -f -v >>"$T/garaged-connect.log" 2>&1 ) &
	pid=$!
	PIDS+=("$pid")
	await_lines "$T/connect.log" $((before + 1)) 10 || fail "garaged published no state (connect run $i)"
	t1=$(sed -n "$((before + 1))p" "$T/connect.log" | cut -d' ' -f1)
	cms+=("$(awk -v a="$(cat "$T/t0")" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) * 1000 }')")
	stop_pid "$pid"
done
result connect_ms "$(python3 bench/stats.py median "${cms[@]}")" ms
say "connect_ms runs: ${cms[*]}"

# mosquitto_sub: start to its first message, a retained one waiting on a topic it may read
# with the device's own certificate (the ACL lets garage.local read homeassistant/#).
# shellcheck disable=SC2046
mosquitto_pub $(mq garage.local) -t homeassistant/bench/retained -m ready -r -q 1 || fail "retained"
sms=()
for i in $(seq "$CONNECT_RUNS"); do
	# shellcheck disable=SC2046
	( echo "$EPOCHREALTIME" >"$T/t0"; exec mosquitto_sub $(mq garage.local) -t homeassistant/bench/retained -C 1 -W 10 -F '%U' ) >"$T/sub-connect" 2>/dev/null \
		|| fail "mosquitto_sub got no retained message"
	sms+=("$(awk -v a="$(cat "$T/t0")" -v b="$(cat "$T/sub-connect")" 'BEGIN { printf "%.3f", (b - a) * 1000 }')")
done
result connect_mosquitto_sub_ms "$(python3 bench/stats.py median "${sms[@]}")" ms
say "connect_mosquitto_sub_ms runs: ${sms[*]}"

# --- e2e_mosquitto_sub: from the publisher's hand-over (pace.py's stamp, before mosquitto_pub
# reads the line) to a plain subscriber's receipt, with nothing else subscribed to the command
# topic and no garaged running: the reference for e2e_garaged below, through the same publisher,
# broker, TLS and filter (garaged's own, P/D/+/cmd), with commands of the same size.
sign_commands "$T/sub-alone.cmds" "$N_ALONE"
say "end to end: $N_ALONE commands to a plain subscriber alone, one every 125 ms"
# shellcheck disable=SC2046
mosquitto_sub $(mq ctl.local) -t "garage/garage/+/cmd" -F '%U %p' >"$T/sub-alone.arrivals" 2>/dev/null &
SUB_PID=$!
PIDS+=("$SUB_PID")
sleep 0.5
publish_paced "$T/sub-alone.cmds" "$T/sub-alone.sent"
await_lines "$T/sub-alone.arrivals" "$N_ALONE" 10 || say "end to end: the subscriber got only $(lines "$T/sub-alone.arrivals") of $N_ALONE"
stop_pid "$SUB_PID"
read -r sp50 sp99 < <(python3 bench/stats.py pair "$T/sub-alone.sent" "$T/sub-alone.arrivals" "$T/sub-alone.cmds.nonces")
result e2e_mosquitto_sub_p50_us "$sp50" us
result e2e_mosquitto_sub_p99_us "$sp99" us

# --- rss: the garaged that the rest of the bench uses, connected and idle a moment; then
# mosquitto_sub with the same certificate, broker and TLS settings. garaged runs as deployed
# (-f, no -v): -v adds a log line per MQTT packet, which would count in every figure.
"$GARAGED" -c "$T/garaged.conf" -f >>"$T/garaged.log" 2>&1 &
GARAGED_PID=$!
PIDS+=("$GARAGED_PID")
before=$(lines "$T/connect.log")
await_lines "$T/connect.log" $((before + 1)) 10 || fail "garaged did not connect"
sleep 1
# A build from before the split has one process: then NET_PID is the same process, counted once.
NET_PID=$(net_half)
if [ -n "$NET_PID" ]; then
	door_hwm=$(vmhwm "$GARAGED_PID"); net_hwm=$(vmhwm "$NET_PID")
	result rss_kb $((door_hwm + net_hwm)) kB
	result pss_kb $(($(pss "$GARAGED_PID") + $(pss "$NET_PID"))) kB
	say "rss: door half ${door_hwm} kB + network half ${net_hwm} kB (VmHWM, shared library pages counted in each); PSS door $(pss "$GARAGED_PID") kB + network $(pss "$NET_PID") kB"
else
	NET_PID=$GARAGED_PID
	result rss_kb "$(vmhwm "$GARAGED_PID")" kB
	say "rss: one process (a build from before privilege separation)"
fi
# shellcheck disable=SC2046
mosquitto_sub $(mq garage.local) -t homeassistant/bench/retained -F '%U' >"$T/rss-sub" 2>/dev/null &
SUB_PID=$!
PIDS+=("$SUB_PID")
await_lines "$T/rss-sub" 1 10 || fail "mosquitto_sub did not subscribe"
sleep 1
result rss_mosquitto_sub_kb "$(vmhwm "$SUB_PID")" kB
result pss_mosquitto_sub_kb "$(pss "$SUB_PID")" kB
stop_pid "$SUB_PID"

# --- idle_syscalls_per_min: strace counts the idle daemon for IDLE_S seconds, a keepalive
# period and more; meanwhile the commands of the next phases are signed (nothing reaches
# garaged's topics while it counts).
say "idle: counting garaged's system calls for ${IDLE_S}s (signing commands meanwhile)"
strace -c -f -p "$GARAGED_PID" $([ "$NET_PID" != "$GARAGED_PID" ] && echo "-p $NET_PID") -o "$T/strace.txt" 2>/dev/null &
STRACE_PID=$!
PIDS+=("$STRACE_PID")
idle_t0=$EPOCHREALTIME

now=$(date +%s)
sign_commands "$T/lat.cmds" "$N_LAT"
sign_commands "$T/garaged-alone.cmds" "$N_ALONE"
sign_commands "$T/pair.cmds" "$N_PAIR"
left=$(awk -v a="$idle_t0" -v b="$EPOCHREALTIME" -v s="$IDLE_S" 'BEGIN { d = s - (b - a); print (d > 0 ? d : 0) }')
sleep "$left"
kill -INT "$STRACE_PID"
wait "$STRACE_PID" 2>/dev/null
idle_s=$(awk -v a="$idle_t0" -v b="$EPOCHREALTIME" 'BEGIN { print b - a }')
calls=$(awk '$NF == "total" { print $4 }' "$T/strace.txt")
[ -n "$calls" ] || calls=0
result idle_syscalls_per_min "$(awk -v c="$calls" -v s="$idle_s" 'BEGIN { printf "%.1f", c * 60 / s }')" calls/min
say "idle: $calls system calls in ${idle_s}s: $(awk 'NR > 2 && $NF != "total" && $1 !~ /^-/ { printf "%s=%s ", $NF, $4 }' "$T/strace.txt")"

# --- e2e_garaged: the same as e2e_mosquitto_sub, to garaged's relay edge, garaged the only
# subscriber of the command topic. latency_overhead_alone: the difference of the two, what
# garaged adds over a client that only receives, each served by the broker alone.
say "end to end: $N_ALONE signed commands to garaged alone, one every 125 ms"
send_paced "end to end" "$T/garaged-alone.cmds" "$T/garaged-alone.sent"
read -r gp50 gp99 n miss < <(python3 bench/stats.py latency "$T/garaged-alone.sent" "$T/garaged-alone.cmds.nonces" "$T/sim.log" "$SKIP" us)
result e2e_garaged_p50_us "$gp50" us
result e2e_garaged_p99_us "$gp99" us
result latency_overhead_alone_p50_us "$(awk -v a="$gp50" -v b="$sp50" 'BEGIN { printf "%.1f", a - b }')" us
result latency_overhead_alone_p99_us "$(awk -v a="$gp99" -v b="$sp99" 'BEGIN { printf "%.1f", a - b }')" us

# --- latency_overhead: N_LAT pre-signed toggles, one every 125 ms (publish_paced), timestamped
# on arrival by a plain subscriber.
# shellcheck disable=SC2046
mosquitto_sub $(mq ctl.local) -t "$CMD_TOPIC" -F '%U %p' >"$T/arrivals" 2>/dev/null &
PIDS+=("$!")
sleep 0.5
say "latency: $N_LAT signed commands, one every 125 ms"
send_paced latency "$T/lat.cmds"
read -r p50 p99 n miss < <(python3 bench/stats.py latency "$T/arrivals" "$T/lat.cmds.nonces" "$T/sim.log" "$SKIP" us)
result latency_overhead_p50_us "$p50" us
result latency_overhead_p99_us "$p99" us
say "latency: $n commands measured, $miss unmatched"

# --- a second plain subscriber of the same topic, with the device's certificate, for N_PAIR
# commands: its delay behind the first is what a client adds by receiving alone (the broker's
# fan-out, a wake-up, TLS) on these two cores; beside it the overhead meanwhile. Its own phase:
# a third process woken by every command competes with garaged for the CPUs.
# shellcheck disable=SC2046
mosquitto_sub $(mq garage.local) -t "$CMD_TOPIC" -F '%U %p' >"$T/arrivals2" 2>/dev/null &
SUB2_PID=$!
PIDS+=("$SUB2_PID")
sleep 0.5
from=$(lines "$T/arrivals")
send_paced pair "$T/pair.cmds"
stop_pid "$SUB2_PID"
tail -n +$((from + 1)) "$T/arrivals" >"$T/arrivals.pair"
say "pair: a second plain subscriber behind the first, p50 p99 us: $(python3 bench/stats.py pair "$T/arrivals.pair" "$T/arrivals2" "$T/pair.cmds.nonces"); garaged's overhead meanwhile, p50 p99 us: $(python3 bench/stats.py latency "$T/arrivals.pair" "$T/pair.cmds.nonces" "$T/sim.log" "$SKIP" us | cut -d' ' -f1-2)"

# --- flood: N_FLOOD_VALID valid commands while RATE forged ones a second arrive from FLOODERS
# publishers (QoS 0, as fast as the broker takes them), each forgery a full verification. Beside
# each figure, its reference from the same run: the rate and the valid commands a plain
# subscriber of the command topic saw (what the broker delivered), and the latency without a
# flood (latency_overhead_*). What Mosquitto dropped for the device (its per-client queue,
# max_queued_messages 1000 by default, valid commands too) shows as its notices and as the
# forgeries garaged never judged. flood_phase RATE SUFFIX; the figures of the SPEC's 5,000 a
# second have no suffix.
flood_phase() {
	local rate=$1 sfx=$2 k p skip from g0 g1 b0 b1 f0 f1 fp50 fp99 n miss seen obeyed got
	local log0 mlog0 drops refused
	sleep 0.5
	skip=$(relay_edges)
	sign_commands "$T/flood.cmds" "$N_FLOOD_VALID"
	say "flood: $rate forged commands a second for ${FLOOD_S}s, $N_FLOOD_VALID valid ones among them"
	make_forgeries "$rate"
	fpids=()
	from=$(lines "$T/arrivals"); log0=$(lines "$T/garaged.log"); mlog0=$(lines "$T/mosquitto.log")
	g0=$(( $(cpu_ticks "$GARAGED_PID") + ($NET_PID == $GARAGED_PID ? 0 : $(cpu_ticks "$NET_PID")) )); b0=$(cpu_ticks "$BROKER_PID"); f0=$EPOCHREALTIME
	for k in $(seq 0 $((FLOODERS - 1))); do
		# shellcheck disable=SC2046
		( python3 bench/pace.py $((rate / FLOODERS)) "$T/forged.$k" | mosquitto_pub $(mq ctl.local) -t "$CMD_TOPIC" -q 0 -l ) &
		fpids+=("$!")
		PIDS+=("$!")
	done
	sleep 1.5
	publish_paced "$T/flood.cmds"
	for p in "${fpids[@]}"; do wait "$p"; done
	g1=$(( $(cpu_ticks "$GARAGED_PID") + ($NET_PID == $GARAGED_PID ? 0 : $(cpu_ticks "$NET_PID")) )); b1=$(cpu_ticks "$BROKER_PID"); f1=$EPOCHREALTIME
	await_edges $((skip + N_FLOOD_VALID)) 20 || say "flood: only $(($(relay_edges) - skip)) of $N_FLOOD_VALID valid commands pressed the relay"
	# Every forgery the broker delivered is refused before the figures are read (bounded).
	for _ in $(seq 300); do
		refused=$(tail -n +$((log0 + 1)) "$T/garaged.log" | grep -c '"reason":"bad_signature"')
		sleep 0.1
		[ "$(tail -n +$((log0 + 1)) "$T/garaged.log" | grep -c '"reason":"bad_signature"')" = "$refused" ] && break
	done
	sleep 0.2
	read -r fp50 fp99 n miss < <(python3 bench/stats.py latency "$T/arrivals" "$T/flood.cmds.nonces" "$T/sim.log" "$skip" ms)
	seen=$(python3 bench/stats.py rate "$T/arrivals" "$T/flood.cmds.nonces" "$from")
	got=$(tail -n +$((from + 1)) "$T/arrivals" | grep -c -F -f "$T/flood.cmds.nonces")
	obeyed=$(tail -n +$((log0 + 1)) "$T/garaged.log" | grep '"result":"accepted"' | grep -c -F -f "$T/flood.cmds.nonces")
	# The device's client id is garaged-<device id> (mqtt.c).
	drops=$(tail -n +$((mlog0 + 1)) "$T/mosquitto.log" | grep -c 'Outgoing messages are being dropped for client garaged-garage')
	refused=$(tail -n +$((log0 + 1)) "$T/garaged.log" | grep -c '"reason":"bad_signature"')
	result "flood${sfx}_forged_per_s" "$seen" /s
	result "flood${sfx}_refused_per_s" "$(tail -n +$((log0 + 1)) "$T/garaged.log" | python3 bench/stats.py lograte bad_signature)" /s
	result "flood${sfx}_valid_received" "$got" "of_$N_FLOOD_VALID"
	result "flood${sfx}_valid_obeyed" "$obeyed" "of_$N_FLOOD_VALID"
	result "flood${sfx}_valid_p50_ms" "$fp50" ms
	result "flood${sfx}_valid_p99_ms" "$fp99" ms
	result "flood${sfx}_broker_drop_notices" "$drops" lines
	# Forgeries sent that garaged never judged: what the broker dropped for it.
	result "flood${sfx}_forged_lost" $((rate * FLOOD_S / FLOODERS * FLOODERS - refused)) "of_$((rate * FLOOD_S / FLOODERS * FLOODERS))"
	say "flood: $n valid commands measured, $miss unmatched; $refused forgeries refused; offered $rate/s"
	say "flood: CPU while flooding: garaged $(pct "$g0" "$g1" "$f0" "$f1"), mosquitto $(pct "$b0" "$b1" "$f0" "$f1") of one core"
	say "flood: garaged's peak RSS after the flood: door half $(vmhwm "$GARAGED_PID") kB, network half $(vmhwm "$NET_PID") kB"
	say "flood: events not published: $(tail -n +$((log0 + 1)) "$T/garaged.log" | grep -o '"message":"[0-9]* events were not published' | grep -o '[0-9]*' | awk '{ s += $1 } END { print s + 0 }'); warning lines: $(tail -n +$((log0 + 1)) "$T/garaged.log" | grep -c ' warning: ')"
}
for rate in $FLOOD_RATES; do
	flood_phase "$rate" "$([ "$rate" = 5000 ] || echo "_$rate")"
done
kill -0 "$GARAGED_PID" 2>/dev/null || fail "garaged died during the bench"
stop_pid "$GARAGED_PID"

# --- stages: the same latency run through the stages build; each half writes its stamps when
# it stops, and stats.py pairs them with the plain subscriber's arrivals (docs/performance.md).
say "stages: $N_STAGES signed commands through the stages build ($STAGES_BIN)"
"$STAGES_BIN/garaged" -c "$T/garaged.conf" -f >"$T/garaged-stages.log" 2>&1 &
GARAGED_PID=$!
PIDS+=("$GARAGED_PID")
before=$(lines "$T/connect.log")
await_lines "$T/connect.log" $((before + 1)) 10 || fail "the stages build did not connect"
# Signed after its start: garaged refuses a command stamped before it started (stale).
sleep 1
sign_commands "$T/stages.cmds" "$N_STAGES" "$(date +%s)"
from=$(lines "$T/arrivals")
send_paced stages "$T/stages.cmds"
stop_pid "$GARAGED_PID"
python3 bench/stats.py stages "$T/garaged-stages.log" "$T/arrivals" "$T/stages.cmds.nonces" "$from" \
	| tee -a "$RESULTS" >&2

echo
python3 bench/report.py "$RESULTS"
