"""The reconnect logic of watch() against a scripted stream server: each
connection answers the subscription, sends some events and drops; the watch
must resubscribe with since = the last seq it yielded, skip anything at or
below it, and give up once reconnecting fails for reconnect_timeout."""
from __future__ import annotations

import asyncio
import json
import struct
import unittest

from overseer_client import AsyncClient, ProgressEvent, Subscribed, TransportError
from overseer_client._websocket import OP_TEXT, accept_key, read_frame


def text_frame(message: dict[str, object]) -> bytes:
    payload = json.dumps(message).encode()
    return struct.pack("!BBH", 0x80 | OP_TEXT, 126, len(payload)) + payload


def progress(seq: int) -> dict[str, object]:
    return {"type": "progress", "seq": seq, "job_id": "job_1", "at": "2026-11-25T00:00:00.000Z",
            "progress": {"percent": seq, "current_step": 0, "total_steps": 0, "step_name": ""}}


class ScriptedServer:
    """Connection n sends script[n] after the `subscribed`, then drops."""

    def __init__(self, script: list[list[int | dict[str, object]]]):
        self.script = script
        self.subscribes: list[dict[str, object]] = []
        self.server: asyncio.base_events.Server | None = None

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode()
        key = next(line.split(":", 1)[1].strip() for line in head.split("\r\n")
                   if line.lower().startswith("sec-websocket-key"))
        writer.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      f"Sec-WebSocket-Accept: {accept_key(key)}\r\n\r\n").encode())
        _, _, payload = await read_frame(reader)
        subscribe = json.loads(payload)
        n = len(self.subscribes)
        self.subscribes.append(subscribe)
        writer.write(text_frame({"type": "subscribed", "job_id": "job_1", "seq": 2}))
        for item in self.script[n] if n < len(self.script) else []:
            writer.write(text_frame(item if isinstance(item, dict) else progress(item)))
        await writer.drain()
        writer.close()
        if n + 1 >= len(self.script) and self.server is not None:
            self.server.close()  # later connections are refused

    async def __aenter__(self) -> str:
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()


class ResumeTest(unittest.IsolatedAsyncioTestCase):
    async def test_reconnects_resume_after_the_last_seq_and_skip_repeats(self) -> None:
        server = ScriptedServer([[3, 4], [4, 5, 3, 6], [6, 7]])
        async with server as url:
            client = AsyncClient(url, reconnect_timeout=0.5)
            items = []
            with self.assertRaises(TransportError):
                async for item in client.watch("job_1"):
                    items.append(item)
        self.assertIsInstance(items[0], Subscribed)
        self.assertEqual(sum(isinstance(i, Subscribed) for i in items), 1, "one Subscribed per watch")
        self.assertEqual([i.seq for i in items[1:] if isinstance(i, ProgressEvent)], [3, 4, 5, 6, 7])
        self.assertEqual([s.get("since") for s in server.subscribes], [None, 4, 6])
        self.assertEqual({s["job_id"] for s in server.subscribes}, {"job_1"})

    async def test_a_given_since_is_the_first_resume_point(self) -> None:
        server = ScriptedServer([[1, 2, 3, 4], [4, 5]])
        async with server as url:
            client = AsyncClient(url, reconnect_timeout=0.5)
            items = []
            with self.assertRaises(TransportError):
                async for item in client.watch("job_1", since=2):
                    items.append(item)
        self.assertEqual([i.seq for i in items if isinstance(i, ProgressEvent)], [3, 4, 5])
        self.assertEqual([s.get("since") for s in server.subscribes], [2, 4])

    async def test_caught_up_moves_the_resume_point_and_is_not_yielded(self) -> None:
        # The replay read up to seq 9 (other jobs' events past 3): the next
        # connection resumes there, not at 3.
        server = ScriptedServer([[3, {"type": "caught_up", "job_id": "job_1", "seq": 9}], [10]])
        async with server as url:
            client = AsyncClient(url, reconnect_timeout=0.5)
            items = []
            with self.assertRaises(TransportError):
                async for item in client.watch("job_1", since=2):
                    items.append(item)
        self.assertEqual([type(i).__name__ for i in items], ["Subscribed", "ProgressEvent", "ProgressEvent"])
        self.assertEqual([i.seq for i in items if isinstance(i, ProgressEvent)], [3, 10])
        self.assertEqual([s.get("since") for s in server.subscribes], [2, 9])


if __name__ == "__main__":
    unittest.main()
