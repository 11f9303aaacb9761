#!/bin/bash
# Runs the libFuzzer targets built in BUILD/bin (make fuzz, make fuzz-smoke; docs/fuzzing.md).
#
#   tests/fuzz/run.sh BUILD SECONDS JOBS [TARGET...]
#
# TARGET is a name of tests/fuzz/fuzz-TARGET.c (cmd, admin, enroll, keys, base64, config, replay,
# pki, cert, csr, mdns, channel, topic, authkeys); all of them by default.
#
# Each target runs for SECONDS on BUILD/corpus/TARGET, a working copy that the tree's seed
# corpus (tests/fuzz/corpus/TARGET) is copied into first: what the fuzzer adds stays in the
# build directory and makes the next run start further on, and the tree is never written.
# Up to JOBS targets run at once, each on one core. A crash, leak, sanitizer report or broken
# invariant lands in BUILD/artifacts/TARGET-*, the whole log in BUILD/logs/TARGET.log; the
# exit status is 1 if any target found anything.
set -u

if [ $# -lt 3 ]; then
	echo "usage: $0 BUILD SECONDS JOBS [TARGET...]" >&2
	exit 2
fi
build=$1 seconds=$2 jobs=$3
shift 3
src=$(cd "$(dirname "$0")" && pwd)

if [ $# -eq 0 ]; then
	for f in "$src"/fuzz-*.c; do
		t=${f##*/fuzz-}
		set -- "$@" "${t%.c}"
	done
fi
mkdir -p "$build/corpus" "$build/artifacts" "$build/logs"

run_one() {
	local t=$1 bin=$build/bin/fuzz-$1 corpus=$build/corpus/$1 dict=()

	if [ ! -x "$bin" ]; then
		echo "fuzz-$t: $bin is missing; build the fuzzers target first" >"$build/logs/$t.log"
		return 1
	fi
	mkdir -p "$corpus"
	cp "$src/corpus/$t"/* "$corpus"/
	[ -f "$src/$t.dict" ] && dict=("-dict=$src/$t.dict")
	# -timeout: a parser that takes seconds over one input is a finding too (the default is
	# 20 minutes). -rss_limit_mb: the targets hold kilobytes; a leak shows long before this.
	"$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=1024 -print_final_stats=1 \
		-artifact_prefix="$build/artifacts/$t-" "${dict[@]}" "$corpus" \
		>"$build/logs/$t.log" 2>&1
}

# At most $jobs at a time: start one as another ends.
declare -A pid_of
for t in "$@"; do
	while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
		wait -n
	done
	run_one "$t" &
	pid_of[$t]=$!
done

status=0
for t in "$@"; do
	log=$build/logs/$t.log
	if wait "${pid_of[$t]}"; then
		# libFuzzer's last status line: coverage, features, corpus and speed at the end.
		echo "fuzz-$t: ok: $(grep -a -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n 1)"
	else
		status=1
		echo "fuzz-$t: FAILED (log: $log)"
		report='^(==[0-9]+==ERROR|SUMMARY|.*invariant broken|.*runtime error|Test unit written)'
		lines=$(grep -a -E "$report" "$log" | head -n 20)
		[ -n "$lines" ] || lines=$(tail -n 5 "$log")
		printf '%s\n' "$lines" | sed 's/^/    /'
	fi
done
exit $status
