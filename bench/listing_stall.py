#!/usr/bin/env python3
"""While a listing reads every job, how long do other requests wait?

GET /v1/jobs?limit=1 (or --query) on a store of a million jobs counts every
one of them (total_count), for seconds. This starts each given overseerd on its own copy
of a data directory (by default the one `overseer_bench --benchmarks=restart`
prepares: 1,000,000 jobs), sends that listing, and meanwhile times
GET /v1/health?probe=live on a fresh connection every 20 ms: a daemon that
lists on its I/O threads makes the polls of the listing's thread wait for it.
Standard library only; every daemon it starts is stopped by its PID.

  python3 bench/listing_stall.py --data build-bench/restart-data OLD/overseerd NEW/overseerd
"""
import argparse
import re
import shutil
import socket
import statistics
import subprocess
import tempfile
import threading
import time


def get(port, path):
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    status = int(data.split(b" ", 2)[1])
    if status != 200:
        raise RuntimeError(f"GET {path}: {status}")


def run(binary, data, rounds, query):
    with tempfile.TemporaryDirectory(prefix="overseer-listing-stall-") as tmp:
        copy = shutil.copytree(data, f"{tmp}/data")
        # --max-concurrent 1: the restart store's pending jobs stay pending; --drain-timeout 0:
        # its running sleep job does not hold up the stop.
        daemon = subprocess.Popen([binary, "--data-dir", copy, "--listen", "127.0.0.1:0", "--max-concurrent", "1",
                                   "--log-level", "warning", "--drain-timeout", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            port = None
            for line in daemon.stdout:
                if m := re.search(r"http://127\.0\.0\.1:(\d+)", line):
                    port = int(m.group(1))
                    break
            if port is None:
                raise RuntimeError(f"{binary} did not start")
            get(port, "/v1/health?probe=live")
            out = []
            for _ in range(rounds):
                took = {}

                def listing():
                    t0 = time.monotonic()
                    get(port, "/v1/jobs?" + query)
                    took["s"] = time.monotonic() - t0

                t = threading.Thread(target=listing)
                t.start()
                time.sleep(0.2)  # the listing is under way
                polls = []
                while t.is_alive():
                    t0 = time.monotonic()
                    get(port, "/v1/health?probe=live")
                    polls.append((time.monotonic() - t0) * 1000)
                    time.sleep(0.02)
                t.join()
                out.append((took["s"], sorted(polls)))
            return out
        finally:
            daemon.terminate()
            daemon.wait(30)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="build-bench/restart-data", help="a data directory to copy (not changed)")
    ap.add_argument("--rounds", type=int, default=2, help="listings per daemon")
    ap.add_argument("--query", default="limit=1", help="the listing's query (GET /v1/jobs?QUERY)")
    ap.add_argument("binaries", nargs="+")
    a = ap.parse_args()
    print(f"{'overseerd':<40} {'listing s':>9} {'polls':>6} {'p50 ms':>8} {'max ms':>8} {'> 100 ms':>9}")
    for binary in a.binaries:
        for seconds, polls in run(binary, a.data, a.rounds, a.query):
            if not polls:  # the listing ended before the first poll was answered
                print(f"{binary:<40} {seconds:9.2f} {0:6d} {'-':>8} {'-':>8} {0:9d}")
                continue
            print(f"{binary:<40} {seconds:9.2f} {len(polls):6d} {statistics.median(polls):8.2f} {polls[-1]:8.0f} "
                  f"{sum(p > 100 for p in polls):9d}")


if __name__ == "__main__":
    main()
