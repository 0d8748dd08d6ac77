#!/usr/bin/env python3
"""Does this machine's disk stall synced writes while its CPUs are busy?

A durable submit waits for one WAL sync, so a disk that now and then holds a
sync back for milliseconds puts those milliseconds into the tail of every
durable benchmark (docs/performance.md, "The disk stalls while the CPUs are
busy"). This probe needs no Overseer: it appends SIZE bytes to a file in DIR
and fdatasyncs it, at most RATE times a second, for SECONDS, twice: with the
CPUs idle, then with one busy loop per core beside it. With perf (Debian's
linux-perf, run as root) it records the block layer's request issue and
completion events, so what it reports is the device's own time per request
(a flush or a write, from issue to completion), not the time the probe
waited for a CPU. Without perf it reports the fdatasync calls' latency as
seen by the probe, which under load includes scheduling delays.

For each phase it prints the requests (or syncs), their p50, p99 and max, how
many took longer than 5 ms, and, when there are some, the gaps between
consecutive slow ones: gaps that are whole multiples of 100 ms say the stall
is periodic (a time slice or a rate limiter outside the machine), not the
disk's own occasional slow write.

  python3 bench/disk_stalls.py                    # DIR=. RATE=3000 SIZE=3000 SECONDS=3
  python3 bench/disk_stalls.py --dir /data --rate 5000 --seconds 5

Exit status 0 unless the probe itself failed (a report is not a verdict).
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

SLOW = 0.005  # seconds: a request this long is a stall on any disk this probe is meant for


def sync_loop(path: str, size: int, rate: float, seconds: float) -> list[tuple[float, float]]:
    """(start, seconds) of each fdatasync of an append of `size` bytes, paced to `rate`/s."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    data = b"x" * size
    latencies = []
    start = time.monotonic()
    due = start
    try:
        while time.monotonic() - start < seconds:
            os.write(fd, data)
            t = time.monotonic()
            os.fdatasync(fd)
            latencies.append((t, time.monotonic() - t))
            due += 1.0 / rate
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
    finally:
        os.close(fd)
    return latencies


def spin(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def block_latencies(script: str) -> list[tuple[float, float]]:
    """(issue time, issue-to-completion seconds) of each request in `perf script` text."""
    pattern = re.compile(r"\s*([\d.]+):\s+block:(block_rq_issue|block_rq_complete):\s+(\S+)\s.*?(\d+) \+ (\d+)")
    issued: dict[tuple[str, str], float] = {}
    out = []
    for line in script.splitlines():
        m = pattern.match(line)
        if not m:
            continue
        t, event, device, sector = float(m.group(1)), m.group(2), m.group(3), m.group(4)
        if event == "block_rq_issue":
            issued[(device, sector)] = t
        elif (device, sector) in issued:
            t0 = issued.pop((device, sector))
            out.append((t0, t - t0))
    return out


def analyse(samples: list[tuple[float, float]]) -> dict:
    """Percentiles of (start, seconds) samples, the stalls among them and the gaps between the stalls."""
    durations = sorted(d for _, d in samples)
    p = lambda q: durations[min(len(durations) - 1, int(q * len(durations)))]
    stalls = sorted((t, d) for t, d in samples if d > SLOW)
    # Requests that stalled together (a write, the inode, the flush) are one stall.
    starts = [t for t, _ in stalls]
    gaps = [b - a for a, b in zip(starts, starts[1:]) if b - a > 0.02]
    return {
        "n": len(durations),
        "p50": p(0.5) if durations else 0.0,
        "p99": p(0.99) if durations else 0.0,
        "max": durations[-1] if durations else 0.0,
        "slow": len(stalls),
        "median_stall": statistics.median(d for _, d in stalls) if stalls else 0.0,
        "gaps": gaps,
        "periodic": sum(1 for g in gaps if abs(g - round(g, 1)) < 0.004),
    }


def describe(label: str, samples: list[tuple[float, float]], what: str) -> None:
    a = analyse(samples)
    if not a["n"]:
        print(f"{label}: no {what} seen")
        return
    print(f"{label}: {a['n']} {what}, p50 {a['p50'] * 1e3:.3f} ms, p99 {a['p99'] * 1e3:.3f} ms, "
          f"max {a['max'] * 1e3:.1f} ms; {a['slow']} over {SLOW * 1e3:.0f} ms")
    if a["gaps"]:
        gaps = a["gaps"]
        print(f"  gaps between stalls (ms): {' '.join(f'{g * 1e3:.0f}' for g in gaps[:16])}"
              f"{' ...' if len(gaps) > 16 else ''}")
        print(f"  {a['periodic']} of {len(gaps)} gaps are whole multiples of 100 ms (within 4 ms); "
              f"median stall {a['median_stall'] * 1e3:.1f} ms")


SELFTEST_SCRIPT = """\
 100.000100:    block:block_rq_issue: 254,0 WS 4096 () 75013040 + 8 0x2,0,4 [ovs.writer]
 100.000130: block:block_rq_complete: 254,0 WS () 75013040 + 8 0x2,0,4 [0]
 100.000140:    block:block_rq_issue: 254,0 FF 0 () 0 + 0 0x0,0,0 [kworker/1:1H]
 100.010140: block:block_rq_complete: 254,0 FF () 18446744073709551615 + 0 0x0,0,0 [0]
 100.010150: block:block_rq_complete: 254,0 WS () 0 + 0 0x2,0,4 [0]
 100.050000:    block:block_rq_issue: 254,0 WSM 4096 () 360972320 + 8 0x2,0,4 [ovs.writer]
 100.050040: block:block_rq_complete: 254,0 WSM () 360972320 + 8 0x2,0,4 [0]
 100.200200:    block:block_rq_issue: 254,0 WS 8192 () 75013048 + 16 0x2,0,4 [ovs.writer]
 100.208200: block:block_rq_complete: 254,0 WS () 75013048 + 16 0x2,0,4 [0]
 100.300100:    block:block_rq_issue: 254,0 WS 4096 () 75013056 + 8 0x2,0,4 [ovs.writer]
 100.309100: block:block_rq_complete: 254,0 WS () 75013056 + 8 0x2,0,4 [0]
 100.355000:    block:block_rq_issue: 254,0 WS 4096 () 75013064 + 8 0x2,0,4 [ovs.writer]
 100.361000: block:block_rq_complete: 254,0 WS () 75013064 + 8 0x2,0,4 [0]
"""


def selftest() -> int:
    """The parser and the analysis on a `perf script` excerpt whose answer is known."""
    samples = block_latencies(SELFTEST_SCRIPT)
    a = analyse(samples)
    expected = {"n": 6, "slow": 4, "gaps": [0.2001, 0.0999, 0.0549], "periodic": 2}
    got = {"n": a["n"], "slow": a["slow"], "gaps": [round(g, 4) for g in a["gaps"]], "periodic": a["periodic"]}
    print(f"selftest: {got}")
    # The flush pairs with the completion of its empty write (sector 0): 10.01 ms.
    if got != expected or abs(a["max"] - 0.01001) > 1e-7 or abs(a["median_stall"] - 0.0085) > 1e-7:
        print(f"selftest FAILED: expected {expected}, max 10.01 ms, median stall 8.5 ms", file=sys.stderr)
        return 1
    return 0


def run_phase(label: str, args: argparse.Namespace, busy: int, perf: str | None) -> None:
    spinners = [multiprocessing.Process(target=spin, args=(args.seconds + 2,)) for _ in range(busy)]
    for s in spinners:
        s.start()
    try:
        time.sleep(0.3 if busy else 0)
        path = os.path.join(args.dir, f"disk_stalls.{os.getpid()}")
        recorder = None
        if perf:
            fd, data = tempfile.mkstemp(prefix="disk_stalls.", suffix=".perf")
            os.close(fd)
            recorder = subprocess.Popen(
                [perf, "record", "-q", "-a", "-e", "block:block_rq_issue,block:block_rq_complete", "-o", data,
                 "--", "sleep", str(args.seconds)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0.3)  # perf is recording before the first sync
        try:
            latencies = sync_loop(path, args.size, args.rate, args.seconds)
        finally:
            os.unlink(path)
        if recorder:
            recorder.wait()
            script = subprocess.run([perf, "script", "-i", data, "-F", "time,event,trace"], capture_output=True,
                                    text=True).stdout
            os.unlink(data)
            describe(label, block_latencies(script), "block requests (device time)")
        else:
            describe(label, latencies, "fdatasync calls (as the probe saw them)")
    finally:
        for s in spinners:
            s.terminate()
            s.join()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dir", default=".", help="where the probe's file goes (the data dir's file system)")
    ap.add_argument("--rate", type=float, default=3000, help="syncs per second at most (default 3000)")
    ap.add_argument("--size", type=int, default=3000, help="bytes appended before each sync (default 3000)")
    ap.add_argument("--seconds", type=float, default=3, help="per phase (default 3)")
    ap.add_argument("--busy", type=int, default=os.cpu_count() or 2,
                    help="busy loops in the loaded phase (default: one per core)")
    ap.add_argument("--selftest", action="store_true", help="check the parser and the analysis, then exit")
    args = ap.parse_args()
    if args.selftest:
        return selftest()
    perf = shutil.which("perf") if os.geteuid() == 0 else None
    print(f"# {args.rate:.0f} syncs/s at most, {args.size} B each, {args.seconds:g} s per phase, in {args.dir}; "
          f"{'block layer via perf' if perf else 'fdatasync as seen by the probe (no perf, or not root)'}")
    run_phase("CPUs idle", args, 0, perf)
    run_phase(f"{args.busy} busy loops", args, args.busy, perf)
    return 0


if __name__ == "__main__":
    sys.exit(main())
