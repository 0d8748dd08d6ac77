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


def sync_loop(path: str, size: int, rate: float, seconds: float) -> list[float]:
    """fdatasync latencies (seconds) of appends of `size` bytes, paced to `rate`/s."""
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
            latencies.append(time.monotonic() - t)
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


def describe(label: str, samples: list[tuple[float, float]], what: str) -> None:
    if not samples:
        print(f"{label}: no {what} seen")
        return
    durations = sorted(d for _, d in samples)
    p = lambda q: durations[min(len(durations) - 1, int(q * len(durations)))] * 1e3
    slow = sorted(t for t, d in samples if d > SLOW)
    print(f"{label}: {len(durations)} {what}, p50 {p(0.5):.3f} ms, p99 {p(0.99):.3f} ms, "
          f"max {durations[-1] * 1e3:.1f} ms; {len(slow)} over {SLOW * 1e3:.0f} ms")
    if len(slow) >= 3:
        gaps = [b - a for a, b in zip(slow, slow[1:]) if b - a > 0.02]
        periodic = sum(1 for g in gaps if abs(g - round(g, 1)) < 0.004)
        print(f"  gaps between stalls (ms): {' '.join(f'{g * 1e3:.0f}' for g in gaps[:16])}"
              f"{' ...' if len(gaps) > 16 else ''}")
        if gaps:
            print(f"  {periodic} of {len(gaps)} gaps are whole multiples of 100 ms (within 4 ms); "
                  f"median stall {statistics.median(d for _, d in samples if d > SLOW) * 1e3:.1f} ms")


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
            now = 0.0
            samples = []
            for d in latencies:  # the probe's own clock: each sync's start, approximately
                samples.append((now, d))
                now += max(d, 1.0 / args.rate)
            describe(label, samples, "fdatasync calls (as the probe saw them)")
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
    args = ap.parse_args()
    perf = shutil.which("perf") if os.geteuid() == 0 else None
    print(f"# {args.rate:.0f} syncs/s at most, {args.size} B each, {args.seconds:g} s per phase, in {args.dir}; "
          f"{'block layer via perf' if perf else 'fdatasync as seen by the probe (no perf, or not root)'}")
    run_phase("CPUs idle", args, 0, perf)
    run_phase(f"{args.busy} busy loops", args, args.busy, perf)
    return 0


if __name__ == "__main__":
    sys.exit(main())
