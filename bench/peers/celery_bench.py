"""Celery peer: N no-op tasks submitted one at a time by one client, end to
end (Redis broker and result backend), then status look-ups by id.

usage: celery_bench.py worker|client --redis URL --jobs N --mode MODE
Prints: PEER system=celery mode=MODE figure=... value=... unit=...
"""
import os, sys, time

from celery import Celery

from peer_common import parse_args, pct

def make_app(url):
    app = Celery("overseer_bench", broker=url, backend=url)
    app.conf.update(task_serializer="json", result_serializer="json", accept_content=["json"],
                    worker_prefetch_multiplier=64, task_acks_late=False, result_expires=None,
                    broker_connection_retry_on_startup=True, worker_hijack_root_logger=False)
    @app.task(name="noop")
    def noop():
        return {}
    return app

def main():
    a = parse_args()
    app = make_app(a.redis)
    if a.role == "worker":
        # Two processes: one per core, Celery's default prefork pool sized to the machine.
        app.worker_main(["worker", "--loglevel=WARNING", "--concurrency=2", "--pool=prefork",
                         "--without-gossip", "--without-mingle", "--without-heartbeat"])
        return
    noop = app.tasks["noop"]
    t0 = time.perf_counter()
    results = [noop.delay() for _ in range(a.jobs)]
    submit_s = time.perf_counter() - t0
    for r in results:
        r.get(timeout=600)  # end to end: every result stored
    total_s = time.perf_counter() - t0
    ok = sum(1 for r in results if r.successful())
    lat = []
    for i in range(a.lookups):
        r = app.AsyncResult(results[(i * 7919) % len(results)].id)
        t = time.perf_counter(); _ = r.state; lat.append((time.perf_counter() - t) * 1000)
    lat.sort()
    out = lambda f, v, u: print(f"PEER system=celery mode={a.mode} figure={f} value={v:.3f} unit={u} jobs={a.jobs}", flush=True)
    out("e2e", a.jobs / total_s, "jobs/s"); out("submit", a.jobs / submit_s, "jobs/s")
    out("lookup.p50", pct(lat, 50), "ms"); out("lookup.p99", pct(lat, 99), "ms")
    out("completed", ok, "count")
    sys.exit(0 if ok == a.jobs else 1)

if __name__ == "__main__":
    main()
