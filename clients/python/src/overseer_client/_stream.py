"""The watch loop over /v1/stream: subscribe, yield events, and on any break
reconnect and subscribe again with `since` = the last sequence number seen
(an event's, or a replay's `caught_up`, which can be past the last event).

The daemon replays every retained event after `since` before going live, so
the consumer gets each event once, in `seq` order, across reconnects and
daemon restarts; an event at or below the last `seq` is never yielded again.
"""
from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass
from typing import Any, AsyncGenerator, Awaitable, Callable

from . import types as t
from ._websocket import ConnectionClosed, HandshakeRefused, connect
from .errors import StreamError, TransportError, WaitTimeout, problem_error

#: Upgrade answers worth retrying: the daemon is stopping, busy or behind a proxy that is.
_RETRY_STATUSES = frozenset({502, 503, 504})


@dataclass(frozen=True)
class Subscription:
    job_id: str | None = None
    batch_id: str | None = None
    all: bool = False
    filter: dict[str, Any] | None = None
    logs: bool = False

    def __post_init__(self) -> None:
        if sum((self.job_id is not None, self.batch_id is not None, self.all)) != 1:
            raise ValueError("watch exactly one of: job_id, batch_id, all=True")

    def message(self, since: int | None) -> dict[str, Any]:
        m: dict[str, Any] = {"op": "subscribe", "logs": self.logs}
        if self.job_id is not None:
            m["job_id"] = self.job_id
        elif self.batch_id is not None:
            m["batch_id"] = self.batch_id
        else:
            m["all"] = True
            if self.filter:
                m["filter"] = self.filter
        if since is not None:
            m["since"] = since
        return m


async def watch(url: str, token: str | None, sub: Subscription, since: int | None,
                reconnect_timeout: float | None, connect_timeout: float) -> AsyncGenerator[t.StreamItem, None]:
    """Yields the first `Subscribed`, then every event after it, reconnecting
    until no connection succeeded for `reconnect_timeout` seconds (None: forever)."""
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    last = since
    acknowledged = False
    delay = 0.05
    broken_since: float | None = None
    while True:
        failure: str
        try:
            ws = await connect(url, headers, connect_timeout)
        except HandshakeRefused as e:
            if e.status not in _RETRY_STATUSES:
                raise problem_error(e.status, e.reason, e.body, e.headers.get("retry-after")) from None
            failure = f"upgrade answered {e.status}"
        except TransportError as e:
            failure = str(e)
        else:
            try:
                await ws.send(json.dumps(sub.message(last)))
                while True:
                    msg = json.loads(await ws.recv())
                    kind = msg.get("type")
                    if kind == "subscribed":
                        broken_since, delay = None, 0.05
                        if last is None:
                            last = int(msg["seq"])
                        if not acknowledged:
                            acknowledged = True
                            yield t.decode(t.Subscribed, msg)
                    elif kind == "caught_up":
                        # The replay has sent everything up to its seq: a
                        # later reconnect resumes from there.
                        seq = msg.get("seq")
                        if isinstance(seq, int) and (last is None or seq > last):
                            last = seq
                    elif kind == "error":
                        raise StreamError(str(msg.get("message", "")))
                    elif kind in t.EVENT_TYPES:
                        event: t.Event = t.decode(t.EVENT_TYPES[kind], msg)
                        if last is not None and event.seq <= last:
                            continue
                        last = event.seq
                        yield event
            except ConnectionClosed as e:
                failure = str(e)
            finally:
                await ws.close()
        now = time.monotonic()
        broken_since = broken_since or now
        if reconnect_timeout is not None and now - broken_since >= reconnect_timeout:
            raise TransportError(f"the stream stayed unreachable for {reconnect_timeout} s: {failure}")
        await asyncio.sleep(delay * (0.5 + random.random()))
        delay = min(delay * 2, 2.0)


async def wait(items: AsyncGenerator[t.StreamItem, None], fetch: Callable[[], Awaitable[t.Job]],
               job_id: str, timeout: float | None) -> t.Job:
    """The job's view once it is terminal: the snapshot when it already is,
    otherwise a fresh read after its terminal transition. A timeout of 0 (or
    less) asks how the job is now: its view if it has ended, else WaitTimeout."""
    if timeout is not None and timeout <= 0:
        await items.aclose()
        job = await fetch()
        if job.terminal:
            return job
        raise WaitTimeout(f"job {job_id} has not finished (status {job.status})")
    try:
        async with asyncio.timeout(timeout):
            async for item in items:
                if isinstance(item, t.Subscribed):
                    if item.snapshot is not None and item.snapshot.terminal:
                        return item.snapshot
                elif isinstance(item, t.TransitionEvent) and item.to in t.TERMINAL:
                    return await fetch()
    except TimeoutError:
        raise WaitTimeout(f"job {job_id} did not finish within {timeout} s") from None
    finally:
        await items.aclose()
    raise TransportError(f"the stream of job {job_id} ended")
