"""Files and webhook deliveries against a real overseerd: upload (bytes and a
path), list, download whole, a range and to a path, delete, the 413 of
--max-file-size, and a job's `notify` delivered to a local receiver."""
from __future__ import annotations

import asyncio
import hashlib
import http.server
import json
import os
import tempfile
import threading
import unittest

from daemon import Daemon, eventually

from overseer_client import (AsyncClient, Client, JobSpec, NotFoundError, Notify,
                             PayloadTooLargeError)

# Every byte value, and a few pieces more than a 64 KiB read.
CONTENT = bytes(range(256)) * 1024 + b"tail"


class FilesTest(unittest.TestCase):
    daemon: Daemon
    client: Client

    @classmethod
    def setUpClass(cls) -> None:
        cls.daemon = Daemon().start()
        cls.addClassCleanup(cls.daemon.remove)
        cls.client = Client(cls.daemon.url)
        cls.addClassCleanup(cls.client.close)

    def test_bytes_are_uploaded_listed_downloaded_whole_and_by_range_and_deleted(self) -> None:
        c = self.client
        info = c.upload_file(CONTENT, name="bytes ü.bin")
        self.assertTrue(info.file_id.startswith("file_"))
        self.assertEqual((info.name, info.size), ("bytes ü.bin", len(CONTENT)))
        self.assertEqual(info.sha256, hashlib.sha256(CONTENT).hexdigest())
        self.assertIsNotNone(info.created_at.tzinfo)

        self.assertEqual(c.download_file(info.file_id), CONTENT)
        self.assertEqual(c.download_file(info.file_id, range=(1, 3)), CONTENT[1:4])
        self.assertEqual(c.download_file(info.file_id, range=(len(CONTENT) - 4, None)), b"tail")
        # An end past the file is clipped.
        self.assertEqual(c.download_file(info.file_id, range=(len(CONTENT) - 2, len(CONTENT) + 100)), b"il")

        listed = c.list_files(limit=1000)
        self.assertIn(info.file_id, [f.file_id for f in listed.files])

        self.assertTrue(c.delete_file(info.file_id))
        with self.assertRaises(NotFoundError):
            c.download_file(info.file_id)
        with self.assertRaises(NotFoundError):
            c.delete_file(info.file_id)
        self.assertNotIn(info.file_id, [f.file_id for f in c.list_files(limit=1000).files])

    def test_a_path_is_uploaded_under_its_base_name_and_downloaded_to_a_path(self) -> None:
        c = self.client
        with tempfile.TemporaryDirectory() as tmp:
            source = os.path.join(tmp, "input.dat")
            with open(source, "wb") as f:
                f.write(CONTENT)
            info = c.upload_file(source)
            self.assertEqual((info.name, info.size), ("input.dat", len(CONTENT)))
            renamed = c.upload_file(source, name="other.dat")
            self.assertEqual((renamed.name, renamed.sha256), ("other.dat", info.sha256))

            target = os.path.join(tmp, "copy.dat")
            self.assertIsNone(c.download_file(info.file_id, target))
            with open(target, "rb") as f:
                self.assertEqual(f.read(), CONTENT)
            self.assertIsNone(c.download_file(info.file_id, target, range=(0, 9)))
            with open(target, "rb") as f:
                self.assertEqual(f.read(), CONTENT[:10])
            # A failed download leaves the target as it was, and no temporary file.
            with self.assertRaises(NotFoundError):
                c.download_file("file_01ARZ3NDEKTSV4RRFFQ69G5FAV", target)
            self.assertEqual(sorted(os.listdir(tmp)), ["copy.dat", "input.dat"])

    def test_the_file_list_pages_with_a_cursor(self) -> None:
        c = self.client
        ids = {c.upload_file(b"page %d" % i, name=f"page{i}.txt").file_id for i in range(3)}
        seen: list[str] = []
        page = c.list_files(limit=1)
        while True:
            self.assertEqual((len(page.files), page.limit), (1, 1))
            seen += [f.file_id for f in page.files]
            if not page.has_next:
                self.assertIsNone(page.next_cursor)
                break
            page = c.list_files(limit=1, cursor=page.next_cursor)
        self.assertEqual(len(seen), len(set(seen)))
        self.assertTrue(ids <= set(seen))

    def test_the_async_client_uploads_downloads_and_deletes(self) -> None:
        async def run() -> None:
            async with AsyncClient(self.daemon.url) as c:
                info = await c.upload_file(CONTENT, name="async.bin")
                self.assertEqual(await c.download_file(info.file_id, range=(256, 511)), bytes(range(256)))
                self.assertIn(info.file_id, [f.file_id for f in (await c.list_files()).files])
                self.assertTrue(await c.delete_file(info.file_id))
                with self.assertRaises(NotFoundError):
                    await c.download_file(info.file_id)
        asyncio.run(run())


class MaxFileSizeTest(unittest.TestCase):
    def test_an_upload_over_max_file_size_is_413_and_the_next_request_works(self) -> None:
        with Daemon(args=("--max-file-size", "1K")) as d, Client(d.url) as c:
            with self.assertRaises(PayloadTooLargeError) as refused:
                c.upload_file(b"x" * 4096, name="big.bin")
            self.assertEqual(refused.exception.status, 413)
            with tempfile.NamedTemporaryFile() as f:
                f.write(b"y" * 100_000)
                f.flush()
                with self.assertRaises(PayloadTooLargeError):
                    c.upload_file(f.name)
            self.assertEqual(c.list_files().files, [])
            small = c.upload_file(b"z" * 1024, name="small.bin")
            self.assertEqual(c.download_file(small.file_id), b"z" * 1024)


class _Receiver(http.server.BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], dict[str, object]]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((dict(self.headers), json.loads(body)))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


class DeliveriesTest(unittest.TestCase):
    def test_a_jobs_transitions_are_delivered_to_its_notify_url(self) -> None:
        received: list[tuple[dict[str, str], dict[str, object]]] = []
        handler = type("Handler", (_Receiver,), {"received": received})
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        self.addCleanup(thread.join)
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        hook = f"http://127.0.0.1:{server.server_address[1]}/hook"
        with Daemon(args=("--webhook-allow", "127.0.0.1")) as d, Client(d.url) as c:
            job = c.submit(JobSpec(tool="noop", notify=Notify(url=hook)))
            self.assertEqual(c.wait(job.job_id, timeout=30).status, "completed")

            def all_delivered() -> object:
                ds = c.deliveries(job.job_id)
                return ds if len(ds) >= 3 and all(x.status == "delivered" for x in ds) else None
            deliveries = eventually(all_delivered)
            self.assertEqual([x.event for x in deliveries], ["transition"] * len(deliveries))
            self.assertEqual([x.seq for x in deliveries], sorted(x.seq for x in deliveries))
            for x in deliveries:
                self.assertEqual((x.id, x.url, x.last_status_code, x.last_error), (f"dlv_{x.seq}_job", hook, 200, ""))
                self.assertGreaterEqual(x.attempts, 1)
                self.assertIsNone(x.next_attempt_at)
                self.assertIsNotNone(x.delivered_at)
            bodies = [body for _, body in received]
            self.assertEqual([(b["from"], b["to"]) for b in bodies][:3],
                             [(None, "pending"), ("pending", "running"), ("running", "completed")])
            self.assertEqual({h["Overseer-Job"] for h, _ in received}, {job.job_id})

            # A plain mapping works too, and a job without notify has no deliveries.
            other = c.submit({"tool": "noop", "notify": {"url": hook, "events": ["transition"]}})
            eventually(lambda: len(c.deliveries(other.job_id)) >= 3)
            self.assertEqual(c.deliveries(c.submit({"tool": "noop"}).job_id), [])
            with self.assertRaises(NotFoundError):
                c.deliveries("job_01ARZ3NDEKTSV4RRFFQ69G5FAV")


if __name__ == "__main__":
    unittest.main()
