"""The ``picows`` transport (the ``tapeflow[picows]`` extra): a client written in Cython, frames collected in its
listener callback into a :class:`FrameBuffer`."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable

from picows import WSFrame, WSListener, WSMsgType, WSTransport, ws_connect  # type: ignore[import-not-found,unused-ignore]

from tapeflow.feeds.transports.base import FrameBuffer, Link, LinkClosed

__all__ = ["PicowsTransport"]

_TEXT = WSMsgType.TEXT


class _Listener(WSListener):  # type: ignore[misc,unused-ignore]
    def __init__(self) -> None:
        super().__init__()
        self.buffer = FrameBuffer("", self._pause, self._resume)
        self._push = self.buffer.push
        self.pongs: list[asyncio.Future[float]] = []
        self.transport: WSTransport | None = None

    def _pause(self) -> None:
        if self.transport is not None:
            self.transport.underlying_transport.pause_reading()

    def _resume(self) -> None:
        if self.transport is not None:
            self.transport.underlying_transport.resume_reading()

    def on_ws_connected(self, transport: WSTransport) -> None:
        self.transport = transport

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        t = frame.msg_type
        if t is _TEXT and frame.fin and not self.buffer.fragments:  # the common case, kept short: once per frame
            self._push(frame.get_payload_as_bytes())
        elif t is _TEXT or t is WSMsgType.BINARY or t is WSMsgType.CONTINUATION:
            self.buffer.fragment(frame.get_payload_as_bytes(), frame.fin)
        elif t is WSMsgType.PONG:
            if self.pongs:
                fut = self.pongs.pop(0)
                if not fut.done():
                    fut.set_result(0.0)
        elif t is WSMsgType.CLOSE:
            transport.send_close(frame.get_close_code())
            transport.disconnect()

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        for fut in self.pongs:
            if not fut.done():
                fut.set_exception(LinkClosed("connection closed"))
        self.pongs.clear()
        self.buffer.close()


class _PicowsLink:
    def __init__(self, transport: WSTransport, listener: _Listener, url: str) -> None:
        self.transport = transport
        self.listener = listener
        self.url = url
        listener.buffer.url = url

    async def recv_batch(self) -> list[bytes]:
        return await self.listener.buffer.take()

    def _check_open(self) -> None:
        if self.listener.buffer.closed:
            raise LinkClosed(f"connection to {self.url} closed")

    async def send_text(self, text: str) -> None:
        self._check_open()
        self.transport.send(WSMsgType.TEXT, text.encode())

    async def ping(self) -> Awaitable[float]:
        self._check_open()
        fut: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.listener.pongs.append(fut)
        self.transport.send_ping()
        return fut

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            self.transport.send_close()
            await asyncio.wait_for(self.transport.wait_disconnected(), 2.0)
        self.abort()

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self.transport.disconnect(graceful=False)


class PicowsTransport:
    """An optional faster transport on ``picows`` (``pip install tapeflow[picows]``)."""

    name = "picows"

    async def connect(self, url: str, *, open_timeout: float = 10.0) -> Link:
        try:
            transport, listener = await ws_connect(_Listener, url, websocket_handshake_timeout=open_timeout)
        except Exception as e:
            raise LinkClosed(f"cannot connect to {url}: {e}") from e
        assert isinstance(listener, _Listener)
        return _PicowsLink(transport, listener, url)
