#!/usr/bin/env python3
"""The daemon's CPU at light load, for each --idle-spin-us given.

Starts a fresh overseerd per setting (loopback, a free port, stopped by
PID), measures its CPU time (user + system, /proc/PID/stat) while idle and
while one keep-alive client POSTs no-op jobs at fixed rates, one at a
time, each at its due time. Prints one line per setting and round, in
percent of one core. Settings are interleaved round by round, as this
machine's noise asks.

    python3 bench/light_load_cpu.py --overseerd build-bench/overseerd --spins 0,50,300,1000
"""
import argparse
import http.client
import os
import re
import shutil
import subprocess
import tempfile
import time


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_for_port(log_path, proc):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("overseerd exited: " + open(log_path).read()[-2000:])
        m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", open(log_path).read())
        if m:
            return int(m.group(1))
        time.sleep(0.05)
    raise SystemExit("overseerd printed no port: " + open(log_path).read()[-2000:])


def measure(overseerd, spin, rates, seconds, work):
    data = os.path.join(work, f"spin{spin}")
    shutil.rmtree(data, ignore_errors=True)
    os.makedirs(data)
    log_path = os.path.join(data, "log")
    with open(log_path, "w") as log:
        proc = subprocess.Popen([overseerd, "--data-dir", os.path.join(data, "data"), "--listen", "127.0.0.1:0",
                                 "--idle-spin-us", str(spin)], stdout=log, stderr=subprocess.STDOUT)
    try:
        port = wait_for_port(log_path, proc)
        conn = http.client.HTTPConnection("127.0.0.1", port)
        conn.request("GET", "/v1/health")
        conn.getresponse().read()
        t0, c0 = time.monotonic(), cpu_seconds(proc.pid)
        time.sleep(seconds)
        out = [("idle", (cpu_seconds(proc.pid) - c0) / (time.monotonic() - t0))]
        for rate in rates:
            t0, c0, sent = time.monotonic(), cpu_seconds(proc.pid), 0
            while time.monotonic() - t0 < seconds:
                delay = t0 + sent / rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                conn.request("POST", "/v1/jobs", body='{"tool":"noop"}', headers={"Content-Type": "application/json"})
                r = conn.getresponse()
                r.read()
                if r.status != 202:
                    raise SystemExit(f"POST /v1/jobs answered {r.status}")
                sent += 1
            out.append((f"{rate}/s", (cpu_seconds(proc.pid) - c0) / (time.monotonic() - t0)))
        return out
    finally:
        proc.kill()
        proc.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--overseerd", required=True)
    ap.add_argument("--spins", default="0,50,300,1000", help="--idle-spin-us values, comma-separated")
    ap.add_argument("--rates", default="50,200,1000", help="submits per second, comma-separated")
    ap.add_argument("--seconds", type=float, default=4.0, help="per rate")
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    rates = [int(r) for r in args.rates.split(",")]
    with tempfile.TemporaryDirectory(prefix="overseer-cpu-") as work:
        for rnd in range(1, args.rounds + 1):
            for spin in [int(s) for s in args.spins.split(",")]:
                figures = measure(args.overseerd, spin, rates, args.seconds, work)
                print(f"round {rnd} idle_spin_us={spin}: " +
                      "  ".join(f"{what} {100 * cpu:.1f}%" for what, cpu in figures), flush=True)


if __name__ == "__main__":
    main()
