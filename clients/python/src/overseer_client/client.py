"""`Client` (blocking) and `AsyncClient` (asyncio): one method per endpoint.

Both send the same requests (`_http`); `AsyncClient` runs each on a worker
thread (`asyncio.to_thread`) so the event loop never blocks, and streams
natively on asyncio. A `Client` may be shared by threads; close it (or use it
as a context manager) to drop its idle keep-alive connections.

    with Client("http://127.0.0.1:8080") as c:
        job = c.submit(JobSpec(tool="sleep", params={"seconds": 1}))
        print(c.wait(job.job_id, timeout=30).status)
        print(c.run(JobSpec(tool="noop"), wait=10).job)   # submit and wait, one request
"""
from __future__ import annotations

import asyncio
import os
import threading
from datetime import datetime
from typing import Any, AsyncGenerator, Coroutine, Iterator, Mapping, TypeVar

from . import _http, _stream
from . import types as t

T = TypeVar("T")
_DEFAULT_TIMEOUT = 30.0


class Watch(Iterator[t.StreamItem]):
    """A blocking iterator over the stream: the first item is the
    `Subscribed` acknowledgement, then every event once, in `seq` order,
    across reconnects. It runs its own event loop; `close()` (or `with`) ends
    the connection."""

    def __init__(self, items: AsyncGenerator[t.StreamItem, None]):
        self._loop = asyncio.new_event_loop()
        self._items = items
        # _lock guards _reading and _closing; _owner is held while this
        # watch's loop runs (a read, run(), the teardown), so that only one
        # thread drives it. close() from another thread cancels the read
        # under way, then waits for _owner and tears down.
        self._lock = threading.Lock()
        self._owner = threading.RLock()
        self._reading: asyncio.Task[t.StreamItem] | None = None
        self._closing = False

    def __next__(self) -> t.StreamItem:
        with self._owner:
            with self._lock:
                stop = self._closing or self._loop.is_closed()
                if not stop:
                    self._reading = self._loop.create_task(self._next_item())
                reading = self._reading
            if stop or reading is None:
                self._teardown()
                raise StopIteration
            try:
                return self._loop.run_until_complete(reading)
            except StopAsyncIteration:
                self._teardown()
                raise StopIteration from None
            except asyncio.CancelledError:
                self._teardown()
                if self._closing:
                    raise StopIteration from None
                raise
            except BaseException:
                self._teardown()  # the generator has ended with the error
                raise
            finally:
                with self._lock:
                    self._reading = None

    async def _next_item(self) -> t.StreamItem:
        return await self._items.__anext__()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Runs a coroutine on this watch's event loop (how `Client.wait` reads it)."""
        with self._owner:
            return self._loop.run_until_complete(coroutine)

    def close(self) -> None:
        """Ends the watch and its connection. From another thread, while one
        iterates, it ends that iteration (StopIteration there) and returns
        once the connection is closed."""
        with self._lock:
            self._closing = True
            if self._reading is not None:
                try:
                    self._loop.call_soon_threadsafe(self._reading.cancel)
                except RuntimeError:
                    pass  # the loop has just been closed: nothing to cancel
        with self._owner:
            self._teardown()

    def _teardown(self) -> None:
        """With _owner held: closes the stream and the loop, once."""
        if not self._loop.is_closed():
            self._loop.run_until_complete(self._items.aclose())
            self._loop.run_until_complete(self._loop.shutdown_default_executor())
            self._loop.close()

    def __enter__(self) -> Watch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Base:
    def __init__(self, url: str, token: str | None = None, *, timeout: float = _DEFAULT_TIMEOUT,
                 reconnect_timeout: float | None = 60.0):
        """`url` is the daemon's base URL (`http://127.0.0.1:8080`); `token` a
        bearer token; `timeout` bounds each request and connection attempt;
        `reconnect_timeout` is how long a watch keeps reconnecting before it
        raises TransportError (None: forever)."""
        self._transport = _http.Transport(url, token, timeout)
        self._token = token
        self._timeout = timeout
        self._reconnect_timeout = reconnect_timeout

    @property
    def url(self) -> str:
        return self._transport.url

    def _events(self, job_id: str | None, batch_id: str | None, all: bool, tool: str | None,
                labels: Mapping[str, str] | None, logs: bool, since: int | None) -> AsyncGenerator[t.StreamItem, None]:
        sub = _stream.Subscription(job_id=job_id, batch_id=batch_id, all=all,
                                   filter=_http.labels_filter(tool, labels), logs=logs)
        return _stream.watch(_http.stream_url(self.url), self._token, sub, since,
                             self._reconnect_timeout, self._timeout)

    def close(self) -> None:
        self._transport.close()


class Client(_Base):
    """The blocking client. Errors are `overseer_client.errors.OverseerError`s."""

    def _run(self, call: _http.Call[T]) -> T:
        return self._transport.send(call)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def submit(self, spec: t.JobSpec | Mapping[str, Any], *, traceparent: str | None = None) -> t.Submitted:
        """Submits a job; answers once it is durable (also for an immediate
        tool: `run` waits). `existing` is true for an idempotent repeat.
        `traceparent` (W3C) gives the job its trace id unless the spec has one."""
        return self._run(_http.submit(spec, traceparent=traceparent))

    def run(self, spec: t.JobSpec | Mapping[str, Any], *, wait: float = 30.0,
            traceparent: str | None = None) -> t.RunResult:
        """Submits a job and waits up to `wait` seconds (the daemon caps it at
        its --max-wait) for its end, in one request: `RunResult.job` is the
        final view (of whatever final status) if it ended in time, else
        `RunResult.submitted` is the submit answer and the job goes on.
        `wait=0` answers at once, like `submit`."""
        return self._run(_http.run(spec, wait=wait, traceparent=traceparent))

    def list_jobs(self, *, status: str | None = None, tool: str | None = None,
                  labels: Mapping[str, str] | None = None, batch_id: str | None = None,
                  trace_id: str | None = None, name_contains: str | None = None,
                  created_after: datetime | str | None = None, created_before: datetime | str | None = None,
                  limit: int | None = None, offset: int | None = None,
                  page: int | None = None, page_size: int | None = None) -> t.JobList:
        """Jobs newest first; every filter given must match (`labels` all of them;
        `name_contains` a part of the name, ASCII letters in any case)."""
        return self._run(_http.list_jobs(status=status, tool=tool, labels=labels, batch_id=batch_id,
                                         trace_id=trace_id, name_contains=name_contains,
                                         created_after=created_after, created_before=created_before,
                                         limit=limit, offset=offset, page=page, page_size=page_size))

    def get(self, job_id: str, *, wait: float | None = None) -> t.Job:
        """The job's view. With `wait` (seconds), a long poll: the view once
        the job has ended, or as it is when the wait runs out."""
        return self._run(_http.get(job_id, wait=wait))

    def result(self, job_id: str) -> Any:
        """The tool's result; ConflictError (with `job_status`) unless completed."""
        return self._run(_http.result(job_id))

    def logs(self, job_id: str, *, level: str | None = None, limit: int | None = None,
             offset: int | None = None) -> t.LogPage:
        return self._run(_http.logs(job_id, level=level, limit=limit, offset=offset))

    def history(self, job_id: str) -> list[t.Transition]:
        return self._run(_http.history(job_id))

    def deliveries(self, job_id: str) -> list[t.Delivery]:
        """The job's webhook deliveries (its `notify.url`, the daemon's
        `--webhook`), pending and finished, in `seq` order."""
        return self._run(_http.deliveries(job_id))

    def cancel(self, job_id: str, reason: str | None = None) -> t.Job:
        """Cancels a pending, retrying or running job; ConflictError once terminal.
        `reason` (one line, at most 500 bytes) is kept in the job's history."""
        return self._run(_http.cancel(job_id, reason))

    def retry(self, job_id: str, reason: str | None = None) -> t.Job:
        """Re-queues a failed, timed_out or cancelled job with a fresh retry budget."""
        return self._run(_http.retry(job_id, reason))

    def submit_batch(self, batch: t.BatchSpec | Mapping[str, Any], *,
                     traceparent: str | None = None) -> t.BatchSubmitted:
        """Submits every job of the batch, or none (BadRequestError naming
        `jobs[i].field`); `traceparent` traces every job without a trace id."""
        return self._run(_http.submit_batch(batch, traceparent=traceparent))

    def get_batch(self, batch_id: str) -> t.Batch:
        return self._run(_http.get_batch(batch_id))

    def cancel_batch(self, batch_id: str, reason: str | None = None) -> t.Batch:
        return self._run(_http.cancel_batch(batch_id, reason))

    def cache_stats(self) -> t.CacheStats:
        return self._run(_http.cache_stats())

    def clear_cache(self, *, tool: str | None = None, labels: Mapping[str, str] | None = None) -> int:
        """Removes cache entries (of `tool`, of source jobs with `labels`); returns how many."""
        return self._run(_http.clear_cache(tool=tool, labels=labels))

    def tools(self) -> list[t.Tool]:
        return self._run(_http.tools())

    def nodes(self) -> list[t.Node]:
        """The cluster's nodes, this one first (admins and readers)."""
        return self._run(_http.nodes())

    def health(self) -> t.Health:
        """Health; an unhealthy daemon's 503 is returned, not raised."""
        return self._run(_http.health())

    def pause_tool(self, name: str, reason: str | None = None) -> t.ToolState:
        """Pauses a tool: its queued jobs wait, running ones go on. `reason`
        (one line, at most 500 bytes) is kept after who paused it."""
        return self._run(_http.pause_tool(name, reason))

    def resume_tool(self, name: str, reason: str | None = None) -> t.ToolState:
        """Lifts a tool's pause (an operator's or its restart intensity's).
        `reason` (one line, at most 500 bytes) goes in the server's audit log."""
        return self._run(_http.resume_tool(name, reason))

    def metrics(self, time_range: str | None = None) -> t.Metrics:
        """Finished jobs over the last "1h", "24h" (the default) or "7d"."""
        return self._run(_http.metrics(time_range))

    def cancel_jobs(self, *, status: str | None = None, tool: str | None = None,
                    labels: Mapping[str, str] | None = None, batch_id: str | None = None,
                    trace_id: str | None = None, name_contains: str | None = None,
                    created_after: datetime | str | None = None, created_before: datetime | str | None = None,
                    all: bool = False, dry_run: bool = False, reason: str | None = None) -> t.BulkCancelled:
        """Cancels every unfinished job that matches (name a filter, or all=True); `dry_run` only counts."""
        return self._run(_http.cancel_jobs(status=status, tool=tool, labels=labels, batch_id=batch_id,
                                           trace_id=trace_id, name_contains=name_contains,
                                           created_after=created_after, created_before=created_before,
                                           all=all, dry_run=dry_run, reason=reason))

    def purge_jobs(self, *, status: str | None = None, tool: str | None = None,
                   labels: Mapping[str, str] | None = None, batch_id: str | None = None,
                   trace_id: str | None = None, name_contains: str | None = None,
                   created_after: datetime | str | None = None, created_before: datetime | str | None = None,
                   all: bool = False, dry_run: bool = False) -> t.BulkPurged:
        """Deletes every finished job that matches (name a filter, or all=True); `dry_run` only counts."""
        return self._run(_http.purge_jobs(status=status, tool=tool, labels=labels, batch_id=batch_id,
                                          trace_id=trace_id, name_contains=name_contains,
                                          created_after=created_after, created_before=created_before,
                                          all=all, dry_run=dry_run))

    def list_batches(self, *, status: str | None = None, name: str | None = None,
                     created_after: datetime | str | None = None, created_before: datetime | str | None = None,
                     limit: int | None = None, offset: int | None = None) -> t.BatchList:
        """Batches newest first, without their job lists; every filter given must match."""
        return self._run(_http.list_batches(status=status, name=name, created_after=created_after,
                                            created_before=created_before, limit=limit, offset=offset))

    def upload_file(self, data: _http.Upload, *, name: str | None = None) -> t.FileInfo:
        """Stores a file: `data` is bytes or the path of a local file, which is
        streamed from disk (never read whole). `name` defaults to a path's
        base name (bytes need one). PayloadTooLargeError over the daemon's
        --max-file-size. A job names it by `file_id` in a `file` param."""
        return self._run(_http.upload_file(data, name))

    def list_files(self, *, limit: int | None = None, cursor: str | None = None) -> t.FileList:
        """Files newest first; pass `next_cursor` as `cursor` for the next page."""
        return self._run(_http.list_files(limit=limit, cursor=cursor))

    def download_file(self, file_id: str, to: str | os.PathLike[str] | None = None, *,
                      range: tuple[int, int | None] | None = None) -> bytes | None:
        """The file's bytes; with `to`, written to that path instead (streamed,
        renamed into place once complete) and None returned. `range` is
        `(start, end)`, both inclusive (`end` None: to the end of the file)."""
        return self._run(_http.download_file(file_id, to=to, range=range))

    def delete_file(self, file_id: str) -> bool:
        """Deletes the file; ConflictError while an unfinished job uses it."""
        return self._run(_http.delete_file(file_id))

    def openapi(self) -> str:
        """The daemon's OpenAPI document (YAML text)."""
        return self._run(_http.openapi())

    def watch(self, job_id: str | None = None, *, batch_id: str | None = None, all: bool = False,
              tool: str | None = None, labels: Mapping[str, str] | None = None,
              logs: bool = False, since: int | None = None) -> Watch:
        """Watches one job, one batch, or all jobs (optionally filtered by
        `tool`/`labels`). With `since`, replays every retained event after it first."""
        return Watch(self._events(job_id, batch_id, all, tool, labels, logs, since))

    def wait(self, job_id: str, timeout: float | None = None) -> t.Job:
        """Blocks until the job is terminal and returns its view; WaitTimeout after `timeout` s."""
        with self.watch(job_id) as w:
            async def fetch() -> t.Job:
                return self.get(job_id)
            return w.run(_stream.wait(w._items, fetch, job_id, timeout))


class AsyncClient(_Base):
    """The asyncio client: the same methods as `Client`, as coroutines."""

    async def _run(self, call: _http.Call[T]) -> T:
        return await asyncio.to_thread(lambda: self._transport.send(call))

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    async def submit(self, spec: t.JobSpec | Mapping[str, Any], *, traceparent: str | None = None) -> t.Submitted:
        return await self._run(_http.submit(spec, traceparent=traceparent))

    async def run(self, spec: t.JobSpec | Mapping[str, Any], *, wait: float = 30.0,
                  traceparent: str | None = None) -> t.RunResult:
        """`Client.run`; the waiting request holds a worker thread, not the event loop."""
        return await self._run(_http.run(spec, wait=wait, traceparent=traceparent))

    async def list_jobs(self, *, status: str | None = None, tool: str | None = None,
                        labels: Mapping[str, str] | None = None, batch_id: str | None = None,
                        trace_id: str | None = None, name_contains: str | None = None,
                        created_after: datetime | str | None = None,
                        created_before: datetime | str | None = None,
                        limit: int | None = None, offset: int | None = None,
                        page: int | None = None, page_size: int | None = None) -> t.JobList:
        return await self._run(_http.list_jobs(status=status, tool=tool, labels=labels, batch_id=batch_id,
                                               trace_id=trace_id, name_contains=name_contains,
                                               created_after=created_after, created_before=created_before,
                                               limit=limit, offset=offset, page=page, page_size=page_size))

    async def get(self, job_id: str, *, wait: float | None = None) -> t.Job:
        return await self._run(_http.get(job_id, wait=wait))

    async def result(self, job_id: str) -> Any:
        return await self._run(_http.result(job_id))

    async def logs(self, job_id: str, *, level: str | None = None, limit: int | None = None,
                   offset: int | None = None) -> t.LogPage:
        return await self._run(_http.logs(job_id, level=level, limit=limit, offset=offset))

    async def history(self, job_id: str) -> list[t.Transition]:
        return await self._run(_http.history(job_id))

    async def cancel(self, job_id: str, reason: str | None = None) -> t.Job:
        return await self._run(_http.cancel(job_id, reason))

    async def retry(self, job_id: str, reason: str | None = None) -> t.Job:
        return await self._run(_http.retry(job_id, reason))

    async def submit_batch(self, batch: t.BatchSpec | Mapping[str, Any], *,
                           traceparent: str | None = None) -> t.BatchSubmitted:
        return await self._run(_http.submit_batch(batch, traceparent=traceparent))

    async def get_batch(self, batch_id: str) -> t.Batch:
        return await self._run(_http.get_batch(batch_id))

    async def cancel_batch(self, batch_id: str, reason: str | None = None) -> t.Batch:
        return await self._run(_http.cancel_batch(batch_id, reason))

    async def cache_stats(self) -> t.CacheStats:
        return await self._run(_http.cache_stats())

    async def clear_cache(self, *, tool: str | None = None, labels: Mapping[str, str] | None = None) -> int:
        return await self._run(_http.clear_cache(tool=tool, labels=labels))

    async def tools(self) -> list[t.Tool]:
        return await self._run(_http.tools())

    async def nodes(self) -> list[t.Node]:
        """The cluster's nodes, this one first (admins and readers)."""
        return await self._run(_http.nodes())

    async def health(self) -> t.Health:
        return await self._run(_http.health())

    async def pause_tool(self, name: str, reason: str | None = None) -> t.ToolState:
        return await self._run(_http.pause_tool(name, reason))

    async def resume_tool(self, name: str, reason: str | None = None) -> t.ToolState:
        return await self._run(_http.resume_tool(name, reason))

    async def metrics(self, time_range: str | None = None) -> t.Metrics:
        return await self._run(_http.metrics(time_range))

    async def cancel_jobs(self, *, status: str | None = None, tool: str | None = None,
                          labels: Mapping[str, str] | None = None, batch_id: str | None = None,
                          trace_id: str | None = None, name_contains: str | None = None,
                          created_after: datetime | str | None = None,
                          created_before: datetime | str | None = None,
                          all: bool = False, dry_run: bool = False, reason: str | None = None) -> t.BulkCancelled:
        return await self._run(_http.cancel_jobs(status=status, tool=tool, labels=labels, batch_id=batch_id,
                                                 trace_id=trace_id, name_contains=name_contains,
                                                 created_after=created_after, created_before=created_before,
                                                 all=all, dry_run=dry_run, reason=reason))

    async def purge_jobs(self, *, status: str | None = None, tool: str | None = None,
                         labels: Mapping[str, str] | None = None, batch_id: str | None = None,
                         trace_id: str | None = None, name_contains: str | None = None,
                         created_after: datetime | str | None = None,
                         created_before: datetime | str | None = None,
                         all: bool = False, dry_run: bool = False) -> t.BulkPurged:
        return await self._run(_http.purge_jobs(status=status, tool=tool, labels=labels, batch_id=batch_id,
                                                trace_id=trace_id, name_contains=name_contains,
                                                created_after=created_after, created_before=created_before,
                                                all=all, dry_run=dry_run))

    async def list_batches(self, *, status: str | None = None, name: str | None = None,
                           created_after: datetime | str | None = None,
                           created_before: datetime | str | None = None,
                           limit: int | None = None, offset: int | None = None) -> t.BatchList:
        return await self._run(_http.list_batches(status=status, name=name, created_after=created_after,
                                                  created_before=created_before, limit=limit, offset=offset))

    async def deliveries(self, job_id: str) -> list[t.Delivery]:
        return await self._run(_http.deliveries(job_id))

    async def upload_file(self, data: _http.Upload, *, name: str | None = None) -> t.FileInfo:
        """`Client.upload_file`; a path is streamed from a worker thread."""
        return await self._run(_http.upload_file(data, name))

    async def list_files(self, *, limit: int | None = None, cursor: str | None = None) -> t.FileList:
        return await self._run(_http.list_files(limit=limit, cursor=cursor))

    async def download_file(self, file_id: str, to: str | os.PathLike[str] | None = None, *,
                            range: tuple[int, int | None] | None = None) -> bytes | None:
        return await self._run(_http.download_file(file_id, to=to, range=range))

    async def delete_file(self, file_id: str) -> bool:
        return await self._run(_http.delete_file(file_id))

    async def openapi(self) -> str:
        return await self._run(_http.openapi())

    def watch(self, job_id: str | None = None, *, batch_id: str | None = None, all: bool = False,
              tool: str | None = None, labels: Mapping[str, str] | None = None,
              logs: bool = False, since: int | None = None) -> AsyncGenerator[t.StreamItem, None]:
        """An async iterator with the semantics of `Client.watch`; `aclose()` ends it."""
        return self._events(job_id, batch_id, all, tool, labels, logs, since)

    async def wait(self, job_id: str, timeout: float | None = None) -> t.Job:
        return await _stream.wait(self.watch(job_id), lambda: self.get(job_id), job_id, timeout)
