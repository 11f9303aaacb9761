#!/usr/bin/env python3
"""pace.py RATE FILE [SENT]: copy FILE's lines to stdout at RATE lines a second, flushing as it
goes; with SENT, also write each line to SENT after the moment it was handed over, in
mosquitto_sub -F '%U %p' form, so that stats.py pairs it like a subscriber's arrival.

Feeds `mosquitto_pub -l` so that pre-signed commands arrive at a known pace: the bench's
commands one at a time (each after the last relay pulse has ended), the flood in small bursts.
"""
import sys
import time


def main():
    rate = float(sys.argv[1])
    with open(sys.argv[2], "rb") as f:
        lines = f.readlines()
    out = sys.stdout.buffer
    sent_log = open(sys.argv[3], "wb") if len(sys.argv) > 3 else None
    start = time.monotonic()
    sent = 0
    while sent < len(lines):
        due = min(len(lines), int((time.monotonic() - start) * rate) + 1)
        if due > sent:
            out.write(b"".join(lines[sent:due]))
            out.flush()
            if sent_log:
                t = time.time_ns()
                stamp = b"%d.%09d " % divmod(t, 1_000_000_000)
                sent_log.write(b"".join(stamp + l for l in lines[sent:due]))
                sent_log.flush()
            sent = due
        # Sleep to the next line's moment, in at most 2 ms steps at high rates.
        wait = start + sent / rate - time.monotonic()
        if wait > 0:
            time.sleep(min(wait, 0.002) if rate > 500 else wait)


if __name__ == "__main__":
    try:
        main()
    except BrokenPipeError:
        sys.exit(1)
