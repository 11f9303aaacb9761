#!/usr/bin/env python3
"""stats.py: the bench's arithmetic, kept out of the shell.

  stats.py latency ARRIVALS NONCES SIM_LOG SKIP UNIT
      ARRIVALS: mosquitto_sub -F '%U %p' lines (arrival time, payload) on the command topic;
      NONCES: the nonces of the valid commands to measure, one a line; SIM_LOG: garaged's
      "<unix ns> relay on|off" lines, of which the first SKIP "relay on" edges predate this run.
      Prints "p50 p99 n rejected" of relay edge - arrival, in UNIT (us or ms).
  stats.py rate ARRIVALS NONCES FROM
      Forged commands (payloads whose nonce is not in NONCES, from line FROM of ARRIVALS on) a
      second, as the subscriber saw them.
  stats.py pair ARRIVALS_A ARRIVALS_B NONCES
      p50 and p99, in us, of B's arrival - A's arrival for the same command: what a client that
      does nothing but receive adds, the floor under garaged's overhead.
  stats.py median VALUE...
      The median of the values.
  stats.py lograte PATTERN < LOG
      Lines of garaged's log (stdin) containing PATTERN a second, from the first such line's
      timestamp to the last's: how fast garaged refused a flood.
"""
import json
import statistics
import sys


def percentile(sorted_vals, p):
    """Nearest rank: the smallest value with at least p% of the set at or below it."""
    k = max(0, -(-len(sorted_vals) * p // 100) - 1)
    return sorted_vals[int(k)]


def arrivals(path, nonces, start=0):
    """(time ns, nonce, is_valid) of each command the subscriber saw, in order."""
    out = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for i, line in enumerate(f):
            if i < start:
                continue
            parts = line.rstrip("\n").split(" ", 1)
            if len(parts) != 2:
                continue
            sec, _, frac = parts[0].partition(".")
            try:
                t = int(sec) * 1_000_000_000 + int((frac + "000000000")[:9])
                nonce = json.loads(parts[1]).get("nonce")
            except (ValueError, AttributeError):
                continue
            out.append((t, nonce, nonce in nonces))
    return out


def edges(path, skip):
    with open(path, encoding="utf-8") as f:
        ons = [int(l.split()[0]) for l in f if l.rstrip().endswith("relay on")]
    return ons[skip:]


def latency(args):
    arr_path, nonce_path, sim_log, skip, unit = args
    with open(nonce_path, encoding="utf-8") as f:
        nonces = [l.strip() for l in f if l.strip()]
    wanted = set(nonces)
    seen = set()
    valid = []
    for t, n, ok in arrivals(arr_path, wanted):
        if ok and n not in seen:
            seen.add(n)
            valid.append(t)
    ons = edges(sim_log, int(skip))
    pairs = []
    if len(ons) == len(valid):
        # Every command pressed exactly once, in order: the i-th edge is the i-th command's.
        pairs = list(zip(valid, ons))
    else:
        # Some command was refused (or an edge is missing): pair each arrival with the first
        # unused edge after it, and never with one that belongs after the next arrival.
        print(f"stats: {len(valid)} commands but {len(ons)} relay edges; pairing by time",
              file=sys.stderr)
        j = 0
        for i, t in enumerate(valid):
            nxt = valid[i + 1] if i + 1 < len(valid) else None
            while j < len(ons) and ons[j] < t - 5_000_000:
                j += 1
            if j < len(ons) and (nxt is None or ons[j] < nxt):
                pairs.append((t, ons[j]))
                j += 1
    div = 1000.0 if unit == "us" else 1_000_000.0
    d = sorted((e - t) / div for t, e in pairs)
    if not d:
        print("nan nan 0", len(valid))
        return
    print(f"{percentile(d, 50):.1f} {percentile(d, 99):.1f} {len(d)} {len(valid) - len(d)}")


def rate(args):
    arr_path, nonce_path, start = args
    with open(nonce_path, encoding="utf-8") as f:
        wanted = {l.strip() for l in f if l.strip()}
    forged = [t for t, _, ok in arrivals(arr_path, wanted, int(start)) if not ok]
    if len(forged) < 2:
        print(0)
        return
    print(round((len(forged) - 1) / ((forged[-1] - forged[0]) / 1e9)))


def pair(args):
    a_path, b_path, nonce_path = args
    with open(nonce_path, encoding="utf-8") as f:
        wanted = {l.strip() for l in f if l.strip()}
    a = {n: t for t, n, ok in arrivals(a_path, wanted) if ok}
    d = sorted((t - a[n]) / 1000.0 for t, n, ok in arrivals(b_path, wanted) if ok and n in a)
    if not d:
        print("nan nan")
        return
    print(f"{percentile(d, 50):.1f} {percentile(d, 99):.1f}")


def lograte(args):
    import datetime
    times = []
    for line in sys.stdin:
        if args[0] in line:
            try:
                t = datetime.datetime.strptime(line.split(" ", 1)[0], "%Y-%m-%dT%H:%M:%S.%fZ")
            except ValueError:
                continue
            times.append(t.timestamp())
    if len(times) < 2 or times[-1] <= times[0]:
        print(0)
        return
    print(round((len(times) - 1) / (times[-1] - times[0])))


def median(args):
    vals = [float(v) for v in args]
    print(f"{statistics.median(vals):.1f}" if vals else "nan")


if __name__ == "__main__":
    {"latency": latency, "rate": rate, "pair": pair, "median": median,
     "lograte": lograte}[sys.argv[1]](sys.argv[2:])
