"""Synchronous runs, long polls, trace ids, estimates and immediate tools,
through both clients against a real overseerd (docs/api.md, "Synchronous
runs, trace ids and estimates")."""
from __future__ import annotations

import asyncio
import json
import os
import shutil
import tempfile
import unittest
import uuid

from daemon import Daemon, eventually

from overseer_client import (AsyncClient, BadRequestError, BatchSpec, Client, Job, JobSpec, Submitted,
                             Subscribed, TransitionEvent)


def new_trace() -> tuple[str, str]:
    """A fresh W3C trace id and a traceparent header that carries it."""
    trace = uuid.uuid4().hex
    return trace, f"00-{trace}-b7ad6b7169203331-01"


class SyncRunTest(unittest.TestCase):
    daemon: Daemon
    client: Client

    @classmethod
    def setUpClass(cls) -> None:
        cls.daemon = Daemon().start()
        cls.addClassCleanup(cls.daemon.remove)
        cls.client = Client(cls.daemon.url)
        cls.addClassCleanup(cls.client.close)

    def test_run_of_a_quick_job_answers_its_finished_view(self) -> None:
        r = self.client.run(JobSpec(tool="noop"), wait=20)
        self.assertTrue(r.finished)
        self.assertIsNone(r.submitted)
        assert r.job is not None
        self.assertIsInstance(r.job, Job)
        self.assertEqual((r.status, r.job.status), ("completed", "completed"))
        self.assertEqual(r.job_id, r.job.job_id)
        self.assertEqual(r.job.result, {})
        # A cache hit has ended before the answer: its view, at once.
        cached = JobSpec(tool="sleep", params={"seconds": 0.05 + uuid.uuid4().int % 1000 / 1e6}, use_cache=True)
        miss = self.client.run(cached, wait=20)
        hit = self.client.run(cached, wait=20)
        assert miss.job is not None and hit.job is not None
        self.assertIsNone(miss.job.cache_info)
        assert hit.job.cache_info is not None
        self.assertEqual(hit.job.cache_info.source_job_id, miss.job_id)
        # Whatever the final status: a failing job is a finished run too.
        failed = self.client.run(JobSpec(tool="fail", params={"failures": 5}), wait=20)
        assert failed.job is not None
        self.assertEqual(failed.job.status, "failed")
        self.assertTrue(failed.job.error)

    def test_run_that_outlasts_its_wait_answers_submitted_then_a_long_poll_sees_the_end(self) -> None:
        c = self.client
        r = c.run(JobSpec(tool="sleep", params={"seconds": 3}), wait=0.2)
        self.assertFalse(r.finished)
        self.assertIsNone(r.job)
        assert r.submitted is not None
        self.assertIsInstance(r.submitted, Submitted)
        self.assertIn(r.submitted.status, ("pending", "running"))
        self.assertEqual(r.job_id, r.submitted.job_id)
        # A long poll shorter than the job answers the view as it is then.
        early = c.get(r.job_id, wait=0.1)
        self.assertIn(early.status, ("pending", "running", "completed"))
        done = c.get(r.job_id, wait=10)
        self.assertEqual(done.status, "completed")
        self.assertEqual(done.result["slept_seconds"], 3)
        # wait=0 answers at once; a finished job's long poll answers at once.
        self.assertFalse(c.run(JobSpec(tool="sleep", params={"seconds": 3}), wait=0).finished)
        self.assertEqual(c.get(r.job_id, wait=30).status, "completed")

    def test_a_wait_longer_than_the_client_timeout_is_not_cut_by_it(self) -> None:
        # The timeout bounds the request beyond its wait, not the wait itself.
        with Client(self.daemon.url, timeout=1.0) as c:
            r = c.run(JobSpec(tool="sleep", params={"seconds": 1.5}), wait=20)
            self.assertTrue(r.finished)
            sub = c.submit(JobSpec(tool="sleep", params={"seconds": 1.5}))
            self.assertEqual(c.get(sub.job_id, wait=20).status, "completed")

    def test_a_bad_wait_is_a_400_naming_wait(self) -> None:
        with self.assertRaises(BadRequestError) as e:
            self.client.run(JobSpec(tool="noop"), wait=-1)
        self.assertIn("wait", [f.field for f in e.exception.errors])

    def test_traceparent_and_trace_id_round_trip_and_filter(self) -> None:
        c = self.client
        trace, parent = new_trace()
        sub = c.submit(JobSpec(tool="noop"), traceparent=parent)
        ran = c.run(JobSpec(tool="noop"), traceparent=parent, wait=20)
        assert ran.job is not None
        self.assertEqual(ran.job.trace_id, trace)
        own, _ = new_trace()  # the spec's trace id wins over the header
        spec_traced = c.submit(JobSpec(tool="noop", trace_id=own), traceparent=parent)
        batch = c.submit_batch(BatchSpec(jobs=[JobSpec(tool="noop"), JobSpec(tool="noop")]), traceparent=parent)
        self.assertEqual(c.get(sub.job_id, wait=20).trace_id, trace)
        self.assertEqual(c.get(spec_traced.job_id, wait=20).trace_id, own)
        for job_id in batch.job_ids:
            self.assertEqual(c.get(job_id, wait=20).trace_id, trace)
        listed = c.list_jobs(trace_id=trace)
        self.assertEqual({j.job_id for j in listed.jobs}, {sub.job_id, ran.job_id, *batch.job_ids})
        self.assertTrue(all(j.trace_id == trace for j in listed.jobs))
        self.assertEqual([j.job_id for j in c.list_jobs(trace_id=own).jobs], [spec_traced.job_id])
        self.assertEqual(c.list_jobs(trace_id=new_trace()[0]).total_count, 0)
        self.assertIsNone(c.get(c.submit(JobSpec(tool="noop")).job_id).trace_id)
        # The bulk filters: everything of the trace has finished.
        self.assertEqual(c.cancel_jobs(trace_id=trace, dry_run=True).matched, 0)
        self.assertEqual(c.purge_jobs(trace_id=trace, dry_run=True).matched, 4)
        self.assertEqual(c.purge_jobs(trace_id=trace).deleted, 4)
        self.assertEqual(c.list_jobs(trace_id=trace).total_count, 0)
        with self.assertRaises(BadRequestError) as e:
            c.list_jobs(trace_id="not-a-trace")
        self.assertEqual([f.field for f in e.exception.errors], ["trace_id"])
        with self.assertRaises(BadRequestError) as e:
            c.submit(JobSpec(tool="noop"), traceparent="00-nonsense")
        self.assertEqual([f.field for f in e.exception.errors], ["traceparent"])

    def test_a_traced_job_s_stream_events_carry_its_trace_id(self) -> None:
        c = self.client
        trace, parent = new_trace()
        long = c.submit(JobSpec(tool="sleep", params={"seconds": 30, "steps": 30}), traceparent=parent)
        self.assertEqual(c.cancel_jobs(trace_id=trace, dry_run=True).matched, 1)
        with c.watch(long.job_id) as w:
            first = next(w)
            assert isinstance(first, Subscribed) and first.snapshot is not None
            self.assertEqual(first.snapshot.trace_id, trace)
            self.assertEqual(c.cancel_jobs(trace_id=trace).cancelled, 1)
            for item in w:
                if isinstance(item, TransitionEvent) and item.to == "cancelled":
                    self.assertEqual(item.trace_id, trace)
                    break

    def test_async_client_runs_and_long_polls(self) -> None:
        async def scenario() -> None:
            async with AsyncClient(self.daemon.url) as c:
                trace, parent = new_trace()
                r = await c.run(JobSpec(tool="noop"), wait=20, traceparent=parent)
                assert r.job is not None
                self.assertEqual((r.job.status, r.job.trace_id), ("completed", trace))
                slow = await c.run(JobSpec(tool="sleep", params={"seconds": 1}), wait=0)
                self.assertFalse(slow.finished)
                self.assertEqual((await c.get(slow.job_id, wait=10)).status, "completed")
                self.assertEqual((await c.list_jobs(trace_id=trace)).total_count, 1)
        asyncio.run(scenario())


class EstimatesTest(unittest.TestCase):
    def test_estimates_appear_after_a_few_runs_of_a_tool(self) -> None:
        with Daemon() as d, Client(d.url) as c:
            quick = JobSpec(tool="sleep", params={"seconds": 0.1})
            first = c.submit(quick)
            self.assertIsNone(first.estimated_duration_s)  # no history yet
            self.assertEqual(c.get(first.job_id, wait=20).status, "completed")
            for _ in range(3):
                self.assertTrue(c.run(quick, wait=20).finished)
            answer = eventually(lambda: (s := c.submit(quick)).estimated_duration_s is not None and s,
                                interval=0.2)
            self.assertGreater(answer.estimated_duration_s, 0)
            # A running job: what remains of a typical run, the typical run,
            # and the engine's ETA from the progress rate (sleep gives none).
            long = c.submit(JobSpec(tool="sleep", params={"seconds": 20, "steps": 20}))

            def running_with_rate() -> Job | None:
                v = c.get(long.job_id)
                if v.status == "running" and v.progress.estimated_completion_source == "rate":
                    return v
                return None
            view = eventually(running_with_rate)
            self.assertIsNotNone(view.progress.estimated_completion)
            self.assertIsNotNone(view.estimated_duration_s)
            self.assertGreaterEqual(view.estimated_duration_s, 0)
            self.assertIsNotNone(view.estimated_run_s)
            self.assertGreater(view.estimated_run_s, 0)
            c.cancel(long.job_id)
            finished = c.get(long.job_id)
            self.assertIsNone(finished.estimated_duration_s)  # only while it is unfinished


class ImmediateToolTest(unittest.TestCase):
    def test_an_immediate_tool_answers_run_by_default_and_submit_at_once(self) -> None:
        tmp = tempfile.mkdtemp(prefix="overseer-client-tools-")
        self.addCleanup(shutil.rmtree, tmp, True)
        script = os.path.join(tmp, "env.sh")
        with open(script, "w") as f:
            f.write("printf '@overseer {\"result\": {\"trace_id\":\"%s\"}}\\n' \"$OVERSEER_TRACE_ID\"\n")
        tools = os.path.join(tmp, "tools.json")
        with open(tools, "w") as f:
            json.dump({"tools": [{"name": "env", "mode": "immediate", "command": ["bash", script]}]}, f)
        with Daemon(args=("--tools", tools)) as d, Client(d.url) as c:
            modes = {t.name: t.mode for t in c.tools()}
            self.assertEqual((modes["env"], modes["sleep"]), ("immediate", "queued"))
            trace, parent = new_trace()
            r = c.run(JobSpec(tool="env"), traceparent=parent)
            assert r.job is not None
            self.assertEqual((r.job.status, r.job.result), ("completed", {"trace_id": trace}))
            # submit() answers once the job is durable, whatever the tool's mode.
            sub = c.submit(JobSpec(tool="env"))
            self.assertIsInstance(sub, Submitted)
            self.assertEqual(c.get(sub.job_id, wait=20).status, "completed")


if __name__ == "__main__":
    unittest.main()
