"""RQ peer: N no-op jobs enqueued one at a time by one client, end to end,
then status look-ups by id. Workers: `rq_bench.py worker` (one per core).

Prints: PEER system=rq mode=MODE figure=... value=... unit=...
"""
import sys, time

from redis import Redis
from rq import Queue, SimpleWorker
from rq.job import Job

from peer_common import parse_args, pct

def noop():
    return {}

def main():
    a = parse_args()
    conn = Redis.from_url(a.redis)
    q = Queue("bench", connection=conn)
    if a.role == "worker":
        SimpleWorker([q], connection=conn).work(logging_level="WARNING")
        return
    t0 = time.perf_counter()
    jobs = [q.enqueue("rq_bench.noop", result_ttl=-1) for _ in range(a.jobs)]
    submit_s = time.perf_counter() - t0
    ids = [j.id for j in jobs]
    pending = list(ids)
    while pending:  # end to end: every job finished
        statuses = Job.fetch_many(pending[:1000], connection=conn)
        done = [j.id for j in statuses if j is not None and j.get_status(refresh=False) in ("finished", "failed")]
        if len(done) == len(statuses):
            pending = pending[1000:]
        else:
            time.sleep(0.01)
    total_s = time.perf_counter() - t0
    ok = sum(1 for j in Job.fetch_many(ids, connection=conn) if j.get_status(refresh=False) == "finished")
    lat = []
    for i in range(a.lookups):
        t = time.perf_counter(); Job.fetch(ids[(i * 7919) % len(ids)], connection=conn).get_status(); lat.append((time.perf_counter() - t) * 1000)
    lat.sort()
    out = lambda f, v, u: print(f"PEER system=rq mode={a.mode} figure={f} value={v:.3f} unit={u} jobs={a.jobs}", flush=True)
    out("e2e", a.jobs / total_s, "jobs/s"); out("submit", a.jobs / submit_s, "jobs/s")
    out("lookup.p50", pct(lat, 50), "ms"); out("lookup.p99", pct(lat, 99), "ms")
    out("completed", ok, "count")
    sys.exit(0 if ok == a.jobs else 1)

if __name__ == "__main__":
    main()
