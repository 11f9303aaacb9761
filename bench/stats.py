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
  stats.py stages LOG ARRIVALS NONCES FROM
      The stages build's stamps (LOG's "stages net ..." and "stages door ..." lines, one a
      command, in order; src/common/stage.h) paired in order with each other and with the
      plain subscriber's arrivals of NONCES (ARRIVALS from line FROM on). Prints one
      "stage_NAME_p50_us VALUE us" line per stage and the total, then each stage's share.
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


STAGES = ["net_readable", "tls_decrypted", "on_message", "channel_sent",
          "door_readable", "door_received", "verified", "relay_written"]


def stages(args):
    log, arr_path, nonce_path, start = args
    with open(nonce_path, encoding="utf-8") as f:
        nonces = {l.strip() for l in f if l.strip()}
    arr = [t for t, _, ok in arrivals(arr_path, nonces, int(start)) if ok]
    net, door = [], []
    with open(log, encoding="utf-8", errors="replace") as f:
        for line in f:
            p = line.split()
            if len(p) == 2 + len(STAGES) // 2 * 2 and p[0] == "stages":
                vals = [int(v) for v in p[2:]]
                (net if p[1] == "net" else door).append(vals)
    n = min(len(net), len(door), len(arr))
    if n == 0:
        print(f"stages_commands 0 of_{len(nonces)}")
        return
    # Each step: from the stamp before it (the subscriber's arrival first) to its own.
    names = ["broker_to_readable"] + [f"{a}_to_{b}" for a, b in zip(STAGES, STAGES[1:])]
    steps = {k: [] for k in names}
    total, whole = [], []
    for i in range(n):
        t = [net[i][k] for k in range(4)] + [door[i][k] for k in range(4, 8)]
        if 0 in t:
            continue
        seq = [arr[i]] + t
        for k, name in enumerate(names):
            steps[name].append((seq[k + 1] - seq[k]) / 1000)
        total.append((t[-1] - t[0]) / 1000)
        whole.append((t[-1] - arr[i]) / 1000)
    med = {k: statistics.median(v) for k, v in steps.items() if v}
    print(f"stages_commands {len(total)} of_{len(nonces)}")
    for k in names:
        if k in med:
            print(f"stage_{k}_p50_us {med[k]:.1f} us")
    print(f"stages_total_p50_us {statistics.median(total):.1f} us")
    print(f"stages_arrival_to_relay_p50_us {statistics.median(whole):.1f} us")
    s = sum(v for k, v in med.items() if k != "broker_to_readable") or 1
    print("stages_share " + " ".join(f"{k}={100 * med[k] / s:.0f}%" for k in names[1:] if k in med),
          file=sys.stderr)


def median(args):
    vals = [float(v) for v in args]
    print(f"{statistics.median(vals):.1f}" if vals else "nan")


if __name__ == "__main__":
    {"latency": latency, "rate": rate, "pair": pair, "median": median,
     "lograte": lograte, "stages": stages}[sys.argv[1]](sys.argv[2:])
