#!/usr/bin/env python3
"""What a flood of short output lines costs the daemon.

An exec tool running `yes` prints short lines far faster than the store can
write them. For each overseerd binary given, in turn and ROUNDS times
(interleaved, so a slow stretch of the machine falls on every binary), this
starts the daemon on a fresh data directory with one exec tool, `yes`
(/usr/bin/yes with an empty argument: one-byte lines), submits a job, samples
the daemon's VmRSS every 50 ms for SECONDS, cancels the job and times the
cancel's answer, then reads how many lines were stored. It stops every daemon
it started, by pid (docs/performance.md, "A tool's log lines wait for the
store").

  python3 bench/log_flood.py --overseerd build-bench/overseerd
  python3 bench/log_flood.py --overseerd old/overseerd --overseerd new/overseerd --rounds 3 --seconds 3
  python3 bench/log_flood.py --overseerd build-bench/overseerd --cluster   # the tool on a worker node

Prints one JSON line per run: binary, round, rss_start_mb, rss_peak_mb (the
scheduler's, with --cluster), cancel_answer_s, lines_stored, and with
--cluster worker_rss_mb (the worker's at the end).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) // 1024
    return 0


def stop(process: subprocess.Popen) -> None:
    """SIGTERM to the process we started, by pid; SIGKILL if it is still there after 120 s."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(120)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def run(binary: str, seconds: float, label: str, rnd: int, cluster: bool) -> dict:
    work = tempfile.mkdtemp(prefix="log_flood.")
    tools = os.path.join(work, "tools.json")
    with open(tools, "w") as f:
        json.dump({"tools": [{"name": "yes", "command": [shutil.which("yes") or "/usr/bin/yes", "{params.s}"],
                              "params": {"s": {"type": "string", "default": ""}}, "kill_grace_s": 2}]}, f)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    args = [binary, "--data-dir", os.path.join(work, "data"), "--listen", f"127.0.0.1:{port}", "--tools", tools]
    worker = None
    if cluster:
        cluster_port = free_port()
        args += ["--cluster-listen", f"127.0.0.1:{cluster_port}", "--capacity", "0", "--node-name", "scheduler"]
    daemon = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def call(method: str, path: str, body: dict | None = None) -> dict:
        req = urllib.request.Request(base + path, method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=300) as r:
            return json.loads(r.read() or b"{}")

    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                call("GET", "/v1/health")
                break
            except OSError:
                if time.monotonic() > deadline or daemon.poll() is not None:
                    raise RuntimeError(f"{binary} did not start")
                time.sleep(0.05)
        if cluster:
            worker = subprocess.Popen([binary, "--worker", "--join", f"127.0.0.1:{cluster_port}", "--capacity", "1",
                                       "--node-name", "w1", "--tools", tools, "--data-dir", os.path.join(work, "w1")],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 30
            while sum(1 for n in call("GET", "/v1/nodes")["nodes"] if not n["local"]) < 1:
                if time.monotonic() > deadline:
                    raise RuntimeError("the worker did not join")
                time.sleep(0.05)
        start = rss_mb(daemon.pid)
        job = call("POST", "/v1/jobs", {"tool": "yes"})["job_id"]
        peak = start
        t0 = time.monotonic()
        while time.monotonic() - t0 < seconds:
            peak = max(peak, rss_mb(daemon.pid))
            time.sleep(0.05)
        c0 = time.monotonic()
        call("DELETE", f"/v1/jobs/{job}")
        cancel_s = time.monotonic() - c0
        for _ in range(25):
            peak = max(peak, rss_mb(daemon.pid))
            time.sleep(0.02)
        stored = call("GET", f"/v1/jobs/{job}/logs?limit=1").get("total")
        out = {"binary": label, "round": rnd, "rss_start_mb": start, "rss_peak_mb": peak,
               "cancel_answer_s": round(cancel_s, 3), "lines_stored": stored}
        if worker is not None:
            out["worker_rss_mb"] = rss_mb(worker.pid)
        return out
    finally:
        if worker is not None:
            stop(worker)
        stop(daemon)
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--overseerd", action="append", required=True, help="a daemon binary (repeat for an A/B)")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--cluster", action="store_true",
                    help="run the tool on a worker node: a scheduler (--capacity 0) and one worker, on 127.0.0.1")
    a = ap.parse_args()
    for rnd in range(1, a.rounds + 1):
        order = a.overseerd if rnd % 2 else list(reversed(a.overseerd))
        for binary in order:
            print(json.dumps(run(binary, a.seconds, binary, rnd, a.cluster)), flush=True)


if __name__ == "__main__":
    main()
