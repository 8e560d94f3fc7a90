"""The transport seam: how bytes come off a WebSocket, kept apart from the connection logic.

A :class:`Transport` opens :class:`Link` objects; a link hands over every complete text frame received so far as one
batch of ``bytes`` (no decoding, no JSON), sends control messages and pings, and closes. Keepalive is the library's:
a server ping is answered from the protocol callback, so it never waits for the engine.

``WebsocketsTransport`` (the default) uses the ``websockets`` library; ``PicowsTransport`` uses ``picows`` (the
``tapeflow[picows]`` extra), a faster client written in Cython; ``NativeTransport`` parses the WebSocket framing in
the engine's Rust code (``tapeflow._core.WsReader``), one call per socket read instead of one Python callback per
frame, with no dependency beyond tapeflow itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl as ssl_module
from collections.abc import Awaitable
from typing import Any, Protocol

from websockets.asyncio.client import ClientConnection, connect
from websockets.frames import Frame, Opcode

from tapeflow.errors import FeedError

__all__ = [
    "Link",
    "LinkClosed",
    "NativeTransport",
    "PicowsTransport",
    "Transport",
    "WebsocketsTransport",
    "default_transport",
]


class LinkClosed(FeedError):
    """The connection is gone (closed by either side, reset, or failed)."""


class Link(Protocol):
    """One open WebSocket connection."""

    url: str

    async def recv_batch(self) -> list[bytes]:
        """Waits for data and returns every complete frame received so far, oldest first.

        Raises:
            LinkClosed: once the connection is gone and every frame was handed over.
        """
        ...

    async def send_text(self, text: str) -> None:
        """Sends one text frame (a control message)."""
        ...

    async def ping(self) -> Awaitable[float]:
        """Sends a ping; the returned awaitable ends (with the latency) when its pong arrives."""
        ...

    async def close(self) -> None:
        """Closes cleanly (close frame), waiting a short while at most."""
        ...

    def abort(self) -> None:
        """Drops the TCP connection at once."""
        ...


class Transport(Protocol):
    """Opens links."""

    name: str

    async def connect(self, url: str, *, open_timeout: float = 10.0) -> Link:
        """Opens a connection. Raises ``OSError`` or :class:`LinkClosed` on failure."""
        ...


# ---------------------------------------------------------------------------------------------------- websockets
class _BatchConnection(ClientConnection):
    """A ``websockets`` client connection that collects whole data frames in a list instead of its message queue.

    ``data_received`` parses every frame of a TCP read in one go (websockets' Sans-I/O protocol); overriding
    ``process_event`` keeps them together, so one wake-up of the receive task hands the engine all of them.
    """

    _HIGH = 50_000  # frames held before reading pauses (resumes when the batch is taken)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.batch: list[bytes] = []
        self.waiter: asyncio.Future[None] | None = None
        self.fragments: list[bytes] = []
        self.reading_paused = False

    def process_event(self, event: Any) -> None:
        if isinstance(event, Frame) and event.opcode in (Opcode.TEXT, Opcode.BINARY, Opcode.CONT):
            data = event.data if type(event.data) is bytes else bytes(event.data)
            if event.fin and not self.fragments:
                self.batch.append(data)
            elif event.fin:
                self.batch.append(b"".join([*self.fragments, data]))
                self.fragments.clear()
            else:
                self.fragments.append(data)
            if self.waiter is not None and not self.waiter.done():
                self.waiter.set_result(None)
            if len(self.batch) > self._HIGH and not self.reading_paused:
                self.reading_paused = True
                self.transport.pause_reading()
            return
        super().process_event(event)

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)


class _WebsocketsLink:
    def __init__(self, conn: _BatchConnection, url: str) -> None:
        self.conn = conn
        self.url = url

    async def recv_batch(self) -> list[bytes]:
        conn = self.conn
        while not conn.batch:
            if conn.protocol.state.name == "CLOSED" or conn.connection_lost_waiter.done():
                raise LinkClosed(f"connection to {self.url} closed")
            conn.waiter = conn.loop.create_future()
            try:
                await conn.waiter
            finally:
                conn.waiter = None
        batch, conn.batch = conn.batch, []
        if conn.reading_paused:
            conn.reading_paused = False
            conn.transport.resume_reading()
        return batch

    async def send_text(self, text: str) -> None:
        try:
            await self.conn.send(text)
        except Exception as e:
            raise LinkClosed(f"send on {self.url} failed: {e}") from e

    async def ping(self) -> Awaitable[float]:
        try:
            return await self.conn.ping()
        except Exception as e:
            raise LinkClosed(f"ping on {self.url} failed: {e}") from e

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.conn.close(), 2.0)
        self.abort()

    def abort(self) -> None:
        transport = getattr(self.conn, "transport", None)
        if transport is not None:
            transport.abort()


class WebsocketsTransport:
    """The default transport, on the ``websockets`` library (its own keepalive is off: the feed pings on its clock)."""

    name = "websockets"

    async def connect(self, url: str, *, open_timeout: float = 10.0) -> Link:
        conn = await connect(
            url,
            create_connection=_BatchConnection,
            open_timeout=open_timeout,
            ping_interval=None,
            close_timeout=2.0,
            max_size=None,
            max_queue=None,
            compression=None,
        )
        assert isinstance(conn, _BatchConnection)
        return _WebsocketsLink(conn, url)


# ---------------------------------------------------------------------------------------------------- picows
class PicowsTransport:
    """An optional faster transport on ``picows`` (``pip install tapeflow[picows]``)."""

    name = "picows"

    async def connect(self, url: str, *, open_timeout: float = 10.0) -> Link:
        from tapeflow.feeds._picows import connect_picows

        return await connect_picows(url, open_timeout)


# ---------------------------------------------------------------------------------------------------- native
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
        from tapeflow.feeds._native import connect_native

        ctx = self.ssl
        if ctx is None and url[:4].lower() == "wss:":
            if self._default_ssl is None:  # made once: loading the system's CAs takes a while
                self._default_ssl = ssl_module.create_default_context()
            ctx = self._default_ssl
        return await connect_native(url, open_timeout, ctx, self.max_message_size)


def default_transport(name: str | None = None) -> Transport:
    """The transport called ``name``: ``"websockets"`` (the default), ``"picows"`` or ``"native"``."""
    if name in (None, "websockets"):
        return WebsocketsTransport()
    if name == "picows":
        return PicowsTransport()
    if name == "native":
        return NativeTransport()
    raise ValueError(f"unknown transport {name!r}: expected 'websockets', 'picows' or 'native'")
