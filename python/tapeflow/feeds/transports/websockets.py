"""The default transport, on the ``websockets`` library, with whole TCP reads handed over as one batch.

``data_received`` parses every frame of a TCP read in one go (websockets' Sans-I/O protocol); overriding
``process_event`` sends data frames to a :class:`FrameBuffer` instead of the library's message queue, so one wake-up
of the receive task hands the engine all of them. The library's own keepalive is off: the feed pings on its clock.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.frames import Frame, Opcode

from tapeflow.feeds.transports.base import FrameBuffer, Link, LinkClosed

__all__ = ["WebsocketsTransport"]

_DATA = (Opcode.TEXT, Opcode.BINARY, Opcode.CONT)


class _BatchConnection(ClientConnection):
    """A ``websockets`` client connection whose data frames go to a :class:`FrameBuffer`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.buffer = FrameBuffer("", self._pause, self._resume)

    def _pause(self) -> None:
        self.transport.pause_reading()

    def _resume(self) -> None:
        self.transport.resume_reading()

    def process_event(self, event: Any) -> None:
        if isinstance(event, Frame) and event.opcode in _DATA:
            data = event.data if type(event.data) is bytes else bytes(event.data)
            self.buffer.fragment(data, event.fin)
            return
        super().process_event(event)

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        self.buffer.close(f"connection lost: {exc}" if exc is not None else None)


class _WebsocketsLink:
    def __init__(self, conn: _BatchConnection, url: str) -> None:
        self.conn = conn
        self.url = url
        conn.buffer.url = url

    async def recv_batch(self) -> list[bytes]:
        return await self.conn.buffer.take()

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
    """The default transport, on the ``websockets`` library."""

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
