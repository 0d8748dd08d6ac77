#!/usr/bin/env python3
"""cluster_bench.py: worker nodes (docs/performance.md, "Worker nodes").

Runs the same jobs on a scheduler node with 1, 2 and 4 worker processes
(`overseerd --cluster-listen 127.0.0.1:0 --capacity 0`, each worker
`overseerd --worker --join ... --capacity CAP`) and, interleaved with each,
on one daemon without a cluster (`--max-concurrent WORKERS*CAP`), the local
baseline. Two workloads on each set of processes:

  noop   N no-op jobs (default 10,000): jobs/s end to end, and CPU per job
  sleep  WORKERS*CAP*WAVES one-second sleeps: jobs/s against the ideal
         WORKERS*CAP per second, and CPU per job

Jobs are submitted with POST /v1/batches (one request per 10,000 jobs);
the run ends when every job is terminal (a long poll on the last job, then
GET /v1/batches/{id}), and every job must be completed (else exit 1). In the
sleep run on a cluster, GET /v1/nodes half-way through the first wave must
show every worker's slots taken and none on the scheduler node. CPU is
utime+stime of each process from /proc/PID/stat, read before the submit and
after the last job: the scheduler node's, and the workers' summed.

Output: lines starting with '#' (the environment), then one line per figure
in overseer_bench's format (name median mad min max unit params), which
bench/report.py reads. Everything binds 127.0.0.1 with port 0; every process
started is stopped by its PID at the end, also on an error or a signal.

usage: cluster_bench.py [--overseerd PATH] [--workers 1,2,4] [--capacity 8]
                        [--noop-jobs 10000] [--sleep-seconds 1] [--waves 3]
                        [--repetitions 3] [--work-dir DIR] [--smoke]
Python standard library only.
"""
import argparse
import ctypes
import http.client
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")
BATCH_MAX = 10000  # POST /v1/batches takes 1-10,000 specs
TERMINAL = ("completed", "failed", "cancelled", "timed_out")

procs = []  # every process started, stopped by PID at the end
_libc = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1


def _die_with_parent():
    # In the child, before exec: SIGTERM when this script dies, even by
    # SIGKILL (a ctest timeout), so no daemon or worker outlives it.
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
failures = 0


def log(msg):
    print(f"cluster_bench: {msg}", file=sys.stderr, flush=True)


def check(ok, what):
    global failures
    if not ok:
        failures += 1
        log(f"CHECK FAILED: {what}")
    return ok


def cpu_seconds(pid):
    """utime + stime of every thread of `pid` (fields 14 and 15 of /proc/PID/stat)."""
    with open(f"/proc/{pid}/stat") as f:
        s = f.read()
    fields = s[s.rindex(")") + 2:].split()  # fields[0] is field 3 (state)
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


class Proc:
    """A child process whose stdout lines are read by a thread; stopped by PID."""

    def __init__(self, name, args, log_path):
        self.name = name
        self.lines = []
        self.cond = threading.Condition()
        with open(log_path, "wb") as err:
            self.p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err,
                                      text=True, bufsize=1, preexec_fn=_die_with_parent)
        procs.append(self)
        self.pid = self.p.pid
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.p.stdout:
            with self.cond:
                self.lines.append(line.rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.lines.append(None)  # end of output
            self.cond.notify_all()

    def wait_line(self, pattern, timeout=30):
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        seen = 0
        with self.cond:
            while True:
                while seen < len(self.lines):
                    line = self.lines[seen]
                    seen += 1
                    if line is None:
                        raise RuntimeError(f"{self.name} exited (status {self.p.poll()}) before printing /{pattern}/")
                    if m := rx.search(line):
                        return m
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RuntimeError(f"{self.name} did not print /{pattern}/ within {timeout} s")
                self.cond.wait(left)

    def stop(self, grace=15):
        if self.p.poll() is not None:
            return
        try:
            os.kill(self.pid, signal.SIGTERM)
            self.p.wait(grace)
        except subprocess.TimeoutExpired:
            log(f"{self.name} (pid {self.pid}) ignored SIGTERM for {grace} s: SIGKILL")
            os.kill(self.pid, signal.SIGKILL)
            self.p.wait()
        except ProcessLookupError:
            pass


def stop_all():
    # Workers first (the scheduler node then sees no rejoin attempts), then the rest.
    for p in sorted(procs, key=lambda p: not p.name.startswith("worker")):
        p.stop()
    procs.clear()


def on_signal(signum, _frame):
    raise SystemExit(128 + signum)


class Client:
    """One keep-alive HTTP/1.1 connection to 127.0.0.1:port."""

    TIMEOUT = 90  # above the longest long poll (?wait=60s)

    def __init__(self, port):
        self.port = port
        self.c = http.client.HTTPConnection("127.0.0.1", port, timeout=self.TIMEOUT)

    def call(self, method, path, body=None):
        headers = {"Content-Type": "application/json"} if body is not None else {}
        # A keep-alive connection the daemon closed meanwhile: a GET is sent
        # again on a new one; a POST is not (it might have been taken).
        for attempt in (1, 2) if method == "GET" else (2,):
            try:
                self.c.request(method, path, body=body, headers=headers)
                r = self.c.getresponse()
                data = r.read()
                return r.status, (json.loads(data) if data else None)
            except (http.client.HTTPException, ConnectionError):
                self.c.close()
                self.c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.TIMEOUT)
                if attempt == 2:
                    raise

    def get(self, path):
        status, doc = self.call("GET", path)
        if status != 200:
            raise RuntimeError(f"GET {path}: {status} {doc}")
        return doc


class Setup:
    """One configuration's processes: a scheduler node and workers, or one local daemon."""

    def __init__(self, a, work, mode, workers):
        self.mode, self.workers, self.capacity = mode, workers, a.capacity
        self.dir = tempfile.mkdtemp(prefix=f"{mode}-w{workers}-", dir=work)
        total = workers * a.capacity
        args = [a.overseerd, "--data-dir", os.path.join(self.dir, "data"), "--listen", "127.0.0.1:0",
                "--log-level", "warning"]
        if mode == "cluster":
            args += ["--cluster-listen", "127.0.0.1:0", "--capacity", "0", "--node-name", "scheduler"]
        else:
            args += ["--max-concurrent", str(total)]
        self.sched = Proc("scheduler" if mode == "cluster" else "daemon", args, os.path.join(self.dir, "daemon.log"))
        cluster_port = None
        if mode == "cluster":
            cluster_port = int(self.sched.wait_line(r"overseerd cluster listening on 127\.0\.0\.1:(\d+)").group(1))
        self.port = int(self.sched.wait_line(r"overseerd listening on http://127\.0\.0\.1:(\d+)").group(1))
        self.client = Client(self.port)
        self.worker_procs = []
        if mode == "cluster":
            for k in range(1, workers + 1):
                w = Proc(f"worker w{k}", [a.overseerd, "--worker", "--join", f"127.0.0.1:{cluster_port}",
                                          "--capacity", str(a.capacity), "--node-name", f"w{k}",
                                          "--log-level", "warning"],
                         os.path.join(self.dir, f"w{k}.log"))
                self.worker_procs.append(w)
            for w in self.worker_procs:
                w.wait_line(r"overseerd worker \S+ joined")
            deadline = time.monotonic() + 30
            while True:  # the scheduler has taken every join
                nodes = self.client.get("/v1/nodes")["nodes"]
                if sum(1 for n in nodes if not n["local"]) == workers:
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"only {len(nodes) - 1} of {workers} workers in GET /v1/nodes")
                time.sleep(0.02)

    def cpu(self):
        return cpu_seconds(self.sched.pid), sum(cpu_seconds(w.pid) for w in self.worker_procs)

    def run(self, name, spec, n, sample_nodes_after=None):
        """Submits n jobs of `spec` in batches and waits until every one is
        terminal. Returns (seconds, scheduler CPU s, workers' CPU s, the
        nodes' running counts sampled `sample_nodes_after` s after the submit)."""
        chunks = [min(BATCH_MAX, n - i) for i in range(0, n, BATCH_MAX)]
        bodies = [json.dumps({"name": f"{name}-{i}", "jobs": [spec] * size}) for i, size in enumerate(chunks)]
        c = self.client
        s0, w0 = self.cpu()
        t0 = time.monotonic()
        batches, ids = [], []
        for body in bodies:
            status, doc = c.call("POST", "/v1/batches", body)
            if status != 202:
                raise RuntimeError(f"POST /v1/batches: {status} {doc}")
            batches.append(doc["batch_id"])
            ids += doc["job_ids"]
        running = {}
        if sample_nodes_after is not None:
            # Half-way through the first wave every slot is taken. On a slow
            # machine the wave may fill later: look again every 20 ms, for at
            # most another half wave (each look is a little scheduler CPU).
            time.sleep(max(0.0, t0 + sample_nodes_after - time.monotonic()))
            until = time.monotonic() + sample_nodes_after
            while True:
                for node in c.get("/v1/nodes")["nodes"]:
                    running[node["name"]] = max(running.get(node["name"], 0), node["running"])
                if sum(running.values()) >= self.workers * self.capacity or time.monotonic() > until:
                    break
                time.sleep(0.02)
        # The end, without a polling loop (each poll would cost the daemon CPU
        # inside the measured window): a long poll on the job that starts last,
        # then one read of each batch; a job still unfinished there is waited
        # for with its own long poll, and the batches are read again.
        deadline = t0 + max(120, 20 * n / 1000)
        unfinished = [ids[-1]]
        while True:
            for job in unfinished:
                while c.get(f"/v1/jobs/{job}?wait=60s")["status"] not in TERMINAL:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{name}: job {job} not finished after {deadline - t0:.0f} s")
            views = [c.get(f"/v1/batches/{b}") for b in batches]
            unfinished = [j["job_id"] for v in views for j in v["jobs"] if j["status"] not in TERMINAL]
            if not unfinished:
                break
        seconds = time.monotonic() - t0
        s1, w1 = self.cpu()
        completed = sum(v["counts"]["completed"] for v in views)
        check(completed == n, f"{self.mode} {name}: {completed} of {n} jobs completed "
                              f"({[v['counts'] for v in views]})")
        return seconds, s1 - s0, w1 - w0, running

    def dump_logs(self, lines=20):
        """The tail of each process's log, to stderr (on a failure)."""
        for name in sorted(os.listdir(self.dir)):
            if name.endswith(".log"):
                with open(os.path.join(self.dir, name), errors="replace") as f:
                    tail = f.readlines()[-lines:]
                log(f"{self.mode} workers={self.workers} {name}:\n" + "".join(tail))

    def stop(self):
        for w in self.worker_procs:
            w.stop()
        self.sched.stop()
        for p in [self.sched, *self.worker_procs]:
            if p in procs:
                procs.remove(p)
        shutil.rmtree(self.dir, ignore_errors=True)


def mad(v):
    m = statistics.median(v)
    return statistics.median([abs(x - m) for x in v])


def emit(name, samples, unit, params):
    print(f"{name:36s} {statistics.median(samples):14.3f} {mad(samples):12.3f} {min(samples):14.3f} "
          f"{max(samples):14.3f} {unit:8s} {params}", flush=True)


def environment(a):
    mem = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) / 1024 / 1024
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    version = subprocess.run([a.overseerd, "--version"], capture_output=True, text=True).stdout.strip()
    print(f"# cluster_bench {version}")
    print(f"# date {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}")
    print(f"# host {platform.system()} {platform.release()} {platform.machine()}")
    print(f"# cpu {model}")
    print(f"# cores {os.cpu_count()}")
    print(f"# memory_gib {mem:.1f}")
    print(f"# mode {'smoke' if a.smoke else 'full'} repetitions={a.repetitions} workers={a.workers} "
          f"capacity={a.capacity} noop_jobs={a.noop_jobs} sleep_seconds={a.sleep_seconds} waves={a.waves}")
    print("# name                                 median          mad            min            max unit     parameters",
          flush=True)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--overseerd", default=os.path.join(here, "..", "build-bench", "overseerd"))
    ap.add_argument("--workers", default="1,2,4", help="worker counts, comma-separated")
    ap.add_argument("--capacity", type=int, default=8, help="slots per worker")
    ap.add_argument("--noop-jobs", type=int, default=10000)
    ap.add_argument("--sleep-seconds", type=float, default=1.0)
    ap.add_argument("--waves", type=int, default=3, help="sleep jobs = workers * capacity * waves")
    ap.add_argument("--repetitions", type=int, default=3)
    ap.add_argument("--work-dir", help="default: a temporary directory, removed at the end")
    ap.add_argument("--smoke", action="store_true", help="tiny and quick, for ctest")
    a = ap.parse_args()
    if a.smoke:
        a.workers, a.capacity, a.noop_jobs, a.sleep_seconds, a.waves, a.repetitions = "1,2", 2, 200, 1.0, 1, 1
    a.overseerd = os.path.abspath(a.overseerd)
    if not os.access(a.overseerd, os.X_OK):
        sys.exit(f"cluster_bench: no overseerd at {a.overseerd} (--overseerd)")
    worker_counts = [int(x) for x in a.workers.split(",") if x]
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, on_signal)
    work = a.work_dir or tempfile.mkdtemp(prefix="overseer-cluster-bench-")
    os.makedirs(work, exist_ok=True)
    noop = {"tool": "noop"}
    sleep_spec = {"tool": "sleep", "params": {"seconds": a.sleep_seconds}}
    # samples[(workload, mode, workers)] = list of dicts per repetition
    samples = {}
    environment(a)
    try:
        for rep in range(a.repetitions):
            for w in worker_counts:
                # A/B interleaved: which of the pair goes first alternates.
                modes = ["local", "cluster"] if (rep + w) % 2 == 0 else ["cluster", "local"]
                for mode in modes:
                    s = Setup(a, work, mode, w)
                    try:
                        n_sleep = w * a.capacity * a.waves
                        for workload, spec, n in (("noop", noop, a.noop_jobs), ("sleep", sleep_spec, n_sleep)):
                            watch = a.sleep_seconds / 2 if (mode == "cluster" and workload == "sleep") else None
                            secs, sched, workers, peak = s.run(workload, spec, n, watch)
                            if peak:
                                check(all(peak.get(f"w{k}", 0) == a.capacity for k in range(1, w + 1))
                                      and peak.get("scheduler", 0) == 0,
                                      f"sleep on {w} workers: most running per node in the first wave {peak}, "
                                      f"expected {a.capacity} on each worker and 0 on the scheduler node")
                            samples.setdefault((workload, mode, w), []).append(
                                {"jobs_s": n / secs, "sched_us": sched / n * 1e6, "workers_us": workers / n * 1e6,
                                 "seconds": secs, "n": n, "peak": peak})
                            log(f"rep {rep + 1} {mode:7s} workers={w} {workload:5s} {n:6d} jobs {secs:7.3f} s "
                                f"{n / secs:9.1f} jobs/s  scheduler {sched:6.2f} s CPU  workers {workers:6.2f} s CPU"
                                + (f"  running in wave 1 {peak}" if peak else ""))
                    except Exception:
                        s.dump_logs()
                        raise
                    finally:
                        s.stop()
    finally:
        stop_all()
        if not a.work_dir:
            shutil.rmtree(work, ignore_errors=True)

    for workload in ("noop", "sleep"):
        for w in worker_counts:
            total = w * a.capacity
            cl, lo = samples[(workload, "cluster", w)], samples[(workload, "local", w)]
            n = cl[0]["n"]
            what = (f"jobs={n},{'tool=noop' if workload == 'noop' else f'tool=sleep,seconds={a.sleep_seconds:g}'}"
                    f",batches,durable")
            ideal = f",ideal={total / a.sleep_seconds:g}/s" if workload == "sleep" else ""
            pre = f"cluster.{workload}.w{w}"
            emit(pre, [x["jobs_s"] for x in cl], "jobs/s", f"{what},workers={w},capacity={a.capacity}{ideal}")
            emit(pre + ".scheduler_cpu", [x["sched_us"] for x in cl], "us/job",
                 f"{what},workers={w},scheduler node utime+stime per job")
            emit(pre + ".workers_cpu", [x["workers_us"] for x in cl], "us/job",
                 f"{what},workers={w},all workers' utime+stime per job")
            lpre = f"local.{workload}.c{total}"
            emit(lpre, [x["jobs_s"] for x in lo], "jobs/s", f"{what},max_concurrent={total},no cluster{ideal}")
            emit(lpre + ".cpu", [x["sched_us"] for x in lo], "us/job", f"{what},max_concurrent={total},daemon utime+stime per job")
            # Paired by repetition (each pair ran back to back): cluster ÷ local.
            emit(pre + ".vs_local", [c["jobs_s"] / l["jobs_s"] for c, l in zip(cl, lo)], "ratio",
                 f"cluster jobs/s / local jobs/s (max_concurrent={total}), paired by repetition")
    if failures:
        log(f"{failures} check(s) failed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
