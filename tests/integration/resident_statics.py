"""resident_statics PID EXE NAME:FILE...: which of our static objects (nm -l: defined in a file
under src/) have a page of their own written in process PID's .bss and .data, and fail (exit 1)
naming those not in the list NAME:FILE (a static's name without the compiler's .N suffix, and
its file's name). A page counts when it is in memory and not the kernel's shared zero page (a
static that was only read), and against an object only when that object covers it whole: a page
shared with a neighbour is the neighbour's as much. Needs root (the page frames of
/proc/PID/pagemap and /proc/kpageflags); exit 77 without them or without debug information."""
import os
import struct
import subprocess
import sys

KPF_ZERO_PAGE = 24


def main():
    pid, exe, allowed = int(sys.argv[1]), sys.argv[2], set(sys.argv[3:])
    page = os.sysconf("SC_PAGE_SIZE")
    real = os.path.realpath(exe)
    base = None
    with open(f"/proc/{pid}/maps") as maps:
        for line in maps:
            f = line.split()
            if len(f) >= 6 and f[2] == "00000000" and os.path.realpath(f[5]) == real:
                base = int(f[0].split("-")[0], 16)
                break
    if base is None:
        print(f"{exe} is not mapped in process {pid}")
        return 1
    objs = []
    out = subprocess.run(["nm", "-S", "-l", exe], capture_output=True, text=True, check=True)
    for line in out.stdout.splitlines():
        f = line.split()
        if len(f) < 5 or f[2] not in "bBdD" or "/src/" not in f[4]:
            continue
        addr, size = int(f[0], 16), int(f[1], 16)
        whole = range((addr + page - 1) // page, (addr + size) // page)
        if len(whole) > 0:
            name = f[3].split(".")[0] + ":" + os.path.basename(f[4].split(":")[0])
            objs.append((name, size, whole))
    if not objs:
        print(f"no static object of a page or more with a source file in {exe}: no -g?")
        return 77
    try:
        pagemap = open(f"/proc/{pid}/pagemap", "rb")
        kpageflags = open("/proc/kpageflags", "rb")
    except PermissionError as e:
        print(f"{e}: reading page frames needs root")
        return 77
    bad = []
    with pagemap, kpageflags:
        for name, size, whole in objs:
            written = 0
            for p in whole:
                pagemap.seek((base // page + p) * 8)
                (e,) = struct.unpack("<Q", pagemap.read(8))
                pfn = e & ((1 << 55) - 1)
                if not e >> 63 & 1:
                    continue
                if pfn == 0:
                    print("/proc/PID/pagemap shows no page frames: reading them needs root")
                    return 77
                kpageflags.seek(pfn * 8)
                (flags,) = struct.unpack("<Q", kpageflags.read(8))
                if not flags >> KPF_ZERO_PAGE & 1:
                    written += 1
            state = "allowed" if name in allowed else "NOT ALLOWED"
            if written > 0:
                print(f"{name} ({size} bytes): {written} of {len(whole)} whole pages written, {state}")
                if name not in allowed:
                    bad.append(name)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
