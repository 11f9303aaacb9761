#!/bin/bash
# A flood of forged commands (valid JSON, a known kid, a fresh timestamp and nonce, a bad
# signature: the most expensive kind, each costs one Ed25519 verification) at about 5,000 a
# second for 3 s, through the real broker. Meanwhile a valid signed command is obeyed (its
# accepted event and its relay edge arrive; how fast is `make bench`'s flood_valid_p99_ms), every
# forged one is refused as bad_signature and moves nothing, garaged stays up, and its memory
# stays bounded (fixed-size structures: the flood does not grow it), in both halves: the network
# half carries every message, the door half verifies it.
source "$(dirname "$0")/../../scripts/testbed.sh"
FORGED=15000 # three publishers of 5,000 each
PUBLISHERS=3
RATE=1667 # per publisher and second: about 5,000 a second in all

make_pki
# The broker queues up to max_queued_messages per client and drops the rest; that bound is the
# broker's (docs/security.md), and this test counts garaged's refusals, so it lifts it.
start_broker
stop_broker
echo "max_queued_messages 0" >>"$T/mosquitto.conf"
run_broker

keypair alice
write_conf
sed -i 's|^authorized_keys = .*|&\nclock_skew = 300|' "$T/garaged.conf"
echo "ed25519 $PUB_B64 alice" >"$T/authorized_keys"
# Under ASan, freed memory waits in a quarantine (256 MB by default), which would read as growth.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=4
start_garaged
watch
await '^garage/garage/main/state closed$' 10 || fail "garaged did not come up"

# The forged commands: unique nonces, this second's timestamp, a well-formed signature of random bytes.
forgeries "$FORGED" "$PUBLISHERS" open alice
# pace RATE: lines from stdin to stdout at RATE a second, in batches every 10 ms (bounded by input).
cat >"$T/pace.py" <<'PY'
import sys, time
rate, batch = int(sys.argv[1]), max(1, int(sys.argv[1]) // 100)
t0, sent = time.monotonic(), 0
for line in sys.stdin:
    sys.stdout.write(line)
    sent += 1
    if sent % batch == 0:
        sys.stdout.flush()
        ahead = sent / rate - (time.monotonic() - t0)
        if ahead > 0:
            time.sleep(ahead)
sys.stdout.flush()
PY

refused() { local n; n=$(grep -c '"reason":"bad_signature"' "$T/garaged.log"); echo "${n:-0}"; }

# A warm-up of a few hundred, so that the baseline includes every buffer a message can grow.
head -n 300 "$T/forged.0" | mosquitto_pub -h localhost -p "$PORT" --cafile "$T/pki/ca.crt" \
	--cert "$T/pki/ctl.local.crt" --key "$T/pki/ctl.local.key" -t garage/garage/main/cmd -q 1 -l ||
	fail "warm-up publish"
await_count '"reason":"bad_signature"' 300 20 "$T/garaged.log" ||
	fail "the warm-up was not refused within 20 s: $(refused) of 300 refused as bad_signature"
[ "$(refused)" = 300 ] || fail "the warm-up was not refused as bad_signature: $(refused) of 300"
NET=$(net_half) || fail "no network half"
door0=$(rss_kb "$GARAGED_PID")
net0=$(rss_kb "$NET")
base=$(refused)
edges0=$(relay_edges)

flood_pids=()
for i in $(seq 0 $((PUBLISHERS - 1))); do
	python3 "$T/pace.py" "$RATE" <"$T/forged.$i" | mosquitto_pub -h localhost -p "$PORT" \
		--cafile "$T/pki/ca.crt" --cert "$T/pki/ctl.local.crt" --key "$T/pki/ctl.local.key" \
		-t garage/garage/main/cmd -q 1 -l &
	flood_pids+=("$!")
	PIDS+=("$!")
done
sleep 1.5 # the flood under way before the valid command (checked: still running below)
kill -0 "${flood_pids[0]}" 2>/dev/null || fail "the flood ended before the valid command was sent"
pub garage/garage/main/cmd "$(sign alice garage main open "$(date +%s)" "$(nonce)" alice)" ||
	fail "cannot publish the valid command"
await '"result":"accepted"' 20 "$T/garaged.log" || fail "the valid command sent during the flood was not accepted within 20 s"
await 'relay on' 20 "$T/sim.log" || fail "no relay edge for the valid command within 20 s"
during=$(refused)
pass "a valid command sent during the flood was obeyed ($((during - base)) forged ones refused by then)"

for p in "${flood_pids[@]}"; do
	for _ in $(seq 300); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$p" 2>/dev/null && fail "a publisher of the flood did not finish within 30 s"
done
want=$((base + FORGED))
await_count '"reason":"bad_signature"' "$want" 60 "$T/garaged.log" ||
	fail "$(($(refused) - base)) of $FORGED forged commands refused as bad_signature within 60 s"
[ "$(refused)" = "$want" ] || fail "$(( $(refused) - base )) of $FORGED forged commands refused as bad_signature"
[ "$(grep -c '"result":"accepted"' "$T/garaged.log")" = 1 ] || fail "more than the one valid command was accepted"
others=$(grep '"type":"command"' "$T/garaged.log" | grep -v '"reason":"bad_signature"' | grep -vc '"result":"accepted"')
[ "$others" = 0 ] || fail "$others commands refused for another reason: $(grep '"type":"command"' "$T/garaged.log" | grep -v bad_signature | grep -v accepted | head -1)"
[ "$(relay_edges)" = $((edges0 + 1)) ] || fail "the relay moved $(( $(relay_edges) - edges0 )) times, want 1"
kill -0 "$GARAGED_PID" 2>/dev/null || fail "garaged died in the flood"
pass "all $FORGED forged commands refused as bad_signature, one relay press, garaged up"

# Both halves, summed: a network half restarted on the way would have given its memory back.
door1=$(rss_kb "$GARAGED_PID")
net1=$(rss_kb "$NET")
[ -n "$net1" ] && [ "$(net_half)" = "$NET" ] || fail "the network half (pid $NET) died in the flood"
grow=$((door1 + net1 - door0 - net0))
echo "  VmRSS before and after: door half $door0 -> $door1 kB, network half $net0 -> $net1 kB"
[ "$grow" -le 8192 ] || fail "garaged's RSS (both halves) grew by $grow kB in the flood"
[ "$(sub garage/garage/availability 1 5)" = online ] || fail "garaged is not online after the flood"
pass "memory bounded through the flood (both halves +$grow kB) and still online"
