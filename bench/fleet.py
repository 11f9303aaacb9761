#!/usr/bin/env python3
"""fleet.py: bench/fleet.sh's arithmetic, kept out of the shell (bench/stats.py does the rest).

The times come from each garaged's own log: its network half says "connected to HOST:PORT over
TLS" when the broker's CONNACK accepts it, with the wall clock to the millisecond, and "connecting
to HOST:PORT again in X s" for each retry the backoff schedules. Every device is one log.

  fleet.py online T0 LOG...
      Devices that connected at or after T0 (Unix seconds): prints "n last_s p50_s retried",
      the seconds from T0 until the last and the median device's first connection, and how
      many devices had an attempt fail before it.
  fleet.py storm T_KILL T_LISTEN T_END CPU HZ OUTDIR LOG...
      The reconnect storm: the broker killed at T_KILL, started again at T_LISTEN, sampled
      until T_END. CPU: "unix_time ticks" lines of the broker's CPU time (ticks at HZ a second)
      from T_LISTEN on. Writes OUTDIR/online.dat ("s count": devices online, seconds since
      T_KILL, a step at each connection) and OUTDIR/cpu.dat ("s percent": the broker's share of
      one core in 0.5 s bins). Prints "n all_s half_s since_kill_s peak_per_s cpu_ms cpu_avg cpu_peak
      retries": seconds from T_LISTEN until all and half of them were back, from T_KILL until
      all, the most connections in one second, the broker's CPU from T_LISTEN until the last
      came back (milliseconds per device, and percent of one core on average) and in its busiest
      0.5 s, and the retries the devices scheduled from T_KILL until each was back.
"""
import datetime
import statistics
import sys

CONNECTED = " connected to "
RETRY = " again in "
BIN_S = 0.5


def stamp(line):
    """The Unix time of a garaged log line ("2026-11-29T15:16:06.123Z net info: ..."), or None."""
    try:
        t = datetime.datetime.strptime(line.split(" ", 1)[0], "%Y-%m-%dT%H:%M:%S.%fZ")
    except ValueError:
        return None
    return t.replace(tzinfo=datetime.timezone.utc).timestamp()


def scan(path, t0):
    """(first connection at or after t0 or None, retries scheduled at or after t0 before it)."""
    retries = 0
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if CONNECTED not in line and RETRY not in line:
                continue
            t = stamp(line)
            # The log has milliseconds; the shell's clock has microseconds.
            if t is None or t < t0 - 0.001:
                continue
            if CONNECTED in line:
                return t, retries
            retries += 1
    return None, retries


def online(args):
    t0 = float(args[0])
    scans = [scan(p, t0) for p in args[1:]]
    times = sorted(t for t, _ in scans if t is not None)
    retried = sum(1 for _, r in scans if r > 0)
    if not times:
        print("0 nan nan", retried)
        return
    print(f"{len(times)} {times[-1] - t0:.2f} {statistics.median(times) - t0:.2f} {retried}")


def storm(args):
    t_kill, t_listen, t_end = (float(a) for a in args[:3])
    cpu_path, hz, outdir, logs = args[3], float(args[4]), args[5], args[6:]
    scans = [scan(p, t_kill) for p in logs]
    times = sorted(t for t, _ in scans if t is not None)
    retries = sum(r for _, r in scans)
    with open(f"{outdir}/online.dat", "w", encoding="utf-8") as f:
        f.write(f"0 0\n{t_listen - t_kill:.3f} 0\n")
        for k, t in enumerate(times, 1):
            f.write(f"{t - t_kill:.3f} {k}\n")
        f.write(f"{t_end - t_kill:.3f} {len(times)}\n")
    samples = []
    with open(cpu_path, encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) == 2:
                samples.append((float(parts[0]), float(parts[1])))
    # The broker's share of one core in each BIN_S bin, from the samples at its edges.
    bins = []
    if samples:
        edge, k = samples[0][0], 0
        while edge + BIN_S <= samples[-1][0] + 1e-9:
            while k + 1 < len(samples) and samples[k + 1][0] <= edge + BIN_S + 1e-9:
                k += 1
            first = next(s for s in samples if s[0] >= edge - 1e-9)
            if samples[k][0] > first[0]:
                pct = (samples[k][1] - first[1]) * 100 / hz / (samples[k][0] - first[0])
                bins.append((first[0] + (samples[k][0] - first[0]) / 2, pct))
            edge += BIN_S
    with open(f"{outdir}/cpu.dat", "w", encoding="utf-8") as f:
        for t, pct in bins:
            f.write(f"{t - t_kill:.3f} {pct:.1f}\n")
    if not times:
        print("0 nan nan nan 0 nan nan nan", retries)
        return
    last = times[-1]
    peak = max(sum(1 for u in times if t <= u < t + 1) for t in times)
    in_storm = [s for s in samples if s[0] <= last + BIN_S]
    cpu_avg = cpu_ms = float("nan")
    if len(in_storm) >= 2 and in_storm[-1][0] > in_storm[0][0]:
        ticks = in_storm[-1][1] - in_storm[0][1]
        cpu_avg = ticks * 100 / hz / (in_storm[-1][0] - in_storm[0][0])
        cpu_ms = ticks * 1000 / hz / len(times)
    cpu_peak = max((p for _, p in bins), default=float("nan"))
    half = times[(len(times) - 1) // 2]
    print(f"{len(times)} {last - t_listen:.2f} {half - t_listen:.2f} {last - t_kill:.2f} {peak}"
          f" {cpu_ms:.1f} {cpu_avg:.1f} {cpu_peak:.0f} {retries}")


if __name__ == "__main__":
    {"online": online, "storm": storm}[sys.argv[1]](sys.argv[2:])
