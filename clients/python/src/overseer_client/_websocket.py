"""A minimal RFC 6455 WebSocket client on asyncio streams, enough for the
stream: text messages (fragmented or not), ping/pong and the closing
handshake. A refused upgrade keeps the daemon's answer, so its problem
document reaches the caller (a library would hide the body).
"""
from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import ssl
import struct
from urllib.parse import urlsplit

from .errors import TransportError

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
#: Largest message accepted from the daemon; a job snapshot with a big result fits.
MAX_MESSAGE = 64 * 1024 * 1024
#: The daemon pings a client it has not heard from for 150 s, and a watch
#: sends nothing after subscribing, so a healthy connection brings a frame at
#: least every 150 s; silence for this long means the peer is gone.
IDLE_TIMEOUT_S = 330.0


class HandshakeRefused(Exception):
    """The daemon answered the upgrade with something other than 101."""

    def __init__(self, status: int, reason: str, headers: dict[str, str], body: bytes):
        super().__init__(f"upgrade refused: {status} {reason}")
        self.status, self.reason, self.headers, self.body = status, reason, headers, body


class ConnectionClosed(Exception):
    """The connection ended; `code` is the close code (1006 when no close frame came)."""

    def __init__(self, code: int, reason: str):
        super().__init__(f"closed with {code} {reason}".rstrip())
        self.code, self.reason = code, reason


def mask(payload: bytes, key: bytes) -> bytes:
    n = len(payload)
    repeated = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(n, "big")


def encode_frame(opcode: int, payload: bytes, key: bytes | None = None) -> bytes:
    """One final frame; clients mask every frame they send (RFC 6455 5.3)."""
    key = key if key is not None else os.urandom(4)
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 1 << 16:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    return head + key + mask(payload, key)


async def read_frame(reader: asyncio.StreamReader) -> tuple[bool, int, bytes]:
    """(fin, opcode, payload) of the next frame."""
    b0, b1 = await reader.readexactly(2)
    n = b1 & 0x7F
    if n == 126:
        (n,) = struct.unpack("!H", await reader.readexactly(2))
    elif n == 127:
        (n,) = struct.unpack("!Q", await reader.readexactly(8))
    if n > MAX_MESSAGE:
        raise ConnectionClosed(1009, f"a frame of {n} bytes is over the limit")
    key = await reader.readexactly(4) if b1 & 0x80 else None
    payload = await reader.readexactly(n)
    return bool(b0 & 0x80), b0 & 0x0F, mask(payload, key) if key else payload


def accept_key(key: str) -> str:
    return base64.b64encode(hashlib.sha1(key.encode() + _GUID).digest()).decode()


class WebSocket:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 idle_timeout: float = IDLE_TIMEOUT_S):
        self._reader, self._writer = reader, writer
        self._idle_timeout = idle_timeout
        self._closed = False

    async def send(self, text: str) -> None:
        self._writer.write(encode_frame(OP_TEXT, text.encode()))
        await self._writer.drain()

    async def recv(self) -> str:
        """The next text message; raises ConnectionClosed when the connection ends."""
        parts: list[bytes] = []
        size = 0
        while True:
            try:
                fin, opcode, payload = await asyncio.wait_for(read_frame(self._reader), self._idle_timeout)
            except asyncio.TimeoutError:
                await self.close(1001)
                raise ConnectionClosed(1006, f"nothing received for {self._idle_timeout} s") from None
            except (asyncio.IncompleteReadError, OSError) as e:
                raise ConnectionClosed(1006, str(e)) from e
            if opcode == OP_PING:
                self._writer.write(encode_frame(OP_PONG, payload))
                continue
            if opcode == OP_PONG:
                continue
            if opcode == OP_CLOSE:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                reason = payload[2:].decode("utf-8", "replace")
                await self.close(code if code not in (1005, 1006) else 1000)
                raise ConnectionClosed(code, reason)
            if opcode == OP_BINARY or (opcode == OP_CONT) != bool(parts):
                await self.close(1002)
                raise ConnectionClosed(1002, f"unexpected frame opcode {opcode}")
            size += len(payload)
            if size > MAX_MESSAGE:
                await self.close(1009)
                raise ConnectionClosed(1009, "message over the limit")
            parts.append(payload)
            if fin:
                return b"".join(parts).decode("utf-8")

    async def close(self, code: int = 1000) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self._writer.write(encode_frame(OP_CLOSE, struct.pack("!H", code)))
            await self._writer.drain()
        except OSError:
            pass
        self._writer.close()
        try:
            await self._writer.wait_closed()
        except OSError:
            pass


async def connect(url: str, headers: dict[str, str], timeout: float) -> WebSocket:
    """Opens `ws://` or `wss://` URL; raises HandshakeRefused with the answer
    when the server does not switch protocols, TransportError otherwise."""
    parts = urlsplit(url)
    secure = parts.scheme == "wss"
    host = parts.hostname or ""
    port = parts.port or (443 if secure else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, ssl=ssl.create_default_context() if secure else None,
                                    limit=1 << 20),
            timeout)
    except (OSError, asyncio.TimeoutError) as e:
        raise TransportError(f"cannot connect to {parts.netloc}: {e or 'timed out'}") from e
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [f"GET {target} HTTP/1.1", f"Host: {parts.netloc}", "Upgrade: websocket",
             "Connection: Upgrade", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    try:
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        _, status, reason = (status_line.split(" ", 2) + [""])[:3]
        answer = {}
        for line in header_lines:
            if ":" in line:
                name, value = line.split(":", 1)
                answer[name.strip().lower()] = value.strip()
        if int(status) != 101:
            length = min(int(answer.get("content-length", "0")), 1 << 20)
            body = await asyncio.wait_for(reader.readexactly(length), timeout)
            writer.close()
            raise HandshakeRefused(int(status), reason, answer, body)
        if answer.get("sec-websocket-accept") != accept_key(key):
            writer.close()
            raise TransportError(f"{url}: the server answered the upgrade with a wrong Sec-WebSocket-Accept")
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
            asyncio.TimeoutError, ValueError) as e:
        writer.close()
        raise TransportError(f"WebSocket handshake with {parts.netloc} failed: {e!r}") from e
    return WebSocket(reader, writer)
