#!/usr/bin/env python3
"""HTTP conformance of overseerd from a client we did not write.

Python's urllib and http.client (standard library only) against the real
daemon: Connection: close (urllib sends it on every request), HTTP/1.0 with
and without keep-alive, Expect: 100-continue, HEAD on every GET route,
pipelining and half-closing (raw sockets, responses parsed by http.client),
a WebSocket upgrade pipelined with its first message,
and files: an upload and ranged downloads.
POST /v1/jobs, answered asynchronously by the engine, is in every case.

Usage: http_conformance.py PATH/TO/overseerd
Starts overseerd on 127.0.0.1 with port 0, reads the port from its
"listening" line, and stops it by PID when done.
"""
import hashlib
import http.client
import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

PORT = 0
DAEMON = ""
SUBMIT = json.dumps({"tool": "noop"}).encode()


def url(path):
    return "http://127.0.0.1:%d%s" % (PORT, path)


def fetch(path, method="GET", body=None, headers=None):
    """(status, headers, body) through urllib; error statuses included."""
    req = urllib.request.Request(url(path), data=body, method=method, headers=headers or {})
    if body is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        with e:
            return e.code, e.headers, e.read()


def job_count():
    return json.loads(fetch("/v1/jobs")[2])["total_count"]


def request_bytes(method, target, body=b"", extra="", version="HTTP/1.1"):
    head = "%s %s %s\r\nHost: 127.0.0.1\r\n" % (method, target, version)
    if body:
        head += "Content-Type: application/json\r\nContent-Length: %d\r\n" % len(body)
    return (head + extra + "\r\n").encode() + body


class Raw:
    """A raw connection whose responses http.client parses one after another."""

    class _Borrowed:
        """The connection's reader, lent to one HTTPResponse, which closes
        its file once the body is read; the next response needs it still."""

        def __init__(self, f):
            self._f = f

        def __getattr__(self, name):
            return getattr(self._f, name)

        def close(self):
            pass

    class _Shared:
        def __init__(self, f):
            self.f = f

        def makefile(self, *args, **kwargs):
            return Raw._Borrowed(self.f)

    def __init__(self):
        self.sock = socket.create_connection(("127.0.0.1", PORT), timeout=20)
        self.f = self.sock.makefile("rb")

    def send(self, data):
        self.sock.sendall(data)

    def response(self, method="GET"):
        r = http.client.HTTPResponse(self._Shared(self.f), method=method)
        r.begin()
        return r, r.read()

    def status_line(self):
        """The next status line and its headers, unparsed (a 100 included)."""
        lines = []
        while True:
            line = self.f.readline()
            if line in (b"\r\n", b""):
                return lines
            lines.append(line)

    def at_eof(self):
        return self.f.read() == b""

    def close(self):
        self.f.close()
        self.sock.close()


class HTTP10Connection(http.client.HTTPConnection):
    _http_vsn = 10
    _http_vsn_str = "HTTP/1.0"


class Conformance(unittest.TestCase):
    def test_connection_close_on_every_urllib_request(self):
        before = job_count()
        for _ in range(50):
            status, headers, body = fetch("/v1/jobs", "POST", SUBMIT)
            self.assertEqual(status, 202)
            self.assertEqual(headers["Connection"], "close")
            self.assertTrue(json.loads(body)["job_id"].startswith("job_"))
        self.assertEqual(job_count(), before + 50)

    def test_http10_without_keep_alive_closes(self):
        conn = HTTP10Connection("127.0.0.1", PORT, timeout=20)
        conn.request("POST", "/v1/jobs", SUBMIT, {"Content-Type": "application/json"})
        r = conn.getresponse()
        self.assertEqual(r.status, 202)
        self.assertEqual(r.version, 10)
        self.assertTrue(r.will_close)
        r.read()
        conn.close()

    def test_http10_with_keep_alive_stays_open(self):
        raw = Raw()
        try:
            for _ in range(3):
                raw.send(request_bytes("POST", "/v1/jobs", SUBMIT, "Connection: keep-alive\r\n", "HTTP/1.0"))
                r, _ = raw.response()
                self.assertEqual(r.status, 202)
                self.assertEqual(r.version, 10)
                self.assertEqual(r.getheader("Connection"), "keep-alive")
            raw.send(request_bytes("GET", "/v1/health", version="HTTP/1.0"))
            r, _ = raw.response()
            self.assertEqual(r.status, 200)
            self.assertTrue(raw.at_eof())
        finally:
            raw.close()

    def test_expect_continue_through_urllib(self):
        # http.client sends the body at once and skips the interim 100.
        status, _, body = fetch("/v1/jobs", "POST", SUBMIT, {"Expect": "100-continue"})
        self.assertEqual(status, 202)
        self.assertIn("job_id", json.loads(body))

    def test_expect_continue_body_after_the_100(self):
        raw = Raw()
        try:
            raw.send(("POST /v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      "Expect: 100-continue\r\nContent-Length: %d\r\n\r\n" % len(SUBMIT)).encode())
            self.assertEqual(raw.status_line()[0].split()[1], b"100")
            raw.send(SUBMIT)
            r, _ = raw.response()
            self.assertEqual(r.status, 202)
        finally:
            raw.close()

    def test_expect_continue_oversized_gets_413_without_100(self):
        raw = Raw()
        try:
            raw.send(b"POST /v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Expect: 100-continue\r\nContent-Length: 50000000\r\n\r\n")
            r, body = raw.response()
            self.assertEqual(r.status, 413)
            self.assertEqual(r.getheader("Content-Type"), "application/problem+json")
            self.assertEqual(json.loads(body)["status"], 413)
            self.assertTrue(raw.at_eof())
        finally:
            raw.close()

    def test_head_on_every_get_route(self):
        status, _, body = fetch("/v1/jobs", "POST", SUBMIT)
        job = json.loads(body)["job_id"]
        status, _, body = fetch("/v1/batches", "POST", json.dumps({"jobs": [{"tool": "noop"}]}).encode())
        batch = json.loads(body)["batch_id"]
        deadline = time.monotonic() + 30
        while json.loads(fetch("/v1/batches/" + batch)[2])["batch_status"] != "completed" or \
                json.loads(fetch("/v1/jobs/" + job)[2])["status"] != "completed":
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.05)  # polling interval, bounded by the deadline
        routes = ["/v1/jobs", "/v1/jobs/%s" % job, "/v1/jobs/%s/result" % job, "/v1/jobs/%s/logs" % job,
                  "/v1/jobs/%s/history" % job, "/v1/tools", "/v1/health", "/v1/stream",
                  "/v1/batches/%s" % batch, "/v1/cache/stats", "/v1/files", "/v1/nodes"]
        for path in routes:
            with self.subTest(path=path):
                get_status, get_headers, get_body = fetch(path)
                head_status, head_headers, head_body = fetch(path, "HEAD")
                self.assertEqual(head_status, get_status)
                # A live document (health's uptime) may change length between
                # the two requests; every other one answers HEAD with GET's length.
                if path != "/v1/health":
                    self.assertEqual(head_headers["Content-Length"], get_headers["Content-Length"])
                self.assertEqual(head_headers["Content-Type"], get_headers["Content-Type"])
                self.assertEqual(int(get_headers["Content-Length"]), len(get_body))
                self.assertEqual(head_body, b"")

    def test_nodes_through_urllib_and_http10(self):
        # Without a cluster the node list is this node alone, with its tools.
        status, headers, body = fetch("/v1/nodes")
        self.assertEqual(status, 200)
        nodes = json.loads(body.decode("utf-8"))["nodes"]
        self.assertEqual(len(nodes), 1)
        self.assertTrue(nodes[0]["local"])
        self.assertIn("noop", [t["name"] for t in nodes[0]["tools"]])
        conn = HTTP10Connection("127.0.0.1", PORT, timeout=10)
        conn.request("GET", "/v1/nodes")
        res = conn.getresponse()
        self.assertEqual(res.status, 200)
        self.assertEqual(json.loads(res.read())["nodes"][0]["name"], nodes[0]["name"])
        conn.close()
        status, _, body = fetch("/v1/nodes?x=1")
        self.assertEqual(status, 400)

    def test_pipelined_requests_answered_in_order(self):
        for n in (16, 17, 100):
            with self.subTest(n=n):
                before = job_count()
                raw = Raw()
                try:
                    burst = b"".join(request_bytes("POST", "/v1/jobs", SUBMIT) if i % 2 == 0
                                     else request_bytes("GET", "/v1/jobs/x%d" % i) for i in range(n))
                    raw.send(burst)
                    for i in range(n):
                        r, body = raw.response()
                        if i % 2 == 0:
                            self.assertEqual(r.status, 202)
                        else:
                            self.assertEqual(r.status, 404)
                            self.assertEqual(json.loads(body)["detail"], "no job x%d" % i)
                    raw.send(request_bytes("HEAD", "/v1/health"))
                    r, body = raw.response("HEAD")
                    self.assertEqual((r.status, body), (200, b""))
                finally:
                    raw.close()
                self.assertEqual(job_count(), before + (n + 1) // 2)

    def test_pipelined_submit_upgrade_and_frame_in_one_write(self):
        """A submit, an upgrade and the first WebSocket message in one
        write, none of it waiting for an answer: the submit is answered, the
        stream opens and the message sent before the 101 is read."""
        def masked(payload):
            data = json.dumps(payload).encode()
            mask = os.urandom(4)
            assert len(data) < 126
            return bytes([0x81, 0x80 | len(data)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data))

        def frame(f):
            head = f.read(2)
            size = head[1] & 0x7F
            if size == 126:
                size = int.from_bytes(f.read(2), "big")
            elif size == 127:
                size = int.from_bytes(f.read(8), "big")
            return head[0] & 0x0F, f.read(size)

        raw = Raw()
        try:
            upgrade = request_bytes("GET", "/v1/stream", extra="Connection: Upgrade\r\nUpgrade: websocket\r\n"
                                    "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n")
            raw.send(request_bytes("POST", "/v1/jobs", SUBMIT) + upgrade + masked({"op": "subscribe", "all": True}))
            r, body = raw.response()
            self.assertEqual(r.status, 202)
            job_id = json.loads(body)["job_id"]
            lines = raw.status_line()
            self.assertTrue(lines[0].startswith(b"HTTP/1.1 101"), lines)
            opcode, payload = frame(raw.f)
            self.assertEqual(opcode, 1)
            self.assertEqual(json.loads(payload)["type"], "subscribed")
            # And the stream is live: a job submitted now is seen.
            status, _, body = fetch("/v1/jobs", "POST", SUBMIT)
            self.assertEqual(status, 202)
            second = json.loads(body)["job_id"]
            while True:
                opcode, payload = frame(raw.f)
                message = json.loads(payload)
                if message.get("job_id") == second:
                    break
            self.assertNotEqual(job_id, second)
        finally:
            raw.close()

    def test_half_close_is_answered_then_closed(self):
        raw = Raw()
        try:
            raw.send(b"".join(request_bytes("POST", "/v1/jobs", SUBMIT) + request_bytes("GET", "/v1/health")
                              for _ in range(20)))
            raw.sock.shutdown(socket.SHUT_WR)
            for i in range(40):
                r, _ = raw.response()
                self.assertEqual(r.status, 202 if i % 2 == 0 else 200)
            self.assertTrue(raw.at_eof())
        finally:
            raw.close()

    def test_refusals_are_utf8_problem_documents(self):
        for path, field in (("/v1/jobs?status=completed&status=failed", "status"),
                            ("/v1/jobs/%ff%fe", None)):
            status, headers, body = fetch(path)
            self.assertIn(status, (400, 404))
            self.assertEqual(headers["Content-Type"], "application/problem+json")
            doc = json.loads(body.decode("utf-8"))  # strict: fails on bytes that are not UTF-8
            if field:
                self.assertEqual([e["field"] for e in doc["errors"]], [field])
        status, _, body = fetch("/v1/jobs", "POST", b'{"tool":"noop","priority":1,"priority":2}')
        self.assertEqual(status, 400)
        self.assertEqual([e["field"] for e in json.loads(body)["errors"]], ["priority"])


class SyncRuns(unittest.TestCase):
    """?wait=, traceparent and the trace_id filter through clients that are not ours."""

    TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"

    def test_wait_through_urllib_answers_the_finished_view(self):
        status, headers, body = fetch("/v1/jobs?wait=20s", "POST", SUBMIT,
                                      {"traceparent": "00-%s-00f067aa0ba902b7-01" % self.TRACE})
        self.assertEqual(status, 200)
        self.assertEqual(headers["Connection"], "close")
        view = json.loads(body)
        self.assertEqual(view["status"], "completed")
        self.assertEqual(view["trace_id"], self.TRACE)
        found = json.loads(fetch("/v1/jobs?trace_id=" + self.TRACE)[2])
        self.assertIn(view["job_id"], [j["job_id"] for j in found["jobs"]])
        # The long poll of a finished job answers at once.
        status, _, body = fetch("/v1/jobs/%s?wait=20s" % view["job_id"])
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["status"], "completed")

    def test_wait_over_http10_and_a_deadline(self):
        conn = HTTP10Connection("127.0.0.1", PORT, timeout=20)
        body = json.dumps({"tool": "sleep", "params": {"seconds": 3}}).encode()
        conn.request("POST", "/v1/jobs?wait=100ms", body, {"Content-Type": "application/json"})
        r = conn.getresponse()
        self.assertEqual(r.status, 202)
        self.assertEqual(r.version, 10)
        answer = json.loads(r.read())
        self.assertIn(answer["status"], ("pending", "running"))
        conn.close()

    def test_bad_wait_and_traceparent_in_one_problem(self):
        before = job_count()
        status, headers, body = fetch("/v1/jobs?wait=%FF", "POST", SUBMIT, {"traceparent": "00-nope"})
        self.assertEqual(status, 400)
        self.assertEqual(headers["Content-Type"], "application/problem+json")
        problem = json.loads(body.decode("utf-8"))  # valid UTF-8, whatever the query held
        self.assertEqual({e["field"] for e in problem["errors"]}, {"wait", "traceparent"})
        self.assertEqual(job_count(), before)
class Reasons(unittest.TestCase):
    """An operator's reason for a pause or a cancel, from clients that are not ours."""

    def tool_paused(self, name):
        tools = json.loads(fetch("/v1/tools")[2])["tools"]
        return next(t for t in tools if t["name"] == name)["paused"]

    def test_pause_reason_through_urllib_and_a_refusal_in_utf8(self):
        why = "r\u00e9f\u00e9rence en cours de reconstruction"
        # Bytes that are not UTF-8: refused, in a UTF-8 problem document, nothing paused.
        status, headers, body = fetch("/v1/tools/noop/pause", "POST", b'{"reason": "\xff\xfe"}')
        self.assertEqual(status, 400)
        self.assertEqual(headers["Content-Type"], "application/problem+json")
        json.loads(body.decode("utf-8"))
        self.assertFalse(self.tool_paused("noop"))
        status, headers, body = fetch("/v1/tools/noop/pause", "POST", json.dumps({"reason": why}).encode())
        self.assertEqual(status, 200)
        self.assertEqual(headers["Connection"], "close")
        self.assertEqual(json.loads(body.decode("utf-8"))["paused_reason"], "paused by client 127.0.0.1: " + why)
        self.assertEqual(fetch("/v1/tools/noop/resume", "POST")[0], 200)

    def test_encoded_slash_and_a_query_beside_the_body_through_urllib(self):
        # %2F is a character of its segment: no route, nothing paused.
        status, headers, body = fetch("/v1/tools/noop%2Fpause", "POST", b"{}")
        self.assertEqual(status, 404)
        self.assertEqual(json.loads(body.decode("utf-8"))["detail"], "no route for /v1/tools/noop%2Fpause")
        self.assertFalse(self.tool_paused("noop"))
        # A query the pause does not take is named with the body's bad fields,
        # and a reason with a line separator is one of them.
        status, headers, body = fetch("/v1/tools/noop/pause?x=1", "POST",
                                      json.dumps({"reason": "a\u2028b"}).encode())
        self.assertEqual(status, 400)
        fields = sorted(e["field"] for e in json.loads(body.decode("utf-8"))["errors"])
        self.assertEqual(fields, ["reason", "x"])
        self.assertFalse(self.tool_paused("noop"))

    def test_cancel_reason_over_http10_and_bulk_through_urllib(self):
        def running_sleep(label):
            body = json.dumps({"tool": "sleep", "params": {"seconds": 60}, "labels": {"reasons": label}}).encode()
            return json.loads(fetch("/v1/jobs", "POST", body)[2])["job_id"]

        def last_reason(job_id):
            return json.loads(fetch("/v1/jobs/%s/history" % job_id)[2])["transitions"][-1]["reason"]

        job = running_sleep("one")
        conn = HTTP10Connection("127.0.0.1", PORT, timeout=20)
        conn.request("DELETE", "/v1/jobs/" + job, json.dumps({"reason": "wrong genome"}).encode(),
                     {"Content-Type": "application/json"})
        r = conn.getresponse()
        self.assertEqual(r.status, 200)
        self.assertEqual(r.version, 10)
        self.assertEqual(json.loads(r.read())["status"], "cancelled")
        conn.close()
        self.assertEqual(last_reason(job), "cancelled by client 127.0.0.1: wrong genome")

        bulk = running_sleep("bulk")
        query = urllib.parse.urlencode({"label.reasons": "bulk", "reason": "lot \u00e9chou\u00e9"})
        status, _, body = fetch("/v1/jobs/cancel?" + query, "POST", b"{}")
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["cancelled"], 1)
        self.assertEqual(last_reason(bulk), "cancelled by client 127.0.0.1: lot \u00e9chou\u00e9")

    def test_a_name_search_percent_encoded_and_over_http10(self):
        name = "Annotate \u00c9chantillon-%s" % os.getpid()
        body = json.dumps({"tool": "noop", "name": name}).encode()
        job = json.loads(fetch("/v1/jobs", "POST", body)[2])["job_id"]
        # urllib percent-encodes the UTF-8; ASCII letters match in any case.
        query = urllib.parse.urlencode({"name_contains": "annotate \u00c9chantillon-%s" % os.getpid()})
        found = json.loads(fetch("/v1/jobs?" + query)[2])
        self.assertEqual([j["job_id"] for j in found["jobs"]], [job])
        # Bytes that are not UTF-8, percent-encoded: a UTF-8 problem naming the field.
        status, headers, raw = fetch("/v1/jobs?name_contains=%FF%FE")
        self.assertEqual(status, 400)
        self.assertEqual(headers["Content-Type"], "application/problem+json")
        self.assertIn("name_contains", [e["field"] for e in json.loads(raw.decode("utf-8"))["errors"]])
        conn = HTTP10Connection("127.0.0.1", PORT, timeout=20)
        conn.request("GET", "/v1/jobs?name_contains=" + urllib.parse.quote("\u00e9chantillon-%s" % os.getpid()))
        r = conn.getresponse()
        self.assertEqual((r.status, r.version), (200, 10))
        self.assertEqual(json.loads(r.read())["total_count"], 0)  # only ASCII letters fold
        conn.close()


class Files(unittest.TestCase):
    """POST /v1/files and ranged downloads through urllib and http.client."""

    def upload(self, name, data):
        req = urllib.request.Request(url("/v1/files?name=" + urllib.parse.quote(name)), data=data, method="POST",
                                     headers={"Content-Type": "application/octet-stream"})
        with urllib.request.urlopen(req, timeout=60) as r:
            self.assertEqual(r.status, 201)
            return json.loads(r.read().decode("utf-8"))

    def test_upload_and_ranged_download(self):
        data = bytes(range(256)) * 4096 + b"tail"  # 1 MiB and 4 bytes: more than one read each way
        name = "r\u00e9sum\u00e9 \"final\".bin"
        f = self.upload(name, data)
        self.assertEqual(f["size"], len(data))
        self.assertEqual(f["sha256"], hashlib.sha256(data).hexdigest())
        self.assertEqual(f["name"], name)
        path = "/v1/files/" + f["file_id"]
        status, headers, body = fetch(path)
        self.assertEqual(status, 200)
        self.assertEqual(body, data)
        self.assertEqual(headers["Accept-Ranges"], "bytes")
        self.assertEqual(headers["ETag"], '"%s"' % f["sha256"])
        self.assertEqual(headers["Content-Type"], "application/octet-stream")
        self.assertIn("filename*=UTF-8''" + urllib.parse.quote(name, safe="!#$&+-.^_`|~"),
                      headers["Content-Disposition"])
        # Pieces of 300,000 bytes, the last one shorter, reassembled.
        pieces, start = [], 0
        while start < len(data):
            end = min(start + 300000, len(data)) - 1
            status, headers, body = fetch(path, headers={"Range": "bytes=%d-%d" % (start, end)})
            self.assertEqual(status, 206)
            self.assertEqual(headers["Content-Range"], "bytes %d-%d/%d" % (start, end, len(data)))
            self.assertEqual(int(headers["Content-Length"]), end - start + 1)
            pieces.append(body)
            start = end + 1
        self.assertEqual(b"".join(pieces), data)
        status, _, body = fetch(path, headers={"Range": "bytes=-4"})
        self.assertEqual((status, body), (206, b"tail"))
        status, headers, body = fetch(path, headers={"Range": "bytes=%d-" % len(data)})
        self.assertEqual(status, 416)
        self.assertEqual(headers["Content-Range"], "bytes */%d" % len(data))
        json.loads(body.decode("utf-8"))
        # HEAD: GET's headers, no body; HTTP/1.0 gets the file and a close.
        status, headers, body = fetch(path, "HEAD")
        self.assertEqual((status, int(headers["Content-Length"]), body), (200, len(data), b""))
        conn = HTTP10Connection("127.0.0.1", PORT, timeout=20)
        conn.request("GET", path, headers={"Range": "bytes=1-2"})
        r = conn.getresponse()
        self.assertEqual((r.status, r.read()), (206, data[1:3]))
        self.assertTrue(r.will_close)
        conn.close()
        status, _, _ = fetch(path, "DELETE")
        self.assertEqual(status, 200)
        self.assertEqual(fetch(path)[0], 404)

    def test_upload_with_expect_continue(self):
        data = b"x" * 100000
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=20)
        conn.putrequest("POST", "/v1/files?name=c.bin")
        conn.putheader("Content-Type", "application/octet-stream")
        conn.putheader("Content-Length", str(len(data)))
        conn.putheader("Expect", "100-continue")
        conn.endheaders()
        conn.send(data)
        r = conn.getresponse()
        self.assertEqual(r.status, 201)
        self.assertEqual(json.loads(r.read())["sha256"], hashlib.sha256(data).hexdigest())
        conn.close()

    def test_refusals_name_the_problem(self):
        req = urllib.request.Request(url("/v1/files"), data=b"abc", method="POST",
                                     headers={"Content-Type": "application/octet-stream"})
        with self.assertRaises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(req, timeout=20)
        self.assertEqual(e.exception.code, 400)
        self.assertEqual(json.loads(e.exception.read())["errors"][0]["field"], "name")
        e.exception.close()
        req = urllib.request.Request(url("/v1/files?name=a"), data=b"abc", method="POST",
                                     headers={"Content-Type": "text/plain"})
        with self.assertRaises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(req, timeout=20)
        self.assertEqual(e.exception.code, 415)
        e.exception.close()


class Tenants(unittest.TestCase):
    """Roles, ownership and quotas (a tokens file) seen through urllib and HTTP/1.0."""

    TOKENS = {"alice": "tok-alice-5e1", "bob": "tok-bob-77a", "audit": "tok-audit-0c9"}

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        tokens = os.path.join(cls.tmp.name, "tokens.json")
        principals = [
            {"name": "alice", "role": "user", "token_sha256": hashlib.sha256(b"tok-alice-5e1").hexdigest(),
             # the second submit within ~1000 s is over the rate
             "quotas": {"submits_per_second": 0.001}},
            {"name": "bob", "role": "user", "token_sha256": hashlib.sha256(b"tok-bob-77a").hexdigest()},
            {"name": "audit", "role": "reader", "token_sha256": hashlib.sha256(b"tok-audit-0c9").hexdigest()},
        ]
        with open(tokens, "w") as f:
            json.dump({"principals": principals}, f)
        cls.proc, cls.port = start(DAEMON, os.path.join(cls.tmp.name, "data"), ["--tokens", tokens])

    @classmethod
    def tearDownClass(cls):
        stop(cls.proc)
        cls.tmp.cleanup()

    def call(self, who, path, method="GET", body=None):
        headers = {"Authorization": "Bearer " + self.TOKENS[who]} if who else {}
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (self.port, path), data=body, method=method,
                                     headers=headers)
        if body is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=20) as r:
                return r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            with e:
                return e.code, e.headers, e.read()

    def problem(self, reply, status):
        code, headers, body = reply
        self.assertEqual(code, status)
        self.assertEqual(headers["Content-Type"], "application/problem+json")
        return json.loads(body.decode("utf-8"))  # strict: fails on bytes that are not UTF-8

    def test_roles_ownership_and_rate(self):
        self.problem(self.call(None, "/v1/jobs"), 401)
        self.problem(self.call("audit", "/v1/jobs", "POST", SUBMIT), 403)
        status, _, body = self.call("alice", "/v1/jobs", "POST", SUBMIT)
        self.assertEqual(status, 202)
        job = json.loads(body)["job_id"]
        self.assertEqual(self.call("alice", "/v1/jobs/" + job)[0], 200)
        self.assertEqual(self.call("audit", "/v1/jobs/" + job)[0], 200)
        self.problem(self.call("bob", "/v1/jobs/" + job), 404)  # not 403: ids do not leak
        self.problem(self.call("bob", "/v1/jobs/" + job + "/cancel", "POST", b"{}"), 404)
        # The same 404 over HTTP/1.0, without keep-alive.
        conn = HTTP10Connection("127.0.0.1", self.port, timeout=20)
        conn.request("GET", "/v1/jobs/" + job, headers={"Authorization": "Bearer " + self.TOKENS["bob"]})
        r = conn.getresponse()
        self.assertEqual(r.status, 404)
        self.assertTrue(r.will_close)
        json.loads(r.read().decode("utf-8"))
        conn.close()
        # Over alice's rate: 429 with Retry-After, and nothing created.
        before = json.loads(self.call("alice", "/v1/jobs")[2])["total_count"]
        reply = self.call("alice", "/v1/jobs", "POST", SUBMIT)
        self.problem(reply, 429)
        self.assertGreaterEqual(int(reply[1]["Retry-After"]), 1)
        self.assertEqual(json.loads(self.call("alice", "/v1/jobs")[2])["total_count"], before)


def start(daemon, data_dir, extra=()):
    proc = subprocess.Popen([daemon, "--data-dir", data_dir, "--listen", "127.0.0.1:0", *extra],
                            stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        line = proc.stdout.readline()
        if not line:
            break
        m = re.match(r"overseerd listening on http://127\.0\.0\.1:(\d+)", line)
        if m:
            return proc, int(m.group(1))
    proc.kill()
    proc.wait()
    raise RuntimeError("overseerd did not report a listening port")


def stop(proc):
    os.kill(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()


def main():
    global PORT, DAEMON
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    DAEMON = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        proc, PORT = start(sys.argv[1], os.path.join(tmp, "data"))
        try:
            result = unittest.main(argv=[sys.argv[0], "-v"], exit=False).result
        finally:
            stop(proc)
    sys.exit(0 if result.wasSuccessful() else 1)


if __name__ == "__main__":
    main()
