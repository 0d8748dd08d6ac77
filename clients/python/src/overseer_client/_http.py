"""HTTP: what each endpoint sends (`Call`) and a small keep-alive transport.

A `Call` is the whole request of one endpoint plus how to decode its answer,
built by the functions below; `Client` runs it on the calling thread and
`AsyncClient` on a worker thread, so both share one definition per endpoint.
"""
from __future__ import annotations

import http.client
import json
import os
import select
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, BinaryIO, Callable, Generic, Mapping, Sequence, TypeVar, Union
from urllib.parse import quote, urlencode, urlsplit

from . import types as t
from .errors import TransportError, problem_error

T = TypeVar("T")
Query = list[tuple[str, str]]
#: What an upload sends: bytes, or the path of a file (streamed from disk).
Upload = Union[bytes, bytearray, memoryview, str, "os.PathLike[str]"]


@dataclass(frozen=True)
class Call(Generic[T]):
    method: str
    route: str  # the path as docs/openapi.yaml writes it, e.g. /v1/jobs/{id}
    path: str
    decode: Callable[[Any], T]
    query: Query = field(default_factory=list)
    body: Any = None
    ok: tuple[int, ...] = (200, 202)
    text: bool = False  # the answer is text (decode gets a str), not JSON
    headers: Mapping[str, str] = field(default_factory=dict)
    #: Seconds the daemon may hold the request (`?wait=`) on top of the
    #: client's timeout, which bounds the rest of it.
    wait_s: float = 0
    #: An upload's body (sent as application/octet-stream) instead of JSON.
    upload: Upload | None = None
    #: The answer is bytes, not JSON: `decode` gets them, or None when
    #: `sink` is set and they were written to that path instead.
    raw: bool = False
    sink: str | os.PathLike[str] | None = None


def _id(value: str) -> str:
    return quote(value, safe="")


def _param(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return t.format_time(value)
    return str(value)


def wait_param(seconds: float) -> str:
    """`?wait=` in whole milliseconds, which the daemon reads exactly."""
    return f"{round(seconds * 1000)}ms"


def _trace_headers(traceparent: str | None) -> dict[str, str]:
    return {} if traceparent is None else {"traceparent": traceparent}


def _query(labels: Mapping[str, str] | None = None, **params: Any) -> Query:
    query = [(k, _param(v)) for k, v in params.items() if v is not None]
    query += [(f"label.{k}", v) for k, v in (labels or {}).items()]
    return query


# ---- one function per endpoint of docs/api.md -----------------------------

def _submitted(d: Any) -> t.Submitted:
    # With ?wait= (even 0) the daemon answers a cache hit, finished at once,
    # with its view: the submit answer it stands for has position 0.
    if "tool" in d:
        return t.Submitted(job_id=d["job_id"], status=d["status"], position_in_queue=0, links=d["links"])
    return t.decode(t.Submitted, d)


def submit(spec: t.JobSpec | Mapping[str, Any], *, traceparent: str | None = None) -> Call[t.Submitted]:
    # ?wait=0: answer once durable, also for an immediate tool (whose submit
    # waits for its end by default); `run` is the synchronous form.
    return Call("POST", "/v1/jobs", "/v1/jobs", _submitted, body=t.encode_body(spec),
                query=[("wait", "0")], headers=_trace_headers(traceparent))


def _run_result(d: Any) -> t.RunResult:
    # 200 carries the finished job view, or (an idempotent repeat that did not
    # end in time, or had ended before) the submit answer; 202 the submit answer.
    if "tool" in d:
        return t.RunResult(job=t.decode(t.Job, d))
    return t.RunResult(submitted=t.decode(t.Submitted, d))


def run(spec: t.JobSpec | Mapping[str, Any], *, wait: float, traceparent: str | None = None) -> Call[t.RunResult]:
    return Call("POST", "/v1/jobs", "/v1/jobs", _run_result, body=t.encode_body(spec),
                query=[("wait", wait_param(wait))], headers=_trace_headers(traceparent), wait_s=max(wait, 0))


def list_jobs(*, status: str | None, tool: str | None, labels: Mapping[str, str] | None,
              batch_id: str | None, trace_id: str | None, created_after: datetime | str | None,
              created_before: datetime | str | None, limit: int | None, offset: int | None,
              page: int | None, page_size: int | None, name_contains: str | None = None) -> Call[t.JobList]:
    query = _query(labels, status=status, tool=tool, batch_id=batch_id, trace_id=trace_id,
                   name_contains=name_contains, created_after=created_after,
                   created_before=created_before, limit=limit, offset=offset, page=page,
                   page_size=page_size)
    return Call("GET", "/v1/jobs", "/v1/jobs", lambda d: t.decode(t.JobList, d), query=query)


def _bulk_query(status: str | None, tool: str | None, labels: Mapping[str, str] | None,
                batch_id: str | None, trace_id: str | None, created_after: datetime | str | None,
                created_before: datetime | str | None, all: bool, dry_run: bool,
                name_contains: str | None) -> Query:
    return _query(labels, status=status, tool=tool, batch_id=batch_id, trace_id=trace_id,
                  name_contains=name_contains, created_after=created_after,
                  created_before=created_before, all=True if all else None,
                  dry_run=True if dry_run else None)


def cancel_jobs(*, status: str | None, tool: str | None, labels: Mapping[str, str] | None,
                batch_id: str | None, trace_id: str | None, created_after: datetime | str | None,
                created_before: datetime | str | None, all: bool, dry_run: bool,
                reason: str | None = None, name_contains: str | None = None) -> Call[t.BulkCancelled]:
    query = _bulk_query(status, tool, labels, batch_id, trace_id, created_after, created_before, all, dry_run,
                        name_contains)
    if reason is not None:
        query.append(("reason", reason))
    return Call("POST", "/v1/jobs/cancel", "/v1/jobs/cancel", lambda d: t.decode(t.BulkCancelled, d), query=query)


def purge_jobs(*, status: str | None, tool: str | None, labels: Mapping[str, str] | None,
               batch_id: str | None, trace_id: str | None, created_after: datetime | str | None,
               created_before: datetime | str | None, all: bool, dry_run: bool,
               name_contains: str | None = None) -> Call[t.BulkPurged]:
    query = _bulk_query(status, tool, labels, batch_id, trace_id, created_after, created_before, all, dry_run,
                        name_contains)
    return Call("POST", "/v1/jobs/purge", "/v1/jobs/purge", lambda d: t.decode(t.BulkPurged, d), query=query)


def get(job_id: str, *, wait: float | None = None) -> Call[t.Job]:
    if wait is None:
        return Call("GET", "/v1/jobs/{id}", f"/v1/jobs/{_id(job_id)}", lambda d: t.decode(t.Job, d))
    return Call("GET", "/v1/jobs/{id}", f"/v1/jobs/{_id(job_id)}", lambda d: t.decode(t.Job, d),
                query=[("wait", wait_param(wait))], wait_s=max(wait, 0))


def result(job_id: str) -> Call[Any]:
    return Call("GET", "/v1/jobs/{id}/result", f"/v1/jobs/{_id(job_id)}/result", lambda d: d["result"])


def logs(job_id: str, *, level: str | None, limit: int | None, offset: int | None) -> Call[t.LogPage]:
    return Call("GET", "/v1/jobs/{id}/logs", f"/v1/jobs/{_id(job_id)}/logs",
                lambda d: t.decode(t.LogPage, d), query=_query(level=level, limit=limit, offset=offset))


def history(job_id: str) -> Call[list[t.Transition]]:
    return Call("GET", "/v1/jobs/{id}/history", f"/v1/jobs/{_id(job_id)}/history",
                lambda d: [t.decode(t.Transition, x) for x in d["transitions"]])


def deliveries(job_id: str) -> Call[list[t.Delivery]]:
    return Call("GET", "/v1/jobs/{id}/deliveries", f"/v1/jobs/{_id(job_id)}/deliveries",
                lambda d: [t.decode(t.Delivery, x) for x in d["deliveries"]])


def _reason(reason: str | None) -> dict[str, str] | None:
    """The optional body of a cancel, retry or pause: the operator's reason."""
    return None if reason is None else {"reason": reason}


def cancel(job_id: str, reason: str | None = None) -> Call[t.Job]:
    return Call("POST", "/v1/jobs/{id}/cancel", f"/v1/jobs/{_id(job_id)}/cancel", lambda d: t.decode(t.Job, d),
                body=_reason(reason))


def retry(job_id: str, reason: str | None = None) -> Call[t.Job]:
    return Call("POST", "/v1/jobs/{id}/retry", f"/v1/jobs/{_id(job_id)}/retry", lambda d: t.decode(t.Job, d),
                body=_reason(reason))


def submit_batch(batch: t.BatchSpec | Mapping[str, Any], *,
                 traceparent: str | None = None) -> Call[t.BatchSubmitted]:
    return Call("POST", "/v1/batches", "/v1/batches", lambda d: t.decode(t.BatchSubmitted, d),
                body=t.encode_body(batch), headers=_trace_headers(traceparent))


def list_batches(*, status: str | None, name: str | None, created_after: datetime | str | None,
                 created_before: datetime | str | None, limit: int | None,
                 offset: int | None) -> Call[t.BatchList]:
    query = _query(status=status, name=name, created_after=created_after, created_before=created_before,
                   limit=limit, offset=offset)
    return Call("GET", "/v1/batches", "/v1/batches", lambda d: t.decode(t.BatchList, d), query=query)


def get_batch(batch_id: str) -> Call[t.Batch]:
    return Call("GET", "/v1/batches/{id}", f"/v1/batches/{_id(batch_id)}", lambda d: t.decode(t.Batch, d))


def cancel_batch(batch_id: str, reason: str | None = None) -> Call[t.Batch]:
    return Call("POST", "/v1/batches/{id}/cancel", f"/v1/batches/{_id(batch_id)}/cancel",
                lambda d: t.decode(t.Batch, d), body=_reason(reason))


def cache_stats() -> Call[t.CacheStats]:
    return Call("GET", "/v1/cache/stats", "/v1/cache/stats", lambda d: t.decode(t.CacheStats, d))


def clear_cache(*, tool: str | None, labels: Mapping[str, str] | None) -> Call[int]:
    return Call("DELETE", "/v1/cache", "/v1/cache", lambda d: int(d["cleared_results"]),
                query=_query(labels, confirm=True, tool=tool))


def tools() -> Call[list[t.Tool]]:
    return Call("GET", "/v1/tools", "/v1/tools", lambda d: [t.decode(t.Tool, x) for x in d["tools"]])


def nodes() -> Call[list[t.Node]]:
    return Call("GET", "/v1/nodes", "/v1/nodes", lambda d: [t.decode(t.Node, x) for x in d["nodes"]])


def health() -> Call[t.Health]:
    # An unhealthy daemon answers 503 with a health document, not a problem.
    return Call("GET", "/v1/health", "/v1/health", lambda d: t.decode(t.Health, d), ok=(200, 503))


def pause_tool(name: str, reason: str | None = None) -> Call[t.ToolState]:
    return Call("POST", "/v1/tools/{name}/pause", f"/v1/tools/{_id(name)}/pause",
                lambda d: t.decode(t.ToolState, d), body=_reason(reason))


def resume_tool(name: str, reason: str | None = None) -> Call[t.ToolState]:
    return Call("POST", "/v1/tools/{name}/resume", f"/v1/tools/{_id(name)}/resume",
                lambda d: t.decode(t.ToolState, d), body=_reason(reason))


def upload_file(data: Upload, name: str | None) -> Call[t.FileInfo]:
    if name is None:
        if isinstance(data, (bytes, bytearray, memoryview)):
            raise ValueError("name= is required when uploading bytes")
        name = os.path.basename(os.fspath(data))
    if not isinstance(data, (bytes, bytearray, memoryview)):
        data = os.fspath(data)
    return Call("POST", "/v1/files", "/v1/files", lambda d: t.decode(t.FileInfo, d),
                query=[("name", name)], upload=data, ok=(201,))


def list_files(*, limit: int | None, cursor: str | None) -> Call[t.FileList]:
    return Call("GET", "/v1/files", "/v1/files", lambda d: t.decode(t.FileList, d),
                query=_query(limit=limit, cursor=cursor))


def _range_header(range: tuple[int, int | None] | None) -> dict[str, str]:
    if range is None:
        return {}
    start, end = range
    if start < 0 or (end is not None and end < start):
        raise ValueError(f"range must be (start, end) with 0 <= start <= end (end inclusive), not {range!r}")
    return {"Range": f"bytes={start}-{'' if end is None else end}"}


def download_file(file_id: str, *, to: str | os.PathLike[str] | None,
                  range: tuple[int, int | None] | None) -> Call[bytes | None]:
    return Call("GET", "/v1/files/{id}", f"/v1/files/{_id(file_id)}", lambda d: d,
                headers=_range_header(range), ok=(200, 206), raw=True, sink=to)


def delete_file(file_id: str) -> Call[bool]:
    return Call("DELETE", "/v1/files/{id}", f"/v1/files/{_id(file_id)}", lambda d: bool(d["deleted"]))


def openapi() -> Call[str]:
    return Call("GET", "/v1/openapi.yaml", "/v1/openapi.yaml", str, text=True)


def metrics(time_range: str | None) -> Call[t.Metrics]:
    return Call("GET", "/v1/metrics", "/v1/metrics", lambda d: t.decode(t.Metrics, d),
                query=_query(time_range=time_range))


#: Every route of docs/openapi.yaml and the client method that serves it
#: (tests/test_openapi.py fails when a route is missing here or a method does
#: not send its route). POST /v1/jobs/{id}/cancel is the same operation as
#: DELETE /v1/jobs/{id}, and POST /v1/batches/{id}/cancel as DELETE
#: /v1/batches/{id}; `cancel` and `cancel_batch` send the POST form, whose
#: body (the operator's reason) no proxy drops.
ROUTES: dict[tuple[str, str], str] = {
    ("POST", "/v1/jobs"): "submit",  # and "run", the same route with ?wait=
    ("GET", "/v1/jobs"): "list_jobs",
    ("POST", "/v1/jobs/cancel"): "cancel_jobs",
    ("POST", "/v1/jobs/purge"): "purge_jobs",
    ("GET", "/v1/jobs/{id}"): "get",
    ("DELETE", "/v1/jobs/{id}"): "cancel",
    ("POST", "/v1/jobs/{id}/cancel"): "cancel",
    ("GET", "/v1/jobs/{id}/result"): "result",
    ("GET", "/v1/jobs/{id}/logs"): "logs",
    ("GET", "/v1/jobs/{id}/history"): "history",
    ("POST", "/v1/jobs/{id}/retry"): "retry",
    ("GET", "/v1/jobs/{id}/deliveries"): "deliveries",
    ("POST", "/v1/batches"): "submit_batch",
    ("GET", "/v1/batches"): "list_batches",
    ("GET", "/v1/batches/{id}"): "get_batch",
    ("DELETE", "/v1/batches/{id}"): "cancel_batch",
    ("POST", "/v1/batches/{id}/cancel"): "cancel_batch",
    ("GET", "/v1/cache/stats"): "cache_stats",
    ("DELETE", "/v1/cache"): "clear_cache",
    ("GET", "/v1/tools"): "tools",
    ("GET", "/v1/nodes"): "nodes",
    ("POST", "/v1/tools/{name}/pause"): "pause_tool",
    ("POST", "/v1/tools/{name}/resume"): "resume_tool",
    ("GET", "/v1/metrics"): "metrics",
    ("GET", "/v1/openapi.yaml"): "openapi",
    ("GET", "/v1/health"): "health",
    ("GET", "/v1/stream"): "watch",
    ("POST", "/v1/files"): "upload_file",
    ("GET", "/v1/files"): "list_files",
    ("GET", "/v1/files/{id}"): "download_file",
    ("DELETE", "/v1/files/{id}"): "delete_file",
}


# ---- transport ------------------------------------------------------------

class Transport:
    """Sends `Call`s over keep-alive connections, one request per connection
    at a time; safe to use from several threads."""

    def __init__(self, url: str, token: str | None, timeout: float):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"url must be http://HOST[:PORT] or https://..., not {url!r}")
        self.url = url.rstrip("/")
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._prefix = parts.path.rstrip("/")
        self._timeout = timeout
        self._headers = {"Accept": "application/json"}
        if token is not None:
            self._headers["Authorization"] = f"Bearer {token}"
        self._idle: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()

    def _connection(self) -> tuple[http.client.HTTPConnection, bool]:
        while True:
            with self._lock:
                if not self._idle:
                    break
                conn = self._idle.pop()
            if not _dropped(conn):
                return conn, True
            conn.close()
        cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        return cls(self._host, self._port, timeout=self._timeout), False

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def send(self, call: Call[T]) -> T:
        target = self._prefix + call.path + ("?" + urlencode(call.query) if call.query else "")
        headers = {**self._headers, **call.headers}
        # A waiting request may be held for its wait; the timeout bounds the rest.
        timeout = self._timeout + call.wait_s
        body = None
        if call.upload is not None:
            headers["Content-Type"] = "application/octet-stream"
            size = (len(call.upload) if isinstance(call.upload, (bytes, bytearray, memoryview))
                    else os.stat(call.upload).st_size)
            headers["Content-Length"] = str(size)
        elif call.body is not None:
            body = json.dumps(call.body).encode()
            headers["Content-Type"] = "application/json"
        if call.raw:
            headers["Accept"] = "application/octet-stream, application/problem+json"
        for attempt in (1, 2):
            conn, reused = self._connection()
            conn.timeout = timeout
            if conn.sock is not None:
                conn.sock.settimeout(timeout)
            try:
                response, data = self._exchange(conn, call, target, headers, body)
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as e:
                conn.close()
                # The daemon closes idle keep-alive connections, and one it
                # closed a moment ago can pass the check in _connection. A
                # request that cannot change anything twice is sent again on
                # a fresh connection. Any other may have been read and run
                # before the connection went (a daemon that died after
                # storing a submit): sending it again could run it twice, so
                # the caller hears of it instead.
                if reused and attempt == 1 and _replayable(call):
                    continue
                hint = "" if _replayable(call) else " (it may have been carried out; it was not sent again)"
                raise TransportError(f"{call.method} {target}: {e}{hint}") from e
            except (OSError, http.client.HTTPException) as e:
                conn.close()
                raise TransportError(f"{call.method} {target}: {e}") from e
            if response.will_close:
                conn.close()
            else:
                with self._lock:
                    self._idle.append(conn)
            if response.status in call.ok:
                if call.raw:
                    return call.decode(data)
                try:
                    return call.decode(data.decode() if call.text else json.loads(data))
                except (ValueError, KeyError, TypeError, AttributeError) as e:
                    # A 2xx that is not the daemon's answer (a proxy's page,
                    # another server on the port): still an OverseerError.
                    raise TransportError(f"{call.method} {target}: the answer ({response.status}) is not an "
                                         f"Overseer daemon's: {e}") from e
            raise problem_error(response.status, response.reason, data or b"", response.getheader("Retry-After"))
        raise AssertionError("unreachable")

    @staticmethod
    def _exchange(conn: http.client.HTTPConnection, call: Call[Any], target: str,
                  headers: dict[str, str], body: bytes | None) -> tuple[http.client.HTTPResponse, bytes | None]:
        """Sends the request and reads the answer: its bytes, or None once a
        successful download is in `call.sink`."""
        upload: BinaryIO | None = None
        try:
            payload: Any = body
            if call.upload is not None:
                if isinstance(call.upload, (bytes, bytearray, memoryview)):
                    payload = call.upload
                else:
                    # http.client sends a file in pieces: it is never read whole.
                    payload = upload = open(call.upload, "rb")
            try:
                conn.request(call.method, target, body=payload, headers=headers)
            except (BrokenPipeError, ConnectionResetError):
                # A refused upload (413) is answered and the connection closed
                # while the body is still going out: the answer may be there.
                if call.upload is None:
                    raise
            response = conn.getresponse()
            if call.sink is None or response.status not in call.ok:
                return response, response.read()
            _write_atomically(response, call.sink)
            return response, None
        finally:
            if upload is not None:
                upload.close()


def _dropped(conn: http.client.HTTPConnection) -> bool:
    """Whether an idle keep-alive connection is unusable: the daemon closed
    it (its end of file is readable) or sent something unasked."""
    if conn.sock is None:
        return True
    try:
        readable, _, _ = select.select([conn.sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


def _replayable(call: Call[Any]) -> bool:
    """Whether sending `call` twice does what sending it once does: the
    idempotent methods, and a submit that carries an idempotency key (the
    daemon answers the second with the first's job)."""
    if call.method in ("GET", "HEAD", "PUT", "DELETE", "OPTIONS"):
        return True
    return (call.method == "POST" and call.route == "/v1/jobs" and isinstance(call.body, dict)
            and bool(call.body.get("idempotency_key")))


def _write_atomically(source: BinaryIO | http.client.HTTPResponse, path: str | os.PathLike[str]) -> None:
    """Copies `source` into a temporary file next to `path`, in 64 KiB
    pieces, and renames it to `path` once complete: `path` never holds a
    partial download."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".overseer-download-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            shutil.copyfileobj(source, f, 64 * 1024)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def stream_url(base_url: str) -> str:
    """The WebSocket URL of the stream for an http(s) base URL."""
    parts = urlsplit(base_url)
    scheme = "wss" if parts.scheme == "https" else "ws"
    return f"{scheme}://{parts.netloc}{parts.path.rstrip('/')}/v1/stream"


def labels_filter(tool: str | None, labels: Mapping[str, str] | None) -> dict[str, Any] | None:
    f: dict[str, Any] = {}
    if tool is not None:
        f["tool"] = tool
    if labels:
        f["labels"] = dict(labels)
    return f or None


__all__: Sequence[str] = ["Call", "Transport", "ROUTES", "stream_url"]
