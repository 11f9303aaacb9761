#!/usr/bin/env python3
"""report.py RESULTS: the bench's closing table, each figure beside its reference and target.

RESULTS holds the `name value unit` lines the bench printed. A missing or non-numeric figure
shows as "n/a"; the table only reports, it never fails.
"""
import sys


def main():
    r = {}
    with open(sys.argv[1], encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2:
                try:
                    r[parts[0]] = float(parts[1])
                except ValueError:
                    pass

    def get(k):
        return r.get(k)

    rows = []
    v = get("verify_us")
    # Issue 18's targets: 120 us and 400 us with the two processes.
    rows.append(("latency_overhead_p50_us", "us", "verify_us", v, 120, "<="))
    rows.append(("latency_overhead_p99_us", "us", "channel_hop_p99_us",
                 get("channel_hop_p99_us"), 400, "<="))
    # The same overhead measured end to end, garaged and a plain subscriber each the only
    # subscriber of the command topic (docs/performance.md, "Each alone").
    rows.append(("latency_overhead_alone_p50_us", "us", "e2e_mosquitto_sub_p50_us",
                 get("e2e_mosquitto_sub_p50_us"), None, None))
    rows.append(("latency_overhead_alone_p99_us", "us", "e2e_mosquitto_sub_p99_us",
                 get("e2e_mosquitto_sub_p99_us"), None, None))
    # garaged's own part (the stages build), each stage beside its floor where there is one.
    rows.append(("stages_total_p50_us", "us", "stage_broker_to_readable_p50_us",
                 get("stage_broker_to_readable_p50_us"), None, None))
    rows.append(("stage_channel_sent_to_door_readable_p50_us", "us", "channel_hop_idle_p50_us",
                 get("channel_hop_idle_p50_us"), None, None))
    rows.append(("stage_door_received_to_verified_p50_us", "us", "verify_idle_us",
                 get("verify_idle_us"), None, None))
    rows.append(("rss_kb", "kB", "rss_mosquitto_sub_kb", get("rss_mosquitto_sub_kb"),
                 None, None))
    rows.append(("pss_kb", "kB", "pss_mosquitto_sub_kb", get("pss_mosquitto_sub_kb"),
                 get("pss_mosquitto_sub_kb"), "<="))
    c = get("connect_mosquitto_sub_ms")
    rows.append(("connect_ms", "ms", "connect_mosquitto_sub_ms", c,
                 None if c is None else 1.2 * c, "<="))
    rows.append(("idle_syscalls_per_min", "/min", "-", None, 4, "<="))
    # Under a flood: beside each figure what a plain subscriber saw in the same run (the
    # broker's delivery), or the latency without a flood.
    rates = sorted({k[len("flood"):-len("_valid_obeyed")] for k in r
                    if k.startswith("flood") and k.endswith("_valid_obeyed")})
    for sfx in rates:
        f = "flood" + sfx
        rows.append((f + "_refused_per_s", "/s", f + "_forged_per_s", get(f + "_forged_per_s"),
                     None, None))
        rows.append((f + "_valid_obeyed", "", f + "_valid_received", get(f + "_valid_received"),
                     get(f + "_valid_received"), ">="))
        lp50 = get("latency_overhead_p50_us")
        rows.append((f + "_valid_p50_ms", "ms", "latency_overhead_p50 in ms",
                     None if lp50 is None else lp50 / 1000, None, None))
        lp99 = get("latency_overhead_p99_us")
        rows.append((f + "_valid_p99_ms", "ms", "latency_overhead_p99 in ms",
                     None if lp99 is None else lp99 / 1000, None, None))
        rows.append((f + "_broker_drop_notices", "", "-", None, 0, "<="))
        rows.append((f + "_forged_lost", "", "-", None, 0, "<="))
    if not rates:
        rows.append(("flood_valid_p99_ms", "ms", "-", None, None, None))

    print(f"{'figure':<32}{'value':>10}  {'reference':<32}{'ref':>9}  {'target':>12}  met")
    for name, unit, refname, ref, target, op in rows:
        val = get(name)
        vs = "n/a" if val is None else f"{val:g}"
        rs = "" if ref is None else f"{ref:g}"
        if target is None or op is None:
            ts, met = "(none)", "-"
        else:
            ts = f"{op} {target:.4g}"
            ok = {"<=": lambda a, b: a <= b, "<": lambda a, b: a < b,
                  ">=": lambda a, b: a >= b}[op]
            met = "n/a" if val is None else ("yes" if ok(val, target) else "NO")
        print(f"{name:<32}{vs:>10}  {refname:<32}{rs:>9}  {ts:>12}  {met}")


if __name__ == "__main__":
    main()
