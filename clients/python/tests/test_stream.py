"""watch() against a real overseerd: snapshots, replay with since, batch and
filtered subscriptions, refused subscriptions, and a daemon killed and
restarted in the middle of a watch."""
from __future__ import annotations

import asyncio
import threading
import unittest

from daemon import Daemon

from overseer_client import (AsyncClient, BatchSpec, Client, JobSpec, LogEvent, NotFoundError, ProgressEvent,
                             StreamError, StreamItem, Subscribed, TransitionEvent)
from overseer_client.types import TERMINAL


def transitions_of(items: list[StreamItem], job_id: str) -> list[tuple[object, ...]]:
    return [(i.from_, i.to, i.attempt, i.reason) for i in items
            if isinstance(i, TransitionEvent) and i.job_id == job_id]


class AsyncStreamTest(unittest.IsolatedAsyncioTestCase):
    daemon: Daemon

    @classmethod
    def setUpClass(cls) -> None:
        cls.daemon = Daemon().start()
        cls.addClassCleanup(cls.daemon.remove)

    async def asyncSetUp(self) -> None:
        self.client = AsyncClient(self.daemon.url)

    async def asyncTearDown(self) -> None:
        self.client.close()

    async def test_a_job_watch_starts_with_the_snapshot_and_sees_every_transition_once(self) -> None:
        c = self.client
        # Delayed, so the watch is subscribed before the attempt starts and logs it.
        job = await c.submit(JobSpec(tool="sleep", params={"seconds": 0.3, "steps": 3}, delay_s=0.5))
        items: list[StreamItem] = []
        watch = c.watch(job.job_id, logs=True)
        async for item in watch:
            items.append(item)
            if isinstance(item, TransitionEvent) and item.to in TERMINAL:
                break
        await watch.aclose()
        first = items[0]
        assert isinstance(first, Subscribed) and first.snapshot is not None
        self.assertEqual(first.snapshot.job_id, job.job_id)
        seqs = [i.seq for i in items[1:]]
        self.assertEqual(seqs, sorted(set(seqs)), "events out of order or repeated")
        self.assertTrue(all(s > first.seq for s in seqs))
        history = [(h.from_, h.to, h.attempt, h.reason) for h in await c.history(job.job_id)]
        self.assertEqual(first.snapshot.status, "pending")
        self.assertEqual(transitions_of(items, job.job_id), history[1:])
        self.assertEqual(history[-1][1], "completed")
        self.assertTrue(any(isinstance(i, LogEvent) and "attempt 1" in i.message for i in items),
                        "logs=True brought no log event")

    async def test_since_replays_a_finished_jobs_whole_history(self) -> None:
        c = self.client
        job = await c.submit({"tool": "fail", "params": {"failures": 1}, "retry": {"max_attempts": 2, "initial_backoff_ms": 10}})
        self.assertEqual((await c.wait(job.job_id, timeout=20)).status, "completed")
        items: list[StreamItem] = []
        watch = c.watch(job.job_id, since=0)
        async for item in watch:
            items.append(item)
            if isinstance(item, TransitionEvent) and item.to == "completed":
                break
        await watch.aclose()
        assert isinstance(items[0], Subscribed)
        self.assertEqual(items[0].since, 0)
        history = [(h.from_, h.to, h.attempt, h.reason) for h in await c.history(job.job_id)]
        self.assertEqual(transitions_of(items, job.job_id), history)

    async def test_a_batch_watch_and_a_filtered_all_watch_see_only_their_jobs(self) -> None:
        c = self.client
        batch_watch = c.watch(batch_id="batch_01M8832WF3AQTGGB5DVGN2756T")
        with self.assertRaises(StreamError) as unknown:
            await batch_watch.__anext__()
        self.assertIn("no batch", str(unknown.exception))
        all_watch = c.watch(all=True, labels={"lane": "watched"})
        ack = await all_watch.__anext__()
        assert isinstance(ack, Subscribed)
        self.assertTrue(ack.all)
        batch = await c.submit_batch(BatchSpec(jobs=[JobSpec(tool="noop", labels={"lane": "watched"}),
                                                     JobSpec(tool="noop")]))
        batch_items: list[StreamItem] = []
        watch = c.watch(batch_id=batch.batch_id, since=ack.seq)
        async for item in watch:
            batch_items.append(item)
            finished = {i.job_id for i in batch_items if isinstance(i, TransitionEvent) and i.to in TERMINAL}
            if finished == set(batch.job_ids):
                break
        await watch.aclose()
        self.assertTrue(all(i.batch_id == batch.batch_id for i in batch_items[1:]))
        for job_id in batch.job_ids:
            history = [(h.from_, h.to, h.attempt, h.reason) for h in await c.history(job_id)]
            self.assertEqual(transitions_of(batch_items, job_id), history)
        labelled = batch.job_ids[0]
        seen: list[StreamItem] = []
        async for item in all_watch:
            seen.append(item)
            if isinstance(item, TransitionEvent) and item.to in TERMINAL:
                break
        await all_watch.aclose()
        self.assertEqual({i.job_id for i in seen}, {labelled})

    async def test_watching_an_unknown_job_raises_and_wait_on_it_too(self) -> None:
        with self.assertRaises(StreamError):
            await self.client.wait("job_01M880PHE1F1GN54T6TES72772", timeout=5)
        with self.assertRaises(NotFoundError):
            await self.client.get("job_01M880PHE1F1GN54T6TES72772")


class RestartTest(unittest.TestCase):
    def test_close_from_another_thread_ends_an_iteration_blocked_on_a_quiet_job(self) -> None:
        daemon = Daemon().start()
        self.addCleanup(daemon.remove)
        client = Client(daemon.url)
        self.addCleanup(client.close)
        job = client.submit(JobSpec(tool="sleep", params={"seconds": 60, "steps": 1}))
        self.addCleanup(lambda: client.cancel(job.job_id))
        watch = client.watch(job.job_id)
        first = threading.Event()
        seen: list[StreamItem] = []
        ended: list[str] = []

        def consume() -> None:
            for item in watch:  # blocks: the job says nothing for a minute
                seen.append(item)
                first.set()
            ended.append("iteration ended")

        consumer = threading.Thread(target=consume)
        consumer.start()
        self.assertTrue(first.wait(30))
        watch.close()
        consumer.join(30)
        self.assertFalse(consumer.is_alive())
        self.assertEqual(ended, ["iteration ended"])
        watch.close()  # again, from here: nothing left to do
        with self.assertRaises(StopIteration):
            next(watch)

    def test_a_watch_across_a_daemon_kill_and_restart_yields_every_transition_once_in_order(self) -> None:
        daemon = Daemon().start()
        self.addCleanup(daemon.remove)
        client = Client(daemon.url)
        self.addCleanup(client.close)
        port = daemon.port
        job = client.submit(JobSpec(tool="sleep", params={"seconds": 2, "steps": 8}))
        items: list[StreamItem] = []
        crash: threading.Thread | None = None
        with client.watch(job.job_id, logs=True) as watch:
            for item in watch:
                items.append(item)
                if crash is None and isinstance(item, ProgressEvent):
                    # Kill -9 while the job runs and the watch waits for its next
                    # event; restart on the same port and data directory.
                    crash = threading.Thread(target=daemon.restart_after_kill)
                    crash.start()
                if isinstance(item, TransitionEvent) and item.to in TERMINAL:
                    break
        assert crash is not None
        crash.join()
        self.assertEqual(daemon.port, port)
        seqs = [i.seq for i in items[1:]]
        self.assertEqual(seqs, sorted(set(seqs)), "an event was repeated or out of order")
        watched = transitions_of(items, job.job_id)
        history = [(h.from_, h.to, h.attempt, h.reason) for h in client.history(job.job_id)]
        self.assertEqual(watched, history[len(history) - len(watched):])
        self.assertIn(("running", "pending", "interrupted"), [(f, to, why) for f, to, _, why in watched],
                      "the restart is not in the watch")
        self.assertEqual(watched[-1][1], "completed")
        self.assertEqual(client.get(job.job_id).status, "completed")


if __name__ == "__main__":
    unittest.main()
