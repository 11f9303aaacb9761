#!/bin/bash
# bench/profile.sh [BUILD-DIR]: where garaged's time goes during a command burst, for
# docs/performance.md. garaged (the release build) runs under callgrind while 100 valid signed
# commands (one every 125 ms) and 2,000 forgeries arrive; then callgrind_annotate prints the
# inclusive top. Slow (valgrind), and no part of make bench or make check.
set -u
cd "$(dirname "$0")/.."
BUILD=$(cd "${1:-build}" && pwd)
export GARAGED_BIN=$BUILD/bin
export TESTBED_DIR=${TESTBED_DIR:-$BUILD/bench/profile}
command -v valgrind >/dev/null || { echo "profile: needs valgrind (apt-get install valgrind)"; exit 1; }
# shellcheck source=scripts/testbed.sh
. scripts/testbed.sh
OUT=$BUILD/bench/callgrind.out
mq() { echo -h localhost -p "$PORT" --cafile "$T/pki/ca.crt" --cert "$T/pki/$1.crt" --key "$T/pki/$1.key"; }

make_pki
start_broker
keypair bench
echo "ed25519 $PUB_B64 bench" >"$T/authorized_keys"
RELAY_PULSE_MS=50 KEEPALIVE=60 write_conf "min_pulse_interval_ms = 0"
sed -i 's/^\[security\]$/[security]\nclock_skew = 3600/' "$T/garaged.conf"
valgrind --tool=callgrind --callgrind-out-file="$OUT" "$GARAGED" -c "$T/garaged.conf" -f -v \
	>>"$T/garaged.log" 2>&1 &
GARAGED_PID=$!
PIDS+=("$GARAGED_PID")
sleep 3
now=$(date +%s)
: >"$T/cmds"
for i in $(seq 100); do sign bench garage main toggle "$now" "$(nonce)" bench >>"$T/cmds"; echo >>"$T/cmds"; done
python3 - "$T/forged" "$now" <<'PY'
import base64, os, sys
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
L = 2**252 + 27742317777372353535851937790883648493
with open(sys.argv[1], "w") as f:
    for _ in range(2000):
        s = os.urandom(32) + (int.from_bytes(os.urandom(64), "little") % L).to_bytes(32, "little")
        f.write('{"v":1,"door":"main","action":"toggle","ts":%s,"nonce":"%s","kid":"bench","sig":"%s"}\n'
                % (sys.argv[2], b64(os.urandom(12)), b64(s)))
PY
# shellcheck disable=SC2046
python3 bench/pace.py 8 "$T/cmds" | mosquitto_pub $(mq ctl.local) -t garage/garage/main/cmd -q 1 -l
# shellcheck disable=SC2046
python3 bench/pace.py 200 "$T/forged" | mosquitto_pub $(mq ctl.local) -t garage/garage/main/cmd -q 0 -l
sleep 3
echo "profile: $(relay_edges) relay presses for 100 valid commands"
kill "$GARAGED_PID"
wait "$GARAGED_PID"
callgrind_annotate --inclusive=yes "$OUT" 2>/dev/null | head -60
