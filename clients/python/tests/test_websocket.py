"""The WebSocket framing, without a server: lengths at each encoding
boundary, masking, fragments with a ping between them, the closing handshake."""
from __future__ import annotations

import asyncio
import struct
import unittest

from overseer_client._websocket import (OP_CLOSE, OP_CONT, OP_PING, OP_PONG, OP_TEXT, ConnectionClosed,
                                        WebSocket, accept_key, encode_frame, read_frame)


def server_frame(opcode: int, payload: bytes, fin: bool = True) -> bytes:
    """An unmasked frame, as a server sends it."""
    n = len(payload)
    first = (0x80 if fin else 0) | opcode
    if n < 126:
        return struct.pack("!BB", first, n) + payload
    if n < 1 << 16:
        return struct.pack("!BBH", first, 126, n) + payload
    return struct.pack("!BBQ", first, 127, n) + payload


class FakeWriter:
    def __init__(self) -> None:
        self.data = bytearray()
        self.closed = False

    def write(self, data: bytes) -> None:
        self.data += data

    async def drain(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True

    async def wait_closed(self) -> None:
        pass


def reader_with(data: bytes) -> asyncio.StreamReader:
    reader = asyncio.StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    return reader


async def frames_of(data: bytes) -> list[tuple[bool, int, bytes]]:
    reader = reader_with(data)
    out = []
    while not reader.at_eof():
        out.append(await read_frame(reader))
    return out


async def recv_once(data: bytes, writer: FakeWriter) -> str:
    return await WebSocket(reader_with(data), writer).recv()  # type: ignore[arg-type]


class FramingTest(unittest.TestCase):
    def test_client_frames_are_masked_and_decode_at_every_length_boundary(self) -> None:
        for n in (0, 1, 125, 126, 127, 65535, 65536, 70000):
            payload = bytes(i % 251 for i in range(n))
            frame = encode_frame(OP_TEXT, payload, key=b"\x01\x02\x03\x04")
            self.assertTrue(frame[1] & 0x80, "a client frame must be masked")
            if n:
                self.assertNotEqual(frame[-n:], payload)
            [(fin, opcode, decoded)] = asyncio.run(frames_of(frame))
            self.assertEqual((fin, opcode, decoded), (True, OP_TEXT, payload), n)
            expected_head = 2 + (0 if n < 126 else 2 if n < 65536 else 8) + 4
            self.assertEqual(len(frame), expected_head + n, n)

    def test_fragments_are_joined_and_a_ping_between_them_is_answered(self) -> None:
        data = (server_frame(OP_TEXT, b'{"type":', fin=False) + server_frame(OP_PING, b"hi")
                + server_frame(OP_CONT, "\"é\"}".encode(), fin=True) + server_frame(OP_TEXT, b"{}"))
        writer = FakeWriter()

        async def run() -> list[str]:
            ws = WebSocket(reader_with(data), writer)  # type: ignore[arg-type]
            return [await ws.recv(), await ws.recv()]
        self.assertEqual(asyncio.run(run()), ['{"type":"é"}', "{}"])
        [(fin, opcode, payload)] = asyncio.run(frames_of(bytes(writer.data)))
        self.assertEqual((fin, opcode, payload), (True, OP_PONG, b"hi"))

    def test_a_close_frame_ends_recv_with_its_code_and_reason_and_is_answered(self) -> None:
        data = server_frame(OP_CLOSE, struct.pack("!H", 1013) + b"too far behind; resume with since=48")
        writer = FakeWriter()
        with self.assertRaises(ConnectionClosed) as closed:
            asyncio.run(recv_once(data, writer))
        self.assertEqual((closed.exception.code, closed.exception.reason),
                         (1013, "too far behind; resume with since=48"))
        [(_, opcode, payload)] = asyncio.run(frames_of(bytes(writer.data)))
        self.assertEqual((opcode, payload), (OP_CLOSE, struct.pack("!H", 1013)))
        self.assertTrue(writer.closed)

    def test_a_dropped_connection_and_a_stray_continuation_are_closures(self) -> None:
        with self.assertRaises(ConnectionClosed) as dropped:
            asyncio.run(recv_once(server_frame(OP_TEXT, b"{}")[:3], FakeWriter()))
        self.assertEqual(dropped.exception.code, 1006)
        with self.assertRaises(ConnectionClosed) as stray:
            asyncio.run(recv_once(server_frame(OP_CONT, b"x"), FakeWriter()))
        self.assertEqual(stray.exception.code, 1002)

    def test_a_silent_connection_is_closed_after_the_idle_timeout(self) -> None:
        async def run() -> None:
            reader = asyncio.StreamReader()  # no data, no EOF: a peer that vanished
            writer = FakeWriter()
            with self.assertRaises(ConnectionClosed) as silent:
                await WebSocket(reader, writer, idle_timeout=0.05).recv()  # type: ignore[arg-type]
            self.assertEqual(silent.exception.code, 1006)
            self.assertTrue(writer.closed)
        asyncio.run(run())

    def test_the_accept_key_is_the_rfc_example(self) -> None:
        self.assertEqual(accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")


if __name__ == "__main__":
    unittest.main()
