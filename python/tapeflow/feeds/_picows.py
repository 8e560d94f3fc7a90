"""The ``picows`` transport: frames collected in the listener callback, handed over in batches like the default."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable

from picows import WSFrame, WSListener, WSMsgType, WSTransport, ws_connect  # type: ignore[import-not-found,unused-ignore]

from tapeflow.feeds.transport import Link, LinkClosed

_TEXT = WSMsgType.TEXT


class _Listener(WSListener):  # type: ignore[misc,unused-ignore]
    def __init__(self) -> None:
        super().__init__()
        self.batch: list[bytes] = []
        self.fragments: list[bytes] = []
        self.waiter: asyncio.Future[None] | None = None
        self.closed = False
        self.pongs: list[asyncio.Future[float]] = []
        self.transport: WSTransport | None = None

    def _wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    def on_ws_connected(self, transport: WSTransport) -> None:
        self.transport = transport

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        t = frame.msg_type
        if t is _TEXT and frame.fin and not self.fragments:  # the common case, kept short: once per frame
            self.batch.append(frame.get_payload_as_bytes())
            w = self.waiter
            if w is not None and not w.done():
                w.set_result(None)
            return
        if t is _TEXT or t is WSMsgType.BINARY or t is WSMsgType.CONTINUATION:
            data = frame.get_payload_as_bytes()
            if frame.fin:
                self.batch.append(b"".join([*self.fragments, data]))
                self.fragments.clear()
            else:
                self.fragments.append(data)
            self._wake()
        elif t is WSMsgType.PONG:
            if self.pongs:
                fut = self.pongs.pop(0)
                if not fut.done():
                    fut.set_result(0.0)
        elif t is WSMsgType.CLOSE:
            transport.send_close(frame.get_close_code())
            transport.disconnect()

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        self.closed = True
        for fut in self.pongs:
            if not fut.done():
                fut.set_exception(LinkClosed("connection closed"))
        self.pongs.clear()
        self._wake()


class _PicowsLink:
    def __init__(self, transport: WSTransport, listener: _Listener, url: str) -> None:
        self.transport = transport
        self.listener = listener
        self.url = url

    async def recv_batch(self) -> list[bytes]:
        lst = self.listener
        while not lst.batch:
            if lst.closed:
                raise LinkClosed(f"connection to {self.url} closed")
            lst.waiter = asyncio.get_running_loop().create_future()
            try:
                await lst.waiter
            finally:
                lst.waiter = None
        batch, lst.batch = lst.batch, []
        return batch

    async def send_text(self, text: str) -> None:
        if self.listener.closed:
            raise LinkClosed(f"connection to {self.url} closed")
        self.transport.send(WSMsgType.TEXT, text.encode())

    async def ping(self) -> Awaitable[float]:
        if self.listener.closed:
            raise LinkClosed(f"connection to {self.url} closed")
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


async def connect_picows(url: str, open_timeout: float) -> Link:
    try:
        transport, listener = await ws_connect(_Listener, url, websocket_handshake_timeout=open_timeout)
    except Exception as e:
        raise LinkClosed(f"cannot connect to {url}: {e}") from e
    assert isinstance(listener, _Listener)
    return _PicowsLink(transport, listener, url)
