"""The blocking Client against a real overseerd: every endpoint, the problem
documents and the bearer token."""
from __future__ import annotations

import http.server
import socket
import threading
import unittest
import uuid
from datetime import datetime, timedelta, timezone

from daemon import Daemon, eventually

from overseer_client import (BadRequestError, BatchSpec, Client, ConflictError, JobSpec, NotFoundError,
                             OverseerError, RetryPolicy, TransportError, UnauthorizedError, WaitTimeout)


class ClientTest(unittest.TestCase):
    daemon: Daemon
    client: Client

    @classmethod
    def setUpClass(cls) -> None:
        cls.daemon = Daemon().start()
        cls.addClassCleanup(cls.daemon.remove)
        cls.client = Client(cls.daemon.url)
        cls.addClassCleanup(cls.client.close)

    def test_a_submitted_sleep_job_is_followed_to_completion_with_result_logs_and_history(self) -> None:
        c = self.client
        sub = c.submit(JobSpec(tool="sleep", params={"seconds": 0.4, "steps": 2}, name="demo", priority=7,
                               labels={"case": "lifecycle"}))
        self.assertTrue(sub.job_id.startswith("job_"))
        self.assertEqual(sub.status, "pending")
        self.assertFalse(sub.existing)
        job = c.wait(sub.job_id, timeout=30)
        self.assertEqual(job.status, "completed")
        self.assertEqual(job.result, {"slept_seconds": 0.4, "steps": 2})
        self.assertEqual(c.result(sub.job_id), {"slept_seconds": 0.4, "steps": 2})
        view = c.get(sub.job_id)
        self.assertEqual((view.name, view.priority, view.labels), ("demo", 7, {"case": "lifecycle"}))
        self.assertEqual(view.progress.percent, 100)
        self.assertEqual(view.progress.total_steps, 2)
        self.assertIsInstance(view.completed_at, datetime)
        self.assertEqual(view.retry.max_attempts, 1)
        history = c.history(sub.job_id)
        self.assertEqual([(h.from_, h.to) for h in history],
                         [(None, "pending"), ("pending", "running"), ("running", "completed")])
        self.assertEqual(history[0].reason, "submitted")
        logs = c.logs(sub.job_id)
        self.assertGreaterEqual(logs.total, 1)
        self.assertTrue(any(line.component == "engine" and "started" in line.message for line in logs.logs))
        self.assertEqual(c.logs(sub.job_id, level="critical").total, 0)
        page = c.logs(sub.job_id, limit=1, offset=0)
        self.assertEqual((len(page.logs), page.limit), (1, 1))

    def test_wait_returns_a_job_already_finished_and_times_out_on_a_long_one(self) -> None:
        c = self.client
        done = c.submit({"tool": "noop"})
        eventually(lambda: c.get(done.job_id).status == "completed")
        self.assertEqual(c.wait(done.job_id, timeout=5).status, "completed")
        self.assertEqual(c.wait(done.job_id, timeout=0).status, "completed")  # how it is now
        slow = c.submit(JobSpec(tool="sleep", params={"seconds": 30, "steps": 30}))
        with self.assertRaises(WaitTimeout):
            c.wait(slow.job_id, timeout=0.3)
        with self.assertRaises(WaitTimeout):
            c.wait(slow.job_id, timeout=0)
        c.cancel(slow.job_id)

    def test_list_filters_by_status_tool_label_and_batch_and_pages_both_ways(self) -> None:
        c = self.client
        tag = uuid.uuid4().hex[:8]
        ids = [c.submit(JobSpec(tool="noop", labels={"run": tag, "n": str(i)})).job_id for i in range(3)]
        failing = c.submit(JobSpec(tool="fail", params={"failures": 5}, labels={"run": tag})).job_id
        for i in ids + [failing]:
            c.wait(i, timeout=20)
        everything = c.list_jobs(labels={"run": tag})
        self.assertEqual(everything.total_count, 4)
        self.assertEqual([j.job_id for j in everything.jobs], [failing] + ids[::-1])  # newest first
        self.assertEqual([j.job_id for j in c.list_jobs(labels={"run": tag}, status="failed").jobs], [failing])
        self.assertEqual(c.list_jobs(labels={"run": tag}, tool="noop").total_count, 3)
        self.assertEqual([j.job_id for j in c.list_jobs(labels={"run": tag, "n": "1"}).jobs], [ids[1]])
        page = c.list_jobs(labels={"run": tag}, page=2, page_size=1)
        self.assertEqual(([j.job_id for j in page.jobs], page.page, page.has_next), ([ids[2]], 2, True))
        last = c.list_jobs(labels={"run": tag}, limit=2, offset=2)
        self.assertEqual(([j.job_id for j in last.jobs], last.has_next), ([ids[1], ids[0]], False))
        future = datetime.now(timezone.utc) + timedelta(hours=1)
        self.assertEqual(c.list_jobs(labels={"run": tag}, created_after=future).total_count, 0)
        self.assertEqual(c.list_jobs(labels={"run": tag}, created_before=future).total_count, 4)
        named = c.submit(JobSpec(tool="noop", name=f"Annotate SAMPLE-{tag}")).job_id
        self.assertEqual([j.job_id for j in c.list_jobs(name_contains=f"sample-{tag}").jobs], [named])
        c.wait(named, timeout=20)
        self.assertEqual(c.purge_jobs(name_contains=f"SAMPLE-{tag}", dry_run=True).matched, 1)
        with self.assertRaises(BadRequestError) as bad:
            c.list_jobs(name_contains="")
        self.assertEqual(set(bad.exception.field_messages()), {"name_contains"})

    def test_cancel_and_retry_answer_views_and_conflicts(self) -> None:
        c = self.client
        job = c.submit(JobSpec(tool="sleep", params={"seconds": 30, "steps": 30}))
        eventually(lambda: c.get(job.job_id).status == "running")
        cancelled = c.cancel(job.job_id)
        self.assertEqual(cancelled.status, "cancelled")
        with self.assertRaises(ConflictError) as again:
            c.cancel(job.job_id)
        self.assertEqual(again.exception.status, 409)
        self.assertIn("cancelled", again.exception.detail)
        with self.assertRaises(ConflictError) as early:
            c.result(job.job_id)
        self.assertEqual(early.exception.job_status, "cancelled")
        retried = c.retry(job.job_id)
        self.assertEqual(retried.status, "pending")
        self.assertIn(("cancelled", "pending", "retried by client 127.0.0.1"),
                      [(h.from_, h.to, h.reason) for h in c.history(job.job_id)])
        c.cancel(job.job_id)
        done = c.submit({"tool": "noop"})
        c.wait(done.job_id, timeout=10)
        with self.assertRaises(ConflictError):
            c.retry(done.job_id)

    def test_cancel_retry_and_a_batch_cancel_carry_the_operators_reason(self) -> None:
        c = self.client
        job = c.submit(JobSpec(tool="sleep", params={"seconds": 30, "steps": 30}))
        with self.assertRaises(BadRequestError) as bad:
            c.cancel(job.job_id, reason="")
        self.assertEqual(set(bad.exception.field_messages()), {"reason"})
        self.assertNotEqual(c.get(job.job_id).status, "cancelled")  # the refusal changed nothing
        c.cancel(job.job_id, reason="wrong reference genome")
        c.retry(job.job_id, reason="genome fixed")
        c.cancel(job.job_id)
        reasons = [h.reason for h in c.history(job.job_id)]
        self.assertIn("cancelled by client 127.0.0.1: wrong reference genome", reasons)
        self.assertIn("retried by client 127.0.0.1: genome fixed", reasons)
        self.assertEqual(reasons[-1], "cancelled by client 127.0.0.1")
        batch = c.submit_batch({"jobs": [{"tool": "sleep", "params": {"seconds": 30}}]})
        c.cancel_batch(batch.batch_id, reason="wrong samples")
        self.assertEqual(c.history(batch.job_ids[0])[-1].reason, "batch cancelled by client 127.0.0.1: wrong samples")

    def test_retries_of_a_failing_tool_show_in_history(self) -> None:
        c = self.client
        job = c.submit(JobSpec(tool="fail", params={"failures": 1, "message": "flaky"},
                               retry=RetryPolicy(max_attempts=3, initial_backoff_ms=10)))
        view = c.wait(job.job_id, timeout=20)
        self.assertEqual((view.status, view.attempt), ("completed", 2))
        self.assertIn("retrying", [h.to for h in c.history(job.job_id)])

    def test_a_batch_runs_and_is_viewed_and_cancelled(self) -> None:
        c = self.client
        batch = c.submit_batch(BatchSpec(name="pair", parallel_limit=1,
                                         jobs=[JobSpec(tool="noop"), {"tool": "sleep", "params": {"seconds": 0.1}}]))
        self.assertEqual(len(batch.job_ids), 2)
        for job_id in batch.job_ids:
            self.assertEqual(c.wait(job_id, timeout=20).batch_id, batch.batch_id)
        view = c.get_batch(batch.batch_id)
        self.assertEqual((view.name, view.batch_status, view.total_jobs, view.parallel_limit),
                         ("pair", "completed", 2, 1))
        self.assertEqual([j.job_id for j in view.jobs], batch.job_ids)
        self.assertEqual(view.counts["completed"], 2)
        self.assertEqual(c.list_jobs(batch_id=batch.batch_id).total_count, 2)
        with self.assertRaises(ConflictError):
            c.cancel_batch(batch.batch_id)
        long = c.submit_batch({"jobs": [{"tool": "sleep", "params": {"seconds": 30}}] * 2, "parallel_limit": 1})
        cancelled = c.cancel_batch(long.batch_id)
        self.assertEqual(cancelled.batch_status, "cancelled")
        self.assertEqual(cancelled.counts["cancelled"], 2)
        with self.assertRaises(BadRequestError) as bad:
            c.submit_batch({"jobs": [{"tool": "slep"}, {"tool": "noop", "idempotency_key": "k"}]})
        self.assertEqual(set(bad.exception.field_messages()), {"jobs[0].tool", "jobs[1].idempotency_key"})
        with self.assertRaises(NotFoundError):
            c.get_batch("batch_01M8832WF3AQTGGB5DVGN2756T")

    def test_the_result_cache_answers_equal_params_and_is_cleared(self) -> None:
        c = self.client
        tag = uuid.uuid4().hex[:8]
        first = c.submit(JobSpec(tool="sleep", params={"seconds": 0.051, "steps": 1}, use_cache=True,
                                 labels={"cache": tag}))
        c.wait(first.job_id, timeout=20)
        before = c.cache_stats()
        hit = c.submit(JobSpec(tool="sleep", params={"steps": 1, "seconds": 0.051}, use_cache=True))
        self.assertEqual(hit.status, "completed")
        view = c.get(hit.job_id)
        self.assertIsNotNone(view.cache_info)
        assert view.cache_info is not None
        self.assertEqual(view.cache_info.source_job_id, first.job_id)
        after = c.cache_stats()
        self.assertEqual(after.cache_hits, before.cache_hits + 1)
        self.assertGreaterEqual(after.total_cached_results, 1)
        self.assertIsInstance(after.newest_cached_result, datetime)
        self.assertEqual(c.clear_cache(tool="sleep", labels={"cache": "no-such-" + tag}), 0)
        self.assertEqual(c.clear_cache(tool="sleep", labels={"cache": tag}), 1)
        miss = c.submit(JobSpec(tool="sleep", params={"seconds": 0.051, "steps": 1}, use_cache=True))
        self.assertEqual(miss.status, "pending")

    def test_an_idempotency_key_returns_the_same_job_and_conflicts_on_another_spec(self) -> None:
        c = self.client
        key = "key-" + uuid.uuid4().hex
        spec = JobSpec(tool="sleep", params={"seconds": 0.1}, idempotency_key=key)
        first = c.submit(spec)
        repeat = c.submit(spec)
        self.assertEqual(repeat.job_id, first.job_id)
        self.assertTrue(repeat.existing)
        self.assertFalse(first.existing)
        with self.assertRaises(ConflictError) as other:
            c.submit(JobSpec(tool="sleep", params={"seconds": 0.2}, idempotency_key=key))
        self.assertEqual([e.field for e in other.exception.errors], ["idempotency_key"])
        self.assertIn(first.job_id, other.exception.errors[0].message)

    def test_an_invalid_spec_raises_a_problem_naming_every_field(self) -> None:
        c = self.client
        with self.assertRaises(BadRequestError) as bad:
            c.submit({"tool": "sleep", "priority": 11, "ttl_hours": 0, "prioity": 3})
        e = bad.exception
        self.assertEqual((e.status, e.title, e.type), (400, "Bad Request", "https://overseer.dev/problems/bad-request"))
        self.assertEqual(e.field_messages(), {"priority": "11 is outside 0-10", "ttl_hours": "0 is outside 1-168",
                                              "prioity": 'unknown field "prioity"; did you mean "priority"?'})
        self.assertIn("priority: 11 is outside 0-10", str(e))
        with self.assertRaises(BadRequestError) as params:
            c.submit(JobSpec(tool="sleep", params={"seconds": "x"}))
        self.assertEqual(list(params.exception.field_messages()), ["params.seconds"])
        with self.assertRaises(BadRequestError) as query:
            c.list_jobs(limit=0, status="done")
        self.assertEqual(set(query.exception.field_messages()), {"limit", "status"})
        with self.assertRaises(NotFoundError) as missing:
            c.get("job_01M880PHE1F1GN54T6TES72772")
        self.assertEqual(missing.exception.detail, "no job job_01M880PHE1F1GN54T6TES72772")

    def test_tools_and_health_describe_the_daemon(self) -> None:
        tools = {t.name: t for t in self.client.tools()}
        self.assertTrue({"noop", "sleep", "fail", "fasta_stats"} <= set(tools))
        self.assertEqual(tools["sleep"].params["steps"]["default"], 4)
        self.assertIsNone(tools["noop"].timeout_s)
        health = self.client.health()
        self.assertEqual(health.status, "healthy")
        self.assertIsNotNone(health.queue_stats)
        self.assertIn("sleep", health.components["tools"])  # type: ignore[index]

    def test_nodes_name_this_node_without_a_cluster(self) -> None:
        nodes = self.client.nodes()
        self.assertEqual(len(nodes), 1)
        self.assertTrue(nodes[0].local)
        self.assertEqual(nodes[0].address, "local")
        self.assertIn("sleep", {tool.name for tool in nodes[0].tools})

    def test_a_tool_is_paused_and_resumed(self) -> None:
        c = self.client
        state = c.pause_tool("fasta_stats")
        self.assertTrue(state.paused)
        self.assertEqual(state.paused_reason, "paused by client 127.0.0.1")
        self.assertEqual(c.health().components["tools"]["fasta_stats"]["status"], "paused")  # type: ignore[index]
        listed = {tool.name: tool for tool in c.tools()}
        self.assertTrue(listed["fasta_stats"].paused)
        self.assertEqual(listed["fasta_stats"].paused_reason, "paused by client 127.0.0.1")
        self.assertIsNotNone(state.paused_since)
        self.assertEqual(listed["fasta_stats"].paused_since, state.paused_since)  # a datetime, decoded
        self.assertIsNone(listed["noop"].paused_since)
        self.assertFalse(listed["noop"].paused)
        state = c.resume_tool("fasta_stats")
        self.assertFalse(state.paused)
        self.assertIsNone(state.paused_reason)
        with self.assertRaises(NotFoundError):
            c.pause_tool("no-such-tool")
        with self.assertRaises(BadRequestError) as bad:
            c.pause_tool("fasta_stats", reason="two\nlines")
        self.assertEqual(set(bad.exception.field_messages()), {"reason"})
        self.assertFalse({tool.name: tool for tool in c.tools()}["fasta_stats"].paused)  # the refusal changed nothing
        state = c.pause_tool("fasta_stats", reason="reference data is being rebuilt \u2014 back at 14:00")
        self.assertEqual(state.paused_reason,
                         "paused by client 127.0.0.1: reference data is being rebuilt \u2014 back at 14:00")
        with self.assertRaises(BadRequestError) as bad:
            c.resume_tool("fasta_stats", reason="")
        self.assertEqual(set(bad.exception.field_messages()), {"reason"})
        self.assertTrue({tool.name: tool for tool in c.tools()}["fasta_stats"].paused)  # still paused
        self.assertFalse(c.resume_tool("fasta_stats", reason="reference data rebuilt").paused)

    def test_windowed_metrics_count_finished_jobs(self) -> None:
        c = self.client
        c.wait(c.submit(JobSpec(tool="noop", labels={"case": "metrics"})).job_id, timeout=30)
        m = c.metrics("1h")
        self.assertEqual(m.time_range, "1h")
        self.assertGreaterEqual(m.total_jobs, 1)
        self.assertGreaterEqual(m.by_tool["noop"].completed, 1)
        self.assertIsNotNone(m.from_)
        self.assertEqual(c.metrics().time_range, "24h")
        with self.assertRaises(BadRequestError) as bad:
            c.metrics("2d")
        self.assertEqual(bad.exception.errors[0].field, "time_range")

    def test_batches_are_listed_newest_first_with_filters(self) -> None:
        c = self.client
        name = f"listed-{uuid.uuid4().hex[:8]}"
        first = c.submit_batch(BatchSpec(name=name, jobs=[JobSpec(tool="noop")]))
        second = c.submit_batch(BatchSpec(name=name, jobs=[JobSpec(tool="noop"), JobSpec(tool="noop")]))
        for job_id in first.job_ids + second.job_ids:
            c.wait(job_id, timeout=20)
        page = c.list_batches(name=name)
        self.assertEqual([b.batch_id for b in page.batches], [second.batch_id, first.batch_id])
        self.assertEqual((page.total_count, page.has_next), (2, False))
        self.assertEqual((page.batches[0].total_jobs, page.batches[0].batch_status), (2, "completed"))
        one = c.list_batches(name=name, status="completed", limit=1, offset=1)
        self.assertEqual([b.batch_id for b in one.batches], [first.batch_id])
        with self.assertRaises(BadRequestError) as bad:
            c.list_batches(status="done")
        self.assertEqual(bad.exception.errors[0].field, "status")

    def test_jobs_are_cancelled_and_purged_by_filter_with_a_dry_run(self) -> None:
        c = self.client
        case = uuid.uuid4().hex[:8]
        slow = [c.submit(JobSpec(tool="sleep", params={"seconds": 30}, labels={"bulk": case})).job_id
                for _ in range(2)]
        self.assertEqual(c.cancel_jobs(labels={"bulk": case}, dry_run=True).matched, 2)
        self.assertNotEqual(c.get(slow[0]).status, "cancelled")
        done = c.cancel_jobs(labels={"bulk": case}, reason="superseded by run 7")
        self.assertEqual((done.matched, done.cancelled, done.dry_run), (2, 2, False))
        self.assertEqual({c.get(j).status for j in slow}, {"cancelled"})
        self.assertEqual({c.history(j)[-1].reason for j in slow}, {"cancelled by client 127.0.0.1: superseded by run 7"})
        dry = c.purge_jobs(labels={"bulk": case}, status="cancelled", dry_run=True)
        self.assertEqual((dry.matched, dry.deleted, dry.dry_run), (2, 0, True))
        purged = c.purge_jobs(labels={"bulk": case})
        self.assertEqual((purged.matched, purged.deleted), (2, 2))
        with self.assertRaises(NotFoundError):
            c.get(slow[0])
        with self.assertRaises(BadRequestError) as bad:
            c.purge_jobs()
        self.assertEqual(bad.exception.errors[0].field, "all")

    def test_the_openapi_document_is_served(self) -> None:
        text = self.client.openapi()
        self.assertTrue(text.startswith("openapi: 3.1.0"))
        self.assertIn("/v1/openapi.yaml:", text)


class TokenTest(unittest.TestCase):
    def test_a_daemon_with_tokens_refuses_a_client_without_one_and_serves_one_with_it(self) -> None:
        with Daemon(tokens=("s3cret-token",)) as daemon:
            with Client(daemon.url) as anonymous:
                with self.assertRaises(UnauthorizedError) as refused:
                    anonymous.submit({"tool": "noop"})
                self.assertEqual(refused.exception.status, 401)
                self.assertEqual(refused.exception.detail, "a valid bearer token is required")
                self.assertEqual(anonymous.health().status, "ok")  # liveness only
                with self.assertRaises(UnauthorizedError):
                    next(anonymous.watch(all=True))
            with Client(daemon.url, token="wrong") as wrong:
                with self.assertRaises(UnauthorizedError):
                    wrong.list_jobs()
            with Client(daemon.url, token="s3cret-token") as client:
                job = client.submit({"tool": "noop"})
                self.assertEqual(client.wait(job.job_id, timeout=10).status, "completed")
                self.assertEqual(client.health().status, "healthy")


class NotADaemonTest(unittest.TestCase):
    """A 2xx that is not the daemon's JSON (a proxy's page, another server
    on the port) is an OverseerError like every other failure."""

    def test_a_successful_answer_that_is_not_json_raises_a_transport_error(self) -> None:
        class Page(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                body = b"<html><body>a proxy's page</body></html>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        self.addCleanup(thread.join)
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        with Client(f"http://127.0.0.1:{server.server_address[1]}") as c:
            with self.assertRaises(TransportError) as caught:
                c.get("job_x")
            self.assertIsInstance(caught.exception, OverseerError)
            self.assertIn("not an Overseer daemon's", str(caught.exception))


class DroppingServer:
    """A raw HTTP/1.1 server that answers requests by a script: for each
    request, in order, either a reply (status and JSON body, kept alive),
    "drop" (read the request, close without an answer: a daemon that died
    after reading it) or "close" (answer, then close the idle connection
    without saying so). It records every request line it read."""

    def __init__(self, script: list[tuple[int, bytes] | str]) -> None:
        self.script = list(script)
        self.requests: list[str] = []
        self.closed = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while self.script:
            conn, _ = self.listener.accept()
            with conn:
                self._connection(conn)

    def _connection(self, conn: socket.socket) -> None:
        buffer = b""
        while self.script:
            while b"\r\n\r\n" not in buffer:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                buffer += chunk
            head, _, buffer = buffer.partition(b"\r\n\r\n")
            lines = head.decode().split("\r\n")
            length = next((int(v) for k, _, v in (line.partition(":") for line in lines[1:])
                           if k.strip().lower() == "content-length"), 0)
            while len(buffer) < length:
                buffer += conn.recv(65536)
            buffer = buffer[length:]
            self.requests.append(lines[0])
            step = self.script.pop(0)
            if step == "drop":
                return
            status, body = step[1] if step[0] == "close" else step  # type: ignore[misc]
            conn.sendall(f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
                         f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
            if step[0] == "close":
                conn.shutdown(socket.SHUT_RDWR)
                self.closed.set()
                return

    def stop(self) -> None:
        self.script.clear()
        # accept() does not return when another thread closes the listener:
        # a connection wakes it, and the empty script ends the loop.
        socket.create_connection(self.listener.getsockname(), timeout=5).close()
        self.thread.join()
        self.listener.close()


NOT_FOUND = (404, b'{"type":"about:blank","title":"Not Found","status":404,"code":"not_found","detail":"no such job"}')
SUBMITTED = (202, b'{"job_id":"job_x","status":"pending","position_in_queue":0,"links":{}}')


class ConnectionDropTest(unittest.TestCase):
    """A keep-alive connection that goes away under a request: a request
    that cannot do anything twice is sent again, a submit without an
    idempotency key is not (the daemon may have stored it)."""

    def serve(self, *script: tuple[int, bytes] | str) -> tuple[DroppingServer, Client]:
        server = DroppingServer(list(script))
        self.addCleanup(server.stop)
        client = Client(server.url, timeout=5)
        self.addCleanup(client.close)
        return server, client

    def test_a_submit_without_a_key_is_not_sent_twice_when_its_answer_is_lost(self) -> None:
        server, c = self.serve(NOT_FOUND, "drop")
        with self.assertRaises(NotFoundError):
            c.get("job_a")
        with self.assertRaises(TransportError) as caught:
            c.submit(JobSpec(tool="noop"))
        self.assertIn("not sent again", str(caught.exception))
        self.assertEqual(sum(r.startswith("POST") for r in server.requests), 1)

    def test_a_submit_with_an_idempotency_key_and_a_read_are_sent_again(self) -> None:
        server, c = self.serve(NOT_FOUND, "drop", SUBMITTED, "drop", NOT_FOUND)
        with self.assertRaises(NotFoundError):
            c.get("job_a")
        self.assertEqual(c.submit(JobSpec(tool="noop", idempotency_key="k1")).job_id, "job_x")
        with self.assertRaises(NotFoundError):
            c.get("job_b")
        self.assertEqual([r.split()[0] for r in server.requests], ["GET", "POST", "POST", "GET", "GET"])

    def test_a_connection_the_server_closed_while_idle_is_not_used(self) -> None:
        server, c = self.serve(("close", NOT_FOUND), SUBMITTED)  # type: ignore[arg-type]
        with self.assertRaises(NotFoundError):
            c.get("job_a")
        self.assertTrue(server.closed.wait(5))
        eventually(lambda: c._transport._idle and c._transport._idle[0].sock is not None  # type: ignore[attr-defined]
                   and _peer_closed(c._transport._idle[0].sock))  # type: ignore[attr-defined]
        self.assertEqual(c.submit(JobSpec(tool="noop")).job_id, "job_x")
        self.assertEqual(len(server.requests), 2)


def _peer_closed(sock: socket.socket) -> bool:
    import select
    return bool(select.select([sock], [], [], 0)[0])


if __name__ == "__main__":
    unittest.main()
