"""The ``native`` transport: an ``asyncio.Protocol`` whose WebSocket framing is parsed by the engine's Rust decoder.

Each socket read is one call into Rust (:class:`tapeflow._core.WsReader`), which returns every complete message of
it as a list of ``bytes``: the batch the feed takes, with no Python work per frame. Control frames are answered here,
in the protocol callback, so a ping never waits for the engine: a ping gets its pong at once, a pong resolves the
ping waiters (oldest first), a close frame is answered with a close and the connection ends. The HTTP/1.1 upgrade
is written and checked here too (status 101, ``Sec-WebSocket-Accept``); no extension or subprotocol is asked for.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import os
import ssl as ssl_module
import struct
import urllib.parse
from collections.abc import Awaitable

from tapeflow._aio import retrieved
from tapeflow._core import WsReader, encode_client_frame
from tapeflow.errors import WebSocketProtocolError
from tapeflow.feeds.transports.base import FrameBuffer, Link, LinkClosed

__all__ = ["NativeTransport"]

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_OP_TEXT, _OP_CLOSE, _OP_PING, _OP_PONG = 0x1, 0x8, 0x9, 0xA
_MAX_HEAD = 64 * 1024  # response head size limit
_urandom = os.urandom


def _accept(key: bytes) -> bytes:
    return base64.b64encode(hashlib.sha1(key + _GUID).digest())


def _parse_head(head: bytes) -> tuple[int, str, dict[str, str]]:
    """Status code, reason phrase and headers (names lower-cased; repeated ones joined with commas)."""
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise ValueError(f"not an HTTP response: {lines[0][:100]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise ValueError(f"bad header line {line[:100]!r}")
        name, value = name.strip().lower(), value.strip()
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return int(parts[1]), parts[2] if len(parts) > 2 else "", headers


class _NativeProtocol(asyncio.Protocol):
    def __init__(self, url: str, request: bytes, key: bytes, max_message_size: int) -> None:
        self.url = url
        self.request = request
        self.key = key
        self.reader = WsReader(max_message_size)
        self.loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        self.head = bytearray()
        self.upgraded = False
        self.handshake: asyncio.Future[None] = self.loop.create_future()
        self.handshake.add_done_callback(retrieved)  # a failure nobody waits for any more is not an error
        self.buffer = FrameBuffer(url, self._pause, self._resume)
        self.closed = False  # the TCP connection is gone
        self.close_sent = False
        self.lost: asyncio.Future[None] = self.loop.create_future()
        self.pings: list[tuple[bytes, float, asyncio.Future[float]]] = []  # (payload, sent at, waiter), oldest first
        self.ping_count = 0

    # -------------------------------------------------------------------------------- asyncio callbacks
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self.request)

    def _pause(self) -> None:
        if self.transport is not None:
            self.transport.pause_reading()

    def _resume(self) -> None:
        if self.transport is not None:
            self.transport.resume_reading()

    def data_received(self, data: bytes) -> None:
        if self.upgraded:
            self._feed(data)  # the hot path: one call into Rust per read
        else:
            self._handshake_data(data)

    @property
    def reason(self) -> str:
        return self.buffer.reason

    @reason.setter
    def reason(self, why: str) -> None:
        self.buffer.reason = why

    def eof_received(self) -> bool | None:
        if self.reason == "closed":
            self.reason = "closed by the server (EOF)"
        return None  # close the transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if exc is not None and self.reason == "closed":
            self.reason = f"connection lost: {exc}"
        if not self.handshake.done():
            self.handshake.set_exception(LinkClosed(f"connection to {self.url} closed during the handshake"))
        if not self.lost.done():
            self.lost.set_result(None)
        for _, _, fut in self.pings:
            if not fut.done():
                fut.set_exception(LinkClosed(f"connection to {self.url} closed"))
        self.pings.clear()
        self.buffer.close()

    # -------------------------------------------------------------------------------- frames
    def _feed(self, data: bytes) -> None:
        try:
            messages, controls = self.reader.feed(data)
        except WebSocketProtocolError as e:
            self.buffer.extend(e.messages)
            self._fail(f"WebSocket protocol error: {e}")
            return
        if messages:
            self.buffer.extend(messages)
        if controls is not None:
            self._controls(controls)

    def _controls(self, controls: list[tuple[int, bytes]]) -> None:
        for opcode, payload in controls:
            if opcode == _OP_PING:
                self._send_quiet(_OP_PONG, payload)
            elif opcode == _OP_PONG:
                self._pong(payload)
            elif opcode == _OP_CLOSE:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                reason = payload[2:].decode("utf-8", "replace")
                self.reason = f"closed by the server (code {code}{', ' + reason if reason else ''})"
                if not self.close_sent:
                    self.close_sent = True
                    self._send_quiet(_OP_CLOSE, payload[:2])  # echo the code, as RFC 6455 asks
                if self.transport is not None:
                    self.transport.close()

    def _pong(self, payload: bytes) -> None:
        # A pong answers the ping with its payload and every ping before it; an unsolicited pong answers nothing.
        idx = next((i for i, (p, _, _) in enumerate(self.pings) if p == payload), -1)
        if idx < 0:
            return
        now = self.loop.time()
        for _, sent, fut in self.pings[: idx + 1]:
            if not fut.done():
                fut.set_result(now - sent)
        del self.pings[: idx + 1]

    def _fail(self, reason: str) -> None:
        """Drops the connection after a protocol violation (RFC 6455 §7.1.7: fail the connection)."""
        self.reason = reason
        if self.transport is not None:
            self.transport.abort()

    def _send_quiet(self, opcode: int, payload: bytes) -> None:
        """Sends from a protocol callback: a connection already closing takes nothing and raises nothing."""
        t = self.transport
        if not self.closed and t is not None and not t.is_closing():
            t.write(encode_client_frame(opcode, payload, _urandom(4)))

    def send_frame(self, opcode: int, payload: bytes) -> None:
        t = self.transport
        if self.closed or t is None or t.is_closing():
            raise LinkClosed(f"connection to {self.url} closed ({self.reason})")
        t.write(encode_client_frame(opcode, payload, _urandom(4)))

    # -------------------------------------------------------------------------------- handshake
    def _handshake_data(self, data: bytes) -> None:
        self.head += data
        end = self.head.find(b"\r\n\r\n")
        if end < 0:
            if len(self.head) > _MAX_HEAD:
                self._refuse(f"no end of the HTTP response head within {_MAX_HEAD} bytes")
            return
        head, rest = bytes(self.head[:end]), bytes(self.head[end + 4 :])
        self.head = bytearray()
        try:
            status, phrase, headers = _parse_head(head)
        except ValueError as e:
            self._refuse(str(e))
            return
        if status != 101:
            body = rest[:200].decode("utf-8", "replace").strip()
            self._refuse(f"HTTP {status} {phrase}".rstrip() + (f": {body}" if body else ""), status)
            return
        if headers.get("upgrade", "").lower() != "websocket":
            self._refuse(f"HTTP 101 without 'Upgrade: websocket' (got {headers.get('upgrade')!r})", status)
            return
        if "upgrade" not in [v.strip().lower() for v in headers.get("connection", "").split(",")]:
            self._refuse(f"HTTP 101 without 'Connection: Upgrade' (got {headers.get('connection')!r})", status)
            return
        if headers.get("sec-websocket-accept", "").encode() != _accept(self.key):
            self._refuse("HTTP 101 with a wrong Sec-WebSocket-Accept", status)
            return
        if headers.get("sec-websocket-extensions") or headers.get("sec-websocket-protocol"):
            self._refuse("HTTP 101 with an extension or subprotocol that was not asked for", status)
            return
        self.upgraded = True
        self.handshake.set_result(None)
        if rest:
            self._feed(rest)

    def _refuse(self, why: str, status: int | None = None) -> None:
        self.reason = f"upgrade refused: {why}"
        if not self.handshake.done():
            self.handshake.set_exception(
                LinkClosed(f"cannot open {self.url}: server refused the WebSocket upgrade: {why}")
            )
        if self.transport is not None:
            self.transport.abort()


class _NativeLink:
    def __init__(self, proto: _NativeProtocol, url: str) -> None:
        self.proto = proto
        self.url = url

    async def recv_batch(self) -> list[bytes]:
        return await self.proto.buffer.take()

    async def send_text(self, text: str) -> None:
        self.proto.send_frame(_OP_TEXT, text.encode())

    async def ping(self) -> Awaitable[float]:
        p = self.proto
        p.ping_count += 1
        payload = struct.pack("!Q", p.ping_count)
        fut: asyncio.Future[float] = p.loop.create_future()
        p.send_frame(_OP_PING, payload)
        p.pings.append((payload, p.loop.time(), fut))
        return fut

    async def close(self) -> None:
        p = self.proto
        with contextlib.suppress(Exception):
            if not p.close_sent and not p.closed:
                p.close_sent = True
                p.send_frame(_OP_CLOSE, struct.pack("!H", 1000))
                await asyncio.wait_for(asyncio.shield(p.lost), 2.0)
        self.abort()

    def abort(self) -> None:
        t = self.proto.transport
        if t is not None:
            t.abort()


def _request(u: urllib.parse.SplitResult, key: bytes) -> bytes:
    host = u.netloc.rpartition("@")[2]
    path = (u.path or "/") + (f"?{u.query}" if u.query else "")
    return (
        f"GET {path} HTTP/1.1\r\n"
        f"Host: {host}\r\n"
        "Upgrade: websocket\r\n"
        "Connection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key.decode()}\r\n"
        "Sec-WebSocket-Version: 13\r\n"
        "\r\n"
    ).encode()


async def connect_native(
    url: str, open_timeout: float, ssl: ssl_module.SSLContext | None = None, max_message_size: int = 64 << 20
) -> Link:
    """Opens ``url`` (``ws://`` or ``wss://``); ``ssl`` is the TLS context of ``wss://`` (default: the system's)."""
    u = urllib.parse.urlsplit(url)
    if u.scheme not in ("ws", "wss") or not u.hostname:
        raise ValueError(f"not a ws:// or wss:// URL: {url!r}")
    secure = u.scheme == "wss"
    ctx = (ssl if ssl is not None else ssl_module.create_default_context()) if secure else None
    key = base64.b64encode(_urandom(16))
    loop = asyncio.get_running_loop()
    port = u.port or (443 if secure else 80)
    proto: _NativeProtocol | None = None
    try:
        async with asyncio.timeout(open_timeout):
            _, proto = await loop.create_connection(
                lambda: _NativeProtocol(url, _request(u, key), key, max_message_size),
                u.hostname,
                port,
                ssl=ctx,
                server_hostname=u.hostname if ctx is not None else None,
            )
            await proto.handshake
    except BaseException as e:
        if proto is not None:
            if proto.transport is not None:
                proto.transport.abort()
            if proto.handshake.done() and not proto.handshake.cancelled():
                proto.handshake.exception()  # retrieved: raised below or replaced by the timeout
        if isinstance(e, TimeoutError):
            raise LinkClosed(f"cannot open {url}: no WebSocket upgrade within {open_timeout:g} s") from e
        raise
    return _NativeLink(proto, url)


class NativeTransport:
    """WebSocket framing parsed in Rust: a socket read of hundreds of frames is one Python call.

    Args:
        ssl: TLS context for ``wss://`` URLs (default: ``ssl.create_default_context()``, the system's CAs).
        max_message_size: a larger message is a protocol error and drops the connection (default 64 MiB).
    """

    name = "native"

    def __init__(self, ssl: ssl_module.SSLContext | None = None, *, max_message_size: int = 64 << 20) -> None:
        self.ssl = ssl
        self.max_message_size = max_message_size
        self._default_ssl: ssl_module.SSLContext | None = None

    async def connect(self, url: str, *, open_timeout: float = 10.0) -> Link:
        ctx = self.ssl
        if ctx is None and url[:4].lower() == "wss:":
            if self._default_ssl is None:  # made once: loading the system's CAs takes a while
                self._default_ssl = ssl_module.create_default_context()
            ctx = self._default_ssl
        return await connect_native(url, open_timeout, ctx, self.max_message_size)
